//! The `zendesk-webhook` function with DynamoDB failing under it: a proxy in front of moto
//! answers some DynamoDB requests `ProvisionedThroughputExceededException` without passing them
//! on, and for others passes them on and then answers 500 (the write happened, its answer was
//! lost). Zendesk retries what is not acknowledged; every acknowledged event must be stored
//! exactly once. Run through `scripts/test.sh`, which starts moto.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use app::ports::{CaseReader, CaseStore, TimelineKind};
use domain::case::CaseId;
use domain::jiff::SignedDuration;
use lambda::test_support::{Harness, read_response};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tests::payloads::{Ticket, berlin};
use tests::raw_http::read_request;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

const EVENT: &str = include_str!("fixtures/apigw-v2-zendesk.json");

/// How the proxy treated the DynamoDB requests it saw.
#[derive(Debug, Default)]
struct Faults {
    dynamodb_requests: AtomicUsize,
    throttled: AtomicUsize,
    answers_lost: AtomicUsize,
}

/// A proxy to moto on a free port; returns its URL.
async fn faulty_proxy(moto: String, faults: Arc<Faults>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let client = reqwest::Client::new();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(proxy_connection(
                stream,
                moto.clone(),
                client.clone(),
                Arc::clone(&faults),
            ));
        }
    });
    url
}

async fn proxy_connection(
    mut stream: TcpStream,
    moto: String,
    client: reqwest::Client,
    faults: Arc<Faults>,
) {
    let mut buffer = Vec::new();
    while let Some((head, body)) = read_request(&mut stream, &mut buffer).await {
        let mut lines = head.lines();
        let request_line = lines.next().unwrap_or_default().to_owned();
        let mut parts = request_line.split(' ');
        let method = parts.next().unwrap_or("POST").to_owned();
        let path = parts.next().unwrap_or("/").to_owned();
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
            .collect();
        let is_dynamodb = headers.iter().any(|(name, value)| {
            name.eq_ignore_ascii_case("x-amz-target") && value.starts_with("DynamoDB_")
        });
        let mut lose_answer = false;
        if is_dynamodb {
            let n = faults.dynamodb_requests.fetch_add(1, Ordering::SeqCst);
            // Three in a row: more than the SDK's own three attempts absorb, now and then.
            if (1..=3).contains(&(n % 10)) {
                faults.throttled.fetch_add(1, Ordering::SeqCst);
                let body = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API."}"#;
                let answer = raw_response(
                    400,
                    "x-amzn-ErrorType: ProvisionedThroughputExceededException\r\n",
                    body,
                );
                if stream.write_all(answer.as_bytes()).await.is_err() {
                    return;
                }
                continue;
            }
            lose_answer = n % 10 == 6;
        }
        let mut forwarded = client.request(method.parse().unwrap(), format!("{moto}{path}"));
        for (name, value) in &headers {
            if !name.eq_ignore_ascii_case("host") && !name.eq_ignore_ascii_case("content-length") {
                forwarded = forwarded.header(name, value);
            }
        }
        let Ok(response) = forwarded.body(body).send().await else {
            return;
        };
        let status = response.status().as_u16();
        let mut extra = String::new();
        for (name, value) in response.headers() {
            let name = name.as_str();
            if ["content-length", "connection", "transfer-encoding"].contains(&name) {
                continue;
            }
            extra.push_str(&format!(
                "{name}: {}\r\n",
                value.to_str().unwrap_or_default()
            ));
        }
        let body = response.bytes().await.unwrap_or_default();
        let answer = if lose_answer {
            faults.answers_lost.fetch_add(1, Ordering::SeqCst);
            raw_response(
                500,
                "x-amzn-ErrorType: InternalServerError\r\n",
                r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error"}"#,
            )
            .into_bytes()
        } else {
            let mut answer = format!(
                "HTTP/1.1 {status} Proxied\r\n{extra}Content-Length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes();
            answer.extend_from_slice(&body);
            answer
        };
        if stream.write_all(&answer).await.is_err() {
            return;
        }
    }
}

fn raw_response(status: u16, extra_headers: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status} Fault\r\nContent-Type: application/x-amz-json-1.0\r\n{extra_headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn every_acknowledged_event_is_stored_once_while_dynamodb_throttles_and_loses_answers() {
    let harness = Harness::start("throttled", berlin("2026-12-01T09:00")).await;
    harness.accept_other_pagerduty_events().await;
    let faults = Arc::new(Faults::default());
    let proxy = faulty_proxy(harness.stack.endpoint.clone(), Arc::clone(&faults)).await;
    // The function's clients talk to DynamoDB (and the scheduler) through the proxy.
    // (An endpoint given to the loader is client configuration: it wins over AWS_ENDPOINT_URL.)
    let proxied_sdk = aws::config::sdk_loader().endpoint_url(&proxy).load().await;
    let engine = Arc::new(
        lambda::build_engine(
            &harness.settings,
            &proxied_sdk,
            Arc::new(policy_file::default_policy().unwrap()),
            Arc::new(harness.clock.clone()),
        )
        .unwrap(),
    );
    let webhooks = zendesk_webhook::webhooks(&harness.settings, engine.policy()).unwrap();
    let app = zendesk_webhook::webhook_app(Arc::clone(&engine), webhooks);

    let mut acknowledged: HashMap<String, (String, u16)> = HashMap::new();
    let mut refusals = 0;
    for n in 0..25 {
        let mut ticket = Ticket::new(&format!("{}", 7600 + n), harness.now(), "HIGH");
        let assigned_at = harness
            .now()
            .checked_add(SignedDuration::from_mins(5))
            .unwrap();
        for event in [
            ticket.created(),
            ticket.assigned("8447388090494", assigned_at),
        ] {
            let id = event["id"].as_str().unwrap().to_owned();
            let mut status = 0;
            // Zendesk retries an unacknowledged event; 20 tries is far more than needed.
            for _ in 0..20 {
                let request = harness.zendesk_event(EVENT, &event);
                let (answer, body) =
                    read_response(zendesk_webhook::handle(app.clone(), request).await).await;
                status = answer;
                if (200..300).contains(&status) {
                    break;
                }
                assert!(
                    status == 503 || status == 500,
                    "only retryable refusals: {status} {body}"
                );
                refusals += 1;
            }
            assert!(
                (200..300).contains(&status),
                "event {id} never acknowledged"
            );
            acknowledged.insert(id, (ticket.case_id(), status));
        }
    }

    // Read back directly from moto, without the proxy.
    let store = &harness.engine.store();
    let case_ids: BTreeSet<&String> = acknowledged.values().map(|(case_id, _)| case_id).collect();
    assert_eq!(case_ids.len(), 25);
    let mut applied: HashMap<String, usize> = HashMap::new();
    for case_id in case_ids {
        let case_id = CaseId::parse(case_id).unwrap();
        assert!(store.load(&case_id).await.unwrap().is_some(), "{case_id}");
        for entry in store.timeline(&case_id).await.unwrap() {
            if let TimelineKind::Event { event_id, .. } = entry.kind {
                *applied.entry(event_id).or_default() += 1;
            }
        }
    }
    for id in acknowledged.keys() {
        let times = applied.get(id).copied().unwrap_or(0);
        assert_eq!(times, 1, "event {id} stored {times} times");
    }
    let throttled = faults.throttled.load(Ordering::SeqCst);
    let lost = faults.answers_lost.load(Ordering::SeqCst);
    println!(
        "{} DynamoDB requests, {throttled} throttled, {lost} answers lost, {refusals} webhook refusals",
        faults.dynamodb_requests.load(Ordering::SeqCst)
    );
    assert!(
        throttled > 0 && lost > 0 && refusals > 0,
        "the faults happened, and some reached Zendesk as refusals"
    );
}
