//! End to end through the real local server: signed webhooks in, PagerDuty and Slack (wiremock)
//! out, time from a clock the test moves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use tests::payloads::{Ticket, berlin, intercom_conversation, twilio_recording};
use tests::{PAGERDUTY_PATH, ROUTING_KEY, SLACK_PATH, TestApp, is_event, settle};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

fn triggers(events: &[Value]) -> Vec<&Value> {
    events
        .iter()
        .filter(|e| e["event_action"] == "trigger")
        .collect()
}

#[tokio::test]
async fn an_out_of_hours_ticket_pages_at_once() {
    let saturday = berlin("2026-11-28T10:00");
    let app = TestApp::spawn(saturday).await;
    let ticket = Ticket::new("7001", saturday, "NORMAL");
    assert_eq!(app.post_zendesk(&ticket.created()).await.status(), 202);

    let pages = app
        .wait_for_pagerduty(1, is_event("trigger", "zendesk-7001/out_of_hours"))
        .await;
    assert_eq!(pages.len(), 1);
    let page = &pages[0];
    assert_eq!(page["routing_key"], ROUTING_KEY);
    assert_eq!(page["payload"]["severity"], "warning");
    assert_eq!(page["payload"]["group"], "c42");
    assert_eq!(page["payload"]["component"], "shop-example-org");
    let case = app.case("zendesk-7001").await;
    assert_eq!(case["out_of_hours"], true);
    assert_eq!(case["clocks"]["dispatch"]["due"], "2026-11-30T08:00:00Z");
    app.shutdown().await;
}

#[tokio::test]
async fn an_unassigned_in_hours_ticket_pages_at_the_dispatch_deadline_and_resolves_when_assigned() {
    let received = berlin("2026-12-01T09:00");
    let app = TestApp::spawn(received).await;
    let mut ticket = Ticket::new("7002", received, "HIGH");
    assert_eq!(app.post_zendesk(&ticket.created()).await.status(), 202);
    settle().await;
    assert!(
        triggers(&app.pagerduty_events().await).is_empty(),
        "nothing is due yet"
    );

    app.advance_to(berlin("2026-12-01T09:59"));
    settle().await;
    assert!(
        triggers(&app.pagerduty_events().await).is_empty(),
        "a minute early"
    );

    app.advance_to(berlin("2026-12-01T10:00"));
    let pages = app
        .wait_for_pagerduty(1, is_event("trigger", "zendesk-7002/dispatch"))
        .await;
    assert_eq!(pages.len(), 1, "the dispatch deadline pages");
    assert_eq!(pages[0]["payload"]["severity"], "error");
    let slack = app.wait_for_slack(1, |_| true).await;
    assert_eq!(slack.len(), 1, "and tells Slack");

    app.advance_to(berlin("2026-12-01T10:20"));
    let assigned = ticket.assigned("8447388090496", berlin("2026-12-01T10:20"));
    assert_eq!(app.post_zendesk(&assigned).await.status(), 202);
    let resolves = app
        .wait_for_pagerduty(1, is_event("resolve", "zendesk-7002/dispatch"))
        .await;
    assert_eq!(resolves.len(), 1);
    assert_eq!(resolves[0]["routing_key"], ROUTING_KEY);
    let case = app.case("zendesk-7002").await;
    assert_eq!(case["clocks"]["dispatch"]["state"], "met_late");
    app.shutdown().await;
}

#[tokio::test]
async fn a_ticket_created_past_its_deadline_pages_at_once() {
    let app = TestApp::spawn(berlin("2026-12-01T12:00")).await;
    let ticket = Ticket::new("7003", berlin("2026-12-01T09:00"), "URGENT");
    assert_eq!(app.post_zendesk(&ticket.created()).await.status(), 202);
    let dispatch = app
        .wait_for_pagerduty(1, is_event("trigger", "zendesk-7003/dispatch"))
        .await;
    let response = app
        .wait_for_pagerduty(1, is_event("trigger", "zendesk-7003/first_response"))
        .await;
    assert_eq!((dispatch.len(), response.len()), (1, 1));
    assert_eq!(response[0]["payload"]["severity"], "critical");
    app.shutdown().await;
}

#[tokio::test]
async fn a_public_staff_reply_resolves_the_first_response_page_and_solving_cancels_the_timers() {
    let received = berlin("2026-12-01T09:00");
    let app = TestApp::spawn(berlin("2026-12-01T09:40")).await;
    let mut ticket = Ticket::new("7004", received, "URGENT");
    app.post_zendesk(&ticket.created()).await;
    let pages = app
        .wait_for_pagerduty(1, is_event("trigger", "zendesk-7004/first_response"))
        .await;
    assert_eq!(pages.len(), 1);

    app.post_zendesk(&ticket.public_staff_comment(berlin("2026-12-01T09:41")))
        .await;
    let resolves = app
        .wait_for_pagerduty(1, is_event("resolve", "zendesk-7004/first_response"))
        .await;
    assert_eq!(resolves.len(), 1);

    let solved = ticket.status_changed("SOLVED", berlin("2026-12-01T09:45"));
    assert_eq!(app.post_zendesk(&solved).await.status(), 202);
    let case = app.case("zendesk-7004").await;
    assert_eq!(case["state"], "solved");
    assert_eq!(case["next_due"], Value::Null, "no timer is left: {case}");
    assert_eq!(case["clocks"]["first_response"]["state"], "met_late");
    assert!(case["open_alerts"].as_array().unwrap().is_empty(), "{case}");
    app.shutdown().await;
}

#[tokio::test]
async fn a_voicemail_pages_critical_at_any_hour() {
    for local in ["2026-12-01T11:00", "2026-12-06T03:00"] {
        let now = berlin(local);
        let app = TestApp::spawn(now).await;
        let sid = "RE0123456789abcdef0123456789abcdef";
        let response = app
            .post_twilio(&twilio_recording(sid, "completed", now))
            .await;
        assert_eq!(response.status(), 202, "{local}");
        // The case is the call's: the recording callback names it by CallSid.
        let dedup = "twilio-CA0123456789abcdef0123456789abcdef/voicemail";
        let pages = app.wait_for_pagerduty(1, is_event("trigger", dedup)).await;
        assert_eq!(pages.len(), 1, "{local}");
        assert_eq!(pages[0]["payload"]["severity"], "critical");
        assert_eq!(app.wait_for_slack(1, |_| true).await.len(), 1, "{local}");
        app.shutdown().await;
    }
}

#[tokio::test]
async fn a_new_chat_notifies_slack() {
    let now = berlin("2026-12-01T11:00");
    let app = TestApp::spawn(now).await;
    let chat = intercom_conversation(
        "conversation.user.created",
        "1295",
        now,
        now,
        "jane@example.org",
    );
    assert_eq!(app.post_intercom(&chat).await.status(), 202);
    let messages = app.wait_for_slack(1, |_| true).await;
    assert_eq!(messages.len(), 1);
    assert!(
        messages[0]["text"]
            .as_str()
            .unwrap()
            .contains("intercom-1295"),
        "{}",
        messages[0]
    );
    let case = app.case("intercom-1295").await;
    assert_eq!(case["channel"], "chat");
    assert_eq!(
        case["clocks"]["chat_fallback"]["due"],
        "2026-12-01T10:10:00Z"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn the_same_event_delivered_fifty_times_at_once_is_applied_once_and_pages_once() {
    let saturday = berlin("2026-11-28T10:00");
    let app = TestApp::spawn(saturday).await;
    let created = Ticket::new("7005", saturday, "HIGH").created();
    let deliveries = (0..50).map(|_| app.post_zendesk(&created));
    let statuses: Vec<u16> = futures_statuses(deliveries).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 202).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        49,
        "{statuses:?}"
    );

    app.wait_for_pagerduty(1, is_event("trigger", "zendesk-7005/out_of_hours"))
        .await;
    settle().await;
    let pages = app.pagerduty_events().await;
    assert_eq!(triggers(&pages).len(), 1, "{pages:?}");
    let case = app.case("zendesk-7005").await;
    assert_eq!(case["version"], 1, "one case update");
    let events = case["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "event")
        .count();
    assert_eq!(events, 1);
    app.shutdown().await;
}

async fn futures_statuses(
    requests: impl Iterator<Item = impl std::future::Future<Output = reqwest::Response>>,
) -> Vec<u16> {
    let handles: Vec<_> = requests.collect();
    let mut statuses = Vec::new();
    let joined = join_all(handles).await;
    for response in joined {
        statuses.push(response.status().as_u16());
    }
    statuses
}

/// Runs the futures concurrently on this task.
async fn join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in pinned.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(|o| o.unwrap()).collect()
}

#[tokio::test]
async fn pagerduty_failing_twice_then_accepting_gives_exactly_one_accepted_trigger() {
    let saturday = berlin("2026-11-28T10:00");
    let app = TestApp::spawn_with(saturday, false).await;
    Mock::given(method("POST"))
        .and(path(PAGERDUTY_PATH))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(2)
        .mount(&app.pagerduty)
        .await;
    tests::mount_default_answers(&app.pagerduty, &app.slack).await;

    app.post_zendesk(&Ticket::new("7006", saturday, "HIGH").created())
        .await;
    let attempts = app
        .wait_for_pagerduty(3, is_event("trigger", "zendesk-7006/out_of_hours"))
        .await;
    assert_eq!(attempts.len(), 3, "two failures and one success");
    settle().await;
    assert_eq!(
        triggers(&app.pagerduty_events().await).len(),
        3,
        "no attempt after the 202"
    );
    let case = app.case("zendesk-7006").await;
    let effect = &case["effects"][0];
    assert_eq!(effect["state"], "delivered", "{case}");
    app.shutdown().await;
}

#[tokio::test]
async fn pagerduty_refusing_an_event_marks_it_failed_visibly_without_retrying() {
    let saturday = berlin("2026-11-28T10:00");
    let app = TestApp::spawn_with(saturday, false).await;
    Mock::given(method("POST"))
        .and(path(PAGERDUTY_PATH))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "status": "invalid event", "message": "Event object is invalid", "errors": ["Length of 'routing_key' is incorrect"]
        })))
        .mount(&app.pagerduty)
        .await;
    tests::mount_default_answers(&app.pagerduty, &app.slack).await;

    app.post_zendesk(&Ticket::new("7007", saturday, "HIGH").created())
        .await;
    app.wait_for_pagerduty(1, |_| true).await;
    // The due loop sweeps every 50 ms; a retry loop would show up within a second.
    for _ in 0..4 {
        settle().await;
    }
    assert_eq!(app.pagerduty_events().await.len(), 1, "exactly one request");
    let case = app.case("zendesk-7007").await;
    let effect = &case["effects"][0];
    assert_eq!(effect["state"], "failed", "{case}");
    assert!(
        effect["last_error"].as_str().unwrap().contains("invalid"),
        "{effect}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_slack_outage_does_not_hold_back_the_page_of_the_same_chat() {
    let now = berlin("2026-12-01T11:00");
    let app = TestApp::spawn_with(now, false).await;
    Mock::given(method("POST"))
        .and(path(SLACK_PATH))
        .respond_with(ResponseTemplate::new(503))
        .mount(&app.slack)
        .await;
    tests::mount_default_answers(&app.pagerduty, &app.slack).await;

    // In hours a new chat decides a Slack message first, then an info page.
    let chat = intercom_conversation("conversation.user.created", "1296", now, now, "a@b.org");
    assert_eq!(app.post_intercom(&chat).await.status(), 202);
    let pages = app
        .wait_for_pagerduty(1, is_event("trigger", "intercom-1296/chat"))
        .await;
    assert_eq!(pages.len(), 1, "the page went out");

    // The page went out while the Slack message is still waiting for its retry, not after
    // the Slack message ran out of attempts.
    let case = app.case("intercom-1296").await;
    let state_of = |suffix: &str| {
        case["effects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|effect| effect["key"].as_str().unwrap().ends_with(suffix))
            .map(|effect| effect["state"].clone())
    };
    assert_eq!(
        state_of("/slack/new_chat"),
        Some(json!("pending")),
        "{case}"
    );
    assert!(!app.slack.received_requests().await.unwrap().is_empty());
    app.shutdown().await;
}

#[tokio::test]
async fn a_bad_signature_is_refused_and_writes_nothing() {
    let app = TestApp::spawn(berlin("2026-12-01T09:00")).await;
    let body =
        serde_json::to_vec(&Ticket::new("7008", berlin("2026-12-01T09:00"), "HIGH").created())
            .unwrap();
    let response = app
        .http
        .post(format!("{}/webhooks/zendesk", app.base_url))
        .header(
            "X-Zendesk-Webhook-Signature",
            "c2lnbmF0dXJlIGZyb20gc29tZWJvZHkgZWxzZQ==",
        )
        .header(
            "X-Zendesk-Webhook-Signature-Timestamp",
            "2026-12-01T08:00:00Z",
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let cases = app.cases().await;
    assert!(cases["cases"].as_array().unwrap().is_empty());
    let missing = app
        .http
        .get(format!("{}/api/cases/zendesk-7008", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    app.shutdown().await;
}

#[tokio::test]
async fn intercom_can_check_the_url_with_head_and_the_health_check_answers() {
    let app = TestApp::spawn(berlin("2026-12-01T09:00")).await;
    let head = app
        .http
        .head(format!("{}/webhooks/intercom", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    let health = app
        .http
        .get(format!("{}/healthz", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    app.shutdown().await;
}

#[tokio::test]
async fn a_second_server_on_the_same_data_directory_is_refused() {
    let app = TestApp::spawn(berlin("2026-12-01T09:00")).await;
    let second = local::runtime::start(local::runtime::ServerOptions {
        listener: tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        data_dir: app.data.path().to_owned(),
        policy: policy_file::default_policy().unwrap(),
        clock: std::sync::Arc::new(app.clock.clone()),
        lookup: std::sync::Arc::new(|_: &str| None),
        due_loop_idle: std::time::Duration::from_millis(50),
        engine: tests::fast_settings(),
    })
    .await;
    let error = second.expect_err("the second server must not start");
    assert!(error.to_string().contains("another server"), "{error}");
    app.shutdown().await;
}
