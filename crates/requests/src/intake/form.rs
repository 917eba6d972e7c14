//! The intake form: what the public page posts ([`IntakeForm`], raw text), the checked
//! submission ([`IntakeSubmission`]) and the request fields it becomes once confirmed.
//!
//! Errors are named by the form's own field names (`name`, `email`, `rights`, …), so the
//! page can link each message to its input.

use aura_gdpr_registers::text::{TextRule, optional_text, text};
use aura_identity::Email;
use aura_shared_kernel::ValidationErrors;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::request::{Agent, Channel, DataSubject, RequestFields, Right, SubjectCategory};

/// The longest description of what the person asks for.
pub const MAX_SCOPE_CHARS: usize = 5_000;

/// The form as posted: every value as typed, nothing checked yet.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct IntakeForm {
    pub name: String,
    pub email: String,
    pub contact: String,
    pub category: String,
    /// The ticked rights, by their stable names (`access`, `erasure`, …).
    pub rights: Vec<String>,
    pub scope: String,
    pub acting_for_someone: bool,
    pub agent_name: String,
    pub agent_authority: String,
}

/// Typed by a data subject: never printed.
impl std::fmt::Debug for IntakeForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IntakeForm(<personal data>)")
    }
}

/// Someone submitting for the person (a parent, a lawyer): who, and on what authority.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeAgent {
    pub name: String,
    pub authority: String,
}

/// A checked submission: the personal data of a person who is not a user. The stores
/// keep it sealed; `Debug` shows none of it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeSubmission {
    /// The person the request is about.
    pub name: String,
    /// Where the confirmation link and the answer go: the person's address, or the
    /// agent's when someone acts for the person.
    pub email: Email,
    /// Any other way to reach the sender (postal address, phone).
    pub contact: Option<String>,
    pub category: SubjectCategory,
    pub rights: Vec<Right>,
    pub scope: Option<String>,
    pub agent: Option<IntakeAgent>,
}

impl std::fmt::Debug for IntakeSubmission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntakeSubmission")
            .field("category", &self.category)
            .field("rights", &self.rights)
            .finish_non_exhaustive()
    }
}

impl IntakeForm {
    /// Checks every field and reports all problems at once, each under its form field.
    pub fn validated(&self) -> Result<IntakeSubmission, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let name = e.collect(text("name", &self.name, TextRule::line(200)));
        let email = e.collect(Email::parse_field(&self.email, "email"));
        let contact = e.collect(optional_text(
            "contact",
            Some(&self.contact),
            TextRule::block(1_000),
        ));
        let category = if self.category.trim().is_empty() {
            e.push("category", "must be chosen");
            None
        } else {
            e.collect(SubjectCategory::parse("category", self.category.trim()))
        };
        let mut rights = Vec::new();
        for raw in &self.rights {
            if let Some(right) = e.collect(Right::parse("rights", raw.trim()))
                && !rights.contains(&right)
            {
                rights.push(right);
            }
        }
        if self.rights.is_empty() {
            e.push("rights", "must name at least one right");
        }
        let scope = e.collect(optional_text(
            "scope",
            Some(&self.scope),
            TextRule::block(MAX_SCOPE_CHARS),
        ));
        let agent = if self.acting_for_someone {
            let name = e.collect(text("agent_name", &self.agent_name, TextRule::line(200)));
            let authority = e.collect(text(
                "agent_authority",
                &self.agent_authority,
                TextRule::block(1_000),
            ));
            name.zip(authority)
                .map(|(name, authority)| Some(IntakeAgent { name, authority }))
        } else {
            Some(None)
        };
        e.into_result()?;
        // `collect` answers `None` only after recording an error, refused just above.
        let (Some(name), Some(email), Some(contact), Some(category), Some(scope), Some(agent)) =
            (name, email, contact, category, scope, agent)
        else {
            return Err(ValidationErrors::single("name", "is not valid"));
        };
        Ok(IntakeSubmission {
            name,
            email,
            contact,
            category,
            rights,
            scope,
            agent,
        })
    }
}

impl IntakeSubmission {
    /// The request a confirmed submission opens: channel web form, received when the
    /// person confirmed (the submission alone is not a request: anyone can type any
    /// address). When an agent submitted, the address and contact are the agent's.
    pub fn into_request_fields(self, received_at: OffsetDateTime) -> RequestFields {
        let (subject_email, subject_contact, agent) = match self.agent {
            None => (Some(self.email.as_str().to_owned()), self.contact, None),
            Some(agent) => {
                let contact = match self.contact {
                    Some(other) => format!("{}\n{other}", self.email.as_str()),
                    None => self.email.as_str().to_owned(),
                };
                let agent = Agent {
                    name: agent.name,
                    contact: Some(contact),
                    authority: agent.authority,
                };
                (None, None, Some(agent))
            }
        };
        RequestFields {
            received_at,
            channel: Channel::WebForm,
            subject: DataSubject {
                name: self.name,
                email: subject_email,
                contact: subject_contact,
                category: self.category,
            },
            agent,
            rights: self.rights,
            scope: self.scope,
            assignee_id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn form() -> IntakeForm {
        IntakeForm {
            name: " Erika Mustermann ".into(),
            email: "Erika@Example.test".into(),
            contact: String::new(),
            category: "customer".into(),
            rights: vec!["access".into(), "erasure".into(), "access".into()],
            scope: "All data about my orders.".into(),
            ..IntakeForm::default()
        }
    }

    #[test]
    fn a_good_form_becomes_a_web_form_request_received_at_confirmation() {
        let submission = form().validated().expect("valid");
        assert_eq!(submission.name, "Erika Mustermann");
        assert_eq!(submission.email.as_str(), "erika@example.test");
        assert_eq!(submission.rights, [Right::Access, Right::Erasure]);
        let confirmed = datetime!(2027-01-31 10:00 UTC);
        let fields = submission.into_request_fields(confirmed);
        assert_eq!(fields.channel, Channel::WebForm);
        assert_eq!(fields.received_at, confirmed);
        assert_eq!(fields.subject.email.as_deref(), Some("erika@example.test"));
        assert_eq!(fields.agent, None);
        assert!(
            fields.validated().is_ok(),
            "the request's own rules accept it"
        );
    }

    #[test]
    fn every_problem_is_named_by_its_form_field() {
        let bad = IntakeForm {
            name: " ".into(),
            email: "not-an-address".into(),
            category: "alien".into(),
            rights: vec!["fly".into()],
            scope: "x".repeat(MAX_SCOPE_CHARS + 1),
            acting_for_someone: true,
            ..IntakeForm::default()
        };
        let errors = bad.validated().expect_err("invalid");
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "name",
                "email",
                "category",
                "rights",
                "scope",
                "agent_name",
                "agent_authority"
            ]
        );
        let none = IntakeForm {
            rights: vec![],
            category: String::new(),
            ..form()
        };
        let fields: Vec<String> = none
            .validated()
            .expect_err("no rights")
            .0
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["category", "rights"]);
    }

    #[test]
    fn a_scope_of_exactly_the_limit_is_accepted() {
        let long = IntakeForm {
            scope: "y".repeat(MAX_SCOPE_CHARS),
            ..form()
        };
        assert!(long.validated().is_ok());
    }

    #[test]
    fn an_agent_brings_the_address_and_the_authority() {
        let by_agent = IntakeForm {
            acting_for_someone: true,
            agent_name: "Kanzlei Beispiel".into(),
            agent_authority: "Power of attorney of 4 January 2027".into(),
            contact: "Musterstraße 1, Berlin".into(),
            ..form()
        };
        let fields = by_agent
            .validated()
            .expect("valid")
            .into_request_fields(datetime!(2027-01-31 10:00 UTC));
        assert_eq!(fields.subject.email, None);
        let agent = fields.agent.clone().expect("an agent");
        assert_eq!(agent.name, "Kanzlei Beispiel");
        assert_eq!(
            agent.contact.as_deref(),
            Some("erika@example.test\nMusterstraße 1, Berlin")
        );
        assert!(fields.validated().is_ok());
    }

    #[test]
    fn nothing_personal_is_printed() {
        let submission = form().validated().expect("valid");
        let printed = format!("{submission:?} {:?}", form());
        assert!(!printed.contains("Erika"), "{printed}");
        assert!(!printed.contains("example.test"), "{printed}");
    }
}
