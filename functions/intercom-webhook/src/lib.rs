//! `POST` and `HEAD /webhooks/intercom`: Intercom conversation notifications, verified with the
//! app's client secret. Intercom checks the URL with `HEAD` before it saves the webhook.
//!
//! Only the Intercom handler is configured here.

use api::Webhooks;
use domain::policy::Policy;
use lambda::{InitError, SecretSpec, Settings};
use providers::{Classifier, IntercomConfig, IntercomHandler};

pub use lambda::http::{handle, webhook_app};

/// `INTERCOM_CLIENT_SECRET`, from the Secrets Manager secret `INTERCOM_CLIENT_SECRET_SECRET_ID`
/// names.
pub const SECRETS: [SecretSpec; 1] =
    [SecretSpec::required("INTERCOM_CLIENT_SECRET").with_previous()];

pub fn webhooks(settings: &Settings, policy: &Policy) -> Result<Webhooks, InitError> {
    let config =
        IntercomConfig::from_env(settings.lookup()).map_err(InitError::config("intercom"))?;
    Ok(Webhooks {
        zendesk: None,
        intercom: Some(IntercomHandler::new(config, Classifier::from(policy))),
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
        assert!(error.contains("INTERCOM_CLIENT_SECRET"), "{error}");
    }
}
