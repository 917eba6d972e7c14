//! The register as documents against the real binary on PostgreSQL: `format=pdf` answers a
//! PDF whose text (pdftotext, Debian's poppler-utils: `scripts/pdf-tools.sh`) names the
//! organisation with its umlauts, every activity and every Art. 30 item, stamped with the
//! tenant's audit-chain head; `format=xlsx` a workbook; each tenant's document holds
//! nothing of another tenant whose records have the same names; bad parameters are named;
//! the API document types the files as binary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Command;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Account, TestApp, problem_fields};

const EXPORT: &str = "/api/v1/registers/export";

async fn organisation(app: &TestApp, owner: &Account, legal_name: &str) {
    let (status, _, saved) = app
        .send(
            Method::PUT,
            "/api/v1/organisation",
            owner,
            Some(0),
            Some(json!({"legal_name": legal_name, "address": "Königstraße 1, Stuttgart"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
}

async fn activity(app: &TestApp, owner: &Account, name: &str, retention: &str) {
    app.created(
        "/api/v1/processing-activities",
        owner,
        json!({
            "name": name,
            "role": "controller",
            "status": "active",
            "purposes": [{"description": "Gehaltszahlung", "lawful_basis": "contract"}],
            "data_subject_categories": ["Beschäftigte"],
            "data_categories": [{"name": "Bankverbindung", "retention": retention}],
            "recipient_categories": ["Bank"],
            "security_measures": "Verschlüsselung",
            "dpia_required": "no",
        }),
    )
    .await;
}

/// The export's status, content type and bytes.
async fn download(app: &TestApp, who: &Account, query: &str) -> (StatusCode, String, Vec<u8>) {
    let response = app
        .http
        .get(format!("{}{EXPORT}{query}", app.base))
        .bearer_auth(&who.access)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        status,
        content_type,
        response.bytes().await.unwrap().to_vec(),
    )
}

/// The PDF's text with white space folded (wrapped lines joined).
fn pdf_text(bytes: &[u8]) -> String {
    let path = std::env::temp_dir().join(format!("aura-reports-{}.pdf", uuid::Uuid::new_v4()));
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new("pdftotext")
        .args(["-enc", "UTF-8", path.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (Debian's poppler-utils) must be installed: bash scripts/pdf-tools.sh");
    std::fs::remove_file(&path).ok();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_register_as_pdf_and_xlsx_holds_only_the_tenants_own_records() {
    let app = TestApp::spawn().await;
    let a = app.register("Bäckerei A").await;
    let b = app.register("Bäckerei B").await;
    organisation(&app, &a, "Müller & Söhne Bäckerei GmbH").await;
    organisation(&app, &b, "Weiß & Groß Konditorei AG").await;
    // The same activity name in both tenants, each with its own retention.
    activity(
        &app,
        &a,
        "Lohnabrechnung für Beschäftigte",
        "10 Jahre (Mandant A)",
    )
    .await;
    activity(
        &app,
        &b,
        "Lohnabrechnung für Beschäftigte",
        "6 Jahre (Mandant B)",
    )
    .await;
    activity(&app, &a, "Videoüberwachung der Verkaufsräume", "72 Stunden").await;
    activity(
        &app,
        &b,
        "Kundenkartei Geburtstagsrabatt",
        "bis zum Widerruf",
    )
    .await;

    let (status, content_type, pdf) = download(&app, &a, "?format=pdf&lang=de").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "application/pdf");
    let text = pdf_text(&pdf);
    for expected in [
        "Müller & Söhne Bäckerei GmbH",
        "Königstraße 1, Stuttgart",
        "Verzeichnis von Verarbeitungstätigkeiten (Art. 30 Abs. 1 DSGVO)",
        "Lohnabrechnung für Beschäftigte",
        "Videoüberwachung der Verkaufsräume",
        "10 Jahre (Mandant A)",
        "Art. 30 Abs. 1 lit. a Verantwortlicher, gemeinsam Verantwortliche, Vertreter und Datenschutzbeauftragter",
        "Art. 30 Abs. 1 lit. b Zwecke der Verarbeitung",
        "Art. 30 Abs. 1 lit. c Kategorien betroffener Personen und personenbezogener Daten",
        "Art. 30 Abs. 1 lit. d Kategorien von Empfängern",
        "Art. 30 Abs. 1 lit. e Übermittlungen an Drittländer oder internationale Organisationen",
        "Art. 30 Abs. 1 lit. f Fristen für die Löschung",
        "Art. 30 Abs. 1 lit. g Technische und organisatorische Maßnahmen",
        "Seite 1 von",
    ] {
        assert!(text.contains(expected), "`{expected}` missing in:\n{text}");
    }
    for foreign in ["Weiß & Groß", "Mandant B", "Kundenkartei", "Bäckerei B"] {
        assert!(!text.contains(foreign), "tenant B's `{foreign}` in A's PDF");
    }
    // The footer's chain head is tenant A's, as the audit trail reports it.
    let (status, verified) = app.get("/api/v1/audit-events/verify", &a.access).await;
    assert_eq!(status, StatusCode::OK, "{verified}");
    let head = verified["head"].as_str().unwrap();
    assert!(text.contains(head), "chain head {head} in the footer");

    // English by default (the tenant's language setting), the processor record too.
    let (status, _, pdf) = download(&app, &b, "?format=pdf&record=processor").await;
    assert_eq!(status, StatusCode::OK);
    let text = pdf_text(&pdf);
    assert!(text.contains("Record of processing activities as processor (Art. 30(2) GDPR)"));
    assert!(text.contains("Weiß & Groß Konditorei AG"));
    assert!(!text.contains("Müller"));

    let (status, content_type, xlsx) = download(&app, &b, "?format=xlsx").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        content_type,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(xlsx.starts_with(b"PK\x03\x04"), "an XLSX is a ZIP");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_are_named_and_the_files_are_typed_in_the_api_document() {
    let app = TestApp::spawn().await;
    let owner = app.register("Parameter GmbH").await;
    for (query, field) in [
        ("?format=docx", "format"),
        ("?format=pdf&lang=fr", "lang"),
        ("?format=pdf&record=joint", "record"),
    ] {
        let (status, body) = app.get(&format!("{EXPORT}{query}"), &owner.access).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(problem_fields(&body), vec![field.to_owned()], "{query}");
    }
    // Without a token: 401, never a document.
    let (status, _) = app
        .call(Method::GET, &format!("{EXPORT}?format=pdf"), None, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, doc) = app.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let content = &doc["paths"][EXPORT]["get"]["responses"]["200"]["content"];
    for media in [
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ] {
        let schema: &Value = &content[media]["schema"];
        let schema = match schema["$ref"].as_str() {
            Some(r) => &doc["components"]["schemas"][r.rsplit('/').next().unwrap()],
            None => schema,
        };
        assert_eq!(schema["type"], "string", "{media}: {schema}");
        assert_eq!(schema["format"], "binary", "{media}: {schema}");
    }
}
