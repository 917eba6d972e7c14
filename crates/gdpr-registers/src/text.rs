//! Small validated building blocks shared by the registers.

use std::{fmt, str::FromStr};

use aura_shared_kernel::ValidationErrors;
use serde::{Deserialize, Serialize};

// Calendar dates travel as ISO 8601 (`2026-01-31`), not as time's default tuple.
time::serde::format_description!(pub iso_date, Date, "[year]-[month]-[day]");

/// What a text field accepts: at most `max` characters, and whether it may span lines.
/// One named rule per kind of field keeps a register's limits readable in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextRule {
    pub max: usize,
    pub multiline: bool,
}

impl TextRule {
    /// One line: names, titles, short references.
    pub const fn line(max: usize) -> Self {
        Self {
            max,
            multiline: false,
        }
    }

    /// Several lines: descriptions, notes, contacts.
    pub const fn block(max: usize) -> Self {
        Self {
            max,
            multiline: true,
        }
    }
}

/// Trimmed text of 1..=`rule.max` characters without control characters (newlines allowed
/// when the rule is multi-line). Reports problems under `field`.
pub fn text(field: &str, raw: &str, rule: TextRule) -> Result<String, ValidationErrors> {
    let TextRule { max, multiline } = rule;
    let value = raw.trim();
    let problem = if value.is_empty() {
        Some("must not be empty".to_owned())
    } else if value.chars().count() > max {
        Some(format!("must be at most {max} characters"))
    } else if value
        .chars()
        .any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')))
    {
        Some("must not contain control characters".to_owned())
    } else {
        None
    };
    match problem {
        Some(message) => Err(ValidationErrors::single(field, message)),
        None => Ok(value.to_owned()),
    }
}

/// Like [`text`] for an optional value; empty or absent becomes `None`.
pub fn optional_text(
    field: &str,
    raw: Option<&str>,
    rule: TextRule,
) -> Result<Option<String>, ValidationErrors> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => text(field, value, rule).map(Some),
    }
}

/// A list of short texts (categories, recipients): at most `max_items`, each validated,
/// duplicates removed (case-insensitively), order kept.
pub fn text_list(
    field: &str,
    raw: &[String],
    max_items: usize,
    max_chars: usize,
) -> Result<Vec<String>, ValidationErrors> {
    if raw.len() > max_items {
        return Err(ValidationErrors::single(
            field,
            format!("must have at most {max_items} entries"),
        ));
    }
    let mut errors = ValidationErrors::default();
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for (i, item) in raw.iter().enumerate() {
        if let Some(value) = errors.collect(text(
            &format!("{field}[{i}]"),
            item,
            TextRule::line(max_chars),
        )) && !out.iter().any(|o| o.eq_ignore_ascii_case(&value))
        {
            out.push(value);
        }
    }
    errors.into_result().map(|()| out)
}

/// A closed set of values with stable names, as [`string_enum!`] declares them: what a
/// schema or a form lists.
pub trait StringEnum: Copy + 'static {
    const ALL: &'static [Self];
    fn as_str(self) -> &'static str;
}

/// Declares a closed set of values with stable snake_case names, parsing and display.
/// Exported for the other record crates (tasks); callers need `aura_shared_kernel` and `serde`.
#[macro_export]
macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// Parses the stable name, reporting the allowed values under `field`.
            pub fn parse(field: &str, raw: &str) -> Result<Self, aura_shared_kernel::ValidationErrors> {
                raw.parse().map_err(|message: String| aura_shared_kernel::ValidationErrors::single(field, message))
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "`{other}` is not one of: {}",
                        [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::text::StringEnum for $name {
            const ALL: &'static [$name] = $name::ALL;
            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
        }
    };
}
pub(crate) use string_enum;

/// An ISO 3166-1 alpha-2 country code (upper case), checked against the official list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountryCode([u8; 2]);

/// Officially assigned ISO 3166-1 alpha-2 codes (sorted, each followed by one space but the
/// last: see [`listed`]).
const ISO_3166_ALPHA2: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// EU and EEA member states: transfers there are not third-country transfers (sorted, as
/// [`ISO_3166_ALPHA2`]).
const EEA: &str =
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IS IT LI LT LU LV MT NL NO PL PT RO SE SI SK";

/// Whether `code` is in `list` (sorted two-letter codes, one space between): a binary
/// search, as every country of every record read is checked here.
fn listed(list: &str, code: [u8; 2]) -> bool {
    let codes = list.as_bytes();
    let at = |index: usize| [codes[3 * index], codes[3 * index + 1]];
    let (mut low, mut high) = (0, codes.len().div_ceil(3));
    while low < high {
        let middle = low + (high - low) / 2;
        match at(middle).cmp(&code) {
            std::cmp::Ordering::Less => low = middle + 1,
            std::cmp::Ordering::Greater => high = middle,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

impl CountryCode {
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationErrors> {
        raw.parse()
            .map_err(|message: String| ValidationErrors::single(field, message))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("??")
    }

    /// Inside the EU/EEA (no Chapter V transfer).
    pub fn is_eea(&self) -> bool {
        listed(EEA, self.0)
    }
}

impl FromStr for CountryCode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let &[first, second] = s.trim().as_bytes()
            && let code = [first.to_ascii_uppercase(), second.to_ascii_uppercase()]
            && listed(ISO_3166_ALPHA2, code)
        {
            Ok(Self(code))
        } else {
            Err(format!(
                "`{s}` is not an ISO 3166-1 alpha-2 country code (e.g. DE, US)"
            ))
        }
    }
}

impl TryFrom<String> for CountryCode {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<CountryCode> for String {
    fn from(value: CountryCode) -> Self {
        value.as_str().to_owned()
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_binary_search_agrees_with_the_lists_for_every_pair_of_letters() {
        for list in [ISO_3166_ALPHA2, EEA] {
            let codes: Vec<&str> = list.split(' ').collect();
            assert!(
                codes.windows(2).all(|w| w[0] < w[1]),
                "sorted, no duplicates"
            );
            assert!(codes.iter().all(|c| c.len() == 2), "two letters each");
            for first in b'A'..=b'Z' {
                for second in b'A'..=b'Z' {
                    let code = [first, second];
                    let spelled = std::str::from_utf8(&code).unwrap_or_default();
                    assert_eq!(listed(list, code), codes.contains(&spelled), "{spelled}");
                }
            }
        }
        assert_eq!(
            EEA.split(' ').count(),
            30,
            "27 EU states, Iceland, Liechtenstein, Norway"
        );
    }

    #[test]
    fn country_codes_are_checked_against_the_list() {
        assert_eq!(
            CountryCode::parse("country", "de").map(|c| c.to_string()),
            Ok("DE".to_owned())
        );
        for bad in ["XX", "DEU", "", "U$", "EU"] {
            assert!(CountryCode::parse("country", bad).is_err(), "{bad}");
        }
        assert!(CountryCode::parse("c", "FR").is_ok_and(|c| c.is_eea()));
        assert!(CountryCode::parse("c", "US").is_ok_and(|c| !c.is_eea()));
    }

    #[test]
    fn lists_are_bounded_validated_and_deduplicated() {
        let list = text_list(
            "x",
            &["Customers".into(), " customers ".into(), "Staff".into()],
            10,
            50,
        );
        assert_eq!(list, Ok(vec!["Customers".to_owned(), "Staff".to_owned()]));
        let err = text_list("x", &["ok".into(), "".into()], 10, 50).expect_err("empty item");
        assert_eq!(err.0[0].field, "x[1]");
        assert!(text_list("x", &vec!["a".to_owned(); 11], 10, 50).is_err());
    }
}
