//! A DPIA as a report (Art. 35, 36): the covered activities, the four parts of Art.
//! 35(7) — the description with the register's purposes, necessity and proportionality
//! per topic, the risks before and after the measures, the measures —, the DPO's advice,
//! the people's views, the approval and the prior consultation.

use aura_dpias::{Dpia, NecessityTopic, Scale, risk_level};
use aura_gdpr_registers::{LawfulBasis, ProcessingActivity};

use crate::{
    common::{document, heading, or_dash, pairs, yes_no},
    labels::{Language, instant},
    model::{Block, Column, Report, Stamp},
    values::{Label, joined},
};

struct DpiaWords {
    title: &'static str,
    subject: &'static str,
    status: &'static str,
    revision: &'static str,
    activities: &'static str,
    review_date: &'static str,
    residual: &'static str,
    description: &'static str,
    purposes: &'static str,
    necessity: &'static str,
    topic: &'static str,
    assessment: &'static str,
    risks: &'static str,
    source: &'static str,
    event: &'static str,
    impact: &'static str,
    scale: &'static str,
    before: &'static str,
    after: &'static str,
    measures: &'static str,
    measure: &'static str,
    kind: &'static str,
    due: &'static str,
    addresses: &'static str,
    advice: &'static str,
    advice_text: &'static str,
    given_on: &'static str,
    followed: &'static str,
    views: &'static str,
    not_sought: &'static str,
    approval: &'static str,
    submitted_at: &'static str,
    approved_at: &'static str,
    sent_back: &'static str,
    consultation: &'static str,
    authority: &'static str,
    consultation_submitted: &'static str,
    extended: &'static str,
    answer_due: &'static str,
    answered_on: &'static str,
    answer: &'static str,
    missing: &'static str,
    level: &'static str,
}

static EN: DpiaWords = DpiaWords {
    title: "Data protection impact assessment (Art. 35 GDPR)",
    subject: "Assessment",
    status: "Status",
    revision: "Revision",
    activities: "Processing activities covered",
    review_date: "Review date (Art. 35(11))",
    residual: "Highest risk after the measures",
    description: "Art. 35(7)(a) Systematic description of the processing and its purposes",
    purposes: "Purposes in the register",
    necessity: "Art. 35(7)(b) Necessity and proportionality",
    topic: "Topic",
    assessment: "Assessment",
    risks: "Art. 35(7)(c) Risks to the rights and freedoms of the data subjects",
    source: "Source",
    event: "Event",
    impact: "Impact",
    scale: "Likelihood / severity: level, before and after the measures.",
    before: "Before measures",
    after: "After measures",
    measures: "Art. 35(7)(d) Measures envisaged to address the risks",
    measure: "Measure",
    kind: "Type",
    due: "Due",
    addresses: "Risks",
    advice: "Art. 35(2) Advice of the data protection officer",
    advice_text: "Advice",
    given_on: "Given on",
    followed: "Followed",
    views: "Art. 35(9) Views of the data subjects or their representatives",
    not_sought: "Not sought",
    approval: "Approval",
    submitted_at: "Submitted for approval",
    approved_at: "Approved",
    sent_back: "Last sent back because",
    consultation: "Art. 36 Prior consultation of the supervisory authority",
    authority: "Authority",
    consultation_submitted: "Received by the authority",
    extended: "Period extended (Art. 36(2))",
    answer_due: "Answer due",
    answered_on: "Answered on",
    answer: "Answer",
    missing: "Still missing",
    level: "level",
};

static DE: DpiaWords = DpiaWords {
    title: "Datenschutz-Folgenabschätzung (Art. 35 DSGVO)",
    subject: "Folgenabschätzung",
    status: "Status",
    revision: "Fassung",
    activities: "Erfasste Verarbeitungstätigkeiten",
    review_date: "Überprüfung am (Art. 35 Abs. 11)",
    residual: "Höchstes Risiko nach den Maßnahmen",
    description: "Art. 35 Abs. 7 lit. a Systematische Beschreibung der Verarbeitungsvorgänge und Zwecke",
    purposes: "Zwecke im Verzeichnis",
    necessity: "Art. 35 Abs. 7 lit. b Notwendigkeit und Verhältnismäßigkeit",
    topic: "Thema",
    assessment: "Bewertung",
    risks: "Art. 35 Abs. 7 lit. c Risiken für die Rechte und Freiheiten der betroffenen Personen",
    source: "Quelle",
    event: "Ereignis",
    impact: "Auswirkung",
    scale: "Eintrittswahrscheinlichkeit / Schwere: Stufe, vor und nach den Maßnahmen.",
    before: "Vor den Maßnahmen",
    after: "Nach den Maßnahmen",
    measures: "Art. 35 Abs. 7 lit. d Geplante Abhilfemaßnahmen",
    measure: "Maßnahme",
    kind: "Art",
    due: "Fällig",
    addresses: "Risiken",
    advice: "Art. 35 Abs. 2 Rat des Datenschutzbeauftragten",
    advice_text: "Empfehlung",
    given_on: "Erteilt am",
    followed: "Befolgt",
    views: "Art. 35 Abs. 9 Standpunkt der betroffenen Personen oder ihrer Vertreter",
    not_sought: "Nicht eingeholt",
    approval: "Freigabe",
    submitted_at: "Zur Freigabe vorgelegt",
    approved_at: "Freigegeben",
    sent_back: "Zuletzt zurückgewiesen, weil",
    consultation: "Art. 36 Vorherige Konsultation der Aufsichtsbehörde",
    authority: "Behörde",
    consultation_submitted: "Bei der Behörde eingegangen",
    extended: "Frist verlängert (Art. 36 Abs. 2)",
    answer_due: "Antwort fällig",
    answered_on: "Beantwortet am",
    answer: "Antwort",
    missing: "Noch fehlend",
    level: "Stufe",
};

/// `dpia` in `language`; `activities` are the covered activities as the register holds
/// them now (their names; one removed since is left out).
pub fn dpia_report(
    dpia: &Dpia,
    activities: &[ProcessingActivity],
    language: Language,
    stamp: Stamp,
) -> Report {
    let (w, l) = (language.pick(&EN, &DE), language);
    let common = language.words();
    let (f, d) = (&dpia.fields, &dpia.derived);
    let name_of = |id| {
        activities
            .iter()
            .find(|a| a.id == id)
            .map(|a| a.fields.name.clone())
    };
    let covered: Vec<String> = f
        .activity_ids
        .iter()
        .filter_map(|id| name_of(*id))
        .collect();
    let mut blocks = vec![
        pairs([
            (w.subject, f.title.clone()),
            (w.status, d.status.label(l).to_owned()),
            (w.revision, d.revision.to_string()),
            (w.activities, or_dash(Some(&covered.join("\n")))),
            (
                w.review_date,
                or_dash(f.review_date.map(|d| d.to_string()).as_deref()),
            ),
            (w.residual, or_dash(d.residual_level.map(|r| r.label(l)))),
        ]),
        heading(2, w.description),
        Block::Paragraph(or_dash(f.description.as_deref())),
    ];
    if !d.processing.purposes.is_empty() {
        let purposes = d.processing.purposes.iter().map(|p| {
            let basis = p.lawful_basis.parse::<LawfulBasis>();
            let basis = basis.map_or(p.lawful_basis.as_str(), |b| b.label(l));
            let activity = name_of(p.activity_id).unwrap_or_default();
            format!("{activity}: {} ({basis})", p.description)
        });
        blocks.push(Block::KeyValues(vec![(
            w.purposes.to_owned(),
            purposes.collect::<Vec<_>>().join("\n"),
        )]));
    }
    blocks.push(heading(2, w.necessity));
    let necessity = NecessityTopic::ALL.iter().map(|topic| {
        let assessed: Vec<&str> = (f.necessity.iter())
            .filter(|n| n.topic == *topic)
            .map(|n| n.assessment.as_str())
            .collect();
        vec![
            topic.label(l).to_owned(),
            or_dash(Some(&assessed.join("\n"))),
        ]
    });
    blocks.push(Block::Table {
        columns: vec![Column::new(w.topic, 1.0), Column::new(w.assessment, 2.5)],
        rows: necessity.collect(),
    });
    blocks.push(heading(2, w.risks));
    if f.risks.is_empty() {
        blocks.push(Block::Paragraph(common.not_stated.to_owned()));
    } else {
        let rated = |likelihood: Scale, severity: Scale| {
            format!(
                "{} / {}: {} {}",
                likelihood.label(l),
                severity.label(l),
                w.level,
                risk_level(likelihood, severity).label(l)
            )
        };
        let rows = f.risks.iter().enumerate().map(|(i, r)| {
            vec![
                (i + 1).to_string(),
                r.source.clone(),
                r.event.label(l).to_owned(),
                r.impact.clone(),
                rated(r.likelihood, r.severity),
                rated(r.residual_likelihood, r.residual_severity),
            ]
        });
        blocks.push(Block::Table {
            columns: vec![
                Column::new("#", 0.3),
                Column::new(w.source, 1.1),
                Column::new(w.event, 1.3),
                Column::new(w.impact, 1.6),
                Column::new(w.before, 1.4),
                Column::new(w.after, 1.4),
            ],
            rows: rows.collect(),
        });
        blocks.push(Block::Paragraph(w.scale.to_owned()));
    }
    blocks.push(heading(2, w.measures));
    if f.measures.is_empty() {
        blocks.push(Block::Paragraph(common.not_stated.to_owned()));
    } else {
        let rows = f.measures.iter().map(|m| {
            let risks: Vec<String> = m.risks.iter().map(|r| (r + 1).to_string()).collect();
            vec![
                m.title.clone(),
                m.kind.label(l).to_owned(),
                m.status.label(l).to_owned(),
                or_dash(m.due_date.map(|d| d.to_string()).as_deref()),
                or_dash(Some(&risks.join(", "))),
            ]
        });
        blocks.push(Block::Table {
            columns: vec![
                Column::new(w.measure, 2.5),
                Column::new(w.kind, 1.0),
                Column::new(common.status, 1.0),
                Column::new(w.due, 1.0),
                Column::new(w.addresses, 0.8),
            ],
            rows: rows.collect(),
        });
    }
    blocks.push(heading(2, w.advice));
    blocks.push(match &f.dpo_advice {
        Some(a) => pairs([
            (w.advice_text, a.advice.clone()),
            (w.given_on, a.given_on.to_string()),
            (w.followed, yes_no(a.followed, common)),
        ]),
        None => Block::Paragraph(common.not_stated.to_owned()),
    });
    blocks.push(heading(2, w.views));
    blocks.push(match (&f.subject_views, &f.subject_views_not_sought) {
        (Some(views), _) => Block::Paragraph(views.clone()),
        (None, Some(why)) => pairs([(w.not_sought, why.clone())]),
        (None, None) => Block::Paragraph(common.not_stated.to_owned()),
    });
    blocks.push(heading(2, w.approval));
    let at = |t: Option<time::OffsetDateTime>| or_dash(t.map(instant).as_deref());
    let mut approval = vec![
        (w.status.to_owned(), d.status.label(l).to_owned()),
        (w.submitted_at.to_owned(), at(d.submitted_at)),
        (w.approved_at.to_owned(), at(d.approved_at)),
    ];
    if let Some(reason) = &d.sent_back_reason {
        approval.push((w.sent_back.to_owned(), reason.clone()));
    }
    blocks.push(Block::KeyValues(approval));
    if let Some(c) = &d.prior_consultation {
        blocks.push(heading(2, w.consultation));
        blocks.push(pairs([
            (w.authority, c.authority.clone()),
            (w.consultation_submitted, c.submitted_on.to_string()),
            (
                w.extended,
                match &c.extension_reason {
                    Some(r) if c.extended => format!("{}: {r}", common.yes),
                    _ => yes_no(c.extended, common),
                },
            ),
            (w.answer_due, c.answer_due.to_string()),
            (
                w.answered_on,
                or_dash(c.answered_on.map(|d| d.to_string()).as_deref()),
            ),
            (w.answer, or_dash(c.answer.as_deref())),
        ]));
    }
    if !d.missing.is_empty() {
        blocks.push(heading(2, w.missing));
        blocks.push(Block::Paragraph(joined(&d.missing, l, "\n")));
    }
    document(language, w.title, stamp, blocks)
}

#[cfg(test)]
mod tests {
    use aura_dpias::{DpiaState, DpiaStatus, PriorConsultation, RiskLevel};
    use aura_records::{Id, Record};
    use aura_shared_kernel::TenantId;
    use time::macros::{date, datetime};

    use super::*;

    #[test]
    fn an_approved_high_residual_risk_shows_its_prior_consultation() {
        let dpia = Record {
            id: Id::generate(),
            tenant_id: TenantId::generate(),
            fields: serde_json::from_value(serde_json::json!({
                "title": "Gesichtserkennung am Eingang", "activity_ids": [], "description": null,
                "necessity": [], "risks": [], "measures": [], "dpo_advice": null,
                "subject_views": null, "subject_views_not_sought": null, "review_date": null,
                "owner_id": null, "revision_of": null
            }))
            .expect("fields"),
            derived: DpiaState {
                status: DpiaStatus::Approved,
                residual_level: Some(RiskLevel::High),
                prior_consultation: Some(PriorConsultation {
                    authority: "Landesbeauftragte für Datenschutz Köln".into(),
                    submitted_on: date!(2027 - 02 - 01),
                    extended: true,
                    extension_reason: Some("Komplexität".into()),
                    answer_due: date!(2027 - 05 - 10),
                    answered_on: None,
                    answer: None,
                    recorded_by: None,
                }),
                ..DpiaState::default()
            },
            version: 4,
            created_at: datetime!(2027-01-01 10:00 UTC),
            updated_at: datetime!(2027-02-01 10:00 UTC),
        };
        let stamp = Stamp {
            generated_at: datetime!(2027-02-02 12:00 UTC),
            chain_head: None,
        };
        let report = dpia_report(&dpia, &[], Language::En, stamp);
        let consultation = report
            .blocks
            .iter()
            .skip_while(|b| !matches!(b, Block::Heading { text, .. } if text == EN.consultation))
            .nth(1)
            .expect("the consultation follows its heading");
        let Block::KeyValues(pairs) = consultation else {
            panic!("{consultation:?}")
        };
        let value = |label: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == label)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(
            value(EN.authority),
            Some("Landesbeauftragte für Datenschutz Köln")
        );
        assert_eq!(value(EN.extended), Some("yes: Komplexität"));
        assert_eq!(value(EN.answer_due), Some("2027-05-10"));
        assert_eq!(value(EN.answered_on), Some("—"));
        assert!(report.blocks.contains(&Block::KeyValues(vec![
            (EN.subject.into(), "Gesichtserkennung am Eingang".into()),
            (EN.status.into(), "approved".into()),
            (EN.revision.into(), "1".into()),
            (EN.activities.into(), "—".into()),
            (EN.review_date.into(), "—".into()),
            (EN.residual.into(), "high".into()),
        ])));
    }
}
