//! `UserRepository`: reads and writes in the scope's tenant only, the platform-wide
//! unique e-mail, keyset pagination, the global lookups.

use aura_identity::actions;
use aura_identity::{PasswordHash, User, ports::LoginRecord};
use aura_shared_kernel::{Conflict, PageRequest, Role, TenantId, TenantScope, UserId};
use time::Duration;
use uuid::Uuid;

use crate::{
    Stores,
    fixtures::{
        REGISTER_EVENTS, TwoTenants, add_user, as_tenant_reads, assert_conflict, assert_not_found,
        assert_stored_nowhere, assert_user_unchanged, audit_len, chain, deactivate,
        delete_by_owner, delete_user, edit_user, family, insert_user, name, new_user, one_winner,
        principal, register_tenant, start_session, stored_user, token, unique_email,
        update_by_owner, update_user, user_event,
    },
};

pub async fn insert_then_get_and_find_for_login(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let user = add_user(&stores, &fx, Role::Member).await;

    assert_eq!(stored_user(&stores, &fx, user.id).await, user);
    let login = stores.users.find_for_login(&user.email).await.unwrap();
    assert_eq!(
        login,
        Some(LoginRecord {
            user: user.clone(),
            tenant: fx.tenant.clone(),
        })
    );
    let events = chain(&stores, &fx.scope).await;
    assert_eq!(events.len(), REGISTER_EVENTS + 1);
    let last = events.last().unwrap();
    assert_eq!(last.action, actions::USER_CREATED);
    assert_eq!(last.entity_id, Some(user.id.to_string()));
}

pub async fn find_for_login_of_an_unknown_email_is_none(stores: Stores) {
    let _fx = register_tenant(&stores).await;
    let found = stores
        .users
        .find_for_login(&unique_email("nobody"))
        .await
        .unwrap();
    assert_eq!(found, None);
}

/// The portfolio's lookup: every membership of the address's account, with its tenant,
/// and nothing of another account's.
pub async fn logins_of_lists_the_accounts_own(stores: Stores) {
    let a = register_tenant(&stores).await;
    let b = register_tenant(&stores).await;
    let member = add_user(&stores, &b, Role::Viewer).await;
    let users = &stores.users;
    assert_eq!(
        users.logins_of(&a.owner.email).await.unwrap(),
        [LoginRecord {
            user: a.owner.clone(),
            tenant: a.tenant.clone(),
        }]
    );
    assert_eq!(
        users.logins_of(&member.email).await.unwrap(),
        [LoginRecord {
            user: member.clone(),
            tenant: b.tenant.clone(),
        }]
    );
    let nobody = unique_email("nobody");
    assert!(users.logins_of(&nobody).await.unwrap().is_empty());
}

pub async fn email_is_unique_across_tenants(stores: Stores) {
    let a = register_tenant(&stores).await;
    let b = register_tenant(&stores).await;
    let b_member = add_user(&stores, &b, Role::Member).await;
    let b_events = audit_len(&stores, &b.scope).await;

    let mut twin = new_user(b.tenant.id, Role::Member, stores.clock.now());
    twin.email = a.owner.email.clone();
    let result = insert_user(&stores, &b.scope, &twin).await;
    assert_conflict(
        result,
        Conflict::EmailTaken,
        "insert with another tenant's user's e-mail",
    );
    assert_not_found(
        stores.users.get(&b.scope, twin.id).await,
        "the refused user",
    );

    let mut same_tenant_twin = new_user(b.tenant.id, Role::Member, stores.clock.now());
    same_tenant_twin.email = b_member.email.clone();
    let result = insert_user(&stores, &b.scope, &same_tenant_twin).await;
    assert_conflict(
        result,
        Conflict::EmailTaken,
        "insert with a colleague's e-mail",
    );

    let mut renamed = b_member.clone();
    renamed.email = a.owner.email.clone();
    let result = edit_user(&stores, &b.scope, &renamed).await;
    assert_conflict(
        result,
        Conflict::EmailTaken,
        "update to another tenant's user's e-mail",
    );
    assert_user_unchanged(&stores, &b, &b_member, b_events, "the refused update").await;

    let login = stores
        .users
        .find_for_login(&a.owner.email)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        login.user, a.owner,
        "the address still belongs to A's owner"
    );

    let mut same_address = b_member.clone();
    same_address.full_name = name("Kept Address");
    edit_user(&stores, &b.scope, &same_address)
        .await
        .expect("keeping one's own address is no conflict");
}

pub async fn concurrent_inserts_of_one_email_have_one_winner(stores: Stores) {
    let a = register_tenant(&stores).await;
    let b = register_tenant(&stores).await;
    let email = unique_email("contested");
    let mut in_a = new_user(a.tenant.id, Role::Member, stores.clock.now());
    in_a.email = email.clone();
    let mut in_b = new_user(b.tenant.id, Role::Member, stores.clock.now());
    in_b.email = email.clone();

    let (ra, rb) = tokio::join!(
        insert_user(&stores, &a.scope, &in_a),
        insert_user(&stores, &b.scope, &in_b),
    );
    let (winner, ()) = one_winner(
        (in_a, ra),
        (in_b, rb),
        Conflict::EmailTaken,
        "the second insert of one e-mail",
    );
    let login = stores.users.find_for_login(&email).await.unwrap().unwrap();
    assert_eq!(login.user, winner);
}

pub async fn list_is_ordered_by_id_and_paginates(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let mut expected: Vec<User> = vec![fx.owner.clone()];
    for role in [Role::Admin, Role::Member, Role::Member, Role::Viewer] {
        expected.push(add_user(&stores, &fx, role).await);
    }
    expected.sort_by_key(|u| u.id);

    let all = stores
        .users
        .list(&fx.scope, PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(
        all.items, expected,
        "one page holds the tenant's users by id"
    );
    assert_eq!(all.next_cursor, None, "nothing follows the last page");

    let mut paged = Vec::new();
    let mut request = PageRequest::first(2);
    for _ in 0..10 {
        let page = stores.users.list(&fx.scope, request).await.unwrap();
        assert!(page.items.len() <= 2, "a page holds at most `limit` items");
        paged.extend(page.items.iter().cloned());
        match page.next_cursor {
            Some(cursor) => {
                assert_eq!(
                    Some(cursor),
                    page.items.last().map(|u| u.id.as_uuid()),
                    "the cursor is the last item's id"
                );
                request = PageRequest {
                    after: Some(cursor),
                    limit: 2,
                };
            }
            None => break,
        }
    }
    assert_eq!(
        paged, expected,
        "the pages together hold every user once, by id"
    );

    let exact = stores
        .users
        .list(&fx.scope, PageRequest::first(expected.len()))
        .await
        .unwrap();
    assert_eq!(exact.items.len(), expected.len());
    assert_eq!(exact.next_cursor, None, "a full last page has no cursor");
}

pub async fn update_replaces_the_row_with_its_event(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let user = add_user(&stores, &fx, Role::Member).await;
    let mut changed = user.clone();
    changed.full_name = name("Changed Name");
    changed.email = unique_email("changed");
    changed.role = Role::Viewer;
    changed.session_version += 1;
    changed.is_active = false;
    // The password is the account's: it is written with the account's session version.
    changed.password_hash = PasswordHash::unset();
    changed.account_session_version += 1;
    changed.updated_at = user.updated_at + Duration::seconds(5);
    let expected_version = changed.bump_version();
    update_by_owner(
        &stores,
        &fx,
        &changed,
        expected_version,
        actions::USER_ROLE_CHANGED,
    )
    .await
    .expect("update the user");

    // Deactivated: the tenant reads the account no more (its hash, its version).
    assert_eq!(
        stored_user(&stores, &fx, user.id).await,
        as_tenant_reads(&changed)
    );
    assert_eq!(
        changed.version,
        user.version + 1,
        "the version moved on by one"
    );
    assert_eq!(
        stores.users.find_for_login(&user.email).await.unwrap(),
        None,
        "the old address is free"
    );
    let login = stores.users.find_for_login(&changed.email).await.unwrap();
    assert_eq!(login.map(|l| l.user), Some(changed.clone()));
    let last = chain(&stores, &fx.scope).await.pop().unwrap();
    assert_eq!(last.action, actions::USER_ROLE_CHANGED);
}

pub async fn delete_removes_the_user_with_its_event(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let user = add_user(&stores, &fx, Role::Member).await;
    let (_, session_token) = start_session(&stores, &fx, &user).await;
    let (reset, now) = (token(), stores.clock.now());
    let requested = user_event(&user, actions::USER_PASSWORD_RESET_REQUESTED);
    stores
        .resets
        .issue(
            &fx.scope,
            user.id,
            &reset,
            now + Duration::hours(1),
            requested,
        )
        .await
        .expect("issue a reset token");
    let before = audit_len(&stores, &fx.scope).await;
    delete_by_owner(&stores, &fx, &user)
        .await
        .expect("delete the user");

    assert_not_found(stores.users.get(&fx.scope, user.id).await, "a deleted user");
    let session = stores.sessions.find(&session_token).await.unwrap();
    assert_eq!(session, None, "the user's sessions went with the user");
    let link = stores.resets.find(&reset, now).await.unwrap();
    assert_eq!(link, None, "the user's reset links went with the user");
    assert_eq!(
        stores.users.find_for_login(&user.email).await.unwrap(),
        None
    );
    let list = stores
        .users
        .list(&fx.scope, PageRequest::first(100))
        .await
        .unwrap();
    assert!(list.items.iter().all(|u| u.id != user.id));
    let events = chain(&stores, &fx.scope).await;
    assert_eq!(events.len(), before + 1);
    assert_eq!(events.last().unwrap().action, actions::USER_DELETED);

    let again = delete_by_owner(&stores, &fx, &user).await;
    assert_not_found(again, "deleting a deleted user");
    assert_eq!(audit_len(&stores, &fx.scope).await, before + 1);

    let mut successor = new_user(fx.tenant.id, Role::Member, stores.clock.now());
    successor.email = user.email.clone();
    insert_user(&stores, &fx.scope, &successor)
        .await
        .expect("a deleted user's address is free again");
}

pub async fn other_tenants_users_are_not_found(stores: Stores) {
    let two = TwoTenants::new(&stores).await;
    let (a, b, a_member) = (&two.a, &two.b, &two.a_member);

    for id in [a.owner.id, a_member.id] {
        assert_not_found(
            stores.users.get(&b.scope, id).await,
            "A's user from B's scope",
        );
    }
    let b_list = stores
        .users
        .list(&b.scope, PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(
        b_list.items,
        vec![b.owner.clone()],
        "B lists only its own users"
    );

    let mut hijacked = a_member.clone();
    hijacked.role = Role::Owner;
    hijacked.full_name = name("Hijacked");
    let result = edit_user(&stores, &b.scope, &hijacked).await;
    assert_not_found(result, "updating A's user through B's scope");

    let mut moved = a_member.clone();
    moved.tenant_id = b.tenant.id;
    let result = edit_user(&stores, &b.scope, &moved).await;
    assert_not_found(result, "moving A's user into B");

    let result = delete_user(&stores, &b.scope, a_member).await;
    assert_not_found(result, "deleting A's user through B's scope");

    assert_eq!(
        stored_user(&stores, a, a_member.id).await,
        *a_member,
        "A's row is unchanged"
    );
    assert_eq!(stored_user(&stores, a, a.owner.id).await, a.owner);
    two.assert_no_new_events(&stores).await;
}

pub async fn insert_into_another_tenant_is_refused(stores: Stores) {
    let a = register_tenant(&stores).await;
    let b = register_tenant(&stores).await;
    let intruder = new_user(a.tenant.id, Role::Owner, stores.clock.now());
    let result = insert_user(&stores, &b.scope, &intruder).await;
    assert!(
        result.is_err(),
        "B's scope must not insert a user into A: {result:?}"
    );
    let read = |scope: TenantScope| {
        let users = stores.users.clone();
        async move { users.get(&scope, intruder.id).await }
    };
    assert_stored_nowhere([&a, &b], read, "the intruder").await;
    assert_eq!(
        stores.users.find_for_login(&intruder.email).await.unwrap(),
        None
    );
    assert_eq!(audit_len(&stores, &a.scope).await, REGISTER_EVENTS);
    assert_eq!(audit_len(&stores, &b.scope).await, REGISTER_EVENTS);
}

pub async fn find_principal_checks_tenant_user_and_session(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let other = register_tenant(&stores).await;
    let member = add_user(&stores, &fx, Role::Member).await;
    let (session, _) = start_session(&stores, &fx, &member).await;

    let found = principal(&stores, fx.tenant.id, member.id, session.id)
        .await
        .expect("the principal");
    // The member as stored, but for the password hash, which the read on every request
    // never fetches.
    let stored = stored_user(&stores, &fx, member.id).await;
    assert!(
        !stored.password_hash.is_unset(),
        "the member has a password"
    );
    assert!(
        found.user.password_hash.is_unset(),
        "the principal carries no password hash"
    );
    assert_eq!(
        found.user,
        User {
            password_hash: PasswordHash::unset(),
            ..stored
        }
    );
    assert_eq!(found.tenant, fx.tenant);
    assert!(found.session_active, "a fresh session is active");

    let wrong_tenant = principal(&stores, other.tenant.id, member.id, session.id).await;
    assert_eq!(
        wrong_tenant, None,
        "the user is not found in another tenant"
    );
    let unknown_user = principal(&stores, fx.tenant.id, UserId::generate(), session.id).await;
    assert_eq!(unknown_user, None);
    let unknown_tenant = principal(&stores, TenantId::generate(), member.id, session.id).await;
    assert_eq!(unknown_tenant, None);

    let no_session = principal(&stores, fx.tenant.id, member.id, Uuid::now_v7())
        .await
        .expect("the principal without a session");
    assert!(!no_session.session_active, "an unknown session is inactive");
    let someone_elses = principal(&stores, fx.tenant.id, fx.owner.id, session.id)
        .await
        .expect("the owner");
    assert!(
        !someone_elses.session_active,
        "another user's session does not count"
    );
}

pub async fn find_principal_sees_an_expired_session_as_inactive(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let now = stores.clock.now();
    let scope = fx.scope_of(&fx.owner);
    let mut check = Vec::new();
    for (created_ago, lasts) in [
        (Duration::days(31), Duration::days(30)), // ended a day ago
        (Duration::days(30), Duration::days(30)), // ends right now
        (Duration::hours(1), Duration::days(30)), // still running
    ] {
        let mut session = family(&fx.owner, now - created_ago);
        session.absolute_expires_at = session.created_at + lasts;
        stores
            .sessions
            .start(
                &scope,
                &session,
                &token(),
                session.absolute_expires_at,
                user_event(&fx.owner, actions::USER_LOGIN_SUCCEEDED),
            )
            .await
            .expect("start");
        check.push(session.id);
    }
    let mut active = Vec::new();
    for id in check {
        let found = principal(&stores, fx.tenant.id, fx.owner.id, id)
            .await
            .expect("the principal");
        active.push(found.session_active);
    }
    assert_eq!(
        active,
        [false, false, true],
        "a session is active only before its absolute expiry"
    );
}

pub async fn stale_update_loses_nothing(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let member = add_user(&stores, &fx, Role::Member).await;
    // Two writers read the same row: a slow password change and an administrator.
    let read = stored_user(&stores, &fx, member.id).await;

    let deactivated = deactivate(&stores, &fx, &read, |u| u.role = Role::Viewer).await;
    let events = audit_len(&stores, &fx.scope).await;

    let mut new_password = read.clone();
    new_password.password_hash = aura_identity::PasswordHash::from_stored("$contract$x".into());
    new_password.account_session_version += 1;
    let expected = new_password.bump_version();
    let result = update_user(
        &stores,
        &fx.scope_of(&read),
        &new_password,
        expected,
        actions::USER_PASSWORD_CHANGED,
    )
    .await;
    assert_conflict(result, Conflict::Version, "a write from a stale read");
    // The stale write restored nothing (still inactive, still a viewer).
    assert_user_unchanged(&stores, &fx, &deactivated, events, "the stale write").await;

    // A fresh read writes again.
    let mut renamed = stored_user(&stores, &fx, member.id).await;
    renamed.full_name = name("Fresh Read");
    let expected = renamed.bump_version();
    update_user(
        &stores,
        &fx.scope,
        &renamed,
        expected,
        actions::USER_UPDATED,
    )
    .await
    .expect("a write at the current version");
    assert_eq!(
        stored_user(&stores, &fx, member.id).await.version,
        read.version + 2
    );

    // A row that is gone is not found, whatever the version.
    delete_user(&stores, &fx.scope, &member)
        .await
        .expect("delete");
    assert_not_found(
        edit_user(&stores, &fx.scope, &renamed).await,
        "an update of a deleted user",
    );
}

pub async fn concurrent_updates_have_one_winner(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let member = add_user(&stores, &fx, Role::Member).await;
    let read = stored_user(&stores, &fx, member.id).await;
    let mut first = read.clone();
    first.full_name = name("First Writer");
    let expected_first = first.bump_version();
    let mut second = read.clone();
    second.role = Role::Viewer;
    let expected_second = second.bump_version();
    let events = audit_len(&stores, &fx.scope).await;

    let (a, b) = tokio::join!(
        update_user(
            &stores,
            &fx.scope,
            &first,
            expected_first,
            actions::USER_UPDATED
        ),
        update_user(
            &stores,
            &fx.scope,
            &second,
            expected_second,
            actions::USER_ROLE_CHANGED
        ),
    );
    let (winner, ()) = one_winner(
        (first, a),
        (second, b),
        Conflict::Version,
        "the second update from the same read",
    );
    assert_eq!(stored_user(&stores, &fx, member.id).await, winner);
    assert_eq!(audit_len(&stores, &fx.scope).await, events + 1);
}
