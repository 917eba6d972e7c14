//! The database alone: pgbench runs the SQL the API sends for a request (the
//! `sql/*.sql` templates, one script per tenant so the tenant varies like in the API run)
//! as the app role (row-level security active), at the same concurrency and duration.
//! Its per-transaction log gives the same percentiles as the API's table.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use crate::{
    fixture::Tenant,
    scenarios::Scenario,
    stats::{Summary, Tally},
};

/// `GET /processing-activities?limit=20`: everything the API sends to PostgreSQL for it.
const LIST_SQL: &str = include_str!("../sql/list.sql");
/// `GET /processing-activities/{id}`.
const READ_SQL: &str = include_str!("../sql/read.sql");

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
        tenants: &[Tenant],
        concurrency: usize,
        duration: Duration,
    ) -> Result<Summary, String> {
        let template = match scenario {
            Scenario::List => LIST_SQL,
            Scenario::Read => READ_SQL,
            _ => return Err(format!("no pgbench script for {}", scenario.name())),
        };
        let dir = std::env::temp_dir().join(format!("aura-pgbench-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("pgbench dir: {e}"))?;
        let result = self
            .run_in(&dir, template, tenants, concurrency, duration)
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
        let mut command = tokio::process::Command::new(&self.bin);
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
        let output = command
            .arg(&self.url)
            .kill_on_drop(true)
            .output()
            .await
            .map_err(|e| format!("cannot run {}: {e}", self.bin))?;
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

/// The template with the tenant's id and one of its records filled in.
fn script(template: &str, tenant: &Tenant) -> String {
    let record = tenant.activity_ids.first().map_or("", String::as_str);
    template
        .replace("{tenant}", &tenant.id)
        .replace("{activity}", record)
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
    use super::*;

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
        let tenant = Tenant {
            index: 0,
            id: "T-ID".to_owned(),
            users: Vec::new(),
            activity_ids: vec!["A-ID".to_owned()],
            processor_ids: Vec::new(),
        };
        for template in [LIST_SQL, READ_SQL] {
            let filled = script(template, &tenant);
            assert!(filled.contains("set_config('app.tenant_id', 'T-ID', true)"));
            assert!(!filled.contains('{'), "unfilled placeholder: {filled}");
        }
        assert!(script(READ_SQL, &tenant).contains("'A-ID'"));
    }
}
