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

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// How many days of calendar time a search for open time may cover before it gives up.
pub const SEARCH_LIMIT_DAYS: u32 = 366;

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
        if self.is_closed_day(date) {
            return &[];
        }
        self.weekly.on(date.weekday()).intervals()
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

    /// The UTC instants of one day's opening hours, in order.
    fn spans_on(&self, date: Date) -> impl Iterator<Item = OpenSpan> + '_ {
        self.hours_on(date).iter().filter_map(move |hours| {
            let start = self.instant_at(date, hours.start_seconds())?;
            let end = self.instant_at(date, hours.end_seconds())?;
            // A DST gap can swallow an interval; such an interval has no open time.
            (start < end).then_some(OpenSpan { start, end })
        })
    }

    fn instant_at(&self, date: Date, seconds_after_midnight: u32) -> Option<Timestamp> {
        let local = date
            .to_datetime(jiff::civil::Time::midnight())
            .checked_add(SignedDuration::from_secs(i64::from(seconds_after_midnight)))
            .ok()?;
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
        let mut day = calendar.local_date(at);
        for _ in 0..=SEARCH_LIMIT_DAYS {
            for span in calendar.spans_on(day) {
                if span.end <= at {
                    continue;
                }
                let start = span.start.max(at);
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
            }
            day = day.tomorrow().map_err(|_| out_of_range())?;
        }
        Err(CalendarError::NoOpenTime { from: at })
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
        let mut day = calendar.local_date(from);
        let last_day = calendar.local_date(to);
        while day <= last_day {
            for span in calendar.spans_on(day) {
                let start = span.start.max(from);
                let end = span.end.min(to);
                if start < end {
                    total += end.duration_since(start);
                }
            }
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
        total.unsigned_abs()
    }
}
