//! The national public holidays of the EU-27 behind `aura_requests::PublicHolidays`: a
//! tested table of our own (fixed dates, days counted from Western or Orthodox Easter,
//! weekday rules, the substitute days of Bulgaria, Ireland and Latvia), with the years in
//! which a changed holiday applies. No crate on crates.io covers the EU-27: the maintained
//! ones cover one country (Germany, Czechia) or a few financial-market calendars.
//!
//! What is modelled, per country: the days its law makes public holidays nationwide, plus
//! the eves that Finland's and Sweden's laws on counting periods treat as holidays. Not
//! modelled: regional holidays (entered by a tenant as its own closing days), one-off days
//! declared by a government, and days moved by agreement (Hungary's bridge days, Belgium's
//! and Luxembourg's replacement days owed by employers, Spain's regional Monday moves).
//! Countries outside the EU-27 have no national holidays here: weekends and the tenant's own
//! days close their calendar.
//!
//! The crate is the calendar adapter: it also holds the IANA time zones behind the shared
//! kernel's `TimeZones` port (`zones.rs`, [`IanaTimeZones`]: jiff's copy of the database
//! compiled in; the system's zone files are never read).

#[cfg(feature = "test-support")]
pub mod acceptance;
mod countries;
mod easter;
mod rule;
mod zones;

use aura_gdpr_registers::CountryCode;
use aura_requests::{PublicHolidays, is_weekend};
use time::Date;

pub use countries::EU27;
pub use easter::{orthodox_easter, western_easter};
pub use zones::IanaTimeZones;

/// One public holiday of a country in a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holiday {
    pub date: Date,
    pub name: &'static str,
    /// A day off in place of the holiday `name`, which fell on a weekend.
    pub substitute: bool,
}

/// The EU-27 table.
#[derive(Debug, Clone, Copy, Default)]
pub struct EuPublicHolidays;

impl EuPublicHolidays {
    /// Whether the table holds the country's holidays (the EU-27).
    pub fn covers(&self, country: CountryCode) -> bool {
        countries::rules(country.as_str()).is_some()
    }

    /// The country's public holidays in `year`, by date, with the substitute days they give
    /// (empty for a country the table does not cover).
    pub fn holidays_in(&self, country: CountryCode, year: i32) -> Vec<Holiday> {
        let rules = countries::rules(country.as_str()).unwrap_or_default();
        let mut days: Vec<Holiday> = rules
            .iter()
            .filter_map(|rule| {
                rule.date_in(year).map(|date| Holiday {
                    date,
                    name: rule.name,
                    substitute: false,
                })
            })
            .collect();
        days.sort_by_key(|day| day.date);
        let on_weekends: Vec<Holiday> = rules
            .iter()
            .filter(|rule| rule.substitute)
            .filter_map(|rule| {
                let date = rule.date_in(year)?;
                is_weekend(date).then_some(Holiday {
                    date,
                    name: rule.name,
                    substitute: true,
                })
            })
            .collect();
        // In date order, each weekend holiday takes the next day that is neither a weekend
        // nor a holiday nor another one's substitute (Christmas Day and St Stephen's Day on
        // a weekend: Monday and Tuesday).
        let mut on_weekends = on_weekends;
        on_weekends.sort_by_key(|day| day.date);
        for holiday in on_weekends {
            let mut date = holiday.date;
            while let Some(next) = date.next_day() {
                date = next;
                if !is_weekend(date) && days.iter().all(|day| day.date != date) {
                    days.push(Holiday { date, ..holiday });
                    break;
                }
            }
        }
        days.sort_by_key(|day| day.date);
        days
    }
}

impl PublicHolidays for EuPublicHolidays {
    fn public_holiday(&self, country: CountryCode, date: Date) -> Option<&'static str> {
        // A late-December holiday's substitute may fall in the next year.
        [date.year() - 1, date.year()]
            .into_iter()
            .flat_map(|year| self.holidays_in(country, year))
            .find(|day| day.date == date)
            .map(|day| day.name)
    }
}
