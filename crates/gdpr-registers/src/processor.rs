//! Processors and sub-processors under Art. 28, with their data processing agreements.

use aura_audit::AuditAction;
use aura_records::{Id, Record, RecordActions, RecordKind, Reference};
use aura_shared_kernel::ValidationErrors;
use serde::{Deserialize, Serialize};
use time::Date;

use crate::{
    activity::{ActivityId, TransferMechanism},
    text::{CountryCode, TextRule, optional_text, string_enum, text, text_list},
};

string_enum!(
    /// Where the data processing agreement stands.
    DpaStatus { None => "none", Draft => "draft", Signed => "signed" }
);

/// Which of the processor duties of Art. 28(3)(a)–(h) the contract covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Art28Clauses {
    /// (a) processes only on documented instructions
    pub documented_instructions: bool,
    /// (b) staff bound to confidentiality
    pub confidentiality: bool,
    /// (c) Art. 32 security measures
    pub security: bool,
    /// (d) sub-processor conditions
    pub sub_processors: bool,
    /// (e) assists with data-subject rights
    pub data_subject_rights: bool,
    /// (f) assists with Art. 32–36 duties
    pub assistance: bool,
    /// (g) deletes or returns data at the end
    pub deletion_or_return: bool,
    /// (h) information and audits
    pub audits: bool,
}

impl Art28Clauses {
    /// The letters of Art. 28(3) not covered, e.g. `["(b)", "(h)"]`.
    pub fn missing(&self) -> Vec<&'static str> {
        [
            (self.documented_instructions, "(a)"),
            (self.confidentiality, "(b)"),
            (self.security, "(c)"),
            (self.sub_processors, "(d)"),
            (self.data_subject_rights, "(e)"),
            (self.assistance, "(f)"),
            (self.deletion_or_return, "(g)"),
            (self.audits, "(h)"),
        ]
        .into_iter()
        .filter_map(|(covered, letter)| (!covered).then_some(letter))
        .collect()
    }
}

/// Everything a user edits about a processor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessorFields {
    pub name: String,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub country: Option<CountryCode>,
    pub services: Option<String>,
    #[serde(default)]
    pub data_categories: Vec<String>,
    pub transfer_mechanism: Option<TransferMechanism>,
    #[serde(default = "default_dpa_status")]
    pub dpa_status: DpaStatus,
    #[serde(default, with = "crate::text::iso_date::option")]
    pub dpa_signed_on: Option<Date>,
    /// When the agreement is due for review or expires.
    #[serde(default, with = "crate::text::iso_date::option")]
    pub dpa_review_on: Option<Date>,
    #[serde(default)]
    pub clauses: Art28Clauses,
    /// For a sub-processor: the processor that engages it.
    pub parent_id: Option<ProcessorId>,
}

fn default_dpa_status() -> DpaStatus {
    DpaStatus::None
}

/// The register of processors and sub-processors (Art. 28).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Processors {}

pub type ProcessorId = Id<Processors>;

/// A stored processor.
pub type Processor = Record<Processors>;

/// What a processor's record shows that is not its own: the activities that link to it
/// (read-only here; the link is part of the activity).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ProcessorLinks {
    pub activity_ids: Vec<ActivityId>,
}

/// The processors list's filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcessorFilter {
    pub dpa_status: Option<DpaStatus>,
    /// Only processors whose DPA is missing, unsigned, or due for review on or before this date.
    pub dpa_attention_by: Option<Date>,
    pub parent: Option<ProcessorId>,
    /// Case-insensitive substring of the name.
    pub search: Option<String>,
}

impl RecordKind for Processors {
    const ENTITY: &'static str = "processor";
    const ACTIONS: RecordActions = RecordActions {
        created: AuditAction::known("processor.created"),
        updated: AuditAction::known("processor.updated"),
        deleted: AuditAction::known("processor.deleted"),
    };
    type Fields = ProcessorFields;
    type Derived = ProcessorLinks;
    type Filter = ProcessorFilter;

    fn validated(fields: ProcessorFields) -> Result<ProcessorFields, ValidationErrors> {
        fields.validated()
    }

    /// A parent must be a processor of the tenant (its chain is a rule: `ProcessorRules`).
    fn references(fields: &ProcessorFields) -> Vec<Reference> {
        fields
            .parent_id
            .map(|parent| Reference::to("parent_id", parent))
            .into_iter()
            .collect()
    }

    fn label(fields: &ProcessorFields) -> &str {
        &fields.name
    }
}

impl ProcessorFields {
    pub fn validated(self) -> Result<Self, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let name = e.collect(text("name", &self.name, TextRule::line(200)));
        let contact_name = e.collect(optional_text(
            "contact_name",
            self.contact_name.as_deref(),
            TextRule::line(200),
        ));
        let contact_email = e.collect(optional_text(
            "contact_email",
            self.contact_email.as_deref(),
            TextRule::line(254),
        ));
        if let Some(Some(email)) = &contact_email
            && !email.contains('@')
        {
            e.push("contact_email", "must be an e-mail address");
        }
        let services = e.collect(optional_text(
            "services",
            self.services.as_deref(),
            TextRule::block(5_000),
        ));
        let categories = e.collect(text_list(
            "data_categories",
            &self.data_categories,
            100,
            200,
        ));
        if let (Some(signed), Some(review)) = (self.dpa_signed_on, self.dpa_review_on)
            && review < signed
        {
            e.push("dpa_review_on", "must not be before dpa_signed_on");
        }
        if self.dpa_status != DpaStatus::Signed && self.dpa_signed_on.is_some() {
            e.push("dpa_signed_on", "is only set when dpa_status is signed");
        }
        e.into_result()?;
        Ok(Self {
            name: name.unwrap_or_default(),
            contact_name: contact_name.flatten(),
            contact_email: contact_email.flatten(),
            services: services.flatten(),
            data_categories: categories.unwrap_or_default(),
            ..self
        })
    }

    /// Whether the agreement needs attention by `by`: none or not signed, or a review or
    /// expiry date on or before `by`.
    pub fn dpa_needs_attention(&self, by: Date) -> bool {
        self.dpa_status != DpaStatus::Signed || self.dpa_review_on.is_some_and(|d| d <= by)
    }
}
