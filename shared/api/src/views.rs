//! The read API's JSON: wire types of their own, built from domain values.

use app::deliver::describe;
use app::ports::{DeliveryState, OutboxItem, StoredCase, TimelineEntry};
use domain::Timestamp;
use domain::case::{AlertKey, AlertResponse, Case, ClockState, ClockStatus, Status};
use domain::policy::{Channel, Labels, Plan, Priority};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
pub struct ClockView {
    pub due: Timestamp,
    /// `pending`, `met`, `met_late`, `breached` or `cancelled`.
    pub state: ClockStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub met_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breached_at: Option<Timestamp>,
    /// A ticket first seen late: "adopted, outcome unknown" or "adopted, met before first seen".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adopted: Option<&'static str>,
}

impl From<&ClockState> for ClockView {
    fn from(clock: &ClockState) -> Self {
        Self {
            due: clock.due,
            state: clock.status(),
            met_at: clock.met_at,
            breached_at: clock.breached_at,
            adopted: clock.adopted.map(|outcome| outcome.describe()),
        }
    }
}

/// The latest follow-up's clock beyond its state in `clocks.next_response`: which follow-up it
/// is and when it started.
#[derive(Debug, Clone, Serialize)]
pub struct NextResponseView {
    /// 1 for the case's first follow-up, then counting up.
    pub round: u32,
    pub started_at: Timestamp,
    pub warning_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warned_at: Option<Timestamp>,
}

/// How the on-call engineer answered one page (PagerDuty incident updates).
#[derive(Debug, Clone, Serialize)]
pub struct AlertResponseView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub triggered_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acknowledged_by: Option<String>,
    /// From the incident's creation to its first acknowledgement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_to_acknowledge_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_by: Option<String>,
}

impl From<&AlertResponse> for AlertResponseView {
    fn from(response: &AlertResponse) -> Self {
        Self {
            triggered_at: response.triggered_at,
            acknowledged_at: response.acknowledged_at,
            acknowledged_by: response.acknowledged_by.clone(),
            time_to_acknowledge_seconds: response
                .time_to_acknowledge()
                .map(|duration| duration.as_secs()),
            resolved_at: response.resolved_at,
            resolved_by: response.resolved_by.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseView {
    pub case_id: String,
    pub channel: Channel,
    pub plan: Plan,
    pub priority: Priority,
    pub state: Status,
    pub received: Timestamp,
    pub out_of_hours: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    pub labels: Labels,
    /// `dispatch` (tickets), `first_response`, `chat_fallback` (chats), `next_response` (once
    /// the customer followed up or the case was reopened: the latest follow-up's clock).
    pub clocks: BTreeMap<&'static str, ClockView>,
    pub first_response_warning_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_response: Option<NextResponseView>,
    pub open_alerts: Vec<AlertKey>,
    /// Acknowledgements and resolves of this case's pages, by alert.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub alert_responses: BTreeMap<AlertKey, AlertResponseView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_due: Option<Timestamp>,
    pub version: u64,
}

impl CaseView {
    pub fn of(stored: &StoredCase) -> Self {
        let case: &Case = &stored.case;
        let mut clocks = BTreeMap::new();
        if let Some(dispatch) = &case.dispatch {
            clocks.insert("dispatch", ClockView::from(dispatch));
        }
        clocks.insert("first_response", ClockView::from(&case.first_response));
        if let Some(fallback) = &case.chat_fallback {
            clocks.insert("chat_fallback", ClockView::from(fallback));
        }
        if let Some(next) = &case.next_response {
            clocks.insert("next_response", ClockView::from(&next.clock));
        }
        Self {
            case_id: case.id.to_string(),
            channel: case.request.channel,
            plan: case.request.plan,
            priority: case.request.priority,
            state: case.status,
            received: case.request.received,
            out_of_hours: case.out_of_hours,
            subject: case.request.subject.clone(),
            assignee: case.assignee.clone(),
            labels: case.request.labels.clone(),
            clocks,
            first_response_warning_at: case.first_response_warning_at,
            next_response: case.next_response.map(|next| NextResponseView {
                round: next.round,
                started_at: next.started_at,
                warning_at: next.warning_at,
                warned_at: next.warned_at,
            }),
            open_alerts: case.open_alerts.iter().copied().collect(),
            alert_responses: case
                .alert_responses
                .iter()
                .map(|(&alert, response)| (alert, AlertResponseView::from(response)))
                .collect(),
            next_due: case.next_due(),
            version: stored.version,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct OutboxView {
    pub key: String,
    pub effect: String,
    pub state: DeliveryState,
    pub attempts: u32,
    pub created_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl From<&OutboxItem> for OutboxView {
    fn from(item: &OutboxItem) -> Self {
        Self {
            key: item.key.clone(),
            effect: describe(&item.effect),
            state: item.state,
            attempts: item.attempts,
            created_at: item.created_at,
            next_attempt_at: (item.state == DeliveryState::Pending).then_some(item.next_attempt_at),
            last_error: item.last_error.clone(),
            detail: item.detail.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseDetailView {
    #[serde(flatten)]
    pub case: CaseView,
    pub timeline: Vec<TimelineEntry>,
    pub effects: Vec<OutboxView>,
}

impl CaseDetailView {
    pub fn of(stored: &StoredCase, timeline: Vec<TimelineEntry>, outbox: &[OutboxItem]) -> Self {
        Self {
            case: CaseView::of(stored),
            timeline,
            effects: outbox.iter().map(OutboxView::from).collect(),
        }
    }
}
