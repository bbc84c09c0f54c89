//! The systems of record, end to end through the real local server with Zendesk and Intercom
//! on wiremock stand-ins: tickets first seen late are adopted as they are, comments without
//! author details are accepted, Enterprise comes from the account.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use std::collections::HashMap;
use tests::payloads::{Ticket, berlin, intercom_conversation};
use tests::{TestApp, settle, wait_for};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const INTERCOM_TOKEN: &str = "aW50ZXJjb20tdGVzdA==";
const ADMIN_ID: &str = "814860";

fn zendesk_env(zendesk: &MockServer) -> HashMap<String, String> {
    HashMap::from([
        (
            "ZENDESK_API_EMAIL".to_owned(),
            "agent@example.org".to_owned(),
        ),
        ("ZENDESK_API_TOKEN".to_owned(), "Zt0kenSECRET".to_owned()),
        ("ZENDESK_API_URL".to_owned(), zendesk.uri()),
    ])
}

/// A ticket received 60 days before `now`, on a working-day morning.
fn old_ticket(id: &str, now: domain::Timestamp) -> Ticket {
    let mut ticket = Ticket::new(
        id,
        now - domain::jiff::SignedDuration::from_hours(24 * 60),
        "HIGH",
    );
    ticket.status = "OPEN";
    ticket
}

/// `ticket.comment_added` by the requester (a customer), with `author` as given.
fn comment(ticket: &Ticket, at: domain::Timestamp, public: bool, author: Value) -> Value {
    ticket.event(
        "comment_added",
        at,
        json!({
            "comment": {
                "id": "58789194475599",
                "body": "Any news?",
                "html_body": "<p>Any news?</p>",
                "is_public": public,
                "author": author
            }
        }),
    )
}

fn requests_to(requests: &[wiremock::Request], wanted: &str) -> usize {
    requests.iter().filter(|r| r.url.path() == wanted).count()
}

async fn pages_for(app: &TestApp, case_id: &str) -> Vec<Value> {
    let prefix = format!("{case_id}/");
    app.pagerduty_events()
        .await
        .into_iter()
        .filter(|event| {
            event["dedup_key"]
                .as_str()
                .is_some_and(|key| key.starts_with(&prefix))
        })
        .collect()
}

#[tokio::test]
async fn a_customer_comment_on_an_old_answered_ticket_pages_nothing_after_reading_its_metrics() {
    let zendesk = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/6001/metrics"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ticket_metric": {
                "ticket_id": 6001,
                "replies": 2,
                "initially_assigned_at": null,
                "assigned_at": null,
                "reply_time_in_minutes": { "calendar": 20, "business": 20 }
            }
        })))
        .mount(&zendesk)
        .await;
    let app =
        TestApp::spawn_with_env(berlin("2026-12-01T10:00"), true, zendesk_env(&zendesk)).await;
    let ticket = old_ticket("6001", app.now());

    let author = json!({ "id": "8447388090495", "is_staff": false, "name": "Jane Doe" });
    let response = app
        .post_zendesk(&comment(&ticket, app.now(), true, author))
        .await;
    assert_eq!(response.status(), 202);
    settle().await;

    let requests = zendesk.received_requests().await.unwrap();
    assert_eq!(
        requests_to(&requests, "/api/v2/tickets/6001/metrics"),
        1,
        "{requests:?}"
    );
    let pages = pages_for(&app, "zendesk-6001").await;
    assert!(pages.is_empty(), "{pages:?}");
    let case = app.case("zendesk-6001").await;
    assert_eq!(case["clocks"]["first_response"]["state"], "met", "{case}");
    // The customer's comment after the agents' replies is a follow-up: its clock runs.
    assert_eq!(
        case["clocks"]["next_response"]["state"], "pending",
        "{case}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn an_old_ticket_that_was_never_answered_still_pages() {
    let zendesk = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/6002/metrics"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ticket_metric": { "replies": 0, "reply_time_in_minutes": { "calendar": null } }
        })))
        .mount(&zendesk)
        .await;
    let app =
        TestApp::spawn_with_env(berlin("2026-12-01T10:00"), true, zendesk_env(&zendesk)).await;
    let mut ticket = old_ticket("6002", app.now());
    let event = ticket.status_changed("OPEN", app.now());
    assert_eq!(app.post_zendesk(&event).await.status(), 202);

    let pages = app
        .wait_for_pagerduty(1, tests::is_event("trigger", "zendesk-6002/first_response"))
        .await;
    assert_eq!(pages.len(), 1, "{pages:?}");
    app.shutdown().await;
}

#[tokio::test]
async fn without_api_credentials_an_old_ticket_first_seen_pages_nothing_and_says_adopted_outcome_unknown()
 {
    let app = TestApp::spawn(berlin("2026-12-01T10:00")).await;
    let mut ticket = old_ticket("6003", app.now());
    let event = ticket.status_changed("OPEN", app.now());
    assert_eq!(app.post_zendesk(&event).await.status(), 202);
    settle().await;

    let pages = pages_for(&app, "zendesk-6003").await;
    assert!(pages.is_empty(), "{pages:?}");
    let case = app.case("zendesk-6003").await;
    let first_response = &case["clocks"]["first_response"];
    assert_eq!(first_response["state"], "cancelled", "{case}");
    assert_eq!(
        first_response["adopted"], "adopted, outcome unknown",
        "{case}"
    );
    assert!(first_response.get("breached_at").is_none(), "{case}");
    let timeline = case["timeline"].to_string();
    assert!(
        timeline.contains("first response: adopted, outcome unknown"),
        "{timeline}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_comment_without_author_details_is_accepted_and_its_author_looked_up() {
    let zendesk = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/users/900"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "user": { "id": 900, "role": "agent" } })),
        )
        .mount(&zendesk)
        .await;
    let app =
        TestApp::spawn_with_env(berlin("2026-12-01T10:00"), true, zendesk_env(&zendesk)).await;
    let ticket = Ticket::new("6004", app.now(), "HIGH");
    assert_eq!(app.post_zendesk(&ticket.created()).await.status(), 202);

    let later = berlin("2026-12-01T10:05");
    app.advance_to(later);
    let response = app
        .post_zendesk(&comment(&ticket, later, true, json!({ "id": "900" })))
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    settle().await;

    let case = app.case("zendesk-6004").await;
    assert_eq!(case["clocks"]["first_response"]["state"], "met", "{case}");
    let requests = zendesk.received_requests().await.unwrap();
    assert_eq!(requests_to(&requests, "/api/v2/users/900"), 1);
    app.shutdown().await;
}

#[tokio::test]
async fn without_the_api_a_comment_without_author_details_gets_2xx_and_is_no_response() {
    let app = TestApp::spawn(berlin("2026-12-01T10:00")).await;
    let ticket = Ticket::new("6005", app.now(), "HIGH");
    assert_eq!(app.post_zendesk(&ticket.created()).await.status(), 202);

    let mut event = comment(&ticket, berlin("2026-12-01T10:05"), true, json!({}));
    event["event"]["comment"]
        .as_object_mut()
        .unwrap()
        .remove("author");
    let response = app.post_zendesk(&event).await;
    assert!(response.status().is_success(), "{}", response.status());

    let case = app.case("zendesk-6005").await;
    assert_eq!(
        case["clocks"]["first_response"]["state"], "pending",
        "{case}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_ticket_of_an_enterprise_organization_is_on_the_24x7_plan() {
    let zendesk = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/organizations/8447346622462"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "organization": { "id": 8447346622462_u64, "tags": ["enterprise"] }
        })))
        .mount(&zendesk)
        .await;
    let app =
        TestApp::spawn_with_env(berlin("2026-12-01T10:00"), true, zendesk_env(&zendesk)).await;
    let ticket = Ticket::new("6006", app.now(), "NORMAL");
    assert_eq!(app.post_zendesk(&ticket.created()).await.status(), 202);

    let case = app.case("zendesk-6006").await;
    assert_eq!(case["plan"], "24x7", "{case}");
    app.shutdown().await;
}

#[tokio::test]
async fn an_unanswered_chat_from_an_enterprise_company_is_on_the_24x7_plan_and_gets_the_german_offer()
 {
    let intercom = MockServer::start().await;
    let auth = format!("Bearer {INTERCOM_TOKEN}");
    Mock::given(method("GET"))
        .and(path("/contacts/5ba682d23d7cf92bef87bfd4"))
        .and(header("authorization", auth.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "type": "contact", "id": "5ba682d23d7cf92bef87bfd4", "custom_attributes": {}
        })))
        .mount(&intercom)
        .await;
    Mock::given(method("GET"))
        .and(path("/contacts/5ba682d23d7cf92bef87bfd4/companies"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "type": "list",
            "data": [{ "type": "company", "id": "co-1", "custom_attributes": { "plan": "enterprise" } }]
        })))
        .mount(&intercom)
        .await;
    Mock::given(method("POST"))
        .and(path("/conversations/7301/reply"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "type": "conversation", "id": "7301" })),
        )
        .mount(&intercom)
        .await;
    let env = HashMap::from([
        (
            "INTERCOM_ACCESS_TOKEN".to_owned(),
            INTERCOM_TOKEN.to_owned(),
        ),
        ("INTERCOM_API_URL".to_owned(), intercom.uri()),
        ("INTERCOM_ADMIN_ID".to_owned(), ADMIN_ID.to_owned()),
    ]);
    let app = TestApp::spawn_with_env(berlin("2026-12-01T09:00"), true, env).await;
    let now = app.now();
    let chat = intercom_conversation(
        "conversation.user.created",
        "7301",
        now,
        now,
        "jane@example.org",
    );
    assert_eq!(app.post_intercom(&chat).await.status(), 202);
    let case = app.case("intercom-7301").await;
    assert_eq!(case["plan"], "24x7", "{case}");

    app.advance_to(berlin("2026-12-01T09:11"));
    let replies = wait_for(&intercom, 1, |_| true).await;
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(replies[0]["admin_id"], ADMIN_ID);
    let body = replies[0]["body"].as_str().unwrap();
    assert!(body.contains("E-Mail"), "{body}");
    app.shutdown().await;
}

#[tokio::test]
async fn an_overdue_enterprise_ticket_gets_an_internal_note_and_the_breach_tag_in_zendesk() {
    let zendesk = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/6007"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "ticket": { "id": 6007 } })))
        .mount(&zendesk)
        .await;
    let app =
        TestApp::spawn_with_env(berlin("2026-12-01T10:00"), true, zendesk_env(&zendesk)).await;
    let mut ticket = Ticket::new("6007", app.now(), "URGENT");
    ticket.tags.push("enterprise".into());
    assert_eq!(app.post_zendesk(&ticket.created()).await.status(), 202);
    assert_eq!(app.case("zendesk-6007").await["plan"], "24x7");

    app.advance_to(berlin("2026-12-01T14:00"));
    let notes = wait_for(&zendesk, 2, |body| {
        body["ticket"]["comment"]["public"] == false
            && body["ticket"]["additional_tags"] == json!(["sla_breached"])
    })
    .await;
    assert_eq!(notes.len(), 2, "{notes:?}");
    let texts: Vec<&str> = notes
        .iter()
        .map(|note| note["ticket"]["comment"]["body"].as_str().unwrap())
        .collect();
    assert!(
        texts.iter().any(|text| text.contains("first response")),
        "{texts:?}"
    );
    assert!(
        texts.iter().any(|text| text.contains("dispatch")),
        "{texts:?}"
    );
    let requests = zendesk.received_requests().await.unwrap();
    assert!(
        requests
            .iter()
            .filter(|r| r.method.as_str() == "PUT")
            .all(|r| r.url.path() == "/api/v2/tickets/6007"),
        "{requests:?}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_failing_metrics_lookup_loses_no_event_and_pages_nothing_for_the_past() {
    let zendesk = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/6008/metrics"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&zendesk)
        .await;
    let app =
        TestApp::spawn_with_env(berlin("2026-12-01T10:00"), true, zendesk_env(&zendesk)).await;
    let mut ticket = old_ticket("6008", app.now());
    let event = ticket.status_changed("OPEN", app.now());
    assert_eq!(app.post_zendesk(&event).await.status(), 202);
    settle().await;

    let requests = zendesk.received_requests().await.unwrap();
    assert!(
        requests_to(&requests, "/api/v2/tickets/6008/metrics") >= 1,
        "{requests:?}"
    );
    assert!(pages_for(&app, "zendesk-6008").await.is_empty());
    let case = app.case("zendesk-6008").await;
    assert_eq!(
        case["clocks"]["first_response"]["adopted"], "adopted, outcome unknown",
        "{case}"
    );
    app.shutdown().await;
}
