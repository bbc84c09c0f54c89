//! The chat fallback inside the chat, end to end through the real local server: an unanswered
//! chat gets our admin's reply in the conversation (Intercom on wiremock), in the policy's
//! language, and its first-response clock is handed over once the offer is delivered (an offer
//! that is not delivered hands nothing over: the clock pages as usual).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::collections::HashMap;
use tests::payloads::{berlin, intercom_conversation};
use tests::{TestApp, is_event, settle, wait_for};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ADMIN_ID: &str = "814860";
const TOKEN: &str = "dG9rOmludGVyY29tLXRlc3Q=";

async fn intercom() -> MockServer {
    let intercom = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/conversations/1295/reply"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "type": "conversation", "id": "1295"
        })))
        .mount(&intercom)
        .await;
    intercom
}

/// The case once its `clock` is in `state` (the handover follows the delivery it waits for).
async fn case_when(app: &TestApp, case_id: &str, clock: &str, state: &str) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let case = app.case(case_id).await;
        if case["clocks"][clock]["state"] == state || std::time::Instant::now() > deadline {
            return case;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn spawn(intercom: &MockServer, extra: &[(&str, &str)]) -> TestApp {
    let mut env = HashMap::from([
        ("INTERCOM_ACCESS_TOKEN".to_owned(), TOKEN.to_owned()),
        ("INTERCOM_API_URL".to_owned(), intercom.uri()),
        ("INTERCOM_ADMIN_ID".to_owned(), ADMIN_ID.to_owned()),
    ]);
    env.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    TestApp::spawn_with_env(berlin("2026-12-01T09:00"), true, env).await
}

#[tokio::test]
async fn an_unanswered_chat_gets_the_admins_offer_in_german_after_eleven_minutes() {
    let intercom = intercom().await;
    let app = spawn(&intercom, &[]).await;
    let now = app.now();
    let chat = intercom_conversation(
        "conversation.user.created",
        "1295",
        now,
        now,
        "jane@example.org",
    );
    assert_eq!(app.post_intercom(&chat).await.status(), 202);

    app.advance_to(berlin("2026-12-01T09:11"));
    let replies = wait_for(&intercom, 1, |_| true).await;

    assert_eq!(replies.len(), 1, "{replies:?}");
    let reply = &replies[0];
    assert_eq!(reply["message_type"], "comment");
    assert_eq!(reply["type"], "admin");
    assert_eq!(reply["admin_id"], ADMIN_ID);
    let body = reply["body"].as_str().unwrap();
    assert!(body.contains("E-Mail"), "{body}");

    let case = case_when(&app, "intercom-1295", "first_response", "cancelled").await;
    assert_eq!(case["clocks"]["first_response"]["state"], "cancelled");
    assert!(
        case["effects"].as_array().unwrap().iter().any(|effect| {
            effect["key"] == "intercom-1295/chat_reply/fallback" && effect["state"] == "delivered"
        }),
        "{}",
        case["effects"]
    );

    // Handed over: twelve business hours later the chat pages nothing.
    app.advance_to(berlin("2026-12-02T10:00"));
    settle().await;
    let first_response_pages: Vec<Value> = app
        .pagerduty_events()
        .await
        .into_iter()
        .filter(|event| event["dedup_key"] == "intercom-1295/first_response")
        .collect();
    assert!(first_response_pages.is_empty(), "{first_response_pages:?}");
    app.shutdown().await;
}

#[tokio::test]
async fn a_visitor_without_an_address_is_asked_for_one() {
    let intercom = intercom().await;
    let app = spawn(&intercom, &[]).await;
    let now = app.now();
    let mut chat = intercom_conversation("conversation.user.created", "1295", now, now, "");
    chat["data"]["item"]["source"]["author"]["email"] = Value::Null;
    assert_eq!(app.post_intercom(&chat).await.status(), 202);

    app.advance_to(berlin("2026-12-01T09:11"));
    let replies = wait_for(&intercom, 1, |_| true).await;

    assert_eq!(replies.len(), 1, "{replies:?}");
    let body = replies[0]["body"].as_str().unwrap();
    assert!(body.contains("E-Mail-Adresse"), "{body}");
    app.shutdown().await;
}

#[tokio::test]
async fn without_the_intercom_api_the_reply_is_recorded_as_not_sent() {
    let intercom = intercom().await;
    let app = spawn(&intercom, &[("INTERCOM_ACCESS_TOKEN", "")]).await;
    let now = app.now();
    let chat = intercom_conversation(
        "conversation.user.created",
        "1295",
        now,
        now,
        "jane@example.org",
    );
    assert_eq!(app.post_intercom(&chat).await.status(), 202);

    app.advance_to(berlin("2026-12-01T09:11"));
    settle().await;

    assert!(intercom.received_requests().await.unwrap().is_empty());
    let case = app.case("intercom-1295").await;
    let reply = case["effects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|effect| effect["key"] == "intercom-1295/chat_reply/fallback")
        .cloned()
        .unwrap_or_else(|| panic!("{}", case["effects"]));
    assert_eq!(reply["state"], "not_sent", "{reply}");

    // Neither the reply nor the e-mail (only logged locally) reached the customer: nothing is
    // handed over, and the chat's first response pages at its deadline as usual.
    assert_eq!(case["clocks"]["first_response"]["state"], "pending");
    app.advance_to(berlin("2026-12-02T09:00"));
    let pages = app
        .wait_for_pagerduty(1, is_event("trigger", "intercom-1295/first_response"))
        .await;
    assert_eq!(pages.len(), 1);
    app.shutdown().await;
}

#[tokio::test]
async fn a_chat_alert_carries_the_conversation_link_and_the_first_message() {
    let intercom = intercom().await;
    let app = spawn(&intercom, &[]).await;
    let now = app.now();
    let chat = intercom_conversation(
        "conversation.user.created",
        "1295",
        now,
        now,
        "jane@example.org",
    );
    assert_eq!(app.post_intercom(&chat).await.status(), 202);

    let pages = app
        .wait_for_pagerduty(1, tests::is_event("trigger", "intercom-1295/chat"))
        .await;
    assert_eq!(pages.len(), 1);
    let page = &pages[0];
    let link = "https://app.intercom.com/a/inbox/a86dr8yl/inbox/conversation/1295";
    assert_eq!(page["links"][0]["href"], link, "{page}");
    assert_eq!(
        page["payload"]["custom_details"]["subject"], "How do I add a domain?",
        "{page}"
    );
    let slack = app.wait_for_slack(1, |_| true).await;
    let message = slack[0].to_string();
    assert!(message.contains(link), "{message}");
    assert!(message.contains("How do I add a domain?"), "{message}");
    app.shutdown().await;
}

#[tokio::test]
async fn with_smtp_configured_the_offer_e_mail_goes_out_in_german() {
    let intercom = intercom().await;
    let smtp = tests::smtp::SmtpServer::start().await;
    let url = smtp.url();
    let app = spawn(
        &intercom,
        &[
            ("SMTP_URL", url.as_str()),
            (
                "SUPPORT_MAILBOX",
                "Acme Hosting Support <support@acme.example>",
            ),
        ],
    )
    .await;
    let now = app.now();
    let chat = intercom_conversation(
        "conversation.user.created",
        "1295",
        now,
        now,
        "jane@example.org",
    );
    assert_eq!(app.post_intercom(&chat).await.status(), 202);

    app.advance_to(berlin("2026-12-01T09:11"));
    let mails = smtp.wait_for(1).await;

    assert_eq!(mails.len(), 1, "{mails:?}");
    let mail = &mails[0];
    assert_eq!(mail.to, vec!["<jane@example.org>".to_owned()]);
    assert_eq!(mail.from, "<support@acme.example>");
    assert!(mail.data.contains("Reply-To: "), "{}", mail.data);
    // The subject is encoded (RFC 2047) when it is not ASCII; the German body says "E-Mail".
    assert!(mail.data.contains("per E-Mail weiter"), "{}", mail.data);
    assert!(mail.data.contains("text/html"), "{}", mail.data);
    let case = app.case("intercom-1295").await;
    assert!(
        case["effects"].as_array().unwrap().iter().any(|effect| {
            effect["key"] == "intercom-1295/email/chat_fallback" && effect["state"] == "delivered"
        }),
        "{}",
        case["effects"]
    );
    app.shutdown().await;
}
