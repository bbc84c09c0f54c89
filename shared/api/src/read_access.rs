//! Who may read: the board, the report pages, `/api/*` and `/metrics` carry subjects, caller
//! numbers and timelines, so beyond loopback they need the read token. Webhooks never do: their
//! signatures authenticate them.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use env_config::Secret;
use serde_json::json;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The environment variable holding the read token, in every runtime.
pub const READ_TOKEN_VARIABLE: &str = "SUPPORT_SLA_READ_TOKEN";

/// The realm a browser shows when it prompts for the token.
const REALM: &str = "support-sla";

/// Open reads (a loopback listener without a token, for development) or reads that need the
/// token, as `Authorization: Bearer <token>` or as the password of HTTP Basic auth (any user
/// name), so that a browser can prompt for it.
#[derive(Debug, Clone)]
pub enum ReadAccess {
    Open,
    Token(Arc<Secret>),
}

impl ReadAccess {
    /// The token when one is set; otherwise open.
    pub fn from_token(token: Option<Secret>) -> Self {
        token.map_or(Self::Open, |token| Self::Token(Arc::new(token)))
    }

    pub fn needs_token(&self) -> bool {
        matches!(self, Self::Token(_))
    }

    /// Whether a request with this `Authorization` header may read.
    pub fn allows(&self, authorization: Option<&HeaderValue>) -> bool {
        let Self::Token(token) = self else {
            return true;
        };
        let Some(presented) = authorization
            .and_then(|value| value.to_str().ok())
            .and_then(presented_token)
        else {
            return false;
        };
        constant_time_equal(presented.as_bytes(), token.expose().as_bytes())
    }
}

/// The token of a `Bearer` or `Basic` authorization (the Basic password; the user is ignored).
fn presented_token(authorization: &str) -> Option<String> {
    let (scheme, credentials) = authorization.trim().split_once(' ')?;
    let credentials = credentials.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(credentials.to_owned());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(credentials)
            .ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (_user, password) = decoded.split_once(':')?;
        return Some(password.to_owned());
    }
    None
}

/// Equal in time that depends only on the lengths, never on where the first difference is.
fn constant_time_equal(presented: &[u8], expected: &[u8]) -> bool {
    presented.len() == expected.len() && bool::from(presented.ct_eq(expected))
}

/// Middleware for the read routes: 401 with a Basic challenge unless [`ReadAccess::allows`].
pub async fn require_read_access(
    State(access): State<ReadAccess>,
    request: Request,
    next: Next,
) -> Response {
    if access.allows(request.headers().get(header::AUTHORIZATION)) {
        return next.run(request).await;
    }
    (
        StatusCode::UNAUTHORIZED,
        [(
            header::WWW_AUTHENTICATE,
            format!("Basic realm=\"{REALM}\", charset=\"UTF-8\""),
        )],
        axum::Json(json!({
            "error": "unauthorized",
            "reason": format!(
                "reads need the read token ({READ_TOKEN_VARIABLE}) as a Bearer token or as the Basic password"
            ),
        })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(value: &str) -> ReadAccess {
        ReadAccess::from_token(Secret::new(value))
    }

    fn header(value: &str) -> HeaderValue {
        HeaderValue::from_str(value).unwrap()
    }

    fn basic(user_and_password: &str) -> HeaderValue {
        let encoded = base64::engine::general_purpose::STANDARD.encode(user_and_password);
        header(&format!("Basic {encoded}"))
    }

    #[test]
    fn open_access_lets_every_request_read() {
        assert!(ReadAccess::Open.allows(None));
        assert!(ReadAccess::from_token(None).allows(Some(&header("Bearer anything"))));
    }

    #[test]
    fn a_token_is_accepted_as_bearer_or_as_the_basic_password() {
        let access = token("s3cret-read");
        assert!(access.allows(Some(&header("Bearer s3cret-read"))));
        assert!(access.allows(Some(&header("bearer s3cret-read"))));
        assert!(access.allows(Some(&basic("lead:s3cret-read"))));
        assert!(access.allows(Some(&basic(":s3cret-read"))));
    }

    #[test]
    fn a_missing_wrong_or_malformed_token_is_refused() {
        let access = token("s3cret-read");
        for refused in [
            None,
            Some(header("Bearer s3cret-reaD")),
            Some(header("Bearer s3cret-rea")),
            Some(header("Bearer s3cret-read-and-more")),
            Some(header("Token s3cret-read")),
            Some(header("s3cret-read")),
            Some(basic("s3cret-read")),
            Some(basic("s3cret-read:")),
            Some(header("Basic not-base64!")),
        ] {
            assert!(!access.allows(refused.as_ref()), "{refused:?}");
        }
    }
}
