//! Data protection impact assessments (Art. 35, 36 GDPR). Pure domain crate: the register
//! (`dpia`: the Art. 35(7) content, the DPO's advice (35(2)), the people's views (35(9)),
//! the review date (35(11)), the workflow draft → in review → approved or back to draft,
//! and what the record still lacks), the rules that keep an approved version immutable and
//! derive the description's pre-fill from the covered activities (`rules`), the Art. 36(2)
//! clock of the prior consultation (`clock`) and the actions (`cases`: submit, approve,
//! send back, start a revision, record the prior consultation, turn a measure into a task).
//!
//! # Versions
//!
//! An approved DPIA never changes. "Start revision" creates a new record, a draft with the
//! approved content, `revision_of` naming the approved one and `revision` one more; the
//! approved version stays readable and listed. The link (rather than numbered versions
//! inside one record, as policies keep them) keeps every version a plain kernel record
//! with its own id, audit trail and approval, and needs no second table.

pub mod cases;
pub mod clock;
pub mod dpia;
pub mod rules;

pub use cases::{ART_36_1, ConsultationRecord, DpiaCases};
pub use clock::{ANSWER_WEEKS, EXTENSION_WEEKS, answer_due};
pub use dpia::{
    APPROVE, DataSummary, Dpia, DpiaFields, DpiaFilter, DpiaGap, DpiaId, DpiaState, DpiaStatus,
    Dpias, DpoAdvice, Measure, MeasureStatus, MeasureType, NecessityItem, NecessityTopic,
    PriorConsultation, ProcessingSummary, PurposeSummary, Risk, RiskEvent, RiskLevel, Scale,
    TransferSummary, consultation_pending, risk_level,
};
pub use rules::DpiaRules;
