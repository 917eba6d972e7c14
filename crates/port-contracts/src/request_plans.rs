//! The request store's own ports (the queue's [`aura_jobs::PlannedWrites`] of requests
//! and [`aura_requests::store::RequestRepository`]): every write stores the request's
//! reminder plan in its transaction (queued planned jobs replaced, a delete cancelling
//! them), and the retention job finds the closed requests that still name their person,
//! oldest closing first, in the caller's tenant only. What every kernel register owes is
//! not repeated here.

use aura_audit::{Actor, AuditAction, PendingEvent};
use aura_jobs::{JobFilter, JobPlan, JobStatus, JobSummary, RetryPolicy};
use aura_records::{Id, ListQuery};
use aura_requests::{
    pseudonym::pseudonymised,
    reminders::{PLANNED_KINDS, RequestReminderPolicy},
    request::{
        Channel, DataSubject, DataSubjectRequest, RequestFields, RequestFilter, RequestState,
        RequestStatus, Right, SubjectCategory,
    },
};
use aura_shared_kernel::TenantScope;
use time::{Duration, OffsetDateTime};

use crate::{
    RequestStores,
    fixtures::{TenantFixture, event, register_tenant, suffix},
    tasks::system,
};

fn request(tf: &TenantFixture, now: OffsetDateTime, due_in_days: i64) -> DataSubjectRequest {
    let due = (now + Duration::days(due_in_days)).date();
    DataSubjectRequest::first_version(
        Id::generate(),
        tf.tenant.id,
        RequestFields {
            received_at: now,
            channel: Channel::Email,
            subject: DataSubject {
                name: "Erika Mustermann".into(),
                email: Some(format!("erika-{}@example.test", suffix())),
                contact: None,
                category: SubjectCategory::Customer,
            },
            agent: None,
            rights: vec![Right::Access],
            scope: Some("everything".into()),
            assignee_id: Some(tf.owner.id),
        },
        RequestState {
            status: RequestStatus::InProgress,
            clock_starts_on: Some(now.date()),
            first_due_on: Some(due),
            due_on: Some(due),
            created_by: Some(tf.owner.id),
            ..RequestState::default()
        },
        now,
    )
}

fn write_event(
    tf: &TenantFixture,
    action: &str,
    id: Id<aura_requests::request::Requests>,
) -> PendingEvent {
    event(
        Actor::User(tf.owner.id),
        AuditAction::from_stored(action.to_owned()),
        "data_subject_request",
        id,
    )
}

fn plan(stores: &RequestStores, request: &DataSubjectRequest) -> JobPlan {
    let now = stores.identity.clock.now();
    (RequestReminderPolicy::default())
        .plan(request, now, &RetryPolicy::default())
        .as_job_plan()
}

/// The tenant's jobs (each contract's tenant is its own, so these are its requests').
async fn jobs_of(stores: &RequestStores, tf: &TenantFixture) -> Vec<JobSummary> {
    let filter = JobFilter {
        status: None,
        tenant: Some(tf.tenant.id),
        limit: 10_000,
    };
    stores.jobs.list(&system(), &filter).await.unwrap()
}

fn count(jobs: &[JobSummary], status: JobStatus) -> usize {
    jobs.iter().filter(|j| j.status == status).count()
}

async fn insert(
    stores: &RequestStores,
    tf: &TenantFixture,
    request: &DataSubjectRequest,
) -> DataSubjectRequest {
    let plan = plan(stores, request);
    let event = write_event(tf, "data_subject_request.created", request.id);
    (stores.writes)
        .insert(&tf.scope, request, &plan, event)
        .await
        .expect("insert a request")
}

async fn update(
    stores: &RequestStores,
    tf: &TenantFixture,
    request: &DataSubjectRequest,
) -> DataSubjectRequest {
    let plan = plan(stores, request);
    let event = write_event(tf, "data_subject_request.updated", request.id);
    (stores.writes)
        .update(&tf.scope, request, request.version - 1, &plan, event)
        .await
        .expect("update a request")
}

fn next(
    request: &DataSubjectRequest,
    change: impl FnOnce(&mut DataSubjectRequest),
) -> DataSubjectRequest {
    let mut next = request.clone();
    change(&mut next);
    next.version += 1;
    next
}

pub async fn writes_replace_the_reminder_plan(stores: RequestStores) {
    let tf = register_tenant(&stores.identity).await;
    let now = stores.identity.clock.now();
    let first = insert(&stores, &tf, &request(&tf, now, 20)).await;
    let jobs = jobs_of(&stores, &tf).await;
    // Three reminders (7, 1, 0 days before) and the "extend or answer" warning.
    assert_eq!(
        count(&jobs, JobStatus::Queued),
        4,
        "the plan is stored: {jobs:?}"
    );
    let kinds: Vec<&str> = jobs.iter().map(|j| j.kind.as_str()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "request_reminder").count(),
        3
    );
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == "request_extend_or_answer")
            .count(),
        1
    );

    // A new due date: the queued plan is replaced.
    let moved = next(&first, |r| {
        let due = r.derived.due_on.map(|d| d + Duration::days(1));
        r.derived.due_on = due;
        r.derived.first_due_on = due;
    });
    let moved = update(&stores, &tf, &moved).await;
    let jobs = jobs_of(&stores, &tf).await;
    assert_eq!(count(&jobs, JobStatus::Queued), 4, "{jobs:?}");
    assert_eq!(count(&jobs, JobStatus::Cancelled), 4, "{jobs:?}");

    // Closed: nothing queued any more.
    let closed = next(&moved, |r| {
        r.derived.status = RequestStatus::Closed;
        r.derived.closed_at = Some(now);
    });
    update(&stores, &tf, &closed).await;
    let jobs = jobs_of(&stores, &tf).await;
    assert_eq!(count(&jobs, JobStatus::Queued), 0, "{jobs:?}");

    // A deleted request's queued plan is cancelled with it.
    let other = insert(&stores, &tf, &request(&tf, now, 20)).await;
    let event = write_event(&tf, "data_subject_request.deleted", other.id);
    (stores.writes)
        .delete(&tf.scope, other.id, other.version, PLANNED_KINDS, event)
        .await
        .expect("delete");
    let jobs = jobs_of(&stores, &tf).await;
    assert_eq!(count(&jobs, JobStatus::Queued), 0, "{jobs:?}");
    assert_eq!(count(&jobs, JobStatus::Cancelled), 12, "{jobs:?}");
}

pub async fn a_stale_write_stores_no_plan(stores: RequestStores) {
    let tf = register_tenant(&stores.identity).await;
    let now = stores.identity.clock.now();
    let first = insert(&stores, &tf, &request(&tf, now, 20)).await;
    let moved = next(&first, |r| {
        r.derived.due_on = r.derived.due_on.map(|d| d + Duration::days(3))
    });
    let plan = plan(&stores, &moved);
    let event = write_event(&tf, "data_subject_request.updated", moved.id);
    let stale = (stores.writes)
        .update(&tf.scope, &moved, moved.version, &plan, event)
        .await;
    assert!(
        stale.is_err(),
        "a write at a version that moved on is refused"
    );
    let jobs = jobs_of(&stores, &tf).await;
    assert_eq!(
        count(&jobs, JobStatus::Queued),
        4,
        "the first plan stays: {jobs:?}"
    );
    assert_eq!(count(&jobs, JobStatus::Cancelled), 0, "{jobs:?}");
}

pub async fn closed_requests_await_pseudonymisation_oldest_first(stores: RequestStores) {
    let tf = register_tenant(&stores.identity).await;
    let other = register_tenant(&stores.identity).await;
    let now = stores.identity.clock.now();
    let closed = |tf: &TenantFixture, days_ago: i64| {
        let mut r = request(tf, now - Duration::days(400), 20);
        r.derived.status = RequestStatus::Closed;
        r.derived.closed_at = Some(now - Duration::days(days_ago));
        r
    };
    let recent = insert(&stores, &tf, &closed(&tf, 10)).await;
    let older = insert(&stores, &tf, &closed(&tf, 20)).await;
    // Closed after the cutoff, and still open: not yet.
    insert(&stores, &tf, &closed(&tf, 1)).await;
    insert(&stores, &tf, &request(&tf, now, 20)).await;
    let mut done = closed(&tf, 30);
    done.fields = pseudonymised(&done.fields);
    insert(&stores, &tf, &done).await;
    insert(&stores, &other, &closed(&other, 50)).await;

    let before = now - Duration::days(5);
    let due = |scope: &TenantScope, limit| {
        let repository = stores.repository.clone();
        let scope = scope.clone();
        async move {
            (repository
                .due_for_pseudonymisation(&scope, before, limit)
                .await)
                .unwrap()
        }
    };
    assert_eq!(due(&tf.scope, 10).await, [older.id, recent.id]);
    assert_eq!(due(&tf.scope, 1).await, [older.id]);

    // Pseudonymised: no longer listed, and its e-mail finds nothing.
    let email = older.fields.subject.email.clone();
    let gone = next(&older, |r| r.fields = pseudonymised(&r.fields));
    update(&stores, &tf, &gone).await;
    assert_eq!(due(&tf.scope, 10).await, [recent.id]);
    let by_email = ListQuery {
        filter: RequestFilter {
            email,
            ..RequestFilter::default()
        },
        limit: 10,
        ..ListQuery::default()
    };
    let found = stores.records.list(&tf.scope, &by_email).await.unwrap();
    assert!(found.items.is_empty(), "found by a cleared e-mail");
    let read = stores.records.get(&tf.scope, older.id).await.unwrap();
    assert_eq!(
        read.fields.subject.name,
        aura_requests::pseudonym::PSEUDONYM
    );
    assert_eq!(read.derived.closed_at, older.derived.closed_at);
}
