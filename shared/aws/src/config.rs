//! The SDK configuration and the adapters' settings.
//!
//! [`load_sdk_config`] loads the configuration with `BehaviorVersion::latest()`: region,
//! credentials and retries from the environment, and `AWS_ENDPOINT_URL` when set, so the same
//! code talks to moto server in tests without any change. A Lambda function loads it once per
//! execution environment (`lambda`); the clients are built from it with `Client::new`.

use aws_config::{BehaviorVersion, SdkConfig};

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
