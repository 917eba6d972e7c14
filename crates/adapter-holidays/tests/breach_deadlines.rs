//! The Art. 33(1) deadline across daylight-saving changes in real zones (the compiled-in
//! IANA database): 72 hours of absolute time after awareness, which the local wall clock
//! shows as 73 hours over a spring change (02:30 on Monday for 01:30 on Friday) and as 71
//! over an autumn change (00:30), and as 72 where the zone does not change.

use aura_adapter_holidays::IanaTimeZones;
use aura_breaches::{AUTHORITY_WINDOW, authority_deadline};
use aura_shared_kernel::{LocalInstant, TimeZones};
use proptest::prelude::*;
use time::{Duration, OffsetDateTime, UtcOffset, macros::datetime};

/// Awareness at 01:30 local time on the Friday before a change, written with the zone's
/// offset then, and the deadline as the zone's wall clock shows it.
struct Case {
    zone: &'static str,
    change: &'static str,
    aware: OffsetDateTime,
    deadline_local: OffsetDateTime,
    wall_clock_hours: i64,
}

fn cases() -> Vec<Case> {
    vec![
        // The EU changes at 01:00 UTC on the last Sundays of March and October.
        Case {
            zone: "Europe/Berlin",
            change: "spring, 29 March 2026",
            aware: datetime!(2026-03-27 01:30 +01:00),
            deadline_local: datetime!(2026-03-30 02:30 +02:00),
            wall_clock_hours: 73,
        },
        Case {
            zone: "Europe/Berlin",
            change: "autumn, 25 October 2026",
            aware: datetime!(2026-10-23 01:30 +02:00),
            deadline_local: datetime!(2026-10-26 00:30 +01:00),
            wall_clock_hours: 71,
        },
        // Irish time: summer is the zone's standard time (IST), winter its negative DST.
        Case {
            zone: "Europe/Dublin",
            change: "spring, 29 March 2026",
            aware: datetime!(2026-03-27 01:30 +00:00),
            deadline_local: datetime!(2026-03-30 02:30 +01:00),
            wall_clock_hours: 73,
        },
        Case {
            zone: "Europe/Dublin",
            change: "autumn, 25 October 2026",
            aware: datetime!(2026-10-23 01:30 +01:00),
            deadline_local: datetime!(2026-10-26 00:30 +00:00),
            wall_clock_hours: 71,
        },
        Case {
            zone: "Europe/Lisbon",
            change: "spring, 29 March 2026",
            aware: datetime!(2026-03-27 01:30 +00:00),
            deadline_local: datetime!(2026-03-30 02:30 +01:00),
            wall_clock_hours: 73,
        },
        Case {
            zone: "Europe/Lisbon",
            change: "autumn, 25 October 2026",
            aware: datetime!(2026-10-23 01:30 +01:00),
            deadline_local: datetime!(2026-10-26 00:30 +00:00),
            wall_clock_hours: 71,
        },
        // The US changes on the second Sunday of March and the first of November.
        Case {
            zone: "America/New_York",
            change: "spring, 8 March 2026",
            aware: datetime!(2026-03-06 01:30 -05:00),
            deadline_local: datetime!(2026-03-09 02:30 -04:00),
            wall_clock_hours: 73,
        },
        Case {
            zone: "America/New_York",
            change: "autumn, 1 November 2026",
            aware: datetime!(2026-10-30 01:30 -04:00),
            deadline_local: datetime!(2026-11-02 00:30 -05:00),
            wall_clock_hours: 71,
        },
        // Southern hemisphere: summer time ends in April and starts in October.
        Case {
            zone: "Australia/Sydney",
            change: "autumn, 5 April 2026",
            aware: datetime!(2026-04-03 01:30 +11:00),
            deadline_local: datetime!(2026-04-06 00:30 +10:00),
            wall_clock_hours: 71,
        },
        Case {
            zone: "Australia/Sydney",
            change: "spring, 4 October 2026",
            aware: datetime!(2026-10-02 01:30 +10:00),
            deadline_local: datetime!(2026-10-05 02:30 +11:00),
            wall_clock_hours: 73,
        },
        // A half-hour zone without daylight-saving time: the wall clock counts 72 hours.
        Case {
            zone: "Asia/Kolkata",
            change: "none (+05:30 all year)",
            aware: datetime!(2026-03-27 01:30 +05:30),
            deadline_local: datetime!(2026-03-30 01:30 +05:30),
            wall_clock_hours: 72,
        },
        // A quarter-hour zone with daylight-saving time (+12:45 / +13:45), changing at
        // 02:45 standard time, like New Zealand.
        Case {
            zone: "Pacific/Chatham",
            change: "autumn, 5 April 2026",
            aware: datetime!(2026-04-03 01:30 +13:45),
            deadline_local: datetime!(2026-04-06 00:30 +12:45),
            wall_clock_hours: 71,
        },
        Case {
            zone: "Pacific/Chatham",
            change: "spring, 27 September 2026",
            aware: datetime!(2026-09-25 01:30 +12:45),
            deadline_local: datetime!(2026-09-28 02:30 +13:45),
            wall_clock_hours: 73,
        },
    ]
}

/// Wall-clock hours between two local times (their date and time, offsets ignored).
fn wall_clock_hours(from: OffsetDateTime, to: OffsetDateTime) -> i64 {
    let wall = |t: OffsetDateTime| t.replace_offset(UtcOffset::UTC);
    (wall(to) - wall(from)).whole_hours()
}

#[test]
fn art_33_1_the_deadline_across_daylight_saving_changes_in_real_zones() {
    let zones = IanaTimeZones::new();
    for case in cases() {
        let what = format!("{} ({})", case.zone, case.change);
        let zone = zones.find(case.zone).expect(&what);
        // The awareness time is what the zone's clocks showed then.
        assert_eq!(
            zones.offset_at(&zone, case.aware),
            Some(case.aware.offset()),
            "{what}: awareness offset"
        );

        let deadline = authority_deadline(case.aware);
        assert_eq!(deadline - case.aware, Duration::hours(72), "{what}");
        assert_eq!(deadline, case.deadline_local, "{what}: same instant");

        let said = LocalInstant::new(deadline, &zone, &zones);
        assert_eq!(said.zone.as_str(), case.zone, "{what}");
        assert_eq!(said.utc.offset(), UtcOffset::UTC, "{what}");
        assert_eq!(said.utc, deadline, "{what}");
        assert_eq!(
            said.local.offset(),
            case.deadline_local.offset(),
            "{what}: local offset"
        );
        assert_eq!(
            (said.local.date(), said.local.time()),
            (case.deadline_local.date(), case.deadline_local.time()),
            "{what}: local wall clock"
        );
        assert_eq!(
            wall_clock_hours(case.aware, said.local),
            case.wall_clock_hours,
            "{what}: wall-clock hours"
        );
    }
}

#[test]
fn awareness_written_in_utc_or_local_time_gives_the_same_deadline() {
    let zones = IanaTimeZones::new();
    for case in cases() {
        let zone = zones.find(case.zone).expect(case.zone);
        let from_utc = authority_deadline(case.aware.to_offset(UtcOffset::UTC));
        let from_local = authority_deadline(case.aware);
        assert_eq!(from_utc, from_local, "{}", case.zone);
        assert_eq!(
            LocalInstant::new(from_utc, &zone, &zones),
            LocalInstant::new(from_local, &zone, &zones),
            "{}",
            case.zone
        );
    }
}

#[test]
fn the_berlin_deadline_is_said_in_rfc_3339() {
    let zones = IanaTimeZones::new();
    let berlin = zones.find("Europe/Berlin").expect("a zone");
    let deadline = authority_deadline(datetime!(2026-03-27 01:30 +01:00));
    assert_eq!(
        serde_json::to_value(LocalInstant::new(deadline, &berlin, &zones)).expect("json"),
        serde_json::json!({
            "utc": "2026-03-30T00:30:00Z",
            "local": "2026-03-30T02:30:00+02:00",
            "zone": "Europe/Berlin",
        })
    );
}

const ZONES: [&str; 8] = [
    "UTC",
    "Europe/Berlin",
    "Europe/Dublin",
    "Europe/Lisbon",
    "America/New_York",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Pacific/Chatham",
];

proptest! {
    /// In every zone, any awareness instant from 1990 to 2100: the deadline said locally is
    /// the same instant as in UTC, 72 hours after awareness said locally.
    #[test]
    fn art_33_1_in_any_zone_the_local_deadline_is_72_absolute_hours_after_local_awareness(
        seconds in 631_152_000i64..4_102_444_800,
        which in 0usize..ZONES.len(),
    ) {
        let zones = IanaTimeZones::new();
        let zone = zones.find(ZONES[which]).expect("a zone");
        let aware = OffsetDateTime::from_unix_timestamp(seconds).expect("in range");
        let aware_local = LocalInstant::new(aware, &zone, &zones);
        let deadline_local = LocalInstant::new(authority_deadline(aware_local.local), &zone, &zones);
        prop_assert_eq!(deadline_local.local, deadline_local.utc);
        prop_assert_eq!(deadline_local.local - aware_local.local, AUTHORITY_WINDOW);
        prop_assert_eq!(deadline_local.utc, authority_deadline(aware));
        // The offsets are the zone's at each instant (not awareness's offset carried over).
        prop_assert_eq!(Some(deadline_local.local.offset()), zones.offset_at(&zone, deadline_local.utc));
        prop_assert_eq!(Some(aware_local.local.offset()), zones.offset_at(&zone, aware));
    }
}
