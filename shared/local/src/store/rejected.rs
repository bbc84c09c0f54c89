//! Rejected events (`app::ports::RejectedEvent`): one row per provider and event id, listed
//! the most recently received first, pruned with the history (`SqliteStore::prune`).

use super::SqliteStore;
use super::codec::{SqlContext, instant, nanos, sql_int};
use app::ports::{RejectedEvent, StoreError};
use rusqlite::params;

impl SqliteStore {
    pub(super) async fn keep_rejected_event(&self, event: RejectedEvent) -> Result<(), StoreError> {
        let received_at = nanos(event.received_at);
        self.with_conn("keep_rejected", move |conn| {
            conn.prepare_cached(
                "INSERT OR REPLACE INTO rejected_events \
                 (provider, event_id, case_id, reason, received_at, body) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .ctx("keep a rejected event")?
            .execute(params![
                event.provider,
                event.event_id,
                event.case_id,
                event.reason,
                received_at,
                event.body
            ])
            .ctx("keep a rejected event")?;
            Ok(())
        })
        .await
    }

    pub(super) async fn list_rejected_events(
        &self,
        limit: usize,
    ) -> Result<Vec<RejectedEvent>, StoreError> {
        let limit = sql_int(limit);
        let rows: Vec<(String, String, String, String, i64, String)> = self
            .with_conn("rejected_events", move |conn| {
                conn.prepare_cached(
                    "SELECT provider, event_id, case_id, reason, received_at, body \
                     FROM rejected_events \
                     ORDER BY received_at DESC, provider DESC, event_id DESC LIMIT ?1",
                )
                .ctx("list rejected events")?
                .query_map([limit], |row| {
                    Ok((
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                        row.get(5)?,
                    ))
                })
                .ctx("list rejected events")?
                .collect::<rusqlite::Result<_>>()
                .ctx("list rejected events")
            })
            .await?;
        rows.into_iter()
            .map(|(provider, event_id, case_id, reason, received_at, body)| {
                Ok(RejectedEvent {
                    provider,
                    event_id,
                    case_id,
                    reason,
                    received_at: instant(received_at)?,
                    body,
                })
            })
            .collect()
    }
}
