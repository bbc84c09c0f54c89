//! The team channel: a Slack incoming webhook (docs/providers/slack.md).
//!
//! Success is `200` with the plain-text body `ok`. 408, 429 (`Retry-After`) and 5xx are
//! retried; the other 4xx answer with a plain-text reason (`invalid_payload`,
//! `channel_not_found`, `no_service`, …) and are permanent. Slack does not deduplicate: a retry
//! after a timeout can post twice, which is the lesser evil next to a lost alert. The webhook URL
//! is the credential and is kept in a [`Secret`].

use crate::http::{self, Answer};
use crate::retry::RetryPolicy;
use crate::text::{self, slack_escape};
use app::ports::{Delivered, NotifyError, SlackNotifier};
use domain::case::{AlertContext, SlackKind};
use env_config::{ConfigError, Secret};
use jiff::Timestamp;
use serde_json::{Value, json};
use std::time::Duration;
use tracing::Instrument;

/// The incoming-webhook URL (a secret). Unset or empty: messages are logged, not sent.
pub const WEBHOOK_URL_VAR: &str = "SLACK_WEBHOOK_URL";

/// Slack's limit on a `header` block's text.
const MAX_HEADER_CHARS: usize = 150;
/// Our bound on user text in a message (a subject, a name), before escaping; it keeps every
/// section field well under Slack's 2000 characters even when escaping lengthens it.
const MAX_USER_TEXT_CHARS: usize = 300;

#[derive(Debug, Clone)]
pub struct SlackConfig {
    /// `None`: not configured; messages are logged, not sent.
    pub webhook_url: Option<Secret>,
    /// Per request (connect, send, read the answer).
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

impl SlackConfig {
    /// From `SLACK_WEBHOOK_URL`, e.g. `SlackConfig::from_lookup(|name| std::env::var(name).ok())`.
    /// An invalid URL is an error that names the variable but not its value.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        match env_config::optional(&lookup, WEBHOOK_URL_VAR) {
            Some(url) => Self::with_url_named(WEBHOOK_URL_VAR, &url),
            None => Ok(Self::not_configured()),
        }
    }

    /// A configured notifier posting to `webhook_url`.
    pub fn new(webhook_url: &str) -> Result<Self, ConfigError> {
        Self::with_url_named("webhook URL", webhook_url)
    }

    fn with_url_named(name: &'static str, url: &str) -> Result<Self, ConfigError> {
        http::parse_url(name, url)?;
        Ok(Self {
            webhook_url: Secret::new(url),
            ..Self::not_configured()
        })
    }

    /// No webhook: every message is logged and reported as [`Delivered::NotConfigured`].
    pub fn not_configured() -> Self {
        Self {
            webhook_url: None,
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

/// [`SlackNotifier`] over an incoming webhook.
#[derive(Debug, Clone)]
pub struct SlackWebhook {
    http: reqwest::Client,
    config: SlackConfig,
    /// The URL's path alone (`/services/T…/B…/…`), redacted too: an error page may echo it.
    path: Option<Secret>,
}

impl SlackWebhook {
    /// `http` is the shared client from [`crate::http_client`].
    pub fn new(config: SlackConfig, http: reqwest::Client) -> Self {
        let path = config
            .webhook_url
            .as_ref()
            .and_then(|url| reqwest::Url::parse(url.expose()).ok())
            .map(|url| url.path().to_owned())
            .filter(|path| path.len() > 1)
            .and_then(Secret::new);
        Self { http, config, path }
    }

    pub fn is_configured(&self) -> bool {
        self.config.webhook_url.is_some()
    }

    fn secrets<'a>(&'a self, url: &'a Secret) -> Vec<&'a Secret> {
        std::iter::once(url).chain(self.path.as_ref()).collect()
    }

    async fn post_once(&self, url: &Secret, body: Vec<u8>) -> Result<Delivered, NotifyError> {
        let secrets = self.secrets(url);
        let response = self
            .http
            .post(url.expose())
            .timeout(self.config.timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|error| {
                http::transport_error("Slack", error, self.config.timeout, &secrets)
            })?;
        let answer = Answer::read(response).await;
        let status = answer.status;
        let reason = match answer.body.trim() {
            "" => "empty answer".to_owned(),
            body => Answer::excerpt(body, &secrets),
        };
        if status == reqwest::StatusCode::OK {
            return Ok(Delivered::Sent {
                detail: format!("Slack answered {reason}"),
            });
        }
        if answer.is_temporary() {
            return Err(NotifyError::Retryable {
                reason: format!("Slack answered {status}: {reason}"),
                retry_after: answer.retry_after,
            });
        }
        Err(NotifyError::Permanent {
            reason: format!("Slack rejected the message ({status}): {reason}"),
        })
    }
}

impl SlackNotifier for SlackWebhook {
    async fn post(
        &self,
        message: SlackKind,
        context: &AlertContext,
    ) -> Result<Delivered, NotifyError> {
        let case = context.case_id.as_str();
        let kind = message.as_str();
        let Some(url) = &self.config.webhook_url else {
            tracing::info!(
                receiver = "slack",
                kind,
                case,
                "not sent: no destination configured"
            );
            return Ok(Delivered::NotConfigured);
        };
        let body = serde_json::to_vec(&slack_message(message, context)).map_err(|error| {
            NotifyError::Permanent {
                reason: format!("cannot encode the Slack message: {error}"),
            }
        })?;
        let span = tracing::info_span!("slack", kind, case);
        async {
            let outcome = self
                .config
                .retry
                .run(|_| self.post_once(url, body.clone()))
                .await;
            match &outcome {
                Ok(delivered) => tracing::info!(?delivered, "Slack accepted the message"),
                Err(error) => tracing::warn!(%error, "Slack message not delivered"),
            }
            outcome
        }
        .instrument(span)
        .await
    }
}

/// The webhook body for one message: `text` (the notification and fallback text, always) and
/// `blocks` (a header, what happened, the case's facts as fields, a link).
pub fn slack_message(kind: SlackKind, context: &AlertContext) -> Value {
    let case = context.case_id.as_str();
    let title = slack_escape(&text::case_title(context));
    let subject = text::subject(context, MAX_USER_TEXT_CHARS).map(|s| slack_escape(&s));
    let about = subject
        .as_deref()
        .map(|subject| format!(" — {subject}"))
        .unwrap_or_default();
    let voicemail = context.request.voicemail.as_ref();
    let caller = voicemail.map_or_else(
        || "an unknown caller".to_owned(),
        |v| slack_escape(&text::clean(&v.caller, 64)),
    );
    let called_number = voicemail.map(|v| slack_escape(&text::clean(&v.called, 64)));
    let called = called_number
        .as_deref()
        .map(|number| format!(" to {number}"))
        .unwrap_or_default();
    let called_for = called_number
        .as_deref()
        .map(|number| format!(" for {number}"))
        .unwrap_or_default();

    let (header, fallback, what) = match kind {
        SlackKind::NewChat => (
            format!("New chat: {case}"),
            format!("New chat: {title}{about}"),
            "A customer started a chat.".to_owned(),
        ),
        SlackKind::Voicemail => {
            let length = voicemail
                .map(|v| format!(" ({})", text::duration_text(v.duration_seconds)))
                .unwrap_or_default();
            (
                format!("Voicemail: {case}"),
                format!("Voicemail from {caller}{called}{length}: {title}"),
                format!("*{caller}* left a voicemail{called_for}{length}."),
            )
        }
        SlackKind::MissedCall => (
            format!("Missed call: {case}"),
            format!("Missed call from {caller}{called}, no message left: {title}"),
            format!("*{caller}* called{called} and left no message."),
        ),
        SlackKind::DispatchBreached => {
            let due = context.dispatch_due.map(text::utc).unwrap_or_default();
            (
                format!("Dispatch overdue: {case}"),
                format!("Dispatch overdue: {title} was not assigned by {due}{about}"),
                "Nobody was assigned before the dispatch deadline.".to_owned(),
            )
        }
        SlackKind::FirstResponseWarning => {
            let due = text::utc(context.first_response_due);
            (
                format!("First response due soon: {case}"),
                format!("First response due soon: {title} needs an answer by {due}{about}"),
                format!(
                    "No agent has answered yet; the first response is due {}.",
                    slack_date(context.first_response_due)
                ),
            )
        }
        SlackKind::NextResponseWarning => (
            format!("Follow-up due soon: {case}"),
            format!(
                "Follow-up due soon: {title} has a customer reply waiting for an answer{about}"
            ),
            "The customer wrote again after an agent's answer (or reopened the request); the \
             next response is due soon."
                .to_owned(),
        ),
        SlackKind::ChatFallbackImpossible => (
            format!("Chat fallback impossible: {case}"),
            format!(
                "Chat fallback impossible: {title} got no answer in the chat and left no \
                 e-mail address{about}"
            ),
            "Nobody answered the chat in time, and the customer left no e-mail address: \
             the conversation cannot continue by e-mail. Answer in the chat."
                .to_owned(),
        ),
        SlackKind::DeliveryFailed => (
            format!("Notification given up: {case}"),
            format!(
                "Notification given up: a page or message about {title} could not be \
                 delivered in time{about}"
            ),
            "A page, message or e-mail about this case could not be delivered within the \
             maximum age and was given up. The case's timeline shows which."
                .to_owned(),
        ),
    };

    let mut what = what;
    if let Some(subject) = &subject {
        what.push_str(&format!("\n*Subject:* {subject}"));
    }
    let recording = voicemail
        .and_then(|v| v.recording_url.as_deref())
        .and_then(text::web_link);
    if let (SlackKind::Voicemail, Some(url)) = (kind, recording) {
        what.push_str(&format!("\n<{}|Listen to the recording>", link_target(url)));
    }

    let mut blocks = vec![
        json!({
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": text::truncate_chars(&header, MAX_HEADER_CHARS),
            },
        }),
        json!({ "type": "section", "text": { "type": "mrkdwn", "text": what } }),
        json!({ "type": "section", "fields": fields(context) }),
    ];
    if let Some(url) = context.request.link.as_deref().and_then(text::web_link) {
        blocks.push(json!({
            "type": "section",
            "text": { "type": "mrkdwn", "text": format!("<{}|Open>", link_target(url)) },
        }));
    }
    json!({ "text": fallback, "blocks": blocks })
}

/// The case's facts as section fields (at most 9 of Slack's 10).
fn fields(context: &AlertContext) -> Vec<Value> {
    let mut fields = vec![
        ("Priority", context.request.priority.as_str().to_owned()),
        ("Plan", context.request.plan.as_str().to_owned()),
        ("Channel", context.request.channel.as_str().to_owned()),
        ("Received", slack_date(context.request.received)),
    ];
    if let Some(due) = context.dispatch_due {
        fields.push(("Dispatch due", slack_date(due)));
    }
    fields.push(("First response due", slack_date(context.first_response_due)));
    if context.out_of_hours {
        fields.push(("Out of hours", "yes".to_owned()));
    }
    let labels = [
        &context.request.labels.cluster,
        &context.request.labels.website,
    ]
    .into_iter()
    .flatten()
    .map(|label| slack_escape(&text::clean(label, 100)))
    .collect::<Vec<_>>();
    if !labels.is_empty() {
        fields.push(("Cluster / website", labels.join(" / ")));
    }
    if let Some(requester) = &context.request.requester {
        let name = requester.name.as_deref().map(|n| text::clean(n, 100));
        let email = requester.email.as_deref().map(|e| text::clean(e, 200));
        let who = match (name, email) {
            (Some(name), Some(email)) => format!("{name} ({email})"),
            (Some(one), None) | (None, Some(one)) => one,
            (None, None) => String::new(),
        };
        if !who.is_empty() {
            fields.push(("Requester", slack_escape(&who)));
        }
    }
    fields
        .into_iter()
        .map(|(label, value)| json!({ "type": "mrkdwn", "text": format!("*{label}*\n{value}") }))
        .collect()
}

/// A time Slack shows in each reader's own time zone, with the UTC time as the fallback text.
fn slack_date(at: Timestamp) -> String {
    format!(
        "<!date^{}^{{date_short_pretty}} {{time}}|{}>",
        at.as_second(),
        text::utc(at)
    )
}

/// A URL inside `<…|…>`: Slack's control characters escaped, and `|` (the label separator)
/// percent-encoded.
fn link_target(url: &str) -> String {
    slack_escape(url).replace('|', "%7C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::case::{CaseId, RequestFacts, Requester, Voicemail};
    use domain::policy::{Channel, Labels, Plan, Priority};

    fn context() -> AlertContext {
        AlertContext {
            case_id: CaseId::parse("zendesk-5158").unwrap(),
            request: RequestFacts {
                channel: Channel::Ticket,
                plan: Plan::Enterprise,
                priority: Priority::Urgent,
                received: "2026-03-02T09:00:00Z".parse().unwrap(),
                labels: Labels {
                    cluster: Some("c42".into()),
                    website: Some("shop.example".into()),
                },
                subject: Some("<script>alert(1)</script> & more".into()),
                requester: Some(Requester {
                    name: Some("Jürgen <J>".into()),
                    email: Some("j@example.org".into()),
                }),
                link: Some("https://acme.zendesk.com/agent/tickets/5158?a=1&b=|".into()),
                voicemail: None,
            },
            dispatch_due: Some("2026-03-02T10:00:00Z".parse().unwrap()),
            first_response_due: "2026-03-02T09:30:00Z".parse().unwrap(),
            out_of_hours: true,
        }
    }

    fn all_text(message: &Value) -> String {
        message.to_string()
    }

    #[test]
    fn user_text_is_escaped_everywhere() {
        let message = slack_message(SlackKind::DispatchBreached, &context());
        let text = all_text(&message);
        assert!(!text.contains("<script>"), "{text}");
        assert!(text.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"));
        assert!(text.contains("Jürgen &lt;J&gt; (j@example.org)"));
        assert!(text.contains("<https://acme.zendesk.com/agent/tickets/5158?a=1&amp;b=%7C|Open>"));
    }

    #[test]
    fn the_fields_carry_the_facts_and_dates_in_the_readers_time_zone() {
        let message = slack_message(SlackKind::FirstResponseWarning, &context());
        let fields = message["blocks"][2]["fields"].as_array().unwrap();
        let texts: Vec<&str> = fields.iter().map(|f| f["text"].as_str().unwrap()).collect();
        assert_eq!(
            texts,
            [
                "*Priority*\nurgent",
                "*Plan*\n24x7",
                "*Channel*\nticket",
                "*Received*\n<!date^1772442000^{date_short_pretty} {time}|2026-03-02 09:00 UTC>",
                "*Dispatch due*\n<!date^1772445600^{date_short_pretty} {time}|2026-03-02 10:00 UTC>",
                "*First response due*\n<!date^1772443800^{date_short_pretty} {time}|2026-03-02 09:30 UTC>",
                "*Out of hours*\nyes",
                "*Cluster / website*\nc42 / shop.example",
                "*Requester*\nJürgen &lt;J&gt; (j@example.org)",
            ]
        );
        assert!(
            message["text"]
                .as_str()
                .unwrap()
                .contains("needs an answer by 2026-03-02 09:30 UTC")
        );
    }

    #[test]
    fn voicemail_messages_name_the_caller_and_link_the_recording() {
        let context = AlertContext {
            request: RequestFacts {
                voicemail: Some(Voicemail {
                    caller: "+49 30 123".into(),
                    called: "+49 40 999".into(),
                    duration_seconds: 65,
                    recording_url: Some("https://api.twilio.com/rec/RE1".into()),
                    ended_without_message: false,
                }),
                subject: None,
                ..context().request
            },
            ..context()
        };
        let message = slack_message(SlackKind::Voicemail, &context);
        assert_eq!(
            message["text"],
            "Voicemail from +49 30 123 to +49 40 999 (1 min 5 s): zendesk-5158 (urgent, 24x7)"
        );
        assert!(
            all_text(&message).contains("<https://api.twilio.com/rec/RE1|Listen to the recording>")
        );
        let missed = slack_message(SlackKind::MissedCall, &context);
        assert!(!all_text(&missed).contains("Listen"));
    }
}
