//! The pager: PagerDuty Events API v2 (`POST /v2/enqueue`, docs/providers/pagerduty.md).
//!
//! Only `202 Accepted` means the event was taken. 408, 429, 5xx, timeouts and network errors
//! are retried ([`RetryPolicy`]); 400 and the other 4xx are permanent. The routing key is the
//! credential: it travels only in the request body, wrapped in [`Secret`] everywhere else.

use crate::http::{self, Answer};
use crate::retry::RetryPolicy;
use crate::text;
use app::ports::{Delivered, NotifyError, Pager};
use domain::case::{AlertContext, AlertKey, CaseId, Requester};
use domain::policy::Severity;
use env_config::{ConfigError, Secret};
use jiff::Timestamp;
use serde::Serialize;
use std::time::Duration;
use tracing::Instrument;

/// The official endpoint for alert events.
pub const DEFAULT_EVENTS_URL: &str = "https://events.pagerduty.com/v2/enqueue";
/// The integration key of the PagerDuty service (a secret). Unset or empty: nothing is paged.
pub const ROUTING_KEY_VAR: &str = "PAGERDUTY_ROUTING_KEY";
/// Optional; defaults to [`DEFAULT_EVENTS_URL`].
pub const EVENTS_URL_VAR: &str = "PAGERDUTY_EVENTS_URL";

/// PagerDuty's `payload.source`: the system that raised the alert.
const SOURCE: &str = "support-sla";
/// PagerDuty's limit on `payload.summary`.
const MAX_SUMMARY_CHARS: usize = 1024;

#[derive(Debug, Clone)]
pub struct PagerDutyConfig {
    /// `None`: not configured; alerts are logged, not sent.
    pub routing_key: Option<Secret>,
    pub events_url: reqwest::Url,
    /// Per request (connect, send, read the answer).
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

impl PagerDutyConfig {
    /// From `PAGERDUTY_ROUTING_KEY` and `PAGERDUTY_EVENTS_URL`, e.g.
    /// `PagerDutyConfig::from_lookup(|name| std::env::var(name).ok())`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let events_url = match env_config::optional(&lookup, EVENTS_URL_VAR) {
            Some(url) => http::parse_url(EVENTS_URL_VAR, &url)?,
            None => http::parse_url(EVENTS_URL_VAR, DEFAULT_EVENTS_URL)?,
        };
        Ok(Self {
            routing_key: env_config::optional_secret(&lookup, ROUTING_KEY_VAR),
            events_url,
            timeout: http::DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
        })
    }

    /// A configured pager sending to `events_url` (a test server, or [`DEFAULT_EVENTS_URL`]).
    pub fn new(routing_key: &str, events_url: &str) -> Result<Self, ConfigError> {
        Ok(Self {
            routing_key: Secret::new(routing_key),
            events_url: http::parse_url("events URL", events_url)?,
            timeout: http::DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
        })
    }

    /// No routing key: every alert is logged and reported as [`Delivered::NotConfigured`].
    pub fn not_configured() -> Self {
        Self {
            routing_key: None,
            events_url: reqwest::Url::parse(DEFAULT_EVENTS_URL)
                .unwrap_or_else(|_| unreachable!("the default URL is valid")),
            timeout: http::DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
        }
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// [`Pager`] over the PagerDuty Events API v2.
#[derive(Debug, Clone)]
pub struct PagerDutyClient {
    http: reqwest::Client,
    config: PagerDutyConfig,
}

impl PagerDutyClient {
    /// `http` is the shared client from [`crate::http_client`].
    pub fn new(config: PagerDutyConfig, http: reqwest::Client) -> Self {
        Self { http, config }
    }

    pub fn is_configured(&self) -> bool {
        self.config.routing_key.is_some()
    }

    async fn send(
        &self,
        action: &'static str,
        dedup_key: &str,
        payload: Option<Payload<'_>>,
        links: Vec<Link<'_>>,
    ) -> Result<Delivered, NotifyError> {
        let Some(routing_key) = &self.config.routing_key else {
            tracing::info!(
                receiver = "pagerduty",
                action,
                dedup_key,
                "not sent: no destination configured"
            );
            return Ok(Delivered::NotConfigured);
        };
        let event = Event {
            routing_key: routing_key.expose(),
            event_action: action,
            dedup_key,
            payload,
            links,
        };
        let body = serde_json::to_vec(&event).map_err(|error| NotifyError::Permanent {
            reason: format!("cannot encode the PagerDuty event: {error}"),
        })?;
        let span = tracing::info_span!("pagerduty", action, dedup_key);
        async {
            let outcome = self
                .config
                .retry
                .run(|_| self.post(routing_key, body.clone()))
                .await;
            match &outcome {
                Ok(delivered) => tracing::info!(?delivered, "PagerDuty accepted the event"),
                Err(error) => tracing::warn!(%error, "PagerDuty event not delivered"),
            }
            outcome
        }
        .instrument(span)
        .await
    }

    async fn post(&self, routing_key: &Secret, body: Vec<u8>) -> Result<Delivered, NotifyError> {
        let secrets = [routing_key];
        let response = self
            .http
            .post(self.config.events_url.clone())
            .timeout(self.config.timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|error| {
                http::transport_error("PagerDuty", error, self.config.timeout, &secrets)
            })?;
        let answer = Answer::read(response).await;
        let message = Answer::excerpt(&answer_message(&answer.body), &secrets);
        let status = answer.status;
        if status == reqwest::StatusCode::ACCEPTED {
            return Ok(Delivered::Sent {
                detail: accepted_detail(&answer.body, &secrets),
            });
        }
        if answer.is_temporary() {
            return Err(NotifyError::Retryable {
                reason: format!("PagerDuty answered {status}: {message}"),
                retry_after: answer.retry_after,
            });
        }
        let reason = if status.is_client_error() {
            format!("PagerDuty rejected the event ({status}): {message}")
        } else {
            format!("PagerDuty answered {status}, not 202 Accepted: {message}")
        };
        Err(NotifyError::Permanent { reason })
    }
}

impl Pager for PagerDutyClient {
    async fn trigger(
        &self,
        alert: AlertKey,
        severity: Severity,
        context: &AlertContext,
    ) -> Result<Delivered, NotifyError> {
        let dedup_key = alert.dedup_key(&context.case_id);
        let payload = Payload::new(alert, severity, context);
        self.send("trigger", &dedup_key, Some(payload), links(context))
            .await
    }

    async fn resolve(&self, case: &CaseId, alert: AlertKey) -> Result<Delivered, NotifyError> {
        let dedup_key = alert.dedup_key(case);
        self.send("resolve", &dedup_key, None, Vec::new()).await
    }
}

/// The request body. Deliberately not `Debug`: it holds the routing key.
#[derive(Serialize)]
struct Event<'a> {
    routing_key: &'a str,
    event_action: &'static str,
    dedup_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<Payload<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    links: Vec<Link<'a>>,
}

#[derive(Serialize)]
struct Payload<'a> {
    summary: String,
    source: &'static str,
    severity: &'static str,
    timestamp: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    component: Option<&'a str>,
    class: &'static str,
    custom_details: Details<'a>,
}

impl<'a> Payload<'a> {
    fn new(alert: AlertKey, severity: Severity, context: &'a AlertContext) -> Self {
        Self {
            summary: summary(alert, context),
            source: SOURCE,
            severity: severity.as_str(),
            timestamp: alert_time(alert, context),
            group: context.request.labels.cluster.as_deref(),
            component: context.request.labels.website.as_deref(),
            class: alert.as_str(),
            custom_details: Details::new(context),
        }
    }
}

/// Everything the on-call engineer may want without opening the case (docs/policy.md rule 3: plan,
/// priority and the computed deadlines).
#[derive(Serialize)]
struct Details<'a> {
    case_id: &'a str,
    channel: &'static str,
    plan: &'static str,
    priority: &'static str,
    received: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    dispatch_due: Option<Timestamp>,
    first_response_due: Timestamp,
    out_of_hours: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    website: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    requester: Option<&'a Requester>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    link: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    caller: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    called: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_seconds: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recording_url: Option<&'a str>,
}

impl<'a> Details<'a> {
    fn new(context: &'a AlertContext) -> Self {
        let voicemail = context.request.voicemail.as_ref();
        Self {
            case_id: context.case_id.as_str(),
            channel: context.request.channel.as_str(),
            plan: context.request.plan.as_str(),
            priority: context.request.priority.as_str(),
            received: context.request.received,
            dispatch_due: context.dispatch_due,
            first_response_due: context.first_response_due,
            out_of_hours: context.out_of_hours,
            cluster: context.request.labels.cluster.as_deref(),
            website: context.request.labels.website.as_deref(),
            requester: context.request.requester.as_ref(),
            subject: context.request.subject.as_deref(),
            link: context.request.link.as_deref(),
            caller: voicemail.map(|v| v.caller.as_str()),
            called: voicemail.map(|v| v.called.as_str()),
            duration_seconds: voicemail.map(|v| v.duration_seconds),
            recording_url: voicemail.and_then(|v| v.recording_url.as_deref()),
        }
    }
}

#[derive(Serialize)]
struct Link<'a> {
    href: &'a str,
    text: &'static str,
}

fn links(context: &AlertContext) -> Vec<Link<'_>> {
    let case = context
        .request
        .link
        .as_deref()
        .and_then(text::web_link)
        .map(|href| Link {
            href,
            text: "Open the case",
        });
    let recording = context
        .request
        .voicemail
        .as_ref()
        .and_then(|v| v.recording_url.as_deref())
        .and_then(text::web_link)
        .map(|href| Link {
            href,
            text: "Listen to the voicemail",
        });
    case.into_iter().chain(recording).collect()
}

/// The alert title, one sentence per clock:
/// `Dispatch overdue: zendesk-5158 (high, 12x5) — Site down`.
fn summary(alert: AlertKey, context: &AlertContext) -> String {
    let case = text::case_title(context);
    let mut summary = match alert {
        AlertKey::Dispatch => format!("Dispatch overdue: {case}"),
        AlertKey::FirstResponse => format!("First response overdue: {case}"),
        AlertKey::NextResponse => format!("Follow-up unanswered: {case}"),
        AlertKey::OutOfHours => format!("Out-of-hours request: {case}"),
        AlertKey::Chat => format!("New chat: {case}"),
        AlertKey::Voicemail => match &context.request.voicemail {
            Some(voicemail) => format!(
                "Voicemail from {}: {case}",
                text::clean(&voicemail.caller, 64)
            ),
            None => format!("Voicemail: {case}"),
        },
    };
    if let Some(subject) = text::subject(context, MAX_SUMMARY_CHARS) {
        summary.push_str(" — ");
        summary.push_str(&subject);
    }
    text::truncate_chars(&summary, MAX_SUMMARY_CHARS)
}

/// When the alerting condition arose: the missed deadline, or the arrival of the request.
/// Deterministic, so a retried or repeated trigger carries the same body.
fn alert_time(alert: AlertKey, context: &AlertContext) -> Timestamp {
    match alert {
        AlertKey::Dispatch => context.dispatch_due.unwrap_or(context.request.received),
        AlertKey::FirstResponse => context.first_response_due,
        // The context carries the request's deadlines, not a follow-up's: its receipt is the
        // deterministic instant at hand.
        AlertKey::OutOfHours | AlertKey::Chat | AlertKey::Voicemail | AlertKey::NextResponse => {
            context.request.received
        }
    }
}

#[derive(serde::Deserialize)]
struct Response {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    dedup_key: Option<String>,
    #[serde(default)]
    errors: Vec<String>,
}

/// `message (errors: …)` from PagerDuty's JSON answer, else the body as it is.
fn answer_message(body: &str) -> String {
    match serde_json::from_str::<Response>(body) {
        Ok(Response {
            message, errors, ..
        }) => {
            let message = message.unwrap_or_else(|| "no message".into());
            if errors.is_empty() {
                message
            } else {
                format!("{message} ({})", errors.join("; "))
            }
        }
        Err(_) if body.trim().is_empty() => "empty answer".into(),
        Err(_) => body.to_owned(),
    }
}

/// `dedup_key zendesk-5158/dispatch: Event processed`, for the case timeline.
fn accepted_detail(body: &str, secrets: &[&Secret]) -> String {
    let detail = match serde_json::from_str::<Response>(body) {
        Ok(Response {
            dedup_key: Some(key),
            message,
            ..
        }) => format!(
            "dedup_key {key}: {}",
            message.as_deref().unwrap_or("accepted")
        ),
        _ => "accepted".to_owned(),
    };
    Answer::excerpt(&detail, secrets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::case::{RequestFacts, Voicemail};
    use domain::policy::{Channel, Labels, Plan, Priority};

    fn context() -> AlertContext {
        AlertContext {
            case_id: CaseId::parse("zendesk-5158").unwrap(),
            request: RequestFacts {
                channel: Channel::Ticket,
                plan: Plan::Standard,
                priority: Priority::High,
                received: "2026-03-02T09:00:00Z".parse().unwrap(),
                labels: Labels::default(),
                subject: Some("Site\ndown".into()),
                requester: None,
                link: None,
                voicemail: None,
            },
            dispatch_due: Some("2026-03-02T10:00:00Z".parse().unwrap()),
            first_response_due: "2026-03-02T13:00:00Z".parse().unwrap(),
            out_of_hours: false,
        }
    }

    #[test]
    fn summaries_name_the_clock_case_priority_plan_and_subject() {
        let context = context();
        assert_eq!(
            summary(AlertKey::Dispatch, &context),
            "Dispatch overdue: zendesk-5158 (high, 12x5) — Site down"
        );
        assert_eq!(
            summary(AlertKey::FirstResponse, &context),
            "First response overdue: zendesk-5158 (high, 12x5) — Site down"
        );
        assert_eq!(
            summary(AlertKey::OutOfHours, &context),
            "Out-of-hours request: zendesk-5158 (high, 12x5) — Site down"
        );
        assert_eq!(
            summary(AlertKey::Chat, &context),
            "New chat: zendesk-5158 (high, 12x5) — Site down"
        );
        let voicemail = AlertContext {
            request: RequestFacts {
                subject: None,
                voicemail: Some(Voicemail {
                    caller: "+4930123".into(),
                    called: "+4940999".into(),
                    duration_seconds: 42,
                    recording_url: None,
                    ended_without_message: false,
                }),
                ..context.request
            },
            ..context
        };
        assert_eq!(
            summary(AlertKey::Voicemail, &voicemail),
            "Voicemail from +4930123: zendesk-5158 (high, 12x5)"
        );
    }

    #[test]
    fn a_long_summary_is_cut_to_1024_characters() {
        let context = AlertContext {
            request: RequestFacts {
                subject: Some("ä".repeat(5000)),
                ..context().request
            },
            ..context()
        };
        let summary = summary(AlertKey::Dispatch, &context);
        assert_eq!(summary.chars().count(), 1024);
        assert!(summary.ends_with('…'));
    }

    #[test]
    fn the_alert_time_is_the_moment_the_condition_arose() {
        let context = context();
        assert_eq!(
            alert_time(AlertKey::Dispatch, &context),
            context.dispatch_due.unwrap()
        );
        assert_eq!(
            alert_time(AlertKey::FirstResponse, &context),
            context.first_response_due
        );
        assert_eq!(
            alert_time(AlertKey::Chat, &context),
            context.request.received
        );
    }

    #[test]
    fn answer_messages_include_pagerduty_errors() {
        assert_eq!(
            answer_message(
                r#"{"status":"invalid event","message":"Event object is invalid","errors":["Length of 'routing_key' is incorrect"]}"#
            ),
            "Event object is invalid (Length of 'routing_key' is incorrect)"
        );
        assert_eq!(answer_message("Bad Gateway"), "Bad Gateway");
        assert_eq!(answer_message(""), "empty answer");
    }
}
