//! Settings read by name, shared by every adapter and both runtimes.
//!
//! Settings come through a lookup function (`Fn(&str) -> Option<String>`): the process
//! environment in production, a map in tests, or the Lambda settings with their secrets
//! fetched. A blank value counts as unset everywhere, and every error names the variable but
//! never its value.

mod secret;

pub use secret::Secret;

/// A setting that is missing or unusable. Never carries a secret's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set or empty")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// The value of `name`, trimmed; `None` when unset or blank.
pub fn optional(lookup: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    lookup(name)
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// The value of `name`, trimmed; an error naming it when unset or blank.
pub fn required(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<String, ConfigError> {
    optional(lookup, name).ok_or(ConfigError::Missing(name))
}

/// A secret that may be absent (then its destination is off).
pub fn optional_secret(lookup: &impl Fn(&str) -> Option<String>, name: &str) -> Option<Secret> {
    lookup(name).and_then(Secret::new)
}

/// A secret that must be set and not blank (an empty HMAC key would make signatures forgeable
/// by anyone who guesses the configuration mistake).
pub fn required_secret(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Secret, ConfigError> {
    optional_secret(lookup, name).ok_or(ConfigError::Missing(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str) -> Option<String> {
        match name {
            "SET" => Some("  value ".to_owned()),
            "BLANK" => Some("   ".to_owned()),
            _ => None,
        }
    }

    #[test]
    fn blank_settings_count_as_missing() {
        assert_eq!(required(&lookup, "SET"), Ok("value".to_owned()));
        assert_eq!(
            required(&lookup, "BLANK"),
            Err(ConfigError::Missing("BLANK"))
        );
        assert_eq!(optional(&lookup, "UNSET"), None);
    }

    #[test]
    fn a_blank_secret_is_absent_and_a_required_one_is_named() {
        assert!(optional_secret(&lookup, "BLANK").is_none());
        assert_eq!(
            required_secret(&lookup, "BLANK").err(),
            Some(ConfigError::Missing("BLANK"))
        );
        assert_eq!(
            required_secret(&lookup, "SET").map(|s| s.expose().to_owned()),
            Ok("value".to_owned())
        );
        let error = required_secret(&lookup, "UNSET")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some("environment variable UNSET is not set or empty")
        );
    }
}
