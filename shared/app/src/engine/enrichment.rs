//! Between parsing and deciding: what the payload lacks, asked of the systems of record
//! ([`SystemOfRecord`]).
//!
//! - A ticket first seen through a later event (not `ticket.created`) is adopted as it is: its
//!   metrics say whether it was replied to and assigned ([`Adoption::Recorded`]). Without an
//!   answer (no API, or the lookup failed) it is [`Adoption::OutcomeUnknown`]: no page for a
//!   deadline that passed before the first sight, and the timeline says so.
//! - A comment whose event leaves out its author's role: the author is looked up; unknown, the
//!   comment does not count as a response (the provider made it `Observed`).
//! - Enterprise from the account: a ticket's organization tags, a chat contact's and its
//!   companies' attributes, matched against the plan rules.
//!
//! A failed lookup never loses the event and never answers the provider 503: its retries would
//! meet the same outage, and Zendesk counts failures toward its webhook circuit breaker. The
//! event is decided on what is known, the safe way (no page for what cannot be known), and a
//! warning is logged.

use crate::ports::{LookupError, SystemOfRecord, TimelineEntry, TimelineKind};
use domain::Timestamp;
use domain::case::{Adoption, Case, CaseEvent, Change, Replied, TimerKind};
use domain::jiff::SignedDuration;
use domain::policy::{Channel, Plan, Policy};
use tracing::warn;

/// Fill in what the event only refers to. `known`: the case exists already (no adoption then,
/// and no plan lookup unless the event reclassifies it).
pub(super) async fn enrich(
    records: &dyn SystemOfRecord,
    policy: &Policy,
    event: &CaseEvent,
    known: bool,
) -> CaseEvent {
    let mut event = event.clone();
    resolve_comment_author(records, &mut event).await;
    let reclassified = matches!(event.change, Change::Reclassified { .. });
    if !known || reclassified {
        enterprise_from_account(records, policy, &mut event).await;
    }
    if !known {
        event.snapshot.adoption = adoption(records, &event).await;
    }
    event
}

/// Whether a case opened by `event` is a ticket first seen late.
fn first_seen_late(event: &CaseEvent) -> bool {
    event.snapshot.request.channel == Channel::Ticket
        && event.change != Change::Opened
        && event.case_id.as_str().starts_with("zendesk-")
}

async fn adoption(records: &dyn SystemOfRecord, event: &CaseEvent) -> Option<Adoption> {
    if !first_seen_late(event) {
        return None;
    }
    let ticket_id = event.case_id.as_str().trim_start_matches("zendesk-");
    let progress = match records.ticket_progress(ticket_id).await {
        Ok(Some(progress)) => progress,
        Ok(None) => return Some(Adoption::OutcomeUnknown),
        Err(error) => {
            lookup_failed(event, &error, "adopted with its outcome unknown");
            return Some(Adoption::OutcomeUnknown);
        }
    };
    let received = event.snapshot.request.received;
    let replied = if progress.replies == 0 {
        Replied::No
    } else {
        match progress
            .first_reply_after
            .and_then(|after| SignedDuration::try_from(after).ok())
            .and_then(|after| received.checked_add(after).ok())
        {
            Some(at) => Replied::At { at },
            None => Replied::BeforeFirstSeen,
        }
    };
    Some(Adoption::Recorded {
        replied,
        assigned_at: progress.assigned_at,
        assigned: progress.assigned_at.is_some(),
    })
}

async fn resolve_comment_author(records: &dyn SystemOfRecord, event: &mut CaseEvent) {
    let Some(author) = event.snapshot.references.unknown_comment_author.clone() else {
        return;
    };
    let Some(user_id) = author.id.as_deref() else {
        return;
    };
    let staff = match records.user_is_staff(user_id).await {
        Ok(Some(staff)) => staff,
        Ok(None) => return,
        Err(error) => {
            lookup_failed(event, &error, "the comment does not count as a response");
            return;
        }
    };
    event.change = match (staff, author.public) {
        (true, true) => {
            event.snapshot.first_response_at = Some(event.occurred_at);
            Change::AgentReplied
        }
        (false, _) => Change::CustomerReplied,
        (true, false) => Change::Observed,
    };
}

async fn enterprise_from_account(
    records: &dyn SystemOfRecord,
    policy: &Policy,
    event: &mut CaseEvent,
) {
    let current = match &event.change {
        Change::Reclassified { plan, .. } => *plan,
        _ => event.snapshot.request.plan,
    };
    if current == Plan::Enterprise {
        return;
    }
    let rules = &policy.plan_rules;
    let mut enterprise = false;
    if let Some(organization) = event.snapshot.references.organization_id.clone() {
        match records.organization_tags(&organization).await {
            Ok(Some(tags)) => {
                enterprise =
                    rules.plan_for_tags(tags.iter().map(String::as_str)) == Plan::Enterprise;
            }
            Ok(None) => {}
            Err(error) => lookup_failed(event, &error, "the organization's tags are not used"),
        }
    }
    let contacts = event.snapshot.references.contact_ids.clone();
    for contact in contacts.iter().take(MAX_CONTACTS) {
        if enterprise {
            break;
        }
        match records.account_attributes(contact).await {
            Ok(Some(pairs)) => {
                enterprise = pairs
                    .iter()
                    .any(|(name, value)| rules.plan_for_attribute(name, value).is_some());
            }
            Ok(None) => break,
            Err(error) => lookup_failed(event, &error, "the contact's attributes are not used"),
        }
    }
    if enterprise {
        event.snapshot.request.plan = Plan::Enterprise;
        if let Change::Reclassified { plan, .. } = &mut event.change {
            *plan = Plan::Enterprise;
        }
    }
}

/// A conversation names a handful of contacts at most; more are not looked up.
const MAX_CONTACTS: usize = 5;

fn lookup_failed(event: &CaseEvent, error: &LookupError, consequence: &str) {
    warn!(case_id = %event.case_id, event_id = %event.event_id, %error, "lookup failed: {consequence}");
}

/// The timeline's account of a case just adopted: one entry per clock closed without a verdict.
pub(super) fn adoption_timeline(case: &Case, now: Timestamp) -> Vec<TimelineEntry> {
    [
        (TimerKind::Dispatch, case.dispatch.as_ref(), "dispatch"),
        (
            TimerKind::FirstResponse,
            Some(&case.first_response),
            "first response",
        ),
        (
            TimerKind::ChatFallback,
            case.chat_fallback.as_ref(),
            "chat fallback",
        ),
    ]
    .into_iter()
    .filter_map(|(timer, clock, name)| {
        let outcome = clock?.adopted?;
        Some(TimelineEntry {
            at: now,
            kind: TimelineKind::Decided {
                key: format!("{}/{}/adopted", case.id, timer.as_str()),
                effect: format!("{name}: {}", outcome.describe()),
            },
        })
    })
    .collect()
}
