//! `ActivityRepository`: complete activities read back unchanged, links only to the
//! tenant's processors, optimistic versions, isolation, filters and keyset pages.

use aura_gdpr_registers::{
    ActivityRole, ActivityStatus, LawfulBasis, ProcessingActivity, Purpose,
    ports::{ActivityQuery, Cursor, ListPage, Sort},
};
use aura_tenancy::StoreError;
use uuid::Uuid;

use crate::{
    RegisterStores,
    fixtures::{REGISTER_EVENTS, assert_conflict, assert_not_found},
    registers::{
        LIST_NAMES, RegisterFixture, add_activity, add_processor, assert_any_conflict,
        assert_chain, assert_last_event, assert_pages_in_every_sort, edited_activity, events,
        insert_activity, list_updated_at, new_activity, now, reg_event, register,
    },
};

async fn update(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    activity: &ProcessingActivity,
    expected: i32,
) -> Result<(), StoreError> {
    stores
        .activities
        .update(
            rf.scope(),
            activity,
            expected,
            reg_event(rf, "activity.updated", "activity", activity.id),
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
        .activities
        .delete(
            rf.scope(),
            id,
            expected,
            reg_event(rf, "activity.deleted", "activity", id),
        )
        .await
}

async fn get(stores: &RegisterStores, rf: &RegisterFixture, id: Uuid) -> ProcessingActivity {
    stores
        .activities
        .get(rf.scope(), id)
        .await
        .expect("the activity is stored")
}

async fn list(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    query: ActivityQuery,
) -> ListPage<ProcessingActivity> {
    stores
        .activities
        .list(rf.scope(), &query)
        .await
        .expect("list activities")
}

fn query() -> ActivityQuery {
    ActivityQuery {
        limit: 100,
        ..ActivityQuery::default()
    }
}

/// The ids of a filtered list (one page of up to 100), sorted.
async fn ids(stores: &RegisterStores, rf: &RegisterFixture, query: ActivityQuery) -> Vec<Uuid> {
    let page = list(stores, rf, query).await;
    assert_eq!(page.next, None, "the filtered list fits one page");
    let mut ids: Vec<Uuid> = page.items.iter().map(|a| a.id).collect();
    ids.sort();
    ids
}

fn sorted_ids(activities: &[&ProcessingActivity]) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = activities.iter().map(|a| a.id).collect();
    ids.sort();
    ids
}

pub async fn insert_then_get_returns_the_activity(stores: RegisterStores) {
    let rf = register(&stores).await;
    let payroll_provider = add_processor(&stores, &rf, "Payroll Cloud").await;
    let base = events(&stores, &rf).await;

    let activity = new_activity(&stores, &rf, "Payroll", &[payroll_provider.id]);
    insert_activity(&stores, &rf, &activity).await;
    assert_eq!(
        get(&stores, &rf, activity.id).await,
        activity,
        "every field reads back unchanged"
    );
    assert_last_event(&stores, &rf, "activity.created", activity.id).await;

    let mut processor_record = new_activity(&stores, &rf, "Order processing for clients", &[]);
    processor_record.fields.role = ActivityRole::Processor;
    processor_record.fields.controller_name = Some("Client Retail AG".to_owned());
    processor_record.fields.controller_contact = Some("privacy@client.example".to_owned());
    processor_record.fields.purposes = vec![Purpose {
        description: "Fraud screening of the client's orders".to_owned(),
        lawful_basis: LawfulBasis::LegitimateInterests,
        legitimate_interest: Some("LIA 2025-04, balancing test documented".to_owned()),
    }];
    processor_record.fields.automated_decision_making = true;
    processor_record.fields.automated_decision_details =
        Some("Orders above a risk score are held for manual review".to_owned());
    processor_record.fields.status = ActivityStatus::Draft;
    processor_record.fields.review_date = None;
    processor_record.fields.owner_id = None;
    insert_activity(&stores, &rf, &processor_record).await;
    assert_eq!(
        get(&stores, &rf, processor_record.id).await,
        processor_record
    );
    assert_chain(&stores, rf.scope(), base + 2, "one event per insert").await;
}

pub async fn insert_of_a_taken_id_is_a_conflict(stores: RegisterStores) {
    let rf = register(&stores).await;
    let activity = add_activity(&stores, &rf, "Payroll", &[]).await;
    let base = events(&stores, &rf).await;
    let mut twin = new_activity(&stores, &rf, "Recruiting", &[]);
    twin.id = activity.id;
    let result = stores
        .activities
        .insert(
            rf.scope(),
            &twin,
            reg_event(&rf, "activity.created", "activity", twin.id),
        )
        .await;
    assert_any_conflict(result, "inserting an id that is taken");
    assert_eq!(get(&stores, &rf, activity.id).await, activity);
    assert_chain(&stores, rf.scope(), base, "no event for a refused insert").await;
}

pub async fn links_name_only_the_tenants_processors(stores: RegisterStores) {
    let a = register(&stores).await;
    let b = register(&stores).await;
    let own = add_processor(&stores, &a, "Payroll Cloud").await;
    let foreign = add_processor(&stores, &b, "Globex Hosting").await;
    let base = events(&stores, &a).await;

    for (links, what) in [
        (vec![own.id, Uuid::now_v7()], "an unknown processor"),
        (vec![own.id, foreign.id], "another tenant's processor"),
    ] {
        let activity = new_activity(&stores, &a, "Payroll", &links);
        let result = stores
            .activities
            .insert(
                a.scope(),
                &activity,
                reg_event(&a, "activity.created", "activity", activity.id),
            )
            .await;
        assert_not_found(result, &format!("inserting a link to {what}"));
        assert_not_found(
            stores.activities.get(a.scope(), activity.id).await,
            "the refused activity",
        );
    }
    assert!(stores.activities.all(a.scope()).await.unwrap().is_empty());
    assert_eq!(
        stores
            .processors
            .get(b.scope(), foreign.id)
            .await
            .unwrap()
            .activity_ids,
        Vec::<Uuid>::new(),
        "B's processor gained no link"
    );
    assert_chain(&stores, a.scope(), base, "no event for refused inserts").await;

    let linked = add_activity(&stores, &a, "Payroll", &[own.id]).await;
    assert_eq!(
        get(&stores, &a, linked.id).await.fields.processor_ids,
        [own.id]
    );
}

pub async fn update_replaces_the_row_at_the_expected_version(stores: RegisterStores) {
    let rf = register(&stores).await;
    let hosting = add_processor(&stores, &rf, "Hosting").await;
    let mailer = add_processor(&stores, &rf, "Mailer").await;
    let activity = add_activity(&stores, &rf, "Newsletter", &[hosting.id]).await;
    let base = events(&stores, &rf).await;

    let next = edited_activity(&stores, &activity, |f| {
        f.name = "Customer newsletter".to_owned();
        f.purposes = vec![Purpose {
            description: "Sending the monthly newsletter".to_owned(),
            lawful_basis: LawfulBasis::Consent,
            legitimate_interest: None,
        }];
        f.processor_ids = vec![mailer.id, hosting.id];
        f.status = ActivityStatus::Retired;
        f.transfers.clear();
    });
    update(&stores, &rf, &next, 1)
        .await
        .expect("update at the version read");
    let stored = get(&stores, &rf, activity.id).await;
    assert_eq!(stored, next, "the row is replaced, its version incremented");
    assert_eq!(stored.version, 2);
    assert_last_event(&stores, &rf, "activity.updated", activity.id).await;

    let again = edited_activity(&stores, &stored, |f| f.processor_ids.clear());
    update(&stores, &rf, &again, 2).await.expect("update at 2");
    assert_eq!(get(&stores, &rf, activity.id).await, again);
    assert_eq!(
        stores
            .processors
            .get(rf.scope(), mailer.id)
            .await
            .unwrap()
            .activity_ids,
        Vec::<Uuid>::new(),
        "removed links are gone"
    );
    assert_chain(&stores, rf.scope(), base + 2, "one event per update").await;
}

pub async fn stale_update_loses_nothing(stores: RegisterStores) {
    let rf = register(&stores).await;
    let activity = add_activity(&stores, &rf, "Payroll", &[]).await;
    let winner = edited_activity(&stores, &activity, |f| f.name = "Payroll (winner)".into());
    update(&stores, &rf, &winner, 1).await.unwrap();
    let base = events(&stores, &rf).await;

    let loser = edited_activity(&stores, &activity, |f| f.name = "Payroll (loser)".into());
    assert_conflict(
        update(&stores, &rf, &loser, 1).await,
        "version",
        "an update at a stale version",
    );
    assert_eq!(
        get(&stores, &rf, activity.id).await,
        winner,
        "the winner's data stays"
    );
    assert_conflict(
        update(&stores, &rf, &loser, 7).await,
        "version",
        "an update at a version that never was",
    );
    assert_chain(&stores, rf.scope(), base, "no event for stale updates").await;
}

pub async fn concurrent_updates_have_one_winner(stores: RegisterStores) {
    let rf = register(&stores).await;
    let activity = add_activity(&stores, &rf, "Payroll", &[]).await;
    let base = events(&stores, &rf).await;
    let a = edited_activity(&stores, &activity, |f| f.name = "Payroll Alpha".into());
    let b = edited_activity(&stores, &activity, |f| f.name = "Payroll Bravo".into());

    let (ra, rb) = tokio::join!(update(&stores, &rf, &a, 1), update(&stores, &rf, &b, 1));
    let (winner, loser) = match (ra, rb) {
        (Ok(()), loser) => (a, loser),
        (loser, Ok(())) => (b, loser),
        (ra, rb) => panic!("exactly one update must win: {ra:?} / {rb:?}"),
    };
    assert_conflict(loser, "version", "the concurrent update that lost");
    assert_eq!(get(&stores, &rf, activity.id).await, winner);
    assert_chain(&stores, rf.scope(), base + 1, "one event for one winner").await;
}

pub async fn update_with_a_bad_link_changes_nothing(stores: RegisterStores) {
    let a = register(&stores).await;
    let b = register(&stores).await;
    let own = add_processor(&stores, &a, "Hosting").await;
    let foreign = add_processor(&stores, &b, "Globex Hosting").await;
    let activity = add_activity(&stores, &a, "Payroll", &[own.id]).await;
    let base = events(&stores, &a).await;

    for (link, what) in [(Uuid::now_v7(), "an unknown"), (foreign.id, "B's")] {
        let next = edited_activity(&stores, &activity, |f| {
            f.name = "Payroll relinked".into();
            f.processor_ids.push(link);
        });
        assert_not_found(
            update(&stores, &a, &next, 1).await,
            &format!("linking {what} processor"),
        );
        assert_eq!(
            get(&stores, &a, activity.id).await,
            activity,
            "the refused update changed nothing"
        );
    }
    assert_eq!(
        stores
            .processors
            .get(b.scope(), foreign.id)
            .await
            .unwrap()
            .activity_ids,
        Vec::<Uuid>::new(),
        "B's processor gained no link"
    );
    assert_chain(&stores, a.scope(), base, "no event for refused updates").await;
}

pub async fn delete_checks_the_version(stores: RegisterStores) {
    let rf = register(&stores).await;
    let hosting = add_processor(&stores, &rf, "Hosting").await;
    let activity = add_activity(&stores, &rf, "Payroll", &[hosting.id]).await;
    let edited = edited_activity(&stores, &activity, |f| f.name = "Payroll 2026".into());
    update(&stores, &rf, &edited, 1).await.unwrap();
    let base = events(&stores, &rf).await;

    assert_conflict(
        delete(&stores, &rf, activity.id, 1).await,
        "version",
        "a delete at a stale version",
    );
    assert_eq!(get(&stores, &rf, activity.id).await, edited, "still there");
    assert_chain(&stores, rf.scope(), base, "no event for a stale delete").await;

    delete(&stores, &rf, activity.id, 2)
        .await
        .expect("delete at the current version");
    assert_last_event(&stores, &rf, "activity.deleted", activity.id).await;
    assert_not_found(
        stores.activities.get(rf.scope(), activity.id).await,
        "a deleted activity",
    );
    assert!(stores.activities.all(rf.scope()).await.unwrap().is_empty());
    assert_eq!(
        stores
            .processors
            .get(rf.scope(), hosting.id)
            .await
            .unwrap()
            .activity_ids,
        Vec::<Uuid>::new(),
        "its links went with it"
    );
    assert_not_found(
        delete(&stores, &rf, activity.id, 2).await,
        "deleting it again",
    );
    assert_not_found(
        update(&stores, &rf, &edited_activity(&stores, &edited, |_| {}), 2).await,
        "updating a deleted activity",
    );
    assert_chain(&stores, rf.scope(), base + 1, "one event for the delete").await;
}

pub async fn other_tenants_activities_are_out_of_reach(stores: RegisterStores) {
    let a = register(&stores).await;
    let b = register(&stores).await;
    let activity = add_activity(&stores, &a, "Payroll", &[]).await;
    let _own_b = add_activity(&stores, &b, "Payroll", &[]).await;
    let b_events = events(&stores, &b).await;

    assert_not_found(
        stores.activities.get(b.scope(), activity.id).await,
        "B reading A's activity",
    );
    let listed = list(&stores, &b, query()).await;
    assert!(
        listed.items.iter().all(|x| x.tenant_id == b.fx.tenant.id),
        "B's list holds only B's activities"
    );
    assert_eq!(listed.items.len(), 1);
    let all = stores.activities.all(b.scope()).await.unwrap();
    assert!(all.iter().all(|x| x.id != activity.id), "B's all()");

    let hijack = edited_activity(&stores, &activity, |f| f.name = "Hijacked".into());
    assert_not_found(
        update(&stores, &b, &hijack, 1).await,
        "B updating A's activity",
    );
    let mut moved = hijack.clone();
    moved.tenant_id = b.fx.tenant.id;
    assert_not_found(
        update(&stores, &b, &moved, 1).await,
        "B updating A's activity under its own tenant id",
    );
    assert_not_found(
        delete(&stores, &b, activity.id, 1).await,
        "B deleting A's activity",
    );
    let mut claimed = new_activity(&stores, &b, "Claimed", &[]);
    claimed.tenant_id = a.fx.tenant.id;
    let result = stores
        .activities
        .insert(
            b.scope(),
            &claimed,
            reg_event(&b, "activity.created", "activity", claimed.id),
        )
        .await;
    assert!(
        result.is_err(),
        "B inserting an activity of A must be refused: {result:?}"
    );
    for scope in [a.scope(), b.scope()] {
        assert_not_found(
            stores.activities.get(scope, claimed.id).await,
            "the refused insert is nowhere",
        );
    }

    assert_eq!(
        get(&stores, &a, activity.id).await,
        activity,
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

pub async fn all_is_oldest_first(stores: RegisterStores) {
    let rf = register(&stores).await;
    let mut expected = Vec::new();
    for name in ["Recruiting", "Accounting", "Payroll", "Benefits"] {
        expected.push(add_activity(&stores, &rf, name, &[]).await);
    }
    expected.sort_by_key(|a| a.id);
    assert_eq!(stores.activities.all(rf.scope()).await.unwrap(), expected);
}

pub async fn list_filters(stores: RegisterStores) {
    let rf = register(&stores).await;
    let hosting = add_processor(&stores, &rf, "Hosting").await;
    let mailer = add_processor(&stores, &rf, "Mailer").await;

    let payroll = add_activity(&stores, &rf, "Payroll", &[hosting.id]).await;
    let mut newsletter = new_activity(
        &stores,
        &rf,
        "Customer Newsletter",
        &[mailer.id, hosting.id],
    );
    newsletter.fields.purposes = vec![Purpose {
        description: "Sending the newsletter".into(),
        lawful_basis: LawfulBasis::Consent,
        legitimate_interest: None,
    }];
    newsletter.fields.status = ActivityStatus::Draft;
    newsletter.fields.owner_id = Some(rf.owner());
    insert_activity(&stores, &rf, &newsletter).await;
    let mut support = new_activity(&stores, &rf, "CUSTOMER support", &[]);
    support.fields.role = ActivityRole::Processor;
    support.fields.controller_name = Some("Client AG".into());
    support.fields.purposes = vec![Purpose {
        description: "Answering tickets for the client".into(),
        lawful_basis: LawfulBasis::Contract,
        legitimate_interest: None,
    }];
    support.fields.owner_id = None;
    insert_activity(&stores, &rf, &support).await;

    let q = query;
    assert_eq!(
        ids(&stores, &rf, q()).await,
        sorted_ids(&[&payroll, &newsletter, &support]),
        "no filter"
    );
    assert_eq!(
        ids(
            &stores,
            &rf,
            ActivityQuery {
                status: Some(ActivityStatus::Draft),
                ..q()
            }
        )
        .await,
        sorted_ids(&[&newsletter]),
        "status"
    );
    assert_eq!(
        ids(
            &stores,
            &rf,
            ActivityQuery {
                role: Some(ActivityRole::Processor),
                ..q()
            }
        )
        .await,
        sorted_ids(&[&support]),
        "role"
    );
    assert_eq!(
        ids(
            &stores,
            &rf,
            ActivityQuery {
                owner: Some(rf.member),
                ..q()
            }
        )
        .await,
        sorted_ids(&[&payroll]),
        "owner"
    );
    assert_eq!(
        ids(
            &stores,
            &rf,
            ActivityQuery {
                lawful_basis: Some(LawfulBasis::Contract),
                ..q()
            }
        )
        .await,
        sorted_ids(&[&payroll, &support]),
        "lawful basis of any purpose"
    );
    assert_eq!(
        ids(
            &stores,
            &rf,
            ActivityQuery {
                lawful_basis: Some(LawfulBasis::VitalInterests),
                ..q()
            }
        )
        .await,
        Vec::<Uuid>::new(),
        "a lawful basis nobody uses"
    );
    assert_eq!(
        ids(
            &stores,
            &rf,
            ActivityQuery {
                processor: Some(hosting.id),
                ..q()
            }
        )
        .await,
        sorted_ids(&[&payroll, &newsletter]),
        "processor"
    );
    assert_eq!(
        ids(
            &stores,
            &rf,
            ActivityQuery {
                processor: Some(mailer.id),
                ..q()
            }
        )
        .await,
        sorted_ids(&[&newsletter]),
        "processor"
    );
    assert_eq!(
        ids(
            &stores,
            &rf,
            ActivityQuery {
                search: Some("customer".into()),
                ..q()
            }
        )
        .await,
        sorted_ids(&[&newsletter, &support]),
        "search is a case-insensitive substring of the name"
    );
    assert_eq!(
        ids(
            &stores,
            &rf,
            ActivityQuery {
                search: Some("ROLL".into()),
                ..q()
            }
        )
        .await,
        sorted_ids(&[&payroll]),
        "search inside the name"
    );
    assert_eq!(
        ids(
            &stores,
            &rf,
            ActivityQuery {
                search: Some("customer".into()),
                processor: Some(hosting.id),
                status: Some(ActivityStatus::Draft),
                ..q()
            }
        )
        .await,
        sorted_ids(&[&newsletter]),
        "filters combine"
    );
    assert_eq!(
        ids(
            &stores,
            &rf,
            ActivityQuery {
                search: Some("nothing like it".into()),
                ..q()
            }
        )
        .await,
        Vec::<Uuid>::new(),
        "no match"
    );
}

/// Stores the list rows: names from [`LIST_NAMES`] and `updated_at` with ties.
async fn list_rows(stores: &RegisterStores, rf: &RegisterFixture) -> Vec<ProcessingActivity> {
    let base = now(stores);
    let mut rows = Vec::new();
    for (i, name) in LIST_NAMES.iter().enumerate() {
        let mut activity = new_activity(stores, rf, name, &[]);
        activity.updated_at = list_updated_at(base, i);
        insert_activity(stores, rf, &activity).await;
        rows.push(activity);
    }
    rows
}

pub async fn list_pages_through_every_sort(stores: RegisterStores) {
    let rf = register(&stores).await;
    let other = register(&stores).await;
    add_activity(&stores, &other, "Payroll", &[]).await;
    let rows = list_rows(&stores, &rf).await;

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
                        ActivityQuery {
                            sort,
                            after,
                            limit,
                            ..query()
                        },
                    )
                    .await
                }
            },
            "activities",
        )
        .await;
    }
}

pub async fn list_pages_through_a_filtered_list(stores: RegisterStores) {
    let rf = register(&stores).await;
    let rows = list_rows(&stores, &rf).await;
    let matching: Vec<ProcessingActivity> = rows
        .iter()
        .filter(|a| a.fields.name.to_lowercase().contains("e"))
        .cloned()
        .collect();
    assert!(matching.len() > 3 && matching.len() < rows.len());
    assert_pages_in_every_sort(
        &matching,
        2,
        |sort: Sort, after: Option<Cursor>| {
            let stores = stores.clone();
            let rf = rf.clone();
            async move {
                list(
                    &stores,
                    &rf,
                    ActivityQuery {
                        search: Some("E".into()),
                        sort,
                        after,
                        limit: 2,
                        ..query()
                    },
                )
                .await
            }
        },
        "activities matching `E`",
    )
    .await;
}

pub async fn writes_keep_a_valid_chain(stores: RegisterStores) {
    let rf = register(&stores).await;
    let mut expected = events(&stores, &rf).await;
    let hosting = add_processor(&stores, &rf, "Hosting").await;
    expected += 1;
    let activity = add_activity(&stores, &rf, "Payroll", &[hosting.id]).await;
    expected += 1;
    let next = edited_activity(&stores, &activity, |f| f.processor_ids.clear());
    update(&stores, &rf, &next, 1).await.unwrap();
    expected += 1;
    // Refused writes add nothing.
    assert!(update(&stores, &rf, &next, 1).await.is_err());
    assert!(delete(&stores, &rf, activity.id, 1).await.is_err());
    assert!(delete(&stores, &rf, Uuid::now_v7(), 1).await.is_err());
    delete(&stores, &rf, activity.id, 2).await.unwrap();
    expected += 1;

    let records = assert_chain(&stores, rf.scope(), expected, "activity writes").await;
    let actions: Vec<&str> = records[records.len() - 3..]
        .iter()
        .map(|r| r.action.as_str())
        .collect();
    assert_eq!(
        actions,
        ["activity.created", "activity.updated", "activity.deleted"],
        "each write sealed its own event, in order"
    );
    assert!(
        records[records.len() - 3..]
            .iter()
            .all(|r| r.entity_id == Some(activity.id.to_string()))
    );
}
