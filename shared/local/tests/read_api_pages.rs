//! `GET /api/cases` pages: default 100, at most 1,000, a cursor to the next page.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use api::{ReadAccess, ReadState};
use app::ports::{CaseStore, ManualClock};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use local::store::SqliteStore;
use serde_json::Value;
use std::sync::Arc;
use store_contract::{at, create, sample_case};
use tower::ServiceExt;

async fn get(router: &axum::Router, uri: &str) -> (StatusCode, Value) {
    let response = router
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, serde_json::from_slice(&body).unwrap())
}

fn ids(page: &Value) -> Vec<String> {
    page["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|case| case["case_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_listings_come_in_bounded_pages_that_the_cursor_walks_through() {
    const CASES: usize = 1_050;
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    for n in 0..CASES {
        let case = sample_case(&format!("zendesk-{n:04}"), at(n as i64));
        store.commit(create(case)).await.unwrap();
    }
    let router = api::read_router(ReadState {
        reader: Arc::clone(&store),
        policy: Arc::new(policy_file::default_policy().unwrap()),
        clock: Arc::new(ManualClock::new(at(0))),
        access: ReadAccess::from_token(None),
    });

    let (status, first) = get(&router, "/api/cases").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&first).len(), 100, "100 by default");
    assert_eq!(ids(&first)[0], "zendesk-1049", "newest first");

    let (_, largest) = get(&router, "/api/cases?limit=5000").await;
    assert_eq!(ids(&largest).len(), 1000, "at most 1,000");

    // Walking the pages lists every case once, in order.
    let mut seen = Vec::new();
    let mut uri = "/api/cases?limit=400".to_owned();
    loop {
        let (status, page) = get(&router, &uri).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => uri = format!("/api/cases?limit=400&cursor={cursor}"),
            None => break,
        }
    }
    let expected: Vec<String> = (0..CASES)
        .rev()
        .map(|n| format!("zendesk-{n:04}"))
        .collect();
    assert_eq!(seen, expected);

    let (status, refused) = get(&router, "/api/cases?cursor=not-a-cursor").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
}
