//! The counts behind the metrics' gauges (`GaugeReader` of the SQLite store): pending outbox
//! items per destination and the oldest one, open cases per plan, quarantined cases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::ports::{CaseStore, DeliveryOutcome, Destination, GaugeReader, Quarantine};
use domain::case::{AlertKey, SlackKind, Status};
use domain::policy::Plan;
use local::store::SqliteStore;
use std::time::Duration;
use store_contract::{at, case_id, create, page, sample_case, slack};

#[tokio::test]
async fn the_gauges_count_pending_items_open_cases_and_quarantined_cases() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(store.gauges().await.unwrap(), Default::default());

    // An open Enterprise case with a page and a Slack message pending, decided at its receipt.
    let enterprise = sample_case("zendesk-1", at(0));
    let mut write = create(enterprise.clone());
    write.outbox = vec![
        page(&enterprise, AlertKey::Dispatch),
        slack(&enterprise, SlackKind::DispatchBreached),
    ];
    store.commit(write).await.unwrap();
    // An open and a solved Standard case, the open one with a Slack message already sent.
    let mut open = sample_case("zendesk-2", at(60));
    open.request.plan = Plan::Standard;
    let mut write = create(open.clone());
    let sent = slack(&open, SlackKind::NewChat);
    let sent_key = sent.key.clone();
    write.outbox = vec![sent];
    store.commit(write).await.unwrap();
    let claimed = store
        .claim_destination(at(61), Duration::from_secs(60), Destination::Slack, 10)
        .await
        .unwrap();
    assert!(
        claimed.iter().any(|item| item.key == sent_key),
        "{claimed:?}"
    );
    for item in claimed {
        let outcome = if item.key == sent_key {
            DeliveryOutcome::Delivered {
                detail: "ok".into(),
            }
        } else {
            DeliveryOutcome::RetryAt {
                at: at(120),
                error: "503".into(),
            }
        };
        store
            .finish_delivery(&item.key, outcome, at(61))
            .await
            .unwrap();
    }
    let mut solved = sample_case("zendesk-3", at(120));
    solved.request.plan = Plan::Standard;
    solved.status = Status::Solved;
    store.commit(create(solved)).await.unwrap();
    store
        .quarantine(Quarantine {
            case_id: case_id("zendesk-3"),
            failures: 1,
            until: at(600),
            since: at(300),
            reason: "cannot be decided".into(),
        })
        .await
        .unwrap();

    let gauges = store.gauges().await.unwrap();
    let mut pending = gauges.outbox_pending.clone();
    pending.sort();
    assert_eq!(
        pending,
        [(Destination::PagerDuty, 1), (Destination::Slack, 1)],
        "the sent message is not pending, the one waiting for a retry is"
    );
    assert_eq!(gauges.oldest_pending, Some(at(0)));
    let mut open_cases = gauges.open_cases.clone();
    open_cases.sort_by_key(|(plan, _)| plan.as_str());
    assert_eq!(open_cases, [(Plan::Standard, 1), (Plan::Enterprise, 1)]);
    assert_eq!(gauges.quarantined, 1);
}
