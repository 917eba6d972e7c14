//! `ScreeningAnswersStore`: one versioned set of answers per activity of the tenant,
//! created at expected version 0, replaced at the version read, gone with the activity;
//! and the activity's derived Art. 35(1) gap.

use aura_dpia_screening::{ScreeningAnswers, StoredAnswers, actions};
use aura_gdpr_registers::{ActivityId, ActivityStatus, DpiaRequirement};
use aura_shared_kernel::{Conflict, StoreError};

use crate::{
    RegisterStores,
    fixtures::{assert_conflict, assert_not_found},
    registers::{
        RegisterFixture,
        activities::add_activity,
        assert_chain, assert_last_event, events, now,
        records::{delete, edited, get, update},
        reg_event, register,
    },
};

fn answers(people: u64) -> ScreeningAnswers {
    ScreeningAnswers {
        evaluation_or_scoring: Some(true),
        large_scale: Some(true),
        people_concerned: Some(people),
        matching_datasets: Some(false),
        notes: Some("loyalty programme across all shops".to_owned()),
        ..ScreeningAnswers::default()
    }
}

async fn put(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    activity: ActivityId,
    answers: &ScreeningAnswers,
    expected: i32,
) -> Result<StoredAnswers, StoreError> {
    let event = reg_event(
        rf,
        actions::ANSWERS_UPDATED.as_str(),
        actions::ENTITY,
        activity,
    );
    (stores.dpia_screenings)
        .put(
            rf.scope(),
            activity,
            answers,
            Some(rf.owner()),
            expected,
            event,
        )
        .await
}

async fn read(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    activity: ActivityId,
) -> Option<StoredAnswers> {
    stores
        .dpia_screenings
        .get(rf.scope(), activity)
        .await
        .unwrap()
}

pub async fn answers_are_created_at_version_one_then_replaced(stores: RegisterStores) {
    let rf = register(&stores).await;
    let activity = add_activity(&stores, &rf, "Loyalty card", &[]).await;
    assert_eq!(read(&stores, &rf, activity.id).await, None, "none before");
    let base = events(&stores, &rf).await;
    let before = now(&stores);

    let first = put(&stores, &rf, activity.id, &answers(250_000), 0)
        .await
        .expect("create");
    assert_eq!(first.version, 1);
    assert_eq!(first.updated_by, Some(rf.owner()));
    let stored = read(&stores, &rf, activity.id).await.expect("stored");
    assert_eq!(stored.answers, answers(250_000));
    assert_eq!(stored.version, 1);
    let stamped = stored.updated_at.expect("stamped");
    assert!(
        before <= stamped && stamped <= now(&stores),
        "the store's time"
    );
    assert_last_event(&stores, &rf, &actions::ANSWERS_UPDATED, activity.id).await;

    let second = put(&stores, &rf, activity.id, &answers(300_000), 1)
        .await
        .expect("replace");
    assert_eq!(second.version, 2);
    let stored = read(&stores, &rf, activity.id).await.expect("stored");
    assert_eq!(stored.answers.people_concerned, Some(300_000));
    assert_eq!(stored.version, 2);
    assert_chain(&stores, rf.scope(), base + 2, "two puts").await;
}

pub async fn stale_or_repeated_first_puts_change_nothing(stores: RegisterStores) {
    let rf = register(&stores).await;
    let activity = add_activity(&stores, &rf, "Loyalty card", &[]).await;
    put(&stores, &rf, activity.id, &answers(1), 0)
        .await
        .unwrap();
    let other = add_activity(&stores, &rf, "Newsletter", &[]).await;
    let base = events(&stores, &rf).await;

    let again = put(&stores, &rf, activity.id, &answers(2), 0).await;
    assert_conflict(again, Conflict::Version, "a second first save");
    let stale = put(&stores, &rf, activity.id, &answers(3), 5).await;
    assert_conflict(stale, Conflict::Version, "a stale version");
    let stored = read(&stores, &rf, activity.id).await.unwrap();
    assert_eq!(stored.answers, answers(1), "the first answers stay");
    assert_eq!(stored.version, 1);

    let missing = put(&stores, &rf, other.id, &answers(4), 1).await;
    assert_not_found(missing, "an update of answers never saved");
    assert_chain(&stores, rf.scope(), base, "no event for a refused put").await;
}

pub async fn another_tenants_activity_has_no_answers_here(stores: RegisterStores) {
    let a = register(&stores).await;
    let b = register(&stores).await;
    let theirs = add_activity(&stores, &b, "Their CCTV", &[]).await;
    put(&stores, &b, theirs.id, &answers(10), 0).await.unwrap();
    let base = events(&stores, &a).await;

    assert_eq!(read(&stores, &a, theirs.id).await, None, "not readable");
    let written = put(&stores, &a, theirs.id, &answers(20), 0).await;
    assert_not_found(written, "answers for another tenant's activity");
    let written = put(&stores, &a, theirs.id, &answers(20), 1).await;
    assert_not_found(written, "an update of another tenant's answers");
    let unknown = put(&stores, &a, ActivityId::generate(), &answers(20), 0).await;
    assert_not_found(unknown, "answers for no activity");
    assert_chain(&stores, a.scope(), base, "nothing written").await;
    let kept = read(&stores, &b, theirs.id).await.unwrap();
    assert_eq!(kept.answers, answers(10), "theirs untouched");
}

pub async fn answers_go_with_the_activity(stores: RegisterStores) {
    let rf = register(&stores).await;
    let activity = add_activity(&stores, &rf, "CCTV", &[]).await;
    put(&stores, &rf, activity.id, &answers(5), 0)
        .await
        .unwrap();
    delete(&stores, &rf, activity.id, activity.version)
        .await
        .expect("delete the activity");
    assert_eq!(read(&stores, &rf, activity.id).await, None);
}

/// Art. 35(1): the stores derive the gap for an active activity whose DPIA is required;
/// no approved DPIA can cover it yet.
pub async fn a_required_dpia_is_missing_while_active(stores: RegisterStores) {
    let rf = register(&stores).await;
    let art35 = |a: &aura_gdpr_registers::ProcessingActivity| {
        (a.derived.missing.iter())
            .filter(|g| g.article == "35(1)")
            .count()
    };
    let created = add_activity(&stores, &rf, "Employee health app", &[]).await;
    assert_eq!(art35(&created), 0, "not required: no gap");
    let required = edited(&stores, &created, |f| {
        f.dpia_required = DpiaRequirement::Yes
    });
    let answered = update(&stores, &rf, &required, 1).await.expect("require");
    assert_eq!(art35(&answered), 1, "the write answers the gap");
    let read = get(&stores, &rf, created.id).await;
    assert_eq!(art35(&read), 1, "a read derives it");
    let gap = (read.derived.missing.iter())
        .find(|g| g.article == "35(1)")
        .unwrap();
    assert_eq!(gap.field, "dpia");
    assert_eq!(gap.message, "DPIA required before the processing");
    let retired = edited(&stores, &read, |f| f.status = ActivityStatus::Retired);
    let retired = update(&stores, &rf, &retired, 2).await.expect("retire");
    assert_eq!(art35(&retired), 0, "a retired activity processes nothing");
}
