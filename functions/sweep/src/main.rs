//! The `sweep` Lambda function: build everything once, then sweep on every scheduled invocation.

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use std::sync::Arc;

// One invocation at a time per execution environment: no worker threads to start.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::init_json_logs();
    let started = lambda::start(&sweep::SECRETS)
        .await
        .map_err(lambda::init_failed)?;
    let engine = Arc::clone(&started.engine);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let engine = Arc::clone(&engine);
        async move { sweep::handle(&engine, event.payload).await }
    }))
    .await
}
