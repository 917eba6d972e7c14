//! How long writes held their tenant's audit-chain head lock during a run: the service's
//! `aura_audit_chain_lock_held_seconds` histogram, scraped before and after the run (the
//! difference is the run's), from `/metrics` on the service's metrics listener.

use serde_json::{Value, json};

use crate::stats::round2;

const METRIC: &str = "aura_audit_chain_lock_held_seconds";

/// One scrape of the histogram (cumulative since the service started).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LockTimes {
    pub count: u64,
    pub sum_seconds: f64,
    /// (upper bound in seconds, cumulative count), in the order served (ascending).
    pub buckets: Vec<(f64, u64)>,
}

impl LockTimes {
    /// The histogram's lines of an OpenMetrics text; `None` when it is not there.
    pub fn parse(text: &str) -> Option<Self> {
        let mut times = Self::default();
        let mut seen = false;
        for line in text.lines() {
            let Some(rest) = line.strip_prefix(METRIC) else {
                continue;
            };
            let value = rest.rsplit(' ').next()?;
            if rest.starts_with("_count ") {
                times.count = value.parse().ok()?;
                seen = true;
            } else if rest.starts_with("_sum ") {
                times.sum_seconds = value.parse().ok()?;
            } else if let Some(le) = rest
                .strip_prefix("_bucket{le=\"")
                .and_then(|r| r.split('"').next())
            {
                let bound = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().ok()?
                };
                times.buckets.push((bound, value.parse().ok()?));
            }
        }
        seen.then_some(times)
    }

    /// What happened between `before` and this scrape.
    pub fn since(&self, before: &Self) -> Self {
        Self {
            count: self.count.saturating_sub(before.count),
            sum_seconds: self.sum_seconds - before.sum_seconds,
            buckets: self
                .buckets
                .iter()
                .map(|&(le, n)| {
                    let earlier = before.buckets.iter().find(|(b, _)| *b == le);
                    (le, n.saturating_sub(earlier.map_or(0, |(_, m)| *m)))
                })
                .collect(),
        }
    }

    pub fn mean_ms(&self) -> f64 {
        self.sum_seconds * 1000.0 / self.count.max(1) as f64
    }

    /// The upper bound (ms) of the bucket holding the `pct` percentile.
    pub fn at_most_ms(&self, pct: f64) -> f64 {
        let rank = (pct / 100.0 * self.count as f64).ceil() as u64;
        self.buckets
            .iter()
            .find(|(_, n)| *n >= rank.max(1))
            .map_or(f64::INFINITY, |(le, _)| le * 1000.0)
    }
}

/// The lock figures of one run.
pub struct LockRun {
    pub scenario: String,
    pub concurrency: usize,
    pub times: LockTimes,
}

impl LockRun {
    pub fn to_json(&self) -> Value {
        json!({
            "scenario": self.scenario,
            "concurrency": self.concurrency,
            "writes": self.times.count,
            "mean_ms": round2(self.times.mean_ms()),
            "p50_at_most_ms": self.times.at_most_ms(50.0),
            "p99_at_most_ms": self.times.at_most_ms(99.0),
        })
    }
}

pub fn print(runs: &[LockRun]) {
    println!("the audit-chain head lock: how long each write held it (the service's histogram)");
    println!(
        "{:<9} {:>12} {:>9} {:>10} {:>10} {:>10}",
        "scenario", "concurrency", "writes", "mean ms", "p50 ≤ ms", "p99 ≤ ms"
    );
    for run in runs {
        println!(
            "{:<9} {:>12} {:>9} {:>10.3} {:>10} {:>10}",
            run.scenario,
            run.concurrency,
            run.times.count,
            run.times.mean_ms(),
            run.times.at_most_ms(50.0),
            run.times.at_most_ms(99.0),
        );
    }
    println!();
}

/// One scrape of `url` (the metrics listener's `/metrics`).
pub async fn scrape(http: &reqwest::Client, url: &str) -> Result<LockTimes, String> {
    let text = http
        .get(url)
        .send()
        .await
        .map_err(|e| format!("metrics: {e}"))?
        .text()
        .await
        .map_err(|e| format!("metrics: {e}"))?;
    LockTimes::parse(&text).ok_or_else(|| format!("{url} has no {METRIC}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# TYPE aura_audit_chain_lock_held_seconds histogram\n\
        aura_audit_chain_lock_held_seconds_sum 0.03\n\
        aura_audit_chain_lock_held_seconds_count 10\n\
        aura_audit_chain_lock_held_seconds_bucket{le=\"0.001\"} 4\n\
        aura_audit_chain_lock_held_seconds_bucket{le=\"0.005\"} 9\n\
        aura_audit_chain_lock_held_seconds_bucket{le=\"+Inf\"} 10\n\
        http_requests_in_flight 1\n";

    #[test]
    fn the_histogram_is_read_and_differenced() {
        let after = LockTimes::parse(TEXT).expect("the histogram");
        assert_eq!(after.count, 10);
        assert_eq!(after.buckets.len(), 3);
        assert!((after.mean_ms() - 3.0).abs() < 1e-9);
        assert_eq!(after.at_most_ms(50.0), 5.0);
        assert_eq!(after.at_most_ms(99.0), f64::INFINITY);
        let before = LockTimes {
            count: 4,
            sum_seconds: 0.002,
            buckets: vec![(0.001, 4), (0.005, 4), (f64::INFINITY, 4)],
        };
        let run = after.since(&before);
        assert_eq!(run.count, 6);
        assert_eq!(
            run.buckets,
            vec![(0.001, 0), (0.005, 5), (f64::INFINITY, 6)]
        );
        assert_eq!(run.at_most_ms(50.0), 5.0);
        assert_eq!(LockTimes::parse("http_requests_in_flight 1\n"), None);
    }
}
