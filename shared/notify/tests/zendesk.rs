//! The Zendesk Support API client against a wiremock Zendesk that checks every request.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use app::ports::NotifyError;
use base64::Engine as _;
use notify::{NewTicket, ZendeskApi, ZendeskApiConfig, http_client};
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const EMAIL: &str = "agent@example.org";
const TOKEN: &str = "Zt0kenSECRET";

fn basic_auth() -> String {
    let credentials = format!("{EMAIL}/token:{TOKEN}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(credentials)
    )
}

fn api(server: &MockServer) -> ZendeskApi {
    let config = ZendeskApiConfig::new(&server.uri(), EMAIL, TOKEN)
        .unwrap()
        .unwrap()
        .with_retry(common::fast_retry());
    ZendeskApi::new(config, http_client().unwrap())
}

fn voicemail_ticket() -> NewTicket {
    NewTicket {
        external_id: "twilio-CA0123456789abcdef0123456789abcdef".into(),
        subject: "Voicemail from +4930123456 (1:05)".into(),
        internal_note: "Caller: +4930123456\nLine: +4940999000\nDuration: 1:05".into(),
        priority: "urgent",
        tags: vec!["voicemail".into(), "plan_24x7".into()],
        requester_phone: Some("+4930123456".into()),
    }
}

async fn no_ticket_yet(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets"))
        .and(query_param(
            "external_id",
            "twilio-CA0123456789abcdef0123456789abcdef",
        ))
        .and(header("authorization", basic_auth().as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "tickets": [], "next_page": null, "previous_page": null, "count": 0
        })))
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_voicemail_ticket_is_created_internal_with_the_caller_found_by_phone() {
    let server = MockServer::start().await;
    no_ticket_yet(&server).await;
    Mock::given(method("GET"))
        .and(path("/api/v2/search"))
        .and(query_param("query", "type:user role:end-user phone:4930123456"))
        .and(header("authorization", basic_auth().as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": [{"id": 7001, "result_type": "user", "name": "Jürgen", "phone": "+4930123456"}],
            "count": 1, "next_page": null, "previous_page": null
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/tickets"))
        .and(header("authorization", basic_auth().as_str()))
        .and(body_json(json!({"ticket": {
            "subject": "Voicemail from +4930123456 (1:05)",
            "comment": {"body": "Caller: +4930123456\nLine: +4940999000\nDuration: 1:05", "public": false},
            "priority": "urgent",
            "tags": ["voicemail", "plan_24x7"],
            "external_id": "twilio-CA0123456789abcdef0123456789abcdef",
            "requester_id": 7001
        }})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "ticket": {"id": 35436, "external_id": "twilio-CA0123456789abcdef0123456789abcdef"},
            "audit": {"id": 1}
        })))
        .expect(1)
        .mount(&server)
        .await;

    let ticket = api(&server)
        .create_ticket_once(&voicemail_ticket())
        .await
        .unwrap();

    assert_eq!(ticket.id, 35436);
    assert!(ticket.created);
}

#[tokio::test]
async fn an_unknown_caller_becomes_an_end_user_keyed_by_the_number() {
    let server = MockServer::start().await;
    no_ticket_yet(&server).await;
    Mock::given(method("GET"))
        .and(path("/api/v2/search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": [], "count": 0, "next_page": null, "previous_page": null
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/users/create_or_update"))
        .and(body_json(json!({"user": {
            "name": "Caller +4930123456",
            "phone": "+4930123456",
            "external_id": "phone:+4930123456",
            "role": "end-user"
        }})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"user": {"id": 9002}})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/tickets"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"ticket": {"id": 1}})))
        .expect(1)
        .mount(&server)
        .await;

    api(&server)
        .create_ticket_once(&voicemail_ticket())
        .await
        .unwrap();

    let requests = server.received_requests().await.unwrap();
    let created = requests
        .iter()
        .find(|request| {
            request.url.path() == "/api/v2/tickets" && request.method.as_str() == "POST"
        })
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&created.body).unwrap();
    assert_eq!(body["ticket"]["requester_id"], 9002);
}

#[tokio::test]
async fn a_ticket_that_exists_already_is_returned_and_nothing_is_created() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "tickets": [{"id": 35437}, {"id": 35436}], "count": 2
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201))
        .expect(0)
        .mount(&server)
        .await;

    let ticket = api(&server)
        .create_ticket_once(&voicemail_ticket())
        .await
        .unwrap();

    assert_eq!(ticket.id, 35436, "the oldest ticket stands for the case");
    assert!(!ticket.created);
}

#[tokio::test]
async fn rate_limits_are_waited_out_and_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    no_ticket_yet(&server).await;
    let anonymous = NewTicket {
        requester_phone: None,
        ..voicemail_ticket()
    };
    Mock::given(method("POST"))
        .and(path("/api/v2/tickets"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"ticket": {"id": 5}})))
        .expect(1)
        .mount(&server)
        .await;

    let ticket = api(&server).create_ticket_once(&anonymous).await.unwrap();

    assert_eq!(ticket.id, 5);
    let requests = server.received_requests().await.unwrap();
    let created = requests.last().unwrap();
    let body: serde_json::Value = serde_json::from_slice(&created.body).unwrap();
    assert!(
        body["ticket"].get("requester_id").is_none(),
        "an anonymous call has no requester to name"
    );
}

#[tokio::test]
async fn a_rejected_request_is_permanent_and_the_token_is_never_repeated() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": format!("Couldn't authenticate you with {TOKEN}")})),
        )
        .expect(1)
        .mount(&server)
        .await;

    let error = api(&server)
        .create_ticket_once(&voicemail_ticket())
        .await
        .unwrap_err();

    let NotifyError::Permanent { reason } = error else {
        panic!("a 401 is permanent: {error:?}");
    };
    assert!(reason.contains("401"), "{reason}");
    assert!(reason.contains("ZENDESK_API_TOKEN"), "{reason}");
    assert!(!reason.contains(TOKEN), "{reason}");
}

#[tokio::test]
async fn a_zendesk_outage_is_retryable_after_the_attempts_are_used_up() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .expect(3)
        .mount(&server)
        .await;

    let error = api(&server)
        .create_ticket_once(&voicemail_ticket())
        .await
        .unwrap_err();

    assert!(matches!(error, NotifyError::Retryable { .. }), "{error:?}");
}

#[tokio::test]
async fn ticket_metrics_say_whether_and_when_the_ticket_was_answered_and_assigned() {
    let server = MockServer::start().await;
    // The documented shape, trimmed to a realistic subset of its fields.
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/5158/metrics"))
        .and(header("authorization", basic_auth().as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ticket_metric": {
            "id": 33, "ticket_id": 5158,
            "created_at": "2026-09-01T08:00:00Z", "updated_at": "2026-09-03T10:00:00Z",
            "group_stations": 1, "assignee_stations": 1, "reopens": 0, "replies": 2,
            "assignee_updated_at": "2026-09-01T09:00:00Z", "requester_updated_at": "2026-09-02T08:00:00Z",
            "status_updated_at": "2026-09-03T10:00:00Z",
            "initially_assigned_at": "2026-09-01T08:20:00Z", "assigned_at": "2026-09-01T08:20:00Z",
            "solved_at": null, "latest_comment_added_at": "2026-09-03T10:00:00Z",
            "reply_time_in_minutes": {"calendar": 45, "business": 45},
            "first_resolution_time_in_minutes": {"calendar": null, "business": null},
            "full_resolution_time_in_minutes": {"calendar": null, "business": null},
            "agent_wait_time_in_minutes": {"calendar": null, "business": null},
            "requester_wait_time_in_minutes": {"calendar": null, "business": null},
            "on_hold_time_in_minutes": {"calendar": 0, "business": 0}
        }})))
        .expect(1)
        .mount(&server)
        .await;

    let metrics = api(&server).ticket_metrics(5158).await.unwrap();

    assert_eq!(metrics.replies, 2);
    assert_eq!(
        metrics.initially_assigned_at,
        Some("2026-09-01T08:20:00Z".parse().unwrap())
    );
    assert_eq!(metrics.solved_at, None);
}

#[tokio::test]
async fn organization_tags_are_read_once_and_then_cached() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/organizations/361"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"organization": {
                "id": 361, "name": "Acme", "tags": ["enterprise", "cluster_c42"],
                "external_id": null, "domain_names": ["acme.example"]
            }})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let api = api(&server);

    let first = api.organization_tags(361).await.unwrap();
    let second = api.organization_tags(361).await.unwrap();

    assert_eq!(first, ["enterprise", "cluster_c42"]);
    assert_eq!(second, first);
}

#[tokio::test]
async fn agents_and_admins_are_staff_and_end_users_are_not() {
    let server = MockServer::start().await;
    for (id, role) in [(1, "end-user"), (2, "agent"), (3, "admin")] {
        Mock::given(method("GET"))
            .and(path(format!("/api/v2/users/{id}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                json!({"user": {"id": id, "name": "X", "role": role, "email": "x@example.org"}}),
            ))
            .expect(1)
            .mount(&server)
            .await;
    }
    let api = api(&server);

    assert!(!api.user_is_staff(1).await.unwrap());
    assert!(api.user_is_staff(2).await.unwrap());
    assert!(api.user_is_staff(3).await.unwrap());
    assert!(
        api.user_is_staff(2).await.unwrap(),
        "cached, not asked again"
    );
}

#[tokio::test]
async fn a_breach_note_is_internal_and_adds_a_tag_without_replacing_the_others() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/5158"))
        .and(header("authorization", basic_auth().as_str()))
        .and(body_json(json!({"ticket": {
            "comment": {"body": "First response overdue since 10:00 (12 min late).", "public": false},
            "additional_tags": ["sla_breached"]
        }})))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"ticket": {"id": 5158}, "audit": {"id": 9}})),
        )
        .expect(1)
        .mount(&server)
        .await;

    api(&server)
        .add_internal_note(
            5158,
            "First response overdue since 10:00 (12 min late).",
            &["sla_breached".to_owned()],
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn the_ticket_port_opens_the_voicemail_ticket_once_and_reports_its_id() {
    use app::ports::{Delivered, TicketSystem};
    use domain::case::TicketRequest;
    let server = MockServer::start().await;
    let mut context = common::voicemail();
    context.case_id =
        domain::case::CaseId::parse("twilio-CA0123456789abcdef0123456789abcdef").unwrap();
    no_ticket_yet(&server).await;
    Mock::given(method("GET"))
        .and(path("/api/v2/search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": [{ "id": 31 }]
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/tickets"))
        .and(header("authorization", basic_auth().as_str()))
        .and(body_json(json!({ "ticket": {
            "subject": "Voicemail from +4930123456 (1:05)",
            "comment": {
                "body": "Voicemail on the support line.\nCaller: +4930123456\nLine called: +4940999000\nLength: 1:05\nRecording: https://api.twilio.com/Recordings/RE42\nPlan: 24x7\nCase: twilio-CA0123456789abcdef0123456789abcdef",
                "public": false
            },
            "priority": "urgent",
            "tags": ["voicemail", "plan_24x7", "enterprise"],
            "external_id": "twilio-CA0123456789abcdef0123456789abcdef",
            "requester_id": 31
        }})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({ "ticket": { "id": 5150 } })))
        .expect(1)
        .mount(&server)
        .await;
    let ticket = TicketRequest {
        tags: vec!["voicemail".into(), "plan_24x7".into(), "enterprise".into()],
    };

    let delivered = api(&server).open_ticket(&ticket, &context).await.unwrap();

    assert_eq!(
        delivered,
        Delivered::Sent {
            detail: "Zendesk ticket 5150 created".into()
        }
    );
}

#[tokio::test]
async fn a_caller_zendesk_cannot_make_a_requester_still_gets_the_ticket() {
    let server = MockServer::start().await;
    no_ticket_yet(&server).await;
    Mock::given(method("GET"))
        .and(path("/api/v2/search"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({ "error": "Forbidden" })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/tickets"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({ "ticket": { "id": 5151 } })))
        .expect(1)
        .mount(&server)
        .await;

    let opened = api(&server)
        .create_ticket_once(&voicemail_ticket())
        .await
        .unwrap();

    assert_eq!(opened.id, 5151);
    let posted: Vec<_> = server.received_requests().await.unwrap();
    let ticket = posted.iter().find(|r| r.method.as_str() == "POST").unwrap();
    let body: serde_json::Value = serde_json::from_slice(&ticket.body).unwrap();
    assert!(body["ticket"].get("requester_id").is_none(), "{body}");
}

#[test]
fn the_api_settings_need_both_credentials_and_a_place_to_call() {
    let lookup = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        }
    };
    assert!(
        ZendeskApiConfig::from_lookup(lookup(&[]))
            .unwrap()
            .is_none()
    );
    let from_subdomain = ZendeskApiConfig::from_lookup(lookup(&[
        ("ZENDESK_SUBDOMAIN", "https://acme.zendesk.com/"),
        ("ZENDESK_API_EMAIL", EMAIL),
        ("ZENDESK_API_TOKEN", TOKEN),
    ]))
    .unwrap()
    .unwrap();
    assert_eq!(
        from_subdomain.base_url.as_str(),
        "https://acme.zendesk.com/"
    );
    let overridden = ZendeskApiConfig::from_lookup(lookup(&[
        ("ZENDESK_SUBDOMAIN", "acme"),
        ("ZENDESK_API_URL", "http://127.0.0.1:9/"),
        ("ZENDESK_API_EMAIL", EMAIL),
        ("ZENDESK_API_TOKEN", TOKEN),
    ]))
    .unwrap()
    .unwrap();
    assert_eq!(overridden.base_url.as_str(), "http://127.0.0.1:9/");
    for (pairs, missing) in [
        (&[("ZENDESK_API_EMAIL", EMAIL)][..], "ZENDESK_API_TOKEN"),
        (&[("ZENDESK_API_TOKEN", TOKEN)][..], "ZENDESK_API_EMAIL"),
        (
            &[("ZENDESK_API_EMAIL", EMAIL), ("ZENDESK_API_TOKEN", TOKEN)][..],
            "ZENDESK_SUBDOMAIN",
        ),
    ] {
        let pairs: &'static [(&'static str, &'static str)] = pairs;
        let error = ZendeskApiConfig::from_lookup(lookup(pairs))
            .unwrap_err()
            .to_string();
        assert!(error.contains(missing), "{error}");
        assert!(!error.contains(TOKEN), "{error}");
    }
}

#[tokio::test]
async fn a_lookup_zendesk_refuses_does_not_stop_the_ticket() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({ "error": "InvalidEndpoint" })),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "results": [{ "id": 8 }] })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/tickets"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({ "ticket": { "id": 5152 } })))
        .expect(1)
        .mount(&server)
        .await;

    let opened = api(&server)
        .create_ticket_once(&voicemail_ticket())
        .await
        .unwrap();

    assert_eq!(opened.id, 5152);
    assert!(opened.created);
}
