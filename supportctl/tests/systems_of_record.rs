//! Zendesk, Intercom and PagerDuty as systems of record, checked from outside against
//! `supportctl serve` with the providers on wiremock stand-ins and the real clock: a ticket
//! first seen late is adopted from its metrics, a comment without author details is accepted,
//! a breach is written back, PagerDuty acknowledgements are recorded and an Enterprise chat
//! gets the German offer in the chat.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use domain::Timestamp;
use domain::jiff::SignedDuration;
use providers::Secret;
use serde_json::{Value, json};
use std::time::Duration;
use tests::payloads::{Ticket, intercom_conversation, pagerduty_incident, pagerduty_person};
use tests::server_process::{ServerProcess, free_port};
use tests::{
    INTERCOM_SECRET, PAGERDUTY_PATH, PAGERDUTY_WEBHOOK_SECRET, ROUTING_KEY, SLACK_PATH,
    ZENDESK_SECRET,
};
use wiremock::matchers::{header, method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const INTERCOM_TOKEN: &str = "aW50ZXJjb20tc2VydmU=";
const ADMIN_ID: &str = "814860";
const CONTACT_ID: &str = "5ba682d23d7cf92bef87bfd4";

/// The stand-ins of one server: every provider it calls.
struct StandIns {
    zendesk: MockServer,
    intercom: MockServer,
    pagerduty: MockServer,
    slack: MockServer,
}

impl StandIns {
    async fn start() -> Self {
        let stand_ins = Self {
            zendesk: MockServer::start().await,
            intercom: MockServer::start().await,
            pagerduty: MockServer::start().await,
            slack: MockServer::start().await,
        };
        Mock::given(method("POST"))
            .and(path(PAGERDUTY_PATH))
            .respond_with(ResponseTemplate::new(202).set_body_json(json!({
                "status": "success", "message": "Event processed", "dedup_key": "k"
            })))
            .mount(&stand_ins.pagerduty)
            .await;
        Mock::given(method("POST"))
            .and(path(SLACK_PATH))
            .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
            .mount(&stand_ins.slack)
            .await;
        // The tickets' organization has no Enterprise tag; the ticket's own tags decide.
        Mock::given(method("GET"))
            .and(path_regex(r"^/api/v2/organizations/\d+$"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "organization": { "id": 8447346622462_u64, "name": "Shop", "tags": [] }
            })))
            .mount(&stand_ins.zendesk)
            .await;
        Mock::given(method("PUT"))
            .and(path_regex(r"^/api/v2/tickets/\d+$"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "ticket": {} })))
            .mount(&stand_ins.zendesk)
            .await;
        stand_ins
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("ZENDESK_WEBHOOK_SECRET", ZENDESK_SECRET.to_owned()),
            ("INTERCOM_CLIENT_SECRET", INTERCOM_SECRET.to_owned()),
            (
                "PAGERDUTY_WEBHOOK_SECRET",
                PAGERDUTY_WEBHOOK_SECRET.to_owned(),
            ),
            ("PAGERDUTY_ROUTING_KEY", ROUTING_KEY.to_owned()),
            (
                "PAGERDUTY_EVENTS_URL",
                format!("{}{PAGERDUTY_PATH}", self.pagerduty.uri()),
            ),
            (
                "SLACK_WEBHOOK_URL",
                format!("{}{SLACK_PATH}", self.slack.uri()),
            ),
            ("ZENDESK_API_EMAIL", "agent@example.org".to_owned()),
            ("ZENDESK_API_TOKEN", "Zt0kenSECRET".to_owned()),
            ("ZENDESK_API_URL", self.zendesk.uri()),
            ("INTERCOM_ACCESS_TOKEN", INTERCOM_TOKEN.to_owned()),
            ("INTERCOM_API_URL", self.intercom.uri()),
            ("INTERCOM_ADMIN_ID", ADMIN_ID.to_owned()),
        ]
    }

    /// The PagerDuty events (`trigger`, `resolve`) of one case.
    async fn pages_of(&self, case_id: &str) -> Vec<Value> {
        let prefix = format!("{case_id}/");
        self.pagerduty
            .received_requests()
            .await
            .unwrap()
            .iter()
            .map(|request| serde_json::from_slice::<Value>(&request.body).unwrap())
            .filter(|event| {
                event["dedup_key"]
                    .as_str()
                    .is_some_and(|key| key.starts_with(&prefix))
            })
            .collect()
    }
}

async fn start_server(stand_ins: &StandIns, data: &std::path::Path) -> ServerProcess {
    ServerProcess::start(
        std::path::Path::new(env!("CARGO_BIN_EXE_supportctl")),
        data,
        free_port(),
        &stand_ins.env(),
    )
    .await
}

async fn post_zendesk(server: &ServerProcess, event: &Value) -> reqwest::StatusCode {
    tests::signed::zendesk(
        &reqwest::Client::new(),
        &server.url,
        event,
        Timestamp::now(),
    )
    .send()
    .await
    .unwrap()
    .status()
}

async fn post_intercom(server: &ServerProcess, event: &Value) -> reqwest::StatusCode {
    tests::signed::intercom(&reqwest::Client::new(), &server.url, event)
        .send()
        .await
        .unwrap()
        .status()
}

async fn post_pagerduty(server: &ServerProcess, body: &Value, signature: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{}/webhooks/pagerduty", server.url))
        .header("Content-Type", "application/json")
        .header("X-PagerDuty-Signature", signature)
        .header("X-Webhook-Id", "5ac64822-6e4f-4d5b-9ba0-8ba3d5a4a1b2")
        .header("X-Webhook-Subscription", "PY1OQT4")
        .body(serde_json::to_vec(body).unwrap())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn case(server: &ServerProcess, case_id: &str) -> Value {
    let response = reqwest::Client::new()
        .get(format!("{}/api/cases/{case_id}", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "GET /api/cases/{case_id}");
    response.json().await.unwrap()
}

/// Ask `probe` again every 100 ms, for up to 15 s, until it finds something.
async fn eventually<T>(mut probe: impl AsyncFnMut() -> Option<T>) -> Option<T> {
    for _ in 0..150 {
        if let Some(found) = probe().await {
            return Some(found);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

/// `ticket.comment_added` by the requester, a customer, with `author` as given.
fn customer_comment(ticket: &Ticket, at: Timestamp, author: Option<Value>) -> Value {
    let mut comment = json!({
        "id": "58789194475599",
        "body": "Any news?",
        "html_body": "<p>Any news?</p>",
        "is_public": true
    });
    if let Some(author) = author {
        comment["author"] = author;
    }
    ticket.event("comment_added", at, json!({ "comment": comment }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follow_up_on_an_old_answered_ticket_pages_nothing_and_starts_its_next_response_clock() {
    let stand_ins = StandIns::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/8801/metrics"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ticket_metric": {
                "id": 33,
                "ticket_id": 8801,
                "replies": 2,
                "assigned_at": null,
                "initially_assigned_at": null,
                "solved_at": null,
                "reply_time_in_minutes": { "calendar": 20, "business": 20 }
            }
        })))
        .mount(&stand_ins.zendesk)
        .await;
    let data = tempfile::tempdir().unwrap();
    let server = start_server(&stand_ins, data.path()).await;

    let now = Timestamp::now();
    let mut ticket = Ticket::new(
        "8801",
        now.checked_sub(SignedDuration::from_hours(24 * 60))
            .unwrap(),
        "HIGH",
    );
    ticket.status = "OPEN";
    let author = json!({ "id": "8447388090495", "is_staff": false, "name": "Jane Doe" });
    let status = post_zendesk(&server, &customer_comment(&ticket, now, Some(author))).await;
    assert!(status.is_success(), "{status}");

    let clock = eventually(async || {
        let case = case(&server, "zendesk-8801").await;
        let clock = case["clocks"]["next_response"].clone();
        (!clock.is_null()).then_some(clock)
    })
    .await;
    assert_eq!(
        clock.as_ref().map(|clock| clock["state"].clone()),
        Some(json!("pending")),
        "{}",
        server.logs()
    );
    let metrics_calls = stand_ins
        .zendesk
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|request| request.url.path() == "/api/v2/tickets/8801/metrics")
        .count();
    assert_eq!(metrics_calls, 1);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        stand_ins.pages_of("zendesk-8801").await,
        Vec::<Value>::new()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_comment_without_author_details_is_accepted() {
    let stand_ins = StandIns::start().await;
    let data = tempfile::tempdir().unwrap();
    let server = start_server(&stand_ins, data.path()).await;

    let now = Timestamp::now();
    let ticket = Ticket::new("8802", now, "NORMAL");
    assert!(post_zendesk(&server, &ticket.created()).await.is_success());
    let status = post_zendesk(&server, &customer_comment(&ticket, now, None)).await;
    assert!(status.is_success(), "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overdue_enterprise_ticket_is_written_back_and_its_acknowledged_page_shows_on_the_case()
{
    let stand_ins = StandIns::start().await;
    let data = tempfile::tempdir().unwrap();
    let server = start_server(&stand_ins, data.path()).await;

    // Urgent on 24x7 (30 minutes at any hour), created 31 minutes ago: overdue on arrival.
    let now = Timestamp::now();
    let mut ticket = Ticket::new(
        "8803",
        now.checked_sub(SignedDuration::from_mins(31)).unwrap(),
        "URGENT",
    );
    ticket.tags.push("enterprise".into());
    assert!(post_zendesk(&server, &ticket.created()).await.is_success());

    let note = eventually(async || {
        let requests = stand_ins.zendesk.received_requests().await.unwrap();
        requests
            .iter()
            .filter(|request| {
                request.method.as_str() == "PUT" && request.url.path() == "/api/v2/tickets/8803"
            })
            .map(|request| serde_json::from_slice::<Value>(&request.body).unwrap())
            .find(|body| body.to_string().contains("first response"))
    })
    .await
    .unwrap_or_else(|| panic!("no breach note in Zendesk\n{}", server.logs()));
    assert_eq!(note["ticket"]["comment"]["public"], false, "{note}");
    assert_eq!(note["ticket"]["additional_tags"], json!(["sla_breached"]));

    let key = "zendesk-8803/first_response";
    let triggered = eventually(async || {
        stand_ins
            .pages_of("zendesk-8803")
            .await
            .into_iter()
            .find(|event| event["dedup_key"] == key && event["event_action"] == "trigger")
    })
    .await;
    assert!(triggered.is_some(), "{}", server.logs());

    let body = pagerduty_incident(
        "01DEN3EQUJGCHRQ6YVS4SJ4VBD",
        "acknowledged",
        key,
        now,
        Timestamp::now(),
        pagerduty_person(),
    );
    let bytes = serde_json::to_vec(&body).unwrap();
    let signed =
        providers::pagerduty::sign(&Secret::new(PAGERDUTY_WEBHOOK_SECRET).unwrap(), &bytes);
    let stale = providers::pagerduty::sign(&Secret::new("the-previous-secret").unwrap(), &bytes);
    assert_eq!(post_pagerduty(&server, &body, &stale).await, 401);
    let status = post_pagerduty(&server, &body, &format!("{stale},{signed}")).await;
    assert!((200..300).contains(&status), "{status}");

    let case = case(&server, "zendesk-8803").await;
    let response = &case["alert_responses"]["first_response"];
    assert_eq!(response["acknowledged_by"], "Earline Greenholt", "{case}");
    assert!(response["time_to_acknowledge_seconds"].is_i64(), "{case}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_enterprise_chat_gets_the_german_offer_in_the_chat() {
    let stand_ins = StandIns::start().await;
    let bearer = format!("Bearer {INTERCOM_TOKEN}");
    Mock::given(method("GET"))
        .and(path(format!("/contacts/{CONTACT_ID}")))
        .and(header("authorization", bearer.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "type": "contact", "id": CONTACT_ID, "role": "user", "custom_attributes": {}
        })))
        .mount(&stand_ins.intercom)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/contacts/{CONTACT_ID}/companies")))
        .and(header("authorization", bearer.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "type": "list",
            "data": [{
                "type": "company", "id": "531ee472cce572a6ec000006",
                "company_id": "6", "name": "Shop GmbH",
                "custom_attributes": { "plan": "enterprise" }
            }],
            "total_count": 1
        })))
        .mount(&stand_ins.intercom)
        .await;
    Mock::given(method("POST"))
        .and(path("/conversations/8804/reply"))
        .and(header("authorization", bearer.as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "type": "conversation", "id": "8804" })),
        )
        .mount(&stand_ins.intercom)
        .await;
    let data = tempfile::tempdir().unwrap();
    let server = start_server(&stand_ins, data.path()).await;

    let now = Timestamp::now();
    let opened = now.checked_sub(SignedDuration::from_mins(11)).unwrap();
    let chat = intercom_conversation(
        "conversation.user.created",
        "8804",
        opened,
        now,
        "jane@example.org",
    );
    assert!(post_intercom(&server, &chat).await.is_success());
    assert_eq!(case(&server, "intercom-8804").await["plan"], "24x7");

    let reply = eventually(async || {
        let requests = stand_ins.intercom.received_requests().await.unwrap();
        requests
            .iter()
            .find(|request| request.url.path() == "/conversations/8804/reply")
            .map(|request| serde_json::from_slice::<Value>(&request.body).unwrap())
    })
    .await
    .unwrap_or_else(|| panic!("no reply in the chat\n{}", server.logs()));
    assert_eq!(reply["admin_id"], ADMIN_ID, "{reply}");
    assert_eq!(reply["message_type"], "comment", "{reply}");
    assert_eq!(reply["type"], "admin", "{reply}");
    let text = reply["body"].as_str().unwrap();
    assert!(text.contains("E-Mail"), "{text}");
}
