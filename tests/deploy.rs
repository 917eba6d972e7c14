//! The deployment files, checked without a Docker engine, systemd or nginx: each file is
//! parsed (small purpose-built parsers for the subsets these files use; anything outside
//! the subset fails loudly instead of being misread) and its essentials asserted against
//! the code — the variables `apps/api/src/config.rs` reads, the roles of
//! `aura db init`, the binary names, the shutdown grace and body size defaults.
//!
//! Files: `Dockerfile`, `docker-compose.yml`, `deploy/postgres-init.sh`,
//! `deploy/aura-api.service`, `deploy/aura-worker.service`, `deploy/nginx.conf`,
//! `docs/deploy.md`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(relative: &str) -> String {
    fs::read_to_string(root().join(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

// --- What the code says ------------------------------------------------------------------

/// The string literals of Rust source (escapes kept as written; enough to find names).
fn string_literals(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = source.chars().peekable();
    let mut previous = ' ';
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            // A char literal '"' is not the start of a string.
            '"' if previous == '\'' => {}
            '"' => {
                let mut literal = String::new();
                let mut escaped = false;
                for c in chars.by_ref() {
                    if escaped {
                        literal.push(c);
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        break;
                    } else {
                        literal.push(c);
                    }
                }
                out.push(literal);
            }
            _ => {}
        }
        previous = c;
    }
    out
}

fn is_variable_name(s: &str) -> bool {
    s.len() >= 3
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Every environment variable the service and the CLI read: each `"NAME"` literal of
/// `config.rs`, plus `RUST_LOG` (read by tracing's `EnvFilter`, see `telemetry.rs`).
fn known_variables() -> BTreeSet<String> {
    let mut names: BTreeSet<String> = string_literals(&read("apps/api/src/config.rs"))
        .into_iter()
        .filter(|s| is_variable_name(s))
        .collect();
    assert!(
        names.contains("DATABASE_URL") && names.contains("BIND_ADDR"),
        "config.rs: variable names not found: {names:?}"
    );
    assert!(
        read("apps/api/src/telemetry.rs").contains("EnvFilter::try_from_default_env"),
        "telemetry.rs no longer reads RUST_LOG: drop it from the known variables"
    );
    names.insert("RUST_LOG".to_owned());
    names
}

/// The default `config.rs` gives a numeric variable: `r.ranged("NAME", 30u64, ...)`.
fn config_default(name: &str) -> u64 {
    let config = read("apps/api/src/config.rs");
    let needle = format!("\"{name}\",");
    let at = config
        .find(&needle)
        .unwrap_or_else(|| panic!("config.rs: no default for {name}"));
    let digits: String = config[at + needle.len()..]
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '_')
        .filter(|c| *c != '_')
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("config.rs: default of {name} is not a plain number"))
}

/// The `name` of each `[[bin]]` of a manifest.
fn binary_names(manifest: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_bin = false;
    for line in read(manifest).lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if in_bin && let Some(value) = line.strip_prefix("name") {
            names.push(
                value
                    .trim_start()
                    .trim_start_matches('=')
                    .trim()
                    .trim_matches('"')
                    .to_owned(),
            );
        }
    }
    names
}

fn api_binary() -> String {
    let names = binary_names("apps/api/Cargo.toml");
    assert_eq!(names.len(), 1, "apps/api: {names:?}");
    names[0].clone()
}

fn cli_binary() -> String {
    let names = binary_names("apps/cli/Cargo.toml");
    assert_eq!(names.len(), 1, "apps/cli: {names:?}");
    names[0].clone()
}

/// The app role every migration grants to (`APP_ROLE` in setup.rs).
fn app_role() -> String {
    let setup = read("crates/adapter-postgres/src/setup.rs");
    let line = setup
        .lines()
        .find(|l| l.contains("pub const APP_ROLE"))
        .expect("setup.rs: APP_ROLE");
    string_literals(line).pop().expect("APP_ROLE value")
}

/// Seconds of a duration written as `45s`, `40s`, `2min` or a plain number.
fn seconds(value: &str) -> u64 {
    let value = value.trim();
    if let Some(n) = value.strip_suffix("min") {
        n.trim().parse::<u64>().expect("minutes") * 60
    } else if let Some(n) = value.strip_suffix('s') {
        n.trim().parse().expect("seconds")
    } else {
        value.parse().expect("a number of seconds")
    }
}

fn port_of(addr: &str) -> u16 {
    addr.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in `{addr}`"))
}

// --- Dockerfile ----------------------------------------------------------------------------

#[derive(Debug)]
struct Instruction {
    line: usize,
    keyword: String,
    args: String,
}

/// Instructions with continuation lines joined and comment lines dropped.
fn parse_dockerfile(source: &str) -> Vec<Instruction> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, raw) in source.lines().enumerate() {
        let trimmed = raw.trim();
        // Comment and empty lines never end an instruction, even inside a continuation.
        if trimmed.starts_with('#') || trimmed.is_empty() {
            continue;
        }
        let (continues, text) = match trimmed.strip_suffix('\\') {
            Some(text) => (true, text.trim()),
            None => (false, trimmed),
        };
        let (line, mut joined) = current.take().unwrap_or((i + 1, String::new()));
        if !joined.is_empty() && !text.is_empty() {
            joined.push(' ');
        }
        joined.push_str(text);
        if continues {
            current = Some((line, joined));
        } else {
            let (keyword, args) = joined.split_once(' ').unwrap_or((&joined, ""));
            assert!(
                keyword.chars().all(|c| c.is_ascii_alphabetic()),
                "Dockerfile line {line}: `{keyword}` is not an instruction"
            );
            out.push(Instruction {
                line,
                keyword: keyword.to_ascii_uppercase(),
                args: args.trim().to_owned(),
            });
        }
    }
    assert!(current.is_none(), "Dockerfile ends in a continuation line");
    out
}

/// `["a", "b"]` (the exec form) into its strings.
fn exec_form(text: &str) -> Vec<String> {
    let inner = text
        .trim()
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or_else(|| panic!("not an exec-form array: {text}"));
    let mut out = Vec::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                let mut item = String::new();
                let mut escaped = false;
                for c in chars.by_ref() {
                    if escaped {
                        item.push(c);
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        break;
                    } else {
                        item.push(c);
                    }
                }
                out.push(item);
            }
            ',' | ' ' => {}
            other => panic!("unexpected `{other}` in exec form {text}"),
        }
    }
    out
}

struct Dockerfile {
    stages: Vec<Vec<Instruction>>,
}

impl Dockerfile {
    fn load() -> Self {
        let mut stages: Vec<Vec<Instruction>> = Vec::new();
        for instruction in parse_dockerfile(&read("Dockerfile")) {
            if instruction.keyword == "FROM" {
                stages.push(Vec::new());
            }
            stages
                .last_mut()
                .unwrap_or_else(|| panic!("Dockerfile: `{}` before FROM", instruction.keyword))
                .push(instruction);
        }
        Self { stages }
    }

    fn runtime(&self) -> &[Instruction] {
        self.stages.last().expect("a stage")
    }

    fn all<'a>(stage: &'a [Instruction], keyword: &'a str) -> impl Iterator<Item = &'a str> {
        stage
            .iter()
            .filter(move |i| i.keyword == keyword)
            .map(|i| i.args.as_str())
    }

    fn exposed_port(&self) -> u16 {
        let exposed: Vec<&str> = Self::all(self.runtime(), "EXPOSE").collect();
        assert_eq!(exposed.len(), 1, "Dockerfile: one EXPOSE, got {exposed:?}");
        exposed[0]
            .trim_end_matches("/tcp")
            .parse()
            .expect("EXPOSE port")
    }

    /// `ENV A=b C=d` (and the legacy `ENV A b`) of the runtime stage.
    fn env(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for args in Self::all(self.runtime(), "ENV") {
            let words: Vec<&str> = args.split_whitespace().collect();
            if !words[0].contains('=') {
                out.push((words[0].to_owned(), words[1..].join(" ")));
                continue;
            }
            for word in words {
                let (name, value) = word
                    .split_once('=')
                    .unwrap_or_else(|| panic!("Dockerfile ENV: `{word}` (quote-free NAME=value)"));
                out.push((name.to_owned(), value.to_owned()));
            }
        }
        out
    }
}

#[test]
fn dockerfile_builds_in_one_stage_and_runs_in_a_small_non_root_one() {
    let docker = Dockerfile::load();
    assert!(
        docker.stages.len() >= 2,
        "Dockerfile: multi-stage build expected, got {} FROM",
        docker.stages.len()
    );

    // The build stage: the pinned toolchain, locked dependencies, both binaries.
    let build = &docker.stages[0];
    let from: Vec<&str> = build[0].args.split_whitespace().collect();
    assert!(
        from.len() == 3 && from[1].eq_ignore_ascii_case("AS"),
        "Dockerfile line {}: the build stage needs a name (`FROM image AS build`)",
        build[0].line
    );
    let build_name = from[2];
    let toolchain = read("rust-toolchain.toml");
    let channel = string_literals(
        toolchain
            .lines()
            .find(|l| l.trim_start().starts_with("channel"))
            .expect("rust-toolchain.toml: channel"),
    )
    .pop()
    .expect("channel value");
    let minor: Vec<&str> = channel.split('.').take(2).collect();
    let tag = from[0].strip_prefix("rust:").unwrap_or_else(|| {
        panic!(
            "Dockerfile: the build stage starts from rust:<version>, not {}",
            from[0]
        )
    });
    assert!(
        tag.starts_with(&format!("{}-", minor.join("."))) || tag == minor.join("."),
        "Dockerfile: rust:{tag} does not match rust-toolchain.toml ({channel})"
    );
    let runs: Vec<&str> = Dockerfile::all(build, "RUN").collect();
    let cargo = runs
        .iter()
        .find(|r| r.contains("cargo build"))
        .expect("Dockerfile: a `cargo build` in the build stage");
    for flag in ["--release", "--locked", "-p aura-api", "-p aura-cli"] {
        assert!(
            cargo.contains(flag),
            "Dockerfile: cargo build without {flag}"
        );
    }
    for copy in Dockerfile::all(build, "COPY") {
        let sources: Vec<&str> = copy
            .split_whitespace()
            .filter(|w| !w.starts_with("--"))
            .collect();
        let sources = &sources[..sources.len() - 1];
        assert!(
            !sources
                .iter()
                .any(|s| matches!(*s, "." | "./" | ".env" | "target")),
            "Dockerfile: `COPY {copy}` would copy target/, .git or .env into the build"
        );
    }

    // The runtime stage: a slim or distroless base, the two binaries, no root.
    let runtime = docker.runtime();
    let base = runtime[0].args.split_whitespace().next().unwrap();
    assert!(
        (base.starts_with("debian:") && base.ends_with("-slim"))
            || base.starts_with("gcr.io/distroless/cc"),
        "Dockerfile: the runtime stage should be debian:*-slim or distroless/cc, not {base}"
    );
    let copied: Vec<&str> = Dockerfile::all(runtime, "COPY")
        .filter(|c| c.contains(&format!("--from={build_name}")))
        .collect();
    for binary in [api_binary(), cli_binary()] {
        assert!(
            copied.iter().any(|c| c
                .split_whitespace()
                .any(|w| w.ends_with(&format!("/{binary}")))),
            "Dockerfile: `{binary}` is not copied from the {build_name} stage: {copied:?}"
        );
    }
    let user = Dockerfile::all(runtime, "USER")
        .last()
        .expect("Dockerfile: no USER in the runtime stage (it would run as root)");
    let name = user.split(':').next().unwrap();
    assert!(
        !matches!(name, "root" | "0"),
        "Dockerfile: the runtime stage runs as {user}"
    );
    let command: Vec<&str> = Dockerfile::all(runtime, "CMD")
        .chain(Dockerfile::all(runtime, "ENTRYPOINT"))
        .collect();
    assert!(
        command.iter().any(|c| exec_form(c)
            .first()
            .is_some_and(|b| b.ends_with(&format!("/{}", api_binary())))),
        "Dockerfile: CMD or ENTRYPOINT should start {} (exec form): {command:?}",
        api_binary()
    );
}

#[test]
fn dockerfile_health_check_port_and_environment_fit_the_service() {
    let docker = Dockerfile::load();
    let runtime = docker.runtime();
    let health: Vec<&str> = Dockerfile::all(runtime, "HEALTHCHECK").collect();
    assert_eq!(
        health.len(),
        1,
        "Dockerfile: one HEALTHCHECK, got {health:?}"
    );
    let (options, command) = health[0]
        .split_once("CMD ")
        .expect("Dockerfile: HEALTHCHECK CMD [...]");
    assert!(
        options.contains("--interval=") && options.contains("--timeout="),
        "Dockerfile: HEALTHCHECK without interval or timeout"
    );
    let command = exec_form(command);
    assert!(
        command[0].ends_with(&format!("/{}", api_binary()))
            && command.get(1).map(String::as_str) == Some("--health-check"),
        "Dockerfile: HEALTHCHECK should run `{} --health-check`, got {command:?}",
        api_binary()
    );
    assert!(
        read("apps/api/src/main.rs").contains("\"--health-check\""),
        "main.rs no longer answers --health-check"
    );

    let known = known_variables();
    let env = docker.env();
    for (name, _) in &env {
        assert!(
            known.contains(name),
            "Dockerfile ENV {name}: config.rs does not read it"
        );
    }
    // The health check asks BIND_ADDR's port: it must be the exposed one, on all addresses.
    let bind = env
        .iter()
        .find(|(n, _)| n == "BIND_ADDR")
        .map(|(_, v)| v.as_str())
        .expect("Dockerfile: ENV BIND_ADDR (the default 127.0.0.1 is unreachable from outside)");
    assert!(
        bind.starts_with("0.0.0.0:"),
        "Dockerfile: BIND_ADDR={bind} is not reachable from outside the container"
    );
    assert_eq!(
        port_of(bind),
        docker.exposed_port(),
        "Dockerfile: BIND_ADDR and EXPOSE disagree"
    );
    let stop = Dockerfile::all(runtime, "STOPSIGNAL").last();
    assert!(
        stop.is_none_or(|s| s == "SIGTERM"),
        "Dockerfile: the service drains on SIGTERM, not {stop:?}"
    );
}

// --- docker-compose.yml (a YAML subset) ----------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Yaml {
    Map(Vec<(String, Yaml)>),
    Seq(Vec<Yaml>),
    Str(String),
    Null,
}

impl Yaml {
    fn get(&self, key: &str) -> Option<&Yaml> {
        match self {
            Yaml::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value at a dotted path; panics naming the path.
    fn at(&self, path: &str) -> &Yaml {
        path.split('.').fold(self, |node, key| {
            node.get(key)
                .unwrap_or_else(|| panic!("docker-compose.yml: `{path}` is missing"))
        })
    }

    fn str(&self) -> &str {
        match self {
            Yaml::Str(s) => s,
            other => panic!("docker-compose.yml: expected a string, got {other:?}"),
        }
    }

    fn keys(&self) -> Vec<&str> {
        match self {
            Yaml::Map(entries) => entries.iter().map(|(k, _)| k.as_str()).collect(),
            Yaml::Null => Vec::new(),
            other => panic!("docker-compose.yml: expected a mapping, got {other:?}"),
        }
    }

    fn strings(&self) -> Vec<String> {
        match self {
            Yaml::Seq(items) => items.iter().map(|i| i.str().to_owned()).collect(),
            other => panic!("docker-compose.yml: expected a list, got {other:?}"),
        }
    }
}

struct YamlLine {
    number: usize,
    indent: usize,
    text: String,
}

/// Drops a comment: `#` at the start or after a space, outside quotes.
fn strip_yaml_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut previous = ' ';
    for (i, c) in line.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if (c == '"' || c == '\'') && matches!(previous, ' ' | '[' | ',' | ':') => {
                quote = Some(c);
            }
            None if c == '#' && previous == ' ' => return &line[..i],
            None => {}
        }
        previous = c;
    }
    line
}

/// `key: value` or `key:` (the value empty), outside quotes; `None` for a plain scalar.
fn split_key(text: &str) -> Option<(String, String)> {
    if text.starts_with(['[', '"', '\'', '{']) {
        return None;
    }
    let (key, value) = if let Some(at) = text.find(": ") {
        (&text[..at], text[at + 2..].trim())
    } else if let Some(key) = text.strip_suffix(':') {
        (key, "")
    } else {
        return None;
    };
    Some((key.trim().to_owned(), value.to_owned()))
}

fn yaml_scalar(text: &str, number: usize) -> Yaml {
    let unsupported = |what: &str| -> ! {
        panic!("docker-compose.yml line {number}: {what} is outside the YAML this test reads")
    };
    match text.chars().next() {
        Some('[') => {
            let inner = text
                .strip_prefix('[')
                .and_then(|t| t.strip_suffix(']'))
                .unwrap_or_else(|| unsupported("a multi-line flow list"));
            let mut items = Vec::new();
            let mut item = String::new();
            let mut quote: Option<char> = None;
            for c in inner.chars() {
                match quote {
                    Some(q) if c == q => {
                        quote = None;
                        item.push(c);
                    }
                    Some(_) => item.push(c),
                    None if c == '"' || c == '\'' => {
                        quote = Some(c);
                        item.push(c);
                    }
                    None if c == ',' => {
                        items.push(yaml_scalar(item.trim(), number));
                        item.clear();
                    }
                    None if c == '[' || c == '{' => unsupported("a nested flow collection"),
                    None => item.push(c),
                }
            }
            if !item.trim().is_empty() {
                items.push(yaml_scalar(item.trim(), number));
            }
            Yaml::Seq(items)
        }
        Some('"') => {
            let inner = text
                .strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                .unwrap_or_else(|| unsupported("text after a quoted string"));
            let mut out = String::new();
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    match chars.next() {
                        Some('n') => out.push('\n'),
                        Some(other) => out.push(other),
                        None => unsupported("a trailing backslash"),
                    }
                } else {
                    out.push(c);
                }
            }
            Yaml::Str(out)
        }
        Some('\'') => Yaml::Str(
            text.strip_prefix('\'')
                .and_then(|t| t.strip_suffix('\''))
                .unwrap_or_else(|| unsupported("text after a quoted string"))
                .replace("''", "'"),
        ),
        Some('{') if text == "{}" => Yaml::Map(Vec::new()),
        Some('{') => unsupported("a flow mapping"),
        Some('&' | '*' | '!' | '|' | '>' | '%' | '@' | '`') => {
            unsupported("an anchor, alias, tag or block scalar")
        }
        _ if matches!(text, "~" | "null") => Yaml::Null,
        _ => Yaml::Str(text.to_owned()),
    }
}

fn is_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

fn yaml_block(lines: &mut [YamlLine], pos: &mut usize, indent: usize) -> Yaml {
    if is_item(&lines[*pos].text) {
        yaml_sequence(lines, pos, indent)
    } else {
        yaml_mapping(lines, pos, indent)
    }
}

fn yaml_nested(lines: &mut [YamlLine], pos: &mut usize, indent: usize) -> Yaml {
    match lines.get(*pos) {
        Some(next) if next.indent > indent => {
            let inner = next.indent;
            yaml_block(lines, pos, inner)
        }
        _ => Yaml::Null,
    }
}

fn yaml_sequence(lines: &mut [YamlLine], pos: &mut usize, indent: usize) -> Yaml {
    let mut items = Vec::new();
    while *pos < lines.len() && lines[*pos].indent == indent && is_item(&lines[*pos].text) {
        let number = lines[*pos].number;
        let rest = lines[*pos].text[1..].trim_start().to_owned();
        if rest.is_empty() {
            *pos += 1;
            items.push(yaml_nested(lines, pos, indent));
        } else if split_key(&rest).is_some() {
            // `- key: value` starts a mapping whose keys line up with `key`.
            let inner = indent + lines[*pos].text.len() - rest.len();
            lines[*pos].indent = inner;
            lines[*pos].text = rest;
            items.push(yaml_mapping(lines, pos, inner));
        } else {
            items.push(yaml_scalar(&rest, number));
            *pos += 1;
        }
    }
    Yaml::Seq(items)
}

fn yaml_mapping(lines: &mut [YamlLine], pos: &mut usize, indent: usize) -> Yaml {
    let mut entries: Vec<(String, Yaml)> = Vec::new();
    while *pos < lines.len() && lines[*pos].indent == indent {
        let number = lines[*pos].number;
        assert!(
            !is_item(&lines[*pos].text),
            "docker-compose.yml line {number}: a list item inside a mapping"
        );
        let (key, value) = split_key(&lines[*pos].text)
            .unwrap_or_else(|| panic!("docker-compose.yml line {number}: expected `key: value`"));
        assert!(
            entries.iter().all(|(k, _)| *k != key),
            "docker-compose.yml line {number}: `{key}` appears twice"
        );
        *pos += 1;
        let value = if !value.is_empty() {
            yaml_scalar(&value, number)
        } else if lines
            .get(*pos)
            .is_some_and(|l| l.indent == indent && is_item(&l.text))
        {
            yaml_sequence(lines, pos, indent)
        } else {
            yaml_nested(lines, pos, indent)
        };
        entries.push((key, value));
    }
    Yaml::Map(entries)
}

fn parse_yaml(source: &str) -> Yaml {
    let mut lines = Vec::new();
    for (i, raw) in source.lines().enumerate() {
        assert!(
            !raw.contains('\t'),
            "docker-compose.yml line {}: a tab",
            i + 1
        );
        let text = strip_yaml_comment(raw).trim_end();
        if text.trim().is_empty() || text.trim() == "---" {
            continue;
        }
        lines.push(YamlLine {
            number: i + 1,
            indent: text.len() - text.trim_start().len(),
            text: text.trim_start().to_owned(),
        });
    }
    let mut pos = 0;
    let document = yaml_block(&mut lines, &mut pos, 0);
    if let Some(line) = lines.get(pos) {
        panic!(
            "docker-compose.yml line {}: unexpected indentation",
            line.number
        );
    }
    document
}

fn compose() -> Yaml {
    parse_yaml(&read("docker-compose.yml"))
}

fn environment(service: &Yaml) -> Vec<(String, String)> {
    match service.get("environment") {
        Some(Yaml::Map(entries)) => entries
            .iter()
            .map(|(k, v)| (k.clone(), v.str().to_owned()))
            .collect(),
        Some(Yaml::Seq(items)) => items
            .iter()
            .map(|i| {
                let (k, v) = i.str().split_once('=').unwrap_or((i.str(), ""));
                (k.to_owned(), v.to_owned())
            })
            .collect(),
        None => Vec::new(),
        Some(other) => panic!("environment: {other:?}"),
    }
}

fn env_value<'a>(env: &'a [(String, String)], name: &str) -> Option<&'a str> {
    env.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// The variable a `${NAME...}` interpolation reads.
fn interpolated(value: &str) -> Option<&str> {
    let rest = value.strip_prefix("${")?;
    let end = rest.find([':', '}', '-', '?']).unwrap_or(rest.len());
    Some(&rest[..end])
}

#[derive(Debug)]
struct DbUrl {
    user: String,
    password: String,
    host: String,
    port: u16,
    database: String,
}

fn db_url(url: &str) -> DbUrl {
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
        .unwrap_or_else(|| panic!("not a postgres URL: {url}"));
    let (credentials, location) = rest.rsplit_once('@').expect("user@host in the URL");
    let (user, password) = credentials.split_once(':').unwrap_or((credentials, ""));
    let (host_port, database) = location.split_once('/').expect("/database in the URL");
    let (host, port) = host_port.split_once(':').unwrap_or((host_port, "5432"));
    DbUrl {
        user: user.to_owned(),
        password: password.to_owned(),
        host: host.to_owned(),
        port: port.parse().expect("port"),
        database: database.split('?').next().unwrap().to_owned(),
    }
}

/// Named volumes a service mounts: `name:/path` entries whose source is not a path.
fn named_volumes(service: &Yaml) -> Vec<(String, String)> {
    service
        .get("volumes")
        .map(Yaml::strings)
        .unwrap_or_default()
        .iter()
        .filter(|v| !v.starts_with(['.', '/', '~', '$']))
        .map(|v| {
            let mut parts = v.split(':');
            (
                parts.next().unwrap().to_owned(),
                parts.next().expect("a mount path").to_owned(),
            )
        })
        .collect()
}

#[test]
fn compose_parser_reads_the_subset_and_refuses_the_rest() {
    let doc = parse_yaml(
        "a:\n  b: \"x # not a comment\"  # a comment\n  c: [\"CMD\", 'it''s', \"\"]\n  d:\n  - one\n  - k: v\n    l: w\ne: {}\n",
    );
    assert_eq!(doc.at("a.b").str(), "x # not a comment");
    assert_eq!(doc.at("a.c").strings(), ["CMD", "it's", ""]);
    assert_eq!(
        doc.at("a.d"),
        &Yaml::Seq(vec![
            Yaml::Str("one".into()),
            Yaml::Map(vec![
                ("k".into(), Yaml::Str("v".into())),
                ("l".into(), Yaml::Str("w".into()))
            ])
        ])
    );
    assert_eq!(doc.at("e"), &Yaml::Map(Vec::new()));
    for bad in [
        "a: &x 1\n",
        "a: |\n  text\n",
        "a: 1\na: 2\n",
        "a:\n    b: 1\n  c: 2\n",
    ] {
        assert!(
            std::panic::catch_unwind(|| parse_yaml(bad)).is_err(),
            "accepted {bad:?}"
        );
    }
}

#[test]
fn compose_runs_postgres_with_a_volume_a_health_check_and_the_two_roles() {
    let doc = compose();
    let services = doc.at("services");
    let postgres = services.at("postgres");
    let image = postgres.at("image").str();
    assert!(
        image.starts_with("postgres:15"),
        "postgres image {image}: the project targets PostgreSQL 15"
    );
    assert!(
        postgres.get("ports").is_none(),
        "postgres publishes a port: only the project's containers should reach it"
    );
    assert!(
        postgres.get("profiles").is_none(),
        "postgres must always run"
    );
    let test = postgres.at("healthcheck.test").strings().join(" ");
    assert!(test.contains("pg_isready"), "postgres health check: {test}");

    let declared = doc.at("volumes").keys();
    let data = named_volumes(postgres);
    assert!(
        data.iter()
            .any(|(name, path)| path == "/var/lib/postgresql/data"
                && declared.contains(&name.as_str())),
        "postgres: /var/lib/postgresql/data on a named volume declared under `volumes:`: {data:?}"
    );

    // The init script: mounted where the image runs it, executable (sourced otherwise,
    // and its `set -u` would leak into the entrypoint), creating both roles.
    let mounts = postgres.at("volumes").strings();
    let init = mounts
        .iter()
        .find(|m| m.contains(":/docker-entrypoint-initdb.d/"))
        .expect("postgres: an init script in /docker-entrypoint-initdb.d");
    let parts: Vec<&str> = init.split(':').collect();
    assert!(
        parts[1].ends_with(".sh"),
        "init script mounted as {}",
        parts[1]
    );
    let script_path = parts[0].trim_start_matches("./");
    assert_eq!(script_path, "deploy/postgres-init.sh");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(root().join(script_path))
            .unwrap()
            .permissions()
            .mode();
        assert!(mode & 0o111 != 0, "{script_path} is not executable");
    }
    let script = read(script_path);
    let env = environment(postgres);
    assert!(
        env_value(&env, "POSTGRES_PASSWORD").is_some(),
        "POSTGRES_PASSWORD"
    );
    for (name, _) in &env {
        assert!(
            name.starts_with("POSTGRES_") || script.contains(name.as_str()),
            "postgres: {name} is passed but the init script does not read it"
        );
    }
    assert_init_script_mirrors_db_init(&script);
}

/// `CREATE ROLE <role> ...;` of the script, as its upper-cased words.
fn role_statement(script: &str, role: &str) -> Vec<String> {
    let start = script
        .find(&format!("CREATE ROLE {role} "))
        .unwrap_or_else(|| panic!("init script: no CREATE ROLE {role}"));
    let end = start + script[start..].find(';').expect("statement end");
    script[start..end]
        .split_whitespace()
        .map(str::to_ascii_uppercase)
        .collect()
}

fn assert_init_script_mirrors_db_init(script: &str) {
    let app = app_role();
    let (owner, database) = init_owner_and_database(script);
    assert_ne!(owner, app, "the app role must not own the database");
    for role in [owner.as_str(), app.as_str()] {
        let words = role_statement(script, role);
        for required in [
            "LOGIN",
            "NOSUPERUSER",
            "NOBYPASSRLS",
            "NOCREATEDB",
            "NOCREATEROLE",
        ] {
            assert!(
                words.iter().any(|w| w == required),
                "init script: {role} without {required} (aura db init creates it so)"
            );
        }
        // `IN ROLE x` would make it a member of another role.
        for forbidden in ["SUPERUSER", "BYPASSRLS", "CREATEDB", "CREATEROLE", "IN"] {
            assert!(
                !words.iter().any(|w| w == forbidden),
                "init script: {role} is {forbidden}"
            );
        }
        assert!(
            words.iter().any(|w| w == "PASSWORD"),
            "init script: {role} gets no password, so its URL cannot log in"
        );
    }
    let upper = script.to_ascii_uppercase();
    assert!(
        !upper.contains(&format!("GRANT {} TO", owner.to_ascii_uppercase())),
        "init script: a role is made a member of the owner role {owner}"
    );
    assert!(
        upper.contains(&format!(
            "GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}",
            database.to_ascii_uppercase(),
            app.to_ascii_uppercase()
        )),
        "init script: {app} needs CONNECT, TEMPORARY on {database} (as aura db init grants)"
    );
}

/// The owner and the database of `CREATE DATABASE <db> OWNER <owner>`.
fn init_owner_and_database(script: &str) -> (String, String) {
    let start = script
        .find("CREATE DATABASE ")
        .expect("init script: CREATE DATABASE");
    let words: Vec<&str> = script[start..]
        .split(';')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    assert!(
        words.len() == 5 && words[3] == "OWNER",
        "init script: `CREATE DATABASE <db> OWNER <owner>`, got {words:?}"
    );
    (words[4].to_owned(), words[2].to_owned())
}

#[test]
fn compose_api_connects_as_the_app_role_and_checks_its_health() {
    let doc = compose();
    let services = doc.at("services");
    let api = services.at("api");
    let docker = Dockerfile::load();
    let port = docker.exposed_port();
    assert!(
        api.get("build").is_some(),
        "api: built from this repository"
    );
    assert!(api.get("profiles").is_none(), "api must always run");

    // Port: the published container port is the one the image exposes and binds.
    let ports = api.at("ports").strings();
    assert!(
        ports
            .iter()
            .any(|p| port_of(p.trim_end_matches("/tcp")) == port),
        "api ports {ports:?} do not publish the exposed port {port}"
    );
    let env = environment(api);
    let bind = env_value(&env, "BIND_ADDR").expect("api: BIND_ADDR");
    assert_eq!(bind, format!("0.0.0.0:{port}"), "api BIND_ADDR");

    // Every variable is one the service reads (catches typos).
    let known = known_variables();
    for (name, _) in &env {
        assert!(
            known.contains(name),
            "api environment {name}: config.rs does not read it"
        );
    }
    for required in [
        "APP_ENV",
        "PASSWORD_PEPPER",
        "AUDIT_CHAIN_KEY",
        "JWT_KEYS_DIR",
        "RUN_MIGRATIONS",
        "WORKER_ENABLED",
        "TRUSTED_PROXIES",
        "SHUTDOWN_GRACE_SECS",
    ] {
        assert!(
            env_value(&env, required).is_some(),
            "api: {required} is not set"
        );
    }

    // The database URLs: the app role for serving, the owner for migrations, both on
    // the postgres service and the database the init script creates.
    let script = read("deploy/postgres-init.sh");
    let (owner, database) = init_owner_and_database(&script);
    let postgres_env = environment(services.at("postgres"));
    let app = db_url(env_value(&env, "DATABASE_URL").expect("api: DATABASE_URL"));
    let migrate =
        db_url(env_value(&env, "MIGRATION_DATABASE_URL").expect("api: MIGRATION_DATABASE_URL"));
    assert_eq!(
        app.user,
        app_role(),
        "DATABASE_URL must connect as the app role"
    );
    assert_eq!(
        migrate.user, owner,
        "MIGRATION_DATABASE_URL must connect as the owner"
    );
    for (url, password_variable) in [
        (&app, "AURA_APP_PASSWORD"),
        (&migrate, "AURA_OWNER_PASSWORD"),
    ] {
        assert!(
            services.get(&url.host).is_some(),
            "{url:?}: no service {}",
            url.host
        );
        assert_eq!(url.port, 5432);
        assert_eq!(url.database, database, "{url:?}");
        let given = env_value(&postgres_env, password_variable)
            .and_then(interpolated)
            .unwrap_or_else(|| panic!("postgres: {password_variable} from a variable"));
        assert_eq!(
            interpolated(&url.password),
            Some(given),
            "{url:?}: the password is not the one the init script sets"
        );
    }
    assert_eq!(
        services.at("api.depends_on.postgres.condition").str(),
        "service_healthy",
        "api must wait for a healthy postgres"
    );

    // Health, graceful stop, keys on a declared volume.
    let test = api.at("healthcheck.test").strings();
    assert!(
        test.iter().any(|w| w == "--health-check")
            && test.iter().any(|w| w.ends_with(&api_binary())),
        "api health check: {test:?}"
    );
    let grace: u64 = env_value(&env, "SHUTDOWN_GRACE_SECS")
        .unwrap()
        .parse()
        .expect("SHUTDOWN_GRACE_SECS");
    let stop = seconds(api.at("stop_grace_period").str());
    assert!(
        stop > grace,
        "api stop_grace_period {stop}s must exceed SHUTDOWN_GRACE_SECS {grace}s"
    );
    let declared = doc.at("volumes").keys();
    let keys_dir = env_value(&env, "JWT_KEYS_DIR").unwrap();
    let volumes = named_volumes(api);
    assert!(
        volumes
            .iter()
            .any(|(name, path)| declared.contains(&name.as_str())
                && Path::new(keys_dir).starts_with(path)),
        "api: JWT_KEYS_DIR {keys_dir} is not on a named volume: {volumes:?}"
    );
}

#[test]
fn compose_worker_and_redis_are_optional_and_consistent_with_the_api() {
    let doc = compose();
    let services = doc.at("services");
    let api_env = environment(services.at("api"));
    let known = known_variables();

    let worker = services.at("worker");
    assert!(
        worker
            .at("profiles")
            .strings()
            .contains(&"worker".to_owned()),
        "worker: under the `worker` profile"
    );
    let command = worker.at("command").strings();
    assert!(
        command.len() == 2
            && (command[0] == cli_binary() || command[0].ends_with(&format!("/{}", cli_binary())))
            && command[1] == "worker",
        "worker command should be `{} worker`: {command:?}",
        cli_binary()
    );
    assert!(
        read("apps/cli/src/main.rs").contains("Command::Worker"),
        "the CLI has no `worker` command"
    );
    assert_eq!(
        worker.at("healthcheck.disable").str(),
        "true",
        "worker: the image's HTTP health check cannot pass without the server"
    );
    assert_eq!(
        services.at("worker.depends_on.api.condition").str(),
        "service_healthy",
        "worker: start after the API has migrated"
    );
    let env = environment(worker);
    for (name, _) in &env {
        assert!(
            known.contains(name),
            "worker environment {name}: config.rs does not read it"
        );
    }
    assert_eq!(
        env_value(&env, "RUN_MIGRATIONS"),
        Some("false"),
        "worker RUN_MIGRATIONS"
    );
    assert!(
        env_value(&env, "MIGRATION_DATABASE_URL").is_none(),
        "worker: it never migrates, so it should not hold the owner's password"
    );
    // What both processes read must be the same: the database, pepper, mail, reminders.
    for (name, value) in &api_env {
        let shared = name.starts_with("MAIL_")
            || name.starts_with("SMTP_")
            || name.starts_with("REMINDER_")
            || name.starts_with("JOB_")
            || matches!(
                name.as_str(),
                "APP_ENV"
                    | "DATABASE_URL"
                    | "PASSWORD_PEPPER"
                    | "AUDIT_CHAIN_KEY"
                    | "TASK_URL"
                    | "JWT_KEYS_DIR"
            );
        if shared {
            assert_eq!(
                env_value(&env, name),
                Some(value.as_str()),
                "worker {name} differs from the api's"
            );
        }
    }
    let grace: u64 = env_value(&env, "SHUTDOWN_GRACE_SECS")
        .map_or(config_default("SHUTDOWN_GRACE_SECS"), |v| {
            v.parse().unwrap()
        });
    assert!(
        seconds(worker.at("stop_grace_period").str()) > grace,
        "worker stop_grace_period must exceed SHUTDOWN_GRACE_SECS"
    );
    let declared = doc.at("volumes").keys();
    for (name, _) in named_volumes(worker) {
        assert!(
            declared.contains(&name.as_str()),
            "worker volume {name} is not declared"
        );
    }

    let redis = services.at("redis");
    assert!(
        redis.at("profiles").strings().contains(&"redis".to_owned()),
        "redis: optional, under the `redis` profile"
    );
    assert!(redis.at("image").str().starts_with("redis:"));
    assert!(
        redis
            .at("healthcheck.test")
            .strings()
            .join(" ")
            .contains("ping"),
        "redis health check"
    );

    // Every service's named volumes are declared at the top level.
    for service in services.keys() {
        for (name, _) in named_volumes(services.at(service)) {
            assert!(
                declared.contains(&name.as_str()),
                "{service}: volume {name} is not declared under `volumes:`"
            );
        }
    }
}

// --- systemd units -----------------------------------------------------------------------

struct Unit {
    name: &'static str,
    entries: Vec<(String, String, String)>,
}

impl Unit {
    fn load(name: &'static str) -> Self {
        let source = read(&format!("deploy/{name}"));
        let mut entries = Vec::new();
        let mut section: Option<String> = None;
        let mut pending = String::new();
        for (i, raw) in source.lines().enumerate() {
            let line = raw.trim();
            if pending.is_empty() && (line.is_empty() || line.starts_with(['#', ';'])) {
                continue;
            }
            if let Some(rest) = line.strip_suffix('\\') {
                pending.push_str(rest);
                pending.push(' ');
                continue;
            }
            let line = format!("{pending}{line}");
            pending.clear();
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = Some(name.to_owned());
                continue;
            }
            let section = section
                .clone()
                .unwrap_or_else(|| panic!("{name} line {}: outside a [section]", i + 1));
            let (key, value) = line
                .split_once('=')
                .unwrap_or_else(|| panic!("{name} line {}: expected Key=Value", i + 1));
            entries.push((section, key.trim().to_owned(), value.trim().to_owned()));
        }
        Self { name, entries }
    }

    fn values(&self, section: &str, key: &str) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|(s, k, _)| s == section && k == key)
            .map(|(_, _, v)| v.as_str())
            .collect()
    }

    fn one(&self, section: &str, key: &str) -> &str {
        let values = self.values(section, key);
        assert_eq!(
            values.len(),
            1,
            "{}: [{section}] {key}: {values:?}",
            self.name
        );
        values[0]
    }

    /// The variable names of `Environment=` lines (`A=b "C=d e"`).
    fn environment_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        for value in self.values("Service", "Environment") {
            let mut word = String::new();
            let mut quoted = false;
            for c in value.chars().chain([' ']) {
                match c {
                    '"' => quoted = !quoted,
                    ' ' if !quoted => {
                        if !word.is_empty() {
                            names.push(word.split('=').next().unwrap().to_owned());
                            word.clear();
                        }
                    }
                    c => word.push(c),
                }
            }
        }
        names
    }
}

#[test]
fn systemd_units_start_the_binaries_hardened_and_stop_gracefully() {
    let known = known_variables();
    let grace = config_default("SHUTDOWN_GRACE_SECS");
    let units = [
        (Unit::load("aura-api.service"), api_binary(), None),
        (
            Unit::load("aura-worker.service"),
            cli_binary(),
            Some("worker"),
        ),
    ];
    let mut environment_files = BTreeSet::new();
    for (unit, binary, argument) in &units {
        let name = unit.name;
        for section in ["Unit", "Service", "Install"] {
            assert!(
                unit.entries.iter().any(|(s, _, _)| s == section),
                "{name}: no [{section}]"
            );
        }
        let exec: Vec<&str> = unit
            .one("Service", "ExecStart")
            .split_whitespace()
            .collect();
        assert_eq!(
            exec[0],
            format!("/usr/local/bin/{binary}"),
            "{name}: ExecStart runs the wrong binary"
        );
        assert_eq!(
            exec.get(1).copied(),
            *argument,
            "{name}: ExecStart {exec:?}"
        );
        let dynamic = unit.values("Service", "DynamicUser") == ["yes"];
        let user = unit.values("Service", "User");
        assert!(
            dynamic || user.first().is_some_and(|u| !matches!(*u, "root" | "0")),
            "{name}: runs as root (set User= or DynamicUser=yes)"
        );
        for (key, value) in [
            ("NoNewPrivileges", "yes"),
            ("ProtectSystem", "strict"),
            ("ProtectHome", "yes"),
            ("PrivateTmp", "yes"),
            ("Restart", "on-failure"),
            ("KillSignal", "SIGTERM"),
        ] {
            assert_eq!(unit.one("Service", key), value, "{name}: {key}");
        }
        assert_eq!(
            unit.one("Service", "CapabilityBoundingSet"),
            "",
            "{name}: no capabilities needed"
        );
        let stop = seconds(unit.one("Service", "TimeoutStopSec"));
        assert!(
            stop > grace,
            "{name}: TimeoutStopSec {stop}s must exceed SHUTDOWN_GRACE_SECS ({grace}s)"
        );
        let file = unit.one("Service", "EnvironmentFile");
        assert!(
            file.trim_start_matches('-').starts_with("/etc/"),
            "{name}: EnvironmentFile {file}"
        );
        environment_files.insert(file.to_owned());
        for variable in unit.environment_names() {
            assert!(
                known.contains(&variable),
                "{name}: Environment={variable}: config.rs does not read it"
            );
        }
        assert!(
            unit.one("Unit", "After").contains("network-online.target"),
            "{name}: After=network-online.target"
        );
        assert_eq!(
            unit.one("Install", "WantedBy"),
            "multi-user.target",
            "{name}"
        );
    }
    assert_eq!(
        environment_files.len(),
        1,
        "the API and the worker should read one settings file: {environment_files:?}"
    );
}

// --- nginx -------------------------------------------------------------------------------

struct Block {
    parent: Option<usize>,
    head: Vec<String>,
}

struct Directive {
    block: Option<usize>,
    name: String,
    args: Vec<String>,
}

struct Nginx {
    blocks: Vec<Block>,
    directives: Vec<Directive>,
}

impl Nginx {
    fn parse(source: &str) -> Self {
        let mut tokens: Vec<String> = Vec::new();
        for line in source.lines() {
            let mut chars = line.chars();
            // A word, and whether it was quoted (so `""` stays an argument).
            let mut word = (String::new(), false);
            let flush = |word: &mut (String, bool), tokens: &mut Vec<String>| {
                if !word.0.is_empty() || word.1 {
                    tokens.push(std::mem::take(&mut word.0));
                }
                word.1 = false;
            };
            while let Some(c) = chars.next() {
                match c {
                    '#' if word.0.is_empty() && !word.1 => break,
                    '"' | '\'' => {
                        word.1 = true;
                        for q in chars.by_ref() {
                            if q == c {
                                break;
                            }
                            word.0.push(q);
                        }
                    }
                    ';' | '{' | '}' => {
                        flush(&mut word, &mut tokens);
                        tokens.push(c.to_string());
                    }
                    c if c.is_whitespace() => flush(&mut word, &mut tokens),
                    c => word.0.push(c),
                }
            }
            flush(&mut word, &mut tokens);
        }
        let mut blocks: Vec<Block> = Vec::new();
        let mut directives = Vec::new();
        let mut open: Vec<usize> = Vec::new();
        let mut words: Vec<String> = Vec::new();
        for token in tokens {
            match token.as_str() {
                ";" => {
                    assert!(!words.is_empty(), "nginx.conf: an empty statement");
                    directives.push(Directive {
                        block: open.last().copied(),
                        name: words.remove(0),
                        args: std::mem::take(&mut words),
                    });
                }
                "{" => {
                    assert!(!words.is_empty(), "nginx.conf: a block without a name");
                    blocks.push(Block {
                        parent: open.last().copied(),
                        head: std::mem::take(&mut words),
                    });
                    open.push(blocks.len() - 1);
                }
                "}" => {
                    assert!(words.is_empty(), "nginx.conf: `{words:?}` lacks a `;`");
                    open.pop().expect("nginx.conf: unbalanced `}`");
                }
                _ => words.push(token),
            }
        }
        assert!(open.is_empty(), "nginx.conf: unclosed block");
        assert!(words.is_empty(), "nginx.conf: `{words:?}` lacks a `;`");
        Self { blocks, directives }
    }

    fn blocks_named(&self, name: &str) -> Vec<usize> {
        (0..self.blocks.len())
            .filter(|&i| self.blocks[i].head[0] == name)
            .collect()
    }

    fn within(&self, block: usize, ancestor: usize) -> bool {
        let mut at = Some(block);
        while let Some(b) = at {
            if b == ancestor {
                return true;
            }
            at = self.blocks[b].parent;
        }
        false
    }

    fn args(&self, block: usize, name: &str) -> Vec<&[String]> {
        self.directives
            .iter()
            .filter(|d| d.block == Some(block) && d.name == name)
            .map(|d| d.args.as_slice())
            .collect()
    }

    /// A directive as it applies in `block`: its own, else the nearest enclosing block's
    /// (nginx inherits array directives such as proxy_set_header only when a level
    /// defines none of its own).
    fn effective(&self, block: usize, name: &str) -> Vec<&[String]> {
        let mut at = Some(block);
        while let Some(b) = at {
            let own = self.args(b, name);
            if !own.is_empty() {
                return own;
            }
            at = self.blocks[b].parent;
        }
        Vec::new()
    }
}

fn size_in_bytes(value: &str) -> u64 {
    let lower = value.to_ascii_lowercase();
    let (number, factor) = match lower.chars().last() {
        Some('k') => (&lower[..lower.len() - 1], 1024),
        Some('m') => (&lower[..lower.len() - 1], 1024 * 1024),
        _ => (lower.as_str(), 1),
    };
    number.parse::<u64>().expect("a size") * factor
}

#[test]
fn nginx_terminates_tls_and_forwards_the_client_address() {
    let source = read("deploy/nginx.conf");
    let nginx = Nginx::parse(&source);
    let servers = nginx.blocks_named("server");
    let tls: Vec<usize> = servers
        .iter()
        .copied()
        .filter(|&s| {
            nginx
                .args(s, "listen")
                .iter()
                .any(|a| a.iter().any(|w| w.ends_with("443")) && a.iter().any(|w| w == "ssl"))
        })
        .collect();
    assert!(!tls.is_empty(), "nginx.conf: no `listen 443 ssl` server");
    for &server in &tls {
        for directive in ["ssl_certificate", "ssl_certificate_key"] {
            assert_eq!(
                nginx.args(server, directive).len(),
                1,
                "nginx.conf: the TLS server needs {directive}"
            );
        }
        // Placeholders, not someone's real host name: example.com (RFC 2606) and a
        // PLACEHOLDER note on the certificate lines.
        for name in nginx.args(server, "server_name").concat() {
            assert!(
                name.ends_with("example.com"),
                "nginx.conf: server_name {name} should be a placeholder"
            );
        }
        let hsts = nginx.args(server, "add_header");
        assert!(
            hsts.iter().any(|a| a[0] == "Strict-Transport-Security"
                && a[1].contains("max-age=")
                && a.last().is_some_and(|w| w == "always")),
            "nginx.conf: HSTS (`add_header Strict-Transport-Security \"max-age=...\" always`)"
        );
        let body = nginx.args(server, "client_max_body_size");
        assert_eq!(
            body.len(),
            1,
            "nginx.conf: client_max_body_size in the TLS server"
        );
        let limit = size_in_bytes(&body[0][0]);
        let app_limit = config_default("MAX_DOCUMENT_BODY_BYTES");
        assert!(
            limit >= app_limit,
            "nginx.conf: client_max_body_size {limit} is below MAX_DOCUMENT_BODY_BYTES \
             {app_limit}: nginx would answer 413 (HTML) before the API can (problem+json)"
        );
    }
    // The certificate lines carry a PLACEHOLDER note: on the line, or in the comment
    // right above the group of certificate lines.
    let lines: Vec<&str> = source.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if !line.trim_start().starts_with("ssl_certificate") {
            continue;
        }
        let mut noted = line.contains("PLACEHOLDER");
        for above in lines[..i].iter().rev().map(|l| l.trim_start()) {
            if above.starts_with('#') {
                noted |= above.contains("PLACEHOLDER");
            } else if !above.starts_with("ssl_certificate") {
                break;
            }
        }
        assert!(noted, "nginx.conf: mark `{}` as a PLACEHOLDER", line.trim());
    }

    // Every proxied location sets the forwarded address (replacing the client's) and
    // the Host, with timeouts; its upstream exists and has servers.
    let mut proxied = 0;
    for location in nginx.blocks_named("location") {
        let pass = nginx.args(location, "proxy_pass");
        if pass.is_empty() {
            continue;
        }
        proxied += 1;
        assert!(
            tls.iter().any(|&s| nginx.within(location, s)),
            "nginx.conf: a location proxies to the API outside the TLS server"
        );
        let headers = nginx.effective(location, "proxy_set_header");
        let forwarded: Vec<&str> = headers
            .iter()
            .filter(|a| a[0].eq_ignore_ascii_case("X-Forwarded-For"))
            .map(|a| a[1].as_str())
            .collect();
        assert!(
            forwarded == ["$remote_addr"] || forwarded == ["$proxy_add_x_forwarded_for"],
            "nginx.conf: location {:?} must set X-Forwarded-For: {forwarded:?}",
            nginx.blocks[location].head
        );
        assert!(
            headers.iter().any(|a| a[0].eq_ignore_ascii_case("Host")),
            "nginx.conf: location {:?} must pass Host",
            nginx.blocks[location].head
        );
        for timeout in ["proxy_connect_timeout", "proxy_read_timeout"] {
            assert!(
                !nginx.effective(location, timeout).is_empty(),
                "nginx.conf: {timeout} in {:?}",
                nginx.blocks[location].head
            );
        }
        let target = pass[0][0]
            .strip_prefix("http://")
            .expect("proxy_pass http://<upstream>");
        let upstream = nginx
            .blocks_named("upstream")
            .into_iter()
            .find(|&u| nginx.blocks[u].head.get(1).map(String::as_str) == Some(target))
            .unwrap_or_else(|| panic!("nginx.conf: no upstream {target}"));
        assert!(
            !nginx.args(upstream, "server").is_empty(),
            "nginx.conf: upstream {target} has no server"
        );
    }
    assert!(proxied > 0, "nginx.conf: nothing is proxied to the API");

    // Plain HTTP only redirects.
    let plain: Vec<usize> = servers.into_iter().filter(|s| !tls.contains(s)).collect();
    for server in plain {
        let redirects = nginx
            .directives
            .iter()
            .filter(|d| d.name == "return" && d.block.is_some_and(|b| nginx.within(b, server)))
            .any(|d| d.args[0] == "301" && d.args[1].starts_with("https://"));
        assert!(
            redirects,
            "nginx.conf: the plain HTTP server should redirect to HTTPS"
        );
        assert!(
            !nginx
                .directives
                .iter()
                .any(|d| d.name == "proxy_pass" && d.block.is_some_and(|b| nginx.within(b, server))),
            "nginx.conf: the plain HTTP server proxies to the API"
        );
    }
}

// --- docs/deploy.md ----------------------------------------------------------------------

/// Whether `word` occurs in `text` not as part of a longer NAME.
fn mentions(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        let part = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        !part(before) && !part(after)
    })
}

/// The `aura` subcommands: the variants of the CLI's `enum Command`, in kebab case.
fn cli_subcommands() -> BTreeSet<String> {
    let cli = read("apps/cli/src/main.rs");
    let start = cli.find("enum Command {").expect("enum Command");
    let body = &cli[start..start + cli[start..].find("\n}").expect("end of enum Command")];
    body.lines()
        .filter_map(|l| l.strip_prefix("    "))
        .filter(|l| l.starts_with(|c: char| c.is_ascii_uppercase()))
        .map(|l| {
            let name: String = l.chars().take_while(char::is_ascii_alphanumeric).collect();
            let mut kebab = String::new();
            for (i, c) in name.chars().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    kebab.push('-');
                }
                kebab.push(c.to_ascii_lowercase());
            }
            kebab
        })
        .collect()
}

/// Code in Markdown: fenced blocks and inline spans.
fn code_of(markdown: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            out.push(line.to_owned());
        } else {
            out.extend(line.split('`').skip(1).step_by(2).map(str::to_owned));
        }
    }
    out
}

#[test]
fn deploy_guide_covers_every_variable_and_names_real_files_and_commands() {
    let guide = read("docs/deploy.md");
    let missing: Vec<String> = known_variables()
        .into_iter()
        .filter(|name| !mentions(&guide, name))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/deploy.md does not mention {missing:?} (its variables section lists them all)"
    );

    // Every file of the repository it points to exists.
    for prefix in ["deploy/", "docs/", "migrations/", "apps/", "crates/"] {
        for (at, _) in guide.match_indices(prefix) {
            let before = guide[..at].chars().next_back();
            if before
                .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '-' | '_'))
            {
                continue;
            }
            let path: String = guide[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '-' | '_'))
                .collect();
            let path = path.trim_end_matches(['.', '/']);
            assert!(
                root().join(path).exists(),
                "docs/deploy.md points to {path}, which does not exist"
            );
        }
    }
    for link in ["../.env.example", "../README.md"] {
        assert!(guide.contains(link), "docs/deploy.md should link {link}");
    }

    // Every `aura <command>` in its code exists.
    let commands = cli_subcommands();
    assert!(
        commands.contains("migrate") && commands.contains("worker"),
        "{commands:?}"
    );
    let cli = cli_binary();
    let mut used = BTreeSet::new();
    for code in code_of(&guide) {
        let words: Vec<&str> = code.split_whitespace().collect();
        for pair in words.windows(2) {
            let program = pair[0].rsplit('/').next().unwrap();
            if program == cli && pair[1].starts_with(|c: char| c.is_ascii_lowercase()) {
                let command = pair[1].trim_end_matches([';', ')', '`']);
                assert!(
                    commands.contains(command),
                    "docs/deploy.md runs `{cli} {command}`, which the CLI does not have ({commands:?})"
                );
                used.insert(command.to_owned());
            }
        }
    }
    for needed in ["db", "migrate", "keys", "worker"] {
        assert!(
            used.contains(needed),
            "docs/deploy.md never shows `{cli} {needed}`"
        );
    }
    for topic in [
        "create_distributed_table",
        "pg_basebackup",
        "JWT_ACTIVE_KID",
        "TRUSTED_PROXIES",
        "expand",
    ] {
        assert!(
            guide.contains(topic),
            "docs/deploy.md does not cover {topic}"
        );
    }
}
