//! Which days count as working days for a tenant: the ports the clock reads.

use std::collections::BTreeSet;

use aura_gdpr_registers::CountryCode;
use time::{Date, Weekday};

/// What the clock asks of a calendar: is this day a working day?
pub trait WorkingDays {
    fn is_working_day(&self, date: Date) -> bool;
}

/// The port to a table of national public holidays (implemented by `aura-adapter-holidays`).
pub trait PublicHolidays {
    /// The name of the public holiday `date` is in `country`, if it is one. A country the
    /// table does not cover has none (only weekends and the tenant's own days then close).
    fn public_holiday(&self, country: CountryCode, date: Date) -> Option<&'static str>;
}

/// Saturday and Sunday: closed in every Member State (Reg. 1182/71 Art. 3(4)).
pub fn is_weekend(date: Date) -> bool {
    matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// A tenant's calendar: the public holidays of the organisation's country (its profile) plus
/// the tenant's own extra closing days, over Saturdays and Sundays.
#[derive(Debug, Clone)]
pub struct HolidayCalendar<'a, H: ?Sized> {
    holidays: &'a H,
    country: Option<CountryCode>,
    closing_days: BTreeSet<Date>,
}

impl<'a, H: PublicHolidays + ?Sized> HolidayCalendar<'a, H> {
    /// `country`: the organisation profile's country; `None` (not entered yet) leaves only
    /// weekends and the tenant's own closing days.
    pub fn new(holidays: &'a H, country: Option<CountryCode>) -> Self {
        Self {
            holidays,
            country,
            closing_days: BTreeSet::new(),
        }
    }

    /// Adds the tenant's own closing days (company holidays, a regional holiday).
    pub fn with_closing_days(mut self, days: impl IntoIterator<Item = Date>) -> Self {
        self.closing_days.extend(days);
        self
    }

    /// Why `date` is closed, if it is: "Saturday", "Sunday", the holiday's name, or
    /// "closing day of the organisation".
    pub fn closed_because(&self, date: Date) -> Option<&'static str> {
        match date.weekday() {
            Weekday::Saturday => return Some("Saturday"),
            Weekday::Sunday => return Some("Sunday"),
            _ => {}
        }
        self.country
            .and_then(|country| self.holidays.public_holiday(country, date))
            .or_else(|| {
                self.closing_days
                    .contains(&date)
                    .then_some("closing day of the organisation")
            })
    }
}

impl<H: PublicHolidays + ?Sized> WorkingDays for HolidayCalendar<'_, H> {
    fn is_working_day(&self, date: Date) -> bool {
        self.closed_because(date).is_none()
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    struct OneHoliday;
    impl PublicHolidays for OneHoliday {
        fn public_holiday(&self, country: CountryCode, date: Date) -> Option<&'static str> {
            (country.as_str() == "DE" && date == date!(2026 - 10 - 05)).then_some("a test holiday")
        }
    }

    fn de() -> Option<CountryCode> {
        "DE".parse().ok()
    }

    #[test]
    fn weekends_holidays_of_the_country_and_the_tenants_days_are_closed() {
        let calendar =
            HolidayCalendar::new(&OneHoliday, de()).with_closing_days([date!(2026 - 10 - 07)]);
        assert_eq!(
            calendar.closed_because(date!(2026 - 10 - 03)),
            Some("Saturday")
        );
        assert_eq!(
            calendar.closed_because(date!(2026 - 10 - 04)),
            Some("Sunday")
        );
        assert_eq!(
            calendar.closed_because(date!(2026 - 10 - 05)),
            Some("a test holiday")
        );
        assert!(calendar.is_working_day(date!(2026 - 10 - 06)));
        assert_eq!(
            calendar.closed_because(date!(2026 - 10 - 07)),
            Some("closing day of the organisation")
        );
    }

    #[test]
    fn another_country_or_none_has_only_weekends_and_own_days() {
        let fr = HolidayCalendar::new(&OneHoliday, "FR".parse().ok());
        assert!(fr.is_working_day(date!(2026 - 10 - 05)));
        let unknown = HolidayCalendar::new(&OneHoliday, None);
        assert!(unknown.is_working_day(date!(2026 - 10 - 05)));
        assert!(!unknown.is_working_day(date!(2026 - 10 - 04)));
    }
}
