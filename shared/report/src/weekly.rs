//! Compliance per week of a month (docs/reports.md, "Weekly compliance"): the series the
//! report page charts, one point per clock, priority and week.

use crate::case_view;
use crate::compliance::{Clock, Counts, status_at};
use crate::month::Month;
use domain::case::Case;
use domain::policy::{Policy, Priority};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;
use std::collections::BTreeMap;

/// The weeks of a month and each week's counters per clock and priority.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeeklyCompliance {
    pub month: Month,
    /// The first day of each week in the month: the 1st, then every Monday after it.
    pub weeks: Vec<Date>,
    /// Sorted by clock, priority and week; only groups that have clocks.
    pub points: Vec<WeekPoint>,
}

/// The clocks of one kind and priority (all plans and channels) of cases received in one week.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeekPoint {
    pub clock: Clock,
    pub priority: Priority,
    /// The first day of the week in the month (see [`WeeklyCompliance::weeks`]).
    pub week: Date,
    #[serde(flatten)]
    pub counts: Counts,
}

/// The month's weeks: weeks run Monday to Sunday, cut at the month's ends, so the first and
/// the last week may be shorter. Each is named by its first day in the month.
pub fn weeks_of(month: Month) -> Vec<Date> {
    let first = month.first_day();
    let mut weeks = vec![first];
    for day in first.series(jiff::Span::new().days(1)).skip(1) {
        if day.month() != first.month() {
            break;
        }
        if day.weekday() == jiff::civil::Weekday::Monday {
            weeks.push(day);
        }
    }
    weeks
}

/// The week of the month `local` falls in (its first day), `local` being in the month.
fn week_of(local: Date, weeks: &[Date]) -> Date {
    weeks
        .iter()
        .rev()
        .find(|start| **start <= local)
        .copied()
        .unwrap_or(local)
}

/// Compliance per clock, priority and week of `month` over `cases`, as things stand at `now`:
/// the same counting as [`crate::compliance()`] (same month membership by `received` on the
/// business calendar's wall clock, same statuses), grouped by the week a case was received in
/// instead of by plan and channel.
pub fn weekly_compliance<'a>(
    policy: &Policy,
    cases: impl IntoIterator<Item = &'a Case>,
    month: Month,
    now: Timestamp,
) -> WeeklyCompliance {
    let time_zone = case_view::business_time_zone(policy);
    let weeks = weeks_of(month);
    let mut groups: BTreeMap<(Clock, Priority, Date), Counts> = BTreeMap::new();
    for case in cases {
        let received = case_view::received(case);
        if !month.contains(&time_zone, received) {
            continue;
        }
        let week = week_of(time_zone.to_datetime(received).date(), &weeks);
        let priority = case_view::priority(case);
        for (clock, state) in case_view::clocks(case) {
            groups
                .entry((clock, priority, week))
                .or_default()
                .record(status_at(state, now));
        }
    }
    let points = groups
        .into_iter()
        .map(|((clock, priority, week), counts)| WeekPoint {
            clock,
            priority,
            week,
            counts: counts.finished(),
        })
        .collect();
    WeeklyCompliance {
        month,
        weeks,
        points,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn a_month_starting_on_a_sunday_has_a_one_day_first_week() {
        // 1 November 2026 is a Sunday; the Mondays are the 2nd, 9th, 16th, 23rd and 30th.
        let weeks = weeks_of("2026-11".parse().unwrap());
        assert_eq!(
            weeks,
            vec![
                date(2026, 11, 1),
                date(2026, 11, 2),
                date(2026, 11, 9),
                date(2026, 11, 16),
                date(2026, 11, 23),
                date(2026, 11, 30),
            ]
        );
    }

    #[test]
    fn a_month_starting_on_a_monday_has_no_extra_week() {
        // 1 June 2026 is a Monday; February 2027 starts on a Monday too and has 4 full weeks.
        assert_eq!(weeks_of("2026-06".parse().unwrap()).len(), 5);
        assert_eq!(
            weeks_of("2027-02".parse().unwrap()),
            vec![
                date(2027, 2, 1),
                date(2027, 2, 8),
                date(2027, 2, 15),
                date(2027, 2, 22)
            ]
        );
    }

    #[test]
    fn a_day_belongs_to_the_last_week_that_starts_on_or_before_it() {
        let weeks = weeks_of("2026-11".parse().unwrap());
        assert_eq!(week_of(date(2026, 11, 1), &weeks), date(2026, 11, 1));
        assert_eq!(week_of(date(2026, 11, 8), &weeks), date(2026, 11, 2));
        assert_eq!(week_of(date(2026, 11, 9), &weeks), date(2026, 11, 9));
        assert_eq!(week_of(date(2026, 11, 30), &weeks), date(2026, 11, 30));
    }
}
