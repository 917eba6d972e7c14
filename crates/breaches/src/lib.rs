//! Personal-data breaches (Art. 33, 34 GDPR). Pure domain crate: the 72-hour clock
//! (`clock`).
//!
//! # The clock
//!
//! Art. 33(1) GDPR: the controller notifies the supervisory authority "without undue delay
//! and, where feasible, not later than 72 hours after having become aware of it". The
//! deadline is an instant, `became_aware_at + 72 h` in absolute time: hours do not stop at
//! weekends, holidays or night, and a daylight-saving change in the tenant's time zone
//! moves only how the instant is written, never the instant.

pub mod clock;

pub use clock::{AUTHORITY_WINDOW, DeadlineStanding, authority_deadline, standing};
