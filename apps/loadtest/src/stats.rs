//! Latency figures: every request's latency is kept (microseconds, a plain vector), then
//! sorted once per run. At the volumes a 2-core machine produces this is exact and small.

use std::{collections::BTreeMap, time::Duration};

use serde_json::{Value, json};

/// What one worker (or a merge of workers) saw.
#[derive(Debug, Default)]
pub struct Tally {
    pub latencies_us: Vec<u64>,
    /// Unexpected answers by kind (`"503"`, `"timeout"`, …).
    pub errors: BTreeMap<String, u64>,
    /// Responses whose tenant was checked.
    pub checked: u64,
    /// Responses carrying anything of another tenant.
    pub foreign: u64,
}

impl Tally {
    pub fn error(&mut self, kind: impl Into<String>) {
        *self.errors.entry(kind.into()).or_default() += 1;
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    pub fn merge(&mut self, other: Tally) {
        self.latencies_us.extend(other.latencies_us);
        for (kind, n) in other.errors {
            *self.errors.entry(kind).or_default() += n;
        }
        self.checked += other.checked;
        self.foreign += other.foreign;
    }
}

/// The summary of one run: a scenario at one concurrency.
#[derive(Debug, Clone)]
pub struct Summary {
    pub scenario: String,
    pub concurrency: usize,
    pub requests: u64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
    pub error_kinds: BTreeMap<String, u64>,
}

impl Summary {
    pub fn new(scenario: &str, concurrency: usize, mut tally: Tally, elapsed: Duration) -> Self {
        tally.latencies_us.sort_unstable();
        let lat = &tally.latencies_us;
        let errors = tally.error_count();
        let requests = lat.len() as u64;
        Self {
            scenario: scenario.to_owned(),
            concurrency,
            requests,
            per_second: requests as f64 / elapsed.as_secs_f64().max(1e-9),
            p50_ms: percentile_ms(lat, 50.0),
            p95_ms: percentile_ms(lat, 95.0),
            p99_ms: percentile_ms(lat, 99.0),
            errors,
            error_kinds: tally.errors,
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "scenario": self.scenario,
            "concurrency": self.concurrency,
            "requests": self.requests,
            "per_second": round2(self.per_second),
            "p50_ms": round2(self.p50_ms),
            "p95_ms": round2(self.p95_ms),
            "p99_ms": round2(self.p99_ms),
            "errors": self.errors,
            "error_kinds": self.error_kinds,
        })
    }
}

/// The nearest-rank percentile of sorted microsecond latencies, in milliseconds.
pub fn percentile_ms(sorted_us: &[u64], pct: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let rank = ((pct / 100.0) * sorted_us.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted_us.len()) - 1;
    sorted_us[index] as f64 / 1000.0
}

pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let us: Vec<u64> = (1..=100).map(|ms| ms * 1000).collect();
        assert_eq!(percentile_ms(&us, 50.0), 50.0);
        assert_eq!(percentile_ms(&us, 95.0), 95.0);
        assert_eq!(percentile_ms(&us, 99.0), 99.0);
        assert_eq!(percentile_ms(&[7000], 99.0), 7.0);
        assert_eq!(percentile_ms(&[], 50.0), 0.0);
    }

    #[test]
    fn merged_tallies_add_up() {
        let mut a = Tally {
            latencies_us: vec![1, 2],
            checked: 2,
            ..Tally::default()
        };
        a.error("503");
        let mut b = Tally {
            latencies_us: vec![3],
            checked: 1,
            foreign: 1,
            ..Tally::default()
        };
        b.error("503");
        b.error("timeout");
        a.merge(b);
        assert_eq!(a.latencies_us.len(), 3);
        assert_eq!((a.checked, a.foreign, a.error_count()), (3, 1, 3));
        assert_eq!(a.errors["503"], 2);
    }
}
