//! `GET /api/reports/recorded?month=YYYY-MM`: the cases received in a month with their
//! recorded provider events, for `supportctl whatif --url` to decide them again.
//!
//! The documents are the stored format (`app::stored`, `"schema": 1`), not the views: a replay
//! needs every request field (a voicemail's recording decides whether a call is missed) and
//! when each field last changed (whether the stored priority is the opening one).

use crate::{ReadState, store_error};
use app::ports::{CaseReader, CaseStore, TimelineKind};
use app::stored::{StoredCaseV1, StoredTimelineEntryV1};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
pub(crate) struct MonthQuery {
    month: Option<String>,
}

/// One case as recorded: the stored case and the `event` entries of its timeline, in write
/// order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordedCaseDocument {
    pub case: StoredCaseV1,
    pub events: Vec<StoredTimelineEntryV1>,
}

/// The route's JSON document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordedMonthDocument {
    pub month: report::Month,
    pub cases: Vec<RecordedCaseDocument>,
}

pub(crate) async fn recorded_month<R: CaseStore + CaseReader>(
    State(state): State<Arc<ReadState<R>>>,
    Query(query): Query<MonthQuery>,
) -> Response {
    let bad_request = |reason: String| {
        (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "error": "bad_request", "reason": reason })),
        )
            .into_response()
    };
    let month: report::Month = match query.month.as_deref().map(str::parse) {
        Some(Ok(month)) => month,
        Some(Err(error)) => return bad_request(error.to_string()),
        None => return bad_request("the query parameter month=YYYY-MM is required".into()),
    };
    let Ok((from, to)) = report::whatif::month_bounds(&state.policy, month) else {
        return bad_request(format!("month {month} is out of range"));
    };
    let cases = match state.reader.cases_received_between(from, to).await {
        Ok(cases) => cases,
        Err(source) => return store_error(&source),
    };
    let mut documents = Vec::with_capacity(cases.len());
    for stored in &cases {
        let timeline = match state.reader.timeline(&stored.case.id).await {
            Ok(timeline) => timeline,
            Err(source) => return store_error(&source),
        };
        documents.push(RecordedCaseDocument {
            case: StoredCaseV1::from(&stored.case),
            events: timeline
                .iter()
                .filter(|entry| matches!(entry.kind, TimelineKind::Event { .. }))
                .map(StoredTimelineEntryV1::from)
                .collect(),
        });
    }
    axum::Json(RecordedMonthDocument {
        month,
        cases: documents,
    })
    .into_response()
}
