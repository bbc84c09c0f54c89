//! The next-response clock (docs/policy.md rule 6), scenario by scenario: table-driven.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::case::{
    AlertKey, Case, CaseEvent, CaseFacts, CaseId, Change, ClockStatus, Effect, Input, RequestFacts,
    SlackKind, Status, TimerKind, decide,
};
use domain::jiff::Timestamp;
use domain::jiff::civil::DateTime;
use domain::jiff::tz::TimeZone;
use domain::policy::{Channel, Labels, Plan, Policy, Priority};

fn berlin(local: &str) -> Timestamp {
    let tz = TimeZone::get("Europe/Berlin").unwrap();
    let local: DateTime = local.parse().unwrap();
    tz.to_ambiguous_timestamp(local).compatible().unwrap()
}

#[derive(Clone, Copy)]
enum Step {
    Event(&'static str, fn() -> Change),
    Timer(&'static str, TimerKind),
    /// An event whose snapshot says the request is solved (a closed Zendesk ticket).
    SolvedSnapshot(&'static str, fn() -> Change),
}
use Step::{Event, SolvedSnapshot, Timer};

fn agent() -> Change {
    Change::AgentReplied
}
fn customer() -> Change {
    Change::CustomerReplied
}
fn waiting() -> Change {
    Change::Waiting
}
fn solved() -> Change {
    Change::Solved
}
fn reopened() -> Change {
    Change::Reopened
}
fn urgent() -> Change {
    Change::PriorityChanged {
        priority: Priority::Urgent,
    }
}

/// What one run decided: the final case and every effect in order.
struct Run {
    case: Case,
    effects: Vec<Effect>,
    keys: Vec<String>,
}

/// A `high` 12x5 ticket received on Tuesday 2026-12-01 09:00 (Berlin), driven through `steps`.
fn run(steps: &[Step]) -> Run {
    let policy = policy_file::default_policy().unwrap();
    run_with(&policy, steps)
}

fn run_with(policy: &Policy, steps: &[Step]) -> Run {
    let received = berlin("2026-12-01T09:00");
    let id = CaseId::parse("zendesk-77").unwrap();
    let facts = CaseFacts {
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
        assignee: Some("agent-1".into()),
        first_response_at: None,
        adoption: None,
        references: Default::default(),
    };
    let event = |n: usize, change: Change, at: Timestamp| CaseEvent {
        case_id: id.clone(),
        event_id: format!("evt-{n}"),
        occurred_at: at,
        change,
        snapshot: facts.clone(),
    };
    let solved_event = |n: usize, change: Change, at: Timestamp| {
        let mut event = event(n, change, at);
        event.snapshot.status = Status::Solved;
        event
    };
    let opened = event(0, Change::Opened, received);
    let decision = decide(policy, None, Input::Event(&opened), received).unwrap();
    let mut case = decision.case;
    let (mut effects, mut keys) = (Vec::new(), Vec::new());
    for (n, step) in steps.iter().enumerate() {
        let decision = match *step {
            Event(at, change) => {
                let at = berlin(at);
                let event = event(n + 1, change(), at);
                decide(policy, Some(case), Input::Event(&event), at).unwrap()
            }
            SolvedSnapshot(at, change) => {
                let at = berlin(at);
                let event = solved_event(n + 1, change(), at);
                decide(policy, Some(case), Input::Event(&event), at).unwrap()
            }
            Timer(at, timer) => {
                decide(policy, Some(case), Input::TimerFired(timer), berlin(at)).unwrap()
            }
        };
        case = decision.case;
        for effect in decision.effects {
            keys.push(case.effect_key(&effect));
            effects.push(effect);
        }
    }
    Run {
        case,
        effects,
        keys,
    }
}

fn next_response_effects(effects: &[Effect]) -> Vec<&'static str> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Page {
                alert: AlertKey::NextResponse,
                ..
            } => Some("page"),
            Effect::ResolvePage {
                alert: AlertKey::NextResponse,
            } => Some("resolve"),
            Effect::NotifySlack {
                message: SlackKind::NextResponseWarning,
                ..
            } => Some("warning"),
            _ => None,
        })
        .collect()
}

struct Row {
    name: &'static str,
    steps: &'static [Step],
    /// The latest clock: round, status and due (Berlin), or `None` when none ever started.
    clock: Option<(u32, ClockStatus, &'static str)>,
    /// The next-response effects in decision order.
    effects: &'static [&'static str],
}

#[test]
fn the_next_response_clock_starts_is_met_breached_and_paused_as_rule_6_says() {
    let rows = [
        Row {
            name: "a customer reply while the first response is still running starts nothing",
            steps: &[Event("2026-12-01T09:10", customer)],
            clock: None,
            effects: &[],
        },
        Row {
            name: "a customer reply after the agent's reply starts a 4 h business clock",
            steps: &[
                Event("2026-12-01T09:30", agent),
                Event("2026-12-01T10:00", customer),
            ],
            clock: Some((1, ClockStatus::Pending, "2026-12-01T14:00")),
            effects: &[],
        },
        Row {
            name: "the clock warns at 75 %, pages when due, and the agent's reply resolves",
            steps: &[
                Event("2026-12-01T09:30", agent),
                Event("2026-12-01T10:00", customer),
                Timer("2026-12-01T13:00", TimerKind::NextResponseWarning),
                Timer("2026-12-01T14:00", TimerKind::NextResponse),
                Event("2026-12-01T15:00", agent),
            ],
            clock: Some((1, ClockStatus::MetLate, "2026-12-01T14:00")),
            effects: &["warning", "page", "resolve"],
        },
        Row {
            name: "the customer's second message does not restart a running clock",
            steps: &[
                Event("2026-12-01T09:30", agent),
                Event("2026-12-01T10:00", customer),
                Event("2026-12-01T11:00", customer),
            ],
            clock: Some((1, ClockStatus::Pending, "2026-12-01T14:00")),
            effects: &[],
        },
        Row {
            name: "a breached clock keeps running when the customer writes again",
            steps: &[
                Event("2026-12-01T09:30", agent),
                Event("2026-12-01T10:00", customer),
                Timer("2026-12-01T14:00", TimerKind::NextResponse),
                Event("2026-12-01T16:00", customer),
            ],
            clock: Some((1, ClockStatus::Breached, "2026-12-01T14:00")),
            effects: &["page"],
        },
        Row {
            name: "a reply after the round was met starts round 2",
            steps: &[
                Event("2026-12-01T09:30", agent),
                Event("2026-12-01T10:00", customer),
                Event("2026-12-01T11:00", agent),
                Event("2026-12-01T12:00", customer),
            ],
            clock: Some((2, ClockStatus::Pending, "2026-12-01T16:00")),
            effects: &[],
        },
        Row {
            name: "pending stops the clock without a page; the customer's next message starts one",
            steps: &[
                Event("2026-12-01T09:30", agent),
                Event("2026-12-01T10:00", customer),
                Event("2026-12-01T10:30", waiting),
                Timer("2026-12-01T14:00", TimerKind::NextResponse),
                Event("2026-12-01T15:00", customer),
            ],
            clock: Some((2, ClockStatus::Pending, "2026-12-01T19:00")),
            effects: &[],
        },
        Row {
            name: "a reopened ticket gets a clock from the reopening",
            steps: &[
                Event("2026-12-01T09:30", agent),
                Event("2026-12-01T10:00", solved),
                Event("2026-12-02T09:00", reopened),
            ],
            clock: Some((1, ClockStatus::Pending, "2026-12-02T13:00")),
            effects: &[],
        },
        Row {
            name: "a ticket solved without a reply and reopened is tracked again and pages",
            steps: &[
                Event("2026-12-01T09:05", solved),
                Event("2026-12-01T10:00", reopened),
                Timer("2026-12-01T14:00", TimerKind::NextResponse),
            ],
            clock: Some((1, ClockStatus::Breached, "2026-12-01T14:00")),
            effects: &["page"],
        },
        Row {
            name: "after a reopen without reply, the agent's answer and a follow-up start round 2",
            steps: &[
                Event("2026-12-01T09:05", solved),
                Event("2026-12-01T10:00", reopened),
                Event("2026-12-01T10:30", agent),
                Event("2026-12-01T11:00", customer),
            ],
            clock: Some((2, ClockStatus::Pending, "2026-12-01T15:00")),
            effects: &[],
        },
        Row {
            name: "a customer reply that reopened the request (snapshot open) starts a clock",
            steps: &[
                Event("2026-12-01T09:30", agent),
                Event("2026-12-01T10:00", solved),
                Event("2026-12-01T11:00", customer),
            ],
            clock: Some((1, ClockStatus::Pending, "2026-12-01T15:00")),
            effects: &[],
        },
        Row {
            name: "a customer reply on a request that stays solved starts nothing",
            steps: &[
                Event("2026-12-01T09:30", agent),
                Event("2026-12-01T10:00", solved),
                SolvedSnapshot("2026-12-01T11:00", customer),
            ],
            clock: None,
            effects: &[],
        },
        Row {
            name: "a solve cancels the running clock and resolves its page",
            steps: &[
                Event("2026-12-01T09:30", agent),
                Event("2026-12-01T10:00", customer),
                Timer("2026-12-01T14:00", TimerKind::NextResponse),
                Event("2026-12-01T14:30", solved),
            ],
            clock: Some((1, ClockStatus::Breached, "2026-12-01T14:00")),
            effects: &["page", "resolve"],
        },
        Row {
            name: "a priority change moves the running clock, computed from its start",
            steps: &[
                Event("2026-12-01T09:30", agent),
                Event("2026-12-01T10:00", customer),
                Event("2026-12-01T10:05", urgent),
            ],
            clock: Some((1, ClockStatus::Pending, "2026-12-01T10:30")),
            effects: &[],
        },
        Row {
            name: "a customer reply older than the agent's reply starts nothing",
            steps: &[
                Event("2026-12-01T09:30", agent),
                Event("2026-12-01T09:20", customer),
            ],
            clock: None,
            effects: &[],
        },
    ];
    for row in rows {
        let run = run(row.steps);
        let clock = run
            .case
            .next_response
            .map(|next| (next.round, next.clock.status(), next.clock.due));
        let expected = row
            .clock
            .map(|(round, status, due)| (round, status, berlin(due)));
        assert_eq!(clock, expected, "{}", row.name);
        assert_eq!(
            next_response_effects(&run.effects),
            row.effects,
            "{}",
            row.name
        );
    }
}

#[test]
fn a_running_clock_asks_for_its_warning_and_due_timers_and_a_met_one_cancels_them() {
    let run = run(&[
        Event("2026-12-01T09:30", agent),
        Event("2026-12-01T10:00", customer),
    ]);
    assert_eq!(
        run.case.timers.get(&TimerKind::NextResponse),
        Some(&berlin("2026-12-01T14:00"))
    );
    assert_eq!(
        run.case.timers.get(&TimerKind::NextResponseWarning),
        Some(&berlin("2026-12-01T13:00"))
    );
    let met = run_with(
        &policy_file::default_policy().unwrap(),
        &[
            Event("2026-12-01T09:30", agent),
            Event("2026-12-01T10:00", customer),
            Event("2026-12-01T10:30", agent),
        ],
    );
    assert!(!met.case.timers.contains_key(&TimerKind::NextResponse));
    assert!(
        !met.case
            .timers
            .contains_key(&TimerKind::NextResponseWarning)
    );
}

#[test]
fn every_round_pages_under_the_same_dedup_key_with_outbox_keys_of_its_own() {
    let run = run(&[
        Event("2026-12-01T09:30", agent),
        Event("2026-12-01T10:00", customer),
        Timer("2026-12-01T13:00", TimerKind::NextResponseWarning),
        Timer("2026-12-01T14:00", TimerKind::NextResponse),
        Event("2026-12-01T14:10", agent),
        Event("2026-12-01T14:20", customer),
        Timer("2026-12-01T17:20", TimerKind::NextResponseWarning),
        Timer("2026-12-01T18:20", TimerKind::NextResponse),
        Event("2026-12-01T18:30", agent),
    ]);
    assert_eq!(
        next_response_effects(&run.effects),
        ["warning", "page", "resolve", "warning", "page", "resolve"]
    );
    let id = CaseId::parse("zendesk-77").unwrap();
    assert_eq!(
        AlertKey::NextResponse.dedup_key(&id),
        "zendesk-77/next_response"
    );
    let keys: Vec<&str> = run
        .keys
        .iter()
        .map(String::as_str)
        .filter(|key| key.contains("next_response"))
        .collect();
    assert_eq!(
        keys,
        [
            "zendesk-77/slack/next_response_warning",
            "zendesk-77/next_response/writeback",
            "zendesk-77/next_response/trigger",
            "zendesk-77/next_response/resolve",
            "zendesk-77/slack/next_response_warning/2",
            "zendesk-77/next_response/writeback/2",
            "zendesk-77/next_response/trigger/2",
            "zendesk-77/next_response/resolve/2",
        ]
    );
}

#[test]
fn the_next_response_page_has_the_priority_severity_of_the_next_response_policy() {
    let mut policy = policy_file::default_policy().unwrap();
    policy.next_response.high.severity = domain::policy::Severity::Critical;
    policy.next_response.high.duration = std::time::Duration::from_secs(3600);
    let run = run_with(
        &policy,
        &[
            Event("2026-12-01T09:30", agent),
            Event("2026-12-01T10:00", customer),
            Timer("2026-12-01T11:00", TimerKind::NextResponse),
        ],
    );
    let severities: Vec<_> = run
        .effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Page {
                alert: AlertKey::NextResponse,
                severity,
                ..
            } => Some(*severity),
            _ => None,
        })
        .collect();
    assert_eq!(severities, [domain::policy::Severity::Critical]);
}
