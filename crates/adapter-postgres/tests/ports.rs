//! What only PostgreSQL shows about the adapter's ports, as the app role: constraint
//! errors that name the rule without echoing the value, `jsonb` changes that still verify,
//! tampering by a superuser, the pool, the rate limiter's sweep. The ports' behaviour
//! itself is the contract suite's (`contracts.rs` runs it on this adapter).

mod common;

use std::{sync::Arc, time::Duration as StdDuration};

use aura_adapter_crypto::HmacChainHasher;
use aura_adapter_postgres::{PgRateLimiter, PgStores, PoolSettings, TestDatabase};
use aura_audit::{Actor, AuditAction, AuditService, Changes, PendingEvent, RequestContext};
use aura_identity::{Email, User, actions};
use aura_rate_limit::{Quota, RateLimitKey, RateLimiter};
use aura_shared_kernel::{Conflict, Role, StoreError, SystemClock, Tenant, TenantScope};
use common::{Env, env, event, new_tenant, new_user, registered};
use time::{Duration, macros::datetime};

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
    AuditService::new(
        env.stores.audit(),
        Arc::new(HmacChainHasher::with_test_key()),
    )
}

// ------------------------------------------------------------------ tenants

/// `tenants.register` of `tenant` and `owner` with `events`, in the tenant's credential
/// scope (as sign-up does).
async fn register(
    env: &Env,
    tenant: &Tenant,
    owner: &User,
    events: Vec<PendingEvent>,
) -> Result<(), StoreError> {
    let scope = TenantScope::for_credential_check(tenant.id, None);
    env.stores
        .tenants()
        .register(&scope, tenant, owner, events)
        .await
}

/// `result` is the conflict `rule`, and its message does not echo `value`.
#[track_caller]
fn assert_conflict_hides(result: Result<(), StoreError>, rule: Conflict, value: &str) {
    let error = result.expect_err("a conflict");
    assert!(
        matches!(&error, StoreError::Conflict(found) if *found == rule),
        "{error:?}"
    );
    assert!(!error.to_string().contains(value));
}

#[tokio::test]
async fn register_conflicts_name_the_rule_and_leave_nothing_behind() {
    let env = env().await;
    let (tenant, owner, _) = registered(&env.stores, "acme").await;
    let tenants = env.stores.tenants();

    // Same slug.
    let mut same_slug = new_tenant("other");
    same_slug.slug = tenant.slug.clone();
    let someone = new_user(&same_slug, "someone", Role::Owner);
    let result = register(&env, &same_slug, &someone, vec![]).await;
    assert_conflict_hides(result, Conflict::SlugTaken, tenant.slug.as_str());

    // Same e-mail, new slug: the tenant row must not survive the failed owner.
    let fresh = new_tenant("fresh");
    let mut clash = new_user(&fresh, "clash", Role::Owner);
    clash.email = owner.email.clone();
    let created = vec![event(actions::TENANT_CREATED, fresh.id)];
    let result = register(&env, &fresh, &clash, created).await;
    assert_conflict_hides(result, Conflict::EmailTaken, owner.email.as_str());
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
        Arc::new(HmacChainHasher::with_test_key()),
        Arc::new(SystemClock),
        aura_adapter_postgres::testing::test_seal(),
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

// ------------------------------------------------------------------ rate limits

/// Expired rows are swept (this check's background sweep or an explicit one); a row
/// still counting stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_removes_expired_keys_only() {
    let db = Arc::new(TestDatabase::create().await);
    let limiter = PgRateLimiter::new(common::pool_on(&db, Arc::new(SystemClock)).await);
    let t0 = datetime!(2026-03-01 09:30:00 UTC);
    let quota = Quota::new(60, 2).expect("quota");
    let old = RateLimitKey::Tenant(aura_shared_kernel::TenantId::generate());
    let recent = RateLimitKey::Tenant(aura_shared_kernel::TenantId::generate());
    limiter.check(&old, quota, t0).await.expect("check");
    let later = t0 + time::Duration::minutes(10);
    limiter.check(&recent, quota, later).await.expect("check");
    limiter.sweep(later).await.expect("sweep");
    let mut conn = common::connect(db.superuser_url()).await;
    let mut rows = i64::MAX;
    for _ in 0..50 {
        rows = common::count(&mut conn, "SELECT count(*) AS n FROM rate_limits").await;
        if rows == 1 {
            break;
        }
        // A background sweep may hold the old row for a moment (SKIP LOCKED).
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(rows, 1, "the expired key is gone, the recent one stays");
    // The recent key is still counted: its burst of 2 has one left.
    assert!(
        limiter
            .check(&recent, quota, later)
            .await
            .expect("check")
            .allowed
    );
    assert!(
        !limiter
            .check(&recent, quota, later)
            .await
            .expect("check")
            .allowed
    );
}
