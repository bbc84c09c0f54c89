//! The web pages: the board (`/`), the report page (`/reports`) and a case's page
//! (`/cases/{case_id}`), with their script and style compiled into the binary (no CDN, no
//! build step). Served in the read routes, behind the same read access as `/api/*`.
//!
//! Rendering is plain server-side HTML; every text from a provider is escaped
//! ([`html::escape`]). The script only counts down, refreshes the board and submits filters.

mod board;
mod case_page;
mod html;
mod reports;

use crate::views::CaseDetailView;
use crate::{ReadState, month_cases};
use app::ports::{CaseReader, CaseStore};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use domain::Timestamp;
use domain::case::CaseId;
use domain::jiff::SignedDuration;
use serde::Deserialize;
use std::str::FromStr;
use std::sync::Arc;
use tracing::error;

const BOARD_JS: &str = include_str!("assets/board.js");
const STYLE_CSS: &str = include_str!("assets/style.css");

/// How far back the board looks for open cases, by receipt: older open cases have long
/// finished every clock, and the board must not read every case ever stored on each refresh.
const BOARD_LOOKBACK: SignedDuration = SignedDuration::from_hours(90 * 24);
/// Receipts are accepted up to 24 h ahead (clock skew at the provider); the board shows them.
const BOARD_LOOKAHEAD: SignedDuration = SignedDuration::from_hours(48);

/// The page routes, for [`crate::read_routes`] to guard with the read access.
pub(crate) fn routes<R: CaseStore + CaseReader>() -> Router<Arc<ReadState<R>>> {
    Router::new()
        .route("/", get(board_page::<R>))
        .route("/reports", get(reports_page::<R>))
        .route("/cases/{case_id}", get(case_page::<R>))
        .route("/assets/board.js", get(board_js))
        .route("/assets/style.css", get(style_css))
}

async fn board_js() -> Response {
    asset("text/javascript; charset=utf-8", BOARD_JS)
}

async fn style_css() -> Response {
    asset("text/css; charset=utf-8", STYLE_CSS)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
struct BoardQuery {
    channel: Option<String>,
    plan: Option<String>,
    priority: Option<String>,
    cluster: Option<String>,
}

/// A filter from the query: absent or empty is "all"; anything else must be a valid name.
fn filter<T: FromStr>(value: Option<&str>) -> Result<Option<T>, String>
where
    T::Err: std::fmt::Display,
{
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|e: T::Err| e.to_string()),
    }
}

impl BoardQuery {
    fn filters(&self) -> Result<board::Filters, String> {
        Ok(board::Filters {
            channel: filter(self.channel.as_deref())?,
            plan: filter(self.plan.as_deref())?,
            priority: filter(self.priority.as_deref())?,
            cluster: self
                .cluster
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned),
        })
    }
}

async fn board_page<R: CaseStore + CaseReader>(
    State(state): State<Arc<ReadState<R>>>,
    Query(query): Query<BoardQuery>,
) -> Response {
    let now = state.clock.now();
    let filters = match query.filters() {
        Ok(filters) => filters,
        Err(reason) => return html::error_page(StatusCode::BAD_REQUEST, now, &reason),
    };
    let from = now.checked_sub(BOARD_LOOKBACK).unwrap_or(Timestamp::MIN);
    let to = now.checked_add(BOARD_LOOKAHEAD).unwrap_or(Timestamp::MAX);
    let cases = match state.reader.cases_received_between(from, to).await {
        Ok(cases) => cases,
        Err(source) => return unavailable(now, &source),
    };
    let cases: Vec<_> = cases.into_iter().map(|stored| stored.case).collect();
    let rows = board::board_rows(&cases, &filters, now);
    let clusters = board::clusters(&cases);
    let time_zone = report::month_time_zone(&state.policy);
    html::respond(
        StatusCode::OK,
        board::render(&rows, &clusters, &filters, now, &time_zone),
    )
}

#[derive(Debug, Deserialize)]
struct ReportPageQuery {
    month: Option<String>,
}

async fn reports_page<R: CaseStore + CaseReader>(
    State(state): State<Arc<ReadState<R>>>,
    Query(query): Query<ReportPageQuery>,
) -> Response {
    let now = state.clock.now();
    let time_zone = report::month_time_zone(&state.policy);
    let month = match query
        .month
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
    {
        Some(text) => match text.parse::<report::Month>() {
            Ok(month) => month,
            Err(error) => {
                return html::error_page(StatusCode::BAD_REQUEST, now, &error.to_string());
            }
        },
        // This month on the report's wall clock.
        None => {
            let local = time_zone.to_datetime(now);
            match report::Month::new(local.year(), local.month()) {
                Some(month) => month,
                None => {
                    return html::error_page(
                        StatusCode::BAD_REQUEST,
                        now,
                        "no month given and the current one is out of range",
                    );
                }
            }
        }
    };
    let cases = match month_cases(&state, month).await {
        Ok(cases) => cases,
        Err(response) => return response,
    };
    let cases = cases.iter().map(|stored| &stored.case);
    let compliance = report::compliance(&state.policy, cases.clone(), month, now);
    let weekly = report::weekly_compliance(&state.policy, cases, month, now);
    html::respond(StatusCode::OK, reports::render(&compliance, &weekly, now))
}

async fn case_page<R: CaseStore + CaseReader>(
    State(state): State<Arc<ReadState<R>>>,
    Path(case_id): Path<String>,
) -> Response {
    let now = state.clock.now();
    let not_found = || html::error_page(StatusCode::NOT_FOUND, now, "no such case");
    let Ok(case_id) = CaseId::parse(&case_id) else {
        return not_found();
    };
    let store = &state.reader;
    let loaded = async {
        let Some(stored) = store.load(&case_id).await? else {
            return Ok(None);
        };
        let timeline = store.timeline(&case_id).await?;
        let outbox = store.outbox_of(&case_id).await?;
        Ok(Some((stored, timeline, outbox)))
    };
    match loaded.await {
        Ok(Some((stored, timeline, outbox))) => {
            let request = &stored.case.request;
            let link = request.link.clone().or_else(|| {
                request
                    .voicemail
                    .as_ref()
                    .and_then(|voicemail| voicemail.recording_url.clone())
            });
            let detail = CaseDetailView::of(&stored, timeline, &outbox);
            let time_zone = report::month_time_zone(&state.policy);
            html::respond(
                StatusCode::OK,
                case_page::render(&detail, link.as_deref(), now, &time_zone),
            )
        }
        Ok(None) => not_found(),
        Err(source) => unavailable(now, &source),
    }
}

fn unavailable(now: Timestamp, source: &app::ports::StoreError) -> Response {
    error!(error = %source, "store read failed");
    html::error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        now,
        "the case store is unavailable; the page retries on its next refresh",
    )
}
