//! The database schema and its migrations, versioned with SQLite's `user_version` pragma.
//!
//! Instants are stored as `INTEGER` nanoseconds since the Unix epoch (see [`super::codec`]),
//! so that they compare and sort as numbers. Documents (the case, an effect, a timeline entry)
//! are the serde JSON of the domain and port types.

use super::codec::{SqlContext, corrupt};
use app::ports::StoreError;
use rusqlite::{Connection, TransactionBehavior};

/// Each entry migrates from version `index` to `index + 1`. Append only: a released migration
/// is never edited.
const MIGRATIONS: &[&str] = &[
    // 0 -> 1: the first schema.
    r"
    CREATE TABLE cases (
        id        TEXT PRIMARY KEY NOT NULL,
        version   INTEGER NOT NULL,
        received  INTEGER NOT NULL,
        -- Case::next_due(); NULL when the case has no timers (never due).
        next_due  INTEGER,
        document  TEXT NOT NULL
    );
    CREATE INDEX cases_by_received ON cases (received, id);
    CREATE INDEX cases_by_next_due ON cases (next_due, id) WHERE next_due IS NOT NULL;

    CREATE TABLE applied_events (
        event_id    TEXT PRIMARY KEY NOT NULL,
        case_id     TEXT NOT NULL,
        applied_at  INTEGER NOT NULL
    ) WITHOUT ROWID;

    -- seq is the rowid: rows are never deleted from the end, so it only grows (the
    -- AUTOINCREMENT keyword would add a write to sqlite_sequence per row for nothing).
    CREATE TABLE timeline (
        seq      INTEGER PRIMARY KEY,
        case_id  TEXT NOT NULL,
        at       INTEGER NOT NULL,
        entry    TEXT NOT NULL
    );
    CREATE INDEX timeline_by_case ON timeline (case_id, seq);

    -- The idempotency key is the logical primary key (UNIQUE); seq orders the items.
    CREATE TABLE outbox (
        seq              INTEGER PRIMARY KEY,
        key              TEXT NOT NULL UNIQUE,
        case_id          TEXT NOT NULL,
        effect           TEXT NOT NULL,
        created_at       INTEGER NOT NULL,
        state            TEXT NOT NULL,
        attempts         INTEGER NOT NULL,
        next_attempt_at  INTEGER NOT NULL,
        lease_until      INTEGER,
        last_error       TEXT,
        detail           TEXT
    );
    CREATE INDEX outbox_by_case ON outbox (case_id, seq);
    -- What claim_outbox scans: pending items only, oldest first.
    CREATE INDEX outbox_pending ON outbox (seq) WHERE state = 'pending';
    ",
    // 1 -> 2: outbox order per delivery lane (`Effect::delivery_lane`) instead of per case.
    // Items written before keep the case as their lane, so they keep the order they had.
    r"
    ALTER TABLE outbox ADD COLUMN lane TEXT NOT NULL DEFAULT '';
    UPDATE outbox SET lane = case_id;
    CREATE INDEX outbox_pending_by_lane ON outbox (lane, seq) WHERE state = 'pending';
    ",
    // 2 -> 3: each destination's delivery workers claim their own items
    // (`app::ports::Destination`); items written before get theirs from the effect's tag.
    // Quarantined cases (`app::ports::Quarantine`).
    r"
    ALTER TABLE outbox ADD COLUMN destination TEXT NOT NULL DEFAULT '';
    UPDATE outbox SET destination = CASE json_extract(effect, '$.effect')
        WHEN 'page' THEN 'pagerduty'
        WHEN 'resolve_page' THEN 'pagerduty'
        WHEN 'notify_slack' THEN 'slack'
        WHEN 'send_email' THEN 'email'
        WHEN 'open_ticket' THEN 'tickets'
        WHEN 'reply_in_chat' THEN 'chat'
        ELSE '' END;
    CREATE INDEX outbox_pending_by_destination ON outbox (destination, seq)
        WHERE state = 'pending';

    -- Cases the sweep could not load or decide, set aside until `until` (their next_due is
    -- moved there too); a successful commit of the case deletes its row.
    CREATE TABLE quarantine (
        case_id   TEXT PRIMARY KEY NOT NULL,
        failures  INTEGER NOT NULL,
        until     INTEGER NOT NULL,
        since     INTEGER NOT NULL,
        reason    TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX quarantine_by_until ON quarantine (until, case_id);
    ",
    // 3 -> 4: events that can never be decided, kept for an operator
    // (`app::ports::RejectedEvent`), pruned with the rest of the history.
    r"
    CREATE TABLE rejected_events (
        provider     TEXT NOT NULL,
        event_id     TEXT NOT NULL,
        case_id      TEXT NOT NULL,
        reason       TEXT NOT NULL,
        received_at  INTEGER NOT NULL,
        body         TEXT NOT NULL,
        PRIMARY KEY (provider, event_id)
    ) WITHOUT ROWID;
    CREATE INDEX rejected_events_by_received ON rejected_events (received_at, provider, event_id);
    ",
];

/// The schema version this code writes.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// Bring the database to [`SCHEMA_VERSION`]; safe to run on every open, and by several
/// processes at once (the migration runs in one `IMMEDIATE` transaction).
pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .ctx("begin migration")?;
    let found: i64 = tx
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .ctx("read schema version")?;
    let found =
        usize::try_from(found).map_err(|_| corrupt(format!("negative schema version {found}")))?;
    if found > SCHEMA_VERSION {
        return Err(corrupt(format!(
            "the database has schema version {found}, newer than this program's \
             {SCHEMA_VERSION}: upgrade the program"
        )));
    }
    for (from, sql) in MIGRATIONS.iter().enumerate().skip(found) {
        tx.execute_batch(sql)
            .ctx(&format!("migrate schema {from} -> {}", from + 1))?;
    }
    if found < SCHEMA_VERSION {
        tx.pragma_update(None, "user_version", SCHEMA_VERSION as i64)
            .ctx("write schema version")?;
        tracing::info!(
            from = found,
            to = SCHEMA_VERSION,
            "case store schema migrated"
        );
    }
    tx.commit().ctx("commit migration")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbox_items_of_schema_1_keep_their_case_as_lane_after_the_migration() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.execute_batch(
            "INSERT INTO outbox (key, case_id, effect, created_at, state, attempts, \
             next_attempt_at) VALUES ('zendesk-1/slack/new_chat', 'zendesk-1', '{}', 0, \
             'pending', 0, 0); PRAGMA user_version = 1;",
        )
        .unwrap();

        migrate(&mut conn).unwrap();

        let lane: String = conn
            .query_row("SELECT lane FROM outbox", [], |row| row.get(0))
            .unwrap();
        assert_eq!(lane, "zendesk-1");
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION as i64);
    }

    #[test]
    fn outbox_items_of_schema_2_get_their_destination_from_the_effect() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.execute_batch(MIGRATIONS[1]).unwrap();
        for (key, tag) in [
            ("a", "page"),
            ("b", "resolve_page"),
            ("c", "notify_slack"),
            ("d", "send_email"),
        ] {
            conn.execute(
                "INSERT INTO outbox (key, case_id, lane, effect, created_at, state, attempts, \
                 next_attempt_at) VALUES (?1, 'zendesk-1', ?1, ?2, 0, 'pending', 0, 0)",
                [key, &format!(r#"{{"effect":"{tag}"}}"#)],
            )
            .unwrap();
        }
        conn.execute_batch("PRAGMA user_version = 2;").unwrap();

        migrate(&mut conn).unwrap();

        let destinations: Vec<String> = conn
            .prepare("SELECT destination FROM outbox ORDER BY key")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(destinations, ["pagerduty", "pagerduty", "slack", "email"]);
    }
}
