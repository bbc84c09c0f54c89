//! The `read-api` function against moto: the read token from Secrets Manager, the read routes
//! over the DynamoDB table, 401 without the token, the base path of a custom domain stripped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::ports::{CaseStore, ManualClock};
use aws::store::DynamoStore;
use base64::Engine as _;
use domain::Timestamp;
use lambda::Settings;
use lambda::test_support::{read_response, sdk_config, unique};
use read_api::ReadFunction;
use serde_json::{Value, json};
use std::sync::Arc;
use store_contract::{create, event_entry, sample_case};

const FIXTURE: &str = include_str!("fixtures/apigw-v2-read.json");
const TOKEN: &str = "r3ad-t0ken-from-secrets-manager";

fn received() -> Timestamp {
    // Tuesday 1 December 2026, 09:00 Berlin.
    "2026-12-01T08:00:00Z".parse().unwrap()
}

/// A table with one urgent 24x7 ticket of December, the token stored in Secrets Manager, and
/// the function built from settings as `template.yaml` sets them (the token by secret id).
async fn function(public_base_url: Option<&str>) -> ReadFunction {
    let sdk = sdk_config().await;
    let table = aws::test_support::new_table(&sdk, "read-api").await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), &table);
    let mut write = create(sample_case("zendesk-7001", received()));
    write.timeline = vec![event_entry(received(), "evt-7001")];
    store.commit(write).await.unwrap();

    let secret = unique("read-token");
    aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name(&secret)
        .secret_string(TOKEN)
        .send()
        .await
        .unwrap();
    let mut pairs = vec![
        ("TABLE_NAME".to_owned(), table),
        ("SUPPORT_SLA_READ_TOKEN_SECRET_ID".to_owned(), secret),
    ];
    if let Some(url) = public_base_url {
        pairs.push(("PUBLIC_BASE_URL".to_owned(), url.to_owned()));
    }
    let settings = Settings::from_pairs(pairs)
        .resolve_secrets(&sdk, &read_api::SECRETS)
        .await
        .unwrap();
    // An hour after receipt: the 30-minute first response is breached.
    let clock = ManualClock::new("2026-12-01T09:00:00Z".parse().unwrap());
    ReadFunction::new(&settings, &sdk, Arc::new(clock)).unwrap()
}

fn get(path: &str, query: &str, authorization: Option<&str>) -> lambda_http::Request {
    let mut event: Value = serde_json::from_str(FIXTURE).unwrap();
    event["rawPath"] = json!(path);
    event["rawQueryString"] = json!(query);
    event["requestContext"]["http"]["path"] = json!(path);
    if !query.is_empty() {
        let parameters: serde_json::Map<String, Value> = query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(name, value)| (name.to_owned(), json!(value)))
            .collect();
        event["queryStringParameters"] = Value::Object(parameters);
    }
    if let Some(authorization) = authorization {
        event["headers"]["authorization"] = json!(authorization);
    }
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

fn bearer() -> String {
    format!("Bearer {TOKEN}")
}

#[tokio::test]
async fn the_cases_need_the_token_from_secrets_manager() {
    let function = function(None).await;

    let (status, _) = read_response(function.handle(get("/api/cases", "", None)).await).await;
    assert_eq!(status, 401);
    let (status, _) = read_response(
        function
            .handle(get("/api/cases", "", Some("Bearer wrong-token")))
            .await,
    )
    .await;
    assert_eq!(status, 401);

    let (status, body) = read_response(
        function
            .handle(get("/api/cases", "", Some(&bearer())))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["cases"][0]["case_id"], "zendesk-7001");
}

#[tokio::test]
async fn the_token_is_accepted_as_a_basic_password() {
    let function = function(None).await;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("lead:{TOKEN}"))
    );
    let (status, body) = read_response(
        function
            .handle(get("/api/cases/zendesk-7001", "", Some(&basic)))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["timeline"][0]["event_id"], "evt-7001");
}

#[tokio::test]
async fn the_months_report_and_recorded_cases_come_from_the_table() {
    let function = function(None).await;

    let (status, report) = read_response(
        function
            .handle(get(
                "/api/reports/compliance",
                "month=2026-12",
                Some(&bearer()),
            ))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{report}");
    let first_response = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["clock"] == "first_response")
        .unwrap();
    // Due 09:30 Berlin, unanswered at 10:00 Berlin: breached.
    assert_eq!(first_response["breached"], 1, "{report}");

    let (status, recorded) = read_response(
        function
            .handle(get(
                "/api/reports/recorded",
                "month=2026-12",
                Some(&bearer()),
            ))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{recorded}");
    assert_eq!(recorded["cases"][0]["case"]["id"], "zendesk-7001");
    assert_eq!(recorded["cases"][0]["events"][0]["event_id"], "evt-7001");

    let (status, november) = read_response(
        function
            .handle(get(
                "/api/reports/compliance",
                "month=2026-11",
                Some(&bearer()),
            ))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(november["totals"]["total"], 0);
}

#[tokio::test]
async fn behind_a_custom_domain_the_base_path_is_stripped() {
    let function = function(Some("https://support.example.com/sla")).await;
    let (status, body) = read_response(
        function
            .handle(get("/sla/api/cases", "", Some(&bearer())))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["cases"][0]["case_id"], "zendesk-7001");
}

#[tokio::test]
async fn a_read_token_secret_that_cannot_be_read_stops_the_start() {
    let sdk = sdk_config().await;
    let error = Settings::from_pairs([
        ("TABLE_NAME", "cases"),
        (
            "SUPPORT_SLA_READ_TOKEN_SECRET_ID",
            "support-sla/no-such-secret",
        ),
    ])
    .resolve_secrets(&sdk, &read_api::SECRETS)
    .await
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("SUPPORT_SLA_READ_TOKEN_SECRET_ID"),
        "{error}"
    );
}
