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
