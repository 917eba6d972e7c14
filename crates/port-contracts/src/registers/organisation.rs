//! `OrganisationRepository`: one profile per tenant, created at expected version 0,
//! replaced at the version read.

use aura_gdpr_registers::{Contact, CountryCode, JointController, OrganisationProfile, actions};
use aura_shared_kernel::{Conflict, StoreError, TimeZoneName};

use crate::{
    RegisterStores,
    fixtures::{REGISTER_EVENTS, assert_conflict, assert_not_found, one_winner},
    registers::{
        RegisterFixture, assert_chain, assert_last_event, events, now, reg_event, register,
    },
};

/// A complete profile: DPO, EU representative, a joint controller.
pub fn profile(legal_name: &str) -> OrganisationProfile {
    OrganisationProfile {
        legal_name: legal_name.to_owned(),
        address: Some("Hauptstraße 1\n10115 Berlin\nGermany".to_owned()),
        country: CountryCode::parse("country", "DE").ok(),
        time_zone: TimeZoneName::unchecked("Europe/Berlin"),
        contact_email: Some("privacy@acme.example".to_owned()),
        contact_phone: Some("+49 30 1234567".to_owned()),
        dpo: Some(Contact {
            name: "Dana Schmidt".to_owned(),
            email: Some("dpo@acme.example".to_owned()),
            phone: None,
            address: None,
        }),
        dpo_not_required_reason: None,
        eu_representative: None,
        joint_controllers: vec![JointController {
            contact: Contact {
                name: "Acme Holding SE".to_owned(),
                email: Some("legal@holding.example".to_owned()),
                phone: None,
                address: Some("Avenue Louise 1, 1050 Brussels".to_owned()),
            },
            responsibilities: Some("Group-wide HR information system".to_owned()),
        }],
    }
    .validated(&aura_adapter_holidays::IanaTimeZones::new())
    .expect("a complete profile is valid")
}

pub(crate) async fn put(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    profile: &OrganisationProfile,
    expected: i32,
) -> Result<i32, StoreError> {
    stores
        .organisation
        .put(
            rf.scope(),
            profile,
            expected,
            reg_event(rf, "organisation.updated", "organisation", rf.fx.tenant.id),
        )
        .await
}

pub async fn get_before_the_first_put_is_none(stores: RegisterStores) {
    let rf = register(&stores).await;
    let found = stores.organisation.get(rf.scope()).await.unwrap();
    assert_eq!(found, None, "no profile before the first put");
}

pub async fn put_creates_at_version_one_then_replaces(stores: RegisterStores) {
    let rf = register(&stores).await;
    let base = events(&stores, &rf).await;
    let before = now(&stores);

    let first = profile("Acme GmbH");
    let version = put(&stores, &rf, &first, 0).await.expect("create");
    assert_eq!(version, 1, "creating returns version 1");
    let stored = stores.organisation.get(rf.scope()).await.unwrap().unwrap();
    assert_eq!(stored.profile, first);
    assert_eq!(stored.version, 1);
    let stamped = stored.updated_at.expect("a stored profile has updated_at");
    assert!(
        before <= stamped && stamped <= now(&stores),
        "updated_at is the store's time"
    );
    assert_last_event(
        &stores,
        &rf,
        &actions::ORGANISATION_UPDATED,
        rf.fx.tenant.id,
    )
    .await;

    let mut second = profile("Acme Deutschland GmbH");
    second.dpo = None;
    second.dpo_not_required_reason = Some("Fewer than 20 people process personal data".into());
    let version = put(&stores, &rf, &second, 1).await.expect("replace");
    assert_eq!(version, 2, "replacing returns the next version");
    let stored = stores.organisation.get(rf.scope()).await.unwrap().unwrap();
    assert_eq!(stored.profile, second, "the profile is replaced as a whole");
    assert_eq!(stored.version, 2);

    let version = put(&stores, &rf, &second, 2).await.expect("replace again");
    assert_eq!(version, 3);
    assert_chain(&stores, rf.scope(), base + 3, "three puts").await;
}

pub async fn create_over_an_existing_profile_is_a_conflict(stores: RegisterStores) {
    let rf = register(&stores).await;
    put(&stores, &rf, &profile("Acme GmbH"), 0).await.unwrap();
    let base = events(&stores, &rf).await;

    let result = put(&stores, &rf, &profile("Intruder Ltd"), 0).await;
    assert_conflict(result, Conflict::Version, "a second create");
    let stored = stores.organisation.get(rf.scope()).await.unwrap().unwrap();
    assert_eq!(
        stored.profile.legal_name, "Acme GmbH",
        "the first profile stays"
    );
    assert_eq!(stored.version, 1);
    assert_chain(&stores, rf.scope(), base, "no event for a refused create").await;
}

pub async fn put_at_a_version_without_a_profile_is_not_found(stores: RegisterStores) {
    let rf = register(&stores).await;
    let base = events(&stores, &rf).await;
    assert_not_found(
        put(&stores, &rf, &profile("Acme GmbH"), 3).await,
        "replacing a profile that does not exist",
    );
    assert_eq!(stores.organisation.get(rf.scope()).await.unwrap(), None);
    assert_chain(&stores, rf.scope(), base, "no event").await;
}

pub async fn stale_put_loses_nothing(stores: RegisterStores) {
    let rf = register(&stores).await;
    put(&stores, &rf, &profile("Acme GmbH"), 0).await.unwrap();
    let winner = profile("Acme Winner GmbH");
    put(&stores, &rf, &winner, 1).await.unwrap();
    let base = events(&stores, &rf).await;

    let result = put(&stores, &rf, &profile("Acme Loser GmbH"), 1).await;
    assert_conflict(result, Conflict::Version, "a put at a stale version");
    let stored = stores.organisation.get(rf.scope()).await.unwrap().unwrap();
    assert_eq!(stored.profile, winner, "the winner's data stays");
    assert_eq!(stored.version, 2);
    assert_conflict(
        put(&stores, &rf, &profile("Acme Future GmbH"), 5).await,
        Conflict::Version,
        "a put at a version from the future",
    );
    assert_chain(&stores, rf.scope(), base, "no event for stale puts").await;
}

pub async fn concurrent_puts_have_one_winner(stores: RegisterStores) {
    let rf = register(&stores).await;
    put(&stores, &rf, &profile("Acme GmbH"), 0).await.unwrap();
    two_puts_at(&stores, &rf, 1, "the concurrent put that lost").await;
}

pub async fn concurrent_creates_have_one_winner(stores: RegisterStores) {
    let rf = register(&stores).await;
    two_puts_at(&stores, &rf, 0, "the concurrent create that lost").await;
}

/// Two puts of different profiles at `version` at once: exactly one wins, at the next
/// version, and its profile is stored with one event; the other is a version conflict.
async fn two_puts_at(stores: &RegisterStores, rf: &RegisterFixture, version: i32, lost: &str) {
    let base = events(stores, rf).await;
    let (a, b) = (profile("Acme Alpha GmbH"), profile("Acme Bravo GmbH"));

    let (ra, rb) = tokio::join!(put(stores, rf, &a, version), put(stores, rf, &b, version));
    let (winner, answered) = one_winner((a, ra), (b, rb), Conflict::Version, lost);
    assert_eq!(
        answered,
        version + 1,
        "the put that won answers the next version"
    );
    let stored = stores.organisation.get(rf.scope()).await.unwrap().unwrap();
    assert_eq!(stored.profile, winner, "the winner's profile is stored");
    assert_eq!(stored.version, version + 1);
    assert_chain(stores, rf.scope(), base + 1, "one event for one winner").await;
}

pub async fn tenants_have_separate_profiles(stores: RegisterStores) {
    let a = register(&stores).await;
    let b = register(&stores).await;
    put(&stores, &a, &profile("Acme GmbH"), 0).await.unwrap();
    put(&stores, &a, &profile("Acme GmbH & Co. KG"), 1)
        .await
        .unwrap();

    assert_eq!(
        stores.organisation.get(b.scope()).await.unwrap(),
        None,
        "B does not see A's profile"
    );
    assert_not_found(
        put(&stores, &b, &profile("Globex Ltd"), 2).await,
        "B cannot replace A's profile by naming its version",
    );
    let version = put(&stores, &b, &profile("Globex Ltd"), 0)
        .await
        .expect("B creates its own profile");
    assert_eq!(version, 1, "B's profile has its own versions");

    let stored_a = stores.organisation.get(a.scope()).await.unwrap().unwrap();
    assert_eq!(stored_a.profile.legal_name, "Acme GmbH & Co. KG");
    assert_eq!(stored_a.version, 2);
    let stored_b = stores.organisation.get(b.scope()).await.unwrap().unwrap();
    assert_eq!(stored_b.profile.legal_name, "Globex Ltd");
    assert_chain(
        &stores,
        a.scope(),
        REGISTER_EVENTS + 3,
        "A's chain (member, two puts)",
    )
    .await;
    assert_chain(
        &stores,
        b.scope(),
        REGISTER_EVENTS + 2,
        "B's chain (member, profile)",
    )
    .await;
}
