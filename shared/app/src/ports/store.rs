//! The case store: cases with optimistic concurrency, their timelines, event deduplication and
//! the transactional outbox. Two ports by capability: [`CaseStore`] (what the engine needs) and
//! [`CaseReader`] (what the read API needs). Two adapters (embedded SQLite, DynamoDB), one
//! contract test suite (the `store_contract` crate).

use super::rejected::RejectedEvent;
use domain::Timestamp;
use domain::case::{AlertAction, AlertKey, Case, CaseId, Change, Effect, TimerKind};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::time::Duration;

/// A case as stored, with the version its next write must name.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCase {
    pub case: Case,
    pub version: u64,
}

/// One line of a case's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// When the system recorded it.
    pub at: Timestamp,
    #[serde(flatten)]
    pub kind: TimelineKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TimelineKind {
    /// A provider event was applied.
    Event {
        event_id: String,
        occurred_at: Timestamp,
        change: Change,
    },
    TimerFired {
        timer: TimerKind,
    },
    Swept,
    /// The state machine decided an effect.
    Decided {
        key: String,
        effect: String,
    },
    /// An outbox effect reached its final state.
    Delivered {
        key: String,
        outcome: String,
    },
    /// The on-call engineer acknowledged or resolved one of our pages (PagerDuty).
    AlertUpdated {
        event_id: String,
        occurred_at: Timestamp,
        alert: AlertKey,
        action: AlertAction,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
}

/// An effect to deliver, keyed by its idempotency key (unique per store).
#[derive(Debug, Clone, PartialEq)]
pub struct NewOutboxItem {
    pub key: String,
    pub effect: Effect,
}

/// Everything one decision writes, atomically: all or nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseWrite {
    pub case: Case,
    /// `None`: the case must not exist yet. `Some(v)`: the stored version must be `v`.
    pub expected_version: Option<u64>,
    /// Recorded as applied; the write fails with [`StoreError::DuplicateEvent`] if it already was.
    pub event_id: Option<String>,
    pub timeline: Vec<TimelineEntry>,
    /// Items whose key exists already are skipped (the effect was decided before).
    pub outbox: Vec<NewOutboxItem>,
    pub now: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Pending,
    Delivered,
    /// No destination configured: recorded, logged, not sent.
    NotSent,
    /// Permanently failed or out of attempts: visible, never retried automatically.
    Failed,
}

impl DeliveryState {
    pub const ALL: [DeliveryState; 4] = [
        DeliveryState::Pending,
        DeliveryState::Delivered,
        DeliveryState::NotSent,
        DeliveryState::Failed,
    ];

    /// The state's name as stored and as shown (snake case).
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::NotSent => "not_sent",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == text)
    }
}

/// Where an outbox effect is sent. Each destination has delivery workers of its own, so that a
/// slow or throttled receiver (PagerDuty answering 429) holds back no other. A new kind of
/// effect names its destination here; a new receiver adds a variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Destination {
    PagerDuty,
    Slack,
    Email,
    /// The ticket system (Zendesk): voicemail tickets.
    Tickets,
    /// The chat (Intercom): the fallback's reply in the conversation.
    Chat,
    /// Subscribers of SLA events (EventBridge, or a signed webhook locally).
    Events,
}

impl Destination {
    pub const ALL: [Destination; 6] = [
        Destination::PagerDuty,
        Destination::Slack,
        Destination::Email,
        Destination::Tickets,
        Destination::Chat,
        Destination::Events,
    ];

    /// The receiver that carries out `effect`.
    pub fn of(effect: &Effect) -> Self {
        match effect {
            Effect::Page { .. } | Effect::ResolvePage { .. } => Destination::PagerDuty,
            Effect::NotifySlack { .. } => Destination::Slack,
            Effect::SendEmail { .. } => Destination::Email,
            Effect::OpenTicket { .. } | Effect::WriteBackBreach { .. } => Destination::Tickets,
            Effect::ReplyInChat { .. } => Destination::Chat,
            Effect::PublishEvent { .. } => Destination::Events,
        }
    }

    /// The name as stored with each outbox item.
    pub fn as_str(self) -> &'static str {
        match self {
            Destination::PagerDuty => "pagerduty",
            Destination::Slack => "slack",
            Destination::Email => "email",
            Destination::Tickets => "tickets",
            Destination::Chat => "chat",
            Destination::Events => "events",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == text)
    }
}

impl std::fmt::Display for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    pub key: String,
    pub case_id: CaseId,
    pub effect: Effect,
    pub created_at: Timestamp,
    pub state: DeliveryState,
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
    /// What the receiver answered, or why it was not sent.
    pub detail: Option<String>,
}

/// How one delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Delivered {
        detail: String,
    },
    NotSent {
        reason: String,
    },
    /// Temporary failure: count the attempt and offer the item again at `at`.
    RetryAt {
        at: Timestamp,
        error: String,
    },
    Failed {
        error: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The case changed since it was read (or exists already): reload and decide again.
    #[error("case {0} was changed concurrently")]
    Conflict(CaseId),
    #[error("event {0} was already applied")]
    DuplicateEvent(String),
    /// The store cannot be reached or is throttling: retry later.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Stored data cannot be read back: retrying will not help.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Conflict(_) | StoreError::Unavailable(_))
    }
}

pub trait CaseStore: Send + Sync + 'static {
    fn load(
        &self,
        id: &CaseId,
    ) -> impl Future<Output = Result<Option<StoredCase>, StoreError>> + Send;

    /// Write a decision atomically; returns the new version (1 for a new case).
    fn commit(&self, write: CaseWrite) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Cases that need attention (`Case::next_due() <= now`), earliest first, at most `limit`.
    fn due_cases(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<CaseId>, StoreError>> + Send;

    /// The earliest `Case::next_due()` over all cases.
    fn next_due(&self) -> impl Future<Output = Result<Option<Timestamp>, StoreError>> + Send;

    /// Lease pending outbox items whose `next_attempt_at <= now` and whose lease has expired,
    /// oldest first, at most `limit`, optionally of one case only. An item is not offered while
    /// an older item of its delivery lane (`Effect::delivery_lane`) is still pending, so a
    /// resolve never overtakes its trigger.
    /// Two concurrent claims never return the same item.
    fn claim_outbox(
        &self,
        now: Timestamp,
        lease: Duration,
        limit: usize,
        case: Option<&CaseId>,
    ) -> impl Future<Output = Result<Vec<OutboxItem>, StoreError>> + Send;

    /// Like [`CaseStore::claim_outbox`] over every case, but only items whose effect goes to
    /// `destination` ([`Destination::of`]): each destination's workers claim their own.
    fn claim_destination(
        &self,
        now: Timestamp,
        lease: Duration,
        destination: Destination,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<OutboxItem>, StoreError>> + Send;

    /// Extend the lease of a claimed item to `now + lease`, while its delivery is still under
    /// way, so that no other worker claims it meanwhile. `false` when the item is no longer
    /// pending and leased (finished, or unknown): nothing was changed.
    fn renew_lease(
        &self,
        key: &str,
        now: Timestamp,
        lease: Duration,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Record how a claimed item's delivery ended (and a `Delivered` timeline entry when final).
    fn finish_delivery(
        &self,
        key: &str,
        outcome: DeliveryOutcome,
        now: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Set a case aside (or record another failure): `due_cases` skips it and `next_due` does
    /// not count it before `entry.until`, even when its stored document cannot be read. The
    /// next successful `commit` of the case ends the quarantine.
    fn quarantine(&self, entry: Quarantine) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The case's quarantine, if it is in one.
    fn quarantined(
        &self,
        case: &CaseId,
    ) -> impl Future<Output = Result<Option<Quarantine>, StoreError>> + Send;

    /// Keep an event that can never be decided, for an operator (`CaseReader::rejected_events`).
    /// Keeping one with the provider and event id of a kept one replaces it. Pruned with the
    /// rest of the history (SQLite) or by TTL (DynamoDB).
    fn keep_rejected(
        &self,
        event: RejectedEvent,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// A shared store is a store: the engine, a sweeper and the read API can hold one together.
impl<S: CaseStore> CaseStore for std::sync::Arc<S> {
    fn load(
        &self,
        id: &CaseId,
    ) -> impl Future<Output = Result<Option<StoredCase>, StoreError>> + Send {
        S::load(self, id)
    }

    fn commit(&self, write: CaseWrite) -> impl Future<Output = Result<u64, StoreError>> + Send {
        S::commit(self, write)
    }

    fn due_cases(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<CaseId>, StoreError>> + Send {
        S::due_cases(self, now, limit)
    }

    fn next_due(&self) -> impl Future<Output = Result<Option<Timestamp>, StoreError>> + Send {
        S::next_due(self)
    }

    fn claim_outbox(
        &self,
        now: Timestamp,
        lease: Duration,
        limit: usize,
        case: Option<&CaseId>,
    ) -> impl Future<Output = Result<Vec<OutboxItem>, StoreError>> + Send {
        S::claim_outbox(self, now, lease, limit, case)
    }

    fn claim_destination(
        &self,
        now: Timestamp,
        lease: Duration,
        destination: Destination,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<OutboxItem>, StoreError>> + Send {
        S::claim_destination(self, now, lease, destination, limit)
    }

    fn renew_lease(
        &self,
        key: &str,
        now: Timestamp,
        lease: Duration,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        S::renew_lease(self, key, now, lease)
    }

    fn finish_delivery(
        &self,
        key: &str,
        outcome: DeliveryOutcome,
        now: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        S::finish_delivery(self, key, outcome, now)
    }

    fn quarantine(&self, entry: Quarantine) -> impl Future<Output = Result<(), StoreError>> + Send {
        S::quarantine(self, entry)
    }

    fn quarantined(
        &self,
        case: &CaseId,
    ) -> impl Future<Output = Result<Option<Quarantine>, StoreError>> + Send {
        S::quarantined(self, case)
    }

    fn keep_rejected(
        &self,
        event: RejectedEvent,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        S::keep_rejected(self, event)
    }
}

/// A case set aside after the sweep failed to load or decide it (its stored document does not
/// parse, or deciding fails): it is not due again before `until`, so it never takes another
/// case's place in a sweep batch. A successful write of the case ends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantine {
    pub case_id: CaseId,
    /// Failures in a row; the engine doubles the backoff with each.
    pub failures: u32,
    /// When the sweep tries the case again.
    pub until: Timestamp,
    /// The first time it failed in this row.
    pub since: Timestamp,
    /// The last failure.
    pub reason: String,
}

/// Where a listing of cases goes on: just after this case, in the listing's order (most
/// recently received first, then by id, descending). Shown to clients as an opaque text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseCursor {
    pub received: Timestamp,
    pub id: CaseId,
}

impl CaseCursor {
    /// The cursor that continues a listing after `case`.
    pub fn after(case: &Case) -> Self {
        Self {
            received: case.request.received,
            id: case.id.clone(),
        }
    }

    /// `<received, Unix nanoseconds>.<case id>`: no character that needs escaping in a query.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.received.as_nanosecond(), self.id)
    }

    pub fn parse(text: &str) -> Option<Self> {
        let (nanos, id) = text.split_once('.')?;
        Some(Self {
            received: Timestamp::from_nanosecond(nanos.parse().ok()?).ok()?,
            id: CaseId::parse(id).ok()?,
        })
    }
}

/// One page of a listing, and the cursor to the next one (`None`: this was the last).
#[derive(Debug, Clone, PartialEq)]
pub struct CasePage {
    pub cases: Vec<StoredCase>,
    pub next: Option<CaseCursor>,
}

/// What the read API needs: listings, timelines, outboxes. The engine never reads these.
pub trait CaseReader: Send + Sync + 'static {
    /// A case's timeline in the order it was written.
    fn timeline(
        &self,
        id: &CaseId,
    ) -> impl Future<Output = Result<Vec<TimelineEntry>, StoreError>> + Send;

    /// Cases, most recently received first, at most `limit`.
    fn list_cases(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<StoredCase>, StoreError>> + Send;

    /// Every outbox item of a case, oldest first.
    fn outbox_of(
        &self,
        case: &CaseId,
    ) -> impl Future<Output = Result<Vec<OutboxItem>, StoreError>> + Send;

    /// Cases in quarantine, the soonest to be tried again first, at most `limit`.
    fn quarantined_cases(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Quarantine>, StoreError>> + Send;

    /// One page of [`CaseReader::list_cases`]: at most `limit` cases after `cursor` (from the
    /// start without one), and the cursor to the next page if there are more.
    fn list_cases_page(
        &self,
        cursor: Option<&CaseCursor>,
        limit: usize,
    ) -> impl Future<Output = Result<CasePage, StoreError>> + Send;

    /// Cases received in `[from, to)`, earliest received first (then by case id): a month's
    /// cases for the reports, without reading every case ever stored.
    fn cases_received_between(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> impl Future<Output = Result<Vec<StoredCase>, StoreError>> + Send;

    /// Kept rejected events, the most recently received first (then by provider and event id),
    /// at most `limit`.
    fn rejected_events(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<RejectedEvent>, StoreError>> + Send;
}

impl<S: CaseReader> CaseReader for std::sync::Arc<S> {
    fn timeline(
        &self,
        id: &CaseId,
    ) -> impl Future<Output = Result<Vec<TimelineEntry>, StoreError>> + Send {
        S::timeline(self, id)
    }

    fn list_cases(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<StoredCase>, StoreError>> + Send {
        S::list_cases(self, limit)
    }

    fn outbox_of(
        &self,
        case: &CaseId,
    ) -> impl Future<Output = Result<Vec<OutboxItem>, StoreError>> + Send {
        S::outbox_of(self, case)
    }

    fn list_cases_page(
        &self,
        cursor: Option<&CaseCursor>,
        limit: usize,
    ) -> impl Future<Output = Result<CasePage, StoreError>> + Send {
        S::list_cases_page(self, cursor, limit)
    }

    fn quarantined_cases(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Quarantine>, StoreError>> + Send {
        S::quarantined_cases(self, limit)
    }

    fn cases_received_between(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> impl Future<Output = Result<Vec<StoredCase>, StoreError>> + Send {
        S::cases_received_between(self, from, to)
    }

    fn rejected_events(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<RejectedEvent>, StoreError>> + Send {
        S::rejected_events(self, limit)
    }
}

impl CasePage {
    /// A page from up to `limit + 1` cases read in listing order: the extra one only tells
    /// that there is a next page.
    pub fn from_one_more(mut cases: Vec<StoredCase>, limit: usize) -> Self {
        let next = if cases.len() > limit {
            cases.truncate(limit);
            cases.last().map(|last| CaseCursor::after(&last.case))
        } else {
            None
        };
        Self { cases, next }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_cursor_reads_back_as_written_and_nonsense_is_no_cursor() {
        let cursor = CaseCursor {
            received: "2026-03-02T09:00:00.000000001Z".parse().unwrap(),
            id: CaseId::parse("zendesk-7.1").unwrap(),
        };
        let text = cursor.encode();
        assert!(!text.contains(['&', '=', '#', ' ', '/']), "{text}");
        assert_eq!(CaseCursor::parse(&text), Some(cursor));
        for bad in [
            "",
            "abc",
            "12",
            "x.zendesk-1",
            "99999999999999999999999999.zendesk-1",
        ] {
            assert_eq!(CaseCursor::parse(bad), None, "{bad}");
        }
    }
}
