//! The accountability pack against the real binaries on PostgreSQL: a pack asked for is
//! built by the worker (polled, bounded), downloaded, and passes `aura verify-pack`
//! against the JWKS the API publishes (as a file and as a URL); one byte changed in a
//! file, in the manifest or in the signature, a file added or taken away, or the ZIP
//! itself damaged, and it fails. Another tenant's pack is 404 on both endpoints, and a
//! pack holds nothing of another tenant whose records have the same names.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{path::Path, process::Command, time::Duration};

use aura_adapter_reports::ZipArchiver;
use aura_packs::ports::{Archive, PackFile};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Account, TestApp, binaries::binary, problem_fields};

const PACKS: &str = "/api/v1/reports/packs";

/// An activity and a processor with the names every tenant of the test uses, told apart
/// by the tenant's `marker` in the activity's description.
async fn colliding_records(app: &TestApp, owner: &Account, marker: &str) -> String {
    app.created(
        "/api/v1/processing-activities",
        owner,
        json!({
            "name": "Lohnbuchhaltung",
            "description": marker,
            "role": "controller",
            "status": "active",
            "purposes": [{"description": "Gehaltszahlung", "lawful_basis": "contract"}],
            "data_subject_categories": ["Beschäftigte"],
            "data_categories": [{"name": "Bankverbindung", "retention": "10 Jahre"}],
            "recipient_categories": ["Bank"],
            "security_measures": "Verschlüsselung",
            "dpia_required": "no",
        }),
    )
    .await;
    let processor = app
        .created(
            "/api/v1/processors",
            owner,
            json!({"name": "Payroll Services GmbH", "dpa_status": "signed"}),
        )
        .await;
    processor["id"].as_str().unwrap().to_owned()
}

/// Asks for a pack of 2020–2030 and waits (at most 60 s) until the worker built it.
async fn ready_pack(app: &TestApp, owner: &Account) -> Value {
    let (status, _, queued) = app
        .send(
            Method::POST,
            PACKS,
            owner,
            None,
            Some(json!({"period_from": "2020-01-01", "period_to": "2030-12-31", "lang": "de"})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    assert_eq!(queued["status"], "queued");
    let id = queued["id"].as_str().unwrap().to_owned();
    for _ in 0..240 {
        let (status, pack) = app.get(&format!("{PACKS}/{id}"), &owner.access).await;
        assert_eq!(status, StatusCode::OK, "{pack}");
        match pack["status"].as_str().unwrap() {
            "queued" => tokio::time::sleep(Duration::from_millis(250)).await,
            "ready" => return pack,
            other => panic!("pack {other}: {pack}"),
        }
    }
    panic!("the pack was not built within 60 s");
}

async fn download(app: &TestApp, who: &Account, id: &str) -> (StatusCode, String, Vec<u8>) {
    let response = app
        .http
        .get(format!("{}{PACKS}/{id}/content", app.base))
        .bearer_auth(&who.access)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let disposition = response
        .headers()
        .get("content-disposition")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        status,
        disposition,
        response.bytes().await.unwrap().to_vec(),
    )
}

/// `aura verify-pack` on `bytes`: exit code and what it printed.
fn verify(dir: &Path, bytes: &[u8], jwks: &str) -> (i32, String) {
    let file = dir.join(format!("pack-{}.zip", uuid::Uuid::new_v4()));
    std::fs::write(&file, bytes).unwrap();
    let output = Command::new(binary("aura"))
        .args(["verify-pack", file.to_str().unwrap(), "--jwks", jwks])
        .env_clear()
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), text)
}

/// The pack rebuilt after `change` to its files.
fn altered(bytes: &[u8], change: impl FnOnce(&mut Vec<PackFile>)) -> Vec<u8> {
    let mut files = ZipArchiver.unpack(bytes, 1 << 30).unwrap();
    change(&mut files);
    ZipArchiver.pack(&files).unwrap()
}

fn flip_in(files: &mut [PackFile], name: &str, at: usize) {
    let file = files.iter_mut().find(|f| f.name == name).unwrap();
    let at = at.min(file.bytes.len() - 1);
    file.bytes[at] ^= 0x01;
}

fn text_of(files: &[PackFile], name: &str) -> String {
    let file = files.iter().find(|f| f.name == name).unwrap();
    String::from_utf8(file.bytes.clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pack_verifies_and_any_changed_byte_fails_it() {
    let app = TestApp::spawn_with(&[("WORKER_POLL_MS", "100")]).await;
    let a = app.register("Pack Alpha GmbH").await;
    let b = app.register("Pack Beta GmbH").await;
    let (marker_a, marker_b) = (
        format!("alpha-{}", uuid::Uuid::new_v4().simple()),
        format!("beta-{}", uuid::Uuid::new_v4().simple()),
    );
    let processor_a = colliding_records(&app, &a, &marker_a).await;
    let processor_b = colliding_records(&app, &b, &marker_b).await;

    let pack = ready_pack(&app, &a).await;
    let id = pack["id"].as_str().unwrap();
    let (status, disposition, bytes) = download(&app, &a, id).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        disposition
            .starts_with("attachment; filename=\"accountability-pack-2020-01-01-2030-12-31.zip"),
        "{disposition}"
    );
    assert_eq!(pack["size"].as_u64().unwrap(), bytes.len() as u64);
    assert_eq!(pack["sha256"].as_str().unwrap().len(), 64);

    // What the pack holds: every part the issue names, the tenant's own records only.
    let files = ZipArchiver.unpack(&bytes, 1 << 30).unwrap();
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    for expected in [
        "register-controller.pdf",
        "register-controller.csv",
        "processors.csv",
        "policies-current.json",
        "dpias.json",
        "breach-register.csv",
        "request-register.csv",
        "summary.json",
        "audit-chain-verification.json",
        "manifest.json",
        "manifest.sig",
    ] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    let everything: String = files
        .iter()
        .filter(|f| !f.name.ends_with(".pdf"))
        .map(|f| String::from_utf8_lossy(&f.bytes).into_owned())
        .collect();
    assert!(text_of(&files, "register-controller.csv").contains(&marker_a));
    assert!(text_of(&files, "processors.csv").contains(&processor_a));
    assert!(
        !everything.contains(&marker_b),
        "tenant B's activity in A's pack"
    );
    assert!(
        !everything.contains(&processor_b),
        "tenant B's processor in A's pack"
    );
    assert!(!everything.contains(&b.tenant_id));
    let manifest: Value = serde_json::from_str(&text_of(&files, "manifest.json")).unwrap();
    assert_eq!(manifest["tenant_id"], a.tenant_id.as_str());
    assert_eq!(manifest["pack_id"], id);
    assert_eq!(
        manifest["period"],
        json!({"from": "2020-01-01", "to": "2030-12-31"})
    );
    assert_eq!(manifest["files"].as_array().unwrap().len(), files.len() - 2);
    let (_, head) = app.get("/api/v1/audit-events/verify", &a.access).await;
    assert!(manifest["audit_chain_head"].is_string());
    assert!(head["events_checked"].as_u64().unwrap() > 0);
    let chain: Value =
        serde_json::from_str(&text_of(&files, "audit-chain-verification.json")).unwrap();
    assert_eq!(chain["valid"], true, "{chain}");

    // Intact: passes against the published keys, as a file and as a URL.
    let jwks = app
        .http
        .get(format!("{}/.well-known/jwks.json", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let published = jwks_file(&app.dir, &jwks);
    let (code, out) = verify(&app.dir, &bytes, &published);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("INTACT"), "{out}");
    let url = format!("{}/.well-known/jwks.json", app.base);
    let (code, out) = verify(&app.dir, &bytes, &url);
    assert_eq!(code, 0, "{out}");

    // Any changed byte fails: in a file, in the manifest, in the signature.
    let tampered = [
        (
            "a file's byte",
            altered(&bytes, |f| flip_in(f, "register-controller.csv", 40)),
            "SHA-256 differs",
        ),
        (
            "a PDF's byte",
            altered(&bytes, |f| flip_in(f, "register-controller.pdf", 1000)),
            "SHA-256 differs",
        ),
        (
            "the manifest's byte",
            altered(&bytes, |f| flip_in(f, "manifest.json", 60)),
            "signature does not match",
        ),
        (
            "the signature's byte",
            altered(&bytes, |f| {
                let sig = f.iter_mut().find(|f| f.name == "manifest.sig").unwrap();
                let text = String::from_utf8(sig.bytes.clone()).unwrap();
                let value: Value = serde_json::from_str(&text).unwrap();
                let s = value["signature"].as_str().unwrap();
                let first = if s.starts_with('A') { "B" } else { "A" };
                sig.bytes = text
                    .replacen(s, &format!("{first}{}", &s[1..]), 1)
                    .into_bytes();
            }),
            "signature does not match",
        ),
        (
            "a file taken away",
            altered(&bytes, |f| f.retain(|f| f.name != "summary.json")),
            "not in the archive",
        ),
        (
            "a file added",
            altered(&bytes, |f| f.push(PackFile::new("extra.csv", "x"))),
            "not in the manifest",
        ),
    ];
    for (what, changed, says) in tampered {
        assert_ne!(changed, bytes, "{what}");
        let (code, out) = verify(&app.dir, &changed, &published);
        assert_eq!(code, 1, "{what}: {out}");
        assert!(
            out.contains("NOT INTACT") && out.contains(says),
            "{what}: {out}"
        );
    }
    // A byte of the ZIP itself (inside the first file's deflated data).
    let mut damaged = bytes.clone();
    damaged[60] ^= 0x01;
    let (code, out) = verify(&app.dir, &damaged, &published);
    assert_eq!(code, 1, "{out}");
    // Another server's keys do not vouch for it.
    let other = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"other","x":"Gb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE"}]}"#;
    let (code, out) = verify(&app.dir, &bytes, &jwks_file(&app.dir, other));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("no Ed25519 key"), "{out}");

    // Another tenant's pack is unknown on both endpoints; B's own pack is B's alone.
    let (status, problem) = app.get(&format!("{PACKS}/{id}"), &b.access).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    let (status, _, _) = download(&app, &b, id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let pack_b = ready_pack(&app, &b).await;
    let (_, _, bytes_b) = download(&app, &b, pack_b["id"].as_str().unwrap()).await;
    let files_b = ZipArchiver.unpack(&bytes_b, 1 << 30).unwrap();
    let everything_b: String = files_b
        .iter()
        .filter(|f| !f.name.ends_with(".pdf"))
        .map(|f| String::from_utf8_lossy(&f.bytes).into_owned())
        .collect();
    assert!(everything_b.contains(&marker_b));
    assert!(!everything_b.contains(&marker_a) && !everything_b.contains(&processor_a));
    assert_eq!(verify(&app.dir, &bytes_b, &published).0, 0);

    // Expiry: A's pack's time is up (moved back as the superuser) and a purge job runs in
    // A's tenant: the bytes are removed, audited; B's pack keeps its own.
    let mut conn = AsyncPgConnection::establish(app.db.superuser_url())
        .await
        .unwrap();
    conn.batch_execute(&format!(
        "UPDATE accountability_packs SET expires_at = now() - interval '1 hour' WHERE id = '{id}'; \
         INSERT INTO jobs (tenant_id, id, kind, payload, dedupe_key, status, run_at, max_attempts, \
         created_at, updated_at) VALUES ('{}', gen_random_uuid(), 'accountability_pack_purge', \
         '{{\"date\": \"2000-01-01\"}}', 'accountability_pack_purge:test', 'queued', now(), 3, \
         now(), now())",
        a.tenant_id
    ))
    .await
    .unwrap();
    let mut removed = false;
    for _ in 0..240 {
        let left: Count = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM accountability_packs \
             WHERE id = '{id}' AND status = 'expired' AND content IS NULL"
        ))
        .get_result(&mut conn)
        .await
        .unwrap();
        if left.n == 1 {
            removed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        removed,
        "the purge removed the expired pack's bytes within 60 s"
    );
    let (_, pack) = app.get(&format!("{PACKS}/{id}"), &a.access).await;
    assert_eq!(pack["status"], "expired", "{pack}");
    assert_eq!(download(&app, &a, id).await.0, StatusCode::NOT_FOUND);
    let (_, events) = app
        .get(
            "/api/v1/audit-events?entity_type=accountability_pack&limit=100",
            &a.access,
        )
        .await;
    let actions = events.to_string();
    for action in [
        "accountability_pack.requested",
        "accountability_pack.built",
        "accountability_pack.expired",
    ] {
        assert!(actions.contains(action), "{action} audited");
    }
    let (status, _, _) = download(&app, &b, pack_b["id"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "B's pack is not A's to purge");
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// `text` (a JWKS) as a file of `dir`; its path.
fn jwks_file(dir: &Path, text: &str) -> String {
    let path = dir.join(format!("jwks-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_named_and_members_are_refused() {
    let app = TestApp::spawn_with(&[("WORKER_ENABLED", "false")]).await;
    let owner = app.register("Pack Rules GmbH").await;
    let ask = |body: Value| {
        let (app, owner) = (&app, &owner);
        async move { app.send(Method::POST, PACKS, owner, None, Some(body)).await }
    };
    let (status, _, problem) =
        ask(json!({"period_from": "2026-02-01", "period_to": "2026-01-01"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem_fields(&problem), ["period_to"]);
    let (status, _, problem) =
        ask(json!({"period_from": "2026-13-01", "period_to": "2026-12-31"})).await;
    assert!(status.is_client_error(), "{problem}");
    assert!(problem.to_string().contains("period_from"), "{problem}");
    let (status, _, problem) =
        ask(json!({"period_from": "2026-01-01", "period_to": "2026-12-31", "lang": "fr"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(problem_fields(&problem), ["lang"]);

    // Queued until a worker builds it; no content before.
    let (status, _, queued) =
        ask(json!({"period_from": "2026-01-01", "period_to": "2026-12-31"})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    let id = queued["id"].as_str().unwrap();
    let (status, _, _) = download(&app, &owner, id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.get(&format!("{PACKS}/not-a-uuid"), &owner.access).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let member = app.add_user(&owner, "member").await;
    let (status, _, _) = app
        .send(
            Method::POST,
            PACKS,
            &member,
            None,
            Some(json!({"period_from": "2026-01-01", "period_to": "2026-12-31"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app.get(&format!("{PACKS}/{id}"), &member.access).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = download(&app, &member, id).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
