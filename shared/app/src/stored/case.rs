//! The stored case document.

use super::StoredError;
use super::names::{
    StoredAlertKey, StoredChannel, StoredPlan, StoredPriority, StoredStatus, StoredTimerKind,
};
use domain::Timestamp;
use domain::case::{
    AdoptedOutcome, AlertResponse, Case, CaseId, ClockState, FieldTimes, NextResponse,
    RequestFacts, Requester, Voicemail,
};
use domain::policy::Labels;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the request is: where and when it came in, how it is classified, who asked. Shared by
/// the case document and the alert context of an outbox effect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRequestV1 {
    pub channel: StoredChannel,
    pub plan: StoredPlan,
    pub priority: StoredPriority,
    pub received: Timestamp,
    #[serde(default)]
    pub labels: StoredLabelsV1,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester: Option<StoredRequesterV1>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voicemail: Option<StoredVoicemailV1>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StoredLabelsV1 {
    pub cluster: Option<String>,
    pub website: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRequesterV1 {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredVoicemailV1 {
    pub caller: String,
    pub called: String,
    pub duration_seconds: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_url: Option<String>,
    /// Absent in documents written before the call lifecycle: `false`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ended_without_message: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StoredClockV1 {
    pub due: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub met_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breached_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<Timestamp>,
    /// Absent in documents written before adoption: `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adopted: Option<StoredAdoptedOutcomeV1>,
}

/// `domain::case::AdoptedOutcome`, spelled out here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StoredAdoptedOutcomeV1 {
    #[serde(rename = "outcome_unknown")]
    OutcomeUnknown,
    #[serde(rename = "met_before_first_seen")]
    MetBeforeFirstSeen,
}

impl From<AdoptedOutcome> for StoredAdoptedOutcomeV1 {
    fn from(outcome: AdoptedOutcome) -> Self {
        match outcome {
            AdoptedOutcome::OutcomeUnknown => Self::OutcomeUnknown,
            AdoptedOutcome::MetBeforeFirstSeen => Self::MetBeforeFirstSeen,
        }
    }
}

impl From<StoredAdoptedOutcomeV1> for AdoptedOutcome {
    fn from(outcome: StoredAdoptedOutcomeV1) -> Self {
        match outcome {
            StoredAdoptedOutcomeV1::OutcomeUnknown => Self::OutcomeUnknown,
            StoredAdoptedOutcomeV1::MetBeforeFirstSeen => Self::MetBeforeFirstSeen,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StoredFieldTimesV1 {
    pub status: Timestamp,
    pub assignment: Timestamp,
    pub priority: Timestamp,
    pub plan: Timestamp,
    pub labels: Timestamp,
}

/// How the on-call engineer answered one alert (PagerDuty acknowledgements and resolves).
/// Optional in the case document: those written before it existed have none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredAlertResponseV1 {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triggered_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_by: Option<String>,
}

impl From<&AlertResponse> for StoredAlertResponseV1 {
    fn from(response: &AlertResponse) -> Self {
        Self {
            triggered_at: response.triggered_at,
            acknowledged_at: response.acknowledged_at,
            acknowledged_by: response.acknowledged_by.clone(),
            resolved_at: response.resolved_at,
            resolved_by: response.resolved_by.clone(),
        }
    }
}

impl From<StoredAlertResponseV1> for AlertResponse {
    fn from(response: StoredAlertResponseV1) -> Self {
        Self {
            triggered_at: response.triggered_at,
            acknowledged_at: response.acknowledged_at,
            acknowledged_by: response.acknowledged_by,
            resolved_at: response.resolved_at,
            resolved_by: response.resolved_by,
        }
    }
}

/// The latest next-response clock of a case (docs/policy.md rule 6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredNextResponseV1 {
    pub round: u32,
    pub started_at: Timestamp,
    pub clock: StoredClockV1,
    pub warning_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warned_at: Option<Timestamp>,
}

impl From<&NextResponse> for StoredNextResponseV1 {
    fn from(next: &NextResponse) -> Self {
        Self {
            round: next.round,
            started_at: next.started_at,
            clock: StoredClockV1::from(&next.clock),
            warning_at: next.warning_at,
            warned_at: next.warned_at,
        }
    }
}

impl From<StoredNextResponseV1> for NextResponse {
    fn from(next: StoredNextResponseV1) -> Self {
        Self {
            round: next.round,
            started_at: next.started_at,
            clock: next.clock.into(),
            warning_at: next.warning_at,
            warned_at: next.warned_at,
        }
    }
}

/// The case document, version 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredCaseV1 {
    #[serde(default = "super::schema_v1")]
    pub schema: u32,
    pub id: String,
    #[serde(flatten)]
    pub request: StoredRequestV1,
    pub status: StoredStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    pub out_of_hours: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispatch: Option<StoredClockV1>,
    pub first_response: StoredClockV1,
    pub first_response_warning_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warned_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_fallback: Option<StoredClockV1>,
    /// Added after version 1 was first written: absent in older documents (no follow-up yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_response: Option<StoredNextResponseV1>,
    #[serde(default)]
    pub open_alerts: Vec<StoredAlertKey>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub alert_responses: BTreeMap<StoredAlertKey, StoredAlertResponseV1>,
    #[serde(default)]
    pub timers: BTreeMap<StoredTimerKind, Timestamp>,
    pub applied: StoredFieldTimesV1,
    pub last_event_at: Timestamp,
}

pub(super) fn case_id(
    what: &'static str,
    field: &'static str,
    id: &str,
) -> Result<CaseId, StoredError> {
    CaseId::parse(id).map_err(|error| StoredError::Invalid {
        what,
        field,
        reason: error.to_string(),
    })
}

impl From<&RequestFacts> for StoredRequestV1 {
    fn from(request: &RequestFacts) -> Self {
        Self {
            channel: request.channel.into(),
            plan: request.plan.into(),
            priority: request.priority.into(),
            received: request.received,
            labels: StoredLabelsV1 {
                cluster: request.labels.cluster.clone(),
                website: request.labels.website.clone(),
            },
            subject: request.subject.clone(),
            requester: request
                .requester
                .as_ref()
                .map(|requester| StoredRequesterV1 {
                    name: requester.name.clone(),
                    email: requester.email.clone(),
                }),
            link: request.link.clone(),
            voicemail: request
                .voicemail
                .as_ref()
                .map(|voicemail| StoredVoicemailV1 {
                    caller: voicemail.caller.clone(),
                    called: voicemail.called.clone(),
                    duration_seconds: voicemail.duration_seconds,
                    recording_url: voicemail.recording_url.clone(),
                    ended_without_message: voicemail.ended_without_message,
                }),
        }
    }
}

impl StoredRequestV1 {
    pub(super) fn to_domain(&self) -> RequestFacts {
        RequestFacts {
            channel: self.channel.into(),
            plan: self.plan.into(),
            priority: self.priority.into(),
            received: self.received,
            labels: Labels {
                cluster: self.labels.cluster.clone(),
                website: self.labels.website.clone(),
            },
            subject: self.subject.clone(),
            requester: self.requester.as_ref().map(|requester| Requester {
                name: requester.name.clone(),
                email: requester.email.clone(),
            }),
            link: self.link.clone(),
            voicemail: self.voicemail.as_ref().map(|voicemail| Voicemail {
                caller: voicemail.caller.clone(),
                called: voicemail.called.clone(),
                duration_seconds: voicemail.duration_seconds,
                recording_url: voicemail.recording_url.clone(),
                ended_without_message: voicemail.ended_without_message,
            }),
        }
    }
}

impl From<&ClockState> for StoredClockV1 {
    fn from(clock: &ClockState) -> Self {
        Self {
            due: clock.due,
            met_at: clock.met_at,
            breached_at: clock.breached_at,
            cancelled_at: clock.cancelled_at,
            adopted: clock.adopted.map(StoredAdoptedOutcomeV1::from),
        }
    }
}

impl From<StoredClockV1> for ClockState {
    fn from(clock: StoredClockV1) -> Self {
        Self {
            due: clock.due,
            met_at: clock.met_at,
            breached_at: clock.breached_at,
            cancelled_at: clock.cancelled_at,
            adopted: clock.adopted.map(AdoptedOutcome::from),
        }
    }
}

impl From<&Case> for StoredCaseV1 {
    fn from(case: &Case) -> Self {
        Self {
            schema: super::SCHEMA,
            id: case.id.as_str().to_owned(),
            request: StoredRequestV1::from(&case.request),
            status: case.status.into(),
            assignee: case.assignee.clone(),
            out_of_hours: case.out_of_hours,
            dispatch: case.dispatch.as_ref().map(StoredClockV1::from),
            first_response: StoredClockV1::from(&case.first_response),
            first_response_warning_at: case.first_response_warning_at,
            warned_at: case.warned_at,
            chat_fallback: case.chat_fallback.as_ref().map(StoredClockV1::from),
            next_response: case.next_response.as_ref().map(StoredNextResponseV1::from),
            open_alerts: case.open_alerts.iter().map(|&key| key.into()).collect(),
            alert_responses: case
                .alert_responses
                .iter()
                .map(|(&key, response)| (key.into(), response.into()))
                .collect(),
            timers: case
                .timers
                .iter()
                .map(|(&timer, &at)| (timer.into(), at))
                .collect(),
            applied: StoredFieldTimesV1 {
                status: case.applied.status,
                assignment: case.applied.assignment,
                priority: case.applied.priority,
                plan: case.applied.plan,
                labels: case.applied.labels,
            },
            last_event_at: case.last_event_at,
        }
    }
}

impl StoredCaseV1 {
    pub fn into_domain(self) -> Result<Case, StoredError> {
        Ok(Case {
            id: case_id("case", "id", &self.id)?,
            request: self.request.to_domain(),
            status: self.status.into(),
            assignee: self.assignee,
            out_of_hours: self.out_of_hours,
            dispatch: self.dispatch.map(ClockState::from),
            first_response: self.first_response.into(),
            first_response_warning_at: self.first_response_warning_at,
            warned_at: self.warned_at,
            chat_fallback: self.chat_fallback.map(ClockState::from),
            next_response: self.next_response.map(NextResponse::from),
            open_alerts: self.open_alerts.into_iter().map(Into::into).collect(),
            alert_responses: self
                .alert_responses
                .into_iter()
                .map(|(key, response)| (key.into(), response.into()))
                .collect(),
            timers: self
                .timers
                .into_iter()
                .map(|(timer, at)| (timer.into(), at))
                .collect(),
            applied: FieldTimes {
                status: self.applied.status,
                assignment: self.applied.assignment,
                priority: self.applied.priority,
                plan: self.applied.plan,
                labels: self.applied.labels,
            },
            last_event_at: self.last_event_at,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_case_with_a_next_response_clock_round_trips_through_the_stored_document() {
        let mut case = store_contract_free_case();
        let mut clock = ClockState::new("2026-12-01T14:00:00Z".parse().unwrap());
        clock.met_at = Some("2026-12-01T13:00:00Z".parse().unwrap());
        case.next_response = Some(NextResponse {
            round: 3,
            started_at: "2026-12-01T10:00:00Z".parse().unwrap(),
            clock,
            warning_at: "2026-12-01T13:00:00Z".parse().unwrap(),
            warned_at: None,
        });
        let json = serde_json::to_string(&StoredCaseV1::from(&case)).unwrap();
        assert!(json.contains(r#""next_response":{"round":3"#), "{json}");
        let read: StoredCaseV1 = serde_json::from_str(&json).unwrap();
        assert_eq!(read.into_domain().unwrap(), case);
    }

    #[test]
    fn a_case_without_a_follow_up_writes_no_next_response_field() {
        let case = store_contract_free_case();
        let json = serde_json::to_string(&StoredCaseV1::from(&case)).unwrap();
        assert!(!json.contains("next_response"), "{json}");
    }

    /// A ticket as opened, with its first response met.
    fn store_contract_free_case() -> Case {
        use domain::case::Status;
        use domain::policy::{Channel, Plan, Priority};
        let received: Timestamp = "2026-12-01T08:00:00Z".parse().unwrap();
        Case {
            id: CaseId::parse("zendesk-1").unwrap(),
            request: RequestFacts {
                channel: Channel::Ticket,
                plan: Plan::Standard,
                priority: Priority::High,
                received,
                labels: Labels::default(),
                subject: None,
                requester: None,
                link: None,
                voicemail: None,
            },
            status: Status::Open,
            assignee: None,
            out_of_hours: false,
            dispatch: None,
            first_response: ClockState {
                met_at: Some(received),
                ..ClockState::new(received)
            },
            first_response_warning_at: received,
            warned_at: None,
            chat_fallback: None,
            next_response: None,
            open_alerts: Default::default(),
            alert_responses: BTreeMap::new(),
            timers: BTreeMap::new(),
            applied: FieldTimes {
                status: received,
                assignment: received,
                priority: received,
                plan: received,
                labels: received,
            },
            last_event_at: received,
        }
    }
}
