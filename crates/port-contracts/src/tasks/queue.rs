//! `JobQueue`: dedupe keys, leases, claims across tenants (one job never held twice),
//! finishing with the lease token inside the job's tenant, retries and the dead-letter
//! state, the daily digests, and the operator's list, retry and statistics.
//!
//! These contracts claim every due job of the store: each needs a store of its own.

use std::{
    collections::HashSet,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use aura_audit::Actor;
use aura_jobs::{ClaimedJob, EncodedJob, Job, JobFilter, JobStatus, NewJob, QueueStats};
use aura_shared_kernel::{Conflict, StoreError};
use aura_tasks::{DigestMail, OverdueDigest, ReminderPlan, TaskStatus};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{
    TaskStores,
    fixtures::{assert_conflict, assert_not_found, update_tenant},
    tasks::{
        TaskFixture, add_task, assert_buried, edited, enqueue, find_job, job_ids, jobs_of,
        mail_job, now, register, reminder_policy, statuses, system, task_event, today,
    },
};

const WORKER: &str = "contract-worker";

async fn claim(
    stores: &TaskStores,
    at: OffsetDateTime,
    lease: Duration,
    limit: usize,
) -> Vec<ClaimedJob> {
    stores
        .jobs
        .claim(&system(), WORKER, at, lease, limit)
        .await
        .expect("claim")
}

/// Whether a claim at `at` finds no job to take: none due, none whose lease ran out.
async fn nothing_to_claim(stores: &TaskStores, at: OffsetDateTime) -> bool {
    claim(stores, at, Duration::minutes(1), 100)
        .await
        .is_empty()
}

/// A digest mail job of `tf`'s tenant due at `run_at`, enqueued on its own.
async fn enqueued_mail(
    stores: &TaskStores,
    tf: &TaskFixture,
    run_at: OffsetDateTime,
    max_attempts: i32,
) -> NewJob {
    let job = mail_job(tf.tenant(), today(stores), run_at, max_attempts);
    enqueue(stores, tf, std::slice::from_ref(&job)).await;
    job
}

/// The lease of [`claimed_mail`]'s claim.
const LEASE: Duration = Duration::minutes(1);

/// A fresh tenant's one mail job, enqueued now and claimed at once under [`LEASE`].
struct ClaimedMail {
    tf: TaskFixture,
    t0: OffsetDateTime,
    job: NewJob,
    claimed: ClaimedJob,
}

async fn claimed_mail(stores: &TaskStores, max_attempts: i32) -> ClaimedMail {
    let tf = register(stores).await;
    let t0 = now(stores);
    let job = enqueued_mail(stores, &tf, t0, max_attempts).await;
    let claimed = claim(stores, t0, LEASE, 10).await.remove(0);
    ClaimedMail {
        tf,
        t0,
        job,
        claimed,
    }
}

fn ids(jobs: &[ClaimedJob]) -> Vec<Uuid> {
    jobs.iter().map(|job| job.id).collect()
}

async fn complete(
    stores: &TaskStores,
    tf: &TaskFixture,
    job: &ClaimedJob,
    at: OffsetDateTime,
) -> bool {
    stores
        .jobs
        .complete(&tf.fx.system_scope(), job, "sent", at)
        .await
        .expect("complete")
}

async fn fail(
    stores: &TaskStores,
    tf: &TaskFixture,
    job: &ClaimedJob,
    error: &str,
    retry_at: Option<OffsetDateTime>,
    at: OffsetDateTime,
) -> bool {
    stores
        .jobs
        .fail(&tf.fx.system_scope(), job, error, retry_at, at)
        .await
        .expect("fail")
}

/// The same piece of work under a new id.
fn again(job: &NewJob) -> NewJob {
    NewJob {
        id: Uuid::now_v7(),
        ..job.clone()
    }
}

/// Cancels the task's queued reminders through the repository (the only way a job is
/// cancelled); returns the task's plan.
async fn cancelled_reminders(stores: &TaskStores, tf: &TaskFixture, title: &str) -> ReminderPlan {
    let (task, reminders) = add_task(stores, tf, title, Some(10)).await;
    let cancelled = edited(stores, &task, |t| t.fields.status = TaskStatus::Cancelled);
    stores
        .tasks
        .update(
            tf.scope(),
            &cancelled,
            1,
            &ReminderPlan::none(task.id),
            task_event(tf, "task.updated", task.id),
        )
        .await
        .expect("cancel the task");
    assert_eq!(
        statuses(stores, tf.tenant(), &job_ids(&reminders)).await,
        [JobStatus::Cancelled; 3]
    );
    reminders
}

pub async fn enqueue_keeps_one_live_job_per_key(stores: TaskStores) {
    let tf = register(&stores).await;
    let t0 = now(&stores);
    let date = today(&stores);
    let a = mail_job(tf.tenant(), date, t0, 3);
    let b = mail_job(tf.tenant(), date, t0, 3);
    assert_eq!(enqueue(&stores, &tf, &[a.clone(), b.clone()]).await, 2);
    let stored = find_job(&stores, tf.tenant(), a.id).await.expect("stored");
    assert_eq!(stored.status, JobStatus::Queued);
    assert_eq!(stored.kind, DigestMail::KIND);
    assert_eq!(
        (stored.run_at, stored.attempts, stored.max_attempts),
        (t0, 0, 3)
    );

    let (a2, b2) = (again(&a), again(&b));
    assert_eq!(
        enqueue(&stores, &tf, &[a2.clone(), b2.clone()]).await,
        0,
        "queued jobs keep their keys"
    );
    assert!(find_job(&stores, tf.tenant(), a2.id).await.is_none());

    let c = mail_job(tf.tenant(), date, t0, 3);
    assert_eq!(
        enqueue(&stores, &tf, &[c.clone(), again(&c)]).await,
        1,
        "one of two equal jobs in one batch"
    );
    assert_eq!(enqueue(&stores, &tf, &[]).await, 0);

    // Done, dead and running jobs keep their keys too.
    let claimed = claim(&stores, t0, Duration::minutes(5), 10).await;
    assert_eq!(claimed.len(), 3);
    let by_id = |id: Uuid| claimed.iter().find(|j| j.id == id).unwrap().clone();
    assert!(complete(&stores, &tf, &by_id(a.id), t0).await);
    assert!(fail(&stores, &tf, &by_id(b.id), "gave up", None, t0).await);
    assert_eq!(
        enqueue(&stores, &tf, &[again(&a), again(&b), again(&c)]).await,
        0,
        "done, dead and running jobs keep their keys"
    );

    // A cancelled job frees its key.
    let reminders = cancelled_reminders(&stores, &tf, "Review").await;
    let fresh: Vec<NewJob> = reminders.jobs.iter().map(again).collect();
    assert_eq!(
        enqueue(&stores, &tf, &fresh).await,
        3,
        "cancelled keys are free"
    );
    assert_eq!(
        statuses(
            &stores,
            tf.tenant(),
            &fresh.iter().map(|j| j.id).collect::<Vec<_>>()
        )
        .await,
        [JobStatus::Queued; 3]
    );
    assert_eq!(jobs_of(&stores, tf.tenant()).await.len(), 9);
}

pub async fn enqueue_into_another_tenant_is_refused(stores: TaskStores) {
    let a = register(&stores).await;
    let b = register(&stores).await;
    let t0 = now(&stores);
    let date = today(&stores);
    let foreign = mail_job(b.tenant(), date, t0, 3);
    assert!(
        stores
            .jobs
            .enqueue(a.scope(), std::slice::from_ref(&foreign))
            .await
            .is_err(),
        "a job of B in A's scope"
    );
    let own = mail_job(a.tenant(), date, t0, 3);
    assert!(
        stores
            .jobs
            .enqueue(a.scope(), &[own.clone(), foreign])
            .await
            .is_err(),
        "a batch with a job of B"
    );
    assert!(
        jobs_of(&stores, a.tenant()).await.is_empty(),
        "nothing stored"
    );
    assert!(
        jobs_of(&stores, b.tenant()).await.is_empty(),
        "nothing stored"
    );
    assert!(nothing_to_claim(&stores, t0).await);
}

pub async fn claim_takes_due_jobs_oldest_first(stores: TaskStores) {
    let a = register(&stores).await;
    let b = register(&stores).await;
    let t0 = now(&stores);
    let date = today(&stores);
    let j1 = mail_job(a.tenant(), date, t0 - Duration::minutes(3), 3);
    let j2 = mail_job(b.tenant(), date, t0 - Duration::minutes(1), 4);
    let j3 = mail_job(a.tenant(), date, t0 - Duration::minutes(2), 3);
    let j4 = mail_job(b.tenant(), date, t0, 4);
    let j5 = mail_job(a.tenant(), date, t0 + Duration::minutes(1), 3);
    enqueue(&stores, &a, &[j5.clone(), j3.clone(), j1.clone()]).await;
    enqueue(&stores, &b, &[j4.clone(), j2.clone()]).await;

    let lease = Duration::minutes(10);
    let first = claim(&stores, t0, lease, 2).await;
    assert_eq!(ids(&first), [j1.id, j3.id], "the two oldest, oldest first");
    for (claimed, job) in first.iter().zip([&j1, &j3]) {
        assert_eq!(claimed.tenant_id, job.tenant_id);
        assert_eq!(
            (&claimed.kind, &claimed.payload),
            (&job.job.kind, &job.job.payload)
        );
        assert_eq!(claimed.attempts, 1, "this attempt counts");
        assert_eq!(claimed.max_attempts, job.max_attempts);
    }
    assert_ne!(first[0].lease_token, first[1].lease_token);

    let second = claim(&stores, t0, lease, 10).await;
    assert_eq!(
        ids(&second),
        [j2.id, j4.id],
        "across tenants; run_at = now is due"
    );
    assert_eq!(second[0].tenant_id, b.tenant());
    assert!(
        nothing_to_claim(&stores, t0).await,
        "the rest is leased or not yet due"
    );
    assert!(
        claim(&stores, t0 + Duration::minutes(1), lease, 0)
            .await
            .is_empty()
    );
    let third = claim(&stores, t0 + Duration::minutes(1), lease, 10).await;
    assert_eq!(ids(&third), [j5.id], "due at its time");

    for tenant in [a.tenant(), b.tenant()] {
        assert!(
            jobs_of(&stores, tenant)
                .await
                .iter()
                .all(|j| j.status == JobStatus::Running && j.attempts == 1)
        );
    }
}

pub async fn a_lease_holds_until_it_runs_out(stores: TaskStores) {
    let tf = register(&stores).await;
    let t0 = now(&stores);
    let job = enqueued_mail(&stores, &tf, t0, 5).await;
    let lease = Duration::seconds(60);
    let first = claim(&stores, t0, lease, 10).await;
    assert_eq!(ids(&first), [job.id]);

    assert!(
        nothing_to_claim(&stores, t0 + Duration::seconds(59)).await,
        "leased until t0 + 60s"
    );
    let second = claim(&stores, t0 + lease, lease, 10).await;
    assert_eq!(
        ids(&second),
        [job.id],
        "claimable again when the lease ran out"
    );
    assert_eq!(second[0].attempts, 2);
    assert_ne!(second[0].lease_token, first[0].lease_token, "a fresh lease");

    let later = t0 + Duration::seconds(70);
    assert!(
        !complete(&stores, &tf, &first[0], later).await,
        "the first worker lost its lease"
    );
    assert!(!fail(&stores, &tf, &first[0], "late", None, later).await);
    assert_eq!(
        find_job(&stores, tf.tenant(), job.id).await.unwrap().status,
        JobStatus::Running
    );
    assert!(complete(&stores, &tf, &second[0], later).await);
    let done = find_job(&stores, tf.tenant(), job.id).await.unwrap();
    assert_eq!(done.status, JobStatus::Done);
    assert_eq!(done.outcome.as_deref(), Some("sent"));
    assert_eq!(done.attempts, 2);
    assert!(
        nothing_to_claim(&stores, t0 + Duration::hours(1)).await,
        "a done job is never claimed again"
    );
}

pub async fn concurrent_claims_never_share_a_job(stores: TaskStores) {
    const JOBS: usize = 50;
    const CLAIMERS: usize = 8;
    let a = register(&stores).await;
    let b = register(&stores).await;
    let t0 = now(&stores);
    let date = today(&stores);
    let mut all = HashSet::new();
    for i in 0..JOBS {
        let tf = if i % 2 == 0 { &a } else { &b };
        let run_at = t0 - Duration::seconds(i64::try_from(i).unwrap());
        let job = mail_job(tf.tenant(), date, run_at, 3);
        all.insert(job.id);
        assert_eq!(enqueue(&stores, tf, &[job]).await, 1);
    }

    let taken = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for worker in 0..CLAIMERS {
        let queue = stores.jobs.clone();
        let taken = taken.clone();
        handles.push(tokio::spawn(async move {
            let system =
                aura_shared_kernel::SystemScope::for_platform_operation("contract-claimers");
            let name = format!("worker-{worker}");
            let mut mine = Vec::new();
            for _ in 0..500 {
                if taken.load(Ordering::SeqCst) >= JOBS {
                    break;
                }
                let got = queue
                    .claim(&system, &name, t0, Duration::minutes(10), 3)
                    .await
                    .expect("claim");
                if got.is_empty() {
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                    continue;
                }
                taken.fetch_add(got.len(), Ordering::SeqCst);
                mine.extend(got.into_iter().map(|job| job.id));
            }
            mine
        }));
    }
    let mut seen = HashSet::new();
    let mut total = 0;
    for handle in handles {
        for id in handle.await.expect("claimer") {
            total += 1;
            assert!(seen.insert(id), "job {id} claimed twice");
        }
    }
    assert_eq!(total, JOBS, "every job claimed exactly once");
    assert_eq!(seen, all, "the claims cover every job");
    assert!(nothing_to_claim(&stores, t0).await);
}

pub async fn finishing_needs_the_lease(stores: TaskStores) {
    let a = register(&stores).await;
    let b = register(&stores).await;
    let t0 = now(&stores);
    let job = enqueued_mail(&stores, &a, t0, 3).await;
    let claimed = claim(&stores, t0, Duration::minutes(5), 10).await.remove(0);

    let forged = ClaimedJob {
        lease_token: Uuid::new_v4(),
        ..claimed.clone()
    };
    assert!(
        !complete(&stores, &a, &forged, t0).await,
        "a wrong lease token"
    );
    assert!(!fail(&stores, &a, &forged, "x", None, t0).await);
    assert!(
        !stores
            .jobs
            .complete(b.scope(), &claimed, "sent", t0)
            .await
            .expect("complete"),
        "another tenant's scope"
    );
    assert!(
        !stores
            .jobs
            .fail(b.scope(), &claimed, "x", None, t0)
            .await
            .expect("fail")
    );
    assert_eq!(
        find_job(&stores, a.tenant(), job.id).await.unwrap().status,
        JobStatus::Running,
        "untouched"
    );

    let long = format!("sent to the relay; {}", "the relay said more. ".repeat(60));
    assert!(
        stores
            .jobs
            .complete(a.scope(), &claimed, &long, t0)
            .await
            .expect("complete")
    );
    let done = find_job(&stores, a.tenant(), job.id).await.unwrap();
    assert_eq!(done.status, JobStatus::Done);
    let outcome = done.outcome.expect("an outcome");
    assert!(
        outcome.chars().count() <= 500 && long.starts_with(&outcome),
        "a long outcome is cut to 500 characters: {}",
        outcome.len()
    );
    assert!(!complete(&stores, &a, &claimed, t0).await, "finished once");
    assert!(!fail(&stores, &a, &claimed, "x", None, t0).await);
}

pub async fn failing_requeues_or_buries_the_job(stores: TaskStores) {
    let ClaimedMail {
        tf,
        t0,
        job,
        claimed: first,
    } = claimed_mail(&stores, 3).await;
    let retry_at = t0 + Duration::minutes(5);
    assert!(
        fail(
            &stores,
            &tf,
            &first,
            "smtp: 451 try again later",
            Some(retry_at),
            t0
        )
        .await
    );
    let queued = find_job(&stores, tf.tenant(), job.id).await.unwrap();
    assert_eq!(queued.status, JobStatus::Queued);
    assert_eq!(queued.run_at, retry_at);
    assert_eq!(queued.attempts, 1);
    assert_eq!(
        queued.last_error.as_deref(),
        Some("smtp: 451 try again later")
    );
    assert!(
        !fail(&stores, &tf, &first, "twice", None, t0).await,
        "the lease ended"
    );

    assert!(
        nothing_to_claim(&stores, retry_at - Duration::seconds(1)).await,
        "not before retry_at"
    );
    let second = claim(&stores, retry_at, LEASE, 10).await.remove(0);
    assert_eq!(second.attempts, 2);
    let reason = "x".repeat(2_000);
    assert!(fail(&stores, &tf, &second, &reason, None, retry_at).await);
    let dead = find_job(&stores, tf.tenant(), job.id).await.unwrap();
    assert_eq!(dead.status, JobStatus::Dead);
    assert_eq!(dead.attempts, 2);
    let last_error = dead.last_error.expect("a reason");
    assert!(
        (1..=500).contains(&last_error.chars().count()) && reason.starts_with(&last_error),
        "a long reason is cut to 500 characters"
    );
    assert!(
        nothing_to_claim(&stores, t0 + Duration::days(1)).await,
        "a dead job is not claimed"
    );
}

pub async fn exhausted_attempts_and_an_expired_lease_bury_the_job(stores: TaskStores) {
    let tf = register(&stores).await;
    let t0 = now(&stores);
    let date = today(&stores);
    let twice = mail_job(tf.tenant(), date, t0, 2);
    let once = mail_job(tf.tenant(), date, t0 + Duration::seconds(1), 1);
    enqueue(&stores, &tf, &[twice.clone(), once.clone()]).await;
    let lease = Duration::seconds(10);

    let first = claim(&stores, t0 + Duration::seconds(1), lease, 10).await;
    assert_eq!(ids(&first), [twice.id, once.id]);
    // Both workers die. The lease runs out: `twice` has an attempt left, `once` has not.
    let later = t0 + Duration::seconds(11);
    let second = claim(&stores, later, lease, 10).await;
    assert_eq!(
        ids(&second),
        [twice.id],
        "claimed again with its last attempt"
    );
    assert_eq!(second[0].attempts, 2);
    let buried = find_job(&stores, tf.tenant(), once.id).await.unwrap();
    let expired = |e: &str| e.contains("lease expired");
    assert_buried(&buried, expired, "no attempt left");

    // That worker dies too.
    assert!(
        nothing_to_claim(&stores, later + lease).await,
        "nothing to claim: the job is dead"
    );
    let dead = find_job(&stores, tf.tenant(), twice.id).await.unwrap();
    assert_eq!(dead.status, JobStatus::Dead);
    assert_eq!(dead.attempts, 2);
    assert!(!complete(&stores, &tf, &second[0], later + lease).await);
    assert!(!complete(&stores, &tf, &first[1], later + lease).await);
}

/// The daily overdue digest of `date`, as the worker schedules it.
fn digest(date: time::Date) -> EncodedJob {
    EncodedJob::of(&OverdueDigest { date })
}

pub async fn schedule_digests_is_idempotent_and_skips_suspended_tenants(stores: TaskStores) {
    let a = register(&stores).await;
    let b = register(&stores).await;
    let suspended = register(&stores).await;
    let mut tenant = suspended.fx.tenant.clone();
    tenant.is_active = false;
    let suspension = (
        Actor::User(suspended.owner()),
        aura_identity::actions::TENANT_SUSPENDED,
    );
    let scope = suspended.scope();
    update_tenant(&stores.identity, scope, &tenant, tenant.version, suspension)
        .await
        .expect("suspend");

    let date = today(&stores);
    let run_at = reminder_policy().digest_moment(date);
    let added = stores
        .jobs
        .schedule_for_active_tenants(&system(), &digest(date), run_at, 5)
        .await
        .expect("schedule");
    assert_eq!(added, 2, "one per active tenant");
    for tf in [&a, &b] {
        let jobs = jobs_of(&stores, tf.tenant()).await;
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].kind, OverdueDigest::KIND);
        assert_eq!(jobs[0].status, JobStatus::Queued);
        assert_eq!(jobs[0].run_at, run_at);
        assert_eq!((jobs[0].attempts, jobs[0].max_attempts), (0, 5));
    }
    assert!(jobs_of(&stores, suspended.tenant()).await.is_empty());

    assert_eq!(
        stores
            .jobs
            .schedule_for_active_tenants(&system(), &digest(date), run_at, 5)
            .await
            .expect("again"),
        0,
        "once per tenant and date"
    );
    // The key is the domain's: enqueueing the same digest adds nothing.
    let same = NewJob::of(a.tenant(), &OverdueDigest { date }, run_at, 5);
    assert_eq!(enqueue(&stores, &a, &[same]).await, 0);
    assert_eq!(
        stores
            .jobs
            .schedule_for_active_tenants(
                &system(),
                &digest(date + Duration::days(1)),
                run_at + Duration::days(1),
                5
            )
            .await
            .expect("next day"),
        2
    );

    // The payload is the domain's.
    let claimed = claim(&stores, run_at, Duration::minutes(1), 10).await;
    assert_eq!(claimed.len(), 2);
    let mut tenants: Vec<_> = claimed.iter().map(|j| j.tenant_id).collect();
    tenants.sort();
    let mut expected = vec![a.tenant(), b.tenant()];
    expected.sort();
    assert_eq!(tenants, expected);
    for job in &claimed {
        assert_eq!(job.decode(), Ok(OverdueDigest { date }));
        assert_eq!(job.max_attempts, 5);
    }
}

pub async fn list_is_newest_first_and_filters(stores: TaskStores) {
    let a = register(&stores).await;
    let b = register(&stores).await;
    let t0 = now(&stores);
    let mut a_jobs = Vec::new();
    for i in 0..3 {
        let job = enqueued_mail(&stores, &a, t0 + Duration::seconds(i), 3).await;
        a_jobs.push(job.id);
    }
    let mut b_jobs = Vec::new();
    for i in 0..2 {
        let job = enqueued_mail(&stores, &b, t0 + Duration::seconds(10 + i), 3).await;
        b_jobs.push(job.id);
    }
    let list = |status: Option<JobStatus>, tenant, limit| {
        let filter = JobFilter {
            status,
            tenant,
            limit,
        };
        let queue = stores.jobs.clone();
        async move {
            queue
                .list(&system(), &filter)
                .await
                .expect("list")
                .into_iter()
                .map(|j| j.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        list(None, None, 100).await,
        [b_jobs[1], b_jobs[0], a_jobs[2], a_jobs[1], a_jobs[0]],
        "newest first"
    );
    assert_eq!(
        list(None, Some(a.tenant()), 100).await,
        [a_jobs[2], a_jobs[1], a_jobs[0]]
    );
    assert_eq!(
        list(None, Some(a.tenant()), 2).await,
        [a_jobs[2], a_jobs[1]]
    );
    assert!(list(None, None, 0).await.is_empty());

    let claimed = claim(&stores, t0, Duration::minutes(1), 10).await;
    assert_eq!(ids(&claimed), [a_jobs[0]]);
    assert!(complete(&stores, &a, &claimed[0], t0).await);
    assert_eq!(list(Some(JobStatus::Done), None, 100).await, [a_jobs[0]]);
    assert_eq!(
        list(Some(JobStatus::Queued), Some(a.tenant()), 100).await,
        [a_jobs[2], a_jobs[1]]
    );
    assert!(list(Some(JobStatus::Dead), None, 100).await.is_empty());
}

pub async fn retry_requeues_dead_and_cancelled_jobs(stores: TaskStores) {
    let ClaimedMail {
        tf,
        t0,
        job,
        claimed,
    } = claimed_mail(&stores, 1).await;
    assert!(
        fail(
            &stores,
            &tf,
            &claimed,
            "smtp: 550 mailbox unavailable",
            None,
            t0
        )
        .await
    );

    let t1 = t0 + Duration::hours(1);
    let retried = stores
        .jobs
        .retry(&system(), job.id, t1)
        .await
        .expect("retry a dead job");
    assert_eq!(retried.id, job.id);
    assert_eq!(retried.tenant_id, tf.tenant());
    assert_eq!(retried.status, JobStatus::Queued);
    assert_eq!(retried.attempts, 0, "fresh attempts");
    assert_eq!(retried.run_at, t1, "runs now");
    assert_eq!(
        retried.last_error.as_deref(),
        Some("smtp: 550 mailbox unavailable"),
        "why it died stays visible"
    );
    assert_eq!(find_job(&stores, tf.tenant(), job.id).await, Some(retried));
    let rerun = claim(&stores, t1, LEASE, 10).await;
    assert_eq!(ids(&rerun), [job.id]);
    assert_eq!(rerun[0].attempts, 1);

    assert_conflict(
        stores.jobs.retry(&system(), job.id, t1).await,
        Conflict::JobState,
        "retrying a running job",
    );
    assert!(complete(&stores, &tf, &rerun[0], t1).await);
    assert_conflict(
        stores.jobs.retry(&system(), job.id, t1).await,
        Conflict::JobState,
        "retrying a done job",
    );
    let queued = enqueued_mail(&stores, &tf, t1 + Duration::hours(1), 3).await;
    assert_conflict(
        stores.jobs.retry(&system(), queued.id, t1).await,
        Conflict::JobState,
        "retrying a queued job",
    );
    assert_not_found(
        stores.jobs.retry(&system(), Uuid::now_v7(), t1).await,
        "retrying an unknown job",
    );

    // A cancelled reminder can be put back, unless its key was taken since.
    let reminders = cancelled_reminders(&stores, &tf, "Review").await;
    let back = stores
        .jobs
        .retry(&system(), reminders.jobs[0].id, t1)
        .await
        .expect("retry a cancelled job");
    assert_eq!(back.status, JobStatus::Queued);
    let replacement = again(&reminders.jobs[1]);
    assert_eq!(enqueue(&stores, &tf, &[replacement]).await, 1);
    let refused: Result<_, StoreError> =
        stores.jobs.retry(&system(), reminders.jobs[1].id, t1).await;
    assert_conflict(
        refused,
        Conflict::DedupeKeyTaken,
        "a cancelled job whose key is taken",
    );
    assert_eq!(
        statuses(&stores, tf.tenant(), &[reminders.jobs[1].id]).await,
        [JobStatus::Cancelled]
    );
}

pub async fn stats_count_the_queue(stores: TaskStores) {
    let tf = register(&stores).await;
    let t0 = now(&stores);
    let date = today(&stores);
    assert_eq!(
        stores.jobs.stats(&system(), t0).await.expect("stats"),
        QueueStats::default(),
        "an empty queue"
    );
    let dying = mail_job(tf.tenant(), date, t0 - Duration::seconds(300), 1);
    let running = mail_job(tf.tenant(), date, t0 - Duration::seconds(200), 3);
    let due_old = mail_job(tf.tenant(), date, t0 - Duration::seconds(90), 3);
    let due_new = mail_job(tf.tenant(), date, t0 - Duration::seconds(10), 3);
    let later = mail_job(tf.tenant(), date, t0 + Duration::hours(1), 3);
    enqueue(
        &stores,
        &tf,
        &[dying.clone(), running.clone(), due_old, due_new, later],
    )
    .await;
    let lease = Duration::minutes(5);
    let first = claim(&stores, t0, lease, 1).await;
    assert_eq!(ids(&first), [dying.id]);
    assert!(fail(&stores, &tf, &first[0], "gave up", None, t0).await);
    assert_eq!(ids(&claim(&stores, t0, lease, 1).await), [running.id]);

    assert_eq!(
        stores.jobs.stats(&system(), t0).await.expect("stats"),
        QueueStats {
            due: 2,
            scheduled: 1,
            running: 1,
            dead: 1,
            oldest_due_seconds: 90,
        }
    );
    assert_eq!(
        stores
            .jobs
            .stats(&system(), t0 + Duration::hours(2))
            .await
            .expect("stats later")
            .due,
        3,
        "the planned job is due later"
    );
}
