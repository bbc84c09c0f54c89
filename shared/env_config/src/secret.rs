//! A string that must never reach a log line, an error message or `Debug` output.

use std::fmt;

/// A credential: a webhook signing secret (Zendesk signing secret, Intercom client secret,
/// Twilio auth token), the PagerDuty routing key, the Slack webhook URL.
///
/// `Debug` and `Display` print `[redacted]`; the value is only reachable through
/// [`Secret::expose`], which the adapters call where the wire format or the HMAC needs it. It
/// has no `Serialize`, so it cannot be logged by accident as part of a structure either, and no
/// `PartialEq`: secrets are only ever compared through an HMAC in constant time.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// `None` for an empty or blank value, so that `VAR=` counts as unset. The value is
    /// trimmed, and used as given otherwise (never base64-decoded: Zendesk's secrets look like
    /// base64 but are used as ASCII).
    pub fn new(value: impl Into<String>) -> Option<Self> {
        let value = value.into().trim().to_owned();
        (!value.is_empty()).then_some(Self(value))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the secret replaced by `[redacted]`: for text from the
    /// outside world (a response body, a transport error) that might echo it.
    pub fn redact_in(&self, text: &str) -> String {
        text.replace(self.0.as_str(), "[redacted]")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_value() {
        let secret = Secret::new("R0UTINGKEY").unwrap();
        assert_eq!(format!("{secret:?}"), "Secret([redacted])");
        assert_eq!(secret.to_string(), "[redacted]");
        assert_eq!(secret.expose(), "R0UTINGKEY");
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let secret = Secret::new("hunter2-very-secret").unwrap();
        assert!(!format!("{secret:?}").contains("hunter2"));
        assert_eq!(format!("{:?}", Some(&secret)), "Some(Secret([redacted]))");
    }

    #[test]
    fn a_blank_value_is_no_secret() {
        assert!(Secret::new("").is_none());
        assert!(Secret::new("  \n").is_none());
        assert_eq!(Secret::new(" key ").unwrap().expose(), "key");
    }

    #[test]
    fn redaction_replaces_every_occurrence() {
        let secret = Secret::new("abc").unwrap();
        assert_eq!(secret.redact_in("x abc y abc"), "x [redacted] y [redacted]");
    }
}
