//! The counts behind the metrics' gauges (`app::ports::GaugeReader`): pending outbox items
//! per destination through the pending-by-destination index, quarantined cases, and open
//! cases per plan.
//!
//! Open cases are counted over the case documents (status and plan live only there). In one
//! statement that took 0.35 s for 100,000 cases of about 1 KB (measured with SQLite 3.40 on the
//! development machine), and the store's one connection commits nothing meanwhile; so the
//! documents are read in chunks of [`CHUNK`] cases by primary key, each its own store
//! operation, and commits go on between them. The exporter reads the gauges at most once per
//! 15 s whatever the scrape rate.

use super::SqliteStore;
use super::codec::{SqlContext, corrupt, instant, sql_int};
use app::ports::{Destination, GaugeReader, StoreError, StoreGauges};
use domain::policy::Plan;

/// Cases read per store operation while counting open cases: a twentieth of the 0.35 s above.
const CHUNK: usize = 5_000;

impl GaugeReader for SqliteStore {
    async fn gauges(&self) -> Result<StoreGauges, StoreError> {
        type Rows = (Vec<(String, i64, i64)>, i64);
        let (outbox, quarantined): Rows = self
            .with_conn("gauges", |conn| {
                let outbox = conn
                    .prepare_cached(
                        "SELECT destination, count(*), min(created_at) FROM outbox \
                         WHERE state = 'pending' GROUP BY destination",
                    )
                    .ctx("count pending outbox items")?
                    .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                    .ctx("count pending outbox items")?
                    .collect::<rusqlite::Result<Vec<_>>>()
                    .ctx("count pending outbox items")?;
                let quarantined = conn
                    .query_row("SELECT count(*) FROM quarantine", [], |row| row.get(0))
                    .ctx("count quarantined cases")?;
                Ok((outbox, quarantined))
            })
            .await?;
        let mut gauges = StoreGauges {
            quarantined: count(quarantined),
            open_cases: self.open_cases(CHUNK).await?,
            ..StoreGauges::default()
        };
        for (destination, pending, oldest) in outbox {
            let destination = Destination::parse(&destination)
                .ok_or_else(|| corrupt(format!("unknown outbox destination {destination:?}")))?;
            gauges.outbox_pending.push((destination, count(pending)));
            let oldest = instant(oldest)?;
            gauges.oldest_pending = Some(gauges.oldest_pending.map_or(oldest, |o| o.min(oldest)));
        }
        Ok(gauges)
    }
}

impl SqliteStore {
    /// Open cases per plan, reading `chunk` cases per store operation.
    pub(crate) async fn open_cases(&self, chunk: usize) -> Result<Vec<(Plan, u64)>, StoreError> {
        let mut counts: Vec<(Plan, u64)> = Vec::new();
        let mut after = String::new();
        loop {
            let from = after.clone();
            let limit = sql_int(chunk.max(1));
            // (last id read, plans of the open cases among them)
            let (last, plans): (Option<String>, Vec<String>) = self
                .with_conn("gauges: open cases", move |conn| {
                    let rows = conn
                        .prepare_cached(
                            "SELECT id, json_extract(document, '$.status') = 'open', \
                             json_extract(document, '$.plan') FROM cases \
                             WHERE id > ?1 ORDER BY id LIMIT ?2",
                        )
                        .ctx("count open cases")?
                        .query_map(rusqlite::params![from, limit], |row| {
                            Ok((
                                row.get::<_, String>(0)?,
                                row.get::<_, bool>(1)?,
                                row.get::<_, String>(2)?,
                            ))
                        })
                        .ctx("count open cases")?
                        .collect::<rusqlite::Result<Vec<_>>>()
                        .ctx("count open cases")?;
                    let last = rows.last().map(|(id, _, _)| id.clone());
                    let plans = rows
                        .into_iter()
                        .filter(|(_, open, _)| *open)
                        .map(|(_, _, plan)| plan)
                        .collect();
                    Ok((last, plans))
                })
                .await?;
            for plan in plans {
                let plan: Plan = plan
                    .parse()
                    .map_err(|_| corrupt(format!("unknown plan {plan:?} in a stored case")))?;
                match counts.iter_mut().find(|(p, _)| *p == plan) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((plan, 1)),
                }
            }
            match last {
                Some(last) => after = last,
                None => return Ok(counts),
            }
        }
    }
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::ports::{CaseStore, CaseWrite};
    use domain::case::Status;
    use store_contract::{at, sample_case};

    #[tokio::test]
    async fn open_cases_are_counted_alike_in_chunks_of_any_size() {
        let store = SqliteStore::in_memory().unwrap();
        for n in 0..7 {
            let mut case = sample_case(&format!("zendesk-{n}"), at(n));
            if n % 3 == 0 {
                case.request.plan = Plan::Standard;
            }
            if n == 6 {
                case.status = Status::Solved;
            }
            store
                .commit(CaseWrite {
                    case,
                    expected_version: None,
                    event_id: None,
                    timeline: Vec::new(),
                    outbox: Vec::new(),
                    now: at(n),
                })
                .await
                .unwrap();
        }
        for chunk in [1, 2, 3, 7, 100] {
            let mut counts = store.open_cases(chunk).await.unwrap();
            counts.sort_by_key(|(plan, _)| plan.as_str());
            assert_eq!(
                counts,
                [(Plan::Standard, 2), (Plan::Enterprise, 4)],
                "chunk {chunk}"
            );
        }
    }
}
