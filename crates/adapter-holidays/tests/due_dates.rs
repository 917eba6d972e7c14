//! The DSAR clock over the EU-27 calendars: the acceptance table (received, country,
//! expected due date, why) and properties over random dates and countries.

use aura_adapter_holidays::{EU27, EuPublicHolidays, acceptance};
use std::collections::HashSet;

use aura_requests::{
    ExtensionMonths, HolidayCalendar, WorkingDays, due_date, extended_due_date, is_weekend,
    last_day_of_period,
};
use proptest::prelude::*;
use time::macros::date;
use time::{Date, Duration};

fn calendar(country: &str) -> HolidayCalendar<'static, EuPublicHolidays> {
    HolidayCalendar::new(&EuPublicHolidays, country.parse().ok())
}

#[test]
fn the_due_dates_of_the_table() {
    let rows = acceptance::rows();
    assert!(rows.len() >= 40, "{} rows", rows.len());
    let mut wrong = Vec::new();
    for (received, country, expected, why) in rows {
        let due = due_date(received, &calendar(country));
        if due != expected {
            wrong.push(format!(
                "{received} {country}: {due}, expected {expected} ({why})"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_tenants_own_closing_days_move_the_due_date_too() {
    // 2 Mar 2026 would be the due date; the tenant is closed on 2 and 3 March.
    let closed = calendar("DE").with_closing_days([date!(2026 - 03 - 02), date!(2026 - 03 - 03)]);
    assert_eq!(
        due_date(date!(2026 - 01 - 31), &closed),
        date!(2026 - 03 - 04)
    );
}

#[test]
fn extended_due_dates_over_holidays() {
    let two = ExtensionMonths::try_from(2).expect("two months");
    let de = calendar("DE");
    // received 31 Jan 2026 → first due Mon 2 Mar; + 2 months → 2 May 2026, a Saturday → Mon 4 May
    let first_due = due_date(date!(2026 - 01 - 31), &de);
    assert_eq!(
        extended_due_date(first_due, two, &de),
        date!(2026 - 05 - 04)
    );
    // first due Fri 3 Oct 2025 is a holiday in Germany → Mon 6 Oct; + 2 months → Sat 6 Dec → Mon 8 Dec
    let first_due = due_date(date!(2025 - 09 - 03), &de);
    assert_eq!(
        extended_due_date(first_due, two, &de),
        date!(2025 - 12 - 08)
    );
    // Ireland: first due 19 Mar 2024; + 2 months → 19 May 2024, a Sunday → Mon 20 May
    let ie = calendar("IE");
    let first_due = due_date(date!(2024 - 02 - 17), &ie);
    assert_eq!(
        extended_due_date(first_due, two, &ie),
        date!(2024 - 05 - 20)
    );
}

/// The longest run of closed days (weekends and national holidays) a country's calendar
/// has from 2000 to 2099 — how far past the period's last day a due date can move.
fn longest_closed_run(country: &str) -> i64 {
    // the holidays of each year once (the calendar itself looks a year up on every call)
    let code = country.parse().expect("a country code");
    let holidays: HashSet<Date> = (1999..2100)
        .flat_map(|year| EuPublicHolidays.holidays_in(code, year))
        .map(|holiday| holiday.date)
        .collect();
    let mut longest = 0;
    let mut run = 0;
    let mut day = date!(2000 - 01 - 01);
    while day < date!(2100 - 01 - 01) {
        if !is_weekend(day) && !holidays.contains(&day) {
            run = 0;
        } else {
            run += 1;
            longest = longest.max(run);
        }
        day += Duration::days(1);
    }
    longest
}

/// Six days past the period's last day at most: the "four" does not hold for 14
/// of the 27 calendars.
const LONGEST_RUN: i64 = 6;

#[test]
fn how_far_a_due_date_can_move_in_each_country() {
    let by_country: Vec<(&str, i64)> = EU27.iter().map(|&c| (c, longest_closed_run(c))).collect();
    let with = |n: i64| -> Vec<&str> {
        by_country
            .iter()
            .filter(|(_, run)| *run == n)
            .map(|(c, _)| *c)
            .collect()
    };
    // Christmas and Easter after a weekend, or a holiday next to Easter (King's Day, Kataklysmos…)
    assert_eq!(
        with(6),
        ["BG", "CY"],
        "Orthodox Easter next to 1 Apr / 1 and 6 May"
    );
    assert_eq!(
        with(5),
        [
            "CZ", "DK", "EE", "FI", "GR", "LT", "LV", "NL", "PL", "RO", "SE", "SK"
        ]
    );
    assert_eq!(
        with(4),
        [
            "AT", "DE", "FR", "HR", "HU", "IE", "IT", "LU", "MT", "PT", "SI"
        ]
    );
    assert_eq!(with(3), ["BE", "ES"]);
    assert_eq!(
        by_country.iter().map(|(_, run)| *run).max(),
        Some(LONGEST_RUN)
    );
}

fn any_country() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        proptest::sample::select(EU27.as_slice()),
        proptest::sample::select(&["US", "CH", "NO", "GB"][..]),
    ]
}

proptest! {
    #[test]
    fn a_due_date_is_a_working_day_on_or_after_the_same_date_next_month_and_at_most_six_days_later(
        offset in 0i64..36_500,
        country in any_country(),
    ) {
        let received = date!(2000-01-01) + Duration::days(offset);
        let calendar = calendar(country);
        let last = last_day_of_period(received, 1);
        let due = due_date(received, &calendar);
        prop_assert!(due >= last, "{due} before {last}");
        prop_assert!(calendar.is_working_day(due), "{due} closed in {country}");
        prop_assert!(calendar.closed_because(due).is_none());
        prop_assert!((due - last).whole_days() <= LONGEST_RUN, "{received} {country}: {due}");
        let mut day = last;
        while day < due {
            prop_assert!(calendar.closed_because(day).is_some(), "{day} open before {due}");
            day += Duration::days(1);
        }
    }

    #[test]
    fn an_extended_due_date_is_a_working_day_on_or_after_its_periods_last_day(
        offset in 0i64..36_500,
        country in any_country(),
        months in 1u8..=2,
    ) {
        let received = date!(2000-01-01) + Duration::days(offset);
        let calendar = calendar(country);
        let first_due = due_date(received, &calendar);
        let months = ExtensionMonths::try_from(months).expect("one or two");
        let last = last_day_of_period(first_due, months.get());
        let extended = extended_due_date(first_due, months, &calendar);
        prop_assert!(extended >= last);
        prop_assert!(calendar.is_working_day(extended));
        prop_assert!((extended - last).whole_days() <= LONGEST_RUN);
    }
}
