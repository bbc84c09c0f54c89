//! The monthly compliance report (docs/reports.md).

use crate::case_view;
use crate::month::Month;
use domain::case::{Case, CaseId, ClockState, ClockStatus};
use domain::policy::{Channel, Plan, Policy, Priority};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// A clock a report counts. Rows sort in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Clock {
    Dispatch,
    FirstResponse,
    /// A follow-up's next response (docs/policy.md rule 6): the latest round of each case.
    NextResponse,
}

impl Clock {
    pub fn as_str(self) -> &'static str {
        match self {
            Clock::Dispatch => "dispatch",
            Clock::FirstResponse => "first_response",
            Clock::NextResponse => "next_response",
        }
    }
}

impl fmt::Display for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the clocks of a group stand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// Every clock of the group, whatever its state.
    pub total: u64,
    /// Met at or before the due instant.
    pub met: u64,
    /// Met after the due instant.
    pub met_late: u64,
    /// Due passed by `now` and never met (whether or not the engine has marked it yet).
    pub breached: u64,
    /// Not met and not yet due at `now`.
    pub pending: u64,
    /// Stopped without being met (e.g. the case was solved without a reply).
    pub cancelled: u64,
    /// `met / (met + met_late + breached)`; `None` when that denominator is 0.
    pub compliance: Option<f64>,
}

impl Counts {
    pub(crate) fn record(&mut self, status: ClockStatus) {
        self.total += 1;
        match status {
            ClockStatus::Met => self.met += 1,
            ClockStatus::MetLate => self.met_late += 1,
            ClockStatus::Breached => self.breached += 1,
            ClockStatus::Pending => self.pending += 1,
            ClockStatus::Cancelled => self.cancelled += 1,
        }
    }

    fn add(&mut self, other: &Counts) {
        self.total += other.total;
        self.met += other.met;
        self.met_late += other.met_late;
        self.breached += other.breached;
        self.pending += other.pending;
        self.cancelled += other.cancelled;
    }

    /// Sets `compliance` from the counters.
    pub(crate) fn finished(mut self) -> Self {
        let decided = self.met + self.met_late + self.breached;
        self.compliance = (decided > 0).then(|| self.met as f64 / decided as f64);
        self
    }
}

/// One row: the clocks of one kind for one plan, priority and channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub clock: Clock,
    pub plan: Plan,
    pub priority: Priority,
    pub channel: Channel,
    #[serde(flatten)]
    pub counts: Counts,
    /// Median time from receipt (a follow-up: from the follow-up) to meeting the clock (met and met late), in minutes of the
    /// clock's own calendar; nearest rank. `None` when no clock of the row was met.
    pub p50_minutes: Option<f64>,
    /// 90th percentile of the same times, nearest rank.
    pub p90_minutes: Option<f64>,
}

/// A clock of the month that was not met on time: met late, or breached and still unmet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Breach {
    pub case_id: CaseId,
    pub clock: Clock,
    pub due: Timestamp,
    /// Elapsed (wall-clock) minutes from `due` to the meeting instant, or to `now` when unmet.
    pub late_minutes: f64,
}

/// The compliance report of one month: the JSON document of the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComplianceReport {
    pub month: Month,
    /// Sorted by clock, plan, priority and channel, each in its declaration order
    /// (dispatch before first_response; 12x5 before 24x7; urgent to low; ticket, chat, phone).
    pub rows: Vec<Row>,
    /// The counters over all rows (no percentiles: rows mix business and 24x7 minutes).
    pub totals: Counts,
    /// Sorted by due instant, then case id and clock.
    pub breaches: Vec<Breach>,
}

type RowKey = (Clock, Plan, Priority, Channel);

#[derive(Default)]
struct Group {
    counts: Counts,
    times_to_meet: Vec<Duration>,
}

/// The compliance report of `month` over `cases`, as things stand at `now`.
///
/// A case belongs to the month when its `received` instant falls in it on the wall clock of
/// the policy's business calendar (UTC when that calendar is `always`); other cases are
/// skipped, so a caller may pass more than the month. A pending clock whose due instant is at
/// or before `now` counts as breached, as the engine would mark it on its next look.
pub fn compliance<'a>(
    policy: &Policy,
    cases: impl IntoIterator<Item = &'a Case>,
    month: Month,
    now: Timestamp,
) -> ComplianceReport {
    let time_zone = case_view::business_time_zone(policy);
    let mut groups: BTreeMap<RowKey, Group> = BTreeMap::new();
    let mut breaches = Vec::new();
    for case in cases {
        let received = case_view::received(case);
        if !month.contains(&time_zone, received) {
            continue;
        }
        let (plan, priority) = (case_view::plan(case), case_view::priority(case));
        for (clock, state) in case_view::clocks(case) {
            let status = status_at(state, now);
            let group = groups
                .entry((clock, plan, priority, case_view::channel(case)))
                .or_default();
            group.counts.record(status);
            if let Some(met_at) = state.met_at {
                let calendar = case_view::calendar(policy, clock, plan, priority);
                group
                    .times_to_meet
                    .push(calendar.open_time_between(case_view::started(case, clock), met_at));
            }
            let late_until = match status {
                ClockStatus::MetLate => state.met_at,
                ClockStatus::Breached => Some(now),
                ClockStatus::Met | ClockStatus::Pending | ClockStatus::Cancelled => None,
            };
            if let Some(until) = late_until {
                // A due moved past `now` after the breach (a lower priority) is not late.
                let late = if until > state.due {
                    until.duration_since(state.due).unsigned_abs()
                } else {
                    Duration::ZERO
                };
                breaches.push(Breach {
                    case_id: case_view::id(case).clone(),
                    clock,
                    due: state.due,
                    late_minutes: minutes(late),
                });
            }
        }
    }
    breaches.sort_by(|a, b| (a.due, &a.case_id, a.clock).cmp(&(b.due, &b.case_id, b.clock)));

    let mut totals = Counts::default();
    let rows = groups
        .into_iter()
        .map(|((clock, plan, priority, channel), mut group)| {
            totals.add(&group.counts);
            group.times_to_meet.sort_unstable();
            Row {
                clock,
                plan,
                priority,
                channel,
                counts: group.counts.finished(),
                p50_minutes: nearest_rank(&group.times_to_meet, 50).map(minutes),
                p90_minutes: nearest_rank(&group.times_to_meet, 90).map(minutes),
            }
        })
        .collect();
    ComplianceReport {
        month,
        rows,
        totals: totals.finished(),
        breaches,
    }
}

/// The clock's status as of `now`: a pending clock already due is breached.
pub(crate) fn status_at(state: &ClockState, now: Timestamp) -> ClockStatus {
    match state.status() {
        ClockStatus::Pending if state.due <= now => ClockStatus::Breached,
        status => status,
    }
}

/// The `percent`-th percentile of sorted values by the nearest-rank method: the value at rank
/// `ceil(percent / 100 * n)` (1-based), always one of the values, never interpolated.
fn nearest_rank(sorted: &[Duration], percent: usize) -> Option<Duration> {
    let rank = (percent * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

fn minutes(duration: Duration) -> f64 {
    duration.as_secs_f64() / 60.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mins(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|m| Duration::from_secs(m * 60)).collect()
    }

    #[test]
    fn nearest_rank_picks_the_value_at_the_rounded_up_rank() {
        let ten = mins(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!(nearest_rank(&ten, 50), Some(Duration::from_secs(5 * 60)));
        assert_eq!(nearest_rank(&ten, 90), Some(Duration::from_secs(9 * 60)));
        let two = mins(&[10, 20]);
        assert_eq!(nearest_rank(&two, 50), Some(Duration::from_secs(10 * 60)));
        assert_eq!(nearest_rank(&two, 90), Some(Duration::from_secs(20 * 60)));
        let one = mins(&[7]);
        assert_eq!(nearest_rank(&one, 50), Some(Duration::from_secs(7 * 60)));
        assert_eq!(nearest_rank(&one, 90), Some(Duration::from_secs(7 * 60)));
    }

    #[test]
    fn nearest_rank_of_nothing_is_none() {
        assert_eq!(nearest_rank(&[], 50), None);
    }

    #[test]
    fn compliance_is_none_when_nothing_was_decided() {
        let mut counts = Counts::default();
        counts.record(ClockStatus::Pending);
        counts.record(ClockStatus::Cancelled);
        assert_eq!(counts.finished().compliance, None);
    }

    #[test]
    fn compliance_counts_late_answers_and_breaches_against_met() {
        let mut counts = Counts::default();
        for status in [
            ClockStatus::Met,
            ClockStatus::Met,
            ClockStatus::Met,
            ClockStatus::MetLate,
            ClockStatus::Breached,
            ClockStatus::Pending,
        ] {
            counts.record(status);
        }
        assert_eq!(counts.finished().compliance, Some(0.6));
    }
}
