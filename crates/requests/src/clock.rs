//! The clock of a data-subject request: Art. 12(3) GDPR counted as Regulation (EEC, Euratom)
//! No 1182/71, Art. 3 says. Pure functions over dates and a [`WorkingDays`] calendar.

use aura_gdpr_registers::add_months;
use serde::{Deserialize, Serialize};
use time::Date;

use crate::calendar::WorkingDays;

/// The longest run of closed days the clock walks over before it gives up and answers the day
/// after: no national calendar comes near it, only a tenant that closes for a whole year would.
const MAX_CLOSED_RUN: u16 = 366;

/// The last day of a period of `months` months that runs from the day `runs_from` (a receipt,
/// an identity confirmation, the end of a first period), before any move to a working day.
pub fn last_day_of_period(runs_from: Date, months: u8) -> Date {
    // Reg. 1182/71 Art. 3(1), second subparagraph: the day of the event (`runs_from`) does
    // not count; the period starts with the next day.
    // Art. 3(2)(c): a period in months ends with the day of the last month that falls on the
    // same date as the day it runs from; if that date does not occur in the last month (31
    // January + 1 month), with the last day of that month (28/29 February): `add_months`.
    add_months(runs_from, months)
}

/// Reg. 1182/71 Art. 3(4): a period whose last day is a public holiday, a Saturday or a Sunday
/// ends with the expiry of the last hour of the following working day — the first working day
/// on or after `last_day`.
pub fn first_working_day_from(last_day: Date, calendar: &impl WorkingDays) -> Date {
    let mut day = last_day;
    for _ in 0..MAX_CLOSED_RUN {
        if calendar.is_working_day(day) {
            return day;
        }
        match day.next_day() {
            Some(next) => day = next,
            None => return day,
        }
    }
    day
}

/// The day by which a request must be answered: "within one month of receipt" (Art. 12(3)
/// GDPR), counted from `clock_start` (see [`ClockStart::start_date`]) by Reg. 1182/71 Art. 3:
/// the same date next month (or that month's last day), moved to the next working day.
/// The same date bounds a refusal (Art. 12(4)) and the notice of an extension.
pub fn due_date(clock_start: Date, calendar: &impl WorkingDays) -> Date {
    first_working_day_from(last_day_of_period(clock_start, 1), calendar)
}

/// The due date after an extension "by two further months" (Art. 12(3)): a further period
/// of `months` months that runs from the day the first period ended (`first_due`), counted by
/// the same Art. 3 rules as the first one.
///
/// Reading implemented: "further" months follow the first month, so the extension is a new
/// period that runs from the end of the first — the first due date as it stands after any
/// move to a working day (Art. 3(4) makes that day the period's real end) — and is counted
/// by Art. 3 like any period in months. The EDPB Guidelines 01/2022 on the right of access
/// restate Art. 12(3) (two further months, the person told within the first month, with
/// reasons) without working an extended date through, so the wording "further" decides.
/// The other reading, "three months from receipt", is not the one implemented; it differs
/// by a few days either way: earlier when the first period ended on a closed day (received
/// 31 Jan 2026: 30 Apr against 4 May), later when the first month's end was clamped to a
/// shorter month (received 31 May 2027: 31 Aug against 30 Aug).
pub fn extended_due_date(
    first_due: Date,
    months: ExtensionMonths,
    calendar: &impl WorkingDays,
) -> Date {
    first_working_day_from(last_day_of_period(first_due, months.get()), calendar)
}

/// The length of an extension: one or two further months (Art. 12(3)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct ExtensionMonths(u8);

impl ExtensionMonths {
    pub const MAX: u8 = 2;

    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for ExtensionMonths {
    type Error = ExtensionRefused;
    fn try_from(months: u8) -> Result<Self, Self::Error> {
        // Art. 12(3): "may be extended by two further months" — one or two, never more.
        if (1..=Self::MAX).contains(&months) {
            Ok(Self(months))
        } else {
            Err(ExtensionRefused::MonthsOutOfRange(months))
        }
    }
}

impl From<ExtensionMonths> for u8 {
    fn from(months: ExtensionMonths) -> Self {
        months.0
    }
}

/// The reasons for the delay an extension gives the person (trimmed, never blank).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionReasons(String);

impl ExtensionReasons {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why an extension is refused; each names the rule it applies and the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtensionRefused {
    #[error(
        "Art. 12(3) GDPR: the person must be told of an extension within one month of receipt; \
         that month ended on {first_due}, it is now {today}"
    )]
    AfterFirstDeadline { first_due: Date, today: Date },
    #[error("Art. 12(3) GDPR: an extension must tell the person the reasons for the delay")]
    NoReasons,
    #[error("Art. 12(3) GDPR: a period may be extended by one or two further months, not {0}")]
    MonthsOutOfRange(u8),
}

impl ExtensionRefused {
    /// The provision applied.
    pub fn rule(&self) -> &'static str {
        "Art. 12(3) GDPR"
    }

    /// The request field the refusal is about (for a 422 naming it).
    pub fn field(&self) -> &'static str {
        match self {
            Self::AfterFirstDeadline { .. } => "extended_on",
            Self::NoReasons => "reasons",
            Self::MonthsOutOfRange(_) => "months",
        }
    }
}

/// May the controller extend now? Art. 12(3): only with reasons, and only while the first
/// month runs — on `first_due` at the latest (the period ends with the expiry of its last day).
pub fn may_extend(
    first_due: Date,
    today: Date,
    reasons: &str,
) -> Result<ExtensionReasons, ExtensionRefused> {
    // Art. 12(3), third sentence: the person is told of the extension "within one month of
    // receipt", so a notice after the first due date comes too late.
    if today > first_due {
        return Err(ExtensionRefused::AfterFirstDeadline { first_due, today });
    }
    // Art. 12(3), third sentence: "together with the reasons for the delay".
    let reasons = reasons.trim();
    if reasons.is_empty() {
        return Err(ExtensionRefused::NoReasons);
    }
    Ok(ExtensionReasons(reasons.to_owned()))
}

/// When the clock of a request that awaits proof of identity starts: a tenant setting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockStart {
    /// From receipt, whatever the identity check: the strict reading of Art. 12(3), the default.
    #[default]
    Receipt,
    /// From the day the person's identity was confirmed, as some authorities allow when the
    /// controller had reasonable doubts (Art. 12(6)) and asked for proof without delay.
    IdentityConfirmed,
}

/// Where a request's identity check stands, as far as the clock cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityCheck {
    /// No proof was asked for.
    NotRequired,
    /// Proof was asked for and has not come.
    Awaiting,
    /// Identity was confirmed on this day.
    ConfirmedOn(Date),
}

impl ClockStart {
    /// The day the one-month period runs from, or `None` while the clock waits for the
    /// person's identity (only under [`ClockStart::IdentityConfirmed`]). Both dates stay on
    /// the request, so its record shows why its due date is what it is.
    pub fn start_date(self, received: Date, identity: IdentityCheck) -> Option<Date> {
        match (self, identity) {
            (Self::Receipt, _) | (Self::IdentityConfirmed, IdentityCheck::NotRequired) => {
                Some(received)
            }
            (Self::IdentityConfirmed, IdentityCheck::Awaiting) => None,
            // A confirmation dated before receipt (a typing slip) never starts the clock
            // earlier than receipt.
            (Self::IdentityConfirmed, IdentityCheck::ConfirmedOn(day)) => Some(day.max(received)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use time::macros::date;

    use super::*;
    use crate::calendar::is_weekend;

    /// Weekends and a fixed set of holidays.
    struct Closed(BTreeSet<Date>);
    impl WorkingDays for Closed {
        fn is_working_day(&self, date: Date) -> bool {
            !is_weekend(date) && !self.0.contains(&date)
        }
    }

    fn weekends_only() -> Closed {
        Closed(BTreeSet::new())
    }

    /// The due date of a request received on `received`, weekends closed.
    fn due(received: Date) -> Date {
        due_date(received, &weekends_only())
    }

    #[test]
    fn the_day_of_receipt_does_not_count_and_the_period_ends_on_the_same_date() {
        // Tue 10 Mar 2026 → Fri 10 Apr 2026
        assert_eq!(due(date!(2026 - 03 - 10)), date!(2026 - 04 - 10));
    }

    #[test]
    fn a_missing_date_ends_the_period_on_the_months_last_day() {
        // 31 Mar 2026 → 30 Apr 2026 (Thu)
        assert_eq!(due(date!(2026 - 03 - 31)), date!(2026 - 04 - 30));
        // 31 Jan 2028 → 29 Feb 2028 (leap year, Tue)
        assert_eq!(due(date!(2028 - 01 - 31)), date!(2028 - 02 - 29));
    }

    #[test]
    fn a_closed_last_day_moves_to_the_next_working_day() {
        // 31 Jan 2026 → 28 Feb 2026 is a Saturday → Mon 2 Mar 2026
        assert_eq!(due(date!(2026 - 01 - 31)), date!(2026 - 03 - 02));
        // ... and on over a holiday on that Monday → Tue 3 Mar 2026
        let holiday = Closed(BTreeSet::from([date!(2026 - 03 - 02)]));
        assert_eq!(
            due_date(date!(2026 - 01 - 31), &holiday),
            date!(2026 - 03 - 03)
        );
    }

    #[test]
    fn a_calendar_closed_for_ever_still_answers() {
        struct NeverOpen;
        impl WorkingDays for NeverOpen {
            fn is_working_day(&self, _: Date) -> bool {
                false
            }
        }
        let due = due_date(date!(2026 - 01 - 15), &NeverOpen);
        assert_eq!(
            due,
            date!(2026 - 02 - 15) + time::Duration::days(i64::from(MAX_CLOSED_RUN))
        );
    }

    #[test]
    fn an_extension_is_a_further_period_from_the_first_due_date() {
        let calendar = weekends_only();
        // received 31 Jan 2026 → first due Mon 2 Mar 2026 (28 Feb is a Saturday)
        assert_eq!(due(date!(2026 - 01 - 31)), date!(2026 - 03 - 02));
        // received 31 May 2027 → first due Wed 30 Jun 2027
        assert_eq!(due(date!(2027 - 05 - 31)), date!(2027 - 06 - 30));
        let extend = |first_due: Date, months: u8| {
            let months = ExtensionMonths::try_from(months).expect("one or two");
            extended_due_date(first_due, months, &calendar)
        };
        // 2 May 2026 is a Saturday → Mon 4 May
        assert_eq!(extend(date!(2026 - 03 - 02), 2), date!(2026 - 05 - 04));
        // one month: Thu 2 Apr
        assert_eq!(extend(date!(2026 - 03 - 02), 1), date!(2026 - 04 - 02));
        // the month rule holds for the extension too: 31 May 2027 exists (Mon)
        assert_eq!(extend(date!(2027 - 03 - 31), 2), date!(2027 - 05 - 31));
        // from 30 Jun: 30 Aug, not 31 Aug (three months from receipt would give 31 Aug)
        assert_eq!(extend(date!(2027 - 06 - 30), 2), date!(2027 - 08 - 30));
        // no 31 Feb: 28 Feb 2027, a Sunday → Mon 1 Mar
        assert_eq!(extend(date!(2026 - 12 - 31), 2), date!(2027 - 03 - 01));
    }

    #[test]
    fn an_extension_is_one_or_two_months() {
        for months in [0, 3, 12] {
            let refused = ExtensionMonths::try_from(months).expect_err("out of range");
            assert_eq!(refused, ExtensionRefused::MonthsOutOfRange(months));
            assert_eq!(refused.field(), "months");
            assert!(refused.to_string().starts_with("Art. 12(3) GDPR"));
        }
        assert_eq!(ExtensionMonths::try_from(1).map(u8::from), Ok(1));
        assert_eq!(ExtensionMonths::try_from(2).map(u8::from), Ok(2));
    }

    #[test]
    fn an_extension_needs_reasons_and_comes_before_the_first_deadline() {
        let first_due = date!(2026 - 03 - 02);
        let ok = may_extend(
            first_due,
            date!(2026 - 02 - 20),
            "  many systems to search ",
        );
        assert_eq!(
            ok.map(|r| r.as_str().to_owned()),
            Ok("many systems to search".into())
        );
        // on the due date itself: still within the month
        assert!(may_extend(first_due, first_due, "complex").is_ok());

        let late = may_extend(first_due, date!(2026 - 03 - 03), "complex")
            .expect_err("after the first due date");
        assert_eq!(
            late,
            ExtensionRefused::AfterFirstDeadline {
                first_due,
                today: date!(2026 - 03 - 03)
            }
        );
        assert_eq!(late.field(), "extended_on");
        assert_eq!(late.rule(), "Art. 12(3) GDPR");
        assert!(late.to_string().contains("2026-03-02"), "{late}");

        for blank in ["", "   ", "\n\t"] {
            let refused = may_extend(first_due, first_due, blank).expect_err("no reasons");
            assert_eq!(refused, ExtensionRefused::NoReasons);
            assert_eq!(refused.field(), "reasons");
        }
    }

    #[test]
    fn the_clock_starts_at_receipt_or_at_the_identity_confirmation() {
        let received = date!(2026 - 05 - 04);
        let confirmed = date!(2026 - 05 - 11);
        let cases = [
            (
                ClockStart::Receipt,
                IdentityCheck::NotRequired,
                Some(received),
            ),
            (ClockStart::Receipt, IdentityCheck::Awaiting, Some(received)),
            (
                ClockStart::Receipt,
                IdentityCheck::ConfirmedOn(confirmed),
                Some(received),
            ),
            (
                ClockStart::IdentityConfirmed,
                IdentityCheck::NotRequired,
                Some(received),
            ),
            (ClockStart::IdentityConfirmed, IdentityCheck::Awaiting, None),
            (
                ClockStart::IdentityConfirmed,
                IdentityCheck::ConfirmedOn(confirmed),
                Some(confirmed),
            ),
            (
                ClockStart::IdentityConfirmed,
                IdentityCheck::ConfirmedOn(date!(2026 - 05 - 01)),
                Some(received),
            ),
        ];
        for (setting, identity, expected) in cases {
            assert_eq!(
                setting.start_date(received, identity),
                expected,
                "{setting:?} {identity:?}"
            );
        }
        assert_eq!(ClockStart::default(), ClockStart::Receipt);
    }

    #[test]
    fn the_settings_read_and_write_as_snake_case() {
        assert_eq!(
            serde_json::to_string(&ClockStart::IdentityConfirmed).ok(),
            Some("\"identity_confirmed\"".to_owned())
        );
        assert_eq!(
            serde_json::from_str::<ClockStart>("\"receipt\"").ok(),
            Some(ClockStart::Receipt)
        );
        assert!(serde_json::from_str::<ExtensionMonths>("3").is_err());
        assert_eq!(
            serde_json::from_str::<ExtensionMonths>("2")
                .ok()
                .map(ExtensionMonths::get),
            Some(2)
        );
    }
}
