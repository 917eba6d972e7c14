//! The Art. 33(1) clock: notify the supervisory authority within 72 hours of becoming aware.

use time::{Duration, OffsetDateTime};

/// Art. 33(1): "not later than 72 hours after having become aware of it".
pub const AUTHORITY_WINDOW: Duration = Duration::hours(72);

/// The instant by which the authority must be notified (Art. 33(1)): 72 hours of absolute
/// time after the controller became aware, whatever the calendar or the time zone.
pub fn authority_deadline(became_aware_at: OffsetDateTime) -> OffsetDateTime {
    became_aware_at + AUTHORITY_WINDOW
}

/// Where a deadline stands at `now`: whole hours left (rounded down), or whole hours late
/// (rounded up: one second late is one hour late).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineStanding {
    HoursLeft(i64),
    HoursLate(i64),
}

pub fn standing(deadline: OffsetDateTime, now: OffsetDateTime) -> DeadlineStanding {
    let left = deadline - now;
    if left.is_negative() {
        let late = -left;
        let whole = late.whole_hours();
        let part = late - Duration::hours(whole);
        DeadlineStanding::HoursLate(if part.is_zero() { whole } else { whole + 1 })
    } else {
        DeadlineStanding::HoursLeft(left.whole_hours())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_deadline_is_72_hours_of_absolute_time() {
        // Friday 09:00 UTC: the deadline is Monday 09:00 UTC, over the weekend.
        let aware = datetime!(2026-12-04 09:00 UTC);
        assert_eq!(authority_deadline(aware), datetime!(2026-12-07 09:00 UTC));
    }

    #[test]
    fn standing_rounds_left_down_and_late_up() {
        let deadline = datetime!(2026-12-07 09:00 UTC);
        assert_eq!(
            standing(deadline, datetime!(2026-12-06 09:30 UTC)),
            DeadlineStanding::HoursLeft(23)
        );
        assert_eq!(standing(deadline, deadline), DeadlineStanding::HoursLeft(0));
        assert_eq!(
            standing(deadline, datetime!(2026-12-07 09:00:01 UTC)),
            DeadlineStanding::HoursLate(1)
        );
        assert_eq!(
            standing(deadline, datetime!(2026-12-07 11:00 UTC)),
            DeadlineStanding::HoursLate(2)
        );
    }
}

/// The clock's properties over any instant, any offset it is written in and any `now`:
/// Art. 33(1)'s 72 hours are absolute time.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;
    use time::{Duration, OffsetDateTime, UtcOffset};

    use super::*;

    /// 72 hours in seconds: Art. 33(1)'s window.
    const WINDOW_SECONDS: i64 = 259_200;

    /// An instant between 1990 and 2100, to the nanosecond.
    fn any_instant() -> impl Strategy<Value = OffsetDateTime> {
        (631_152_000i64..4_102_444_800, 0u32..1_000_000_000).prop_map(|(seconds, nanos)| {
            OffsetDateTime::from_unix_timestamp(seconds).expect("in range")
                + Duration::nanoseconds(i64::from(nanos))
        })
    }

    /// Any offset `time` can write, seconds included (−25:59:59 to +25:59:59): the real
    /// zones' −12:00 to +14:00, the quarter hours of Chatham and Nepal, local mean times.
    fn any_offset() -> impl Strategy<Value = UtcOffset> {
        (-93_599i32..=93_599).prop_map(|s| UtcOffset::from_whole_seconds(s).expect("in range"))
    }

    /// Hours left count up, hours late count down: the larger the later `now` is.
    fn key(standing: DeadlineStanding) -> i64 {
        match standing {
            DeadlineStanding::HoursLeft(h) => h,
            DeadlineStanding::HoursLate(h) => -h,
        }
    }

    proptest! {
        #[test]
        fn art_33_1_the_deadline_is_259_200_seconds_after_awareness_in_any_offset(
            aware in any_instant(),
            offset in any_offset(),
        ) {
            let written = aware.to_offset(offset);
            let deadline = authority_deadline(written);
            prop_assert_eq!((deadline - written).whole_seconds(), WINDOW_SECONDS);
            prop_assert_eq!((deadline - written).subsec_nanoseconds(), 0);
            prop_assert_eq!(
                deadline.unix_timestamp_nanos() - written.unix_timestamp_nanos(),
                i128::from(WINDOW_SECONDS) * 1_000_000_000
            );
            // Said in the offset awareness was given in.
            prop_assert_eq!(deadline.offset(), offset);
        }

        #[test]
        fn art_33_1_the_deadline_is_one_instant_whatever_offset_awareness_is_written_in(
            aware in any_instant(),
            first in any_offset(),
            second in any_offset(),
        ) {
            let in_utc = authority_deadline(aware.to_offset(UtcOffset::UTC));
            let in_first = authority_deadline(aware.to_offset(first));
            let in_second = authority_deadline(aware.to_offset(second));
            prop_assert_eq!(in_first, in_utc);
            prop_assert_eq!(in_second, in_utc);
            prop_assert_eq!(in_first.unix_timestamp_nanos(), in_second.unix_timestamp_nanos());
        }

        #[test]
        fn art_33_1_at_awareness_72_hours_are_left(aware in any_instant(), offset in any_offset()) {
            let aware = aware.to_offset(offset);
            prop_assert_eq!(
                standing(authority_deadline(aware), aware),
                DeadlineStanding::HoursLeft(72)
            );
        }

        #[test]
        fn the_standing_falls_as_now_moves_on(
            deadline in any_instant(),
            from in -400_000i64..400_000,
            step in 0i64..400_000,
        ) {
            let earlier = deadline + Duration::seconds(from);
            let later = earlier + Duration::seconds(step);
            prop_assert!(key(standing(deadline, earlier)) >= key(standing(deadline, later)));
        }

        #[test]
        fn hours_left_round_down_and_hours_late_round_up(
            deadline in any_instant(),
            seconds in 1i64..1_000_000,
        ) {
            // Before the deadline: whole hours, rounded down.
            prop_assert_eq!(
                standing(deadline, deadline - Duration::seconds(seconds)),
                DeadlineStanding::HoursLeft(seconds / 3600)
            );
            // After it: any started hour counts.
            prop_assert_eq!(
                standing(deadline, deadline + Duration::seconds(seconds)),
                DeadlineStanding::HoursLate((seconds + 3599) / 3600)
            );
        }

        #[test]
        fn at_the_edge_zero_hours_are_left_and_a_nanosecond_later_one_hour_is_late(
            deadline in any_instant(),
            nanos in 1i64..=3_600_000_000_000,
        ) {
            prop_assert_eq!(standing(deadline, deadline), DeadlineStanding::HoursLeft(0));
            prop_assert_eq!(
                standing(deadline, deadline + Duration::nanoseconds(nanos)),
                DeadlineStanding::HoursLate(1)
            );
            prop_assert_eq!(
                standing(deadline, deadline - Duration::nanoseconds(nanos.min(3_599_999_999_999))),
                DeadlineStanding::HoursLeft(0)
            );
        }

        #[test]
        fn the_standing_does_not_depend_on_the_offsets(
            deadline in any_instant(),
            distance in -1_000_000i64..1_000_000,
            deadline_offset in any_offset(),
            now_offset in any_offset(),
        ) {
            let now = deadline + Duration::seconds(distance);
            prop_assert_eq!(
                standing(deadline.to_offset(deadline_offset), now.to_offset(now_offset)),
                standing(deadline, now)
            );
        }
    }
}
