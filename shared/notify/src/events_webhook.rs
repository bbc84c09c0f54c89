//! SLA events for subscribers of the local runtime: each event `POST`ed as its JSON document
//! (docs/events.md) to `EVENTS_WEBHOOK_URL`, signed so the receiver can tell it came from us.
//!
//! `X-Support-SLA-Signature: sha256=<hex HMAC-SHA256 of the raw body>` with
//! `EVENTS_WEBHOOK_SECRET`; `X-Support-SLA-Event-Id` and `X-Support-SLA-Event-Type` repeat the
//! document's `id` and `type`. Any 2xx is accepted; 408, 429 (`Retry-After`) and 5xx are
//! retried, other answers are permanent. A redelivery carries the same body, id and signature.

use crate::http::{self, Answer};
use crate::retry::RetryPolicy;
use app::ports::{Delivered, EventPublisher, NotifyError};
use app::sla_event_document::SlaEventDocumentV1;
use env_config::{ConfigError, Secret};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;
use tracing::Instrument;

pub const EVENTS_WEBHOOK_URL_VAR: &str = "EVENTS_WEBHOOK_URL";
pub const EVENTS_WEBHOOK_SECRET_VAR: &str = "EVENTS_WEBHOOK_SECRET";
pub const SIGNATURE_HEADER: &str = "X-Support-SLA-Signature";
pub const EVENT_ID_HEADER: &str = "X-Support-SLA-Event-Id";
pub const EVENT_TYPE_HEADER: &str = "X-Support-SLA-Event-Type";

/// Where events go and how they are signed.
#[derive(Debug, Clone)]
pub struct EventsWebhookConfig {
    pub url: reqwest::Url,
    pub secret: Secret,
    /// `PUBLIC_BASE_URL`: each event links to its case page there.
    pub public_base_url: Option<String>,
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

impl EventsWebhookConfig {
    /// `None` when `EVENTS_WEBHOOK_URL` is unset; a URL without its secret is an error, since
    /// unsigned events could be forged by anyone who can reach the receiver.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        public_base_url: Option<String>,
    ) -> Result<Option<Self>, ConfigError> {
        let Some(url) = env_config::optional(&lookup, EVENTS_WEBHOOK_URL_VAR) else {
            return Ok(None);
        };
        let url = http::parse_url(EVENTS_WEBHOOK_URL_VAR, &url)?;
        let secret = env_config::required_secret(&lookup, EVENTS_WEBHOOK_SECRET_VAR)?;
        Ok(Some(Self {
            url,
            secret,
            public_base_url,
            timeout: http::DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
        }))
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }
}

/// The signature header's value for `body` (`None` only if HMAC refused the key, which it
/// does for no length).
pub fn events_signature(secret: &Secret, body: &[u8]) -> Option<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()).ok()?;
    mac.update(body);
    Some(format!(
        "sha256={}",
        hex::encode(mac.finalize().into_bytes())
    ))
}

#[derive(Debug, Clone)]
pub struct EventsWebhook {
    http: reqwest::Client,
    config: EventsWebhookConfig,
}

impl EventsWebhook {
    pub fn new(config: EventsWebhookConfig, http: reqwest::Client) -> Self {
        Self { http, config }
    }

    async fn post_once(
        &self,
        event: &SlaEventDocumentV1,
        body: &[u8],
        signature: &str,
    ) -> Result<Delivered, NotifyError> {
        let secrets = [&self.config.secret];
        let response = self
            .http
            .post(self.config.url.clone())
            .timeout(self.config.timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .header(EVENT_ID_HEADER, &event.id)
            .header(EVENT_TYPE_HEADER, &event.kind)
            .body(body.to_vec())
            .send()
            .await
            .map_err(|error| {
                http::transport_error("events webhook", error, self.config.timeout, &secrets)
            })?;
        let answer = Answer::read(response).await;
        let status = answer.status;
        if status.is_success() {
            return Ok(Delivered::Sent {
                detail: format!("events webhook answered {status}"),
            });
        }
        let reason = Answer::excerpt(answer.body.trim(), &secrets);
        if answer.is_temporary() {
            return Err(NotifyError::Retryable {
                reason: format!("events webhook answered {status}: {reason}"),
                retry_after: answer.retry_after,
            });
        }
        Err(NotifyError::Permanent {
            reason: format!("events webhook rejected the event ({status}): {reason}"),
        })
    }
}

impl EventPublisher for EventsWebhook {
    async fn publish(&self, event: &SlaEventDocumentV1) -> Result<Delivered, NotifyError> {
        let document = event
            .clone()
            .with_case_link(self.config.public_base_url.as_deref());
        let body = serde_json::to_vec(&document).map_err(|error| NotifyError::Permanent {
            reason: format!("cannot encode the event: {error}"),
        })?;
        let signature =
            events_signature(&self.config.secret, &body).ok_or_else(|| NotifyError::Permanent {
                reason: format!("cannot sign with {EVENTS_WEBHOOK_SECRET_VAR}"),
            })?;
        let span = tracing::info_span!(
            "events_webhook",
            case = %document.case_id,
            event_id = %document.id,
            kind = %document.kind
        );
        async {
            let outcome = self
                .config
                .retry
                .run(|_| self.post_once(&document, &body, &signature))
                .await;
            match &outcome {
                Ok(_) => tracing::info!("events webhook accepted the event"),
                Err(error) => tracing::warn!(%error, "event not delivered"),
            }
            outcome
        }
        .instrument(span)
        .await
    }
}
