//! `SecondFactorStore`: an account's factor reached only through an accepted, active
//! membership of the scope's tenant; a time step, a recovery code and a challenge each
//! used once, with one winner when raced; a write that changes nothing leaves no event.

use aura_identity::{
    User,
    mfa::{ChallengePurpose, RecoveryHash, SealedSecret, TimeStep},
};
use aura_shared_kernel::{Role, TenantScope};
use time::Duration;

use crate::{
    Stores,
    fixtures::{
        TenantFixture, TwoTenants, add_user, assert_not_found, audit_len, register_tenant, token,
        user_event,
    },
};

fn sealed() -> SealedSecret {
    SealedSecret(vec![1; 48])
}

fn code(n: u8) -> RecoveryHash {
    RecoveryHash([n; 32])
}

/// A member of a fresh tenant with a confirmed factor (step 100, codes 1–3).
async fn enrolled(stores: &Stores) -> (TenantFixture, User, TenantScope) {
    let fx = register_tenant(stores).await;
    let member = add_user(stores, &fx, Role::Member).await;
    let scope = fx.scope_of(&member);
    let now = stores.clock.now();
    let event = || user_event(&member, aura_identity::actions::USER_MFA_ENABLED);
    let factors = &stores.second_factors;
    assert!(
        factors
            .start_enrolment(&scope, member.account_id, &sealed(), now, event())
            .await
            .unwrap()
    );
    assert!(
        factors
            .confirm(
                &scope,
                member.account_id,
                TimeStep(100),
                &[code(1), code(2), code(3)],
                now,
                event()
            )
            .await
            .unwrap()
    );
    (fx, member, scope)
}

pub async fn enrolment_is_confirmed_once_with_its_events(stores: Stores) {
    let (_, member, scope) = enrolled(&stores).await;
    let factor = stores
        .second_factors
        .factor(&scope, member.account_id)
        .await
        .unwrap()
        .expect("the factor");
    assert!(factor.is_confirmed());
    assert_eq!(factor.sealed, sealed());
    assert_eq!(factor.last_used_step, Some(TimeStep(100)));
    assert_eq!(factor.recovery_codes_left, 3);
    let events = audit_len(&stores, &scope).await;
    let now = stores.clock.now();
    let event = user_event(&member, aura_identity::actions::USER_MFA_ENABLED);
    // Confirmed: neither a new enrolment nor a second confirmation is written.
    assert!(
        !stores
            .second_factors
            .start_enrolment(
                &scope,
                member.account_id,
                &SealedSecret(vec![2; 48]),
                now,
                event.clone()
            )
            .await
            .unwrap()
    );
    assert!(
        !stores
            .second_factors
            .confirm(&scope, member.account_id, TimeStep(200), &[], now, event)
            .await
            .unwrap()
    );
    assert_eq!(
        audit_len(&stores, &scope).await,
        events,
        "no event for no change"
    );
    assert_eq!(
        stores
            .second_factors
            .accepted_memberships(&scope, member.account_id)
            .await
            .unwrap(),
        1
    );
}

pub async fn a_step_is_used_once_and_only_forward(stores: Stores) {
    let (_, member, scope) = enrolled(&stores).await;
    let factors = &stores.second_factors;
    let now = stores.clock.now();
    let account = member.account_id;
    assert!(
        !factors
            .use_step(&scope, account, TimeStep(100), now)
            .await
            .unwrap(),
        "the confirming step"
    );
    assert!(
        !factors
            .use_step(&scope, account, TimeStep(99), now)
            .await
            .unwrap(),
        "an older step"
    );
    let (a, b) = tokio::join!(
        factors.use_step(&scope, account, TimeStep(101), now),
        factors.use_step(&scope, account, TimeStep(101), now),
    );
    assert_eq!(
        [a.unwrap(), b.unwrap()].iter().filter(|won| **won).count(),
        1,
        "one winner of a raced step"
    );
    assert!(
        factors
            .use_step(&scope, account, TimeStep(103), now)
            .await
            .unwrap()
    );
}

pub async fn a_recovery_code_is_used_once(stores: Stores) {
    let (_, member, scope) = enrolled(&stores).await;
    let factors = &stores.second_factors;
    let now = stores.clock.now();
    let account = member.account_id;
    let event = || user_event(&member, aura_identity::actions::USER_MFA_RECOVERY_CODE_USED);
    let before = audit_len(&stores, &scope).await;
    let second = code(2);
    let (a, b) = tokio::join!(
        factors.use_recovery_code(&scope, account, &second, now, event()),
        factors.use_recovery_code(&scope, account, &second, now, event()),
    );
    assert_eq!(
        [a.unwrap(), b.unwrap()].iter().filter(|won| **won).count(),
        1,
        "one winner of a raced code"
    );
    assert!(
        !factors
            .use_recovery_code(&scope, account, &code(9), now, event())
            .await
            .unwrap()
    );
    assert_eq!(
        audit_len(&stores, &scope).await,
        before + 1,
        "one event, for the use"
    );
    let left = factors.factor(&scope, account).await.unwrap().unwrap();
    assert_eq!(left.recovery_codes_left, 2);
    assert!(
        factors
            .replace_recovery_codes(&scope, account, &[code(7)], now, event())
            .await
            .unwrap()
    );
    assert!(
        !factors
            .use_recovery_code(&scope, account, &code(1), now, event())
            .await
            .unwrap()
    );
    assert!(
        factors
            .use_recovery_code(&scope, account, &code(7), now, event())
            .await
            .unwrap()
    );
}

pub async fn another_tenant_reaches_no_factor(stores: Stores) {
    let (_, member, _) = enrolled(&stores).await;
    let other = TwoTenants::new(&stores).await;
    let foreign = &other.b.scope;
    let factors = &stores.second_factors;
    let now = stores.clock.now();
    let account = member.account_id;
    let event = || user_event(&member, aura_identity::actions::USER_MFA_DISABLED);
    assert_eq!(factors.factor(foreign, account).await.unwrap(), None);
    assert_eq!(
        factors
            .accepted_memberships(foreign, account)
            .await
            .unwrap(),
        0
    );
    assert!(
        !factors
            .use_step(foreign, account, TimeStep(500), now)
            .await
            .unwrap()
    );
    assert!(
        !factors
            .use_recovery_code(foreign, account, &code(1), now, event())
            .await
            .unwrap()
    );
    assert!(
        !factors
            .replace_recovery_codes(foreign, account, &[], now, event())
            .await
            .unwrap()
    );
    assert!(!factors.remove(foreign, account, event()).await.unwrap());
    assert_not_found(
        factors
            .start_enrolment(foreign, account, &sealed(), now, event())
            .await,
        "an enrolment of another tenant's member",
    );
    assert_eq!(
        audit_len(&stores, foreign).await,
        crate::fixtures::REGISTER_EVENTS
    );
}

pub async fn removing_the_factor_is_written_with_its_event(stores: Stores) {
    let (_, member, scope) = enrolled(&stores).await;
    let before = audit_len(&stores, &scope).await;
    let event = || user_event(&member, aura_identity::actions::USER_MFA_DISABLED);
    assert!(
        stores
            .second_factors
            .remove(&scope, member.account_id, event())
            .await
            .unwrap()
    );
    assert!(
        !stores
            .second_factors
            .remove(&scope, member.account_id, event())
            .await
            .unwrap()
    );
    assert_eq!(audit_len(&stores, &scope).await, before + 1);
    assert_eq!(
        stores
            .second_factors
            .factor(&scope, member.account_id)
            .await
            .unwrap(),
        None
    );
}

pub async fn a_challenge_is_found_by_its_hash_and_taken_once(stores: Stores) {
    let two = TwoTenants::new(&stores).await;
    let scope = two.a.scope_of(&two.a_member);
    let factors = &stores.second_factors;
    let now = stores.clock.now();
    let presented = token();
    let expires = now + Duration::minutes(5);
    factors
        .issue_challenge(
            &scope,
            two.a_member.id,
            &presented,
            ChallengePurpose::SignIn,
            now,
            expires,
        )
        .await
        .unwrap();
    let found = factors
        .find_challenge(&presented)
        .await
        .unwrap()
        .expect("found");
    assert_eq!(
        (found.tenant, found.user),
        (two.a.tenant.id, two.a_member.id)
    );
    assert_eq!(found.purpose, ChallengePurpose::SignIn);
    assert!(!found.used);
    assert_eq!(factors.find_challenge(&token()).await.unwrap(), None);
    assert!(
        !factors
            .take_challenge(&two.b.scope, &presented, now)
            .await
            .unwrap(),
        "another tenant"
    );
    assert!(
        !factors
            .take_challenge(&scope, &presented, expires)
            .await
            .unwrap(),
        "expired"
    );
    let (a, b) = tokio::join!(
        factors.take_challenge(&scope, &presented, now),
        factors.take_challenge(&scope, &presented, now),
    );
    assert_eq!(
        [a.unwrap(), b.unwrap()].iter().filter(|won| **won).count(),
        1
    );
    assert!(
        factors
            .find_challenge(&presented)
            .await
            .unwrap()
            .unwrap()
            .used
    );
    // A user of another tenant cannot be named.
    assert_not_found(
        factors
            .issue_challenge(
                &two.b.scope,
                two.a_member.id,
                &token(),
                ChallengePurpose::Enrolment,
                now,
                expires,
            )
            .await,
        "a challenge for another tenant's user",
    );
    two.assert_no_new_events(&stores).await;
}
