//! A data-subject request's answer letter: from the organisation, addressed to the person
//! (through their agent when one acts for them) by name, naming the request, the rights
//! exercised and the articles the answer rests on (Art. 12(3), the rights' own articles,
//! a refusal's ground and the right to complain of Art. 12(4)), with the dates received
//! and answered. A request not answered yet gives a draft with the due date.

use aura_gdpr_registers::OrganisationProfile;
use aura_requests::request::{DataSubjectRequest, Outcome, Right};

use crate::{
    common::{document, heading, join_present, or_dash, org_contact, pairs},
    labels::Language,
    model::{Block, Report, Stamp},
    values::{Label, joined},
};

struct LetterWords {
    title: &'static str,
    draft: &'static str,
    to: &'static str,
    care_of: &'static str,
    reference: &'static str,
    received: &'static str,
    answered: &'static str,
    due: &'static str,
    rights: &'static str,
    legal_basis: &'static str,
    subject: &'static str,
    salutation: &'static str,
    received_text: &'static str,
    outcome: [&'static str; 4],
    not_answered: &'static str,
    extension: &'static str,
    refusal_ground: &'static str,
    reasons: &'static str,
    complaint: &'static str,
    art12_3: &'static str,
    closing: &'static str,
}

static EN: LetterWords = LetterWords {
    title: "Answer to your request under the GDPR",
    draft: "Draft: this request has not been answered yet.",
    to: "To",
    care_of: "c/o",
    reference: "Our reference",
    received: "Your request received on",
    answered: "Answered on",
    due: "Answer due by",
    rights: "Rights exercised",
    legal_basis: "Legal basis of this answer",
    subject: "Your request {reference} of {date}",
    salutation: "Dear {name},",
    received_text: "we received your request of {date} concerning: {rights}.",
    outcome: [
        "We have fulfilled your request.",
        "We have fulfilled your request in part.",
        "We have checked our records: we hold no personal data about you.",
        "We cannot fulfil your request.",
    ],
    not_answered: "We are handling your request and will answer by {date}.",
    extension: "We extended the period to answer by {months} month(s) under Art. 12(3) GDPR, and told you so on {date}, for these reasons: {reasons}",
    refusal_ground: "Ground",
    reasons: "Reasons",
    complaint: "You have the right to lodge a complaint with a supervisory authority (Art. 77 GDPR) and to seek a judicial remedy (Art. 79 GDPR).",
    art12_3: "Art. 12(3) GDPR (information on action taken on a request)",
    closing: "Kind regards,",
};

static DE: LetterWords = LetterWords {
    title: "Antwort auf Ihren Antrag nach der DSGVO",
    draft: "Entwurf: Dieser Antrag ist noch nicht beantwortet.",
    to: "An",
    care_of: "z. Hd.",
    reference: "Unser Zeichen",
    received: "Ihr Antrag eingegangen am",
    answered: "Beantwortet am",
    due: "Antwort fällig bis",
    rights: "Geltend gemachte Rechte",
    legal_basis: "Rechtsgrundlage dieser Antwort",
    subject: "Ihr Antrag {reference} vom {date}",
    salutation: "Guten Tag {name},",
    received_text: "wir haben Ihren Antrag vom {date} erhalten. Er betrifft: {rights}.",
    outcome: [
        "Wir haben Ihrem Antrag entsprochen.",
        "Wir haben Ihrem Antrag teilweise entsprochen.",
        "Wir haben unsere Unterlagen geprüft: Wir verarbeiten keine personenbezogenen Daten über Sie.",
        "Wir können Ihrem Antrag nicht entsprechen.",
    ],
    not_answered: "Wir bearbeiten Ihren Antrag und antworten bis zum {date}.",
    extension: "Wir haben die Frist zur Beantwortung nach Art. 12 Abs. 3 DSGVO um {months} Monat(e) verlängert und Ihnen dies am {date} mitgeteilt. Die Gründe: {reasons}",
    refusal_ground: "Grund",
    reasons: "Begründung",
    complaint: "Sie haben das Recht, Beschwerde bei einer Aufsichtsbehörde einzulegen (Art. 77 DSGVO) und einen gerichtlichen Rechtsbehelf einzulegen (Art. 79 DSGVO).",
    art12_3: "Art. 12 Abs. 3 DSGVO (Informationen über die auf Antrag ergriffenen Maßnahmen)",
    closing: "Mit freundlichen Grüßen",
};

/// The answer letter of `request` from `organisation`, in `language`.
pub fn request_letter(
    request: &DataSubjectRequest,
    organisation: Option<&OrganisationProfile>,
    language: Language,
    stamp: Stamp,
) -> Report {
    let (w, l) = (words(language), language);
    let (f, d) = (&request.fields, &request.derived);
    let received = f.received_at.date().to_string();
    let mut blocks = Vec::new();
    if let Some(org) = organisation {
        blocks.push(Block::Paragraph(join_present(
            [Some(org.legal_name.as_str()), Some(&org_contact(org))],
            "\n",
        )));
    }
    if d.answer.is_none() {
        blocks.push(Block::Paragraph(w.draft.to_owned()));
    }
    let addressee = match &f.agent {
        Some(agent) => join_present(
            [
                Some(f.subject.name.as_str()),
                Some(&format!("{} {}", w.care_of, agent.name)),
                agent.contact.as_deref(),
            ],
            "\n",
        ),
        None => join_present(
            [
                Some(f.subject.name.as_str()),
                f.subject.contact.as_deref(),
                f.subject.email.as_deref(),
            ],
            "\n",
        ),
    };
    let date_of = |d: Option<time::Date>| or_dash(d.map(|d| d.to_string()).as_deref());
    let mut facts = vec![
        (w.to.to_owned(), addressee),
        (w.reference.to_owned(), d.reference.clone()),
        (w.received.to_owned(), received.clone()),
        (w.rights.to_owned(), joined(&f.rights, l, "\n")),
    ];
    match &d.answer {
        Some(answer) => facts.push((w.answered.to_owned(), answer.answered_on.to_string())),
        None => facts.push((w.due.to_owned(), date_of(d.due_on))),
    }
    blocks.push(Block::KeyValues(facts));
    blocks.push(heading(
        2,
        w.subject
            .replace("{reference}", &d.reference)
            .replace("{date}", &received),
    ));
    let mut letter = vec![
        w.salutation.replace("{name}", &f.subject.name),
        w.received_text
            .replace("{date}", &received)
            .replace("{rights}", &joined(&f.rights, l, ", ")),
    ];
    if let Some(ext) = &d.extension {
        letter.push(
            w.extension
                .replace("{months}", &ext.months.to_string())
                .replace("{date}", &ext.told_on.to_string())
                .replace("{reasons}", &ext.reasons),
        );
    }
    let mut basis = vec![w.art12_3.to_owned()];
    basis.extend(f.rights.iter().map(|r: &Right| r.label(l).to_owned()));
    match &d.answer {
        Some(answer) => {
            let index = match answer.outcome {
                Outcome::Fulfilled => 0,
                Outcome::PartlyFulfilled => 1,
                Outcome::NoDataHeld => 2,
                Outcome::Refused => 3,
            };
            letter.push(w.outcome[index].to_owned());
            blocks.extend(letter.into_iter().map(Block::Paragraph));
            if let Some(refusal) = &answer.refusal {
                basis.push(refusal.ground.label(l).to_owned());
                blocks.push(pairs([
                    (w.refusal_ground, refusal.ground.label(l).to_owned()),
                    (w.reasons, refusal.reasons.clone()),
                ]));
                blocks.push(Block::Paragraph(w.complaint.to_owned()));
            }
        }
        None => {
            letter.push(w.not_answered.replace("{date}", &date_of(d.due_on)));
            blocks.extend(letter.into_iter().map(Block::Paragraph));
        }
    }
    blocks.push(heading(3, w.legal_basis));
    blocks.push(Block::Paragraph(basis.join("\n")));
    blocks.push(Block::Paragraph(join_present(
        [Some(w.closing), organisation.map(|o| o.legal_name.as_str())],
        "\n",
    )));
    document(language, w.title, stamp, blocks)
}

fn words(language: Language) -> &'static LetterWords {
    match language {
        Language::En => &EN,
        Language::De => &DE,
    }
}

#[cfg(test)]
mod tests {
    use aura_records::{Id, Record};
    use aura_requests::request::{Answer, Extension, Refusal, RefusalGround, RequestState};
    use aura_shared_kernel::TenantId;
    use time::macros::{date, datetime};

    use super::*;

    fn texts(report: &Report) -> String {
        let mut all = vec![report.title.clone()];
        for block in &report.blocks {
            match block {
                Block::Heading { text, .. } | Block::Paragraph(text) => all.push(text.clone()),
                Block::KeyValues(pairs) => {
                    all.extend(pairs.iter().flat_map(|(k, v)| [k.clone(), v.clone()]))
                }
                Block::Table { rows, .. } => all.extend(rows.iter().flatten().cloned()),
            }
        }
        all.join("\n")
    }

    #[test]
    fn a_refusal_names_its_ground_and_the_right_to_complain_and_an_extension_its_reasons() {
        let request = Record {
            id: Id::generate(),
            tenant_id: TenantId::generate(),
            fields: serde_json::from_value(serde_json::json!({
                "received_at": "2027-03-01T10:00:00Z", "channel": "letter",
                "subject": {"name": "Zoë Łukasiewicz", "email": null, "contact": null, "category": "customer"},
                "agent": {"name": "Kanzlei Groß", "contact": "Marktplatz 3, Köln", "authority": "Vollmacht"},
                "rights": ["erasure"], "scope": null, "assignee_id": null
            }))
            .expect("fields"),
            derived: RequestState {
                reference: "DSR-2027-0007".into(),
                extension: Some(Extension {
                    months: 2,
                    reasons: "Viele Anträge zugleich".into(),
                    told_on: date!(2027 - 03 - 20),
                }),
                answer: Some(Answer {
                    outcome: Outcome::Refused,
                    answered_on: date!(2027 - 05 - 02),
                    refusal: Some(Refusal {
                        ground: RefusalGround::ExceptionOfTheRight,
                        reasons: "Aufbewahrungspflicht nach § 147 AO".into(),
                        complaint_right_told: true,
                    }),
                }),
                ..RequestState::default()
            },
            version: 3,
            created_at: datetime!(2027-03-01 10:00 UTC),
            updated_at: datetime!(2027-05-02 10:00 UTC),
        };
        let stamp = Stamp {
            generated_at: datetime!(2027-05-02 12:00 UTC),
            chain_head: None,
        };
        let text = texts(&request_letter(&request, None, Language::De, stamp));
        for expected in [
            "Zoë Łukasiewicz\nz. Hd. Kanzlei Groß\nMarktplatz 3, Köln",
            "Guten Tag Zoë Łukasiewicz,",
            "Ihr Antrag DSR-2027-0007 vom 2027-03-01",
            "Beantwortet am\n2027-05-02",
            "um 2 Monat(e) verlängert und Ihnen dies am 2027-03-20 mitgeteilt. Die Gründe: Viele Anträge zugleich",
            "Wir können Ihrem Antrag nicht entsprechen.",
            "eine Ausnahme des Rechts selbst (z. B. Art. 17 Abs. 3, 21 Abs. 1)",
            "Aufbewahrungspflicht nach § 147 AO",
            "Beschwerde bei einer Aufsichtsbehörde einzulegen (Art. 77 DSGVO)",
            "Löschung (Art. 17)",
        ] {
            assert!(text.contains(expected), "`{expected}` missing in:\n{text}");
        }
        assert!(!text.contains("Entwurf"), "an answered request is no draft");
    }
}
