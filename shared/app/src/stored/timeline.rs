//! The stored timeline entry.

use super::StoredError;
use super::case::StoredLabelsV1;
use super::names::{
    StoredAlertAction, StoredAlertKey, StoredPlan, StoredPriority, StoredTimerKind,
};
use crate::ports::{TimelineEntry, TimelineKind};
use domain::Timestamp;
use domain::case::Change;
use domain::policy::Labels;
use serde::{Deserialize, Serialize};

/// One line of a case's history, version 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredTimelineEntryV1 {
    #[serde(default = "super::schema_v1")]
    pub schema: u32,
    pub at: Timestamp,
    #[serde(flatten)]
    pub kind: StoredTimelineKindV1,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum StoredTimelineKindV1 {
    #[serde(rename = "event")]
    Event {
        event_id: String,
        occurred_at: Timestamp,
        change: StoredChangeV1,
    },
    #[serde(rename = "timer_fired")]
    TimerFired { timer: StoredTimerKind },
    #[serde(rename = "swept")]
    Swept,
    #[serde(rename = "decided")]
    Decided { key: String, effect: String },
    #[serde(rename = "delivered")]
    Delivered { key: String, outcome: String },
    #[serde(rename = "alert_updated")]
    AlertUpdated {
        event_id: String,
        occurred_at: Timestamp,
        alert: StoredAlertKey,
        action: StoredAlertAction,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
}

/// The change a provider event reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum StoredChangeV1 {
    #[serde(rename = "opened")]
    Opened,
    #[serde(rename = "observed")]
    Observed,
    #[serde(rename = "assigned")]
    Assigned { assignee: Option<String> },
    #[serde(rename = "agent_replied")]
    AgentReplied,
    #[serde(rename = "customer_replied")]
    CustomerReplied,
    #[serde(rename = "waiting")]
    Waiting,
    #[serde(rename = "priority_changed")]
    PriorityChanged { priority: StoredPriority },
    #[serde(rename = "reclassified")]
    Reclassified {
        plan: StoredPlan,
        labels: StoredLabelsV1,
    },
    #[serde(rename = "solved")]
    Solved,
    #[serde(rename = "deleted")]
    Deleted,
    #[serde(rename = "reopened")]
    Reopened,
    #[serde(rename = "call_started")]
    CallStarted,
    #[serde(rename = "voicemail_left")]
    VoicemailLeft,
    #[serde(rename = "call_missed")]
    CallMissed,
}

impl From<&Change> for StoredChangeV1 {
    fn from(change: &Change) -> Self {
        match change {
            Change::Opened => StoredChangeV1::Opened,
            Change::Observed => StoredChangeV1::Observed,
            Change::Assigned { assignee } => StoredChangeV1::Assigned {
                assignee: assignee.clone(),
            },
            Change::AgentReplied => StoredChangeV1::AgentReplied,
            Change::CustomerReplied => StoredChangeV1::CustomerReplied,
            Change::Waiting => StoredChangeV1::Waiting,
            Change::PriorityChanged { priority } => StoredChangeV1::PriorityChanged {
                priority: (*priority).into(),
            },
            Change::Reclassified { plan, labels } => StoredChangeV1::Reclassified {
                plan: (*plan).into(),
                labels: StoredLabelsV1 {
                    cluster: labels.cluster.clone(),
                    website: labels.website.clone(),
                },
            },
            Change::Solved => StoredChangeV1::Solved,
            Change::Deleted => StoredChangeV1::Deleted,
            Change::Reopened => StoredChangeV1::Reopened,
            Change::CallStarted => StoredChangeV1::CallStarted,
            Change::VoicemailLeft => StoredChangeV1::VoicemailLeft,
            Change::CallMissed => StoredChangeV1::CallMissed,
        }
    }
}

impl From<StoredChangeV1> for Change {
    fn from(change: StoredChangeV1) -> Self {
        match change {
            StoredChangeV1::Opened => Change::Opened,
            StoredChangeV1::Observed => Change::Observed,
            StoredChangeV1::Assigned { assignee } => Change::Assigned { assignee },
            StoredChangeV1::AgentReplied => Change::AgentReplied,
            StoredChangeV1::CustomerReplied => Change::CustomerReplied,
            StoredChangeV1::Waiting => Change::Waiting,
            StoredChangeV1::PriorityChanged { priority } => Change::PriorityChanged {
                priority: priority.into(),
            },
            StoredChangeV1::Reclassified { plan, labels } => Change::Reclassified {
                plan: plan.into(),
                labels: Labels {
                    cluster: labels.cluster,
                    website: labels.website,
                },
            },
            StoredChangeV1::Solved => Change::Solved,
            StoredChangeV1::Deleted => Change::Deleted,
            StoredChangeV1::Reopened => Change::Reopened,
            StoredChangeV1::CallStarted => Change::CallStarted,
            StoredChangeV1::VoicemailLeft => Change::VoicemailLeft,
            StoredChangeV1::CallMissed => Change::CallMissed,
        }
    }
}

impl From<&TimelineEntry> for StoredTimelineEntryV1 {
    fn from(entry: &TimelineEntry) -> Self {
        let kind = match &entry.kind {
            TimelineKind::Event {
                event_id,
                occurred_at,
                change,
            } => StoredTimelineKindV1::Event {
                event_id: event_id.clone(),
                occurred_at: *occurred_at,
                change: change.into(),
            },
            TimelineKind::TimerFired { timer } => StoredTimelineKindV1::TimerFired {
                timer: (*timer).into(),
            },
            TimelineKind::Swept => StoredTimelineKindV1::Swept,
            TimelineKind::Decided { key, effect } => StoredTimelineKindV1::Decided {
                key: key.clone(),
                effect: effect.clone(),
            },
            TimelineKind::Delivered { key, outcome } => StoredTimelineKindV1::Delivered {
                key: key.clone(),
                outcome: outcome.clone(),
            },
            TimelineKind::AlertUpdated {
                event_id,
                occurred_at,
                alert,
                action,
                by,
            } => StoredTimelineKindV1::AlertUpdated {
                event_id: event_id.clone(),
                occurred_at: *occurred_at,
                alert: (*alert).into(),
                action: (*action).into(),
                by: by.clone(),
            },
        };
        Self {
            schema: super::SCHEMA,
            at: entry.at,
            kind,
        }
    }
}

impl StoredTimelineEntryV1 {
    pub fn into_domain(self) -> Result<TimelineEntry, StoredError> {
        let kind = match self.kind {
            StoredTimelineKindV1::Event {
                event_id,
                occurred_at,
                change,
            } => TimelineKind::Event {
                event_id,
                occurred_at,
                change: change.into(),
            },
            StoredTimelineKindV1::TimerFired { timer } => TimelineKind::TimerFired {
                timer: timer.into(),
            },
            StoredTimelineKindV1::Swept => TimelineKind::Swept,
            StoredTimelineKindV1::Decided { key, effect } => TimelineKind::Decided { key, effect },
            StoredTimelineKindV1::Delivered { key, outcome } => {
                TimelineKind::Delivered { key, outcome }
            }
            StoredTimelineKindV1::AlertUpdated {
                event_id,
                occurred_at,
                alert,
                action,
                by,
            } => TimelineKind::AlertUpdated {
                event_id,
                occurred_at,
                alert: alert.into(),
                action: action.into(),
                by,
            },
        };
        Ok(TimelineEntry { at: self.at, kind })
    }
}
