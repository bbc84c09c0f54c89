//! The engine's `SystemOfRecord` port over the Zendesk and Intercom APIs, against wiremock
//! stand-ins: what each lookup asks, what it answers, its cache and its timeout.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use app::ports::{SystemOfRecord, TicketProgress};
use notify::{IntercomApiConfig, SystemsOfRecord, ZendeskApiConfig, http_client};
use serde_json::json;
use std::time::Duration;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn zendesk(server: &MockServer) -> Option<ZendeskApiConfig> {
    Some(
        ZendeskApiConfig::new(&server.uri(), "agent@example.org", "Zt0ken")
            .unwrap()
            .unwrap()
            .with_retry(common::fast_retry()),
    )
}

fn intercom(server: &MockServer) -> Option<IntercomApiConfig> {
    Some(
        IntercomApiConfig::new(&server.uri(), "ic-t0ken")
            .unwrap()
            .unwrap()
            .with_retry(common::fast_retry()),
    )
}

#[tokio::test]
async fn without_apis_every_lookup_answers_none_and_calls_nothing() {
    let records = SystemsOfRecord::from_configs(None, None, http_client().unwrap());
    assert_eq!(records.ticket_progress("5158").await, Ok(None));
    assert_eq!(records.user_is_staff("1").await, Ok(None));
    assert_eq!(records.organization_tags("2").await, Ok(None));
    assert_eq!(records.account_attributes("c1").await, Ok(None));
}

#[tokio::test]
async fn ticket_progress_is_read_from_the_ticket_metrics() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/5158/metrics"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ticket_metric": {
                "ticket_id": 5158,
                "replies": 2,
                "initially_assigned_at": "2026-01-05T09:10:00Z",
                "assigned_at": "2026-01-06T09:10:00Z",
                "reply_time_in_minutes": { "calendar": 95, "business": 40 }
            }
        })))
        .expect(1)
        .mount(&server)
        .await;
    let records = SystemsOfRecord::from_configs(zendesk(&server), None, http_client().unwrap());
    let progress = records.ticket_progress("5158").await.unwrap().unwrap();
    assert_eq!(
        progress,
        TicketProgress {
            replies: 2,
            first_reply_after: Some(Duration::from_secs(95 * 60)),
            assigned_at: Some("2026-01-05T09:10:00Z".parse().unwrap()),
        }
    );
}

#[tokio::test]
async fn a_ticket_without_a_reply_has_no_reply_time() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/7/metrics"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ticket_metric": { "replies": 0, "reply_time_in_minutes": { "calendar": null, "business": null } }
        })))
        .mount(&server)
        .await;
    let records = SystemsOfRecord::from_configs(zendesk(&server), None, http_client().unwrap());
    let progress = records.ticket_progress("7").await.unwrap().unwrap();
    assert_eq!(progress, TicketProgress::default());
}

#[tokio::test]
async fn a_lookup_that_takes_too_long_fails_within_the_timeout() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/users/9"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "user": { "role": "agent" } }))
                .set_delay(Duration::from_secs(5)),
        )
        .mount(&server)
        .await;
    let records = SystemsOfRecord::from_configs(zendesk(&server), None, http_client().unwrap())
        .with_timeout(Duration::from_millis(200));
    let started = std::time::Instant::now();
    let error = records.user_is_staff("9").await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2), "{error}");
    assert!(
        error.to_string().contains("no answer within 200 ms"),
        "{error}"
    );
}

#[tokio::test]
async fn an_id_that_is_not_a_zendesk_id_is_a_failed_lookup_not_a_request() {
    let server = MockServer::start().await;
    let records = SystemsOfRecord::from_configs(zendesk(&server), None, http_client().unwrap());
    assert!(records.organization_tags("../admin").await.is_err());
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn comment_authors_and_organization_tags_are_looked_up() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/users/31"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({ "user": { "role": "admin" } })),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/organizations/44"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "organization": { "tags": ["enterprise", "dach"] } })),
        )
        .expect(1)
        .mount(&server)
        .await;
    let records = SystemsOfRecord::from_configs(zendesk(&server), None, http_client().unwrap());
    for _ in 0..2 {
        assert_eq!(records.user_is_staff("31").await, Ok(Some(true)));
        assert_eq!(
            records.organization_tags("44").await,
            Ok(Some(vec!["enterprise".to_owned(), "dach".to_owned()]))
        );
    }
}

#[tokio::test]
async fn a_contacts_and_its_companies_attributes_are_read_once_and_then_cached() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/contacts/c-1"))
        .and(header("authorization", "Bearer ic-t0ken"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "type": "contact", "id": "c-1", "custom_attributes": { "tier": "gold" }
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/contacts/c-1/companies"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "type": "list",
            "data": [{ "type": "company", "id": "co-1", "plan": { "name": "enterprise" }, "custom_attributes": {} }]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let records = SystemsOfRecord::from_configs(None, intercom(&server), http_client().unwrap());
    for _ in 0..2 {
        let pairs = records.account_attributes("c-1").await.unwrap().unwrap();
        assert!(
            pairs.contains(&("tier".to_owned(), "gold".to_owned())),
            "{pairs:?}"
        );
        assert!(
            pairs.contains(&("plan".to_owned(), "enterprise".to_owned())),
            "{pairs:?}"
        );
    }
}

#[tokio::test]
async fn a_breach_is_written_back_to_its_zendesk_ticket_as_an_internal_note_and_a_tag() {
    use app::ports::{BreachNote, Delivered, TicketSystem};
    use notify::ZendeskApi;
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/5158"))
        .and(wiremock::matchers::body_json(json!({"ticket": {
            "comment": {
                "body": "SLA breached: the first response was due at 2026-03-02 10:00 UTC and is 1 h 12 min late (noted at 2026-03-02 11:12 UTC).",
                "public": false
            },
            "additional_tags": ["sla_breached"]
        }})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ticket": {"id": 5158}})))
        .expect(1)
        .mount(&server)
        .await;
    let api = ZendeskApi::new(zendesk(&server).unwrap(), http_client().unwrap());
    let breach = BreachNote {
        clock: domain::case::TimerKind::FirstResponse,
        due: "2026-03-02T10:00:00Z".parse().unwrap(),
        breached_at: "2026-03-02T11:12:00Z".parse().unwrap(),
    };
    let delivered = api
        .write_back_breach(&breach, &common::ticket())
        .await
        .unwrap();
    assert!(matches!(delivered, Delivered::Sent { .. }), "{delivered:?}");

    // A case that is not a Zendesk ticket has nothing to write to.
    let chat = api
        .write_back_breach(&breach, &common::chat())
        .await
        .unwrap();
    assert_eq!(chat, Delivered::NotConfigured);
}
