//! The Slack notifier against a local incoming-webhook stand-in that checks every request.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use app::ports::{Delivered, NotifyError, SlackNotifier};
use common::{Logs, chat, closed_port_url, fast_retry, ticket, voicemail};
use domain::case::{AlertContext, RequestFacts, SlackKind};
use notify::{RetryPolicy, SlackConfig, SlackWebhook};
use serde_json::{Value, json};
use std::time::Duration;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

const HOOK_PATH: &str = "/services/T0001/B0002/S3cr3tT0k3nXYZ";
const TOKEN: &str = "S3cr3tT0k3nXYZ";

fn webhook_for(url: &str, retry: RetryPolicy) -> SlackWebhook {
    let config = SlackConfig::new(url).unwrap().with_retry(retry);
    SlackWebhook::new(config, notify::http_client().unwrap())
}

fn webhook(server: &MockServer) -> SlackWebhook {
    webhook_for(&format!("{}{HOOK_PATH}", server.uri()), fast_retry())
}

fn ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_string("ok")
}

fn body(request: &Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

/// A Slack message as Slack requires it: a non-empty `text`, a header block within 150
/// characters, sections with at most 10 fields.
struct WellFormedMessage;

impl Match for WellFormedMessage {
    fn matches(&self, request: &Request) -> bool {
        let Ok(message) = serde_json::from_slice::<Value>(&request.body) else {
            return false;
        };
        let text_ok = message["text"]
            .as_str()
            .is_some_and(|text| !text.is_empty());
        let Some(blocks) = message["blocks"].as_array() else {
            return false;
        };
        let header_ok = blocks[0]["type"] == "header"
            && blocks[0]["text"]["type"] == "plain_text"
            && blocks[0]["text"]["text"]
                .as_str()
                .is_some_and(|text| !text.is_empty() && text.chars().count() <= 150);
        let sections_ok = blocks[1..].iter().all(|block| {
            block["type"] == "section"
                && block["fields"]
                    .as_array()
                    .is_none_or(|fields| fields.len() <= 10)
        });
        text_ok && header_ok && sections_ok
    }
}

#[tokio::test]
async fn a_message_posts_text_and_blocks_to_the_webhook_and_200_ok_means_sent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(HOOK_PATH))
        .and(header("content-type", "application/json"))
        .and(WellFormedMessage)
        .and(body_partial_json(json!({
            "text": "Dispatch overdue: zendesk-5158 (high, 12x5) was not assigned by \
                     2026-03-02 10:00 UTC — Site down",
            "blocks": [
                { "type": "header", "text": { "type": "plain_text", "text": "Dispatch overdue: zendesk-5158" } },
                { "type": "section", "text": { "type": "mrkdwn" } },
            ],
        })))
        .respond_with(ok())
        .expect(1)
        .mount(&server)
        .await;

    let delivered = webhook(&server)
        .post(SlackKind::DispatchBreached, &ticket())
        .await;

    assert_eq!(
        delivered,
        Ok(Delivered::Sent {
            detail: "Slack answered ok".into()
        })
    );
    let message = body(&server.received_requests().await.unwrap()[0]);
    let all = message.to_string();
    for expected in [
        "*Priority*\\nhigh",
        "*Plan*\\n12x5",
        "*Channel*\\nticket",
        "*Dispatch due*\\n<!date^1772445600^{date_short_pretty} {time}|2026-03-02 10:00 UTC>",
        "*First response due*\\n<!date^1772456400^{date_short_pretty} {time}|2026-03-02 13:00 UTC>",
        "*Cluster / website*\\nc42 / shop.example",
        "*Requester*\\nJürgen Weiß (jw@example.org)",
        "<https://acme.zendesk.com/agent/tickets/5158|Open>",
    ] {
        assert!(all.contains(expected), "missing {expected} in {all}");
    }
}

#[tokio::test]
async fn every_kind_has_its_own_message() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(HOOK_PATH))
        .and(WellFormedMessage)
        .respond_with(ok())
        .expect(6)
        .mount(&server)
        .await;
    let missed_call = AlertContext {
        request: RequestFacts {
            voicemail: voicemail().request.voicemail.map(|mut v| {
                v.recording_url = None;
                v
            }),
            ..voicemail().request
        },
        ..voicemail()
    };
    let cases = [
        (
            SlackKind::NewChat,
            chat(),
            "New chat: intercom-1295 (normal, 24x7)",
            "New chat: intercom-1295",
        ),
        (
            SlackKind::Voicemail,
            voicemail(),
            "Voicemail from +4930123456 to +4940999000 (1 min 5 s): twilio-RE42 (urgent, 24x7)",
            "Voicemail: twilio-RE42",
        ),
        (
            SlackKind::MissedCall,
            missed_call,
            "Missed call from +4930123456 to +4940999000, no message left: twilio-RE42 \
             (urgent, 24x7)",
            "Missed call: twilio-RE42",
        ),
        (
            SlackKind::DispatchBreached,
            ticket(),
            "Dispatch overdue: zendesk-5158 (high, 12x5) was not assigned by 2026-03-02 10:00 UTC \
             — Site down",
            "Dispatch overdue: zendesk-5158",
        ),
        (
            SlackKind::FirstResponseWarning,
            ticket(),
            "First response due soon: zendesk-5158 (high, 12x5) needs an answer by 2026-03-02 \
             13:00 UTC — Site down",
            "First response due soon: zendesk-5158",
        ),
        (
            SlackKind::ChatFallbackImpossible,
            chat(),
            "Chat fallback impossible: intercom-1295 (normal, 24x7) got no answer in the chat and \
             left no e-mail address",
            "Chat fallback impossible: intercom-1295",
        ),
    ];
    let slack = webhook(&server);
    for (kind, context, _, _) in &cases {
        let delivered = slack.post(*kind, context).await;
        assert!(matches!(delivered, Ok(Delivered::Sent { .. })), "{kind:?}");
    }

    let messages: Vec<Value> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(body)
        .collect();
    for ((kind, _, text, header), message) in cases.iter().zip(&messages) {
        assert_eq!(message["text"], *text, "{kind:?}");
        assert_eq!(message["blocks"][0]["text"]["text"], *header, "{kind:?}");
    }
    let voicemail_text = messages[1].to_string();
    assert!(
        voicemail_text.contains("<https://api.twilio.com/Recordings/RE42|Listen to the recording>")
    );
    assert!(!messages[2].to_string().contains("Listen"));
    assert!(messages[4].to_string().contains(
        "the first response is due <!date^1772456400^{date_short_pretty} {time}|2026-03-02 13:00 UTC>"
    ));
    assert!(messages[5].to_string().contains("left no e-mail address"));
}

#[tokio::test]
async fn user_text_is_escaped_so_a_script_tag_stays_text() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ok())
        .expect(1)
        .mount(&server)
        .await;
    let hostile = AlertContext {
        request: RequestFacts {
            subject: Some("<script>alert('x')</script> & <!channel>".into()),
            requester: Some(domain::case::Requester {
                name: Some("<@U123>".into()),
                email: None,
            }),
            link: Some("javascript:alert(1)".into()),
            ..ticket().request
        },
        ..ticket()
    };

    webhook(&server)
        .post(SlackKind::NewChat, &hostile)
        .await
        .unwrap();

    let message = body(&server.received_requests().await.unwrap()[0]);
    let all = message.to_string();
    assert!(!all.contains("<script>"), "{all}");
    assert!(!all.contains("<!channel>"), "{all}");
    assert!(!all.contains("<@U123>"), "{all}");
    assert!(!all.contains("javascript:"), "{all}");
    assert_eq!(
        message["text"],
        "New chat: zendesk-5158 (high, 12x5) — &lt;script&gt;alert('x')&lt;/script&gt; &amp; \
         &lt;!channel&gt;"
    );
    assert!(all.contains("*Requester*\\n&lt;@U123&gt;"), "{all}");
}

#[tokio::test]
async fn a_404_no_service_is_permanent_with_slacks_text_after_one_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(404).set_body_string("no_service"))
        .expect(1)
        .mount(&server)
        .await;

    let failed = webhook(&server).post(SlackKind::NewChat, &chat()).await;

    assert_eq!(
        failed,
        Err(NotifyError::Permanent {
            reason: "Slack rejected the message (404 Not Found): no_service".into()
        })
    );
}

#[tokio::test]
async fn the_other_documented_client_errors_are_permanent_too() {
    for (status, text) in [
        (400, "invalid_payload"),
        (403, "action_prohibited"),
        (404, "channel_not_found"),
        (410, "channel_is_archived"),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(status).set_body_string(text))
            .expect(1)
            .mount(&server)
            .await;

        let failed = webhook(&server).post(SlackKind::NewChat, &chat()).await;

        let Err(NotifyError::Permanent { reason }) = failed else {
            panic!("{status} {text}: {failed:?}");
        };
        assert!(reason.ends_with(text), "{reason}");
    }
}

#[tokio::test]
async fn a_500_is_retried_and_then_sent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string("rollup_error"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ok())
        .expect(1)
        .mount(&server)
        .await;

    let delivered = webhook(&server).post(SlackKind::NewChat, &chat()).await;

    assert!(matches!(delivered, Ok(Delivered::Sent { .. })));
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn server_errors_on_every_attempt_end_retryable_after_max_attempts() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string("rollup_error"))
        .expect(3)
        .mount(&server)
        .await;

    let failed = webhook(&server).post(SlackKind::NewChat, &chat()).await;

    assert_eq!(
        failed,
        Err(NotifyError::Retryable {
            reason: "Slack answered 500 Internal Server Error: rollup_error".into(),
            retry_after: None,
        })
    );
}

#[tokio::test]
async fn a_429_is_retryable_and_reports_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .set_body_string("rate_limited"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let slack = webhook_for(&format!("{}{HOOK_PATH}", server.uri()), RetryPolicy::once());

    let failed = slack.post(SlackKind::NewChat, &chat()).await;

    assert_eq!(
        failed,
        Err(NotifyError::Retryable {
            reason: "Slack answered 429 Too Many Requests: rate_limited".into(),
            retry_after: Some(Duration::from_secs(1)),
        })
    );
}

#[tokio::test]
async fn a_network_error_is_retryable() {
    let slack = webhook_for(&closed_port_url(HOOK_PATH), fast_retry());

    let failed = slack.post(SlackKind::NewChat, &chat()).await;

    assert!(
        matches!(&failed, Err(NotifyError::Retryable { reason, .. }) if reason.starts_with("Slack unreachable: ")),
        "{failed:?}"
    );
}

#[tokio::test]
async fn without_a_webhook_url_nothing_is_sent_and_the_case_is_logged() {
    let (logs, _guard) = Logs::capture();
    let config =
        SlackConfig::from_lookup(|name| (name == "SLACK_WEBHOOK_URL").then(String::new)).unwrap();
    let slack = SlackWebhook::new(config, notify::http_client().unwrap());
    assert!(!slack.is_configured());

    let delivered = slack.post(SlackKind::NewChat, &chat()).await;

    assert_eq!(delivered, Ok(Delivered::NotConfigured));
    let logs = logs.text();
    assert!(
        logs.contains("not sent: no destination configured"),
        "{logs}"
    );
    assert!(logs.contains("case=\"intercom-1295\""), "{logs}");
    assert!(logs.contains("kind=\"new_chat\""), "{logs}");
}

#[test]
fn the_configuration_comes_from_slack_webhook_url() {
    let url = format!("https://hooks.slack.com{HOOK_PATH}");
    let config =
        SlackConfig::from_lookup(|name| (name == "SLACK_WEBHOOK_URL").then(|| url.clone()))
            .unwrap();
    assert_eq!(config.webhook_url.unwrap().expose(), url);
    assert_eq!(config.timeout, Duration::from_secs(10));
    assert!(
        SlackConfig::from_lookup(|_| None)
            .unwrap()
            .webhook_url
            .is_none()
    );

    let invalid = SlackConfig::from_lookup(|name| {
        (name == "SLACK_WEBHOOK_URL").then(|| format!("hooks.slack.com{HOOK_PATH}"))
    })
    .unwrap_err()
    .to_string();
    assert!(invalid.contains("SLACK_WEBHOOK_URL"), "{invalid}");
    assert!(!invalid.contains(TOKEN), "{invalid}");
}

#[tokio::test]
async fn the_webhook_url_never_appears_in_debug_output_errors_or_logs() {
    let (logs, _guard) = Logs::capture();
    let server = MockServer::start().await;
    // An error page that echoes the path must not make us repeat it.
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(404).set_body_string(format!("no_service: {HOOK_PATH}")),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(503).set_body_string(format!("{}{HOOK_PATH}", server.uri())),
        )
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    let slack = webhook(&server);
    let mut texts = vec![
        format!("{slack:?}"),
        format!(
            "{:?}",
            SlackConfig::new(&format!("{}{HOOK_PATH}", server.uri())).unwrap()
        ),
    ];

    let echoed = slack.post(SlackKind::NewChat, &chat()).await.unwrap_err();
    assert_eq!(
        echoed.to_string(),
        "permanent failure: Slack rejected the message (404 Not Found): no_service: [redacted]"
    );
    texts.push(format!("{echoed:?}"));
    let unreachable = webhook_for(&closed_port_url(HOOK_PATH), fast_retry())
        .post(SlackKind::NewChat, &chat())
        .await
        .unwrap_err();
    texts.push(format!("{unreachable:?}"));
    let logs = logs.text();
    assert!(logs.contains("temporary failure, retrying"), "{logs}");
    texts.push(logs);

    for text in texts {
        assert!(!text.contains(TOKEN), "the webhook URL leaked: {text}");
    }
}
