//! The `voicemail-webhook` handler with a recorded API Gateway event (a Twilio form post,
//! base64-encoded as API Gateway delivers it), against moto and wiremock (PagerDuty).
//! Run through `scripts/test.sh`, which starts moto and exports `AWS_ENDPOINT_URL`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::ports::CaseStore;
use domain::case::CaseId;
use lambda::http::Router;
use lambda::test_support::{
    Harness, PUBLIC_BASE_URL, read_response, read_text, twilio_event_at, twilio_post,
};
use tests::payloads::{berlin, twilio_call, twilio_recording};

const EVENT: &str = include_str!("fixtures/apigw-v2-twilio.json");
const RECORDING: &str = "RE0123456789abcdef0123456789abcdef";
/// The call of `tests::payloads::twilio_recording`: the case is the call's.
const CALL: &str = "CA0123456789abcdef0123456789abcdef";

async fn start(now: &str) -> (Harness, Router) {
    let harness = Harness::start("voicemail", berlin(now)).await;
    let webhooks = voicemail_webhook::webhooks(&harness.settings, harness.engine.policy())
        .expect("the Twilio token and the public URL are set");
    let app = voicemail_webhook::webhook_app(harness.engine.clone(), webhooks);
    (harness, app)
}

#[tokio::test]
async fn a_voicemail_is_stored_and_answered_before_any_page_and_pages_once_when_delivered() {
    let (harness, app) = start("2026-12-06T03:00").await;
    let dedup = format!("twilio-{CALL}/voicemail");
    harness.expect_pagerduty("trigger", &dedup, 1).await;
    let form = twilio_recording(RECORDING, "completed", harness.now());

    let request = harness.twilio_event(EVENT, &form);
    let (status, body) = read_response(voicemail_webhook::handle(app.clone(), request).await).await;
    assert_eq!(status, 202, "{body}");
    // Twilio retries a callback it thinks failed: the repeat changes nothing.
    let again = harness.twilio_event(EVENT, &form);
    let (status, _) = read_response(voicemail_webhook::handle(app, again).await).await;
    assert_eq!(status, 200);

    let case = CaseId::parse(&format!("twilio-{CALL}")).unwrap();
    let stored = harness
        .engine
        .store()
        .load(&case)
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(stored.version, 1);
    // The function committed and answered: no outbound call on the request path, the page
    // waits in the outbox for the `deliver` function.
    assert!(
        harness.pagerduty_events().await.is_empty(),
        "PagerDuty was called on the request path"
    );
    let pending = harness.stack.pending_outbox_keys().await;
    assert!(
        pending.contains(&format!("{dedup}/trigger")),
        "the page is pending in the outbox: {pending:?}"
    );

    let report = harness.engine.deliver_outbox(Some(&case)).await.unwrap();
    assert_eq!(report.delivered, 1, "{report:?}");
    let events = harness.pagerduty_events().await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["payload"]["severity"], "critical");
    assert!(harness.stack.pending_outbox_keys().await.is_empty());
}

#[tokio::test]
async fn a_signature_over_another_url_is_refused() {
    let (harness, app) = start("2026-12-01T11:00").await;
    let form = twilio_recording(RECORDING, "completed", harness.now());
    let mut request = harness.twilio_event(EVENT, &form);
    // Signed for the URL Twilio called; the request claims another path.
    *request.uri_mut() =
        "https://a1b2c3d4e5.execute-api.eu-central-1.amazonaws.com/webhooks/twilio/recording?x=1"
            .parse()
            .unwrap();
    let (status, _) = read_response(voicemail_webhook::handle(app, request).await).await;
    assert_eq!(status, 401);
    assert!(harness.stack.items().await.is_empty());
}

#[tokio::test]
async fn behind_a_base_path_the_twilio_signature_verifies_over_the_url_twilio_called() {
    const CUSTOM: &str = "https://hooks.acme-hosting.example/support";
    let harness = Harness::start("voicemail-base", berlin("2026-12-01T11:00")).await;
    harness.accept_other_pagerduty_events().await;
    let mut settings = harness.settings.clone();
    settings.set("PUBLIC_BASE_URL", CUSTOM);
    let function = harness
        .function_with(
            settings.clone(),
            settings,
            &voicemail_webhook::SECRETS,
            voicemail_webhook::webhooks,
        )
        .unwrap();
    // Twilio signs https://hooks.acme-hosting.example/support/webhooks/twilio/recording; the
    // HTTP API's rawPath is /support/webhooks/twilio/recording.
    let form = twilio_recording(RECORDING, "completed", harness.now());
    let request = twilio_event_at(EVENT, CUSTOM, "/support", &form);
    let (status, body) = read_response(function.handle(request).await).await;
    assert_eq!(status, 202, "{body}");

    // A signature over the prefix twice (what the unstripped path gave) is refused.
    let doubled = twilio_event_at(EVENT, &format!("{CUSTOM}/support"), "/support", &form);
    let (status, _) = read_response(function.handle(doubled).await).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn without_a_base_path_the_function_verifies_the_api_s_own_url() {
    let harness = Harness::start("voicemail-nobase", berlin("2026-12-01T11:00")).await;
    harness.accept_other_pagerduty_events().await;
    let function = harness
        .function(&voicemail_webhook::SECRETS, voicemail_webhook::webhooks)
        .unwrap();
    assert_eq!(function.base_path(), "");
    let form = twilio_recording(RECORDING, "completed", harness.now());
    let (status, body) =
        read_response(function.handle(harness.twilio_event(EVENT, &form)).await).await;
    assert_eq!(status, 202, "{body}");
}

#[tokio::test]
async fn the_function_answers_the_voice_webhook_with_twiml_and_ends_a_silent_call_as_missed() {
    let (harness, app) = start("2026-12-01T11:00").await;
    let call = twilio_call(CALL, "+4915791234567", "+4930999999");
    let request = twilio_post(EVENT, PUBLIC_BASE_URL, "", "/webhooks/twilio/voice", &call);
    let (status, content_type, body) =
        read_text(voicemail_webhook::handle(app.clone(), request).await).await;
    assert_eq!(status, 200, "{body}");
    assert!(content_type.starts_with("text/xml"), "{content_type}");
    let callback = format!(
        r#"recordingStatusCallback="{}/webhooks/twilio/recording""#,
        PUBLIC_BASE_URL.trim_end_matches('/')
    );
    assert!(body.contains(&callback), "{body}");

    let ended = twilio_post(
        EVENT,
        PUBLIC_BASE_URL,
        "",
        "/webhooks/twilio/voice/goodbye",
        &call,
    );
    let (status, _, body) = read_text(voicemail_webhook::handle(app, ended).await).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<Hangup/>"), "{body}");

    let case = CaseId::parse(&format!("twilio-{CALL}")).unwrap();
    let stored = harness
        .engine
        .store()
        .load(&case)
        .await
        .unwrap()
        .expect("the call is stored in DynamoDB");
    let voicemail = stored.case.request.voicemail.unwrap();
    assert_eq!(voicemail.caller, "+4915791234567");
    assert!(voicemail.ended_without_message, "a missed call");
    assert!(harness.pagerduty_events().await.is_empty(), "no page");
}
