//! The open job queue from the outside: a kind declared here (not in the tasks crate) is
//! run by the worker through its registered handler; a kind nobody registered is retried
//! and then dead-lettered with the reason, and a payload that does not read is
//! dead-lettered at once, never a panic.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use aura_adapter_crypto::HmacChainHasher;
use aura_adapter_memory::MemoryStore;
use aura_jobs::{
    ClaimedJob, EncodedJob, Job, JobFailure, JobFilter, JobHandler, JobOutcome, JobQueue,
    JobRegistry, JobStatus, NewJob, RetryPolicy, Worker, WorkerPorts, WorkerSettings,
};
use aura_port_contracts::{Stores, fixtures::register_tenant, tasks::assert_buried};
use aura_shared_kernel::{FixedClock, SystemScope, TenantScope};
use serde::{Deserialize, Serialize};
use time::{Duration, macros::datetime};
use uuid::Uuid;

#[derive(Debug, Serialize, Deserialize)]
struct Ping {
    n: u32,
}

impl Job for Ping {
    const KIND: &'static str = "ping";
    fn dedupe_key(&self) -> String {
        format!("ping:{}", self.n)
    }
}

struct Pings(Arc<AtomicUsize>);

#[async_trait::async_trait]
impl JobHandler for Pings {
    type Job = Ping;
    async fn run(
        &self,
        _scope: &TenantScope,
        _job: &ClaimedJob,
        ping: Ping,
    ) -> Result<JobOutcome, JobFailure> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(JobOutcome::Done(format!("pinged {}", ping.n)))
    }
}

#[tokio::test]
async fn the_worker_runs_registered_kinds_and_buries_unknown_ones() {
    let clock = Arc::new(FixedClock::at(datetime!(2026-12-06 10:00 UTC)));
    let store = MemoryStore::new(Arc::new(HmacChainHasher::with_test_key()), clock.clone());
    let stores = Stores::from_single(store.clone(), clock.clone());
    let fx = register_tenant(&stores).await;
    let now = aura_shared_kernel::Clock::now(clock.as_ref());
    let tenant = fx.tenant.id;
    let ping = NewJob::of(tenant, &Ping { n: 7 }, now, 2);
    let pong = NewJob {
        id: Uuid::now_v7(),
        tenant_id: tenant,
        job: EncodedJob {
            kind: "pong".to_owned(),
            payload: serde_json::json!({ "n": 1 }),
            dedupe_key: "pong:1".to_owned(),
            subject: None,
        },
        run_at: now,
        max_attempts: 2,
    };
    let broken = NewJob {
        id: Uuid::now_v7(),
        job: EncodedJob {
            payload: serde_json::json!({ "n": "seven" }),
            dedupe_key: "ping:broken".to_owned(),
            ..ping.job.clone()
        },
        ..ping.clone()
    };
    let queue: Arc<dyn JobQueue> = Arc::new(store.clone());
    assert_eq!(
        queue
            .enqueue(&fx.scope, &[ping.clone(), pong.clone(), broken.clone()])
            .await
            .expect("enqueue"),
        3
    );

    let runs = Arc::new(AtomicUsize::new(0));
    let mut registry = JobRegistry::new();
    registry
        .register(Pings(runs.clone()))
        .expect("first ping handler");
    assert!(
        registry.register(Pings(runs.clone())).is_err(),
        "one handler per kind"
    );
    assert_eq!(registry.kinds().collect::<Vec<_>>(), ["ping"]);
    let worker = Worker::new(
        WorkerPorts {
            queue: queue.clone(),
            clock: clock.clone(),
        },
        WorkerSettings {
            worker_id: "w".to_owned(),
            lease: Duration::minutes(5),
            batch: 10,
            retry: RetryPolicy {
                max_attempts: 2,
                base_delay: Duration::seconds(10),
                max_delay: Duration::seconds(10),
            },
        },
        registry,
    );
    let system = SystemScope::for_platform_operation("open-jobs test");
    assert_eq!(worker.run_once(&system).await.expect("pass"), 3);
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    let job = |id: Uuid| {
        let queue = queue.clone();
        let system = system.clone();
        async move {
            queue
                .list(
                    &system,
                    &JobFilter {
                        status: None,
                        tenant: Some(tenant),
                        limit: 10,
                    },
                )
                .await
                .expect("list")
                .into_iter()
                .find(|j| j.id == id)
                .expect("stored")
        }
    };
    let done = job(ping.id).await;
    assert_eq!(
        (done.status, done.outcome.as_deref()),
        (JobStatus::Done, Some("pinged 7"))
    );
    let unread = job(broken.id).await;
    let unreadable = |e: &str| e.starts_with("unreadable payload");
    assert_buried(&unread, unreadable, "a payload the job kind cannot read");
    let unknown = job(pong.id).await;
    assert_eq!(
        unknown.status,
        JobStatus::Queued,
        "retried first: {unknown:?}"
    );
    assert_eq!(
        unknown.last_error.as_deref(),
        Some("no handler for job kind `pong`")
    );

    clock.advance(Duration::seconds(11));
    assert_eq!(worker.run_once(&system).await.expect("second pass"), 1);
    let unknown = job(pong.id).await;
    assert_eq!(
        (unknown.status, unknown.attempts),
        (JobStatus::Dead, 2),
        "dead after its attempts: {unknown:?}"
    );
}
