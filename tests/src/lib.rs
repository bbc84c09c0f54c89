//! The test harness: start the real local server on a free port, with a clock the test moves,
//! wiremock servers standing in for PagerDuty and Slack, and signed provider payloads.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod faulty_sink;
pub mod payloads;
pub mod raw_http;
pub mod server_process;
pub mod signed;
pub mod smtp;

use app::EngineSettings;
use app::ports::ManualClock;
use domain::Timestamp;
use local::runtime::{RunningServer, ServerOptions, start};
use providers::Secret;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

pub const ZENDESK_SECRET: &str = "test-zendesk-signing-secret";
pub const INTERCOM_SECRET: &str = "test-intercom-client-secret";
pub const TWILIO_TOKEN: &str = "test-twilio-auth-token";
pub const PAGERDUTY_WEBHOOK_SECRET: &str = "test-pagerduty-webhook-secret";
pub const ROUTING_KEY: &str = "R0UT1NGKEY0123456789abcdef012345";
pub const PAGERDUTY_PATH: &str = "/v2/enqueue";
pub const SLACK_PATH: &str = "/services/T000/B000/XXXX";

#[derive(Debug)]
pub struct TestApp {
    pub server: Option<RunningServer>,
    pub clock: ManualClock,
    pub pagerduty: MockServer,
    pub slack: MockServer,
    pub base_url: String,
    pub http: reqwest::Client,
    /// Keeps the data directory alive as long as the app.
    pub data: tempfile::TempDir,
}

/// The environment a test server sees: every secret and destination set.
pub fn test_lookup(pagerduty: &MockServer, slack: &MockServer) -> HashMap<String, String> {
    HashMap::from([
        ("ZENDESK_WEBHOOK_SECRET".into(), ZENDESK_SECRET.into()),
        ("INTERCOM_CLIENT_SECRET".into(), INTERCOM_SECRET.into()),
        ("TWILIO_AUTH_TOKEN".into(), TWILIO_TOKEN.into()),
        (
            "PAGERDUTY_WEBHOOK_SECRET".into(),
            PAGERDUTY_WEBHOOK_SECRET.into(),
        ),
        ("PAGERDUTY_ROUTING_KEY".into(), ROUTING_KEY.into()),
        (
            "PAGERDUTY_EVENTS_URL".into(),
            format!("{}{PAGERDUTY_PATH}", pagerduty.uri()),
        ),
        (
            "SLACK_WEBHOOK_URL".into(),
            format!("{}{SLACK_PATH}", slack.uri()),
        ),
    ])
}

/// Engine settings that retry quickly, so failure tests take seconds.
pub fn fast_settings() -> EngineSettings {
    EngineSettings {
        first_retry_delay: Duration::from_millis(100),
        max_retry_delay: Duration::from_millis(400),
        ..EngineSettings::default()
    }
}

impl TestApp {
    /// Start a server whose clock reads `now`; PagerDuty answers 202 and Slack `ok` unless the
    /// test mounts other answers first (wiremock uses the first matching mock).
    pub async fn spawn(now: Timestamp) -> Self {
        Self::spawn_with(now, true).await
    }

    pub async fn spawn_with(now: Timestamp, default_answers: bool) -> Self {
        let policy = policy_file::default_policy().unwrap();
        Self::spawn_with_settings(now, default_answers, &[], policy).await
    }

    /// Like [`TestApp::spawn_with`], with the engine's settings given.
    pub async fn spawn_with_engine(
        now: Timestamp,
        default_answers: bool,
        settings: EngineSettings,
    ) -> Self {
        let policy = policy_file::default_policy().unwrap();
        Self::spawn_configured(now, default_answers, &[], policy, settings).await
    }

    /// Like [`TestApp::spawn_with`], with `extra` settings on top of [`test_lookup`]'s.
    pub async fn spawn_with_env(
        now: Timestamp,
        default_answers: bool,
        extra: HashMap<String, String>,
    ) -> Self {
        let extra: Vec<(&str, String)> = extra
            .iter()
            .map(|(name, value)| (name.as_str(), value.clone()))
            .collect();
        let policy = policy_file::default_policy().unwrap();
        Self::spawn_with_settings(now, default_answers, &extra, policy).await
    }

    /// Like [`TestApp::spawn_with`], with more settings (e.g. the Zendesk API's).
    pub async fn spawn_with_settings(
        now: Timestamp,
        default_answers: bool,
        extra: &[(&str, String)],
        policy: domain::policy::Policy,
    ) -> Self {
        Self::spawn_configured(now, default_answers, extra, policy, fast_settings()).await
    }

    async fn spawn_configured(
        now: Timestamp,
        default_answers: bool,
        extra: &[(&str, String)],
        policy: domain::policy::Policy,
        settings: EngineSettings,
    ) -> Self {
        let pagerduty = MockServer::start().await;
        let slack = MockServer::start().await;
        if default_answers {
            mount_default_answers(&pagerduty, &slack).await;
        }
        let data = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(now);
        let mut lookup = test_lookup(&pagerduty, &slack);
        lookup.extend(
            extra
                .iter()
                .map(|(name, value)| ((*name).to_owned(), value.clone())),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = start(ServerOptions {
            listener,
            data_dir: data.path().to_owned(),
            policy,
            clock: Arc::new(clock.clone()),
            lookup: Arc::new(move |name: &str| lookup.get(name).cloned()),
            due_loop_idle: Duration::from_millis(50),
            engine: settings,
        })
        .await
        .unwrap();
        let base_url = format!("http://{}", server.addr());
        Self {
            server: Some(server),
            clock,
            pagerduty,
            slack,
            base_url,
            http: reqwest::Client::new(),
            data,
        }
    }

    pub fn server(&self) -> &RunningServer {
        self.server.as_ref().unwrap()
    }

    pub fn now(&self) -> Timestamp {
        use app::ports::Clock;
        self.clock.now()
    }

    /// Move the clock and let the due loop look.
    pub fn advance_to(&self, now: Timestamp) {
        self.clock.set(now);
        self.server().wake_timers();
    }

    pub async fn post_zendesk(&self, body: &serde_json::Value) -> reqwest::Response {
        signed::zendesk(&self.http, &self.base_url, body, self.now())
            .send()
            .await
            .unwrap()
    }

    pub async fn post_intercom(&self, body: &serde_json::Value) -> reqwest::Response {
        signed::intercom(&self.http, &self.base_url, body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_twilio(&self, form: &[(&str, String)]) -> reqwest::Response {
        self.post_twilio_to("/webhooks/twilio/recording", form)
            .await
    }

    /// A form signed as Twilio signs it for `path` (the voice webhook, the `<Record>` action).
    pub async fn post_twilio_to(&self, path: &str, form: &[(&str, String)]) -> reqwest::Response {
        let mut encoder = form_urlencoded::Serializer::new(String::new());
        for (name, value) in form {
            encoder.append_pair(name, value);
        }
        let body = encoder.finish().into_bytes();
        let url = format!("{}{path}", self.base_url);
        let signature = providers::twilio::sign(&Secret::new(TWILIO_TOKEN).unwrap(), &url, &body);
        self.http
            .post(&url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("X-Twilio-Signature", signature)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn case(&self, case_id: &str) -> serde_json::Value {
        let response = self
            .http
            .get(format!("{}/api/cases/{case_id}", self.base_url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "GET case {case_id}");
        response.json().await.unwrap()
    }

    pub async fn cases(&self) -> serde_json::Value {
        self.http
            .get(format!("{}/api/cases", self.base_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// The PagerDuty events received so far, as JSON bodies.
    pub async fn pagerduty_events(&self) -> Vec<serde_json::Value> {
        json_bodies(&self.pagerduty).await
    }

    pub async fn slack_messages(&self) -> Vec<serde_json::Value> {
        json_bodies(&self.slack).await
    }

    /// Wait (up to 10 s) until PagerDuty has received `count` requests matching `filter`.
    pub async fn wait_for_pagerduty(
        &self,
        count: usize,
        filter: impl Fn(&serde_json::Value) -> bool,
    ) -> Vec<serde_json::Value> {
        wait_for(&self.pagerduty, count, filter).await
    }

    pub async fn wait_for_slack(
        &self,
        count: usize,
        filter: impl Fn(&serde_json::Value) -> bool,
    ) -> Vec<serde_json::Value> {
        wait_for(&self.slack, count, filter).await
    }

    pub async fn shutdown(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.unwrap();
        }
    }
}

pub async fn mount_default_answers(pagerduty: &MockServer, slack: &MockServer) {
    Mock::given(method("POST"))
        .and(path(PAGERDUTY_PATH))
        .respond_with(ResponseTemplate::new(202).set_body_json(serde_json::json!({
            "status": "success", "message": "Event processed"
        })))
        .mount(pagerduty)
        .await;
    Mock::given(method("POST"))
        .and(path(SLACK_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(slack)
        .await;
}

async fn json_bodies(server: &MockServer) -> Vec<serde_json::Value> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        // Lookups (GETs without a body, e.g. Intercom contacts) are not messages sent.
        .filter(|request: &&Request| !request.body.is_empty())
        .map(|request: &Request| serde_json::from_slice(&request.body).unwrap())
        .collect()
}

pub async fn wait_for(
    server: &MockServer,
    count: usize,
    filter: impl Fn(&serde_json::Value) -> bool,
) -> Vec<serde_json::Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let matching: Vec<_> = json_bodies(server)
            .await
            .into_iter()
            .filter(|b| filter(b))
            .collect();
        if matching.len() >= count || tokio::time::Instant::now() > deadline {
            return matching;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Give asynchronous work a moment to (not) happen, for "nothing more was sent" checks.
pub async fn settle() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

/// A PagerDuty event with this action and dedup key.
pub fn is_event(action: &'static str, dedup_key: &str) -> impl Fn(&serde_json::Value) -> bool {
    let dedup_key = dedup_key.to_owned();
    move |body| body["event_action"] == action && body["dedup_key"] == dedup_key.as_str()
}
