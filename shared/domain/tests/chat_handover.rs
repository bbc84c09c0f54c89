//! The chat fallback inside the chat: the reply, the e-mail and the handover of the clock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::case::{
    AlertKey, Case, CaseEvent, CaseFacts, CaseId, Change, ClockStatus, Effect, EmailKind, Input,
    RequestFacts, Requester, SlackKind, Status, TimerKind, decide,
};
use domain::jiff::Timestamp;
use domain::policy::{Channel, Labels, Language, Plan, Policy, Priority};

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// A chat opened on a Tuesday at 10:00 in Berlin (09:00 UTC): the fallback is due at 09:10.
fn opened(policy: &Policy, email: Option<&str>) -> Case {
    let event = CaseEvent {
        case_id: CaseId::parse("intercom-1295").unwrap(),
        event_id: "notif_1".into(),
        occurred_at: at("2026-12-01T09:00:00Z"),
        change: Change::Opened,
        snapshot: CaseFacts {
            request: RequestFacts {
                channel: Channel::Chat,
                plan: Plan::Standard,
                priority: Priority::Normal,
                received: at("2026-12-01T09:00:00Z"),
                labels: Labels::default(),
                subject: None,
                requester: Some(Requester {
                    name: Some("Jane".into()),
                    email: email.map(String::from),
                }),
                link: None,
                voicemail: None,
            },
            status: Status::Open,
            assignee: None,
            first_response_at: None,
            adoption: None,
            references: Default::default(),
        },
    };
    decide(
        policy,
        None,
        Input::Event(&event),
        at("2026-12-01T09:00:00Z"),
    )
    .unwrap()
    .case
}

fn fall_back(policy: &Policy, case: Case) -> (Case, Vec<Effect>) {
    let decision = decide(
        policy,
        Some(case),
        Input::TimerFired(TimerKind::ChatFallback),
        at("2026-12-01T09:10:00Z"),
    )
    .unwrap();
    (decision.case, decision.effects)
}

fn reply_text(effects: &[Effect]) -> Vec<&str> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::ReplyInChat { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn the_fallback_replies_in_the_chat_then_emails_and_hands_the_clock_over_once_delivered() {
    let policy = policy_file::default_policy().unwrap();
    let case = opened(&policy, Some("jane@example.org"));

    let (case, effects) = fall_back(&policy, case);

    assert_eq!(
        reply_text(&effects),
        vec![policy.chat.german.offer.as_str()]
    );
    assert!(
        matches!(effects[0], Effect::ReplyInChat { .. }),
        "{effects:?}"
    );
    assert!(effects.iter().any(|effect| matches!(
        effect,
        Effect::SendEmail { email: EmailKind::ChatFallback, to, .. } if to == "jane@example.org"
    )));
    // Decided, not yet delivered: nothing is handed over yet.
    assert!(!effects.contains(&Effect::ResolvePage {
        alert: AlertKey::Chat
    }));
    assert_eq!(case.first_response.status(), ClockStatus::Pending);

    // The offer was delivered (the engine says so): handed over.
    let delivered = decide(
        &policy,
        Some(case),
        Input::OfferDelivered,
        at("2026-12-01T09:10:05Z"),
    )
    .unwrap();
    let case = delivered.case;
    assert!(delivered.effects.contains(&Effect::ResolvePage {
        alert: AlertKey::Chat
    }));
    assert_eq!(case.first_response.status(), ClockStatus::Cancelled);
    assert_eq!(
        case.first_response.cancelled_at,
        Some(at("2026-12-01T09:10:05Z"))
    );
    assert!(!case.timers.contains_key(&TimerKind::FirstResponse));
    assert!(!case.timers.contains_key(&TimerKind::FirstResponseWarning));

    // Handed over: the first-response deadline a day later pages nothing.
    let later = decide(
        &policy,
        Some(case),
        Input::Sweep,
        at("2026-12-02T12:00:00Z"),
    )
    .unwrap();
    assert!(
        !later
            .effects
            .iter()
            .any(|effect| matches!(effect, Effect::Page { .. })),
        "{:?}",
        later.effects
    );
}

#[test]
fn a_visitor_without_an_address_is_asked_for_one_and_slack_hears_of_it() {
    let policy = policy_file::default_policy().unwrap();
    let case = opened(&policy, None);

    let (_, effects) = fall_back(&policy, case);

    assert_eq!(
        reply_text(&effects),
        vec![policy.chat.german.ask_email.as_str()]
    );
    assert!(
        !effects
            .iter()
            .any(|effect| matches!(effect, Effect::SendEmail { .. }))
    );
    assert!(effects.iter().any(|effect| matches!(
        effect,
        Effect::NotifySlack {
            message: SlackKind::ChatFallbackImpossible,
            ..
        }
    )));
}

#[test]
fn the_reply_is_in_the_policys_language() {
    let mut policy = policy_file::default_policy().unwrap();
    policy.chat.language = Language::English;
    let case = opened(&policy, Some("jane@example.org"));

    let (_, effects) = fall_back(&policy, case);

    assert_eq!(
        reply_text(&effects),
        vec![policy.chat.english.offer.as_str()]
    );
}

#[test]
fn an_offer_that_was_never_delivered_hands_nothing_over_and_the_clock_pages_as_usual() {
    let policy = policy_file::default_policy().unwrap();
    let case = opened(&policy, Some("jane@example.org"));
    let (case, _) = fall_back(&policy, case);
    assert!(case.timers.contains_key(&TimerKind::FirstResponse));

    // Normal 12x5, received Tue 10:00 Berlin (09:00Z): first response due Wed 10:00 Berlin.
    let due = decide(
        &policy,
        Some(case),
        Input::TimerFired(TimerKind::FirstResponse),
        at("2026-12-02T09:00:00Z"),
    )
    .unwrap();
    assert!(
        due.effects.iter().any(|effect| matches!(
            effect,
            Effect::Page {
                alert: AlertKey::FirstResponse,
                ..
            }
        )),
        "{:?}",
        due.effects
    );
}

#[test]
fn a_delivery_before_any_fallback_or_after_the_solve_hands_nothing_over() {
    let policy = policy_file::default_policy().unwrap();
    let case = opened(&policy, Some("jane@example.org"));
    let early = decide(
        &policy,
        Some(case),
        Input::OfferDelivered,
        at("2026-12-01T09:05:00Z"),
    )
    .unwrap();
    assert_eq!(early.case.first_response.status(), ClockStatus::Pending);
    assert!(early.effects.is_empty(), "{:?}", early.effects);
}
