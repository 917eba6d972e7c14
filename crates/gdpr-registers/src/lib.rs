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
pub use completeness::{
    CompletenessSummary, DpiaStanding, Gap, activity_gaps, activity_missing, dpia_gap,
};
pub use error::RegistersError;
pub use export::{
    CSV_COLUMNS, ExportedActivity, LinkedProcessor, RecordKind, RegisterExport, build_export,
    csv_rows, to_csv,
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
pub use rules::{Members, ParentChain};
pub use service::{RegisterPorts, Registers, add_months, entity};
pub use text::CountryCode;

/// The GDPR applies from 25 May 2018 (Art. 99(2)): the first instant that is 25 May
/// somewhere (UTC+14:00), so a request or breach of that morning in any organisation's
/// zone is taken; anything earlier is refused.
pub const GDPR_APPLIES_FROM: time::OffsetDateTime =
    time::macros::datetime!(2018-05-25 00:00 +14:00);

#[cfg(test)]
mod tests {
    use super::GDPR_APPLIES_FROM;
    use time::macros::datetime;

    #[test]
    fn the_gdpr_applies_from_the_first_moment_of_25_may_2018_anywhere() {
        // Art. 99(2): a Berlin morning of 25 May 2018 (CEST) is in; 24 May in UTC is out.
        assert!(datetime!(2018-05-25 07:00 +02:00) >= GDPR_APPLIES_FROM);
        assert!(datetime!(2018-05-25 00:00 +14:00) >= GDPR_APPLIES_FROM);
        assert!(datetime!(2018-05-24 23:59:59 +14:00) < GDPR_APPLIES_FROM);
        assert!(datetime!(2018-05-24 09:00 UTC) < GDPR_APPLIES_FROM);
    }
}
