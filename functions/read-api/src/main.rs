//! The `read-api` Lambda function: read the token and build the read routes once, then serve
//! API Gateway requests (`lambda::read`).

// One invocation at a time per execution environment: no worker threads to start.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    lambda::init_json_logs();
    let function = lambda::read::start_reads()
        .await
        .map_err(lambda::init_failed)?;
    lambda::read::serve_reads(function).await
}
