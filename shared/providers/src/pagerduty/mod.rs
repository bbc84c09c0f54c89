//! PagerDuty v3 webhooks (`incident.*`), described in docs/providers/pagerduty.md.
//!
//! Signature: `X-PagerDuty-Signature: v1=<hex HMAC-SHA256(key = the secret, msg = raw body)>`,
//! possibly several comma-separated values while a secret is rotated; any one match passes
//! (vectors PD-1 and PD-2, docs/test-vectors.md). The update names our alert through
//! `event.data.incident_key`, which is the `dedup_key` we triggered it with.

mod wire;

use crate::config::{self, ConfigError};
use crate::request::{DEFAULT_BODY_LIMIT, RawRequest, Rejection, excerpt};
use crate::{MAX_EVENT_ID_BYTES, json, signature, truncate};
use domain::case::{AlertAction, AlertKey, AlertUpdate};
use env_config::Secret;
use http::Method;
use jiff::Timestamp;
use wire::{Envelope, Incident};

pub const SIGNATURE_HEADER: &str = "x-pagerduty-signature";
/// The id of one delivery; a retry of the same delivery carries the same id.
pub const WEBHOOK_ID_HEADER: &str = "x-webhook-id";

const PROVIDER: &str = "pagerduty";

/// How to verify PagerDuty webhooks.
#[derive(Debug, Clone)]
pub struct PagerDutyConfig {
    pub secret: Secret,
    pub body_limit: usize,
}

impl PagerDutyConfig {
    pub fn new(secret: Secret) -> Self {
        Self {
            secret,
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }

    /// From `PAGERDUTY_WEBHOOK_SECRET` (required).
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self::new(config::required_secret(
            &lookup,
            "PAGERDUTY_WEBHOOK_SECRET",
        )?))
    }

    /// `None` when `PAGERDUTY_WEBHOOK_SECRET` is not set: the acknowledgements are optional.
    pub fn from_env_if_set(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, ConfigError> {
        match config::optional(&lookup, "PAGERDUTY_WEBHOOK_SECRET") {
            Some(_) => Self::from_env(lookup).map(Some),
            None => Ok(None),
        }
    }
}

/// What a verified PagerDuty webhook means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PagerDutyIntake {
    /// An acknowledgement or resolve of one of our alerts.
    Update(AlertUpdate),
    /// A genuine event that names no alert of ours, or one we do not track: answered 200, so
    /// PagerDuty does not retry it.
    Ignored { reason: String },
}

/// The PagerDuty webhook endpoint.
#[derive(Debug, Clone)]
pub struct PagerDutyHandler {
    config: PagerDutyConfig,
}

impl PagerDutyHandler {
    pub fn new(config: PagerDutyConfig) -> Self {
        Self { config }
    }

    /// Verify and parse one request. POST only. `now` bounds `occurred_at` like every intake.
    pub fn handle(
        &self,
        request: &RawRequest<'_>,
        now: Timestamp,
    ) -> Result<PagerDutyIntake, Rejection> {
        request.require_method(&[Method::POST], "POST")?;
        request.require_size(self.config.body_limit)?;
        self.verify(request)?;
        let intake = self.parse(request)?;
        if let PagerDutyIntake::Update(update) = &intake {
            let plausible = update.occurred_at >= crate::plausible::EARLIEST
                && update.occurred_at.duration_since(now) <= crate::plausible::MAX_AHEAD;
            if !plausible {
                return Err(Rejection::malformed(
                    PROVIDER,
                    format!("event.occurred_at {} is not plausible", update.occurred_at),
                ));
            }
        }
        Ok(intake)
    }

    fn verify(&self, request: &RawRequest<'_>) -> Result<(), Rejection> {
        let header = request
            .header(SIGNATURE_HEADER)
            .ok_or(Rejection::MissingSignature {
                header: "X-PagerDuty-Signature",
            })?;
        let key = self.config.secret.expose().as_bytes();
        // Every value is checked (no early exit), so the time taken says nothing about which
        // one matched; each comparison is constant-time.
        let mut matched = false;
        for value in header.split(|&b| b == b',') {
            let Some(hex_tag) = value.trim_ascii().strip_prefix(b"v1=") else {
                continue;
            };
            let Ok(tag) = hex::decode(hex_tag) else {
                continue;
            };
            matched |= signature::sha256_verifies(key, &[request.body], &tag);
        }
        if matched {
            Ok(())
        } else {
            Err(Rejection::BadSignature)
        }
    }

    fn parse(&self, request: &RawRequest<'_>) -> Result<PagerDutyIntake, Rejection> {
        let envelope: Envelope = json::parse(PROVIDER, "", request.body)?;
        let event = envelope.event;
        let action = match event.event_type.as_str() {
            "incident.acknowledged" => AlertAction::Acknowledged,
            "incident.resolved" => AlertAction::Resolved,
            other => {
                return Ok(ignored(format!(
                    "event type {} is not tracked",
                    excerpt(other)
                )));
            }
        };
        if event
            .resource_type
            .as_deref()
            .is_some_and(|kind| kind != "incident")
        {
            return Ok(ignored(String::from("the resource is not an incident")));
        }
        let incident: Incident = serde_json::from_value(event.data)
            .map_err(|error| Rejection::malformed(PROVIDER, format!("event.data: {error}")))?;
        let Some(key) = incident.incident_key else {
            return Ok(ignored(String::from("the incident has no incident_key")));
        };
        let Some((case_id, alert)) = AlertKey::parse_dedup_key(&key) else {
            return Ok(ignored(format!(
                "incident_key {} names no alert of ours",
                excerpt(&key)
            )));
        };
        // A retry of a delivery repeats X-Webhook-Id; without it, the event's own id.
        let event_id = request
            .header(WEBHOOK_ID_HEADER)
            .and_then(|id| std::str::from_utf8(id).ok())
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .unwrap_or(&event.id);
        if event_id.len() > MAX_EVENT_ID_BYTES {
            return Err(Rejection::malformed(PROVIDER, "the webhook id is too long"));
        }
        // Only a person counts as "who": a service or integration (our own resolve) does not.
        let by = event
            .agent
            .filter(|agent| agent.kind == "user_reference")
            .map(|agent| truncate(agent.summary.or(agent.id).unwrap_or_default()));
        Ok(PagerDutyIntake::Update(AlertUpdate {
            case_id,
            alert,
            event_id: format!("pagerduty-{event_id}"),
            occurred_at: event.occurred_at,
            action,
            by,
            incident_created_at: incident.created_at,
        }))
    }
}

/// One `v1=<hex>` value of `X-PagerDuty-Signature` for a body, for simulators and tests that
/// play PagerDuty.
pub fn sign(secret: &Secret, body: &[u8]) -> String {
    format!(
        "v1={}",
        signature::sha256_hex(secret.expose().as_bytes(), &[body])
    )
}

fn ignored(reason: String) -> PagerDutyIntake {
    tracing::info!(provider = PROVIDER, %reason, "webhook ignored");
    PagerDutyIntake::Ignored { reason }
}
