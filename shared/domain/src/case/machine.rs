//! The state machine: `(case, input, now) -> (case, effects)`, with no I/O and no clock.

use super::next_response;
use super::phone;
use super::{
    AlertContext, AlertKey, Case, CaseEvent, CaseFacts, CaseId, Change, ClockState, Effect,
    FieldTimes, Input, SlackKind, Status, TimerChange, TimerKind,
};
use crate::calendar::CalendarError;
use crate::deadlines::Request;
use crate::policy::{Channel, Policy, Severity};
use jiff::Timestamp;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecideError {
    #[error("the case is not known, and only a provider event can create one")]
    UnknownCase,
    #[error("event for case {event} applied to case {case}")]
    CaseMismatch { case: CaseId, event: CaseId },
    #[error("deadline computation failed: {0}")]
    Calendar(#[from] CalendarError),
}

/// The outcome of one decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub case: Case,
    /// Notifications to deliver (through the outbox), in decision order.
    pub effects: Vec<Effect>,
    /// Timer changes that bring the case's timers in line with its clocks (hints, applied
    /// directly).
    pub timers: Vec<TimerChange>,
    /// Whether the case differs from the one passed in (a new case always does).
    pub changed: bool,
}

/// Decide what an input means for a case at `now`.
///
/// Guarantees: a repeated input changes nothing and repeats no effect; an event older than the
/// last applied change of a field does not move that field back; a met clock stays met.
pub fn decide(
    policy: &Policy,
    current: Option<Case>,
    input: Input<'_>,
    now: Timestamp,
) -> Result<Decision, DecideError> {
    let (mut case, mut effects, created) = match (current, input) {
        (Some(case), Input::Event(event)) if case.id != event.case_id => {
            return Err(DecideError::CaseMismatch {
                case: case.id,
                event: event.case_id.clone(),
            });
        }
        (Some(case), _) => (case, Vec::new(), false),
        (None, Input::Event(event)) if event.change.needs_known_case() => {
            return Err(DecideError::UnknownCase);
        }
        (None, Input::Event(event)) => {
            let (case, effects) = open_case(policy, event, now)?;
            (case, effects, true)
        }
        (None, Input::TimerFired(_) | Input::Sweep | Input::OfferDelivered) => {
            return Err(DecideError::UnknownCase);
        }
    };
    let before = (!created).then(|| case.clone());

    match input {
        Input::Event(event) => {
            if !created {
                apply(policy, &mut case, event, &mut effects)?;
            } else if event.change == Change::CustomerReplied {
                // A ticket first seen through a customer's follow-up, adopted as answered
                // before: the follow-up waits for its answer like any other.
                next_response::customer_replied(policy, &mut case, event.occurred_at)?;
            }
            case.last_event_at = case.last_event_at.max(event.occurred_at);
        }
        Input::TimerFired(timer) => {
            // The schedule that fired is gone; evaluation re-creates it if it came early.
            case.timers.remove(&timer);
        }
        Input::Sweep => {}
        Input::OfferDelivered => {
            super::chat_handover::offer_delivered(&mut case, now, &mut effects);
        }
    }
    evaluate(policy, &mut case, now, &mut effects);
    let timers = sync_timers(&mut case, now);

    let changed = before.is_none_or(|before| before != case);
    Ok(Decision {
        case,
        effects,
        timers,
        changed,
    })
}

fn open_case(
    policy: &Policy,
    event: &CaseEvent,
    now: Timestamp,
) -> Result<(Case, Vec<Effect>), DecideError> {
    let facts = &event.snapshot;
    let mut request_facts = facts.request.clone();
    if request_facts.channel == Channel::Phone {
        request_facts.priority = phone::priority(&request_facts);
    }
    let request = Request {
        received: request_facts.received,
        plan: request_facts.plan,
        priority: request_facts.priority,
        channel: request_facts.channel,
    };
    let deadlines = policy.deadlines(&request)?;
    let applied_at = event.occurred_at;
    let mut case = Case {
        id: event.case_id.clone(),
        request: request_facts,
        status: Status::Open,
        assignee: None,
        out_of_hours: deadlines.out_of_hours,
        dispatch: deadlines.dispatch_due.map(ClockState::new),
        first_response: ClockState::new(deadlines.first_response_due),
        first_response_warning_at: deadlines.first_response_warning_at,
        warned_at: None,
        chat_fallback: deadlines.chat_fallback_at.map(ClockState::new),
        next_response: None,
        open_alerts: Default::default(),
        alert_responses: BTreeMap::new(),
        timers: BTreeMap::new(),
        applied: FieldTimes::all(applied_at),
        last_event_at: applied_at,
    };
    let mut effects = Vec::new();
    // Adoption first: a deadline met or past before the first sight must not page below.
    if let Some(adoption) = &facts.adoption {
        let adopted = super::adoption::adopt(&mut case, adoption, now);
        if let Some(at) = adopted.dispatch_met_at {
            meet_dispatch(&mut case, at, &mut effects);
        }
        if let Some(at) = adopted.first_response_met_at {
            meet_first_response(&mut case, at, &mut effects);
        }
    }
    match facts.request.channel {
        Channel::Phone => phone::open(policy, &mut case, event, &mut effects),
        Channel::Chat => {
            notify(&case, SlackKind::NewChat, &mut effects);
            if !case.out_of_hours {
                // In hours the on-call gets a low-urgency heads-up; out of hours rule 3 applies.
                page(&mut case, AlertKey::Chat, Severity::Info, &mut effects);
            }
        }
        Channel::Ticket => {}
    }
    if case.out_of_hours
        && facts.request.channel != Channel::Phone
        && case.first_response.is_pending()
    {
        let severity = policy.severity(case.request.priority);
        page(&mut case, AlertKey::OutOfHours, severity, &mut effects);
    }

    apply_snapshot_progress(&mut case, facts, applied_at, &mut effects);
    Ok((case, effects))
}

/// A case created from a later event's snapshot may already be assigned, answered or solved.
fn apply_snapshot_progress(
    case: &mut Case,
    facts: &CaseFacts,
    at: Timestamp,
    effects: &mut Vec<Effect>,
) {
    if let Some(assignee) = &facts.assignee {
        case.assignee = Some(assignee.clone());
        meet_dispatch(case, at, effects);
    }
    if let Some(answered) = facts.first_response_at {
        meet_first_response(case, answered, effects);
    }
    if facts.status == Status::Solved {
        close(case, at, effects);
    }
}

fn apply(
    policy: &Policy,
    case: &mut Case,
    event: &CaseEvent,
    effects: &mut Vec<Effect>,
) -> Result<(), DecideError> {
    let at = event.occurred_at;
    phone::adopt_ticket_link(case, event);
    if phone::apply(policy, case, event, effects)? {
        return Ok(());
    }
    match &event.change {
        Change::CallStarted | Change::VoicemailLeft | Change::CallMissed => {}
        Change::Opened | Change::Observed => {}
        Change::CustomerReplied => {
            // A customer's reply that reopened the request (an Intercom conversation reopens
            // on it; a Zendesk ticket's snapshot shows it open again) is a reopening.
            if event.snapshot.status == Status::Open {
                reopen(policy, case, at)?;
            }
            next_response::customer_replied(policy, case, at)?;
        }
        Change::Waiting => next_response::waiting(case, at),
        Change::Assigned { assignee } => {
            if at >= case.applied.assignment {
                case.applied.assignment = at;
                case.assignee.clone_from(assignee);
                if assignee.is_some() {
                    meet_dispatch(case, at, effects);
                }
            }
        }
        Change::AgentReplied => {
            meet_first_response(case, at, effects);
            next_response::agent_replied(case, at, effects);
        }
        Change::PriorityChanged { priority } => {
            if at >= case.applied.priority && *priority != case.request.priority {
                case.applied.priority = at;
                case.request.priority = *priority;
                recompute_deadlines(policy, case)?;
            }
        }
        Change::Reclassified { plan, labels } => {
            if at >= case.applied.labels {
                case.applied.labels = at;
                case.request.labels = labels.clone();
            }
            if at >= case.applied.plan && *plan != case.request.plan {
                case.applied.plan = at;
                case.request.plan = *plan;
                recompute_deadlines(policy, case)?;
            }
        }
        Change::Solved | Change::Deleted => {
            if at >= case.applied.status && case.status == Status::Open {
                case.applied.status = at;
                close(case, at, effects);
            }
        }
        Change::Reopened => reopen(policy, case, at)?,
    }
    Ok(())
}

/// A solved case opened again at `at`: open, with a next-response clock from the reopening.
fn reopen(policy: &Policy, case: &mut Case, at: Timestamp) -> Result<(), DecideError> {
    if at > case.applied.status && case.status == Status::Solved {
        case.applied.status = at;
        case.status = Status::Open;
        next_response::reopened(policy, case, at)?;
    }
    Ok(())
}

/// A priority or plan change moves every unmet deadline, computed from the original receipt.
pub(super) fn recompute_deadlines(policy: &Policy, case: &mut Case) -> Result<(), DecideError> {
    let deadlines = policy.deadlines(&case.deadline_request())?;
    if let (Some(clock), Some(due)) = (case.dispatch.as_mut(), deadlines.dispatch_due)
        && clock.is_pending()
    {
        clock.due = due;
    }
    if case.first_response.is_pending() {
        case.first_response.due = deadlines.first_response_due;
        case.first_response_warning_at = deadlines.first_response_warning_at;
    }
    next_response::recompute(policy, case)
}

fn meet_dispatch(case: &mut Case, at: Timestamp, effects: &mut Vec<Effect>) {
    if case.dispatch.as_mut().is_some_and(|clock| clock.meet(at)) {
        resolve(case, AlertKey::Dispatch, effects);
    }
}

fn meet_first_response(case: &mut Case, at: Timestamp, effects: &mut Vec<Effect>) {
    if !case.first_response.meet(at) {
        return;
    }
    if let Some(fallback) = case.chat_fallback.as_mut() {
        fallback.meet(at);
    }
    // The customer has an answer: every page that asked someone to give one is done.
    for alert in [
        AlertKey::FirstResponse,
        AlertKey::OutOfHours,
        AlertKey::Chat,
        AlertKey::Voicemail,
    ] {
        resolve(case, alert, effects);
    }
}

/// Solve: cancel every pending clock and resolve every open alert.
fn close(case: &mut Case, at: Timestamp, effects: &mut Vec<Effect>) {
    case.status = Status::Solved;
    for clock in [
        case.dispatch.as_mut(),
        Some(&mut case.first_response),
        case.chat_fallback.as_mut(),
    ]
    .into_iter()
    .flatten()
    {
        // A breach stays on record; only clocks still running are cancelled.
        if clock.is_pending() {
            clock.cancelled_at = Some(at);
        }
    }
    next_response::close(case, at);
    let open: Vec<AlertKey> = case.open_alerts.iter().copied().collect();
    for alert in open {
        resolve(case, alert, effects);
    }
}

/// Breach what is due and warn what is near.
fn evaluate(policy: &Policy, case: &mut Case, now: Timestamp, effects: &mut Vec<Effect>) {
    if case.status == Status::Open {
        breach_due_clocks(policy, case, now, effects);
        warn_if_due(case, now, effects);
        next_response::evaluate(policy, case, now, effects);
    }
}

fn breach_due_clocks(policy: &Policy, case: &mut Case, now: Timestamp, effects: &mut Vec<Effect>) {
    let severity = policy.severity(case.request.priority);
    if let Some(clock) = case
        .dispatch
        .as_mut()
        .filter(|c| c.is_pending() && c.due <= now)
    {
        clock.breached_at = Some(now);
        let due = clock.due;
        page(case, AlertKey::Dispatch, severity, effects);
        notify(case, SlackKind::DispatchBreached, effects);
        super::writeback::breached(case, TimerKind::Dispatch, due, now, effects);
    }
    let first_response = &mut case.first_response;
    if first_response.is_pending() && first_response.due <= now {
        first_response.breached_at = Some(now);
        let due = first_response.due;
        page(case, AlertKey::FirstResponse, severity, effects);
        super::writeback::breached(case, TimerKind::FirstResponse, due, now, effects);
    }
    if let Some(clock) = case
        .chat_fallback
        .as_mut()
        .filter(|c| c.is_pending() && c.due <= now)
    {
        clock.breached_at = Some(now);
        super::chat_handover::fall_back(policy, case, effects);
    }
}

fn warn_if_due(case: &mut Case, now: Timestamp, effects: &mut Vec<Effect>) {
    if case.warned_at.is_some() || case.first_response_warning_at > now {
        return;
    }
    // Only a clock still running deserves a warning; a breach has paged already.
    if case.first_response.is_pending() {
        case.warned_at = Some(now);
        notify(case, SlackKind::FirstResponseWarning, effects);
    }
}

/// Bring the timers in line with the clocks.
fn sync_timers(case: &mut Case, now: Timestamp) -> Vec<TimerChange> {
    let mut changes = Vec::new();
    let mut wanted = BTreeMap::new();
    if case.status == Status::Open {
        for timer in [
            TimerKind::Dispatch,
            TimerKind::FirstResponse,
            TimerKind::ChatFallback,
        ] {
            if let Some(clock) = case.clock(timer).filter(|c| c.is_pending() && c.due > now) {
                wanted.insert(timer, clock.due);
            }
        }
        if case.warned_at.is_none()
            && case.first_response.is_pending()
            && case.first_response_warning_at > now
        {
            wanted.insert(
                TimerKind::FirstResponseWarning,
                case.first_response_warning_at,
            );
        }
        wanted.extend(next_response::wanted_timers(case, now));
    }
    let stale: Vec<TimerKind> = case
        .timers
        .keys()
        .filter(|timer| !wanted.contains_key(timer))
        .copied()
        .collect();
    for timer in stale {
        case.timers.remove(&timer);
        changes.push(TimerChange::Cancel { timer });
    }
    for (timer, at) in wanted {
        if case.timers.insert(timer, at) != Some(at) {
            changes.push(TimerChange::Schedule { timer, at });
        }
    }
    changes
}

pub(super) fn page(
    case: &mut Case,
    alert: AlertKey,
    severity: Severity,
    effects: &mut Vec<Effect>,
) {
    // A person resolved this alert's incident: the same clock never pages again.
    if case
        .alert_responses
        .get(&alert)
        .is_some_and(|response| response.resolved_by_person())
    {
        return;
    }
    if case.open_alerts.insert(alert) {
        effects.push(Effect::Page {
            alert,
            severity,
            context: AlertContext::of(case),
        });
    }
}

fn resolve(case: &mut Case, alert: AlertKey, effects: &mut Vec<Effect>) {
    if case.open_alerts.remove(&alert) {
        effects.push(Effect::ResolvePage { alert });
    }
}

pub(super) fn notify(case: &Case, message: SlackKind, effects: &mut Vec<Effect>) {
    effects.push(Effect::NotifySlack {
        message,
        context: AlertContext::of(case),
    });
}
