//! DPIA screening (Art. 35(1), (3) GDPR; the WP248 rev.01 criteria endorsed by the EDPB):
//! for each processing activity, which Art. 35(3) cases and which of the nine criteria
//! apply, computed from the activity as the register holds it and a few answers the
//! register cannot know, each with the field or answer behind it, and the outcome as a
//! suggestion the user may accept into the activity's `dpia_required`. Pure domain crate:
//! the screening function, the answers, their port and the use cases.

pub mod actions;
mod answers;
pub mod ports;
mod screening;
mod service;

pub use answers::{MAX_PEOPLE, ScreeningAnswers, StoredAnswers};
pub use screening::{
    Art35Case, CaseFinding, Criterion, CriterionFinding, Origin, Outcome, RULE_CASE, RULE_NONE,
    RULE_ONE, RULE_TWO, Reason, Screening, screen,
};
pub use service::{ActivityScreening, DpiaScreenings};
