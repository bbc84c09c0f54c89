//! The webhook functions: `api::webhook_router` served by `lambda_http`.
//!
//! [`WebhookFunction`] adds what the HTTP API in front of it needs:
//!
//! - **Base path.** Behind a custom domain whose API mapping has a path (`PUBLIC_BASE_URL`
//!   `https://hooks.example.com/support`), the request's `rawPath` keeps that path. It is
//!   stripped before routing, so the routes match, and Twilio's handler adds it back exactly once
//!   when it rebuilds the signed URL. A request without it (the API's own URL) is routed as is.
//! - **Secret rotation.** A 401 is retried once with the secret's previous value while its
//!   overlap window lasts, then once more after re-reading the secrets from Secrets Manager;
//!   a re-read happens at most once a minute per execution environment
//!   ([`SECRET_REREAD_INTERVAL`]), so a flood of bad signatures costs one read a minute.

use crate::settings::{SECRET_ID_SUFFIX, SecretSpec, Settings};
use crate::{InitError, StartedWebhook, WebhookEngine};
use api::{AppState, Webhooks};
use app::ports::{CaseStore, Clock, SystemClock, Timers};
use app::{Deliver, Engine};
pub use axum::Router;
use domain::Timestamp;
use domain::policy::Policy;
use http::StatusCode;
use std::convert::Infallible;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tower::ServiceExt;
use tracing::{error, info, warn};

/// The webhook routes with only the given providers configured. A webhook stores the case and
/// its outbox items in one write and answers: no outbound call on the request path (Zendesk
/// gives up after about 10 s, and a throttled PagerDuty could take a minute). The `deliver`
/// function, invoked by the table's stream for each new outbox item, sends them; the sweep
/// delivers whatever that missed.
pub fn webhook_app<S, T, D>(engine: Arc<Engine<S, T, D>>, webhooks: Webhooks) -> Router
where
    S: CaseStore,
    T: Timers,
    D: Deliver,
{
    api::webhook_router(Arc::new(AppState {
        engine,
        webhooks,
        // "In the background" here is another function: this engine has no delivery wake, so
        // nothing is sent from this process.
        deliver_in_background: true,
    }))
}

/// One API Gateway request (already decoded from the event, base64 bodies included) through the
/// router, as it arrives (no base path stripped, no retry). The tests call this with recorded
/// events.
pub async fn handle(
    app: Router,
    request: lambda_http::Request,
) -> http::Response<axum::body::Body> {
    match app.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// A function's webhook handlers, built from its settings (its secrets included).
pub type BuildWebhooks = fn(&Settings, &Policy) -> Result<Webhooks, InitError>;

/// The shortest time between two re-reads of the secrets after signature failures.
pub const SECRET_REREAD_INTERVAL: Duration = Duration::from_secs(60);

/// What a webhook function is made of; [`WebhookParts::from_started`] in `main`, by hand in
/// tests.
pub struct WebhookParts {
    pub engine: Arc<WebhookEngine>,
    pub policy: Arc<Policy>,
    pub sdk: aws_config::SdkConfig,
    /// The environment as read at init, before the secrets were fetched: re-reads start here.
    pub env: Settings,
    /// The settings with the secrets fetched at init.
    pub settings: Settings,
    /// The function's own (webhook) secrets: the ones re-read after a 401.
    pub secrets: Vec<SecretSpec>,
    pub build: BuildWebhooks,
    pub clock: Arc<dyn Clock>,
}

impl WebhookParts {
    pub fn from_started(
        started: &StartedWebhook,
        secrets: &[SecretSpec],
        build: BuildWebhooks,
    ) -> Self {
        Self {
            engine: Arc::clone(&started.engine),
            policy: Arc::clone(&started.policy),
            sdk: started.sdk.clone(),
            env: started.env.clone(),
            settings: started.settings.clone(),
            secrets: secrets.to_vec(),
            build,
            clock: Arc::new(SystemClock),
        }
    }
}

impl std::fmt::Debug for WebhookParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookParts")
            .field("settings", &self.settings)
            .field("secrets", &self.secrets)
            .finish_non_exhaustive()
    }
}

/// The router for the current secrets and, during a rotation, one for the previous ones.
#[derive(Clone)]
struct Routers {
    current: Router,
    previous: Option<(Router, Timestamp)>,
}

/// A webhook function: base path stripped, a 401 retried after a secret rotation.
pub struct WebhookFunction {
    engine: Arc<WebhookEngine>,
    policy: Arc<Policy>,
    sdk: aws_config::SdkConfig,
    env: Settings,
    secrets: Vec<SecretSpec>,
    build: BuildWebhooks,
    clock: Arc<dyn Clock>,
    base_path: String,
    routers: RwLock<Routers>,
    /// When the secrets were last re-read; held across the re-read so that concurrent 401s
    /// wait for it instead of reading again.
    last_reread: tokio::sync::Mutex<Option<Timestamp>>,
}

impl std::fmt::Debug for WebhookFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookFunction")
            .field("base_path", &self.base_path)
            .field("secrets", &self.secrets)
            .finish_non_exhaustive()
    }
}

impl WebhookFunction {
    /// Build the handlers from `parts.settings`; fails naming the variable when a secret or
    /// `PUBLIC_BASE_URL` is missing or invalid.
    pub fn new(parts: WebhookParts) -> Result<Self, InitError> {
        let base_path = base_path(&parts.settings)?;
        let routers = routers(&parts, &parts.settings)?;
        Ok(Self {
            engine: parts.engine,
            policy: parts.policy,
            sdk: parts.sdk,
            env: parts.env,
            secrets: parts.secrets,
            build: parts.build,
            clock: parts.clock,
            base_path,
            routers: RwLock::new(routers),
            last_reread: tokio::sync::Mutex::new(None),
        })
    }

    /// The path prefix stripped from request paths (`/support`), or empty.
    pub fn base_path(&self) -> &str {
        &self.base_path
    }

    /// One API Gateway request through the router: the base path stripped, a 401 retried with
    /// the previous secret and then once after a (rate-limited) re-read of the secrets.
    pub async fn handle(&self, request: lambda_http::Request) -> http::Response<axum::body::Body> {
        let request = Buffered::new(request, &self.base_path);
        let routers = self.routers();
        let response = request.send(&routers.current).await;
        if response.status() != StatusCode::UNAUTHORIZED {
            return response;
        }
        let now = self.clock.now();
        if let Some((previous, until)) = &routers.previous
            && now < *until
        {
            let retried = request.send(previous).await;
            if retried.status() != StatusCode::UNAUTHORIZED {
                warn!(
                    "webhook verified with the previous secret: finish the rotation at the provider"
                );
                return retried;
            }
        }
        match self.reread(now).await {
            Some(routers) => request.send(&routers.current).await,
            None => response,
        }
    }

    fn routers(&self) -> Routers {
        match self.routers.read() {
            Ok(routers) => routers.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Re-read the secrets and rebuild the handlers, unless that was done less than
    /// [`SECRET_REREAD_INTERVAL`] ago or none of them comes from Secrets Manager.
    async fn reread(&self, now: Timestamp) -> Option<Routers> {
        if !self
            .secrets
            .iter()
            .any(|spec| self.is_read_from_secrets_manager(spec))
        {
            return None;
        }
        let mut last = self.last_reread.lock().await;
        if let Some(last) = *last
            && last
                .checked_add(SECRET_REREAD_INTERVAL)
                .is_ok_and(|next| now < next)
        {
            return None;
        }
        *last = Some(now);
        info!("signature failed: re-reading the webhook secrets");
        let rebuilt = async {
            let settings = self
                .env
                .clone()
                .resolve_secrets(&self.sdk, &self.secrets)
                .await?;
            routers_from(
                &self.engine,
                &self.policy,
                self.build,
                &self.secrets,
                &settings,
            )
        };
        match rebuilt.await {
            Ok(routers) => {
                match self.routers.write() {
                    Ok(mut current) => *current = routers.clone(),
                    Err(poisoned) => *poisoned.into_inner() = routers.clone(),
                }
                Some(routers)
            }
            Err(failure) => {
                error!(error = %failure, "cannot re-read the webhook secrets; keeping the old ones");
                None
            }
        }
    }

    fn is_read_from_secrets_manager(&self, spec: &SecretSpec) -> bool {
        self.env.get(spec.name).is_none()
            && self
                .env
                .get(&format!("{}{SECRET_ID_SUFFIX}", spec.name))
                .is_some()
    }
}

/// The path of `PUBLIC_BASE_URL` (an API mapping's base path), or empty.
pub(crate) fn base_path(settings: &Settings) -> Result<String, InitError> {
    match settings.get(PUBLIC_BASE_URL_VAR) {
        None => Ok(String::new()),
        Some(url) => providers::PublicBaseUrl::parse(&url)
            .map(|url| url.path_prefix().to_owned())
            .map_err(InitError::config("webhooks")),
    }
}

/// The public URL the providers are given (`template.yaml` sets it from `PublicBaseUrl`).
pub const PUBLIC_BASE_URL_VAR: &str = "PUBLIC_BASE_URL";

fn routers(parts: &WebhookParts, settings: &Settings) -> Result<Routers, InitError> {
    routers_from(
        &parts.engine,
        &parts.policy,
        parts.build,
        &parts.secrets,
        settings,
    )
}

fn routers_from(
    engine: &Arc<WebhookEngine>,
    policy: &Policy,
    build: BuildWebhooks,
    secrets: &[SecretSpec],
    settings: &Settings,
) -> Result<Routers, InitError> {
    let current = webhook_app(Arc::clone(engine), build(settings, policy)?);
    let previous = match settings.with_previous_secrets(secrets) {
        Some((previous, until)) => Some((
            webhook_app(Arc::clone(engine), build(&previous, policy)?),
            until,
        )),
        None => None,
    };
    Ok(Routers { current, previous })
}

/// A request kept whole, so that it can be sent more than once.
struct Buffered {
    method: http::Method,
    uri: http::Uri,
    version: http::Version,
    headers: http::HeaderMap,
    body: bytes::Bytes,
}

impl Buffered {
    fn new(request: lambda_http::Request, base_path: &str) -> Self {
        let (parts, body) = request.into_parts();
        let uri = strip_base_path(&parts.uri, base_path).unwrap_or(parts.uri);
        Self {
            method: parts.method,
            uri,
            version: parts.version,
            headers: parts.headers,
            body: bytes::Bytes::copy_from_slice(body.as_ref()),
        }
    }

    async fn send(&self, app: &Router) -> http::Response<axum::body::Body> {
        let mut request = http::Request::new(axum::body::Body::from(self.body.clone()));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.uri.clone();
        *request.version_mut() = self.version;
        *request.headers_mut() = self.headers.clone();
        match app.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }
}

/// `uri` without the leading `base_path` segment(s); `None` when it does not start with them.
pub(crate) fn strip_base_path(uri: &http::Uri, base_path: &str) -> Option<http::Uri> {
    if base_path.is_empty() {
        return None;
    }
    let rest = uri.path().strip_prefix(base_path)?;
    let path = match rest {
        "" => "/",
        rest if rest.starts_with('/') => rest,
        _ => return None,
    };
    let path_and_query = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(path_and_query.parse().ok()?);
    http::Uri::from_parts(parts).ok()
}

/// Serve `function` on the Lambda Runtime API until the environment is shut down.
pub async fn serve(function: WebhookFunction) -> Result<(), lambda_http::Error> {
    let function = Arc::new(function);
    lambda_http::run(lambda_http::service_fn(
        move |request: lambda_http::Request| {
            let function = Arc::clone(&function);
            async move { Ok::<_, Infallible>(function.handle(request).await) }
        },
    ))
    .await
}

/// Serve `app` on the Lambda Runtime API until the environment is shut down.
pub async fn run(app: Router) -> Result<(), lambda_http::Error> {
    lambda_http::run(lambda_http::service_fn(
        move |request: lambda_http::Request| {
            let app = app.clone();
            async move { Ok::<_, Infallible>(handle(app, request).await) }
        },
    ))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stripped(uri: &str, base: &str) -> Option<String> {
        let uri: http::Uri = uri.parse().ok()?;
        strip_base_path(&uri, base).map(|uri| uri.to_string())
    }

    #[test]
    fn the_base_path_is_stripped_once_and_only_as_whole_segments() {
        assert_eq!(
            stripped(
                "https://hooks.example.com/support/webhooks/zendesk",
                "/support"
            )
            .as_deref(),
            Some("https://hooks.example.com/webhooks/zendesk")
        );
        assert_eq!(
            stripped("/support/webhooks/twilio/recording?x=1", "/support").as_deref(),
            Some("/webhooks/twilio/recording?x=1")
        );
        assert_eq!(
            stripped("/a/b/webhooks/zendesk", "/a/b").as_deref(),
            Some("/webhooks/zendesk")
        );
        assert_eq!(stripped("/support", "/support").as_deref(), Some("/"));
        // Not under the base path: routed as is (the API's own URL).
        assert_eq!(stripped("/webhooks/zendesk", "/support"), None);
        assert_eq!(stripped("/supportive/webhooks/zendesk", "/support"), None);
        assert_eq!(stripped("/support/webhooks/zendesk", ""), None);
    }

    #[test]
    fn the_base_path_is_the_path_of_public_base_url() {
        let base = |url: &str| base_path(&Settings::from_pairs([(PUBLIC_BASE_URL_VAR, url)]));
        assert_eq!(
            base("https://hooks.example.com/support/").ok().as_deref(),
            Some("/support")
        );
        assert_eq!(base("https://hooks.example.com").ok().as_deref(), Some(""));
        assert_eq!(base_path(&Settings::default()).ok().as_deref(), Some(""));
        let error = base("ftp://x")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("PUBLIC_BASE_URL"), "{error}");
    }
}
