//! How the on-call engineer answered a page: PagerDuty tells us when an incident we triggered
//! was acknowledged or resolved (docs/providers/pagerduty.md). Pure: the caller passes the
//! update, nothing here reads a clock.

use super::{AlertKey, Case, CaseId};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// What happened to the incident of one of our alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertAction {
    Acknowledged,
    Resolved,
}

impl AlertAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertAction::Acknowledged => "acknowledged",
            AlertAction::Resolved => "resolved",
        }
    }
}

/// One incident update, normalized: which alert of which case, what, when and by whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertUpdate {
    pub case_id: CaseId,
    pub alert: AlertKey,
    /// The provider's id of this delivery, for deduplication.
    pub event_id: String,
    pub occurred_at: Timestamp,
    pub action: AlertAction,
    /// The person who acted, as the provider names them; `None` when no person did (an
    /// integration, such as our own resolve, or an automatic timeout).
    pub by: Option<String>,
    /// When the provider opened the incident: the start of time-to-acknowledge.
    pub incident_created_at: Option<Timestamp>,
}

/// How one alert was answered. Kept after the alert is closed, for reports.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AlertResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triggered_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_by: Option<String>,
    /// Set only when a person resolved the incident: the alert is then done for good.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_by: Option<String>,
}

impl AlertResponse {
    /// From the incident's creation to its first acknowledgement, when both are known.
    pub fn time_to_acknowledge(&self) -> Option<SignedDuration> {
        Some(self.acknowledged_at?.duration_since(self.triggered_at?))
    }

    /// A person closed this alert's incident: paging for the same clock again would only
    /// reopen what they decided was done.
    pub fn resolved_by_person(&self) -> bool {
        self.resolved_at.is_some()
    }
}

impl AlertKey {
    /// The alert a PagerDuty `dedup_key` (`<case id>/<clock>`) names, if it is one of ours.
    pub fn parse_dedup_key(key: &str) -> Option<(CaseId, AlertKey)> {
        let (case, clock) = key.rsplit_once('/')?;
        let alert = [
            AlertKey::Dispatch,
            AlertKey::FirstResponse,
            AlertKey::OutOfHours,
            AlertKey::Chat,
            AlertKey::Voicemail,
        ]
        .into_iter()
        .find(|alert| alert.as_str() == clock)?;
        Some((CaseId::parse(case).ok()?, alert))
    }
}

/// Record an incident update on its case. Returns whether the case changed.
///
/// The first acknowledgement counts (a re-acknowledgement after an escalation does not reset
/// time-to-acknowledge); a resolve counts only when a person did it, since our own resolve
/// comes back through the same webhook. A resolved alert leaves the open alerts without a
/// resolve effect: PagerDuty already closed it.
pub fn apply_alert_update(case: &mut Case, update: &AlertUpdate) -> bool {
    let before = case.alert_responses.get(&update.alert).cloned();
    let was_open = case.open_alerts.contains(&update.alert);
    match update.action {
        AlertAction::Acknowledged => {
            let response = case.alert_responses.entry(update.alert).or_default();
            if response.acknowledged_at.is_none() {
                response.acknowledged_at = Some(update.occurred_at);
                response.acknowledged_by.clone_from(&update.by);
                response.triggered_at = response.triggered_at.or(update.incident_created_at);
            }
        }
        AlertAction::Resolved => {
            let Some(person) = &update.by else {
                return false;
            };
            let response = case.alert_responses.entry(update.alert).or_default();
            if response.resolved_at.is_none() {
                response.resolved_at = Some(update.occurred_at);
                response.resolved_by = Some(person.clone());
                response.triggered_at = response.triggered_at.or(update.incident_created_at);
            }
            case.open_alerts.remove(&update.alert);
        }
    }
    case.alert_responses.get(&update.alert) != before.as_ref()
        || case.open_alerts.contains(&update.alert) != was_open
}
