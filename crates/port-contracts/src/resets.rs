//! `PasswordResetStore`: single-use, expiring tokens; redemption stores the user
//! atomically under the user rules.

use aura_identity::actions;
use aura_identity::{FullName, PasswordHash, TokenHash, User};
use aura_shared_kernel::{Conflict, Role, StoreError, TenantId, TenantScope, UserId};
use time::{Duration, OffsetDateTime};

use crate::{
    Stores,
    fixtures::{
        TenantFixture, TwoTenants, add_user, assert_conflict, assert_user_unchanged, audit_len,
        chain, deactivate, register_tenant, stored_user, suffix, token, update_by_owner,
        user_event,
    },
};

/// Issues a reset token for `user` (in a credential-check scope, as the service does).
async fn issue(
    stores: &Stores,
    fx: &TenantFixture,
    user: &User,
    expires_at: OffsetDateTime,
) -> TokenHash {
    let token = token();
    stores
        .resets
        .issue(
            &credential_scope(fx, user),
            user.id,
            &token,
            expires_at,
            user_event(user, actions::USER_PASSWORD_RESET_REQUESTED),
        )
        .await
        .expect("issue a reset token");
    token
}

fn credential_scope(fx: &TenantFixture, user: &User) -> TenantScope {
    TenantScope::for_credential_check(fx.tenant.id, Some(user.id))
}

/// The user after a reset: a new password and every session ended.
fn with_new_password(user: &User, now: OffsetDateTime) -> User {
    let mut user = user.clone();
    user.password_hash = PasswordHash::from_stored(format!("$contract$reset-{}", suffix()));
    // A password is the account's: it moves the account's session version.
    user.account_session_version += 1;
    user.updated_at = now;
    user.bump_version();
    user
}

async fn redeem(
    stores: &Stores,
    scope: &TenantScope,
    token: &TokenHash,
    user: &User,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    stores
        .resets
        .redeem(
            scope,
            token,
            user,
            user.version - 1,
            now,
            user_event(user, actions::USER_PASSWORD_RESET),
        )
        .await
}

/// Whose unused, unexpired token `token` is at `at` (`resets.find`).
async fn find(
    stores: &Stores,
    token: &TokenHash,
    at: OffsetDateTime,
) -> Option<(TenantId, UserId)> {
    stores.resets.find(token, at).await.unwrap()
}

pub async fn issue_find_and_redeem_once(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let member = add_user(&stores, &fx, Role::Member).await;
    let now = stores.clock.now();
    let token = issue(&stores, &fx, &member, now + Duration::hours(1)).await;
    let last = chain(&stores, &fx.scope).await.pop().unwrap();
    assert_eq!(last.action, actions::USER_PASSWORD_RESET_REQUESTED);
    let other_link = issue(&stores, &fx, &member, now + Duration::hours(1)).await;

    assert_eq!(
        find(&stores, &token, now).await,
        Some((fx.tenant.id, member.id)),
        "find names the token's tenant and user"
    );
    let reset = with_new_password(&member, now);
    let scope = credential_scope(&fx, &member);
    assert!(
        redeem(&stores, &scope, &token, &reset, now).await.unwrap(),
        "an unused token redeems"
    );
    assert_eq!(
        stored_user(&stores, &fx, member.id).await,
        reset,
        "the user is stored"
    );
    let events = audit_len(&stores, &fx.scope).await;
    let last = chain(&stores, &fx.scope).await.pop().unwrap();
    assert_eq!(last.action, actions::USER_PASSWORD_RESET);

    assert_eq!(
        find(&stores, &token, now).await,
        None,
        "a used token is not found"
    );
    assert_eq!(
        find(&stores, &other_link, now).await,
        None,
        "the user's other outstanding link died with the reset"
    );
    let second = with_new_password(&member, now);
    assert!(
        !redeem(&stores, &scope, &token, &second, now).await.unwrap(),
        "a token redeems once"
    );
    assert_eq!(stored_user(&stores, &fx, member.id).await, reset);
    assert_eq!(
        audit_len(&stores, &fx.scope).await,
        events,
        "a refused redemption writes no event"
    );
}

pub async fn find_and_redeem_refuse_expired_tokens(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let member = add_user(&stores, &fx, Role::Member).await;
    let now = stores.clock.now();
    let expires = now + Duration::hours(1);
    let token = issue(&stores, &fx, &member, expires).await;
    let stale = issue(&stores, &fx, &member, now - Duration::minutes(1)).await;
    let events = audit_len(&stores, &fx.scope).await;
    let scope = credential_scope(&fx, &member);

    assert_eq!(find(&stores, &stale, now).await, None, "an expired token");
    assert_eq!(
        find(&stores, &token, expires).await,
        None,
        "a token is expired at its expiry time"
    );
    assert_eq!(
        find(&stores, &token, expires + Duration::hours(1)).await,
        None
    );
    assert!(
        find(&stores, &token, now).await.is_some(),
        "before expiry the token is found"
    );

    let reset = with_new_password(&member, now);
    assert!(
        !redeem(&stores, &scope, &token, &reset, expires)
            .await
            .unwrap()
    );
    assert!(!redeem(&stores, &scope, &stale, &reset, now).await.unwrap());
    assert_eq!(
        stored_user(&stores, &fx, member.id).await,
        member,
        "nothing was stored"
    );
    assert_eq!(audit_len(&stores, &fx.scope).await, events);
    assert!(
        redeem(&stores, &scope, &token, &reset, now).await.unwrap(),
        "a refused late redemption did not use the token"
    );
}

pub async fn redeem_has_one_winner(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let member = add_user(&stores, &fx, Role::Member).await;
    let now = stores.clock.now();
    let token = issue(&stores, &fx, &member, now + Duration::hours(1)).await;
    let scope = credential_scope(&fx, &member);
    let (left, right) = (
        with_new_password(&member, now),
        with_new_password(&member, now),
    );

    let (won_left, won_right) = tokio::join!(
        redeem(&stores, &scope, &token, &left, now),
        redeem(&stores, &scope, &token, &right, now),
    );
    let (won_left, won_right) = (won_left.unwrap(), won_right.unwrap());
    assert!(
        won_left ^ won_right,
        "exactly one of two concurrent redemptions wins ({won_left}, {won_right})"
    );
    let winner = if won_left { left } else { right };
    assert_eq!(stored_user(&stores, &fx, member.id).await, winner);
}

pub async fn redeem_is_atomic_with_the_user_rules(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let member = add_user(&stores, &fx, Role::Member).await;
    let now = stores.clock.now();
    let member_token = issue(&stores, &fx, &member, now + Duration::hours(1)).await;
    let owner_token = issue(&stores, &fx, &fx.owner, now + Duration::hours(1)).await;
    let events = audit_len(&stores, &fx.scope).await;

    let mut taken_address = with_new_password(&member, now);
    taken_address.email = fx.owner.email.clone();
    assert_conflict(
        redeem(
            &stores,
            &credential_scope(&fx, &member),
            &member_token,
            &taken_address,
            now,
        )
        .await,
        Conflict::EmailTaken,
        "a redemption storing a taken e-mail",
    );
    let mut demoted = with_new_password(&fx.owner, now);
    demoted.role = Role::Member;
    assert_conflict(
        redeem(
            &stores,
            &credential_scope(&fx, &fx.owner),
            &owner_token,
            &demoted,
            now,
        )
        .await,
        Conflict::LastOwner,
        "a redemption demoting the last owner",
    );

    assert_eq!(stored_user(&stores, &fx, member.id).await, member);
    assert_eq!(stored_user(&stores, &fx, fx.owner.id).await, fx.owner);
    assert_eq!(audit_len(&stores, &fx.scope).await, events, "no event");
    for (token, user) in [(&member_token, &member), (&owner_token, &fx.owner)] {
        assert_eq!(
            find(&stores, token, now).await,
            Some((fx.tenant.id, user.id)),
            "a failed redemption leaves the token unused"
        );
    }
}

pub async fn redeem_refuses_another_users_token(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let holder = add_user(&stores, &fx, Role::Member).await;
    let victim = add_user(&stores, &fx, Role::Member).await;
    let now = stores.clock.now();
    let token = issue(&stores, &fx, &holder, now + Duration::hours(1)).await;

    let result = redeem(
        &stores,
        &credential_scope(&fx, &holder),
        &token,
        &with_new_password(&victim, now),
        now,
    )
    .await;
    assert!(
        !matches!(result, Ok(true)),
        "a token resets only its own user's password: {result:?}"
    );
    assert_eq!(stored_user(&stores, &fx, victim.id).await, victim);
    assert_eq!(
        find(&stores, &token, now).await,
        Some((fx.tenant.id, holder.id)),
        "the refused redemption left the token unused"
    );
}

pub async fn issue_for_another_tenants_user_is_refused(stores: Stores) {
    let two = TwoTenants::new(&stores).await;
    let (b, a_member) = (&two.b, &two.a_member);
    let now = stores.clock.now();
    let token = token();
    let result = stores
        .resets
        .issue(
            &b.scope,
            a_member.id,
            &token,
            now + Duration::hours(1),
            user_event(a_member, actions::USER_PASSWORD_RESET_REQUESTED),
        )
        .await;
    assert!(
        result.is_err(),
        "B's scope must not issue for A's user: {result:?}"
    );
    assert_eq!(find(&stores, &token, now).await, None);
    two.assert_no_new_events(&stores).await;
}

pub async fn redeem_in_another_tenant_changes_nothing(stores: Stores) {
    let mut two = TwoTenants::new(&stores).await;
    let (a, b, a_member) = (&two.a, &two.b, &two.a_member);
    let now = stores.clock.now();
    let token = issue(&stores, a, a_member, now + Duration::hours(1)).await;
    two.a_events = audit_len(&stores, &a.scope).await;

    let result = redeem(
        &stores,
        &b.scope,
        &token,
        &with_new_password(a_member, now),
        now,
    )
    .await;
    assert!(
        !matches!(result, Ok(true)),
        "B's scope must not redeem A's token: {result:?}"
    );
    assert_eq!(stored_user(&stores, a, a_member.id).await, *a_member);
    assert_eq!(
        find(&stores, &token, now).await,
        Some((a.tenant.id, a_member.id)),
        "A's token stays unused"
    );
    two.assert_no_new_events(&stores).await;
}

pub async fn redeem_at_a_stale_version_changes_nothing(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let member = add_user(&stores, &fx, Role::Member).await;
    let now = stores.clock.now();
    let token = issue(&stores, &fx, &member, now + Duration::hours(1)).await;
    // The reset reads the user, hashes the new password...
    let read = stored_user(&stores, &fx, member.id).await;
    let reset = with_new_password(&read, now);
    // ... while an administrator renames the person (a write that keeps their sessions
    // and links, so only the version check can stop the stale redemption).
    let mut renamed = read.clone();
    renamed.full_name = FullName::parse("Renamed Meanwhile").expect("a valid name");
    let expected = renamed.bump_version();
    update_by_owner(&stores, &fx, &renamed, expected, actions::USER_UPDATED)
        .await
        .expect("rename at the version read");
    let events = audit_len(&stores, &fx.scope).await;

    let result = redeem(
        &stores,
        &credential_scope(&fx, &member),
        &token,
        &reset,
        now,
    )
    .await;
    assert_conflict(result, Conflict::Version, "a redemption from a stale read");
    // The stale redemption undid nothing of the rename.
    assert_user_unchanged(&stores, &fx, &renamed, events, "the stale redemption").await;
    assert!(
        find(&stores, &token, now).await.is_some(),
        "the token stays unused, so the person can retry"
    );

    let fresh = with_new_password(&stored_user(&stores, &fx, member.id).await, now);
    assert!(
        redeem(
            &stores,
            &credential_scope(&fx, &member),
            &token,
            &fresh,
            now
        )
        .await
        .expect("redeem at the current version"),
        "a fresh read redeems the token"
    );
    assert_eq!(stored_user(&stores, &fx, member.id).await, fresh);
}

/// A deactivation (like a password or role change: the session version moves) voids the
/// person's open reset links in the same write: a link mailed before it redeems nothing.
pub async fn deactivation_voids_open_reset_links(stores: Stores) {
    let fx = register_tenant(&stores).await;
    let member = add_user(&stores, &fx, Role::Member).await;
    let now = stores.clock.now();
    let token = issue(&stores, &fx, &member, now + Duration::hours(1)).await;
    let read = stored_user(&stores, &fx, member.id).await;
    let deactivated = deactivate(&stores, &fx, &read, |_| {}).await;
    assert_eq!(
        find(&stores, &token, now).await,
        None,
        "the link died with the deactivation"
    );
    let events = audit_len(&stores, &fx.scope).await;
    let reset = with_new_password(&deactivated, now);
    let redeemed = redeem(
        &stores,
        &credential_scope(&fx, &member),
        &token,
        &reset,
        now,
    )
    .await
    .expect("a void link is refused, not an error");
    assert!(!redeemed, "a void link redeems nothing");
    assert_user_unchanged(&stores, &fx, &deactivated, events, "the void link").await;
}
