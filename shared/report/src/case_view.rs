//! The only place that reads domain cases and the policy. The case's fields may move (the
//! request facts into a struct of their own); adapting to that touches this file alone.

use crate::compliance::Clock;
use domain::calendar::Calendar;
use domain::case::{Case, CaseId, ClockState};
use domain::policy::{Channel, Plan, Policy, Priority};
use jiff::Timestamp;
use jiff::tz::TimeZone;

pub(crate) fn id(case: &Case) -> &CaseId {
    &case.id
}

pub(crate) fn channel(case: &Case) -> Channel {
    case.request.channel
}

pub(crate) fn plan(case: &Case) -> Plan {
    case.request.plan
}

pub(crate) fn priority(case: &Case) -> Priority {
    case.request.priority
}

pub(crate) fn received(case: &Case) -> Timestamp {
    case.request.received
}

/// The clocks a case runs, in report order: dispatch (tickets only), first response, then
/// the latest follow-up's next response (a case keeps only its latest round).
pub(crate) fn clocks(case: &Case) -> impl Iterator<Item = (Clock, &ClockState)> {
    let dispatch = case.dispatch.as_ref().map(|state| (Clock::Dispatch, state));
    let next_response = case
        .next_response
        .as_ref()
        .map(|next| (Clock::NextResponse, &next.clock));
    dispatch
        .into_iter()
        .chain([(Clock::FirstResponse, &case.first_response)])
        .chain(next_response)
}

/// When a clock of the case started: at receipt, except a follow-up's next response, which
/// starts with the follow-up.
pub(crate) fn started(case: &Case, clock: Clock) -> Timestamp {
    match (clock, &case.next_response) {
        (Clock::NextResponse, Some(next)) => next.started_at,
        _ => case.request.received,
    }
}

/// The zone that decides which month a case belongs to: the business calendar's. A policy
/// whose business calendar is `always` has no zone of its own; UTC stands in.
pub(crate) fn business_time_zone(policy: &Policy) -> TimeZone {
    match &policy.business {
        Calendar::Business(calendar) => calendar.time_zone().clone(),
        Calendar::Always => TimeZone::UTC,
    }
}

/// The calendar a clock of a case with this plan and priority runs on.
pub(crate) fn calendar(policy: &Policy, clock: Clock, plan: Plan, priority: Priority) -> &Calendar {
    let name = match clock {
        Clock::Dispatch => policy.dispatch.clock,
        Clock::FirstResponse => policy.response_target(priority).for_plan(plan).clock,
        Clock::NextResponse => {
            policy
                .next_response
                .for_priority(priority)
                .for_plan(plan)
                .clock
        }
    };
    policy.calendar(name)
}
