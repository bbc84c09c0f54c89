//! The webhook routes: verify and parse with `providers`, then store through the engine.

use crate::AppState;
use app::ports::{CaseStore, Timers};
use app::{Deliver, Engine, EngineError, IngestOutcome};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use domain::case::{CaseEvent, CaseId};
use providers::{
    Intake, IntercomHandler, PagerDutyHandler, RawRequest, Rejection, Reply, StoreFailure,
    TwilioHandler, Webhook, ZendeskHandler, respond, stored_reply,
};
use serde_json::json;
use std::sync::Arc;
use tracing::{error, warn};

/// The configured webhook handlers; a provider without a secret is not configured.
#[derive(Debug, Default)]
pub struct Webhooks {
    pub zendesk: Option<ZendeskHandler>,
    pub intercom: Option<IntercomHandler>,
    pub twilio: Option<TwilioHandler>,
    /// Incident updates on our pages (not a case source, so not a [`Webhook`]).
    pub pagerduty: Option<PagerDutyHandler>,
}

/// Which configured handler a route serves.
pub(crate) trait Provider: Send + Sync + 'static {
    const NAME: &'static str;
    fn handler(webhooks: &Webhooks) -> Option<&(dyn Webhook + Sync)>;
}

pub(crate) struct Zendesk;
pub(crate) struct Intercom;
pub(crate) struct Twilio;

impl Provider for Zendesk {
    const NAME: &'static str = "zendesk";
    fn handler(webhooks: &Webhooks) -> Option<&(dyn Webhook + Sync)> {
        webhooks
            .zendesk
            .as_ref()
            .map(|h| h as &(dyn Webhook + Sync))
    }
}

impl Provider for Intercom {
    const NAME: &'static str = "intercom";
    fn handler(webhooks: &Webhooks) -> Option<&(dyn Webhook + Sync)> {
        webhooks
            .intercom
            .as_ref()
            .map(|h| h as &(dyn Webhook + Sync))
    }
}

impl Provider for Twilio {
    const NAME: &'static str = "twilio";
    fn handler(webhooks: &Webhooks) -> Option<&(dyn Webhook + Sync)> {
        webhooks.twilio.as_ref().map(|h| h as &(dyn Webhook + Sync))
    }
}

/// The route of provider `P`: the raw request goes to its handler, accepted events to the engine.
pub(crate) async fn webhook<P: Provider, S: CaseStore, T: Timers, D: Deliver>(
    State(state): State<Arc<AppState<S, T, D>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let handler = P::handler(&state.webhooks);
    receive(&state, handler, P::NAME, &method, &uri, &headers, &body).await
}

async fn receive<S: CaseStore, T: Timers, D: Deliver>(
    state: &AppState<S, T, D>,
    handler: Option<&(dyn Webhook + Sync)>,
    provider: &'static str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    let Some(handler) = handler else {
        error!(
            provider,
            "webhook received but the provider is not configured (no secret)"
        );
        // 503 makes the provider retry, so nothing is lost while the operator fixes the setup.
        let reply = (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "error": "not_configured", "reason": format!("the {provider} webhook is not configured") }),
        );
        return into_response(reply, method);
    };
    let path_and_query = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
    let request = RawRequest::new(method, path_and_query, headers, body);
    let outcome = handler.handle(&request, state.engine.now());
    let reply = match outcome {
        Ok(Intake::Accepted(events)) => {
            let received = Received { provider, body };
            store(
                &state.engine,
                &events,
                &received,
                state.deliver_in_background,
            )
            .await
        }
        Err(rejection) => {
            warn!(provider, status = rejection.status().as_u16(), reason = %rejection, "webhook rejected");
            return rejected(&rejection, method);
        }
        other => respond(&other, |_| Ok(())),
    };
    into_response(reply, method)
}

/// The reply to a refused request. A 405 names the methods the handler accepts in `Allow`
/// (RFC 9110, section 15.5.6).
pub(crate) fn rejected(rejection: &Rejection, method: &Method) -> Response {
    let mut response = into_response(respond(&Err(rejection.clone()), |_| Ok(())), method);
    if let Some(allow) = rejection.allow() {
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static(allow));
    }
    response
}

/// Where the events of a request came from: kept with an event that can never be decided.
struct Received<'a> {
    provider: &'static str,
    body: &'a [u8],
}

/// Ingest every event of the request; 202 once all are stored, 200 if all were duplicates or
/// deletions of cases never seen, 503/500 when the store failed (the provider retries; dedup
/// makes that harmless), 422 for an event the engine can never decide (kept for an operator:
/// `GET /api/rejected`).
async fn store<S: CaseStore, T: Timers, D: Deliver>(
    engine: &Arc<Engine<S, T, D>>,
    events: &[CaseEvent],
    received: &Received<'_>,
    deliver_in_background: bool,
) -> Reply {
    // Per case, how many effects the events put in the outbox.
    let mut applied: Vec<(CaseId, usize)> = Vec::new();
    let mut failure = None;
    let mut unknown_cases = 0;
    for event in events {
        match engine.ingest(event).await {
            Ok(IngestOutcome::Applied { deliveries, .. }) => {
                match applied.iter_mut().find(|(case, _)| *case == event.case_id) {
                    Some((_, count)) => *count += deliveries,
                    None => applied.push((event.case_id.clone(), deliveries)),
                }
            }
            Ok(IngestOutcome::Duplicate) => {}
            Ok(IngestOutcome::UnknownCase) => unknown_cases += 1,
            Err(source @ EngineError::Decide { .. }) => {
                // Retrying cannot help: answer 4xx so the provider stops, and keep the event
                // where an operator sees it.
                error!(case_id = %event.case_id, event_id = %event.event_id, error = %source, "event cannot be decided; refused");
                let reason = format!("event {} cannot be decided: {source}", event.event_id);
                engine
                    .keep_rejected(received.provider, event, &reason, received.body)
                    .await;
                failure = Some(StoreFailure::Undecidable { reason });
                break;
            }
            Err(source) => {
                error!(case_id = %event.case_id, event_id = %event.event_id, error = %source, "event not stored");
                failure = Some(if source.is_retryable() {
                    StoreFailure::Unavailable
                } else {
                    StoreFailure::Failed
                });
                break;
            }
        }
    }
    let any_applied = !applied.is_empty();
    deliver(engine, applied, deliver_in_background).await;
    match failure {
        Some(failure) => stored_reply(events.len(), Err(failure)),
        None if !any_applied && unknown_cases > 0 => (
            StatusCode::OK,
            json!({ "status": "ignored", "reason": "no case is known for this event" }),
        ),
        None if !any_applied => (
            StatusCode::OK,
            json!({ "status": "duplicate", "events": events.len() }),
        ),
        None => stored_reply(events.len(), Ok(())),
    }
}

async fn deliver<S: CaseStore, T: Timers, D: Deliver>(
    engine: &Arc<Engine<S, T, D>>,
    cases: Vec<(CaseId, usize)>,
    in_background: bool,
) {
    let cases: Vec<_> = cases.into_iter().filter(|(_, count)| *count > 0).collect();
    if cases.is_empty() {
        return;
    }
    if in_background {
        // A long-running server: the engine woke its delivery workers when it stored the
        // decision, and they deliver, per destination, without holding up anything else.
        return;
    }
    for (case, count) in cases {
        // A failure stays in the outbox; the sweep delivers it later.
        if let Err(error) = engine.deliver_outbox_up_to(Some(&case), count).await {
            warn!(case_id = %case, %error, "delivery deferred to the next sweep");
        }
    }
}

pub(crate) fn into_response((status, body): Reply, method: &Method) -> Response {
    let outcome = crate::metrics::reply_outcome(status, &body);
    let mut response = if method == Method::HEAD {
        status.into_response()
    } else {
        let body = serde_json::to_vec(&body).unwrap_or_default();
        (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            Body::from(body),
        )
            .into_response()
    };
    response.extensions_mut().insert(outcome);
    response
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use providers::{Classifier, ZendeskConfig};

    #[test]
    fn a_method_the_handler_refuses_is_answered_405_with_the_allowed_methods() {
        let handler = ZendeskHandler::new(
            ZendeskConfig::new(providers::Secret::new("secret").expect("a secret")),
            Classifier::default(),
        );
        let headers = HeaderMap::new();
        let request = RawRequest::new(&Method::PUT, "/webhooks/zendesk", &headers, b"{}");
        let Err(rejection) = handler.handle(&request, domain::Timestamp::UNIX_EPOCH) else {
            panic!("a PUT was not refused");
        };

        for method in [Method::PUT, Method::HEAD] {
            let response = rejected(&rejection, &method);
            assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
            assert_eq!(response.headers().get(header::ALLOW).unwrap(), "POST");
        }
    }

    #[test]
    fn other_refusals_carry_no_allow_header() {
        let response = rejected(&Rejection::BadSignature, &Method::POST);
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers().get(header::ALLOW), None);
    }
}
