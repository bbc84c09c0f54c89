//! Business calendars and business-time arithmetic.
//!
//! A calendar is either `always` (every instant is open) or a weekly schedule of local opening
//! hours in a time zone, closed on holidays. All arithmetic takes and returns UTC instants
//! ([`Timestamp`]); local time appears only while resolving a day's opening hours.
//! Intervals are half-open: open at the opening instant, closed at the closing instant.

mod holidays;
mod hours;

pub use holidays::{GermanState, Holiday, UnknownStateCode, easter_sunday};
pub use hours::{DailyHours, HoursError, OpenHours, WeeklyHours};

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// How many consecutive days without open time a search for open time may cover before it
/// gives up (a target longer than this, on a calendar that opens, is still found).
pub const SEARCH_LIMIT_DAYS: u32 = 366;

const SECONDS_PER_DAY: u32 = 24 * 60 * 60;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("the calendar has no open time within {SEARCH_LIMIT_DAYS} days after {from}")]
    NoOpenTime { from: Timestamp },
    #[error("instant out of range while computing business time from {from}")]
    OutOfRange { from: Timestamp },
}

/// A stretch of open time, as consumed by a deadline computation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenSpan {
    pub start: Timestamp,
    pub end: Timestamp,
}

/// Which days are closed besides the weekly schedule, and which are open against it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClosedDays {
    /// Public holidays of this state are closed.
    pub state: Option<GermanState>,
    /// Extra closed dates (company days off).
    pub extra_closed: BTreeSet<Date>,
    /// Extra open dates with their hours; they win over holidays and the weekly schedule.
    pub extra_open: BTreeMap<Date, DailyHours>,
}

/// A weekly schedule of local opening hours, in a resolved time zone.
#[derive(Debug, Clone)]
pub struct BusinessCalendar {
    time_zone: TimeZone,
    weekly: WeeklyHours,
    closed: ClosedDays,
}

#[derive(Debug, Clone)]
pub enum Calendar {
    /// Every instant is open (24x7).
    Always,
    Business(Box<BusinessCalendar>),
}

impl BusinessCalendar {
    /// The time zone is passed in resolved: the domain never looks one up by name.
    pub fn new(time_zone: TimeZone, weekly: WeeklyHours, closed: ClosedDays) -> Self {
        Self {
            time_zone,
            weekly,
            closed,
        }
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.time_zone
    }

    pub fn weekly(&self) -> &WeeklyHours {
        &self.weekly
    }

    pub fn closed_days(&self) -> &ClosedDays {
        &self.closed
    }

    /// The local opening hours of one date, after holidays and extra dates.
    pub fn hours_on(&self, date: Date) -> &[OpenHours] {
        if let Some(hours) = self.closed.extra_open.get(&date) {
            return hours.intervals();
        }
        let weekly = self.weekly.on(date.weekday()).intervals();
        // A day the week keeps closed needs no holiday look-up (most of the time a weekend).
        if weekly.is_empty() || self.is_closed_day(date) {
            return &[];
        }
        weekly
    }

    fn is_closed_day(&self, date: Date) -> bool {
        self.closed.extra_closed.contains(&date)
            || self
                .closed
                .state
                .is_some_and(|state| state.holiday_on(date).is_some())
    }

    fn local_date(&self, at: Timestamp) -> Date {
        self.time_zone.to_datetime(at).date()
    }

    /// The UTC instants of one day's opening hours, in order and disjoint.
    fn spans_on(&self, date: Date) -> impl Iterator<Item = OpenSpan> + '_ {
        self.spans_in(date, DayFrame::Resolved)
    }

    /// Like [`BusinessCalendar::spans_on`], with the day's frame already worked out.
    fn spans_in(&self, date: Date, frame: DayFrame) -> impl Iterator<Item = OpenSpan> + '_ {
        let instant = move |seconds: u32| match frame {
            DayFrame::Fixed { midnight } => midnight
                .checked_add(SignedDuration::from_secs(i64::from(seconds)))
                .ok(),
            DayFrame::Resolved => self.instant_at(date, seconds),
        };
        let mut previous_end: Option<Timestamp> = None;
        self.hours_on(date).iter().filter_map(move |hours| {
            let mut start = instant(hours.start_seconds())?;
            let end = instant(hours.end_seconds())?;
            // A local time in a DST gap resolves one gap later, so an interval that ends in the
            // gap can end after the next interval starts (00:00-02:45 and 03:00-05:00 on the
            // spring change day): clip, so that no open time is counted twice.
            if let Some(previous_end) = previous_end {
                start = start.max(previous_end);
            }
            // A DST gap can swallow an interval; such an interval has no open time.
            (start < end).then(|| {
                previous_end = Some(end);
                OpenSpan { start, end }
            })
        })
    }

    fn instant_at(&self, date: Date, seconds_after_midnight: u32) -> Option<Timestamp> {
        let local = match seconds_after_midnight {
            // Built directly: cheaper than adding a duration to midnight, on a hot path.
            0..SECONDS_PER_DAY => {
                let part = |value: u32| i8::try_from(value).ok();
                let time = Time::new(
                    part(seconds_after_midnight / 3600)?,
                    part(seconds_after_midnight / 60 % 60)?,
                    part(seconds_after_midnight % 60)?,
                    0,
                )
                .ok()?;
                date.to_datetime(time)
            }
            _ => date
                .to_datetime(Time::midnight())
                .checked_add(SignedDuration::from_secs(i64::from(seconds_after_midnight)))
                .ok()?,
        };
        // Gaps and folds resolve the way RFC 5545 and Temporal do ("compatible").
        self.time_zone
            .to_ambiguous_timestamp(local)
            .compatible()
            .ok()
    }
}

impl Calendar {
    pub fn is_open(&self, at: Timestamp) -> bool {
        match self {
            Calendar::Always => true,
            Calendar::Business(calendar) => calendar
                .spans_on(calendar.local_date(at))
                .any(|span| span.start <= at && at < span.end),
        }
    }

    /// `at` itself when the calendar is open then, otherwise the next opening instant.
    pub fn next_opening(&self, at: Timestamp) -> Result<Timestamp, CalendarError> {
        self.add(at, Duration::ZERO)
    }

    /// `at + duration` counting only open time (POLICY.md section 1).
    ///
    /// A result that lands exactly on a closing instant stays there.
    pub fn add(&self, at: Timestamp, duration: Duration) -> Result<Timestamp, CalendarError> {
        self.add_with(at, duration, |_| {})
    }

    /// Like [`Calendar::add`], also returning the open spans that the duration consumed.
    pub fn add_explained(
        &self,
        at: Timestamp,
        duration: Duration,
    ) -> Result<(Timestamp, Vec<OpenSpan>), CalendarError> {
        let mut spans = Vec::new();
        let due = self.add_with(at, duration, |span| spans.push(span))?;
        Ok((due, spans))
    }

    fn add_with(
        &self,
        at: Timestamp,
        duration: Duration,
        mut consumed: impl FnMut(OpenSpan),
    ) -> Result<Timestamp, CalendarError> {
        let out_of_range = || CalendarError::OutOfRange { from: at };
        let mut remaining = SignedDuration::try_from(duration).map_err(|_| out_of_range())?;
        let calendar = match self {
            Calendar::Always => {
                let due = at.checked_add(remaining).map_err(|_| out_of_range())?;
                consumed(OpenSpan {
                    start: at,
                    end: due,
                });
                return Ok(due);
            }
            Calendar::Business(calendar) => calendar,
        };
        let mut days = DayWalk::new(calendar, calendar.local_date(at));
        // The limit bounds a stretch of days without open time, not the whole search: a target
        // longer than a year of calendar time is still found on a calendar that opens.
        let mut days_without_open_time = 0;
        // Open time before `cursor` is used up (or lies before `at`).
        let mut cursor = at;
        while days_without_open_time <= SEARCH_LIMIT_DAYS {
            days_without_open_time += 1;
            let (day, frame) = days.current();
            for span in calendar.spans_in(day, frame) {
                if span.end <= cursor {
                    continue;
                }
                days_without_open_time = 0;
                let start = span.start.max(cursor);
                let available = span.end.duration_since(start);
                if available >= remaining {
                    let due = start.checked_add(remaining).map_err(|_| out_of_range())?;
                    if !remaining.is_zero() {
                        consumed(OpenSpan { start, end: due });
                    }
                    return Ok(due);
                }
                consumed(OpenSpan {
                    start,
                    end: span.end,
                });
                remaining -= available;
                cursor = span.end;
            }
            days.advance().map_err(|_| out_of_range())?;
        }
        // `cursor` is `at` unless some open time was found and used up before the long closure.
        Err(CalendarError::NoOpenTime { from: cursor })
    }

    /// The open time between two instants (zero when `to` is not after `from`).
    pub fn open_time_between(&self, from: Timestamp, to: Timestamp) -> Duration {
        if to <= from {
            return Duration::ZERO;
        }
        let calendar = match self {
            Calendar::Always => return to.duration_since(from).unsigned_abs(),
            Calendar::Business(calendar) => calendar,
        };
        let mut total = SignedDuration::ZERO;
        // Open time before `counted` is counted (or lies before `from`).
        let mut counted = from;
        let mut days = DayWalk::new(calendar, calendar.local_date(from));
        let last_day = calendar.local_date(to);
        loop {
            let (day, frame) = days.current();
            if day > last_day {
                break;
            }
            for span in calendar.spans_in(day, frame) {
                let start = span.start.max(counted);
                let end = span.end.min(to);
                if start < end {
                    total += end.duration_since(start);
                    counted = end;
                }
            }
            if days.advance().is_err() {
                break;
            }
        }
        total.unsigned_abs()
    }
}

/// How the local times of one day map to instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DayFrame {
    /// No time zone transition from this day's local midnight up to and including the next one:
    /// a local time of the day is its midnight plus the seconds since.
    Fixed { midnight: Timestamp },
    /// A transition is near: each local time is resolved in the time zone.
    Resolved,
}

/// Walks local days forward, working out each day's [`DayFrame`] with as few time zone look-ups
/// as it can: the offset is constant except around a transition, so while no transition is
/// near, a day's midnight is the previous one plus 24 hours and its local times follow from it.
#[derive(Debug)]
struct DayWalk<'a> {
    calendar: &'a BusinessCalendar,
    day: Date,
    frame: Option<DayFrame>,
    /// The instant of `day`'s local midnight, when it is known without a look-up.
    midnight: Option<Timestamp>,
    /// The first transition at or after some earlier midnight (`Some(None)`: there is none).
    next_transition: Option<Option<Timestamp>>,
}

impl<'a> DayWalk<'a> {
    const DAY: SignedDuration = SignedDuration::from_hours(24);

    fn new(calendar: &'a BusinessCalendar, day: Date) -> Self {
        Self {
            calendar,
            day,
            frame: None,
            midnight: None,
            next_transition: None,
        }
    }

    fn current(&mut self) -> (Date, DayFrame) {
        let frame = match self.frame {
            Some(frame) => frame,
            None => {
                let frame = self.work_out_frame();
                self.frame = Some(frame);
                frame
            }
        };
        (self.day, frame)
    }

    fn advance(&mut self) -> Result<(), jiff::Error> {
        let (_, frame) = self.current();
        self.day = self.day.tomorrow()?;
        self.frame = None;
        self.midnight = match frame {
            DayFrame::Fixed { midnight } => midnight.checked_add(Self::DAY).ok(),
            DayFrame::Resolved => None,
        };
        Ok(())
    }

    fn work_out_frame(&mut self) -> DayFrame {
        let Some(midnight) = self
            .midnight
            .or_else(|| self.calendar.instant_at(self.day, 0))
        else {
            return DayFrame::Resolved;
        };
        let Ok(next_midnight) = midnight.checked_add(Self::DAY) else {
            return DayFrame::Resolved;
        };
        let next_transition = match self.next_transition {
            // Still the first transition at or after this midnight.
            Some(known) if known.is_none_or(|transition| transition >= midnight) => known,
            _ => {
                let first = self.first_transition_from(midnight);
                self.next_transition = Some(first);
                first
            }
        };
        // A transition exactly at a midnight counts as near: a gap or fold there moves it.
        if next_transition.is_some_and(|transition| transition <= next_midnight) {
            DayFrame::Resolved
        } else {
            DayFrame::Fixed { midnight }
        }
    }

    /// The first transition at or after `at`.
    fn first_transition_from(&self, at: Timestamp) -> Option<Timestamp> {
        let Ok(just_before) = at.checked_sub(SignedDuration::from_nanos(1)) else {
            return Some(at);
        };
        self.calendar
            .time_zone
            .following(just_before)
            .next()
            .map(|transition| transition.timestamp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    /// Every day's spans worked out through [`DayWalk`] (mostly `Fixed` frames) equal the spans
    /// with every local time resolved in the time zone, in zones with unusual transitions.
    #[test]
    fn walking_days_with_fixed_offsets_gives_the_same_spans_as_resolving_every_local_time() {
        let hours = |intervals: &[&str]| {
            DailyHours::new(intervals.iter().map(|text| text.parse().unwrap()).collect()).unwrap()
        };
        let schedules = [
            hours(&["00:00-24:00"]),
            hours(&["00:00-00:30", "00:45-02:30", "02:45-23:30", "23:45-24:00"]),
            hours(&["01:00-02:15", "02:20-03:10", "08:00-20:00"]),
        ];
        let zones = [
            ("Europe/Berlin", date(2025, 1, 1), date(2028, 1, 1)),
            ("America/Santiago", date(2025, 1, 1), date(2028, 1, 1)), // transitions at 24:00
            ("America/Havana", date(2025, 1, 1), date(2028, 1, 1)),   // transitions at 00:00/01:00
            ("Australia/Lord_Howe", date(2025, 1, 1), date(2028, 1, 1)), // 30-minute DST
            ("Pacific/Apia", date(2011, 1, 1), date(2013, 1, 1)),     // 30 December 2011 skipped
            ("Africa/Casablanca", date(2025, 1, 1), date(2028, 1, 1)), // Ramadan changes
            ("Antarctica/Troll", date(2025, 1, 1), date(2028, 1, 1)), // two-hour DST
            ("UTC", date(2026, 1, 1), date(2027, 1, 1)),
        ];
        for (zone, from, until) in zones {
            for schedule in &schedules {
                let calendar = BusinessCalendar::new(
                    TimeZone::get(zone).unwrap(),
                    WeeklyHours::new([(); 7].map(|()| schedule.clone())),
                    ClosedDays::default(),
                );
                let mut days = DayWalk::new(&calendar, from);
                let mut fixed_days = 0;
                loop {
                    let (day, frame) = days.current();
                    if day >= until {
                        break;
                    }
                    if let DayFrame::Fixed { midnight } = frame {
                        fixed_days += 1;
                        assert_eq!(Some(midnight), calendar.instant_at(day, 0), "{zone} {day}");
                    }
                    let walked: Vec<_> = calendar.spans_in(day, frame).collect();
                    let resolved: Vec<_> = calendar.spans_on(day).collect();
                    assert_eq!(walked, resolved, "{zone} {day} {schedule:?}");
                    days.advance().unwrap();
                }
                assert!(
                    fixed_days > 300,
                    "{zone}: only {fixed_days} days took the fast path"
                );
            }
        }
    }
}
