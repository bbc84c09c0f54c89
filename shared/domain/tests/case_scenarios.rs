//! The case state machine, scenario by scenario (docs/policy.md sections 4 and 5).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::case::{
    AlertKey, Case, CaseEvent, CaseFacts, CaseId, Change, ClockStatus, DecideError, Decision,
    Effect, EmailKind, Input, RequestFacts, Requester, SlackKind, Status, TimerChange, TimerKind,
    Voicemail, decide,
};
use domain::jiff::civil::DateTime;
use domain::jiff::tz::TimeZone;
use domain::jiff::{SignedDuration, Timestamp};
use domain::policy::{Channel, Labels, Plan, Policy, Priority, Severity};

fn policy() -> Policy {
    policy_file::default_policy().unwrap()
}

fn berlin(local: &str) -> Timestamp {
    let tz = TimeZone::get("Europe/Berlin").unwrap();
    let local: DateTime = local.parse().unwrap();
    tz.to_ambiguous_timestamp(local).compatible().unwrap()
}

fn minutes(n: i64) -> SignedDuration {
    SignedDuration::from_mins(n)
}

fn facts(channel: Channel, priority: Priority, received: Timestamp) -> CaseFacts {
    CaseFacts {
        request: RequestFacts {
            channel,
            plan: Plan::Standard,
            priority,
            received,
            labels: Labels {
                cluster: Some("c42".into()),
                website: Some("shop".into()),
            },
            subject: Some("Site down".into()),
            requester: Some(Requester {
                name: Some("Jane".into()),
                email: Some("jane@example.org".into()),
            }),
            link: None,
            voicemail: None,
        },
        status: Status::Open,
        assignee: None,
        first_response_at: None,
        adoption: None,
        references: Default::default(),
    }
}

/// A running case and the effects decided so far, driven step by step.
struct Scenario {
    policy: Policy,
    case: Option<Case>,
    facts: CaseFacts,
    id: CaseId,
    next_event: u32,
    /// The timer changes of the last decision.
    timers: Vec<TimerChange>,
}

impl Scenario {
    fn ticket(priority: Priority, received: Timestamp) -> Self {
        Self::new("zendesk-5158", facts(Channel::Ticket, priority, received))
    }

    fn new(id: &str, facts: CaseFacts) -> Self {
        Self {
            policy: policy(),
            case: None,
            facts,
            id: CaseId::parse(id).unwrap(),
            next_event: 1,
            timers: Vec::new(),
        }
    }

    fn event(&mut self, change: Change, occurred_at: Timestamp) -> CaseEvent {
        self.next_event += 1;
        CaseEvent {
            case_id: self.id.clone(),
            event_id: format!("evt-{}", self.next_event),
            occurred_at,
            change,
            snapshot: self.facts.clone(),
        }
    }

    fn deliver(&mut self, event: &CaseEvent, now: Timestamp) -> Decision {
        self.apply(Input::Event(event), now)
    }

    fn happen(&mut self, change: Change, at: Timestamp) -> Vec<Effect> {
        let event = self.event(change, at);
        self.deliver(&event, at).effects
    }

    fn timer(&mut self, timer: TimerKind, now: Timestamp) -> Vec<Effect> {
        self.apply(Input::TimerFired(timer), now).effects
    }

    fn apply(&mut self, input: Input<'_>, now: Timestamp) -> Decision {
        let decision = decide(&self.policy, self.case.clone(), input, now).unwrap();
        self.case = Some(decision.case.clone());
        self.timers.clone_from(&decision.timers);
        decision
    }

    fn case(&self) -> &Case {
        self.case.as_ref().unwrap()
    }
}

fn pages(effects: &[Effect]) -> Vec<(AlertKey, Severity)> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Page {
                alert, severity, ..
            } => Some((*alert, *severity)),
            _ => None,
        })
        .collect()
}

fn resolves(effects: &[Effect]) -> Vec<AlertKey> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::ResolvePage { alert } => Some(*alert),
            _ => None,
        })
        .collect()
}

fn slack(effects: &[Effect]) -> Vec<SlackKind> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::NotifySlack { message, .. } => Some(*message),
            _ => None,
        })
        .collect()
}

fn scheduled(timers: &[TimerChange]) -> Vec<(TimerKind, Timestamp)> {
    timers
        .iter()
        .filter_map(|change| match change {
            TimerChange::Schedule { timer, at } => Some((*timer, *at)),
            _ => None,
        })
        .collect()
}

#[test]
fn an_in_hours_ticket_schedules_its_timers_and_pages_nobody_yet() {
    let received = berlin("2026-12-01T09:00");
    let mut scenario = Scenario::ticket(Priority::Normal, received);
    let effects = scenario.happen(Change::Opened, received);
    assert!(pages(&effects).is_empty());
    assert_eq!(
        scheduled(&scenario.timers),
        vec![
            (TimerKind::Dispatch, berlin("2026-12-01T10:00")),
            (TimerKind::FirstResponseWarning, berlin("2026-12-01T18:00")),
            (TimerKind::FirstResponse, berlin("2026-12-02T09:00")),
        ]
    );
    assert_eq!(scenario.case().next_due(), Some(berlin("2026-12-01T10:00")));
}

#[test]
fn assignment_before_the_dispatch_deadline_meets_it_without_a_page() {
    let received = berlin("2026-12-01T09:00");
    let mut scenario = Scenario::ticket(Priority::Normal, received);
    scenario.happen(Change::Opened, received);
    let effects = scenario.happen(
        Change::Assigned {
            assignee: Some("agent-7".into()),
        },
        received + minutes(20),
    );
    assert!(pages(&effects).is_empty());
    assert!(scenario.timers.contains(&TimerChange::Cancel {
        timer: TimerKind::Dispatch
    }));
    assert_eq!(scenario.case().dispatch.unwrap().status(), ClockStatus::Met);
    // The dispatch timer is gone; a late or duplicate firing of it is harmless.
    let effects = scenario.timer(TimerKind::Dispatch, berlin("2026-12-01T10:00"));
    assert!(pages(&effects).is_empty());
}

#[test]
fn assignment_after_the_dispatch_deadline_resolves_the_page_it_caused() {
    let received = berlin("2026-12-01T09:00");
    let mut scenario = Scenario::ticket(Priority::High, received);
    scenario.happen(Change::Opened, received);
    let effects = scenario.timer(TimerKind::Dispatch, berlin("2026-12-01T10:00"));
    assert_eq!(pages(&effects), vec![(AlertKey::Dispatch, Severity::Error)]);
    assert_eq!(slack(&effects), vec![SlackKind::DispatchBreached]);
    assert_eq!(
        scenario.case().dispatch.unwrap().status(),
        ClockStatus::Breached
    );

    let effects = scenario.happen(
        Change::Assigned {
            assignee: Some("agent-7".into()),
        },
        berlin("2026-12-01T10:20"),
    );
    assert_eq!(resolves(&effects), vec![AlertKey::Dispatch]);
    assert_eq!(
        scenario.case().dispatch.unwrap().status(),
        ClockStatus::MetLate
    );
}

#[test]
fn a_timer_that_fires_early_is_rescheduled_not_obeyed() {
    let received = berlin("2026-12-01T09:00");
    let mut scenario = Scenario::ticket(Priority::Normal, received);
    scenario.happen(Change::Opened, received);
    let effects = scenario.timer(TimerKind::Dispatch, berlin("2026-12-01T09:59"));
    assert!(pages(&effects).is_empty());
    assert_eq!(
        scheduled(&scenario.timers),
        vec![(TimerKind::Dispatch, berlin("2026-12-01T10:00"))]
    );
}

#[test]
fn a_priority_raised_after_an_hour_moves_the_deadline_from_the_original_receipt() {
    let received = berlin("2026-12-01T09:00");
    let mut scenario = Scenario::ticket(Priority::Normal, received);
    scenario.happen(Change::Opened, received);
    scenario.happen(
        Change::Assigned {
            assignee: Some("a".into()),
        },
        received + minutes(5),
    );
    // One hour in, the customer says production is down: urgent, 30 min from 09:00 = 09:30.
    let effects = scenario.happen(
        Change::PriorityChanged {
            priority: Priority::Urgent,
        },
        received + minutes(60),
    );
    assert_eq!(
        pages(&effects),
        vec![(AlertKey::FirstResponse, Severity::Critical)]
    );
    assert_eq!(
        scenario.case().first_response.due,
        berlin("2026-12-01T09:30")
    );
    assert!(scenario.timers.contains(&TimerChange::Cancel {
        timer: TimerKind::FirstResponse
    }));
}

#[test]
fn a_priority_raised_early_moves_the_timers() {
    let received = berlin("2026-12-01T09:00");
    let mut scenario = Scenario::ticket(Priority::Normal, received);
    scenario.happen(Change::Opened, received);
    let effects = scenario.happen(
        Change::PriorityChanged {
            priority: Priority::High,
        },
        received + minutes(10),
    );
    assert!(pages(&effects).is_empty());
    assert_eq!(
        scheduled(&scenario.timers),
        vec![
            (TimerKind::FirstResponseWarning, berlin("2026-12-01T12:00")),
            (TimerKind::FirstResponse, berlin("2026-12-01T13:00")),
        ]
    );
}

#[test]
fn a_duplicate_event_changes_nothing_and_repeats_no_effect() {
    let received = berlin("2026-12-01T09:00");
    let mut scenario = Scenario::ticket(Priority::Normal, received);
    scenario.happen(Change::Opened, received);
    let assigned = scenario.event(
        Change::Assigned {
            assignee: Some("a".into()),
        },
        received + minutes(5),
    );
    let first = scenario.deliver(&assigned, received + minutes(5));
    assert!(first.changed);
    // Before the next deadline, so that only the event itself could change anything.
    for later in [6, 30, 50] {
        let again = scenario.deliver(&assigned, received + minutes(later));
        assert!(!again.changed, "redelivered at +{later} min");
        assert!(
            again.effects.is_empty() && again.timers.is_empty(),
            "redelivered at +{later} min: {:?} {:?}",
            again.effects,
            again.timers
        );
    }
}

#[test]
fn a_duplicate_opening_event_creates_nothing_twice() {
    let received = berlin("2026-11-28T10:00");
    let mut scenario = Scenario::ticket(Priority::Normal, received);
    let opened = scenario.event(Change::Opened, received);
    let first = scenario.deliver(&opened, received);
    assert_eq!(
        pages(&first.effects),
        vec![(AlertKey::OutOfHours, Severity::Warning)]
    );
    let second = scenario.deliver(&opened, received + minutes(1));
    assert!(second.effects.is_empty());
    assert!(second.timers.is_empty());
    assert!(!second.changed);
}

#[test]
fn an_old_status_event_after_the_solve_does_not_reopen_the_case() {
    let received = berlin("2026-12-01T09:00");
    let mut scenario = Scenario::ticket(Priority::Normal, received);
    scenario.happen(Change::Opened, received);
    scenario.happen(Change::Solved, received + minutes(30));
    assert_eq!(scenario.case().status, Status::Solved);
    let cancelled: Vec<_> = scenario
        .timers
        .iter()
        .filter(|change| matches!(change, TimerChange::Cancel { .. }))
        .collect();
    assert_eq!(
        cancelled.len(),
        3,
        "every timer is cancelled: {:?}",
        scenario.timers
    );

    // A reopening that happened before the solve arrives late: it cannot undo the solve.
    let effects = scenario.happen(Change::Reopened, received + minutes(10));
    assert_eq!(scenario.case().status, Status::Solved);
    assert!(effects.is_empty());

    // A genuine reopening, later in time, does reopen.
    scenario.happen(Change::Reopened, received + minutes(90));
    assert_eq!(scenario.case().status, Status::Open);
}

#[test]
fn solving_resolves_every_open_alert_and_cancels_every_clock() {
    let received = berlin("2026-11-28T10:00"); // Saturday: out of hours
    let mut scenario = Scenario::ticket(Priority::Urgent, received);
    scenario.happen(Change::Opened, received);
    scenario.timer(TimerKind::Dispatch, berlin("2026-11-30T09:00"));
    let effects = scenario.happen(Change::Solved, berlin("2026-11-30T09:05"));
    let mut resolved = resolves(&effects);
    resolved.sort();
    assert_eq!(
        resolved,
        vec![
            AlertKey::Dispatch,
            AlertKey::FirstResponse,
            AlertKey::OutOfHours
        ]
    );
    assert_eq!(
        scenario.case().first_response.status(),
        ClockStatus::Breached
    );
    assert!(scenario.case().timers.is_empty());
}

#[test]
fn an_out_of_hours_ticket_pages_at_once_with_its_severity() {
    let received = berlin("2026-11-28T10:00");
    let mut scenario = Scenario::ticket(Priority::High, received);
    let effects = scenario.happen(Change::Opened, received);
    assert_eq!(
        pages(&effects),
        vec![(AlertKey::OutOfHours, Severity::Error)]
    );
    let Some(Effect::Page { context, .. }) =
        effects.iter().find(|e| matches!(e, Effect::Page { .. }))
    else {
        panic!("no page");
    };
    assert_eq!(context.dispatch_due, Some(berlin("2026-11-30T09:00")));
    assert_eq!(context.first_response_due, berlin("2026-11-30T12:00"));
    assert_eq!(context.request.labels.cluster.as_deref(), Some("c42"));
}

#[test]
fn a_public_reply_meets_the_first_response_and_resolves_its_pages() {
    let received = berlin("2026-11-28T10:00");
    let mut scenario = Scenario::ticket(Priority::Normal, received);
    scenario.happen(Change::Opened, received);
    let effects = scenario.happen(Change::AgentReplied, berlin("2026-11-28T10:30"));
    assert_eq!(resolves(&effects), vec![AlertKey::OutOfHours]);
    assert_eq!(scenario.case().first_response.status(), ClockStatus::Met);
    assert!(scenario.timers.contains(&TimerChange::Cancel {
        timer: TimerKind::FirstResponse
    }));
}

#[test]
fn a_ticket_created_long_before_the_webhook_arrived_pages_at_once() {
    let received = berlin("2026-12-01T09:00");
    let mut scenario = Scenario::ticket(Priority::Urgent, received);
    let opened = scenario.event(Change::Opened, received);
    let decision = scenario.deliver(&opened, berlin("2026-12-01T11:00"));
    let mut paged = pages(&decision.effects);
    paged.sort();
    assert_eq!(
        paged,
        vec![
            (AlertKey::Dispatch, Severity::Critical),
            (AlertKey::FirstResponse, Severity::Critical)
        ]
    );
    // The 75 % warning is not sent after the breach it warns of.
    assert!(!slack(&decision.effects).contains(&SlackKind::FirstResponseWarning));
}

#[test]
fn the_first_response_warning_is_sent_once_at_75_percent() {
    let received = berlin("2026-12-01T09:00");
    let mut scenario = Scenario::ticket(Priority::High, received);
    scenario.happen(Change::Opened, received);
    scenario.happen(
        Change::Assigned {
            assignee: Some("a".into()),
        },
        received + minutes(5),
    );
    let effects = scenario.timer(TimerKind::FirstResponseWarning, berlin("2026-12-01T12:00"));
    assert_eq!(slack(&effects), vec![SlackKind::FirstResponseWarning]);
    let effects = scenario.timer(TimerKind::FirstResponseWarning, berlin("2026-12-01T12:01"));
    assert!(slack(&effects).is_empty());
}

#[test]
fn deleting_a_chat_solves_it_like_closing_it() {
    let received = berlin("2026-12-01T09:00");
    let mut scenario = Scenario::new(
        "intercom-1296",
        facts(Channel::Chat, Priority::Normal, received),
    );
    scenario.happen(Change::Opened, received);
    let effects = scenario.happen(Change::Deleted, received + minutes(3));
    assert_eq!(resolves(&effects), vec![AlertKey::Chat]);
    assert_eq!(scenario.case().status, Status::Solved);
    assert_eq!(
        scenario.case().first_response.status(),
        ClockStatus::Cancelled
    );
    assert!(scenario.case().timers.is_empty());
}

#[test]
fn a_deletion_never_creates_a_case() {
    let received = berlin("2026-12-01T09:00");
    let mut scenario = Scenario::new(
        "intercom-1297",
        facts(Channel::Chat, Priority::Normal, received),
    );
    let deleted = scenario.event(Change::Deleted, received);
    let result = decide(&scenario.policy, None, Input::Event(&deleted), received);
    assert_eq!(result.map(|_| ()), Err(DecideError::UnknownCase));
}

#[test]
fn an_event_for_another_case_is_refused() {
    let received = berlin("2026-12-01T09:00");
    let mut scenario = Scenario::ticket(Priority::Normal, received);
    scenario.happen(Change::Opened, received);
    let mut foreign = scenario.event(Change::AgentReplied, received);
    foreign.case_id = CaseId::parse("zendesk-1").unwrap();
    assert!(
        decide(
            &scenario.policy,
            scenario.case.clone(),
            Input::Event(&foreign),
            received
        )
        .is_err()
    );
}

#[test]
fn a_timer_for_an_unknown_case_is_an_error_the_caller_can_ignore() {
    let policy = policy();
    let result = decide(
        &policy,
        None,
        Input::TimerFired(TimerKind::Dispatch),
        berlin("2026-12-01T09:00"),
    );
    assert!(result.is_err());
}

#[test]
fn a_new_chat_in_hours_tells_slack_and_pages_with_low_urgency() {
    let received = berlin("2026-12-01T09:00");
    let mut scenario = Scenario::new(
        "intercom-1295",
        facts(Channel::Chat, Priority::Normal, received),
    );
    let effects = scenario.happen(Change::Opened, received);
    assert_eq!(slack(&effects), vec![SlackKind::NewChat]);
    assert_eq!(pages(&effects), vec![(AlertKey::Chat, Severity::Info)]);
    assert!(scenario.case().dispatch.is_none());
    assert!(
        scheduled(&scenario.timers)
            .contains(&(TimerKind::ChatFallback, berlin("2026-12-01T09:10")))
    );
}

#[test]
fn an_unanswered_chat_falls_back_to_email_after_ten_minutes() {
    let received = berlin("2026-12-01T09:00");
    let mut scenario = Scenario::new(
        "intercom-1295",
        facts(Channel::Chat, Priority::Normal, received),
    );
    scenario.happen(Change::Opened, received);
    let effects = scenario.timer(TimerKind::ChatFallback, berlin("2026-12-01T09:10"));
    let emails: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::SendEmail { email, to, .. } => Some((*email, to.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        emails,
        vec![(EmailKind::ChatFallback, "jane@example.org".to_owned())]
    );
}

#[test]
fn a_chat_answered_in_time_sends_no_email_and_resolves_the_chat_page() {
    let received = berlin("2026-12-01T09:00");
    let mut scenario = Scenario::new(
        "intercom-1295",
        facts(Channel::Chat, Priority::Normal, received),
    );
    scenario.happen(Change::Opened, received);
    let effects = scenario.happen(Change::AgentReplied, received + minutes(3));
    assert_eq!(resolves(&effects), vec![AlertKey::Chat]);
    let effects = scenario.timer(TimerKind::ChatFallback, berlin("2026-12-01T09:10"));
    assert!(effects.is_empty(), "{effects:?}");
}

#[test]
fn an_out_of_hours_chat_pages_as_out_of_hours_instead_of_a_chat_heads_up() {
    let received = berlin("2026-12-01T22:00");
    let mut scenario = Scenario::new("intercom-7", facts(Channel::Chat, Priority::High, received));
    let effects = scenario.happen(Change::Opened, received);
    assert_eq!(
        pages(&effects),
        vec![(AlertKey::OutOfHours, Severity::Error)]
    );
    assert_eq!(slack(&effects), vec![SlackKind::NewChat]);
}

#[test]
fn a_voicemail_pages_critical_at_any_hour_and_tells_slack() {
    for local in ["2026-12-01T10:00", "2026-12-05T03:00"] {
        let received = berlin(local);
        let mut voicemail = facts(Channel::Phone, Priority::Urgent, received);
        voicemail.request.voicemail = Some(Voicemail {
            caller: "+4915791234567".into(),
            called: "+4940123456".into(),
            duration_seconds: 42,
            recording_url: Some("https://api.twilio.com/rec/RE1".into()),
            ended_without_message: false,
        });
        let mut scenario = Scenario::new("twilio-RE1", voicemail);
        let effects = scenario.happen(Change::Opened, received);
        assert_eq!(
            pages(&effects),
            vec![(AlertKey::Voicemail, Severity::Critical)],
            "{local}"
        );
        assert_eq!(slack(&effects), vec![SlackKind::Voicemail], "{local}");
    }
}

#[test]
fn a_call_without_a_message_is_reported_to_slack_and_runs_like_a_normal_request() {
    let received = berlin("2026-12-01T10:00");
    let mut missed = facts(Channel::Phone, Priority::Urgent, received);
    missed.request.voicemail = Some(Voicemail {
        caller: "+4915791234567".into(),
        called: "+4940123456".into(),
        duration_seconds: 0,
        recording_url: None,
        ended_without_message: false,
    });
    let mut scenario = Scenario::new("twilio-CA2", missed);
    let effects = scenario.happen(Change::CallMissed, received);
    assert!(pages(&effects).is_empty());
    assert_eq!(slack(&effects), vec![SlackKind::MissedCall]);
    let case = scenario.case();
    assert_eq!(case.status, Status::Open);
    assert_eq!(case.request.priority, Priority::Normal);
    // Normal on 12x5: one business day.
    assert_eq!(case.first_response.due, berlin("2026-12-02T10:00"));
    assert!(case.timers.contains_key(&TimerKind::FirstResponse));
}

/// The phone line as Twilio drives it: the voice webhook, then the recording or the action.
fn call_facts(received: Timestamp, recording: Option<&str>, caller: &str) -> CaseFacts {
    let mut call = facts(Channel::Phone, Priority::Normal, received);
    call.request.requester = None;
    call.request.voicemail = Some(Voicemail {
        caller: caller.into(),
        called: "+4940123456".into(),
        duration_seconds: if recording.is_some() { 65 } else { 0 },
        recording_url: recording.map(str::to_owned),
        ended_without_message: false,
    });
    call
}

fn tickets(effects: &[Effect]) -> Vec<Vec<String>> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::OpenTicket { ticket, .. } => Some(ticket.tags.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_ringing_call_starts_its_case_quietly() {
    let received = berlin("2026-12-05T03:00");
    let mut scenario = Scenario::new("twilio-CA3", call_facts(received, None, "+4915791234567"));
    let effects = scenario.happen(Change::CallStarted, received);
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(scenario.case().status, Status::Open);
    assert_eq!(scenario.case().request.priority, Priority::Normal);
}

#[test]
fn a_message_left_after_the_call_started_pages_tells_slack_and_opens_one_ticket() {
    let received = berlin("2026-12-05T03:00");
    let mut scenario = Scenario::new("twilio-CA4", call_facts(received, None, "+4915791234567"));
    scenario.happen(Change::CallStarted, received);
    // The recording callback knows no numbers.
    scenario.facts = call_facts(received, Some("https://api.twilio.com/RE4.mp3"), "unknown");
    let effects = scenario.happen(Change::VoicemailLeft, received + minutes(2));
    assert_eq!(
        pages(&effects),
        vec![(AlertKey::Voicemail, Severity::Critical)]
    );
    assert_eq!(slack(&effects), vec![SlackKind::Voicemail]);
    assert_eq!(
        tickets(&effects),
        vec![vec!["voicemail".to_owned(), "plan_12x5".to_owned()]]
    );
    let case = scenario.case();
    let voicemail = case.request.voicemail.as_ref().unwrap();
    assert_eq!(voicemail.caller, "+4915791234567");
    assert_eq!(
        voicemail.recording_url.as_deref(),
        Some("https://api.twilio.com/RE4.mp3")
    );
    assert_eq!(case.request.priority, Priority::Urgent);
    // Urgent on 12x5: 30 business minutes from the call (Saturday night: Monday 08:30); the
    // page goes out at once anyway.
    assert_eq!(case.first_response.due, berlin("2026-12-07T08:30"));

    // A repeated or late callback, or the action, repeats nothing.
    for change in [
        Change::VoicemailLeft,
        Change::CallMissed,
        Change::CallStarted,
    ] {
        let effects = scenario.happen(change, received + minutes(3));
        assert!(effects.is_empty(), "{effects:?}");
    }
}

#[test]
fn a_missed_call_is_reported_once_and_a_later_message_still_pages() {
    let received = berlin("2026-12-01T10:00");
    let mut scenario = Scenario::new("twilio-CA5", call_facts(received, None, "+4915791234567"));
    scenario.happen(Change::CallStarted, received);
    let effects = scenario.happen(Change::CallMissed, received + minutes(1));
    assert_eq!(slack(&effects), vec![SlackKind::MissedCall]);
    let effects = scenario.happen(Change::CallMissed, received + minutes(1));
    assert!(effects.is_empty(), "{effects:?}");
    scenario.facts = call_facts(received, Some("https://api.twilio.com/RE5.mp3"), "unknown");
    let effects = scenario.happen(Change::VoicemailLeft, received + minutes(2));
    assert_eq!(
        pages(&effects),
        vec![(AlertKey::Voicemail, Severity::Critical)]
    );
}

#[test]
fn an_enterprise_voicemail_ticket_carries_the_enterprise_tag() {
    let received = berlin("2026-12-01T10:00");
    let mut call = call_facts(received, Some("https://api.twilio.com/RE6.mp3"), "unknown");
    call.request.plan = Plan::Enterprise;
    let mut scenario = Scenario::new("twilio-CA6", call);
    let effects = scenario.happen(Change::VoicemailLeft, received);
    assert_eq!(
        tickets(&effects),
        vec![vec![
            "voicemail".to_owned(),
            "plan_24x7".to_owned(),
            "enterprise".to_owned()
        ]]
    );
}

#[test]
fn the_voicemail_tickets_reply_meets_the_first_response_and_its_creation_pages_nothing() {
    let received = berlin("2026-12-05T03:00");
    let mut scenario = Scenario::new(
        "twilio-CA7",
        call_facts(
            received,
            Some("https://api.twilio.com/RE7.mp3"),
            "+4915791234567",
        ),
    );
    scenario.happen(Change::VoicemailLeft, received);
    // The ticket's own events arrive with the ticket's snapshot.
    let mut ticket = facts(Channel::Ticket, Priority::Urgent, received + minutes(1));
    ticket.request.link = Some("https://acme.zendesk.com/agent/tickets/77".into());
    scenario.facts = ticket;
    let effects = scenario.happen(Change::Opened, received + minutes(1));
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(
        scenario.case().request.link.as_deref(),
        Some("https://acme.zendesk.com/agent/tickets/77")
    );
    let effects = scenario.happen(Change::AgentReplied, received + minutes(10));
    assert_eq!(resolves(&effects), vec![AlertKey::Voicemail]);
    assert_eq!(scenario.case().first_response.status(), ClockStatus::Met);
    assert_eq!(scenario.case().request.channel, Channel::Phone);
}

#[test]
fn a_case_first_seen_through_a_later_event_starts_from_its_snapshot() {
    let received = berlin("2026-12-01T09:00");
    let mut scenario = Scenario::ticket(Priority::Normal, received);
    scenario.facts.assignee = Some("agent-7".into());
    let effects = scenario.happen(Change::Observed, received + minutes(30));
    assert_eq!(scenario.case().dispatch.unwrap().status(), ClockStatus::Met);
    assert!(pages(&effects).is_empty());
    // The original creation event, arriving after, is a no-op.
    let effects = scenario.happen(Change::Opened, received);
    assert!(effects.is_empty());
}

#[test]
fn an_enterprise_tag_added_later_moves_an_urgent_deadline_onto_the_always_clock() {
    let received = berlin("2026-12-04T19:50"); // Friday evening
    let mut scenario = Scenario::ticket(Priority::Urgent, received);
    scenario.happen(Change::Opened, received);
    assert_eq!(
        scenario.case().first_response.due,
        berlin("2026-12-07T08:20")
    );
    scenario.happen(
        Change::Reclassified {
            plan: Plan::Enterprise,
            labels: Labels::default(),
        },
        received + minutes(5),
    );
    assert_eq!(
        scenario.case().first_response.due,
        berlin("2026-12-04T20:20")
    );
    assert!(
        scheduled(&scenario.timers)
            .contains(&(TimerKind::FirstResponse, berlin("2026-12-04T20:20")))
    );
}

#[test]
fn every_effect_has_a_stable_idempotency_key_and_pages_use_case_and_clock_as_dedup_key() {
    let id = CaseId::parse("zendesk-5158").unwrap();
    assert_eq!(AlertKey::Dispatch.dedup_key(&id), "zendesk-5158/dispatch");
    assert_eq!(
        AlertKey::FirstResponse.dedup_key(&id),
        "zendesk-5158/first_response"
    );
    assert_eq!(
        AlertKey::OutOfHours.dedup_key(&id),
        "zendesk-5158/out_of_hours"
    );
    assert_eq!(
        Effect::ResolvePage {
            alert: AlertKey::Chat
        }
        .idempotency_key(&id),
        "zendesk-5158/chat/resolve"
    );
}

#[test]
fn case_ids_accept_provider_ids_and_reject_unsafe_text() {
    assert!(CaseId::parse("twilio-RE0123456789abcdef0123456789abcdef").is_ok());
    for bad in ["", "zendesk 1", "zendesk/1", "ü", &"x".repeat(129)] {
        assert!(CaseId::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn a_case_round_trips_through_its_stored_json_document() {
    let received = berlin("2026-11-28T10:00");
    let mut scenario = Scenario::ticket(Priority::High, received);
    scenario.happen(Change::Opened, received);
    let json = serde_json_roundtrip(scenario.case());
    assert_eq!(&json, scenario.case());
}

fn serde_json_roundtrip(case: &Case) -> Case {
    let text = serde_json::to_string(case).unwrap();
    serde_json::from_str(&text).unwrap()
}
