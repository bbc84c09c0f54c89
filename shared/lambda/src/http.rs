//! The webhook functions: `api::webhook_router` served by `lambda_http`.

use api::{AppState, Webhooks};
use app::ports::{CaseStore, Timers};
use app::{Deliver, Engine};
pub use axum::Router;
use std::convert::Infallible;
use std::sync::Arc;
use tower::ServiceExt;

/// The webhook routes with only the given providers configured. Effects are delivered before
/// the answer: Lambda freezes the environment once the response is sent, so background work
/// would stall until the next invocation.
pub fn webhook_app<S, T, D>(engine: Arc<Engine<S, T, D>>, webhooks: Webhooks) -> Router
where
    S: CaseStore,
    T: Timers,
    D: Deliver,
{
    api::webhook_router(Arc::new(AppState {
        engine,
        webhooks,
        deliver_in_background: false,
    }))
}

/// One API Gateway request (already decoded from the event, base64 bodies included) through the
/// router. The tests call this with recorded events.
pub async fn handle(
    app: Router,
    request: lambda_http::Request,
) -> http::Response<axum::body::Body> {
    match app.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
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
