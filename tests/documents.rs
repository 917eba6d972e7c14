//! Documents against the real binary on PostgreSQL: a round trip from 0 bytes to several
//! chunks, byte-identical, hashes matching (the response, a local SHA-256, the audit event
//! of the upload, the verify action), ranges across a chunk boundary, no plaintext in the
//! chunk table; the refusals of the acceptance (a declared length over the cap answered
//! 413 before the body is sent, magic bytes that contradict the type, a wrong digest, an
//! interrupted upload leaving no version and no chunk); links to foreign records (404
//! naming the field), another tenant's document, versions and content (404), the roles
//! (viewers read, members upload, admins remove content, never under legal hold; the
//! removal's event names the document by id and hashes, not by title). On the stores
//! directly (`staging`): an upload dropped mid-body is swept by the job once past the
//! bound, a committed one stays; parallel uploads never pass the quota together.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use base64::{Engine, engine::general_purpose::STANDARD};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::{Account, TestApp, problem_fields as fields};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const DOCUMENTS: &str = "/api/v1/documents";
const CHUNK: usize = 256 * 1024;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Text of `len` bytes with a marker that repeats (what the chunk table must not show).
fn text_file(len: usize) -> Vec<u8> {
    let line = b"CONFIDENTIAL-DPA-CLAUSE-0042 the processor shall only act on instructions\n";
    line.iter().copied().cycle().take(len).collect()
}

async fn document(app: &TestApp, who: &Account, body: Value) -> Value {
    app.created(DOCUMENTS, who, body).await
}

struct Sent {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    bytes: Vec<u8>,
}

impl Sent {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }
}

async fn upload(
    app: &TestApp,
    who: &Account,
    id: &str,
    media: &str,
    content: Vec<u8>,
    digest: Option<&str>,
) -> Sent {
    let mut request = app
        .http
        .post(format!("{}{DOCUMENTS}/{id}/versions", app.base))
        .bearer_auth(&who.access)
        .header("Content-Type", media)
        .header("X-File-Name", "Vertrag%20%C3%BCber%20%22Hosting%22.txt");
    if let Some(digest) = digest {
        request = request.header("Repr-Digest", format!("sha-256=:{digest}:"));
    }
    let response = request.body(content).send().await.unwrap();
    Sent {
        status: response.status(),
        headers: response.headers().clone(),
        bytes: response.bytes().await.unwrap().to_vec(),
    }
}

async fn download(
    app: &TestApp,
    who: &Account,
    id: &str,
    number: i64,
    range: Option<&str>,
) -> Sent {
    let mut request = app
        .http
        .get(format!(
            "{}{DOCUMENTS}/{id}/versions/{number}/content",
            app.base
        ))
        .bearer_auth(&who.access);
    if let Some(range) = range {
        request = request.header("Range", range);
    }
    let response = request.send().await.unwrap();
    Sent {
        status: response.status(),
        headers: response.headers().clone(),
        bytes: response.bytes().await.unwrap().to_vec(),
    }
}

fn header<'a>(sent: &'a Sent, name: &str) -> &'a str {
    sent.headers
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or_default()
}

async fn versions(app: &TestApp, who: &Account, id: &str) -> Vec<Value> {
    let (status, list) = app
        .get(&format!("{DOCUMENTS}/{id}/versions"), &who.access)
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["items"].as_array().unwrap().clone()
}

/// Sends a raw HTTP/1.1 request: the head, then `body` (maybe shorter than declared),
/// then closes (a client that went away) or waits for the answer.
async fn raw(app: &TestApp, head: String, body: &[u8], hang_up: bool) -> String {
    let address = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    if hang_up {
        stream.shutdown().await.unwrap();
        drop(stream);
        return String::new();
    }
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("an answer before the body was sent")
        .unwrap();
    String::from_utf8_lossy(&answer[..read]).into_owned()
}

fn upload_head(app: &TestApp, who: &Account, id: &str, length: usize) -> String {
    let host = app.base.trim_start_matches("http://");
    format!(
        "POST {DOCUMENTS}/{id}/versions HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: text/plain\r\nX-File-Name: big.txt\r\nContent-Length: {length}\r\n\r\n",
        who.access
    )
}

async fn chunk_count(app: &TestApp) -> usize {
    app.db
        .superuser_texts("SELECT count(*)::text AS text FROM document_chunks")
        .await[0]
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_hashes_ranges_audit_and_no_plaintext_at_rest() {
    let app = TestApp::spawn().await;
    let owner = app.register("Evidence GmbH").await;
    let processor = app
        .created(
            "/api/v1/processors",
            &owner,
            json!({"name": "Hosting GmbH", "country": "DE"}),
        )
        .await;
    let doc = document(
        &app,
        &owner,
        json!({"title": "Signed DPA", "kind": "dpa", "processor_ids": [processor["id"]],
               "retention_until": "2035-12-31"}),
    )
    .await;
    let id = doc["id"].as_str().unwrap();
    assert_eq!(doc["processor_ids"], json!([processor["id"]]));

    // Three chunks and a bit, with the client's digest.
    let content = text_file(3 * CHUNK + 1234);
    let digest = STANDARD.encode(Sha256::digest(&content));
    let sent = upload(
        &app,
        &owner,
        id,
        "text/plain; charset=utf-8",
        content.clone(),
        Some(&digest),
    )
    .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.json());
    let version = sent.json();
    assert_eq!(version["number"], 1);
    assert_eq!(version["size"], content.len());
    assert_eq!(version["sha256"], sha(&content));
    assert_eq!(version["media_type"], "text/plain");
    assert_eq!(version["file_name"], "Vertrag über \"Hosting\".txt");

    // Byte-identical back, with the download headers.
    let back = download(&app, &owner, id, 1, None).await;
    assert_eq!(back.status, StatusCode::OK);
    assert_eq!(back.bytes.len(), content.len());
    assert!(
        back.bytes == content,
        "the download differs from the upload"
    );
    assert_eq!(header(&back, "content-type"), "text/plain");
    assert_eq!(header(&back, "x-content-type-options"), "nosniff");
    assert_eq!(header(&back, "accept-ranges"), "bytes");
    assert_eq!(
        header(&back, "content-disposition"),
        "attachment; filename=\"Vertrag _ber _Hosting_.txt\"; filename*=UTF-8''Vertrag%20%C3%BCber%20%22Hosting%22.txt"
    );

    // A range across the first chunk boundary, and a suffix range.
    let (first, last) = (CHUNK - 10, CHUNK + 20);
    let part = download(&app, &owner, id, 1, Some(&format!("bytes={first}-{last}"))).await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.bytes, content[first..=last]);
    assert_eq!(
        header(&part, "content-range"),
        format!("bytes {first}-{last}/{}", content.len())
    );
    let tail = download(&app, &owner, id, 1, Some("bytes=-5")).await;
    assert_eq!(tail.bytes, content[content.len() - 5..]);
    let outside = download(
        &app,
        &owner,
        id,
        1,
        Some(&format!("bytes={}-", content.len())),
    )
    .await;
    assert_eq!(outside.status, StatusCode::RANGE_NOT_SATISFIABLE);

    // An empty file is a version too.
    let empty = upload(&app, &owner, id, "text/plain", Vec::new(), None).await;
    assert_eq!(empty.status, StatusCode::CREATED, "{}", empty.json());
    assert_eq!(empty.json()["sha256"], sha(b""));
    let back = download(&app, &owner, id, 2, None).await;
    assert_eq!(back.status, StatusCode::OK);
    assert!(back.bytes.is_empty());
    assert_eq!(versions(&app, &owner, id).await.len(), 2);

    // Verify re-reads and compares.
    let (status, verified) = app
        .call(
            Method::POST,
            &format!("{DOCUMENTS}/{id}/versions/1/verify"),
            Some(&owner.access),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{verified}");
    assert_eq!(verified["matches"], true);
    assert_eq!(verified["sha256"], sha(&content));

    // The upload's audit event carries the hash, and the chain verifies.
    let (_, events) = app
        .get(
            "/api/v1/audit-events?action=document.version_uploaded",
            &owner.access,
        )
        .await;
    let hashes: Vec<&Value> = (events["items"].as_array().unwrap().iter())
        .map(|e| &e["changes"]["sha256"])
        .collect();
    assert!(hashes.contains(&&json!(sha(&content))), "{events}");
    let (_, report) = app.get("/api/v1/audit-events/verify", &owner.access).await;
    assert_eq!(report["valid"], true, "{report}");

    // The table holds ciphertext only: no line of the file, in any encoding we stored.
    let marker = hex(b"CONFIDENTIAL-DPA");
    let stored = app
        .db
        .superuser_texts("SELECT encode(sealed, 'hex') AS text FROM document_chunks")
        .await;
    assert_eq!(stored.len(), 5, "four chunks and the empty file's one");
    assert!(
        stored.iter().all(|chunk| !chunk.contains(&marker)),
        "plaintext at rest"
    );
    let keys = app
        .db
        .superuser_texts("SELECT encode(wrapped, 'hex') AS text FROM document_keys")
        .await;
    assert_eq!(keys.len(), 1, "one wrapped data key for the tenant");
}

/// `aura documents export`: every current version of the tenant's documents, byte-identical,
/// with a manifest whose hashes match; nothing of another tenant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_exports_every_current_version_with_a_manifest() {
    let app = TestApp::spawn().await;
    let owner = app.register("Export Archiv GmbH").await;
    let other = app.register("Other Archiv GmbH").await;
    let mut expected = Vec::new();
    for (title, versions) in [("Signed DPA", 2), ("Training certificate", 1)] {
        let doc = document(&app, &owner, json!({"title": title, "kind": "other"})).await;
        let id = doc["id"].as_str().unwrap().to_owned();
        for number in 1..=versions {
            let content = text_file(CHUNK + 100 * number);
            let sent = upload(&app, &owner, &id, "text/plain", content.clone(), None).await;
            assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.json());
            expected.push((id.clone(), number, content));
        }
    }
    let foreign = document(&app, &other, json!({"title": "Foreign", "kind": "other"})).await;
    let foreign_id = foreign["id"].as_str().unwrap();
    let sent = upload(&app, &other, foreign_id, "text/plain", text_file(10), None).await;
    assert_eq!(sent.status, StatusCode::CREATED);

    let out = app.dir.join("export");
    let printed = app
        .cli(&[
            "documents",
            "export",
            "--tenant",
            &owner.tenant_id,
            "--output",
            out.to_str().unwrap(),
        ])
        .await;
    assert!(printed.contains("3 files"), "{printed}");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["tenant"], owner.tenant_id.as_str());
    let files = manifest["files"].as_array().unwrap();
    assert_eq!(files.len(), expected.len(), "{manifest}");
    for (id, number, content) in &expected {
        let entry = (files.iter())
            .find(|f| f["document_id"] == id.as_str() && f["version"] == *number)
            .unwrap_or_else(|| panic!("version {number} of {id} in {manifest}"));
        assert_eq!(entry["sha256"], sha(content));
        assert_eq!(entry["size"], content.len());
        let written = std::fs::read(out.join(entry["path"].as_str().unwrap())).unwrap();
        assert!(
            written == *content,
            "version {number} of {id} written as uploaded"
        );
    }
    assert!(
        !manifest.to_string().contains(foreign_id),
        "nothing of another tenant"
    );
}

/// A rotation of `DOCUMENT_KEY`: with the old key as `DOCUMENT_KEY_PREVIOUS` an instance
/// still reads what was sealed before; `aura documents rewrap` wraps the tenant's data key
/// under the new key (the content is not re-encrypted), after which the old key can go.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_document_key_keeps_the_content_readable() {
    let (old, new) = (STANDARD.encode([1u8; 32]), STANDARD.encode([2u8; 32]));
    let app = TestApp::spawn_with(&[("DOCUMENT_KEY", &old)]).await;
    let owner = app.register("Rotation Archiv GmbH").await;
    let doc = document(&app, &owner, json!({"title": "DPA", "kind": "dpa"})).await;
    let id = doc["id"].as_str().unwrap();
    let content = text_file(CHUNK + 10);
    let sent = upload(&app, &owner, id, "text/plain", content.clone(), None).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.json());

    // The new key alone does not open the old data key: nothing is served in clear.
    let new_only = app.spawn_sibling(&[("DOCUMENT_KEY", &new)]).await;
    let refused = download(&new_only, &owner, id, 1, None).await;
    assert_ne!(refused.status, StatusCode::OK);

    // During the rotation both keys are configured: the content reads back.
    let rotating = [
        ("DOCUMENT_KEY", new.as_str()),
        ("DOCUMENT_KEY_PREVIOUS", old.as_str()),
    ];
    let during = app.spawn_sibling(&rotating).await;
    let back = download(&during, &owner, id, 1, None).await;
    assert_eq!(back.status, StatusCode::OK);
    assert!(back.bytes == content, "read back under the previous key");

    let printed = app.cli_with(&rotating, &["documents", "rewrap"]).await;
    assert!(
        printed.contains("re-wrapped 1 of"),
        "one data key rewrapped: {printed}"
    );
    let after = download(&new_only, &owner, id, 1, None).await;
    assert_eq!(
        after.status,
        StatusCode::OK,
        "the new key alone opens it now"
    );
    assert!(after.bytes == content);
}

/// Content that no longer opens (a sealed chunk changed at rest) is an error answer before
/// any byte goes out, not a 200 whose body breaks off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunk_that_does_not_open_is_an_error_not_a_cut_body() {
    let app = TestApp::spawn().await;
    let owner = app.register("Tampered Archiv GmbH").await;
    let doc = document(&app, &owner, json!({"title": "DPA", "kind": "dpa"})).await;
    let id = doc["id"].as_str().unwrap();
    let sent = upload(&app, &owner, id, "text/plain", text_file(1000), None).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.json());
    let changed = app
        .db
        .superuser_texts(&format!(
            "UPDATE document_chunks SET sealed = set_byte(sealed, 20, get_byte(sealed, 20) # 1)
              WHERE tenant_id = '{}' RETURNING 'changed'::text AS text",
            owner.tenant_id
        ))
        .await;
    assert_eq!(changed.len(), 1);
    let back = download(&app, &owner, id, 1, None).await;
    assert!(
        back.status.is_server_error() || back.status == StatusCode::CONFLICT,
        "{}",
        back.status
    );
    assert_eq!(
        header(&back, "content-type"),
        "application/problem+json",
        "an error answer, not the stored media type"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_leave_nothing_behind() {
    let app = TestApp::spawn_with(&[("MAX_UPLOAD_BYTES", "1048576")]).await;
    let owner = app.register("Careful GmbH").await;
    let doc = document(
        &app,
        &owner,
        json!({"title": "Breach evidence", "kind": "breach_evidence"}),
    )
    .await;
    let id = doc["id"].as_str().unwrap();

    // 200 MiB declared: 413 before a byte of the body is sent.
    let answer = raw(
        &app,
        upload_head(&app, &owner, id, 200 * 1024 * 1024),
        b"",
        false,
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");

    // Magic bytes that contradict the declared type; a type outside the list.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let sent = upload(&app, &owner, id, "application/pdf", png.clone(), None).await;
    assert_eq!(
        sent.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        sent.json()
    );
    assert_eq!(fields(&sent.json()), ["Content-Type"]);
    let sent = upload(
        &app,
        &owner,
        id,
        "application/x-msdownload",
        png.clone(),
        None,
    )
    .await;
    assert_eq!(sent.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&sent.json()), ["Content-Type"]);
    let sent = upload(&app, &owner, id, "image/png", png, None).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.json());

    // A digest that does not match.
    let wrong = STANDARD.encode([0u8; 32]);
    let sent = upload(
        &app,
        &owner,
        id,
        "text/plain",
        text_file(CHUNK + 5),
        Some(&wrong),
    )
    .await;
    assert_eq!(
        sent.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        sent.json()
    );
    assert_eq!(fields(&sent.json()), ["Repr-Digest"]);

    // An upload that stops halfway (two chunks of four sent, then the client leaves).
    let declared = 4 * CHUNK - 100;
    raw(
        &app,
        upload_head(&app, &owner, id, declared),
        &text_file(2 * CHUNK + 7),
        true,
    )
    .await;
    // The server notices the closed connection and discards what it stored.
    let mut left = usize::MAX;
    for _ in 0..50 {
        left = chunk_count(&app).await;
        if left == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(left, 1, "only the PNG's chunk stays");
    let kept = versions(&app, &owner, id).await;
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0]["media_type"], "image/png");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn isolation_roles_legal_hold_and_removal() {
    let app = TestApp::spawn().await;
    let owner = app.register("Holder GmbH").await;
    let other = app.register("Other GmbH").await;
    let admin = app.add_user(&owner, "admin").await;
    let member = app.add_user(&owner, "member").await;
    let viewer = app.add_user(&owner, "viewer").await;

    // A link to another tenant's record: 404 naming the field.
    let foreign = app
        .created(
            "/api/v1/processors",
            &other,
            json!({"name": "Theirs", "country": "DE"}),
        )
        .await;
    let (status, _, problem) = app
        .send(
            Method::POST,
            DOCUMENTS,
            &member,
            None,
            Some(json!({"title": "x", "kind": "dpa", "processor_ids": [foreign["id"]]})),
        )
        .await;
    // Another tenant's object is unknown here: 404 naming the field (and every one).
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    assert_eq!(problem["code"], "unknown_reference", "{problem}");
    assert_eq!(fields(&problem), ["processor_ids[0]"]);
    assert!(!problem.to_string().contains("Theirs"), "{problem}");
    let (status, _, problem) = app
        .send(
            Method::POST,
            DOCUMENTS,
            &member,
            None,
            Some(
                json!({"title": "x", "kind": "dpa", "owner_id": other.user_id,
                        "activity_ids": [foreign["id"]]}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    assert_eq!(fields(&problem), ["owner_id", "activity_ids[0]"]);
    // A field's own rule is still 422.
    let (status, _, problem) = app
        .send(
            Method::POST,
            DOCUMENTS,
            &member,
            None,
            Some(json!({"title": " ", "kind": "dpa", "processor_ids": [foreign["id"]]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(fields(&problem), ["title"]);

    let doc = document(
        &app,
        &member,
        json!({"title": "SCC module 2", "kind": "scc", "legal_hold": true}),
    )
    .await;
    let id = doc["id"].as_str().unwrap();
    let pdf = b"%PDF-1.7\n% evidence\n".to_vec();
    let sent = upload(&app, &viewer, id, "application/pdf", pdf.clone(), None).await;
    assert_eq!(sent.status, StatusCode::FORBIDDEN, "viewers do not upload");
    let sent = upload(&app, &member, id, "application/pdf", pdf.clone(), None).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.json());
    assert_eq!(
        download(&app, &viewer, id, 1, None).await.bytes,
        pdf,
        "viewers read"
    );

    // Another tenant sees nothing of it.
    let (status, _) = app.get(&format!("{DOCUMENTS}/{id}"), &other.access).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .get(&format!("{DOCUMENTS}/{id}/versions"), &other.access)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        download(&app, &other, id, 1, None).await.status,
        StatusCode::NOT_FOUND
    );
    let sent = upload(&app, &other, id, "application/pdf", pdf.clone(), None).await;
    assert_eq!(sent.status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("{DOCUMENTS}/{id}/content"),
            Some(&other.access),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, listed) = app.get(DOCUMENTS, &other.access).await;
    assert_eq!(listed["items"], json!([]));

    // Removal: members may not; under legal hold nobody may; then the admin removes the
    // content, the metadata and versions' facts stay.
    let remove = |who: &Account| {
        let path = format!("{DOCUMENTS}/{id}/content");
        let token = who.access.clone();
        let app = &app;
        async move { app.call(Method::DELETE, &path, Some(&token), None).await }
    };
    assert_eq!(remove(&member).await.0, StatusCode::FORBIDDEN);
    let (status, problem) = remove(&admin).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], "legal_hold");
    let mut lifted = doc.clone();
    for key in [
        "id",
        "tenant_id",
        "version",
        "created_at",
        "updated_at",
        "created_by",
    ] {
        lifted.as_object_mut().unwrap().remove(key);
    }
    lifted["legal_hold"] = json!(false);
    // A foreign link in the replace: 404 naming it, nothing changed.
    let mut hijack = lifted.clone();
    hijack["processor_ids"] = json!([foreign["id"]]);
    let (status, _, problem) = app
        .send(
            Method::PUT,
            &format!("{DOCUMENTS}/{id}"),
            &admin,
            doc["version"].as_i64(),
            Some(hijack),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    assert_eq!(fields(&problem), ["processor_ids[0]"]);
    let (status, _, _) = app
        .send(
            Method::PUT,
            &format!("{DOCUMENTS}/{id}"),
            &admin,
            doc["version"].as_i64(),
            Some(lifted),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, kept) = remove(&admin).await;
    assert_eq!(status, StatusCode::OK, "{kept}");
    assert_eq!(kept["title"], "SCC module 2");
    let gone = download(&app, &viewer, id, 1, None).await;
    assert_eq!(gone.status, StatusCode::CONFLICT);
    assert_eq!(gone.json()["code"], "content_removed");
    let left = versions(&app, &viewer, id).await;
    assert_eq!(left.len(), 1);
    assert!(left[0]["removed_at"].is_string(), "{left:?}");
    assert_eq!(chunk_count(&app).await, 0);
    let (_, events) = app
        .get(
            "/api/v1/audit-events?action=document.content_removed",
            &owner.access,
        )
        .await;
    assert_eq!(events["items"].as_array().unwrap().len(), 1, "{events}");
    // The event names the document by id and the removed content by hash; the title
    // (which may name a person) is not in it.
    let changes = &events["items"][0]["changes"];
    assert!(changes.get("title").is_none(), "{changes}");
    assert!(!changes.to_string().contains("SCC module 2"), "{changes}");
    assert_eq!(changes["document_id"], json!(id), "{changes}");
    assert_eq!(
        changes["versions"],
        json!([{"version": 1, "sha256": sha(&pdf)}]),
        "{changes}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_retention_review_lists_documents_past_retention_and_deletes_nothing() {
    // The data first, on an instance without a worker; then an instance whose worker runs
    // the day's review job at once.
    let app = TestApp::spawn_with(&[("WORKER_ENABLED", "false")]).await;
    let owner = app.register("Retention GmbH").await;
    let past = document(
        &app,
        &owner,
        json!({"title": "Old certificate", "kind": "training_certificate",
               "retention_until": "2020-01-01", "owner_id": owner.user_id}),
    )
    .await;
    let future = document(
        &app,
        &owner,
        json!({"title": "Current DPA", "kind": "dpa", "retention_until": "2099-01-01"}),
    )
    .await;
    for doc in [&past, &future] {
        let sent = upload(
            &app,
            &owner,
            doc["id"].as_str().unwrap(),
            "text/plain",
            text_file(10),
            None,
        )
        .await;
        assert_eq!(sent.status, StatusCode::CREATED);
    }
    let _worker = app
        .spawn_sibling(&[
            ("WORKER_ENABLED", "true"),
            ("WORKER_POLL_MS", "100"),
            ("REMINDER_SEND_TIME_UTC", "00:00"),
        ])
        .await;
    let mut reviews = Vec::new();
    for _ in 0..100 {
        let (_, tasks) = app.get("/api/v1/tasks?limit=100", &owner.access).await;
        reviews = (tasks["items"].as_array().unwrap().iter())
            .filter(|t| t["title"].as_str().unwrap_or("").contains("retention date"))
            .cloned()
            .collect();
        if !reviews.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        reviews.len(),
        1,
        "one review, of the document past retention: {reviews:?}"
    );
    assert!(
        reviews[0]["title"]
            .as_str()
            .unwrap()
            .contains("Old certificate")
    );
    assert_eq!(reviews[0]["assigned_to"], json!(owner.user_id));
    // Nothing was deleted.
    let id = past["id"].as_str().unwrap();
    assert_eq!(
        download(&app, &owner, id, 1, None).await.status,
        StatusCode::OK
    );
}

// ---------------------------------------------------------------- on the stores directly

/// The documents' use cases on a fresh database with a fixed clock, and a worker with
/// the sweep's job kind registered as the service registers it.
mod staging {
    use std::sync::Arc;

    use aura_adapter_crypto::{AesGcmContentCipher, DocumentKey, Sha256ContentHasher};
    use aura_adapter_postgres::{PgStores, testing::TestDatabase};
    use aura_audit::RequestContext;
    use aura_documents::{
        ContentPorts, DocumentError, DocumentFields, DocumentId, DocumentKind, DocumentLimits,
        DocumentService, MediaType, Upload,
        ports::{ChunkSource, ContentStore, SourceError},
    };
    use aura_jobs::{JobRegistry, Worker, WorkerPorts, WorkerSettings};
    use aura_port_contracts::{
        Stores,
        fixtures::{TenantFixture, register_tenant},
    };
    use aura_records::{NoRules, RecordUseCases};
    use aura_shared_kernel::{FixedClock, SystemScope, TenantScope};
    use time::{Duration, OffsetDateTime, macros::datetime};
    use tokio::sync::Notify;

    use super::{CHUNK, sha, text_file};

    const START: OffsetDateTime = datetime!(2027-03-05 09:00 UTC);

    pub struct World {
        pub db: TestDatabase,
        pub clock: Arc<FixedClock>,
        pub documents: DocumentService,
        pub content: Arc<dyn ContentStore>,
        pub org: TenantFixture,
        worker: Worker,
    }

    impl World {
        pub async fn new(quota_bytes: u64) -> Self {
            let db = TestDatabase::create().await;
            let clock = Arc::new(FixedClock::at(START));
            let pg: PgStores = db
                .stores(
                    Arc::new(aura_adapter_crypto::HmacChainHasher::with_test_key()),
                    clock.clone(),
                )
                .await
                .expect("stores on the test database");
            let org = register_tenant(&Stores::from_single(pg.clone(), clock.clone())).await;
            let records = RecordUseCases::new(
                pg.documents(),
                Arc::new(NoRules),
                Arc::new(pg.clone()),
                clock.clone(),
            );
            let key = DocumentKey::from_bytes(vec![7; 32]).expect("a key");
            let content = pg.document_content();
            let ports = ContentPorts {
                store: content.clone(),
                cipher: Arc::new(AesGcmContentCipher::new(&key, None)),
                hasher: Arc::new(Sha256ContentHasher),
            };
            let limits = DocumentLimits {
                max_upload_bytes: 25 * 1024 * 1024,
                quota_bytes,
            };
            let documents = DocumentService::new(records, ports, clock.clone(), limits);
            let mut registry = JobRegistry::new();
            aura_documents::staging::register(&mut registry, documents.clone())
                .expect("one handler per kind");
            let worker = Worker::new(
                WorkerPorts {
                    queue: Arc::new(pg.clone()),
                    clock: clock.clone(),
                },
                WorkerSettings {
                    worker_id: "documents".to_owned(),
                    lease: Duration::minutes(5),
                    batch: 10,
                    retry: aura_jobs::RetryPolicy {
                        max_attempts: 3,
                        base_delay: Duration::minutes(1),
                        max_delay: Duration::minutes(10),
                    },
                },
                registry,
            );
            Self {
                db,
                clock,
                documents,
                content,
                org,
                worker,
            }
        }

        pub fn scope(&self) -> &TenantScope {
            &self.org.scope
        }

        pub async fn document(&self) -> DocumentId {
            let fields = DocumentFields::titled("Signed DPA with Jane Roe", DocumentKind::Dpa);
            (self.documents)
                .create(self.scope(), fields, &RequestContext::default())
                .await
                .expect("a document")
                .id
        }

        pub async fn upload(
            &self,
            id: DocumentId,
            content: Vec<u8>,
        ) -> Result<aura_documents::VersionMeta, DocumentError> {
            let upload = Upload {
                file_name: "dpa.txt".to_owned(),
                media_type: MediaType::PlainText,
                length: content.len() as u64,
                sha256: None,
            };
            let mut source = Pieces {
                pieces: vec![content],
                stall: None,
            };
            (self.documents)
                .upload(
                    self.scope(),
                    id,
                    upload,
                    &mut source,
                    &RequestContext::default(),
                )
                .await
        }

        /// Runs worker passes until the queue is idle.
        pub async fn drain(&self) {
            let system = SystemScope::for_platform_operation("documents-test");
            while self.worker.run_once(&system).await.expect("a pass") > 0 {}
        }

        pub async fn count(&self, table: &str) -> usize {
            (self.db)
                .superuser_texts(&format!("SELECT count(*)::text AS text FROM {table}"))
                .await[0]
                .parse()
                .unwrap()
        }
    }

    /// A body that arrives piece by piece; with `stall`, it stops after its pieces, tells
    /// so, and never ends (a request cut off whose future is then dropped: no discard).
    pub struct Pieces {
        pub pieces: Vec<Vec<u8>>,
        pub stall: Option<Arc<Notify>>,
    }

    #[async_trait::async_trait(?Send)]
    impl ChunkSource for Pieces {
        async fn next(&mut self) -> Option<Result<Vec<u8>, SourceError>> {
            if !self.pieces.is_empty() {
                return Some(Ok(self.pieces.remove(0)));
            }
            match &self.stall {
                Some(stalled) => {
                    stalled.notify_one();
                    std::future::pending().await
                }
                None => None,
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dropped_upload_is_swept_once_past_the_bound_and_a_committed_one_stays() {
        let world = World::new(1 << 30).await;
        let id = world.document().await;
        let kept = text_file(CHUNK + 10);
        let committed = world.upload(id, kept.clone()).await.expect("committed");

        // Two chunks of four arrive, then the request is cut off and dropped.
        let declared = 4 * CHUNK;
        let stalled = Arc::new(Notify::new());
        let mut source = Pieces {
            pieces: vec![text_file(2 * CHUNK)],
            stall: Some(stalled.clone()),
        };
        let upload = Upload {
            file_name: "cut.txt".to_owned(),
            media_type: MediaType::PlainText,
            length: declared as u64,
            sha256: None,
        };
        let ctx = RequestContext::default();
        tokio::select! {
            result = world.documents.upload(world.scope(), id, upload, &mut source, &ctx) => {
                panic!("the stalled upload finished: {result:?}")
            }
            () = stalled.notified() => {}
        }
        // Left behind: its staging and chunks, and its reservation in the quota.
        assert_eq!(world.count("document_uploads").await, 1);
        assert_eq!(world.count("document_chunks").await, 2 + 2);
        let store = &world.content;
        let used = store.usage(world.scope()).await.unwrap();
        assert_eq!(used, committed.size + declared as u64);

        // Within the bound the day's sweep leaves it.
        world.drain().await;
        assert_eq!(world.count("document_uploads").await, 1, "not yet expired");

        // A day later (past the bound) the next day's sweep removes it, audited.
        world.clock.advance(Duration::days(1));
        world.drain().await;
        assert_eq!(world.count("document_uploads").await, 0);
        assert_eq!(
            world.count("document_chunks").await,
            2,
            "the committed version's"
        );
        assert_eq!(store.usage(world.scope()).await.unwrap(), committed.size);
        let events = world
            .db
            .superuser_texts(
                "SELECT changes::text AS text FROM audit_events \
                 WHERE action = 'document.staging_swept'",
            )
            .await;
        assert_eq!(events.len(), 1, "{events:?}");
        assert!(events[0].contains("version_id"), "{events:?}");
        assert!(!events[0].contains("cut.txt"), "no file name: {events:?}");

        // The committed version is untouched.
        let verified = (world.documents)
            .verify(world.scope(), id, Some(1), &ctx)
            .await
            .unwrap();
        assert!(verified.matches);
        assert_eq!(verified.sha256, sha(&kept));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn parallel_uploads_over_the_quota_commit_once() {
        // 300 of 1000 used: 400 each fits, both together do not.
        let world = World::new(1000).await;
        let id = world.document().await;
        world.upload(id, text_file(300)).await.expect("the first");
        for round in 0..5 {
            let (a, b) = tokio::join!(
                world.upload(id, text_file(400)),
                world.upload(id, text_file(400))
            );
            let committed = [&a, &b].iter().filter(|r| r.is_ok()).count();
            assert_eq!(committed, 1, "round {round}: {a:?} / {b:?}");
            let refused = if a.is_ok() { b } else { a };
            assert!(
                matches!(refused, Err(DocumentError::QuotaExceeded { quota: 1000 })),
                "{refused:?}"
            );
            let store = &world.content;
            assert_eq!(store.usage(world.scope()).await.unwrap(), 700);
            assert_eq!(
                world.count("document_uploads").await,
                0,
                "nothing stays staged"
            );
            // Free the 400 for the next round.
            let versions = (world.documents)
                .versions(world.scope(), id, &RequestContext::default())
                .await
                .unwrap();
            assert_eq!(versions.len(), 2 + 2 * round);
            world
                .documents
                .remove_content(world.scope(), id, &RequestContext::default())
                .await
                .unwrap();
            world
                .upload(id, text_file(300))
                .await
                .expect("the 300 again");
        }
    }
}
