//! The EU-27 table against known years.

use aura_adapter_holidays::{EU27, EuPublicHolidays, Holiday};
use aura_gdpr_registers::CountryCode;
use aura_requests::PublicHolidays;
use time::Date;
use time::macros::{date, format_description};

fn code(country: &str) -> CountryCode {
    country.parse().expect("an ISO 3166-1 alpha-2 code")
}

fn dates(country: &str, year: i32) -> Vec<Date> {
    EuPublicHolidays
        .holidays_in(code(country), year)
        .into_iter()
        .map(|holiday| holiday.date)
        .collect()
}

fn name(country: &str, date: Date) -> Option<&'static str> {
    EuPublicHolidays.public_holiday(code(country), date)
}

/// Checks a table of known days, one a line: country, ISO date, and the holiday's name, or
/// `-` for a day that is no public holiday there; `#` starts a comment line.
fn check(table: &str) {
    let iso = format_description!("[year]-[month]-[day]");
    let mut wrong = Vec::new();
    let mut checked = 0;
    for line in table.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.splitn(3, "  ").collect();
        let [country, day, expected] = fields[..] else {
            panic!("a row needs three fields: {line}");
        };
        let day = Date::parse(day, &iso).unwrap_or_else(|e| panic!("{line}: {e}"));
        let expected = (expected != "-").then_some(expected);
        let found = name(country, day);
        if found != expected {
            wrong.push(format!("{line}: found {found:?}"));
        }
        checked += 1;
    }
    assert!(checked > 0, "an empty table");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_table_covers_the_eu27_and_nothing_else() {
    assert_eq!(EU27.len(), 27);
    for country in EU27 {
        assert!(EuPublicHolidays.covers(code(country)), "{country}");
        let year = dates(country, 2026);
        // Denmark has the fewest on weekdays since 2024: eight
        assert!(year.len() >= 8, "{country}: {} holidays", year.len());
        assert!(
            year.windows(2).all(|w| w[0] <= w[1]),
            "{country} in date order"
        );
    }
    for outside in ["US", "CH", "NO", "GB", "IS"] {
        assert!(!EuPublicHolidays.covers(code(outside)), "{outside}");
        assert!(dates(outside, 2026).is_empty());
        assert_eq!(name(outside, date!(2026 - 12 - 25)), None);
    }
}

#[test]
fn germany_2026_has_its_nine_nationwide_holidays() {
    assert_eq!(
        dates("DE", 2026),
        [
            date!(2026 - 01 - 01),
            date!(2026 - 04 - 03), // Good Friday
            date!(2026 - 04 - 06), // Easter Monday
            date!(2026 - 05 - 01),
            date!(2026 - 05 - 14), // Ascension Day
            date!(2026 - 05 - 25), // Whit Monday
            date!(2026 - 10 - 03),
            date!(2026 - 12 - 25),
            date!(2026 - 12 - 26),
        ]
    );
}

#[test]
fn tag_der_deutschen_einheit_and_the_14_juillet_every_year() {
    check(
        "
        DE  2025-10-03  Tag der Deutschen Einheit
        DE  2026-10-03  Tag der Deutschen Einheit
        DE  2027-10-03  Tag der Deutschen Einheit
        FR  2026-10-03  -
        FR  2025-07-14  Fête nationale
        FR  2026-07-14  Fête nationale
        FR  2027-07-14  Fête nationale
        DE  2026-07-14  -
        ",
    );
}

#[test]
fn easter_based_holidays_of_2025_to_2027() {
    check(
        "
        # Western Easter: 20 Apr 2025, 5 Apr 2026, 28 Mar 2027
        DE  2025-04-18  Good Friday
        DE  2026-04-03  Good Friday
        DE  2027-03-26  Good Friday
        AT  2025-04-21  Easter Monday
        AT  2026-04-06  Easter Monday
        AT  2027-03-29  Easter Monday
        AT  2025-05-29  Ascension Day
        AT  2026-05-14  Ascension Day
        AT  2027-05-06  Ascension Day
        AT  2025-06-09  Whit Monday
        AT  2026-05-25  Whit Monday
        AT  2027-05-17  Whit Monday
        AT  2025-06-19  Corpus Christi
        AT  2026-06-04  Corpus Christi
        AT  2027-05-27  Corpus Christi
        # Corpus Christi is regional in Germany, Good Friday no holiday in Austria
        DE  2025-06-19  -
        DE  2026-06-04  -
        DE  2027-05-27  -
        AT  2025-04-18  -
        AT  2026-04-03  -
        AT  2027-03-26  -
        # Orthodox Easter: 20 Apr 2025, 12 Apr 2026, 2 May 2027
        GR  2025-04-18  Good Friday
        GR  2026-04-10  Good Friday
        GR  2027-04-30  Good Friday
        GR  2025-04-21  Easter Monday
        GR  2026-04-13  Easter Monday
        GR  2027-05-03  Easter Monday
        GR  2025-06-09  Whit Monday
        GR  2026-06-01  Whit Monday
        GR  2027-06-21  Whit Monday
        RO  2025-04-21  Easter Monday
        RO  2026-04-13  Easter Monday
        RO  2027-05-03  Easter Monday
        # 2026: Western and Orthodox Easter a week apart
        DE  2026-04-10  -
        GR  2026-04-03  -
        ",
    );
}

#[test]
fn st_patricks_day_on_a_weekend_gives_the_monday() {
    check(
        "
        # 2026: a Tuesday, no substitute
        IE  2026-03-17  St Patrick's Day
        IE  2026-03-18  -
        # 2029: a Saturday → Monday 19 March
        IE  2029-03-19  St Patrick's Day
        # Christmas 2027 (Sat) and St Stephen's Day (Sun) → Monday 27 and Tuesday 28
        IE  2027-12-27  Christmas Day
        IE  2027-12-28  St Stephen's Day
        IE  2027-12-29  -
        # Germany has no substitutes
        DE  2027-12-27  -
        ",
    );
    // 2024: a Sunday → Monday 18 March, marked as a substitute
    assert!(
        EuPublicHolidays
            .holidays_in(code("IE"), 2024)
            .contains(&Holiday {
                date: date!(2024 - 03 - 18),
                name: "St Patrick's Day",
                substitute: true,
            })
    );
}

#[test]
fn bulgaria_and_latvia_give_substitute_days() {
    check(
        "
        # 24 Dec 2022 Sat, 25 Sun, 26 Mon: 27 and 28 Dec off
        BG  2022-12-26  St Stephen's Day
        BG  2022-12-27  Christmas Eve
        BG  2022-12-28  Christmas Day
        BG  2022-12-29  -
        # 18 Nov 2028 Sat → Mon 20 Nov in Latvia
        LV  2028-11-20  Proclamation Day
        ",
    );
}

#[test]
fn changed_holidays_apply_from_their_year() {
    check(
        "
        PL  2024-12-24  -
        PL  2025-12-24  Christmas Eve
        DK  2023-05-05  Great Prayer Day
        DK  2024-04-26  -
        IT  2025-10-04  -
        IT  2027-10-04  St Francis' Day
        HR  2019-06-25  Statehood Day
        HR  2025-05-30  Statehood Day
        HR  2025-06-25  -
        IE  2022-02-07  -
        IE  2025-02-03  St Brigid's Day
        ",
    );
}

#[test]
fn eves_that_close_a_period_in_finland_and_sweden() {
    check(
        "
        SE  2026-06-19  Midsummer Eve
        FI  2027-06-25  Midsummer Eve
        SE  2026-12-31  New Year's Eve
        FI  2026-12-24  Christmas Eve
        DE  2026-12-24  -
        ",
    );
}
