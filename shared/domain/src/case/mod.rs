//! A case: one tracked request (a Zendesk ticket, an Intercom conversation, a voicemail), its
//! clocks, and the pure state machine that moves it (docs/policy.md sections 4 and 5).

mod adoption;
mod alert_response;
mod chat_handover;
mod effect;
mod event;
mod machine;
mod next_response;
mod phone;
mod sla_event;
mod writeback;

pub use adoption::{AdoptedOutcome, Adoption, MET_BEFORE_FIRST_SEEN, OUTCOME_UNKNOWN, Replied};
pub use alert_response::{AlertAction, AlertResponse, AlertUpdate, apply_alert_update};
pub use effect::{
    AlertContext, AlertKey, Effect, EmailKind, SlackKind, TicketRequest, TimerChange, TimerKind,
};
pub use event::{
    CaseEvent, CaseFacts, Change, CommentAuthor, Input, References, RequestFacts, Requester,
    Voicemail,
};
pub use machine::{DecideError, Decision, decide};
pub use next_response::NextResponse;
pub use phone::{UNKNOWN_NUMBER, VOICEMAIL_TAG};
pub use sla_event::{SlaClock, SlaEvent, SlaEventKind, sla_events};
pub use writeback::BREACH_TAG;

use crate::deadlines::Request;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A case id such as `zendesk-5158`, `intercom-1295` or `twilio-RE…`: ASCII letters, digits,
/// `-`, `_` and `.`, at most 128 characters, so it fits every key and schedule name we build.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CaseId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid case id {0:?}: use 1-128 ASCII letters, digits, '-', '_' or '.'")]
pub struct InvalidCaseId(pub String);

impl CaseId {
    pub const MAX_LEN: usize = 128;

    pub fn parse(text: &str) -> Result<Self, InvalidCaseId> {
        let valid = !text.is_empty()
            && text.len() <= Self::MAX_LEN
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if valid {
            Ok(Self(text.to_owned()))
        } else {
            Err(InvalidCaseId(text.to_owned()))
        }
    }

    /// `<provider>-<id>`, the id naming the provider's own object.
    pub fn for_provider(provider: &str, id: &str) -> Result<Self, InvalidCaseId> {
        Self::parse(&format!("{provider}-{id}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for CaseId {
    type Error = InvalidCaseId;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<CaseId> for String {
    fn from(id: CaseId) -> String {
        id.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Open,
    Solved,
}

/// Progress of one deadline. Once met, a clock stays met; a breached clock can still be met
/// later (late answer), which resolves its page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockState {
    pub due: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub met_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breached_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<Timestamp>,
    /// Closed at adoption without a verdict (then `cancelled_at` is the first sight).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adopted: Option<AdoptedOutcome>,
}

/// How a clock stands, for reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockStatus {
    Pending,
    Met,
    MetLate,
    Breached,
    Cancelled,
}

impl ClockState {
    pub fn new(due: Timestamp) -> Self {
        Self {
            due,
            met_at: None,
            breached_at: None,
            cancelled_at: None,
            adopted: None,
        }
    }

    pub fn is_pending(&self) -> bool {
        self.met_at.is_none() && self.breached_at.is_none() && self.cancelled_at.is_none()
    }

    /// Record that the clock was met at `at`. A clock met already stays as it was; a cancelled
    /// one can only be met by something that happened before the cancellation (a late event).
    pub fn meet(&mut self, at: Timestamp) -> bool {
        if self.met_at.is_some() || self.cancelled_at.is_some_and(|cancelled| at > cancelled) {
            return false;
        }
        self.met_at = Some(at);
        self.cancelled_at = None;
        self.adopted = None;
        true
    }

    pub fn status(&self) -> ClockStatus {
        match (self.met_at, self.breached_at, self.cancelled_at) {
            (Some(met), _, _) if met <= self.due => ClockStatus::Met,
            (Some(_), _, _) => ClockStatus::MetLate,
            (None, _, Some(_)) => ClockStatus::Cancelled,
            (None, Some(_), None) => ClockStatus::Breached,
            (None, None, None) => ClockStatus::Pending,
        }
    }
}

/// When each tracked field was last changed by an applied event, so that an older event
/// arriving later cannot move it backwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldTimes {
    pub status: Timestamp,
    pub assignment: Timestamp,
    pub priority: Timestamp,
    pub plan: Timestamp,
    pub labels: Timestamp,
}

impl FieldTimes {
    fn all(at: Timestamp) -> Self {
        Self {
            status: at,
            assignment: at,
            priority: at,
            plan: at,
            labels: at,
        }
    }
}

/// The state of a tracked request. Stored through `app::stored::StoredCaseV1`, never through
/// this type's own serde.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub id: CaseId,
    #[serde(flatten)]
    pub request: RequestFacts,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    pub out_of_hours: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispatch: Option<ClockState>,
    pub first_response: ClockState,
    pub first_response_warning_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warned_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_fallback: Option<ClockState>,
    /// The latest follow-up's clock (docs/policy.md rule 6), once a follow-up came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_response: Option<NextResponse>,
    /// Alerts triggered and not yet resolved.
    #[serde(default)]
    pub open_alerts: BTreeSet<AlertKey>,
    /// How the on-call engineer answered each alert (PagerDuty acknowledgements and resolves).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub alert_responses: BTreeMap<AlertKey, AlertResponse>,
    /// Timers this case has asked for, by kind, at the instant asked.
    #[serde(default)]
    pub timers: BTreeMap<TimerKind, Timestamp>,
    pub applied: FieldTimes,
    pub last_event_at: Timestamp,
}

impl Case {
    /// What the deadlines are computed from.
    pub fn deadline_request(&self) -> Request {
        Request {
            received: self.request.received,
            plan: self.request.plan,
            priority: self.request.priority,
            channel: self.request.channel,
        }
    }

    /// The earliest instant at which this case needs attention again, if any: what a sweeper
    /// indexes to find due work without reading every case.
    pub fn next_due(&self) -> Option<Timestamp> {
        self.timers.values().min().copied()
    }

    pub fn clock(&self, timer: TimerKind) -> Option<&ClockState> {
        match timer {
            TimerKind::Dispatch => self.dispatch.as_ref(),
            TimerKind::FirstResponse => Some(&self.first_response),
            TimerKind::ChatFallback => self.chat_fallback.as_ref(),
            TimerKind::NextResponse => self.next_response.as_ref().map(|next| &next.clock),
            TimerKind::FirstResponseWarning | TimerKind::NextResponseWarning => None,
        }
    }
}
