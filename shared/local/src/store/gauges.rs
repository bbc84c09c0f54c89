//! The counts behind the metrics' gauges (`app::ports::GaugeReader`): pending outbox items
//! per destination through the pending-by-destination index, quarantined cases, and open
//! cases per plan. The last reads every case document, so the exporter reads the gauges at
//! most once per cache interval whatever the scrape rate (`api::PrometheusMetrics`).

use super::SqliteStore;
use super::codec::{SqlContext, corrupt, instant};
use app::ports::{Destination, GaugeReader, StoreError, StoreGauges};
use domain::policy::Plan;

impl GaugeReader for SqliteStore {
    async fn gauges(&self) -> Result<StoreGauges, StoreError> {
        type Rows = (Vec<(String, i64, i64)>, Vec<(String, i64)>, i64);
        let (outbox, open, quarantined): Rows = self
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
                let open = conn
                    .prepare_cached(
                        "SELECT json_extract(document, '$.plan'), count(*) FROM cases \
                         WHERE json_extract(document, '$.status') = 'open' GROUP BY 1",
                    )
                    .ctx("count open cases")?
                    .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
                    .ctx("count open cases")?
                    .collect::<rusqlite::Result<Vec<_>>>()
                    .ctx("count open cases")?;
                let quarantined = conn
                    .query_row("SELECT count(*) FROM quarantine", [], |row| row.get(0))
                    .ctx("count quarantined cases")?;
                Ok((outbox, open, quarantined))
            })
            .await?;
        let mut gauges = StoreGauges {
            quarantined: count(quarantined),
            ..StoreGauges::default()
        };
        for (destination, pending, oldest) in outbox {
            let destination = Destination::parse(&destination)
                .ok_or_else(|| corrupt(format!("unknown outbox destination {destination:?}")))?;
            gauges.outbox_pending.push((destination, count(pending)));
            let oldest = instant(oldest)?;
            gauges.oldest_pending = Some(gauges.oldest_pending.map_or(oldest, |o| o.min(oldest)));
        }
        for (plan, cases) in open {
            let plan: Plan = plan
                .parse()
                .map_err(|_| corrupt(format!("unknown plan {plan:?} in a stored case")))?;
            gauges.open_cases.push((plan, count(cases)));
        }
        Ok(gauges)
    }
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
