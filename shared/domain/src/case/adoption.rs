//! Adopting a ticket first seen late: a case created by an event other than its creation (the
//! system went live after the ticket was opened, or missed its creation) takes the ticket as it
//! is, and never pages for a deadline that passed before anyone here could have known.

use super::{Case, ClockState};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// What is known, at first sight, about a ticket's progress before it was first seen. Set by the
/// engine from the system of record (Zendesk's ticket metrics), never by a provider's payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Adoption {
    /// The system of record answered.
    Recorded {
        replied: Replied,
        /// When the ticket was first assigned, if it was.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        assigned_at: Option<Timestamp>,
        /// Assigned, but the time is not known.
        #[serde(default)]
        assigned: bool,
    },
    /// Nobody could tell (no API configured, or the lookup failed): every deadline that passed
    /// before the ticket was first seen is recorded "adopted, outcome unknown", never breached.
    OutcomeUnknown,
}

/// Whether an agent had replied publicly before the ticket was first seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Replied {
    No,
    /// Replied, and the system of record knows when.
    At {
        at: Timestamp,
    },
    /// Replied at a time nobody told us.
    BeforeFirstSeen,
}

/// The timeline's words for a clock adopted without knowing its outcome.
pub const OUTCOME_UNKNOWN: &str = "adopted, outcome unknown";
/// The timeline's words for a clock met at an unknown time before the ticket was first seen.
pub const MET_BEFORE_FIRST_SEEN: &str = "adopted, met before first seen";

/// How an adopted clock ended when its exact outcome is not known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdoptedOutcome {
    /// Due before the ticket was first seen, and nobody could say whether it was met.
    OutcomeUnknown,
    /// Met at an unknown time before the ticket was first seen, after its deadline perhaps.
    MetBeforeFirstSeen,
}

impl AdoptedOutcome {
    pub fn describe(self) -> &'static str {
        match self {
            Self::OutcomeUnknown => OUTCOME_UNKNOWN,
            Self::MetBeforeFirstSeen => MET_BEFORE_FIRST_SEEN,
        }
    }
}

/// What adoption did to the clocks, for the machine to follow up on (resolving pages).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Adopted {
    /// The first response was met at this instant (a known reply time, or first sight).
    pub first_response_met_at: Option<Timestamp>,
    pub dispatch_met_at: Option<Timestamp>,
}

/// Apply `adoption` to a case just opened from a late event, at `first_seen` (the decision's
/// `now`). Clocks are met where the system of record says so; a clock it cannot vouch for is
/// closed as [`AdoptedOutcome`] only when its deadline had passed before `first_seen`.
pub(super) fn adopt(case: &mut Case, adoption: &Adoption, first_seen: Timestamp) -> Adopted {
    let mut adopted = Adopted::default();
    match *adoption {
        Adoption::OutcomeUnknown => {
            for clock in clocks(case) {
                close_unknown(clock, first_seen, AdoptedOutcome::OutcomeUnknown);
            }
        }
        Adoption::Recorded {
            replied,
            assigned_at,
            assigned,
        } => {
            match replied {
                Replied::No => {}
                Replied::At { at } => adopted.first_response_met_at = Some(at),
                Replied::BeforeFirstSeen => {
                    adopted.first_response_met_at = met_or_unknown(
                        &mut case.first_response,
                        first_seen,
                        AdoptedOutcome::MetBeforeFirstSeen,
                    );
                    if adopted.first_response_met_at.is_none()
                        && let Some(fallback) = case.chat_fallback.as_mut()
                    {
                        close_unknown(fallback, first_seen, AdoptedOutcome::MetBeforeFirstSeen);
                    }
                }
            }
            if let Some(at) = assigned_at {
                adopted.dispatch_met_at = Some(at);
            } else if assigned && let Some(dispatch) = case.dispatch.as_mut() {
                adopted.dispatch_met_at =
                    met_or_unknown(dispatch, first_seen, AdoptedOutcome::MetBeforeFirstSeen);
            } else if replied != Replied::No
                && let Some(dispatch) = case.dispatch.as_mut()
            {
                // Answered, so someone took it; whether it was assigned in time nobody says.
                close_unknown(dispatch, first_seen, AdoptedOutcome::OutcomeUnknown);
            }
        }
    }
    adopted
}

fn clocks(case: &mut Case) -> impl Iterator<Item = &mut ClockState> {
    [
        case.dispatch.as_mut(),
        Some(&mut case.first_response),
        case.chat_fallback.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// Met at an unknown time before `first_seen`: in time for sure while the deadline is still
/// ahead (met at `first_seen`); otherwise nobody knows whether it was late.
fn met_or_unknown(
    clock: &mut ClockState,
    first_seen: Timestamp,
    outcome: AdoptedOutcome,
) -> Option<Timestamp> {
    if clock.due >= first_seen {
        return Some(first_seen);
    }
    close_unknown(clock, first_seen, outcome);
    None
}

/// A pending clock whose deadline passed before `first_seen` ends without a verdict: it is
/// neither met nor breached (reports count it with the cancelled ones).
fn close_unknown(clock: &mut ClockState, first_seen: Timestamp, outcome: AdoptedOutcome) {
    if clock.is_pending() && clock.due <= first_seen {
        clock.cancelled_at = Some(first_seen);
        clock.adopted = Some(outcome);
    }
}
