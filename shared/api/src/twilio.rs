//! Twilio's voice routes: the incoming call and the `<Record>` action, answered with TwiML.
//!
//! Twilio does not retry a voice webhook: an error answer makes the caller hear Twilio's
//! "application error" and the message is lost. So once the request is authentic, the caller
//! always gets the TwiML, and a call start or end that could not be stored is logged instead
//! of answered 503: the recording status callback (which Twilio does send again when it gets
//! an error) still creates the case, with the caller unknown.

use crate::AppState;
use app::IngestOutcome;
use app::ports::{CaseStore, Timers};
use app::{Deliver, Engine};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use providers::twilio::VoiceAnswer;
use providers::twilio::twiml::TWIML_CONTENT_TYPE;
use providers::{RawRequest, Rejection, TwilioHandler, respond};
use serde_json::json;
use std::sync::Arc;
use tracing::{error, warn};

/// Which voice request a route serves.
#[derive(Debug, Clone, Copy)]
enum Step {
    Call,
    RecordAction,
}

pub(crate) async fn voice<S: CaseStore, T: Timers, D: Deliver>(
    State(state): State<Arc<AppState<S, T, D>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    answer(&state, Step::Call, &method, &uri, &headers, &body).await
}

pub(crate) async fn record_action<S: CaseStore, T: Timers, D: Deliver>(
    State(state): State<Arc<AppState<S, T, D>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    answer(&state, Step::RecordAction, &method, &uri, &headers, &body).await
}

async fn answer<S: CaseStore, T: Timers, D: Deliver>(
    state: &AppState<S, T, D>,
    step: Step,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    let Some(handler) = state.webhooks.twilio.as_ref() else {
        error!(
            provider = "twilio",
            "voice webhook received but Twilio is not configured"
        );
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({ "error": "not_configured", "reason": "the twilio webhook is not configured" })),
        )
            .into_response();
    };
    let path_and_query = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
    let request = RawRequest::new(method, path_and_query, headers, body);
    let engine = &state.engine;
    let outcome = handle(handler, step, &request, engine);
    match outcome {
        Ok(VoiceAnswer { event, twiml }) => {
            if let Some(event) = event {
                match engine.ingest(&event).await {
                    Ok(IngestOutcome::Applied { deliveries, .. }) if deliveries > 0 => {
                        deliver(
                            engine,
                            event.case_id.clone(),
                            deliveries,
                            state.deliver_in_background,
                        )
                        .await;
                    }
                    Ok(_) => {}
                    Err(source) => {
                        // The caller still hears the prompt; the recording callback brings the case.
                        error!(case_id = %event.case_id, event_id = %event.event_id, error = %source, "call event not stored; answering the caller anyway");
                    }
                }
            }
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, TWIML_CONTENT_TYPE)],
                twiml,
            )
                .into_response()
        }
        Err(rejection) => {
            warn!(provider = "twilio", status = rejection.status().as_u16(), reason = %rejection, "voice webhook rejected");
            let (status, body) = respond(&Err(rejection), |_| Ok(()));
            (status, axum::Json(body)).into_response()
        }
    }
}

fn handle<S: CaseStore, T: Timers, D: Deliver>(
    handler: &TwilioHandler,
    step: Step,
    request: &RawRequest<'_>,
    engine: &Engine<S, T, D>,
) -> Result<VoiceAnswer, Rejection> {
    let now = engine.now();
    match step {
        Step::Call => handler.handle_voice(request, now, engine.policy()),
        Step::RecordAction => handler.handle_record_action(request, now, engine.policy()),
    }
}

async fn deliver<S: CaseStore, T: Timers, D: Deliver>(
    engine: &Arc<Engine<S, T, D>>,
    case: domain::case::CaseId,
    count: usize,
    in_background: bool,
) {
    let engine = Arc::clone(engine);
    let work = async move {
        // A failure stays in the outbox; the sweep delivers it later.
        if let Err(error) = engine.deliver_outbox_up_to(Some(&case), count).await {
            warn!(case_id = %case, %error, "delivery deferred to the next sweep");
        }
    };
    if in_background {
        tokio::spawn(work);
    } else {
        work.await;
    }
}
