//! The scenarios and the closed-loop workers that run them: `concurrency` workers, each
//! sending its next request as soon as the previous one is answered, until the time or
//! request budget is spent.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use clap::ValueEnum;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::{
    api::{Api, Caller, Registry, me_is_own, page_is_own, record_is_own, tokens_are_own},
    fixture::{self, PASSWORD, Tenant},
    stats::{Summary, Tally},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// `POST /auth/login` (bcrypt at the server's BCRYPT_COST), spread over every user.
    Login,
    /// `GET /users/me`.
    Me,
    /// `GET /processing-activities?limit=20`.
    List,
    /// `GET /processing-activities/{id}` of a random record of the caller's tenant.
    Read,
    /// `POST /processing-activities` (a complete record with a processor link), each
    /// worker in its own tenant (all tenants busy once concurrency reaches their number).
    Create,
    /// The same creates, every worker in the first tenant: one busy tenant, whose writes
    /// queue on its audit-chain head lock.
    CreateOne,
    /// 35 % read, 30 % list, 20 % me, 15 % create (no login: sessions sign in rarely).
    Mixed,
}

impl Scenario {
    /// Whether the scenario writes (its runs show the audit-chain lock's figures).
    pub fn writes(self) -> bool {
        matches!(self, Self::Create | Self::CreateOne | Self::Mixed)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Me => "users/me",
            Self::List => "list 20",
            Self::Read => "read one",
            Self::Create => "create",
            Self::CreateOne => "create 1t",
            Self::Mixed => "mixed",
        }
    }
}

/// When a run stops: after `duration`, or after `requests` requests in all.
#[derive(Debug, Clone, Copy)]
pub enum Budget {
    Time(Duration),
    Requests(u64),
}

#[derive(Clone, Copy)]
enum Op {
    Login,
    Me,
    List,
    Read,
    Create,
}

struct Shared {
    api: Api,
    tenants: Arc<Vec<Tenant>>,
    registry: Arc<Registry>,
    scenario: Scenario,
    concurrency: usize,
    budget: Budget,
    started: Instant,
    sent: AtomicU64,
}

pub async fn run(
    api: &Api,
    tenants: &Arc<Vec<Tenant>>,
    registry: &Arc<Registry>,
    scenario: Scenario,
    concurrency: usize,
    budget: Budget,
) -> (Summary, Tally) {
    let shared = Arc::new(Shared {
        api: api.clone(),
        tenants: tenants.clone(),
        registry: registry.clone(),
        scenario,
        concurrency,
        budget,
        started: Instant::now(),
        sent: AtomicU64::new(0),
    });
    let workers: Vec<_> = (0..concurrency)
        .map(|w| tokio::spawn(worker(shared.clone(), w)))
        .collect();
    let mut tally = Tally::default();
    for worker in workers {
        match worker.await {
            Ok(t) => tally.merge(t),
            Err(_) => tally.error("worker panicked"),
        }
    }
    let elapsed = shared.started.elapsed();
    let checks = Tally {
        checked: tally.checked,
        foreign: tally.foreign,
        ..Tally::default()
    };
    (
        Summary::new(scenario.name(), concurrency, tally, elapsed),
        checks,
    )
}

impl Shared {
    /// Whether another request may start (and counts it).
    fn next(&self) -> bool {
        match self.budget {
            Budget::Time(limit) => self.started.elapsed() < limit,
            Budget::Requests(limit) => self.sent.fetch_add(1, Ordering::Relaxed) < limit,
        }
    }
}

async fn worker(shared: Arc<Shared>, w: usize) -> Tally {
    let mut tally = Tally::default();
    let tenants = shared.tenants.len();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (w as u64 + 1).wrapping_mul(0xA076_1D64_78BD_642F));
    let mut k: usize = 0;
    while shared.next() {
        let op = match shared.scenario {
            Scenario::Login => Op::Login,
            Scenario::Me => Op::Me,
            Scenario::List => Op::List,
            Scenario::Read => Op::Read,
            Scenario::Create | Scenario::CreateOne => Op::Create,
            Scenario::Mixed => match rng.below(100) {
                0..35 => Op::Read,
                35..65 => Op::List,
                65..85 => Op::Me,
                _ => Op::Create,
            },
        };
        // Each worker stays with one tenant and user; logins walk over every user.
        let (t, u) = match op {
            Op::Login => {
                let step = w + k * shared.concurrency;
                (step % tenants, step / tenants)
            }
            _ if shared.scenario == Scenario::CreateOne => (0, w),
            _ => (w % tenants, w / tenants),
        };
        let tenant = &shared.tenants[t];
        let user = &tenant.users[u % tenant.users.len()];
        let caller = Caller {
            tenant: tenant.index,
            tenant_id: &tenant.id,
            user_id: &user.user_id,
        };
        let started = Instant::now();
        let outcome = request(&shared, op, tenant, user, &mut rng, w, k).await;
        tally
            .latencies_us
            .push(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX));
        match outcome {
            Err(kind) => tally.error(kind),
            Ok((status, _)) if status != expected(op) => tally.error(status.as_u16().to_string()),
            Ok((_, body)) => {
                tally.checked += 1;
                let own = match op {
                    Op::Login => tokens_are_own(&body, &caller),
                    Op::Me => me_is_own(&body, &caller),
                    Op::List => page_is_own(&body, &caller, &shared.registry),
                    Op::Read => record_is_own(&body, &caller, &shared.registry),
                    Op::Create => {
                        let own = record_is_own(&body, &caller, &shared.registry);
                        if let Some(id) = body["id"].as_str().filter(|_| own) {
                            shared.registry.add(id, tenant.index);
                        }
                        own
                    }
                };
                if !own {
                    tally.foreign += 1;
                }
            }
        }
        k += 1;
    }
    tally
}

fn expected(op: Op) -> StatusCode {
    match op {
        Op::Create => StatusCode::CREATED,
        _ => StatusCode::OK,
    }
}

async fn request(
    shared: &Shared,
    op: Op,
    tenant: &Tenant,
    user: &fixture::User,
    rng: &mut Rng,
    w: usize,
    k: usize,
) -> Result<(StatusCode, serde_json::Value), String> {
    let api = &shared.api;
    let token = Some(user.access.as_str());
    match op {
        Op::Login => {
            let body = json!({"email": user.email, "password": PASSWORD});
            api.send(Method::POST, "/api/v1/auth/login", None, Some(&body), None)
                .await
        }
        Op::Me => {
            api.send(Method::GET, "/api/v1/users/me", token, None, None)
                .await
        }
        Op::List => {
            let path = "/api/v1/processing-activities?limit=20";
            api.send(Method::GET, path, token, None, None).await
        }
        Op::Read => {
            let ids = &tenant.activity_ids;
            let id = &ids[rng.below(ids.len() as u64) as usize];
            let path = format!("/api/v1/processing-activities/{id}");
            api.send(Method::GET, &path, token, None, None).await
        }
        Op::Create => {
            let links = [tenant.processor_ids[k % tenant.processor_ids.len()].clone()];
            let body = fixture::activity(&format!("Load activity {w}-{k}"), &links);
            let path = "/api/v1/processing-activities";
            api.send(Method::POST, path, token, Some(&body), None).await
        }
    }
}

/// xorshift64*: a deterministic spread without a dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }
}
