//! What only PostgreSQL shows about the adapter's ports, as the app role: constraint
//! errors that name the rule without echoing the value, `jsonb` changes that still verify,
//! tampering by a superuser, the pool. The ports' behaviour itself is the contract suite's
//! (`contracts.rs` runs it on this adapter).

mod common;

use std::{sync::Arc, time::Duration as StdDuration};

use aura_adapter_crypto::Sha256ChainHasher;
use aura_adapter_postgres::{PgStores, PoolSettings};
use aura_audit::{Actor, AuditAction, AuditService, Changes, PendingEvent, RequestContext};
use aura_identity::{Email, actions};
use aura_shared_kernel::{Conflict, Role, StoreError, SystemClock};
use common::{Env, env, event, new_tenant, new_user, registered};
use time::Duration;

/// Runs `sql` as the superuser (what an attacker with database access could do).
async fn as_superuser(env: &Env, sql: &str) {
    use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
    let mut admin = AsyncPgConnection::establish(env.db.superuser_url())
        .await
        .expect("connect as the superuser");
    admin
        .batch_execute(sql)
        .await
        .expect("run as the superuser");
}

fn audit_service(env: &Env) -> AuditService {
    AuditService::new(env.stores.audit(), Arc::new(Sha256ChainHasher))
}

// ------------------------------------------------------------------ tenants

#[tokio::test]
async fn register_conflicts_name_the_rule_and_leave_nothing_behind() {
    let env = env().await;
    let (tenant, owner, _) = registered(&env.stores, "acme").await;
    let tenants = env.stores.tenants();

    // Same slug.
    let mut same_slug = new_tenant("other");
    same_slug.slug = tenant.slug.clone();
    let someone = new_user(&same_slug, "someone", Role::Owner);
    let error = tenants
        .register(
            &aura_shared_kernel::TenantScope::for_credential_check(same_slug.id, None),
            &same_slug,
            &someone,
            vec![],
        )
        .await
        .expect_err("slug taken");
    assert!(
        matches!(&error, StoreError::Conflict(Conflict::SlugTaken)),
        "{error:?}"
    );
    assert!(!error.to_string().contains(tenant.slug.as_str()));

    // Same e-mail, new slug: the tenant row must not survive the failed owner.
    let fresh = new_tenant("fresh");
    let mut clash = new_user(&fresh, "clash", Role::Owner);
    clash.email = owner.email.clone();
    let error = tenants
        .register(
            &aura_shared_kernel::TenantScope::for_credential_check(fresh.id, None),
            &fresh,
            &clash,
            vec![event(actions::TENANT_CREATED, fresh.id)],
        )
        .await
        .expect_err("email taken");
    assert!(
        matches!(&error, StoreError::Conflict(Conflict::EmailTaken)),
        "{error:?}"
    );
    assert!(!error.to_string().contains(owner.email.as_str()));
    assert!(!tenants.slug_taken(&fresh.slug).await.expect("slug"));
}

// ------------------------------------------------------------------ audit

#[tokio::test]
async fn changes_stored_as_jsonb_read_back_and_verify() {
    let env = env().await;
    let (_, owner, scope) = registered(&env.stores, "alpha").await;
    let ctx = RequestContext::new(
        Some("198.51.100.1".into()),
        Some("agent".into()),
        Some("r".into()),
    );
    let mut appended = Vec::new();
    for i in 0..3 {
        env.clock.advance(Duration::minutes(1));
        // jsonb reorders keys and stores numbers its own way; the seal must not care.
        let changes = Changes::new().note("attempt", i).note(
            "nested",
            serde_json::json!({"z": 1, "a": [1.5, "x"], "m": {"b": null}}),
        );
        let event = PendingEvent::new(
            Actor::User(owner.id),
            actions::USER_UPDATED,
            "user",
            owner.id,
            changes,
            &ctx,
        );
        appended.push(
            env.stores
                .audit()
                .append(&scope, event)
                .await
                .expect("append"),
        );
    }
    let stored = env
        .stores
        .audit()
        .chain_after(&scope, 2, 10)
        .await
        .expect("chain");
    assert_eq!(stored, appended, "the records read back as sealed");
    let verified = audit_service(&env).verify(&scope).await.expect("verify");
    assert!(verified.valid, "{verified:?}");
    assert_eq!(verified.events_checked, 5);
}

#[tokio::test]
async fn a_tampered_event_breaks_the_chain() {
    let env = env().await;
    let (_, _, scope) = registered(&env.stores, "alpha").await;
    as_superuser(
        &env,
        "UPDATE audit_events SET action = 'tenant.deleted' WHERE seq = 1",
    )
    .await;
    let verified = audit_service(&env).verify(&scope).await.expect("verify");
    assert!(!verified.valid);
    assert_eq!(verified.first_broken_link.expect("broken").seq, 1);
}

#[tokio::test]
async fn deleting_the_newest_events_breaks_the_chain() {
    let env = env().await;
    let (_, _, scope) = registered(&env.stores, "alpha").await;
    let audit = env.stores.audit();
    for i in 0..3 {
        audit
            .append(&scope, event(AuditAction::AUTH_PERMISSION_DENIED, i))
            .await
            .expect("append");
    }
    let service = audit_service(&env);
    let intact = service.verify(&scope).await.expect("verify");
    assert!(intact.valid, "{intact:?}");
    assert_eq!(intact.events_checked, 5);

    // A superuser removes the newest event: the rest still link up among themselves,
    // but the chain head remembers seq 5.
    as_superuser(&env, "DELETE FROM audit_events WHERE seq = 5").await;
    let verified = service.verify(&scope).await.expect("verify");
    assert!(!verified.valid, "{verified:?}");
    assert_eq!(verified.events_checked, 4);
    let broken = verified.first_broken_link.expect("broken");
    assert_eq!(broken.seq, 5);
    assert!(
        broken.reason.contains("newest events removed"),
        "{broken:?}"
    );
    assert_eq!(verified.head, None);
}

// ------------------------------------------------------------------ pool

#[tokio::test]
async fn ready_and_pool_status() {
    let env = env().await;
    env.stores.ready().await.expect("ready");
    let status = env.stores.pool_status();
    assert_eq!(status.max_size, 4);
    assert!(status.size >= 1);
    assert_eq!(status.waiting, 0);
}

#[tokio::test]
async fn a_database_that_is_down_fails_fast_as_unavailable() {
    // Nothing listens on port 1.
    let settings = PoolSettings {
        max_size: 2,
        acquire_timeout: StdDuration::from_millis(500),
        connect_timeout: StdDuration::from_millis(500),
        transaction_pooling: false,
    };
    let stores = PgStores::connect(
        "postgres://aura_app@127.0.0.1:1/aura",
        settings,
        Arc::new(Sha256ChainHasher),
        Arc::new(SystemClock),
    )
    .await
    .expect("pool builds without a server");
    let started = std::time::Instant::now();
    let error = stores.ready().await.expect_err("down");
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    let email = Email::parse("x@example.com").expect("email");
    assert!(matches!(
        stores.users().find_for_login(&email).await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(started.elapsed() < StdDuration::from_secs(3));
    assert_eq!(error.to_string(), "store unavailable");
}
