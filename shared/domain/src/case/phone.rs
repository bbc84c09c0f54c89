//! The call lifecycle of the support line (docs/policy.md section 4, rule 5): a call starts a
//! case `twilio-<CallSid>`; a message left turns it into a voicemail (critical page, Slack, a
//! ticket); a call that ends without one is a missed call (a Slack note and a normal-priority
//! first response, so that someone calls back). Every step happens at most once, whatever the
//! order and the number of callbacks.

use super::machine::{notify, page, recompute_deadlines};
use super::{
    AlertContext, AlertKey, Case, CaseEvent, Change, DecideError, Effect, RequestFacts, SlackKind,
    TicketRequest,
};
use crate::policy::{Channel, Plan, Policy, Priority, Severity};

/// The tag every voicemail ticket carries.
pub const VOICEMAIL_TAG: &str = "voicemail";

/// Whether the request is a call that left a message.
fn has_message(request: &RequestFacts) -> bool {
    request
        .voicemail
        .as_ref()
        .is_some_and(|voicemail| voicemail.recording_url.is_some())
}

/// The priority of a call: a message is urgent (the line is for emergencies); a call without
/// one, or still running, runs like a normal request.
pub(super) fn priority(request: &RequestFacts) -> Priority {
    if has_message(request) {
        Priority::Urgent
    } else {
        Priority::Normal
    }
}

/// The first decision of a phone case, made from the event that created it.
pub(super) fn open(policy: &Policy, case: &mut Case, event: &CaseEvent, effects: &mut Vec<Effect>) {
    if has_message(&case.request) {
        voicemail_left(policy, case, effects);
    } else if event.change != Change::CallStarted {
        // A recording callback for an empty message, or the `<Record>` action without one.
        call_missed(case, effects);
    }
}

/// A call event on a phone case that exists already. Returns `false` for any other change.
pub(super) fn apply(
    policy: &Policy,
    case: &mut Case,
    event: &CaseEvent,
    effects: &mut Vec<Effect>,
) -> Result<bool, DecideError> {
    match event.change {
        Change::CallStarted => {
            // The recording arrived first (the voice webhook is slower, or points elsewhere):
            // the call start knows who called.
            fill_unknown_numbers(case, &event.snapshot.request);
        }
        Change::VoicemailLeft => {
            if has_message(&case.request) || !has_message(&event.snapshot.request) {
                return Ok(true);
            }
            let Some(left) = event.snapshot.request.voicemail.as_ref() else {
                return Ok(true);
            };
            if let Some(voicemail) = case.request.voicemail.as_mut() {
                voicemail.recording_url.clone_from(&left.recording_url);
                voicemail.duration_seconds = left.duration_seconds;
            } else {
                case.request.voicemail = Some(left.clone());
            }
            fill_unknown_numbers(case, &event.snapshot.request);
            case.request.subject = Some(subject("Voicemail from", &case.request));
            if case.request.priority != Priority::Urgent {
                case.applied.priority = case.applied.priority.max(event.occurred_at);
                case.request.priority = Priority::Urgent;
                recompute_deadlines(policy, case)?;
            }
            voicemail_left(policy, case, effects);
        }
        Change::CallMissed => {
            let reported = case
                .request
                .voicemail
                .as_ref()
                .is_some_and(|voicemail| voicemail.ended_without_message);
            if !has_message(&case.request) && !reported {
                fill_unknown_numbers(case, &event.snapshot.request);
                call_missed(case, effects);
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// A phone case takes the first link a ticket event gives it: the voicemail's ticket (matched
/// by its `external_id`, the case id) is from then on where agents answer.
pub(super) fn adopt_ticket_link(case: &mut Case, event: &CaseEvent) {
    if case.request.channel == Channel::Phone
        && case.request.link.is_none()
        && event.snapshot.request.channel == Channel::Ticket
    {
        case.request.link.clone_from(&event.snapshot.request.link);
    }
}

fn voicemail_left(policy: &Policy, case: &mut Case, effects: &mut Vec<Effect>) {
    case.request.subject = Some(subject("Voicemail from", &case.request));
    // The phone is for emergencies: page at any hour, critical.
    page(case, AlertKey::Voicemail, Severity::Critical, effects);
    notify(case, SlackKind::Voicemail, effects);
    effects.push(Effect::OpenTicket {
        ticket: TicketRequest {
            tags: ticket_tags(policy, case.request.plan),
        },
        context: AlertContext::of(case),
    });
}

fn call_missed(case: &mut Case, effects: &mut Vec<Effect>) {
    case.request.subject = Some(subject("Missed call from", &case.request));
    if let Some(voicemail) = case.request.voicemail.as_mut() {
        voicemail.ended_without_message = true;
    }
    notify(case, SlackKind::MissedCall, effects);
}

/// `voicemail`, `plan_12x5` or `plan_24x7`, and for 24x7 the policy's first Enterprise tag, so
/// that the ticket's own events keep the case on its plan.
fn ticket_tags(policy: &Policy, plan: Plan) -> Vec<String> {
    let mut tags = vec![VOICEMAIL_TAG.to_owned(), format!("plan_{}", plan.as_str())];
    if plan == Plan::Enterprise
        && let Some(tag) = policy.plan_rules.enterprise_tags.iter().next()
    {
        tags.push(tag.clone());
    }
    tags
}

/// The numbers a call start knows and a recording callback does not (Twilio sends no
/// `From`/`To` with it).
fn fill_unknown_numbers(case: &mut Case, from: &RequestFacts) {
    let (Some(known), Some(mine)) = (from.voicemail.as_ref(), case.request.voicemail.as_mut())
    else {
        return;
    };
    if mine.caller == UNKNOWN_NUMBER && known.caller != UNKNOWN_NUMBER {
        mine.caller.clone_from(&known.caller);
    }
    if mine.called == UNKNOWN_NUMBER && known.called != UNKNOWN_NUMBER {
        mine.called.clone_from(&known.called);
    }
    if case.request.requester.is_none() {
        case.request.requester.clone_from(&from.requester);
    }
}

/// What providers write for a number they were not told.
pub const UNKNOWN_NUMBER: &str = "unknown";

fn subject(what: &str, request: &RequestFacts) -> String {
    let caller = request
        .voicemail
        .as_ref()
        .map_or(UNKNOWN_NUMBER, |voicemail| voicemail.caller.as_str());
    match request.requester.as_ref().and_then(|r| r.name.as_deref()) {
        Some(name) => format!("{what} {caller} ({name})"),
        None => format!("{what} {caller}"),
    }
}
