//! Properties of the clock over any calendar: weekends plus random closed days.

use std::collections::BTreeSet;

use aura_requests::{
    ExtensionMonths, WorkingDays, due_date, extended_due_date, is_weekend, last_day_of_period,
    may_extend,
};
use proptest::prelude::*;
use time::{Date, Duration, Month};

/// Weekends and an arbitrary set of closed days.
#[derive(Debug)]
struct Closed(BTreeSet<Date>);

impl WorkingDays for Closed {
    fn is_working_day(&self, date: Date) -> bool {
        !is_weekend(date) && !self.0.contains(&date)
    }
}

fn day(offset: i64) -> Date {
    // 2000-01-01 plus up to about 130 years
    time::macros::date!(2000 - 01 - 01) + Duration::days(offset)
}

fn any_day() -> impl Strategy<Value = Date> {
    (0i64..47_000).prop_map(day)
}

/// A calendar and a start day whose period's end region has many closed days in it.
fn start_and_calendar() -> impl Strategy<Value = (Date, Closed)> {
    any_day().prop_flat_map(|start| {
        let around_end = start + Duration::days(25);
        proptest::collection::btree_set(0i64..80, 0..40).prop_map(move |offsets| {
            let closed = offsets
                .into_iter()
                .map(|o| around_end + Duration::days(o))
                .collect();
            (start, Closed(closed))
        })
    })
}

/// The period's last day is the same date next month, or that month's last day.
fn assert_month_rule(from: Date, months: u8, last: Date) -> Result<(), TestCaseError> {
    let total = from.month() as i32 - 1 + i32::from(months);
    let month = Month::try_from((total % 12 + 1) as u8).expect("a month");
    let year = from.year() + total / 12;
    prop_assert_eq!((last.year(), last.month()), (year, month));
    prop_assert_eq!(last.day(), from.day().min(month.length(year)));
    Ok(())
}

/// `due` is the first working day on or after `last`.
fn assert_first_working_day(last: Date, due: Date, calendar: &Closed) -> Result<(), TestCaseError> {
    prop_assert!(due >= last);
    prop_assert!(calendar.is_working_day(due), "{due} is closed");
    let mut d = last;
    while d < due {
        prop_assert!(!calendar.is_working_day(d), "{d} was open before {due}");
        d = d.next_day().expect("a date");
    }
    Ok(())
}

proptest! {
    #[test]
    fn the_due_date_is_the_first_working_day_from_the_same_date_next_month(
        (start, calendar) in start_and_calendar()
    ) {
        let last = last_day_of_period(start, 1);
        assert_month_rule(start, 1, last)?;
        let due = due_date(start, &calendar);
        assert_first_working_day(last, due, &calendar)?;
        prop_assert!(due > start);
    }

    #[test]
    fn the_extended_due_date_follows_the_same_rules(
        (start, calendar) in start_and_calendar(),
        months in 1u8..=2,
    ) {
        let first_due = due_date(start, &calendar);
        let months = ExtensionMonths::try_from(months).expect("one or two");
        let last = last_day_of_period(first_due, months.get());
        assert_month_rule(first_due, months.get(), last)?;
        let extended = extended_due_date(first_due, months, &calendar);
        assert_first_working_day(last, extended, &calendar)?;
        prop_assert!(extended > first_due);
    }

    #[test]
    fn an_extension_is_allowed_exactly_until_the_first_due_date_and_with_reasons(
        first_due in any_day(),
        today in any_day(),
        reasons in "[ \t]{0,3}[a-z ]{0,20}",
    ) {
        let allowed = may_extend(first_due, today, &reasons).is_ok();
        prop_assert_eq!(allowed, today <= first_due && !reasons.trim().is_empty());
    }
}
