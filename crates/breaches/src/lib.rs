//! Personal-data breaches (Art. 33, 34 GDPR). Pure domain crate: the 72-hour clock
//! (`clock`), the register (`breach`: the record, its workflow and what it still lacks),
//! the rules that derive the deadline on every write (`rules`), what a breach takes from
//! the organisation profile and the register of activities (`defaults`: the contact
//! point, the categories and processors of a new breach), and the actions
//! (`cases`: assess, notify the authority in phases, decide not to notify, communicate to
//! the data subjects, close), the register's export for a period (`export`) and the
//! Art. 33(3) notification draft (`draft`). While the authority decision is open, the
//! escalation (`escalation`: alerts at awareness and 24, 48, 60 and 70 hours after it,
//! planned on every write; `jobs`: their handlers on the job queue; `messages`: the alert
//! mail).
//!
//! # The clock
//!
//! Art. 33(1) GDPR: the controller notifies the supervisory authority "without undue delay
//! and, where feasible, not later than 72 hours after having become aware of it". The
//! deadline is an instant, `became_aware_at + 72 h` in absolute time: hours do not stop at
//! weekends, holidays or night, and a daylight-saving change in the tenant's time zone
//! moves only how the instant is written, never the instant.
//!
//! # The register
//!
//! Every breach stays in the register whether or not it is notified (Art. 33(5)): there
//! is no deletion route. A `drill` runs the whole workflow but is listed only with
//! `drill=true` and never counts in the register's figures.

pub mod breach;
pub mod cases;
pub mod clock;
pub mod defaults;
pub mod draft;
pub mod escalation;
pub mod export;
pub mod jobs;
pub mod messages;
pub mod rules;
#[cfg(test)]
mod testing;

pub use breach::{
    Breach, BreachFields, BreachFilter, BreachGap, BreachId, BreachKind, BreachState, BreachStatus,
    Breaches, NoCommunicationGround, NotNotifiedDecision, NotificationPhase, RiskAssessment,
    RiskLevel, SubjectCommunication, gaps,
};
pub use cases::{Art34Decision, BreachCases, PhaseSent};
pub use clock::{AUTHORITY_WINDOW, DeadlineStanding, authority_deadline, standing};
pub use defaults::{ContactInEffect, ContactSource, FromRegister, contact_in_effect};
pub use escalation::{BreachAlert, BreachAlertMail, EscalationPlanner, STEPS_HOURS};
pub use jobs::{BreachJobPorts, BreachJobSettings};
pub use rules::BreachRules;
