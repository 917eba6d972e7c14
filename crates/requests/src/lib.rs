//! Data-subject requests (Art. 12, 15–22 GDPR). Pure domain crate: the legal clock
//! (`clock`), the calendar it reads (`calendar`), the request register (`request`), the
//! rules that date a request (`rules`), the tenant's settings for it (`settings`) and its
//! fulfilment checklist generated from the register of activities (`checklist`); its
//! reminders (`reminders`, planned on every write and stored by the request store,
//! `store`), jobs (`jobs`: reminders, the "extend or answer" warning, the digest
//! section, the daily pseudonymisation of `pseudonym`), mails (`messages`) and the
//! register's export (`export`).
//!
//! # The clock
//!
//! Art. 12(3) GDPR: the controller answers "without undue delay and in any event within one
//! month of receipt of the request". A month is counted as Regulation (EEC, Euratom)
//! No 1182/71, Art. 3 says, which the supervisory authorities apply to Art. 12(3):
//!
//! 1. The day of receipt does not count (Art. 3(1), second subparagraph): the period starts
//!    the next day.
//! 2. It ends on the same date of the next month (Art. 3(2)(c)): received 10 March → 10 April.
//! 3. If that date does not exist in that month, on the month's last day (Art. 3(2)(c)):
//!    received 31 January → 28 February (29 in a leap year), never 2 or 3 March.
//! 4. If that last day is a Saturday, Sunday or public holiday, the period ends at the end of
//!    the following working day (Art. 3(4)). Public holidays are those of the organisation's
//!    country (its profile; [`PublicHolidays`], EU-27 in `aura-adapter-holidays`) plus the
//!    tenant's own closing days ([`HolidayCalendar`]).
//!
//! [`due_date`] applies rules 1–4 to the day the clock starts; [`ClockStart`] (a tenant
//! setting) chooses that day for a request awaiting proof of identity: receipt (the default)
//! or the identity confirmation.
//!
//! # Extension
//!
//! The period "may be extended by two further months where necessary, taking into account the
//! complexity and number of the requests" (Art. 12(3)): [`extended_due_date`] counts one or two
//! further months ([`ExtensionMonths`]) from the first due date with the same rules 2–4.
//! [`may_extend`] refuses an extension without reasons, or recorded after the first due date
//! (the person must be told "within one month of receipt ... together with the reasons for the
//! delay"): [`ExtensionRefused`] names the rule and the field.
//!
//! # How far a due date can move
//!
//! Not "at most four days" everywhere. With national holidays only (checked for every day
//! from 2000 to 2099 in `aura-adapter-holidays`' tests), a due date lies at most six days
//! after the period's last day: Cyprus (National Day 1 April, Orthodox Good Friday, weekend,
//! Easter Monday and Tuesday) and Bulgaria (Labour Day, Orthodox Easter, St George's Day).
//! Five in twelve countries (a Christmas Eve holiday on the Monday after a weekend; Maundy
//! Thursday in Denmark; King's Day after Easter in the Netherlands), four in eleven (Germany,
//! France, Ireland...), three in Belgium and Spain. A tenant's own closing days can add to
//! that without limit.

pub mod calendar;
pub mod cases;
pub mod checklist;
pub mod clock;
pub mod export;
pub mod intake;
pub mod jobs;
pub mod messages;
pub mod pseudonym;
pub mod reminders;
pub mod request;
pub mod rules;
pub mod settings;
pub mod store;

pub use calendar::{HolidayCalendar, PublicHolidays, WorkingDays, is_weekend};
pub use cases::{AnswerGiven, ExtensionNotice, IdentityResult, InformationAsked, RequestCases};
pub use checklist::{
    ActivityView, ChecklistError, ChecklistItem, ChecklistItemId, ChecklistProgress, ItemChange,
    ItemKey, ItemKind, ItemStatus, NewChecklistItem, ProcessorView, add_item, concerned_activities,
    generate as generate_checklist, names_category, update_item,
};
pub use clock::{
    ClockStart, ExtensionMonths, ExtensionReasons, ExtensionRefused, IdentityCheck, due_date,
    extended_due_date, first_working_day_from, last_day_of_period, may_extend,
};
