//! The breach register's store (`RecordStore<Breaches>`) on every adapter: the shared
//! record contracts through its [`RecordFixture`], and its own: the decisions read back
//! as written, the affected activities and processors named only in the tenant, the
//! list's filters (drills apart) and the deadline sort.

use aura_breaches::{
    Breach, BreachFields, BreachFilter, BreachGap, BreachKind, BreachState, BreachStatus, Breaches,
    NoCommunicationGround, NotNotifiedDecision, NotificationPhase, RiskAssessment, RiskLevel,
    SubjectCommunication, authority_deadline, gaps,
};
use aura_gdpr_registers::{ActivityId, ProcessorId};
use aura_records::{Id, ListQuery, RecordKind, RecordStore, RecordUseCases, Sort};
use aura_shared_kernel::Clock;
use std::sync::Arc;
use time::{OffsetDateTime, macros::datetime};

use crate::{
    RegisterStores,
    registers::{
        RegisterFixture, add_activity, add_processor, assert_chain, assert_untouched, events,
        records::{
            FilterCase, RecordFixture, assert_filters, assert_unresolved, get, insert, new_record,
            try_insert, update,
        },
        register,
    },
};

impl RegisterStores {
    /// The breach register's use cases over these stores, with its rules as the binary
    /// wires them (the organisation profile, the activities, the IANA time zones): for
    /// the use-case tests of every crate that drives breaches.
    pub fn breach_use_cases(&self, clock: Arc<dyn Clock>) -> RecordUseCases<Breaches> {
        let rules = aura_breaches::BreachRules {
            clock: clock.clone(),
            organisation: self.organisation.clone(),
            activities: self.activities.clone(),
            zones: Arc::new(aura_adapter_holidays::IanaTimeZones::new()),
        };
        let (store, audit) = (self.breaches.clone(), self.audit.clone());
        RecordUseCases::new(store, Arc::new(rules), audit, clock)
    }
}

/// Complete fields of a breach titled `title` the organisation became aware of at
/// `aware`, affecting `links`.
pub fn breach_fields(
    title: &str,
    aware: OffsetDateTime,
    owner: Option<aura_shared_kernel::UserId>,
    links: &(Vec<ActivityId>, Vec<ProcessorId>),
) -> BreachFields {
    BreachFields {
        title: title.to_owned(),
        description: Some("A laptop with the customer list was stolen from a car.".to_owned()),
        discovery: Some("Reported by the employee the next morning".to_owned()),
        became_aware_at: aware,
        occurred_from: Some(aware - time::Duration::hours(15)),
        occurred_to: Some(aware - time::Duration::hours(2)),
        kinds: vec![BreachKind::Availability, BreachKind::Confidentiality],
        data_subject_categories: vec!["Customers".to_owned()],
        approximate_subjects: Some(1_200),
        data_categories: vec!["Contact data".to_owned(), "Order history".to_owned()],
        approximate_records: Some(4_800),
        activity_ids: links.0.clone(),
        processor_ids: links.1.clone(),
        consequences: Some("Phishing against the customers concerned".to_owned()),
        measures: Some("Device wiped remotely; customers warned".to_owned()),
        contact_point: Some("dpo@example.org, +49 30 1234567".to_owned()),
        drill: false,
        owner_id: owner,
        assignee_id: owner,
    }
}

const AWARE: OffsetDateTime = datetime!(2027-03-05 08:00 UTC);

impl RecordFixture for Breaches {
    /// The activities and processors a complete breach affects.
    type Links = (Vec<ActivityId>, Vec<ProcessorId>);

    fn store(stores: &RegisterStores) -> &dyn RecordStore<Self> {
        stores.breaches.as_ref()
    }

    async fn links(stores: &RegisterStores, rf: &RegisterFixture) -> Self::Links {
        let processor = add_processor(stores, rf, "Mail Cloud").await.id;
        let activity = add_activity(stores, rf, "Customer accounts", &[processor]).await;
        (vec![activity.id], vec![processor])
    }

    fn fields(rf: &RegisterFixture, name: &str, links: &Self::Links) -> BreachFields {
        breach_fields(name, AWARE, Some(rf.member), links)
    }

    /// An integrity breach known little about yet: no period, numbers, links or owner.
    fn vary(f: &mut BreachFields) {
        f.kinds = vec![BreachKind::Integrity];
        f.description = None;
        f.discovery = None;
        f.occurred_from = None;
        f.occurred_to = None;
        f.data_subject_categories.clear();
        f.approximate_subjects = None;
        f.data_categories.clear();
        f.approximate_records = None;
        f.activity_ids.clear();
        f.processor_ids.clear();
        f.consequences = None;
        f.measures = None;
        f.contact_point = None;
        f.owner_id = None;
        f.assignee_id = None;
    }

    fn edit(f: &mut BreachFields) {
        f.became_aware_at -= time::Duration::hours(6);
        f.data_categories.push("Bank details".to_owned());
        f.approximate_subjects = Some(1_350);
        f.measures = Some("Passwords reset; the laptop fleet is encrypted now".to_owned());
    }

    fn rename(f: &mut BreachFields, name: &str) {
        f.title = name.to_owned();
    }
}

fn store(stores: &RegisterStores) -> &dyn RecordStore<Breaches> {
    stores.breaches.as_ref()
}

/// A new breach with `fields`, its deadline and gaps derived as the domain's rules do;
/// not stored.
fn new_breach(stores: &RegisterStores, rf: &RegisterFixture, fields: BreachFields) -> Breach {
    let mut breach = new_record::<Breaches>(stores, rf, fields);
    breach.derived.authority_deadline = authority_deadline(breach.fields.became_aware_at);
    breach.derived.missing = gaps(&breach.fields, &breach.derived);
    breach
}

pub async fn decisions_read_back_as_written(stores: RegisterStores) {
    let rf = register(&stores).await;
    let links = Breaches::links(&stores, &rf).await;
    let base = events(&stores, &rf).await;
    let breach = new_breach(&stores, &rf, Breaches::fields(&rf, "Laptop", &links));
    let stored = insert(&stores, &rf, &breach).await;
    let breach = Breach {
        derived: BreachState {
            reference: "BR-2027-0001".to_owned(),
            ..breach.derived
        },
        ..breach
    };
    assert_eq!(stored, breach, "as given, with its reference");

    let mut next = stored.clone();
    let state = &mut next.derived;
    state.status = BreachStatus::Closed;
    state.risk = Some(RiskAssessment {
        level: RiskLevel::HighRisk,
        reasoning: "Unencrypted customer data".to_owned(),
        assessed_by: Some(rf.member),
        assessed_at: datetime!(2027-03-05 10:00 UTC),
    });
    state.notifications = vec![
        NotificationPhase {
            sent_at: datetime!(2027-03-09 09:00 UTC),
            authority_reference: Some("LDI-2027-113".to_owned()),
            content: "Initial notification".to_owned(),
            to_follow: vec![BreachGap::ApproximateRecords],
            delay_reasons: Some("The theft was reported late by the police".to_owned()),
            recorded_by: Some(rf.member),
        },
        NotificationPhase {
            sent_at: datetime!(2027-03-12 09:00 UTC),
            authority_reference: None,
            content: "The number of records".to_owned(),
            to_follow: vec![],
            delay_reasons: None,
            recorded_by: Some(rf.owner()),
        },
    ];
    state.not_notified = Some(NotNotifiedDecision {
        reasoning: "first thought harmless".to_owned(),
        decided_by: Some(rf.owner()),
        decided_at: datetime!(2027-03-05 12:00 UTC),
    });
    state.communication = Some(SubjectCommunication::NotCommunicated {
        ground: NoCommunicationGround::DisproportionateEffort,
        reasoning: "Public notice on the web site instead".to_owned(),
        recorded_by: Some(rf.owner()),
        decided_at: datetime!(2027-03-13 09:00 UTC),
    });
    state.closed_at = Some(datetime!(2027-03-20 09:00 UTC));
    state.closed_by = Some(rf.owner());
    state.missing = vec![BreachGap::ContactPoint];
    next.version = 2;
    let written = update(&stores, &rf, &next, 1).await.expect("update");
    assert_eq!(written, next);
    assert_eq!(
        get(&stores, &rf, breach.id).await,
        next,
        "the decisions read back"
    );

    let mut told = next.clone();
    told.derived.communication = Some(SubjectCommunication::Communicated {
        communicated_on: time::macros::date!(2027 - 03 - 14),
        channel: "E-mail".to_owned(),
        content_reference: "DMS 2027/118".to_owned(),
        recorded_by: None,
    });
    told.version = 3;
    update(&stores, &rf, &told, 2).await.expect("update");
    assert_eq!(get(&stores, &rf, breach.id).await, told);
    crate::registers::assert_chain(&stores, rf.scope(), base + 3, "three breach writes").await;
}

pub async fn references_are_numbered_per_tenant_and_year_of_awareness(stores: RegisterStores) {
    let a = register(&stores).await;
    let b = register(&stores).await;
    let base = events(&stores, &a).await;
    let none = (vec![], vec![]);
    let add = |rf: &RegisterFixture, title: &str, aware: OffsetDateTime| {
        let breach = new_breach(&stores, rf, breach_fields(title, aware, None, &none));
        let stores = &stores;
        let rf = rf.clone();
        async move { insert(stores, &rf, &breach).await }
    };
    let first = add(&a, "Laptop", AWARE).await;
    let second = add(&a, "USB stick", AWARE).await;
    // 1 January 00:30 in Berlin is still 31 December in UTC.
    let new_year = add(&a, "Mail", datetime!(2028-01-01 00:30 +01:00)).await;
    let next_year = add(&a, "Printer", datetime!(2028-01-01 00:30 UTC)).await;
    let theirs = add(&b, "B's", AWARE).await;
    let references = [&first, &second, &new_year, &next_year, &theirs]
        .map(|breach| breach.derived.reference.as_str());
    assert_eq!(
        references,
        [
            "BR-2027-0001",
            "BR-2027-0002",
            "BR-2027-0003",
            "BR-2028-0001",
            "BR-2027-0001"
        ],
        "per tenant and year of awareness in UTC"
    );
    // A deleted breach's number is not given again (the API deletes none; the store may).
    store(&stores)
        .delete(
            a.scope(),
            second.id,
            1,
            crate::registers::records::record_event(&a, &Breaches::ACTIONS.deleted, second.id),
        )
        .await
        .expect("delete");
    let after = add(&a, "Phone", AWARE).await;
    assert_eq!(after.derived.reference, "BR-2027-0004");
    // An update keeps the reference, whatever the record carries and however the
    // awareness time moves.
    let mut moved = after.clone();
    moved.derived.reference = "BR-1999-0042".to_owned();
    moved.fields.became_aware_at = datetime!(2026-12-30 08:00 UTC);
    moved.version = 2;
    let written = update(&stores, &a, &moved, 1).await.expect("update");
    assert_eq!(written.derived.reference, "BR-2027-0004");
    assert_eq!(get(&stores, &a, after.id).await, written);
    // The list finds a breach by part of its reference or title, ignoring case.
    let found = |q: &str| {
        let query = ListQuery {
            filter: BreachFilter {
                search: Some(q.to_owned()),
                ..BreachFilter::default()
            },
            limit: 100,
            ..ListQuery::default()
        };
        let (store, scope) = (stores.breaches.clone(), a.scope().clone());
        async move {
            let page = store.list(&scope, &query).await.expect("search");
            page.items
                .into_iter()
                .map(|b| b.fields.title)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(found("br-2027-000").await, ["Laptop", "Mail", "Phone"]);
    assert_eq!(found("2028-0001").await, ["Printer"]);
    assert_eq!(found("LAPTOP").await, ["Laptop"]);
    assert_eq!(
        found("%").await,
        Vec::<String>::new(),
        "wildcards are literal"
    );
    assert_chain(
        &stores,
        a.scope(),
        base + 7,
        "five inserts, a delete, an update",
    )
    .await;
}

pub async fn links_name_only_the_tenants_records(stores: RegisterStores) {
    let a = register(&stores).await;
    let b = register(&stores).await;
    let theirs = Breaches::links(&stores, &b).await;
    let (a_events, b_events) = (events(&stores, &a).await, events(&stores, &b).await);
    let mut fields = breach_fields("Lost USB stick", AWARE, Some(b.member), &theirs);
    fields.activity_ids.push(Id::generate());
    let breach = new_breach(&stores, &a, fields);
    assert_unresolved(
        try_insert(&stores, &a, &breach).await,
        &[
            "owner_id",
            "assignee_id",
            "activity_ids[0]",
            "activity_ids[1]",
            "processor_ids[0]",
        ],
        "B's user, activity and processor, and an unknown activity",
    );
    assert_untouched(&stores, &[(&a, a_events), (&b, b_events)]).await;
}

pub async fn list_filters(stores: RegisterStores) {
    let rf = register(&stores).await;
    let links = (vec![], vec![]);
    let add = |title: &str, aware: OffsetDateTime, change: &dyn Fn(&mut Breach)| {
        let mut breach = new_breach(&stores, &rf, breach_fields(title, aware, None, &links));
        change(&mut breach);
        breach
    };
    let risk = |level| RiskAssessment {
        level,
        reasoning: "assessed".to_owned(),
        assessed_by: None,
        assessed_at: AWARE,
    };
    let phase = NotificationPhase {
        sent_at: datetime!(2027-03-06 08:00 UTC),
        authority_reference: None,
        content: "Initial".to_owned(),
        to_follow: vec![],
        delay_reasons: None,
        recorded_by: None,
    };
    let open = add("Open", AWARE, &|_| {});
    let assessed = add("Assessed", datetime!(2027-03-08 08:00 UTC), &|b| {
        b.derived.status = BreachStatus::Assessed;
        b.derived.risk = Some(risk(RiskLevel::Risk));
    });
    let notified = add("Notified", datetime!(2027-03-01 08:00 UTC), &|b| {
        b.derived.status = BreachStatus::Notified;
        b.derived.risk = Some(risk(RiskLevel::HighRisk));
        b.derived.notifications = vec![phase.clone()];
    });
    let drill = add("Drill", AWARE, &|b| b.fields.drill = true);
    let mut stored = Vec::new();
    for breach in [&open, &assessed, &notified, &drill] {
        stored.push(insert(&stores, &rf, breach).await);
    }
    let [open, assessed, notified, drill] = [0, 1, 2, 3].map(|i| &stored[i]);

    // Deadlines: open 8 March, assessed 11 March, notified 4 March (all 08:00 UTC).
    let cases: &[FilterCase<Breaches>] = &[
        (
            &|_| {},
            &[open, assessed, notified],
            "no filter: real breaches only",
        ),
        (&|f| f.drill = true, &[drill], "drills apart"),
        (
            &|f| f.status = Some(BreachStatus::Assessed),
            &[assessed],
            "status",
        ),
        (&|f| f.risk = Some(RiskLevel::HighRisk), &[notified], "risk"),
        (&|f| f.notified = Some(true), &[notified], "notified"),
        (
            &|f| f.notified = Some(false),
            &[open, assessed],
            "not notified",
        ),
        (
            &|f| f.overdue_at = Some(datetime!(2027-03-09 08:00 UTC)),
            &[open],
            "overdue: the decision open past the deadline (a notified one is not)",
        ),
        (
            &|f| f.overdue_at = Some(datetime!(2027-03-08 08:00 UTC)),
            &[],
            "overdue: not at the deadline itself",
        ),
    ];
    assert_filters(&stores, &rf, cases).await;

    // By the deadline, soonest first, and the reverse.
    let titles = |sort| {
        let query = ListQuery {
            sort,
            limit: 100,
            ..ListQuery::default()
        };
        let store = stores.breaches.clone();
        let scope = rf.scope().clone();
        async move {
            let page = store.list(&scope, &query).await.expect("list by deadline");
            page.items
                .into_iter()
                .map(|b| b.fields.title)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(titles(Sort::Due).await, ["Notified", "Open", "Assessed"]);
    assert_eq!(
        titles(Sort::DueDesc).await,
        ["Assessed", "Open", "Notified"]
    );
}

pub async fn other_tenants_breaches_are_out_of_reach(stores: RegisterStores) {
    let a = register(&stores).await;
    let b = register(&stores).await;
    let theirs = new_breach(
        &stores,
        &b,
        breach_fields("B's breach", AWARE, None, &(vec![], vec![])),
    );
    let theirs = insert(&stores, &b, &theirs).await;
    crate::fixtures::assert_not_found(
        store(&stores).get(a.scope(), theirs.id).await,
        "get B's breach",
    );
    let page = store(&stores)
        .list(
            a.scope(),
            &ListQuery {
                limit: 100,
                ..ListQuery::default()
            },
        )
        .await
        .expect("list");
    assert!(page.items.is_empty(), "A lists none of B's breaches");
}
