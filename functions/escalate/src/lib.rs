//! The escalate function: EventBridge Scheduler invokes it when one of a case's timers is due,
//! with the schedule's `Input`, an [`aws::scheduler::TimerInput`]
//! (`{"case_id": "zendesk-7002", "timer": "dispatch"}`).
//!
//! Timers are hints: the handler reloads the case and decides again at `now` (an early timer is
//! moved, a stale or repeated one does nothing), then delivers the case's outbox. Invoking it
//! twice with the same input pages once.
//!
//! # Errors
//!
//! Scheduler invokes the function **asynchronously**, so a returned error is handled by
//! Lambda's asynchronous invocation: retried (`MaximumRetryAttempts` in `template.yaml`), then
//! sent to the function's on-failure destination (the escalate dead-letter queue, alarmed). The
//! schedule's own retry policy and DLQ only cover Scheduler failing to invoke at all.
//!
//! - **Retryable** (the store is unavailable or throttling, the case kept changing): the
//!   handler returns [`EscalateError`], so Lambda retries and the DLQ keeps what never worked.
//! - **Permanent** (input that is not a timer input, an unknown case id or timer kind, a case
//!   the domain refuses to decide, stored data that cannot be read): retrying cannot help, so
//!   the handler logs it at `ERROR` with `outcome = "rejected"` (a metric filter in
//!   `template.yaml` counts and alarms on these) and returns `Ok` with status `rejected`. The
//!   five-minute sweep still covers the case.

use app::ports::{CaseStore, Timers};
use app::{Deliver, DeliveryReport, Engine, EngineError, FireOutcome};
use aws::scheduler::TimerInput;
use domain::case::{CaseId, TimerKind};
use lambda_runtime::Diagnostic;
use serde::Serialize;
use serde_json::Value;
use tracing::{error, info, warn};

/// The function's own secrets: none (it needs only `lambda::NOTIFIER_SECRETS`). Named, so
/// that the template test checks the template against the code, not against a copy.
pub const SECRETS: [lambda::SecretSpec; 0] = [];

/// What one invocation did; the function's response (visible in the invoke result and logs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Escalated {
    /// The decision changed the case; its effects were written and delivered.
    Fired {
        case_id: String,
        timer: String,
        version: u64,
        effects: usize,
        deliveries: Deliveries,
    },
    /// Nothing was due (an early, stale or repeated timer); pending effects were delivered.
    Unchanged {
        case_id: String,
        timer: String,
        deliveries: Deliveries,
    },
    /// The case does not exist (any more): harmless.
    UnknownCase { case_id: String, timer: String },
    /// A permanent failure: logged, not retried.
    Rejected { reason: String },
}

/// How the outbox delivery after the decision ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Deliveries {
    pub delivered: usize,
    pub not_sent: usize,
    pub retrying: usize,
    pub failed: usize,
}

impl From<DeliveryReport> for Deliveries {
    fn from(report: DeliveryReport) -> Self {
        Self {
            delivered: report.delivered,
            not_sent: report.not_sent,
            retrying: report.retrying,
            failed: report.failed,
        }
    }
}

/// A temporary failure: returned to Lambda, which retries the invocation.
#[derive(Debug, thiserror::Error)]
#[error("timer {timer} of case {case_id} failed and will be retried: {source}")]
pub struct EscalateError {
    pub case_id: String,
    pub timer: String,
    #[source]
    pub source: EngineError,
}

impl From<EscalateError> for Diagnostic {
    fn from(error: EscalateError) -> Self {
        Diagnostic {
            error_type: String::from("support_sla.Retryable"),
            error_message: error.to_string(),
        }
    }
}

/// Handle one schedule invocation.
pub async fn handle<S, T, D>(
    engine: &Engine<S, T, D>,
    payload: Value,
) -> Result<Escalated, EscalateError>
where
    S: CaseStore,
    T: Timers,
    D: Deliver,
{
    let (case_id, timer) = match parse(payload) {
        Ok(parsed) => parsed,
        Err(reason) => return Ok(rejected(reason)),
    };
    let retry = |source: EngineError| EscalateError {
        case_id: case_id.to_string(),
        timer: timer.as_str().to_owned(),
        source,
    };
    let fired = match engine.fire(&case_id, timer).await {
        Ok(fired) => fired,
        Err(error) if error.is_retryable() => {
            warn!(case_id = %case_id, timer = timer.as_str(), %error, "timer failed; Lambda retries it");
            return Err(retry(error));
        }
        Err(error) => {
            return Ok(rejected(format!(
                "case {case_id}, timer {}: {error}",
                timer.as_str()
            )));
        }
    };
    let case = case_id.to_string();
    let timer_name = timer.as_str().to_owned();
    if fired == FireOutcome::UnknownCase {
        info!(case_id = %case, timer = %timer_name, outcome = "unknown_case", "timer for a case that does not exist; nothing to do");
        return Ok(Escalated::UnknownCase {
            case_id: case,
            timer: timer_name,
        });
    }
    let deliveries = match engine.deliver_outbox(Some(&case_id)).await {
        Ok(report) => Deliveries::from(report),
        Err(error) if error.is_retryable() => {
            warn!(case_id = %case, timer = %timer_name, %error, "delivery failed; Lambda retries the timer");
            return Err(retry(error));
        }
        Err(error) => {
            return Ok(rejected(format!("case {case}: delivery: {error}")));
        }
    };
    let escalated = match fired {
        FireOutcome::Applied { version, effects } => Escalated::Fired {
            case_id: case,
            timer: timer_name,
            version,
            effects,
            deliveries,
        },
        FireOutcome::Unchanged | FireOutcome::UnknownCase => Escalated::Unchanged {
            case_id: case,
            timer: timer_name,
            deliveries,
        },
    };
    info!(outcome = ?escalated, "timer handled");
    Ok(escalated)
}

/// The schedule's input as typed values, or why it is not one (an unknown timer kind or an
/// invalid case id fails here).
fn parse(payload: Value) -> Result<(CaseId, TimerKind), String> {
    let input: TimerInput = serde_json::from_value(payload)
        .map_err(|error| format!("the input is not a timer input: {error}"))?;
    Ok((input.case_id, input.timer))
}

fn rejected(reason: String) -> Escalated {
    error!(outcome = "rejected", %reason, "timer input rejected permanently; not retried");
    Escalated::Rejected { reason }
}
