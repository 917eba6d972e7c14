//! The adapter's behaviour, port by port, as the app role.

mod common;

use std::{net::IpAddr, sync::Arc, time::Duration as StdDuration};

use aura_adapter_crypto::Sha256ChainHasher;
use aura_adapter_postgres::{PgStores, PoolSettings};
use aura_audit::{
    Actor, AuditAction, AuditQuery, AuditService, Changes, PendingEvent, RequestContext,
};
use aura_identity::actions;
use aura_identity::{
    Email, RefreshFamily, ThrottleKey, ThrottlePolicy, TokenHash, User, ports::SessionStore,
};
use aura_tenancy::{
    Conflict, PageRequest, Role, StoreError, SubscriptionTier, SystemClock, SystemScope,
    TenantScope, TenantSettings,
};
use common::{T0, add_user, env, event, new_tenant, new_user, registered};
use time::Duration;
use uuid::Uuid;

fn family_for(user: &User, now: time::OffsetDateTime) -> RefreshFamily {
    RefreshFamily {
        id: Uuid::now_v7(),
        tenant_id: user.tenant_id,
        user_id: user.id,
        session_version: user.session_version,
        created_at: now,
        absolute_expires_at: now + Duration::days(30),
    }
}

fn token(byte: u8) -> TokenHash {
    let mut hash = [byte; 32];
    hash[..16].copy_from_slice(Uuid::new_v4().as_bytes());
    TokenHash(hash)
}

async fn start_session(
    sessions: &dyn SessionStore,
    scope: &TenantScope,
    user: &User,
) -> (RefreshFamily, TokenHash) {
    let family = family_for(user, T0);
    let first = token(1);
    sessions
        .start(
            scope,
            &family,
            &first,
            T0 + Duration::days(14),
            event(actions::USER_LOGIN_SUCCEEDED, family.id),
        )
        .await
        .expect("start");
    (family, first)
}

// ------------------------------------------------------------------ tenants

#[tokio::test]
async fn register_stores_tenant_owner_and_events_in_one_go() {
    let env = env().await;
    let (tenant, owner, scope) = registered(&env.stores, "acme").await;
    assert_eq!(env.stores.tenants().get(&scope).await.expect("get"), tenant);
    assert_eq!(
        env.stores
            .users()
            .get(&scope, owner.id)
            .await
            .expect("user"),
        owner
    );
    let page = env
        .stores
        .audit()
        .list(
            &scope,
            &AuditQuery {
                limit: 10,
                ..AuditQuery::default()
            },
        )
        .await
        .expect("audit");
    let seqs: Vec<i64> = page.items.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, vec![2, 1], "newest first");
    assert_eq!(page.items[1].action, actions::TENANT_CREATED);
    assert!(
        env.stores
            .tenants()
            .slug_taken(&tenant.slug)
            .await
            .expect("slug")
    );
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
    let error = tenants
        .register(
            &aura_tenancy::TenantScope::for_credential_check(same_slug.id, None),
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
            &aura_tenancy::TenantScope::for_credential_check(fresh.id, None),
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

#[tokio::test]
async fn tenants_update_in_their_scope_only_and_list_oldest_first() {
    let env = env().await;
    let (mut a, _, scope_a) = registered(&env.stores, "alpha").await;
    let (b, _, _) = registered(&env.stores, "beta").await;
    let tenants = env.stores.tenants();

    a.settings = TenantSettings::parse(serde_json::json!({"language": "de"})).expect("settings");
    a.subscription_tier = SubscriptionTier::Premium;
    a.is_active = false;
    a.updated_at = T0 + Duration::hours(1);
    let expected = a.bump_version();
    tenants
        .update(&scope_a, &a, expected, event(actions::TENANT_UPDATED, a.id))
        .await
        .expect("update");
    assert_eq!(tenants.get(&scope_a).await.expect("get"), a);

    // B's row through A's scope: NotFound, and B is unchanged.
    let mut forged = b.clone();
    forged.is_active = false;
    let error = tenants
        .update(
            &scope_a,
            &forged,
            forged.version,
            event(actions::TENANT_UPDATED, b.id),
        )
        .await
        .expect_err("foreign tenant");
    assert!(matches!(error, StoreError::NotFound), "{error:?}");

    let all = tenants
        .list_all(&SystemScope::for_platform_operation("test"))
        .await
        .expect("list");
    let ids: Vec<_> = all.iter().map(|t| t.id).collect();
    assert_eq!(ids, vec![a.id, b.id]);
    assert!(all[1].is_active, "B untouched");
}

// ------------------------------------------------------------------ users

#[tokio::test]
async fn users_are_read_listed_and_written_within_their_tenant() {
    let env = env().await;
    let (a, _, scope_a) = registered(&env.stores, "alpha").await;
    let (_, b_owner, scope_b) = registered(&env.stores, "beta").await;
    let users = env.stores.users();

    let mut added = Vec::new();
    for i in 0..5 {
        added.push(add_user(&env.stores, &scope_a, &a, &format!("m{i}"), Role::Member).await);
    }
    // Pages by id, stable cursor.
    let first = users
        .list(&scope_a, PageRequest::first(4))
        .await
        .expect("page 1");
    assert_eq!(first.items.len(), 4);
    let cursor = first.next_cursor.expect("more");
    let second = users
        .list(
            &scope_a,
            PageRequest {
                after: Some(cursor),
                limit: 4,
            },
        )
        .await
        .expect("page 2");
    assert_eq!(second.items.len(), 2);
    assert_eq!(second.next_cursor, None);
    let mut ids: Vec<Uuid> = first
        .items
        .iter()
        .chain(&second.items)
        .map(|u| u.id.as_uuid())
        .collect();
    let sorted = {
        let mut s = ids.clone();
        s.sort();
        s
    };
    assert_eq!(ids, sorted);
    ids.dedup();
    assert_eq!(ids.len(), 6);

    // Update round-trips every field.
    let mut changed = added[0].clone();
    changed.full_name = aura_identity::FullName::parse("Renamed").expect("name");
    changed.role = Role::Admin;
    changed.is_active = false;
    changed.password_hash = aura_identity::PasswordHash::unset();
    changed.end_sessions();
    changed.updated_at = T0 + Duration::minutes(5);
    let expected = changed.bump_version();
    users
        .update(
            &scope_a,
            &changed,
            expected,
            event(actions::USER_UPDATED, changed.id),
        )
        .await
        .expect("update");
    assert_eq!(users.get(&scope_a, changed.id).await.expect("get"), changed);

    // Another tenant's user: NotFound for every verb.
    assert!(matches!(
        users.get(&scope_a, b_owner.id).await,
        Err(StoreError::NotFound)
    ));
    let mut foreign = b_owner.clone();
    foreign.full_name = aura_identity::FullName::parse("Mallory").expect("name");
    assert!(matches!(
        users
            .update(
                &scope_a,
                &foreign,
                foreign.version,
                event(actions::USER_UPDATED, foreign.id)
            )
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        users
            .delete(
                &scope_a,
                b_owner.id,
                event(actions::USER_DELETED, b_owner.id)
            )
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        users.get(&scope_b, b_owner.id).await.expect("b intact"),
        b_owner
    );

    // Delete.
    users
        .delete(
            &scope_a,
            added[1].id,
            event(actions::USER_DELETED, added[1].id),
        )
        .await
        .expect("delete");
    assert!(matches!(
        users.get(&scope_a, added[1].id).await,
        Err(StoreError::NotFound)
    ));
}

#[tokio::test]
async fn two_concurrent_demotions_cannot_remove_both_owners() {
    for _round in 0..3 {
        let env = env().await;
        let (tenant, first, scope) = registered(&env.stores, "alpha").await;
        let second = add_user(&env.stores, &scope, &tenant, "second", Role::Owner).await;
        let demote = |user: &User| {
            let mut user = user.clone();
            user.role = Role::Member;
            let users = env.stores.users();
            let scope = scope.clone();
            async move {
                users
                    .update(
                        &scope,
                        &user,
                        user.version,
                        event(actions::USER_ROLE_CHANGED, user.id),
                    )
                    .await
            }
        };
        let (r1, r2) = tokio::join!(demote(&first), demote(&second));
        let oks = [&r1, &r2].iter().filter(|r| r.is_ok()).count();
        assert_eq!(oks, 1, "{r1:?} {r2:?}");
        let page = env
            .stores
            .users()
            .list(&scope, PageRequest::first(10))
            .await
            .expect("list");
        let owners = page
            .items
            .iter()
            .filter(|u| u.role == Role::Owner && u.is_active)
            .count();
        assert_eq!(owners, 1);
    }
}

#[tokio::test]
async fn login_lookup_finds_user_and_tenant_across_tenants() {
    let env = env().await;
    let (tenant, owner, _) = registered(&env.stores, "alpha").await;
    let found = env
        .stores
        .users()
        .find_for_login(&owner.email)
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!(found.user, owner);
    assert_eq!(found.tenant, tenant);
    let unknown = Email::parse("nobody@example.com").expect("email");
    assert!(
        env.stores
            .users()
            .find_for_login(&unknown)
            .await
            .expect("lookup")
            .is_none()
    );
}

#[tokio::test]
async fn the_principal_read_reports_the_session_state() {
    let env = env().await;
    let (tenant, owner, scope) = registered(&env.stores, "alpha").await;
    let (b, _, _) = registered(&env.stores, "beta").await;
    let users = env.stores.users();
    let sessions = env.stores.sessions();
    let (family, _) = start_session(sessions.as_ref(), &scope, &owner).await;

    let principal = users
        .find_principal(
            &aura_tenancy::TenantScope::for_credential_check(tenant.id, None),
            owner.id,
            family.id,
        )
        .await
        .expect("read")
        .expect("found");
    assert!(principal.session_active);
    assert_eq!(principal.tenant, tenant);
    assert_eq!(principal.user.last_login_at, Some(T0));

    // Unknown session, wrong tenant, past absolute expiry, revoked.
    let unknown = users
        .find_principal(
            &aura_tenancy::TenantScope::for_credential_check(tenant.id, None),
            owner.id,
            Uuid::now_v7(),
        )
        .await
        .expect("read");
    assert!(!unknown.expect("user").session_active);
    assert!(
        users
            .find_principal(
                &aura_tenancy::TenantScope::for_credential_check(b.id, None),
                owner.id,
                family.id
            )
            .await
            .expect("read")
            .is_none()
    );
    env.clock.advance(Duration::days(31));
    let expired = users
        .find_principal(
            &aura_tenancy::TenantScope::for_credential_check(tenant.id, None),
            owner.id,
            family.id,
        )
        .await
        .expect("read");
    assert!(!expired.expect("user").session_active);
    env.clock.advance(-Duration::days(31));
    sessions
        .revoke(
            &scope,
            family.id,
            T0,
            event(actions::USER_LOGGED_OUT, family.id),
        )
        .await
        .expect("revoke");
    let revoked = users
        .find_principal(
            &aura_tenancy::TenantScope::for_credential_check(tenant.id, None),
            owner.id,
            family.id,
        )
        .await
        .expect("read");
    assert!(!revoked.expect("user").session_active);
}

// ------------------------------------------------------------------ sessions

#[tokio::test]
async fn refresh_tokens_rotate_once_and_families_revoke() {
    let env = env().await;
    let (_, owner, scope) = registered(&env.stores, "alpha").await;
    let sessions = env.stores.sessions();
    let (family, first) = start_session(sessions.as_ref(), &scope, &owner).await;

    let found = sessions.find(&first).await.expect("find").expect("token");
    assert_eq!(found.family, family);
    assert!(!found.used && !found.family_revoked);
    assert_eq!(found.idle_expires_at, T0 + Duration::days(14));

    let now = T0 + Duration::hours(1);
    let second = token(2);
    assert!(
        sessions
            .rotate(&scope, &first, &second, now + Duration::days(14), now)
            .await
            .expect("rotate")
    );
    assert!(
        !sessions
            .rotate(&scope, &first, &token(3), now, now)
            .await
            .expect("again")
    );
    assert!(
        sessions
            .find(&first)
            .await
            .expect("find")
            .expect("token")
            .used
    );
    let next = sessions.find(&second).await.expect("find").expect("next");
    assert_eq!(next.family.id, family.id);
    assert!(!next.used);

    sessions
        .revoke(
            &scope,
            family.id,
            now,
            event(actions::AUTH_REFRESH_REUSED, family.id),
        )
        .await
        .expect("revoke");
    assert!(
        sessions
            .find(&second)
            .await
            .expect("find")
            .expect("next")
            .family_revoked
    );
    // Revoking again (reuse after logout) is fine; an unknown family is not.
    sessions
        .revoke(
            &scope,
            family.id,
            now,
            event(actions::AUTH_REFRESH_REUSED, family.id),
        )
        .await
        .expect("revoke again");
    let missing = sessions
        .revoke(
            &scope,
            Uuid::now_v7(),
            now,
            event(actions::USER_LOGGED_OUT, 0),
        )
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    assert!(sessions.find(&token(9)).await.expect("find").is_none());
}

#[tokio::test]
async fn of_parallel_rotations_of_one_token_exactly_one_wins() {
    let env = env().await;
    let (_, owner, scope) = registered(&env.stores, "alpha").await;
    let sessions = env.stores.sessions();
    let (_, first) = start_session(sessions.as_ref(), &scope, &owner).await;
    let attempts = (0..8u8).map(|i| {
        let sessions = sessions.clone();
        let scope = scope.clone();
        async move {
            sessions
                .rotate(&scope, &first, &token(10 + i), T0 + Duration::days(1), T0)
                .await
        }
    });
    let results = futures_join_all(attempts).await;
    let wins = results.iter().filter(|r| matches!(r, Ok(true))).count();
    assert_eq!(wins, 1, "{results:?}");
}

async fn futures_join_all<F: std::future::Future + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.expect("task"));
    }
    out
}

#[tokio::test]
async fn deleting_a_user_removes_their_sessions_and_reset_tokens() {
    let env = env().await;
    let (tenant, _, scope) = registered(&env.stores, "alpha").await;
    let member = add_user(&env.stores, &scope, &tenant, "member", Role::Member).await;
    let member_scope = TenantScope::for_credential_check(tenant.id, Some(member.id));
    let (_, first) = start_session(env.stores.sessions().as_ref(), &member_scope, &member).await;
    let reset = token(5);
    env.stores
        .resets()
        .issue(
            &scope,
            member.id,
            &reset,
            T0 + Duration::hours(1),
            event(actions::USER_PASSWORD_RESET_REQUESTED, member.id),
        )
        .await
        .expect("issue");
    env.stores
        .users()
        .delete(&scope, member.id, event(actions::USER_DELETED, member.id))
        .await
        .expect("delete");
    assert!(
        env.stores
            .sessions()
            .find(&first)
            .await
            .expect("find")
            .is_none()
    );
    assert!(
        env.stores
            .resets()
            .find(&reset, T0)
            .await
            .expect("find")
            .is_none()
    );
}

// ------------------------------------------------------------------ password reset

#[tokio::test]
async fn reset_tokens_are_single_use_and_expire() {
    let env = env().await;
    let (tenant, owner, scope) = registered(&env.stores, "alpha").await;
    let (_, b_owner, _) = registered(&env.stores, "beta").await;
    let resets = env.stores.resets();
    let expires = T0 + Duration::hours(1);
    let (t1, t2) = (token(1), token(2));
    for t in [&t1, &t2] {
        resets
            .issue(
                &scope,
                owner.id,
                t,
                expires,
                event(actions::USER_PASSWORD_RESET_REQUESTED, owner.id),
            )
            .await
            .expect("issue");
    }
    assert_eq!(
        resets.find(&t1, T0).await.expect("find"),
        Some((tenant.id, owner.id))
    );
    assert_eq!(
        resets.find(&t1, expires).await.expect("find"),
        None,
        "expired"
    );

    // A user of another tenant cannot get a token here.
    let foreign = resets
        .issue(
            &scope,
            b_owner.id,
            &token(3),
            expires,
            event(actions::USER_PASSWORD_RESET_REQUESTED, b_owner.id),
        )
        .await;
    assert!(matches!(foreign, Err(StoreError::NotFound)), "{foreign:?}");

    // Expired: refused, nothing stored.
    let mut user = owner.clone();
    user.password_hash = aura_identity::PasswordHash::from_stored("$2b$12$new".to_owned());
    user.end_sessions();
    let expected = user.bump_version();
    let late = resets
        .redeem(
            &scope,
            &t1,
            &user,
            expected,
            expires,
            event(actions::USER_PASSWORD_RESET, owner.id),
        )
        .await
        .expect("redeem late");
    assert!(!late);
    assert_eq!(
        env.stores.users().get(&scope, owner.id).await.expect("get"),
        owner
    );

    let now = T0 + Duration::minutes(10);
    assert!(
        resets
            .redeem(
                &scope,
                &t1,
                &user,
                expected,
                now,
                event(actions::USER_PASSWORD_RESET, owner.id)
            )
            .await
            .expect("redeem")
    );
    assert_eq!(
        env.stores.users().get(&scope, owner.id).await.expect("get"),
        user
    );
    assert!(
        !resets
            .redeem(
                &scope,
                &t1,
                &user,
                expected,
                now,
                event(actions::USER_PASSWORD_RESET, owner.id)
            )
            .await
            .expect("again")
    );
    assert_eq!(resets.find(&t1, now).await.expect("find"), None);
    // The user's other outstanding link died with the reset.
    assert_eq!(resets.find(&t2, now).await.expect("find"), None);
}

// ------------------------------------------------------------------ throttle

#[tokio::test]
async fn throttle_counts_restart_after_the_window_and_clear() {
    let env = env().await;
    let throttle = env.stores.throttle();
    let policy = ThrottlePolicy::default();
    let email = Email::parse("victim@example.com").expect("email");
    let ip: IpAddr = "192.0.2.7".parse().expect("ip");
    let keys = vec![
        ThrottleKey::AccountFromAddress(email.clone(), ip),
        ThrottleKey::Account(email.clone()),
        ThrottleKey::Address(ip),
    ];
    assert_eq!(
        throttle.load(&keys).await.expect("load"),
        vec![None, None, None]
    );

    for i in 0..3 {
        throttle
            .record_failure(&keys[..2], &policy, T0 + Duration::seconds(i))
            .await
            .expect("record");
    }
    let states = throttle.load(&keys).await.expect("load");
    assert_eq!(states[0].map(|s| s.failures), Some(3));
    assert_eq!(
        states[1].map(|s| (s.failures, s.last_failure_at)),
        Some((3, T0 + Duration::seconds(2)))
    );
    assert_eq!(states[2], None);

    // After a quiet window the count starts again.
    let later = T0 + Duration::seconds(2) + policy.window;
    throttle
        .record_failure(&keys[..1], &policy, later)
        .await
        .expect("record");
    assert_eq!(
        throttle.load(&keys[..1]).await.expect("load")[0].map(|s| s.failures),
        Some(1)
    );

    throttle.clear(&keys[..2]).await.expect("clear");
    assert_eq!(
        throttle.load(&keys).await.expect("load"),
        vec![None, None, None]
    );
}

#[tokio::test]
async fn throttle_failures_count_atomically_under_concurrency() {
    let env = env().await;
    let throttle = env.stores.throttle();
    let key = vec![ThrottleKey::Account(
        Email::parse("busy@example.com").expect("email"),
    )];
    let tasks = (0..20).map(|_| {
        let throttle = throttle.clone();
        let key = key.clone();
        async move {
            throttle
                .record_failure(&key, &ThrottlePolicy::default(), T0)
                .await
        }
    });
    for result in futures_join_all(tasks).await {
        result.expect("record");
    }
    assert_eq!(
        throttle.load(&key).await.expect("load")[0].map(|s| s.failures),
        Some(20)
    );
}

// ------------------------------------------------------------------ audit

#[tokio::test]
async fn the_audit_list_filters_pages_newest_first_and_the_chain_verifies() {
    let env = env().await;
    let (_, owner, scope) = registered(&env.stores, "alpha").await;
    let (_, _, scope_b) = registered(&env.stores, "beta").await;
    let audit = env.stores.audit();
    let ctx = RequestContext::new(
        Some("198.51.100.1".into()),
        Some("agent".into()),
        Some("r".into()),
    );
    for i in 0..6 {
        env.clock.advance(Duration::minutes(1));
        let event = PendingEvent::new(
            Actor::User(owner.id),
            if i % 2 == 0 {
                actions::USER_LOGIN_FAILED
            } else {
                actions::USER_UPDATED
            },
            "user",
            owner.id,
            Changes::new()
                .note("attempt", i)
                .note("nested", serde_json::json!({"z": 1, "a": [1.5, "x"]})),
            &ctx,
        );
        let record = audit.append(&scope, event).await.expect("append");
        assert_eq!(record.seq, 3 + i);
    }
    // All 8 (2 from registration), newest first, pages of 3.
    let mut query = AuditQuery {
        limit: 3,
        ..AuditQuery::default()
    };
    let mut seen = Vec::new();
    loop {
        let page = audit.list(&scope, &query).await.expect("list");
        seen.extend(page.items.iter().map(|r| r.seq));
        match page.next_cursor {
            Some(cursor) => query.before_seq = Some(cursor),
            None => break,
        }
    }
    assert_eq!(seen, vec![8, 7, 6, 5, 4, 3, 2, 1]);

    let failed = audit
        .list(
            &scope,
            &AuditQuery {
                actor: Some(owner.id),
                action: Some("user.login_failed".into()),
                entity_type: Some("user".into()),
                entity_id: Some(owner.id.to_string()),
                from: Some(T0 + Duration::minutes(2)),
                to: Some(T0 + Duration::minutes(6)),
                limit: 10,
                ..AuditQuery::default()
            },
        )
        .await
        .expect("filtered");
    let seqs: Vec<i64> = failed.items.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, vec![7, 5]);
    assert!(
        failed
            .items
            .iter()
            .all(|r| r.ip.as_deref() == Some("198.51.100.1"))
    );

    let chain = audit.chain_after(&scope, 5, 2).await.expect("chain");
    assert_eq!(chain.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![6, 7]);

    let service = AuditService::new(audit.clone(), Arc::new(Sha256ChainHasher));
    let verified = service.verify(&scope).await.expect("verify");
    assert!(verified.valid, "{verified:?}");
    assert_eq!(verified.events_checked, 8);
    // B's chain is its own.
    let b = service.verify(&scope_b).await.expect("verify b");
    assert_eq!(b.events_checked, 2);
}

#[tokio::test]
async fn concurrent_appends_make_one_chain_without_gaps() {
    let env = env().await;
    let (_, _, scope) = registered(&env.stores, "alpha").await;
    let audit = env.stores.audit();
    let tasks = (0..16).map(|i| {
        let audit = audit.clone();
        let scope = scope.clone();
        async move {
            audit
                .append(&scope, event(AuditAction::AUTH_PERMISSION_DENIED, i))
                .await
        }
    });
    for result in futures_join_all(tasks).await {
        result.expect("append");
    }
    let service = AuditService::new(audit, Arc::new(Sha256ChainHasher));
    let verified = service.verify(&scope).await.expect("verify");
    assert!(verified.valid, "{verified:?}");
    assert_eq!(verified.events_checked, 18);
}

#[tokio::test]
async fn a_tampered_event_breaks_the_chain() {
    let env = env().await;
    let (_, _, scope) = registered(&env.stores, "alpha").await;
    let mut admin = {
        use diesel_async::AsyncConnection;
        diesel_async::AsyncPgConnection::establish(env.db.superuser_url())
            .await
            .expect("admin")
    };
    use diesel_async::SimpleAsyncConnection;
    admin
        .batch_execute("UPDATE audit_events SET action = 'tenant.deleted' WHERE seq = 1")
        .await
        .expect("tamper");
    let service = AuditService::new(env.stores.audit(), Arc::new(Sha256ChainHasher));
    let verified = service.verify(&scope).await.expect("verify");
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
    let service = AuditService::new(audit.clone(), Arc::new(Sha256ChainHasher));
    let intact = service.verify(&scope).await.expect("verify");
    assert!(intact.valid, "{intact:?}");
    assert_eq!(intact.events_checked, 5);

    // A superuser removes the newest event: the rest still link up among themselves,
    // but the chain head remembers seq 5.
    let mut admin = {
        use diesel_async::AsyncConnection;
        diesel_async::AsyncPgConnection::establish(env.db.superuser_url())
            .await
            .expect("admin")
    };
    use diesel_async::SimpleAsyncConnection;
    admin
        .batch_execute("DELETE FROM audit_events WHERE seq = 5")
        .await
        .expect("delete the newest event");
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
