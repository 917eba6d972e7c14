//! The README's first paths, followed literally: its command blocks are read from README.md
//! itself (not a copy) and run the way a newcomer copies them, in a fresh directory.
//!
//! - "First commands on a fresh machine": the API command runs (the demo), the test command
//!   is the one CI runs.
//! - "A five-minute tour (demo mode)": the block runs in bash against the demo API; every
//!   line it prints must be the block's next `# →` line, in order.
//! - `.env.example` read by the binaries' own `.env` parser, its settings valid.
//! - "Running on PostgreSQL": `.env.example` copied to `.env` with the two passwords filled
//!   in (as the README tells the reader) and the database named for this test, then each
//!   `aura` command and the API, on the local PostgreSQL; the API must answer ready.
//!
//! `cargo run -p X --` is run as the built binary X (this test runs after the build); a
//! `localhost:8080` is the port the API reports (tests run side by side). A line the test
//! does not know how to run fails it, so the README cannot grow a step nobody checks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/binaries.rs"]
mod binaries;

use binaries::{binary, root};

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).unwrap()
}

/// The indented (4-space) code blocks of the section under `heading`, up to the next
/// heading of any level.
fn blocks_under(text: &str, heading: &str) -> Vec<String> {
    let start = text
        .lines()
        .position(|l| l.trim_start_matches('#').trim() == heading && l.starts_with('#'))
        .unwrap_or_else(|| panic!("README.md has no heading `{heading}`"));
    let mut blocks = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in text.lines().skip(start + 1) {
        if line.starts_with('#') {
            break;
        }
        if let Some(code) = line.strip_prefix("    ") {
            current.push(code);
        } else if line.trim().is_empty() && !current.is_empty() {
            current.push("");
        } else if !current.is_empty() {
            blocks.push(current.join("\n").trim_end().to_owned());
            current.clear();
        }
    }
    if !current.is_empty() {
        blocks.push(current.join("\n").trim_end().to_owned());
    }
    blocks
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("aura-readme-{name}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The command a README line runs: `cargo run -p PACKAGE [-- ARGS]` as the built binary.
fn cargo_run(line: &str) -> Option<(PathBuf, Vec<String>)> {
    let line = line.split(" #").next().unwrap().trim();
    let rest = line.strip_prefix("cargo run -p ")?;
    let mut words = rest.split_whitespace();
    let package = words.next()?;
    let binary = binary(match package {
        "aura-api" => "aura-api",
        "aura-cli" => "aura",
        other => panic!("README runs an unknown package {other}"),
    });
    let args: Vec<String> = words
        .skip_while(|w| *w == "--")
        .map(str::to_owned)
        .collect();
    Some((binary, args))
}

/// A running API: killed when dropped.
struct Api {
    child: Child,
    port: u16,
}

impl Drop for Api {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `binary` in `dir` with the environment a shell in that directory would give it
/// (plus a free port and JSON logs, to read the port from), and waits until it listens.
fn start_api(binary: &Path, dir: &Path, env: &[(&str, &str)]) -> Api {
    let mut command = Command::new(binary);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.join("api.stderr")).unwrap());
    let mut child = command.spawn().expect("aura-api starts");
    let stdout = child.stdout.take().unwrap();
    let (sender, port) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(entry) = serde_json::from_str::<serde_json::Value>(&line)
                && entry["message"] == "listening"
            {
                let _ = sender.send(entry["port"].as_u64().unwrap() as u16);
            }
        }
    });
    let port = port
        .recv_timeout(Duration::from_secs(60))
        .expect("aura-api listens within 60 s");
    Api { child, port }
}

fn run_bash(script: &str, dir: &Path) -> (bool, String, String) {
    let output = Command::new("bash")
        .arg("-c")
        .arg(format!("set -euo pipefail\n{script}"))
        .current_dir(dir)
        .output()
        .expect("bash runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `.env.example` is what a newcomer copies to `.env`: the binaries' own `.env` parser
/// reads every line of it, and the settings it holds are valid as they stand.
#[test]
fn env_example_parses_as_a_dot_env_file_and_its_settings_are_valid() {
    let path = root().join(".env.example");
    let mut read = std::collections::HashMap::new();
    for item in dotenvy::from_path_iter(&path).expect(".env.example exists") {
        let (key, value) = item.unwrap_or_else(|e| panic!(".env.example: {e}"));
        read.insert(key, value);
    }
    assert_eq!(
        read.get("MAIL_FROM").map(String::as_str),
        Some("AURA-GDPR <no-reply@localhost>")
    );
    assert!(read.contains_key("DATABASE_URL"), "{read:?}");
    // The empty secrets are filled in by the reader (or generated in development).
    read.retain(|_, value| !value.is_empty());
    let settings = aura_api::Settings::from_vars(&read).unwrap_or_else(|p| panic!("{p:?}"));
    assert_eq!(
        settings.environment,
        aura_api::config::Environment::Development
    );
    assert!(settings.database_url.is_some());
}

#[test]
fn the_first_commands_are_the_ones_that_work() {
    let text = readme();
    let blocks = blocks_under(&text, "First commands on a fresh machine");
    assert_eq!(
        blocks,
        vec!["cargo run -p aura-api", "cargo test --workspace"],
        "README.md: the first commands"
    );
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    assert!(
        ci.lines()
            .any(|l| l.trim_start().starts_with("cargo test --workspace")),
        ".ci/run must run the README's test command"
    );
}

#[test]
fn the_demo_tour_prints_what_the_readme_says() {
    let text = readme();
    let run = blocks_under(&text, "First commands on a fresh machine");
    let (binary, args) = cargo_run(&run[0]).expect("the first command runs the API");
    assert!(args.is_empty(), "{args:?}");
    let dir = fresh_dir("tour");
    // Demo mode: no DATABASE_URL (a fresh directory has no .env).
    let api = start_api(&binary, &dir, &[]);

    // Signed in at once: the access token demo mode prints opens /docs' "Authorize".
    let banner = std::fs::read_to_string(dir.join("api.stderr")).unwrap();
    let token = banner
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("eyJ"))
        .unwrap_or_else(|| panic!("demo mode prints an access token:\n{banner}"));
    let (ok, stdout, stderr) = run_bash(
        &format!(
            "curl -s -o /dev/null -w '%{{http_code}}\\n' localhost:{0}/docs/\n\
             curl -s localhost:{0}/api/v1/users/me -H 'authorization: Bearer {token}' | jq -r .email",
            api.port
        ),
        &dir,
    );
    assert!(ok, "{stderr}");
    assert_eq!(stdout, "200\nmember@demo.aura.test\n");

    let tour = blocks_under(&text, "A five-minute tour (demo mode)").join("\n\n");
    assert!(tour.contains("localhost:8080"), "the tour talks to the API");
    let expected: Vec<&str> = tour
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("# → "))
        .collect();
    assert!(
        expected.len() >= 8,
        "the tour shows its outputs: {expected:?}"
    );
    let script = tour.replace("localhost:8080", &format!("localhost:{}", api.port));
    let (ok, stdout, stderr) = run_bash(&script, &dir);
    assert!(ok, "the tour failed:\n{stdout}\n{stderr}");
    let printed: Vec<&str> = stdout.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        printed, expected,
        "the tour's output differs from README.md"
    );
    assert!(
        dir.join("ropa.csv").metadata().unwrap().len() > 1_000,
        "the export wrote the register"
    );
    drop(api);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn running_on_postgresql_works_as_written() {
    let text = readme();
    let blocks = blocks_under(&text, "Running on PostgreSQL");
    let steps: Vec<&str> = blocks[0].lines().filter(|l| !l.trim().is_empty()).collect();
    let dir = fresh_dir("postgres");
    let database = format!("aura_readme_{}", uuid::Uuid::new_v4().simple());
    let superuser = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let mut api = None;
    for step in &steps {
        let command = step.split(" #").next().unwrap().trim();
        if command == "cp .env.example .env" {
            let example = std::fs::read_to_string(root().join(".env.example")).unwrap();
            // What the README asks the reader to fill in: the two roles' passwords (the
            // test server's, which the other suites use too), and a database of our own.
            let env = example
                .replace("change-me-app", "aura_app")
                .replace("change-me-owner", "aura_owner")
                .replace(
                    "@127.0.0.1:5432/aura\n",
                    &format!("@127.0.0.1:5432/{database}\n"),
                );
            assert_ne!(env, example, ".env.example: the URLs to fill in moved");
            std::fs::write(dir.join(".env"), env).unwrap();
            continue;
        }
        let Some((binary, mut args)) = cargo_run(command) else {
            panic!(
                "README.md \"Running on PostgreSQL\": the test does not know how to run `{step}`"
            )
        };
        if binary.ends_with("aura-api") {
            api = Some(start_api(&binary, &dir, &[]));
            continue;
        }
        // The superuser URL is the reader's own server: here, the test server.
        if let Some(at) = args.iter().position(|a| a == "--superuser-url") {
            args[at + 1] = superuser.clone();
        }
        let output = Command::new(&binary)
            .args(&args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "`{step}` failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let api = api.expect("the section ends by running the API");
    let (ok, stdout, stderr) = run_bash(
        &format!(
            "curl -s -o /dev/null -w '%{{http_code}} ' localhost:{0}/ready\n\
             curl -s localhost:{0}/api/v1/system/info | jq -r .storage",
            api.port
        ),
        &dir,
    );
    assert!(ok, "{stderr}");
    assert_eq!(
        stdout.trim(),
        "200 postgres",
        "the API serves from PostgreSQL"
    );
    drop(api);
    let drop_database = format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)");
    let _ = Command::new("psql")
        .args([superuser.as_str(), "-qc", drop_database.as_str()])
        .output();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_block_reader_sees_blocks_and_stops_at_the_next_heading() {
    let text =
        "# A\n\nintro\n\n    one\n    two\n\n    three\n\ntext\n\n    four\n\n## B\n\n    five\n";
    assert_eq!(blocks_under(text, "A"), vec!["one\ntwo\n\nthree", "four"]);
    assert_eq!(blocks_under(text, "B"), vec!["five"]);
}
