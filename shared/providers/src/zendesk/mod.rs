//! Zendesk event webhooks (`zen:event-type:ticket.*`), described in docs/providers/zendesk.md.
//!
//! Signature: `base64(HMAC-SHA256(key = the secret's bytes as given,
//! msg = X-Zendesk-Webhook-Signature-Timestamp + raw body))`. The legacy documentation's
//! body-then-timestamp order is wrong and is rejected (vector ZD-1, docs/test-vectors.md).

mod wire;

use crate::config::{self, ConfigError};
use crate::lenient::Id;
use crate::request::{DEFAULT_BODY_LIMIT, Intake, RawRequest, Rejection, excerpt};
use crate::{Classifier, Webhook, json, signature};
use domain::case::{
    CaseEvent, CaseFacts, CaseId, Change, CommentAuthor, References, RequestFacts, Requester,
    Status,
};
use domain::policy::{Channel, Priority};
use env_config::Secret;
use http::Method;
use jiff::Timestamp;
use std::time::Duration;
use wire::{AssignmentChange, CommentAdded, Envelope, PriorityChange, StatusChange, TicketDetail};

pub const SIGNATURE_HEADER: &str = "x-zendesk-webhook-signature";
pub const TIMESTAMP_HEADER: &str = "x-zendesk-webhook-signature-timestamp";

const PROVIDER: &str = "zendesk";
const TICKET_EVENT_PREFIX: &str = "zen:event-type:ticket.";
/// Longer ids are not Zendesk's; they are not looked up.
const MAX_ID_LEN: usize = 64;

/// How to verify and describe Zendesk webhooks.
#[derive(Debug, Clone)]
pub struct ZendeskConfig {
    pub secret: Secret,
    /// `acme` for `acme.zendesk.com`: enables links to the agent view of a ticket.
    pub subdomain: Option<String>,
    /// Largest accepted distance between the signature timestamp and `now`, either way.
    /// Zendesk documents no replay window; an hour tolerates clock skew and slow retries.
    pub timestamp_window: Duration,
    pub body_limit: usize,
}

impl ZendeskConfig {
    pub const DEFAULT_TIMESTAMP_WINDOW: Duration = Duration::from_secs(60 * 60);

    pub fn new(secret: Secret) -> Self {
        Self {
            secret,
            subdomain: None,
            timestamp_window: Self::DEFAULT_TIMESTAMP_WINDOW,
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }

    /// From `ZENDESK_WEBHOOK_SECRET` (required) and `ZENDESK_SUBDOMAIN` (optional).
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let config = Self::new(config::required_secret(&lookup, "ZENDESK_WEBHOOK_SECRET")?);
        match config::optional(&lookup, "ZENDESK_SUBDOMAIN") {
            Some(subdomain) => config.with_subdomain(&subdomain),
            None => Ok(config),
        }
    }

    /// Accepts `acme`, `acme.zendesk.com` or `https://acme.zendesk.com/`.
    pub fn with_subdomain(mut self, subdomain: &str) -> Result<Self, ConfigError> {
        let name = subdomain
            .trim()
            .trim_start_matches("https://")
            .trim_end_matches('/')
            .trim_end_matches(".zendesk.com")
            .to_ascii_lowercase();
        let valid = !name.is_empty()
            && name.len() <= 63
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !valid {
            return Err(ConfigError::Invalid {
                name: "ZENDESK_SUBDOMAIN",
                reason: format!("{subdomain:?} is not a Zendesk subdomain such as \"acme\""),
            });
        }
        self.subdomain = Some(name);
        Ok(self)
    }

    pub fn with_timestamp_window(mut self, window: Duration) -> Self {
        self.timestamp_window = window;
        self
    }

    pub fn with_body_limit(mut self, limit: usize) -> Self {
        self.body_limit = limit;
        self
    }
}

/// The Zendesk webhook endpoint.
#[derive(Debug, Clone)]
pub struct ZendeskHandler {
    config: ZendeskConfig,
    classifier: Classifier,
}

impl ZendeskHandler {
    pub fn new(config: ZendeskConfig, classifier: Classifier) -> Self {
        Self { config, classifier }
    }

    pub fn config(&self) -> &ZendeskConfig {
        &self.config
    }

    /// Verify, parse and normalize one request. POST only.
    pub fn handle(&self, request: &RawRequest<'_>, now: Timestamp) -> Result<Intake, Rejection> {
        request.require_method(&[Method::POST], "POST")?;
        request.require_size(self.config.body_limit)?;
        self.verify(request, now)?;
        crate::plausible::check(PROVIDER, self.parse(request.body)?, now)
    }

    fn verify(&self, request: &RawRequest<'_>, now: Timestamp) -> Result<(), Rejection> {
        let given = request
            .header(SIGNATURE_HEADER)
            .ok_or(Rejection::MissingSignature {
                header: "X-Zendesk-Webhook-Signature",
            })?;
        let timestamp = request
            .header(TIMESTAMP_HEADER)
            .ok_or(Rejection::MissingSignature {
                header: "X-Zendesk-Webhook-Signature-Timestamp",
            })?;
        let tag = signature::decode_base64(given).ok_or(Rejection::BadSignature)?;
        if !signature::sha256_verifies(
            self.config.secret.expose().as_bytes(),
            &[timestamp, request.body],
            &tag,
        ) {
            return Err(Rejection::BadSignature);
        }
        // Checked after the signature, so the window applies to a timestamp Zendesk vouched for.
        let signed_at = std::str::from_utf8(timestamp)
            .ok()
            .and_then(|text| text.trim().parse::<Timestamp>().ok())
            .ok_or(Rejection::StaleTimestamp)?;
        if now.duration_since(signed_at).unsigned_abs() > self.config.timestamp_window {
            return Err(Rejection::StaleTimestamp);
        }
        Ok(())
    }

    fn parse(&self, body: &[u8]) -> Result<Intake, Rejection> {
        let envelope: Envelope<'_> = json::parse(PROVIDER, "", body)?;
        let Some(name) = envelope.kind.strip_prefix(TICKET_EVENT_PREFIX) else {
            let reason = format!(
                "zendesk event type {} is not tracked",
                excerpt(&envelope.kind)
            );
            tracing::info!(provider = PROVIDER, %reason, "webhook ignored");
            return Ok(Intake::Ignored { reason });
        };
        let Some(kind) = TicketEvent::from_name(name) else {
            // A ticket event we do not interpret still carries a snapshot that can create a
            // ticket we missed; if its detail is incomplete there is nothing to learn.
            return Ok(match self.ticket_event(&envelope, TicketEvent::Other) {
                Ok(event) => Intake::Accepted(vec![event]),
                Err(error) => {
                    let reason = format!(
                        "zendesk event type {} is not tracked ({error})",
                        excerpt(&envelope.kind)
                    );
                    tracing::info!(provider = PROVIDER, %reason, "webhook ignored");
                    Intake::Ignored { reason }
                }
            });
        };
        Ok(Intake::Accepted(vec![self.ticket_event(&envelope, kind)?]))
    }

    fn ticket_event(
        &self,
        envelope: &Envelope<'_>,
        kind: TicketEvent,
    ) -> Result<CaseEvent, Rejection> {
        let event_id = envelope
            .id
            .as_ref()
            .map(|id| id.0.trim())
            .filter(|id| !id.is_empty())
            .ok_or_else(|| missing("id"))?
            .to_owned();
        let occurred_at = envelope.time.ok_or_else(|| missing("time"))?;
        let detail: TicketDetail = parse_part(envelope.detail, "detail")?;
        let ticket_id = ticket_id(&detail, envelope.subject.as_deref())?;
        let case_id = match our_case(&detail) {
            Some(case_id) => case_id,
            None => CaseId::for_provider(PROVIDER, &ticket_id)
                .map_err(|error| Rejection::malformed(PROVIDER, error))?,
        };
        let mut snapshot = self.snapshot(&detail, &ticket_id)?;

        let change = match kind {
            TicketEvent::Created => Change::Opened,
            TicketEvent::AgentAssignmentChanged => {
                let change: AssignmentChange = parse_part(envelope.event, "event")?;
                let assignee = match change.current {
                    Some(current) => current.and_then(Id::into_some),
                    None => snapshot.assignee.clone(),
                };
                Change::Assigned { assignee }
            }
            TicketEvent::CommentAdded => {
                let added: CommentAdded = parse_part(envelope.event, "event")?;
                let comment = added.comment;
                let is_requester =
                    comment.author.id.is_some() && comment.author.id == detail.requester_id;
                // The requester is taken for a customer when the event leaves the role out.
                let is_staff = match comment.author.is_staff {
                    Some(staff) => Some(staff),
                    None if is_requester => Some(false),
                    None => None,
                };
                if is_requester && is_staff == Some(false) && comment.author.name.is_some() {
                    snapshot.request.requester = Some(Requester {
                        name: comment.author.name.clone(),
                        email: None,
                    });
                }
                // The comment that creates a ticket (its description) is the request, never its
                // first response, also when an agent opens the ticket for a customer. Zendesk
                // adds it as the ticket is created: `created_at` is that second, truncated.
                let creating = occurred_at.duration_since(detail.created_at) < CREATING_COMMENT;
                match (is_staff, comment.is_public) {
                    (Some(true) | None, _) if creating => Change::Observed,
                    (Some(true), true) => {
                        // A ticket first heard of through its reply is created answered.
                        snapshot.first_response_at = Some(occurred_at);
                        Change::AgentReplied
                    }
                    (Some(false), _) => Change::CustomerReplied,
                    (Some(true), false) => Change::Observed,
                    (None, public) => {
                        // Not a response until the engine learns the author is an agent.
                        snapshot.references.unknown_comment_author = Some(CommentAuthor {
                            id: comment
                                .author
                                .id
                                .and_then(Id::into_some)
                                .filter(|id| id.len() <= MAX_ID_LEN),
                            public,
                        });
                        Change::Observed
                    }
                }
            }
            TicketEvent::StatusChanged => {
                let change: StatusChange = parse_part(envelope.event, "event")?;
                let current = parse_status(Some(&change.current), "event.current")?;
                // An unreadable previous status cannot make this a reopening.
                let previous = change
                    .previous
                    .as_deref()
                    .map(|p| parse_status(Some(p), "event.previous"));
                match (previous, current) {
                    (_, Status::Solved) => Change::Solved,
                    (Some(Ok(Status::Solved)), Status::Open) => Change::Reopened,
                    _ if is_waiting(&change.current) => Change::Waiting,
                    _ => Change::Observed,
                }
            }
            TicketEvent::PriorityChanged => {
                let change: PriorityChange = parse_part(envelope.event, "event")?;
                let priority = match change.current {
                    Some(current) => parse_priority(current.as_deref(), "event.current")?,
                    None => snapshot.request.priority,
                };
                Change::PriorityChanged { priority }
            }
            TicketEvent::TagsChanged => Change::Reclassified {
                plan: snapshot.request.plan,
                labels: snapshot.request.labels.clone(),
            },
            TicketEvent::Removed => Change::Solved,
            TicketEvent::Undeleted if snapshot.status == Status::Open => Change::Reopened,
            TicketEvent::Undeleted | TicketEvent::Other => Change::Observed,
        };
        // Raw strings become domain values here: bounded, so that no case outgrows its item.
        Ok(crate::bounded::event(CaseEvent {
            case_id,
            event_id,
            occurred_at,
            change,
            snapshot,
        }))
    }

    fn snapshot(&self, detail: &TicketDetail, ticket_id: &str) -> Result<CaseFacts, Rejection> {
        let tags: Vec<&str> = detail.tags.iter().flatten().map(String::as_str).collect();
        Ok(CaseFacts {
            request: RequestFacts {
                channel: Channel::Ticket,
                plan: self.classifier.plans.plan_for_tags(tags.iter().copied()),
                priority: parse_priority(detail.priority.as_deref(), "detail.priority")?,
                received: detail.created_at,
                labels: self.classifier.labels.labels(tags.iter().copied()),
                subject: detail
                    .subject
                    .as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
                requester: None,
                link: self
                    .config
                    .subdomain
                    .as_ref()
                    .map(|sub| format!("https://{sub}.zendesk.com/agent/tickets/{ticket_id}")),
                voicemail: None,
            },
            status: parse_status(detail.status.as_deref(), "detail.status")?,
            assignee: detail.assignee_id.clone().and_then(Id::into_some),
            first_response_at: None,
            adoption: None,
            references: References {
                organization_id: detail
                    .organization_id
                    .clone()
                    .and_then(Id::into_some)
                    .filter(|id| id.len() <= MAX_ID_LEN),
                ..References::default()
            },
        })
    }
}

/// A ticket we opened for another case (a voicemail's, `external_id` = `twilio-CA…`) is that
/// case: its events apply there and never open a second one.
fn our_case(detail: &TicketDetail) -> Option<CaseId> {
    let external_id = detail.external_id.as_deref()?.trim();
    external_id
        .strip_prefix("twilio-CA")
        .filter(|sid| sid.len() == 32 && sid.bytes().all(|b| b.is_ascii_hexdigit()))?;
    CaseId::parse(external_id).ok()
}

impl Webhook for ZendeskHandler {
    fn handle(&self, request: &RawRequest<'_>, now: Timestamp) -> Result<Intake, Rejection> {
        ZendeskHandler::handle(self, request, now)
    }
}

/// The value of `X-Zendesk-Webhook-Signature` for a body sent at `timestamp`, for simulators
/// and tests that play Zendesk.
pub fn sign(secret: &Secret, timestamp: &str, body: &[u8]) -> String {
    signature::sha256_base64(secret.expose().as_bytes(), &[timestamp.as_bytes(), body])
}

/// The ticket event types we interpret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TicketEvent {
    Created,
    AgentAssignmentChanged,
    CommentAdded,
    StatusChanged,
    PriorityChanged,
    TagsChanged,
    /// Deleted or marked as spam: nobody owes it an answer, so its clocks stop.
    Removed,
    Undeleted,
    /// Any other ticket event: only its snapshot matters.
    Other,
}

impl TicketEvent {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "created" => Self::Created,
            "agent_assignment_changed" => Self::AgentAssignmentChanged,
            "comment_added" => Self::CommentAdded,
            "status_changed" => Self::StatusChanged,
            "priority_changed" => Self::PriorityChanged,
            "tags_changed" => Self::TagsChanged,
            "soft_deleted" | "permanently_deleted" | "marked_as_spam" => Self::Removed,
            "undeleted" => Self::Undeleted,
            _ => return None,
        })
    }
}

fn parse_part<'de, T: serde::Deserialize<'de>>(
    raw: Option<&'de serde_json::value::RawValue>,
    name: &str,
) -> Result<T, Rejection> {
    let raw = raw.ok_or_else(|| missing(name))?;
    json::parse(PROVIDER, name, raw.get().as_bytes())
}

/// `detail.id`, or the suffix of `subject` (`zen:ticket:5158`) when the detail lacks it.
fn ticket_id(detail: &TicketDetail, subject: Option<&str>) -> Result<String, Rejection> {
    detail
        .id
        .as_ref()
        .map(|id| id.0.trim().to_owned())
        .or_else(|| subject?.strip_prefix("zen:ticket:").map(str::to_owned))
        .filter(|id| !id.is_empty())
        .ok_or_else(|| missing("detail.id"))
}

/// Zendesk sends `LOW`…`URGENT` (events) or `low`…`urgent` (API); null means normal.
fn parse_priority(value: Option<&str>, field: &str) -> Result<Priority, Rejection> {
    match value.map(str::trim) {
        None | Some("") => Ok(Priority::Normal),
        Some(text) => text
            .parse()
            .map_err(|error| Rejection::malformed(PROVIDER, format_args!("`{field}`: {error}"))),
    }
}

/// Solved, closed and the states after them (deleted, archived, scrubbed) need no answer.
fn parse_status(value: Option<&str>, field: &str) -> Result<Status, Rejection> {
    let Some(text) = value.map(str::trim).filter(|text| !text.is_empty()) else {
        return Ok(Status::Open);
    };
    const OPEN: &[&str] = &["new", "open", "pending", "hold"];
    const SOLVED: &[&str] = &["solved", "closed", "deleted", "archived", "scrubbed"];
    if OPEN.iter().any(|s| s.eq_ignore_ascii_case(text)) {
        Ok(Status::Open)
    } else if SOLVED.iter().any(|s| s.eq_ignore_ascii_case(text)) {
        Ok(Status::Solved)
    } else {
        Err(Rejection::malformed(
            PROVIDER,
            format_args!("`{field}`: unknown ticket status {:?}", excerpt(text)),
        ))
    }
}

/// How long after the ticket's `created_at` (whole seconds) a comment is still the one that
/// created the ticket (a captured one came 1.3 s after it).
const CREATING_COMMENT: jiff::SignedDuration = jiff::SignedDuration::from_secs(5);

/// `PENDING` (waiting for the customer) and `HOLD` (waiting for a third party): open, but no
/// next-response clock runs (docs/policy.md rule 6).
fn is_waiting(status: &str) -> bool {
    ["pending", "hold"]
        .iter()
        .any(|waiting| waiting.eq_ignore_ascii_case(status.trim()))
}

fn missing(field: &str) -> Rejection {
    Rejection::malformed(PROVIDER, format_args!("missing field `{field}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_and_priority_are_read_case_insensitively() {
        let status = |text| parse_status(text, "status");
        let priority = |text| parse_priority(text, "priority");
        assert_eq!(status(Some("SOLVED")), Ok(Status::Solved));
        assert_eq!(status(Some("closed")), Ok(Status::Solved));
        assert_eq!(status(Some("Pending")), Ok(Status::Open));
        assert_eq!(status(None), Ok(Status::Open));
        assert!(status(Some("EXPLODED")).is_err());
        assert_eq!(priority(Some("URGENT")), Ok(Priority::Urgent));
        assert_eq!(priority(Some("low")), Ok(Priority::Low));
        assert_eq!(priority(None), Ok(Priority::Normal));
        assert!(priority(Some("CRITICAL")).is_err());
    }

    #[test]
    fn subdomains_are_accepted_in_the_usual_spellings() {
        for given in [
            "acme",
            "acme.zendesk.com",
            "https://acme.zendesk.com/",
            " ACME ",
        ] {
            let config = ZendeskConfig::new(Secret::new("s").unwrap()).with_subdomain(given);
            assert_eq!(
                config.map(|c| c.subdomain),
                Ok(Some("acme".to_owned())),
                "{given}"
            );
        }
        assert!(
            ZendeskConfig::new(Secret::new("s").unwrap())
                .with_subdomain("a/b")
                .is_err()
        );
    }

    #[test]
    fn long_provider_text_is_cut_on_a_character_boundary() {
        let text = "ä".repeat(100);
        assert_eq!(excerpt(&text).chars().count(), 80);
    }
}
