//! Checkpoints off the commit path.
//!
//! In WAL mode a commit appends pages to the `-wal` file; a checkpoint copies them back into the
//! database and fsyncs it. SQLite's default runs a checkpoint inside whichever commit crosses
//! 1,000 WAL pages: that commit then pays for copying ~60 commits' pages and two fsyncs, while
//! every other operation waits for it (measured: 40 % of the average commit cost). Here the store's connection never checkpoints;
//! this thread does, on a connection of its own, every [`INTERVAL`]. A `PASSIVE` checkpoint
//! runs concurrently with commits (it never takes the write lock) and writes each page once,
//! however often it changed since the last one.
//!
//! SQLite starts writing the WAL from its beginning again only after a checkpoint caught up
//! with every frame, which a passive checkpoint never does while commits keep coming. So when
//! the WAL holds more than [`RESTART_FRAMES`] after a passive round, the thread runs a
//! `RESTART` checkpoint: it waits for the commit in progress, holds new commits back (they wait
//! in their busy handler, a few milliseconds) while it copies what the passive round left, and
//! lets the next commit write from the start of the file again. That bounds the WAL file.
//! (`RESTART` rather than `TRUNCATE`: rewriting blocks the file has is cheaper than growing it.)

use super::codec::SqlContext;
use app::ports::StoreError;
use rusqlite::Connection;
use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the WAL is checkpointed.
const INTERVAL: Duration = Duration::from_millis(200);

/// WAL length (in pages of 4 KiB) above which the checkpoint holds commits back to finish:
/// 32 MiB, a few seconds of commits at full load.
const RESTART_FRAMES: i64 = 8_192;

/// How long a restarting checkpoint waits for a commit in progress.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The checkpoint thread of one store. Dropping it stops the thread.
#[derive(Debug)]
pub(super) struct Checkpointer {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Start checkpointing the database at `path` (already in WAL mode).
    pub(super) fn start(path: &Path) -> Result<Self, StoreError> {
        let context = format!("open checkpoint connection to {}", path.display());
        let conn = Connection::open(path).ctx(&context)?;
        conn.busy_timeout(BUSY_TIMEOUT).ctx(&context)?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                // Until the store is dropped (the sender disconnects).
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
                    checkpoint(&conn);
                }
            })
            .map_err(|error| {
                StoreError::Unavailable(format!("cannot start the checkpoint thread: {error}"))
            })?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            // Wakes at once; at worst it finishes the checkpoint it is running.
            let _ = thread.join();
        }
    }
}

/// Run one round; errors are logged (the next round tries again, and commits go on).
fn checkpoint(conn: &Connection) {
    let passive = run(conn, "PRAGMA wal_checkpoint(PASSIVE)");
    match passive {
        Ok((_, wal_frames, _)) if wal_frames > RESTART_FRAMES => {
            if let Err(error) = run(conn, "PRAGMA wal_checkpoint(RESTART)") {
                tracing::warn!(%error, wal_frames, "restarting WAL checkpoint failed");
            }
        }
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, "WAL checkpoint failed"),
    }
}

/// `(busy, frames in the WAL, frames checkpointed)`
fn run(conn: &Connection, sql: &str) -> rusqlite::Result<(i64, i64, i64)> {
    conn.query_row(sql, [], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
}
