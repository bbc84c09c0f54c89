//! Local opening hours: an interval within one day, a day's list of them, a week of days.

use jiff::civil::Weekday;
use std::fmt;
use std::str::FromStr;

const SECONDS_PER_DAY: u32 = 24 * 60 * 60;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoursError {
    #[error("{0:?} is not an interval of the form HH:MM-HH:MM")]
    Malformed(String),
    #[error("{0:?}: hours run from 00:00 to 24:00 and minutes from 00 to 59")]
    OutOfRange(String),
    #[error("{0:?} closes before it opens")]
    ClosesBeforeOpening(String),
    #[error("{first} overlaps {second}")]
    Overlapping { first: OpenHours, second: OpenHours },
}

/// One local opening interval within a day, `[start, end)`, as seconds after midnight.
/// `24:00` is a valid end, so a day can be open until midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpenHours {
    start: u32,
    end: u32,
}

impl OpenHours {
    pub fn new(start_seconds: u32, end_seconds: u32) -> Result<Self, HoursError> {
        let hours = Self {
            start: start_seconds,
            end: end_seconds,
        };
        if end_seconds > SECONDS_PER_DAY {
            return Err(HoursError::OutOfRange(hours.to_string()));
        }
        if start_seconds >= end_seconds {
            return Err(HoursError::ClosesBeforeOpening(hours.to_string()));
        }
        Ok(hours)
    }

    pub fn start_seconds(self) -> u32 {
        self.start
    }

    pub fn end_seconds(self) -> u32 {
        self.end
    }
}

impl FromStr for OpenHours {
    type Err = HoursError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let malformed = || HoursError::Malformed(text.to_owned());
        let (start, end) = text.split_once('-').ok_or_else(malformed)?;
        let start = parse_clock_time(start.trim(), text)?;
        let end = parse_clock_time(end.trim(), text)?;
        if start >= end {
            return Err(HoursError::ClosesBeforeOpening(text.to_owned()));
        }
        OpenHours::new(start, end)
    }
}

fn parse_clock_time(part: &str, whole: &str) -> Result<u32, HoursError> {
    let malformed = || HoursError::Malformed(whole.to_owned());
    let (hours, minutes) = part.split_once(':').ok_or_else(malformed)?;
    if hours.len() != 2 || minutes.len() != 2 {
        return Err(malformed());
    }
    let hours: u32 = hours.parse().map_err(|_| malformed())?;
    let minutes: u32 = minutes.parse().map_err(|_| malformed())?;
    if hours > 24 || minutes > 59 || (hours == 24 && minutes != 0) {
        return Err(HoursError::OutOfRange(whole.to_owned()));
    }
    Ok(hours * 3600 + minutes * 60)
}

impl fmt::Display for OpenHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let clock = |s: u32| format!("{:02}:{:02}", s / 3600, s % 3600 / 60);
        write!(f, "{}-{}", clock(self.start), clock(self.end))
    }
}

/// The opening intervals of one day: sorted, non-overlapping (touching is allowed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DailyHours(Vec<OpenHours>);

impl DailyHours {
    pub fn closed() -> Self {
        Self(Vec::new())
    }

    pub fn new(mut intervals: Vec<OpenHours>) -> Result<Self, HoursError> {
        intervals.sort();
        for pair in intervals.windows(2) {
            if pair[1].start < pair[0].end {
                return Err(HoursError::Overlapping {
                    first: pair[0],
                    second: pair[1],
                });
            }
        }
        Ok(Self(intervals))
    }

    pub fn intervals(&self) -> &[OpenHours] {
        &self.0
    }

    pub fn is_closed(&self) -> bool {
        self.0.is_empty()
    }
}

/// Opening hours for each day of the week, Monday first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WeeklyHours([DailyHours; 7]);

impl WeeklyHours {
    pub fn new(monday_first: [DailyHours; 7]) -> Self {
        Self(monday_first)
    }

    /// The same hours Monday to Friday, closed at weekends.
    pub fn weekdays(hours: &DailyHours) -> Self {
        let mut days: [DailyHours; 7] = Default::default();
        for day in days.iter_mut().take(5) {
            *day = hours.clone();
        }
        Self(days)
    }

    pub fn on(&self, weekday: Weekday) -> &DailyHours {
        &self.0[weekday.to_monday_zero_offset() as usize]
    }

    pub fn has_open_time(&self) -> bool {
        self.0.iter().any(|day| !day.is_closed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_intervals() {
        let hours: OpenHours = "08:00-20:00".parse().unwrap();
        assert_eq!(
            (hours.start_seconds(), hours.end_seconds()),
            (8 * 3600, 20 * 3600)
        );
        assert_eq!(hours.to_string(), "08:00-20:00");
        assert_eq!(
            "00:00-24:00".parse::<OpenHours>().unwrap().end_seconds(),
            86_400
        );
    }

    #[test]
    fn rejects_bad_intervals_with_a_reason() {
        for (text, expected) in [
            (
                "20:00-08:00",
                HoursError::ClosesBeforeOpening("20:00-08:00".into()),
            ),
            (
                "08:00-08:00",
                HoursError::ClosesBeforeOpening("08:00-08:00".into()),
            ),
            ("8-20", HoursError::Malformed("8-20".into())),
            ("08:00", HoursError::Malformed("08:00".into())),
            ("08:00-25:00", HoursError::OutOfRange("08:00-25:00".into())),
            ("08:60-20:00", HoursError::OutOfRange("08:60-20:00".into())),
        ] {
            assert_eq!(text.parse::<OpenHours>(), Err(expected), "{text}");
        }
    }

    #[test]
    fn rejects_overlapping_intervals_but_allows_touching_ones() {
        let a: OpenHours = "08:00-12:00".parse().unwrap();
        let b: OpenHours = "11:00-14:00".parse().unwrap();
        let c: OpenHours = "12:00-14:00".parse().unwrap();
        assert!(matches!(
            DailyHours::new(vec![b, a]),
            Err(HoursError::Overlapping { .. })
        ));
        assert_eq!(DailyHours::new(vec![c, a]).unwrap().intervals(), &[a, c]);
    }
}
