//! The shared HTTP client and what both webhook adapters do with an answer.

use app::ports::NotifyError;
use env_config::{ConfigError, Secret};
use jiff::Timestamp;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::de::DeserializeOwned;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The per-request timeout when none is configured: connect, send and read the answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How much of a receiver's error text ends up in an error reason.
const MAX_REASON_CHARS: usize = 300;

/// The shared HTTP client could not be built (the TLS configuration): found at start-up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot build the HTTP client: {0}")]
pub struct HttpClientError(String);

/// Builds the one `reqwest::Client` that every notifier shares (it pools connections; clone it,
/// do not build another). Redirects are not followed, so a request that carries a secret (the
/// routing key in the body, the webhook URL) goes nowhere but where it was configured to go.
/// Timeouts are set per request by each notifier. TLS: [`tls_config`].
pub fn http_client() -> Result<reqwest::Client, HttpClientError> {
    reqwest::Client::builder()
        .use_preconfigured_tls(tls_config()?)
        .user_agent(concat!("support-sla/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|error| HttpClientError(error_chain(&error.without_url())))
}

/// The TLS configuration of every outbound HTTPS client of the process (the notifiers and the
/// AWS SDK, `aws::config`): certificates are verified against the Mozilla root store compiled
/// into the binary (`webpki-roots`), with `ring` for the cryptography. Built once per process.
///
/// Why compiled-in roots: loading the native store (`/etc/ssl/certs`, every file read and
/// parsed) once per client was most of a Lambda function's cold start; the compiled-in anchors
/// need no parsing at all. They change only with a rebuild, like the rest of the binary.
pub fn tls_config() -> Result<rustls::ClientConfig, HttpClientError> {
    static CONFIG: OnceLock<rustls::ClientConfig> = OnceLock::new();
    if let Some(config) = CONFIG.get() {
        return Ok(config.clone());
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| HttpClientError(format!("TLS protocol versions: {error}")))?
        .with_root_certificates(root_store())
        .with_no_client_auth();
    Ok(CONFIG.get_or_init(|| config).clone())
}

/// The trust anchors of [`tls_config`]: the compiled-in Mozilla root store.
pub fn root_store() -> rustls::RootCertStore {
    rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    }
}

/// Parses a configured URL; the error names the variable, never the value (it may be a secret:
/// the Slack webhook URL).
pub(crate) fn parse_url(name: &'static str, value: &str) -> Result<reqwest::Url, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        name,
        reason: format!("not an absolute http(s) URL: {reason}"),
    };
    let url = reqwest::Url::parse(value.trim()).map_err(|error| invalid(error.to_string()))?;
    match url.scheme() {
        "https" | "http" if url.has_host() => Ok(url),
        "https" | "http" => Err(invalid("no host".into())),
        _ => Err(invalid("the scheme must be https or http".into())),
    }
}

/// An error and its sources, `outer: inner: innermost`.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let inner_text = inner.to_string();
        if !text.contains(&inner_text) {
            text.push_str(": ");
            text.push_str(&inner_text);
        }
        source = inner.source();
    }
    text
}

/// A failure to get an answer at all. Network errors and timeouts are worth retrying; a request
/// that could not even be built is not. The URL is dropped and the secret redacted, so neither
/// reaches the reason.
pub(crate) fn transport_error(
    receiver: &str,
    error: reqwest::Error,
    timeout: Duration,
    secrets: &[&Secret],
) -> NotifyError {
    let error = error.without_url();
    let detail = if error.is_timeout() {
        format!("no answer within {} ms", timeout.as_millis())
    } else {
        error_chain(&error)
    };
    let reason = redact(&format!("{receiver} unreachable: {detail}"), secrets);
    if error.is_builder() {
        NotifyError::Permanent { reason }
    } else {
        NotifyError::Retryable {
            reason,
            retry_after: None,
        }
    }
}

pub(crate) fn redact(text: &str, secrets: &[&Secret]) -> String {
    secrets
        .iter()
        .fold(text.to_owned(), |text, secret| secret.redact_in(&text))
}

/// What a receiver answered, read in full (the per-request timeout bounds the wait).
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: reqwest::StatusCode,
    pub retry_after: Option<Duration>,
    pub body: String,
}

impl Answer {
    pub async fn read(response: reqwest::Response) -> Self {
        let status = response.status();
        let retry_after = retry_after(response.headers(), Timestamp::now());
        // An unreadable body leaves the status to speak for itself.
        let body = response.text().await.unwrap_or_default();
        Self {
            status,
            retry_after,
            body,
        }
    }

    /// 408, 429 and 5xx: the receiver is busy or broken now, not the request.
    pub fn is_temporary(&self) -> bool {
        let code = self.status.as_u16();
        code == 408 || code == 429 || self.status.is_server_error()
    }

    /// A short one-line excerpt of the body for an error reason, secrets redacted.
    pub fn excerpt(text: &str, secrets: &[&Secret]) -> String {
        crate::text::clean(&redact(text, secrets), MAX_REASON_CHARS)
    }
}

/// A JSON API that a system-of-record client calls (Zendesk, Intercom).
#[derive(Debug, Clone, Copy)]
pub(crate) struct JsonApi<'a> {
    /// Named in error reasons.
    pub name: &'static str,
    pub timeout: Duration,
    /// Redacted from every reason, even when the API echoes them.
    pub secrets: &'a [&'a Secret],
    /// Said on 401 and 403: which settings to check.
    pub auth_hint: &'static str,
    pub retry: crate::RetryPolicy,
}

impl JsonApi<'_> {
    /// One call with retries: `request` builds the authenticated request for each attempt,
    /// `body` is sent as JSON, the JSON answer is parsed into `T` (see [`JsonApi::exchange`]).
    pub async fn call<B: serde::Serialize, T: DeserializeOwned>(
        &self,
        what: &str,
        body: Option<&B>,
        request: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<T, NotifyError> {
        let body =
            body.map(serde_json::to_vec)
                .transpose()
                .map_err(|error| NotifyError::Permanent {
                    reason: format!("cannot encode the {} request {what}: {error}", self.name),
                })?;
        self.retry
            .run(|_| self.exchange(request(), what, body.clone()))
            .await
    }

    /// Sends `request` (authenticated by the caller) with an optional JSON `body` and reads the
    /// JSON answer: 2xx is parsed into `T`; 408, 429 and 5xx are retryable (with `Retry-After`);
    /// other answers, and a 2xx body of another shape, are permanent.
    pub async fn exchange<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        what: &str,
        body: Option<Vec<u8>>,
    ) -> Result<T, NotifyError> {
        let mut request = request
            .timeout(self.timeout)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let response = request
            .send()
            .await
            .map_err(|error| transport_error(self.name, error, self.timeout, self.secrets))?;
        let answer = Answer::read(response).await;
        let status = answer.status;
        let name = self.name;
        if status.is_success() {
            return serde_json::from_str(&answer.body).map_err(|error| NotifyError::Permanent {
                reason: format!("{name} answered {what} with an unexpected body: {error}"),
            });
        }
        let message = Answer::excerpt(&answer.body, self.secrets);
        if answer.is_temporary() {
            return Err(NotifyError::Retryable {
                reason: format!("{name} answered {what} with {status}: {message}"),
                retry_after: answer.retry_after,
            });
        }
        let hint = match status {
            reqwest::StatusCode::UNAUTHORIZED | reqwest::StatusCode::FORBIDDEN => self.auth_hint,
            _ => "",
        };
        Err(NotifyError::Permanent {
            reason: format!("{name} rejected {what} ({status}){hint}: {message}"),
        })
    }
}

/// `Retry-After` as delay-seconds or as an HTTP date (RFC 9110), relative to `now`.
pub(crate) fn retry_after(headers: &HeaderMap, now: Timestamp) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(value)
        .ok()?;
    // A date in the past means "now".
    Some(Duration::try_from(at.duration_since(now)).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now: Timestamp = "2026-03-02T10:00:00Z".parse().unwrap();
        assert_eq!(
            retry_after(&headers("30"), now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after(&headers("Mon, 02 Mar 2026 10:01:30 GMT"), now),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            retry_after(&headers("Mon, 02 Mar 2026 09:00:00 GMT"), now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers("soon"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn the_tls_configuration_trusts_the_compiled_in_web_roots() {
        let roots = root_store();
        assert!(roots.len() > 100, "{} roots", roots.len());
        // The roots that AWS endpoints (Amazon Trust Services) and the providers chain to.
        for name in [
            "Amazon Root CA 1",
            "ISRG Root X1",
            "DigiCert Global Root G2",
        ] {
            assert!(
                roots
                    .roots
                    .iter()
                    .any(|anchor| contains(anchor.subject.as_ref(), name.as_bytes())),
                "{name} is missing"
            );
        }
        let config = tls_config().unwrap();
        assert!(!config.crypto_provider().cipher_suites.is_empty());
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack
            .windows(needle.len())
            .any(|window| window == needle)
    }

    #[tokio::test]
    async fn the_shared_client_refuses_a_certificate_under_no_compiled_in_root() {
        let server = crate::test_tls::UntrustedTlsServer::start().await;

        let error = http_client()
            .unwrap()
            .get(server.url())
            .send()
            .await
            .unwrap_err();

        let text = error_chain(&error).to_lowercase();
        assert!(text.contains("certificate"), "{text}");
        assert!(server.handshakes_failed() >= 1, "{text}");
    }

    #[test]
    fn a_bad_url_is_named_but_not_repeated() {
        let error = parse_url("SLACK_WEBHOOK_URL", "hooks.slack.com/services/SECRET").unwrap_err();
        assert!(error.to_string().contains("SLACK_WEBHOOK_URL"));
        assert!(!error.to_string().contains("SECRET"));
        assert!(parse_url("X", "ftp://example.com/").is_err());
        assert!(parse_url("X", "https://events.pagerduty.com/v2/enqueue").is_ok());
    }
}
