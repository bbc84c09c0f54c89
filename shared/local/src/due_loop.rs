//! The sleep-until-due loop.
//!
//! The persisted timer list is the store itself: every case keeps its pending timers, and the
//! store indexes their earliest instant (`next_due`). So the due loop holds no state of its own: it
//! sleeps until the earliest due instant (or until a new timer wakes it), then decides the due
//! cases. After a restart the first round fires every deadline that passed while the process
//! was down. It delivers nothing: the decided effects wait in the outbox for the delivery
//! workers (`delivery_workers`), so no deadline waits for a slow receiver.

use app::ports::{CaseStore, TimerError, Timers};
use app::{Deliver, Engine};
use domain::Timestamp;
use domain::case::{CaseId, TimerKind};
use domain::jiff::SignedDuration;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tracing::warn;

/// The timers port of the local runtime: scheduling only wakes the due loop, which re-reads the
/// store's `next_due` index, and only when the new timer is earlier than the instant the due loop
/// already waits for (under load, most new timers are not).
#[derive(Debug, Clone)]
pub struct DueLoopTimers {
    wake: Arc<Notify>,
    /// The instant (Unix milliseconds) the due loop sleeps until.
    waiting_until: Arc<AtomicI64>,
}

impl Default for DueLoopTimers {
    fn default() -> Self {
        Self {
            wake: Arc::default(),
            waiting_until: Arc::new(AtomicI64::new(i64::MIN)),
        }
    }
}

impl DueLoopTimers {
    pub fn new() -> Self {
        Self::default()
    }

    /// Make the due loop look at the store now (tests use it after moving a manual clock).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    fn sleeping_until(&self, at: Timestamp) {
        self.waiting_until
            .store(at.as_millisecond(), Ordering::Relaxed);
    }
}

impl Timers for DueLoopTimers {
    async fn schedule(
        &self,
        _: &CaseId,
        _: TimerKind,
        at: Timestamp,
        _: bool,
    ) -> Result<(), TimerError> {
        if at.as_millisecond() < self.waiting_until.load(Ordering::Relaxed) {
            self.wake.notify_one();
        }
        Ok(())
    }

    async fn cancel(&self, _: &CaseId, _: TimerKind) -> Result<(), TimerError> {
        // A cancelled timer is simply absent from the case; nothing to wake for.
        Ok(())
    }
}

/// Decide the due cases whenever something is due, until `shutdown` turns true. `idle` bounds
/// every sleep, so clock changes are noticed even when no timer is near.
pub async fn run_due_loop<S, D>(
    engine: Arc<Engine<S, DueLoopTimers, D>>,
    timers: DueLoopTimers,
    mut shutdown: watch::Receiver<bool>,
    idle: Duration,
) where
    S: CaseStore,
    D: Deliver,
{
    loop {
        if *shutdown.borrow() {
            break;
        }
        if let Err(error) = engine.decide_due().await {
            warn!(%error, "deciding due cases failed; retrying after a pause");
        }
        let now = engine.now();
        let sleep_for = match engine.store().next_due().await {
            Ok(Some(due)) => until(now, due).min(idle),
            Ok(None) => idle,
            Err(error) => {
                warn!(%error, "cannot read the next due instant");
                idle
            }
        };
        let wake_at = SignedDuration::try_from(sleep_for)
            .ok()
            .and_then(|d| now.checked_add(d).ok())
            .unwrap_or(Timestamp::MAX);
        timers.sleeping_until(wake_at);
        tokio::select! {
            () = tokio::time::sleep(sleep_for) => {}
            () = timers.wake.notified() => {}
            _ = shutdown.changed() => {}
        }
    }
}

fn until(now: Timestamp, due: Timestamp) -> Duration {
    Duration::try_from(due.duration_since(now)).unwrap_or(Duration::ZERO)
}
