//! Renders the Art. 30(1) record of 200 activities (and its workbook) and prints the time
//! each took and the process's peak memory:
//!
//!     cargo run --release -p aura-adapter-reports --example render_bench [ACTIVITIES] [OUT.pdf]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/fixture/mod.rs"]
mod fixture;

use std::time::Instant;

use aura_adapter_reports::{PdfRenderer, XlsxWriter};
use aura_reports::{
    Language, ReportRenderer, Stamp, WorkbookWriter, register_report, register_workbook,
};

/// The peak resident set (VmHWM) in KiB, where /proc tells it.
fn peak_kib() -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let out = args.next();
    let export = fixture::register(n);
    let stamp = Stamp {
        generated_at: export.generated_at,
        chain_head: Some("0".repeat(64)),
    };
    let started = Instant::now();
    let report = register_report(&export, Language::De, stamp);
    let pdf = PdfRenderer.render(&report).unwrap();
    let pdf_time = started.elapsed();
    let started = Instant::now();
    let xlsx = XlsxWriter
        .write(&register_workbook(&export, Language::De))
        .unwrap();
    let xlsx_time = started.elapsed();
    println!(
        "{n} activities: pdf {} KiB in {:.3} s; xlsx {} KiB in {:.3} s; peak memory {} MiB",
        pdf.len() / 1024,
        pdf_time.as_secs_f64(),
        xlsx.len() / 1024,
        xlsx_time.as_secs_f64(),
        peak_kib().map_or("?".to_owned(), |k| (k / 1024).to_string()),
    );
    if let Some(path) = out {
        std::fs::write(&path, pdf).unwrap();
        println!("wrote {path}");
    }
}
