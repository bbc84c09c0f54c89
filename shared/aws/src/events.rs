//! [`EventBridgePublisher`]: SLA events (docs/events.md) on the stack's event bus with
//! `PutEvents`, one entry per event: source `support-sla`, detail-type the event's type
//! (`SLA Breached`), detail the contract's JSON document, time the event's `at`.
//!
//! `PutEvents` answers 200 even when an entry failed: each entry's `ErrorCode` is read.
//! `ThrottlingException` and `InternalFailure` are worth a retry, like throttling and 5xx of
//! the call itself; anything else will not succeed on repeat. EventBridge assigns its own event
//! id per attempt, so subscribers deduplicate on the document's `id`, which a retry keeps.

use crate::config::{ConfigError, optional};
use crate::error::{Failure, classify, notify_error};
use app::ports::{Delivered, EventPublisher, NotifyError};
use app::sla_event_document::{SLA_EVENT_SOURCE, SlaEventDocumentV1};
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_smithy_types::DateTime;
use tracing::{info, warn};

/// The bus that SLA events go to (the stack's own bus, by name or ARN).
pub const EVENT_BUS_VAR: &str = "EVENT_BUS_NAME";

/// Entry error codes that a later attempt may get past.
const TRANSIENT_ENTRY_CODES: &[&str] = &[
    "ThrottlingException",
    "InternalFailure",
    "InternalException",
];

#[derive(Debug, Clone)]
pub struct EventBridgePublisher {
    client: aws_sdk_eventbridge::Client,
    bus: String,
    public_base_url: Option<String>,
}

impl EventBridgePublisher {
    pub fn new(
        client: aws_sdk_eventbridge::Client,
        bus: impl Into<String>,
        public_base_url: Option<String>,
    ) -> Self {
        Self {
            client,
            bus: bus.into(),
            public_base_url,
        }
    }

    /// `None` when `EVENT_BUS_NAME` is unset: SLA events are then not decided at all.
    /// `PUBLIC_BASE_URL`, when set, gives each event the link to its case page.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        client: aws_sdk_eventbridge::Client,
    ) -> Result<Option<Self>, ConfigError> {
        let Some(bus) = optional(&lookup, EVENT_BUS_VAR) else {
            return Ok(None);
        };
        if bus.len() > 1600 || bus.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ConfigError::Invalid {
                name: EVENT_BUS_VAR,
                reason: "not an event bus name or ARN".into(),
            });
        }
        Ok(Some(Self::new(
            client,
            bus,
            optional(&lookup, "PUBLIC_BASE_URL"),
        )))
    }
}

impl EventPublisher for EventBridgePublisher {
    async fn publish(&self, event: &SlaEventDocumentV1) -> Result<Delivered, NotifyError> {
        let document = event
            .clone()
            .with_case_link(self.public_base_url.as_deref());
        let detail = serde_json::to_string(&document).map_err(|error| NotifyError::Permanent {
            reason: format!("cannot encode the event: {error}"),
        })?;
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(SLA_EVENT_SOURCE)
            .detail_type(&document.kind)
            .detail(detail)
            .time(DateTime::from_secs(document.at.as_second()))
            .build();
        let output = self
            .client
            .put_events()
            .entries(entry)
            .send()
            .await
            .map_err(|error| {
                let Failure {
                    transient,
                    code,
                    message,
                } = classify(&error, &[]);
                let reason = format!(
                    "EventBridge PutEvents ({}): {message}",
                    code.as_deref().unwrap_or("-")
                );
                warn!(case = %document.case_id, event_id = %document.id, %reason, "event not published");
                notify_error(transient, reason)
            })?;
        let Some(result) = output.entries().first() else {
            return Err(NotifyError::Retryable {
                reason: "EventBridge PutEvents answered without an entry result".into(),
                retry_after: None,
            });
        };
        if let Some(code) = result.error_code() {
            let reason = format!(
                "EventBridge refused the event ({code}): {}",
                result.error_message().unwrap_or("-")
            );
            warn!(case = %document.case_id, event_id = %document.id, %reason, "event not published");
            return Err(notify_error(TRANSIENT_ENTRY_CODES.contains(&code), reason));
        }
        let bus_event_id = result.event_id().unwrap_or("-");
        info!(case = %document.case_id, event_id = %document.id, bus_event_id, kind = %document.kind, "event published");
        Ok(Delivered::Sent {
            detail: format!("EventBridge event {bus_event_id}"),
        })
    }
}
