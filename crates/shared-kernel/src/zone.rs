//! Time zones: the tenant's IANA zone, the port that knows the zone database, and an
//! instant said both in UTC and in the tenant's zone.
//!
//! Deadlines are instants (`OffsetDateTime`, compared and added in absolute time); a zone
//! only changes how an instant is written for the people who read it. The zone database
//! itself is an adapter's (compiled into the binary, never read or downloaded at run time).

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, UtcOffset};

use crate::error::ValidationErrors;

/// The name of a zone of the IANA time zone database (`Europe/Berlin`, `UTC`). The tenant's
/// is checked against the database where it is set ([`TimeZoneName::checked`]); until then
/// it is just the text a client sent. The default is `UTC`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TimeZoneName(String);

impl TimeZoneName {
    pub const UTC: &'static str = "UTC";

    /// The text as given, not yet checked (a request body, a stored row).
    pub fn unchecked(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    pub fn utc() -> Self {
        Self(Self::UTC.to_owned())
    }

    /// The zone in the database, spelt as the database spells it (`europe/berlin` is
    /// `Europe/Berlin`); an unknown name is refused under `field`.
    pub fn checked(&self, field: &str, zones: &dyn TimeZones) -> Result<Self, ValidationErrors> {
        zones.find(self.0.trim()).ok_or_else(|| {
            ValidationErrors::single(
                field,
                "must be a time zone of the IANA database (e.g. Europe/Berlin, UTC)",
            )
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for TimeZoneName {
    fn default() -> Self {
        Self::utc()
    }
}

impl fmt::Display for TimeZoneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The zone database as a port: pure lookups over data compiled into the adapter.
pub trait TimeZones: Send + Sync {
    /// The zone called `name` (ignoring ASCII case), with its canonical spelling; `None`
    /// when the database has no such zone.
    fn find(&self, name: &str) -> Option<TimeZoneName>;

    /// The zone's offset from UTC at the instant `at` (daylight-saving time included);
    /// `None` for a zone the database does not know.
    fn offset_at(&self, zone: &TimeZoneName, at: OffsetDateTime) -> Option<UtcOffset>;
}

/// One instant said twice: in UTC and in a zone's local time (the same instant, written
/// with the zone's offset at that instant), with the zone's name. Serialised as RFC 3339:
/// `{"utc": "2026-03-30T00:30:00Z", "local": "2026-03-30T02:30:00+02:00",
/// "zone": "Europe/Berlin"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalInstant {
    #[serde(with = "time::serde::rfc3339")]
    pub utc: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub local: OffsetDateTime,
    pub zone: TimeZoneName,
}

impl LocalInstant {
    /// `at` in `zone`. A zone the database does not know (a stored name the database
    /// dropped) says the instant in UTC and names `UTC`, so an answer never fails for it.
    ///
    /// RFC 3339 writes offsets in whole minutes: a zone's local mean time before it
    /// adopted standard time (e.g. Dublin's −00:25:21 before 1916) is written with its
    /// seconds dropped from the offset, so `local` may differ from the historical wall
    /// clock by under a minute. No deadline of this service lies in those years.
    pub fn new(at: OffsetDateTime, zone: &TimeZoneName, zones: &dyn TimeZones) -> Self {
        let (zone, offset) = match zones.offset_at(zone, at) {
            Some(offset) => (zone.clone(), whole_minutes(offset)),
            None => (TimeZoneName::utc(), UtcOffset::UTC),
        };
        Self {
            utc: at.to_offset(UtcOffset::UTC),
            local: at.to_offset(offset),
            zone,
        }
    }
}

fn whole_minutes(offset: UtcOffset) -> UtcOffset {
    let (hours, minutes, _) = offset.as_hms();
    UtcOffset::from_hms(hours, minutes, 0).unwrap_or(UtcOffset::UTC)
}

#[cfg(test)]
mod tests {
    use time::macros::{datetime, offset};

    use super::*;

    /// A database of two zones with fixed offsets (the real one is an adapter's).
    struct TwoZones;

    impl TimeZones for TwoZones {
        fn find(&self, name: &str) -> Option<TimeZoneName> {
            ["UTC", "Asia/Kolkata", "Europe/Dublin"]
                .into_iter()
                .find(|zone| zone.eq_ignore_ascii_case(name))
                .map(TimeZoneName::unchecked)
        }

        fn offset_at(&self, zone: &TimeZoneName, _at: OffsetDateTime) -> Option<UtcOffset> {
            match zone.as_str() {
                "UTC" => Some(UtcOffset::UTC),
                "Asia/Kolkata" => Some(offset!(+05:30)),
                // Dublin mean time, 1880–1916.
                "Europe/Dublin" => Some(offset!(-00:25:21)),
                _ => None,
            }
        }
    }

    #[test]
    fn a_known_zone_is_checked_into_its_canonical_spelling() {
        let zone = TimeZoneName::unchecked(" asia/KOLKATA ")
            .checked("time_zone", &TwoZones)
            .expect("known");
        assert_eq!(zone.as_str(), "Asia/Kolkata");
    }

    #[test]
    fn an_unknown_zone_is_refused_naming_the_field() {
        for bad in ["Mars/Olympus_Mons", "", "+02:00", "CEST"] {
            let errors = TimeZoneName::unchecked(bad)
                .checked("time_zone", &TwoZones)
                .expect_err(bad);
            assert_eq!(errors.0[0].field, "time_zone", "{bad}");
        }
    }

    #[test]
    fn the_default_zone_is_utc() {
        assert_eq!(TimeZoneName::default().as_str(), "UTC");
    }

    #[test]
    fn a_local_instant_is_the_same_instant_written_twice() {
        let at = datetime!(2026-12-06 18:00 UTC);
        let local = LocalInstant::new(at, &TimeZoneName::unchecked("Asia/Kolkata"), &TwoZones);
        assert_eq!(local.utc, at);
        assert_eq!(local.local, at);
        assert_eq!(local.local.offset(), offset!(+05:30));
        assert_eq!(
            serde_json::to_value(&local).expect("serialises"),
            serde_json::json!({
                "utc": "2026-12-06T18:00:00Z",
                "local": "2026-12-06T23:30:00+05:30",
                "zone": "Asia/Kolkata",
            })
        );
    }

    #[test]
    fn an_unknown_stored_zone_is_said_in_utc() {
        let at = datetime!(2026-12-06 18:00 +01:00);
        let local = LocalInstant::new(at, &TimeZoneName::unchecked("Gone/Zone"), &TwoZones);
        assert_eq!(local.zone.as_str(), "UTC");
        assert_eq!(local.local.offset(), UtcOffset::UTC);
        assert_eq!(local.local, at);
    }

    #[test]
    fn an_offset_with_seconds_is_written_in_whole_minutes() {
        let at = datetime!(1900-06-01 12:00 UTC);
        let local = LocalInstant::new(at, &TimeZoneName::unchecked("Europe/Dublin"), &TwoZones);
        assert_eq!(local.local.offset(), offset!(-00:25));
        assert_eq!(local.local, at);
        let json = serde_json::to_value(&local).expect("RFC 3339 takes it");
        assert_eq!(json["local"], "1900-06-01T11:35:00-00:25");
    }
}
