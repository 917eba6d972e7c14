//! Policies on the record kernel: their fixture (a draft privacy policy reviewed every
//! year) and the contracts only policies owe ([`PolicyVersions`]): numbered versions, the
//! publish flow (the previous published version retires, the policy is stored with it),
//! at most one published version per policy, the derived `current_version`, the versions
//! going with their policy, and the list filters. The contracts every kernel register
//! owes are in [`records`](super::records).

use aura_audit::{Actor, AuditAction, PendingEvent};
use aura_gdpr_registers::{
    Policies, Policy, PolicyFields, PolicyId, PolicyKind, PolicyStatus, PolicyVersion,
    VersionStatus, actions, entity, ports::PolicyVersions,
};
use aura_records::{Id, RecordKind, RecordStore};
use aura_shared_kernel::{Conflict, StoreError};
use time::{Duration, OffsetDateTime, macros::date};

use crate::{
    RegisterStores,
    fixtures::{assert_conflict, assert_not_found, event, one_winner},
    registers::{
        RegisterFixture, assert_any_conflict, assert_chain, assert_last_event, assert_untouched,
        events, now,
        records::{
            FilterCase, RecordFixture, assert_filters, edited, get, insert, list, new_record,
            query, update,
        },
        register,
    },
};

/// A draft privacy policy owned by the member, reviewed every 12 months.
pub fn policy_fields(rf: &RegisterFixture, title: &str) -> PolicyFields {
    PolicyFields {
        title: title.to_owned(),
        kind: PolicyKind::PrivacyPolicy,
        owner_id: Some(rf.member),
        review_interval_months: Some(12),
        next_review_date: None,
        status: PolicyStatus::Draft,
    }
    .validated()
    .expect("a policy is valid")
}

/// A new draft privacy policy (version 1), not stored.
pub fn new_policy(stores: &RegisterStores, rf: &RegisterFixture, title: &str) -> Policy {
    new_record(stores, rf, policy_fields(rf, title))
}

pub async fn insert_policy(stores: &RegisterStores, rf: &RegisterFixture, policy: &Policy) {
    insert(stores, rf, policy).await;
}

pub async fn add_policy(stores: &RegisterStores, rf: &RegisterFixture, title: &str) -> Policy {
    let policy = new_policy(stores, rf, title);
    insert(stores, rf, &policy).await;
    policy
}

impl RecordFixture for Policies {
    /// A policy links to nothing but its owner (a member of the fixture's tenant).
    type Links = ();

    fn store(stores: &RegisterStores) -> &dyn RecordStore<Self> {
        stores.policies.as_ref()
    }

    async fn links(_: &RegisterStores, _: &RegisterFixture) {}

    fn fields(rf: &RegisterFixture, name: &str, _: &()) -> PolicyFields {
        policy_fields(rf, name)
    }

    /// An active retention policy with a fixed review date, no owner and no interval.
    fn vary(f: &mut PolicyFields) {
        f.kind = PolicyKind::RetentionPolicy;
        f.status = PolicyStatus::Active;
        f.owner_id = None;
        f.review_interval_months = None;
        f.next_review_date = Some(date!(2027 - 03 - 01));
    }

    fn edit(f: &mut PolicyFields) {
        f.kind = PolicyKind::DataProtectionPolicy;
        f.review_interval_months = Some(24);
        f.next_review_date = Some(date!(2028 - 01 - 31));
        f.status = PolicyStatus::Active;
    }

    fn rename(f: &mut PolicyFields, name: &str) {
        f.title = name.to_owned();
    }
}

/// A draft version `number` of `policy` with Markdown content, not stored.
pub fn new_version(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    policy: &Policy,
    number: i32,
) -> PolicyVersion {
    PolicyVersion {
        id: Id::generate(),
        tenant_id: rf.fx.tenant.id,
        policy_id: policy.id,
        number,
        content: PolicyVersion::validate_content(&format!(
            "# {}\n\n## Who we are\n\nVersion {number}.\n\n## Your rights\n\n\
             You may ask for access, rectification and erasure (Art. 15–17 GDPR).\n",
            policy.fields.title
        ))
        .expect("valid content"),
        status: VersionStatus::Draft,
        change_note: Some(format!("Draft {number}")),
        created_by: Some(rf.owner()),
        created_at: now(stores),
        published_by: None,
        published_at: None,
        retired_at: None,
        version: 1,
    }
}

/// An event of a write to `version`, acted by the tenant's owner.
fn version_event(
    rf: &RegisterFixture,
    action: &AuditAction,
    version: &PolicyVersion,
) -> PendingEvent {
    event(
        Actor::User(rf.owner()),
        action.clone(),
        entity::POLICY_VERSION,
        version.id,
    )
}

fn version_store(stores: &RegisterStores) -> &dyn PolicyVersions {
    stores.policy_versions.as_ref()
}

/// Inserts `version` with its creation event.
async fn try_insert_version(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    version: &PolicyVersion,
) -> Result<(), StoreError> {
    let event = version_event(rf, &actions::POLICY_VERSION_CREATED, version);
    version_store(stores)
        .insert_version(rf.scope(), version, event)
        .await
}

/// Stores the next version of `policy` (a draft) and returns it.
pub async fn add_version(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    policy: &Policy,
    number: i32,
) -> PolicyVersion {
    let version = new_version(stores, rf, policy, number);
    try_insert_version(stores, rf, &version)
        .await
        .expect("insert the next version");
    version
}

async fn delete(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    id: PolicyId,
    expected: i32,
) -> Result<(), StoreError> {
    super::records::delete::<Policies>(stores, rf, id, expected).await
}

async fn get_version(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    policy: PolicyId,
    number: i32,
) -> PolicyVersion {
    version_store(stores)
        .get_version(rf.scope(), policy, number)
        .await
        .expect("the version is stored")
}

async fn versions(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    policy: PolicyId,
) -> Vec<PolicyVersion> {
    version_store(stores)
        .list_versions(rf.scope(), policy)
        .await
        .expect("list versions")
}

async fn update_version(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    version: &PolicyVersion,
    expected: i32,
    policy: Option<&Policy>,
) -> Result<(), StoreError> {
    let event = version_event(rf, &actions::POLICY_VERSION_UPDATED, version);
    version_store(stores)
        .update_version(rf.scope(), version, expected, policy, event)
        .await
}

/// `version` moved to `status` (its row version incremented).
fn moved(version: &PolicyVersion, status: VersionStatus) -> PolicyVersion {
    assert!(
        version.can_move_to(status),
        "a transition the domain allows"
    );
    PolicyVersion {
        status,
        version: version.version + 1,
        ..version.clone()
    }
}

/// `version` (in review) published by the owner at `at`.
fn published(rf: &RegisterFixture, version: &PolicyVersion, at: OffsetDateTime) -> PolicyVersion {
    PolicyVersion {
        published_by: Some(rf.owner()),
        published_at: Some(at),
        ..moved(version, VersionStatus::Published)
    }
}

/// The policy as publishing version `number` stores it.
fn policy_for(stores: &RegisterStores, policy: &Policy, number: i32) -> Policy {
    let mut next = edited(stores, policy, |f| {
        f.status = PolicyStatus::Active;
        f.next_review_date = Some(now(stores).date() + Duration::days(365));
    });
    next.derived.current_version = Some(number);
    next
}

/// Takes a stored draft through review; returns it in review.
async fn to_review(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    draft: &PolicyVersion,
) -> PolicyVersion {
    let in_review = moved(draft, VersionStatus::InReview);
    update_version(stores, rf, &in_review, draft.version, None)
        .await
        .expect("draft to review");
    in_review
}

/// Publishes `in_review` with the policy; returns both as stored.
async fn publish(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    policy: &Policy,
    in_review: &PolicyVersion,
) -> (Policy, PolicyVersion) {
    let version = published(rf, in_review, now(stores));
    let policy = policy_for(stores, policy, version.number);
    update_version(stores, rf, &version, in_review.version, Some(&policy))
        .await
        .expect("publish");
    (policy, version)
}

/// A stored "Privacy Policy" with its version 1, a draft.
async fn policy_with_draft(
    stores: &RegisterStores,
    rf: &RegisterFixture,
) -> (Policy, PolicyVersion) {
    let policy = add_policy(stores, rf, "Privacy Policy").await;
    let v1 = add_version(stores, rf, &policy, 1).await;
    (policy, v1)
}

/// A stored policy whose version 1 is published and version 2 in review: the policy as
/// the publication stored it, v1 published, v2 in review.
async fn published_and_in_review(
    stores: &RegisterStores,
    rf: &RegisterFixture,
) -> (Policy, PolicyVersion, PolicyVersion) {
    let (policy, v1) = policy_with_draft(stores, rf).await;
    let (policy_1, v1_published) =
        publish(stores, rf, &policy, &to_review(stores, rf, &v1).await).await;
    let v2 = add_version(stores, rf, &policy_1, 2).await;
    let review_2 = to_review(stores, rf, &v2).await;
    (policy_1, v1_published, review_2)
}

fn published_numbers(versions: &[PolicyVersion]) -> Vec<i32> {
    versions
        .iter()
        .filter(|v| v.status == VersionStatus::Published)
        .map(|v| v.number)
        .collect()
}

pub async fn delete_removes_the_versions(stores: RegisterStores) {
    let rf = register(&stores).await;
    let policy = add_policy(&stores, &rf, "Privacy Policy").await;
    let other = add_policy(&stores, &rf, "Breach Response Plan").await;
    let v1 = add_version(&stores, &rf, &policy, 1).await;
    let in_review = to_review(&stores, &rf, &v1).await;
    let (policy, _) = publish(&stores, &rf, &policy, &in_review).await;
    add_version(&stores, &rf, &policy, 2).await;
    let kept = add_version(&stores, &rf, &other, 1).await;
    let base = events(&stores, &rf).await;

    delete(&stores, &rf, policy.id, policy.version)
        .await
        .expect("a policy with a published version can be deleted");
    assert_not_found(
        stores.policies.get(rf.scope(), policy.id).await,
        "the policy",
    );
    for number in [1, 2] {
        assert_not_found(
            version_store(&stores)
                .get_version(rf.scope(), policy.id, number)
                .await,
            "its versions",
        );
    }
    assert_eq!(
        versions(&stores, &rf, other.id).await,
        [kept],
        "other policies keep theirs"
    );
    assert_chain(&stores, rf.scope(), base + 1, "one event for the delete").await;
}

pub async fn versions_are_numbered_in_sequence(stores: RegisterStores) {
    let rf = register(&stores).await;
    let policy = add_policy(&stores, &rf, "Privacy Policy").await;
    let base = events(&stores, &rf).await;

    for number in [0, 2, -1] {
        assert_conflict(
            try_insert_version(&stores, &rf, &new_version(&stores, &rf, &policy, number)).await,
            Conflict::VersionNumberTaken,
            &format!("version {number} of a policy without versions"),
        );
    }
    let v1 = add_version(&stores, &rf, &policy, 1).await;
    assert_eq!(
        get_version(&stores, &rf, policy.id, 1).await,
        v1,
        "reads back unchanged"
    );
    assert_last_event(&stores, &rf, &actions::POLICY_VERSION_CREATED, v1.id).await;
    for number in [1, 3] {
        assert_conflict(
            try_insert_version(&stores, &rf, &new_version(&stores, &rf, &policy, number)).await,
            Conflict::VersionNumberTaken,
            &format!("version {number} after 1"),
        );
    }
    let v2 = add_version(&stores, &rf, &policy, 2).await;
    let v3 = add_version(&stores, &rf, &policy, 3).await;
    assert_eq!(
        versions(&stores, &rf, policy.id).await,
        [v3, v2, v1.clone()],
        "list_versions is newest first"
    );
    assert_eq!(get_version(&stores, &rf, policy.id, 1).await, v1);
    assert_not_found(
        version_store(&stores)
            .get_version(rf.scope(), policy.id, 4)
            .await,
        "a version that does not exist",
    );
    assert_chain(
        &stores,
        rf.scope(),
        base + 3,
        "one event per inserted version",
    )
    .await;

    // Numbers are per policy.
    let other = add_policy(&stores, &rf, "Retention Policy").await;
    add_version(&stores, &rf, &other, 1).await;
}

pub async fn versions_of_a_missing_or_foreign_policy_are_not_found(stores: RegisterStores) {
    let a = register(&stores).await;
    let b = register(&stores).await;
    let policy = add_policy(&stores, &a, "Privacy Policy").await;
    let v1 = add_version(&stores, &a, &policy, 1).await;
    let b_events = events(&stores, &b).await;
    let ghost = new_policy(&stores, &a, "Ghost");

    assert_not_found(
        try_insert_version(&stores, &a, &new_version(&stores, &a, &ghost, 1)).await,
        "a version of a policy that does not exist",
    );
    let mut claimed = new_version(&stores, &b, &policy, 2);
    claimed.tenant_id = b.fx.tenant.id;
    assert_not_found(
        try_insert_version(&stores, &b, &claimed).await,
        "B adding a version to A's policy",
    );
    assert_not_found(
        version_store(&stores)
            .get_version(b.scope(), policy.id, 1)
            .await,
        "B reading A's version",
    );
    assert!(
        versions(&stores, &b, policy.id).await.is_empty(),
        "B listing A's versions sees none"
    );
    assert!(
        versions(&stores, &a, ghost.id).await.is_empty(),
        "a policy that does not exist has no versions"
    );
    let in_review = moved(&v1, VersionStatus::InReview);
    assert_not_found(
        update_version(&stores, &b, &in_review, 1, None).await,
        "B changing A's version",
    );
    let mut relabelled = in_review.clone();
    relabelled.tenant_id = b.fx.tenant.id;
    assert_not_found(
        update_version(&stores, &b, &relabelled, 1, None).await,
        "B changing A's version under its own tenant id",
    );
    assert_eq!(
        versions(&stores, &a, policy.id).await,
        [v1],
        "A's versions unchanged"
    );
    assert_untouched(&stores, &[(&b, b_events)]).await;
}

pub async fn publishing_retires_the_previous_version(stores: RegisterStores) {
    let rf = register(&stores).await;
    let policy = add_policy(&stores, &rf, "Privacy Policy").await;
    let base = events(&stores, &rf).await;

    // v1: draft → in review → back to draft → in review → published.
    let v1 = add_version(&stores, &rf, &policy, 1).await;
    let review = to_review(&stores, &rf, &v1).await;
    let back = moved(&review, VersionStatus::Draft);
    let back = PolicyVersion {
        content: format!("{}\nRevised after review.\n", back.content),
        ..back
    };
    update_version(&stores, &rf, &back, review.version, None)
        .await
        .expect("back to draft with new content");
    assert_eq!(get_version(&stores, &rf, policy.id, 1).await, back);
    let review = to_review(&stores, &rf, &back).await;
    assert_eq!(
        get(&stores, &rf, policy.id).await.derived.current_version,
        None,
        "nothing published"
    );

    let (policy_1, v1_published) = publish(&stores, &rf, &policy, &review).await;
    assert_eq!(get_version(&stores, &rf, policy.id, 1).await, v1_published);
    let stored = get(&stores, &rf, policy.id).await;
    assert_eq!(
        stored, policy_1,
        "the policy is stored with the publication"
    );
    assert_eq!(
        stored.derived.current_version,
        Some(1),
        "current_version is the published number"
    );

    // v2 published later retires v1 at v2's publication time.
    let v2 = add_version(&stores, &rf, &policy_1, 2).await;
    let review_2 = to_review(&stores, &rf, &v2).await;
    let (policy_2, v2_published) = publish(&stores, &rf, &policy_1, &review_2).await;
    let stored = get(&stores, &rf, policy.id).await;
    assert_eq!(stored, policy_2);
    assert_eq!(stored.derived.current_version, Some(2));
    assert_eq!(
        stored.version, 3,
        "the policy's own version moved with each publication"
    );
    let listed = versions(&stores, &rf, policy.id).await;
    assert_eq!(listed[0], v2_published, "v2 is stored as published");
    let retired = &listed[1];
    assert_eq!(retired.number, 1);
    assert_eq!(retired.status, VersionStatus::Retired, "v1 is retired");
    assert_eq!(
        retired.retired_at, v2_published.published_at,
        "retired when v2 was published"
    );
    assert_eq!(retired.content, v1_published.content, "its text is kept");
    assert_eq!(
        retired.version,
        v1_published.version + 1,
        "retiring is a change of the row"
    );
    assert_eq!(retired.published_at, v1_published.published_at);
    assert_eq!(published_numbers(&listed), [2], "one published version");

    // The list shows the derived current version too.
    let page = list::<Policies>(&stores, &rf, query::<Policies>()).await;
    assert_eq!(page.items, [policy_2]);
    // v1 (draft), review, draft, review, publish; v2, review, publish.
    assert_chain(&stores, rf.scope(), base + 8, "one event per version write").await;
}

pub async fn publishing_with_a_stale_policy_changes_nothing(stores: RegisterStores) {
    let rf = register(&stores).await;
    let (policy_1, v1_published, review_2) = published_and_in_review(&stores, &rf).await;
    let policy = &policy_1;
    // Someone else changes the policy meanwhile.
    let renamed = edited(&stores, &policy_1, |f| f.title = "Privacy Notice".into());
    update(&stores, &rf, &renamed, policy_1.version)
        .await
        .unwrap();
    let base = events(&stores, &rf).await;

    let version = published(&rf, &review_2, now(&stores));
    let stale_policy = policy_for(&stores, &policy_1, 2);
    assert_conflict(
        update_version(
            &stores,
            &rf,
            &version,
            review_2.version,
            Some(&stale_policy),
        )
        .await,
        Conflict::Version,
        "publishing with a policy read before the rename",
    );
    assert_eq!(
        get(&stores, &rf, policy.id).await,
        renamed,
        "the policy keeps the rename"
    );
    assert_eq!(
        get_version(&stores, &rf, policy.id, 2).await,
        review_2,
        "v2 still in review"
    );
    assert_eq!(
        get_version(&stores, &rf, policy.id, 1).await,
        v1_published,
        "v1 still published"
    );
    assert_chain(
        &stores,
        rf.scope(),
        base,
        "no event for the refused publication",
    )
    .await;

    let (fresh, _) = publish(&stores, &rf, &renamed, &review_2).await;
    assert_eq!(get(&stores, &rf, policy.id).await, fresh);
    assert_eq!(fresh.fields.title, "Privacy Notice");
}

pub async fn stale_version_update_loses_nothing(stores: RegisterStores) {
    let rf = register(&stores).await;
    let (policy, v1) = policy_with_draft(&stores, &rf).await;
    let winner = PolicyVersion {
        content: "# Privacy Policy\n\nThe winner's text.\n".into(),
        version: 2,
        ..v1.clone()
    };
    update_version(&stores, &rf, &winner, 1, None)
        .await
        .unwrap();
    assert_last_event(&stores, &rf, &actions::POLICY_VERSION_UPDATED, v1.id).await;
    let base = events(&stores, &rf).await;

    let loser = PolicyVersion {
        content: "# Privacy Policy\n\nThe loser's text.\n".into(),
        version: 2,
        ..v1.clone()
    };
    assert_conflict(
        update_version(&stores, &rf, &loser, 1, None).await,
        Conflict::Version,
        "a version update at a stale version",
    );
    assert_eq!(get_version(&stores, &rf, policy.id, 1).await, winner);
    let mut ghost = new_version(&stores, &rf, &policy, 2);
    ghost.version = 2;
    assert_not_found(
        update_version(&stores, &rf, &ghost, 1, None).await,
        "updating a version that does not exist",
    );
    let impostor = PolicyVersion {
        id: Id::generate(),
        ..winner.clone()
    };
    assert_not_found(
        update_version(&stores, &rf, &impostor, 2, None).await,
        "updating version 1 under another id",
    );
    assert_chain(
        &stores,
        rf.scope(),
        base,
        "no event for refused version updates",
    )
    .await;
}

pub async fn concurrent_version_updates_have_one_winner(stores: RegisterStores) {
    let rf = register(&stores).await;
    let (policy, v1) = policy_with_draft(&stores, &rf).await;
    let base = events(&stores, &rf).await;
    let a = PolicyVersion {
        content: "# A\n".into(),
        version: 2,
        ..v1.clone()
    };
    let b = moved(&v1, VersionStatus::InReview);

    let (ra, rb) = tokio::join!(
        update_version(&stores, &rf, &a, 1, None),
        update_version(&stores, &rf, &b, 1, None)
    );
    let (winner, ()) = one_winner(
        (a, ra),
        (b, rb),
        Conflict::Version,
        "the concurrent version update that lost",
    );
    assert_eq!(get_version(&stores, &rf, policy.id, 1).await, winner);
    assert_chain(&stores, rf.scope(), base + 1, "one event for one winner").await;
}

pub async fn concurrent_publications_leave_one_published(stores: RegisterStores) {
    let rf = register(&stores).await;
    let (policy, v1) = policy_with_draft(&stores, &rf).await;
    let (policy_1, _) = publish(&stores, &rf, &policy, &to_review(&stores, &rf, &v1).await).await;
    let v2 = add_version(&stores, &rf, &policy_1, 2).await;
    let v3 = add_version(&stores, &rf, &policy_1, 3).await;
    let review_2 = to_review(&stores, &rf, &v2).await;
    let review_3 = to_review(&stores, &rf, &v3).await;
    let base = events(&stores, &rf).await;

    let at = now(&stores);
    let (pub_2, pol_2) = (
        published(&rf, &review_2, at),
        policy_for(&stores, &policy_1, 2),
    );
    let (pub_3, pol_3) = (
        published(&rf, &review_3, at),
        policy_for(&stores, &policy_1, 3),
    );
    let (r2, r3) = tokio::join!(
        update_version(&stores, &rf, &pub_2, review_2.version, Some(&pol_2)),
        update_version(&stores, &rf, &pub_3, review_3.version, Some(&pol_3)),
    );
    let ((winner, loser_review), ()) = one_winner(
        ((2, review_3), r2),
        ((3, review_2), r3),
        Conflict::Version,
        "the publication that lost (the policy moved on)",
    );

    let listed = versions(&stores, &rf, policy.id).await;
    assert_eq!(
        published_numbers(&listed),
        [winner],
        "exactly one published version"
    );
    assert_eq!(
        get(&stores, &rf, policy.id).await.derived.current_version,
        Some(winner)
    );
    assert_eq!(
        get_version(&stores, &rf, policy.id, loser_review.number).await,
        loser_review,
        "the loser is still in review"
    );
    let v1_now = get_version(&stores, &rf, policy.id, 1).await;
    assert_eq!(v1_now.status, VersionStatus::Retired);
    assert_chain(&stores, rf.scope(), base + 1, "one event for one winner").await;
}

pub async fn at_most_one_version_is_published(stores: RegisterStores) {
    let rf = register(&stores).await;
    let (policy_1, v1_published, review_2) = published_and_in_review(&stores, &rf).await;
    let policy = &policy_1;
    let base = events(&stores, &rf).await;

    // A version cannot be inserted as published beside a published one.
    let mut born_published = new_version(&stores, &rf, &policy_1, 3);
    born_published.status = VersionStatus::Published;
    born_published.published_at = Some(now(&stores));
    born_published.published_by = Some(rf.owner());
    assert_any_conflict(
        try_insert_version(&stores, &rf, &born_published).await,
        "inserting a second published version",
    );
    let listed = versions(&stores, &rf, policy.id).await;
    assert_eq!(listed, [review_2.clone(), v1_published], "nothing changed");
    assert_chain(&stores, rf.scope(), base, "no event for the refused insert").await;

    // Publishing retires the published version even when the policy is not stored.
    let at = now(&stores) + Duration::minutes(5);
    let version = published(&rf, &review_2, at);
    update_version(&stores, &rf, &version, review_2.version, None)
        .await
        .expect("publish v2 without storing the policy");
    let listed = versions(&stores, &rf, policy.id).await;
    assert_eq!(
        published_numbers(&listed),
        [2],
        "exactly one published version"
    );
    assert_eq!(listed[0], version);
    assert_eq!(listed[1].status, VersionStatus::Retired, "v1 retired");
    assert_eq!(listed[1].retired_at, Some(at), "at v2's publication time");
    assert_chain(
        &stores,
        rf.scope(),
        base + 1,
        "one event for the publication",
    )
    .await;
}

pub async fn current_version_follows_the_published_version(stores: RegisterStores) {
    let rf = register(&stores).await;
    let (policy, v1) = policy_with_draft(&stores, &rf).await;
    assert_eq!(
        get(&stores, &rf, policy.id).await.derived.current_version,
        None,
        "a draft only"
    );
    let (policy_1, _) = publish(&stores, &rf, &policy, &to_review(&stores, &rf, &v1).await).await;
    assert_eq!(
        get(&stores, &rf, policy.id).await.derived.current_version,
        Some(1)
    );

    // Published without the policy: the number still follows the published version.
    let v2 = add_version(&stores, &rf, &policy_1, 2).await;
    let review_2 = to_review(&stores, &rf, &v2).await;
    let v2_published = published(&rf, &review_2, now(&stores));
    update_version(&stores, &rf, &v2_published, review_2.version, None)
        .await
        .expect("publish v2");
    let stored = get(&stores, &rf, policy.id).await;
    assert_eq!(stored.derived.current_version, Some(2));
    assert_eq!(
        stored.version, policy_1.version,
        "the policy row itself did not change"
    );
    let listed = list::<Policies>(&stores, &rf, query::<Policies>()).await;
    assert_eq!(
        listed.items[0].derived.current_version,
        Some(2),
        "lists agree"
    );

    // Retiring the published version leaves none current.
    let retired = PolicyVersion {
        retired_at: Some(now(&stores)),
        ..moved(&v2_published, VersionStatus::Retired)
    };
    update_version(&stores, &rf, &retired, v2_published.version, None)
        .await
        .expect("retire the published version");
    assert_eq!(
        get(&stores, &rf, policy.id).await.derived.current_version,
        None
    );
    assert!(published_numbers(&versions(&stores, &rf, policy.id).await).is_empty());
}

pub async fn list_filters(stores: RegisterStores) {
    let rf = register(&stores).await;
    let privacy = add_policy(&stores, &rf, "Website Privacy Policy").await;
    let mut retention = new_policy(&stores, &rf, "Retention Schedule");
    retention.fields.kind = PolicyKind::RetentionPolicy;
    retention.fields.status = PolicyStatus::Active;
    retention.fields.owner_id = Some(rf.owner());
    insert_policy(&stores, &rf, &retention).await;
    let mut staff = new_policy(&stores, &rf, "Staff PRIVACY notice");
    staff.fields.status = PolicyStatus::Retired;
    staff.fields.owner_id = None;
    insert_policy(&stores, &rf, &staff).await;

    let cases: &[FilterCase<Policies>] = &[
        (&|_| {}, &[&privacy, &retention, &staff], "no filter"),
        (
            &|f| f.kind = Some(PolicyKind::PrivacyPolicy),
            &[&privacy, &staff],
            "kind",
        ),
        (
            &|f| f.status = Some(PolicyStatus::Active),
            &[&retention],
            "status",
        ),
        (&|f| f.owner = Some(rf.member), &[&privacy], "owner"),
        (
            &|f| f.search = Some("privacy".into()),
            &[&privacy, &staff],
            "search is a case-insensitive substring of the title",
        ),
        (
            &|f| {
                f.search = Some("Privacy".into());
                f.status = Some(PolicyStatus::Retired);
                f.kind = Some(PolicyKind::PrivacyPolicy);
            },
            &[&staff],
            "filters combine",
        ),
        (
            &|f| f.kind = Some(PolicyKind::BreachResponsePlan),
            &[],
            "a kind no policy has",
        ),
    ];
    assert_filters(&stores, &rf, cases).await;
}

pub async fn version_writes_keep_a_valid_chain(stores: RegisterStores) {
    let rf = register(&stores).await;
    let mut expected = events(&stores, &rf).await;
    let (policy, v1) = policy_with_draft(&stores, &rf).await;
    let review = to_review(&stores, &rf, &v1).await;
    let (policy_1, _) = publish(&stores, &rf, &policy, &review).await;
    let renamed = edited(&stores, &policy_1, |f| f.title = "Privacy Notice".into());
    update(&stores, &rf, &renamed, policy_1.version)
        .await
        .unwrap();
    expected += 5;
    assert!(
        update(&stores, &rf, &renamed, policy_1.version)
            .await
            .is_err()
    );
    assert!(
        try_insert_version(&stores, &rf, &new_version(&stores, &rf, &policy, 5))
            .await
            .is_err()
    );
    delete(&stores, &rf, policy.id, renamed.version)
        .await
        .unwrap();
    expected += 1;

    let records = assert_chain(&stores, rf.scope(), expected, "policy writes").await;
    let written: Vec<&str> = records[records.len() - 6..]
        .iter()
        .map(|r| r.action.as_str())
        .collect();
    assert_eq!(
        written,
        [
            &Policies::ACTIONS.created,
            &actions::POLICY_VERSION_CREATED,
            &actions::POLICY_VERSION_UPDATED,
            &actions::POLICY_VERSION_UPDATED,
            &Policies::ACTIONS.updated,
            &Policies::ACTIONS.deleted,
        ]
        .map(|a| a.as_str())
    );
}
