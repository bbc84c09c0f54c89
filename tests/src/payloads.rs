//! Provider payloads in their real shapes (see docs/providers/), with the few
//! fields a test varies as parameters.

use domain::Timestamp;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh, unique event id.
pub fn event_id() -> String {
    let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    format!("0e5b{n:04x}-7239-495d-b020-f22348516046")
}

/// A Zendesk ticket as the `detail` snapshot of its events describes it.
#[derive(Debug, Clone)]
pub struct Ticket {
    pub id: String,
    pub created_at: Timestamp,
    /// Upper case, as Zendesk sends it (`HIGH`), or `None`.
    pub priority: Option<&'static str>,
    pub status: &'static str,
    pub assignee: Option<String>,
    pub tags: Vec<String>,
}

impl Ticket {
    pub fn new(id: &str, created_at: Timestamp, priority: &'static str) -> Self {
        Self {
            id: id.to_owned(),
            created_at,
            priority: Some(priority),
            status: "NEW",
            assignee: None,
            tags: vec!["cluster_c42".into(), "site_shop-example-org".into()],
        }
    }

    pub fn case_id(&self) -> String {
        format!("zendesk-{}", self.id)
    }

    fn detail(&self, updated_at: Timestamp) -> Value {
        json!({
            "actor_id": "8447388090494",
            "assignee_id": self.assignee,
            "brand_id": "8447346621310",
            "created_at": self.created_at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "custom_status": "8447320465790",
            "description": "Checkout returns HTTP 502",
            "external_id": null,
            "form_id": "8646151517822",
            "group_id": "8447320466430",
            "id": self.id,
            "is_public": true,
            "organization_id": "8447346622462",
            "priority": self.priority,
            "requester_id": "8447388090495",
            "status": self.status,
            "subject": "Checkout broken",
            "submitter_id": "8447388090495",
            "tags": self.tags,
            "type": "INCIDENT",
            "updated_at": updated_at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "via": { "channel": "mail" }
        })
    }

    /// A `zen:event-type:ticket.<kind>` event that happened at `time`.
    pub fn event(&self, kind: &str, time: Timestamp, event: Value) -> Value {
        json!({
            "account_id": 22129848,
            "detail": self.detail(time),
            "event": event,
            "id": event_id(),
            "subject": format!("zen:ticket:{}", self.id),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S.%fZ").to_string(),
            "type": format!("zen:event-type:ticket.{kind}"),
            "zendesk_event_version": "2022-11-06"
        })
    }

    pub fn created(&self) -> Value {
        self.event("created", self.created_at, json!({}))
    }

    /// The agent `agent` was assigned at `time` (the snapshot shows the assignment).
    pub fn assigned(&mut self, agent: &str, time: Timestamp) -> Value {
        let previous = self.assignee.clone();
        self.assignee = Some(agent.to_owned());
        self.status = "OPEN";
        self.event(
            "agent_assignment_changed",
            time,
            json!({ "previous": previous, "current": agent }),
        )
    }

    pub fn public_staff_comment(&self, time: Timestamp) -> Value {
        self.event(
            "comment_added",
            time,
            json!({
                "comment": {
                    "id": "58789194475545",
                    "body": "We are looking into it.",
                    "html_body": "<p>We are looking into it.</p>",
                    "is_public": true,
                    "author": { "id": "8447388090494", "is_staff": true, "name": "Agent Smith" }
                },
                "meta": { "sequence": { "id": "a1", "position": 1 } }
            }),
        )
    }

    pub fn status_changed(&mut self, to: &'static str, time: Timestamp) -> Value {
        let previous = self.status;
        self.status = to;
        self.event(
            "status_changed",
            time,
            json!({ "previous": previous, "current": to }),
        )
    }
}

/// An Intercom conversation notification for `topic`.
pub fn intercom_conversation(
    topic: &str,
    conversation_id: &str,
    created_at: Timestamp,
    notified_at: Timestamp,
    email: &str,
) -> Value {
    json!({
        "type": "notification_event",
        "app_id": "a86dr8yl",
        "data": {
            "type": "notification_event_data",
            "item": {
                "type": "conversation",
                "id": conversation_id,
                "title": null,
                "created_at": created_at.as_second(),
                "updated_at": notified_at.as_second(),
                "waiting_since": created_at.as_second(),
                "snoozed_until": null,
                "open": true,
                "state": "open",
                "read": false,
                "priority": "not_priority",
                "admin_assignee_id": null,
                "team_assignee_id": null,
                "tags": { "type": "tag.list", "tags": [] },
                "source": {
                    "type": "conversation",
                    "id": "403918396",
                    "delivered_as": "customer_initiated",
                    "subject": "",
                    "body": "<p>How do I add a domain?</p>",
                    "author": { "type": "user", "id": "5ba682d23d7cf92bef87bfd4", "name": "Jane Doe", "email": email },
                    "attachments": [],
                    "url": null,
                    "redacted": false
                },
                "contacts": { "type": "contact.list", "contacts": [{ "type": "contact", "id": "5ba682d23d7cf92bef87bfd4", "external_id": null }] },
                "teammates": { "type": "admin.list", "admins": [] },
                "statistics": { "type": "conversation_statistics", "first_admin_reply_at": null },
                "conversation_parts": { "type": "conversation_part.list", "conversation_parts": [], "total_count": 0 },
                "custom_attributes": {}
            }
        },
        "links": {},
        "id": format!("notif_{}", event_id()),
        "topic": topic,
        "delivery_status": "pending",
        "delivery_attempts": 1,
        "delivered_at": 0,
        "first_sent_at": notified_at.as_second(),
        "created_at": notified_at.as_second(),
        "self": null
    })
}

/// A Twilio recording status callback, as form fields.
/// Twilio's voice webhook for a call to `to` ("a call comes in"), its documented parameters.
pub fn twilio_call(call_sid: &str, from: &str, to: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AccountSid", "AC8a1e0d2e5c9b4f7a6d3c2b1a0f9e8d7c".into()),
        ("ApiVersion", "2010-04-01".into()),
        ("CallSid", call_sid.into()),
        ("CallStatus", "ringing".into()),
        ("Direction", "inbound".into()),
        ("From", from.into()),
        ("FromCity", String::new()),
        ("FromCountry", "DE".into()),
        ("FromState", String::new()),
        ("FromZip", String::new()),
        ("To", to.into()),
        ("ToCity", "Berlin".into()),
        ("ToCountry", "DE".into()),
        ("ToState", String::new()),
        ("ToZip", String::new()),
    ]
}

pub fn twilio_recording(
    recording_sid: &str,
    status: &str,
    started: Timestamp,
) -> Vec<(&'static str, String)> {
    vec![
        ("AccountSid", "AC8a1e0d2e5c9b4f7a6d3c2b1a0f9e8d7c".into()),
        ("CallSid", "CA0123456789abcdef0123456789abcdef".into()),
        ("RecordingSid", recording_sid.into()),
        (
            "RecordingUrl",
            format!(
                "https://api.twilio.com/2010-04-01/Accounts/AC8a1e0d2e5c9b4f7a6d3c2b1a0f9e8d7c/Recordings/{recording_sid}"
            ),
        ),
        ("RecordingStatus", status.into()),
        ("RecordingDuration", "42".into()),
        ("RecordingChannels", "1".into()),
        (
            "RecordingStartTime",
            started.strftime("%a, %d %b %Y %H:%M:%S +0000").to_string(),
        ),
        ("RecordingSource", "RecordVerb".into()),
        ("RecordingTrack", "both".into()),
        ("ErrorCode", "0".into()),
    ]
}

/// An instant given in Berlin local time (`2026-12-01T09:00`).
pub fn berlin(local: &str) -> Timestamp {
    let tz = domain::jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
    let local: domain::jiff::civil::DateTime = local.parse().unwrap();
    tz.to_ambiguous_timestamp(local).compatible().unwrap()
}

fn rfc3339(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// An `incident.<action>` webhook in PagerDuty's documented v3 shape (docs/providers/pagerduty.md),
/// by `agent`.
pub fn pagerduty_incident(
    event_id: &str,
    action: &str,
    incident_key: &str,
    created_at: Timestamp,
    occurred_at: Timestamp,
    agent: Value,
) -> Value {
    json!({
        "event": {
            "id": event_id,
            "event_type": format!("incident.{action}"),
            "resource_type": "incident",
            "occurred_at": rfc3339(occurred_at),
            "agent": agent,
            "client": null,
            "data": {
                "id": "Q0RIJJZL24RC6W",
                "type": "incident",
                "self": "https://api.pagerduty.com/incidents/Q0RIJJZL24RC6W",
                "html_url": "https://acme.pagerduty.com/incidents/Q0RIJJZL24RC6W",
                "number": 2,
                "status": action,
                "incident_key": incident_key,
                "created_at": rfc3339(created_at),
                "title": "Ticket not dispatched",
                "service": {
                    "html_url": "https://acme.pagerduty.com/services/PF9KMXH",
                    "id": "PF9KMXH",
                    "self": "https://api.pagerduty.com/services/PF9KMXH",
                    "summary": "Support SLA",
                    "type": "service_reference"
                },
                "assignees": [],
                "escalation_policy": {
                    "html_url": "https://acme.pagerduty.com/escalation_policies/PUS0KTE",
                    "id": "PUS0KTE",
                    "self": "https://api.pagerduty.com/escalation_policies/PUS0KTE",
                    "summary": "Default",
                    "type": "escalation_policy_reference"
                },
                "teams": [],
                "priority": null,
                "urgency": "high",
                "conference_bridge": null,
                "resolve_reason": null
            }
        }
    })
}

/// The person who acts on an incident, as PagerDuty names them in `event.agent`.
pub fn pagerduty_person() -> Value {
    json!({
        "html_url": "https://acme.pagerduty.com/users/PTUXL6G",
        "id": "PTUXL6G",
        "self": "https://api.pagerduty.com/users/PTUXL6G",
        "summary": "Earline Greenholt",
        "type": "user_reference"
    })
}
