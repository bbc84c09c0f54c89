//! The next-response clock (docs/policy.md, rule 6): a customer's follow-up must be answered
//! too. A clock starts when the customer writes again after an agent's public reply, and when a
//! ticket or chat is reopened; the next public agent reply meets it. While the ticket waits
//! (pending, on hold) none runs: the customer's next message starts one.
//!
//! One clock at a time, numbered by `round`. Every round pages under the same `dedup_key`
//! (`<case id>/next_response`): PagerDuty only merges a trigger into an incident that is still
//! open, and a new round only starts once the previous one is settled (met by an agent's reply,
//! which resolves its page, or cancelled by a solve, which resolves every page). Our outbox,
//! however, keeps each idempotency key once, so a later round's keys carry the round
//! (`Case::effect_key`).

use super::machine::{DecideError, notify, page};
use super::{AlertKey, Case, ClockState, Effect, SlackKind, Status};
use crate::calendar::CalendarError;
use crate::policy::{Policy, Target};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The case's current (latest) next-response clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextResponse {
    /// 1 for the case's first follow-up, then counting up.
    pub round: u32,
    /// The customer's follow-up (or the reopening) that started it.
    pub started_at: Timestamp,
    pub clock: ClockState,
    /// The Slack warning instant, at the first response's warning fraction of the target.
    pub warning_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warned_at: Option<Timestamp>,
}

impl NextResponse {
    /// Met or cancelled by something at or before `at`: a follow-up at `at` starts a new round.
    fn settled_by(&self, at: Timestamp) -> bool {
        self.clock.met_at.is_some_and(|met| met <= at)
            || self
                .clock
                .cancelled_at
                .is_some_and(|cancelled| cancelled <= at)
    }
}

impl Case {
    /// The outbox idempotency key of an effect this case decided: `Effect::idempotency_key`,
    /// with the round appended for the next-response page, resolve and warning of round 2 on
    /// (round 1 keeps the plain keys).
    pub fn effect_key(&self, effect: &Effect) -> String {
        let key = effect.idempotency_key(&self.id);
        let round = self.next_response.map_or(1, |next| next.round);
        let of_next_response = match effect {
            Effect::Page { alert, .. } | Effect::ResolvePage { alert } => {
                *alert == AlertKey::NextResponse
            }
            Effect::NotifySlack { message, .. } => *message == SlackKind::NextResponseWarning,
            Effect::WriteBackBreach { clock, .. } => *clock == super::TimerKind::NextResponse,
            _ => false,
        };
        if of_next_response && round > 1 {
            format!("{key}/{round}")
        } else {
            key
        }
    }
}

fn target(policy: &Policy, case: &Case) -> Target {
    policy
        .next_response
        .for_priority(case.request.priority)
        .for_plan(case.request.plan)
}

fn deadlines(
    policy: &Policy,
    case: &Case,
    from: Timestamp,
) -> Result<(Timestamp, Timestamp), CalendarError> {
    let target = target(policy, case);
    let calendar = policy.calendar(target.clock);
    let due = calendar.add(from, target.duration)?;
    let warning_at = calendar.add(from, policy.warning_at.of(target.duration))?;
    Ok((due, warning_at))
}

/// Start a new round at `at`. No page of the previous round is open: a round starts only
/// after the previous one was met (its page resolved) or from a solved case (every page
/// resolved), so two breaches never share an incident.
fn start(policy: &Policy, case: &mut Case, at: Timestamp) -> Result<(), DecideError> {
    let (due, warning_at) = deadlines(policy, case, at)?;
    let round = case.next_response.map_or(1, |next| next.round + 1);
    case.next_response = Some(NextResponse {
        round,
        started_at: at,
        clock: ClockState::new(due),
        warning_at,
        warned_at: None,
    });
    // A person's resolve of the previous round's incident does not silence this one.
    case.alert_responses.remove(&AlertKey::NextResponse);
    Ok(())
}

/// The customer wrote again at `at`: a follow-up once an agent has answered publicly, unless
/// a next-response clock is already running (the customer waits since their earlier message).
pub(super) fn customer_replied(
    policy: &Policy,
    case: &mut Case,
    at: Timestamp,
) -> Result<(), DecideError> {
    if case.status != Status::Open {
        return Ok(());
    }
    let answered_before = case.first_response.met_at.is_some_and(|met| met <= at)
        || case
            .next_response
            .is_some_and(|next| next.clock.met_at.is_some_and(|met| met <= at));
    let running = case.next_response.is_some_and(|next| !next.settled_by(at));
    if answered_before && !running {
        start(policy, case, at)?;
    }
    Ok(())
}

/// A ticket or chat was reopened at `at`: whoever reopened it waits for an answer, also when
/// the ticket had been solved without any reply.
pub(super) fn reopened(policy: &Policy, case: &mut Case, at: Timestamp) -> Result<(), DecideError> {
    start(policy, case, at)
}

/// An agent's public reply at `at` meets the running clock and resolves its page.
pub(super) fn agent_replied(case: &mut Case, at: Timestamp, effects: &mut Vec<Effect>) {
    let met = case
        .next_response
        .as_mut()
        .is_some_and(|next| at >= next.started_at && next.clock.meet(at));
    if met {
        resolve(case, effects);
    }
}

/// The ticket was set pending or on hold at `at`: the agent now waits, so no clock runs.
pub(super) fn waiting(case: &mut Case, at: Timestamp) {
    if let Some(next) = case.next_response.as_mut()
        && next.clock.is_pending()
        && at >= next.started_at
    {
        next.clock.cancelled_at = Some(at);
    }
}

/// A solve cancels a running clock (a breach stays on record).
pub(super) fn close(case: &mut Case, at: Timestamp) {
    if let Some(next) = case.next_response.as_mut()
        && next.clock.is_pending()
    {
        next.clock.cancelled_at = Some(at);
    }
}

/// A priority or plan change moves a running clock, computed from its start.
pub(super) fn recompute(policy: &Policy, case: &mut Case) -> Result<(), DecideError> {
    let Some(next) = case.next_response else {
        return Ok(());
    };
    if next.clock.is_pending() {
        let (due, warning_at) = deadlines(policy, case, next.started_at)?;
        if let Some(next) = case.next_response.as_mut() {
            next.clock.due = due;
            next.warning_at = warning_at;
        }
    }
    Ok(())
}

/// Breach a clock that is due (page, severity by priority) and warn one that is near (Slack).
pub(super) fn evaluate(
    policy: &Policy,
    case: &mut Case,
    now: Timestamp,
    effects: &mut Vec<Effect>,
) {
    let Some(next) = case.next_response.as_mut() else {
        return;
    };
    if !next.clock.is_pending() {
        return;
    }
    if next.clock.due <= now {
        next.clock.breached_at = Some(now);
        let due = next.clock.due;
        let severity = policy
            .next_response
            .for_priority(case.request.priority)
            .severity;
        super::writeback::breached(case, super::TimerKind::NextResponse, due, now, effects);
        page(case, AlertKey::NextResponse, severity, effects);
    } else if next.warned_at.is_none() && next.warning_at <= now {
        next.warned_at = Some(now);
        notify(case, SlackKind::NextResponseWarning, effects);
    }
}

/// The timers a running clock asks for: its due instant, and its warning until sent.
pub(super) fn wanted_timers(case: &Case, now: Timestamp) -> Vec<(super::TimerKind, Timestamp)> {
    let mut timers = Vec::new();
    if let Some(next) = case.next_response.filter(|next| next.clock.is_pending()) {
        if next.clock.due > now {
            timers.push((super::TimerKind::NextResponse, next.clock.due));
        }
        if next.warned_at.is_none() && next.warning_at > now {
            timers.push((super::TimerKind::NextResponseWarning, next.warning_at));
        }
    }
    timers
}

fn resolve(case: &mut Case, effects: &mut Vec<Effect>) {
    if case.open_alerts.remove(&AlertKey::NextResponse) {
        effects.push(Effect::ResolvePage {
            alert: AlertKey::NextResponse,
        });
    }
}
