//! A calendar month, written `YYYY-MM`.

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A year and a month, such as `2026-04`. Which instants belong to it depends on a time zone
/// ([`Month::contains`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Month {
    year: i16,
    month: i8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid month {text:?}: expected YYYY-MM with a month from 01 to 12, e.g. 2026-04")]
pub struct MonthError {
    pub text: String,
}

impl Month {
    /// `None` unless `year` has at most four digits (0-9999) and `month` is 1-12.
    pub fn new(year: i16, month: i8) -> Option<Self> {
        ((0..=9999).contains(&year) && (1..=12).contains(&month)).then_some(Self { year, month })
    }

    pub fn year(self) -> i16 {
        self.year
    }

    /// 1 (January) to 12 (December).
    pub fn month(self) -> i8 {
        self.month
    }

    /// The first day of the month.
    pub fn first_day(self) -> Date {
        // `new` keeps year and month in range, so the 1st always exists.
        Date::constant(self.year, self.month, 1)
    }

    /// The instants of the month on the wall clock of `time_zone`: `[start, end)`, from the
    /// first local midnight to the next month's (a midnight in a DST gap moves later).
    pub fn bounds(self, time_zone: &TimeZone) -> Result<(Timestamp, Timestamp), jiff::Error> {
        let first = self.first_day();
        let next = first.checked_add(jiff::Span::new().months(1))?;
        let start = time_zone.to_ambiguous_timestamp(first.to_datetime(Time::midnight()));
        let end = time_zone.to_ambiguous_timestamp(next.to_datetime(Time::midnight()));
        Ok((start.compatible()?, end.compatible()?))
    }

    /// Whether `at` falls in this month on the wall clock of `time_zone`.
    pub fn contains(self, time_zone: &TimeZone, at: Timestamp) -> bool {
        let local = time_zone.to_datetime(at);
        local.year() == self.year && local.month() == self.month
    }
}

impl FromStr for Month {
    type Err = MonthError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || MonthError {
            text: text.to_owned(),
        };
        let bytes = text.as_bytes();
        // Exactly `YYYY-MM`: fixed widths keep "2026-4" or "26-04" from meaning a guess.
        let shaped = bytes.len() == 7
            && bytes[4] == b'-'
            && bytes[..4].iter().all(u8::is_ascii_digit)
            && bytes[5..].iter().all(u8::is_ascii_digit);
        if !shaped {
            return Err(error());
        }
        let year = text[..4].parse().map_err(|_| error())?;
        let month = text[5..].parse().map_err(|_| error())?;
        Self::new(year, month).ok_or_else(error)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl TryFrom<String> for Month {
    type Error = MonthError;
    fn try_from(text: String) -> Result<Self, MonthError> {
        text.parse()
    }
}

impl From<Month> for String {
    fn from(month: Month) -> String {
        month.to_string()
    }
}
