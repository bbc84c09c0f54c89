//! The notifiers from settings, written once for both runtimes.

use crate::{
    HttpClientError, PagerDutyClient, PagerDutyConfig, SlackConfig, SlackWebhook, ZendeskApi,
    ZendeskApiConfig,
};
use app::Notifiers;
use env_config::ConfigError;
use std::sync::Arc;
use tracing::warn;

/// The ticket system of both runtimes: the Zendesk API, when its credentials are set.
pub type ZendeskTickets = Option<Arc<ZendeskApi>>;

/// Where pages and Slack messages go: `PAGERDUTY_ROUTING_KEY`, `PAGERDUTY_EVENTS_URL`,
/// `SLACK_WEBHOOK_URL`, read once. A destination without its secret is off: its messages are
/// recorded and logged as not sent.
#[derive(Debug, Clone)]
pub struct NotifierSettings {
    pub pagerduty: PagerDutyConfig,
    pub slack: SlackConfig,
    /// `ZENDESK_API_EMAIL`, `ZENDESK_API_TOKEN`, `ZENDESK_API_URL` / `ZENDESK_SUBDOMAIN`.
    pub zendesk: Option<ZendeskApiConfig>,
}

/// Why the notifiers could not be built; each names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum NotifierError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    HttpClient(#[from] HttpClientError),
}

impl NotifierSettings {
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {
            pagerduty: PagerDutyConfig::from_lookup(&lookup)?,
            slack: SlackConfig::from_lookup(&lookup)?,
            zendesk: ZendeskApiConfig::from_lookup(&lookup)?,
        })
    }

    /// The pager and the Slack notifier over one shared HTTP client, with the runtime's
    /// `mailer`. Logs a warning for each destination that is off.
    pub fn notifiers<M>(
        self,
        mailer: M,
    ) -> Result<Notifiers<PagerDutyClient, SlackWebhook, M, ZendeskTickets>, HttpClientError> {
        let http = crate::http_client()?;
        let pager = PagerDutyClient::new(self.pagerduty, http.clone());
        let slack = SlackWebhook::new(self.slack, http.clone());
        let tickets = self
            .zendesk
            .map(|config| Arc::new(ZendeskApi::new(config, http)));
        if tickets.is_none() {
            warn!(
                "ZENDESK_API_EMAIL and ZENDESK_API_TOKEN are not set: voicemails get no Zendesk ticket"
            );
        }
        if !pager.is_configured() {
            warn!("PAGERDUTY_ROUTING_KEY is not set: pages are recorded, not sent");
        }
        if !slack.is_configured() {
            warn!("SLACK_WEBHOOK_URL is not set: Slack messages are recorded, not sent");
        }
        Ok(Notifiers {
            pager,
            slack,
            mailer,
            tickets,
            chat: app::ports::NoChatReplies,
            events: app::ports::NoEventPublisher,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_destinations_are_off_and_a_bad_url_names_its_variable() {
        let settings = NotifierSettings::from_lookup(|name| match name {
            "PAGERDUTY_ROUTING_KEY" | "SLACK_WEBHOOK_URL" => Some(String::from("  ")),
            _ => None,
        })
        .unwrap();
        assert!(settings.pagerduty.routing_key.is_none());
        assert!(settings.slack.webhook_url.is_none());

        let error = NotifierSettings::from_lookup(|name| {
            (name == "SLACK_WEBHOOK_URL").then(|| String::from("not a url/s3cret"))
        })
        .unwrap_err()
        .to_string();
        assert!(error.contains("SLACK_WEBHOOK_URL"), "{error}");
        assert!(!error.contains("s3cret"), "{error}");
    }
}
