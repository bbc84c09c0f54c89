//! The embedded case store: [`SqliteStore`], `app::ports::CaseStore` on one SQLite database.
//!
//! One connection, owned by the store's thread (`worker`), serves every operation; async
//! callers never block the runtime. Operations that arrive while the thread is busy are
//! committed together in one transaction, each in a savepoint of its own, so the cost of a
//! commit is shared under load. The thread takes SQLite's write lock (`BEGIN IMMEDIATE`)
//! before an operation reads, so the version and event checks and the writes that follow them
//! are atomic even against another process using the same file.
//!
//! JSON is encoded before an operation is queued and decoded after it is answered, so the
//! store's thread does only the SQL. A file store checkpoints its WAL on a thread of its own
//! (`checkpoint`), so that no commit pays for copying pages back or for an fsync.
//!
//! Where the `CaseStore` contract leaves room, this store follows the reading documented in
//! the `store_contract` crate (the suite it passes): a duplicate event wins over a version conflict;
//! a version named for a case that does not exist is a conflict; an item is held back while any
//! older item of its delivery lane is pending; finishing a final or unknown item is a no-op.

mod checkpoint;
mod codec;
mod gauges;
mod rejected;
mod schema;
mod worker;

pub use schema::SCHEMA_VERSION;

use app::outbox::{Finish, Recorded};
use app::ports::{
    CaseCursor, CasePage, CaseReader, CaseStore, CaseWrite, DeliveryOutcome, DeliveryState,
    Destination, OutboxItem, Quarantine, RejectedEvent, StoreError, StoredCase, TimelineEntry,
};
use app::stored;
use checkpoint::Checkpointer;
use codec::{
    CaseRow, OUTBOX_COLUMNS, OutboxRow, SqlContext, case_id, instant, nanos, sql_int, stored_error,
};
use domain::Timestamp;
use domain::case::CaseId;
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use worker::Worker;

/// How long an operation waits for another process's write lock before it reports the store
/// unavailable.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The SQLite case store. Cheap to clone: clones share one connection and its thread.
#[derive(Clone)]
pub struct SqliteStore {
    worker: Worker,
    path: Option<PathBuf>,
    /// Checkpoints the WAL of a file store; stops when the last clone is dropped.
    checkpointer: Option<Arc<Checkpointer>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// The database file's name inside the directory given to [`SqliteStore::open`].
    pub const FILE_NAME: &'static str = "cases.sqlite3";

    /// Open (or create) the store in `dir` (the file [`SqliteStore::FILE_NAME`]), creating the
    /// directory if needed, bring its schema up to date and start its checkpoint thread.
    /// Several stores, even in several processes, may open one directory.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|error| {
            StoreError::Unavailable(format!("cannot create {}: {error}", dir.display()))
        })?;
        let path = dir.join(Self::FILE_NAME);
        let context = format!("open {}", path.display());
        let conn = Connection::open(&path).ctx(&context)?;
        // WAL: readers do not block the writer, and a commit appends to one file instead of
        // rewriting pages in place.
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "wal", |row| row.get(0))
            .ctx(&context)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Unavailable(format!(
                "{context}: journal mode is {mode}, WAL is required"
            )));
        }
        // synchronous=NORMAL is SQLite's recommended setting for WAL. Every commit is atomic
        // and survives a crash of this process; the database can never be corrupted. What is
        // not fsynced per commit is the WAL: a power loss or kernel crash can lose the commits
        // since the last checkpoint, which the checkpoint thread runs every 200 ms. FULL would
        // add one fsync per commit (3-4 ms measured on this machine's disk), several times the
        // whole budget of a commit at 2,000 events/s. The cost of that window: events
        // acknowledged in the last ~200 ms before a power loss are forgotten (the provider
        // will not resend them); every case that survives is re-evaluated by the sweep.
        conn.pragma_update(None, "synchronous", "NORMAL")
            .ctx(&context)?;
        // Commits never checkpoint: the checkpoint thread does (see `checkpoint`).
        conn.pragma_update(None, "wal_autocheckpoint", 0)
            .ctx(&context)?;
        let mut store = Self::configure(conn, Some(path.clone()))?;
        let checkpointer = Checkpointer::start(&path)?;
        store.checkpointer = Some(Arc::new(checkpointer));
        Ok(store)
    }

    /// A store that lives in memory only, for tests.
    pub fn in_memory() -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory().ctx("open in-memory database")?;
        Self::configure(conn, None)
    }

    /// The database file, `None` for an in-memory store.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn configure(mut conn: Connection, path: Option<PathBuf>) -> Result<Self, StoreError> {
        conn.busy_timeout(BUSY_TIMEOUT).ctx("set busy timeout")?;
        conn.pragma_update(None, "temp_store", "MEMORY")
            .ctx("set temp_store")?;
        // 16 MiB of page cache (the default is 2 MiB): the upper levels of every index stay
        // in memory as the database grows.
        conn.pragma_update(None, "cache_size", -16_384)
            .ctx("set cache_size")?;
        conn.set_prepared_statement_cache_capacity(32);
        schema::migrate(&mut conn)?;
        Ok(Self {
            worker: Worker::start(conn)?,
            path,
            checkpointer: None,
        })
    }

    /// Release every outbox lease. Leases belong to the process that took them, so a lease
    /// found when a server starts was held by a process that died before finishing; without
    /// this the item, and by the order per lane every later item of its lane, would wait for
    /// the lease to run out. Only the process that owns the data directory may call it (the
    /// local runtime holds an exclusive lock on the directory first).
    pub async fn release_stale_leases(&self) -> Result<usize, StoreError> {
        self.with_conn("release stale leases", |conn| {
            conn.execute(
                "UPDATE outbox SET lease_until = NULL \
                 WHERE state = 'pending' AND lease_until IS NOT NULL",
                [],
            )
            .ctx("release stale outbox leases")
        })
        .await
    }

    /// Deletes what only history needs from before `before`: applied event ids, timeline
    /// entries, and outbox items that reached a final state. Cases and pending outbox items
    /// are kept whatever their age.
    pub async fn prune(&self, before: Timestamp) -> Result<Pruned, StoreError> {
        let before = nanos(before);
        self.with_conn("prune", move |conn| {
            let events = conn
                .execute(
                    "DELETE FROM applied_events WHERE applied_at < ?1",
                    params![before],
                )
                .ctx("prune applied event ids")?;
            let timeline = conn
                .execute("DELETE FROM timeline WHERE at < ?1", params![before])
                .ctx("prune timeline entries")?;
            let outbox = conn
                .execute(
                    "DELETE FROM outbox WHERE state <> 'pending' AND created_at < ?1",
                    params![before],
                )
                .ctx("prune finished outbox items")?;
            let rejected = conn
                .execute(
                    "DELETE FROM rejected_events WHERE received_at < ?1",
                    params![before],
                )
                .ctx("prune rejected events")?;
            Ok(Pruned {
                events,
                timeline,
                outbox,
                rejected,
            })
        })
        .await
    }

    /// Run `op` on the store's thread, inside a transaction (see `worker`).
    async fn with_conn<T, F>(&self, op: &'static str, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.worker.run(op, f).await
    }
}

/// How many rows one [`SqliteStore::prune`] deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pruned {
    pub events: usize,
    pub timeline: usize,
    pub outbox: usize,
    /// Kept rejected events (`app::ports::RejectedEvent`).
    pub rejected: usize,
}

/// A [`CaseWrite`] with its JSON encoded, ready to be written under the lock.
struct EncodedWrite {
    id: CaseId,
    expected_version: Option<u64>,
    event_id: Option<String>,
    received: i64,
    next_due: Option<i64>,
    document: String,
    now: i64,
    /// `(at, entry JSON)`
    timeline: Vec<(i64, String)>,
    /// `(key, delivery lane, destination, effect JSON)`
    outbox: Vec<(String, String, &'static str, String)>,
}

impl EncodedWrite {
    fn new(write: CaseWrite) -> Result<Self, StoreError> {
        let id = write.case.id.clone();
        let timeline = write
            .timeline
            .iter()
            .map(|entry| {
                let json = stored::encode_timeline_entry(entry)
                    .map_err(|error| stored_error(&format!("timeline entry of {id}"), error))?;
                Ok((nanos(entry.at), json))
            })
            .collect::<Result<_, StoreError>>()?;
        let outbox = write
            .outbox
            .into_iter()
            .map(|item| {
                let lane = item.effect.delivery_lane(&id);
                let destination = Destination::of(&item.effect).as_str();
                let json = stored::encode_effect(&item.effect)
                    .map_err(|error| stored_error(&format!("outbox item {}", item.key), error))?;
                Ok((item.key, lane, destination, json))
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Self {
            expected_version: write.expected_version,
            event_id: write.event_id,
            received: nanos(write.case.request.received),
            next_due: write.case.next_due().map(nanos),
            document: stored::encode_case(&write.case)
                .map_err(|error| stored_error(&format!("case {id}"), error))?,
            now: nanos(write.now),
            timeline,
            outbox,
            id,
        })
    }

    fn apply(self, tx: &Connection) -> Result<u64, StoreError> {
        let id = self.id.as_str();
        // The event first: a duplicate is the final answer, a conflict would only be retried.
        if let Some(event_id) = &self.event_id {
            let seen = tx
                .prepare_cached("SELECT 1 FROM applied_events WHERE event_id = ?1")
                .ctx("commit: check event")?
                .exists([event_id])
                .ctx("commit: check event")?;
            if seen {
                return Err(StoreError::DuplicateEvent(event_id.clone()));
            }
        }
        let stored: Option<i64> = tx
            .prepare_cached("SELECT version FROM cases WHERE id = ?1")
            .ctx("commit: read version")?
            .query_row([id], |row| row.get(0))
            .optional()
            .ctx("commit: read version")?;
        let version = match (stored, self.expected_version) {
            (None, None) => {
                tx.prepare_cached(
                    "INSERT INTO cases (id, version, received, next_due, document) \
                     VALUES (?1, 1, ?2, ?3, ?4)",
                )
                .ctx("commit: insert case")?
                .execute(params![id, self.received, self.next_due, self.document])
                .ctx("commit: insert case")?;
                1
            }
            (Some(stored), Some(expected)) if u64::try_from(stored) == Ok(expected) => {
                tx.prepare_cached(
                    "UPDATE cases SET version = ?2, received = ?3, next_due = ?4, document = ?5 \
                     WHERE id = ?1",
                )
                .ctx("commit: update case")?
                .execute(params![
                    id,
                    stored.saturating_add(1),
                    self.received,
                    self.next_due,
                    self.document
                ])
                .ctx("commit: update case")?;
                expected + 1
            }
            _ => return Err(StoreError::Conflict(self.id)),
        };
        // A case that could be written again is no longer set aside.
        tx.prepare_cached("DELETE FROM quarantine WHERE case_id = ?1")
            .ctx("commit: end quarantine")?
            .execute([id])
            .ctx("commit: end quarantine")?;
        if let Some(event_id) = &self.event_id {
            tx.prepare_cached(
                "INSERT INTO applied_events (event_id, case_id, applied_at) VALUES (?1, ?2, ?3)",
            )
            .ctx("commit: record event")?
            .execute(params![event_id, id, self.now])
            .ctx("commit: record event")?;
        }
        if !self.timeline.is_empty() {
            let mut insert = tx
                .prepare_cached("INSERT INTO timeline (case_id, at, entry) VALUES (?1, ?2, ?3)")
                .ctx("commit: append timeline")?;
            for (at, entry) in &self.timeline {
                insert
                    .execute(params![id, at, entry])
                    .ctx("commit: append timeline")?;
            }
        }
        if !self.outbox.is_empty() {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO outbox (key, case_id, lane, destination, effect, created_at, \
                     state, attempts, next_attempt_at) \
                     VALUES (?1, ?2, ?3, ?6, ?4, ?5, 'pending', 0, ?5) \
                     ON CONFLICT (key) DO NOTHING",
                )
                .ctx("commit: add outbox item")?;
            for (key, lane, destination, effect) in &self.outbox {
                insert
                    .execute(params![key, id, lane, effect, self.now, destination])
                    .ctx("commit: add outbox item")?;
            }
        }
        Ok(version)
    }
}

/// A finished delivery ([`Finish`]) with its timeline entry encoded.
struct EncodedFinish {
    key: String,
    finish: Finish,
    /// The `Delivered` timeline entry, for a final outcome.
    entry: Option<(i64, String)>,
}

impl EncodedFinish {
    fn new(key: &str, outcome: DeliveryOutcome, now: Timestamp) -> Result<Self, StoreError> {
        let finish = Finish::of(key, outcome, now);
        let entry = finish
            .entry
            .as_ref()
            .map(|entry| {
                let json = stored::encode_timeline_entry(entry)
                    .map_err(|error| stored_error(&format!("delivery of {key}"), error))?;
                Ok::<_, StoreError>((nanos(entry.at), json))
            })
            .transpose()?;
        Ok(Self {
            key: key.to_owned(),
            finish,
            entry,
        })
    }

    fn apply(self, tx: &Connection) -> Result<(), StoreError> {
        let current: Option<(String, String)> = tx
            .prepare_cached("SELECT case_id, state FROM outbox WHERE key = ?1")
            .ctx("finish delivery: read item")?
            .query_row([&self.key], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()
            .ctx("finish delivery: read item")?;
        let Some((case_id, state)) = current else {
            tracing::warn!(key = %self.key, "finished delivery of an unknown outbox item");
            return Ok(());
        };
        if state != DeliveryState::Pending.as_str() {
            tracing::info!(key = %self.key, %state, "outbox item was final already; outcome ignored");
            return Ok(());
        }
        let Finish {
            state,
            attempts_added,
            recorded,
            next_attempt_at,
            ..
        } = &self.finish;
        let attempts = i64::from(*attempts_added);
        let updated = match (recorded, next_attempt_at) {
            // A retry stays pending, waiting until `next_attempt_at`.
            (Recorded::LastError(error), Some(retry_at)) if *state == DeliveryState::Pending => tx
                .prepare_cached(
                    "UPDATE outbox SET attempts = attempts + ?2, last_error = ?3, \
                     next_attempt_at = ?4, lease_until = NULL WHERE key = ?1",
                )
                .and_then(|mut update| {
                    update.execute(params![self.key, attempts, error, nanos(*retry_at)])
                }),
            (Recorded::LastError(error), _) => tx
                .prepare_cached(
                    "UPDATE outbox SET state = ?2, attempts = attempts + ?3, last_error = ?4, \
                     lease_until = NULL WHERE key = ?1",
                )
                .and_then(|mut update| {
                    update.execute(params![self.key, state.as_str(), attempts, error])
                }),
            (Recorded::Detail(detail), _) => tx
                .prepare_cached(
                    "UPDATE outbox SET state = ?2, attempts = attempts + ?3, detail = ?4, \
                     lease_until = NULL WHERE key = ?1",
                )
                .and_then(|mut update| {
                    update.execute(params![self.key, state.as_str(), attempts, detail])
                }),
        };
        updated.ctx("finish delivery: update item")?;
        if let Some((at, entry)) = &self.entry {
            tx.prepare_cached("INSERT INTO timeline (case_id, at, entry) VALUES (?1, ?2, ?3)")
                .ctx("finish delivery: append timeline")?
                .execute(params![case_id, at, entry])
                .ctx("finish delivery: append timeline")?;
        }
        Ok(())
    }
}

/// The claim query: pending, due, not leased, and no older pending item of the same lane.
macro_rules! claim_sql {
    ($case_filter:literal) => {
        concat!(
            "SELECT o.seq, o.key, o.case_id, o.effect, o.created_at, o.state, o.attempts, \
             o.next_attempt_at, o.last_error, o.detail FROM outbox AS o \
             WHERE o.state = 'pending' ",
            $case_filter,
            " AND o.next_attempt_at <= ?1 \
             AND (o.lease_until IS NULL OR o.lease_until <= ?1) \
             AND NOT EXISTS (SELECT 1 FROM outbox AS p \
                 WHERE p.lane = o.lane AND p.seq < o.seq AND p.state = 'pending') \
             ORDER BY o.seq LIMIT ?2"
        )
    };
}

const CLAIM_ALL: &str = claim_sql!("");
const CLAIM_CASE: &str = claim_sql!("AND o.case_id = ?3");
const CLAIM_DESTINATION: &str = claim_sql!("AND o.destination = ?3");

/// Which items a claim considers.
enum ClaimFilter {
    All,
    Case(String),
    Destination(&'static str),
}

fn claim(
    tx: &Connection,
    now: i64,
    lease_until: i64,
    limit: i64,
    filter: &ClaimFilter,
) -> Result<Vec<OutboxRow>, StoreError> {
    let claimed = {
        let read =
            |row: &rusqlite::Row<'_>| Ok((row.get::<_, i64>(0)?, OutboxRow::from_row(row, 1)?));
        let rows: Vec<(i64, OutboxRow)> = match filter {
            ClaimFilter::All => tx
                .prepare_cached(CLAIM_ALL)
                .ctx("claim outbox")?
                .query_map(params![now, limit], read)
                .ctx("claim outbox")?
                .collect::<rusqlite::Result<_>>(),
            ClaimFilter::Case(case) => tx
                .prepare_cached(CLAIM_CASE)
                .ctx("claim outbox")?
                .query_map(params![now, limit, case], read)
                .ctx("claim outbox")?
                .collect::<rusqlite::Result<_>>(),
            ClaimFilter::Destination(destination) => tx
                .prepare_cached(CLAIM_DESTINATION)
                .ctx("claim outbox")?
                .query_map(params![now, limit, destination], read)
                .ctx("claim outbox")?
                .collect::<rusqlite::Result<_>>(),
        }
        .ctx("claim outbox")?;
        if !rows.is_empty() {
            let mut lease = tx
                .prepare_cached("UPDATE outbox SET lease_until = ?2 WHERE seq = ?1")
                .ctx("claim outbox: lease")?;
            for (seq, _) in &rows {
                lease
                    .execute(params![seq, lease_until])
                    .ctx("claim outbox: lease")?;
            }
        }
        rows.into_iter().map(|(_, row)| row).collect()
    };
    Ok(claimed)
}

/// `now + lease` in stored nanoseconds, saturating.
fn lease_until(now: Timestamp, lease: Duration) -> i64 {
    let lease_nanos = i64::try_from(lease.as_nanos()).unwrap_or(i64::MAX);
    nanos(now).saturating_add(lease_nanos)
}

impl SqliteStore {
    async fn claim_where(
        &self,
        now: Timestamp,
        lease: Duration,
        limit: usize,
        filter: ClaimFilter,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let (until, now, limit) = (lease_until(now, lease), nanos(now), sql_int(limit));
        let rows = self
            .with_conn("claim_outbox", move |conn| {
                claim(conn, now, until, limit, &filter)
            })
            .await?;
        rows.into_iter().map(OutboxRow::decode).collect()
    }
}

impl CaseStore for SqliteStore {
    async fn load(&self, id: &CaseId) -> Result<Option<StoredCase>, StoreError> {
        let key = id.as_str().to_owned();
        let row = self
            .with_conn("load", move |conn| {
                conn.prepare_cached("SELECT id, version, document FROM cases WHERE id = ?1")
                    .ctx("load case")?
                    .query_row([&key], |row| {
                        Ok(CaseRow {
                            id: row.get(0)?,
                            version: row.get(1)?,
                            document: row.get(2)?,
                        })
                    })
                    .optional()
                    .ctx("load case")
            })
            .await?;
        row.map(CaseRow::decode).transpose()
    }

    async fn commit(&self, write: CaseWrite) -> Result<u64, StoreError> {
        let write = EncodedWrite::new(write)?;
        self.with_conn("commit", move |conn| write.apply(conn))
            .await
    }

    async fn due_cases(&self, now: Timestamp, limit: usize) -> Result<Vec<CaseId>, StoreError> {
        let (now, limit) = (nanos(now), sql_int(limit));
        let rows: Vec<String> = self
            .with_conn("due_cases", move |conn| {
                conn.prepare_cached(
                    "SELECT id FROM cases WHERE next_due <= ?1 ORDER BY next_due, id LIMIT ?2",
                )
                .ctx("find due cases")?
                .query_map([now, limit], |row| row.get(0))
                .ctx("find due cases")?
                .collect::<rusqlite::Result<_>>()
                .ctx("find due cases")
            })
            .await?;
        rows.iter().map(|id| case_id(id)).collect()
    }

    async fn next_due(&self) -> Result<Option<Timestamp>, StoreError> {
        let min: Option<i64> = self
            .with_conn("next_due", |conn| {
                conn.prepare_cached("SELECT min(next_due) FROM cases WHERE next_due IS NOT NULL")
                    .ctx("find next due")?
                    .query_row([], |row| row.get(0))
                    .ctx("find next due")
            })
            .await?;
        min.map(instant).transpose()
    }

    async fn claim_outbox(
        &self,
        now: Timestamp,
        lease: Duration,
        limit: usize,
        case: Option<&CaseId>,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let filter = match case {
            Some(id) => ClaimFilter::Case(id.as_str().to_owned()),
            None => ClaimFilter::All,
        };
        self.claim_where(now, lease, limit, filter).await
    }

    async fn claim_destination(
        &self,
        now: Timestamp,
        lease: Duration,
        destination: Destination,
        limit: usize,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        self.claim_where(
            now,
            lease,
            limit,
            ClaimFilter::Destination(destination.as_str()),
        )
        .await
    }

    async fn renew_lease(
        &self,
        key: &str,
        now: Timestamp,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        let until = lease_until(now, lease);
        let key = key.to_owned();
        let renewed = self
            .with_conn("renew_lease", move |conn| {
                conn.prepare_cached(
                    "UPDATE outbox SET lease_until = ?2 \
                     WHERE key = ?1 AND state = 'pending' AND lease_until IS NOT NULL",
                )
                .ctx("renew outbox lease")?
                .execute(params![key, until])
                .ctx("renew outbox lease")
            })
            .await?;
        Ok(renewed > 0)
    }

    async fn finish_delivery(
        &self,
        key: &str,
        outcome: DeliveryOutcome,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let finish = EncodedFinish::new(key, outcome, now)?;
        self.with_conn("finish_delivery", move |conn| finish.apply(conn))
            .await
    }

    async fn quarantine(&self, entry: Quarantine) -> Result<(), StoreError> {
        let id = entry.case_id.as_str().to_owned();
        let (until, since) = (nanos(entry.until), nanos(entry.since));
        let failures = i64::from(entry.failures);
        let reason = entry.reason;
        self.with_conn("quarantine", move |conn| {
            conn.prepare_cached(
                "INSERT INTO quarantine (case_id, failures, until, since, reason) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (case_id) DO UPDATE SET \
                 failures = excluded.failures, until = excluded.until, \
                 since = excluded.since, reason = excluded.reason",
            )
            .ctx("quarantine a case")?
            .execute(params![id, failures, until, since, reason])
            .ctx("quarantine a case")?;
            // Not due before `until`: the column alone, the document may be unreadable.
            conn.prepare_cached(
                "UPDATE cases SET next_due = ?2 \
                 WHERE id = ?1 AND next_due IS NOT NULL AND next_due < ?2",
            )
            .ctx("quarantine a case")?
            .execute(params![id, until])
            .ctx("quarantine a case")?;
            Ok(())
        })
        .await
    }

    async fn keep_rejected(&self, event: RejectedEvent) -> Result<(), StoreError> {
        self.keep_rejected_event(event).await
    }

    async fn quarantined(&self, case: &CaseId) -> Result<Option<Quarantine>, StoreError> {
        let id = case.as_str().to_owned();
        let row = self
            .with_conn("quarantined", move |conn| {
                conn.prepare_cached(&format!(
                    "SELECT {QUARANTINE_COLUMNS} FROM quarantine WHERE case_id = ?1"
                ))
                .ctx("read quarantine")?
                .query_row([&id], QuarantineRow::read)
                .optional()
                .ctx("read quarantine")
            })
            .await?;
        row.map(QuarantineRow::decode).transpose()
    }
}

const QUARANTINE_COLUMNS: &str = "case_id, failures, until, since, reason";

/// A `quarantine` row as read.
struct QuarantineRow {
    case_id: String,
    failures: i64,
    until: i64,
    since: i64,
    reason: String,
}

impl QuarantineRow {
    fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            case_id: row.get(0)?,
            failures: row.get(1)?,
            until: row.get(2)?,
            since: row.get(3)?,
            reason: row.get(4)?,
        })
    }

    fn decode(self) -> Result<Quarantine, StoreError> {
        Ok(Quarantine {
            case_id: case_id(&self.case_id)?,
            failures: u32::try_from(self.failures).map_err(|_| {
                StoreError::Corrupt(format!(
                    "quarantine of {}: {} failures",
                    self.case_id, self.failures
                ))
            })?,
            until: instant(self.until)?,
            since: instant(self.since)?,
            reason: self.reason,
        })
    }
}

/// Decode many case documents (a month of cases) on the blocking pool, one chunk per core, in
/// order: decoding the JSON is most of a month's read, and it must neither hold the store's
/// thread (writes wait there) nor an async worker.
async fn decode_in_parallel(mut rows: Vec<CaseRow>) -> Result<Vec<StoredCase>, StoreError> {
    const SMALL: usize = 2048;
    if rows.len() <= SMALL {
        return rows.into_iter().map(CaseRow::decode).collect();
    }
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let per_chunk = rows.len().div_ceil(cores.max(1)).max(SMALL);
    let total = rows.len();
    let mut chunks = Vec::new();
    while !rows.is_empty() {
        let rest = rows.split_off(per_chunk.min(rows.len()));
        let chunk = std::mem::replace(&mut rows, rest);
        chunks.push(tokio::task::spawn_blocking(move || {
            chunk
                .into_iter()
                .map(CaseRow::decode)
                .collect::<Result<Vec<_>, _>>()
        }));
    }
    let mut cases = Vec::with_capacity(total);
    for chunk in chunks {
        let decoded = chunk
            .await
            .map_err(|error| StoreError::Unavailable(format!("decoding cases: {error}")))??;
        cases.extend(decoded);
    }
    Ok(cases)
}

impl CaseReader for SqliteStore {
    async fn timeline(&self, id: &CaseId) -> Result<Vec<TimelineEntry>, StoreError> {
        let key = id.as_str().to_owned();
        let rows: Vec<String> = self
            .with_conn("timeline", move |conn| {
                conn.prepare_cached("SELECT entry FROM timeline WHERE case_id = ?1 ORDER BY seq")
                    .ctx("read timeline")?
                    .query_map([&key], |row| row.get(0))
                    .ctx("read timeline")?
                    .collect::<rusqlite::Result<_>>()
                    .ctx("read timeline")
            })
            .await?;
        rows.iter()
            .map(|entry| {
                stored::decode_timeline_entry(entry)
                    .map_err(|error| stored_error(&format!("timeline entry of {id}"), error))
            })
            .collect()
    }

    async fn list_cases(&self, limit: usize) -> Result<Vec<StoredCase>, StoreError> {
        let limit = sql_int(limit);
        let rows: Vec<CaseRow> = self
            .with_conn("list_cases", move |conn| {
                conn.prepare_cached(
                    "SELECT id, version, document FROM cases \
                     ORDER BY received DESC, id DESC LIMIT ?1",
                )
                .ctx("list cases")?
                .query_map([limit], |row| {
                    Ok(CaseRow {
                        id: row.get(0)?,
                        version: row.get(1)?,
                        document: row.get(2)?,
                    })
                })
                .ctx("list cases")?
                .collect::<rusqlite::Result<_>>()
                .ctx("list cases")
            })
            .await?;
        rows.into_iter().map(CaseRow::decode).collect()
    }

    async fn rejected_events(&self, limit: usize) -> Result<Vec<RejectedEvent>, StoreError> {
        self.list_rejected_events(limit).await
    }

    async fn quarantined_cases(&self, limit: usize) -> Result<Vec<Quarantine>, StoreError> {
        let limit = sql_int(limit);
        let rows: Vec<QuarantineRow> = self
            .with_conn("quarantined_cases", move |conn| {
                conn.prepare_cached(&format!(
                    "SELECT {QUARANTINE_COLUMNS} FROM quarantine \
                     ORDER BY until, case_id LIMIT ?1"
                ))
                .ctx("list quarantined cases")?
                .query_map([limit], QuarantineRow::read)
                .ctx("list quarantined cases")?
                .collect::<rusqlite::Result<_>>()
                .ctx("list quarantined cases")
            })
            .await?;
        rows.into_iter().map(QuarantineRow::decode).collect()
    }

    async fn list_cases_page(
        &self,
        cursor: Option<&CaseCursor>,
        limit: usize,
    ) -> Result<CasePage, StoreError> {
        if limit == 0 {
            return Ok(CasePage {
                cases: Vec::new(),
                next: None,
            });
        }
        let one_more = sql_int(limit.saturating_add(1));
        let after = cursor.map(|c| (nanos(c.received), c.id.as_str().to_owned()));
        let rows: Vec<CaseRow> = self
            .with_conn("list_cases_page", move |conn| {
                let read = |row: &rusqlite::Row<'_>| {
                    Ok(CaseRow {
                        id: row.get(0)?,
                        version: row.get(1)?,
                        document: row.get(2)?,
                    })
                };
                match &after {
                    None => conn
                        .prepare_cached(
                            "SELECT id, version, document FROM cases \
                             ORDER BY received DESC, id DESC LIMIT ?1",
                        )
                        .ctx("list cases")?
                        .query_map(params![one_more], read)
                        .ctx("list cases")?
                        .collect::<rusqlite::Result<_>>(),
                    Some((received, id)) => conn
                        .prepare_cached(
                            "SELECT id, version, document FROM cases \
                             WHERE received < ?1 OR (received = ?1 AND id < ?2) \
                             ORDER BY received DESC, id DESC LIMIT ?3",
                        )
                        .ctx("list cases")?
                        .query_map(params![received, id, one_more], read)
                        .ctx("list cases")?
                        .collect::<rusqlite::Result<_>>(),
                }
                .ctx("list cases")
            })
            .await?;
        let cases = rows
            .into_iter()
            .map(CaseRow::decode)
            .collect::<Result<_, _>>()?;
        Ok(CasePage::from_one_more(cases, limit))
    }

    async fn cases_received_between(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<StoredCase>, StoreError> {
        let (from, to) = (nanos(from), nanos(to));
        // `cases_by_received (received, id)` serves the range and the order.
        let rows: Vec<CaseRow> = self
            .with_conn("cases_received_between", move |conn| {
                conn.prepare_cached(
                    "SELECT id, version, document FROM cases \
                     WHERE received >= ?1 AND received < ?2 ORDER BY received, id",
                )
                .ctx("list cases received between")?
                .query_map([from, to], |row| {
                    Ok(CaseRow {
                        id: row.get(0)?,
                        version: row.get(1)?,
                        document: row.get(2)?,
                    })
                })
                .ctx("list cases received between")?
                .collect::<rusqlite::Result<_>>()
                .ctx("list cases received between")
            })
            .await?;
        decode_in_parallel(rows).await
    }

    async fn outbox_of(&self, case: &CaseId) -> Result<Vec<OutboxItem>, StoreError> {
        let key = case.as_str().to_owned();
        let rows: Vec<OutboxRow> = self
            .with_conn("outbox_of", move |conn| {
                conn.prepare_cached(&format!(
                    "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE case_id = ?1 ORDER BY seq"
                ))
                .ctx("read outbox")?
                .query_map([&key], |row| OutboxRow::from_row(row, 0))
                .ctx("read outbox")?
                .collect::<rusqlite::Result<_>>()
                .ctx("read outbox")
            })
            .await?;
        rows.into_iter().map(OutboxRow::decode).collect()
    }
}
