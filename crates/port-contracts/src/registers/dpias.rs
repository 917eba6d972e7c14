//! The DPIA register's store (`RecordStore<Dpias>`) on every adapter: the shared record
//! contracts through its [`RecordFixture`], and its own: the content and the workflow's
//! facts read back as written, the covered activities and the revised DPIA named only in
//! the tenant, a covered activity kept from deletion, and the list's filters — among them
//! the approved DPIAs covering an activity (the screening's lookup).

use aura_dpias::{
    Dpia, DpiaFields, DpiaGap, DpiaStatus, Dpias, DpoAdvice, Measure, MeasureStatus, MeasureType,
    NecessityItem, NecessityTopic, PriorConsultation, PurposeSummary, Risk, RiskEvent, RiskLevel,
    Scale,
};
use aura_gdpr_registers::{Activities, ActivityId};
use aura_records::{Id, ListQuery, RecordStore, Sort};
use aura_shared_kernel::Conflict;
use time::macros::{date, datetime};

use crate::{
    RegisterStores,
    fixtures::{assert_conflict, assert_not_found},
    registers::{
        RegisterFixture, add_activity, assert_chain, assert_untouched, events,
        records::{
            FilterCase, RecordFixture, assert_filters, assert_unresolved, delete, edited, get,
            insert, new_record, try_insert, update,
        },
        register,
    },
};

fn risk(likelihood: Scale, severity: Scale, residual: Scale) -> Risk {
    Risk {
        source: "An external attacker".to_owned(),
        event: RiskEvent::IllegitimateAccess,
        impact: "Recordings of customers published".to_owned(),
        likelihood,
        severity,
        residual_likelihood: residual,
        residual_severity: residual,
    }
}

/// Complete fields of a DPIA titled `title` covering `activities`.
pub fn dpia_fields(
    title: &str,
    owner: Option<aura_shared_kernel::UserId>,
    activities: &[ActivityId],
) -> DpiaFields {
    DpiaFields {
        title: title.to_owned(),
        activity_ids: activities.to_vec(),
        description: Some("Twelve cameras record the shop floor during opening hours.".to_owned()),
        necessity: NecessityTopic::ALL
            .iter()
            .map(|topic| NecessityItem {
                topic: *topic,
                assessment: format!("Assessed: {topic}"),
            })
            .collect(),
        risks: vec![risk(Scale::Significant, Scale::Significant, Scale::Limited)],
        measures: vec![Measure {
            title: "Mask the till area".to_owned(),
            kind: MeasureType::Technical,
            status: MeasureStatus::Planned,
            owner_id: owner,
            due_date: Some(date!(2027 - 06 - 30)),
            risks: vec![0],
            task_id: None,
        }],
        dpo_advice: Some(DpoAdvice {
            advice: "Proceed with masking and 72-hour retention".to_owned(),
            given_on: date!(2027 - 03 - 01),
            followed: true,
        }),
        subject_views: None,
        subject_views_not_sought: Some("The works council was heard instead".to_owned()),
        review_date: Some(date!(2028 - 03 - 01)),
        owner_id: owner,
        revision_of: None,
    }
}

impl RecordFixture for Dpias {
    /// The activities a complete DPIA covers.
    type Links = Vec<ActivityId>;

    fn store(stores: &RegisterStores) -> &dyn RecordStore<Self> {
        stores.dpias.as_ref()
    }

    async fn links(stores: &RegisterStores, rf: &RegisterFixture) -> Self::Links {
        vec![add_activity(stores, rf, "Video surveillance", &[]).await.id]
    }

    fn fields(rf: &RegisterFixture, name: &str, links: &Self::Links) -> DpiaFields {
        dpia_fields(name, Some(rf.member), links)
    }

    /// A DPIA barely begun: no content, no owner (it still covers its activity: a DPIA
    /// covers at least one).
    fn vary(f: &mut DpiaFields) {
        f.description = None;
        f.necessity.clear();
        f.risks.clear();
        f.measures.clear();
        f.dpo_advice = None;
        f.subject_views = Some("Customers were asked at the tills".to_owned());
        f.subject_views_not_sought = None;
        f.review_date = None;
        f.owner_id = None;
    }

    fn edit(f: &mut DpiaFields) {
        f.risks
            .push(risk(Scale::Maximum, Scale::Maximum, Scale::Significant));
        if let Some(measure) = f.measures.first_mut() {
            measure.status = MeasureStatus::Implemented;
        }
        f.review_date = Some(date!(2028 - 09 - 01));
        f.description = Some("Fourteen cameras now".to_owned());
    }

    fn rename(f: &mut DpiaFields, name: &str) {
        f.title = name.to_owned();
    }
}

fn store(stores: &RegisterStores) -> &dyn RecordStore<Dpias> {
    stores.dpias.as_ref()
}

fn new_dpia(stores: &RegisterStores, rf: &RegisterFixture, fields: DpiaFields) -> Dpia {
    let mut dpia = new_record::<Dpias>(stores, rf, fields);
    dpia.derived.residual_level = dpia.fields.residual_level();
    dpia.derived.missing = aura_dpias::dpia::gaps(&dpia.fields);
    dpia
}

pub async fn state_reads_back_as_written(stores: RegisterStores) {
    let rf = register(&stores).await;
    let links = Dpias::links(&stores, &rf).await;
    let base = events(&stores, &rf).await;
    let dpia = new_dpia(&stores, &rf, Dpias::fields(&rf, "CCTV", &links));
    let stored = insert(&stores, &rf, &dpia).await;
    assert_eq!(stored, dpia);

    let mut next = stored.clone();
    next.fields.measures[0].task_id = Some(uuid::Uuid::now_v7());
    let state = &mut next.derived;
    state.status = DpiaStatus::Approved;
    state.revision = 2;
    state.submitted_at = Some(datetime!(2027-03-02 09:00 UTC));
    state.submitted_by = Some(rf.member);
    state.approved_at = Some(datetime!(2027-03-03 09:00 UTC));
    state.approved_by = Some(rf.owner());
    state.sent_back_reason = Some("Retention missing".to_owned());
    state.prior_consultation = Some(PriorConsultation {
        authority: "LDI NRW".to_owned(),
        submitted_on: date!(2027 - 03 - 01),
        extended: true,
        extension_reason: Some("Complex processing".to_owned()),
        answer_due: date!(2027 - 06 - 07),
        answered_on: None,
        answer: None,
        recorded_by: Some(rf.member),
    });
    state.processing.purposes = vec![PurposeSummary {
        activity_id: links[0],
        description: "Theft prevention".to_owned(),
        lawful_basis: "legitimate_interests".to_owned(),
    }];
    state.processing.data_subject_categories = vec!["Customers".to_owned()];
    state.residual_level = Some(RiskLevel::High);
    state.missing = vec![DpiaGap::DpoAdvice];
    next.version = 2;
    let written = update(&stores, &rf, &next, 1).await.expect("update");
    assert_eq!(written, next);
    assert_eq!(
        get(&stores, &rf, dpia.id).await,
        next,
        "the facts read back"
    );
    assert_chain(&stores, rf.scope(), base + 2, "two DPIA writes").await;
}

/// Art. 36(1), (2): the covered activities of a DPIA approved with a residual high risk
/// show the pending prior consultation until its answer is recorded — not while the DPIA
/// is in review, not once answered; an activity no such DPIA covers never does.
pub async fn a_pending_prior_consultation_shows_on_the_covered_activities(stores: RegisterStores) {
    let rf = register(&stores).await;
    let scoring = add_activity(&stores, &rf, "Credit scoring", &[]).await;
    let other = add_activity(&stores, &rf, "Newsletter", &[]).await;
    let art36 = |a: &aura_gdpr_registers::ProcessingActivity| {
        (a.derived.missing.iter())
            .filter(|g| g.article == "36(1)" && g.field == "dpia")
            .count()
    };
    let mut fields = dpia_fields("Scoring", Some(rf.member), &[scoring.id]);
    fields.risks = vec![risk(Scale::Maximum, Scale::Maximum, Scale::Significant)];
    let mut dpia = new_dpia(&stores, &rf, fields);
    assert_eq!(dpia.derived.residual_level, Some(RiskLevel::High));
    dpia.derived.status = DpiaStatus::InReview;
    dpia.derived.prior_consultation = Some(PriorConsultation {
        authority: "LDI NRW".to_owned(),
        submitted_on: date!(2027 - 03 - 01),
        extended: false,
        extension_reason: None,
        answer_due: date!(2027 - 04 - 26),
        answered_on: None,
        answer: None,
        recorded_by: Some(rf.member),
    });
    let in_review = insert(&stores, &rf, &dpia).await;
    assert_eq!(art36(&get(&stores, &rf, scoring.id).await), 0, "in review");

    let mut approved = in_review.clone();
    approved.derived.status = DpiaStatus::Approved;
    approved.derived.approved_at = Some(datetime!(2027-03-03 09:00 UTC));
    approved.version = 2;
    let approved = update(&stores, &rf, &approved, 1).await.expect("approve");
    let pending = get(&stores, &rf, scoring.id).await;
    assert_eq!(art36(&pending), 1, "approved, awaiting the answer");
    assert!(
        (pending.derived.missing.iter()).all(|g| g.article != "35(1)"),
        "the DPIA is approved"
    );
    let listed = store_activities(&stores, &rf).await;
    assert_eq!(
        listed.iter().map(|a| (a.id, art36(a))).collect::<Vec<_>>(),
        vec![(scoring.id, 1), (other.id, 0)],
        "a list derives it too, for the covered activity only"
    );

    let mut answered = approved.clone();
    if let Some(pc) = &mut answered.derived.prior_consultation {
        pc.answered_on = Some(date!(2027 - 04 - 20));
        pc.answer = Some("No objection, with the masking in place".to_owned());
    }
    answered.version = 3;
    update(&stores, &rf, &answered, 2).await.expect("answer");
    assert_eq!(art36(&get(&stores, &rf, scoring.id).await), 0, "answered");
}

/// The tenant's activities, oldest first, as the store derives them.
async fn store_activities(
    stores: &RegisterStores,
    rf: &RegisterFixture,
) -> Vec<aura_gdpr_registers::ProcessingActivity> {
    let store: &dyn RecordStore<Activities> = stores.activities.as_ref();
    store.all(rf.scope()).await.expect("all activities")
}

pub async fn links_name_only_the_tenants_records(stores: RegisterStores) {
    let a = register(&stores).await;
    let b = register(&stores).await;
    let theirs = Dpias::links(&stores, &b).await;
    let their_dpia = insert(
        &stores,
        &b,
        &new_dpia(&stores, &b, dpia_fields("B's", None, &theirs)),
    )
    .await;
    let (a_events, b_events) = (events(&stores, &a).await, events(&stores, &b).await);
    let mut fields = dpia_fields("Borrowed", Some(b.member), &theirs);
    fields.activity_ids.push(Id::generate());
    fields.revision_of = Some(their_dpia.id);
    let dpia = new_dpia(&stores, &a, fields);
    assert_unresolved(
        try_insert(&stores, &a, &dpia).await,
        &[
            "activity_ids[0]",
            "activity_ids[1]",
            "owner_id",
            "measures[0].owner_id",
            "revision_of",
        ],
        "B's activity, user and DPIA, and an unknown activity",
    );
    assert_untouched(&stores, &[(&a, a_events), (&b, b_events)]).await;
}

pub async fn a_covered_activity_is_in_use(stores: RegisterStores) {
    let rf = register(&stores).await;
    let links = Dpias::links(&stores, &rf).await;
    let other = add_activity(&stores, &rf, "Access control", &[]).await;
    let dpia = insert(
        &stores,
        &rf,
        &new_dpia(&stores, &rf, dpia_fields("CCTV", None, &links)),
    )
    .await;
    let base = events(&stores, &rf).await;
    assert_conflict(
        delete::<Activities>(&stores, &rf, links[0], 1).await,
        Conflict::InUse,
        "deleting an activity a DPIA covers",
    );
    assert_chain(&stores, rf.scope(), base, "no event for a refused delete").await;

    let moved = edited(&stores, &dpia, |f| f.activity_ids = vec![other.id]);
    update(&stores, &rf, &moved, 1)
        .await
        .expect("cover another");
    delete::<Activities>(&stores, &rf, links[0], 1)
        .await
        .expect("an activity no DPIA covers can go");
    assert_conflict(
        delete::<Activities>(&stores, &rf, other.id, 1).await,
        Conflict::InUse,
        "the newly covered activity",
    );
}

pub async fn list_filters(stores: RegisterStores) {
    let rf = register(&stores).await;
    let cctv = add_activity(&stores, &rf, "CCTV", &[]).await.id;
    let hr = add_activity(&stores, &rf, "Appraisals", &[]).await.id;
    let add = |title: &str, covers: Vec<ActivityId>, change: &dyn Fn(&mut Dpia)| {
        let mut dpia = new_dpia(&stores, &rf, dpia_fields(title, None, &covers));
        change(&mut dpia);
        dpia.derived.residual_level = dpia.fields.residual_level();
        dpia
    };
    let approved = add("Approved", vec![cctv], &|d| {
        d.derived.status = DpiaStatus::Approved;
        d.fields.review_date = Some(date!(2027 - 01 - 01));
    });
    let draft = add("Draft", vec![cctv, hr], &|d| {
        d.fields.risks = vec![risk(Scale::Maximum, Scale::Maximum, Scale::Maximum)];
    });
    let other = add("Other", vec![hr], &|d| {
        d.derived.status = DpiaStatus::Approved;
        d.fields.review_date = None;
    });
    let mut stored = Vec::new();
    for dpia in [&approved, &draft, &other] {
        stored.push(insert(&stores, &rf, dpia).await);
    }
    let [approved, draft, other] = [0, 1, 2].map(|i| &stored[i]);
    let cases: &[FilterCase<Dpias>] = &[
        (&|_| {}, &[approved, draft, other], "no filter"),
        (
            &|f| f.status = Some(DpiaStatus::Approved),
            &[approved, other],
            "status",
        ),
        (&|f| f.activity = Some(cctv), &[approved, draft], "activity"),
        (
            &|f| {
                f.activity = Some(cctv);
                f.status = Some(DpiaStatus::Approved);
            },
            &[approved],
            "the approved DPIAs covering an activity",
        ),
        (
            &|f| f.review_due_on = Some(date!(2027 - 06 - 01)),
            &[approved],
            "review due on or before a day",
        ),
        (
            &|f| f.review_due_on = Some(date!(2026 - 12 - 31)),
            &[],
            "no review due yet",
        ),
        (
            &|f| f.residual = Some(RiskLevel::High),
            &[draft],
            "residual risk",
        ),
    ];
    assert_filters(&stores, &rf, cases).await;

    // By the review date, undated last.
    let query = ListQuery {
        sort: Sort::Due,
        limit: 100,
        ..ListQuery::default()
    };
    let page = store(&stores).list(rf.scope(), &query).await.expect("list");
    let titles: Vec<_> = page.items.into_iter().map(|d| d.fields.title).collect();
    assert_eq!(titles, ["Approved", "Draft", "Other"]);
}

pub async fn other_tenants_dpias_are_out_of_reach(stores: RegisterStores) {
    let a = register(&stores).await;
    let b = register(&stores).await;
    let links = Dpias::links(&stores, &b).await;
    let theirs = insert(
        &stores,
        &b,
        &new_dpia(&stores, &b, dpia_fields("B's DPIA", None, &links)),
    )
    .await;
    assert_not_found(
        store(&stores).get(a.scope(), theirs.id).await,
        "get B's DPIA",
    );
    let query = ListQuery {
        limit: 100,
        filter: aura_dpias::DpiaFilter {
            activity: Some(links[0]),
            ..Default::default()
        },
        ..ListQuery::default()
    };
    let page = store(&stores).list(a.scope(), &query).await.expect("list");
    assert!(
        page.items.is_empty(),
        "A lists none of B's DPIAs, even by B's activity"
    );
}

/// The review date of an approved DPIA (Art. 35(11)) makes one review task through the
/// tasks' review job, however often it runs; a draft's does not, nor an approved
/// version a revision was started from (the revision is its review).
pub async fn approved_dpias_fall_due_once_until_revised(
    stores: crate::tasks::reviews::ReviewStores,
) {
    use aura_gdpr_registers::reviews::ReviewKind;
    let registers = &stores.registers;
    let rf = register(registers).await;
    let today = registers.clock().now().date();
    let covers = Dpias::links(registers, &rf).await;
    let dated = |title: &str, status: DpiaStatus| {
        let mut dpia = new_dpia(registers, &rf, dpia_fields(title, Some(rf.member), &covers));
        dpia.fields.review_date = Some(today);
        dpia.derived.status = status;
        dpia
    };
    let approved = insert(registers, &rf, &dated("Approved", DpiaStatus::Approved)).await;
    insert(registers, &rf, &dated("Draft", DpiaStatus::Draft)).await;
    let due = |after| {
        let reviews = stores.reviews.clone();
        let scope = rf.scope().clone();
        async move {
            let found = reviews.due_reviews(&scope, today, after, 100).await;
            found.expect("due reviews")
        }
    };
    let found = due(None).await;
    let dpia_reviews: Vec<_> = found
        .iter()
        .filter(|r| r.kind == ReviewKind::Dpia)
        .collect();
    assert_eq!(dpia_reviews.len(), 1, "the approved DPIA alone: {found:?}");
    assert_eq!(dpia_reviews[0].id, approved.id.as_uuid());
    assert_eq!(dpia_reviews[0].owner, Some(rf.member));

    let system = rf.fx.system_scope();
    let tasks = stores.review_tasks();
    let first = tasks.fire(&system, today).await.expect("first pass");
    let again = tasks.fire(&system, today).await.expect("second pass");
    assert!(first.0 >= 1, "the DPIA's review task is made: {first:?}");
    assert_eq!(again.0, 0, "once per DPIA and date");

    let mut revision = dated("Revision", DpiaStatus::Draft);
    revision.fields.revision_of = Some(approved.id);
    insert(registers, &rf, &revision).await;
    let found = due(None).await;
    assert!(
        found.iter().all(|r| r.kind != ReviewKind::Dpia),
        "a revised DPIA is reviewed by its revision: {found:?}"
    );
}
