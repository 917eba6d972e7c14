//! The registers' bodies: the organisation profile, processing activities, processors,
//! policies with their versions, completeness and the export.

use std::collections::BTreeMap;

use aura_gdpr_registers::{
    Activities, ActivityDerived, ActivityFields, ActivityRole, ActivityStatus, Art9Condition,
    Art28Clauses, CompletenessSummary, Contact, CountryCode, DataCategory, DpaStatus,
    DpiaRequirement, ExportedActivity, Gap, JointController, LawfulBasis, LinkedProcessor,
    OrganisationProfile, Policies, PolicyFields, PolicyKind, PolicyState, PolicyStatus,
    PolicyVersion, ProcessorFields, ProcessorLinks, Processors, Purpose, RecordKind,
    RegisterExport, StoredOrganisation, Transfer, TransferMechanism, VersionStatus,
};
use aura_records::Id;
use aura_shared_kernel::{TimeZoneName, UserId};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    country_code, one_of, one_of_or_null, optional_country_code,
    record::{RecordBodies, RecordBody, RecordList},
    time_zone,
};

// ------------------------------------------------------------------ organisation

/// A person or body with contact details (DPO, EU representative, joint controller).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactBody {
    pub name: String,
    #[schema(format = Email)]
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
}

impl From<ContactBody> for Contact {
    fn from(b: ContactBody) -> Self {
        Self {
            name: b.name,
            email: b.email,
            phone: b.phone,
            address: b.address,
        }
    }
}

impl From<Contact> for ContactBody {
    fn from(c: Contact) -> Self {
        Self {
            name: c.name,
            email: c.email,
            phone: c.phone,
            address: c.address,
        }
    }
}

/// A joint controller (Art. 26) and what it is responsible for.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JointControllerBody {
    pub contact: ContactBody,
    pub responsibilities: Option<String>,
}

/// The organisation profile (controller details, Art. 30(1)(a)).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"legal_name": "Acme GmbH", "address": "Hauptstraße 1, Berlin", "country": "DE", "time_zone": "Europe/Berlin", "contact_email": "privacy@acme.example", "dpo": {"name": "Jana Schmidt", "email": "dpo@acme.example"}}))]
pub struct OrganisationProfileBody {
    pub legal_name: String,
    pub address: Option<String>,
    /// Where the organisation is established (ISO 3166-1 alpha-2): its public holidays
    /// count in the legal clocks, e.g. a data-subject request's due date.
    #[serde(default)]
    #[schema(schema_with = optional_country_code)]
    pub country: Option<CountryCode>,
    /// The organisation's time zone (default `UTC`): deadlines are instants, and the
    /// answers say them in UTC and in this zone.
    #[serde(default)]
    #[schema(schema_with = time_zone)]
    pub time_zone: TimeZoneName,
    #[schema(format = Email)]
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub dpo: Option<ContactBody>,
    /// Why no DPO is designated (Art. 37 does not apply), when there is none.
    pub dpo_not_required_reason: Option<String>,
    pub eu_representative: Option<ContactBody>,
    #[serde(default)]
    pub joint_controllers: Vec<JointControllerBody>,
}

impl From<OrganisationProfileBody> for OrganisationProfile {
    fn from(b: OrganisationProfileBody) -> Self {
        Self {
            legal_name: b.legal_name,
            address: b.address,
            country: b.country,
            time_zone: b.time_zone,
            contact_email: b.contact_email,
            contact_phone: b.contact_phone,
            dpo: b.dpo.map(Into::into),
            dpo_not_required_reason: b.dpo_not_required_reason,
            eu_representative: b.eu_representative.map(Into::into),
            joint_controllers: b
                .joint_controllers
                .into_iter()
                .map(|jc| JointController {
                    contact: jc.contact.into(),
                    responsibilities: jc.responsibilities,
                })
                .collect(),
        }
    }
}

impl From<OrganisationProfile> for OrganisationProfileBody {
    fn from(p: OrganisationProfile) -> Self {
        Self {
            legal_name: p.legal_name,
            address: p.address,
            country: p.country,
            time_zone: p.time_zone,
            contact_email: p.contact_email,
            contact_phone: p.contact_phone,
            dpo: p.dpo.map(Into::into),
            dpo_not_required_reason: p.dpo_not_required_reason,
            eu_representative: p.eu_representative.map(Into::into),
            joint_controllers: p
                .joint_controllers
                .into_iter()
                .map(|jc| JointControllerBody {
                    contact: jc.contact.into(),
                    responsibilities: jc.responsibilities,
                })
                .collect(),
        }
    }
}

/// The stored organisation profile with its concurrency version (also the `ETag`).
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationBody {
    pub profile: OrganisationProfileBody,
    pub version: i32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub updated_at: Option<OffsetDateTime>,
}

impl From<StoredOrganisation> for OrganisationBody {
    fn from(s: StoredOrganisation) -> Self {
        Self {
            profile: s.profile.into(),
            version: s.version,
            updated_at: s.updated_at,
        }
    }
}

// ------------------------------------------------------------------ activities

/// A purpose of the processing with its lawful basis (Art. 6(1)).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PurposeBody {
    pub description: String,
    #[schema(schema_with = one_of::<LawfulBasis>)]
    pub lawful_basis: LawfulBasis,
    /// The legitimate-interest assessment (reference or summary) where the basis is (f).
    pub legitimate_interest: Option<String>,
}

/// A category of personal data with its retention (Art. 30(1)(c), (f)).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DataCategoryBody {
    pub name: String,
    /// Set for special-category data (Art. 9): the condition relied on.
    #[schema(schema_with = one_of_or_null::<Art9Condition>)]
    pub special_category: Option<Art9Condition>,
    /// Personal data relating to criminal convictions and offences (Art. 10).
    #[serde(default)]
    pub criminal_offence_data: bool,
    /// When the data is erased, e.g. "6 years after the end of the contract".
    pub retention: Option<String>,
}

/// A transfer to a third country or international organisation (Art. 30(1)(e)).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    #[schema(schema_with = country_code)]
    pub country: CountryCode,
    pub recipient: Option<String>,
    #[schema(schema_with = one_of::<TransferMechanism>)]
    pub mechanism: TransferMechanism,
    pub safeguards: Option<String>,
}

/// Everything a user edits about a processing activity (create, and update: send all).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Newsletter", "role": "controller", "status": "active",
    "purposes": [{"description": "Send product news", "lawful_basis": "consent"}],
    "data_subject_categories": ["subscribers"],
    "data_categories": [{"name": "e-mail address", "retention": "until consent is withdrawn"}],
    "recipient_categories": ["mailing service"],
    "transfers": [{"country": "US", "mechanism": "standard_contractual_clauses", "recipient": "Mail Inc."}],
    "security_measures": "TLS, MFA, access control", "dpia_required": "no"}))]
pub struct ActivityFieldsBody {
    pub name: String,
    pub description: Option<String>,
    /// Default `controller`.
    #[serde(default = "default_role")]
    #[schema(schema_with = one_of::<ActivityRole>)]
    pub role: ActivityRole,
    /// For processor activities: the controller the tenant acts for (Art. 30(2)(a)).
    pub controller_name: Option<String>,
    pub controller_contact: Option<String>,
    #[serde(default)]
    pub purposes: Vec<PurposeBody>,
    #[serde(default)]
    pub data_subject_categories: Vec<String>,
    #[serde(default)]
    pub data_categories: Vec<DataCategoryBody>,
    #[serde(default)]
    pub recipient_categories: Vec<String>,
    #[serde(default)]
    pub transfers: Vec<TransferBody>,
    /// A general description of the technical and organisational measures (Art. 32).
    pub security_measures: Option<String>,
    pub data_source: Option<String>,
    /// Automated decision-making including profiling (Art. 22).
    #[serde(default)]
    pub automated_decision_making: bool,
    pub automated_decision_details: Option<String>,
    /// Default `to_assess`.
    #[serde(default = "default_dpia")]
    #[schema(schema_with = one_of::<DpiaRequirement>)]
    pub dpia_required: DpiaRequirement,
    pub dpia_reason: Option<String>,
    #[schema(value_type = Option<Uuid>)]
    pub owner_id: Option<UserId>,
    pub department: Option<String>,
    /// The processors this activity uses.
    #[serde(default)]
    pub processor_ids: Vec<Uuid>,
    /// Default `draft`.
    #[serde(default = "default_activity_status")]
    #[schema(schema_with = one_of::<ActivityStatus>)]
    pub status: ActivityStatus,
    #[serde(default, with = "aura_shared_kernel::date::iso_date::option")]
    pub review_date: Option<Date>,
}

fn default_role() -> ActivityRole {
    ActivityRole::Controller
}

fn default_dpia() -> DpiaRequirement {
    DpiaRequirement::ToAssess
}

fn default_activity_status() -> ActivityStatus {
    ActivityStatus::Draft
}

impl From<PurposeBody> for Purpose {
    fn from(b: PurposeBody) -> Self {
        Self {
            description: b.description,
            lawful_basis: b.lawful_basis,
            legitimate_interest: b.legitimate_interest,
        }
    }
}

impl From<Purpose> for PurposeBody {
    fn from(p: Purpose) -> Self {
        Self {
            description: p.description,
            lawful_basis: p.lawful_basis,
            legitimate_interest: p.legitimate_interest,
        }
    }
}

impl From<DataCategoryBody> for DataCategory {
    fn from(b: DataCategoryBody) -> Self {
        Self {
            name: b.name,
            special_category: b.special_category,
            criminal_offence_data: b.criminal_offence_data,
            retention: b.retention,
        }
    }
}

impl From<DataCategory> for DataCategoryBody {
    fn from(c: DataCategory) -> Self {
        Self {
            name: c.name,
            special_category: c.special_category,
            criminal_offence_data: c.criminal_offence_data,
            retention: c.retention,
        }
    }
}

impl From<TransferBody> for Transfer {
    fn from(b: TransferBody) -> Self {
        Self {
            country: b.country,
            recipient: b.recipient,
            mechanism: b.mechanism,
            safeguards: b.safeguards,
        }
    }
}

impl From<Transfer> for TransferBody {
    fn from(t: Transfer) -> Self {
        Self {
            country: t.country,
            recipient: t.recipient,
            mechanism: t.mechanism,
            safeguards: t.safeguards,
        }
    }
}

fn convert<A: Into<B>, B>(items: Vec<A>) -> Vec<B> {
    items.into_iter().map(Into::into).collect()
}

impl From<ActivityFieldsBody> for ActivityFields {
    fn from(b: ActivityFieldsBody) -> Self {
        Self {
            name: b.name,
            description: b.description,
            role: b.role,
            controller_name: b.controller_name,
            controller_contact: b.controller_contact,
            purposes: convert(b.purposes),
            data_subject_categories: b.data_subject_categories,
            data_categories: convert(b.data_categories),
            recipient_categories: b.recipient_categories,
            transfers: convert(b.transfers),
            security_measures: b.security_measures,
            data_source: b.data_source,
            automated_decision_making: b.automated_decision_making,
            automated_decision_details: b.automated_decision_details,
            dpia_required: b.dpia_required,
            dpia_reason: b.dpia_reason,
            owner_id: b.owner_id,
            department: b.department,
            processor_ids: b.processor_ids.into_iter().map(Id::from_uuid).collect(),
            status: b.status,
            review_date: b.review_date,
        }
    }
}

impl From<ActivityFields> for ActivityFieldsBody {
    fn from(f: ActivityFields) -> Self {
        Self {
            name: f.name,
            description: f.description,
            role: f.role,
            controller_name: f.controller_name,
            controller_contact: f.controller_contact,
            purposes: convert(f.purposes),
            data_subject_categories: f.data_subject_categories,
            data_categories: convert(f.data_categories),
            recipient_categories: f.recipient_categories,
            transfers: convert(f.transfers),
            security_measures: f.security_measures,
            data_source: f.data_source,
            automated_decision_making: f.automated_decision_making,
            automated_decision_details: f.automated_decision_details,
            dpia_required: f.dpia_required,
            dpia_reason: f.dpia_reason,
            owner_id: f.owner_id,
            department: f.department,
            processor_ids: f.processor_ids.iter().map(Id::as_uuid).collect(),
            status: f.status,
            review_date: f.review_date,
        }
    }
}

/// An item of Art. 30 a record still lacks: the provision, the field to fill, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct GapBody {
    /// e.g. `30(1)(b)`.
    #[schema(example = "30(1)(b)")]
    pub article: String,
    pub field: String,
    pub message: String,
}

impl From<Gap> for GapBody {
    fn from(g: Gap) -> Self {
        Self {
            article: g.article.to_owned(),
            field: g.field,
            message: g.message.to_owned(),
        }
    }
}

/// What the store derives for an activity: who created it and what its record still
/// lacks.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityDerivedBody {
    #[schema(value_type = Option<Uuid>)]
    pub created_by: Option<UserId>,
    /// The Art. 30 items this record still lacks.
    pub missing: Vec<GapBody>,
}

impl RecordBodies for Activities {
    const BODY_NAME: &'static str = "ActivityBody";
    const BODY_DESCRIPTION: &'static str = "A stored processing activity with what its record \
        still lacks (`missing`); its `version` is the `ETag`.";
    const LIST_NAME: &'static str = "ActivityList";
    const LIST_DESCRIPTION: &'static str = "A page of processing activities.";
    type FieldsBody = ActivityFieldsBody;
    type DerivedBody = ActivityDerivedBody;

    fn bodies(
        fields: ActivityFields,
        derived: ActivityDerived,
    ) -> (ActivityFieldsBody, ActivityDerivedBody) {
        let derived = ActivityDerivedBody {
            created_by: derived.created_by,
            missing: convert(derived.missing),
        };
        (fields.into(), derived)
    }
}

/// A stored processing activity with what its record still lacks (`missing`).
pub type ActivityBody = RecordBody<Activities>;

/// A page of processing activities.
pub type ActivityList = RecordList<Activities>;

/// How complete the register is.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompletenessBody {
    pub activities: usize,
    pub complete: usize,
    pub incomplete: usize,
    /// Article item (e.g. `30(1)(b)`) → number of activities lacking it.
    pub missing_by_article: BTreeMap<String, usize>,
}

impl From<CompletenessSummary> for CompletenessBody {
    fn from(s: CompletenessSummary) -> Self {
        Self {
            activities: s.activities,
            complete: s.complete,
            incomplete: s.incomplete,
            missing_by_article: s
                .missing_by_article
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
        }
    }
}

// ------------------------------------------------------------------ processors

/// Which of the processor duties of Art. 28(3)(a)–(h) the contract covers (each
/// defaults to false).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Art28ClausesBody {
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

impl From<Art28ClausesBody> for Art28Clauses {
    fn from(b: Art28ClausesBody) -> Self {
        Self {
            documented_instructions: b.documented_instructions,
            confidentiality: b.confidentiality,
            security: b.security,
            sub_processors: b.sub_processors,
            data_subject_rights: b.data_subject_rights,
            assistance: b.assistance,
            deletion_or_return: b.deletion_or_return,
            audits: b.audits,
        }
    }
}

impl From<Art28Clauses> for Art28ClausesBody {
    fn from(c: Art28Clauses) -> Self {
        Self {
            documented_instructions: c.documented_instructions,
            confidentiality: c.confidentiality,
            security: c.security,
            sub_processors: c.sub_processors,
            data_subject_rights: c.data_subject_rights,
            assistance: c.assistance,
            deletion_or_return: c.deletion_or_return,
            audits: c.audits,
        }
    }
}

/// Everything a user edits about a processor (create, and update: send all).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Cloud Inc.", "country": "US", "services": "hosting",
    "transfer_mechanism": "standard_contractual_clauses", "dpa_status": "signed", "dpa_signed_on": "2026-01-15",
    "clauses": {"documented_instructions": true, "confidentiality": true, "security": true}}))]
pub struct ProcessorFieldsBody {
    pub name: String,
    pub contact_name: Option<String>,
    #[schema(format = Email)]
    pub contact_email: Option<String>,
    #[schema(schema_with = optional_country_code)]
    pub country: Option<CountryCode>,
    pub services: Option<String>,
    #[serde(default)]
    pub data_categories: Vec<String>,
    #[schema(schema_with = one_of_or_null::<TransferMechanism>)]
    pub transfer_mechanism: Option<TransferMechanism>,
    /// Default `none`.
    #[serde(default = "default_dpa_status")]
    #[schema(schema_with = one_of::<DpaStatus>)]
    pub dpa_status: DpaStatus,
    #[serde(default, with = "aura_shared_kernel::date::iso_date::option")]
    pub dpa_signed_on: Option<Date>,
    /// When the agreement is due for review or expires.
    #[serde(default, with = "aura_shared_kernel::date::iso_date::option")]
    pub dpa_review_on: Option<Date>,
    #[serde(default)]
    pub clauses: Art28ClausesBody,
    /// For a sub-processor: the processor that engages it.
    pub parent_id: Option<Uuid>,
}

fn default_dpa_status() -> DpaStatus {
    DpaStatus::None
}

impl From<ProcessorFieldsBody> for ProcessorFields {
    fn from(b: ProcessorFieldsBody) -> Self {
        Self {
            name: b.name,
            contact_name: b.contact_name,
            contact_email: b.contact_email,
            country: b.country,
            services: b.services,
            data_categories: b.data_categories,
            transfer_mechanism: b.transfer_mechanism,
            dpa_status: b.dpa_status,
            dpa_signed_on: b.dpa_signed_on,
            dpa_review_on: b.dpa_review_on,
            clauses: b.clauses.into(),
            parent_id: b.parent_id.map(Id::from_uuid),
        }
    }
}

impl From<ProcessorFields> for ProcessorFieldsBody {
    fn from(f: ProcessorFields) -> Self {
        Self {
            name: f.name,
            contact_name: f.contact_name,
            contact_email: f.contact_email,
            country: f.country,
            services: f.services,
            data_categories: f.data_categories,
            transfer_mechanism: f.transfer_mechanism,
            dpa_status: f.dpa_status,
            dpa_signed_on: f.dpa_signed_on,
            dpa_review_on: f.dpa_review_on,
            clauses: f.clauses.into(),
            parent_id: f.parent_id.map(|p| p.as_uuid()),
        }
    }
}

/// What the store derives for a processor: the activities that link to it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProcessorLinksBody {
    pub activity_ids: Vec<Uuid>,
}

impl RecordBodies for Processors {
    const BODY_NAME: &'static str = "ProcessorBody";
    const BODY_DESCRIPTION: &'static str =
        "A stored processor; `activity_ids` are the activities that link to it (read-only).";
    const LIST_NAME: &'static str = "ProcessorList";
    const LIST_DESCRIPTION: &'static str = "A page of processors.";
    type FieldsBody = ProcessorFieldsBody;
    type DerivedBody = ProcessorLinksBody;

    fn bodies(
        fields: ProcessorFields,
        links: ProcessorLinks,
    ) -> (ProcessorFieldsBody, ProcessorLinksBody) {
        let links = ProcessorLinksBody {
            activity_ids: links.activity_ids.iter().map(Id::as_uuid).collect(),
        };
        (fields.into(), links)
    }
}

/// A stored processor with the activities that link to it.
pub type ProcessorBody = RecordBody<Processors>;

/// A page of processors.
pub type ProcessorList = RecordList<Processors>;

// ------------------------------------------------------------------ policies

/// Everything a user edits about a policy (create, and update: send all).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Privacy policy (website)", "kind": "privacy_policy", "review_interval_months": 12}))]
pub struct PolicyFieldsBody {
    pub title: String,
    #[schema(schema_with = one_of::<PolicyKind>)]
    pub kind: PolicyKind,
    #[schema(value_type = Option<Uuid>)]
    pub owner_id: Option<UserId>,
    /// Months between reviews (1–60); the next review date follows publication.
    pub review_interval_months: Option<u8>,
    #[serde(default, with = "aura_shared_kernel::date::iso_date::option")]
    pub next_review_date: Option<Date>,
    /// Default `draft`.
    #[serde(default = "default_policy_status")]
    #[schema(schema_with = one_of::<PolicyStatus>)]
    pub status: PolicyStatus,
}

fn default_policy_status() -> PolicyStatus {
    PolicyStatus::Draft
}

impl From<PolicyFieldsBody> for PolicyFields {
    fn from(b: PolicyFieldsBody) -> Self {
        Self {
            title: b.title,
            kind: b.kind,
            owner_id: b.owner_id,
            review_interval_months: b.review_interval_months,
            next_review_date: b.next_review_date,
            status: b.status,
        }
    }
}

impl From<PolicyFields> for PolicyFieldsBody {
    fn from(f: PolicyFields) -> Self {
        Self {
            title: f.title,
            kind: f.kind,
            owner_id: f.owner_id,
            review_interval_months: f.review_interval_months,
            next_review_date: f.next_review_date,
            status: f.status,
        }
    }
}

/// What the store derives for a policy: its published version.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyStateBody {
    /// The number of the published version, if any.
    pub current_version: Option<i32>,
}

impl RecordBodies for Policies {
    const BODY_NAME: &'static str = "PolicyBody";
    const BODY_DESCRIPTION: &'static str =
        "A stored policy; `current_version` is the number of its published version.";
    const LIST_NAME: &'static str = "PolicyList";
    const LIST_DESCRIPTION: &'static str = "A page of policies.";
    type FieldsBody = PolicyFieldsBody;
    type DerivedBody = PolicyStateBody;

    fn bodies(fields: PolicyFields, state: PolicyState) -> (PolicyFieldsBody, PolicyStateBody) {
        let state = PolicyStateBody {
            current_version: state.current_version,
        };
        (fields.into(), state)
    }
}

/// A stored policy with the number of its published version.
pub type PolicyBody = RecordBody<Policies>;

/// A page of policies.
pub type PolicyList = RecordList<Policies>;

/// One version of a policy's text (Markdown); its `version` is the `ETag`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyVersionBody {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub policy_id: Uuid,
    /// 1, 2, 3… per policy.
    pub number: i32,
    pub content: String,
    #[schema(schema_with = one_of::<VersionStatus>)]
    pub status: VersionStatus,
    pub change_note: Option<String>,
    #[schema(value_type = Option<Uuid>)]
    pub created_by: Option<UserId>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[schema(value_type = Option<Uuid>)]
    pub published_by: Option<UserId>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub published_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub retired_at: Option<OffsetDateTime>,
    /// Concurrency version of this row.
    pub version: i32,
}

impl From<PolicyVersion> for PolicyVersionBody {
    fn from(v: PolicyVersion) -> Self {
        Self {
            id: v.id.as_uuid(),
            tenant_id: v.tenant_id.as_uuid(),
            policy_id: v.policy_id.as_uuid(),
            number: v.number,
            content: v.content,
            status: v.status,
            change_note: v.change_note,
            created_by: v.created_by,
            created_at: v.created_at,
            published_by: v.published_by,
            published_at: v.published_at,
            retired_at: v.retired_at,
            version: v.version,
        }
    }
}

/// A policy's versions, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyVersionList {
    pub items: Vec<PolicyVersionBody>,
}

// ------------------------------------------------------------------ export

/// A processor as listed beside an exported activity.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkedProcessorBody {
    pub id: Uuid,
    pub name: String,
    pub country: Option<String>,
    #[schema(schema_with = one_of::<DpaStatus>)]
    pub dpa_status: String,
    pub parent_id: Option<Uuid>,
}

impl From<LinkedProcessor> for LinkedProcessorBody {
    fn from(p: LinkedProcessor) -> Self {
        Self {
            id: p.id.as_uuid(),
            name: p.name,
            country: p.country,
            dpa_status: p.dpa_status,
            parent_id: p.parent_id.map(|p| p.as_uuid()),
        }
    }
}

/// An activity in the export: the activity, the processors it uses and what it lacks.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedActivityBody {
    #[serde(flatten)]
    pub activity: ActivityBody,
    pub processors: Vec<LinkedProcessorBody>,
}

impl From<ExportedActivity> for ExportedActivityBody {
    fn from(e: ExportedActivity) -> Self {
        Self {
            activity: e.activity.into(),
            processors: convert(e.processors),
        }
    }
}

/// The record of processing activities for the supervisory authority (Art. 30(4)).
#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterExportBody {
    #[schema(schema_with = one_of::<RecordKind>)]
    pub record: RecordKind,
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    pub organisation: Option<OrganisationProfileBody>,
    pub completeness: CompletenessBody,
    pub activities: Vec<ExportedActivityBody>,
    /// The processors the activities use, with the parents of sub-processors.
    pub processors: Vec<ProcessorBody>,
}

impl From<RegisterExport> for RegisterExportBody {
    fn from(e: RegisterExport) -> Self {
        Self {
            record: e.record,
            generated_at: e.generated_at,
            organisation: e.organisation.map(Into::into),
            completeness: e.completeness.into(),
            activities: convert(e.activities),
            processors: convert(e.processors),
        }
    }
}

#[cfg(test)]
mod tests {
    //! The bodies put on the wire exactly what the domain types serialized to before they
    //! existed, and read requests exactly as the domain types did.

    use aura_gdpr_registers::{Policy, ProcessingActivity, Processor, activity_gaps};
    use aura_shared_kernel::TenantId;
    use serde_json::{Value, json};
    use time::macros::datetime;

    use super::*;

    fn same<D: Serialize, B: Serialize>(domain: &D, body: &B) {
        let domain = serde_json::to_value(domain).expect("domain serializes");
        let body = serde_json::to_value(body).expect("body serializes");
        assert_eq!(domain, body);
    }

    fn activity_json() -> Value {
        json!({
            "name": "Newsletter", "description": "Monthly news", "role": "processor",
            "controller_name": "Client AG", "controller_contact": "privacy@client.example",
            "purposes": [{"description": "Send news", "lawful_basis": "legitimate_interests",
                "legitimate_interest": "LIA-7"}],
            "data_subject_categories": ["subscribers"],
            "data_categories": [{"name": "health", "special_category": "explicit_consent",
                "criminal_offence_data": true, "retention": "2 years"}],
            "recipient_categories": ["mail service"],
            "transfers": [{"country": "us", "recipient": "Mail Inc.",
                "mechanism": "standard_contractual_clauses", "safeguards": "SCC 2021"}],
            "security_measures": "TLS", "data_source": "web form",
            "automated_decision_making": true, "automated_decision_details": "scoring",
            "dpia_required": "yes", "dpia_reason": "special categories",
            "owner_id": "0193a0c4-5b6e-7c3d-9f00-3a1b2c3d4e5f", "department": "Marketing",
            "processor_ids": ["0193a0c4-1111-7c3d-9f00-3a1b2c3d4e5f"], "status": "active",
            "review_date": "2027-01-31"
        })
    }

    fn read<D: serde::de::DeserializeOwned>(value: &Value) -> Result<D, String> {
        serde_json::from_value(value.clone()).map_err(|e| e.to_string())
    }

    #[test]
    fn activity_requests_read_as_the_domain_reads_them() {
        let full = activity_json();
        let direct: ActivityFields = read(&full).expect("domain reads it");
        let via: ActivityFieldsBody = read(&full).expect("body reads it");
        assert_eq!(ActivityFields::from(via.clone()), direct);
        same(&direct, &via);
        let minimal = json!({"name": "Payroll"});
        assert_eq!(
            read::<ActivityFieldsBody>(&minimal).map(ActivityFields::from),
            read::<ActivityFields>(&minimal)
        );
        for bad in [
            json!({"name": "x", "surprise": 1}),
            json!({"name": "x", "role": "owner"}),
            json!({"name": "x", "transfers": [{"country": "XX", "mechanism": "adequacy_decision"}]}),
            json!({"description": "no name"}),
        ] {
            let direct = read::<ActivityFields>(&bad).expect_err("domain refuses");
            let via = read::<ActivityFieldsBody>(&bad).expect_err("body refuses");
            assert_eq!(via, direct, "{bad}");
        }
        // Dates: the body takes the kernel's plausible range, stricter than storage.
        let malformed = json!({"name": "x", "review_date": "31.01.2027"});
        assert!(read::<ActivityFields>(&malformed).is_err());
        let refused = read::<ActivityFieldsBody>(&malformed).expect_err("body refuses");
        assert!(refused.contains("YYYY-MM-DD"), "{refused}");
        let implausible = json!({"name": "x", "review_date": "9999-01-01"});
        let refused = read::<ActivityFieldsBody>(&implausible).expect_err("body refuses");
        assert!(
            refused.contains("between 1900-01-01 and 2200-12-31"),
            "{refused}"
        );
    }

    #[test]
    fn activity_answers_serialize_as_the_domain_records_did() {
        let fields: ActivityFields = read(&activity_json()).expect("fields");
        let activity = ProcessingActivity {
            id: Id::from_uuid(Uuid::from_u128(7)),
            tenant_id: TenantId::from_uuid(Uuid::from_u128(1)),
            fields: fields.clone(),
            derived: ActivityDerived {
                created_by: Some(UserId::from_uuid(Uuid::from_u128(2))),
                missing: activity_gaps(&fields, None),
            },
            version: 3,
            created_at: datetime!(2026-01-02 03:04:05 UTC),
            updated_at: datetime!(2026-02-02 03:04:05 UTC),
        };
        assert!(!activity.derived.missing.is_empty());
        same(&activity, &ActivityBody::from(activity.clone()));
    }

    #[test]
    fn processor_policy_and_version_bodies_match_the_domain() {
        let fields = json!({"name": "Cloud Inc.", "contact_name": "Ops", "contact_email": "ops@cloud.example",
            "country": "us", "services": "hosting", "data_categories": ["logs"],
            "transfer_mechanism": "standard_contractual_clauses", "dpa_status": "signed",
            "dpa_signed_on": "2026-01-15", "dpa_review_on": "2027-01-15",
            "clauses": {"documented_instructions": true, "audits": true},
            "parent_id": "0193a0c4-1111-7c3d-9f00-3a1b2c3d4e5f"});
        let direct: ProcessorFields = read(&fields).expect("domain reads it");
        let via: ProcessorFieldsBody = read(&fields).expect("body reads it");
        assert_eq!(ProcessorFields::from(via), direct);
        let processor = Processor {
            id: Id::from_uuid(Uuid::from_u128(9)),
            tenant_id: TenantId::from_uuid(Uuid::from_u128(1)),
            fields: direct,
            derived: ProcessorLinks {
                activity_ids: vec![Id::from_uuid(Uuid::from_u128(7))],
            },
            version: 2,
            created_at: datetime!(2026-01-02 03:04:05 UTC),
            updated_at: datetime!(2026-02-02 03:04:05 UTC),
        };
        same(&processor, &ProcessorBody::from(processor.clone()));

        let fields = json!({"title": "Privacy", "kind": "privacy_policy",
            "owner_id": "0193a0c4-5b6e-7c3d-9f00-3a1b2c3d4e5f", "review_interval_months": 12,
            "next_review_date": "2027-03-01", "status": "active"});
        let direct: PolicyFields = read(&fields).expect("domain reads it");
        let via: PolicyFieldsBody = read(&fields).expect("body reads it");
        assert_eq!(PolicyFields::from(via), direct);
        let bad = json!({"title": "x", "kind": "poem"});
        assert_eq!(
            read::<PolicyFieldsBody>(&bad).map(PolicyFields::from),
            read::<PolicyFields>(&bad)
        );
        let policy = Policy {
            id: Id::from_uuid(Uuid::from_u128(11)),
            tenant_id: TenantId::from_uuid(Uuid::from_u128(1)),
            fields: direct,
            derived: PolicyState {
                current_version: Some(2),
            },
            version: 4,
            created_at: datetime!(2026-01-02 03:04:05 UTC),
            updated_at: datetime!(2026-02-02 03:04:05 UTC),
        };
        same(&policy, &PolicyBody::from(policy.clone()));
        let version = PolicyVersion {
            id: Id::from_uuid(Uuid::from_u128(12)),
            tenant_id: TenantId::from_uuid(Uuid::from_u128(1)),
            policy_id: Id::from_uuid(Uuid::from_u128(11)),
            number: 2,
            content: "# Text".into(),
            status: VersionStatus::Published,
            change_note: Some("typos".into()),
            created_by: Some(UserId::from_uuid(Uuid::from_u128(2))),
            created_at: datetime!(2026-01-02 03:04:05 UTC),
            published_by: Some(UserId::from_uuid(Uuid::from_u128(3))),
            published_at: Some(datetime!(2026-01-03 03:04:05 UTC)),
            retired_at: None,
            version: 3,
        };
        same(&version, &PolicyVersionBody::from(version.clone()));
    }

    #[test]
    fn organisation_and_export_bodies_match_the_domain() {
        let profile = json!({"legal_name": "Acme GmbH", "address": "Berlin",
            "contact_email": "privacy@acme.example", "contact_phone": "+49 30 1",
            "dpo": {"name": "Jana", "email": "dpo@acme.example", "phone": null, "address": null},
            "dpo_not_required_reason": null,
            "eu_representative": {"name": "Rep", "email": null, "phone": "1", "address": "Dublin"},
            "joint_controllers": [{"contact": {"name": "Partner"}, "responsibilities": "notices"}]});
        let direct: OrganisationProfile = read(&profile).expect("domain reads it");
        let via: OrganisationProfileBody = read(&profile).expect("body reads it");
        assert_eq!(OrganisationProfile::from(via), direct);
        let stored = StoredOrganisation {
            profile: direct.clone(),
            version: 2,
            updated_at: Some(datetime!(2026-01-02 03:04:05 UTC)),
        };
        same(&stored, &OrganisationBody::from(stored.clone()));

        let fields: ActivityFields = read(&activity_json()).expect("fields");
        let processor_id = fields.processor_ids[0];
        let activity = ProcessingActivity {
            id: Id::from_uuid(Uuid::from_u128(7)),
            tenant_id: TenantId::from_uuid(Uuid::from_u128(1)),
            fields,
            derived: ActivityDerived::default(),
            version: 1,
            created_at: datetime!(2026-01-02 03:04:05 UTC),
            updated_at: datetime!(2026-01-02 03:04:05 UTC),
        };
        let processor = Processor {
            id: processor_id,
            tenant_id: TenantId::from_uuid(Uuid::from_u128(1)),
            fields: read(&json!({"name": "Mail Inc.", "country": "US"})).expect("fields"),
            derived: ProcessorLinks {
                activity_ids: vec![activity.id],
            },
            version: 1,
            created_at: datetime!(2026-01-02 03:04:05 UTC),
            updated_at: datetime!(2026-01-02 03:04:05 UTC),
        };
        for kind in [RecordKind::Processor, RecordKind::Controller] {
            let export = aura_gdpr_registers::build_export(
                kind,
                Some(direct.clone()),
                vec![activity.clone()],
                vec![processor.clone()],
                datetime!(2026-03-01 00:00:00 UTC),
            );
            same(&export, &RegisterExportBody::from(export.clone()));
            let summary = export.completeness.clone();
            same(&summary, &CompletenessBody::from(summary.clone()));
        }
    }
}
