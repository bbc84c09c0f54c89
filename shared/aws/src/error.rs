//! Reading SDK errors: is it worth a retry, and what to say about it.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::error::Error;

/// An SDK call that failed, classified.
#[derive(Debug)]
pub(crate) struct Failure {
    /// Throttling, a 5xx, a timeout or a network error: the same request may succeed later.
    pub transient: bool,
    /// The service's error code, if it answered with one.
    pub code: Option<String>,
    /// The whole error chain, for logs and error reasons.
    pub message: String,
}

/// A notifier's error for a failure: `Retryable` when a later attempt may succeed.
pub(crate) fn notify_error(transient: bool, reason: String) -> app::ports::NotifyError {
    if transient {
        app::ports::NotifyError::Retryable {
            reason,
            retry_after: None,
        }
    } else {
        app::ports::NotifyError::Permanent { reason }
    }
}

/// Error codes that mean "slow down" on AWS services, whatever the HTTP status says.
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TransactionInProgressException",
    "SlowDown",
    "RequestTimeout",
    "RequestTimeoutException",
];

/// Classifies `error`; `extra_transient` names further service codes worth a retry.
pub(crate) fn classify<E>(error: &SdkError<E, HttpResponse>, extra_transient: &[&str]) -> Failure
where
    E: ProvideErrorMetadata + Error + Send + Sync + 'static,
{
    let message = DisplayErrorContext(error).to_string();
    match error {
        // The request could not even be built: our input is wrong, and will stay wrong.
        SdkError::ConstructionFailure(_) => Failure {
            transient: false,
            code: None,
            message,
        },
        SdkError::ServiceError(context) => {
            let status = context.raw().status().as_u16();
            let code = context.err().code().map(str::to_owned);
            let transient = status >= 500
                || status == 429
                || code.as_deref().is_some_and(|code| {
                    THROTTLING_CODES.contains(&code) || extra_transient.contains(&code)
                });
            Failure {
                transient,
                code,
                message,
            }
        }
        // Timeouts, connection failures, unreadable responses, and anything new.
        _ => Failure {
            transient: true,
            code: None,
            message,
        },
    }
}
