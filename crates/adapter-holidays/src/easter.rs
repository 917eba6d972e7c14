//! Easter Sunday (computus), Western and Orthodox, as Gregorian calendar dates.

use time::{Date, Month};

/// Western (Gregorian) Easter Sunday: the anonymous Gregorian algorithm (Meeus/Jones/Butcher).
pub fn western_easter(year: i32) -> Option<Date> {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let n = h + l - 7 * m + 114;
    march_or_april(year, n / 31, n % 31 + 1)
}

/// Orthodox Easter Sunday (Julian computus, Meeus), given as its Gregorian date: the Julian
/// date plus the calendars' difference in that century (13 days from 1900 to 2099).
pub fn orthodox_easter(year: i32) -> Option<Date> {
    let a = year.rem_euclid(4);
    let b = year.rem_euclid(7);
    let c = year.rem_euclid(19);
    let d = (19 * c + 15) % 30;
    let e = (2 * a + 4 * b - d + 34) % 7;
    let n = d + e + 114;
    let julian = march_or_april(year, n / 31, n % 31 + 1)?;
    // Easter is after February, so the century's leap-day rule of `year` itself applies.
    let gap = year.div_euclid(100) - year.div_euclid(400) - 2;
    julian.checked_add(time::Duration::days(i64::from(gap)))
}

fn march_or_april(year: i32, month: i32, day: i32) -> Option<Date> {
    let month = if month == 3 {
        Month::March
    } else {
        Month::April
    };
    Date::from_calendar_date(year, month, u8::try_from(day).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::Weekday;
    use time::macros::date;

    use super::*;

    #[test]
    fn western_easter_of_known_years() {
        for expected in [
            date!(1818 - 03 - 22),
            date!(1943 - 04 - 25),
            date!(2000 - 04 - 23),
            date!(2008 - 03 - 23),
            date!(2011 - 04 - 24),
            date!(2024 - 03 - 31),
            date!(2025 - 04 - 20),
            date!(2026 - 04 - 05),
            date!(2027 - 03 - 28),
            date!(2028 - 04 - 16),
            date!(2029 - 04 - 01),
            date!(2030 - 04 - 21),
            date!(2038 - 04 - 25),
            date!(2285 - 03 - 22),
        ] {
            assert_eq!(western_easter(expected.year()), Some(expected));
        }
    }

    #[test]
    fn orthodox_easter_of_known_years() {
        for expected in [
            date!(2021 - 05 - 02),
            date!(2022 - 04 - 24),
            date!(2023 - 04 - 16),
            date!(2024 - 05 - 05),
            date!(2025 - 04 - 20),
            date!(2026 - 04 - 12),
            date!(2027 - 05 - 02),
            date!(2028 - 04 - 16),
            date!(2029 - 04 - 08),
            date!(2030 - 04 - 28),
        ] {
            assert_eq!(orthodox_easter(expected.year()), Some(expected));
        }
    }

    proptest! {
        #[test]
        fn easter_is_a_sunday_in_its_window(year in 1900i32..2100) {
            let western = western_easter(year).expect("a date");
            prop_assert_eq!(western.weekday(), Weekday::Sunday);
            prop_assert!(western >= Date::from_calendar_date(year, Month::March, 22).expect("d"));
            prop_assert!(western <= Date::from_calendar_date(year, Month::April, 25).expect("d"));
            let orthodox = orthodox_easter(year).expect("a date");
            prop_assert_eq!(orthodox.weekday(), Weekday::Sunday);
            prop_assert!(orthodox >= western);
            prop_assert!(orthodox >= Date::from_calendar_date(year, Month::April, 4).expect("d"));
            prop_assert!(orthodox <= Date::from_calendar_date(year, Month::May, 8).expect("d"));
        }
    }
}
