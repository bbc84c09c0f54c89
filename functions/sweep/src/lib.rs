//! The sweep function: an EventBridge Scheduler schedule invokes it every five minutes.
//!
//! It fires every case whose next deadline is due (a timer that was lost, deleted by hand or
//! failed to be created is caught here, at most five minutes late) and delivers whatever is
//! pending in the outbox (effects whose delivery failed or whose function crashed).
//!
//! The input is ignored. The response and one log line report the counts. An error (the store
//! cannot be queried) is returned to Lambda; `template.yaml` does not retry it (the next sweep
//! runs in five minutes) but sends it to the sweep dead-letter queue, which is alarmed.

use app::ports::{CaseStore, Timers};
use app::{Deliver, Engine, EngineError, SweepReport};
use lambda_runtime::Diagnostic;
use serde::Serialize;
use serde_json::Value;
use tracing::{error, info};

/// The function's own secrets: none (it needs only `lambda::NOTIFIER_SECRETS`). Named, so
/// that the template test checks the template against the code, not against a copy.
pub const SECRETS: [lambda::SecretSpec; 0] = [];

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Swept {
    /// Cases whose re-evaluation changed something (a breach, a moved timer).
    pub cases_fired: usize,
    pub delivered: usize,
    pub not_sent: usize,
    pub retrying: usize,
    pub failed: usize,
}

impl From<SweepReport> for Swept {
    fn from(report: SweepReport) -> Self {
        Self {
            cases_fired: report.cases_fired,
            delivered: report.deliveries.delivered,
            not_sent: report.deliveries.not_sent,
            retrying: report.deliveries.retrying,
            failed: report.deliveries.failed,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("sweep failed: {0}")]
pub struct SweepError(#[from] pub EngineError);

impl From<SweepError> for Diagnostic {
    fn from(error: SweepError) -> Self {
        let error_type = if error.0.is_retryable() {
            "support_sla.Retryable"
        } else {
            "support_sla.Permanent"
        };
        Diagnostic {
            error_type: String::from(error_type),
            error_message: error.to_string(),
        }
    }
}

/// Handle one scheduled invocation.
pub async fn handle<S, T, D>(engine: &Engine<S, T, D>, _payload: Value) -> Result<Swept, SweepError>
where
    S: CaseStore,
    T: Timers,
    D: Deliver,
{
    match engine.sweep().await {
        Ok(report) => {
            let swept = Swept::from(report);
            info!(
                cases_fired = swept.cases_fired,
                delivered = swept.delivered,
                not_sent = swept.not_sent,
                retrying = swept.retrying,
                failed = swept.failed,
                "sweep done"
            );
            Ok(swept)
        }
        Err(error) => {
            error!(%error, retryable = error.is_retryable(), "sweep failed");
            Err(SweepError(error))
        }
    }
}
