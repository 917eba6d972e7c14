//! The register as documents against the real binary on PostgreSQL: `format=pdf` answers a
//! PDF whose text (pdftotext, Debian's poppler-utils: `scripts/pdf-tools.sh`) names the
//! organisation with its umlauts, every activity and every Art. 30 item, stamped with the
//! tenant's audit-chain head; `format=xlsx` a workbook; each tenant's document holds
//! nothing of another tenant whose records have the same names; bad parameters are named;
//! the API document types the files as binary. One record as PDF: a DPIA, a breach's
//! Art. 33(3) notification, a request's answer letter and a policy version, each naming
//! its record's key fields with umlauts intact, with English or German headings and the
//! coded values as words; another tenant's record is 404. With `REPORTS_PDF_DIR` set, the
//! per-record PDFs are kept there (to look at them: `pdftoppm -png`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Command;

use calamine::{Data, Reader, Xlsx};
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
    fetch(app, who, &format!("{EXPORT}{query}")).await
}

/// A file's status, content type and bytes.
async fn fetch(app: &TestApp, who: &Account, path: &str) -> (StatusCode, String, Vec<u8>) {
    let response = app
        .http
        .get(format!("{}{path}", app.base))
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
    // `lang` tells clients and the fuzzers the two values the server accepts.
    for path in [
        EXPORT,
        "/api/v1/dpias/{id}/pdf",
        "/api/v1/breaches/{id}/pdf",
        "/api/v1/data-subject-requests/{id}/pdf",
        "/api/v1/policies/{id}/versions/{number}/pdf",
    ] {
        let params = doc["paths"][path]["get"]["parameters"].as_array();
        let lang = (params.into_iter().flatten())
            .find(|p| p["name"] == "lang")
            .unwrap_or_else(|| panic!("{path}: no lang"));
        assert_eq!(lang["schema"]["pattern"], "^(en|de)$", "{path}: {lang}");
    }
}

/// The text of the PDF at `path` (200, application/pdf expected); kept in
/// `REPORTS_PDF_DIR` as `name.pdf` when that is set.
async fn record_pdf(app: &TestApp, who: &Account, path: &str, name: &str) -> String {
    let (status, content_type, pdf) = fetch(app, who, path).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{path}: {}",
        String::from_utf8_lossy(&pdf)
    );
    assert_eq!(content_type, "application/pdf", "{path}");
    if let Ok(dir) = std::env::var("REPORTS_PDF_DIR") {
        std::fs::write(std::path::Path::new(&dir).join(format!("{name}.pdf")), &pdf).unwrap();
    }
    pdf_text(&pdf)
}

fn contains_all(text: &str, expected: &[&str], what: &str) {
    for e in expected {
        assert!(text.contains(e), "{what}: `{e}` missing in:\n{text}");
    }
}

/// The day of a date cell (an Excel serial: days since 1899-12-30).
fn day(cell: &Data) -> String {
    let Data::DateTime(serial) = cell else {
        panic!("a date cell, not {cell:?}")
    };
    let epoch = time::macros::date!(1899 - 12 - 30);
    (epoch + time::Duration::days(serial.as_f64().floor() as i64)).to_string()
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_record_as_pdf_in_english_and_german_and_only_for_its_tenant() {
    let app = TestApp::spawn().await;
    let a = app.register("Bäckerei Müller").await;
    let b = app.register("Konditorei Weiß").await;
    organisation(&app, &a, "Müller & Söhne Bäckerei GmbH").await;
    activity(&app, &a, "Videoüberwachung der Verkaufsräume", "72 Stunden").await;
    let (_, list) = app.get("/api/v1/processing-activities", &a.access).await;
    let activity_id = list["items"][0]["id"].as_str().unwrap().to_owned();

    // A DPIA with one risk before and after the measures, and the DPO's advice.
    let necessity: Vec<Value> = [
        "lawful_basis",
        "minimisation",
        "retention",
        "information",
        "rights",
        "processors_and_transfers",
    ]
    .iter()
    .map(|t| json!({"topic": t, "assessment": "Geprüft: nur der Kassenbereich"}))
    .collect();
    let dpia = app
        .created(
            "/api/v1/dpias",
            &a,
            json!({
                "title": "Kameras im Kassenbereich",
                "activity_ids": [activity_id],
                "description": "Zwölf Kameras zeichnen die Verkaufsräume während der Öffnungszeiten auf.",
                "necessity": necessity,
                "risks": [{"source": "Externer Angreifer", "event": "illegitimate_access",
                           "impact": "Aufnahmen von Kundinnen veröffentlicht", "likelihood": "significant",
                           "severity": "maximum", "residual_likelihood": "limited",
                           "residual_severity": "limited"}],
                "measures": [{"title": "Kassen schwärzen", "kind": "technical", "status": "planned",
                              "due_date": "2030-06-30", "risks": [0]}],
                "dpo_advice": {"advice": "Mit Schwärzung fortfahren", "given_on": "2026-01-05", "followed": true},
                "subject_views_not_sought": "Der Betriebsrat wurde angehört",
            }),
        )
        .await;
    let submitted = app.done("/api/v1/dpias", &a, &dpia, "submit", None).await;
    app.done("/api/v1/dpias", &a, &submitted, "approve", None)
        .await;
    let dpia_path = format!("/api/v1/dpias/{}/pdf", dpia["id"].as_str().unwrap());
    let text = record_pdf(&app, &a, &format!("{dpia_path}?lang=de"), "dpia-de").await;
    contains_all(
        &text,
        &[
            "Datenschutz-Folgenabschätzung (Art. 35 DSGVO)",
            "Kameras im Kassenbereich",
            "Videoüberwachung der Verkaufsräume",
            "Art. 35 Abs. 7 lit. a Systematische Beschreibung",
            "Zwölf Kameras zeichnen die Verkaufsräume",
            "Art. 35 Abs. 7 lit. b Notwendigkeit und Verhältnismäßigkeit",
            "Datenminimierung (Art. 5 Abs. 1 lit. c)",
            "Art. 35 Abs. 7 lit. c Risiken",
            "Externer Angreifer",
            "unrechtmäßiger Zugriff",
            // A table cell's lines may interleave with its neighbours' in the text.
            "erheblich / maximal:",
            "Stufe hoch",
            "begrenzt / begrenzt:",
            "Stufe mittel",
            "Art. 35 Abs. 7 lit. d",
            "Kassen schwärzen",
            "Mit Schwärzung fortfahren",
            "Der Betriebsrat wurde angehört",
            "Freigabe",
            "genehmigt",
            "Seite 1 von",
        ],
        "DPIA (de)",
    );
    assert!(!text.contains("illegitimate_access"), "a code, not words");
    let text = record_pdf(&app, &a, &format!("{dpia_path}?lang=en"), "dpia-en").await;
    contains_all(
        &text,
        &[
            "Data protection impact assessment (Art. 35 GDPR)",
            "Art. 35(7)(b) Necessity and proportionality",
            "illegitimate access",
            "significant /",
            "level high",
            "level medium",
            "Page 1 of",
        ],
        "DPIA (en)",
    );

    // A breach 100 hours after awareness, not notified: the delay needs its reasons.
    let aware = time::OffsetDateTime::now_utc() - time::Duration::hours(100);
    let breach = app
        .created(
            "/api/v1/breaches",
            &a,
            json!({
                "title": "Laptop mit Kundenliste gestohlen",
                "description": "Ein unverschlüsselter Laptop wurde aus der Filiale Königstraße gestohlen.",
                "became_aware_at": rfc3339(aware),
                "kinds": ["confidentiality"],
                "data_subject_categories": ["Kundinnen und Kunden"],
                "approximate_subjects": 1234,
                "data_categories": ["Kontaktdaten"],
                "approximate_records": 5678,
                "consequences": "Phishing gegen Kundinnen und Kunden",
                "measures": "Gerät aus der Ferne gelöscht",
                "contact_point": "Jörg Schäfer, datenschutz@example.org",
            }),
        )
        .await;
    let breach_path = format!("/api/v1/breaches/{}/pdf", breach["id"].as_str().unwrap());
    let text = record_pdf(&app, &a, &format!("{breach_path}?lang=en"), "breach-en").await;
    contains_all(
        &text,
        &[
            "Notification of a personal data breach to the supervisory authority (Art. 33 GDPR)",
            breach["reference"].as_str().unwrap(),
            "Laptop mit Kundenliste gestohlen",
            "Müller & Söhne Bäckerei GmbH",
            "Art. 33(3)(a) Nature of the breach, categories and approximate number of data subjects and of personal data records concerned",
            "Filiale Königstraße",
            "confidentiality breach",
            "Kundinnen und Kunden",
            "1234",
            "5678",
            "Art. 33(3)(b) Name and contact details of the data protection officer or other contact point",
            "Jörg Schäfer, datenschutz@example.org",
            "Art. 33(3)(c) Likely consequences of the breach",
            "Phishing gegen Kundinnen und Kunden",
            "Art. 33(3)(d) Measures taken or proposed",
            "Gerät aus der Ferne gelöscht",
            "Deadline for the notification",
            "hours late",
            "Art. 33(1) Reasons for the delay",
        ],
        "breach (en)",
    );
    let text = record_pdf(&app, &a, &format!("{breach_path}?lang=de"), "breach-de").await;
    contains_all(
        &text,
        &[
            "Meldung einer Verletzung des Schutzes personenbezogener Daten an die Aufsichtsbehörde (Art. 33 DSGVO)",
            "Art. 33 Abs. 3 lit. a Art der Verletzung",
            "Art. 33 Abs. 3 lit. b Name und Kontaktdaten des Datenschutzbeauftragten",
            "Art. 33 Abs. 3 lit. c Wahrscheinliche Folgen der Verletzung",
            "Art. 33 Abs. 3 lit. d Ergriffene oder vorgeschlagene Maßnahmen",
            "Verletzung der Vertraulichkeit",
            "Art. 33 Abs. 1 Gründe für die Verzögerung",
        ],
        "breach (de)",
    );

    // A request for access and erasure, answered.
    let received = time::OffsetDateTime::now_utc() - time::Duration::days(3);
    let request = app
        .created(
            "/api/v1/data-subject-requests",
            &a,
            json!({
                "received_at": rfc3339(received),
                "channel": "letter",
                "subject": {"name": "Jürgen Weiß", "email": "juergen@example.org",
                            "contact": "Hauptstraße 5, 70173 Stuttgart", "category": "customer"},
                "rights": ["access", "erasure"],
            }),
        )
        .await;
    let requests = "/api/v1/data-subject-requests";
    let (status, verified) = app
        .act(
            requests,
            &a,
            &request,
            "verify-identity",
            Some(json!({"result": "confirmed", "method": "known_account"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{verified}");
    let answered = app
        .done(
            requests,
            &a,
            &verified,
            "answer",
            Some(json!({"outcome": "fulfilled"})),
        )
        .await;
    let request_path = format!("{requests}/{}/pdf", request["id"].as_str().unwrap());
    let text = record_pdf(&app, &a, &format!("{request_path}?lang=de"), "request-de").await;
    let today = time::OffsetDateTime::now_utc().date().to_string();
    contains_all(
        &text,
        &[
            "Antwort auf Ihren Antrag nach der DSGVO",
            "Müller & Söhne Bäckerei GmbH",
            "Jürgen Weiß",
            "Hauptstraße 5, 70173 Stuttgart",
            "Guten Tag Jürgen Weiß,",
            &format!("Ihr Antrag {} vom", answered["reference"].as_str().unwrap()),
            answered["reference"].as_str().unwrap(),
            &received.date().to_string(),
            &today,
            "Auskunft (Art. 15)",
            "Löschung (Art. 17)",
            "Wir haben Ihrem Antrag entsprochen.",
            "Rechtsgrundlage dieser Antwort",
            "Art. 12 Abs. 3 DSGVO",
        ],
        "request (de)",
    );
    let text = record_pdf(&app, &a, &format!("{request_path}?lang=en"), "request-en").await;
    contains_all(
        &text,
        &[
            "Dear Jürgen Weiß,",
            "access (Art. 15)",
            "Answered on",
            "Art. 12(3) GDPR",
        ],
        "request (en)",
    );

    // A policy version, published.
    let policy = app
        .created(
            "/api/v1/policies",
            &a,
            json!({"title": "Datenschutzrichtlinie für Beschäftigte", "kind": "data_protection_policy"}),
        )
        .await;
    let base = format!("/api/v1/policies/{}", policy["id"].as_str().unwrap());
    app.created(
        &format!("{base}/versions"),
        &a,
        json!({"content": "# Zweck\n\nDiese Richtlinie gilt für alle Beschäftigten der Bäckerei.\n\n## Löschfristen\n\nPersonalakten: zehn Jahre.",
               "change_note": "Erste Fassung"}),
    )
    .await;
    for (action, version) in [("submit", 1), ("publish", 2)] {
        let path = format!("{base}/versions/1/{action}");
        let (status, _, body) = app.send(Method::POST, &path, &a, Some(version), None).await;
        assert_eq!(status, StatusCode::OK, "{action}: {body}");
    }
    let policy_path = format!("{base}/versions/1/pdf");
    let text = record_pdf(&app, &a, &format!("{policy_path}?lang=de"), "policy-de").await;
    contains_all(
        &text,
        &[
            "Datenschutzrichtlinie für Beschäftigte",
            "Gültig ab",
            &today,
            "veröffentlicht",
            "Version 1",
            "Erste Fassung",
            "Zweck",
            "Diese Richtlinie gilt für alle Beschäftigten der Bäckerei.",
            "Löschfristen",
        ],
        "policy (de)",
    );
    assert!(
        !text.contains("# Zweck"),
        "Markdown headings become headings"
    );
    let text = record_pdf(&app, &a, &policy_path, "policy-en").await;
    contains_all(
        &text,
        &["Effective from", "published", "data protection policy"],
        "policy (en)",
    );

    // The workbook holds the other registers too, typed and in the tenant's words.
    app.created(
        "/api/v1/tasks",
        &a,
        json!({"title": "Schulung für die Filiale Königstraße", "category": "training", "due_date": "2030-03-31"}),
    )
    .await;
    let (status, _, xlsx) = download(&app, &a, "?format=xlsx&lang=de").await;
    assert_eq!(status, StatusCode::OK);
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(xlsx)).unwrap();
    assert_eq!(
        book.sheet_names(),
        [
            "Tätigkeiten",
            "Auftragsverarbeiter",
            "Datenpannen",
            "Betroffenenanfragen",
            "DSFA",
            "Aufgaben"
        ]
    );
    let row = |book: &mut Xlsx<_>, sheet: &str| -> Vec<(String, Data)> {
        let range = book.worksheet_range(sheet).unwrap();
        let rows: Vec<Vec<Data>> = range.rows().map(<[Data]>::to_vec).collect();
        assert_eq!(rows.len(), 2, "{sheet}: the header and one record");
        // The range is as wide as its widest row: a row longer than the header shows as
        // an empty header cell (`zip` below would hide it).
        assert!(
            rows[0].iter().all(|h| !h.to_string().is_empty()),
            "{sheet}: a cell beyond the header"
        );
        let header = rows[0].iter().map(|h| h.to_string());
        header.zip(rows[1].iter().cloned()).collect()
    };
    let cell = |row: &[(String, Data)], column: &str| -> Data {
        row.iter()
            .find(|(c, _)| c == column)
            .unwrap_or_else(|| panic!("{column}"))
            .1
            .clone()
    };
    let text_of = |d: Data| d.to_string();
    let breaches = row(&mut book, "Datenpannen");
    assert_eq!(
        text_of(cell(&breaches, "reference")),
        breach["reference"].as_str().unwrap()
    );
    assert_eq!(
        text_of(cell(&breaches, "kinds")),
        "Verletzung der Vertraulichkeit"
    );
    assert_eq!(text_of(cell(&breaches, "status")), "offen");
    assert_eq!(cell(&breaches, "approximate_subjects"), Data::Float(1234.0));
    for typed in ["became_aware_at", "authority_deadline"] {
        assert!(
            matches!(cell(&breaches, typed), Data::DateTime(_)),
            "{typed}"
        );
    }
    let requests_sheet = row(&mut book, "Betroffenenanfragen");
    assert_eq!(
        text_of(cell(&requests_sheet, "rights")),
        "Auskunft (Art. 15), Löschung (Art. 17)"
    );
    assert_eq!(text_of(cell(&requests_sheet, "outcome")), "erfüllt");
    for typed in ["received_at", "first_due_on", "answered_on"] {
        assert!(
            matches!(cell(&requests_sheet, typed), Data::DateTime(_)),
            "{typed}"
        );
    }
    assert_eq!(
        day(&cell(&requests_sheet, "answered_on")),
        today,
        "a date cell of the answer's day"
    );
    let dpias = row(&mut book, "DSFA");
    assert_eq!(text_of(cell(&dpias, "title")), "Kameras im Kassenbereich");
    assert_eq!(
        text_of(cell(&dpias, "activities")),
        "Videoüberwachung der Verkaufsräume"
    );
    assert_eq!(text_of(cell(&dpias, "residual_risk")), "mittel");
    let tasks = row(&mut book, "Aufgaben");
    assert_eq!(
        text_of(cell(&tasks, "title")),
        "Schulung für die Filiale Königstraße"
    );
    assert_eq!(text_of(cell(&tasks, "category")), "Schulung");
    assert_eq!(day(&cell(&tasks, "due_date")), "2030-03-31");
    // Tenant B's workbook has the sheets, and nothing of A's.
    let (_, _, xlsx) = download(&app, &b, "?format=xlsx").await;
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(xlsx)).unwrap();
    for sheet in ["Breaches", "Data-subject requests", "DPIAs", "Tasks"] {
        assert_eq!(
            book.worksheet_range(sheet).unwrap().rows().count(),
            1,
            "{sheet}"
        );
    }

    // Another tenant's records: 404, never a document; a bad id or language is named.
    for path in [&dpia_path, &breach_path, &request_path, &policy_path] {
        let (status, body) = app.get(path, &b.access).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }
    let (status, body) = app.get(&format!("{dpia_path}?lang=fr"), &a.access).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(problem_fields(&body), ["lang"]);
    let (status, body) = app.get(&format!("{base}/versions/0/pdf"), &a.access).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(problem_fields(&body), ["number"]);
    let (status, _) = app.get(&format!("{base}/versions/9/pdf"), &a.access).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Typed in the API document as binary PDFs.
    let (_, doc) = app.call(Method::GET, "/openapi.json", None, None).await;
    for path in [
        "/api/v1/dpias/{id}/pdf",
        "/api/v1/breaches/{id}/pdf",
        "/api/v1/data-subject-requests/{id}/pdf",
        "/api/v1/policies/{id}/versions/{number}/pdf",
    ] {
        let schema =
            &doc["paths"][path]["get"]["responses"]["200"]["content"]["application/pdf"]["schema"];
        let schema = match schema["$ref"].as_str() {
            Some(r) => &doc["components"]["schemas"][r.rsplit('/').next().unwrap()],
            None => schema,
        };
        assert_eq!(schema["format"], "binary", "{path}: {schema}");
    }
}
