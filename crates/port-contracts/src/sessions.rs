//! `SessionStore`: refresh-token families, single-winner rotation, revocation.

use aura_identity::actions;
use aura_identity::{RefreshLookup, TokenHash};
use aura_shared_kernel::Role;
use time::Duration;
use uuid::Uuid;

use crate::{
    Stores,
    fixtures::{
        REGISTER_EVENTS, TenantFixture, TwoTenants, add_user, assert_not_found, audit_len, chain,
        family, principal, register_tenant, session_event, start_session, stored_user, token,
        update_by_owner,
    },
};

async fn session_active(
    stores: &Stores,
    fx: &TenantFixture,
    user: &aura_identity::User,
    session: Uuid,
) -> bool {
    principal(stores, fx.tenant.id, user.id, session)
        .await
        .expect("the principal")
        .session_active
}

pub async fn start_opens_a_family_and_records_the_login(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let member = add_user(&stores, &fx, Role::Member).await;
    let now = stores.clock.now();
    let session = family(&member, now - Duration::seconds(1));
    let first = token();
    let idle = now + Duration::days(14);
    stores
        .sessions
        .start(
            &fx.scope_of(&member),
            &session,
            &first,
            idle,
            session_event(&member, actions::USER_LOGIN_SUCCEEDED, session.id),
        )
        .await
        .expect("start a session");

    let found = stores.sessions.find(&first).await.unwrap();
    assert_eq!(
        found,
        Some(RefreshLookup {
            family: session.clone(),
            family_revoked: false,
            used: false,
            idle_expires_at: idle,
        }),
        "the first token leads to its family"
    );
    let mut expected = member.clone();
    expected.last_login_at = Some(session.created_at);
    assert_eq!(
        stored_user(&stores, &fx, member.id).await,
        expected,
        "start sets last_login_at to the session's start, nothing else"
    );
    let last = chain(&stores, &fx.scope).await.pop().unwrap();
    assert_eq!(last.action, actions::USER_LOGIN_SUCCEEDED);
    assert_eq!(last.entity_id, Some(session.id.to_string()));
    assert!(session_active(&stores, &fx, &member, session.id).await);
}

pub async fn start_for_another_tenants_user_is_refused(stores: Stores) {
    let two = TwoTenants::new(&stores).await;
    let (a, b, a_member) = (&two.a, &two.b, &two.a_member);
    let now = stores.clock.now();

    // A's session through B's scope, a session claiming B for A's user, and a session
    // claiming A for B's user through B's scope.
    let foreign = family(a_member, now);
    let mut disguised = family(a_member, now);
    disguised.tenant_id = b.tenant.id;
    let mut misfiled = family(&b.owner, now);
    misfiled.tenant_id = a.tenant.id;
    for (session, what) in [
        (foreign, "a session of A's user through B's scope"),
        (disguised, "a session in B for A's user"),
        (misfiled, "a session in A for B's user"),
    ] {
        let first = token();
        let result = stores
            .sessions
            .start(
                &b.scope,
                &session,
                &first,
                now + Duration::days(1),
                session_event(a_member, actions::USER_LOGIN_SUCCEEDED, session.id),
            )
            .await;
        assert!(result.is_err(), "{what} must be refused: {result:?}");
        assert_eq!(
            stores.sessions.find(&first).await.unwrap(),
            None,
            "{what}: no token"
        );
    }
    assert_eq!(
        stored_user(&stores, a, a_member.id).await,
        *a_member,
        "A's user is unchanged"
    );
    assert_eq!(
        stored_user(&stores, b, b.owner.id).await,
        b.owner,
        "B's user is unchanged"
    );
    two.assert_no_new_events(&stores).await;
}

pub async fn find_of_an_unknown_token_is_none(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let _ = start_session(&stores, &fx, &fx.owner).await;
    assert_eq!(stores.sessions.find(&token()).await.unwrap(), None);
}

pub async fn rotate_marks_used_and_adds_the_next_token(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let (session, first) = start_session(&stores, &fx, &fx.owner).await;
    let scope = fx.scope_of(&fx.owner);
    let now = stores.clock.now();
    let next = token();
    let idle = now + Duration::days(7);

    let won = stores
        .sessions
        .rotate(&scope, &first, &next, idle, now)
        .await
        .unwrap();
    assert!(won, "the first exchange of a token wins");
    let presented = stores.sessions.find(&first).await.unwrap().unwrap();
    assert!(presented.used, "the presented token is used");
    assert!(!presented.family_revoked);
    assert_eq!(presented.family, session);
    assert_eq!(
        stores.sessions.find(&next).await.unwrap(),
        Some(RefreshLookup {
            family: session.clone(),
            family_revoked: false,
            used: false,
            idle_expires_at: idle,
        }),
        "the next token joins the same family"
    );

    let late = token();
    let again = stores
        .sessions
        .rotate(&scope, &first, &late, idle, now)
        .await
        .unwrap();
    assert!(!again, "a used token does not rotate again");
    assert_eq!(
        stores.sessions.find(&late).await.unwrap(),
        None,
        "a lost rotation adds no token"
    );

    let third = token();
    assert!(
        stores
            .sessions
            .rotate(&scope, &next, &third, idle, now)
            .await
            .unwrap(),
        "the next token rotates in turn"
    );
    assert_eq!(
        stores
            .sessions
            .find(&third)
            .await
            .unwrap()
            .map(|l| l.family.id),
        Some(session.id)
    );
}

pub async fn rotate_has_one_winner(stores: Stores) {
    const RACERS: usize = 8;
    let fx = register_tenant(&stores).await;
    let (session, first) = start_session(&stores, &fx, &fx.owner).await;
    let scope = fx.scope_of(&fx.owner);
    let now = stores.clock.now();
    let idle = now + Duration::days(7);
    let nexts: Vec<TokenHash> = (0..RACERS).map(|_| token()).collect();

    let racers: Vec<_> = nexts
        .iter()
        .map(|&next| {
            let (sessions, scope) = (stores.sessions.clone(), scope.clone());
            tokio::spawn(async move { sessions.rotate(&scope, &first, &next, idle, now).await })
        })
        .collect();
    let mut won = Vec::new();
    for racer in racers {
        won.push(racer.await.unwrap().unwrap());
    }
    assert_eq!(
        won.iter().filter(|&&w| w).count(),
        1,
        "exactly one of {RACERS} concurrent rotations wins ({won:?})"
    );
    for (next, won) in nexts.iter().zip(won) {
        let family = stores
            .sessions
            .find(next)
            .await
            .unwrap()
            .map(|l| l.family.id);
        assert_eq!(
            family,
            won.then_some(session.id),
            "only the winner's next token joins the family"
        );
    }
}

pub async fn rotate_in_another_tenant_changes_nothing(stores: Stores) {
    let a = register_tenant(&stores).await;
    let b = register_tenant(&stores).await;
    let (_, first) = start_session(&stores, &a, &a.owner).await;
    let now = stores.clock.now();
    let next = token();
    let result = stores
        .sessions
        .rotate(&b.scope, &first, &next, now + Duration::days(7), now)
        .await;
    assert!(
        !matches!(result, Ok(true)),
        "B's scope must not rotate A's token: {result:?}"
    );
    let found = stores.sessions.find(&first).await.unwrap().unwrap();
    assert!(!found.used, "A's token stays unused");
    assert_eq!(stores.sessions.find(&next).await.unwrap(), None);
}

pub async fn revoke_ends_the_session(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let (session, first) = start_session(&stores, &fx, &fx.owner).await;
    let (other_session, _) = start_session(&stores, &fx, &fx.owner).await;
    assert!(session_active(&stores, &fx, &fx.owner, session.id).await);
    let now = stores.clock.now();

    stores
        .sessions
        .revoke(
            &fx.scope,
            session.id,
            now,
            session_event(&fx.owner, actions::USER_LOGGED_OUT, session.id),
        )
        .await
        .expect("revoke");

    let found = stores.sessions.find(&first).await.unwrap().unwrap();
    assert!(found.family_revoked, "find shows the family revoked");
    assert!(
        !session_active(&stores, &fx, &fx.owner, session.id).await,
        "find_principal sees the session inactive"
    );
    assert!(
        session_active(&stores, &fx, &fx.owner, other_session.id).await,
        "the user's other sessions stay active"
    );
    let last = chain(&stores, &fx.scope).await.pop().unwrap();
    assert_eq!(last.action, actions::USER_LOGGED_OUT);

    // A reuse after logout revokes the family again: no error, still revoked.
    let reused = session_event(&fx.owner, actions::AUTH_REFRESH_REUSED, session.id);
    stores
        .sessions
        .revoke(&fx.scope, session.id, now, reused)
        .await
        .expect("revoking a revoked family again");
    let found = stores.sessions.find(&first).await.unwrap().unwrap();
    assert!(found.family_revoked, "the family stays revoked");
}

pub async fn revoke_in_another_tenant_is_not_found(stores: Stores) {
    let a = register_tenant(&stores).await;
    let b = register_tenant(&stores).await;
    let (session, first) = start_session(&stores, &a, &a.owner).await;
    let a_events = audit_len(&stores, &a.scope).await;
    let now = stores.clock.now();
    let logout = || session_event(&b.owner, actions::USER_LOGGED_OUT, session.id);

    assert_not_found(
        stores
            .sessions
            .revoke(&b.scope, session.id, now, logout())
            .await,
        "revoking A's session through B's scope",
    );
    assert_not_found(
        stores
            .sessions
            .revoke(&a.scope, Uuid::now_v7(), now, logout())
            .await,
        "revoking an unknown session",
    );
    assert!(
        !stores
            .sessions
            .find(&first)
            .await
            .unwrap()
            .unwrap()
            .family_revoked
    );
    assert!(session_active(&stores, &a, &a.owner, session.id).await);
    assert_eq!(audit_len(&stores, &a.scope).await, a_events);
    assert_eq!(audit_len(&stores, &b.scope).await, REGISTER_EVENTS);
}

pub async fn start_does_not_change_the_version(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let member = add_user(&stores, &fx, Role::Member).await;
    let read = stored_user(&stores, &fx, member.id).await;
    let (session, _) = start_session(&stores, &fx, &member).await;

    let after = stored_user(&stores, &fx, member.id).await;
    assert_eq!(
        after.last_login_at,
        Some(session.created_at),
        "the sign-in is stamped"
    );
    assert_eq!(
        after.version, read.version,
        "signing in leaves the version alone"
    );

    // So a write prepared from the read before the sign-in still goes through.
    let mut deactivated = read.clone();
    deactivated.is_active = false;
    let expected = deactivated.bump_version();
    update_by_owner(
        &stores,
        &fx,
        &deactivated,
        expected,
        actions::USER_DEACTIVATED,
    )
    .await
    .expect("a sign-in does not make an administrator's read stale");
}
