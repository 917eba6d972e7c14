//! The acceptance table of the request clock over the EU-27 calendars, shared by this
//! crate's tests and the black-box API test (`tests/requests.rs`), so both check the same
//! figures: received, country, expected due date, and why.

use time::{Date, macros::format_description};

/// The acceptance table, one row a line: received, country (ISO 3166-1 alpha-2), expected due
/// date, and why; `#` starts a heading.
pub const TABLE: &str = "
# month ends and leap years
2026-01-31  DE  2026-03-02  31 Jan → 28 Feb (no 31 Feb), a Saturday → Mon 2 Mar
2027-01-31  DE  2027-03-01  31 Jan → 28 Feb, a Sunday → Mon 1 Mar
2028-01-31  DE  2028-02-29  leap year: 31 Jan → 29 Feb, a Tuesday
2024-01-29  DE  2024-02-29  leap year: 29 Jan → 29 Feb, a Thursday
2024-01-30  DE  2024-02-29  no 30 Feb: the month's last day, 29 Feb
2026-03-31  DE  2026-04-30  no 31 Apr: 30 Apr, a Thursday
2026-04-30  DE  2026-06-01  30 May is a Saturday → Mon 1 Jun
2026-03-10  DE  2026-04-10  the day of receipt does not count: same date next month
2026-02-28  DE  2026-03-30  received on a Saturday: 28 Mar is a Saturday too → Mon 30 Mar
2026-12-01  DE  2027-01-04  into the next year: 1 Jan 2027 (Fri) New Year, weekend → Mon 4 Jan
2026-06-04  US  2026-07-06  a country outside the table: weekends only, 4 Jul is a Saturday
# Germany
2026-03-03  DE  2026-04-07  3 Apr 2026 Good Friday, weekend, Easter Monday → Tue 7 Apr
2026-09-03  DE  2026-10-05  3 Oct 2026 (Tag der Deutschen Einheit) is a Saturday: no substitute → Mon 5 Oct
2025-09-03  DE  2025-10-06  3 Oct 2025 is a Friday holiday, weekend → Mon 6 Oct
2027-09-03  DE  2027-10-04  3 Oct 2027 is a Sunday → Mon 4 Oct
2027-11-25  DE  2027-12-27  Christmas 2027 on the weekend: Germany has no substitutes → Mon 27 Dec
2026-04-14  DE  2026-05-15  14 May 2026 Ascension Day → Fri 15 May
# France
2026-03-03  FR  2026-04-03  Good Friday is no national holiday in France
2026-06-14  FR  2026-07-15  14 juillet 2026 (Tue) → Wed 15 Jul
2026-04-25  FR  2026-05-26  25 May 2026 Whit Monday → Tue 26 May
# Ireland
2026-02-17  IE  2026-03-18  St Patrick's Day 2026 (Tue) → Wed 18 Mar
2024-02-17  IE  2024-03-19  St Patrick's Day 2024 a Sunday, Monday 18 its substitute → Tue 19 Mar
2029-02-17  IE  2029-03-20  St Patrick's Day 2029 a Saturday, Monday 19 its substitute → Tue 20 Mar
2027-11-25  IE  2027-12-29  Christmas 2027 Sat/Sun: substitutes Mon 27 and Tue 28 → Wed 29 Dec
2026-01-02  IE  2026-02-03  St Brigid's Day 2026: first Monday of February (2 Feb) → Tue 3 Feb
2026-09-26  IE  2026-10-27  October bank holiday 2026: last Monday (26 Oct) → Tue 27 Oct
# Denmark
2026-03-02  DK  2026-04-07  2 Apr 2026 Maundy Thursday, Good Friday, weekend, Easter Monday → Tue 7 Apr
2023-04-05  DK  2023-05-08  5 May 2023 Great Prayer Day (Fri), weekend → Mon 8 May
2024-03-26  DK  2024-04-26  Great Prayer Day abolished from 2024: 26 Apr 2024 is a working day
# Orthodox Easter
2026-03-10  GR  2026-04-14  10 Apr 2026 Orthodox Good Friday, weekend, Easter Monday → Tue 14 Apr
2026-03-10  DE  2026-04-10  the same day is a working day in Germany (Western Easter was 5 Apr)
2026-01-23  GR  2026-02-24  23 Feb 2026 Clean Monday → Tue 24 Feb
2027-03-30  GR  2027-05-04  30 Apr 2027 Orthodox Good Friday, weekend, Easter Monday 3 May → Tue 4 May
2010-03-01  CY  2010-04-07  1 Apr 2010 National Day, Good Friday, weekend, Easter Monday and Tuesday → Wed 7 Apr
2026-11-24  CY  2026-12-28  Christmas Eve 2026 (Thu), Christmas, weekend → Mon 28 Dec
2022-11-24  BG  2022-12-29  24 Dec 2022 Sat, 25 Sun, 26 Mon, substitutes Tue 27 and Wed 28 → Thu 29 Dec
2027-03-30  BG  2027-05-05  Good Friday 30 Apr, 1 May Sat, Easter Monday 3 May, 1 May's substitute Tue 4 → Wed 5 May
2025-12-07  RO  2026-01-08  7 Jan 2026 St John's Day (since 2024) → Thu 8 Jan
2026-05-01  RO  2026-06-02  1 Jun 2026 Children's Day and Orthodox Whit Monday at once → Tue 2 Jun
# Christmas
2026-11-24  CZ  2026-12-28  24–26 Dec 2026 Thu–Sat, Sunday → Mon 28 Dec
2025-11-24  PL  2025-12-29  Christmas Eve a holiday from 2025: 24–26 Dec, weekend → Mon 29 Dec
2024-11-24  PL  2024-12-24  Christmas Eve 2024 was still a working day in Poland
2026-11-24  SE  2026-12-28  Christmas Eve closes a period in Sweden: 24–26 Dec 2026 Thu–Sat, Sunday → Mon 28 Dec
2026-12-01  SE  2027-01-04  1 Jan 2027 New Year's Day (Fri), weekend → Mon 4 Jan
# other national days
2027-09-04  IT  2027-10-05  4 Oct 2027 St Francis' Day (national again from 2026) → Tue 5 Oct
2026-11-08  IT  2026-12-09  8 Dec 2026 Immaculate Conception (Tue) → Wed 9 Dec
2038-03-23  NL  2038-04-28  23 Apr 2038 Good Friday, weekend, Easter Monday, King's Day 27 Apr → Wed 28 Apr
2025-03-26  NL  2025-04-28  King's Day 2025 moved to Sat 26 Apr (27 is a Sunday) → Mon 28 Apr
2026-04-05  NL  2026-05-06  5 May 2026 Liberation Day (Tue) → Wed 6 May
2026-05-19  SE  2026-06-22  19 Jun 2026 Midsummer Eve (Fri), weekend → Mon 22 Jun
2027-05-25  FI  2027-06-28  25 Jun 2027 Midsummer Eve (Fri), weekend → Mon 28 Jun
2026-11-06  ES  2026-12-07  6 Dec 2026 Constitution Day is a Sunday: Mon 7 Dec is a working day
2027-11-06  ES  2027-12-07  6 Dec 2027 Constitution Day (Mon) → Tue 7 Dec
2028-10-18  LV  2028-11-21  18 Nov 2028 Proclamation Day a Saturday, its substitute Mon 20 → Tue 21 Nov
2026-09-26  AT  2026-10-27  26 Oct 2026 Nationalfeiertag (Mon) → Tue 27 Oct
2026-06-21  BE  2026-07-22  21 Jul 2026 National Day (Tue) → Wed 22 Jul
2025-04-30  HR  2025-06-02  30 May 2025 Statehood Day (Fri), weekend → Mon 2 Jun
2026-05-10  PT  2026-06-11  10 Jun 2026 Portugal Day (Wed) → Thu 11 Jun
2026-05-04  PL  2026-06-05  4 Jun 2026 Corpus Christi → Fri 5 Jun
2026-09-23  HU  2026-10-26  23 Oct 2026 National Day (Fri), weekend → Mon 26 Oct
2026-08-08  MT  2026-09-09  8 Sep 2026 Victory Day (Tue) → Wed 9 Sep
2026-10-02  LT  2026-11-03  2 Nov 2026 All Souls' Day (Mon) → Tue 3 Nov
2026-05-23  EE  2026-06-25  23 and 24 Jun 2026 Victory Day and Midsummer Day → Thu 25 Jun
2026-04-09  LU  2026-05-11  9 May 2026 Europe Day is a Saturday → Mon 11 May
";

/// (received, country, expected, why) of each row.
pub fn rows() -> Vec<(Date, &'static str, Date, &'static str)> {
    let iso = format_description!("[year]-[month]-[day]");
    let day = |text: &str| Date::parse(text, &iso).unwrap_or_else(|e| panic!("{text}: {e}"));
    TABLE
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let mut fields = line.splitn(4, "  ");
            let mut next = || {
                fields
                    .next()
                    .unwrap_or_else(|| panic!("a short row: {line}"))
            };
            (day(next()), next(), day(next()), next())
        })
        .collect()
}
