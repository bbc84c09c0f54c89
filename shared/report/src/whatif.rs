//! What-if: the cases of a month decided again, from their recorded events, under another
//! policy, by the live engine's own [`domain::case::decide`] (no second implementation).
//!
//! A replay starts from the request the case was opened with, feeds its recorded provider
//! events in the order the engine applied them (each decided at the instant it was recorded,
//! as the engine did), and between two events fires the timers the case asks for at their due
//! instants, as the timer wheel would. Both sides of the comparison are replays (under the
//! current and under the proposed policy), so that only the policy differs between them.
//!
//! What the records do not hold, a replay cannot know (README, "supportctl whatif"):
//! - the priority and plan a case was opened with, once an event changed them: such a case is
//!   listed in `not_replayed` instead of being guessed at;
//! - what the snapshot of the creating event already knew (an assignee, a first reply, a
//!   solved status) beyond the event's own change: the replay applies that change only.

use crate::case_view;
use crate::compliance::{Clock, Row, compliance, status_at};
use crate::month::Month;
use domain::case::{
    Case, CaseEvent, CaseFacts, CaseId, Change, ClockStatus, DecideError, Input, RequestFacts,
    Status, decide,
};
use domain::policy::Policy;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// One provider event as the engine recorded it in the case's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    /// When the engine applied it (the `now` of that decision).
    pub recorded_at: Timestamp,
    pub event_id: String,
    /// When it happened at the provider.
    pub occurred_at: Timestamp,
    pub change: Change,
}

/// A case as the records show it: its request and its provider events, in applied order.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedCase {
    pub id: CaseId,
    /// The request as stored now; its `received` decides the month.
    pub request: RequestFacts,
    /// Whether `request` is also what the case was opened with (no event changed its
    /// priority or plan since). A replay needs the opening request.
    pub request_is_opening: bool,
    pub events: Vec<RecordedEvent>,
}

impl RecordedCase {
    /// From a stored case: its request is the opening one when neither its priority nor its
    /// plan was changed after the creating event (the case keeps when each last changed).
    pub fn from_case(case: &Case, events: Vec<RecordedEvent>) -> Self {
        let request_is_opening = events.first().is_some_and(|opening| {
            case.applied.priority <= opening.occurred_at && case.applied.plan <= opening.occurred_at
        });
        Self {
            id: case.id.clone(),
            request: case.request.clone(),
            request_is_opening,
            events,
        }
    }

    /// From the request as it stands now and the events alone (what the read API shows):
    /// the opening request is known only when no event could have changed priority or plan.
    pub fn from_request(id: CaseId, request: RequestFacts, events: Vec<RecordedEvent>) -> Self {
        let request_is_opening = !events.iter().any(|event| {
            matches!(
                event.change,
                Change::PriorityChanged { .. } | Change::Reclassified { .. }
            )
        });
        Self {
            id,
            request,
            request_is_opening,
            events,
        }
    }
}

/// Why a case could not be decided again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    #[error("no provider event of the case is recorded")]
    NoEvents,
    #[error(
        "its priority or plan changed after it was opened, and the opening values are not recorded"
    )]
    OpeningUnknown,
    #[error("the policy cannot decide it: {0}")]
    Decide(#[from] DecideError),
    #[error("its timers kept firing at {0} without settling")]
    TimersUnsettled(Timestamp),
}

/// A clock whose outcome differs between the two policies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedClock {
    pub case_id: CaseId,
    pub clock: Clock,
    pub current: ClockStatus,
    pub proposed: ClockStatus,
}

/// A case of the month left out of both sides, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotReplayed {
    pub case_id: CaseId,
    pub reason: String,
}

/// The what-if document: the month's rows under both policies and the clocks that change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhatIf {
    pub month: Month,
    pub current: Vec<Row>,
    pub proposed: Vec<Row>,
    /// Sorted by case id, then clock.
    pub changed: Vec<ChangedClock>,
    pub not_replayed: Vec<NotReplayed>,
}

/// The instants of `month` in the time zone that assigns cases to months under `policy`
/// (the business calendar's; UTC when it is `always`): `[start, end)`.
pub fn month_bounds(policy: &Policy, month: Month) -> Result<(Timestamp, Timestamp), jiff::Error> {
    month.bounds(&case_view::business_time_zone(policy))
}

/// Decide `recorded` again under `policy`, firing every timer due up to `until`.
pub fn replay(
    policy: &Policy,
    recorded: &RecordedCase,
    until: Timestamp,
) -> Result<Case, ReplayError> {
    if recorded.events.is_empty() {
        return Err(ReplayError::NoEvents);
    }
    if !recorded.request_is_opening {
        return Err(ReplayError::OpeningUnknown);
    }
    let snapshot = CaseFacts {
        request: recorded.request.clone(),
        status: Status::Open,
        assignee: None,
        first_response_at: None,
        adoption: None,
        references: Default::default(),
    };
    let mut case: Option<Case> = None;
    for recorded_event in &recorded.events {
        let now = recorded_event.recorded_at;
        let event = CaseEvent {
            case_id: recorded.id.clone(),
            event_id: recorded_event.event_id.clone(),
            occurred_at: recorded_event.occurred_at,
            change: recorded_event.change.clone(),
            snapshot: snapshot.clone(),
        };
        let next = match case.take() {
            Some(open) => {
                let open = fire_timers(policy, open, now)?;
                decide(policy, Some(open), Input::Event(&event), now)?.case
            }
            None => {
                // The creating event opens the case from the snapshot, which carries no
                // progress here; its own change (a reply, an assignment) applies after that.
                let opened = decide(policy, None, Input::Event(&event), now)?.case;
                decide(policy, Some(opened), Input::Event(&event), now)?.case
            }
        };
        case = Some(next);
    }
    match case {
        Some(case) => fire_timers(policy, case, until),
        None => Err(ReplayError::NoEvents),
    }
}

/// Fire the case's timers due at or before `until`, earliest first, each at its own instant.
fn fire_timers(policy: &Policy, mut case: Case, until: Timestamp) -> Result<Case, ReplayError> {
    // Each firing removes its timer and may only ask for later ones; the bound is a guard.
    for _ in 0..64 {
        let due = case
            .timers
            .iter()
            .filter(|(_, at)| **at <= until)
            .min_by_key(|(_, at)| **at)
            .map(|(timer, at)| (*timer, *at));
        let Some((timer, at)) = due else {
            return Ok(case);
        };
        case = decide(policy, Some(case), Input::TimerFired(timer), at)?.case;
    }
    Err(ReplayError::TimersUnsettled(until))
}

/// The cases of `month` (received in it under `current`'s time zone) decided again under both
/// policies as of `now`: the report rows of each and the clocks whose outcome changes.
pub fn whatif(
    current: &Policy,
    proposed: &Policy,
    cases: &[RecordedCase],
    month: Month,
    now: Timestamp,
) -> WhatIf {
    let time_zone = case_view::business_time_zone(current);
    let mut before = Vec::new();
    let mut after = Vec::new();
    let mut not_replayed = Vec::new();
    for recorded in cases {
        if !month.contains(&time_zone, recorded.request.received) {
            continue;
        }
        let both = replay(current, recorded, now)
            .and_then(|old| Ok((old, replay(proposed, recorded, now)?)));
        match both {
            Ok((old, new)) => {
                before.push(old);
                after.push(new);
            }
            Err(error) => not_replayed.push(NotReplayed {
                case_id: recorded.id.clone(),
                reason: error.to_string(),
            }),
        }
    }
    let mut changed = Vec::new();
    for (old, new) in before.iter().zip(&after) {
        for ((clock, old_state), (_, new_state)) in
            case_view::clocks(old).zip(case_view::clocks(new))
        {
            let (old_status, new_status) = (status_at(old_state, now), status_at(new_state, now));
            if old_status != new_status {
                changed.push(ChangedClock {
                    case_id: old.id.clone(),
                    clock,
                    current: old_status,
                    proposed: new_status,
                });
            }
        }
    }
    changed.sort_by(|a, b| (&a.case_id, a.clock).cmp(&(&b.case_id, b.clock)));
    WhatIf {
        month,
        current: compliance(current, &before, month, now).rows,
        proposed: compliance(proposed, &after, month, now).rows,
        changed,
        not_replayed,
    }
}
