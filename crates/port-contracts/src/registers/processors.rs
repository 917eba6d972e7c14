//! Processors on the record kernel: their fixture (a signed Art. 28 agreement) and the
//! contracts only processors owe: sub-processors name a parent of the tenant, the
//! derived `activity_ids`, the in-use rule of deletes, and each list filter. The
//! contracts every kernel register owes are in [`records`](super::records).

use aura_gdpr_registers::{
    Activities, ActivityId, Art28Clauses, DpaStatus, Processor, ProcessorFields, ProcessorFilter,
    ProcessorId, Processors, TransferMechanism,
};
use aura_records::{Id, RecordKind, RecordStore};
use aura_shared_kernel::Conflict;
use time::macros::date;

use crate::{
    RegisterStores,
    fixtures::{assert_conflict, assert_not_found},
    registers::{
        RegisterFixture, add_activity, assert_chain, assert_last_event, assert_untouched, country,
        events,
        records::{
            FilterCase, RecordFixture, all, assert_filters, assert_unchanged, assert_unresolved,
            delete, edited, get, ids, insert, list, new_record, query, try_insert, update,
        },
        register,
    },
};

/// A processor with a signed Art. 28 agreement covering every clause, reviewed in 2027.
pub fn processor_fields(name: &str) -> ProcessorFields {
    ProcessorFields {
        name: name.to_owned(),
        contact_name: Some("Privacy Team".to_owned()),
        contact_email: Some("privacy@processor.example".to_owned()),
        country: Some(country("DE")),
        services: Some("Payroll processing and payslip delivery".to_owned()),
        data_categories: vec!["Bank details".to_owned(), "Salary".to_owned()],
        transfer_mechanism: None,
        dpa_status: DpaStatus::Signed,
        dpa_signed_on: Some(date!(2025 - 06 - 01)),
        dpa_review_on: Some(date!(2027 - 06 - 01)),
        clauses: Art28Clauses {
            documented_instructions: true,
            confidentiality: true,
            security: true,
            sub_processors: true,
            data_subject_rights: true,
            assistance: true,
            deletion_or_return: true,
            audits: true,
        },
        parent_id: None,
    }
    .validated()
    .expect("a complete processor is valid")
}

/// A new processor (version 1, created now), not stored.
pub fn new_processor(stores: &RegisterStores, rf: &RegisterFixture, name: &str) -> Processor {
    new_record(stores, rf, processor_fields(name))
}

/// Stores a new processor and returns it.
pub async fn add_processor(stores: &RegisterStores, rf: &RegisterFixture, name: &str) -> Processor {
    let processor = new_processor(stores, rf, name);
    insert(stores, rf, &processor).await
}

/// A sub-processor of `parent`, stored.
async fn add_sub_processor(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    name: &str,
    parent: ProcessorId,
) -> Processor {
    let mut sub = new_processor(stores, rf, name);
    sub.fields.parent_id = Some(parent);
    insert(stores, rf, &sub).await
}

impl RecordFixture for Processors {
    /// A top-level processor links to nothing.
    type Links = ();

    fn store(stores: &RegisterStores) -> &dyn RecordStore<Self> {
        stores.processors.as_ref()
    }

    async fn links(_: &RegisterStores, _: &RegisterFixture) {}

    fn fields(_: &RegisterFixture, name: &str, _: &()) -> ProcessorFields {
        processor_fields(name)
    }

    /// A processor in a third country under SCCs whose agreement is still a draft,
    /// missing its audit clause.
    fn vary(f: &mut ProcessorFields) {
        f.country = Some(country("US"));
        f.transfer_mechanism = Some(TransferMechanism::StandardContractualClauses);
        f.dpa_status = DpaStatus::Draft;
        f.dpa_signed_on = None;
        f.dpa_review_on = None;
        f.clauses.audits = false;
        f.contact_name = None;
    }

    fn edit(f: &mut ProcessorFields) {
        f.dpa_review_on = Some(date!(2028 - 06 - 01));
        f.services = Some("Payroll processing, payslips and year-end statements".to_owned());
        f.data_categories
            .push("Tax identification numbers".to_owned());
        f.clauses.assistance = false;
    }

    fn rename(f: &mut ProcessorFields, name: &str) {
        f.name = name.to_owned();
    }
}

/// The ids of the activities that link to `processor` (its derived `activity_ids`).
pub async fn linking(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    processor: ProcessorId,
) -> Vec<ActivityId> {
    get(stores, rf, processor).await.derived.activity_ids
}

/// No activity links to `processor`; `what` says why none should.
pub async fn assert_unlinked(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    processor: ProcessorId,
    what: &str,
) {
    let linking = linking(stores, rf, processor).await;
    assert!(linking.is_empty(), "{what}: {linking:?}");
}

pub async fn sub_processors_name_a_parent_of_the_tenant(stores: RegisterStores) {
    let a = register(&stores).await;
    let b = register(&stores).await;
    let parent = add_processor(&stores, &a, "Hosting").await;
    let foreign = add_processor(&stores, &b, "Globex Hosting").await;
    let base = events(&stores, &a).await;

    for (missing, what) in [(Id::generate(), "an unknown"), (foreign.id, "B's")] {
        let mut sub = new_processor(&stores, &a, "Data Centre");
        sub.fields.parent_id = Some(missing);
        assert_unresolved(
            try_insert(&stores, &a, &sub).await,
            &["parent_id"],
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
    let moved = edited(&stores, &sub, |f| f.parent_id = Some(foreign.id));
    assert_unresolved(
        update(&stores, &a, &moved, 1).await,
        &["parent_id"],
        "moving a sub-processor under B's processor",
    );
    assert_eq!(
        get(&stores, &a, sub.id).await,
        sub,
        "the refused update changed nothing"
    );
    let top = edited(&stores, &sub, |f| f.parent_id = None);
    update(&stores, &a, &top, 1)
        .await
        .expect("detach from the parent");
    assert_eq!(get(&stores, &a, sub.id).await, top);
}

pub async fn activity_ids_are_the_linking_activities_sorted(stores: RegisterStores) {
    let rf = register(&stores).await;
    let hosting = add_processor(&stores, &rf, "Hosting").await;
    let mailer = add_processor(&stores, &rf, "Mailer").await;
    let mut linked = Vec::new();
    for name in ["Payroll", "Recruiting", "Newsletter"] {
        linked.push(add_activity(&stores, &rf, name, &[hosting.id]).await);
    }
    let unrelated = add_activity(&stores, &rf, "Visitors", &[mailer.id]).await;
    let mut expected: Vec<ActivityId> = linked.iter().map(|a| a.id).collect();
    expected.sort();

    assert_eq!(
        linking(&stores, &rf, hosting.id).await,
        expected,
        "get: linking activities, sorted"
    );
    let listed = list::<Processors>(&stores, &rf, query::<Processors>()).await;
    let in_list = listed.items.iter().find(|p| p.id == hosting.id).unwrap();
    assert_eq!(in_list.derived.activity_ids, expected, "list");
    let every = all::<Processors>(&stores, &rf).await;
    let in_all = every.iter().find(|p| p.id == hosting.id).unwrap();
    assert_eq!(in_all.derived.activity_ids, expected, "all");
    assert_eq!(linking(&stores, &rf, mailer.id).await, [unrelated.id]);

    // Unlinking in an update and deleting an activity both drop it.
    let unlinked = edited(&stores, &linked[0], |f| f.processor_ids = vec![mailer.id]);
    update(&stores, &rf, &unlinked, 1).await.unwrap();
    delete::<Activities>(&stores, &rf, linked[1].id, 1)
        .await
        .unwrap();
    assert_eq!(linking(&stores, &rf, hosting.id).await, [linked[2].id]);
    let mut mailer_ids = vec![unrelated.id, linked[0].id];
    mailer_ids.sort();
    assert_eq!(linking(&stores, &rf, mailer.id).await, mailer_ids);

    // What the caller passes in `activity_ids` is not stored: it is derived.
    let mut claimed = edited(&stores, &hosting, |f| f.services = Some("Hosting".into()));
    claimed.derived.activity_ids = vec![Id::generate()];
    update(&stores, &rf, &claimed, 1).await.unwrap();
    assert_eq!(linking(&stores, &rf, hosting.id).await, [linked[2].id]);
}

pub async fn a_linked_processor_is_in_use(stores: RegisterStores) {
    let rf = register(&stores).await;
    let hosting = add_processor(&stores, &rf, "Hosting").await;
    let activity = add_activity(&stores, &rf, "Payroll", &[hosting.id]).await;
    let base = events(&stores, &rf).await;

    assert_conflict(
        delete(&stores, &rf, hosting.id, 1).await,
        Conflict::InUse,
        "deleting a processor an activity links to",
    );
    assert_eq!(linking(&stores, &rf, hosting.id).await, [activity.id]);
    assert_eq!(
        get(&stores, &rf, activity.id).await,
        activity,
        "the activity keeps its link"
    );
    assert_chain(&stores, rf.scope(), base, "no event for a refused delete").await;

    let unlinked = edited(&stores, &activity, |f| f.processor_ids.clear());
    update(&stores, &rf, &unlinked, 1).await.unwrap();
    delete(&stores, &rf, hosting.id, 1)
        .await
        .expect("an unlinked processor can go");
    assert_last_event(&stores, &rf, &Processors::ACTIONS.deleted, hosting.id).await;
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
        Conflict::InUse,
        "deleting a processor with sub-processors",
    );
    assert_unchanged(&stores, &rf, &parent, base, "a refused delete").await;

    delete(&stores, &rf, sub.id, 1)
        .await
        .expect("a leaf can go");
    delete(&stores, &rf, parent.id, 1)
        .await
        .expect("without sub-processors the parent can go");
    assert!(all::<Processors>(&stores, &rf).await.is_empty());
    assert_chain(&stores, rf.scope(), base + 2, "two deletes").await;
}

/// Another tenant can neither list A's sub-processors nor hang one under A's processor;
/// A's processor keeps its links.
pub async fn another_tenants_processor_is_no_parent(stores: RegisterStores) {
    let a = register(&stores).await;
    let b = register(&stores).await;
    let processor = add_processor(&stores, &a, "Hosting").await;
    let activity = add_activity(&stores, &a, "Payroll", &[processor.id]).await;
    add_processor(&stores, &b, "Globex Hosting").await;
    let a_events = events(&stores, &a).await;
    let b_events = events(&stores, &b).await;

    assert_eq!(
        ids::<Processors>(
            &stores,
            &b,
            ProcessorFilter {
                parent: Some(processor.id),
                ..ProcessorFilter::default()
            }
        )
        .await,
        Vec::<ProcessorId>::new(),
        "B filtering by A's processor"
    );
    let mut sub = new_processor(&stores, &b, "Sub of A's");
    sub.fields.parent_id = Some(processor.id);
    assert_unresolved(
        try_insert(&stores, &b, &sub).await,
        &["parent_id"],
        "B's sub-processor of A's processor",
    );

    let stored = get(&stores, &a, processor.id).await;
    assert_eq!(stored.fields, processor.fields, "A's row unchanged");
    assert_eq!(stored.derived.activity_ids, [activity.id]);
    assert_untouched(&stores, &[(&a, a_events), (&b, b_events)]).await;
}

pub async fn list_filters(stores: RegisterStores) {
    let rf = register(&stores).await;
    // Signed, review on 2027-06-01.
    let signed = add_processor(&stores, &rf, "Hosting Europe").await;
    let mut soon = new_processor(&stores, &rf, "Mailer");
    soon.fields.dpa_review_on = Some(date!(2026 - 04 - 30));
    insert(&stores, &rf, &soon).await;
    let mut draft = new_processor(&stores, &rf, "Analytics");
    draft.fields.dpa_status = DpaStatus::Draft;
    draft.fields.dpa_signed_on = None;
    draft.fields.dpa_review_on = None;
    insert(&stores, &rf, &draft).await;
    let mut none = new_processor(&stores, &rf, "HOSTING backup");
    none.fields.dpa_status = DpaStatus::None;
    none.fields.dpa_signed_on = None;
    none.fields.dpa_review_on = None;
    none.fields.parent_id = Some(signed.id);
    insert(&stores, &rf, &none).await;
    let mut signed_open = new_processor(&stores, &rf, "Payroll Cloud");
    signed_open.fields.dpa_review_on = None;
    signed_open.fields.parent_id = Some(signed.id);
    insert(&stores, &rf, &signed_open).await;

    let every = [&signed, &soon, &draft, &none, &signed_open];
    let cases: &[FilterCase<Processors>] = &[
        (&|_| {}, &every, "no filter"),
        (
            &|f| f.dpa_status = Some(DpaStatus::Signed),
            &[&signed, &soon, &signed_open],
            "dpa_status",
        ),
        (
            &|f| f.dpa_status = Some(DpaStatus::None),
            &[&none],
            "dpa_status none",
        ),
        (
            &|f| f.dpa_attention_by = Some(date!(2026 - 04 - 29)),
            &[&draft, &none],
            "attention: missing or unsigned agreements",
        ),
        (
            &|f| f.dpa_attention_by = Some(date!(2026 - 04 - 30)),
            &[&soon, &draft, &none],
            "attention: a review due on the date counts",
        ),
        (
            &|f| f.dpa_attention_by = Some(date!(2030 - 01 - 01)),
            &[&signed, &soon, &draft, &none],
            "attention: signed without a review date never needs it",
        ),
        (
            &|f| f.parent = Some(signed.id),
            &[&none, &signed_open],
            "sub-processors of a parent",
        ),
        (
            &|f| f.search = Some("hosting".into()),
            &[&signed, &none],
            "search is a case-insensitive substring of the name",
        ),
        (
            &|f| {
                f.search = Some("Hosting".into());
                f.parent = Some(signed.id);
                f.dpa_status = Some(DpaStatus::None);
            },
            &[&none],
            "filters combine",
        ),
    ];
    assert_filters(&stores, &rf, cases).await;
    let by = date!(2026 - 04 - 30);
    let attention = ProcessorFilter {
        dpa_attention_by: Some(by),
        ..ProcessorFilter::default()
    };
    let found = ids::<Processors>(&stores, &rf, attention).await;
    for p in every {
        assert_eq!(
            found.contains(&p.id),
            p.fields.dpa_needs_attention(by),
            "the filter is ProcessorFields::dpa_needs_attention"
        );
    }
}

/// Refused deletes of a linked processor and stale updates leave no event between the
/// writes around the link.
pub async fn refused_deletes_keep_a_valid_chain(stores: RegisterStores) {
    let rf = register(&stores).await;
    let mut expected = events(&stores, &rf).await;
    let processor = add_processor(&stores, &rf, "Hosting").await;
    expected += 1;
    let next = edited(&stores, &processor, |f| f.dpa_status = DpaStatus::Signed);
    update(&stores, &rf, &next, 1).await.unwrap();
    expected += 1;
    let activity = add_activity(&stores, &rf, "Payroll", &[processor.id]).await;
    expected += 1;
    assert!(
        delete(&stores, &rf, processor.id, 2).await.is_err(),
        "in use"
    );
    assert!(update(&stores, &rf, &next, 1).await.is_err(), "stale");
    delete(&stores, &rf, activity.id, 1).await.unwrap();
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
            &Processors::ACTIONS.created,
            &Processors::ACTIONS.updated,
            &Activities::ACTIONS.created,
            &Activities::ACTIONS.deleted,
            &Processors::ACTIONS.deleted,
        ]
        .map(|action| action.as_str())
    );
}
