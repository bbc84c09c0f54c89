//! `POST /webhooks/zendesk`: Zendesk ticket events, verified with the webhook's signing secret.
//!
//! Only the Zendesk handler is configured here; the other providers' routes answer 503 (and the
//! HTTP API does not route them to this function anyway).

use api::Webhooks;
use domain::policy::Policy;
use lambda::{InitError, SecretSpec, Settings};
use providers::{Classifier, ZendeskConfig, ZendeskHandler};

pub use lambda::http::{handle, webhook_app};

/// `ZENDESK_WEBHOOK_SECRET`, from the Secrets Manager secret `ZENDESK_WEBHOOK_SECRET_SECRET_ID`
/// names. `ZENDESK_SUBDOMAIN` (optional, plain) pins the account.
pub const SECRETS: [SecretSpec; 1] =
    [SecretSpec::required("ZENDESK_WEBHOOK_SECRET").with_previous()];

pub fn webhooks(settings: &Settings, policy: &Policy) -> Result<Webhooks, InitError> {
    let config =
        ZendeskConfig::from_env(settings.lookup()).map_err(InitError::config("zendesk"))?;
    Ok(Webhooks {
        zendesk: Some(ZendeskHandler::new(config, Classifier::from(policy))),
        intercom: None,
        twilio: None,
        pagerduty: None,
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
        assert!(error.contains("ZENDESK_WEBHOOK_SECRET"), "{error}");
    }
}
