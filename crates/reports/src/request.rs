//! A data-subject request's answer letter: from the organisation, addressed to the person
//! (through their agent when one acts for them) by name, naming the request, the rights
//! exercised and the articles the answer rests on (Art. 12(3), the rights' own articles,
//! a refusal's ground and the right to complain of Art. 12(4)), with the dates received
//! and answered. A request not answered yet gives a draft with the due date (or, while
//! the identity is being confirmed, says the period has not started); a withdrawn request
//! a confirmation; one rejected as unverifiable a refusal with Art. 12(4)'s reasons and
//! right to complain.

use aura_gdpr_registers::OrganisationProfile;
use aura_requests::request::{DataSubjectRequest, Outcome, RequestStatus, Right};

use time::OffsetDateTime;

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
    closed: &'static str,
    due_waits: &'static str,
    identity_pending: &'static str,
    withdrawn: &'static str,
    unverifiable: &'static str,
    art11_2: &'static str,
    art12_4: &'static str,
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
    closed: "Closed on",
    due_waits: "the period starts once your identity is confirmed",
    identity_pending: "We first need to confirm your identity (Art. 12(6) GDPR). The period to answer your request starts once your identity is confirmed.",
    withdrawn: "You withdrew your request. We have closed it and take no further action on it.",
    unverifiable: "We could not establish your identity from the information you gave us, so we cannot act on your request (Art. 11(2), Art. 12(2) sentence 2 GDPR). If you send us additional information that enables us to identify you, we will handle your request.",
    art11_2: "Art. 11(2), Art. 12(2) sentence 2 GDPR (the data subject cannot be identified)",
    art12_4: "Art. 12(4) GDPR (reasons for not taking action, complaint and judicial remedy)",
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
    closed: "Abgeschlossen am",
    due_waits: "die Frist beginnt mit der Bestätigung Ihrer Identität",
    identity_pending: "Wir müssen zunächst Ihre Identität bestätigen (Art. 12 Abs. 6 DSGVO). Die Frist zur Beantwortung Ihres Antrags beginnt, sobald Ihre Identität bestätigt ist.",
    withdrawn: "Sie haben Ihren Antrag zurückgenommen. Wir haben ihn abgeschlossen und werden nichts weiter veranlassen.",
    unverifiable: "Wir konnten Ihre Identität anhand Ihrer Angaben nicht feststellen und können daher nicht auf Ihren Antrag hin tätig werden (Art. 11 Abs. 2, Art. 12 Abs. 2 Satz 2 DSGVO). Wenn Sie uns zusätzliche Informationen geben, die Ihre Identifizierung ermöglichen, bearbeiten wir Ihren Antrag.",
    art11_2: "Art. 11 Abs. 2, Art. 12 Abs. 2 Satz 2 DSGVO (die betroffene Person kann nicht identifiziert werden)",
    art12_4: "Art. 12 Abs. 4 DSGVO (Gründe für das Nichttätigwerden, Beschwerde und gerichtlicher Rechtsbehelf)",
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
    let (w, l) = (language.pick(&EN, &DE), language);
    let (f, d) = (&request.fields, &request.derived);
    let received = f.received_at.date().to_string();
    let mut blocks = Vec::new();
    if let Some(org) = organisation {
        blocks.push(Block::Paragraph(join_present(
            [Some(org.legal_name.as_str()), Some(&org_contact(org))],
            "\n",
        )));
    }
    if d.status.is_open() {
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
    facts.push(match (&d.answer, d.status.is_final(), d.due_on) {
        (Some(answer), ..) => (w.answered.to_owned(), answer.answered_on.to_string()),
        (None, true, _) => (
            w.closed.to_owned(),
            date_of(d.closed_at.map(OffsetDateTime::date)),
        ),
        (None, false, Some(due)) => (w.due.to_owned(), due.to_string()),
        (None, false, None) => (w.due.to_owned(), w.due_waits.to_owned()),
    });
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
    // The letter follows the request's status: a withdrawn or unverifiable request has
    // no answer and no due date, one waiting for identity no due date yet.
    match (d.status, &d.answer) {
        (RequestStatus::Withdrawn, _) => {
            letter.push(w.withdrawn.to_owned());
            blocks.extend(letter.into_iter().map(Block::Paragraph));
        }
        (RequestStatus::RejectedUnverifiable, _) => {
            letter.push(w.unverifiable.to_owned());
            blocks.extend(letter.into_iter().map(Block::Paragraph));
            basis.extend([w.art12_4.to_owned(), w.art11_2.to_owned()]);
            blocks.push(Block::Paragraph(w.complaint.to_owned()));
        }
        (_, Some(answer)) => {
            let index = match answer.outcome {
                Outcome::Fulfilled => 0,
                Outcome::PartlyFulfilled => 1,
                Outcome::NoDataHeld => 2,
                Outcome::Refused => 3,
            };
            letter.push(w.outcome[index].to_owned());
            blocks.extend(letter.into_iter().map(Block::Paragraph));
            if let Some(refusal) = &answer.refusal {
                basis.extend([w.art12_4.to_owned(), refusal.ground.label(l).to_owned()]);
                blocks.push(pairs([
                    (w.refusal_ground, refusal.ground.label(l).to_owned()),
                    (w.reasons, refusal.reasons.clone()),
                ]));
                blocks.push(Block::Paragraph(w.complaint.to_owned()));
            }
        }
        (_, None) => {
            letter.push(match d.due_on {
                Some(due) => w.not_answered.replace("{date}", &due.to_string()),
                None => w.identity_pending.to_owned(),
            });
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

#[cfg(test)]
mod tests {
    use aura_records::{Id, Record};
    use aura_requests::request::{Answer, Extension, Refusal, RefusalGround, RequestState};
    use aura_shared_kernel::TenantId;
    use time::macros::{date, datetime};

    use super::*;

    /// Zoë's erasure request of 2027-03-01 through her lawyer, in `derived`'s state.
    fn request(derived: RequestState) -> DataSubjectRequest {
        Record {
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
                ..derived
            },
            version: 3,
            created_at: datetime!(2027-03-01 10:00 UTC),
            updated_at: datetime!(2027-05-02 10:00 UTC),
        }
    }

    fn letter(derived: RequestState, language: Language) -> String {
        let stamp = Stamp {
            generated_at: datetime!(2027-05-02 12:00 UTC),
            chain_head: None,
        };
        request_letter(&request(derived), None, language, stamp).text()
    }

    fn assert_contains(text: &str, expected: &[&str]) {
        for expected in expected {
            assert!(text.contains(expected), "`{expected}` missing in:\n{text}");
        }
    }

    #[test]
    fn a_refusal_names_its_ground_and_the_right_to_complain_and_an_extension_its_reasons() {
        let text = letter(
            RequestState {
                status: RequestStatus::Answered,
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
            Language::De,
        );
        assert_contains(
            &text,
            &[
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
                "Art. 12 Abs. 3 DSGVO",
                "Art. 12 Abs. 4 DSGVO (Gründe für das Nichttätigwerden",
            ],
        );
        assert!(!text.contains("Entwurf"), "an answered request is no draft");
    }

    #[test]
    fn a_fulfilled_request_cites_no_refusal_article() {
        let text = letter(
            RequestState {
                status: RequestStatus::Answered,
                answer: Some(Answer {
                    outcome: Outcome::Fulfilled,
                    answered_on: date!(2027 - 03 - 20),
                    refusal: None,
                }),
                ..RequestState::default()
            },
            Language::En,
        );
        assert_contains(
            &text,
            &["We have fulfilled your request.", "Answered on\n2027-03-20"],
        );
        assert!(
            !text.contains("Art. 12(4)") && !text.contains("Art. 77"),
            "{text}"
        );
    }

    #[test]
    fn a_request_rejected_as_unverifiable_is_a_refusal_with_reasons_and_the_right_to_complain() {
        let text = letter(
            RequestState {
                status: RequestStatus::RejectedUnverifiable,
                closed_at: Some(datetime!(2027-03-10 08:00 UTC)),
                ..RequestState::default()
            },
            Language::En,
        );
        assert_contains(
            &text,
            &[
                "Closed on\n2027-03-10",
                "could not establish your identity",
                "Art. 11(2), Art. 12(2) sentence 2 GDPR",
                "Art. 12(4) GDPR (reasons for not taking action",
                "complaint with a supervisory authority (Art. 77 GDPR)",
                "judicial remedy (Art. 79 GDPR)",
            ],
        );
        assert!(
            !text.contains("will answer by") && !text.contains("Draft"),
            "{text}"
        );
    }

    #[test]
    fn a_withdrawn_request_is_confirmed_with_no_due_date() {
        let text = letter(
            RequestState {
                status: RequestStatus::Withdrawn,
                due_on: Some(date!(2027 - 04 - 01)),
                closed_at: Some(datetime!(2027-03-05 08:00 UTC)),
                ..RequestState::default()
            },
            Language::De,
        );
        assert_contains(
            &text,
            &[
                "Abgeschlossen am\n2027-03-05",
                "Sie haben Ihren Antrag zurückgenommen.",
            ],
        );
        assert!(
            !text.contains("2027-04-01") && !text.contains("Entwurf"),
            "{text}"
        );
    }

    #[test]
    fn a_request_awaiting_identity_says_the_period_has_not_started() {
        let text = letter(
            RequestState {
                status: RequestStatus::VerifyingIdentity,
                ..RequestState::default()
            },
            Language::En,
        );
        assert_contains(
            &text,
            &[
                "Draft: this request has not been answered yet.",
                "Answer due by\nthe period starts once your identity is confirmed",
                "(Art. 12(6) GDPR)",
            ],
        );
        assert!(
            !text.contains("by —") && !text.contains("will answer by"),
            "{text}"
        );
    }

    #[test]
    fn an_open_request_is_a_draft_with_its_due_date() {
        let text = letter(
            RequestState {
                status: RequestStatus::InProgress,
                due_on: Some(date!(2027 - 05 - 01)),
                ..RequestState::default()
            },
            Language::En,
        );
        assert_contains(
            &text,
            &[
                "Draft: this request has not been answered yet.",
                "Answer due by\n2027-05-01",
                "We are handling your request and will answer by 2027-05-01.",
            ],
        );
    }
}
