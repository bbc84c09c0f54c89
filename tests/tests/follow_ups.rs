//! Follow-ups end to end through the real local server (docs/policy.md rule 6): a customer's
//! reply after an agent's answer, a reopened ticket, and a pending ticket.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::Timestamp;
use serde_json::{Value, json};
use tests::payloads::{Ticket, berlin};
use tests::{TestApp, is_event, settle};

/// A public comment by the ticket's requester (not staff), as Zendesk sends `comment_added`.
fn customer_comment(ticket: &Ticket, time: Timestamp) -> Value {
    ticket.event(
        "comment_added",
        time,
        json!({
            "comment": {
                "id": "58789194475546",
                "body": "It is broken again.",
                "html_body": "<p>It is broken again.</p>",
                "is_public": true,
                "author": { "id": "8447388090495", "is_staff": false, "name": "Jane Doe" }
            },
            "meta": { "sequence": { "id": "a2", "position": 2 } }
        }),
    )
}

fn next_response_pages(events: &[Value], key: &str) -> usize {
    events
        .iter()
        .filter(|event| is_event("trigger", key)(event))
        .count()
}

/// An assigned `HIGH` ticket (4 business hours) received Tuesday 2026-12-01 09:00 and
/// answered at 09:30.
async fn answered_ticket(app: &TestApp, id: &str) -> Ticket {
    let received = berlin("2026-12-01T09:00");
    let mut ticket = Ticket::new(id, received, "HIGH");
    assert_eq!(app.post_zendesk(&ticket.created()).await.status(), 202);
    let assigned = ticket.assigned("8447388090494", berlin("2026-12-01T09:05"));
    app.advance_to(berlin("2026-12-01T09:05"));
    assert_eq!(app.post_zendesk(&assigned).await.status(), 202);
    app.advance_to(berlin("2026-12-01T09:30"));
    let reply = ticket.public_staff_comment(berlin("2026-12-01T09:30"));
    assert_eq!(app.post_zendesk(&reply).await.status(), 202);
    ticket
}

#[tokio::test]
async fn an_unanswered_follow_up_pages_once_under_next_response_and_the_agents_reply_resolves_it() {
    let app = TestApp::spawn(berlin("2026-12-01T09:00")).await;
    let ticket = answered_ticket(&app, "7101").await;
    let key = "zendesk-7101/next_response";

    app.advance_to(berlin("2026-12-01T10:00"));
    let follow_up = customer_comment(&ticket, berlin("2026-12-01T10:00"));
    assert_eq!(app.post_zendesk(&follow_up).await.status(), 202);
    let case = app.case("zendesk-7101").await;
    assert_eq!(case["clocks"]["next_response"]["state"], "pending");
    assert_eq!(
        case["clocks"]["next_response"]["due"],
        "2026-12-01T13:00:00Z"
    );
    assert_eq!(case["next_response"]["round"], 1);
    let html = app
        .http
        .get(format!("{}/cases/zendesk-7101", app.base_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("<tr class=\"clock pending\"><td>next_response</td>"),
        "{html}"
    );
    assert!(html.contains("next_response: follow-up 1 since"), "{html}");

    app.advance_to(berlin("2026-12-01T13:59"));
    settle().await;
    assert_eq!(next_response_pages(&app.pagerduty_events().await, key), 0);

    app.advance_to(berlin("2026-12-01T14:00"));
    let pages = app.wait_for_pagerduty(1, is_event("trigger", key)).await;
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0]["payload"]["severity"], "error");
    app.advance_to(berlin("2026-12-01T14:30"));
    settle().await;
    assert_eq!(
        next_response_pages(&app.pagerduty_events().await, key),
        1,
        "one page per breach"
    );

    let reply = ticket.public_staff_comment(berlin("2026-12-01T14:30"));
    assert_eq!(app.post_zendesk(&reply).await.status(), 202);
    let resolves = app.wait_for_pagerduty(1, is_event("resolve", key)).await;
    assert_eq!(resolves.len(), 1);
    let case = app.case("zendesk-7101").await;
    assert_eq!(case["clocks"]["next_response"]["state"], "met_late");
    // The timeline tells the follow-up's story: started (its timers), warned, breached (the
    // page), met (the resolve).
    let decided: Vec<&str> = case["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["type"] == "decided")
        .filter_map(|entry| entry["effect"].as_str())
        .filter(|effect| effect.contains("next_response"))
        // Whether a timer or the due loop's sweep decided first, a timer may be cancelled too.
        .filter(|effect| !effect.starts_with("cancel "))
        .collect();
    assert_eq!(
        decided,
        [
            "schedule next_response_warning timer at 2026-12-01T12:00:00Z",
            "schedule next_response timer at 2026-12-01T13:00:00Z",
            "tell Slack: next_response_warning",
            "write the next_response breach back into the ticket",
            "page on-call: next_response (error)",
            "resolve page: next_response",
        ],
        "{}",
        case["timeline"]
    );
    assert!(
        !case["open_alerts"]
            .as_array()
            .unwrap()
            .contains(&json!("next_response"))
    );

    // A second follow-up, also unanswered, pages again under the same dedup key.
    app.advance_to(berlin("2026-12-01T15:00"));
    let again = customer_comment(&ticket, berlin("2026-12-01T15:00"));
    assert_eq!(app.post_zendesk(&again).await.status(), 202);
    app.advance_to(berlin("2026-12-01T19:00"));
    let pages = app.wait_for_pagerduty(2, is_event("trigger", key)).await;
    assert_eq!(
        pages.len(),
        2,
        "the second follow-up's breach is a page of its own"
    );
    assert_eq!(app.case("zendesk-7101").await["next_response"]["round"], 2);
    app.shutdown().await;
}

#[tokio::test]
async fn a_pending_ticket_runs_no_next_response_clock_until_the_customer_writes() {
    let app = TestApp::spawn(berlin("2026-12-01T09:00")).await;
    let mut ticket = answered_ticket(&app, "7102").await;
    let key = "zendesk-7102/next_response";

    app.advance_to(berlin("2026-12-01T09:31"));
    let pending = ticket.status_changed("PENDING", berlin("2026-12-01T09:31"));
    assert_eq!(app.post_zendesk(&pending).await.status(), 202);
    let case = app.case("zendesk-7102").await;
    assert!(case["clocks"].get("next_response").is_none(), "{case}");

    // A customer follow-up just before going pending: its clock stops while pending.
    app.advance_to(berlin("2026-12-01T10:00"));
    let follow_up = customer_comment(&ticket, berlin("2026-12-01T10:00"));
    assert_eq!(app.post_zendesk(&follow_up).await.status(), 202);
    assert_eq!(
        app.case("zendesk-7102").await["clocks"]["next_response"]["state"],
        "pending"
    );
    app.advance_to(berlin("2026-12-01T10:05"));
    let pending = ticket.status_changed("PENDING", berlin("2026-12-01T10:05"));
    assert_eq!(app.post_zendesk(&pending).await.status(), 202);
    let case = app.case("zendesk-7102").await;
    assert_eq!(case["clocks"]["next_response"]["state"], "cancelled");

    app.advance_to(berlin("2026-12-02T09:00"));
    settle().await;
    assert_eq!(
        next_response_pages(&app.pagerduty_events().await, key),
        0,
        "a pending ticket never pages for its next response"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_ticket_solved_without_a_reply_and_reopened_is_tracked_again_and_pages() {
    let received = berlin("2026-12-01T09:00");
    let app = TestApp::spawn(received).await;
    let mut ticket = Ticket::new("7103", received, "HIGH");
    assert_eq!(app.post_zendesk(&ticket.created()).await.status(), 202);
    let assigned = ticket.assigned("8447388090494", berlin("2026-12-01T09:05"));
    app.advance_to(berlin("2026-12-01T09:05"));
    assert_eq!(app.post_zendesk(&assigned).await.status(), 202);
    app.advance_to(berlin("2026-12-01T09:10"));
    let solved = ticket.status_changed("SOLVED", berlin("2026-12-01T09:10"));
    assert_eq!(app.post_zendesk(&solved).await.status(), 202);

    app.advance_to(berlin("2026-12-01T10:00"));
    let reopened = ticket.status_changed("OPEN", berlin("2026-12-01T10:00"));
    assert_eq!(app.post_zendesk(&reopened).await.status(), 202);
    let case = app.case("zendesk-7103").await;
    assert_eq!(case["state"], "open");
    assert_eq!(case["clocks"]["first_response"]["state"], "cancelled");
    assert_eq!(case["clocks"]["next_response"]["state"], "pending");

    app.advance_to(berlin("2026-12-01T14:00"));
    let pages = app
        .wait_for_pagerduty(1, is_event("trigger", "zendesk-7103/next_response"))
        .await;
    assert_eq!(pages.len(), 1);
    app.shutdown().await;
}

#[tokio::test]
async fn a_ticket_an_agent_opens_for_a_customer_is_not_answered_by_its_own_description() {
    let received = berlin("2026-12-01T09:00");
    let app = TestApp::spawn(received).await;
    let ticket = Ticket::new("7104", received, "HIGH");
    assert_eq!(app.post_zendesk(&ticket.created()).await.status(), 202);
    // The description, written by the agent who opened the ticket: a public staff comment.
    let description = ticket.public_staff_comment(received);
    assert_eq!(app.post_zendesk(&description).await.status(), 202);
    let case = app.case("zendesk-7104").await;
    assert_eq!(
        case["clocks"]["first_response"]["state"], "pending",
        "{case}"
    );

    app.advance_to(berlin("2026-12-01T13:00"));
    let pages = app
        .wait_for_pagerduty(1, is_event("trigger", "zendesk-7104/first_response"))
        .await;
    assert_eq!(
        pages.len(),
        1,
        "still unanswered at the first-response deadline"
    );
    app.shutdown().await;
}
