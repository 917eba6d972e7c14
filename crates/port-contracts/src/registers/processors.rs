//! `ProcessorRepository`: processors and sub-processors of the tenant, the derived
//! `activity_ids`, the in-use rule of deletes, optimistic versions, isolation, filters
//! and keyset pages.

use aura_gdpr_registers::{
    DpaStatus, Processor,
    ports::{Cursor, ListPage, ProcessorQuery, Sort},
};
use aura_tenancy::StoreError;
use time::macros::date;
use uuid::Uuid;

use crate::{
    RegisterStores,
    fixtures::{REGISTER_EVENTS, assert_conflict, assert_not_found},
    registers::{
        LIST_NAMES, RegisterFixture, add_activity, add_processor, assert_any_conflict,
        assert_chain, assert_last_event, assert_pages_in_every_sort, edited_activity,
        edited_processor, events, insert_processor, list_updated_at, new_processor, now, reg_event,
        register,
    },
};

async fn update(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    processor: &Processor,
    expected: i32,
) -> Result<(), StoreError> {
    stores
        .processors
        .update(
            rf.scope(),
            processor,
            expected,
            reg_event(rf, "processor.updated", "processor", processor.id),
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
        .processors
        .delete(
            rf.scope(),
            id,
            expected,
            reg_event(rf, "processor.deleted", "processor", id),
        )
        .await
}

async fn get(stores: &RegisterStores, rf: &RegisterFixture, id: Uuid) -> Processor {
    stores
        .processors
        .get(rf.scope(), id)
        .await
        .expect("the processor is stored")
}

async fn list(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    query: ProcessorQuery,
) -> ListPage<Processor> {
    stores
        .processors
        .list(rf.scope(), &query)
        .await
        .expect("list processors")
}

fn query() -> ProcessorQuery {
    ProcessorQuery {
        limit: 100,
        ..ProcessorQuery::default()
    }
}

async fn ids(stores: &RegisterStores, rf: &RegisterFixture, query: ProcessorQuery) -> Vec<Uuid> {
    let page = list(stores, rf, query).await;
    assert_eq!(page.next, None, "the filtered list fits one page");
    let mut ids: Vec<Uuid> = page.items.iter().map(|p| p.id).collect();
    ids.sort();
    ids
}

fn sorted_ids(processors: &[&Processor]) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = processors.iter().map(|p| p.id).collect();
    ids.sort();
    ids
}

/// A sub-processor of `parent`, stored.
async fn add_sub_processor(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    name: &str,
    parent: Uuid,
) -> Processor {
    let mut sub = new_processor(stores, rf, name);
    sub.fields.parent_id = Some(parent);
    insert_processor(stores, rf, &sub).await;
    sub
}

pub async fn insert_then_get_returns_the_processor(stores: RegisterStores) {
    let rf = register(&stores).await;
    let base = events(&stores, &rf).await;
    let processor = add_processor(&stores, &rf, "Payroll Cloud").await;
    assert_eq!(
        get(&stores, &rf, processor.id).await,
        processor,
        "every field reads back unchanged, no activity links"
    );
    assert_last_event(&stores, &rf, "processor.created", processor.id).await;

    let mut draft = new_processor(&stores, &rf, "Analytics Inc.");
    draft.fields.country = Some("US".parse().unwrap());
    draft.fields.transfer_mechanism =
        Some(aura_gdpr_registers::TransferMechanism::StandardContractualClauses);
    draft.fields.dpa_status = DpaStatus::Draft;
    draft.fields.dpa_signed_on = None;
    draft.fields.dpa_review_on = None;
    draft.fields.clauses.audits = false;
    insert_processor(&stores, &rf, &draft).await;
    assert_eq!(get(&stores, &rf, draft.id).await, draft);

    let mut twin = new_processor(&stores, &rf, "Twin");
    twin.id = processor.id;
    assert_any_conflict(
        stores
            .processors
            .insert(
                rf.scope(),
                &twin,
                reg_event(&rf, "processor.created", "processor", twin.id),
            )
            .await,
        "inserting an id that is taken",
    );
    assert_eq!(get(&stores, &rf, processor.id).await, processor);
    assert_chain(&stores, rf.scope(), base + 2, "one event per insert").await;
}

pub async fn sub_processors_name_a_parent_of_the_tenant(stores: RegisterStores) {
    let a = register(&stores).await;
    let b = register(&stores).await;
    let parent = add_processor(&stores, &a, "Hosting").await;
    let foreign = add_processor(&stores, &b, "Globex Hosting").await;
    let base = events(&stores, &a).await;

    for (missing, what) in [(Uuid::now_v7(), "an unknown"), (foreign.id, "B's")] {
        let mut sub = new_processor(&stores, &a, "Data Centre");
        sub.fields.parent_id = Some(missing);
        assert_not_found(
            stores
                .processors
                .insert(
                    a.scope(),
                    &sub,
                    reg_event(&a, "processor.created", "processor", sub.id),
                )
                .await,
            &format!("a sub-processor of {what} processor"),
        );
        assert_not_found(
            stores.processors.get(a.scope(), sub.id).await,
            "the refused sub-processor",
        );
    }
    assert_chain(&stores, a.scope(), base, "no event for refused inserts").await;

    let sub = add_sub_processor(&stores, &a, "Data Centre", parent.id).await;
    assert_eq!(
        get(&stores, &a, sub.id).await.fields.parent_id,
        Some(parent.id)
    );
    let moved = edited_processor(&stores, &sub, |f| f.parent_id = Some(foreign.id));
    assert_not_found(
        update(&stores, &a, &moved, 1).await,
        "moving a sub-processor under B's processor",
    );
    assert_eq!(
        get(&stores, &a, sub.id).await,
        sub,
        "the refused update changed nothing"
    );
    let top = edited_processor(&stores, &sub, |f| f.parent_id = None);
    update(&stores, &a, &top, 1)
        .await
        .expect("detach from the parent");
    assert_eq!(get(&stores, &a, sub.id).await, top);
}

pub async fn activity_ids_are_the_linking_activities_sorted(stores: RegisterStores) {
    let rf = register(&stores).await;
    let hosting = add_processor(&stores, &rf, "Hosting").await;
    let mailer = add_processor(&stores, &rf, "Mailer").await;
    let mut linking = Vec::new();
    for name in ["Payroll", "Recruiting", "Newsletter"] {
        linking.push(add_activity(&stores, &rf, name, &[hosting.id]).await);
    }
    let unrelated = add_activity(&stores, &rf, "Visitors", &[mailer.id]).await;
    let mut expected: Vec<Uuid> = linking.iter().map(|a| a.id).collect();
    expected.sort();

    let found = get(&stores, &rf, hosting.id).await;
    assert_eq!(
        found.activity_ids, expected,
        "get: linking activities, sorted"
    );
    let listed = list(&stores, &rf, query()).await;
    let in_list = listed.items.iter().find(|p| p.id == hosting.id).unwrap();
    assert_eq!(in_list.activity_ids, expected, "list");
    let all = stores.processors.all(rf.scope()).await.unwrap();
    let in_all = all.iter().find(|p| p.id == hosting.id).unwrap();
    assert_eq!(in_all.activity_ids, expected, "all");
    assert_eq!(
        get(&stores, &rf, mailer.id).await.activity_ids,
        [unrelated.id]
    );

    // Unlinking in an update and deleting an activity both drop it.
    let unlinked = edited_activity(&stores, &linking[0], |f| f.processor_ids = vec![mailer.id]);
    stores
        .activities
        .update(
            rf.scope(),
            &unlinked,
            1,
            reg_event(&rf, "activity.updated", "activity", unlinked.id),
        )
        .await
        .unwrap();
    stores
        .activities
        .delete(
            rf.scope(),
            linking[1].id,
            1,
            reg_event(&rf, "activity.deleted", "activity", linking[1].id),
        )
        .await
        .unwrap();
    assert_eq!(
        get(&stores, &rf, hosting.id).await.activity_ids,
        [linking[2].id]
    );
    let mut mailer_ids = vec![unrelated.id, linking[0].id];
    mailer_ids.sort();
    assert_eq!(get(&stores, &rf, mailer.id).await.activity_ids, mailer_ids);

    // What the caller passes in `activity_ids` is not stored: it is derived.
    let mut claimed = edited_processor(&stores, &hosting, |f| f.services = Some("Hosting".into()));
    claimed.activity_ids = vec![Uuid::now_v7()];
    update(&stores, &rf, &claimed, 1).await.unwrap();
    assert_eq!(
        get(&stores, &rf, hosting.id).await.activity_ids,
        [linking[2].id]
    );
}

pub async fn a_linked_processor_is_in_use(stores: RegisterStores) {
    let rf = register(&stores).await;
    let hosting = add_processor(&stores, &rf, "Hosting").await;
    let activity = add_activity(&stores, &rf, "Payroll", &[hosting.id]).await;
    let base = events(&stores, &rf).await;

    assert_conflict(
        delete(&stores, &rf, hosting.id, 1).await,
        "in_use",
        "deleting a processor an activity links to",
    );
    assert_eq!(
        get(&stores, &rf, hosting.id).await.activity_ids,
        [activity.id]
    );
    assert_eq!(
        stores
            .activities
            .get(rf.scope(), activity.id)
            .await
            .unwrap(),
        activity,
        "the activity keeps its link"
    );
    assert_chain(&stores, rf.scope(), base, "no event for a refused delete").await;

    let unlinked = edited_activity(&stores, &activity, |f| f.processor_ids.clear());
    stores
        .activities
        .update(
            rf.scope(),
            &unlinked,
            1,
            reg_event(&rf, "activity.updated", "activity", activity.id),
        )
        .await
        .unwrap();
    delete(&stores, &rf, hosting.id, 1)
        .await
        .expect("an unlinked processor can go");
    assert_last_event(&stores, &rf, "processor.deleted", hosting.id).await;
    assert_not_found(
        stores.processors.get(rf.scope(), hosting.id).await,
        "a deleted processor",
    );
    assert_chain(&stores, rf.scope(), base + 2, "update and delete").await;
}

pub async fn a_parent_processor_is_in_use(stores: RegisterStores) {
    let rf = register(&stores).await;
    let parent = add_processor(&stores, &rf, "Hosting").await;
    let sub = add_sub_processor(&stores, &rf, "Data Centre", parent.id).await;
    let base = events(&stores, &rf).await;

    assert_conflict(
        delete(&stores, &rf, parent.id, 1).await,
        "in_use",
        "deleting a processor with sub-processors",
    );
    assert_eq!(get(&stores, &rf, parent.id).await, parent);
    assert_chain(&stores, rf.scope(), base, "no event for a refused delete").await;

    delete(&stores, &rf, sub.id, 1)
        .await
        .expect("a leaf can go");
    delete(&stores, &rf, parent.id, 1)
        .await
        .expect("without sub-processors the parent can go");
    assert!(stores.processors.all(rf.scope()).await.unwrap().is_empty());
    assert_chain(&stores, rf.scope(), base + 2, "two deletes").await;
}

pub async fn stale_update_and_delete_lose_nothing(stores: RegisterStores) {
    let rf = register(&stores).await;
    let processor = add_processor(&stores, &rf, "Hosting").await;
    let winner = edited_processor(&stores, &processor, |f| f.name = "Hosting (winner)".into());
    update(&stores, &rf, &winner, 1).await.unwrap();
    let base = events(&stores, &rf).await;

    let loser = edited_processor(&stores, &processor, |f| f.name = "Hosting (loser)".into());
    assert_conflict(
        update(&stores, &rf, &loser, 1).await,
        "version",
        "an update at a stale version",
    );
    assert_conflict(
        delete(&stores, &rf, processor.id, 1).await,
        "version",
        "a delete at a stale version",
    );
    assert_eq!(
        get(&stores, &rf, processor.id).await,
        winner,
        "the winner's data stays"
    );
    assert_chain(&stores, rf.scope(), base, "no event for stale writes").await;

    assert_not_found(
        update(&stores, &rf, &new_processor(&stores, &rf, "Ghost"), 1).await,
        "updating a processor that does not exist",
    );
    assert_not_found(
        delete(&stores, &rf, Uuid::now_v7(), 1).await,
        "deleting a processor that does not exist",
    );
    delete(&stores, &rf, processor.id, 2)
        .await
        .expect("delete at 2");
}

pub async fn concurrent_updates_have_one_winner(stores: RegisterStores) {
    let rf = register(&stores).await;
    let processor = add_processor(&stores, &rf, "Hosting").await;
    let base = events(&stores, &rf).await;
    let a = edited_processor(&stores, &processor, |f| f.name = "Hosting Alpha".into());
    let b = edited_processor(&stores, &processor, |f| {
        f.dpa_review_on = Some(date!(2028 - 06 - 01));
    });

    let (ra, rb) = tokio::join!(update(&stores, &rf, &a, 1), update(&stores, &rf, &b, 1));
    let (winner, loser) = match (ra, rb) {
        (Ok(()), loser) => (a, loser),
        (loser, Ok(())) => (b, loser),
        (ra, rb) => panic!("exactly one update must win: {ra:?} / {rb:?}"),
    };
    assert_conflict(loser, "version", "the concurrent update that lost");
    assert_eq!(get(&stores, &rf, processor.id).await, winner);
    assert_chain(&stores, rf.scope(), base + 1, "one event for one winner").await;
}

pub async fn other_tenants_processors_are_out_of_reach(stores: RegisterStores) {
    let a = register(&stores).await;
    let b = register(&stores).await;
    let processor = add_processor(&stores, &a, "Hosting").await;
    let activity = add_activity(&stores, &a, "Payroll", &[processor.id]).await;
    let b_own = add_processor(&stores, &b, "Globex Hosting").await;
    let b_events = events(&stores, &b).await;

    assert_not_found(
        stores.processors.get(b.scope(), processor.id).await,
        "B reading A's processor",
    );
    let listed = list(&stores, &b, query()).await;
    assert_eq!(
        listed.items.iter().map(|p| p.id).collect::<Vec<_>>(),
        [b_own.id],
        "B's list holds only B's processors"
    );
    let all = stores.processors.all(b.scope()).await.unwrap();
    assert_eq!(all.iter().map(|p| p.id).collect::<Vec<_>>(), [b_own.id]);
    assert_eq!(
        ids(
            &stores,
            &b,
            ProcessorQuery {
                parent: Some(processor.id),
                ..query()
            }
        )
        .await,
        Vec::<Uuid>::new()
    );

    let hijack = edited_processor(&stores, &processor, |f| f.name = "Hijacked".into());
    assert_not_found(
        update(&stores, &b, &hijack, 1).await,
        "B updating A's processor",
    );
    let mut moved = hijack.clone();
    moved.tenant_id = b.fx.tenant.id;
    assert_not_found(
        update(&stores, &b, &moved, 1).await,
        "B updating A's processor under its own tenant id",
    );
    assert_not_found(
        delete(&stores, &b, processor.id, 1).await,
        "B deleting A's processor",
    );
    let mut claimed = new_processor(&stores, &b, "Claimed");
    claimed.tenant_id = a.fx.tenant.id;
    let result = stores
        .processors
        .insert(
            b.scope(),
            &claimed,
            reg_event(&b, "processor.created", "processor", claimed.id),
        )
        .await;
    assert!(
        result.is_err(),
        "B inserting a processor of A must be refused: {result:?}"
    );
    for scope in [a.scope(), b.scope()] {
        assert_not_found(
            stores.processors.get(scope, claimed.id).await,
            "the refused insert is nowhere",
        );
    }
    let mut sub = new_processor(&stores, &b, "Sub of A's");
    sub.fields.parent_id = Some(processor.id);
    assert_not_found(
        stores
            .processors
            .insert(
                b.scope(),
                &sub,
                reg_event(&b, "processor.created", "processor", sub.id),
            )
            .await,
        "B's sub-processor of A's processor",
    );

    let stored = get(&stores, &a, processor.id).await;
    assert_eq!(stored.fields, processor.fields, "A's row unchanged");
    assert_eq!(stored.activity_ids, [activity.id]);
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
        REGISTER_EVENTS + 3,
        "A's chain untouched",
    )
    .await;
}

pub async fn all_is_oldest_first(stores: RegisterStores) {
    let rf = register(&stores).await;
    let mut expected = Vec::new();
    for name in ["Mailer", "Hosting", "Analytics", "Payroll Cloud"] {
        expected.push(add_processor(&stores, &rf, name).await);
    }
    expected.sort_by_key(|p| p.id);
    assert_eq!(stores.processors.all(rf.scope()).await.unwrap(), expected);
}

pub async fn list_filters(stores: RegisterStores) {
    let rf = register(&stores).await;
    // Signed, review on 2027-06-01.
    let signed = add_processor(&stores, &rf, "Hosting Europe").await;
    let mut soon = new_processor(&stores, &rf, "Mailer");
    soon.fields.dpa_review_on = Some(date!(2026 - 04 - 30));
    insert_processor(&stores, &rf, &soon).await;
    let mut draft = new_processor(&stores, &rf, "Analytics");
    draft.fields.dpa_status = DpaStatus::Draft;
    draft.fields.dpa_signed_on = None;
    draft.fields.dpa_review_on = None;
    insert_processor(&stores, &rf, &draft).await;
    let mut none = new_processor(&stores, &rf, "HOSTING backup");
    none.fields.dpa_status = DpaStatus::None;
    none.fields.dpa_signed_on = None;
    none.fields.dpa_review_on = None;
    none.fields.parent_id = Some(signed.id);
    insert_processor(&stores, &rf, &none).await;
    let mut signed_open = new_processor(&stores, &rf, "Payroll Cloud");
    signed_open.fields.dpa_review_on = None;
    signed_open.fields.parent_id = Some(signed.id);
    insert_processor(&stores, &rf, &signed_open).await;

    let q = query;
    assert_eq!(
        ids(&stores, &rf, q()).await,
        sorted_ids(&[&signed, &soon, &draft, &none, &signed_open])
    );
    assert_eq!(
        ids(
            &stores,
            &rf,
            ProcessorQuery {
                dpa_status: Some(DpaStatus::Signed),
                ..q()
            }
        )
        .await,
        sorted_ids(&[&signed, &soon, &signed_open]),
        "dpa_status"
    );
    assert_eq!(
        ids(
            &stores,
            &rf,
            ProcessorQuery {
                dpa_status: Some(DpaStatus::None),
                ..q()
            }
        )
        .await,
        sorted_ids(&[&none]),
        "dpa_status none"
    );
    assert_eq!(
        ids(
            &stores,
            &rf,
            ProcessorQuery {
                dpa_attention_by: Some(date!(2026 - 04 - 29)),
                ..q()
            }
        )
        .await,
        sorted_ids(&[&draft, &none]),
        "attention: missing or unsigned agreements"
    );
    assert_eq!(
        ids(
            &stores,
            &rf,
            ProcessorQuery {
                dpa_attention_by: Some(date!(2026 - 04 - 30)),
                ..q()
            }
        )
        .await,
        sorted_ids(&[&soon, &draft, &none]),
        "attention: a review due on the date counts"
    );
    assert_eq!(
        ids(
            &stores,
            &rf,
            ProcessorQuery {
                dpa_attention_by: Some(date!(2030 - 01 - 01)),
                ..q()
            }
        )
        .await,
        sorted_ids(&[&signed, &soon, &draft, &none]),
        "attention: signed without a review date never needs it"
    );
    for p in [&signed, &soon, &draft, &none, &signed_open] {
        let by = date!(2026 - 04 - 30);
        let listed = ids(
            &stores,
            &rf,
            ProcessorQuery {
                dpa_attention_by: Some(by),
                ..q()
            },
        )
        .await;
        assert_eq!(
            listed.contains(&p.id),
            p.fields.dpa_needs_attention(by),
            "the filter is ProcessorFields::dpa_needs_attention"
        );
    }
    assert_eq!(
        ids(
            &stores,
            &rf,
            ProcessorQuery {
                parent: Some(signed.id),
                ..q()
            }
        )
        .await,
        sorted_ids(&[&none, &signed_open]),
        "sub-processors of a parent"
    );
    assert_eq!(
        ids(
            &stores,
            &rf,
            ProcessorQuery {
                search: Some("hosting".into()),
                ..q()
            }
        )
        .await,
        sorted_ids(&[&signed, &none]),
        "search is a case-insensitive substring of the name"
    );
    assert_eq!(
        ids(
            &stores,
            &rf,
            ProcessorQuery {
                search: Some("Hosting".into()),
                parent: Some(signed.id),
                dpa_status: Some(DpaStatus::None),
                ..q()
            }
        )
        .await,
        sorted_ids(&[&none]),
        "filters combine"
    );
}

pub async fn list_pages_through_every_sort(stores: RegisterStores) {
    let rf = register(&stores).await;
    let other = register(&stores).await;
    add_processor(&stores, &other, "Payroll").await;
    let base = now(&stores);
    let mut rows = Vec::new();
    for (i, name) in LIST_NAMES.iter().enumerate() {
        let mut processor = new_processor(&stores, &rf, name);
        processor.updated_at = list_updated_at(base, i);
        insert_processor(&stores, &rf, &processor).await;
        rows.push(processor);
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
                        ProcessorQuery {
                            sort,
                            after,
                            limit,
                            ..query()
                        },
                    )
                    .await
                }
            },
            "processors",
        )
        .await;
    }
}

pub async fn writes_keep_a_valid_chain(stores: RegisterStores) {
    let rf = register(&stores).await;
    let mut expected = events(&stores, &rf).await;
    let processor = add_processor(&stores, &rf, "Hosting").await;
    expected += 1;
    let next = edited_processor(&stores, &processor, |f| f.dpa_status = DpaStatus::Signed);
    update(&stores, &rf, &next, 1).await.unwrap();
    expected += 1;
    let activity = add_activity(&stores, &rf, "Payroll", &[processor.id]).await;
    expected += 1;
    assert!(
        delete(&stores, &rf, processor.id, 2).await.is_err(),
        "in use"
    );
    assert!(update(&stores, &rf, &next, 1).await.is_err(), "stale");
    stores
        .activities
        .delete(
            rf.scope(),
            activity.id,
            1,
            reg_event(&rf, "activity.deleted", "activity", activity.id),
        )
        .await
        .unwrap();
    expected += 1;
    delete(&stores, &rf, processor.id, 2).await.unwrap();
    expected += 1;

    let records = assert_chain(&stores, rf.scope(), expected, "processor writes").await;
    let actions: Vec<&str> = records[records.len() - 5..]
        .iter()
        .map(|r| r.action.as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "processor.created",
            "processor.updated",
            "activity.created",
            "activity.deleted",
            "processor.deleted"
        ]
    );
}
