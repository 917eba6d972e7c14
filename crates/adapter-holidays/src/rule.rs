//! One line of a country's holiday table: when the day falls, in which years, and whether a
//! weekend occurrence gives a substitute day.

use time::{Date, Duration, Month, Weekday};

use crate::easter::{orthodox_easter, western_easter};

/// When a holiday falls in a year.
#[derive(Debug, Clone, Copy)]
pub enum When {
    /// The same date every year.
    Fixed(Month, u8),
    /// Days after (or before, negative) Western Easter Sunday.
    Easter(i16),
    /// Days after (or before) Orthodox Easter Sunday.
    OrthodoxEaster(i16),
    /// The first such weekday on or after the date (Midsummer Eve: the Friday from 19 June;
    /// Ireland's first Monday of May: the Monday from 1 May).
    WeekdayFrom(Month, u8, Weekday),
    /// Ireland's St Brigid's Day holiday: 1 February when that is a Friday, otherwise the
    /// first Monday of February.
    StBrigid,
    /// The Netherlands' King's Day: 27 April, or 26 April when the 27th is a Sunday.
    KingsDay,
}

/// A national public holiday as a rule.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub name: &'static str,
    pub when: When,
    /// The first and last year the day is a public holiday by the law in force.
    pub years: (i32, i32),
    /// When it falls on a Saturday or Sunday, the next day that is neither a weekend nor a
    /// holiday is a public holiday instead.
    pub substitute: bool,
}

/// A holiday falling on a fixed date.
pub const fn fixed(name: &'static str, month: Month, day: u8) -> Rule {
    rule(name, When::Fixed(month, day))
}

/// A holiday `offset` days from Western Easter Sunday.
pub const fn easter(name: &'static str, offset: i16) -> Rule {
    rule(name, When::Easter(offset))
}

/// A holiday `offset` days from Orthodox Easter Sunday.
pub const fn orthodox(name: &'static str, offset: i16) -> Rule {
    rule(name, When::OrthodoxEaster(offset))
}

pub const fn rule(name: &'static str, when: When) -> Rule {
    Rule {
        name,
        when,
        years: (i32::MIN, i32::MAX),
        substitute: false,
    }
}

impl Rule {
    /// A holiday only from `year` on.
    pub const fn since(self, year: i32) -> Self {
        Self {
            years: (year, self.years.1),
            ..self
        }
    }

    /// A holiday only up to `year` (abolished after it).
    pub const fn until(self, year: i32) -> Self {
        Self {
            years: (self.years.0, year),
            ..self
        }
    }

    /// On a weekend, the next working day is a holiday instead.
    pub const fn substituted(self) -> Self {
        Self {
            substitute: true,
            ..self
        }
    }

    /// The day in `year`, if the holiday exists that year.
    pub fn date_in(&self, year: i32) -> Option<Date> {
        if year < self.years.0 || year > self.years.1 {
            return None;
        }
        match self.when {
            When::Fixed(month, day) => Date::from_calendar_date(year, month, day).ok(),
            When::Easter(offset) => offset_from(western_easter(year)?, offset),
            When::OrthodoxEaster(offset) => offset_from(orthodox_easter(year)?, offset),
            When::WeekdayFrom(month, day, weekday) => {
                let from = Date::from_calendar_date(year, month, day).ok()?;
                let ahead = (7 + weekday.number_days_from_monday()
                    - from.weekday().number_days_from_monday())
                    % 7;
                from.checked_add(Duration::days(i64::from(ahead)))
            }
            When::StBrigid => {
                let first = Date::from_calendar_date(year, Month::February, 1).ok()?;
                if first.weekday() == Weekday::Friday {
                    Some(first)
                } else {
                    Rule {
                        when: When::WeekdayFrom(Month::February, 1, Weekday::Monday),
                        ..*self
                    }
                    .date_in(year)
                }
            }
            When::KingsDay => {
                let day = Date::from_calendar_date(year, Month::April, 27).ok()?;
                if day.weekday() == Weekday::Sunday {
                    day.previous_day()
                } else {
                    Some(day)
                }
            }
        }
    }
}

fn offset_from(sunday: Date, offset: i16) -> Option<Date> {
    sunday.checked_add(Duration::days(i64::from(offset)))
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn weekday_rules_find_the_first_such_day() {
        let midsummer_eve = rule(
            "Midsummer Eve",
            When::WeekdayFrom(Month::June, 19, Weekday::Friday),
        );
        assert_eq!(midsummer_eve.date_in(2026), Some(date!(2026 - 06 - 19)));
        assert_eq!(midsummer_eve.date_in(2027), Some(date!(2027 - 06 - 25)));
        let first_monday_may = rule("May", When::WeekdayFrom(Month::May, 1, Weekday::Monday));
        assert_eq!(first_monday_may.date_in(2026), Some(date!(2026 - 05 - 04)));
        assert_eq!(first_monday_may.date_in(2028), Some(date!(2028 - 05 - 01)));
    }

    #[test]
    fn st_brigid_and_kings_day_have_their_own_rules() {
        let brigid = rule("St Brigid's Day", When::StBrigid);
        // 1 Feb 2030 is a Friday
        assert_eq!(brigid.date_in(2030), Some(date!(2030 - 02 - 01)));
        assert_eq!(brigid.date_in(2026), Some(date!(2026 - 02 - 02)));
        assert_eq!(brigid.date_in(2027), Some(date!(2027 - 02 - 01)));
        let kings_day = rule("King's Day", When::KingsDay);
        // 27 Apr 2025 is a Sunday
        assert_eq!(kings_day.date_in(2025), Some(date!(2025 - 04 - 26)));
        assert_eq!(kings_day.date_in(2026), Some(date!(2026 - 04 - 27)));
    }

    #[test]
    fn a_rule_holds_only_in_its_years() {
        let day = fixed("x", Month::May, 9).since(2019).until(2030);
        assert_eq!(day.date_in(2018), None);
        assert_eq!(day.date_in(2019), Some(date!(2019 - 05 - 09)));
        assert_eq!(day.date_in(2030), Some(date!(2030 - 05 - 09)));
        assert_eq!(day.date_in(2031), None);
    }
}
