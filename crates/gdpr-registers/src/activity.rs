//! Processing activities: the entries of the Art. 30(1) controller record and the
//! Art. 30(2) processor record.

use aura_audit::AuditAction;
use aura_records::{Id, Record, RecordActions, RecordKind, Reference};
use aura_shared_kernel::{UserId, ValidationErrors};
use serde::{Deserialize, Serialize};
use time::Date;

use crate::{
    processor::ProcessorId,
    text::{CountryCode, TextRule, optional_text, string_enum, text, text_list},
};

string_enum!(
    /// Art. 6(1)(a)–(f).
    LawfulBasis {
        /// (a)
        Consent => "consent",
        /// (b)
        Contract => "contract",
        /// (c)
        LegalObligation => "legal_obligation",
        /// (d)
        VitalInterests => "vital_interests",
        /// (e)
        PublicTask => "public_task",
        /// (f) — needs a legitimate-interest note.
        LegitimateInterests => "legitimate_interests",
    }
);

string_enum!(
    /// Art. 9(2)(a)–(j): the condition that allows special-category data.
    Art9Condition {
        ExplicitConsent => "explicit_consent",
        EmploymentSocialSecurity => "employment_social_security",
        VitalInterests => "vital_interests",
        NotForProfitBody => "not_for_profit_body",
        MadePublic => "made_public_by_data_subject",
        LegalClaims => "legal_claims",
        SubstantialPublicInterest => "substantial_public_interest",
        HealthOrSocialCare => "health_or_social_care",
        PublicHealth => "public_health",
        ArchivingResearchStatistics => "archiving_research_statistics",
    }
);

string_enum!(
    /// How a transfer to a third country is made lawful (Chapter V).
    TransferMechanism {
        AdequacyDecision => "adequacy_decision",
        StandardContractualClauses => "standard_contractual_clauses",
        BindingCorporateRules => "binding_corporate_rules",
        /// Art. 49 — record the safeguards (Art. 30(1)(e)).
        Art49Derogation => "art49_derogation",
        OtherSafeguards => "other_safeguards",
    }
);

string_enum!(
    /// The tenant's role for one activity.
    ActivityRole {
        Controller => "controller",
        JointController => "joint_controller",
        Processor => "processor",
    }
);

string_enum!(DpiaRequirement { Yes => "yes", No => "no", ToAssess => "to_assess" });

string_enum!(ActivityStatus { Draft => "draft", Active => "active", Retired => "retired" });

/// A purpose of the processing with its lawful basis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Purpose {
    pub description: String,
    pub lawful_basis: LawfulBasis,
    /// The legitimate-interest assessment (reference or summary) where the basis is (f).
    pub legitimate_interest: Option<String>,
}

/// A category of personal data with its retention (Art. 30(1)(c), (f)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataCategory {
    pub name: String,
    /// Set for special-category data (Art. 9): the condition relied on.
    pub special_category: Option<Art9Condition>,
    /// Personal data relating to criminal convictions and offences (Art. 10).
    #[serde(default)]
    pub criminal_offence_data: bool,
    /// When the data is erased, e.g. "6 years after the end of the contract".
    pub retention: Option<String>,
}

/// A transfer to a third country or international organisation (Art. 30(1)(e)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    pub country: CountryCode,
    pub recipient: Option<String>,
    pub mechanism: TransferMechanism,
    pub safeguards: Option<String>,
}

/// Everything a user edits about an activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityFields {
    pub name: String,
    pub description: Option<String>,
    #[serde(default = "default_role")]
    pub role: ActivityRole,
    /// For processor activities: the controller the tenant acts for (Art. 30(2)(a)).
    pub controller_name: Option<String>,
    pub controller_contact: Option<String>,
    #[serde(default)]
    pub purposes: Vec<Purpose>,
    #[serde(default)]
    pub data_subject_categories: Vec<String>,
    #[serde(default)]
    pub data_categories: Vec<DataCategory>,
    #[serde(default)]
    pub recipient_categories: Vec<String>,
    #[serde(default)]
    pub transfers: Vec<Transfer>,
    /// A general description of the technical and organisational measures (Art. 32).
    pub security_measures: Option<String>,
    pub data_source: Option<String>,
    /// Automated decision-making including profiling (Art. 22).
    #[serde(default)]
    pub automated_decision_making: bool,
    pub automated_decision_details: Option<String>,
    #[serde(default = "default_dpia")]
    pub dpia_required: DpiaRequirement,
    pub dpia_reason: Option<String>,
    pub owner_id: Option<UserId>,
    pub department: Option<String>,
    #[serde(default)]
    pub processor_ids: Vec<ProcessorId>,
    #[serde(default = "default_activity_status")]
    pub status: ActivityStatus,
    #[serde(default, with = "crate::text::iso_date::option")]
    pub review_date: Option<Date>,
}

/// The record of processing activities (Art. 30).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activities {}

pub type ActivityId = Id<Activities>;

/// A stored activity.
pub type ProcessingActivity = Record<Activities>;

/// What an activity's record shows besides its fields: who created it, and what its
/// record still lacks for Art. 30 (computed by the store from the fields and the
/// organisation profile, in the transaction that reads or writes the activity).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ActivityDerived {
    pub created_by: Option<UserId>,
    pub missing: Vec<crate::Gap>,
}

/// The activities list's filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActivityFilter {
    pub status: Option<ActivityStatus>,
    pub role: Option<ActivityRole>,
    pub owner: Option<UserId>,
    pub lawful_basis: Option<LawfulBasis>,
    pub processor: Option<ProcessorId>,
    /// Case-insensitive substring of the name.
    pub search: Option<String>,
}

impl RecordKind for Activities {
    const ENTITY: &'static str = "processing_activity";
    const ACTIONS: RecordActions = RecordActions {
        created: AuditAction::known("processing_activity.created"),
        updated: AuditAction::known("processing_activity.updated"),
        deleted: AuditAction::known("processing_activity.deleted"),
    };
    type Fields = ActivityFields;
    type Derived = ActivityDerived;
    type Filter = ActivityFilter;

    fn validated(fields: ActivityFields) -> Result<ActivityFields, ValidationErrors> {
        fields.validated()
    }

    fn label(fields: &ActivityFields) -> &str {
        &fields.name
    }

    /// The owner must be a user of the tenant, each linked processor a processor of it.
    fn references(fields: &ActivityFields) -> Vec<Reference> {
        let owner = fields
            .owner_id
            .map(|owner| Reference::member("owner_id", owner));
        let links = (fields.processor_ids.iter().enumerate())
            .map(|(i, id)| Reference::to(format!("processor_ids[{i}]"), *id));
        owner.into_iter().chain(links).collect()
    }

    fn derived_at_creation(actor: Option<UserId>) -> ActivityDerived {
        ActivityDerived {
            created_by: actor,
            missing: Vec::new(),
        }
    }
}

const LONG: usize = 5_000;

fn default_role() -> ActivityRole {
    ActivityRole::Controller
}

fn default_dpia() -> DpiaRequirement {
    DpiaRequirement::ToAssess
}

fn default_activity_status() -> ActivityStatus {
    ActivityStatus::Draft
}

impl ActivityFields {
    /// Checks sizes, formats and rules; trims and de-duplicates. All problems at once.
    pub fn validated(self) -> Result<Self, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let name = e.collect(text("name", &self.name, TextRule::line(200)));
        let description = e.collect(optional_text(
            "description",
            self.description.as_deref(),
            TextRule::block(LONG),
        ));
        let controller_name = e.collect(optional_text(
            "controller_name",
            self.controller_name.as_deref(),
            TextRule::line(300),
        ));
        let controller_contact = e.collect(optional_text(
            "controller_contact",
            self.controller_contact.as_deref(),
            TextRule::block(1000),
        ));
        if self.purposes.len() > 50 {
            e.push("purposes", "must have at most 50 entries");
        }
        let purposes: Vec<Purpose> = self
            .purposes
            .into_iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let description = e.collect(text(
                    &format!("purposes[{i}].description"),
                    &p.description,
                    TextRule::block(1000),
                ));
                let note = e.collect(optional_text(
                    &format!("purposes[{i}].legitimate_interest"),
                    p.legitimate_interest.as_deref(),
                    TextRule::block(LONG),
                ));
                Some(Purpose {
                    description: description?,
                    lawful_basis: p.lawful_basis,
                    legitimate_interest: note?,
                })
            })
            .collect();
        let subjects = e.collect(text_list(
            "data_subject_categories",
            &self.data_subject_categories,
            100,
            200,
        ));
        if self.data_categories.len() > 200 {
            e.push("data_categories", "must have at most 200 entries");
        }
        let data_categories: Vec<DataCategory> = self
            .data_categories
            .into_iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let name = e.collect(text(
                    &format!("data_categories[{i}].name"),
                    &c.name,
                    TextRule::line(200),
                ));
                let retention = e.collect(optional_text(
                    &format!("data_categories[{i}].retention"),
                    c.retention.as_deref(),
                    TextRule::block(1000),
                ));
                Some(DataCategory {
                    name: name?,
                    retention: retention?,
                    ..c
                })
            })
            .collect();
        let recipients = e.collect(text_list(
            "recipient_categories",
            &self.recipient_categories,
            100,
            300,
        ));
        if self.transfers.len() > 100 {
            e.push("transfers", "must have at most 100 entries");
        }
        let transfers: Vec<Transfer> = self
            .transfers
            .into_iter()
            .enumerate()
            .filter_map(|(i, t)| {
                if t.country.is_eea() {
                    e.push(
                        format!("transfers[{i}].country"),
                        "is in the EU/EEA: not a third-country transfer",
                    );
                }
                let recipient = e.collect(optional_text(
                    &format!("transfers[{i}].recipient"),
                    t.recipient.as_deref(),
                    TextRule::line(300),
                ));
                let safeguards = e.collect(optional_text(
                    &format!("transfers[{i}].safeguards"),
                    t.safeguards.as_deref(),
                    TextRule::block(LONG),
                ));
                Some(Transfer {
                    recipient: recipient?,
                    safeguards: safeguards?,
                    ..t
                })
            })
            .collect();
        let security = e.collect(optional_text(
            "security_measures",
            self.security_measures.as_deref(),
            TextRule::block(LONG),
        ));
        let source = e.collect(optional_text(
            "data_source",
            self.data_source.as_deref(),
            TextRule::block(1000),
        ));
        let adm_details = e.collect(optional_text(
            "automated_decision_details",
            self.automated_decision_details.as_deref(),
            TextRule::block(LONG),
        ));
        let dpia_reason = e.collect(optional_text(
            "dpia_reason",
            self.dpia_reason.as_deref(),
            TextRule::block(LONG),
        ));
        let department = e.collect(optional_text(
            "department",
            self.department.as_deref(),
            TextRule::line(200),
        ));
        if self.processor_ids.len() > 100 {
            e.push("processor_ids", "must have at most 100 entries");
        }
        let mut processor_ids = self.processor_ids;
        processor_ids.sort();
        processor_ids.dedup();
        e.into_result()?;
        Ok(Self {
            name: name.unwrap_or_default(),
            description: description.flatten(),
            role: self.role,
            controller_name: controller_name.flatten(),
            controller_contact: controller_contact.flatten(),
            purposes,
            data_subject_categories: subjects.unwrap_or_default(),
            data_categories,
            recipient_categories: recipients.unwrap_or_default(),
            transfers,
            security_measures: security.flatten(),
            data_source: source.flatten(),
            automated_decision_making: self.automated_decision_making,
            automated_decision_details: adm_details.flatten(),
            dpia_required: self.dpia_required,
            dpia_reason: dpia_reason.flatten(),
            owner_id: self.owner_id,
            department: department.flatten(),
            processor_ids,
            status: self.status,
            review_date: self.review_date,
        })
    }
}
