//! The one plausible range of calendar dates a client may send (1900-01-01 to
//! 2200-12-31), and the ISO 8601 parsing that enforces it. Every date of a request body
//! (through [`iso_date`]) and every date filter of a query (through [`parse_date`]) is
//! checked here, so a register that takes a date gets the range by construction: a
//! year of -5000 or 9999 is a 400 naming the field, never a value the database refuses
//! (PostgreSQL knows no date before 4713 BC) or a due date computed past the calendar.

use time::{Date, Month, format_description::BorrowedFormatItem, macros::format_description};

use crate::ValidationErrors;

/// The earliest date accepted from a client.
pub const EARLIEST_DATE: Date = match Date::from_calendar_date(1900, Month::January, 1) {
    Ok(date) => date,
    Err(_) => panic!("1900-01-01 is a date"),
};

/// The latest date accepted from a client.
pub const LATEST_DATE: Date = match Date::from_calendar_date(2200, Month::December, 31) {
    Ok(date) => date,
    Err(_) => panic!("2200-12-31 is a date"),
};

/// `YYYY-MM-DD`.
const ISO_DATE: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");

/// Why a date was refused (the message under the field's name).
fn out_of_range() -> String {
    format!("must be a date between {EARLIEST_DATE} and {LATEST_DATE}")
}

/// `date` if it lies in the plausible range, else an error naming `field`.
pub fn plausible_date(field: &str, date: Date) -> Result<Date, ValidationErrors> {
    if (EARLIEST_DATE..=LATEST_DATE).contains(&date) {
        Ok(date)
    } else {
        Err(ValidationErrors::single(field, out_of_range()))
    }
}

/// Parses `YYYY-MM-DD` in the plausible range; the error names `field`.
pub fn parse_date(field: &str, raw: &str) -> Result<Date, ValidationErrors> {
    let date = parse_iso(raw).map_err(|message| ValidationErrors::single(field, message))?;
    plausible_date(field, date)
}

fn parse_iso(raw: &str) -> Result<Date, String> {
    Date::parse(raw, ISO_DATE).map_err(|_| "must be a date (YYYY-MM-DD)".to_owned())
}

/// Serde for a request body's date: ISO 8601 (`2026-01-31`), refused outside the
/// plausible range (`#[serde(with = "aura_shared_kernel::date::iso_date")]`; `::option`
/// for an optional one). Serialising writes any date, so answers never fail.
pub mod iso_date {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};
    use time::Date;

    use super::{EARLIEST_DATE, ISO_DATE, LATEST_DATE, out_of_range, parse_iso};

    pub fn serialize<S: Serializer>(date: &Date, serializer: S) -> Result<S::Ok, S::Error> {
        let text = date.format(ISO_DATE).map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Date, D::Error> {
        let raw = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        let date = parse_iso(&raw).map_err(D::Error::custom)?;
        if (EARLIEST_DATE..=LATEST_DATE).contains(&date) {
            Ok(date)
        } else {
            Err(D::Error::custom(out_of_range()))
        }
    }

    /// The same for `Option<Date>` (`null` is `None`).
    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer};
        use time::Date;

        pub fn serialize<S: Serializer>(
            date: &Option<Date>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match date {
                Some(date) => super::serialize(date, serializer),
                None => serializer.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<Date>, D::Error> {
            #[derive(Deserialize)]
            struct Wrapped(#[serde(with = "super")] Date);
            Ok(Option::<Wrapped>::deserialize(deserializer)?.map(|Wrapped(date)| date))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};
    use time::macros::date;

    use super::*;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Body {
        #[serde(with = "iso_date")]
        on: Date,
        #[serde(default, with = "iso_date::option")]
        maybe: Option<Date>,
    }

    fn read(json: &str) -> Result<Body, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn the_range_ends_are_accepted_and_one_day_beyond_them_is_not() {
        assert!(plausible_date("d", date!(1900 - 01 - 01)).is_ok());
        assert!(plausible_date("d", date!(2200 - 12 - 31)).is_ok());
        for outside in [date!(1899 - 12 - 31), date!(2201 - 01 - 01)] {
            let error = plausible_date("review_date", outside).unwrap_err();
            assert!(error.names("review_date"), "{error}");
        }
    }

    #[test]
    fn bodies_refuse_implausible_years_and_keep_the_iso_format() {
        let ok = read(r#"{"on":"2026-01-31","maybe":null}"#).unwrap();
        assert_eq!(ok.on, date!(2026 - 01 - 31));
        assert_eq!(ok.maybe, None);
        assert_eq!(
            serde_json::to_string(&ok).unwrap(),
            r#"{"on":"2026-01-31","maybe":null}"#
        );
        for json in [
            r#"{"on":"-5000-01-01"}"#,
            r#"{"on":"9999-12-31"}"#,
            r#"{"on":"2026-01-01","maybe":"-5000-01-01"}"#,
            r#"{"on":"2026-01-01","maybe":"9999-01-01"}"#,
        ] {
            let error = read(json).unwrap_err();
            assert!(
                error.contains("between 1900-01-01 and 2200-12-31"),
                "{json}: {error}"
            );
        }
        assert!(
            read(r#"{"on":"31.01.2026"}"#)
                .unwrap_err()
                .contains("YYYY-MM-DD")
        );
    }

    #[test]
    fn query_dates_name_the_parameter() {
        assert_eq!(
            parse_date("due_before", "2030-05-01").unwrap(),
            date!(2030 - 05 - 01)
        );
        for raw in ["-5000-01-01", "9999-12-31", "tomorrow"] {
            assert!(
                parse_date("due_before", raw)
                    .unwrap_err()
                    .names("due_before"),
                "{raw}"
            );
        }
    }
}
