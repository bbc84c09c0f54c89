//! Zendesk event-subscription payloads as they arrive (docs/providers/zendesk.md). Only what we
//! read is declared; everything else is ignored, so new Zendesk fields break nothing.

use crate::lenient::{Id, present};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::value::RawValue;

/// The envelope common to every event type. `detail` and `event` stay raw until we know the
/// type, because their shapes differ per domain (user, organization, ticket…).
#[derive(Debug, Deserialize)]
pub(super) struct Envelope<'a> {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub id: Option<Id>,
    #[serde(default)]
    pub time: Option<Timestamp>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default, borrow)]
    pub detail: Option<&'a RawValue>,
    #[serde(default, borrow)]
    pub event: Option<&'a RawValue>,
}

/// The ticket snapshot after the change. Ids are strings in practice, numbers tolerated;
/// status and priority are upper case; `tags`, `priority`, `assignee_id` may be null.
#[derive(Debug, Deserialize)]
pub(super) struct TicketDetail {
    #[serde(default)]
    pub id: Option<Id>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default)]
    pub assignee_id: Option<Id>,
    #[serde(default)]
    pub requester_id: Option<Id>,
    /// Its tags are not in the event; the engine looks them up.
    #[serde(default)]
    pub organization_id: Option<Id>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    pub created_at: Timestamp,
    /// Set by whoever created the ticket through the API; ours name the case (`twilio-CA…`).
    #[serde(default)]
    pub external_id: Option<String>,
}

/// `ticket.status_changed`: `{"previous":"OPEN","current":"PENDING"}`.
#[derive(Debug, Deserialize)]
pub(super) struct StatusChange {
    #[serde(default)]
    pub previous: Option<String>,
    pub current: String,
}

/// `ticket.priority_changed`: `current` is null when the priority was removed (normal), and
/// missing when Zendesk left it out (then the detail says).
#[derive(Debug, Deserialize)]
pub(super) struct PriorityChange {
    #[serde(default, deserialize_with = "present")]
    pub current: Option<Option<String>>,
}

/// `ticket.agent_assignment_changed`: ids as numbers or strings, null when unassigned, and
/// missing when Zendesk left it out (then the detail says).
#[derive(Debug, Deserialize)]
pub(super) struct AssignmentChange {
    #[serde(default, deserialize_with = "present")]
    pub current: Option<Option<Id>>,
}

/// `ticket.comment_added`.
#[derive(Debug, Deserialize)]
pub(super) struct CommentAdded {
    pub comment: Comment,
}

#[derive(Debug, Deserialize)]
pub(super) struct Comment {
    pub is_public: bool,
    /// Missing, or without `is_staff`, in some senders' payloads: then the engine looks the
    /// author up.
    #[serde(default)]
    pub author: Author,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct Author {
    #[serde(default)]
    pub id: Option<Id>,
    #[serde(default)]
    pub is_staff: Option<bool>,
    #[serde(default)]
    pub name: Option<String>,
}
