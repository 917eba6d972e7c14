//! The registers' coded values (lawful bases, statuses, risk levels, request kinds…) as
//! the reports show them: words in the report's language, never the API's snake_case
//! codes. One exhaustive `match` per enum, so a value added to a register without its
//! words does not compile.

use aura_breaches::{
    BreachGap, BreachKind, BreachStatus, ContactSource, NoCommunicationGround,
    RiskLevel as BreachRisk,
    export::{Art34Outcome, AuthorityDecision, Timeliness as BreachTimeliness},
};
use aura_dpias::{
    DpiaGap, DpiaStatus, MeasureStatus, MeasureType, NecessityTopic, RiskEvent,
    RiskLevel as DpiaRisk, Scale,
};
use aura_gdpr_registers::{
    ActivityRole, ActivityStatus, Art9Condition, DpaStatus, DpiaRequirement, LawfulBasis,
    PolicyKind, PolicyStatus, TransferMechanism, VersionStatus,
};
use aura_requests::{
    export::Timeliness as RequestTimeliness,
    request::{
        Channel, Outcome, RefusalGround, RequestStatus, Right, SubjectCategory, VerificationMethod,
    },
};
use aura_tasks::{Category as TaskCategory, Recurrence, TaskStatus};

use crate::Language;

/// A coded value's words in a report's language.
pub trait Label: Copy {
    fn label(self, language: Language) -> &'static str;
}

macro_rules! labels {
    ($($ty:ident { $($variant:ident => $en:literal, $de:literal;)+ })+) => {$(
        impl Label for $ty {
            fn label(self, language: Language) -> &'static str {
                match self {
                    $($ty::$variant => match language {
                        Language::En => $en,
                        Language::De => $de,
                    }),+
                }
            }
        }
    )+};
}

labels! {
    LawfulBasis {
        Consent => "consent (Art. 6(1)(a))", "Einwilligung (Art. 6 Abs. 1 lit. a)";
        Contract => "contract (Art. 6(1)(b))", "Vertrag (Art. 6 Abs. 1 lit. b)";
        LegalObligation => "legal obligation (Art. 6(1)(c))", "rechtliche Verpflichtung (Art. 6 Abs. 1 lit. c)";
        VitalInterests => "vital interests (Art. 6(1)(d))", "lebenswichtige Interessen (Art. 6 Abs. 1 lit. d)";
        PublicTask => "public task (Art. 6(1)(e))", "öffentliche Aufgabe (Art. 6 Abs. 1 lit. e)";
        LegitimateInterests => "legitimate interests (Art. 6(1)(f))", "berechtigte Interessen (Art. 6 Abs. 1 lit. f)";
    }
    Art9Condition {
        ExplicitConsent => "explicit consent (Art. 9(2)(a))", "ausdrückliche Einwilligung (Art. 9 Abs. 2 lit. a)";
        EmploymentSocialSecurity => "employment and social security (Art. 9(2)(b))", "Arbeitsrecht und soziale Sicherheit (Art. 9 Abs. 2 lit. b)";
        VitalInterests => "vital interests (Art. 9(2)(c))", "lebenswichtige Interessen (Art. 9 Abs. 2 lit. c)";
        NotForProfitBody => "not-for-profit body (Art. 9(2)(d))", "Organisation ohne Gewinnerzielungsabsicht (Art. 9 Abs. 2 lit. d)";
        MadePublic => "made public by the data subject (Art. 9(2)(e))", "von der betroffenen Person öffentlich gemacht (Art. 9 Abs. 2 lit. e)";
        LegalClaims => "legal claims (Art. 9(2)(f))", "Rechtsansprüche (Art. 9 Abs. 2 lit. f)";
        SubstantialPublicInterest => "substantial public interest (Art. 9(2)(g))", "erhebliches öffentliches Interesse (Art. 9 Abs. 2 lit. g)";
        HealthOrSocialCare => "health or social care (Art. 9(2)(h))", "Gesundheits- oder Sozialbereich (Art. 9 Abs. 2 lit. h)";
        PublicHealth => "public health (Art. 9(2)(i))", "öffentliche Gesundheit (Art. 9 Abs. 2 lit. i)";
        ArchivingResearchStatistics => "archiving, research or statistics (Art. 9(2)(j))", "Archiv, Forschung oder Statistik (Art. 9 Abs. 2 lit. j)";
    }
    TransferMechanism {
        AdequacyDecision => "adequacy decision (Art. 45)", "Angemessenheitsbeschluss (Art. 45)";
        StandardContractualClauses => "standard contractual clauses (Art. 46(2)(c))", "Standardvertragsklauseln (Art. 46 Abs. 2 lit. c)";
        BindingCorporateRules => "binding corporate rules (Art. 47)", "verbindliche interne Datenschutzvorschriften (Art. 47)";
        Art49Derogation => "derogation (Art. 49)", "Ausnahme (Art. 49)";
        OtherSafeguards => "other safeguards (Art. 46)", "andere Garantien (Art. 46)";
    }
    ActivityRole {
        Controller => "controller", "Verantwortlicher";
        JointController => "joint controller", "gemeinsam Verantwortlicher";
        Processor => "processor", "Auftragsverarbeiter";
    }
    DpiaRequirement {
        Yes => "yes", "ja";
        No => "no", "nein";
        ToAssess => "to be assessed", "zu prüfen";
    }
    ActivityStatus {
        Draft => "draft", "Entwurf";
        Active => "active", "aktiv";
        Retired => "retired", "eingestellt";
    }
    DpaStatus {
        None => "none", "keiner";
        Draft => "draft", "Entwurf";
        Signed => "signed", "unterzeichnet";
    }
    PolicyKind {
        PrivacyPolicy => "privacy notice", "Datenschutzerklärung";
        DataProtectionPolicy => "data protection policy", "Datenschutzrichtlinie";
        RetentionPolicy => "retention policy", "Löschkonzept";
        BreachResponsePlan => "breach response plan", "Notfallplan für Datenpannen";
        Other => "other", "sonstige";
    }
    PolicyStatus {
        Draft => "draft", "Entwurf";
        Active => "active", "aktiv";
        Retired => "retired", "außer Kraft";
    }
    VersionStatus {
        Draft => "draft", "Entwurf";
        InReview => "in review", "in Prüfung";
        Published => "published", "veröffentlicht";
        Retired => "retired", "außer Kraft";
    }
    BreachKind {
        Confidentiality => "confidentiality breach", "Verletzung der Vertraulichkeit";
        Integrity => "integrity breach", "Verletzung der Integrität";
        Availability => "availability breach", "Verletzung der Verfügbarkeit";
    }
    BreachStatus {
        Open => "open", "offen";
        Assessed => "assessed", "bewertet";
        Notified => "notified", "gemeldet";
        NotNotified => "not notified", "nicht gemeldet";
        Closed => "closed", "abgeschlossen";
    }
    BreachRisk {
        NoRisk => "unlikely to result in a risk", "voraussichtlich kein Risiko";
        Risk => "risk", "Risiko";
        HighRisk => "high risk", "hohes Risiko";
    }
    NoCommunicationGround {
        DataUnintelligible => "data unintelligible (Art. 34(3)(a))", "Daten unverständlich gemacht (Art. 34 Abs. 3 lit. a)";
        RiskNoLongerLikely => "high risk no longer likely (Art. 34(3)(b))", "hohes Risiko nicht mehr wahrscheinlich (Art. 34 Abs. 3 lit. b)";
        DisproportionateEffort => "disproportionate effort (Art. 34(3)(c))", "unverhältnismäßiger Aufwand (Art. 34 Abs. 3 lit. c)";
    }
    BreachGap {
        Description => "nature of the breach", "Art der Verletzung";
        DataSubjectCategories => "categories of data subjects", "Kategorien betroffener Personen";
        ApproximateSubjects => "approximate number of data subjects", "ungefähre Zahl betroffener Personen";
        DataCategories => "categories of personal data records", "Kategorien personenbezogener Datensätze";
        ApproximateRecords => "approximate number of records", "ungefähre Zahl der Datensätze";
        ContactPoint => "contact point", "Anlaufstelle";
        Consequences => "likely consequences", "wahrscheinliche Folgen";
        Measures => "measures taken or proposed", "ergriffene oder vorgeschlagene Maßnahmen";
        RiskAssessment => "risk assessment", "Risikobewertung";
        SubjectCommunication => "communication to the data subjects", "Benachrichtigung der betroffenen Personen";
    }
    BreachTimeliness {
        OnTime => "notified on time", "fristgerecht gemeldet";
        Late => "notified late", "verspätet gemeldet";
        Pending => "not yet notified, within 72 hours", "noch nicht gemeldet, innerhalb von 72 Stunden";
        Overdue => "not notified, past 72 hours", "nicht gemeldet, nach Ablauf von 72 Stunden";
        NotRequired => "notification not required", "Meldung nicht erforderlich";
    }
    AuthorityDecision {
        Notified => "notified", "gemeldet";
        NotNotified => "not notified", "nicht gemeldet";
        Open => "open", "offen";
    }
    Art34Outcome {
        Communicated => "communicated", "benachrichtigt";
        NotCommunicated => "not communicated", "nicht benachrichtigt";
    }
    ContactSource {
        Breach => "named for this breach", "für diese Verletzung benannt";
        OrganisationDpo => "the organisation's data protection officer", "Datenschutzbeauftragte(r) der Organisation";
        OrganisationContact => "the organisation's contact", "Kontakt der Organisation";
    }
    DpiaStatus {
        Draft => "draft", "Entwurf";
        InReview => "in review", "in Prüfung";
        Approved => "approved", "genehmigt";
    }
    NecessityTopic {
        LawfulBasis => "lawful basis (Art. 6)", "Rechtsgrundlage (Art. 6)";
        Minimisation => "data minimisation (Art. 5(1)(c))", "Datenminimierung (Art. 5 Abs. 1 lit. c)";
        Retention => "storage limitation (Art. 5(1)(e))", "Speicherbegrenzung (Art. 5 Abs. 1 lit. e)";
        Information => "information to the people (Art. 12–14)", "Information der Personen (Art. 12–14)";
        Rights => "rights of the people (Art. 15–22)", "Rechte der Personen (Art. 15–22)";
        ProcessorsAndTransfers => "processors and transfers (Art. 28, Chapter V)", "Auftragsverarbeiter und Übermittlungen (Art. 28, Kapitel V)";
    }
    RiskEvent {
        IllegitimateAccess => "illegitimate access", "unrechtmäßiger Zugriff";
        UnwantedChange => "unwanted change", "unerwünschte Veränderung";
        Disappearance => "disappearance", "Verlust";
    }
    Scale {
        Negligible => "negligible", "vernachlässigbar";
        Limited => "limited", "begrenzt";
        Significant => "significant", "erheblich";
        Maximum => "maximum", "maximal";
    }
    DpiaRisk {
        Low => "low", "niedrig";
        Medium => "medium", "mittel";
        High => "high", "hoch";
    }
    MeasureType {
        Technical => "technical", "technisch";
        Organisational => "organisational", "organisatorisch";
        Legal => "legal", "rechtlich";
    }
    MeasureStatus {
        Planned => "planned", "geplant";
        InProgress => "in progress", "in Umsetzung";
        Implemented => "implemented", "umgesetzt";
    }
    DpiaGap {
        Description => "Art. 35(7)(a): description of the processing", "Art. 35 Abs. 7 lit. a: Beschreibung der Verarbeitung";
        Necessity => "Art. 35(7)(b): necessity and proportionality", "Art. 35 Abs. 7 lit. b: Notwendigkeit und Verhältnismäßigkeit";
        Risks => "Art. 35(7)(c): risks", "Art. 35 Abs. 7 lit. c: Risiken";
        Measures => "Art. 35(7)(d): measures", "Art. 35 Abs. 7 lit. d: Abhilfemaßnahmen";
        DpoAdvice => "Art. 35(2): advice of the data protection officer", "Art. 35 Abs. 2: Rat des Datenschutzbeauftragten";
    }
    Channel {
        WebForm => "web form", "Webformular";
        Email => "e-mail", "E-Mail";
        Letter => "letter", "Brief";
        Phone => "phone", "Telefon";
        InPerson => "in person", "persönlich";
        ViaAuthority => "via the supervisory authority", "über die Aufsichtsbehörde";
    }
    Right {
        Access => "access (Art. 15)", "Auskunft (Art. 15)";
        Rectification => "rectification (Art. 16)", "Berichtigung (Art. 16)";
        Erasure => "erasure (Art. 17)", "Löschung (Art. 17)";
        Restriction => "restriction of processing (Art. 18)", "Einschränkung der Verarbeitung (Art. 18)";
        Portability => "data portability (Art. 20)", "Datenübertragbarkeit (Art. 20)";
        Objection => "objection (Art. 21)", "Widerspruch (Art. 21)";
        AutomatedDecision => "automated decision (Art. 22)", "automatisierte Entscheidung (Art. 22)";
        ConsentWithdrawal => "withdrawal of consent (Art. 7(3))", "Widerruf der Einwilligung (Art. 7 Abs. 3)";
    }
    SubjectCategory {
        Customer => "customer", "Kunde";
        Prospect => "prospect", "Interessent";
        Employee => "employee", "Beschäftigte(r)";
        Applicant => "applicant", "Bewerber(in)";
        Supplier => "supplier", "Lieferant";
        Other => "other", "sonstige";
    }
    RequestStatus {
        Received => "received", "eingegangen";
        VerifyingIdentity => "verifying identity", "Identitätsprüfung";
        InProgress => "in progress", "in Bearbeitung";
        WaitingForSubject => "waiting for the person", "wartet auf die Person";
        Answered => "answered", "beantwortet";
        Closed => "closed", "abgeschlossen";
        Withdrawn => "withdrawn", "zurückgezogen";
        RejectedUnverifiable => "rejected: identity not verifiable", "abgelehnt: Identität nicht feststellbar";
    }
    RequestTimeliness {
        OnTime => "on time", "fristgerecht";
        Late => "late", "verspätet";
        Pending => "pending", "offen";
        Overdue => "overdue", "überfällig";
        NotApplicable => "not applicable", "entfällt";
    }
    VerificationMethod {
        KnownAccount => "known account", "bekanntes Konto";
        EmailConfirmation => "e-mail confirmation", "E-Mail-Bestätigung";
        IdDocumentSeen => "identity document seen", "Ausweis vorgelegt";
        InPerson => "in person", "persönlich";
        AgentAuthority => "agent's authority", "Vollmacht des Vertreters";
        Other => "other", "sonstige";
    }
    Outcome {
        Fulfilled => "fulfilled", "erfüllt";
        PartlyFulfilled => "partly fulfilled", "teilweise erfüllt";
        NoDataHeld => "no data held", "keine Daten vorhanden";
        Refused => "refused", "abgelehnt";
    }
    RefusalGround {
        ManifestlyUnfounded => "manifestly unfounded (Art. 12(5)(b))", "offenkundig unbegründet (Art. 12 Abs. 5 lit. b)";
        Excessive => "excessive (Art. 12(5)(b))", "exzessiv (Art. 12 Abs. 5 lit. b)";
        RightsOfOthers => "rights and freedoms of others (Art. 15(4))", "Rechte und Freiheiten anderer (Art. 15 Abs. 4)";
        LegalRestriction => "restriction by Union or Member State law (Art. 23)", "Beschränkung durch Unions- oder mitgliedstaatliches Recht (Art. 23)";
        ExceptionOfTheRight => "an exception of the right itself (e.g. Art. 17(3), 21(1))", "eine Ausnahme des Rechts selbst (z. B. Art. 17 Abs. 3, 21 Abs. 1)";
    }
    TaskCategory {
        Dpia => "DPIA", "DSFA";
        PolicyReview => "policy review", "Richtlinienprüfung";
        BreachDrill => "breach drill", "Datenpannen-Übung";
        DpaReview => "DPA review", "AVV-Prüfung";
        Dsar => "data-subject request", "Betroffenenanfrage";
        Training => "training", "Schulung";
        Other => "other", "sonstige";
    }
    TaskStatus {
        Open => "open", "offen";
        InProgress => "in progress", "in Bearbeitung";
        Done => "done", "erledigt";
        Cancelled => "cancelled", "abgebrochen";
    }
    Recurrence {
        None => "once", "einmalig";
        Monthly => "monthly", "monatlich";
        Quarterly => "quarterly", "vierteljährlich";
        Yearly => "yearly", "jährlich";
    }
}

/// `values` as words in `language`, joined by `sep`.
pub(crate) fn joined<L: Label>(values: &[L], language: Language, sep: &str) -> String {
    values
        .iter()
        .map(|v| v.label(language))
        .collect::<Vec<_>>()
        .join(sep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_words_in_each_language() {
        assert_eq!(
            LawfulBasis::LegitimateInterests.label(Language::De),
            "berechtigte Interessen (Art. 6 Abs. 1 lit. f)"
        );
        assert_eq!(Right::Access.label(Language::En), "access (Art. 15)");
        assert_eq!(
            joined(&[Scale::Limited, Scale::Maximum], Language::De, ", "),
            "begrenzt, maximal"
        );
    }

    #[test]
    fn no_word_is_a_snake_case_code() {
        let all: Vec<&str> = [Language::En, Language::De]
            .into_iter()
            .flat_map(|l| {
                let mut words: Vec<&str> = Vec::new();
                words.extend(LawfulBasis::ALL.iter().map(|v| v.label(l)));
                words.extend(RequestStatus::ALL.iter().map(|v| v.label(l)));
                words.extend(BreachGap::ALL.iter().map(|v| v.label(l)));
                words.extend(NecessityTopic::ALL.iter().map(|v| v.label(l)));
                words.extend(RefusalGround::ALL.iter().map(|v| v.label(l)));
                words
            })
            .collect();
        for word in all {
            assert!(!word.contains('_'), "{word}");
        }
    }
}
