//! The SDK configuration and the adapters' settings.
//!
//! [`sdk_config`] loads the configuration once per process (a Lambda execution environment
//! keeps it between invocations) with `BehaviorVersion::latest()`: region, credentials and
//! retries from the environment, and `AWS_ENDPOINT_URL` when set, so the same code talks to
//! moto server in tests without any change.

use aws_config::{BehaviorVersion, SdkConfig};
use tokio::sync::OnceCell;

/// A setting is missing or unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Load a fresh SDK configuration from the environment.
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::load_defaults(BehaviorVersion::latest()).await
}

/// The process's SDK configuration, loaded on first use and shared afterwards.
pub async fn sdk_config() -> &'static SdkConfig {
    static CONFIG: OnceCell<SdkConfig> = OnceCell::const_new();
    CONFIG.get_or_init(load_sdk_config).await
}

/// A DynamoDB client for `config`.
pub fn dynamodb_client(config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(config)
}

/// An EventBridge Scheduler client for `config`.
pub fn scheduler_client(config: &SdkConfig) -> aws_sdk_scheduler::Client {
    aws_sdk_scheduler::Client::new(config)
}

/// An SES v2 client for `config`.
pub fn ses_client(config: &SdkConfig) -> aws_sdk_sesv2::Client {
    aws_sdk_sesv2::Client::new(config)
}

/// The value of `name`, trimmed; `None` when unset or blank.
pub fn optional(lookup: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    lookup(name)
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// The value of `name`, trimmed; an error when unset or blank.
pub fn required(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<String, ConfigError> {
    optional(lookup, name).ok_or(ConfigError::Missing(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_settings_count_as_missing() {
        let lookup = |name: &str| match name {
            "SET" => Some("  value ".to_owned()),
            "BLANK" => Some("   ".to_owned()),
            _ => None,
        };
        assert_eq!(required(&lookup, "SET"), Ok("value".to_owned()));
        assert_eq!(
            required(&lookup, "BLANK"),
            Err(ConfigError::Missing("BLANK"))
        );
        assert_eq!(optional(&lookup, "UNSET"), None);
    }
}
