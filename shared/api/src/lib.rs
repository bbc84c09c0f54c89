//! The HTTP surface of support-sla: one axum [`Router`] that serves the provider webhooks and
//! the read API. The local server, the Lambda functions (through `lambda_http`) and the tests
//! (through `tower::ServiceExt::oneshot`) all run this same router.

mod metrics;
mod pagerduty;
mod pages;
mod read_access;
mod recorded;
mod twilio;
mod views;
mod webhooks;

pub use metrics::{OPENMETRICS_CONTENT_TYPE, PrometheusMetrics, metrics_router};
pub use read_access::{READ_TOKEN_VARIABLE, ReadAccess};
pub use recorded::{RecordedCaseDocument, RecordedMonthDocument};

pub use views::{AlertResponseView, CaseDetailView, CaseView, ClockView, OutboxView};
pub use webhooks::Webhooks;
use webhooks::{Intercom, Twilio, Zendesk, webhook};

use app::ports::{CaseCursor, CaseReader, CaseStore, Clock, Timers};
use app::{Deliver, Engine};
use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::case::CaseId;
use domain::policy::Policy;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;
use tracing::{error, info};

/// What the webhook routes share: the engine and the configured webhook handlers.
#[derive(Debug)]
pub struct AppState<S, T, D> {
    pub engine: Arc<Engine<S, T, D>>,
    pub webhooks: Webhooks,
    /// `true`: a long-running server, whose delivery workers the engine wakes when it stores a
    /// decision (`Engine::with_delivery_wake`); the webhook delivers nothing itself. `false`:
    /// deliver before answering (a Lambda function, whose background work freezes after the
    /// response).
    pub deliver_in_background: bool,
}

/// What the read routes share: the store's read side, the policy and the clock the reports are
/// computed with, and who may read. No engine: a read-only function serves them too.
pub struct ReadState<R> {
    pub reader: R,
    pub policy: Arc<Policy>,
    pub clock: Arc<dyn Clock>,
    pub access: ReadAccess,
}

impl<R> std::fmt::Debug for ReadState<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadState")
            .field("access", &self.access)
            .finish_non_exhaustive()
    }
}

/// Every route: the webhooks, `/healthz` and the reads (the local server).
pub fn router<S, T, D, R>(state: Arc<AppState<S, T, D>>, reads: ReadState<R>) -> Router
where
    S: CaseStore,
    T: Timers,
    D: Deliver,
    R: CaseStore + CaseReader,
{
    routes::<S, T, D>()
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            metrics::observe_webhook::<S, T, D>,
        ))
        .with_state(state)
        .merge(read_routes(reads))
        .layer(middleware::from_fn(log_request))
}

/// The reads only (the read API; a read-only function), each behind the [`ReadAccess`] check,
/// plus `/healthz`.
pub fn read_router<R: CaseStore + CaseReader>(reads: ReadState<R>) -> Router {
    read_routes(reads)
        .route("/healthz", get(healthz))
        .layer(middleware::from_fn(log_request))
}

/// The read routes, reading through the store's [`CaseReader`] port.
fn read_routes<R: CaseStore + CaseReader>(reads: ReadState<R>) -> Router {
    let access = reads.access.clone();
    Router::new()
        .route("/api/cases", get(list_cases::<R>))
        .route("/api/cases/{case_id}", get(case_detail::<R>))
        .route("/api/quarantine", get(list_quarantine::<R>))
        .route("/api/rejected", get(list_rejected::<R>))
        .route("/api/reports/compliance", get(compliance_json::<R>))
        .route("/api/reports/compliance.csv", get(compliance_csv::<R>))
        .merge(pages::routes::<R>())
        .route("/api/reports/recorded", get(recorded::recorded_month::<R>))
        .route_layer(middleware::from_fn_with_state(
            access,
            read_access::require_read_access,
        ))
        .with_state(Arc::new(reads))
}

/// The webhook routes and `/healthz` only: a Lambda function behind a public API exposes no
/// read API. A provider whose handler is not configured answers 503.
pub fn webhook_router<S, T, D>(state: Arc<AppState<S, T, D>>) -> Router
where
    S: CaseStore,
    T: Timers,
    D: Deliver,
{
    routes::<S, T, D>()
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            metrics::observe_webhook::<S, T, D>,
        ))
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

fn routes<S, T, D>() -> Router<Arc<AppState<S, T, D>>>
where
    S: CaseStore,
    T: Timers,
    D: Deliver,
{
    Router::new()
        .route("/webhooks/zendesk", post(webhook::<Zendesk, S, T, D>))
        .route("/webhooks/pagerduty", post(pagerduty::webhook::<S, T, D>))
        .route(
            "/webhooks/intercom",
            post(webhook::<Intercom, S, T, D>).head(webhook::<Intercom, S, T, D>),
        )
        .route(
            "/webhooks/twilio/recording",
            post(webhook::<Twilio, S, T, D>),
        )
        .route("/webhooks/twilio/voice", post(twilio::voice::<S, T, D>))
        .route(
            "/webhooks/twilio/voice/goodbye",
            post(twilio::record_action::<S, T, D>),
        )
        .route("/healthz", get(healthz))
}

async fn healthz() -> impl IntoResponse {
    axum::Json(json!({ "status": "ok" }))
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    limit: Option<usize>,
    cursor: Option<String>,
}

/// Cases per page unless `limit` says otherwise, and the most a page holds: a listing costs
/// the store a bounded read, so reads cannot starve the webhooks.
const DEFAULT_LIST_LIMIT: usize = 100;
const MAX_LIST_LIMIT: usize = 1000;

/// `GET /api/cases?limit=&cursor=`: the most recently received cases first, `limit` of them
/// (default 100, at most 1,000), and `next_cursor` for the next page (`null` on the last).
async fn list_cases<R: CaseStore + CaseReader>(
    State(state): State<Arc<ReadState<R>>>,
    Query(query): Query<ListQuery>,
) -> Response {
    let limit = query
        .limit
        .unwrap_or(DEFAULT_LIST_LIMIT)
        .min(MAX_LIST_LIMIT);
    let cursor = match query.cursor.as_deref().filter(|text| !text.is_empty()) {
        None => None,
        Some(text) => match CaseCursor::parse(text) {
            Some(cursor) => Some(cursor),
            None => {
                return (
                    StatusCode::BAD_REQUEST,
                    axum::Json(json!({
                        "error": "bad_request",
                        "reason": "cursor is not a cursor this API returned",
                    })),
                )
                    .into_response();
            }
        },
    };
    match state.reader.list_cases_page(cursor.as_ref(), limit).await {
        Ok(page) => {
            let views: Vec<CaseView> = page.cases.iter().map(CaseView::of).collect();
            let next = page.next.as_ref().map(CaseCursor::encode);
            axum::Json(json!({ "cases": views, "next_cursor": next })).into_response()
        }
        Err(source) => store_error(&source),
    }
}

/// `GET /api/quarantine?limit=`: the cases the sweep set aside because it could not load or
/// decide them, the soonest to be tried again first (default 100, at most 1,000).
async fn list_quarantine<R: CaseStore + CaseReader>(
    State(state): State<Arc<ReadState<R>>>,
    Query(query): Query<ListQuery>,
) -> Response {
    let limit = query
        .limit
        .unwrap_or(DEFAULT_LIST_LIMIT)
        .min(MAX_LIST_LIMIT);
    match state.reader.quarantined_cases(limit).await {
        Ok(entries) => {
            let views: Vec<_> = entries
                .iter()
                .map(|entry| {
                    json!({
                        "case_id": entry.case_id.as_str(),
                        "failures": entry.failures,
                        "retry_at": entry.until,
                        "since": entry.since,
                        "reason": entry.reason,
                    })
                })
                .collect();
            axum::Json(json!({ "quarantined": views })).into_response()
        }
        Err(source) => store_error(&source),
    }
}

/// Events refused because they can never be decided, the most recent first (`limit`: default
/// 100, at most 1,000). They are kept for an operator, never retried.
async fn list_rejected<R: CaseStore + CaseReader>(
    State(state): State<Arc<ReadState<R>>>,
    Query(query): Query<ListQuery>,
) -> Response {
    let limit = query
        .limit
        .unwrap_or(DEFAULT_LIST_LIMIT)
        .min(MAX_LIST_LIMIT);
    match state.reader.rejected_events(limit).await {
        Ok(events) => {
            let views: Vec<_> = events
                .iter()
                .map(|event| {
                    json!({
                        "provider": event.provider,
                        "event_id": event.event_id,
                        "case_id": event.case_id,
                        "reason": event.reason,
                        "received_at": event.received_at,
                        "body": event.body,
                    })
                })
                .collect();
            axum::Json(json!({ "rejected": views })).into_response()
        }
        Err(source) => store_error(&source),
    }
}

#[derive(Debug, Deserialize)]
struct ReportQuery {
    month: Option<String>,
}

/// The month's compliance report (docs/reports.md), over the cases received in the month.
async fn compliance_report<R: CaseStore + CaseReader>(
    state: &ReadState<R>,
    query: ReportQuery,
) -> Result<report::ComplianceReport, Response> {
    let bad_request = |reason: String| {
        (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "error": "bad_request", "reason": reason })),
        )
            .into_response()
    };
    let month: report::Month = query
        .month
        .as_deref()
        .ok_or_else(|| bad_request("the query parameter month=YYYY-MM is required".into()))?
        .parse()
        .map_err(|error: report::MonthError| bad_request(error.to_string()))?;
    let cases = month_cases(state, month).await?;
    Ok(report::compliance(
        &state.policy,
        cases.iter().map(|stored| &stored.case),
        month,
        state.clock.now(),
    ))
}

/// The cases received in `month` (on the report's wall clock), read by receipt range.
async fn month_cases<R: CaseStore + CaseReader>(
    state: &ReadState<R>,
    month: report::Month,
) -> Result<Vec<app::ports::StoredCase>, Response> {
    let (from, to) = month
        .bounds(&report::month_time_zone(&state.policy))
        .map_err(|error| {
            (
                StatusCode::BAD_REQUEST,
                axum::Json(
                    json!({ "error": "bad_request", "reason": format!("month {month}: {error}") }),
                ),
            )
                .into_response()
        })?;
    state
        .reader
        .cases_received_between(from, to)
        .await
        .map_err(|source| store_error(&source))
}

async fn compliance_json<R: CaseStore + CaseReader>(
    State(state): State<Arc<ReadState<R>>>,
    Query(query): Query<ReportQuery>,
) -> Response {
    match compliance_report(&state, query).await {
        Ok(report) => axum::Json(report).into_response(),
        Err(response) => response,
    }
}

async fn compliance_csv<R: CaseStore + CaseReader>(
    State(state): State<Arc<ReadState<R>>>,
    Query(query): Query<ReportQuery>,
) -> Response {
    match compliance_report(&state, query).await {
        Ok(report) => (
            [(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            report::to_csv(&report),
        )
            .into_response(),
        Err(response) => response,
    }
}

async fn case_detail<R: CaseStore + CaseReader>(
    State(state): State<Arc<ReadState<R>>>,
    Path(case_id): Path<String>,
) -> Response {
    let Ok(case_id) = CaseId::parse(&case_id) else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({ "error": "not_found", "reason": "no such case" })),
        )
            .into_response();
    };
    let store = &state.reader;
    let loaded = async {
        let Some(stored) = store.load(&case_id).await? else {
            return Ok(None);
        };
        let timeline = store.timeline(&case_id).await?;
        let outbox = store.outbox_of(&case_id).await?;
        Ok(Some(CaseDetailView::of(&stored, timeline, &outbox)))
    };
    match loaded.await {
        Ok(Some(detail)) => axum::Json(detail).into_response(),
        Ok(None) => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({ "error": "not_found", "reason": format!("no case {case_id}") })),
        )
            .into_response(),
        Err(source) => store_error(&source),
    }
}

fn store_error(source: &app::ports::StoreError) -> Response {
    error!(error = %source, "store read failed");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(json!({ "error": "store_unavailable", "reason": source.to_string() })),
    )
        .into_response()
}

/// The longest request path logged: paths come from anyone, before any authentication.
const MAX_LOGGED_PATH_CHARS: usize = 200;

/// The path as logged: at most [`MAX_LOGGED_PATH_CHARS`] characters (then `…`), control
/// characters escaped so that one request stays one log line.
fn logged_path(path: &str) -> String {
    let mut logged = String::with_capacity(path.len().min(MAX_LOGGED_PATH_CHARS + 3));
    for (index, c) in path.chars().enumerate() {
        if index == MAX_LOGGED_PATH_CHARS {
            logged.push('…');
            break;
        }
        if c.is_control() {
            logged.extend(c.escape_default());
        } else {
            logged.push(c);
        }
    }
    logged
}

/// One log line per request: method, path (no query: it may carry tokens), status, latency.
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = logged_path(request.uri().path());
    let started = Instant::now();
    let response = next.run(request).await;
    info!(
        %method,
        %path,
        status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_logged_path_is_cut_and_stays_on_one_line() {
        assert_eq!(logged_path("/api/cases"), "/api/cases");
        let long = format!("/{}", "a".repeat(60_000));
        let logged = logged_path(&long);
        assert_eq!(logged.chars().count(), MAX_LOGGED_PATH_CHARS + 1);
        assert!(logged.ends_with('…'));
        assert_eq!(logged_path("/x\nINFO forged"), "/x\\nINFO forged");
        assert_eq!(logged_path("/x\nINFO forged").lines().count(), 1);
    }
}
