//! Delivery workers: the outbox carried out apart from deciding, per destination.
//!
//! Each [`Destination`] (PagerDuty, Slack, e-mail) has a dispatcher of its own with a bounded
//! number of deliveries in flight. A dispatcher claims one item at a time, only when one of
//! its delivery slots is free, so an item is leased just before it is sent; while it is being
//! sent its lease is renewed, so that however long the receiver takes (PagerDuty's own retries
//! under `Retry-After` can take a minute) no other worker claims and sends it again. A slow or
//! throttled destination fills only its own slots: the due loop never waits for a delivery,
//! and the other destinations go on.
//!
//! Dispatchers sleep until the engine says a decision added items for them
//! ([`DeliveryWakers::wake`], wired with `Engine::with_delivery_wake`), a delivery of theirs
//! finished (the next item of its lane may be ready), or `idle` passed (retries that came due).

use app::ports::{CaseStore, Destination, OutboxItem, Timers};
use app::{Deliver, DeliveryWake, Engine};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, Notify, Semaphore, watch};
use tokio::task::{JoinHandle, JoinSet};
use tracing::warn;

/// How many deliveries of one destination may be in flight at once, and how often an idle
/// dispatcher looks at the outbox anyway.
#[derive(Debug, Clone, Copy)]
pub struct WorkerSettings {
    pub concurrency: usize,
    pub idle: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            concurrency: 4,
            idle: Duration::from_secs(1),
        }
    }
}

/// One wake-up signal per destination. Cheap to clone.
#[derive(Debug, Clone)]
pub struct DeliveryWakers {
    signals: Arc<BTreeMap<Destination, Notify>>,
}

impl Default for DeliveryWakers {
    fn default() -> Self {
        Self {
            signals: Arc::new(
                Destination::ALL
                    .into_iter()
                    .map(|destination| (destination, Notify::new()))
                    .collect(),
            ),
        }
    }
}

impl DeliveryWakers {
    pub fn new() -> Self {
        Self::default()
    }

    /// Make `destination`'s dispatcher look at the outbox now. A wake while it is busy is kept
    /// (one permit), so none is lost.
    pub fn wake(&self, destination: Destination) {
        if let Some(signal) = self.signals.get(&destination) {
            signal.notify_one();
        }
    }

    pub fn wake_all(&self) {
        for destination in Destination::ALL {
            self.wake(destination);
        }
    }

    /// The engine's hook: wake the destinations a decision wrote items for.
    pub fn as_engine_wake(&self) -> DeliveryWake {
        let wakers = self.clone();
        Arc::new(move |destination| wakers.wake(destination))
    }

    async fn notified(&self, destination: Destination) {
        match self.signals.get(&destination) {
            Some(signal) => signal.notified().await,
            None => std::future::pending().await,
        }
    }
}

/// Start one dispatcher per destination; they stop when `shutdown` turns true (deliveries in
/// flight are abandoned: their leases are released when the next server starts).
pub fn spawn_delivery_workers<S, T, D>(
    engine: Arc<Engine<S, T, D>>,
    wakers: DeliveryWakers,
    settings: WorkerSettings,
    shutdown: watch::Receiver<bool>,
) -> Vec<JoinHandle<()>>
where
    S: CaseStore,
    T: Timers,
    D: Deliver,
{
    Destination::ALL
        .into_iter()
        .map(|destination| {
            tokio::spawn(dispatch(
                Arc::clone(&engine),
                destination,
                wakers.clone(),
                settings,
                shutdown.clone(),
            ))
        })
        .collect()
}

async fn dispatch<S, T, D>(
    engine: Arc<Engine<S, T, D>>,
    destination: Destination,
    wakers: DeliveryWakers,
    settings: WorkerSettings,
    mut shutdown: watch::Receiver<bool>,
) where
    S: CaseStore,
    T: Timers,
    D: Deliver,
{
    let slots = Arc::new(Semaphore::new(settings.concurrency.max(1)));
    let mut in_flight = JoinSet::new();
    // The keys this dispatcher is sending. A lease can look expired while its renewal is not
    // yet due when the clock jumps (a test's manual clock, a corrected system clock); the claim
    // then hands out an item that is still being sent here, and it must not go out twice.
    // The set stays locked from the claim to the check: a send that finishes meanwhile
    // (recorded, then removed from the set) would otherwise let its item, claimed while still
    // pending, go out a second time.
    let sending: Arc<Mutex<HashSet<String>>> = Arc::default();
    loop {
        while in_flight.try_join_next().is_some() {}
        if *shutdown.borrow() {
            break;
        }
        // A free slot first, then the claim: nothing is leased that cannot be sent at once.
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            _ = shutdown.changed() => continue,
        };
        let mut sending_now = sending.lock().await;
        let claimed = engine.claim_next(destination).await;
        let fresh = match &claimed {
            Ok(Some(item)) => sending_now.insert(item.key.clone()),
            _ => false,
        };
        drop(sending_now);
        match claimed {
            Ok(Some(item)) => {
                if !fresh {
                    // Already on its way from here; the claim just renewed its lease.
                    continue;
                }
                let engine = Arc::clone(&engine);
                let wakers = wakers.clone();
                let sending = Arc::clone(&sending);
                in_flight.spawn(async move {
                    deliver_with_renewal(&engine, &item).await;
                    sending.lock().await.remove(&item.key);
                    drop(slot);
                    // The next item of its lane may be ready now.
                    wakers.wake(destination);
                });
                continue;
            }
            Ok(None) => drop(slot),
            Err(error) => {
                drop(slot);
                warn!(%destination, %error, "cannot claim outbox items; trying again later");
            }
        }
        tokio::select! {
            () = wakers.notified(destination) => {}
            () = tokio::time::sleep(settings.idle) => {}
            _ = shutdown.changed() => {}
        }
    }
    in_flight.abort_all();
}

/// Deliver one claimed item, renewing its lease every third of the lease while the receiver
/// has not answered.
async fn deliver_with_renewal<S, T, D>(engine: &Engine<S, T, D>, item: &OutboxItem)
where
    S: CaseStore,
    T: Timers,
    D: Deliver,
{
    let every = (engine.settings().delivery_lease / 3).max(Duration::from_millis(10));
    let delivery = engine.deliver_claimed(item);
    tokio::pin!(delivery);
    let mut renewal = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tokio::select! {
            result = &mut delivery => {
                if let Err(error) = result {
                    warn!(case_id = %item.case_id, key = %item.key, %error, "delivery outcome not recorded; the item will be offered again");
                }
                return;
            }
            _ = renewal.tick() => match engine.renew_lease(item).await {
                Ok(true) => {}
                Ok(false) => warn!(case_id = %item.case_id, key = %item.key, "lease of an item in delivery was gone"),
                Err(error) => warn!(case_id = %item.case_id, key = %item.key, %error, "cannot renew the lease of an item in delivery"),
            },
        }
    }
}
