//! Fault test: PostgreSQL stops and starts again under load.
//!
//! A private cluster (initdb into a temporary directory, its own port and socket; the
//! shared server is never touched) runs the real `aura-api`. Writers and readers keep
//! going while the cluster is stopped for a few seconds and started again. The test
//! holds the service to this:
//! - during the outage every request fails fast: 503 `application/problem+json`, never a
//!   500, never longer than five times `DB_ACQUIRE_TIMEOUT_MS` (a hang bound, not a speed
//!   benchmark); `/ready` turns 503 and back to 200;
//! - the service recovers by itself (no restart) within a bounded wait, and after a short
//!   settling time every request succeeds again;
//! - every create that was acknowledged (201 with an id) is there afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    path::Path,
    process::Stdio,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

#[path = "support/cluster.rs"]
mod cluster;

use cluster::Cluster;

const PASSWORD: &str = "a sufficiently long passphrase";
const ACQUIRE_TIMEOUT_MS: u64 = 1_000;
/// No request may take longer than this, outage or not.
const HANG_BOUND: Duration = Duration::from_millis(5 * ACQUIRE_TIMEOUT_MS);
const WRITERS: usize = 6;
const READERS: usize = 4;
/// How long the cluster stays down.
const OUTAGE: Duration = Duration::from_secs(4);
/// The longest the service may take to serve a write again once PostgreSQL is back.
const RECOVERY_LIMIT: Duration = Duration::from_secs(30);
/// After the first successful write, the time allowed for the pool to settle; from then
/// on every request must succeed.
const SETTLE: Duration = Duration::from_secs(2);
/// Bounds each worker's loop whatever happens.
const MAX_REQUESTS_PER_WORKER: usize = 20_000;

/// The real `aura-api` on the private cluster; killed on drop.
struct Api {
    base: String,
    http: reqwest::Client,
    _child: Child,
}

async fn start_api(cluster: &Cluster, dir: &Path) -> Api {
    let port = cluster.port;
    let app_url = format!("postgres://aura_app:fault-app@127.0.0.1:{port}/aura_fault");
    let owner_url = format!("postgres://aura_owner:fault-owner@127.0.0.1:{port}/aura_fault");
    aura_adapter_postgres::init_database(&cluster.superuser_url(), &owner_url, &app_url, None)
        .await
        .expect("roles and database as `aura db init` makes them");
    let pepper = STANDARD.encode(uuid::Uuid::new_v4().as_bytes().repeat(2));
    let mut child = Command::new(env!("CARGO_BIN_EXE_aura-api"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("APP_ENV", "development")
        .env("DATABASE_URL", &app_url)
        .env("MIGRATION_DATABASE_URL", &owner_url)
        .env("RUN_MIGRATIONS", "true")
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("WORKERS", "2")
        .env("BCRYPT_COST", "10")
        .env("DB_ACQUIRE_TIMEOUT_MS", ACQUIRE_TIMEOUT_MS.to_string())
        .env("DB_POOL_MAX_SIZE", "8")
        .env("RATE_LIMIT_ENABLED", "false")
        .env("JWT_KEYS_DIR", dir.join("keys"))
        .env("PASSWORD_PEPPER", pepper)
        .env("MAIL_TRANSPORT", "log")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "warn,aura_api=info")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("aura-api starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let port = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Ok(entry) = serde_json::from_str::<Value>(&line)
                && entry["message"] == "listening"
            {
                return entry["port"].as_u64().unwrap() as u16;
            }
        }
        panic!("aura-api exited before listening");
    })
    .await
    .expect("aura-api listens within 60 s");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Api {
        base: format!("http://127.0.0.1:{port}"),
        // Far above the hang bound, so a hang shows as a long latency, not a timeout.
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap(),
        _child: child,
    }
}

/// One answered request.
#[derive(Debug, Clone)]
struct Outcome {
    started: Instant,
    latency: Duration,
    status: u16,
    problem_json: bool,
    created_id: Option<String>,
    write: bool,
}

impl Api {
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Outcome {
        let started = Instant::now();
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .expect("the API answers (no dropped request)");
        let status = response.status().as_u16();
        let problem_json = response
            .headers()
            .get("content-type")
            .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
        let body: Value = response.json().await.unwrap_or(Value::Null);
        Outcome {
            started,
            latency: started.elapsed(),
            status,
            problem_json,
            created_id: (status == 201)
                .then(|| body["id"].as_str().map(str::to_owned))
                .flatten(),
            write: false,
        }
    }

    async fn json(&self, method: Method, path: &str, token: Option<&str>, body: Value) -> Value {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }
}

fn activity(name: &str) -> Value {
    json!({
        "name": name,
        "role": "controller",
        "status": "active",
        "purposes": [{"description": "Fault test", "lawful_basis": "contract"}],
        "data_subject_categories": ["customers"],
        "data_categories": [{"name": "contact data", "retention": "2 years"}],
        "recipient_categories": ["hosting provider"],
        "security_measures": "TLS",
    })
}

/// Writers create activities, readers list them and read their own profile, until
/// `stop`; every answer is kept.
fn spawn_load(
    api: &Arc<Api>,
    token: &str,
    stop: &Arc<AtomicBool>,
    log: &Arc<Mutex<Vec<Outcome>>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut workers = Vec::new();
    for w in 0..WRITERS + READERS {
        let (api, token, stop, log) = (api.clone(), token.to_owned(), stop.clone(), log.clone());
        workers.push(tokio::spawn(async move {
            for k in 0..MAX_REQUESTS_PER_WORKER {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let outcome = if w < WRITERS {
                    let body = activity(&format!("Fault {w}-{k}"));
                    let path = "/api/v1/processing-activities";
                    let mut o = api
                        .call(Method::POST, path, Some(&token), Some(&body))
                        .await;
                    o.write = true;
                    o
                } else if k % 2 == 0 {
                    let path = "/api/v1/processing-activities?limit=20";
                    api.call(Method::GET, path, Some(&token), None).await
                } else {
                    api.call(Method::GET, "/api/v1/users/me", Some(&token), None)
                        .await
                };
                let failed = outcome.status >= 400;
                log.lock().unwrap().push(outcome);
                if failed {
                    // A failing client backs off a little, as a real one would.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }));
    }
    workers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restart_under_load_fails_fast_recovers_and_loses_no_acknowledged_write() {
    let cluster = Cluster::create();
    let dir = cluster.dir.join("api");
    std::fs::create_dir_all(&dir).unwrap();
    let api = Arc::new(start_api(&cluster, &dir).await);

    let email = format!("owner-{}@fault.example", uuid::Uuid::new_v4().simple());
    api.json(
        Method::POST,
        "/api/v1/auth/register",
        None,
        json!({"organisation_name": "Fault Test GmbH", "email": email,
               "full_name": "Owner Person", "password": PASSWORD}),
    )
    .await;
    let tokens = api
        .json(
            Method::POST,
            "/api/v1/auth/login",
            None,
            json!({"email": email, "password": PASSWORD}),
        )
        .await;
    let token = tokens["access_token"].as_str().unwrap().to_owned();

    // Readiness, watched throughout.
    let stop = Arc::new(AtomicBool::new(false));
    let readiness: Arc<Mutex<Vec<(Instant, u16)>>> = Arc::default();
    let watcher = {
        let (api, stop, readiness) = (api.clone(), stop.clone(), readiness.clone());
        tokio::spawn(async move {
            for _ in 0..2_000 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let o = api.call(Method::GET, "/ready", None, None).await;
                readiness.lock().unwrap().push((o.started, o.status));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };

    let log: Arc<Mutex<Vec<Outcome>>> = Arc::default();
    let workers = spawn_load(&api, &token, &stop, &log);
    tokio::time::sleep(Duration::from_secs(2)).await;

    // The outage.
    let stopping = Instant::now();
    tokio::task::block_in_place(|| cluster.stop());
    let down = Instant::now();
    tokio::time::sleep(OUTAGE).await;
    let starting = Instant::now();
    tokio::task::block_in_place(|| cluster.start());
    let up = Instant::now();

    // Recovery: the first write acknowledged after the restart, within a bounded wait.
    let recovered = loop {
        let first = log
            .lock()
            .unwrap()
            .iter()
            .filter(|o| o.write && o.started >= up && o.status == 201)
            .map(|o| o.started + o.latency)
            .min();
        if let Some(at) = first {
            break at;
        }
        assert!(
            up.elapsed() < RECOVERY_LIMIT,
            "no write succeeded within {RECOVERY_LIMIT:?} of PostgreSQL being back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    tokio::time::sleep(SETTLE + Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.unwrap();
    }
    watcher.await.unwrap();

    let log = log.lock().unwrap().clone();
    let during: Vec<&Outcome> = log
        .iter()
        .filter(|o| o.started >= down && o.started + o.latency <= starting)
        .collect();
    let after_settling: Vec<&Outcome> = log
        .iter()
        .filter(|o| o.started >= recovered + SETTLE)
        .collect();
    let slowest = log.iter().map(|o| o.latency).max().unwrap();
    let slowest_during = during.iter().map(|o| o.latency).max().unwrap_or_default();
    let acknowledged: Vec<&str> = log.iter().filter_map(|o| o.created_id.as_deref()).collect();
    let failed_fast = log.iter().filter(|o| o.status == 503).count();

    // Every acknowledged write is there.
    let mut found = 0;
    for id in &acknowledged {
        let o = api
            .call(
                Method::GET,
                &format!("/api/v1/processing-activities/{id}"),
                Some(&token),
                None,
            )
            .await;
        if o.status == 200 {
            found += 1;
        }
    }
    let ready = readiness.lock().unwrap().clone();
    let unready_during = ready
        .iter()
        .filter(|(at, status)| *at >= down && *at < starting && *status == 503)
        .count();
    let ready_after = ready
        .iter()
        .any(|(at, status)| *at >= recovered && *status == 200);

    println!(
        "fault test: {} requests; PostgreSQL down {:.1} s (stop took {:.1} s); \
         acknowledged writes {}, found {}; failed fast (503) {}, of them {} during the outage; \
         slowest answer {} ms overall, {} ms during the outage (bound {} ms); \
         recovered {} ms after PostgreSQL was back; {} requests after settling, all 2xx",
        log.len(),
        (starting - down).as_secs_f64(),
        (down - stopping).as_secs_f64(),
        acknowledged.len(),
        found,
        failed_fast,
        during.len(),
        slowest.as_millis(),
        slowest_during.as_millis(),
        HANG_BOUND.as_millis(),
        recovered.saturating_duration_since(up).as_millis(),
        after_settling.len(),
    );

    let server_errors: Vec<&Outcome> = log
        .iter()
        .filter(|o| o.status >= 500 && o.status != 503)
        .collect();
    assert!(
        server_errors.is_empty(),
        "5xx other than 503: {server_errors:?}"
    );
    let bare_503: Vec<&Outcome> = log
        .iter()
        .filter(|o| o.status == 503 && !o.problem_json)
        .collect();
    assert!(
        bare_503.is_empty(),
        "503 without problem+json: {bare_503:?}"
    );
    let other: Vec<&Outcome> = log
        .iter()
        .filter(|o| !matches!(o.status, 200 | 201 | 503))
        .collect();
    assert!(
        other.is_empty(),
        "answers other than 2xx/503 (a 401 would log users out): {other:?}"
    );
    assert!(
        slowest < HANG_BOUND,
        "a request took {slowest:?}, over the hang bound {HANG_BOUND:?}"
    );
    assert!(!during.is_empty(), "no request ran during the outage");
    assert!(
        during.iter().all(|o| o.status == 503),
        "a request succeeded while PostgreSQL was down"
    );
    assert!(
        unready_during > 0,
        "/ready never said 503 during the outage"
    );
    assert!(ready_after, "/ready did not come back to 200");
    assert!(
        !after_settling.is_empty() && after_settling.iter().all(|o| o.status < 300),
        "requests still failing after the service recovered"
    );
    assert!(!acknowledged.is_empty(), "no write was acknowledged");
    assert_eq!(found, acknowledged.len(), "acknowledged writes lost");
}
