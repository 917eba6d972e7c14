//! GDPR registers: the organisation profile (Art. 30(1)(a)), processing activities
//! (Art. 30(1) and 30(2)), processors with their Art. 28 agreements, and policies with
//! immutable published versions. Pure domain crate: types, rules, use cases, ports.

pub mod actions;
mod activity;
mod completeness;
pub mod csv;
mod error;
mod export;
mod organisation;
mod policy;
pub mod ports;
mod processor;
pub mod reviews;
mod rules;
mod service;
pub mod text;

pub use activity::{
    Activities, ActivityDerived, ActivityFields, ActivityFilter, ActivityId, ActivityRole,
    ActivityStatus, Art9Condition, DataCategory, DpiaRequirement, LawfulBasis, ProcessingActivity,
    Purpose, Transfer, TransferMechanism,
};
pub use aura_records::Source;
pub use completeness::{CompletenessSummary, Gap, activity_gaps};
pub use error::RegistersError;
pub use export::{
    ExportedActivity, LinkedProcessor, RecordKind, RegisterExport, build_export, to_csv,
};
pub use organisation::{Contact, JointController, OrganisationProfile, StoredOrganisation};
pub use policy::{
    Policies, Policy, PolicyFields, PolicyFilter, PolicyId, PolicyKind, PolicyState, PolicyStatus,
    PolicyVersion, PolicyVersionId, VersionStatus,
};
pub use processor::{
    Art28Clauses, DpaStatus, Processor, ProcessorFields, ProcessorFilter, ProcessorId,
    ProcessorLinks, Processors,
};
pub use rules::Members;
pub use service::{RegisterPorts, Registers, add_months, entity};
pub use text::CountryCode;
