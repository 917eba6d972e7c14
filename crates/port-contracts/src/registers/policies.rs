//! `PolicyRepository`: policies with optimistic versions, their numbered versions, the
//! publish flow (the previous published version retires, the policy is stored with it)
//! and the rule of at most one published version per policy.

use aura_gdpr_registers::{
    Policy, PolicyKind, PolicyStatus, PolicyVersion, VersionStatus,
    ports::{Cursor, ListPage, PolicyQuery, Sort},
};
use aura_tenancy::{Conflict, StoreError};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{
    RegisterStores,
    fixtures::{REGISTER_EVENTS, assert_conflict, assert_not_found},
    registers::{
        LIST_NAMES, RegisterFixture, add_policy, add_version, assert_any_conflict, assert_chain,
        assert_last_event, assert_pages_in_every_sort, events, insert_policy, list_updated_at,
        new_policy, new_version, now, reg_event, register,
    },
};

async fn update(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    policy: &Policy,
    expected: i32,
) -> Result<(), StoreError> {
    stores
        .policies
        .update(
            rf.scope(),
            policy,
            expected,
            reg_event(rf, "policy.updated", "policy", policy.id),
        )
        .await
}

async fn delete(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    id: Uuid,
    expected: i32,
) -> Result<(), StoreError> {
    stores
        .policies
        .delete(
            rf.scope(),
            id,
            expected,
            reg_event(rf, "policy.deleted", "policy", id),
        )
        .await
}

async fn get(stores: &RegisterStores, rf: &RegisterFixture, id: Uuid) -> Policy {
    stores
        .policies
        .get(rf.scope(), id)
        .await
        .expect("the policy is stored")
}

async fn get_version(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    policy: Uuid,
    number: i32,
) -> PolicyVersion {
    stores
        .policies
        .get_version(rf.scope(), policy, number)
        .await
        .expect("the version is stored")
}

async fn versions(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    policy: Uuid,
) -> Vec<PolicyVersion> {
    stores
        .policies
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
    stores
        .policies
        .update_version(
            rf.scope(),
            version,
            expected,
            policy,
            reg_event(rf, "policy.version_updated", "policy_version", version.id),
        )
        .await
}

async fn list(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    query: PolicyQuery,
) -> ListPage<Policy> {
    stores
        .policies
        .list(rf.scope(), &query)
        .await
        .expect("list policies")
}

fn query() -> PolicyQuery {
    PolicyQuery {
        limit: 100,
        ..PolicyQuery::default()
    }
}

async fn ids(stores: &RegisterStores, rf: &RegisterFixture, query: PolicyQuery) -> Vec<Uuid> {
    let page = list(stores, rf, query).await;
    assert_eq!(page.next, None, "the filtered list fits one page");
    let mut ids: Vec<Uuid> = page.items.iter().map(|p| p.id).collect();
    ids.sort();
    ids
}

fn sorted_ids(policies: &[&Policy]) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = policies.iter().map(|p| p.id).collect();
    ids.sort();
    ids
}

/// The next version of the policy row as the domain builds it.
fn edited_policy(
    stores: &RegisterStores,
    policy: &Policy,
    edit: impl FnOnce(&mut Policy),
) -> Policy {
    let mut next = policy.clone();
    edit(&mut next);
    next.version += 1;
    next.updated_at = now(stores);
    next
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
    edited_policy(stores, policy, |p| {
        p.current_version = Some(number);
        p.fields.status = PolicyStatus::Active;
        p.fields.next_review_date = Some(now(stores).date() + Duration::days(365));
    })
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

fn published_numbers(versions: &[PolicyVersion]) -> Vec<i32> {
    versions
        .iter()
        .filter(|v| v.status == VersionStatus::Published)
        .map(|v| v.number)
        .collect()
}

pub async fn insert_then_get_has_no_current_version(stores: RegisterStores) {
    let rf = register(&stores).await;
    let base = events(&stores, &rf).await;
    let policy = add_policy(&stores, &rf, "Privacy Policy").await;
    assert_eq!(
        get(&stores, &rf, policy.id).await,
        policy,
        "reads back unchanged"
    );
    assert_eq!(get(&stores, &rf, policy.id).await.current_version, None);
    assert_last_event(&stores, &rf, "policy.created", policy.id).await;
    assert!(versions(&stores, &rf, policy.id).await.is_empty());

    let mut twin = new_policy(&stores, &rf, "Twin");
    twin.id = policy.id;
    assert_any_conflict(
        stores
            .policies
            .insert(
                rf.scope(),
                &twin,
                reg_event(&rf, "policy.created", "policy", twin.id),
            )
            .await,
        "inserting an id that is taken",
    );
    assert_eq!(get(&stores, &rf, policy.id).await, policy);
    assert_chain(&stores, rf.scope(), base + 1, "one event per insert").await;
}

pub async fn update_and_delete_check_the_version(stores: RegisterStores) {
    let rf = register(&stores).await;
    let policy = add_policy(&stores, &rf, "Retention Policy").await;
    let winner = edited_policy(&stores, &policy, |p| {
        p.fields.kind = PolicyKind::RetentionPolicy;
        p.fields.review_interval_months = Some(24);
    });
    update(&stores, &rf, &winner, 1).await.expect("update at 1");
    assert_eq!(get(&stores, &rf, policy.id).await, winner);
    assert_last_event(&stores, &rf, "policy.updated", policy.id).await;
    let base = events(&stores, &rf).await;

    let loser = edited_policy(&stores, &policy, |p| p.fields.title = "Loser".into());
    assert_conflict(
        update(&stores, &rf, &loser, 1).await,
        Conflict::Version,
        "stale update",
    );
    assert_conflict(
        delete(&stores, &rf, policy.id, 1).await,
        Conflict::Version,
        "stale delete",
    );
    assert_eq!(
        get(&stores, &rf, policy.id).await,
        winner,
        "the winner's data stays"
    );
    assert_not_found(
        update(&stores, &rf, &new_policy(&stores, &rf, "Ghost"), 1).await,
        "updating a policy that does not exist",
    );
    assert_not_found(
        delete(&stores, &rf, Uuid::now_v7(), 1).await,
        "deleting a policy that does not exist",
    );
    assert_chain(&stores, rf.scope(), base, "no event for refused writes").await;

    delete(&stores, &rf, policy.id, 2)
        .await
        .expect("delete at 2");
    assert_last_event(&stores, &rf, "policy.deleted", policy.id).await;
    assert_not_found(stores.policies.get(rf.scope(), policy.id).await, "deleted");
    assert_chain(&stores, rf.scope(), base + 1, "one event for the delete").await;
}

pub async fn concurrent_updates_have_one_winner(stores: RegisterStores) {
    let rf = register(&stores).await;
    let policy = add_policy(&stores, &rf, "Privacy Policy").await;
    let base = events(&stores, &rf).await;
    let a = edited_policy(&stores, &policy, |p| {
        p.fields.title = "Privacy Policy A".into()
    });
    let b = edited_policy(&stores, &policy, |p| {
        p.fields.title = "Privacy Policy B".into()
    });

    let (ra, rb) = tokio::join!(update(&stores, &rf, &a, 1), update(&stores, &rf, &b, 1));
    let (winner, loser) = match (ra, rb) {
        (Ok(()), loser) => (a, loser),
        (loser, Ok(())) => (b, loser),
        (ra, rb) => panic!("exactly one update must win: {ra:?} / {rb:?}"),
    };
    assert_conflict(loser, Conflict::Version, "the concurrent update that lost");
    assert_eq!(get(&stores, &rf, policy.id).await, winner);
    assert_chain(&stores, rf.scope(), base + 1, "one event for one winner").await;
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
            stores
                .policies
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
            stores
                .policies
                .insert_version(
                    rf.scope(),
                    &new_version(&stores, &rf, &policy, number),
                    reg_event(&rf, "policy.version_created", "policy_version", number),
                )
                .await,
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
    assert_last_event(&stores, &rf, "policy.version_created", v1.id).await;
    for number in [1, 3] {
        assert_conflict(
            stores
                .policies
                .insert_version(
                    rf.scope(),
                    &new_version(&stores, &rf, &policy, number),
                    reg_event(&rf, "policy.version_created", "policy_version", number),
                )
                .await,
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
        stores.policies.get_version(rf.scope(), policy.id, 4).await,
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
        stores
            .policies
            .insert_version(
                a.scope(),
                &new_version(&stores, &a, &ghost, 1),
                reg_event(&a, "policy.version_created", "policy_version", 1),
            )
            .await,
        "a version of a policy that does not exist",
    );
    let mut claimed = new_version(&stores, &b, &policy, 2);
    claimed.tenant_id = b.fx.tenant.id;
    assert_not_found(
        stores
            .policies
            .insert_version(
                b.scope(),
                &claimed,
                reg_event(&b, "policy.version_created", "policy_version", 2),
            )
            .await,
        "B adding a version to A's policy",
    );
    assert_not_found(
        stores.policies.get_version(b.scope(), policy.id, 1).await,
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
    assert_chain(
        &stores,
        b.scope(),
        b_events,
        "no event for B's refused writes",
    )
    .await;
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
        get(&stores, &rf, policy.id).await.current_version,
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
        stored.current_version,
        Some(1),
        "current_version is the published number"
    );

    // v2 published later retires v1 at v2's publication time.
    let v2 = add_version(&stores, &rf, &policy_1, 2).await;
    let review_2 = to_review(&stores, &rf, &v2).await;
    let (policy_2, v2_published) = publish(&stores, &rf, &policy_1, &review_2).await;
    let stored = get(&stores, &rf, policy.id).await;
    assert_eq!(stored, policy_2);
    assert_eq!(stored.current_version, Some(2));
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
    assert_eq!(retired.published_at, v1_published.published_at);
    assert_eq!(published_numbers(&listed), [2], "one published version");

    // The list shows the derived current version too.
    let page = list(&stores, &rf, query()).await;
    assert_eq!(page.items, [policy_2]);
    // v1 (draft), review, draft, review, publish; v2, review, publish.
    assert_chain(&stores, rf.scope(), base + 8, "one event per version write").await;
}

pub async fn publishing_with_a_stale_policy_changes_nothing(stores: RegisterStores) {
    let rf = register(&stores).await;
    let policy = add_policy(&stores, &rf, "Privacy Policy").await;
    let v1 = add_version(&stores, &rf, &policy, 1).await;
    let (policy_1, v1_published) =
        publish(&stores, &rf, &policy, &to_review(&stores, &rf, &v1).await).await;
    let v2 = add_version(&stores, &rf, &policy_1, 2).await;
    let review_2 = to_review(&stores, &rf, &v2).await;
    // Someone else changes the policy meanwhile.
    let renamed = edited_policy(&stores, &policy_1, |p| {
        p.fields.title = "Privacy Notice".into()
    });
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
    let policy = add_policy(&stores, &rf, "Privacy Policy").await;
    let v1 = add_version(&stores, &rf, &policy, 1).await;
    let winner = PolicyVersion {
        content: "# Privacy Policy\n\nThe winner's text.\n".into(),
        version: 2,
        ..v1.clone()
    };
    update_version(&stores, &rf, &winner, 1, None)
        .await
        .unwrap();
    assert_last_event(&stores, &rf, "policy.version_updated", v1.id).await;
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
    let policy = add_policy(&stores, &rf, "Privacy Policy").await;
    let v1 = add_version(&stores, &rf, &policy, 1).await;
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
    let (winner, loser) = match (ra, rb) {
        (Ok(()), loser) => (a, loser),
        (loser, Ok(())) => (b, loser),
        (ra, rb) => panic!("exactly one version update must win: {ra:?} / {rb:?}"),
    };
    assert_conflict(
        loser,
        Conflict::Version,
        "the concurrent version update that lost",
    );
    assert_eq!(get_version(&stores, &rf, policy.id, 1).await, winner);
    assert_chain(&stores, rf.scope(), base + 1, "one event for one winner").await;
}

pub async fn concurrent_publications_leave_one_published(stores: RegisterStores) {
    let rf = register(&stores).await;
    let policy = add_policy(&stores, &rf, "Privacy Policy").await;
    let v1 = add_version(&stores, &rf, &policy, 1).await;
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
    let (winner, loser_review, loser) = match (r2, r3) {
        (Ok(()), loser) => (2, review_3, loser),
        (loser, Ok(())) => (3, review_2, loser),
        (r2, r3) => panic!("exactly one publication must win: {r2:?} / {r3:?}"),
    };
    assert_conflict(
        loser,
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
        get(&stores, &rf, policy.id).await.current_version,
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
    let policy = add_policy(&stores, &rf, "Privacy Policy").await;
    let v1 = add_version(&stores, &rf, &policy, 1).await;
    let (policy_1, v1_published) =
        publish(&stores, &rf, &policy, &to_review(&stores, &rf, &v1).await).await;
    let v2 = add_version(&stores, &rf, &policy_1, 2).await;
    let review_2 = to_review(&stores, &rf, &v2).await;
    let base = events(&stores, &rf).await;

    // A version cannot be inserted as published beside a published one.
    let mut born_published = new_version(&stores, &rf, &policy_1, 3);
    born_published.status = VersionStatus::Published;
    born_published.published_at = Some(now(&stores));
    born_published.published_by = Some(rf.owner());
    assert_any_conflict(
        stores
            .policies
            .insert_version(
                rf.scope(),
                &born_published,
                reg_event(&rf, "policy.version_created", "policy_version", 3),
            )
            .await,
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
    let policy = add_policy(&stores, &rf, "Privacy Policy").await;
    let v1 = add_version(&stores, &rf, &policy, 1).await;
    assert_eq!(
        get(&stores, &rf, policy.id).await.current_version,
        None,
        "a draft only"
    );
    let (policy_1, _) = publish(&stores, &rf, &policy, &to_review(&stores, &rf, &v1).await).await;
    assert_eq!(get(&stores, &rf, policy.id).await.current_version, Some(1));

    // Published without the policy: the number still follows the published version.
    let v2 = add_version(&stores, &rf, &policy_1, 2).await;
    let review_2 = to_review(&stores, &rf, &v2).await;
    let v2_published = published(&rf, &review_2, now(&stores));
    update_version(&stores, &rf, &v2_published, review_2.version, None)
        .await
        .expect("publish v2");
    assert_eq!(get(&stores, &rf, policy.id).await.current_version, Some(2));
    let listed = list(&stores, &rf, query()).await;
    assert_eq!(listed.items[0].current_version, Some(2), "lists agree");

    // Retiring the published version leaves none current.
    let retired = PolicyVersion {
        retired_at: Some(now(&stores)),
        ..moved(&v2_published, VersionStatus::Retired)
    };
    update_version(&stores, &rf, &retired, v2_published.version, None)
        .await
        .expect("retire the published version");
    assert_eq!(get(&stores, &rf, policy.id).await.current_version, None);
    assert!(published_numbers(&versions(&stores, &rf, policy.id).await).is_empty());
}

pub async fn other_tenants_policies_are_out_of_reach(stores: RegisterStores) {
    let a = register(&stores).await;
    let b = register(&stores).await;
    let policy = add_policy(&stores, &a, "Privacy Policy").await;
    let b_own = add_policy(&stores, &b, "Privacy Policy").await;
    let b_events = events(&stores, &b).await;

    assert_not_found(
        stores.policies.get(b.scope(), policy.id).await,
        "B reading A's policy",
    );
    assert_eq!(
        list(&stores, &b, query())
            .await
            .items
            .iter()
            .map(|p| p.id)
            .collect::<Vec<_>>(),
        [b_own.id],
        "B's list holds only B's policies"
    );
    let hijack = edited_policy(&stores, &policy, |p| p.fields.title = "Hijacked".into());
    assert_not_found(
        update(&stores, &b, &hijack, 1).await,
        "B updating A's policy",
    );
    let mut relabelled = hijack.clone();
    relabelled.tenant_id = b.fx.tenant.id;
    assert_not_found(
        update(&stores, &b, &relabelled, 1).await,
        "B updating A's policy under its own tenant id",
    );
    assert_not_found(
        delete(&stores, &b, policy.id, 1).await,
        "B deleting A's policy",
    );
    let mut claimed = new_policy(&stores, &b, "Claimed");
    claimed.tenant_id = a.fx.tenant.id;
    let result = stores
        .policies
        .insert(
            b.scope(),
            &claimed,
            reg_event(&b, "policy.created", "policy", claimed.id),
        )
        .await;
    assert!(
        result.is_err(),
        "B inserting a policy of A must be refused: {result:?}"
    );
    for scope in [a.scope(), b.scope()] {
        assert_not_found(
            stores.policies.get(scope, claimed.id).await,
            "the refused insert is nowhere",
        );
    }
    assert_eq!(
        get(&stores, &a, policy.id).await,
        policy,
        "A's row unchanged"
    );
    assert_chain(
        &stores,
        b.scope(),
        b_events,
        "no event for B's refused writes",
    )
    .await;
    assert_chain(
        &stores,
        a.scope(),
        REGISTER_EVENTS + 2,
        "A's chain untouched",
    )
    .await;
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

    let q = query;
    assert_eq!(
        ids(&stores, &rf, q()).await,
        sorted_ids(&[&privacy, &retention, &staff])
    );
    assert_eq!(
        ids(
            &stores,
            &rf,
            PolicyQuery {
                kind: Some(PolicyKind::PrivacyPolicy),
                ..q()
            }
        )
        .await,
        sorted_ids(&[&privacy, &staff]),
        "kind"
    );
    assert_eq!(
        ids(
            &stores,
            &rf,
            PolicyQuery {
                status: Some(PolicyStatus::Active),
                ..q()
            }
        )
        .await,
        sorted_ids(&[&retention]),
        "status"
    );
    assert_eq!(
        ids(
            &stores,
            &rf,
            PolicyQuery {
                owner: Some(rf.member),
                ..q()
            }
        )
        .await,
        sorted_ids(&[&privacy]),
        "owner"
    );
    assert_eq!(
        ids(
            &stores,
            &rf,
            PolicyQuery {
                search: Some("privacy".into()),
                ..q()
            }
        )
        .await,
        sorted_ids(&[&privacy, &staff]),
        "search is a case-insensitive substring of the title"
    );
    assert_eq!(
        ids(
            &stores,
            &rf,
            PolicyQuery {
                search: Some("Privacy".into()),
                status: Some(PolicyStatus::Retired),
                kind: Some(PolicyKind::PrivacyPolicy),
                ..q()
            }
        )
        .await,
        sorted_ids(&[&staff]),
        "filters combine"
    );
    assert_eq!(
        ids(
            &stores,
            &rf,
            PolicyQuery {
                kind: Some(PolicyKind::BreachResponsePlan),
                ..q()
            }
        )
        .await,
        Vec::<Uuid>::new()
    );
}

pub async fn list_pages_through_every_sort(stores: RegisterStores) {
    let rf = register(&stores).await;
    let other = register(&stores).await;
    add_policy(&stores, &other, "Payroll").await;
    let base = now(&stores);
    let mut rows = Vec::new();
    for (i, title) in LIST_NAMES.iter().enumerate() {
        let mut policy = new_policy(&stores, &rf, title);
        policy.updated_at = list_updated_at(base, i);
        insert_policy(&stores, &rf, &policy).await;
        rows.push(policy);
    }

    for limit in [1, 2, 4, 100] {
        assert_pages_in_every_sort(
            &rows,
            limit,
            |sort: Sort, after: Option<Cursor>| {
                let stores = stores.clone();
                let rf = rf.clone();
                async move {
                    list(
                        &stores,
                        &rf,
                        PolicyQuery {
                            sort,
                            after,
                            limit,
                            ..query()
                        },
                    )
                    .await
                }
            },
            "policies",
        )
        .await;
    }
}

pub async fn writes_keep_a_valid_chain(stores: RegisterStores) {
    let rf = register(&stores).await;
    let mut expected = events(&stores, &rf).await;
    let policy = add_policy(&stores, &rf, "Privacy Policy").await;
    let v1 = add_version(&stores, &rf, &policy, 1).await;
    let review = to_review(&stores, &rf, &v1).await;
    let (policy_1, _) = publish(&stores, &rf, &policy, &review).await;
    let renamed = edited_policy(&stores, &policy_1, |p| {
        p.fields.title = "Privacy Notice".into()
    });
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
        stores
            .policies
            .insert_version(
                rf.scope(),
                &new_version(&stores, &rf, &policy, 5),
                reg_event(&rf, "policy.version_created", "policy_version", 5),
            )
            .await
            .is_err()
    );
    delete(&stores, &rf, policy.id, renamed.version)
        .await
        .unwrap();
    expected += 1;

    let records = assert_chain(&stores, rf.scope(), expected, "policy writes").await;
    let actions: Vec<&str> = records[records.len() - 6..]
        .iter()
        .map(|r| r.action.as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "policy.created",
            "policy.version_created",
            "policy.version_updated",
            "policy.version_updated",
            "policy.updated",
            "policy.deleted"
        ]
    );
}
