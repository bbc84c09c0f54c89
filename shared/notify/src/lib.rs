//! Notification adapters of support-sla: who hears about a case.
//!
//! - [`PagerDutyClient`] implements [`app::ports::Pager`] over the PagerDuty Events API v2.
//! - [`SlackWebhook`] implements [`app::ports::SlackNotifier`] over a Slack incoming webhook.
//! - [`LogMailer`] implements [`app::ports::Mailer`] for the local runtime (renders, logs, sends
//!   nothing); [`chat_fallback_email`] renders the customer e-mail for any mailer.
//! - [`IntercomApi`] reads a chat contact's attributes and companies and replies in a chat.
//! - [`ZendeskApi`] opens a ticket for a case exactly once (the Zendesk Support API).
//! - [`SystemsOfRecord`] is the engine's `SystemOfRecord` port over both APIs: lookups bounded
//!   by a timeout, read lookups cached.
//!
//! Each call retries temporary failures itself ([`RetryPolicy`]) and then reports
//! [`NotifyError::Retryable`](app::ports::NotifyError) or `Permanent`; the engine keeps a
//! retryable effect in its outbox. An adapter without its secret (`PAGERDUTY_ROUTING_KEY`,
//! `SLACK_WEBHOOK_URL`) logs "not sent: no destination configured" and reports
//! [`Delivered::NotConfigured`](app::ports::Delivered).
//!
//! [`NotifierSettings`] reads the destinations once and builds the pager and the Slack notifier
//! for either runtime, which adds its own mailer.
//!
//! Secrets are held in [`Secret`]: they never appear in `Debug` output, log lines or error
//! reasons, which are redacted even when a receiver echoes them back.

mod email;
mod events_webhook;
mod http;
mod intercom;
mod pagerduty;
mod records;
mod retry;
mod slack;
mod smtp;
#[cfg(any(test, feature = "test-tls"))]
pub mod test_tls;
mod text;
mod wiring;
mod zendesk;

pub use email::{
    EmailContent, LogMailer, PLACEHOLDER_MAILBOX, SUPPORT_MAILBOX_VAR, chat_fallback_email,
    chat_fallback_email_in,
};
pub use env_config::{ConfigError, Secret};
pub use events_webhook::{
    EVENT_ID_HEADER, EVENT_TYPE_HEADER, EVENTS_WEBHOOK_SECRET_VAR, EVENTS_WEBHOOK_URL_VAR,
    EventsWebhook, EventsWebhookConfig, SIGNATURE_HEADER, events_signature,
};
pub use http::{DEFAULT_TIMEOUT, HttpClientError, http_client, root_store, tls_config};
pub use intercom::{
    AccountAttributes, DEFAULT_INTERCOM_API_URL, INTERCOM_API_VERSION, IntercomApi,
    IntercomApiConfig, IntercomChatReplies, IntercomChatSettings,
};
pub use pagerduty::{
    DEFAULT_EVENTS_URL, EVENTS_URL_VAR, PagerDutyClient, PagerDutyConfig, ROUTING_KEY_VAR,
};
pub use records::{DEFAULT_LOOKUP_TIMEOUT, SystemsOfRecord};
pub use retry::RetryPolicy;
pub use slack::{SlackConfig, SlackWebhook, WEBHOOK_URL_VAR, slack_message};
pub use smtp::{LocalMailer, SMTP_FROM_VAR, SMTP_URL_VAR, SmtpMailer};
pub use wiring::{NotifierError, NotifierSettings, ZendeskTickets};
pub use zendesk::{
    API_EMAIL_VAR, API_TOKEN_VAR, API_URL_VAR, DEFAULT_CACHE_TTL, MinutesPair, NewTicket,
    TicketMetrics, TicketRef, ZendeskApi, ZendeskApiConfig, breach_note, voicemail_ticket,
    zendesk_base_url,
};
