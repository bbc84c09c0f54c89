//! `POST /webhooks/pagerduty`: PagerDuty's incident updates on our pages (acknowledged,
//! resolved), recorded on the alert's case.

use crate::AppState;
use crate::webhooks::{into_response, rejected};
use app::ports::{CaseStore, Timers};
use app::{AlertUpdateOutcome, Deliver};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use bytes::Bytes;
use providers::{PagerDutyIntake, RawRequest, Reply, StoreFailure, stored_reply};
use serde_json::json;
use std::sync::Arc;
use tracing::{error, info, warn};

const PROVIDER: &str = "pagerduty";

pub(crate) async fn webhook<S: CaseStore, T: Timers, D: Deliver>(
    State(state): State<Arc<AppState<S, T, D>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(handler) = &state.webhooks.pagerduty else {
        error!(
            provider = PROVIDER,
            "webhook received but the provider is not configured (no secret)"
        );
        let reply = (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "error": "not_configured", "reason": "the pagerduty webhook is not configured" }),
        );
        return into_response(reply, &method);
    };
    let path_and_query = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
    let request = RawRequest::new(&method, path_and_query, &headers, &body);
    let reply: Reply = match handler.handle(&request, state.engine.now()) {
        Err(rejection) => {
            warn!(provider = PROVIDER, status = rejection.status().as_u16(), reason = %rejection, "webhook rejected");
            return rejected(&rejection, &method);
        }
        Ok(PagerDutyIntake::Ignored { reason }) => (
            StatusCode::OK,
            json!({ "status": "ignored", "reason": reason }),
        ),
        Ok(PagerDutyIntake::Update(update)) => match state.engine.apply_alert_update(&update).await
        {
            Ok(AlertUpdateOutcome::Applied { .. }) => stored_reply(1, Ok(())),
            Ok(AlertUpdateOutcome::Duplicate) => (
                StatusCode::OK,
                json!({ "status": "duplicate", "events": 1 }),
            ),
            Ok(AlertUpdateOutcome::Unchanged) => (
                StatusCode::OK,
                json!({ "status": "ignored", "reason": "nothing new for this alert" }),
            ),
            Ok(AlertUpdateOutcome::UnknownCase) => {
                // Not ours to keep (another installation, a deleted case): a retry cannot help.
                info!(case_id = %update.case_id, event_id = %update.event_id, "incident of an unknown case ignored");
                (
                    StatusCode::OK,
                    json!({ "status": "ignored", "reason": format!("no case {}", update.case_id) }),
                )
            }
            Err(source) => {
                error!(case_id = %update.case_id, event_id = %update.event_id, error = %source, "alert update not stored");
                stored_reply(
                    1,
                    Err(if source.is_retryable() {
                        StoreFailure::Unavailable
                    } else {
                        StoreFailure::Failed
                    }),
                )
            }
        },
    };
    into_response(reply, &method)
}
