//! `aura-loadtest`: load figures for a running `aura-api`.
//!
//! Creates N tenants with users and realistic register data through the public API, then
//! runs each scenario (login, users/me, list of 20, single read, create, mixed) at each
//! concurrency and prints requests/s, p50/p95/p99 and errors. Every answer is checked
//! against the caller's tenant ("N responses checked, 0 foreign"). With `--pgbench-url`
//! it also runs the list and single-read SQL through pgbench, so the API's overhead is a
//! ratio, and the ceiling: the least SQL a request needs in one transaction. With
//! `--metrics-url` it prints how long the writes held their tenant's audit-chain lock.
//! `scripts/loadtest.sh` runs it against a release build on a private PostgreSQL.
//!
//! With `--callgrind-pid PID` (the server under callgrind) it prints each run's
//! instructions per request instead of timing it (`callgrind.rs`).
//!
//! `aura-loadtest documents --server-pid PID` instead prints the server's peak memory
//! while a 25 MiB document goes up and down (`documents.rs`; `scripts/docbench.sh`).
//!
//! `aura-loadtest portfolio --mail-dir DIR` prints the cold and cached latency of a
//! consultant's portfolio over 50 client tenants (`portfolio.rs`; `scripts/portfoliobench.sh`).
//!
//! Exit codes: 0 done, 1 foreign data seen or too many errors, 2 bad usage or set-up.

mod api;
mod callgrind;
mod chain_lock;
mod documents;
mod fixture;
mod pgbench;
mod portfolio;
mod scenarios;
mod stats;

use std::{
    process::ExitCode,
    sync::Arc,
    time::{Duration, Instant},
};

use clap::Parser;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    api::{Api, Registry},
    chain_lock::LockRun,
    pgbench::{Pgbench, Script},
    scenarios::{Budget, Scenario},
    stats::{Summary, round2},
};

#[derive(Parser)]
#[command(
    name = "aura-loadtest",
    version,
    about = "Load figures for a running aura-api"
)]
struct Cli {
    /// The API's root URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    base_url: String,
    /// Tenants to create.
    #[arg(long, default_value_t = 20)]
    tenants: usize,
    /// Users per tenant (the owner and members); logins go round all of them.
    #[arg(long, default_value_t = 3)]
    users_per_tenant: usize,
    /// The `aura` CLI that adds the members, run with this program's environment (the
    /// server's `DATABASE_URL`, `PASSWORD_PEPPER`, ...): through the API an administrator
    /// only invites, and the person chooses the password.
    #[arg(long, default_value = "aura")]
    cli: std::path::PathBuf,
    /// Processing activities per tenant (at least 20: a full page).
    #[arg(long, default_value_t = 25)]
    activities: usize,
    /// How long each scenario runs at each concurrency, in seconds.
    #[arg(long, default_value_t = 10, conflicts_with = "requests")]
    duration: u64,
    /// Instead of a duration: requests per scenario and concurrency.
    #[arg(long)]
    requests: Option<u64>,
    /// Concurrent clients (closed loop: each sends its next request on an answer).
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    concurrency: Vec<usize>,
    #[arg(
        long,
        value_delimiter = ',',
        value_enum,
        default_value = "login,me,list,read,create,create-one,mixed"
    )]
    scenarios: Vec<Scenario>,
    /// Per-request timeout in seconds (a timed-out request counts as an error).
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Largest share of errors (0.0–1.0) before the exit code says failed.
    #[arg(long, default_value_t = 0.0)]
    max_error_rate: f64,
    /// Seconds to wait for `/ready` before giving up.
    #[arg(long, default_value_t = 60)]
    wait_ready: u64,
    /// The app role's database URL: run the list and single-read SQL through pgbench too.
    #[arg(long, env = "LOADTEST_PGBENCH_URL")]
    pgbench_url: Option<String>,
    #[arg(long, default_value = "pgbench")]
    pgbench_bin: String,
    /// pgbench's protocol (`-M`): prepared, extended or simple.
    #[arg(long, default_value = "prepared")]
    pgbench_mode: String,
    /// The service's `/metrics` (its metrics listener): the audit-chain lock's figures
    /// of the writing scenarios.
    #[arg(long, env = "LOADTEST_METRICS_URL")]
    metrics_url: Option<String>,
    /// The server's process id, when it runs under `valgrind --tool=callgrind
    /// --instr-atstart=no`: each run is preceded by a warm-up of 20 requests, then counted
    /// (instructions per request). Its times are valgrind's, not the server's.
    #[arg(long, requires = "callgrind_out")]
    callgrind_pid: Option<u32>,
    /// The server's `--callgrind-out-file` (without `%p`: the prefix its dumps extend).
    #[arg(long)]
    callgrind_out: Option<String>,
    /// Print one JSON document instead of tables.
    #[arg(long)]
    json: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Instead of the scenarios: the server's peak memory while uploading and downloading
    /// one large document (PASS/FAIL against 2 × idle + a fixed buffer).
    Documents(documents::Args),
    /// Instead of the scenarios: the cold and cached latency of a consultant's portfolio
    /// over 50 client tenants (`GET /me/portfolio`).
    Portfolio(portfolio::Args),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(message) => {
            eprintln!("aura-loadtest: {message}");
            ExitCode::from(2)
        }
    }
}

async fn run(mut cli: Cli) -> Result<ExitCode, String> {
    if let Some(command) = cli.command.take() {
        let api = Api::new(&cli.base_url, Duration::from_secs(cli.timeout), 4)?;
        wait_ready(&api, Duration::from_secs(cli.wait_ready)).await?;
        return match command {
            Command::Documents(args) => documents::run(&api, args).await,
            Command::Portfolio(args) => portfolio::run(&api, args).await,
        };
    }
    if cli.tenants == 0 || cli.users_per_tenant == 0 || cli.concurrency.contains(&0) {
        return Err("--tenants, --users-per-tenant and --concurrency must be at least 1".into());
    }
    if cli.activities < 20 {
        return Err("--activities must be at least 20 (a full page of 20)".into());
    }
    let most = cli.concurrency.iter().copied().max().unwrap_or(1);
    let api = Api::new(&cli.base_url, Duration::from_secs(cli.timeout), most)?;
    wait_ready(&api, Duration::from_secs(cli.wait_ready)).await?;

    let registry = Arc::new(Registry::default());
    let shape = fixture::Shape {
        tenants: cli.tenants,
        users_per_tenant: cli.users_per_tenant,
        activities_per_tenant: cli.activities,
        cli: cli.cli.clone(),
    };
    let run_id = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let started = Instant::now();
    let tenants = Arc::new(fixture::create(&api, &registry, shape, &run_id, 4).await?);
    let set_up = started.elapsed();
    if !cli.json {
        println!(
            "set-up: {} tenants × {} users, {} activities, 3 processors and 2 policies each, in {:.1} s",
            cli.tenants,
            cli.users_per_tenant,
            cli.activities,
            set_up.as_secs_f64()
        );
    }

    let budget = match cli.requests {
        Some(n) => Budget::Requests(n),
        None => Budget::Time(Duration::from_secs(cli.duration)),
    };
    let mut results = Vec::new();
    let mut lock_runs = Vec::new();
    let metrics = reqwest::Client::new();
    let (mut checked, mut foreign) = (0, 0);
    let callgrind = cli
        .callgrind_pid
        .zip(cli.callgrind_out.clone())
        .map(|(pid, out_prefix)| callgrind::Callgrind { pid, out_prefix });
    let mut instructions = Vec::new();
    for &scenario in &cli.scenarios {
        for &concurrency in &cli.concurrency {
            if let Some(callgrind) = &callgrind {
                // First use of each code path (lazy statics, prepared statements) is not
                // what a request costs.
                let warm_up = Budget::Requests(20);
                scenarios::run(&api, &tenants, &registry, scenario, concurrency, warm_up).await;
                callgrind.start()?;
            }
            let lock_url = cli.metrics_url.as_deref().filter(|_| scenario.writes());
            let before = match lock_url {
                Some(url) => Some(chain_lock::scrape(&metrics, url).await?),
                None => None,
            };
            let (summary, checks) =
                scenarios::run(&api, &tenants, &registry, scenario, concurrency, budget).await;
            if let Some(callgrind) = &callgrind {
                let counted = callgrind.stop()?;
                instructions.push((
                    summary.scenario.clone(),
                    concurrency,
                    summary.requests,
                    counted,
                ));
            }
            if let (Some(url), Some(before)) = (lock_url, before) {
                let after = chain_lock::scrape(&metrics, url).await?;
                lock_runs.push(LockRun {
                    scenario: scenario.name().to_owned(),
                    concurrency,
                    times: after.since(&before),
                });
            }
            checked += checks.checked;
            foreign += checks.foreign;
            if !cli.json {
                print_row(&summary);
            }
            results.push(summary);
        }
    }

    let pgbench = cli.pgbench_url.as_ref().map(|url| Pgbench {
        bin: cli.pgbench_bin.clone(),
        url: url.clone(),
        mode: cli.pgbench_mode.clone(),
    });
    let (mut db_alone, mut ceiling, mut pipelined) = (Vec::new(), Vec::new(), Vec::new());
    if let Some(pgbench) = &pgbench {
        let duration = match budget {
            Budget::Time(d) => d,
            Budget::Requests(_) => Duration::from_secs(cli.duration),
        };
        for &scenario in cli.scenarios.iter().filter(|s| pgbench::covers(**s)) {
            for &concurrency in &cli.concurrency {
                for (script, into) in [
                    (Script::Replay, &mut db_alone),
                    (Script::Ceiling, &mut ceiling),
                    (Script::CeilingPipelined, &mut pipelined),
                ] {
                    let db = pgbench
                        .run(scenario, script, &tenants, concurrency, duration)
                        .await?;
                    into.push(db);
                }
            }
        }
    }

    let requests: u64 = results.iter().map(|r| r.requests).sum();
    let errors: u64 = results.iter().map(|r| r.errors).sum();
    let error_rate = errors as f64 / requests.max(1) as f64;
    if cli.json {
        let report = json!({
            "tenants": cli.tenants,
            "users_per_tenant": cli.users_per_tenant,
            "activities_per_tenant": cli.activities,
            "set_up_seconds": round2(set_up.as_secs_f64()),
            "results": results.iter().map(Summary::to_json).collect::<Vec<_>>(),
            "db_alone": db_alone.iter().map(|db| ratio_json(db, &results, &cli.pgbench_mode)).collect::<Vec<_>>(),
            "ceiling": ceiling.iter().map(|db| ratio_json(db, &results, &cli.pgbench_mode)).collect::<Vec<_>>(),
            "ceiling_pipelined": pipelined.iter().map(|db| ratio_json(db, &results, &cli.pgbench_mode)).collect::<Vec<_>>(),
            "instructions": instructions.iter().map(|(scenario, concurrency, requests, counted)| json!({
                "scenario": scenario,
                "concurrency": concurrency,
                "requests": requests,
                "instructions": counted.instructions,
                "instructions_per_request": counted.instructions / (*requests).max(1),
                "allocations": counted.allocations,
                "allocations_per_request": counted.allocations / (*requests).max(1),
            })).collect::<Vec<_>>(),
            "chain_lock": lock_runs.iter().map(LockRun::to_json).collect::<Vec<_>>(),
            "checked": checked,
            "foreign": foreign,
            "errors": errors,
        });
        println!("{report:#}");
    } else {
        print_table(&results);
        if !db_alone.is_empty() {
            print_ratios(&db_alone, &results, &cli.pgbench_mode);
            print_ceiling(
                &ceiling,
                &results,
                &cli.pgbench_mode,
                "one statement at a time",
            );
            print_ceiling(
                &pipelined,
                &results,
                &cli.pgbench_mode,
                "pipelined, one round trip",
            );
        }
        if !lock_runs.is_empty() {
            chain_lock::print(&lock_runs);
        }
        if !instructions.is_empty() {
            print_instructions(&instructions);
        }
        println!("{checked} responses checked, {foreign} foreign");
        println!(
            "{errors} errors in {requests} requests ({:.3} %)",
            error_rate * 100.0
        );
    }
    if foreign > 0 || error_rate > cli.max_error_rate {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

async fn wait_ready(api: &Api, limit: Duration) -> Result<(), String> {
    let started = Instant::now();
    loop {
        if let Ok((StatusCode::OK, _)) = api.send(Method::GET, "/ready", None, None, None).await {
            return Ok(());
        }
        if started.elapsed() > limit {
            return Err(format!(
                "the API was not ready within {} s",
                limit.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Progress while the runs go (stderr, so stdout holds only the final table).
fn print_row(s: &Summary) {
    eprintln!("  {}", row(s));
}

fn row(s: &Summary) -> String {
    let mut line = format!(
        "{:<9} {:>12} {:>9} {:>9.1} {:>8.2} {:>8.2} {:>8.2} {:>7}",
        s.scenario, s.concurrency, s.requests, s.per_second, s.p50_ms, s.p95_ms, s.p99_ms, s.errors
    );
    if !s.error_kinds.is_empty() {
        let kinds: Vec<String> = s
            .error_kinds
            .iter()
            .map(|(k, n)| format!("{k}×{n}"))
            .collect();
        line.push_str(&format!("  ({})", kinds.join(", ")));
    }
    line
}

fn print_table(results: &[Summary]) {
    println!();
    println!(
        "{:<9} {:>12} {:>9} {:>9} {:>8} {:>8} {:>8} {:>7}",
        "scenario", "concurrency", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors"
    );
    for s in results {
        println!("{}", row(s));
    }
    println!();
}

/// The API run of the same scenario and concurrency as a pgbench run.
fn api_twin<'a>(db: &Summary, results: &'a [Summary]) -> Option<&'a Summary> {
    results
        .iter()
        .find(|r| r.scenario == db.scenario && r.concurrency == db.concurrency)
}

fn print_ratios(db_alone: &[Summary], results: &[Summary], mode: &str) {
    println!(
        "the database alone: pgbench -M {mode}, the same SQL as the API, as the app role (RLS on)"
    );
    println!(
        "{:<9} {:>12} {:>9} {:>10} {:>10} {:>10} {:>11} {:>16} {:>16}",
        "scenario",
        "concurrency",
        "DB tps",
        "DB p50 ms",
        "DB p99 ms",
        "API req/s",
        "API p50 ms",
        "DB tps÷API req/s",
        "API p50÷DB p50"
    );
    for db in db_alone {
        let Some(api) = api_twin(db, results) else {
            continue;
        };
        println!(
            "{:<9} {:>12} {:>9.1} {:>10.3} {:>10.3} {:>10.1} {:>11.2} {:>16.2} {:>16.2}",
            db.scenario,
            db.concurrency,
            db.per_second,
            db.p50_ms,
            db.p99_ms,
            api.per_second,
            api.p50_ms,
            db.per_second / api.per_second.max(1e-9),
            api.p50_ms / db.p50_ms.max(1e-9),
        );
    }
    println!();
}

fn print_ceiling(ceiling: &[Summary], results: &[Summary], mode: &str, sent: &str) {
    println!(
        "the ceiling: pgbench -M {mode}, the least a request needs in one transaction \
         (tenant, principal check, page and links), as the app role (RLS on), {sent}"
    );
    println!(
        "{:<9} {:>12} {:>11} {:>10} {:>10} {:>11} {:>14}",
        "scenario",
        "concurrency",
        "ceiling tps",
        "DB p50 ms",
        "API req/s",
        "API p50 ms",
        "API share %"
    );
    for db in ceiling {
        let Some(api) = api_twin(db, results) else {
            continue;
        };
        println!(
            "{:<9} {:>12} {:>11.1} {:>10.3} {:>10.1} {:>11.2} {:>14.1}",
            db.scenario,
            db.concurrency,
            db.per_second,
            db.p50_ms,
            api.per_second,
            api.p50_ms,
            100.0 * api.per_second / db.per_second.max(1e-9),
        );
    }
    println!();
}

fn ratio_json(db: &Summary, results: &[Summary], mode: &str) -> Value {
    let mut value = db.to_json();
    value["pgbench_mode"] = json!(mode);
    if let Some(api) = api_twin(db, results) {
        value["db_tps_per_api_rps"] = json!(round2(db.per_second / api.per_second.max(1e-9)));
        value["api_p50_per_db_p50"] = json!(round2(api.p50_ms / db.p50_ms.max(1e-9)));
        value["api_share_percent"] =
            json!(round2(100.0 * api.per_second / db.per_second.max(1e-9)));
    }
    value
}

/// Instructions the server executed and allocations it made per request (callgrind), per
/// run.
fn print_instructions(runs: &[(String, usize, u64, callgrind::Counted)]) {
    println!();
    println!("Server instructions and allocations per request (callgrind, every server thread):");
    println!();
    println!(
        "| scenario | concurrency | requests | instructions per request | allocations per request |"
    );
    println!("|---|---:|---:|---:|---:|");
    for (scenario, concurrency, requests, counted) in runs {
        let requests = (*requests).max(1);
        println!(
            "| {scenario} | {concurrency} | {requests} | {} | {} |",
            counted.instructions / requests,
            counted.allocations / requests
        );
    }
    println!();
    for (scenario, concurrency, _, counted) in runs {
        println!("{scenario} at {concurrency}: {}", counted.dump.display());
    }
    println!();
}
