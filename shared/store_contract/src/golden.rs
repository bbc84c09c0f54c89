//! Golden stored documents: JSON exactly as the stores wrote it before the stored format had
//! types of its own (`app::stored`), committed under `golden/`, with the domain values each
//! must read back as. Every store loads them from its own storage (`tests/store_*.rs`), so a
//! change that would orphan stored cases or pending outbox items fails a test.

use app::ports::{TimelineEntry, TimelineKind};
use domain::Timestamp;
use domain::case::{
    AlertContext, AlertKey, Case, CaseId, Change, ClockState, Effect, EmailKind, FieldTimes,
    NextResponse, RequestFacts, Requester, SlaClock, SlaEvent, SlaEventKind, SlackKind, Status,
    TicketRequest, TimerKind, Voicemail,
};
use domain::policy::{Channel, Labels, Plan, Priority, Severity};
use std::collections::{BTreeMap, BTreeSet};

/// One stored document and the value it must read back as.
#[derive(Debug, Clone)]
pub struct Golden<T> {
    /// The fixture's file name under `golden/`.
    pub file: &'static str,
    pub json: &'static str,
    pub expected: T,
}

macro_rules! golden {
    ($file:literal, $expected:expr) => {
        Golden {
            file: $file,
            json: include_str!(concat!("../golden/", $file)),
            expected: $expected,
        }
    };
}

/// The case documents: every clock state (pending, met, met late, breached, cancelled), open
/// alerts, timers, labels, a requester, a voicemail.
pub fn cases() -> Vec<Golden<Case>> {
    vec![
        golden!("case_chat.json", chat_case()),
        golden!("case_ticket.json", ticket_case()),
        golden!("case_phone.json", phone_case()),
        // Written by the typed format, with the field added later (a follow-up's clock): the
        // three above, written before it existed, load with none.
        golden!("case_ticket_follow_up.json", follow_up_case()),
    ]
}

/// The effect documents of outbox items, one per kind of effect the outbox holds; all belong
/// to the case of [`chat_case`] and carry its alert context.
pub fn effects() -> Vec<Golden<Effect>> {
    let mut effects = effects_of(&chat_case()).into_iter();
    let mut next = || {
        effects
            .next()
            .map(|(_, effect)| effect)
            .unwrap_or_else(|| unreachable!())
    };
    vec![
        golden!("effect_page.json", next()),
        golden!("effect_resolve_page.json", next()),
        golden!("effect_notify_slack.json", next()),
        golden!("effect_send_email.json", next()),
        golden!("effect_open_ticket.json", next()),
        golden!("effect_publish_event.json", next()),
    ]
}

/// The timeline entry documents, in the order they were written (for the case of
/// [`chat_case`]).
pub fn timeline() -> Vec<Golden<TimelineEntry>> {
    let mut entries = timeline_entries().into_iter();
    let mut next = || {
        entries
            .next()
            .map(|(_, entry)| entry)
            .unwrap_or_else(|| unreachable!())
    };
    vec![
        golden!("timeline_event_opened.json", next()),
        golden!("timeline_event_assigned.json", next()),
        golden!("timeline_event_unassigned.json", next()),
        golden!("timeline_event_priority_changed.json", next()),
        golden!("timeline_event_reclassified.json", next()),
        golden!("timeline_event_agent_replied.json", next()),
        golden!("timeline_timer_fired.json", next()),
        golden!("timeline_swept.json", next()),
        golden!("timeline_decided.json", next()),
        golden!("timeline_delivered.json", next()),
        golden!("timeline_event_voicemail_left.json", next()),
    ]
}

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

pub fn chat_case() -> Case {
    Case {
        id: CaseId::parse("intercom-215").unwrap(),
        request: RequestFacts {
            channel: Channel::Chat,
            plan: Plan::Enterprise,
            priority: Priority::High,
            received: t("2026-03-02T09:00:00Z"),
            labels: Labels {
                cluster: Some("c42".into()),
                website: Some("shop".into()),
            },
            subject: Some("Checkout fails – «quotes» \"and\" ✓".into()),
            requester: Some(Requester {
                name: Some("Jane Doe".into()),
                email: Some("jane@example.org".into()),
            }),
            link: Some("https://app.intercom.com/a/inbox/x/inbox/conversation/215".into()),
            voicemail: None,
        },
        status: Status::Open,
        assignee: Some("agent-7".into()),
        out_of_hours: false,
        // met in time
        dispatch: Some(ClockState {
            due: t("2026-03-02T09:15:00Z"),
            met_at: Some(t("2026-03-02T09:05:00Z")),
            breached_at: None,
            cancelled_at: None,
            adopted: None,
        }),
        // breached, then met late
        first_response: ClockState {
            due: t("2026-03-02T09:30:00Z"),
            met_at: Some(t("2026-03-02T09:41:00.123456789Z")),
            breached_at: Some(t("2026-03-02T09:30:00.5Z")),
            cancelled_at: None,
            adopted: None,
        },
        first_response_warning_at: t("2026-03-02T09:22:30Z"),
        warned_at: Some(t("2026-03-02T09:22:31Z")),
        // cancelled
        chat_fallback: Some(ClockState {
            due: t("2026-03-02T10:00:00Z"),
            met_at: None,
            breached_at: None,
            cancelled_at: Some(t("2026-03-02T09:50:00Z")),
            adopted: None,
        }),
        next_response: None,
        open_alerts: BTreeSet::from([AlertKey::Chat, AlertKey::FirstResponse]),
        alert_responses: Default::default(),
        timers: BTreeMap::from([(TimerKind::ChatFallback, t("2026-03-02T10:00:00Z"))]),
        applied: FieldTimes {
            status: t("2026-03-02T09:00:00Z"),
            assignment: t("2026-03-02T09:05:00Z"),
            priority: t("2026-03-02T09:01:00Z"),
            plan: t("2026-03-02T09:02:00Z"),
            labels: t("2026-03-02T09:03:00Z"),
        },
        last_event_at: t("2026-03-02T09:41:00.123456789Z"),
    }
}

/// A ticket in its second follow-up, whose next-response clock breached and paged.
pub fn follow_up_case() -> Case {
    let received = t("2026-12-01T08:00:00Z");
    let mut next_response = ClockState::new(t("2026-12-01T14:00:00Z"));
    next_response.breached_at = Some(t("2026-12-01T14:00:01Z"));
    Case {
        id: CaseId::parse("zendesk-6001").unwrap(),
        request: RequestFacts {
            channel: Channel::Ticket,
            plan: Plan::Enterprise,
            priority: Priority::High,
            received,
            labels: Labels::default(),
            subject: None,
            requester: None,
            link: None,
            voicemail: None,
        },
        status: Status::Open,
        assignee: Some("361".into()),
        out_of_hours: false,
        dispatch: Some(ClockState {
            met_at: Some(t("2026-12-01T08:10:00Z")),
            ..ClockState::new(t("2026-12-01T09:00:00Z"))
        }),
        first_response: ClockState {
            met_at: Some(t("2026-12-01T08:30:00Z")),
            ..ClockState::new(t("2026-12-01T12:00:00Z"))
        },
        first_response_warning_at: t("2026-12-01T11:00:00Z"),
        warned_at: None,
        chat_fallback: None,
        next_response: Some(NextResponse {
            round: 2,
            started_at: t("2026-12-01T10:00:00Z"),
            clock: next_response,
            warning_at: t("2026-12-01T13:00:00Z"),
            warned_at: Some(t("2026-12-01T13:00:01Z")),
        }),
        open_alerts: BTreeSet::from([AlertKey::NextResponse]),
        alert_responses: Default::default(),
        timers: BTreeMap::new(),
        applied: FieldTimes {
            status: received,
            assignment: t("2026-12-01T08:10:00Z"),
            priority: received,
            plan: received,
            labels: received,
        },
        last_event_at: t("2026-12-01T10:00:00Z"),
    }
}

pub fn ticket_case() -> Case {
    Case {
        id: CaseId::parse("zendesk-5158").unwrap(),
        request: RequestFacts {
            channel: Channel::Ticket,
            plan: Plan::Standard,
            priority: Priority::Urgent,
            received: t("2026-03-06T16:45:00Z"),
            labels: Labels {
                cluster: Some("c7".into()),
                website: None,
            },
            subject: None,
            requester: Some(Requester {
                name: None,
                email: Some("ops@example.com".into()),
            }),
            link: None,
            voicemail: None,
        },
        status: Status::Open,
        assignee: None,
        out_of_hours: true,
        // breached
        dispatch: Some(ClockState::new(t("2026-03-09T08:15:00Z"))).map(|mut c| {
            c.breached_at = Some(t("2026-03-09T08:15:01Z"));
            c
        }),
        // pending
        first_response: ClockState::new(t("2026-03-09T09:00:00Z")),
        first_response_warning_at: t("2026-03-09T08:45:00Z"),
        warned_at: None,
        chat_fallback: None,
        next_response: None,
        open_alerts: BTreeSet::from([AlertKey::Dispatch, AlertKey::OutOfHours]),
        alert_responses: Default::default(),
        timers: BTreeMap::from([
            (TimerKind::FirstResponseWarning, t("2026-03-09T08:45:00Z")),
            (TimerKind::FirstResponse, t("2026-03-09T09:00:00Z")),
        ]),
        applied: FieldTimes {
            status: t("2026-03-06T16:45:00Z"),
            assignment: t("2026-03-06T16:45:00Z"),
            priority: t("2026-03-06T16:45:00Z"),
            plan: t("2026-03-06T16:45:00Z"),
            labels: t("2026-03-06T16:45:00Z"),
        },
        last_event_at: t("2026-03-06T16:45:00Z"),
    }
}

pub fn phone_case() -> Case {
    Case {
        id: CaseId::parse("twilio-RE0123456789abcdef0123456789abcdef").unwrap(),
        request: RequestFacts {
            channel: Channel::Phone,
            plan: Plan::Enterprise,
            priority: Priority::Urgent,
            received: t("2026-03-07T02:10:00Z"),
            labels: Labels::default(),
            subject: None,
            requester: None,
            link: None,
            voicemail: Some(Voicemail {
                caller: "+4930123456".into(),
                called: "+4989765432".into(),
                duration_seconds: 42,
                recording_url: Some(
                    "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE0123".into(),
                ),
                // Written before the call lifecycle existed: the field is absent.
                ended_without_message: false,
            }),
        },
        status: Status::Solved,
        assignee: None,
        out_of_hours: true,
        dispatch: None,
        first_response: ClockState {
            due: t("2026-03-07T02:40:00Z"),
            met_at: None,
            breached_at: None,
            cancelled_at: Some(t("2026-03-07T02:20:00Z")),
            adopted: None,
        },
        first_response_warning_at: t("2026-03-07T02:32:30Z"),
        warned_at: None,
        chat_fallback: None,
        next_response: None,
        open_alerts: BTreeSet::new(),
        alert_responses: Default::default(),
        timers: BTreeMap::new(),
        applied: FieldTimes {
            status: t("2026-03-07T02:20:00Z"),
            assignment: t("2026-03-07T02:10:00Z"),
            priority: t("2026-03-07T02:10:00Z"),
            plan: t("2026-03-07T02:10:00Z"),
            labels: t("2026-03-07T02:10:00Z"),
        },
        last_event_at: t("2026-03-07T02:20:00Z"),
    }
}

fn effects_of(case: &Case) -> Vec<(&'static str, Effect)> {
    let context = AlertContext::of(case);
    vec![
        (
            "page",
            Effect::Page {
                alert: AlertKey::FirstResponse,
                severity: Severity::Error,
                context: context.clone(),
            },
        ),
        (
            "resolve_page",
            Effect::ResolvePage {
                alert: AlertKey::Chat,
            },
        ),
        (
            "notify_slack",
            Effect::NotifySlack {
                message: SlackKind::FirstResponseWarning,
                context: context.clone(),
            },
        ),
        (
            "send_email",
            Effect::SendEmail {
                email: EmailKind::ChatFallback,
                to: "jane@example.org".into(),
                context: context.clone(),
            },
        ),
        (
            "open_ticket",
            Effect::OpenTicket {
                ticket: TicketRequest {
                    tags: vec!["voicemail".into(), "plan_24x7".into(), "enterprise".into()],
                },
                context: context.clone(),
            },
        ),
        (
            "publish_event",
            Effect::PublishEvent {
                event: SlaEvent {
                    kind: SlaEventKind::SlaBreached,
                    case_id: context.case_id.clone(),
                    channel: context.request.channel,
                    plan: context.request.plan,
                    priority: context.request.priority,
                    clock: Some(SlaClock::FirstResponse),
                    alert: None,
                    by: None,
                    due: Some(context.first_response_due),
                    at: t("2026-03-02T09:30:05Z"),
                    labels: context.request.labels.clone(),
                    source_link: context.request.link,
                },
            },
        ),
    ]
}

fn timeline_entries() -> Vec<(&'static str, TimelineEntry)> {
    let at = t("2026-03-02T09:41:01Z");
    let event = |change| TimelineKind::Event {
        event_id: "evt-42".into(),
        occurred_at: t("2026-03-02T09:41:00.123456789Z"),
        change,
    };
    vec![
        (
            "event_opened",
            TimelineEntry {
                at,
                kind: event(Change::Opened),
            },
        ),
        (
            "event_assigned",
            TimelineEntry {
                at,
                kind: event(Change::Assigned {
                    assignee: Some("agent-7".into()),
                }),
            },
        ),
        (
            "event_unassigned",
            TimelineEntry {
                at,
                kind: event(Change::Assigned { assignee: None }),
            },
        ),
        (
            "event_priority_changed",
            TimelineEntry {
                at,
                kind: event(Change::PriorityChanged {
                    priority: Priority::Low,
                }),
            },
        ),
        (
            "event_reclassified",
            TimelineEntry {
                at,
                kind: event(Change::Reclassified {
                    plan: Plan::Standard,
                    labels: Labels {
                        cluster: Some("c1".into()),
                        website: None,
                    },
                }),
            },
        ),
        (
            "event_agent_replied",
            TimelineEntry {
                at,
                kind: event(Change::AgentReplied),
            },
        ),
        (
            "timer_fired",
            TimelineEntry {
                at,
                kind: TimelineKind::TimerFired {
                    timer: TimerKind::FirstResponseWarning,
                },
            },
        ),
        (
            "swept",
            TimelineEntry {
                at,
                kind: TimelineKind::Swept,
            },
        ),
        (
            "decided",
            TimelineEntry {
                at,
                kind: TimelineKind::Decided {
                    key: "intercom-215/first_response/trigger".into(),
                    effect: "page on-call: first_response (error)".into(),
                },
            },
        ),
        (
            "delivered",
            TimelineEntry {
                at,
                kind: TimelineKind::Delivered {
                    key: "intercom-215/first_response/trigger".into(),
                    outcome: "delivered: 202 dedup_key=intercom-215/first_response".into(),
                },
            },
        ),
        (
            "event_voicemail_left",
            TimelineEntry {
                at,
                kind: event(Change::VoicemailLeft),
            },
        ),
    ]
}
