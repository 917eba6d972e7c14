//! Black-box harness: starts the real `aura-api` binary on a fresh PostgreSQL database and
//! port 0, and talks to it over HTTP like any client.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod binaries;
pub mod smtp;

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    sync::Arc,
    time::Duration,
};

use aura_adapter_postgres::testing::TestDatabase;
use base64::{Engine, engine::general_purpose::STANDARD};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

pub const PASSWORD: &str = "a sufficiently long passphrase";
/// The audit chain key of every binary a test starts: 32 bytes of 7, base64 (the key of
/// `HmacChainHasher::with_test_key()`).
pub const TEST_AUDIT_CHAIN_KEY: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";

pub struct TestApp {
    pub base: String,
    pub dir: PathBuf,
    /// Shared with [`TestApp::spawn_sibling`]'s instances.
    pub db: Arc<TestDatabase>,
    pub http: reqwest::Client,
    /// The pepper and signing keys every instance on this database shares.
    pepper: String,
    keys_dir: PathBuf,
    /// The settings this instance was started with beyond the suite's own, which the
    /// operator's CLI shares (`INVITATIONS_PER_DAY`, say).
    settings: Vec<(String, String)>,
    child: Child,
    /// Every line the server logged so far (JSON), for tests that read the log.
    log: Arc<std::sync::Mutex<Vec<String>>>,
    /// The unused recovery codes of the second factors [`TestApp::login`] enrolled, by
    /// address.
    recovery_codes: std::sync::Mutex<std::collections::HashMap<String, Vec<String>>>,
}

/// A user the tests created, with a fresh token pair.
#[derive(Debug, Clone)]
pub struct Account {
    pub email: String,
    pub user_id: String,
    pub tenant_id: String,
    pub access: String,
    pub refresh: String,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    /// Starts the binary with extra environment variables.
    pub async fn spawn_with(extra_env: &[(&str, &str)]) -> Self {
        let db = Arc::new(TestDatabase::create().await);
        let pepper = STANDARD.encode(uuid::Uuid::new_v4().as_bytes().repeat(2));
        Self::start(db, pepper, None, extra_env).await
    }

    /// Another `aura-api` process on the same database, pepper and signing keys (as a
    /// second instance behind a load balancer), with its own extra variables.
    pub async fn spawn_sibling(&self, extra_env: &[(&str, &str)]) -> Self {
        Self::start(
            self.db.clone(),
            self.pepper.clone(),
            Some(self.keys_dir.clone()),
            extra_env,
        )
        .await
    }

    async fn start(
        db: Arc<TestDatabase>,
        pepper: String,
        keys_dir: Option<PathBuf>,
        extra_env: &[(&str, &str)],
    ) -> Self {
        let dir = std::env::temp_dir().join(format!("aura-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let keys_dir = keys_dir.unwrap_or_else(|| dir.join("keys"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_aura-api"));
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("APP_ENV", "development")
            .env("DATABASE_URL", db.app_url())
            .env("MIGRATION_DATABASE_URL", db.owner_url())
            .env("RUN_MIGRATIONS", "true")
            .env("BIND_ADDR", "127.0.0.1:0")
            .env("WORKERS", "2")
            .env("BCRYPT_COST", "10")
            .env("JWT_KEYS_DIR", &keys_dir)
            .env("PASSWORD_PEPPER", &pepper)
            // The key of `HmacChainHasher::with_test_key()`, so stores a test builds on the
            // same database seal links this binary verifies (and every instance agrees).
            .env("AUDIT_CHAIN_KEY", TEST_AUDIT_CHAIN_KEY)
            // No checkpoint mail on a date that happens to be a mailing day; the suite
            // that tests it sets its own.
            .env("AUDIT_CHECKPOINT_MAIL_DAYS", "0")
            .env("MAIL_TRANSPORT", "file")
            .env("MAIL_DIR", dir.join("mail"))
            .env("TRUSTED_PROXIES", "127.0.0.1")
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            // Limits far above what any suite sends; tests/limits.rs sets tight ones.
            .env("RATE_LIMIT_AUTH_PER_MINUTE", "1000000")
            .env("RATE_LIMIT_TENANT_PER_MINUTE", "10000000")
            .env("RATE_LIMIT_TENANT_BURST", "1000000")
            .env("RATE_LIMIT_INTAKE_PER_MINUTE", "1000000")
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        for (key, value) in extra_env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("aura-api starts");
        let stdout = child.stdout.take().expect("stdout piped");
        let mut lines = BufReader::new(stdout).lines();
        let port = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.expect("read stdout") {
                if let Ok(entry) = serde_json::from_str::<Value>(&line)
                    && entry["message"] == "listening"
                {
                    return entry["port"].as_u64().expect("port logged") as u16;
                }
            }
            panic!("aura-api exited before listening");
        })
        .await
        .expect("aura-api listens within 60 s");
        // Keep draining the log (kept for `logged`) so the server never blocks on a full
        // pipe.
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                kept.lock().unwrap().push(line);
            }
        });
        Self {
            base: format!("http://127.0.0.1:{port}"),
            dir,
            db,
            pepper,
            keys_dir,
            settings: extra_env
                .iter()
                .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
                .collect(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            child,
            log,
            recovery_codes: std::sync::Mutex::default(),
        }
    }

    /// The server's log so far, one JSON line each.
    pub fn logged(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Sends a request as `who` with an optional `If-Match` version; returns status,
    /// `ETag` and the JSON body (the text when it is not JSON).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        who: &Account,
        if_match: Option<i64>,
        body: Option<Value>,
    ) -> (StatusCode, Option<String>, Value) {
        let tag = if_match.map(|v| format!("\"{v}\""));
        self.send_tagged(method, path, who, tag.as_deref(), body)
            .await
    }

    /// [`TestApp::send`] with the `If-Match` header's text as given (`"3"`, `*`, junk).
    pub async fn send_tagged(
        &self,
        method: Method,
        path: &str,
        who: &Account,
        if_match: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Option<String>, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&who.access);
        if let Some(tag) = if_match {
            request = request.header("If-Match", tag);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let etag = response
            .headers()
            .get("etag")
            .map(|e| e.to_str().unwrap().to_owned());
        let text = response.text().await.unwrap();
        (
            status,
            etag,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Creates a record at `path` as `who` (201 expected); the record.
    pub async fn created(&self, path: &str, who: &Account, body: Value) -> Value {
        let (status, _, created) = self.send(Method::POST, path, who, None, Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        created
    }

    /// Runs `action` (`POST {path}/{id}/{action}`) on `record` at its version as `who`;
    /// status and body.
    pub async fn act(
        &self,
        path: &str,
        who: &Account,
        record: &Value,
        action: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let path = format!("{path}/{}/{action}", record["id"].as_str().unwrap());
        let version = record["version"].as_i64();
        let (status, _, answer) = self.send(Method::POST, &path, who, version, body).await;
        (status, answer)
    }

    /// Runs `action` on `record` (as [`TestApp::act`]), which must succeed; the record
    /// after it.
    pub async fn done(
        &self,
        path: &str,
        who: &Account,
        record: &Value,
        action: &str,
        body: Option<Value>,
    ) -> Value {
        let (status, answer) = self.act(path, who, record, action, body).await;
        assert_eq!(status, StatusCode::OK, "{action}: {answer}");
        answer
    }

    /// The server's process id (for signals).
    pub fn pid(&self) -> u32 {
        self.child.id().expect("aura-api still running")
    }

    /// Waits up to `limit` for the server to exit; its status, or None if it still runs.
    pub async fn wait_for_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        tokio::time::timeout(limit, self.child.wait())
            .await
            .ok()
            .map(|status| status.expect("wait for aura-api"))
    }

    pub fn keys_dir(&self) -> PathBuf {
        self.keys_dir.clone()
    }

    pub fn mail_dir(&self) -> PathBuf {
        self.dir.join("mail")
    }

    /// Runs the `aura` CLI as an operator on this instance's host would: the same database,
    /// pepper, chain key and signing keys. Answers its exit status and standard output.
    pub async fn cli(&self, args: &[&str]) -> String {
        self.cli_with(&[], args).await
    }

    /// [`TestApp::cli`] with extra environment variables (a rotated `DOCUMENT_KEY`, say).
    pub async fn cli_with(&self, extra_env: &[(&str, &str)], args: &[&str]) -> String {
        self.run_cli(extra_env, args, None).await
    }

    /// Runs the `aura` CLI with `input` on its standard input; panics unless it succeeds.
    async fn run_cli(
        &self,
        extra_env: &[(&str, &str)],
        args: &[&str],
        input: Option<&str>,
    ) -> String {
        use tokio::io::AsyncWriteExt;
        let mut child = Command::new(binaries::binary("aura"))
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("APP_ENV", "development")
            .env("DATABASE_URL", self.db.app_url())
            .env("MIGRATION_DATABASE_URL", self.db.owner_url())
            .env("PASSWORD_PEPPER", &self.pepper)
            .env("AUDIT_CHAIN_KEY", TEST_AUDIT_CHAIN_KEY)
            .env("JWT_KEYS_DIR", &self.keys_dir)
            .env("BCRYPT_COST", "10")
            .env("MAIL_TRANSPORT", "file")
            .env("MAIL_DIR", self.mail_dir())
            .envs(self.settings.iter().map(|(key, value)| (key, value)))
            .envs(extra_env.iter().copied())
            .current_dir(&self.dir)
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the aura CLI runs");
        if let Some(input) = input {
            let mut stdin = child.stdin.take().expect("piped stdin");
            stdin.write_all(input.as_bytes()).await.unwrap();
        }
        let output = child.wait_with_output().await.expect("the aura CLI ends");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "aura {args:?}: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    }

    /// Sends a request; returns status and the JSON body (Null when empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }

    /// Registers a new tenant with its owner and signs the owner in.
    pub async fn register(&self, organisation: &str) -> Account {
        let email = format!("owner-{}@example.test", uuid::Uuid::new_v4().simple());
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/auth/register",
                None,
                Some(json!({
                    "organisation_name": organisation,
                    "email": email,
                    "full_name": "Owner Person",
                    "password": PASSWORD,
                })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        self.login(&email, PASSWORD).await
    }

    /// Signs in; an account that needs a second factor takes the second step too (see
    /// [`TestApp::second_factor`]).
    pub async fn login(&self, email: &str, password: &str) -> Account {
        let (status, tokens) = self
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({ "email": email, "password": password })),
            )
            .await;
        let tokens = if status == StatusCode::ACCEPTED {
            self.second_factor(email, &tokens).await
        } else {
            assert_eq!(status, StatusCode::OK, "login of {email}: {tokens}");
            tokens
        };
        let access = tokens["access_token"].as_str().unwrap().to_owned();
        let (_, me) = self.get("/api/v1/users/me", &access).await;
        Account {
            email: email.to_owned(),
            user_id: me["id"].as_str().unwrap().to_owned(),
            tenant_id: me["tenant_id"].as_str().unwrap().to_owned(),
            access,
            refresh: tokens["refresh_token"].as_str().unwrap().to_owned(),
        }
    }

    /// The second step of a sign-in, as the person would take it: an account that must
    /// enrol a second factor enrols one (its recovery codes are kept here), an account
    /// with one signs in with one of those codes. Answers the token pair.
    async fn second_factor(&self, email: &str, challenge: &Value) -> Value {
        let token = challenge["challenge"].as_str().expect("a challenge");
        let step = |path: &'static str, body: Value| async move {
            let (status, answer) = self.call(Method::POST, path, None, Some(body)).await;
            assert_eq!(status, StatusCode::OK, "{path} for {email}: {answer}");
            answer
        };
        if challenge["mfa_enrolment_required"] == json!(true) {
            let body = json!({ "challenge": token });
            let enrolment = step("/api/v1/auth/login/mfa/enrolment", body).await;
            let secret = enrolment["secret"].as_str().unwrap();
            let totp = totp_rs::Builder::new()
                .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
                .build()
                .unwrap();
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            let code = totp.generate(now).to_string();
            let body = json!({ "challenge": token, "code": code });
            let signed_in = step("/api/v1/auth/login/mfa/enrolment/confirm", body).await;
            let codes = signed_in["recovery_codes"].as_array().unwrap().iter();
            let codes = codes.map(|c| c.as_str().unwrap().to_owned()).collect();
            self.recovery_codes
                .lock()
                .unwrap()
                .insert(email.to_owned(), codes);
            return signed_in;
        }
        let code = self
            .recovery_codes
            .lock()
            .unwrap()
            .get_mut(email)
            .and_then(Vec::pop)
            .expect("a second factor this test enrolled through `login`, with codes left");
        let body = json!({ "challenge": token, "recovery_code": code });
        step("/api/v1/auth/login/mfa", body).await
    }

    /// Adds a user with a password to `admin`'s tenant and signs them in.
    pub async fn add_user(&self, admin: &Account, role: &str) -> Account {
        let email = format!("{role}-{}@example.test", uuid::Uuid::new_v4().simple());
        // Through the operator's CLI, the one way to give a member a password (through
        // the API the person is invited and chooses it); the sign-in accepts the
        // membership. No mail goes out, so suites that count mails count their own.
        self.run_cli(
            &[],
            &[
                "user",
                "create",
                "--tenant",
                &admin.tenant_id,
                "--email",
                &email,
                "--name",
                &format!("A {role}"),
                "--role",
                role,
                "--password-stdin",
            ],
            Some(PASSWORD),
        )
        .await;
        self.login(&email, PASSWORD).await
    }

    /// How many mails were written so far.
    pub fn mail_count(&self) -> usize {
        std::fs::read_dir(self.mail_dir()).map_or(0, |d| {
            d.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                .count()
        })
    }

    /// The newest mail once at least `count` were written (mail goes out from the job
    /// queue: the worker's next pass, within seconds). Panics after 20 s.
    pub async fn mail_when(&self, count: usize) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while self.mail_count() < count {
            assert!(
                std::time::Instant::now() < deadline,
                "no mail number {count} within 20 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.last_mail()
    }

    /// The mails so far to `email` that mention `organisation`, oldest first.
    pub fn mails_to(&self, email: &str, organisation: &str) -> Vec<String> {
        let mut found: Vec<(std::time::SystemTime, String)> = std::fs::read_dir(self.mail_dir())
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| {
                let modified = e.metadata().unwrap().modified().unwrap();
                (modified, std::fs::read_to_string(e.path()).unwrap())
            })
            .filter(|(_, m)| m.contains(email) && m.contains(organisation))
            .collect();
        found.sort_by_key(|(at, _)| *at);
        found.into_iter().map(|(_, m)| m).collect()
    }

    /// The link token of the `number`th mail (1-based) to `email` about `organisation`,
    /// once sent (the worker mails from the queue). Panics after 20 s.
    pub async fn link_in_mail(&self, email: &str, organisation: &str, number: usize) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let mails = self.mails_to(email, organisation);
            if mails.len() >= number {
                return token_from(&mails[number - 1]);
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no mail {number} to {organisation}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Invites `email` into `owner`'s tenant (named `organisation`) with `role` and
    /// accepts it through the invitation link, setting the account's password to
    /// [`PASSWORD`] (which ends the account's sessions). Needs a worker that polls.
    pub async fn join(&self, owner: &Account, organisation: &str, email: &str, role: &str) {
        let before = self.mails_to(email, organisation).len();
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/tenants/me/users",
                Some(&owner.access),
                Some(json!({ "email": email, "full_name": "Kim Consultant", "role": role })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let token = self.link_in_mail(email, organisation, before + 1).await;
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/auth/password/reset",
                None,
                Some(json!({ "token": token, "password": PASSWORD })),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }

    /// Makes `owner`'s tenant a consultancy (its `consultancy` setting): other tenants
    /// may then grant it access as a partner.
    pub async fn offer_as_partner(&self, owner: &Account) {
        let (status, body) = self
            .call(
                Method::PATCH,
                "/api/v1/tenants/me",
                Some(&owner.access),
                Some(json!({ "settings": { "consultancy": true } })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// The slug of `owner`'s tenant (what a client names a partner by).
    pub async fn slug_of(&self, owner: &Account) -> String {
        let (_, tenant) = self.get("/api/v1/tenants/me", &owner.access).await;
        tenant["slug"].as_str().unwrap().to_owned()
    }

    /// `POST /api/v1/tenants/me/partners` as `owner`: status and body.
    pub async fn grant_partner(
        &self,
        owner: &Account,
        partner_slug: &str,
        role: &str,
    ) -> (StatusCode, Value) {
        let body = json!({ "partner": partner_slug, "role": role });
        (self.call(
            Method::POST,
            "/api/v1/tenants/me/partners",
            Some(&owner.access),
            Some(body),
        ))
        .await
    }

    /// `DELETE /api/v1/tenants/me/partners/{partner}` as `owner`: status and body.
    pub async fn revoke_partner(
        &self,
        owner: &Account,
        partner_tenant: &str,
    ) -> (StatusCode, Value) {
        let path = format!("/api/v1/tenants/me/partners/{partner_tenant}");
        self.call(Method::DELETE, &path, Some(&owner.access), None)
            .await
    }

    /// `POST /api/v1/auth/switch` as `who`: status and body.
    pub async fn switch(&self, who: &Account, tenant: &str) -> (StatusCode, Value) {
        let body = json!({ "tenant_id": tenant });
        (self.call(
            Method::POST,
            "/api/v1/auth/switch",
            Some(&who.access),
            Some(body),
        ))
        .await
    }

    /// Switches `who` into `tenant` (200 expected): the account there.
    pub async fn switched(&self, who: &Account, tenant: &str) -> Account {
        let (status, tokens) = self.switch(who, tenant).await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        let access = tokens["access_token"].as_str().unwrap().to_owned();
        let (_, me) = self.get("/api/v1/users/me", &access).await;
        Account {
            email: who.email.clone(),
            user_id: me["id"].as_str().unwrap().to_owned(),
            tenant_id: me["tenant_id"].as_str().unwrap().to_owned(),
            access,
            refresh: tokens["refresh_token"].as_str().unwrap().to_owned(),
        }
    }

    /// The newest mail file's text.
    pub fn last_mail(&self) -> String {
        newest_file(&self.mail_dir())
            .map(|path| std::fs::read_to_string(path).unwrap())
            .unwrap_or_default()
    }
}

fn newest_file(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
        .map(|e| e.path())
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The token of the (first) link in a mail.
pub fn token_from(mail: &str) -> String {
    let start = mail.find("token=").expect("a link in the mail") + "token=".len();
    mail[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// The fields a problem answer (422) names, in order.
pub fn problem_fields(problem: &Value) -> Vec<String> {
    (problem["errors"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter())
    .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
    .collect()
}

/// A 422 naming exactly `field`, whose message cites `rule` (an article, a word of the rule).
pub fn assert_refused(status: StatusCode, problem: &Value, field: &str, rule: &str) {
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem_fields(problem), [field], "{problem}");
    let message = problem["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains(rule), "{message}");
}

/// Redeems a reset or invitation link's token with `password`; the status.
pub async fn reset(app: &TestApp, token: &str, password: &str) -> StatusCode {
    app.call(
        Method::POST,
        "/api/v1/auth/password/reset",
        None,
        Some(json!({ "token": token, "password": password })),
    )
    .await
    .0
}
