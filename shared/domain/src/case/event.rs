//! What the providers tell us, already normalized into domain terms.

use super::{Adoption, CaseId, Status, TimerKind};
use crate::policy::{Channel, Labels, Plan, Priority};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requester {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Voicemail {
    pub caller: String,
    pub called: String,
    pub duration_seconds: u32,
    /// A link that plays the message (`None` while the call runs, and when the caller left
    /// no message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_url: Option<String>,
    /// The call ended without a message (a missed call), and that was reported.
    #[serde(default)]
    pub ended_without_message: bool,
}

/// What was asked, where and by whom: the request fields that a case, a provider's snapshot and
/// every alert share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestFacts {
    pub channel: Channel,
    pub plan: Plan,
    pub priority: Priority,
    /// When the request reached the support channel (not when the webhook arrived).
    pub received: Timestamp,
    #[serde(default)]
    pub labels: Labels,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester: Option<Requester>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voicemail: Option<Voicemail>,
}

/// What the provider's payload says about the request as a whole. Every provider event carries
/// one, so that the first event we hear of a case can create it, whatever its type (except a
/// deletion, which names only the case: [`Change::needs_known_case`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseFacts {
    #[serde(flatten)]
    pub request: RequestFacts,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// When an agent first answered publicly, if the snapshot already knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_response_at: Option<Timestamp>,
    /// A ticket first seen through a later event: what the system of record says about its
    /// progress. Set by the engine, never by a provider (`None` for a case opened normally).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adoption: Option<Adoption>,
    /// What the payload only refers to, for the engine to look up before deciding.
    #[serde(default, skip_serializing_if = "References::is_empty")]
    pub references: References,
}

/// Ids the payload names without their details (an organization, a comment's author, a chat's
/// contacts), for the engine's lookups in the systems of record. The machine never reads them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct References {
    /// Zendesk: the ticket's organization, whose tags may make it Enterprise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    /// Zendesk: a comment whose event did not say whether its author is staff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown_comment_author: Option<CommentAuthor>,
    /// Intercom: the conversation's contacts, whose (and whose companies') attributes may make
    /// it Enterprise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contact_ids: Vec<String>,
}

impl References {
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// The author of a comment, by id, and whether the comment is public.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentAuthor {
    /// `None` when the event names no author at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub public: bool,
}

/// The change one event reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Change {
    /// The request was created.
    Opened,
    /// Nothing we track changed; the snapshot may still create an unknown case.
    Observed,
    /// An agent was assigned (`None`: unassigned).
    Assigned {
        assignee: Option<String>,
    },
    /// A public reply by an agent: the first response.
    AgentReplied,
    /// The customer wrote again.
    CustomerReplied,
    /// The ticket was set pending or on hold: the agent waits for the customer or a third
    /// party, so no next-response clock runs (docs/policy.md rule 6).
    Waiting,
    PriorityChanged {
        priority: Priority,
    },
    /// Tags changed: the plan and the labels they imply.
    Reclassified {
        plan: Plan,
        labels: Labels,
    },
    Solved,
    /// Deleted at the provider, whose payload names only the case (Intercom's
    /// `conversation.deleted`): it solves a case we know, and cannot create one.
    Deleted,
    Reopened,
    /// A call reached the support line (Twilio's voice webhook): the case starts, nothing is
    /// said yet. The snapshot's voicemail names the caller and the line called.
    CallStarted,
    /// The caller left a message: the snapshot's voicemail has the recording.
    VoicemailLeft,
    /// The call ended without a message (the `<Record>` action or the recording was empty).
    CallMissed,
}

impl Change {
    /// A change that only applies to a case we already know: its event carries no facts to
    /// create one from.
    pub fn needs_known_case(&self) -> bool {
        matches!(self, Change::Deleted)
    }
}

/// One normalized provider event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseEvent {
    pub case_id: CaseId,
    /// The provider's id of this delivery, for deduplication.
    pub event_id: String,
    /// When it happened at the provider (not when the webhook arrived).
    pub occurred_at: Timestamp,
    pub change: Change,
    pub snapshot: CaseFacts,
}

/// What the state machine is asked to react to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input<'a> {
    Event(&'a CaseEvent),
    /// A timer fired. It is a hint: the machine decides again from the case and `now`.
    TimerFired(TimerKind),
    /// A periodic check that catches deadlines whose timers were lost.
    Sweep,
    /// The chat fallback's offer reached the customer (the reply in the chat or the e-mail was
    /// delivered): the chat's first response is handed over (docs/policy.md rule 4).
    OfferDelivered,
}
