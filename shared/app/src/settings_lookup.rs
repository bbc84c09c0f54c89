//! The operator's knobs of [`EngineSettings`], read by name in both runtimes. Each is optional;
//! an unset one keeps its default, an unusable one is an error naming the variable.

use crate::EngineSettings;
use env_config::ConfigError;
use std::time::Duration;

/// Backoff before an effect's second delivery attempt (doubling per attempt).
pub const FIRST_RETRY_VAR: &str = "DELIVERY_FIRST_RETRY_SECONDS";
/// The longest backoff between two delivery attempts.
pub const MAX_RETRY_VAR: &str = "DELIVERY_MAX_RETRY_SECONDS";
/// The longest a destination's `Retry-After` is honoured.
pub const RETRY_AFTER_CAP_VAR: &str = "RETRY_AFTER_CAP_SECONDS";
/// An effect still undelivered this long after its decision is marked failed.
pub const MAX_DELIVERY_AGE_VAR: &str = "DELIVERY_MAX_AGE_HOURS";

impl EngineSettings {
    /// The defaults, with each variable that is set taking their place.
    pub fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut settings = Self::default();
        if let Some(seconds) = whole_number(lookup, FIRST_RETRY_VAR)? {
            settings.first_retry_delay = Duration::from_secs(seconds);
        }
        if let Some(seconds) = whole_number(lookup, MAX_RETRY_VAR)? {
            settings.max_retry_delay = Duration::from_secs(seconds);
        }
        if let Some(seconds) = whole_number(lookup, RETRY_AFTER_CAP_VAR)? {
            settings.max_retry_after = Duration::from_secs(seconds);
        }
        if let Some(hours) = whole_number(lookup, MAX_DELIVERY_AGE_VAR)? {
            settings.max_delivery_age = Duration::from_secs(hours * 3600);
        }
        if settings.max_retry_delay < settings.first_retry_delay {
            return Err(ConfigError::Invalid {
                name: MAX_RETRY_VAR,
                reason: format!(
                    "{} s is shorter than {FIRST_RETRY_VAR} ({} s)",
                    settings.max_retry_delay.as_secs(),
                    settings.first_retry_delay.as_secs()
                ),
            });
        }
        Ok(settings)
    }
}

/// A positive whole number of at most ten years in seconds, or unset.
fn whole_number(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<u64>, ConfigError> {
    let Some(text) = env_config::optional(lookup, name) else {
        return Ok(None);
    };
    match text.parse::<u64>() {
        Ok(value) if (1..=315_360_000).contains(&value) => Ok(Some(value)),
        _ => Err(ConfigError::Invalid {
            name,
            reason: format!("{text:?} is not a whole number from 1 to 315360000"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }
    }

    #[test]
    fn unset_variables_keep_the_defaults() {
        let settings = EngineSettings::from_lookup(&lookup(&[])).unwrap();
        let defaults = EngineSettings::default();
        assert_eq!(settings.first_retry_delay, defaults.first_retry_delay);
        assert_eq!(settings.max_retry_after, Duration::from_secs(300));
        assert_eq!(settings.max_delivery_age, Duration::from_secs(24 * 3600));
    }

    #[test]
    fn set_variables_replace_the_defaults() {
        let settings = EngineSettings::from_lookup(&lookup(&[
            ("DELIVERY_FIRST_RETRY_SECONDS", "1"),
            ("DELIVERY_MAX_RETRY_SECONDS", " 4 "),
            ("RETRY_AFTER_CAP_SECONDS", "60"),
            ("DELIVERY_MAX_AGE_HOURS", "48"),
        ]))
        .unwrap();
        assert_eq!(settings.first_retry_delay, Duration::from_secs(1));
        assert_eq!(settings.max_retry_delay, Duration::from_secs(4));
        assert_eq!(settings.max_retry_after, Duration::from_secs(60));
        assert_eq!(settings.max_delivery_age, Duration::from_secs(48 * 3600));
    }

    #[test]
    fn unusable_values_are_errors_naming_the_variable() {
        for pairs in [
            &[("RETRY_AFTER_CAP_SECONDS", "five")][..],
            &[("RETRY_AFTER_CAP_SECONDS", "0")][..],
            &[("DELIVERY_MAX_AGE_HOURS", "-1")][..],
            &[
                ("DELIVERY_FIRST_RETRY_SECONDS", "60"),
                ("DELIVERY_MAX_RETRY_SECONDS", "30"),
            ][..],
        ] {
            let pairs: &'static [(&'static str, &'static str)] = pairs;
            let error = EngineSettings::from_lookup(&lookup(pairs)).unwrap_err();
            let named = pairs
                .iter()
                .any(|(name, _)| error.to_string().contains(name));
            assert!(named, "{error}");
        }
    }
}
