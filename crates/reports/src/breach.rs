//! A breach's notification to the supervisory authority as a report: the draft the
//! breaches crate assembles (`aura_breaches::draft`) under the Art. 33(3) headings, with
//! the controller, the 72-hour deadline of Art. 33(1) and, when late, the reasons for the
//! delay; the phases so far (Art. 33(4)) and what the record still lacks.

use aura_breaches::{
    draft::NotificationDraft,
    export::{AuthorityDecision, Timeliness},
};
use time::OffsetDateTime;

use crate::{
    common::{contact_line, document, heading, join_present, or_dash, pairs},
    labels::{Language, instant},
    model::{Block, Column, Report, Stamp},
    values::{Label, joined},
};

struct BreachWords {
    title: &'static str,
    drill: &'static str,
    reference: &'static str,
    status: &'static str,
    aware_at: &'static str,
    deadline: &'static str,
    hours_left: &'static str,
    hours_late: &'static str,
    on_time: &'static str,
    notified_late: &'static str,
    risk: &'static str,
    controller: &'static str,
    art33_3: [&'static str; 4],
    description: &'static str,
    kinds: &'static str,
    discovery: &'static str,
    occurred: &'static str,
    subjects: &'static str,
    approx_subjects: &'static str,
    data: &'static str,
    approx_records: &'static str,
    activities: &'static str,
    processors: &'static str,
    contact_point: &'static str,
    dpo: &'static str,
    delay: &'static str,
    delay_to_give: &'static str,
    not_notified: &'static str,
    not_notified_text: &'static str,
    phases: &'static str,
    sent_at: &'static str,
    authority_reference: &'static str,
    content: &'static str,
    to_follow: &'static str,
    missing: &'static str,
}

static EN: BreachWords = BreachWords {
    title: "Notification of a personal data breach to the supervisory authority (Art. 33 GDPR)",
    drill: "Exercise: this is a breach drill, not a breach.",
    reference: "Reference",
    status: "Status",
    aware_at: "Controller became aware",
    deadline: "Deadline for the notification (Art. 33(1): 72 hours)",
    hours_left: "{hours} hours left",
    hours_late: "{hours} hours late",
    on_time: "notified within the 72 hours",
    notified_late: "notified {hours} hours late",
    risk: "Risk to the rights and freedoms of natural persons",
    controller: "Controller",
    art33_3: [
        "Art. 33(3)(a) Nature of the breach, categories and approximate number of data subjects and of personal data records concerned",
        "Art. 33(3)(b) Name and contact details of the data protection officer or other contact point",
        "Art. 33(3)(c) Likely consequences of the breach",
        "Art. 33(3)(d) Measures taken or proposed to address the breach and mitigate its possible adverse effects",
    ],
    description: "Description",
    kinds: "Kind",
    discovery: "How it was discovered",
    occurred: "When it occurred",
    subjects: "Categories of data subjects",
    approx_subjects: "Approximate number of data subjects",
    data: "Categories of personal data records",
    approx_records: "Approximate number of records",
    activities: "Processing activities concerned",
    processors: "Processors concerned",
    contact_point: "Contact point",
    dpo: "Data protection officer",
    delay: "Art. 33(1) Reasons for the delay",
    delay_to_give: "The notification is past the 72 hours: it must give the reasons for the delay.",
    not_notified: "Art. 33(5) Decision not to notify the supervisory authority",
    not_notified_text: "The controller decided not to notify: the breach is unlikely to result in a risk to the rights and freedoms of natural persons (Art. 33(1)).",
    phases: "Art. 33(4) Notification in phases",
    sent_at: "Sent",
    authority_reference: "Authority's reference",
    content: "Content",
    to_follow: "To follow",
    missing: "Not yet in the record",
};

static DE: BreachWords = BreachWords {
    title: "Meldung einer Verletzung des Schutzes personenbezogener Daten an die Aufsichtsbehörde (Art. 33 DSGVO)",
    drill: "Übung: Dies ist eine Datenpannen-Übung, keine Verletzung.",
    reference: "Aktenzeichen",
    status: "Status",
    aware_at: "Bekanntwerden beim Verantwortlichen",
    deadline: "Frist für die Meldung (Art. 33 Abs. 1: 72 Stunden)",
    hours_left: "noch {hours} Stunden",
    hours_late: "{hours} Stunden überschritten",
    on_time: "innerhalb der 72 Stunden gemeldet",
    notified_late: "{hours} Stunden nach Fristablauf gemeldet",
    risk: "Risiko für die Rechte und Freiheiten natürlicher Personen",
    controller: "Verantwortlicher",
    art33_3: [
        "Art. 33 Abs. 3 lit. a Art der Verletzung, Kategorien und ungefähre Zahl der betroffenen Personen und der betroffenen personenbezogenen Datensätze",
        "Art. 33 Abs. 3 lit. b Name und Kontaktdaten des Datenschutzbeauftragten oder einer sonstigen Anlaufstelle",
        "Art. 33 Abs. 3 lit. c Wahrscheinliche Folgen der Verletzung",
        "Art. 33 Abs. 3 lit. d Ergriffene oder vorgeschlagene Maßnahmen zur Behebung der Verletzung und zur Abmilderung ihrer möglichen nachteiligen Auswirkungen",
    ],
    description: "Beschreibung",
    kinds: "Art",
    discovery: "Wie sie entdeckt wurde",
    occurred: "Zeitraum der Verletzung",
    subjects: "Kategorien betroffener Personen",
    approx_subjects: "Ungefähre Zahl betroffener Personen",
    data: "Kategorien personenbezogener Datensätze",
    approx_records: "Ungefähre Zahl der Datensätze",
    activities: "Betroffene Verarbeitungstätigkeiten",
    processors: "Betroffene Auftragsverarbeiter",
    contact_point: "Anlaufstelle",
    dpo: "Datenschutzbeauftragte(r)",
    delay: "Art. 33 Abs. 1 Gründe für die Verzögerung",
    delay_to_give: "Die Meldung erfolgt nach Ablauf der 72 Stunden: Sie muss die Gründe für die Verzögerung enthalten.",
    not_notified: "Art. 33 Abs. 5 Entscheidung, die Aufsichtsbehörde nicht zu benachrichtigen",
    not_notified_text: "Der Verantwortliche hat entschieden, nicht zu melden: Die Verletzung führt voraussichtlich nicht zu einem Risiko für die Rechte und Freiheiten natürlicher Personen (Art. 33 Abs. 1).",
    phases: "Art. 33 Abs. 4 Schrittweise Meldung",
    sent_at: "Gesendet",
    authority_reference: "Aktenzeichen der Behörde",
    content: "Inhalt",
    to_follow: "Folgt",
    missing: "Noch nicht erfasst",
};

/// The notification `draft` in `language`.
pub fn breach_report(draft: &NotificationDraft, language: Language, stamp: Stamp) -> Report {
    let (w, l, common) = (language.pick(&EN, &DE), language, language.words());
    let (n, t) = (&draft.nature, &draft.timeline);
    let number = |v: Option<i64>| or_dash(v.map(|v| v.to_string()).as_deref());
    let list = |items: &[String]| or_dash(Some(&items.join("\n")));
    let mut blocks = vec![heading(2, format!("{} {}", draft.reference, draft.title))];
    if draft.drill {
        blocks.push(Block::Paragraph(w.drill.to_owned()));
    }
    // Once notified, the standing is the first phase's; a decision not to notify has none.
    let hours = |text: &str, h: i64| text.replace("{hours}", &h.to_string());
    let standing = match t.timeliness {
        Timeliness::Pending => t.hours_left.map(|h| hours(w.hours_left, h)),
        Timeliness::Overdue => t.timeliness_hours_late.map(|h| hours(w.hours_late, h)),
        Timeliness::OnTime => Some(w.on_time.to_owned()),
        Timeliness::Late => t.timeliness_hours_late.map(|h| hours(w.notified_late, h)),
        Timeliness::NotRequired => None,
    };
    let standing = standing.map(|s| format!(" ({s})")).unwrap_or_default();
    blocks.push(pairs([
        (w.reference, draft.reference.clone()),
        (w.status, draft.status.label(l).to_owned()),
        (w.aware_at, instant(t.became_aware_at)),
        (
            w.deadline,
            format!("{}{standing}", instant(t.authority_deadline)),
        ),
        (w.risk, or_dash(draft.risk.map(|r| r.label(l)))),
    ]));
    blocks.push(heading(2, w.controller));
    blocks.push(match &draft.controller {
        Some(c) => pairs([
            (common.legal_name, c.legal_name.clone()),
            (common.address, or_dash(c.address.as_deref())),
            (
                common.country,
                or_dash(c.country.map(|c| c.to_string()).as_deref()),
            ),
            (
                common.contact,
                or_dash(Some(&join_present(
                    [c.contact_email.as_deref(), c.contact_phone.as_deref()],
                    ", ",
                ))),
            ),
            (
                common.representative,
                or_dash(c.eu_representative.as_ref().map(contact_line).as_deref()),
            ),
        ]),
        None => Block::Paragraph(common.no_profile.to_owned()),
    });
    let occurred = match (n.occurred_from, n.occurred_to) {
        (None, None) => None,
        (from, to) => Some(format!("{} – {}", at(from), at(to))),
    };
    let activities: Vec<String> = (draft.processing_activities.iter())
        .map(|a| a.name.clone())
        .collect();
    let processors: Vec<String> = (draft.processors.iter())
        .map(|p| match p.country {
            Some(c) => format!("{} ({c})", p.name),
            None => p.name.clone(),
        })
        .collect();
    blocks.push(heading(2, w.art33_3[0]));
    blocks.push(pairs([
        (w.description, or_dash(n.description.as_deref())),
        (w.kinds, or_dash(Some(&joined(&n.kinds, l, ", ")))),
        (w.discovery, or_dash(n.discovery.as_deref())),
        (w.occurred, or_dash(occurred.as_deref())),
        (w.subjects, list(&n.data_subject_categories)),
        (w.approx_subjects, number(n.approximate_subjects)),
        (w.data, list(&n.data_categories)),
        (w.approx_records, number(n.approximate_records)),
        (w.activities, list(&activities)),
        (w.processors, list(&processors)),
    ]));
    blocks.push(heading(2, w.art33_3[1]));
    let contact = draft
        .contact
        .in_effect
        .as_ref()
        .map(|c| format!("{} ({})", c.contact, c.source.label(l)));
    blocks.push(pairs([
        (w.contact_point, or_dash(contact.as_deref())),
        (
            w.dpo,
            or_dash(draft.contact.dpo.as_ref().map(contact_line).as_deref()),
        ),
    ]));
    blocks.push(heading(2, w.art33_3[2]));
    blocks.push(Block::Paragraph(or_dash(draft.consequences.as_deref())));
    blocks.push(heading(2, w.art33_3[3]));
    blocks.push(Block::Paragraph(or_dash(draft.measures.as_deref())));
    if t.authority_decision == AuthorityDecision::NotNotified {
        blocks.push(heading(2, w.not_notified));
        blocks.push(Block::Paragraph(w.not_notified_text.to_owned()));
        blocks.push(Block::Paragraph(or_dash(
            t.not_notified_reasoning.as_deref(),
        )));
    }
    let given = t.phases.first().and_then(|p| p.delay_reasons.clone());
    if given.is_some() || t.delay_reasons_required {
        blocks.push(heading(2, w.delay));
        blocks.push(Block::Paragraph(
            given.unwrap_or_else(|| w.delay_to_give.to_owned()),
        ));
    }
    if !t.phases.is_empty() {
        blocks.push(heading(2, w.phases));
        let rows = t.phases.iter().map(|p| {
            vec![
                instant(p.sent_at),
                or_dash(p.authority_reference.as_deref()),
                p.content.clone(),
                or_dash(Some(&joined(&p.to_follow, l, "\n"))),
            ]
        });
        blocks.push(Block::Table {
            columns: vec![
                Column::new(w.sent_at, 1.2),
                Column::new(w.authority_reference, 1.0),
                Column::new(w.content, 2.5),
                Column::new(w.to_follow, 1.3),
            ],
            rows: rows.collect(),
        });
    }
    if !draft.missing.is_empty() {
        blocks.push(heading(2, w.missing));
        blocks.push(Block::Paragraph(joined(&draft.missing, l, "\n")));
    }
    document(language, w.title, stamp, blocks)
}

fn at(instant_: Option<OffsetDateTime>) -> String {
    or_dash(instant_.map(instant).as_deref())
}

#[cfg(test)]
mod tests {
    use aura_breaches::{
        BreachId, BreachStatus, NotificationPhase,
        draft::{ContactPoint, Nature, Timeline},
    };
    use time::macros::datetime;

    use super::*;

    const AWARE: OffsetDateTime = datetime!(2027-03-01 09:00 UTC);

    /// A draft two weeks after the breach, standing as `timeline` says.
    fn draft(status: BreachStatus, timeline: Timeline) -> NotificationDraft {
        let nothing = Nature {
            description: None,
            kinds: vec![],
            discovery: None,
            occurred_from: None,
            occurred_to: None,
            data_subject_categories: vec![],
            approximate_subjects: None,
            data_categories: vec![],
            approximate_records: None,
        };
        NotificationDraft {
            breach_id: BreachId::generate(),
            reference: "BR-2027-0001".into(),
            title: "Laptop stolen".into(),
            status,
            drill: false,
            generated_at: datetime!(2027-03-15 09:00 UTC),
            controller: None,
            nature: nothing,
            contact: ContactPoint {
                contact_point: None,
                dpo: None,
                in_effect: None,
            },
            consequences: None,
            measures: None,
            risk: None,
            risk_reasoning: None,
            processing_activities: vec![],
            processors: vec![],
            timeline,
            missing: vec![],
            to_follow: vec![],
        }
    }

    fn timeline(timeliness: Timeliness, decision: AuthorityDecision) -> Timeline {
        Timeline {
            became_aware_at: AWARE,
            authority_deadline: datetime!(2027-03-04 09:00 UTC),
            // As of the draft, two weeks on: what a notified breach must not print.
            hours_left: None,
            hours_late: Some(264),
            delay_reasons_required: timeliness == Timeliness::Overdue,
            timeliness,
            timeliness_hours_late: None,
            authority_decision: decision,
            not_notified_reasoning: None,
            phases: vec![],
        }
    }

    fn text(draft: &NotificationDraft) -> String {
        let stamp = Stamp {
            generated_at: draft.generated_at,
            chain_head: None,
        };
        breach_report(draft, Language::En, stamp).text()
    }

    #[test]
    fn a_breach_notified_on_time_states_no_lateness_and_no_delay() {
        let mut t = timeline(Timeliness::OnTime, AuthorityDecision::Notified);
        t.phases = vec![NotificationPhase {
            sent_at: datetime!(2027-03-03 09:00 UTC),
            authority_reference: Some("LDA-17".into()),
            content: "first phase".into(),
            to_follow: vec![],
            delay_reasons: None,
            recorded_by: None,
        }];
        let text = text(&draft(BreachStatus::Notified, t));
        assert!(
            text.contains("2027-03-04T09:00:00Z (notified within the 72 hours)"),
            "{text}"
        );
        assert!(!text.contains("hours late"), "{text}");
        assert!(!text.contains("Reasons for the delay"), "{text}");
    }

    #[test]
    fn a_late_notification_is_late_by_the_hours_to_its_first_phase() {
        let mut t = timeline(Timeliness::Late, AuthorityDecision::Notified);
        t.timeliness_hours_late = Some(5);
        t.phases = vec![NotificationPhase {
            sent_at: datetime!(2027-03-04 14:00 UTC),
            authority_reference: None,
            content: "first phase".into(),
            to_follow: vec![],
            delay_reasons: Some("the forensic report came late".into()),
            recorded_by: None,
        }];
        let text = text(&draft(BreachStatus::Notified, t));
        assert!(text.contains("(notified 5 hours late)"), "{text}");
        assert!(!text.contains("264"), "not measured to the draft: {text}");
        assert!(text.contains("Reasons for the delay\nthe forensic report came late"));
    }

    #[test]
    fn a_decision_not_to_notify_shows_the_art_33_5_reasoning_and_no_deadline_standing() {
        let mut t = timeline(Timeliness::NotRequired, AuthorityDecision::NotNotified);
        t.not_notified_reasoning = Some("the disk was encrypted".into());
        let text = text(&draft(BreachStatus::NotNotified, t));
        assert!(text.contains("Art. 33(5) Decision not to notify"), "{text}");
        assert!(text.contains("the disk was encrypted"), "{text}");
        assert!(
            text.contains("2027-03-04T09:00:00Z\n"),
            "no standing: {text}"
        );
        assert!(!text.contains("hours l"), "{text}");
        assert!(!text.contains("Reasons for the delay"), "{text}");
    }

    #[test]
    fn an_open_breach_past_its_deadline_must_give_the_reasons_for_the_delay() {
        let mut t = timeline(Timeliness::Overdue, AuthorityDecision::Open);
        t.timeliness_hours_late = Some(264);
        let text = text(&draft(BreachStatus::Assessed, t));
        assert!(text.contains("(264 hours late)"), "{text}");
        assert!(
            text.contains("it must give the reasons for the delay"),
            "{text}"
        );
    }
}
