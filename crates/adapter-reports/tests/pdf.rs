//! The register as PDF, read back as a person's tools read it: pdftotext (Debian's
//! poppler-utils, `scripts/pdf-tools.sh`) finds every activity name, every Art. 30 item
//! heading, the organisation's name with its umlauts, the footer's stamp and page
//! numbers; every word lies inside the page's margins.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fixture;

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use aura_adapter_reports::PdfRenderer;
use aura_reports::{Language, ReportRenderer, Stamp, register_report};
use time::macros::datetime;

const HEAD: &str = "3f9c2a7d1b6e4f5a8c0d2e4f6a8b0c1d3e5f7a9b1c3d5e7f9a1b3c5d7e9f1a2b";

fn stamp() -> Stamp {
    Stamp {
        generated_at: datetime!(2026-12-07 08:00 UTC),
        chain_head: Some(HEAD.to_owned()),
    }
}

fn render(n: usize, language: Language) -> PathBuf {
    let report = register_report(&fixture::register(n), language, stamp());
    let bytes = PdfRenderer.render(&report).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let path = std::env::temp_dir().join(format!(
        "aura-report-{}-{n}-{language:?}.pdf",
        std::process::id()
    ));
    std::fs::write(&path, bytes).unwrap();
    path
}

fn poppler(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("{tool} (Debian's poppler-utils) must be installed: bash scripts/pdf-tools.sh ({e})")
    });
    assert!(out.status.success(), "{tool} failed: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// The document's text with white space (line breaks of wrapped lines) folded.
fn text(path: &Path) -> String {
    let raw = poppler("pdftotext", &["-enc", "UTF-8", path.to_str().unwrap(), "-"]);
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}

const EN_HEADINGS: [&str; 7] = [
    "Art. 30(1)(a) Controller, joint controllers, representative and data protection officer",
    "Art. 30(1)(b) Purposes of the processing",
    "Art. 30(1)(c) Categories of data subjects and of personal data",
    "Art. 30(1)(d) Categories of recipients",
    "Art. 30(1)(e) Transfers to third countries or international organisations",
    "Art. 30(1)(f) Time limits for erasure",
    "Art. 30(1)(g) Technical and organisational security measures",
];

#[test]
fn the_english_record_names_every_activity_every_art30_item_and_the_organisation() {
    let n = 12;
    let path = render(n, Language::En);
    let text = text(&path);
    assert!(
        text.contains(fixture::ORGANISATION),
        "organisation name with umlauts"
    );
    assert!(text.contains("Record of processing activities (Art. 30(1) GDPR)"));
    for i in 0..n {
        assert!(text.contains(&fixture::activity_name(i)), "activity {i}");
    }
    for heading in EN_HEADINGS {
        assert_eq!(
            text.matches(heading).count(),
            n,
            "each activity has its heading `{heading}`"
        );
    }
    assert!(text.contains("Annex A: Processors and data processing agreements (Art. 28)"));
    assert!(text.contains("Rechenzentrum Süd 1 AG"));
    assert!(text.contains("Annex B: Completeness gaps"));
    assert!(text.contains("data_categories[1].retention"));
    // The footer on every page: the stamp and "page n of m".
    let pages: usize = poppler("pdfinfo", &[path.to_str().unwrap()])
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(pages > n, "one section per activity, after the cover");
    assert_eq!(
        text.matches(HEAD).count(),
        pages,
        "the chain head on every page"
    );
    assert!(text.contains("Generated 2026-12-07T08:00:00Z"));
    assert!(text.contains(&format!("Page 1 of {pages}")));
    assert!(text.contains(&format!("Page {pages} of {pages}")));
    std::fs::remove_file(path).ok();
}

#[test]
fn the_german_record_says_it_in_german_with_every_umlaut_intact() {
    let path = render(3, Language::De);
    let text = text(&path);
    assert!(text.contains("Verzeichnis von Verarbeitungstätigkeiten (Art. 30 Abs. 1 DSGVO)"));
    assert!(text.contains(fixture::ORGANISATION));
    assert!(text.contains("Jürgen Weiß"));
    assert!(text.contains("Königstraße 12, 70173 Stuttgart"));
    for heading in [
        "Art. 30 Abs. 1 lit. b Zwecke der Verarbeitung",
        "Art. 30 Abs. 1 lit. e Übermittlungen an Drittländer oder internationale Organisationen",
        "Art. 30 Abs. 1 lit. f Fristen für die Löschung",
        "Art. 30 Abs. 1 lit. g Technische und organisatorische Maßnahmen",
    ] {
        assert_eq!(text.matches(heading).count(), 3, "`{heading}`");
    }
    assert!(text.contains("Seite 1 von"));
    assert!(text.contains("Kopf der Prüfkette"));
    std::fs::remove_file(path).ok();
}

#[test]
fn no_word_runs_past_the_margins() {
    let path = render(6, Language::De);
    let html = poppler("pdftotext", &["-bbox", path.to_str().unwrap(), "-"]);
    let attr = |tag: &str, name: &str| -> f32 {
        let start = tag.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        tag[start..].split('"').next().unwrap().parse().unwrap()
    };
    let mut words = 0;
    for tag in html.split("<word ").skip(1) {
        words += 1;
        let (x_min, x_max, y_max) = (attr(tag, "xMin"), attr(tag, "xMax"), attr(tag, "yMax"));
        assert!(x_min >= 49.0, "a word starts left of the margin: {tag}");
        assert!(
            x_max <= 595.28 - 49.0,
            "a word runs past the right margin: {tag}"
        );
        assert!(
            y_max <= 841.89 - 40.0,
            "a word runs into the bottom edge: {tag}"
        );
    }
    assert!(words > 500, "only {words} words read");
    std::fs::remove_file(path).ok();
}
