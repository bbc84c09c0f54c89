//! Deciding never waits for delivering: a throttled PagerDuty delays only PagerDuty, and a
//! slow receiver is never sent one item twice (issue 10, finding 1).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::EngineSettings;
use app::ports::Clock;
use domain::jiff::SignedDuration;
use serde_json::Value;
use std::time::{Duration, Instant};
use tests::payloads::{Ticket, berlin, intercom_conversation};
use tests::{PAGERDUTY_PATH, SLACK_PATH, TestApp, fast_settings, is_event};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

fn mentions(case_number: &'static str) -> impl Fn(&Value) -> bool {
    move |body| body.to_string().contains(case_number)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_throttled_pagerduty_holds_back_no_deadline_and_no_slack_message() {
    let start = berlin("2026-12-01T09:00");
    let app = TestApp::spawn_with(start, false).await;
    // A brownout: every event is answered 429 with Retry-After: 30, so each PagerDuty call
    // spends about a minute in its own retries.
    Mock::given(method("POST"))
        .and(path(PAGERDUTY_PATH))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "30"))
        .mount(&app.pagerduty)
        .await;
    Mock::given(method("POST"))
        .and(path(SLACK_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&app.slack)
        .await;

    // Dispatch deadlines (HIGH: one hour): 10:00 for the first ticket, 10:05 for the second.
    let first = Ticket::new("7101", start, "HIGH");
    assert_eq!(app.post_zendesk(&first.created()).await.status(), 202);
    app.advance_to(berlin("2026-12-01T09:05"));
    let second = Ticket::new("7102", berlin("2026-12-01T09:05"), "HIGH");
    assert_eq!(app.post_zendesk(&second.created()).await.status(), 202);

    app.advance_to(berlin("2026-12-01T10:00"));
    let due = Instant::now();
    let throttled = app
        .wait_for_pagerduty(1, is_event("trigger", "zendesk-7101/dispatch"))
        .await;
    assert!(!throttled.is_empty(), "the first page reached PagerDuty");
    let breach = app.wait_for_slack(1, mentions("7101")).await;
    let first_late = due.elapsed();
    assert_eq!(breach.len(), 1, "the first breach reached Slack");

    // PagerDuty is still busy with the first page: the second deadline comes due.
    app.advance_to(berlin("2026-12-01T10:05"));
    let due = Instant::now();
    let breach = app.wait_for_slack(1, mentions("7102")).await;
    let second_late = due.elapsed();
    assert_eq!(breach.len(), 1, "the second breach reached Slack");
    let case = app.case("zendesk-7102").await;
    assert_eq!(case["clocks"]["dispatch"]["state"], "breached", "{case}");
    println!(
        "under a PagerDuty brownout: first breach in Slack {} ms after its due time, \
         second {} ms after its due time",
        first_late.as_millis(),
        second_late.as_millis()
    );
    assert!(first_late < Duration::from_secs(2), "{first_late:?}");
    assert!(second_late < Duration::from_secs(2), "{second_late:?}");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slack_message_slower_than_the_lease_is_sent_once() {
    let start = berlin("2026-12-01T11:00");
    let settings = EngineSettings {
        delivery_lease: Duration::from_secs(1),
        ..fast_settings()
    };
    let app = TestApp::spawn_with_engine(start, false, settings).await;
    // Slack answers after 3 s: three leases.
    Mock::given(method("POST"))
        .and(path(SLACK_PATH))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string("ok")
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&app.slack)
        .await;
    tests::mount_default_answers(&app.pagerduty, &app.slack).await;

    // The clock follows real time, so that leases run out as they would.
    let clock = app.clock.clone();
    let ticking = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            clock.set(clock.now() + SignedDuration::from_millis(50));
        }
    });

    let chat = intercom_conversation("conversation.user.created", "1301", start, start, "a@b.org");
    assert_eq!(app.post_intercom(&chat).await.status(), 202);
    tokio::time::sleep(Duration::from_millis(4500)).await;
    ticking.abort();

    let posts = app.slack.received_requests().await.unwrap();
    assert_eq!(posts.len(), 1, "the new chat was posted to Slack once");
    let case = app.case("intercom-1301").await;
    let slack = case["effects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|effect| effect["key"].as_str().unwrap().ends_with("/slack/new_chat"))
        .cloned()
        .unwrap();
    assert_eq!(slack["state"], "delivered", "{case}");
    assert_eq!(slack["attempts"], 1, "{case}");
    app.shutdown().await;
}
