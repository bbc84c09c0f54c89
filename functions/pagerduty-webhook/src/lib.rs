//! `POST /webhooks/pagerduty`: PagerDuty v3 incident updates (acknowledged, resolved) on the
//! pages we triggered, verified with the webhook subscription's signing secret.
//!
//! Only the PagerDuty handler is configured here; the other providers' routes answer 503 (and
//! the HTTP API does not route them to this function anyway).

use api::Webhooks;
use domain::policy::Policy;
use lambda::{InitError, SecretSpec, Settings};
use providers::{PagerDutyConfig, PagerDutyHandler};

pub use lambda::http::{handle, webhook_app};

/// `PAGERDUTY_WEBHOOK_SECRET`, from the Secrets Manager secret
/// `PAGERDUTY_WEBHOOK_SECRET_SECRET_ID` names; during a rotation the previous version is tried
/// after a 401.
pub const SECRETS: [SecretSpec; 1] =
    [SecretSpec::required("PAGERDUTY_WEBHOOK_SECRET").with_previous()];

pub fn webhooks(settings: &Settings, _policy: &Policy) -> Result<Webhooks, InitError> {
    let config =
        PagerDutyConfig::from_env(settings.lookup()).map_err(InitError::config("pagerduty"))?;
    Ok(Webhooks {
        pagerduty: Some(PagerDutyHandler::new(config)),
        ..Webhooks::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_its_secret_the_function_does_not_start() {
        let error = webhooks(
            &Settings::default(),
            &policy_file::default_policy().unwrap(),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("PAGERDUTY_WEBHOOK_SECRET"), "{error}");
    }

    #[test]
    fn with_its_secret_only_the_pagerduty_route_is_configured() {
        let settings = Settings::from_pairs([("PAGERDUTY_WEBHOOK_SECRET", "s3cret".to_owned())]);
        let webhooks = webhooks(&settings, &policy_file::default_policy().unwrap()).unwrap();
        assert!(webhooks.pagerduty.is_some());
        assert!(webhooks.zendesk.is_none() && webhooks.intercom.is_none());
        assert!(webhooks.twilio.is_none());
    }
}
