//! The `voicemail-webhook` Lambda function: build everything once, then serve API Gateway requests.

use lambda::http::{WebhookFunction, WebhookParts};

// One invocation at a time per execution environment: no worker threads to start.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    lambda::init_json_logs();
    let started = lambda::start_webhook(&voicemail_webhook::SECRETS)
        .await
        .map_err(lambda::init_failed)?;
    let function = WebhookFunction::new(WebhookParts::from_started(
        &started,
        &voicemail_webhook::SECRETS,
        voicemail_webhook::webhooks,
    ))
    .map_err(lambda::init_failed)?;
    lambda::http::serve(function).await
}
