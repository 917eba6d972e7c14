//! The reports' words in English and German: one table per language, so a label cannot
//! exist in one language and be missing in the other.

use time::{OffsetDateTime, format_description::well_known::Rfc3339};

/// A report's language: the tenant's `language` setting, English unless it is German.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    En,
    De,
}

impl Language {
    /// From a setting or a query parameter (`de`, `de-AT`, … → German; else English).
    pub fn from_tag(tag: &str) -> Self {
        if tag.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("de")) {
            Self::De
        } else {
            Self::En
        }
    }

    /// The tag [`Language::from_tag`] reads back (`en`, `de`).
    pub const fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::De => "de",
        }
    }

    pub(crate) fn words(self) -> &'static Words {
        self.pick(&EN, &DE)
    }

    /// The one of a report's word tables (or texts) in this language: the only place
    /// that lists the languages.
    pub(crate) fn pick<T: ?Sized>(self, en: &'static T, de: &'static T) -> &'static T {
        match self {
            Self::En => en,
            Self::De => de,
        }
    }
}

/// An instant as the reports print it: RFC 3339 in UTC.
pub(crate) fn instant(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(at)
        .format(&Rfc3339)
        .unwrap_or_default()
}

pub(crate) struct Words {
    /// The language these words are in (for the coded values' words, `values.rs`).
    pub lang: Language,
    pub controller_title: &'static str,
    pub processor_title: &'static str,
    pub footer: &'static str,
    pub chain_head: &'static str,
    pub no_chain_head: &'static str,
    pub page: &'static str,
    pub organisation: &'static str,
    pub legal_name: &'static str,
    pub address: &'static str,
    pub country: &'static str,
    pub contact: &'static str,
    pub controller: &'static str,
    pub dpo: &'static str,
    pub no_dpo: &'static str,
    pub representative: &'static str,
    pub joint_controllers: &'static str,
    pub no_profile: &'static str,
    pub summary: &'static str,
    pub activities: &'static str,
    pub complete: &'static str,
    pub incomplete: &'static str,
    pub generated_at: &'static str,
    /// Art. 30(1)(a)–(g).
    pub art30_1: [&'static str; 7],
    /// Art. 30(2)(a)–(d).
    pub art30_2: [&'static str; 4],
    pub description: &'static str,
    pub status: &'static str,
    pub role: &'static str,
    pub processors_used: &'static str,
    pub recipients: &'static str,
    pub data_subjects: &'static str,
    pub data_categories: &'static str,
    pub lawful_basis: &'static str,
    pub none: &'static str,
    pub not_stated: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub annex_processors: &'static str,
    pub annex_gaps: &'static str,
    pub no_gaps: &'static str,
    pub no_processors: &'static str,
    pub name: &'static str,
    pub dpa_status: &'static str,
    pub dpa_signed_on: &'static str,
    pub clauses_missing: &'static str,
    pub all_clauses: &'static str,
    pub parent: &'static str,
    pub activity: &'static str,
    pub article: &'static str,
    pub field: &'static str,
    pub automated_decisions: &'static str,
    pub dpia: &'static str,
    pub processors_sheet: &'static str,
    pub activities_sheet: &'static str,
    pub breaches_sheet: &'static str,
    pub requests_sheet: &'static str,
    pub dpias_sheet: &'static str,
    pub tasks_sheet: &'static str,
}

static EN: Words = Words {
    lang: Language::En,
    controller_title: "Record of processing activities (Art. 30(1) GDPR)",
    processor_title: "Record of processing activities as processor (Art. 30(2) GDPR)",
    footer: "Generated {generated_at}",
    chain_head: "audit-chain head {head}",
    no_chain_head: "audit chain empty",
    page: "Page {page} of {pages}",
    organisation: "Organisation",
    legal_name: "Name",
    address: "Address",
    country: "Country",
    contact: "Contact",
    controller: "Controller",
    dpo: "Data protection officer",
    no_dpo: "none designated",
    representative: "Representative in the Union (Art. 27)",
    joint_controllers: "Joint controllers (Art. 26)",
    no_profile: "No organisation profile is recorded.",
    summary: "Completeness",
    activities: "Activities",
    complete: "Complete",
    incomplete: "Incomplete",
    generated_at: "Generated",
    art30_1: [
        "Art. 30(1)(a) Controller, joint controllers, representative and data protection officer",
        "Art. 30(1)(b) Purposes of the processing",
        "Art. 30(1)(c) Categories of data subjects and of personal data",
        "Art. 30(1)(d) Categories of recipients",
        "Art. 30(1)(e) Transfers to third countries or international organisations",
        "Art. 30(1)(f) Time limits for erasure",
        "Art. 30(1)(g) Technical and organisational security measures",
    ],
    art30_2: [
        "Art. 30(2)(a) Processor, controller, representative and data protection officer",
        "Art. 30(2)(b) Categories of processing carried out on behalf of the controller",
        "Art. 30(2)(c) Transfers to third countries or international organisations",
        "Art. 30(2)(d) Technical and organisational security measures",
    ],
    description: "Description",
    status: "Status",
    role: "Role",
    processors_used: "Processors",
    recipients: "Recipients",
    data_subjects: "Data subjects",
    data_categories: "Personal data",
    lawful_basis: "lawful basis",
    none: "none",
    not_stated: "not stated",
    yes: "yes",
    no: "no",
    annex_processors: "Annex A: Processors and data processing agreements (Art. 28)",
    annex_gaps: "Annex B: Completeness gaps",
    no_gaps: "Every activity names every Art. 30 item.",
    no_processors: "No processor is linked to these activities.",
    name: "Name",
    dpa_status: "Agreement",
    dpa_signed_on: "Signed on",
    clauses_missing: "Art. 28(3) clauses missing",
    all_clauses: "all covered",
    parent: "Engaged by",
    activity: "Activity",
    article: "Article",
    field: "Field",
    automated_decisions: "Automated decision-making (Art. 22)",
    dpia: "DPIA required (Art. 35)",
    processors_sheet: "Processors",
    activities_sheet: "Activities",
    breaches_sheet: "Breaches",
    requests_sheet: "Data-subject requests",
    dpias_sheet: "DPIAs",
    tasks_sheet: "Tasks",
};

static DE: Words = Words {
    lang: Language::De,
    controller_title: "Verzeichnis von Verarbeitungstätigkeiten (Art. 30 Abs. 1 DSGVO)",
    processor_title: "Verzeichnis der Verarbeitungstätigkeiten als Auftragsverarbeiter (Art. 30 Abs. 2 DSGVO)",
    footer: "Erstellt {generated_at}",
    chain_head: "Kopf der Prüfkette {head}",
    no_chain_head: "Prüfkette leer",
    page: "Seite {page} von {pages}",
    organisation: "Organisation",
    legal_name: "Name",
    address: "Anschrift",
    country: "Land",
    contact: "Kontakt",
    controller: "Verantwortlicher",
    dpo: "Datenschutzbeauftragte(r)",
    no_dpo: "nicht benannt",
    representative: "Vertreter in der Union (Art. 27)",
    joint_controllers: "Gemeinsam Verantwortliche (Art. 26)",
    no_profile: "Es ist kein Organisationsprofil erfasst.",
    summary: "Vollständigkeit",
    activities: "Tätigkeiten",
    complete: "Vollständig",
    incomplete: "Unvollständig",
    generated_at: "Erstellt",
    art30_1: [
        "Art. 30 Abs. 1 lit. a Verantwortlicher, gemeinsam Verantwortliche, Vertreter und Datenschutzbeauftragter",
        "Art. 30 Abs. 1 lit. b Zwecke der Verarbeitung",
        "Art. 30 Abs. 1 lit. c Kategorien betroffener Personen und personenbezogener Daten",
        "Art. 30 Abs. 1 lit. d Kategorien von Empfängern",
        "Art. 30 Abs. 1 lit. e Übermittlungen an Drittländer oder internationale Organisationen",
        "Art. 30 Abs. 1 lit. f Fristen für die Löschung",
        "Art. 30 Abs. 1 lit. g Technische und organisatorische Maßnahmen",
    ],
    art30_2: [
        "Art. 30 Abs. 2 lit. a Auftragsverarbeiter, Verantwortlicher, Vertreter und Datenschutzbeauftragter",
        "Art. 30 Abs. 2 lit. b Kategorien von Verarbeitungen im Auftrag des Verantwortlichen",
        "Art. 30 Abs. 2 lit. c Übermittlungen an Drittländer oder internationale Organisationen",
        "Art. 30 Abs. 2 lit. d Technische und organisatorische Maßnahmen",
    ],
    description: "Beschreibung",
    status: "Status",
    role: "Rolle",
    processors_used: "Auftragsverarbeiter",
    recipients: "Empfänger",
    data_subjects: "Betroffene Personen",
    data_categories: "Personenbezogene Daten",
    lawful_basis: "Rechtsgrundlage",
    none: "keine",
    not_stated: "nicht angegeben",
    yes: "ja",
    no: "nein",
    annex_processors: "Anhang A: Auftragsverarbeiter und Verträge (Art. 28)",
    annex_gaps: "Anhang B: Fehlende Angaben",
    no_gaps: "Jede Tätigkeit enthält alle Angaben nach Art. 30.",
    no_processors: "Mit diesen Tätigkeiten ist kein Auftragsverarbeiter verknüpft.",
    name: "Name",
    dpa_status: "Vertrag",
    dpa_signed_on: "Unterzeichnet am",
    clauses_missing: "Fehlende Klauseln nach Art. 28 Abs. 3",
    all_clauses: "alle enthalten",
    parent: "Beauftragt von",
    activity: "Tätigkeit",
    article: "Artikel",
    field: "Feld",
    automated_decisions: "Automatisierte Entscheidungen (Art. 22)",
    dpia: "DSFA erforderlich (Art. 35)",
    processors_sheet: "Auftragsverarbeiter",
    activities_sheet: "Tätigkeiten",
    breaches_sheet: "Datenpannen",
    requests_sheet: "Betroffenenanfragen",
    dpias_sheet: "DSFA",
    tasks_sheet: "Aufgaben",
};

#[cfg(test)]
mod tests {
    #[test]
    fn each_language_picks_its_own_table() {
        use super::Language;
        assert_eq!(Language::En.pick("en", "de"), "en");
        assert_eq!(Language::De.pick("en", "de"), "de");
        assert_eq!(Language::De.words().yes, super::DE.yes);
    }

    use super::*;

    #[test]
    fn german_tags_choose_german_and_everything_else_english() {
        assert_eq!(Language::from_tag("de"), Language::De);
        assert_eq!(Language::from_tag("DE-at"), Language::De);
        assert_eq!(Language::from_tag("en"), Language::En);
        assert_eq!(Language::from_tag("fr"), Language::En);
        assert_eq!(Language::from_tag(""), Language::En);
    }
}
