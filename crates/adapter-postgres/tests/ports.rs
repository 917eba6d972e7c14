//! What only PostgreSQL shows about the adapter's ports, as the app role: constraint
//! errors that name the rule without echoing the value, `jsonb` changes that still verify,
//! tampering by a superuser, the pool, the rate limiter's sweep. The ports' behaviour
//! itself is the contract suite's (`contracts.rs` runs it on this adapter).

mod common;

use std::{sync::Arc, time::Duration as StdDuration};

use aura_adapter_crypto::{ChainKey, HmacChainHasher};
use aura_adapter_postgres::{PgRateLimiter, PgStores, PoolSettings, TestDatabase};
use aura_audit::{
    Actor, AuditAction, AuditRecord, AuditService, ChainHash, ChainHasher, ChainVerification,
    ChainVersion, Changes, PendingEvent, RequestContext,
};
use aura_identity::{Email, User, actions};
use aura_rate_limit::{Quota, RateLimitKey, RateLimiter};
use aura_shared_kernel::{Clock, Conflict, Role, StoreError, SystemClock, Tenant, TenantScope};
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

/// What a database writer without the key can do: rewrite the links from `from` on
/// (`alter` changes them), re-seal each with `forge` (their own key, or plain SHA-256)
/// after the previous forged hash, and move the head along.
async fn reseal_as_superuser(
    env: &Env,
    scope: &TenantScope,
    from: i64,
    alter: impl Fn(&mut AuditRecord),
    forge: impl Fn(&AuditRecord) -> ChainHash,
) {
    let records = env
        .stores
        .audit()
        .chain_after(scope, 0, 1_000)
        .await
        .expect("chain");
    let mut prev = ChainHash::GENESIS;
    let mut sql = String::new();
    for mut record in records {
        if record.seq >= from {
            alter(&mut record);
            record.prev_hash = prev;
            // An unkeyed link keeps its address and agent in clear, as before the key.
            let text = |v: &Option<String>| {
                v.as_ref()
                    .map_or("NULL".to_owned(), |v| format!("$q${v}$q$"))
            };
            let clear = if record.version == ChainVersion::Unkeyed {
                record.personal = None;
                record.personal_digest = None;
                format!(
                    ", ip = {}, user_agent = {}, personal = NULL, personal_salt = NULL, personal_digest = NULL",
                    text(&record.ip),
                    text(&record.user_agent)
                )
            } else {
                String::new()
            };
            record.hash = forge(&record);
            sql.push_str(&format!(
                "UPDATE audit_events SET action = '{}', changes = $c${}$c$, chain_version = {}, \
                 prev_hash = '\\x{}', hash = '\\x{}'{clear} WHERE tenant_id = '{}' AND seq = {};\n",
                record.action,
                record.stored_changes,
                record.version.number(),
                record.prev_hash.to_hex(),
                record.hash.to_hex(),
                record.tenant_id,
                record.seq,
            ));
        }
        prev = record.hash;
    }
    sql.push_str(&format!(
        "UPDATE audit_chain_heads SET hash = '\\x{}' WHERE tenant_id = '{}';",
        prev.to_hex(),
        scope.tenant_id()
    ));
    as_superuser(env, &sql).await;
}

async fn append_events(env: &Env, scope: &TenantScope, n: i64) {
    for i in 0..n {
        env.stores
            .audit()
            .append(scope, event(AuditAction::AUTH_PERMISSION_DENIED, i))
            .await
            .expect("append");
    }
}

fn reasons(verified: &ChainVerification) -> Vec<(i64, &'static str)> {
    verified
        .broken_links
        .iter()
        .map(|b| (b.seq, b.reason))
        .collect()
}

#[tokio::test]
async fn events_rewritten_and_resealed_without_the_key_are_found() {
    let env = env().await;
    let (tenant, _, scope) = registered(&env.stores, "alpha").await;
    append_events(&env, &scope, 3).await;
    let service = audit_service(&env);
    assert!(service.verify(&scope).await.expect("verify").valid);

    // Re-sealed under the attacker's own key, still claiming to be keyed links: every
    // rewritten link is reported, not only the first.
    let own_key = HmacChainHasher::new(&ChainKey::from_bytes(vec![9; 32]).expect("key"));
    reseal_as_superuser(
        &env,
        &scope,
        3,
        |record| {
            if record.seq == 3 {
                record.stored_changes = r#"{"note":"nothing happened"}"#.to_owned();
            }
        },
        |record| own_key.link(tenant.id, &record.canonical_bytes()),
    )
    .await;
    let verified = service.verify(&scope).await.expect("verify");
    assert!(!verified.valid, "{verified:?}");
    assert_eq!(
        reasons(&verified),
        (3..=5)
            .map(|seq| (seq, "content does not match its hash (altered)"))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        verified.checkpoint, None,
        "no checkpoint for a broken chain"
    );

    // Downgraded to the unkeyed links of before the key, from the genesis on: they link
    // up among themselves, but the newest link cannot be keyed without the key.
    reseal_as_superuser(
        &env,
        &scope,
        1,
        |record| record.version = ChainVersion::Unkeyed,
        |record| own_key.unkeyed_link(&record.canonical_bytes()),
    )
    .await;
    let verified = service.verify(&scope).await.expect("verify");
    assert!(!verified.valid, "{verified:?}");
    assert_eq!(
        reasons(&verified),
        vec![(5, "the newest link is unkeyed (sealed without the key)")]
    );
}

#[tokio::test]
async fn deleting_the_newest_events_and_moving_the_head_back_falls_short_of_the_checkpoint() {
    let env = env().await;
    let (_, _, scope) = registered(&env.stores, "alpha").await;
    append_events(&env, &scope, 3).await;
    let service = audit_service(&env);
    let intact = service.verify(&scope).await.expect("verify");
    assert!(intact.valid, "{intact:?}");
    assert_eq!(intact.events_checked, 5);
    let checkpoint = intact.checkpoint.expect("a signed checkpoint of the head");
    assert_eq!(checkpoint.seq, 5);

    // A superuser removes the newest events: the head kept apart remembers seq 5.
    as_superuser(&env, "DELETE FROM audit_events WHERE seq >= 4").await;
    let verified = service.verify(&scope).await.expect("verify");
    assert!(!verified.valid, "{verified:?}");
    assert_eq!(verified.events_checked, 3);
    assert_eq!(
        reasons(&verified),
        vec![(
            4,
            "the chain head is ahead of the stored events (newest events removed)"
        )]
    );
    assert_eq!(verified.head, None);

    // ... and moves the head back too: the chain is whole again as far as the database
    // knows, but not against the checkpoint published before.
    let third = env
        .stores
        .audit()
        .chain_after(&scope, 2, 1)
        .await
        .expect("chain");
    as_superuser(
        &env,
        &format!(
            "UPDATE audit_chain_heads SET seq = 3, hash = '\\x{}'",
            third[0].hash.to_hex()
        ),
    )
    .await;
    assert!(service.verify(&scope).await.expect("verify").valid);
    let verified = service
        .verify_against(&scope, std::slice::from_ref(&checkpoint))
        .await
        .expect("verify");
    assert!(!verified.valid, "{verified:?}");
    assert_eq!(
        reasons(&verified),
        vec![(
            5,
            "the chain ends before a checkpoint (newest events removed)"
        )]
    );
    assert_eq!(verified.checkpoints_checked, 1);
    // A checkpoint "moved back" with it cannot be signed without the key.
    let mut forged = checkpoint.clone();
    forged.seq = 3;
    forged.hash = third[0].hash;
    let verified = service
        .verify_against(&scope, &[forged])
        .await
        .expect("verify");
    assert!(
        reasons(&verified)[0].1.contains("signature"),
        "{verified:?}"
    );
}

#[tokio::test]
async fn unkeyed_history_from_before_the_key_still_verifies_under_keyed_links() {
    let env = env().await;
    let (tenant, owner, scope) = registered(&env.stores, "alpha").await;
    // The links as the migration leaves them: version 1, plain SHA-256, the address in
    // clear, the changes as jsonb renders them (spaces after the colons).
    let sha = HmacChainHasher::with_test_key();
    reseal_as_superuser(
        &env,
        &scope,
        1,
        |record| {
            record.version = ChainVersion::Unkeyed;
            let value: serde_json::Value =
                serde_json::from_str(&record.stored_changes).expect("json");
            record.stored_changes = value.to_string().replace("\":", "\": ");
        },
        |record| sha.unkeyed_link(&record.canonical_bytes()),
    )
    .await;
    let service = audit_service(&env);
    let verified = service.verify(&scope).await.expect("verify");
    assert_eq!(
        reasons(&verified),
        vec![(2, "the newest link is unkeyed (sealed without the key)")]
    );
    // The upkeep (or any new event) seals a keyed link after them.
    assert!(service.key_chain(&scope).await.expect("key the chain"));
    assert!(!service.key_chain(&scope).await.expect("once"));
    append_events(&env, &scope, 1).await;
    let verified = service.verify(&scope).await.expect("verify");
    assert!(verified.valid, "{verified:?}");
    assert_eq!((verified.unkeyed_links, verified.events_checked), (2, 4));
    // Rewriting the unkeyed history now breaks the keyed link after it.
    as_superuser(
        &env,
        &format!(
            "UPDATE audit_events SET changes = '{{}}' WHERE tenant_id = '{}' AND seq = 1",
            tenant.id
        ),
    )
    .await;
    let verified = service.verify(&scope).await.expect("verify");
    assert_eq!(verified.first_broken_link.expect("broken").seq, 1);
    let _ = owner;
}

#[tokio::test]
async fn values_jsonb_would_normalise_are_stored_and_hashed_exactly() {
    let env = env().await;
    let (_, owner, scope) = registered(&env.stores, "alpha").await;
    for value in [
        serde_json::json!({"x": -0.0}),
        serde_json::json!({"big": 123_456_789_012_345_678_u64, "f": 1e300, "tiny": 5e-324}),
        serde_json::json!({"z": 1, "a": "\u{0}\u{1f}\\\"é\u{2028}😀"}),
    ] {
        let event = PendingEvent::new(
            Actor::User(owner.id),
            actions::TENANT_UPDATED,
            "tenant",
            owner.tenant_id,
            Changes::new().field("settings", &serde_json::json!({}), &value),
            &RequestContext::default(),
        );
        let record = env
            .stores
            .audit()
            .append(&scope, event)
            .await
            .expect("append");
        let stored = env
            .stores
            .audit()
            .chain_after(&scope, record.seq - 1, 1)
            .await
            .expect("read");
        assert_eq!(
            stored[0].stored_changes, record.stored_changes,
            "byte for byte"
        );
    }
    let verified = audit_service(&env).verify(&scope).await.expect("verify");
    assert!(verified.valid, "{verified:?}");
}

#[tokio::test]
async fn shredded_personal_values_are_gone_from_the_database_and_the_chain_verifies() {
    let env = env().await;
    let (_, owner, scope) = registered(&env.stores, "alpha").await;
    let ctx = RequestContext::new(
        Some("198.51.100.23".into()),
        Some("Mozilla/5.0 (Erika's laptop)".into()),
        Some("req-1".into()),
    );
    let renamed = PendingEvent::new(
        Actor::User(owner.id),
        actions::USER_UPDATED,
        "user",
        owner.id,
        Changes::new()
            .field("full_name", &"Erika Mustermann", &"Erika Musterfrau")
            .personal(&["full_name"]),
        &ctx,
    );
    let record = env
        .stores
        .audit()
        .append(&scope, renamed)
        .await
        .expect("append");
    assert_eq!(record.ip.as_deref(), Some("198.51.100.23"));
    assert_eq!(record.changes["full_name"]["after"], "Erika Musterfrau");
    let row = |column: &str| {
        format!(
            "SELECT coalesce({column}, '<null>') AS text FROM audit_events WHERE seq = {}",
            record.seq
        )
    };
    assert!(!env.db.superuser_texts(&row("changes")).await[0].contains("Erika"));
    assert_eq!(
        env.db.superuser_texts(&row("ip")).await[0],
        "<null>",
        "not in clear"
    );

    let service = audit_service(&env);
    let shredded = service
        .erase_user(&scope, owner.id, &RequestContext::default())
        .await
        .expect("erase");
    assert!(shredded >= 1, "{shredded}");
    let all = env
        .db
        .superuser_texts(
            "SELECT concat_ws('|', changes, ip, user_agent, personal, personal_salt::text) AS text FROM audit_events",
        )
        .await
        .join("\n");
    for secret in ["Erika", "198.51.100.23", "Mozilla"] {
        assert!(!all.contains(secret), "{secret} still stored");
    }
    let verified = service.verify(&scope).await.expect("verify");
    assert!(verified.valid, "{verified:?}");
    assert_eq!(verified.shredded, shredded);
    let erased = env
        .stores
        .audit()
        .chain_after(&scope, record.seq - 1, 1)
        .await
        .expect("read");
    assert_eq!(erased[0].ip, None);
    assert_eq!(
        erased[0].changes["full_name"],
        serde_json::json!({"personal": true})
    );
    // The shredding is an event of its own, with its count and no personal value.
    let newest = env
        .stores
        .audit()
        .head(&scope)
        .await
        .expect("head")
        .expect("some")
        .0;
    let last = env
        .stores
        .audit()
        .chain_after(&scope, newest - 1, 1)
        .await
        .expect("read");
    assert_eq!(last[0].action, aura_audit::AUDIT_PERSONAL_SHREDDED);
    assert_eq!(last[0].changes["events"], shredded);

    // Retention: everything sealed before a moment, whoever it is about.
    let later = PendingEvent::new(
        Actor::System,
        actions::TENANT_UPDATED,
        "tenant",
        owner.tenant_id,
        Changes::new(),
        &ctx,
    );
    env.stores
        .audit()
        .append(&scope, later)
        .await
        .expect("append");
    env.clock.advance(Duration::days(1));
    let before = env.clock.now();
    let shredded = service
        .shred_before(&scope, before)
        .await
        .expect("retention");
    assert!(shredded >= 1);
    assert!(service.verify(&scope).await.expect("verify").valid);
    assert_eq!(
        service.shred_before(&scope, before).await.expect("again"),
        0
    );
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
        ..PoolSettings::default()
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

/// A pooled connection the server ended (a restart, an administrator) is not handed out
/// dead, though checkouts send no `SELECT 1` to connections in use this recently: the
/// closed socket is seen, or the transaction's first batch fails and the work begins
/// once more on a new connection. With one connection, every read right after its
/// backend was terminated must still succeed, in and out of a tenant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_the_server_ended_is_replaced_without_a_checkout_check() {
    let env = env().await;
    let settings = PoolSettings {
        max_size: 1,
        check_idle_after: StdDuration::from_secs(3_600),
        ..PoolSettings::default()
    };
    let stores = common::connect_stores(env.db.app_url(), settings, env.clock.clone()).await;
    let (_, _, scope) = registered(&env.stores, "ended").await;
    let mut admin = common::connect(env.db.superuser_url()).await;
    for round in 0..4 {
        stores.ready().await.expect("ready");
        // Waits (up to 5 s) until the backend is gone: its socket is closed by then.
        let ended = common::count(
            &mut admin,
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) AS n \
             FROM pg_stat_activity WHERE datname = current_database() \
             AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
        )
        .await;
        // The pool's one connection, and in round 0 the set-up pool's too.
        assert!(ended >= 1, "round {round}: the pool's connection ended");
        let read = if round % 2 == 0 {
            stores.ready().await.map(|()| 0)
        } else {
            let head = stores.audit().head(&scope).await;
            head.map(|head| head.map_or(0, |(seq, _)| seq))
        };
        read.unwrap_or_else(|e| panic!("round {round}: the read after the end failed: {e:?}"));
    }
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
