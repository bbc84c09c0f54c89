//! One-time timers per (case, timer kind). Timers are hints: the case store is the truth, and
//! a sweep over due cases catches any timer that was lost.

use domain::Timestamp;
use domain::case::{CaseId, TimerKind};
use std::future::Future;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimerError {
    /// Worth retrying (throttling, a network error, a 5xx).
    #[error("timer service unavailable: {0}")]
    Unavailable(String),
    /// Retrying will not help (bad request, missing permission).
    #[error("timer request refused: {0}")]
    Refused(String),
}

pub trait Timers: Send + Sync + 'static {
    /// Create the timer, or move it if it exists. `moving` says whether the case had this
    /// timer before (a hint: an adapter that finds otherwise must still do the right thing),
    /// so that a moved deadline costs one request, not a failed create and an update.
    fn schedule(
        &self,
        case: &CaseId,
        timer: TimerKind,
        at: Timestamp,
        moving: bool,
    ) -> impl Future<Output = Result<(), TimerError>> + Send;

    /// Delete the timer; a timer that does not exist (fired, or never created) is no error.
    fn cancel(
        &self,
        case: &CaseId,
        timer: TimerKind,
    ) -> impl Future<Output = Result<(), TimerError>> + Send;
}

impl<T: Timers> Timers for std::sync::Arc<T> {
    fn schedule(
        &self,
        case: &CaseId,
        timer: TimerKind,
        at: Timestamp,
        moving: bool,
    ) -> impl Future<Output = Result<(), TimerError>> + Send {
        T::schedule(self, case, timer, at, moving)
    }

    fn cancel(
        &self,
        case: &CaseId,
        timer: TimerKind,
    ) -> impl Future<Output = Result<(), TimerError>> + Send {
        T::cancel(self, case, timer)
    }
}
