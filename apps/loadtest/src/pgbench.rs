//! The database alone: pgbench runs the SQL the API sends for a request (the
//! `sql/*.sql` templates, one script per tenant so the tenant varies like in the API run)
//! as the app role (row-level security active), at the same concurrency and duration.
//! Its per-transaction log gives the same percentiles as the API's table.
//!
//! The ceiling (`Script::Ceiling`, `sql/ceiling_*.sql`) does not depend on our own SQL:
//! the least a request needs in one transaction — the tenant set, a principal check that
//! reads only what authorisation needs, the page and its links — with no connection check.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use crate::{
    fixture::Tenant,
    scenarios::Scenario,
    stats::{Summary, Tally},
};

/// What every authenticated request sends first: the principal re-read, pipelined with
/// its transaction's start (the statement log of `LOADTEST_LOG_SQL=1`, values inlined).
const PRINCIPAL_SQL: &str = include_str!("../sql/principal.sql");
/// `GET /processing-activities?limit=20` after that.
const LIST_SQL: &str = include_str!("../sql/list.sql");
/// `GET /processing-activities/{id}` after that.
const READ_SQL: &str = include_str!("../sql/read.sql");

/// The ceiling's transaction start and principal check.
const CEILING_PRINCIPAL_SQL: &str = include_str!("../sql/ceiling_principal.sql");
/// The ceiling's list of 20 and single read, ending the transaction.
const CEILING_LIST_SQL: &str = include_str!("../sql/ceiling_list.sql");
const CEILING_READ_SQL: &str = include_str!("../sql/ceiling_read.sql");

/// Which statements pgbench sends for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    /// The SQL the API sends today (its statement log).
    Replay,
    /// The least a request needs, in one transaction, each statement sent when the one
    /// before has answered (as the issue that asked for it defines the ceiling).
    Ceiling,
    /// The ceiling's statements pipelined: all sent at once, one round trip (pgbench's
    /// `\startpipeline`). The API pipelines some of its statements too; this is the
    /// ceiling for that.
    CeilingPipelined,
}

impl Script {
    /// The script's statements for `scenario`, placeholders unfilled.
    fn template(self, scenario: Scenario) -> Option<String> {
        let (principal, work) = self.sql(scenario)?;
        Some(match self {
            Self::CeilingPipelined => {
                format!("\\startpipeline\n{principal}{work}\\endpipeline\n")
            }
            Self::Replay | Self::Ceiling => format!("{principal}{work}"),
        })
    }

    fn sql(self, scenario: Scenario) -> Option<(&'static str, &'static str)> {
        match (self, scenario) {
            (Self::Replay, Scenario::List) => Some((PRINCIPAL_SQL, LIST_SQL)),
            (Self::Replay, Scenario::Read) => Some((PRINCIPAL_SQL, READ_SQL)),
            (Self::Ceiling | Self::CeilingPipelined, Scenario::List) => {
                Some((CEILING_PRINCIPAL_SQL, CEILING_LIST_SQL))
            }
            (Self::Ceiling | Self::CeilingPipelined, Scenario::Read) => {
                Some((CEILING_PRINCIPAL_SQL, CEILING_READ_SQL))
            }
            _ => None,
        }
    }
}

/// pgbench accepts at most 128 scripts.
const MAX_SCRIPTS: usize = 100;

pub struct Pgbench {
    pub bin: String,
    /// The app role's URL (never a superuser: RLS must apply as it does for the API).
    pub url: String,
    /// pgbench's `-M`: `prepared`, `extended` or `simple`.
    pub mode: String,
}

/// The scenarios pgbench has a script for.
pub fn covers(scenario: Scenario) -> bool {
    matches!(scenario, Scenario::List | Scenario::Read)
}

impl Pgbench {
    pub async fn run(
        &self,
        scenario: Scenario,
        kind: Script,
        tenants: &[Tenant],
        concurrency: usize,
        duration: Duration,
    ) -> Result<Summary, String> {
        let template = kind
            .template(scenario)
            .ok_or_else(|| format!("no pgbench script for {}", scenario.name()))?;
        let dir = std::env::temp_dir().join(format!("aura-pgbench-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("pgbench dir: {e}"))?;
        let result = self
            .run_in(&dir, &template, tenants, concurrency, duration)
            .await;
        let _ = std::fs::remove_dir_all(&dir);
        let (tps, mut tally) = result?;
        tally.latencies_us.sort_unstable();
        let mut summary = Summary::new(scenario.name(), concurrency, tally, duration);
        summary.per_second = tps;
        Ok(summary)
    }

    async fn run_in(
        &self,
        dir: &Path,
        template: &str,
        tenants: &[Tenant],
        concurrency: usize,
        duration: Duration,
    ) -> Result<(f64, Tally), String> {
        let mut command = std::process::Command::new(&self.bin);
        command
            .arg("--no-vacuum")
            .arg(format!("--protocol={}", self.mode))
            .arg(format!("--client={concurrency}"))
            .arg(format!("--jobs={concurrency}"))
            .arg(format!("--time={}", duration.as_secs().max(1)))
            .arg("--log")
            .arg(format!("--log-prefix={}", dir.join("txn").display()));
        for tenant in tenants.iter().take(MAX_SCRIPTS) {
            let path = dir.join(format!("tenant-{}.sql", tenant.index));
            std::fs::write(&path, script(template, tenant)).map_err(|e| format!("script: {e}"))?;
            command.arg(format!("--file={}@1", path.display()));
        }
        command.arg(&self.url);
        // A blocking wait on a thread of its own (pgbench runs for the whole duration).
        let bin = self.bin.clone();
        let output = tokio::task::spawn_blocking(move || command.output())
            .await
            .map_err(|e| format!("pgbench thread: {e}"))?
            .map_err(|e| format!("cannot run {bin}: {e}"))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            return Err(format!(
                "pgbench failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        let tps = parse_tps(&stdout).ok_or("pgbench printed no tps")?;
        let mut tally = Tally::default();
        for log in transaction_logs(dir)? {
            let text = std::fs::read_to_string(&log).map_err(|e| format!("pgbench log: {e}"))?;
            read_log(&text, &mut tally);
        }
        Ok((tps, tally))
    }
}

/// The request's statements with the tenant's values filled in: its first user and
/// that user's session (the token's `sid`), one of its records, and the ids of its first
/// page in id order (the list's default sort: the set-up's records, created first).
fn script(template: &str, tenant: &Tenant) -> String {
    let user = tenant.users.first();
    let session = user
        .and_then(|u| crate::api::claims(&u.access))
        .and_then(|c| c["sid"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut ids = tenant.activity_ids.clone();
    ids.sort();
    ids.truncate(21);
    template
        .replace("{tenant}", &tenant.id)
        .replace("{user}", user.map_or("", |u| u.user_id.as_str()))
        .replace("{session}", &session)
        .replace(
            "{activity}",
            tenant.activity_ids.first().map_or("", String::as_str),
        )
        .replace("{first_page}", &ids.join(","))
}

/// `tps = 1234.567890 (without initial connection time)`.
fn parse_tps(stdout: &str) -> Option<f64> {
    stdout
        .lines()
        .find(|l| l.starts_with("tps = "))?
        .trim_start_matches("tps = ")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The per-thread transaction logs (`txn.<pid>` and `txn.<pid>.<thread>`).
fn transaction_logs(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("pgbench logs: {e}"))?;
    Ok(entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("txn."))
        })
        .collect())
}

/// Lines `client transaction latency_us script epoch epoch_us`; a failed transaction
/// (pgbench 15 writes `failed` or `skipped` in the latency column) counts as an error.
fn read_log(text: &str, tally: &mut Tally) {
    for line in text.lines() {
        match line.split_whitespace().nth(2) {
            Some(field) => match field.parse::<u64>() {
                Ok(us) => tally.latencies_us.push(us),
                Err(_) => tally.error(field),
            },
            None => continue,
        }
    }
}

#[cfg(test)]
mod tests {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

    use super::*;
    use crate::fixture::User;

    #[test]
    fn tps_and_latency_logs_are_read() {
        let out = "latency average = 1.234 ms\ntps = 810.5 (without initial connection time)\n";
        assert_eq!(parse_tps(out), Some(810.5));
        assert_eq!(parse_tps("nothing"), None);
        let mut tally = Tally::default();
        read_log(
            "0 1 1200 0 1700000000 1\n1 1 failed 0 1700000000 2\n\n0 2 800 3 1700000000 3\n",
            &mut tally,
        );
        assert_eq!(tally.latencies_us, vec![1200, 800]);
        assert_eq!(tally.error_count(), 1);
    }

    #[test]
    fn templates_name_the_tenant_and_record_only_through_placeholders() {
        let claims = URL_SAFE_NO_PAD.encode(r#"{"sid":"S-ID"}"#);
        let tenant = Tenant {
            index: 0,
            id: "T-ID".to_owned(),
            users: vec![User {
                email: "e".to_owned(),
                user_id: "U-ID".to_owned(),
                access: format!("h.{claims}.s"),
            }],
            activity_ids: vec!["A-2".to_owned(), "A-1".to_owned()],
            processor_ids: Vec::new(),
        };
        let filled =
            |kind: Script, scenario| script(&kind.template(scenario).expect("a script"), &tenant);
        for kind in [Script::Replay, Script::Ceiling, Script::CeilingPipelined] {
            for scenario in [Scenario::List, Scenario::Read] {
                let filled = filled(kind, scenario);
                assert!(filled.contains("set_config('app.tenant_id', 'T-ID', true)"));
                assert!(filled.contains("'S-ID'") && filled.contains("'U-ID'"));
                assert!(
                    filled.contains("'{A-"),
                    "the page's ids: its links or DPIAs"
                );
                for placeholder in [
                    "{tenant}",
                    "{user}",
                    "{session}",
                    "{activity}",
                    "{first_page}",
                ] {
                    assert!(!filled.contains(placeholder), "unfilled {placeholder}");
                }
            }
        }
        // Every placeholder above; the replay's own spelling of the principal read here.
        for template in [LIST_SQL, READ_SQL] {
            let filled = script(&format!("{PRINCIPAL_SQL}{template}"), &tenant);
            assert!(filled.contains("set_config('app.tenant_id', 'T-ID', true)"));
            assert!(filled.contains(r#""refresh_families"."id" = 'S-ID'"#));
            assert!(filled.contains(r#""users"."id" = 'U-ID'"#));
        }
        let read = filled(Script::Replay, Scenario::Read);
        assert!(
            read.contains(r#""processing_activities"."id" = 'A-2'"#) && read.contains("&& '{A-2}'")
        );
        assert!(filled(Script::Replay, Scenario::List).contains("&& '{A-1,A-2}'"));
        let ceiling = filled(Script::Ceiling, Scenario::List);
        assert!(
            !ceiling.contains("SELECT 1;") && !ceiling.contains("password_hash"),
            "the ceiling checks no connection and reads no password hash"
        );
        assert_eq!(ceiling.matches("BEGIN;").count(), 1, "one transaction");
        let pipelined = filled(Script::CeilingPipelined, Scenario::List);
        assert_eq!(
            pipelined
                .replace("\\startpipeline\n", "")
                .replace("\\endpipeline\n", ""),
            ceiling,
            "the same statements, in one pipeline"
        );
        assert!(
            pipelined.starts_with("\\startpipeline\n") && pipelined.ends_with("\\endpipeline\n")
        );
    }
}
