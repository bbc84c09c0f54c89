//! The support line: `POST /webhooks/twilio/voice` (a call comes in: TwiML that greets and
//! records), `POST /webhooks/twilio/voice/goodbye` (the `<Record>` action: the call ends) and
//! `POST /webhooks/twilio/recording` (the recording status callback: the voicemail), each
//! verified with the account's auth token over the public URL Twilio called. Behind the HTTP
//! API that URL is not the one the function sees, so it is rebuilt from `PUBLIC_BASE_URL` (the
//! API's `$default` stage URL, or a custom domain) plus the request's path and query.
//!
//! Only the Twilio handler is configured here.

use api::Webhooks;
use domain::policy::Policy;
use lambda::{InitError, SecretSpec, Settings};
use providers::{Classifier, TwilioConfig, TwilioHandler};

pub use lambda::http::{handle, webhook_app};

/// `TWILIO_AUTH_TOKEN`, from the Secrets Manager secret `TWILIO_AUTH_TOKEN_SECRET_ID` names.
pub const SECRETS: [SecretSpec; 1] = [SecretSpec::required("TWILIO_AUTH_TOKEN").with_previous()];

pub fn webhooks(settings: &Settings, policy: &Policy) -> Result<Webhooks, InitError> {
    let config = TwilioConfig::from_env(settings.lookup()).map_err(InitError::config("twilio"))?;
    Ok(Webhooks {
        zendesk: None,
        intercom: None,
        twilio: Some(TwilioHandler::new(config, Classifier::from(policy))),
        pagerduty: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_the_public_url_the_function_does_not_start() {
        let settings = Settings::from_pairs([("TWILIO_AUTH_TOKEN", "token")]);
        let error = webhooks(&settings, &policy_file::default_policy().unwrap())
            .unwrap_err()
            .to_string();
        assert!(error.contains("PUBLIC_BASE_URL"), "{error}");
    }
}
