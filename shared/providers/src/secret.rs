//! A signing secret that cannot leak through `Debug` or `Display`.

use std::fmt;

/// A webhook signing secret (Zendesk signing secret, Intercom client secret, Twilio auth token).
///
/// Its `Debug` prints `[redacted]` and it has no `Display`, so a config struct can derive
/// `Debug` and be logged without exposing the key. The bytes are only handed to the HMAC.
/// Deliberately not `PartialEq`: secrets are only ever compared through the HMAC.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The key bytes, exactly as configured (never base64-decoded: Zendesk's secrets look like
    /// base64 but are used as ASCII).
    pub(crate) fn key(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret {
    fn from(secret: String) -> Self {
        Self(secret)
    }
}

impl From<&str> for Secret {
    fn from(secret: &str) -> Self {
        Self(secret.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_secret() {
        let secret = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(&secret)), "Some([redacted])");
    }
}
