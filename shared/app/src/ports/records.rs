//! The systems of record (the Zendesk and Intercom APIs), asked by the engine between parsing
//! and deciding for what a webhook's payload lacks: a ticket's progress when it is first seen
//! late, a comment author's role, an organization's tags, a chat contact's and its companies'
//! attributes.
//!
//! Each lookup answers `Ok(None)` when its API is not configured. The adapters cache read
//! lookups with a TTL and bound each one with a timeout. A failed lookup never loses the event:
//! the engine proceeds as if the API were not configured (the safe reading, which never pages
//! for something it cannot know), and logs a warning.

use domain::Timestamp;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// One lookup's answer; boxed so that the engine can hold the port as a trait object.
pub type Lookup<'a, T> = Pin<Box<dyn Future<Output = Result<Option<T>, LookupError>> + Send + 'a>>;

/// A lookup that did not answer (timeout, refusal, unreadable answer). The reason names no
/// secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{system} lookup failed: {reason}")]
pub struct LookupError {
    pub system: &'static str,
    pub reason: String,
}

/// A ticket's progress according to its system of record (Zendesk ticket metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TicketProgress {
    /// Public replies by agents.
    pub replies: u32,
    /// How long after its creation the ticket got its first agent reply, if the system says.
    pub first_reply_after: Option<Duration>,
    /// When it was first assigned, if it was.
    pub assigned_at: Option<Timestamp>,
}

pub trait SystemOfRecord: Send + Sync + 'static {
    /// A ticket's progress (`zendesk` ticket id).
    fn ticket_progress<'a>(&'a self, ticket_id: &'a str) -> Lookup<'a, TicketProgress>;

    /// Whether a user is staff (an agent or admin), for a comment whose author's role the event
    /// leaves out.
    fn user_is_staff<'a>(&'a self, user_id: &'a str) -> Lookup<'a, bool>;

    /// The tags of a ticket's organization.
    fn organization_tags<'a>(&'a self, organization_id: &'a str) -> Lookup<'a, Vec<String>>;

    /// A chat contact's own attributes and those of its companies, as (name, value) pairs.
    fn account_attributes<'a>(&'a self, contact_id: &'a str) -> Lookup<'a, Vec<(String, String)>>;
}

/// No system of record configured: every lookup answers `None`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSystemOfRecord;

impl SystemOfRecord for NoSystemOfRecord {
    fn ticket_progress<'a>(&'a self, _ticket_id: &'a str) -> Lookup<'a, TicketProgress> {
        Box::pin(async { Ok(None) })
    }

    fn user_is_staff<'a>(&'a self, _user_id: &'a str) -> Lookup<'a, bool> {
        Box::pin(async { Ok(None) })
    }

    fn organization_tags<'a>(&'a self, _organization_id: &'a str) -> Lookup<'a, Vec<String>> {
        Box::pin(async { Ok(None) })
    }

    fn account_attributes<'a>(&'a self, _contact_id: &'a str) -> Lookup<'a, Vec<(String, String)>> {
        Box::pin(async { Ok(None) })
    }
}
