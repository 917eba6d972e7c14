//! Instructions and allocations per request, counted by callgrind (`--callgrind-pid PID`):
//! the server runs under `valgrind --tool=callgrind --instr-atstart=no
//! --compress-strings=no --callgrind-out-file=PREFIX`, and each run is measured with
//! `callgrind_control`: counters zeroed and instrumentation switched on before it, the
//! instructions of every server thread read back after it, the counts dumped (the calls to
//! the C allocator — `malloc`, `calloc`, `realloc`, `posix_memalign` — are read from the
//! dump), then switched off again.
//!
//! Instructions, unlike seconds, do not depend on what else the machine is doing: the same
//! binary, inputs and environment count the same, so a before/after comparison holds on a
//! busy machine.

use std::process::Command;

/// The callgrind run of the server process `pid`, dumping to `out_prefix` + `.N`.
#[derive(Debug, Clone)]
pub struct Callgrind {
    pub pid: u32,
    pub out_prefix: String,
}

/// What one run cost the server.
#[derive(Debug, Clone)]
pub struct Counted {
    pub instructions: u64,
    pub allocations: u64,
    /// The run's dump: `callgrind_annotate` shows where the instructions went.
    pub dump: std::path::PathBuf,
}

impl Callgrind {
    /// Zeroes the counters and starts counting.
    pub fn start(&self) -> Result<(), String> {
        self.control(&["--zero"])?;
        self.control(&["--instr=on"])?;
        Ok(())
    }

    /// The instructions executed and allocations made since [`Callgrind::start`] by every
    /// thread of the server; counting stops.
    pub fn stop(&self) -> Result<Counted, String> {
        let report = self.control(&["-e", "Ir"])?;
        let instructions = total_instructions(&report)
            .ok_or_else(|| format!("callgrind_control printed no totals:\n{report}"))?;
        let before = self.dumps()?;
        self.control(&["--dump=run"])?;
        let dump = self
            .dumps()?
            .into_iter()
            .find(|path| !before.contains(path));
        self.control(&["--instr=off"])?;
        let dump = dump.ok_or("callgrind wrote no dump")?;
        let text =
            std::fs::read_to_string(&dump).map_err(|e| format!("{}: {e}", dump.display()))?;
        Ok(Counted {
            instructions,
            allocations: allocator_calls(&text),
            dump,
        })
    }

    /// The dump files written so far (`PREFIX.1`, `PREFIX.2`, ...).
    fn dumps(&self) -> Result<Vec<std::path::PathBuf>, String> {
        let prefix = std::path::Path::new(&self.out_prefix);
        let dir = prefix.parent().ok_or("--callgrind-out has no directory")?;
        let name = prefix
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or("--callgrind-out has no file name")?;
        let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| {
                path.file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.strip_prefix(name))
                    .is_some_and(|rest| rest.starts_with('.'))
            })
            .collect())
    }

    fn control(&self, args: &[&str]) -> Result<String, String> {
        let output = Command::new("callgrind_control")
            .args(args)
            .arg(self.pid.to_string())
            .output()
            .map_err(|e| format!("callgrind_control: {e}"))?;
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        if !output.status.success() || text.contains("Error:") {
            return Err(format!(
                "callgrind_control {}: {text}{}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(text)
    }
}

/// The sum of the per-thread lines under `Totals:` (`   Th 1   12,345,678`).
fn total_instructions(report: &str) -> Option<u64> {
    let totals = report.split_once("Totals:")?.1;
    let mut sum = None;
    for line in totals.lines().skip(1) {
        let mut fields = line.split_whitespace();
        let Some(thread) = fields.next() else {
            continue;
        };
        if !thread.starts_with("Th") {
            break;
        }
        // "Th 1" or "Th12": the count is the last field either way.
        let count: u64 = fields.last()?.replace(',', "").parse().ok()?;
        sum = Some(sum.unwrap_or(0) + count);
    }
    sum
}

/// Calls to the C allocator's allocating functions in a dump written with
/// `--compress-strings=no`: each `calls=N ...` line counts the calls to the function its
/// `cfn=` line names.
fn allocator_calls(dump: &str) -> u64 {
    const ALLOCATING: [&str; 4] = ["malloc", "calloc", "realloc", "posix_memalign"];
    let mut callee_allocates = false;
    let mut calls = 0;
    for line in dump.lines() {
        if let Some(callee) = line.strip_prefix("cfn=") {
            // "malloc" or "malloc'2" (a recursion level), possibly with a file's suffix.
            let name = callee.split(['\'', ' ']).next().unwrap_or_default();
            callee_allocates = ALLOCATING.contains(&name);
        } else if let Some(count) = line.strip_prefix("calls=") {
            if callee_allocates {
                calls += count
                    .split_whitespace()
                    .next()
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(0);
            }
            callee_allocates = false;
        }
    }
    calls
}

#[cfg(test)]
mod tests {
    use super::{allocator_calls, total_instructions};

    #[test]
    fn counts_the_calls_into_the_allocator_only() {
        let dump = "fn=alloc::raw_vec::finish_grow\n\
                    cfn=malloc\ncalls=7 0\n12 40\n\
                    cfn=memcpy\ncalls=3 0\n12 90\n\
                    fn=serde_json::ser::to_vec\n\
                    cfn=realloc'2\ncalls=2 0\n5 10\n\
                    cfn=free\ncalls=9 0\n5 10\n";
        assert_eq!(allocator_calls(dump), 9);
    }

    #[test]
    fn sums_every_thread_of_the_totals() {
        let report = "PID 4242: ./aura-api\n\
                      sending command status internal to pid 4242\n\n  \
                      Totals:           Ir \n   Th 1   1,234,567 \n   Th 2      10,000 \n   Th12           3 \n\n";
        assert_eq!(total_instructions(report), Some(1_244_570));
    }

    #[test]
    fn a_report_without_totals_is_none() {
        let report = "PID 4242: ./aura-api\n  No information available as instrumentation is switched off.\n";
        assert_eq!(total_instructions(report), None);
    }
}
