//! Properties of business-time arithmetic (docs/policy.md section 1) and of `Policy::deadlines`
//! (sections 3-4), checked on random receipt instants over 2026-2027 (both DST changes, every
//! holiday) and random durations up to 100 business hours, to the second.
//!
//! Calendars under test:
//! - `default`: the shipped business calendar (Mon-Fri 08:00-20:00 Europe/Berlin, DE-NW).
//! - `company`: DE-BY holidays, a lunch break, Saturday mornings, extra closed dates (some next
//!   to DST changes) and extra open dates, including whole DST Sundays and intervals that a DST
//!   gap or fold cuts through.
//! - `around_the_clock`: a business calendar open 00:00-24:00 every day, which must behave like
//!   the `always` calendar.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::calendar::{
    BusinessCalendar, Calendar, ClosedDays, DailyHours, GermanState, OpenHours, WeeklyHours,
};
use domain::deadlines::Request;
use domain::jiff::civil::date;
use domain::jiff::tz::TimeZone;
use domain::jiff::{SignedDuration, Timestamp};
use domain::policy::{Channel, ClockName, Plan, Policy, Priority};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;
use std::time::Duration;

const CASES: u32 = 2000;
const START_2026: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z
const END_2027: i64 = 1_830_297_600; // 2028-01-01T00:00:00Z
const HOUR: u64 = 3600;
const MAX_DURATION: u64 = 100 * HOUR;
const ONE_SECOND: SignedDuration = SignedDuration::from_secs(1);

static POLICY: LazyLock<Policy> = LazyLock::new(|| policy_file::default_policy().unwrap());
static COMPANY: LazyLock<Calendar> = LazyLock::new(company_calendar);
static AROUND_THE_CLOCK: LazyLock<Calendar> = LazyLock::new(around_the_clock_calendar);

fn hours(intervals: &[&str]) -> DailyHours {
    DailyHours::new(
        intervals
            .iter()
            .map(|text| text.parse::<OpenHours>().unwrap())
            .collect(),
    )
    .unwrap()
}

fn company_calendar() -> Calendar {
    let weekday = hours(&["08:00-12:00", "13:00-20:00"]);
    let weekly = WeeklyHours::new([
        weekday.clone(),
        weekday.clone(),
        weekday.clone(),
        weekday.clone(),
        weekday,
        hours(&["10:00-14:00"]),
        DailyHours::closed(),
    ]);
    let closed = ClosedDays {
        state: Some(GermanState::Bayern),
        extra_closed: BTreeSet::from([
            date(2026, 3, 27),  // the Friday before the spring change
            date(2026, 10, 26), // the Monday after the autumn change
            date(2026, 12, 24),
            date(2026, 12, 31),
            date(2027, 7, 5),
            date(2027, 7, 6),
            date(2027, 7, 7),
            date(2027, 12, 24),
            date(2027, 12, 31),
        ]),
        extra_open: BTreeMap::from([
            // Whole DST Sundays: 23 and 25 hours of open time.
            (date(2026, 3, 29), hours(&["00:00-24:00"])),
            (date(2026, 10, 25), hours(&["00:00-24:00"])),
            // Intervals that the 2027 gap (28 March) and fold (31 October) cut through. On the
            // gap day 00:00-02:45 ends at 03:45 CEST (02:45 does not exist), after 03:00.
            (date(2027, 3, 28), hours(&["00:00-02:45", "03:00-05:00"])),
            (date(2027, 10, 31), hours(&["01:00-02:30", "02:30-04:00"])),
            // A holiday opened for an hour.
            (date(2026, 12, 25), hours(&["09:00-10:00"])),
        ]),
    };
    Calendar::Business(Box::new(BusinessCalendar::new(
        TimeZone::get("Europe/Berlin").unwrap(),
        weekly,
        closed,
    )))
}

fn around_the_clock_calendar() -> Calendar {
    let all_day = hours(&["00:00-24:00"]);
    Calendar::Business(Box::new(BusinessCalendar::new(
        TimeZone::get("Europe/Berlin").unwrap(),
        WeeklyHours::new([(); 7].map(|()| all_day.clone())),
        ClosedDays::default(),
    )))
}

/// The business calendars whose properties are checked: the default one and `company`.
fn business_calendars() -> [(&'static str, &'static Calendar); 2] {
    [("default", &POLICY.business), ("company", &COMPANY)]
}

/// Receipt instants over 2026-2027: any second, or whole minutes and hours, which hit the
/// opening and closing edges far more often than random seconds do.
fn instant() -> impl Strategy<Value = Timestamp> {
    prop_oneof![
        START_2026..END_2027,
        (START_2026 / 60..END_2027 / 60).prop_map(|minute| minute * 60),
        (START_2026 / 3600..END_2027 / 3600).prop_map(|hour| hour * 3600),
    ]
    .prop_map(|second| Timestamp::from_second(second).unwrap())
}

/// Durations up to 100 business hours: any second, whole minutes, whole hours, or zero.
fn duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        0..=MAX_DURATION,
        (0..=MAX_DURATION / 60).prop_map(|minutes| minutes * 60),
        (0..=MAX_DURATION / HOUR).prop_map(|hours| hours * HOUR),
        Just(0),
    ]
    .prop_map(Duration::from_secs)
}

fn request() -> impl Strategy<Value = Request> {
    (
        instant(),
        prop::sample::select(Plan::ALL),
        prop::sample::select(Priority::ALL),
        prop::sample::select(Channel::ALL),
    )
        .prop_map(|(received, plan, priority, channel)| Request {
            received,
            plan,
            priority,
            channel,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn a_deadline_is_never_before_its_start_nor_before_start_plus_the_duration(
        t in instant(),
        d in duration(),
    ) {
        for (name, calendar) in business_calendars() {
            let due = calendar.add(t, d).unwrap();
            prop_assert!(due >= t, "{name}: {t} + {d:?} = {due}");
            prop_assert!(due >= calendar.next_opening(t).unwrap(), "{name}: {t} + {d:?}");
            // Open time passes no faster than real time.
            prop_assert!(due.duration_since(t) >= SignedDuration::try_from(d).unwrap(), "{name}");
        }
        prop_assert_eq!(POLICY.always.add(t, d).unwrap(), t + SignedDuration::try_from(d).unwrap());
    }

    /// With `d > 0` the last second consumed was open, so `due` is open time or the closing
    /// edge right after it (`due - 1s` open, `due` closed). With `d = 0` the sum is the next
    /// opening, which is open.
    #[test]
    fn a_business_deadline_lands_in_open_time_or_exactly_on_a_closing_edge(
        t in instant(),
        d in duration(),
    ) {
        for (name, calendar) in business_calendars() {
            let due = calendar.add(t, d).unwrap();
            if d.is_zero() {
                prop_assert_eq!(due, calendar.next_opening(t).unwrap(), "{}", name);
                prop_assert!(calendar.is_open(due), "{name}: next opening {due} is open");
            } else {
                prop_assert!(
                    calendar.is_open(due - ONE_SECOND),
                    "{name}: {t} + {d:?} = {due}, and the second before it is closed"
                );
                if !calendar.is_open(due) {
                    // A closing edge: the next opening lies strictly later.
                    prop_assert!(calendar.next_opening(due).unwrap() > due, "{name}: {due}");
                }
            }
        }
    }

    #[test]
    fn the_next_opening_is_the_instant_itself_exactly_when_it_is_open(t in instant()) {
        for (name, calendar) in business_calendars() {
            let next = calendar.next_opening(t).unwrap();
            prop_assert_eq!(next == t, calendar.is_open(t), "{} at {}", name, t);
            prop_assert!(calendar.is_open(next), "{name}: {next}");
            if next > t {
                prop_assert!(!calendar.is_open(next - ONE_SECOND), "{name}: {next} opens");
                prop_assert_eq!(calendar.open_time_between(t, next), Duration::ZERO, "{}", name);
            }
        }
    }

    /// `add(add(t, a), b) == add(t, a + b)` for every `b > 0`, also when `add(t, a)` lands on
    /// a closing edge. For `b = 0` the outer sum is the next opening of `add(t, a)` by
    /// definition, which differs exactly when `add(t, a)` is a closing edge.
    #[test]
    fn adding_a_then_b_equals_adding_a_plus_b(
        t in instant(),
        a in duration(),
        b in duration(),
    ) {
        for (name, calendar) in business_calendars() {
            let first = calendar.add(t, a).unwrap();
            let stepwise = calendar.add(first, b).unwrap();
            if b.is_zero() {
                prop_assert_eq!(stepwise, calendar.next_opening(first).unwrap(), "{}", name);
            } else {
                prop_assert_eq!(
                    stepwise,
                    calendar.add(t, a + b).unwrap(),
                    "{}: {} + {:?} = {}, then + {:?}",
                    name, t, a, first, b
                );
            }
        }
    }

    /// The same, with receipts and durations in whole hours so that `add(t, a)` lands on a
    /// closing edge (20:00, 12:00, 14:00, ...) in many cases rather than a few.
    #[test]
    fn adding_a_then_b_equals_adding_a_plus_b_from_closing_edges(
        t in (START_2026 / 3600..END_2027 / 3600).prop_map(|h| Timestamp::from_second(h * 3600).unwrap()),
        a in (1..=100u64).prop_map(|h| Duration::from_secs(h * HOUR)),
        b in (1..=100 * 60u64).prop_map(|m| Duration::from_secs(m * 60)),
    ) {
        for (name, calendar) in business_calendars() {
            let first = calendar.add(t, a).unwrap();
            prop_assert_eq!(
                calendar.add(first, b).unwrap(),
                calendar.add(t, a + b).unwrap(),
                "{}: {} + {:?} = {} (open: {})",
                name, t, a, first, calendar.is_open(first)
            );
        }
    }

    #[test]
    fn a_later_receipt_never_gives_an_earlier_deadline(
        t in instant(),
        later_by in prop_oneof![0..=3 * 24 * HOUR, 0..=3600u64, Just(1u64)],
        d in duration(),
    ) {
        let later = t + SignedDuration::from_secs(later_by as i64);
        for (name, calendar) in business_calendars() {
            prop_assert!(
                calendar.add(t, d).unwrap() <= calendar.add(later, d).unwrap(),
                "{name}: {t} and {later} + {d:?}"
            );
        }
    }

    #[test]
    fn a_longer_duration_never_gives_an_earlier_deadline(
        t in instant(),
        d in duration(),
        more in prop_oneof![0..=MAX_DURATION, Just(1u64)],
    ) {
        for (name, calendar) in business_calendars() {
            prop_assert!(
                calendar.add(t, d).unwrap() <= calendar.add(t, d + Duration::from_secs(more)).unwrap(),
                "{name}: {t} + {d:?} and + {more}s more"
            );
        }
    }

    #[test]
    fn the_open_time_between_a_start_and_its_deadline_is_the_duration(
        t in instant(),
        d in duration(),
    ) {
        for (name, calendar) in business_calendars() {
            let due = calendar.add(t, d).unwrap();
            prop_assert_eq!(calendar.open_time_between(t, due), d, "{}: {} + {:?} = {}", name, t, d, due);
            let (explained_due, spans) = calendar.add_explained(t, d).unwrap();
            prop_assert_eq!(explained_due, due, "{}", name);
            let consumed = spans
                .iter()
                .fold(SignedDuration::ZERO, |sum, span| sum + span.end.duration_since(span.start));
            prop_assert_eq!(consumed, SignedDuration::try_from(d).unwrap(), "{}", name);
        }
        let always = &POLICY.always;
        prop_assert_eq!(always.open_time_between(t, always.add(t, d).unwrap()), d);
    }

    #[test]
    fn open_time_adds_up_over_consecutive_intervals(
        a in instant(),
        gaps in (0..=10 * 24 * HOUR, 0..=10 * 24 * HOUR),
    ) {
        let b = a + SignedDuration::from_secs(gaps.0 as i64);
        let c = b + SignedDuration::from_secs(gaps.1 as i64);
        for (name, calendar) in business_calendars() {
            let whole = calendar.open_time_between(a, c);
            prop_assert_eq!(
                whole,
                calendar.open_time_between(a, b) + calendar.open_time_between(b, c),
                "{}: {} .. {} .. {}", name, a, b, c
            );
            prop_assert!(whole <= c.duration_since(a).unsigned_abs(), "{name}");
            prop_assert_eq!(calendar.open_time_between(c, a), Duration::ZERO, "{}", name);
        }
    }

    #[test]
    fn a_business_calendar_open_around_the_clock_behaves_like_the_always_calendar(
        t in instant(),
        d in duration(),
        gap in 0..=10 * 24 * HOUR,
    ) {
        let calendar = &*AROUND_THE_CLOCK;
        let always = &POLICY.always;
        prop_assert!(calendar.is_open(t));
        prop_assert_eq!(calendar.add(t, d).unwrap(), always.add(t, d).unwrap(), "{} + {:?}", t, d);
        let later = t + SignedDuration::from_secs(gap as i64);
        prop_assert_eq!(calendar.open_time_between(t, later), always.open_time_between(t, later));
    }

    #[test]
    fn the_warning_comes_no_later_than_the_first_response_deadline(request in request()) {
        let deadlines = POLICY.deadlines(&request).unwrap();
        prop_assert!(deadlines.first_response_warning_at <= deadlines.first_response_due);
        prop_assert!(deadlines.first_response_warning_at >= request.received);
        prop_assert!(deadlines.first_response_due > request.received);
    }

    #[test]
    fn the_deadlines_follow_the_channel_plan_and_clock_of_the_request(request in request()) {
        let policy = &*POLICY;
        let deadlines = policy.deadlines(&request).unwrap();
        let received = request.received;
        prop_assert_eq!(deadlines.dispatch_due.is_some(), request.channel == Channel::Ticket);
        if let Some(dispatch) = deadlines.dispatch_due {
            prop_assert_eq!(dispatch, policy.business.add(received, policy.dispatch.duration).unwrap());
            prop_assert!(dispatch > received);
        }
        let chat_fallback = (request.channel == Channel::Chat)
            .then(|| received + SignedDuration::try_from(policy.chat_fallback_after).unwrap());
        prop_assert_eq!(deadlines.chat_fallback_at, chat_fallback);
        prop_assert_eq!(deadlines.out_of_hours, !policy.business.is_open(received));

        let target = policy.response_target(request.priority).for_plan(request.plan);
        let calendar = policy.calendar(target.clock);
        prop_assert_eq!(deadlines.first_response_due, calendar.add(received, target.duration).unwrap());
        prop_assert_eq!(
            deadlines.first_response_warning_at,
            calendar.add(received, policy.warning_at.of(target.duration)).unwrap()
        );
        // The default policy: only urgent and high requests of Enterprise customers run 24x7.
        let always = request.plan == Plan::Enterprise
            && matches!(request.priority, Priority::Urgent | Priority::High);
        prop_assert_eq!(target.clock == ClockName::Always, always);
    }
}
