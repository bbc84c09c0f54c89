//! The `read-api` function: the board, the report pages and the read API
//! (`api::read_router`) over the DynamoDB table. No engine, no notifiers, no scheduler: its
//! role may only read the table, and it needs no secret but the read token.
//!
//! The token is required: without `SUPPORT_SLA_READ_TOKEN` (or the Secrets Manager secret its
//! `SUPPORT_SLA_READ_TOKEN_SECRET_ID` names) the function does not start, since behind a
//! public HTTP API every read would otherwise be open.

use crate::http::{base_path, strip_base_path};
use crate::settings::{SecretSpec, Settings};
use crate::{InitError, TABLE_NAME_VAR, load_policy};
use api::{READ_TOKEN_VARIABLE, ReadAccess, ReadState};
use app::ports::{Clock, SystemClock};
use aws::store::DynamoStore;
use axum::Router;
use env_config::Secret;
use std::convert::Infallible;
use std::sync::Arc;
use tower::ServiceExt;

/// The only secret the read function reads.
pub const READ_SECRETS: [SecretSpec; 1] = [SecretSpec::required(READ_TOKEN_VARIABLE)];

/// The read routes behind the HTTP API, with the base path of `PUBLIC_BASE_URL` stripped as
/// for the webhook functions.
pub struct ReadFunction {
    app: Router,
    base_path: String,
}

impl std::fmt::Debug for ReadFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadFunction")
            .field("base_path", &self.base_path)
            .finish_non_exhaustive()
    }
}

impl ReadFunction {
    /// From settings whose secrets are resolved: `TABLE_NAME`, `SUPPORT_SLA_READ_TOKEN`,
    /// optionally `POLICY_FILE` and `PUBLIC_BASE_URL`. Each error names its variable.
    pub fn new(
        settings: &Settings,
        sdk: &aws_config::SdkConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, InitError> {
        let table = settings.require(TABLE_NAME_VAR)?;
        let token = settings
            .get(READ_TOKEN_VARIABLE)
            .and_then(Secret::new)
            .ok_or_else(|| InitError::Missing {
                name: READ_TOKEN_VARIABLE.to_owned(),
                hint: String::from("every read behind the HTTP API needs the read token"),
            })?;
        let policy = Arc::new(load_policy(settings)?);
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), table);
        let app = api::read_router(ReadState {
            reader: store,
            policy,
            clock,
            access: ReadAccess::Token(Arc::new(token)),
        });
        Ok(Self {
            app,
            base_path: base_path(settings)?,
        })
    }

    pub async fn handle(&self, request: lambda_http::Request) -> http::Response<axum::body::Body> {
        let (mut parts, body) = request.into_parts();
        if let Some(uri) = strip_base_path(&parts.uri, &self.base_path) {
            parts.uri = uri;
        }
        let request = http::Request::from_parts(parts, body);
        match self.app.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }
}

/// Read the SDK configuration and the read token once, and build the function.
pub async fn start_reads() -> Result<ReadFunction, InitError> {
    let sdk = aws::config::lambda_sdk_config();
    let settings = Settings::from_env()
        .resolve_secrets(&sdk, &READ_SECRETS)
        .await?;
    ReadFunction::new(&settings, &sdk, Arc::new(SystemClock))
}

/// Serve `function` on the Lambda Runtime API until the environment is shut down.
pub async fn serve_reads(function: ReadFunction) -> Result<(), lambda_http::Error> {
    let function = Arc::new(function);
    lambda_http::run(lambda_http::service_fn(
        move |request: lambda_http::Request| {
            let function = Arc::clone(&function);
            async move { Ok::<_, Infallible>(function.handle(request).await) }
        },
    ))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sdk() -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build()
    }

    #[test]
    fn without_the_read_token_the_function_does_not_start() {
        let settings = Settings::from_pairs([(TABLE_NAME_VAR, "cases")]);
        let error = ReadFunction::new(&settings, &sdk(), Arc::new(SystemClock))
            .unwrap_err()
            .to_string();
        assert!(error.contains(READ_TOKEN_VARIABLE), "{error}");
    }

    #[test]
    fn a_blank_read_token_counts_as_none() {
        let settings =
            Settings::from_pairs([(TABLE_NAME_VAR, "cases"), (READ_TOKEN_VARIABLE, "  ")]);
        assert!(ReadFunction::new(&settings, &sdk(), Arc::new(SystemClock)).is_err());
    }

    #[test]
    fn without_the_table_name_the_function_does_not_start() {
        let settings = Settings::from_pairs([(READ_TOKEN_VARIABLE, "t0ken")]);
        let error = ReadFunction::new(&settings, &sdk(), Arc::new(SystemClock))
            .unwrap_err()
            .to_string();
        assert!(error.contains(TABLE_NAME_VAR), "{error}");
    }
}
