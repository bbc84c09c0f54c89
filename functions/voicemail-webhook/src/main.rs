//! The `voicemail-webhook` Lambda function: build everything once, then serve API Gateway requests.

use std::sync::Arc;

// One invocation at a time per execution environment: no worker threads to start.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    lambda::init_json_logs();
    let started = lambda::start(&voicemail_webhook::SECRETS)
        .await
        .map_err(lambda::init_failed)?;
    let webhooks = voicemail_webhook::webhooks(&started.settings, &started.policy)
        .map_err(lambda::init_failed)?;
    lambda::http::run(voicemail_webhook::webhook_app(
        Arc::clone(&started.engine),
        webhooks,
    ))
    .await
}
