//! The `zendesk-webhook` handler with recorded API Gateway events, against moto (DynamoDB,
//! EventBridge Scheduler, Secrets Manager) and wiremock (PagerDuty). Run through
//! `scripts/test.sh`, which starts moto and exports `AWS_ENDPOINT_URL`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::ports::CaseStore;
use domain::case::{CaseId, TimerKind};
use domain::jiff::SignedDuration;
use lambda::http::Router;
use lambda::test_support::{Harness, ZENDESK_SECRET, read_response, sdk_config, unique};
use lambda::{SecretSpec, Settings};
use tests::payloads::{Ticket, berlin};

const EVENT: &str = include_str!("fixtures/apigw-v2-zendesk.json");

async fn start(now: &str) -> (Harness, Router) {
    let harness = Harness::start("zendesk", berlin(now)).await;
    let webhooks = zendesk_webhook::webhooks(&harness.settings, harness.engine.policy())
        .expect("the Zendesk secret is set");
    let app = zendesk_webhook::webhook_app(harness.engine.clone(), webhooks);
    (harness, app)
}

fn case_id(ticket: &Ticket) -> CaseId {
    CaseId::parse(&ticket.case_id()).unwrap()
}

#[tokio::test]
async fn a_new_ticket_is_stored_in_dynamodb_and_its_dispatch_deadline_scheduled() {
    let (harness, app) = start("2026-12-01T09:00").await;
    let ticket = Ticket::new("7101", berlin("2026-12-01T09:00"), "HIGH");

    let request = harness.zendesk_event(EVENT, &ticket.created());
    let (status, body) = read_response(zendesk_webhook::handle(app, request).await).await;
    assert_eq!(status, 202, "{body}");

    // The case, its timeline, the dedup record: all in the test's own table.
    let items = harness.stack.items().await;
    assert!(
        items.len() >= 2,
        "expected the case and its records, got {items:?}"
    );
    assert!(
        format!("{items:?}").contains(&ticket.case_id()),
        "no item names the case: {items:?}"
    );
    let stored = harness
        .engine
        .store()
        .load(&case_id(&ticket))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.version, 1);
    let dispatch_due = stored.case.dispatch.as_ref().unwrap().due;
    assert_eq!(
        dispatch_due,
        berlin("2026-12-01T10:00"),
        "one business hour"
    );

    // The dispatch timer: a one-time schedule at the deadline, in UTC, invoking escalate.
    let schedule = harness
        .stack
        .schedule(&ticket.case_id(), TimerKind::Dispatch)
        .await
        .expect("the dispatch schedule exists");
    assert_eq!(
        schedule.schedule_expression(),
        Some("at(2026-12-01T09:00:00)")
    );
    assert_eq!(schedule.schedule_expression_timezone(), Some("UTC"));
    let target = schedule.target().unwrap();
    assert_eq!(
        target.arn(),
        lambda::test_support::Stack::escalate_function_arn()
    );
    let input: serde_json::Value = serde_json::from_str(target.input().unwrap()).unwrap();
    assert_eq!(
        input,
        serde_json::json!({ "case_id": ticket.case_id(), "timer": "dispatch" })
    );
    assert!(
        harness.pagerduty_events().await.is_empty(),
        "nothing is due yet"
    );
}

#[tokio::test]
async fn assigning_the_ticket_deletes_its_dispatch_schedule() {
    let (harness, app) = start("2026-12-01T09:00").await;
    let mut ticket = Ticket::new("7102", berlin("2026-12-01T09:00"), "HIGH");
    let created = harness.zendesk_event(EVENT, &ticket.created());
    let (status, _) = read_response(zendesk_webhook::handle(app.clone(), created).await).await;
    assert_eq!(status, 202);
    assert!(
        harness
            .stack
            .schedule(&ticket.case_id(), TimerKind::Dispatch)
            .await
            .is_some()
    );

    harness.clock.set(berlin("2026-12-01T09:20"));
    let assigned = ticket.assigned("8447388090496", berlin("2026-12-01T09:20"));
    let request = harness.zendesk_event(EVENT, &assigned);
    let (status, body) = read_response(zendesk_webhook::handle(app, request).await).await;
    assert_eq!(status, 202, "{body}");

    assert!(
        harness
            .stack
            .schedule(&ticket.case_id(), TimerKind::Dispatch)
            .await
            .is_none(),
        "the dispatch schedule is deleted once the ticket is assigned"
    );
    let stored = harness
        .engine
        .store()
        .load(&case_id(&ticket))
        .await
        .unwrap()
        .unwrap();
    assert!(stored.case.dispatch.as_ref().unwrap().met_at.is_some());
}

#[tokio::test]
async fn the_same_event_twice_is_stored_once() {
    let (harness, app) = start("2026-12-01T09:00").await;
    let ticket = Ticket::new("7103", berlin("2026-12-01T09:00"), "NORMAL");
    let created = ticket.created();
    let first = harness.zendesk_event(EVENT, &created);
    let second = harness.zendesk_event(EVENT, &created);
    assert_eq!(
        read_response(zendesk_webhook::handle(app.clone(), first).await)
            .await
            .0,
        202
    );
    let (status, body) = read_response(zendesk_webhook::handle(app, second).await).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("duplicate")),
        "{body}"
    );
    let stored = harness
        .engine
        .store()
        .load(&case_id(&ticket))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.version, 1);
}

#[tokio::test]
async fn a_forged_signature_is_refused_and_nothing_is_written() {
    let (harness, app) = start("2026-12-01T09:00").await;
    let ticket = Ticket::new("7104", berlin("2026-12-01T09:00"), "URGENT");
    let mut request = harness.zendesk_event(EVENT, &ticket.created());
    request.headers_mut().insert(
        "x-zendesk-webhook-signature",
        "bm90IHRoZSByaWdodCBzaWduYXR1cmU=".parse().unwrap(),
    );
    let (status, _) = read_response(zendesk_webhook::handle(app, request).await).await;
    assert_eq!(status, 401);
    assert!(harness.stack.items().await.is_empty());
    assert!(
        harness
            .stack
            .schedule(&ticket.case_id(), TimerKind::Dispatch)
            .await
            .is_none()
    );
}

#[tokio::test]
async fn the_signing_secret_is_read_from_secrets_manager_at_init() {
    let sdk = sdk_config().await;
    let name = unique("support-sla/zendesk-webhook-secret");
    aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name(&name)
        .secret_string("s3cret-from-secrets-manager")
        .send()
        .await
        .unwrap();
    let settings = Settings::from_pairs([("ZENDESK_WEBHOOK_SECRET_SECRET_ID", name.as_str())])
        .resolve_secrets(&sdk, &zendesk_webhook::SECRETS)
        .await
        .unwrap();
    assert_eq!(
        settings.get("ZENDESK_WEBHOOK_SECRET").as_deref(),
        Some("s3cret-from-secrets-manager")
    );

    let missing = Settings::from_pairs([("ZENDESK_WEBHOOK_SECRET_SECRET_ID", "no/such/secret")])
        .resolve_secrets(&sdk, &[SecretSpec::required("ZENDESK_WEBHOOK_SECRET")])
        .await
        .unwrap_err()
        .to_string();
    assert!(
        missing.contains("ZENDESK_WEBHOOK_SECRET_SECRET_ID") && missing.contains("no/such/secret"),
        "{missing}"
    );
}

#[tokio::test]
async fn an_optional_secret_that_cannot_be_read_turns_its_destination_off() {
    let sdk = sdk_config().await;
    let name = unique("support-sla/pagerduty-routing-key");
    aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name(&name)
        .secret_string("R0UT1NGKEY0123456789abcdef012345")
        .send()
        .await
        .unwrap();
    // The shipped samconfig used to name a Slack secret that a deployment need not create.
    let settings = Settings::from_pairs([
        ("PAGERDUTY_ROUTING_KEY_SECRET_ID", name.as_str()),
        (
            "SLACK_WEBHOOK_URL_SECRET_ID",
            "support-sla/no-such-slack-webhook-url",
        ),
    ])
    .resolve_secrets(&sdk, &lambda::NOTIFIER_SECRETS)
    .await
    .expect("a missing optional secret does not fail the start");
    assert_eq!(
        settings.get("PAGERDUTY_ROUTING_KEY").as_deref(),
        Some("R0UT1NGKEY0123456789abcdef012345")
    );
    assert_eq!(settings.get("SLACK_WEBHOOK_URL"), None);

    // A required one that cannot be read still fails, naming it.
    let error = Settings::from_pairs([
        (
            "PAGERDUTY_ROUTING_KEY_SECRET_ID",
            "support-sla/no-such-routing-key",
        ),
        (
            "SLACK_WEBHOOK_URL_SECRET_ID",
            "support-sla/no-such-slack-webhook-url",
        ),
    ])
    .resolve_secrets(&sdk, &lambda::NOTIFIER_SECRETS)
    .await
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("PAGERDUTY_ROUTING_KEY_SECRET_ID")
            && error.contains("support-sla/no-such-routing-key")
            && !error.contains("slack"),
        "{error}"
    );
}

#[tokio::test]
async fn behind_a_custom_domain_with_a_base_path_the_route_still_matches() {
    let harness = Harness::start("zendesk-base", berlin("2026-12-01T09:00")).await;
    let mut settings = harness.settings.clone();
    settings.set(
        "PUBLIC_BASE_URL",
        "https://hooks.acme-hosting.example/support/",
    );
    let function = harness
        .function_with(
            settings.clone(),
            settings,
            &zendesk_webhook::SECRETS,
            zendesk_webhook::webhooks,
        )
        .unwrap();
    assert_eq!(function.base_path(), "/support");

    // rawPath keeps the mapping's path: without stripping it, the router knows no such route.
    let ticket = Ticket::new("7301", berlin("2026-12-01T09:00"), "HIGH");
    let body = ticket.created();
    let prefixed = || harness.zendesk_event_signed(EVENT, &body, ZENDESK_SECRET, "/support");
    let webhooks = zendesk_webhook::webhooks(&harness.settings, harness.engine.policy()).unwrap();
    let plain = zendesk_webhook::webhook_app(harness.engine.clone(), webhooks);
    let (status, _) = read_response(zendesk_webhook::handle(plain, prefixed()).await).await;
    assert_eq!(status, 404);

    let (status, body) = read_response(function.handle(prefixed()).await).await;
    assert_eq!(status, 202, "{body}");
    // The API's own URL (no base path) is routed as before.
    let other = Ticket::new("7302", berlin("2026-12-01T09:00"), "HIGH");
    let request = harness.zendesk_event(EVENT, &other.created());
    let (status, body) = read_response(function.handle(request).await).await;
    assert_eq!(status, 202, "{body}");
}

/// Puts a new value into the secret `name`: Secrets Manager moves the old one to `AWSPREVIOUS`.
async fn rotate(client: &aws_sdk_secretsmanager::Client, name: &str, value: &str) {
    client
        .put_secret_value()
        .secret_id(name)
        .secret_string(value)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_rotated_secret_is_re_read_on_a_401_at_most_once_a_minute() {
    // The overlap window of the previous secret counts from when Secrets Manager stored the
    // new one (wall time), so this test runs on the wall clock's time.
    let harness = Harness::start("zendesk-rotation", domain::Timestamp::now()).await;
    harness.accept_other_pagerduty_events().await;
    let sdk = &harness.stack.sdk;
    let secrets = aws_sdk_secretsmanager::Client::new(sdk);
    let name = unique("support-sla/zendesk-webhook-secret");
    secrets
        .create_secret()
        .name(&name)
        .secret_string("first-secret")
        .send()
        .await
        .unwrap();
    let mut env = harness.settings.clone();
    env.set("ZENDESK_WEBHOOK_SECRET", "");
    env.set("ZENDESK_WEBHOOK_SECRET_SECRET_ID", name.as_str());
    let settings = env
        .clone()
        .resolve_secrets(sdk, &zendesk_webhook::SECRETS)
        .await
        .unwrap();
    let function = harness
        .function_with(
            env,
            settings,
            &zendesk_webhook::SECRETS,
            zendesk_webhook::webhooks,
        )
        .unwrap();
    let mut next_id = 7400;
    let mut send = async |secret: &str| {
        next_id += 1;
        let ticket = Ticket::new(&next_id.to_string(), harness.now(), "NORMAL");
        let request = harness.zendesk_event_signed(EVENT, &ticket.created(), secret, "");
        read_response(function.handle(request).await).await.0
    };
    assert_eq!(send("first-secret").await, 202);

    // Rotated in Secrets Manager and at Zendesk: the first 401 re-reads it.
    rotate(&secrets, &name, "second-secret").await;
    assert_eq!(send("second-secret").await, 202);

    // Rotated again within the minute: no second re-read, so the new value is refused...
    rotate(&secrets, &name, "third-secret").await;
    harness.clock.advance(SignedDuration::from_secs(30));
    assert_eq!(send("third-secret").await, 401);
    assert_eq!(send("bad-secret").await, 401);
    // ... until the minute is over.
    harness.clock.advance(SignedDuration::from_secs(31));
    assert_eq!(send("third-secret").await, 202);
    // The value it replaced (AWSPREVIOUS) is still accepted during the overlap window, the one
    // before it is not.
    assert_eq!(send("second-secret").await, 202);
    assert_eq!(send("first-secret").await, 401);
}
