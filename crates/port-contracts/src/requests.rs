//! The data-subject request store's own contracts (`RecordStore<Requests>`), on every
//! adapter: references numbered per tenant and year and never reused, the case's state
//! and dates stored as written, the list's filters, checklist references checked in the
//! write, and another tenant's requests out of reach.

use aura_records::{ListQuery, RecordKind, RecordStore};
use aura_requests::{
    ChecklistItem, ItemKind, NewChecklistItem, add_item,
    request::{
        Answer, Channel, DataSubject, DataSubjectRequest, Extension, IdentityVerification, Outcome,
        RequestFields, RequestFilter, RequestStatus, Requests, Right, SubjectCategory,
        VerificationMethod,
    },
};
use aura_shared_kernel::StoreError;
use time::{
    OffsetDateTime,
    macros::{date, datetime},
};

use crate::{
    RegisterStores,
    fixtures::assert_not_found,
    registers::{
        RegisterFixture, add_activity, assert_chain, events,
        records::{new_record, record_event, try_insert_into, update_in},
        register,
    },
};

/// When the contracts' requests arrive unless the dates matter.
const RECEIVED: OffsetDateTime = datetime!(2027-03-01 09:00 UTC);

fn store(stores: &RegisterStores) -> &dyn RecordStore<Requests> {
    stores.requests.as_ref()
}

/// Complete fields of a request received at `received_at` from `email`.
pub fn request_fields(received_at: OffsetDateTime, email: &str) -> RequestFields {
    RequestFields {
        received_at,
        channel: Channel::Email,
        subject: DataSubject {
            name: "Erika Mustermann".to_owned(),
            email: Some(email.to_owned()),
            contact: Some("Heidestraße 17\n51147 Köln".to_owned()),
            category: SubjectCategory::Customer,
        },
        agent: None,
        rights: vec![Right::Access, Right::Erasure],
        scope: Some("Everything about my customer account 4711".to_owned()),
        assignee_id: None,
    }
}

async fn insert(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    request: &DataSubjectRequest,
) -> DataSubjectRequest {
    try_insert_into(store(stores), rf, request)
        .await
        .expect("insert a fresh request")
}

async fn add(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    received_at: OffsetDateTime,
    email: &str,
) -> DataSubjectRequest {
    let request = new_record::<Requests>(stores, rf, request_fields(received_at, email));
    insert(stores, rf, &request).await
}

async fn update(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    request: &DataSubjectRequest,
    expected: i32,
) -> Result<DataSubjectRequest, StoreError> {
    update_in(store(stores), rf, request, expected).await
}

async fn listed(
    stores: &RegisterStores,
    rf: &RegisterFixture,
    filter: RequestFilter,
) -> Vec<String> {
    let query = ListQuery {
        filter,
        limit: 100,
        ..ListQuery::default()
    };
    let page = store(stores)
        .list(rf.scope(), &query)
        .await
        .expect("list requests");
    page.items
        .into_iter()
        .map(|r| r.derived.reference)
        .collect()
}

pub async fn references_are_numbered_per_tenant_and_year(stores: RegisterStores) {
    let a = register(&stores).await;
    let b = register(&stores).await;
    let base = events(&stores, &a).await;
    let jan = datetime!(2027-01-04 09:00 UTC);
    let first = add(&stores, &a, jan, "one@example.org").await;
    let second = add(&stores, &a, jan, "two@example.org").await;
    let next_january = datetime!(2028-01-03 09:00 UTC);
    let other_year = add(&stores, &a, next_january, "three@example.org").await;
    let other_tenant = add(&stores, &b, jan, "four@example.org").await;
    assert_eq!(first.derived.reference, "DSR-2027-0001");
    assert_eq!(second.derived.reference, "DSR-2027-0002");
    assert_eq!(other_year.derived.reference, "DSR-2028-0001");
    assert_eq!(
        other_tenant.derived.reference, "DSR-2027-0001",
        "numbers are per tenant"
    );
    // A deleted request's number is not given again.
    store(&stores)
        .delete(
            a.scope(),
            second.id,
            1,
            record_event(&a, &Requests::ACTIONS.deleted, second.id),
        )
        .await
        .expect("delete");
    let third = add(&stores, &a, jan, "five@example.org").await;
    assert_eq!(third.derived.reference, "DSR-2027-0003");
    // An update keeps the reference whatever the record carries.
    let mut moved = third.clone();
    moved.derived.reference = "DSR-1999-0042".to_owned();
    moved.version = 2;
    let written = update(&stores, &a, &moved, 1).await.expect("update");
    assert_eq!(written.derived.reference, "DSR-2027-0003", "the answer too");
    let read = store(&stores).get(a.scope(), third.id).await.expect("get");
    assert_eq!(read.derived.reference, "DSR-2027-0003");
    assert_chain(&stores, a.scope(), base + 6, "five writes and a delete").await;
}

pub async fn the_case_reads_back_as_written(stores: RegisterStores) {
    let rf = register(&stores).await;
    let base = events(&stores, &rf).await;
    // The offset of the receipt is kept: the clock counts from the date there.
    let received = datetime!(2027-01-31 23:30 -05:00);
    let mut request =
        new_record::<Requests>(&stores, &rf, request_fields(received, "erika@example.org"));
    request.fields.assignee_id = Some(rf.member);
    let stored = insert(&stores, &rf, &request).await;
    let read = store(&stores)
        .get(rf.scope(), request.id)
        .await
        .expect("get");
    assert_eq!(read, stored);
    assert_eq!(read.fields, request.fields);
    assert_eq!(read.fields.received_at.offset(), received.offset());
    assert_eq!(read.fields.received_at.date(), date!(2027 - 01 - 31));

    let activity = add_activity(&stores, &rf, "Customer accounts", &[]).await;
    let mut next = read.clone();
    let state = &mut next.derived;
    state.status = RequestStatus::Answered;
    state.identity = IdentityVerification {
        method: Some(VerificationMethod::KnownAccount),
        verified_by: Some(rf.owner()),
        verified_at: Some(datetime!(2027-02-01 10:00 UTC)),
    };
    state.clock_starts_on = Some(date!(2027 - 01 - 31));
    state.first_due_on = Some(date!(2027 - 03 - 01));
    state.extension = Some(Extension {
        months: 2,
        reasons: "Six systems to search".to_owned(),
        told_on: date!(2027 - 02 - 20),
    });
    state.due_on = Some(date!(2027 - 05 - 03));
    state.answer = Some(Answer {
        outcome: Outcome::Fulfilled,
        answered_on: date!(2027 - 04 - 30),
        refusal: None,
    });
    let item = NewChecklistItem {
        kind: ItemKind::Search,
        title: "Search the CRM".to_owned(),
        activity_id: Some(activity.id),
        processor_id: None,
        recipient: None,
        note: None,
        assignee_id: Some(rf.member),
    };
    add_item(&mut state.checklist, item).expect("a valid item");
    next.version = 2;
    let written = update(&stores, &rf, &next, 1).await.expect("update");
    assert_eq!(written, next);
    let read = store(&stores)
        .get(rf.scope(), request.id)
        .await
        .expect("get");
    assert_eq!(read, next, "state, dates and checklist read back");
    assert_chain(
        &stores,
        rf.scope(),
        base + 3,
        "two request writes, one activity",
    )
    .await;
}

pub async fn checklist_references_are_checked_in_the_write(stores: RegisterStores) {
    let a = register(&stores).await;
    let b = register(&stores).await;
    let foreign = add_activity(&stores, &b, "B's activity", &[]).await;
    let request = add(&stores, &a, RECEIVED, "x@example.org").await;
    let base = events(&stores, &a).await;
    let mut next = request.clone();
    let mut item = ChecklistItem::open(
        ItemKind::Search,
        Some(foreign.id),
        None,
        None,
        "Search".into(),
    );
    item.assignee_id = Some(b.fx.owner.id);
    next.derived.checklist.push(item);
    next.version = 2;
    match update(&stores, &a, &next, 1).await {
        Err(StoreError::Invalid(errors)) => {
            let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(
                fields,
                ["checklist[0].activity_id", "checklist[0].assignee_id"]
            );
        }
        other => panic!("a foreign activity and user in a checklist: {other:?}"),
    }
    assert_eq!(events(&stores, &a).await, base, "nothing written");
    let read = store(&stores)
        .get(a.scope(), request.id)
        .await
        .expect("get");
    assert_eq!(read, request);
}

pub async fn list_filters(stores: RegisterStores) {
    let rf = register(&stores).await;
    let mut early = new_record::<Requests>(
        &stores,
        &rf,
        request_fields(datetime!(2027-01-04 09:00 UTC), "Erika@Example.org"),
    );
    early.derived.due_on = Some(date!(2027 - 02 - 04));
    early.fields.assignee_id = Some(rf.member);
    let early = insert(&stores, &rf, &early).await;
    let mut late =
        new_record::<Requests>(&stores, &rf, request_fields(RECEIVED, "max@example.org"));
    late.fields.rights = vec![Right::Rectification];
    late.derived.due_on = Some(date!(2027 - 04 - 01));
    let late = insert(&stores, &rf, &late).await;
    let mut answered = new_record::<Requests>(
        &stores,
        &rf,
        request_fields(datetime!(2027-01-05 09:00 UTC), "max@example.org"),
    );
    answered.derived.status = RequestStatus::Answered;
    answered.derived.due_on = Some(date!(2027 - 02 - 05));
    let answered = insert(&stores, &rf, &answered).await;
    let (e, l, a) = (
        early.derived.reference,
        late.derived.reference,
        answered.derived.reference,
    );

    let cases: Vec<(&str, RequestFilter, Vec<&String>)> = vec![
        ("none", RequestFilter::default(), vec![&e, &l, &a]),
        (
            "status",
            RequestFilter {
                status: Some(RequestStatus::Answered),
                ..Default::default()
            },
            vec![&a],
        ),
        (
            "right",
            RequestFilter {
                right: Some(Right::Rectification),
                ..Default::default()
            },
            vec![&l],
        ),
        (
            "assignee",
            RequestFilter {
                assignee: Some(rf.member),
                ..Default::default()
            },
            vec![&e],
        ),
        (
            "due by",
            RequestFilter {
                due_by: Some(date!(2027 - 02 - 05)),
                ..Default::default()
            },
            vec![&e, &a],
        ),
        // Overdue: open and due before the day; the answered one is not overdue.
        (
            "overdue",
            RequestFilter {
                overdue_on: Some(date!(2027 - 03 - 01)),
                ..Default::default()
            },
            vec![&e],
        ),
        (
            "e-mail, any case",
            RequestFilter {
                email: Some(" erika@EXAMPLE.org ".into()),
                ..Default::default()
            },
            vec![&e],
        ),
        (
            "e-mail",
            RequestFilter {
                email: Some("max@example.org".into()),
                ..Default::default()
            },
            vec![&l, &a],
        ),
        (
            "unknown e-mail",
            RequestFilter {
                email: Some("nobody@example.org".into()),
                ..Default::default()
            },
            vec![],
        ),
    ];
    for (what, filter, expected) in cases {
        let mut found = listed(&stores, &rf, filter).await;
        found.sort();
        let mut expected: Vec<String> = expected.into_iter().cloned().collect();
        expected.sort();
        assert_eq!(found, expected, "filter {what}");
    }
}

pub async fn other_tenants_requests_are_out_of_reach(stores: RegisterStores) {
    let a = register(&stores).await;
    let b = register(&stores).await;
    let theirs = add(&stores, &b, RECEIVED, "same@example.org").await;
    assert_not_found(
        store(&stores).get(a.scope(), theirs.id).await,
        "get B's request",
    );
    let filter = RequestFilter {
        email: Some("same@example.org".into()),
        ..Default::default()
    };
    assert!(
        listed(&stores, &a, filter).await.is_empty(),
        "not by e-mail either"
    );
    let mut moved = theirs.clone();
    moved.tenant_id = a.fx.tenant.id;
    moved.version = 2;
    assert_not_found(update(&stores, &a, &moved, 1).await, "update B's request");
    assert_not_found(
        store(&stores)
            .delete(
                a.scope(),
                theirs.id,
                1,
                record_event(&a, &Requests::ACTIONS.deleted, theirs.id),
            )
            .await,
        "delete B's request",
    );
    let read = store(&stores)
        .get(b.scope(), theirs.id)
        .await
        .expect("still B's");
    assert_eq!(read, theirs);
}
