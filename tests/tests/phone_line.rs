//! The support line end to end, through the real server: a call to the Enterprise hotline
//! rings (voice webhook, TwiML), the caller leaves a message (recording status callback with
//! only Twilio's documented parameters), the on-call engineer is paged, the voicemail becomes
//! one Zendesk ticket (a wiremock Zendesk API), and the agent's public reply on that ticket
//! meets the voicemail's first response and resolves its page.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use tests::payloads::{Ticket, berlin, twilio_call, twilio_recording};
use tests::{TestApp, is_event, settle};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CALL_SID: &str = "CA0123456789abcdef0123456789abcdef";
const RECORDING_SID: &str = "RE9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a49";
const CALLER: &str = "+4915791234567";
const HOTLINE: &str = "+4930123456";
const API_EMAIL: &str = "agent@acme.example";
const API_TOKEN: &str = "zd-api-t0ken";

/// A Zendesk that knows no ticket and no caller yet, and opens ticket 77.
async fn zendesk() -> MockServer {
    let zendesk = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets"))
        .and(query_param("external_id", format!("twilio-{CALL_SID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "tickets": [] })))
        .mount(&zendesk)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "results": [] })))
        .mount(&zendesk)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/users/create_or_update"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({ "user": { "id": 901 } })))
        .mount(&zendesk)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/tickets"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({ "ticket": { "id": 77 } })))
        .mount(&zendesk)
        .await;
    zendesk
}

async fn ticket_posts(zendesk: &MockServer) -> Vec<wiremock::Request> {
    zendesk
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path() == "/api/v2/tickets")
        .collect()
}

async fn spawn(now: domain::Timestamp, zendesk: Option<&MockServer>) -> TestApp {
    let mut policy = policy_file::default_policy().unwrap();
    policy.plan_rules.enterprise_numbers.insert(HOTLINE.into());
    let mut settings = vec![("ZENDESK_SUBDOMAIN", "acme".to_owned())];
    if let Some(zendesk) = zendesk {
        settings.extend([
            ("ZENDESK_API_URL", zendesk.uri()),
            ("ZENDESK_API_EMAIL", API_EMAIL.to_owned()),
            ("ZENDESK_API_TOKEN", API_TOKEN.to_owned()),
        ]);
    }
    TestApp::spawn_with_settings(now, true, &settings, policy).await
}

fn recording(now: domain::Timestamp) -> Vec<(&'static str, String)> {
    let mut form = twilio_recording(RECORDING_SID, "completed", now);
    for (name, value) in &mut form {
        if *name == "CallSid" {
            *value = CALL_SID.to_owned();
        }
    }
    form
}

#[tokio::test]
async fn a_call_to_the_hotline_rings_pages_opens_one_ticket_and_the_agents_reply_answers_it() {
    // Saturday night: only the voicemail's page reaches anyone.
    let now = berlin("2026-12-05T03:00");
    let zendesk = zendesk().await;
    let app = spawn(now, Some(&zendesk)).await;
    let case_id = format!("twilio-{CALL_SID}");

    // Ring.
    let call = twilio_call(CALL_SID, CALLER, HOTLINE);
    let answer = app.post_twilio_to("/webhooks/twilio/voice", &call).await;
    assert_eq!(answer.status(), 200);
    assert!(
        answer.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/xml")
    );
    let twiml = answer.text().await.unwrap();
    let callback = format!(
        r#"recordingStatusCallback="{}/webhooks/twilio/recording""#,
        app.base_url
    );
    assert!(twiml.contains(&callback), "{twiml}");
    assert!(twiml.contains("<Record "), "{twiml}");
    assert!(twiml.contains(r#"<Say language="de-DE">"#), "{twiml}");
    let case = app.case(&case_id).await;
    assert_eq!(case["plan"], "24x7", "{case}");
    assert!(
        app.pagerduty_events().await.is_empty(),
        "a ringing call pages nobody"
    );

    // The message.
    let recorded = recording(now + domain::jiff::SignedDuration::from_secs(20));
    assert_eq!(app.post_twilio(&recorded).await.status(), 202);
    let dedup = format!("{case_id}/voicemail");
    let pages = app.wait_for_pagerduty(1, is_event("trigger", &dedup)).await;
    assert_eq!(pages.len(), 1);
    let page = pages[0].to_string();
    assert_eq!(pages[0]["payload"]["severity"], "critical");
    assert!(page.contains(CALLER), "{page}");
    assert!(
        page.contains(&format!("Recordings/{RECORDING_SID}.mp3")),
        "{page}"
    );
    let slack = app.wait_for_slack(1, |_| true).await;
    assert!(slack[0].to_string().contains(CALLER), "{}", slack[0]);

    // One ticket, as the caller, with the recording, under our case id.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while ticket_posts(&zendesk).await.is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let posts = ticket_posts(&zendesk).await;
    assert_eq!(posts.len(), 1);
    let expected_auth = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{API_EMAIL}/token:{API_TOKEN}")
        )
    );
    assert_eq!(posts[0].headers["authorization"], expected_auth.as_str());
    let body: Value = serde_json::from_slice(&posts[0].body).unwrap();
    let ticket = &body["ticket"];
    assert_eq!(ticket["external_id"], case_id.as_str());
    assert_eq!(ticket["subject"], format!("Voicemail from {CALLER} (0:42)"));
    assert_eq!(ticket["priority"], "urgent");
    assert_eq!(ticket["requester_id"], 901);
    assert_eq!(ticket["comment"]["public"], false);
    assert!(
        ticket["comment"]["body"]
            .as_str()
            .unwrap()
            .contains(RECORDING_SID)
    );
    let tags = ticket["tags"].as_array().unwrap();
    for tag in ["voicemail", "plan_24x7", "enterprise"] {
        assert!(tags.contains(&json!(tag)), "{tags:?}");
    }

    // Repeats change nothing.
    assert_eq!(app.post_twilio(&recorded).await.status(), 200);
    assert_eq!(
        app.post_twilio_to("/webhooks/twilio/voice", &call)
            .await
            .status(),
        200
    );
    settle().await;
    assert_eq!(ticket_posts(&zendesk).await.len(), 1);
    assert_eq!(app.pagerduty_events().await.len(), 1);

    // The ticket's own events apply to the voicemail case.
    let mut zendesk_ticket = Ticket::new(
        "77",
        now + domain::jiff::SignedDuration::from_mins(1),
        "URGENT",
    );
    zendesk_ticket.tags = vec!["voicemail".into(), "plan_24x7".into(), "enterprise".into()];
    let with_our_id = |mut event: Value| {
        event["detail"]["external_id"] = json!(case_id);
        event
    };
    let created = with_our_id(zendesk_ticket.created());
    assert_eq!(app.post_zendesk(&created).await.status(), 202);
    settle().await;
    assert_eq!(
        app.pagerduty_events().await.len(),
        1,
        "ticket.created pages nothing"
    );
    let replied_at = now + domain::jiff::SignedDuration::from_mins(12);
    app.advance_to(replied_at);
    let reply = with_our_id(zendesk_ticket.public_staff_comment(replied_at));
    assert_eq!(app.post_zendesk(&reply).await.status(), 202);
    let resolves = app.wait_for_pagerduty(1, is_event("resolve", &dedup)).await;
    assert_eq!(resolves.len(), 1);

    let case = app.case(&case_id).await;
    assert_eq!(case["clocks"]["first_response"]["state"], "met", "{case}");
    assert_eq!(case["plan"], "24x7");
    assert!(case["open_alerts"].as_array().unwrap().is_empty(), "{case}");
    let cases = app.cases().await;
    assert_eq!(
        cases["cases"].as_array().unwrap().len(),
        1,
        "no second case for the ticket: {cases}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_voice_webhook_with_a_bad_signature_gets_401() {
    let app = spawn(berlin("2026-12-01T11:00"), None).await;
    let response = app
        .http
        .post(format!("{}/webhooks/twilio/voice", app.base_url))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("X-Twilio-Signature", "bm90IGEgc2lnbmF0dXJl")
        .body(format!("CallSid={CALL_SID}&From=%2B4915791234567"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    app.shutdown().await;
}

#[tokio::test]
async fn the_concatenation_forgery_of_a_recording_callback_is_refused() {
    let now = berlin("2026-12-01T11:00");
    let app = spawn(now, None).await;
    let mut forged = recording(now);
    forged.retain(|(name, _)| *name != "RecordingSource");
    for (name, value) in &mut forged {
        if *name == "RecordingSid" {
            value.push_str("RecordingSourceRecordVerb");
        }
    }
    let status = app.post_twilio(&forged).await.status();
    assert!(status.is_client_error(), "{status}");
    assert!(app.cases().await["cases"].as_array().unwrap().is_empty());
    app.shutdown().await;
}

#[tokio::test]
async fn a_call_that_ends_without_a_message_tells_slack_and_asks_for_a_call_back() {
    let now = berlin("2026-12-01T11:00");
    let app = spawn(now, None).await;
    let call = twilio_call(CALL_SID, CALLER, "+4930999999");
    assert_eq!(
        app.post_twilio_to("/webhooks/twilio/voice", &call)
            .await
            .status(),
        200
    );
    // Twilio skips the action for an empty recording and follows the <Redirect> to it.
    let ended = app
        .post_twilio_to("/webhooks/twilio/voice/goodbye", &call)
        .await;
    assert_eq!(ended.status(), 200);
    assert!(ended.text().await.unwrap().contains("<Hangup/>"));
    let slack = app.wait_for_slack(1, |_| true).await;
    assert!(slack[0].to_string().contains(CALLER), "{}", slack[0]);
    settle().await;
    assert!(
        app.pagerduty_events().await.is_empty(),
        "no page for a missed call"
    );
    let case = app.case(&format!("twilio-{CALL_SID}")).await;
    assert_eq!(case["priority"], "normal", "{case}");
    assert_eq!(case["plan"], "12x5");
    assert_eq!(
        case["clocks"]["first_response"]["state"], "pending",
        "{case}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn without_zendesk_credentials_the_voicemail_still_pages_and_the_timeline_says_no_ticket() {
    let now = berlin("2026-12-01T11:00");
    let app = spawn(now, None).await;
    assert_eq!(app.post_twilio(&recording(now)).await.status(), 202);
    let dedup = format!("twilio-{CALL_SID}/voicemail");
    assert_eq!(
        app.wait_for_pagerduty(1, is_event("trigger", &dedup))
            .await
            .len(),
        1
    );
    settle().await;
    let case = app.case(&format!("twilio-{CALL_SID}")).await;
    let timeline = case["timeline"].to_string();
    assert!(timeline.contains("open a ticket"), "{timeline}");
    assert!(
        timeline.contains("not_sent: no destination configured"),
        "{timeline}"
    );
    // Caller unknown: the voice webhook pointed elsewhere, nothing is lost.
    assert!(
        case["subject"]
            .as_str()
            .unwrap()
            .contains("Voicemail from unknown"),
        "{case}"
    );
    app.shutdown().await;
}
