//! Configuration errors and environment lookups shared by the three providers.

use crate::secret::Secret;

/// A configuration value that is missing or unusable. Never carries a secret's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set or empty")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// A required secret: set and not blank (an empty HMAC key would make signatures forgeable
/// by anyone who guesses the configuration mistake).
pub(crate) fn required_secret(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Secret, ConfigError> {
    match lookup(name) {
        Some(value) if !value.trim().is_empty() => Ok(Secret::new(value)),
        _ => Err(ConfigError::Missing(name)),
    }
}

/// An optional plain value; blank counts as unset.
pub(crate) fn optional(lookup: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    lookup(name)
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}
