//! Helpers for the functions' tests against moto server (feature `test-support`).
//!
//! Each test gets its own table, schedule group and sender identity (unique names), so tests run
//! in parallel against one moto server without seeing each other's data. `scripts/test.sh`
//! starts moto and exports `AWS_ENDPOINT_URL`; without it these helpers fail the test with a
//! message saying so (they never fall back to real AWS).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::{LambdaEngine, Settings, WebhookEngine, build_engine, build_webhook_engine};
use app::ports::Clock;
use aws_config::SdkConfig;
use domain::policy::Policy;
use serde_json::{Value, json};
use std::sync::Arc;

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "eu-central-1";
pub const ROUTING_KEY: &str = "R0UT1NGKEY0123456789abcdef012345";
pub const PAGERDUTY_PATH: &str = "/v2/enqueue";
pub const SENDER: &str = "support@acme-hosting.example";
pub const SUPPORT_MAILBOX: &str = "Acme Hosting Support <support@acme-hosting.example>";

pub use aws::test_support::{endpoint, sdk_config, unique};

/// One test's AWS resources in moto.
#[derive(Debug)]
pub struct Stack {
    pub endpoint: String,
    pub sdk: SdkConfig,
    pub table: String,
    pub group: String,
}

impl Stack {
    /// A fresh table and schedule group, and the sender identity verified.
    pub async fn create(prefix: &str) -> Self {
        let endpoint = endpoint();
        let sdk = sdk_config().await;
        let table = aws::test_support::new_table(&sdk, &format!("{prefix}-cases")).await;
        let group = aws::test_support::new_group(&sdk, &format!("{prefix}-timers")).await;
        aws_sdk_sesv2::Client::new(&sdk)
            .create_email_identity()
            .email_identity(SENDER)
            .send()
            .await
            .unwrap_or_else(|error| panic!("cannot verify {SENDER} in moto: {error:?}"));
        Self {
            endpoint,
            sdk,
            table,
            group,
        }
    }

    pub fn escalate_function_arn() -> String {
        format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:support-sla-escalate")
    }

    /// Every setting a function reads, as `template.yaml` would set them, with the secrets
    /// given directly and PagerDuty at `pagerduty_uri` (a wiremock server).
    pub fn settings(&self, pagerduty_uri: &str) -> Settings {
        Settings::from_pairs([
            ("TABLE_NAME", self.table.clone()),
            ("SCHEDULE_GROUP", self.group.clone()),
            ("ESCALATE_FUNCTION_ARN", Self::escalate_function_arn()),
            (
                "SCHEDULER_ROLE_ARN",
                format!("arn:aws:iam::{ACCOUNT}:role/support-sla-scheduler"),
            ),
            (
                "SCHEDULER_DLQ_ARN",
                format!("arn:aws:sqs:{REGION}:{ACCOUNT}:support-sla-scheduler-dlq"),
            ),
            ("SES_FROM_ADDRESS", SENDER.to_owned()),
            ("SUPPORT_MAILBOX", SUPPORT_MAILBOX.to_owned()),
            ("PAGERDUTY_ROUTING_KEY", ROUTING_KEY.to_owned()),
            (
                "PAGERDUTY_EVENTS_URL",
                format!("{}{PAGERDUTY_PATH}", pagerduty_uri.trim_end_matches('/')),
            ),
        ])
    }

    /// The engine a function builds at init, on the test's clock.
    pub fn engine(&self, settings: &Settings, clock: Arc<dyn Clock>) -> Arc<LambdaEngine> {
        let policy = Arc::new(policy_file::default_policy().unwrap());
        Arc::new(build_engine(settings, &self.sdk, policy, clock).unwrap())
    }

    /// The engine a webhook function builds at init (no notifier), on the test's clock.
    pub fn webhook_engine(&self, settings: &Settings, clock: Arc<dyn Clock>) -> Arc<WebhookEngine> {
        let policy = Arc::new(policy_file::default_policy().unwrap());
        Arc::new(build_webhook_engine(settings, &self.sdk, policy, clock).unwrap())
    }

    pub fn policy() -> Policy {
        policy_file::default_policy().unwrap()
    }

    pub fn scheduler(&self) -> aws_sdk_scheduler::Client {
        aws_sdk_scheduler::Client::new(&self.sdk)
    }

    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk)
    }

    /// The schedule of `timer` for `case_id`, if it exists.
    pub async fn schedule(
        &self,
        case_id: &str,
        timer: domain::case::TimerKind,
    ) -> Option<aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput> {
        let name =
            aws::scheduler::schedule_name(&domain::case::CaseId::parse(case_id).unwrap(), timer);
        match self
            .scheduler()
            .get_schedule()
            .group_name(&self.group)
            .name(&name)
            .send()
            .await
        {
            Ok(schedule) => Some(schedule),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                None
            }
            Err(error) => panic!("get_schedule {name}: {error:?}"),
        }
    }

    /// Every item of the table (the tables are small: one test's cases).
    pub async fn items(
        &self,
    ) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        let output = self
            .dynamodb()
            .scan()
            .table_name(&self.table)
            .send()
            .await
            .unwrap();
        output.items.unwrap_or_default()
    }

    /// The idempotency keys of the outbox items still pending, in table order.
    pub async fn pending_outbox_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .items()
            .await
            .iter()
            .filter(|item| {
                item.get("entity")
                    .and_then(|v| v.as_s().ok())
                    .map(String::as_str)
                    == Some("outbox")
                    && item
                        .get("state")
                        .and_then(|v| v.as_s().ok())
                        .map(String::as_str)
                        == Some("pending")
            })
            .filter_map(|item| item.get("outbox_key")?.as_s().ok().cloned())
            .collect();
        keys.sort();
        keys
    }

    /// The e-mails moto's SES has accepted from anyone to `to` (moto keeps one store for all
    /// tests; filter by recipient).
    pub async fn emails_to(&self, to: &str) -> Vec<Value> {
        let data: Value = reqwest::get(format!("{}/moto-api/data.json", self.endpoint))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        data["ses"]["Message"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|message| message.to_string().contains(to))
            .collect()
    }
}

/// An API Gateway HTTP API (payload 2.0) event: the recorded `fixture` with the method, path,
/// headers and body replaced, and the body base64-encoded when `base64` (as API Gateway sends
/// form posts). Header names are lower-cased, as API Gateway delivers them.
pub fn apigw_v2_event(
    fixture: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    base64: bool,
) -> lambda_http::Request {
    use base64::Engine as _;
    let mut event: Value = serde_json::from_str(fixture).unwrap();
    event["routeKey"] = json!(format!("{method} {path}"));
    event["rawPath"] = json!(path);
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(path);
    event["requestContext"]["routeKey"] = json!(format!("{method} {path}"));
    for (name, value) in headers {
        event["headers"][name.to_ascii_lowercase()] = json!(value);
    }
    event["headers"]["content-length"] = json!(body.len().to_string());
    if base64 {
        event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(body));
        event["isBase64Encoded"] = json!(true);
    } else {
        event["body"] = json!(String::from_utf8(body.to_vec()).unwrap());
        event["isBase64Encoded"] = json!(false);
    }
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

pub const ZENDESK_SECRET: &str = "test-zendesk-signing-secret";
pub const INTERCOM_SECRET: &str = "test-intercom-client-secret";
pub const TWILIO_TOKEN: &str = "test-twilio-auth-token";
/// The HTTP API's `$default` stage URL the functions are told about (`PUBLIC_BASE_URL`).
pub const PUBLIC_BASE_URL: &str = "https://a1b2c3d4e5.execute-api.eu-central-1.amazonaws.com";
pub const API_HOST: &str = "a1b2c3d4e5.execute-api.eu-central-1.amazonaws.com";

/// One test's function environment: its moto resources, PagerDuty (wiremock, no answers
/// mounted: each test mounts what it expects), a clock the test moves, the settings with every
/// provider secret set directly, and the engine a function builds at init.
#[derive(Debug)]
pub struct Harness {
    pub stack: Stack,
    pub pagerduty: wiremock::MockServer,
    pub clock: app::ports::ManualClock,
    pub settings: Settings,
    pub engine: Arc<LambdaEngine>,
}

impl Harness {
    pub async fn start(prefix: &str, now: domain::Timestamp) -> Self {
        let stack = Stack::create(prefix).await;
        let pagerduty = wiremock::MockServer::start().await;
        let mut settings = stack.settings(&pagerduty.uri());
        settings.set("ZENDESK_WEBHOOK_SECRET", ZENDESK_SECRET);
        settings.set("INTERCOM_CLIENT_SECRET", INTERCOM_SECRET);
        settings.set("TWILIO_AUTH_TOKEN", TWILIO_TOKEN);
        settings.set("PUBLIC_BASE_URL", PUBLIC_BASE_URL);
        let clock = app::ports::ManualClock::new(now);
        let engine = stack.engine(&settings, Arc::new(clock.clone()));
        Self {
            stack,
            pagerduty,
            clock,
            settings,
            engine,
        }
    }

    pub fn now(&self) -> domain::Timestamp {
        self.clock.now()
    }

    /// PagerDuty accepts events (202) for `dedup_key` and `action`, and must see exactly
    /// `times` of them by the end of the test (checked when the mock server is dropped).
    pub async fn expect_pagerduty(&self, action: &str, dedup_key: &str, times: u64) {
        use wiremock::matchers::{body_partial_json, method, path};
        wiremock::Mock::given(method("POST"))
            .and(path(PAGERDUTY_PATH))
            .and(body_partial_json(
                json!({ "event_action": action, "dedup_key": dedup_key }),
            ))
            .respond_with(wiremock::ResponseTemplate::new(202).set_body_json(json!({
                "status": "success", "message": "Event processed", "dedup_key": dedup_key
            })))
            .expect(times)
            .named(format!("PagerDuty {action} {dedup_key}"))
            .mount(&self.pagerduty)
            .await;
    }

    /// Every other PagerDuty request is accepted too (and not counted).
    pub async fn accept_other_pagerduty_events(&self) {
        use wiremock::matchers::{method, path};
        wiremock::Mock::given(method("POST"))
            .and(path(PAGERDUTY_PATH))
            .respond_with(wiremock::ResponseTemplate::new(202).set_body_json(json!({
                "status": "success", "message": "Event processed"
            })))
            .with_priority(10)
            .mount(&self.pagerduty)
            .await;
    }

    /// The PagerDuty events received so far.
    pub async fn pagerduty_events(&self) -> Vec<Value> {
        self.pagerduty
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .map(|request| serde_json::from_slice(&request.body).unwrap())
            .collect()
    }

    /// The Zendesk webhook event for `body`, signed at the clock's time, in the recorded
    /// API Gateway event `fixture`.
    pub fn zendesk_event(&self, fixture: &str, body: &Value) -> lambda_http::Request {
        self.zendesk_event_signed(fixture, body, ZENDESK_SECRET, "")
    }

    /// The same signed with `secret`, at a path under `raw_prefix` (an API mapping's base path).
    pub fn zendesk_event_signed(
        &self,
        fixture: &str,
        body: &Value,
        secret: &str,
        raw_prefix: &str,
    ) -> lambda_http::Request {
        let body = serde_json::to_vec(body).unwrap();
        let timestamp = self.now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        let signature =
            providers::zendesk::sign(&providers::Secret::new(secret).unwrap(), &timestamp, &body);
        apigw_v2_event(
            fixture,
            "POST",
            &format!("{raw_prefix}/webhooks/zendesk"),
            &[
                (providers::zendesk::SIGNATURE_HEADER, &signature),
                (providers::zendesk::TIMESTAMP_HEADER, &timestamp),
            ],
            &body,
            false,
        )
    }

    /// The Intercom notification `body`, signed, in the recorded event `fixture`.
    pub fn intercom_event(&self, fixture: &str, body: &Value) -> lambda_http::Request {
        let body = serde_json::to_vec(body).unwrap();
        let signature =
            providers::intercom::sign(&providers::Secret::new(INTERCOM_SECRET).unwrap(), &body);
        apigw_v2_event(
            fixture,
            "POST",
            "/webhooks/intercom",
            &[(providers::intercom::SIGNATURE_HEADER, &signature)],
            &body,
            false,
        )
    }

    /// The Twilio callback `form`, signed over the public URL, base64-encoded as API Gateway
    /// delivers form posts, in the recorded event `fixture`.
    pub fn twilio_event(&self, fixture: &str, form: &[(&str, String)]) -> lambda_http::Request {
        twilio_event_at(fixture, PUBLIC_BASE_URL, "", form)
    }

    /// The webhook function a `main` builds from these settings (its secrets set directly),
    /// on the test's clock.
    pub fn function(
        &self,
        secrets: &[crate::SecretSpec],
        build: crate::http::BuildWebhooks,
    ) -> Result<crate::http::WebhookFunction, crate::InitError> {
        self.function_with(self.settings.clone(), self.settings.clone(), secrets, build)
    }

    /// The same from `env` (what the function reads before fetching secrets) and `settings`
    /// (with the secrets fetched).
    pub fn function_with(
        &self,
        env: Settings,
        settings: Settings,
        secrets: &[crate::SecretSpec],
        build: crate::http::BuildWebhooks,
    ) -> Result<crate::http::WebhookFunction, crate::InitError> {
        crate::http::WebhookFunction::new(crate::http::WebhookParts {
            engine: self
                .stack
                .webhook_engine(&self.settings, Arc::new(self.clock.clone())),
            policy: Arc::new(Stack::policy()),
            sdk: self.stack.sdk.clone(),
            env,
            settings,
            secrets: secrets.to_vec(),
            build,
            clock: Arc::new(self.clock.clone()),
        })
    }
}

/// A Twilio recording callback `form` as Twilio sends it to `public_base_url` (which may have
/// a path: a custom domain's base path), signed with [`TWILIO_TOKEN`], in the recorded event
/// `fixture`; `raw_prefix` is the part of the path API Gateway keeps in `rawPath` before
/// `/webhooks/...` (the API mapping's base path, or empty).
pub fn twilio_event_at(
    fixture: &str,
    public_base_url: &str,
    raw_prefix: &str,
    form: &[(&str, String)],
) -> lambda_http::Request {
    twilio_post(
        fixture,
        public_base_url,
        raw_prefix,
        "/webhooks/twilio/recording",
        form,
    )
}

/// A Twilio form post to `path` (the voice webhook, its `<Record>` action, the recording
/// callback), signed over `public_base_url` + `path`.
pub fn twilio_post(
    fixture: &str,
    public_base_url: &str,
    raw_prefix: &str,
    path: &str,
    form: &[(&str, String)],
) -> lambda_http::Request {
    let mut encoder = form_urlencoded::Serializer::new(String::new());
    for (name, value) in form {
        encoder.append_pair(name, value);
    }
    let body = encoder.finish().into_bytes();
    let signature = providers::twilio::sign(
        &providers::Secret::new(TWILIO_TOKEN).unwrap(),
        &format!("{}{path}", public_base_url.trim_end_matches('/')),
        &body,
    );
    apigw_v2_event(
        fixture,
        "POST",
        &format!("{raw_prefix}{path}"),
        &[(providers::twilio::SIGNATURE_HEADER, &signature)],
        &body,
        true,
    )
}

/// A response's status and JSON body (an empty body reads as `null`).
/// A response's status, `Content-Type` and body as text (TwiML answers).
pub async fn read_text(response: http::Response<axum::body::Body>) -> (u16, String, String) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        content_type,
        String::from_utf8(bytes.to_vec()).unwrap(),
    )
}

pub async fn read_response(response: http::Response<axum::body::Body>) -> (u16, Value) {
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    (status, body)
}
