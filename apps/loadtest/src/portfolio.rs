//! `aura-loadtest portfolio`: the latency of `GET /api/v1/me/portfolio` for a consultant
//! with many client tenants (issue 16: 50 clients, cold under 1 s, cached under 10 ms).
//!
//! Set-up through the API: the clients (the load test's tenants: organisation profile,
//! processors, activities, policies) plus per client overdue and current tasks, an
//! overdue and a due-soon data-subject request and an open breach; the consultant signs
//! up a tenant of their own and every client's owner adds them (the roles taking turns);
//! the consultant accepts each invitation through the link in its mail, read from the
//! server's `MAIL_DIR` (`--mail-dir`). Then, `--samples` times: wait until the server's
//! cache has expired (`--cache-secs`, the server's `PORTFOLIO_CACHE_SECS`), one cold
//! request, then `--warm` cached ones. Every answer is checked: all the consultant's
//! tenants, each read, none other.

use std::{
    collections::BTreeSet,
    path::PathBuf,
    process::ExitCode,
    sync::Arc,
    time::{Duration, Instant},
};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::task::JoinSet;

use crate::{
    api::{Api, Registry},
    fixture::{self, PASSWORD, expect, str_field},
    stats::percentile_ms,
};

#[derive(clap::Args)]
pub struct Args {
    /// Client tenants besides the consultant's own (49: a portfolio of 50).
    #[arg(long, default_value_t = 49)]
    clients: usize,
    /// The server's MAIL_DIR (MAIL_TRANSPORT=file): where the invitations arrive.
    #[arg(long)]
    mail_dir: PathBuf,
    /// The server's PORTFOLIO_CACHE_SECS: a cold sample waits this long (plus a margin).
    #[arg(long, default_value_t = 30)]
    cache_secs: u64,
    /// Cold requests (each after the cache expired).
    #[arg(long, default_value_t = 10)]
    samples: usize,
    /// Cached requests after each cold one.
    #[arg(long, default_value_t = 20)]
    warm: usize,
    /// The targets the figures are held to (p95), in milliseconds.
    #[arg(long, default_value_t = 1000.0)]
    cold_target_ms: f64,
    #[arg(long, default_value_t = 10.0)]
    warm_target_ms: f64,
}

const PORTFOLIO: &str = "/api/v1/me/portfolio";
const ROLES: [&str; 3] = ["member", "viewer", "admin"];

pub async fn run(api: &Api, args: Args) -> Result<ExitCode, String> {
    if args.clients == 0 || args.samples == 0 {
        return Err("--clients and --samples must be at least 1".into());
    }
    let run_id = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let started = Instant::now();
    let registry = Arc::new(Registry::default());
    let shape = fixture::Shape {
        tenants: args.clients,
        users_per_tenant: 1,
        activities_per_tenant: 5,
        // Only the owners: no member to add.
        cli: "aura".into(),
    };
    let clients = fixture::create(api, &registry, shape, &run_id, 4).await?;

    let consultant_email = format!("consultant-{run_id}@loadtest.example");
    expect(
        api.send(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(&json!({
                "organisation_name": format!("Consultancy {run_id}"),
                "email": consultant_email,
                "full_name": "Kim Consultant",
                "password": PASSWORD,
            })),
            None,
        )
        .await,
        StatusCode::CREATED,
        "the consultant's sign-up",
    )?;
    let (home, _) = fixture::login(api, &consultant_email).await?;

    let mut pending = JoinSet::new();
    for client in &clients {
        let (api, owner) = (api.clone(), client.users[0].access.clone());
        pending.spawn(async move { client_data(&api, &owner).await });
        if pending.len() >= 4 {
            joined(pending.join_next().await)?;
        }
    }
    while let Some(done) = pending.join_next().await {
        joined(Some(done))?;
    }
    // One client at a time: accepting an invitation sets the account's password, which
    // voids every link of the account still open.
    let mut used = BTreeSet::new();
    for (n, client) in clients.iter().enumerate() {
        let body = json!({
            "email": consultant_email,
            "full_name": "Kim Consultant",
            "role": ROLES[n % ROLES.len()],
        });
        expect(
            api.send(
                Method::POST,
                "/api/v1/tenants/me/users",
                Some(&client.users[0].access),
                Some(&body),
                None,
            )
            .await,
            StatusCode::CREATED,
            "adding the consultant",
        )?;
        accept_invitation(api, &args.mail_dir, &consultant_email, &mut used).await?;
    }
    let (_, consultant) = fixture::login(api, &consultant_email).await?;
    let mut expected: BTreeSet<String> = clients.iter().map(|c| c.id.clone()).collect();
    expected.insert(home);
    println!(
        "set-up: {} tenants (the consultant's own and {} clients: 5 activities, 3 processors, 2 policies, 3 tasks, 2 requests, 1 breach each) in {:.1} s",
        expected.len(),
        args.clients,
        started.elapsed().as_secs_f64()
    );

    let (mut cold, mut warm) = (Vec::new(), Vec::new());
    for _ in 0..args.samples {
        tokio::time::sleep(Duration::from_secs(args.cache_secs) + Duration::from_millis(500)).await;
        cold.push(timed(api, &consultant.access, &expected).await?);
        for _ in 0..args.warm {
            warm.push(timed(api, &consultant.access, &expected).await?);
        }
    }
    let cold_p95 = report("cold", &mut cold);
    let warm_p95 = report("warm", &mut warm);
    println!(
        "answers checked: {}, each with all {} tenants and none other",
        cold.len() + warm.len(),
        expected.len()
    );
    let cold_ok = cold_p95 < args.cold_target_ms;
    let warm_ok = warm_p95 < args.warm_target_ms;
    println!(
        "{} cold p95 {cold_p95:.1} ms < {} ms; {} warm p95 {warm_p95:.2} ms < {} ms",
        verdict(cold_ok),
        args.cold_target_ms,
        verdict(warm_ok),
        args.warm_target_ms
    );
    Ok(if cold_ok && warm_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "FAIL" }
}

fn joined(done: Option<Result<Result<(), String>, tokio::task::JoinError>>) -> Result<(), String> {
    match done {
        Some(Ok(result)) => result,
        Some(Err(e)) => Err(format!("set-up task failed: {e}")),
        None => Ok(()),
    }
}

fn day(offset_days: i64) -> String {
    (OffsetDateTime::now_utc().date() + time::Duration::days(offset_days)).to_string()
}

/// A client's tasks, requests and breach.
async fn client_data(api: &Api, owner: &str) -> Result<(), String> {
    let created = |path: &'static str, body: Value| async move {
        expect(
            api.send(Method::POST, path, Some(owner), Some(&body), None)
                .await,
            StatusCode::CREATED,
            path,
        )
    };
    for due in [-3, -1, 10] {
        created(
            "/api/v1/tasks",
            json!({"title": "Review the processors", "category": "other", "due_date": day(due)}),
        )
        .await?;
    }
    for received in [40, 28] {
        created(
            "/api/v1/data-subject-requests",
            json!({
                "received_at": format!("{}T10:00:00Z", day(-received)),
                "channel": "email",
                "subject": {"name": "Erika Mustermann", "email": "erika@loadtest.example", "category": "customer"},
                "rights": ["access"],
            }),
        )
        .await?;
    }
    let aware = OffsetDateTime::now_utc() - time::Duration::hours(20);
    created(
        "/api/v1/breaches",
        json!({
            "title": "Misdirected e-mail",
            "became_aware_at": aware.format(&time::format_description::well_known::Rfc3339).map_err(|e| e.to_string())?,
            "kinds": ["confidentiality"],
        }),
    )
    .await?;
    Ok(())
}

/// Redeems the newest invitation mailed to `email` whose token is not in `used` yet (the
/// worker sends it within seconds), and adds its token there.
async fn accept_invitation(
    api: &Api,
    dir: &PathBuf,
    email: &str,
    used: &mut BTreeSet<String>,
) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let token = loop {
        let fresh = (invitation_tokens(dir, email)?.into_iter()).find(|t| !used.contains(t));
        if let Some(token) = fresh {
            break token;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "no new invitation in {} within 60 s",
                dir.display()
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    used.insert(token.clone());
    {
        let (status, body) = api
            .send(
                Method::POST,
                "/api/v1/auth/password/reset",
                None,
                Some(&json!({"token": token, "password": PASSWORD})),
                None,
            )
            .await?;
        if status != StatusCode::NO_CONTENT {
            return Err(format!("accepting an invitation: {status} {body}"));
        }
    }
    Ok(())
}

/// The tokens of the links in the mails to `email`.
fn invitation_tokens(dir: &PathBuf, email: &str) -> Result<BTreeSet<String>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut tokens = BTreeSet::new();
    for entry in entries.filter_map(Result::ok) {
        let Ok(mail) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        if !mail.contains(email) {
            continue;
        }
        if let Some(start) = mail.find("token=") {
            let token: String = mail[start + "token=".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            tokens.insert(token);
        }
    }
    Ok(tokens)
}

/// One portfolio request, checked; its latency in microseconds.
async fn timed(api: &Api, token: &str, expected: &BTreeSet<String>) -> Result<u64, String> {
    let started = Instant::now();
    let answer = api
        .send(Method::GET, PORTFOLIO, Some(token), None, None)
        .await;
    let elapsed = started.elapsed().as_micros() as u64;
    let body = expect(answer, StatusCode::OK, PORTFOLIO)?;
    let tenants = body["tenants"]
        .as_array()
        .ok_or("no tenants in the answer")?;
    let mut seen = BTreeSet::new();
    for tenant in tenants {
        if tenant["available"] != true {
            return Err(format!("a tenant was not read: {tenant}"));
        }
        seen.insert(str_field(tenant, "tenant_id")?.to_owned());
    }
    if &seen != expected {
        return Err(format!(
            "the portfolio lists {} tenants, {} of them the consultant's ({} expected)",
            seen.len(),
            seen.intersection(expected).count(),
            expected.len()
        ));
    }
    Ok(elapsed)
}

/// Prints p50, p95 and max of `latencies`; the p95 in milliseconds.
fn report(what: &str, latencies: &mut [u64]) -> f64 {
    latencies.sort_unstable();
    let p95 = percentile_ms(latencies, 95.0);
    println!(
        "{what:<5} n={:<4} p50 {:>8.2} ms  p95 {:>8.2} ms  max {:>8.2} ms",
        latencies.len(),
        percentile_ms(latencies, 50.0),
        p95,
        latencies.last().map_or(0.0, |us| *us as f64 / 1000.0)
    );
    p95
}
