//! The `deliver` Lambda function: build everything once, then handle batches of the table's
//! stream records (new outbox items).

use lambda_runtime::{LambdaEvent, service_fn};
use std::sync::Arc;

// One invocation at a time per execution environment; the lanes of a batch run concurrently
// on this one thread (they wait on the network, not the CPU).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::init_json_logs();
    let started = lambda::start(&deliver::SECRETS)
        .await
        .map_err(lambda::init_failed)?;
    let engine = Arc::clone(&started.engine);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<deliver::StreamEvent>| {
            let engine = Arc::clone(&engine);
            async move {
                Ok::<_, std::convert::Infallible>(deliver::handle(&engine, event.payload).await)
            }
        },
    ))
    .await
}
