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
use jiff::tz::{Offset, TimeZone};
use jiff::{SignedDuration, Timestamp};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// How many consecutive days without open time a search for open time may cover before it
/// gives up (a target longer than this, on a calendar that opens, is still found).
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
    offsets: OffsetTable,
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
            offsets: OffsetTable::new(&time_zone),
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
        match self.offsets.offset_at(at) {
            Some(offset) => offset.to_datetime(at).date(),
            None => self.time_zone.to_datetime(at).date(),
        }
    }

    /// The UTC instants of one day's opening hours, in order and disjoint.
    fn spans_on(&self, date: Date) -> impl Iterator<Item = OpenSpan> + '_ {
        let mut previous_end: Option<Timestamp> = None;
        self.hours_on(date).iter().filter_map(move |hours| {
            let mut start = self.instant_at(date, hours.start_seconds())?;
            let end = self.instant_at(date, hours.end_seconds())?;
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
        let seconds = i64::from(seconds_after_midnight);
        let local_as_utc = unix_day(date) * SECONDS_PER_DAY + seconds;
        if let Some(second) = self.offsets.unambiguous_second(local_as_utc) {
            return Timestamp::from_second(second).ok();
        }
        let local = date
            .to_datetime(jiff::civil::Time::midnight())
            .checked_add(SignedDuration::from_secs(seconds))
            .ok()?;
        // Gaps and folds resolve the way RFC 5545 and Temporal do ("compatible").
        self.time_zone
            .to_ambiguous_timestamp(local)
            .compatible()
            .ok()
    }
}

const SECONDS_PER_DAY: i64 = 24 * 60 * 60;

/// Days from 1970-01-01 to `date` in the proleptic Gregorian calendar (H. Hinnant's
/// `days_from_civil`): plain integer arithmetic, for the hot path.
fn unix_day(date: Date) -> i64 {
    let (month, day) = (i64::from(date.month()), i64::from(date.day()));
    let year = i64::from(date.year()) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The UTC offsets of a time zone from 2000 to 2100, looked up by binary search.
///
/// The bundled tz database gives today's rules as a POSIX TZ string, which the time zone
/// evaluates afresh on every conversion, and business-time arithmetic converts several local
/// times for every day it visits. Outside the table, and near a transition (where a local time
/// can fall into a gap or a fold), the calendar asks the time zone itself.
#[derive(Clone)]
struct OffsetTable {
    /// `(from, offset)` in Unix seconds, sorted: `offset` is in effect from `from` until the
    /// next entry; the first entry is the start of the table.
    changes: Arc<[(i64, Offset)]>,
}

impl OffsetTable {
    const FROM: i64 = 946_684_800; // 2000-01-01T00:00:00Z
    const UNTIL: i64 = 4_102_444_800; // 2100-01-01T00:00:00Z
    /// Longer than the largest offset (25:59:59): an instant whose local time is L lies within
    /// this many seconds of L read as UTC.
    const NEAR: i64 = 27 * 60 * 60;

    fn new(time_zone: &TimeZone) -> Self {
        let from = Timestamp::constant(Self::FROM, 0);
        let mut changes = vec![(Self::FROM, time_zone.to_offset(from))];
        for transition in time_zone.following(from) {
            let at = transition.timestamp();
            if at.as_second() >= Self::UNTIL {
                break;
            }
            // Transitions fall on whole seconds; a fractional one would not fit the table.
            if at.subsec_nanosecond() != 0 {
                return Self {
                    changes: Arc::new([]),
                };
            }
            changes.push((at.as_second(), transition.offset()));
        }
        Self {
            changes: changes.into(),
        }
    }

    /// The index of the entry in effect at Unix second `second`, within the table.
    fn index_at(&self, second: i64) -> Option<usize> {
        if !(Self::FROM..Self::UNTIL).contains(&second) {
            return None;
        }
        // The first entry starts at FROM <= second, so at least one entry qualifies.
        self.changes
            .partition_point(|&(from, _)| from <= second)
            .checked_sub(1)
    }

    /// The offset in effect at `at`, when `at` lies within the table.
    fn offset_at(&self, at: Timestamp) -> Option<Offset> {
        // Entries start on whole seconds, so the whole second of `at` decides.
        self.index_at(at.as_second())
            .map(|index| self.changes[index].1)
    }

    /// The one instant (in Unix seconds) of a local time given as if it were UTC, when the
    /// offset stays the same for more than a day on either side of it: then the local time is
    /// in no gap or fold, and the time zone would resolve it the same way.
    fn unambiguous_second(&self, local_as_utc: i64) -> Option<i64> {
        let latest = local_as_utc + Self::NEAR;
        let index = self.index_at(local_as_utc - Self::NEAR)?;
        if latest >= Self::UNTIL {
            return None;
        }
        if let Some(&(next_change, _)) = self.changes.get(index + 1)
            && next_change <= latest
        {
            return None;
        }
        Some(local_as_utc - i64::from(self.changes[index].1.seconds()))
    }
}

impl fmt::Debug for OffsetTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OffsetTable")
            .field("changes", &self.changes.len())
            .finish()
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

    /// `at + duration` counting only open time (docs/policy.md section 1).
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
        // The limit bounds a stretch of days without open time, not the whole search: a target
        // longer than a year of calendar time is still found on a calendar that opens.
        let mut days_without_open_time = 0;
        // Open time before `cursor` is used up (or lies before `at`).
        let mut cursor = at;
        while days_without_open_time <= SEARCH_LIMIT_DAYS {
            days_without_open_time += 1;
            for span in calendar.spans_on(day) {
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
            day = day.tomorrow().map_err(|_| out_of_range())?;
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
        let mut day = calendar.local_date(from);
        let last_day = calendar.local_date(to);
        while day <= last_day {
            for span in calendar.spans_on(day) {
                let start = span.start.max(counted);
                let end = span.end.min(to);
                if start < end {
                    total += end.duration_since(start);
                    counted = end;
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

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{Time, date};

    #[test]
    fn unix_days_count_from_1970_across_the_whole_date_range() {
        let epoch = date(1970, 1, 1);
        for day in (-3_652_059..=2_932_896)
            .step_by(997)
            .chain([-1, 0, 1, 59, 60, 11_016])
        {
            let date = epoch
                .checked_add(SignedDuration::from_hours(24 * day))
                .unwrap();
            assert_eq!(unix_day(date), day, "{date}");
        }
    }

    /// The offset table gives the same local dates and the same instants of local times as the
    /// time zone itself, in zones with unusual transitions, on every day of the years covered.
    #[test]
    fn the_offset_table_agrees_with_the_time_zone() {
        let zones = [
            "Europe/Berlin",
            "America/Santiago",    // transitions at 24:00
            "America/Havana",      // transitions at 00:00 and 01:00
            "Australia/Lord_Howe", // a 30-minute DST
            "Pacific/Apia",        // 30 December 2011 skipped
            "Africa/Casablanca",   // DST suspended during Ramadan
            "Antarctica/Troll",    // a two-hour DST
            "Asia/Kathmandu",      // +05:45
            "UTC",
        ];
        let times = [0, 3600, 5400, 7200, 9000, 86_399, 86_400];
        let mut unambiguous = 0;
        for zone in zones {
            let time_zone = TimeZone::get(zone).unwrap();
            let calendar = BusinessCalendar::new(
                time_zone.clone(),
                WeeklyHours::default(),
                ClosedDays::default(),
            );
            assert!(calendar.offsets.changes.len() < 1000, "{zone}");
            let mut day = date(1999, 12, 25);
            while day < date(2031, 1, 8) {
                for &seconds in &times {
                    let local = day
                        .to_datetime(Time::midnight())
                        .checked_add(SignedDuration::from_secs(i64::from(seconds)))
                        .unwrap();
                    let expected = time_zone.to_ambiguous_timestamp(local).compatible().ok();
                    assert_eq!(
                        calendar.instant_at(day, seconds),
                        expected,
                        "{zone} {local}"
                    );
                    let local_as_utc = unix_day(day) * SECONDS_PER_DAY + i64::from(seconds);
                    unambiguous +=
                        usize::from(calendar.offsets.unambiguous_second(local_as_utc).is_some());
                    if let Some(instant) = expected {
                        for nudge in [-1, 0] {
                            let at = instant + SignedDuration::from_secs(nudge);
                            assert_eq!(
                                calendar.local_date(at),
                                time_zone.to_datetime(at).date(),
                                "{zone} {at}"
                            );
                        }
                    }
                }
                day = day.tomorrow().unwrap();
            }
        }
        // Most local times take the table's path, the rest the time zone's.
        let all = zones.len() * 11_337 * times.len();
        assert!(unambiguous > all * 9 / 10, "{unambiguous} of {all}");
    }
}
