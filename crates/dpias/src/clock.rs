//! The Art. 36(2) clock: the supervisory authority gives its written advice "within a
//! period of up to eight weeks of receipt of the request for consultation", a period it
//! "may be extended by six weeks, taking into account the complexity of the intended
//! processing". Counted by Regulation (EEC, Euratom) No 1182/71, Art. 3. Pure functions
//! over dates.

use time::{Date, Duration, Weekday};

/// Art. 36(2): up to eight weeks from the receipt of the request.
pub const ANSWER_WEEKS: i64 = 8;

/// Art. 36(2): the period may be extended by six weeks.
pub const EXTENSION_WEEKS: i64 = 6;

/// The last day of a period of `weeks` weeks that runs from `runs_from`, before any move to
/// a working day. Reg. 1182/71 Art. 3(1): the day of the event does not count; Art. 3(2)(b):
/// a period in weeks ends with the expiry of the last hour of the day in the last week that
/// is the same day of the week as the day it runs from — `weeks × 7` days later.
pub fn last_day_of_weeks(runs_from: Date, weeks: i64) -> Date {
    runs_from.saturating_add(Duration::weeks(weeks))
}

/// Reg. 1182/71 Art. 3(4): a period that ends on a Saturday or a Sunday ends with the
/// following working day. The authority's public holidays are not applied: the authority
/// is named in free text, so its member state's calendar is not known to the register.
pub fn first_weekday_from(day: Date) -> Date {
    match day.weekday() {
        Weekday::Saturday => day.saturating_add(Duration::days(2)),
        Weekday::Sunday => day.saturating_add(Duration::days(1)),
        _ => day,
    }
}

/// The day by which the authority's written advice is due (Art. 36(2)): eight weeks from
/// `submitted_on` (the request's receipt), six more when the authority extended the period;
/// the extension is counted from the end of the first period, as it stands after its move
/// to a working day (the "further" period of Reg. 1182/71 follows the first).
pub fn answer_due(submitted_on: Date, extended: bool) -> Date {
    let first = first_weekday_from(last_day_of_weeks(submitted_on, ANSWER_WEEKS));
    if extended {
        first_weekday_from(last_day_of_weeks(first, EXTENSION_WEEKS))
    } else {
        first
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    #[test]
    fn eight_weeks_end_on_the_same_weekday() {
        // Monday 1 March 2027 → Monday 26 April 2027.
        assert_eq!(
            answer_due(date!(2027 - 03 - 01), false),
            date!(2027 - 04 - 26)
        );
        // Extended: six weeks after 26 April → Monday 7 June.
        assert_eq!(
            answer_due(date!(2027 - 03 - 01), true),
            date!(2027 - 06 - 07)
        );
    }

    #[test]
    fn a_request_received_on_a_saturday_is_answered_by_the_monday() {
        // Saturday 6 March 2027: the eighth Saturday is 1 May, so the period ends Monday 3 May.
        assert_eq!(
            answer_due(date!(2027 - 03 - 06), false),
            date!(2027 - 05 - 03)
        );
        // Extended from the Monday: Monday 14 June.
        assert_eq!(
            answer_due(date!(2027 - 03 - 06), true),
            date!(2027 - 06 - 14)
        );
    }

    fn any_day() -> impl Strategy<Value = Date> {
        (0i32..60_000).prop_map(|n| date!(2000 - 01 - 01) + Duration::days(n.into()))
    }

    proptest! {
        #[test]
        fn art_36_2_the_answer_is_due_eight_weeks_on_moved_at_most_two_days(day in any_day()) {
            let due = answer_due(day, false);
            let eight = day + Duration::weeks(ANSWER_WEEKS);
            prop_assert!(due >= eight && due - eight <= Duration::days(2));
            prop_assert!(!matches!(due.weekday(), Weekday::Saturday | Weekday::Sunday));
        }

        #[test]
        fn art_36_2_the_extension_adds_six_weeks_to_the_first_period(day in any_day()) {
            let first = answer_due(day, false);
            let extended = answer_due(day, true);
            // The first period ends on a weekday, so six weeks later is one too.
            prop_assert_eq!(extended - first, Duration::weeks(EXTENSION_WEEKS));
        }

        #[test]
        fn a_later_request_is_never_due_earlier(day in any_day(), later in 0i64..400, extended: bool) {
            let other = day + Duration::days(later);
            prop_assert!(answer_due(other, extended) >= answer_due(day, extended));
        }
    }
}
