//! The real `aura` binary against a fresh PostgreSQL database, with the API served
//! in-process from the same database: what the CLI creates works through the API, and a
//! suspension takes effect at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{collections::HashMap, io::Write, path::PathBuf, process::Stdio};

use aura_adapter_postgres::testing::TestDatabase;
use aura_api::{Application, Settings};
use serde_json::{Value, json};

struct Env {
    vars: Vec<(&'static str, String)>,
    dir: PathBuf,
}

impl Env {
    fn new(db: &TestDatabase) -> Self {
        let dir = std::env::temp_dir().join(format!("aura-cli-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let vars = vec![
            ("DATABASE_URL", db.app_url().to_owned()),
            ("MIGRATION_DATABASE_URL", db.owner_url().to_owned()),
            ("RUN_MIGRATIONS", "false".to_owned()),
            ("BIND_ADDR", "127.0.0.1:0".to_owned()),
            ("BCRYPT_COST", "10".to_owned()),
            (
                "PASSWORD_PEPPER",
                "c2FtZS1wZXBwZXItZm9yLWNsaS1hbmQtYXBpLWluLXRoaXMtdGVzdA==".to_owned(),
            ),
            (
                "JWT_KEYS_DIR",
                dir.join("keys").to_string_lossy().into_owned(),
            ),
            ("MAIL_TRANSPORT", "log".to_owned()),
        ];
        Self { vars, dir }
    }

    /// Runs `aura args…`; returns exit code, stdout, stderr.
    fn aura(&self, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_aura"));
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .current_dir(&self.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in &self.vars {
            command.env(key, value);
        }
        let mut child = command.spawn().unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
        drop(input);
        let output = child.wait_with_output().unwrap();
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    fn json(&self, args: &[&str], stdin: Option<&str>) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let (code, out, err) = self.aura(&all, stdin);
        assert_eq!(code, 0, "aura {args:?}: {err}");
        serde_json::from_str(out.trim())
            .unwrap_or_else(|_| panic!("JSON from aura {args:?}: {out}"))
    }

    fn settings(&self) -> Settings {
        let vars: HashMap<String, String> = self
            .vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        Settings::from_vars(&vars).unwrap()
    }
}

async fn login(http: &reqwest::Client, base: &str, email: &str, password: &str) -> (u16, Value) {
    let response = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_administers_tenants_that_the_api_serves() {
    let db = TestDatabase::create().await;
    let env = Env::new(&db);

    // Set-up commands are safe to repeat.
    let (code, _, err) = env.aura(&["db", "init", "--superuser-url", db.superuser_url()], None);
    assert_eq!(code, 0, "{err}");
    let migrated = env.json(&["migrate"], None);
    assert_eq!(migrated["applied"], json!([]));

    let password = "the owner's own passphrase";
    let created = env.json(
        &[
            "tenant",
            "create",
            "--name",
            "Cli Test GmbH",
            "--owner-email",
            "owner@cli.test",
            "--owner-name",
            "Owner Person",
            "--password-stdin",
        ],
        Some(password),
    );
    assert_eq!(created["tenant"]["slug"], "cli-test-gmbh");
    assert_eq!(created["generated_password"], Value::Null);

    // Clear errors and exit codes.
    let (code, _, err) = env.aura(
        &[
            "tenant",
            "create",
            "--name",
            "Again",
            "--slug",
            "cli-test-gmbh",
            "--owner-email",
            "x@cli.test",
            "--owner-name",
            "X",
        ],
        None,
    );
    assert_eq!(code, 4, "conflict: {err}");
    assert!(err.contains("slug"), "{err}");
    let (code, _, err) = env.aura(
        &[
            "tenant",
            "create",
            "--name",
            "Bad",
            "--owner-email",
            "not-an-email",
            "--owner-name",
            "X",
        ],
        None,
    );
    assert_eq!(code, 2, "invalid input: {err}");
    assert!(err.contains("email"), "{err}");
    let (code, _, _) = env.aura(&["tenant", "suspend", "no-such-tenant"], None);
    assert_eq!(code, 3);
    let (code, _, _) = env.aura(&["tenant", "frobnicate"], None);
    assert_eq!(code, 2, "usage error");

    // The API on the same database accepts what the CLI made.
    let app = Application::build(env.settings()).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let http = reqwest::Client::new();
    let (status, tokens) = login(&http, &base, "owner@cli.test", password).await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let me = |token: String| {
        let http = http.clone();
        let base = base.clone();
        async move {
            http.get(format!("{base}/api/v1/users/me"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(me(access.clone()).await, 200);

    // A suspended tenant can neither use its tokens nor sign in.
    let suspended = env.json(&["tenant", "suspend", "cli-test-gmbh"], None);
    assert_eq!(suspended["is_active"], false);
    assert_eq!(me(access.clone()).await, 401);
    assert_eq!(login(&http, &base, "owner@cli.test", password).await.0, 401);
    env.json(&["tenant", "reactivate", "cli-test-gmbh"], None);
    assert_eq!(login(&http, &base, "owner@cli.test", password).await.0, 200);

    // A user with a generated password, shown once.
    let user = env.json(
        &[
            "user",
            "create",
            "--tenant",
            "cli-test-gmbh",
            "--email",
            "viewer@cli.test",
            "--name",
            "View Er",
            "--role",
            "viewer",
        ],
        None,
    );
    let generated = user["generated_password"].as_str().unwrap();
    let (status, _) = login(&http, &base, "viewer@cli.test", generated).await;
    assert_eq!(status, 200);
    let users = env.json(&["user", "list", "--tenant", "cli-test-gmbh"], None);
    assert_eq!(users.as_array().unwrap().len(), 2);

    let tenants = env.json(&["tenant", "list"], None);
    assert_eq!(tenants.as_array().unwrap().len(), 1);

    // Demo data: three tenants, and a second run adds nothing.
    let seeded = env.json(&["seed-demo"], None);
    assert_eq!(seeded["created"], json!(["acme", "globex", "initech"]));
    let again = env.json(&["seed-demo"], None);
    assert_eq!(again["created"], json!([]));
    // Each demo tenant holds the demo company's register, written through the use cases.
    let demo = env.json(&["export", "--tenant", "globex"], None);
    assert_eq!(
        demo["organisation"]["legal_name"], "Demo Company GmbH",
        "{demo}"
    );
    assert_eq!(demo["activities"].as_array().unwrap().len(), 12, "{demo}");
    let sub_processor = demo["activities"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["processors"].as_array().unwrap())
        .find(|p| p["name"] == "ColdVault Storage B.V.")
        .expect("the backup sub-processor is linked");
    assert!(sub_processor["parent_id"].is_string(), "{sub_processor}");
    assert_eq!(
        login(
            &http,
            &base,
            "viewer@globex.demo.test",
            "demo-password-2026"
        )
        .await
        .0,
        200
    );

    // The register export (Art. 30(4)), as CSV and JSON, and a clear usage error.
    let (code, csv, err) = env.aura(
        &["export", "--tenant", "cli-test-gmbh", "--format", "csv"],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        csv.starts_with('\u{feff}') && csv.contains("id,name,status,role,controller"),
        "{csv}"
    );
    let (code, json, err) = env.aura(
        &[
            "export",
            "--tenant",
            "cli-test-gmbh",
            "--record",
            "processor",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let export: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(export["record"], "processor");
    let (code, _, err) = env.aura(
        &["export", "--tenant", "cli-test-gmbh", "--record", "auditor"],
        None,
    );
    assert_eq!(code, 2, "{err}");

    let _ = std::fs::remove_dir_all(&env.dir);
}
