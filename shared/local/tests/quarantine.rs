//! Poison cases: a case the sweep cannot load is set aside with backoff and never takes
//! another case's place in a batch (issue 10, finding 4).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::ports::{CaseReader, CaseStore, Clock, Delivered, ManualClock, NotifyError, TimelineKind};
use app::{Deliver, Engine};
use domain::case::{CaseId, Effect};
use domain::jiff::SignedDuration;
use local::due_loop::DueLoopTimers;
use local::store::SqliteStore;
use std::sync::Arc;
use store_contract::{at, create, sample_case};

#[derive(Debug, Default)]
struct Accepting;

impl Deliver for Accepting {
    async fn deliver(&self, _: &CaseId, _: &Effect) -> Result<Delivered, NotifyError> {
        Ok(Delivered::Sent {
            detail: "accepted".into(),
        })
    }
}

const BAD: usize = 150;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_due_cases_are_set_aside_and_the_good_one_is_decided_in_the_first_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
    // The bad cases were received an hour before the good one: their deadlines come first,
    // and 150 of them fill more than a batch (100).
    for n in 0..BAD {
        let case = sample_case(&format!("zendesk-bad-{n:03}"), at(-3600));
        store.commit(create(case)).await.unwrap();
    }
    let good = sample_case("zendesk-good", at(0));
    store.commit(create(good.clone())).await.unwrap();
    let raw = rusqlite::Connection::open(dir.path().join(SqliteStore::FILE_NAME)).unwrap();
    let spoiled = raw
        .execute(
            "UPDATE cases SET document = '{\"schema\": 1, \"trunc' WHERE id LIKE 'zendesk-bad-%'",
            [],
        )
        .unwrap();
    assert_eq!(spoiled, BAD);

    // 16 minutes after the good case arrived, its dispatch deadline (15 min) has passed.
    let now = at(16 * 60);
    let clock = ManualClock::new(now);
    let engine = Engine::new(
        Arc::new(policy_file::default_policy().unwrap()),
        Arc::clone(&store),
        DueLoopTimers::new(),
        Accepting,
        Arc::new(clock.clone()),
    );
    let first_backoff = engine.settings().first_quarantine;

    let fired = engine.decide_due().await.unwrap();
    assert_eq!(fired, 1, "the good case is decided in the first sweep");
    let timeline = store.timeline(&good.id).await.unwrap();
    assert!(
        timeline
            .iter()
            .any(|entry| entry.kind == TimelineKind::Swept),
        "{timeline:?}"
    );
    let quarantined = store.quarantined_cases(1000).await.unwrap();
    assert_eq!(quarantined.len(), BAD, "every unreadable case is set aside");
    let until = now + SignedDuration::try_from(first_backoff).unwrap();
    for entry in &quarantined {
        assert_eq!(entry.failures, 1);
        assert_eq!(entry.until, until);
        assert!(entry.reason.contains("invalid"), "{}", entry.reason);
    }

    // Until the backoff has passed nothing is due: no re-reading, no second warning, and the
    // due loop does not spin.
    assert_eq!(store.due_cases(now, 1000).await.unwrap(), vec![]);
    assert_eq!(engine.decide_due().await.unwrap(), 0);
    assert!(store.next_due().await.unwrap().unwrap() >= until);
    assert!(
        store
            .quarantined_cases(1000)
            .await
            .unwrap()
            .iter()
            .all(|entry| entry.failures == 1),
        "nothing was tried again before its time"
    );

    // After the backoff: tried once more, and set aside twice as long.
    clock.set(until);
    assert_eq!(engine.decide_due().await.unwrap(), 0);
    let again = store.quarantined_cases(1000).await.unwrap();
    assert_eq!(again.len(), BAD);
    let doubled = until + SignedDuration::try_from(first_backoff * 2).unwrap();
    assert!(
        again
            .iter()
            .all(|entry| entry.failures == 2 && entry.until == doubled && entry.since == now),
        "{:?}",
        again.first()
    );
    assert_eq!(clock.now(), until);

    // The read API shows them.
    let router = api::read_router(api::ReadState {
        reader: Arc::clone(&store),
        policy: Arc::new(policy_file::default_policy().unwrap()),
        clock: Arc::new(clock.clone()),
        access: api::ReadAccess::from_token(None),
    });
    let response = tower::ServiceExt::oneshot(
        router,
        axum::http::Request::get("/api/quarantine?limit=1000")
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let shown: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let shown = shown["quarantined"].as_array().unwrap();
    assert_eq!(shown.len(), BAD);
    assert_eq!(shown[0]["failures"], 2);
    assert!(
        shown[0]["case_id"]
            .as_str()
            .unwrap()
            .starts_with("zendesk-bad-")
    );
    assert!(shown[0]["reason"].as_str().unwrap().contains("invalid"));
}

#[tokio::test]
async fn the_quarantine_backoff_stops_doubling_at_its_cap() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let bad = sample_case("zendesk-bad", at(0));
    store.commit(create(bad.clone())).await.unwrap();
    rusqlite::Connection::open(dir.path().join(SqliteStore::FILE_NAME))
        .unwrap()
        .execute("UPDATE cases SET document = 'not json'", [])
        .unwrap();
    let now = at(16 * 60);
    let clock = ManualClock::new(now);
    let engine = Engine::new(
        Arc::new(policy_file::default_policy().unwrap()),
        Arc::clone(&store),
        DueLoopTimers::new(),
        Accepting,
        Arc::new(clock.clone()),
    )
    .with_settings(app::EngineSettings {
        first_quarantine: std::time::Duration::from_secs(60),
        max_quarantine: std::time::Duration::from_secs(90),
        ..app::EngineSettings::default()
    });

    let mut expected = now;
    for (failures, backoff) in [(1, 60), (2, 90), (3, 90)] {
        engine.decide_due().await.unwrap();
        expected += SignedDuration::from_secs(backoff);
        let entry = store.quarantined(&bad.id).await.unwrap().unwrap();
        assert_eq!((entry.failures, entry.until), (failures, expected));
        clock.set(entry.until);
    }
}
