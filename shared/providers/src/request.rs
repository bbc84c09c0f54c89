//! The framework-agnostic request, the outcome of a handler, and how both become HTTP replies.

use domain::case::CaseEvent;
use http::{HeaderMap, Method, StatusCode};
use serde_json::json;
use std::fmt;

/// Default largest body accepted (256 KiB): ticket events are a few KiB, and a bound keeps an
/// unauthenticated sender from making us hash megabytes.
pub const DEFAULT_BODY_LIMIT: usize = 256 * 1024;

/// One incoming webhook request, as raw as the transport gives it: signatures are computed
/// over exactly these body bytes, so nothing may have re-encoded them. Its `Debug` shows header
/// names and the body's length only, so logging a request cannot leak a signature.
#[derive(Clone, Copy)]
pub struct RawRequest<'a> {
    pub method: &'a Method,
    /// The path and query as requested, e.g. `/twilio/recording-status?tenant=acme` (without
    /// the API-Gateway stage: that belongs to `PUBLIC_BASE_URL`).
    pub path_and_query: &'a str,
    /// Header names are case-insensitive in `HeaderMap`, as API Gateway lowercases them.
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

impl fmt::Debug for RawRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawRequest")
            .field("method", self.method)
            .field("path_and_query", &self.path_and_query)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl<'a> RawRequest<'a> {
    pub fn new(
        method: &'a Method,
        path_and_query: &'a str,
        headers: &'a HeaderMap,
        body: &'a [u8],
    ) -> Self {
        Self {
            method,
            path_and_query,
            headers,
            body,
        }
    }

    /// A view of an `http::Request` whose body is already collected into bytes.
    pub fn from_http<B: AsRef<[u8]>>(request: &'a http::Request<B>) -> Self {
        let uri = request.uri();
        Self {
            method: request.method(),
            path_and_query: uri.path_and_query().map_or(uri.path(), |pq| pq.as_str()),
            headers: request.headers(),
            body: request.body().as_ref(),
        }
    }

    /// The first value of a header as bytes (signatures are byte strings, not text).
    pub(crate) fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.headers.get(name).map(http::HeaderValue::as_bytes)
    }

    pub(crate) fn require_method(
        &self,
        allowed: &[Method],
        allowed_text: &'static str,
    ) -> Result<(), Rejection> {
        if allowed.contains(self.method) {
            Ok(())
        } else {
            Err(Rejection::MethodNotAllowed {
                method: self.method.as_str().chars().take(32).collect(),
                allowed: allowed_text,
            })
        }
    }

    pub(crate) fn require_size(&self, limit: usize) -> Result<(), Rejection> {
        if self.body.len() > limit {
            Err(Rejection::TooLarge {
                size: self.body.len(),
                limit,
            })
        } else {
            Ok(())
        }
    }
}

/// Provider-chosen text echoed in a reason, bounded so a hostile value cannot bloat logs.
pub(crate) fn excerpt(text: &str) -> String {
    let mut shown = String::with_capacity(text.len().min(EXCERPT_CHARS));
    for c in text.chars().take(EXCERPT_CHARS) {
        // A newline in a signed provider string must not start a forged log line.
        if c.is_control() {
            shown.extend(c.escape_default());
        } else {
            shown.push(c);
        }
    }
    shown
}

/// How much of a provider's text a reason quotes.
const EXCERPT_CHARS: usize = 80;

/// What a verified, well-formed request means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intake {
    /// Events to store and decide on; the reply depends on the store ([`stored_reply`]).
    Accepted(Vec<CaseEvent>),
    /// A genuine event we do not track (another event type or topic, a recording still in
    /// progress). Answered 200 so the provider neither retries nor trips a circuit breaker.
    Ignored { reason: String },
    /// A liveness check: Intercom's `HEAD` on the URL and its `ping` topic.
    Pong,
}

/// Why a request was refused. The texts name no secret, signature or header value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("method {method} is not allowed here (allowed: {allowed})")]
    MethodNotAllowed {
        method: String,
        allowed: &'static str,
    },
    #[error("the body has {size} bytes, more than the limit of {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("the {header} header is missing")]
    MissingSignature { header: &'static str },
    #[error("the signature does not match the request")]
    BadSignature,
    #[error("the signature timestamp is unreadable or outside the accepted window")]
    StaleTimestamp,
    #[error("not a valid {provider} webhook: {reason}")]
    Malformed {
        provider: &'static str,
        reason: String,
    },
}

impl Rejection {
    pub(crate) fn malformed(provider: &'static str, reason: impl fmt::Display) -> Self {
        Self::Malformed {
            provider,
            reason: reason.to_string(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::MissingSignature { .. } | Self::BadSignature | Self::StaleTimestamp => {
                StatusCode::UNAUTHORIZED
            }
            Self::Malformed { .. } => StatusCode::BAD_REQUEST,
        }
    }

    /// The value for the `Allow` header that a 405 reply should carry.
    pub fn allow(&self) -> Option<&'static str> {
        match self {
            Self::MethodNotAllowed { allowed, .. } => Some(allowed),
            _ => None,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::TooLarge { .. } => "payload_too_large",
            Self::MissingSignature { .. } | Self::BadSignature | Self::StaleTimestamp => {
                "unauthorized"
            }
            Self::Malformed { .. } => "bad_request",
        }
    }

    pub fn reply(&self) -> Reply {
        (
            self.status(),
            json!({ "error": self.code(), "reason": self.to_string() }),
        )
    }
}

/// An HTTP status and a JSON body. (For `HEAD` the transport drops the body.)
pub type Reply = (StatusCode, serde_json::Value);

/// Why accepted events could not be stored. Both make the provider retry later, which is
/// what we want: dedup on the event id makes the retry harmless.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreFailure {
    /// Temporary (throttled, timed out): 503, which Zendesk and Intercom retry.
    Unavailable,
    /// Anything else: 500.
    Failed,
    /// The event can never be decided (the engine refused it, not the store): 422, which
    /// providers do not retry, so it is not retried forever.
    Undecidable { reason: String },
}

/// The reply for `count` accepted events once the caller tried to store them.
pub fn stored_reply(count: usize, store: Result<(), StoreFailure>) -> Reply {
    match store {
        Ok(()) => (
            StatusCode::ACCEPTED,
            json!({ "status": "accepted", "events": count }),
        ),
        Err(StoreFailure::Unavailable) => (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "error": "store_unavailable", "reason": "the events could not be stored yet; retry later" }),
        ),
        Err(StoreFailure::Failed) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "error": "store_failed", "reason": "the events could not be stored; retry later" }),
        ),
        Err(StoreFailure::Undecidable { reason }) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ "error": "undecidable", "reason": reason }),
        ),
    }
}

/// The reply for a handler's outcome. `store` runs only for accepted events (a synchronous
/// caller passes its store here; an async one matches on `Intake::Accepted`, awaits its store
/// and calls [`stored_reply`] itself).
pub fn respond(
    outcome: &Result<Intake, Rejection>,
    store: impl FnOnce(&[CaseEvent]) -> Result<(), StoreFailure>,
) -> Reply {
    match outcome {
        Ok(Intake::Accepted(events)) => stored_reply(events.len(), store(events)),
        Ok(Intake::Ignored { reason }) => (
            StatusCode::OK,
            json!({ "status": "ignored", "reason": reason }),
        ),
        Ok(Intake::Pong) => (StatusCode::OK, json!({ "status": "ok" })),
        Err(rejection) => rejection.reply(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_excerpt_is_bounded_and_one_line() {
        let forged = "completed\n2026-11-30T10:00:00Z INFO forged line";
        let shown = excerpt(forged);
        assert_eq!(shown.lines().count(), 1, "{shown}");
        assert!(shown.contains("\\n"), "{shown}");
        assert_eq!(excerpt(&"x".repeat(500)).len(), 80);
    }

    #[test]
    fn each_rejection_maps_to_its_status() {
        let cases = [
            (
                Rejection::MethodNotAllowed {
                    method: "GET".into(),
                    allowed: "POST",
                },
                405,
            ),
            (Rejection::TooLarge { size: 2, limit: 1 }, 413),
            (Rejection::MissingSignature { header: "x" }, 401),
            (Rejection::BadSignature, 401),
            (Rejection::StaleTimestamp, 401),
            (Rejection::malformed("zendesk", "missing field `id`"), 400),
        ];
        for (rejection, status) in cases {
            let (code, body) = respond(&Err(rejection.clone()), |_| Ok(()));
            assert_eq!(code.as_u16(), status, "{rejection:?}");
            assert!(body["reason"].is_string(), "{body}");
        }
    }

    #[test]
    fn debug_output_of_a_request_shows_no_header_values_and_no_body() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-hub-signature",
            http::HeaderValue::from_static("sha1=0123456789abcdef"),
        );
        let request = RawRequest::new(&Method::POST, "/intercom", &headers, b"{\"secret\":1}");
        let printed = format!("{request:?}");
        assert!(printed.contains("x-hub-signature"), "{printed}");
        assert!(!printed.contains("0123456789abcdef"), "{printed}");
        assert!(!printed.contains("secret"), "{printed}");
    }

    #[test]
    fn accepted_events_are_answered_by_the_store_result() {
        let outcome = Ok(Intake::Accepted(Vec::new()));
        assert_eq!(respond(&outcome, |_| Ok(())).0, StatusCode::ACCEPTED);
        assert_eq!(
            respond(&outcome, |_| Err(StoreFailure::Unavailable)).0,
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            respond(&outcome, |_| Err(StoreFailure::Failed)).0,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn ignored_and_pong_are_200_without_touching_the_store() {
        for outcome in [Ok(Intake::Ignored { reason: "x".into() }), Ok(Intake::Pong)] {
            let (status, _) = respond(&outcome, |_| panic!("store must not run"));
            assert_eq!(status, StatusCode::OK);
        }
    }
}
