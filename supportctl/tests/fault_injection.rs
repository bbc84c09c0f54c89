//! Fault injection against `supportctl serve` as a process: destinations that throttle, fail,
//! hang or reset, a server killed with SIGKILL at random points of a 2,000-event run, and
//! slow clients. Each test states the invariant it holds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use domain::Timestamp;
use domain::jiff::SignedDuration;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tests::faulty_sink::{Fault, FaultySink};
use tests::payloads::Ticket;
use tests::server_process::{ServerProcess, free_port};
use tests::{INTERCOM_SECRET, PAGERDUTY_PATH, ROUTING_KEY, SLACK_PATH, ZENDESK_SECRET};
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

fn supportctl() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_BIN_EXE_supportctl"))
}

async fn start_server(
    data: &std::path::Path,
    pagerduty: &FaultySink,
    slack: &FaultySink,
) -> ServerProcess {
    ServerProcess::start(
        supportctl(),
        data,
        free_port(),
        &server_env(pagerduty, slack),
    )
    .await
}

fn server_env(pagerduty: &FaultySink, slack: &FaultySink) -> Vec<(&'static str, String)> {
    vec![
        ("ZENDESK_WEBHOOK_SECRET", ZENDESK_SECRET.to_owned()),
        ("INTERCOM_CLIENT_SECRET", INTERCOM_SECRET.to_owned()),
        ("PAGERDUTY_ROUTING_KEY", ROUTING_KEY.to_owned()),
        ("PAGERDUTY_EVENTS_URL", pagerduty.url(PAGERDUTY_PATH)),
        ("SLACK_WEBHOOK_URL", slack.url(SLACK_PATH)),
        // Retries within seconds, so that a brownout's failures settle while the test waits.
        ("DELIVERY_FIRST_RETRY_SECONDS", "1".to_owned()),
        ("DELIVERY_MAX_RETRY_SECONDS", "2".to_owned()),
    ]
}

/// A small deterministic generator (xorshift64*), so that a failing run can be repeated.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

/// The ids of the provider events a case's timeline records as applied.
fn applied_event_ids(case: &Value) -> Vec<String> {
    case["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["type"] == "event")
        .map(|entry| entry["event_id"].as_str().unwrap().to_owned())
        .collect()
}

/// The alerts a case decided to page: `<case id>/<alert>` dedup keys.
fn paged_alerts(case_id: &str, case: &Value) -> Vec<(String, String)> {
    case["effects"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|effect| {
            let alert = effect["effect"].as_str()?.strip_prefix("page on-call: ")?;
            let alert = alert.split(' ').next()?;
            Some((
                format!("{case_id}/{alert}"),
                effect["state"].as_str()?.to_owned(),
            ))
        })
        .collect()
}

/// Fail some requests the way a brownout does: 500s, throttling with a short `Retry-After`,
/// resets. Deterministic per request index.
fn brownout(index: usize, _path: &str) -> Fault {
    match index % 13 {
        2 => Fault::ServerError,
        5 => Fault::Throttle {
            retry_after_secs: 1,
        },
        9 => Fault::Reset,
        _ => Fault::Answer,
    }
}

/// How the server finally answered one event, as a provider that retries would see it.
#[derive(Debug, Clone, PartialEq)]
struct Acknowledged {
    status: u16,
    reply: Value,
}

/// Post a signed Zendesk event until the server acknowledges it (2xx), retrying connection
/// errors and 503 as Zendesk does; any other answer fails the test.
async fn post_until_acknowledged(
    client: &reqwest::Client,
    url: &str,
    event: &Value,
) -> Acknowledged {
    let body = serde_json::to_vec(event).unwrap();
    for _ in 0..2_000 {
        let timestamp = Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        let signature = providers::zendesk::sign(
            &providers::Secret::new(ZENDESK_SECRET).unwrap(),
            &timestamp,
            &body,
        );
        let sent = client
            .post(format!("{url}/webhooks/zendesk"))
            .header("Content-Type", "application/json")
            .header("X-Zendesk-Webhook-Signature", signature)
            .header("X-Zendesk-Webhook-Signature-Timestamp", timestamp)
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => {
                let status = response.status().as_u16();
                let reply = response.json().await.unwrap_or(Value::Null);
                return Acknowledged { status, reply };
            }
            Ok(response) if response.status() == 503 => {}
            Ok(response) => panic!(
                "event {} answered {}: {}",
                event["id"],
                response.status(),
                response.text().await.unwrap_or_default()
            ),
            Err(_) => {} // the server is down or was killed mid-request
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("event {} was never acknowledged", event["id"]);
}

/// Post a signed Intercom notification until the server acknowledges it (2xx).
async fn post_chat_until_acknowledged(client: &reqwest::Client, url: &str, chat: &Value) {
    let body = serde_json::to_vec(chat).unwrap();
    let signature =
        providers::intercom::sign(&providers::Secret::new(INTERCOM_SECRET).unwrap(), &body);
    for _ in 0..200 {
        let sent = client
            .post(format!("{url}/webhooks/intercom"))
            .header("Content-Type", "application/json")
            .header("X-Hub-Signature", &signature)
            .body(body.clone())
            .send()
            .await;
        if let Ok(response) = sent {
            let status = response.status();
            assert!(
                status.is_success() || status == 503,
                "chat answered {status}"
            );
            if status.is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("chat {} was never acknowledged", chat["data"]["item"]["id"]);
}

/// The case detail, or `None` when there is no such case.
async fn case_detail(client: &reqwest::Client, url: &str, case_id: &str) -> Option<Value> {
    let response = client
        .get(format!("{url}/api/cases/{case_id}"))
        .send()
        .await
        .unwrap();
    match response.status().as_u16() {
        200 => Some(response.json().await.unwrap()),
        404 => None,
        other => panic!("GET {case_id}: {other}"),
    }
}

/// Every case detail, once none of their effects is pending any more (at most `patience`).
async fn settled_cases(
    client: &reqwest::Client,
    url: &str,
    case_ids: &[String],
    patience: Duration,
) -> BTreeMap<String, Value> {
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        let mut cases = BTreeMap::new();
        let mut pending = 0;
        let mut example = None;
        for case_id in case_ids {
            let Some(case) = case_detail(client, url, case_id).await else {
                continue;
            };
            for effect in case["effects"].as_array().unwrap() {
                if effect["state"] == "pending" {
                    pending += 1;
                    example.get_or_insert_with(|| format!("{case_id}: {}", case["effects"]));
                }
            }
            cases.insert(case_id.clone(), case);
        }
        if pending == 0 || tokio::time::Instant::now() > deadline {
            assert_eq!(
                pending,
                0,
                "effects still pending after {patience:?}, e.g. {}",
                example.unwrap_or_default()
            );
            return cases;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// 500 tickets, four events each (created two hours ago, assigned, answered, solved): 2,000
/// events, sent eight at a time, every ticket's events in order.
fn ticket_events() -> (Vec<String>, Vec<Vec<Value>>) {
    let now = Timestamp::now();
    let created = now.checked_sub(SignedDuration::from_hours(2)).unwrap();
    let priorities = ["URGENT", "HIGH", "NORMAL", "LOW"];
    let mut case_ids = Vec::new();
    let mut per_ticket = Vec::new();
    for n in 0..500 {
        let mut ticket = Ticket::new(&format!("{}", 70_000 + n), created, priorities[n % 4]);
        if n % 5 == 0 {
            ticket.tags.push("enterprise".into());
        }
        let minute = |m: i64| created.checked_add(SignedDuration::from_mins(m)).unwrap();
        let events = vec![
            ticket.created(),
            ticket.assigned("8447388090494", minute(20)),
            ticket.public_staff_comment(minute(40)),
            ticket.status_changed("SOLVED", minute(60)),
        ];
        case_ids.push(ticket.case_id());
        per_ticket.push(events);
    }
    (case_ids, per_ticket)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_2000_event_run_killed_at_random_points_stores_each_accepted_event_once_and_pages_every_alert()
 {
    let pagerduty = FaultySink::pagerduty().await;
    let slack = FaultySink::slack().await;
    pagerduty.set_schedule(brownout);
    slack.set_schedule(brownout);
    let data = tempfile::tempdir().unwrap();
    let server = Arc::new(Mutex::new(
        start_server(data.path(), &pagerduty, &slack).await,
    ));
    let url = server.lock().await.url.clone();
    let (case_ids, per_ticket) = ticket_events();
    let total_events: usize = per_ticket.iter().map(Vec::len).sum();
    assert_eq!(total_events, 2_000);

    // Four kills, at seeded random points of the run.
    let mut random = Seeded(0x5EED_2026_1130);
    let mut kill_points: Vec<usize> = (0..4).map(|_| 100 + random.below(1_800) as usize).collect();
    kill_points.sort_unstable();
    let acknowledged_count = Arc::new(AtomicUsize::new(0));
    let killer = {
        let server = Arc::clone(&server);
        let acknowledged_count = Arc::clone(&acknowledged_count);
        tokio::spawn(async move {
            for point in kill_points {
                while acknowledged_count.load(Ordering::SeqCst) < point {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                let mut server = server.lock().await;
                server.kill();
                tokio::time::sleep(Duration::from_millis(200)).await;
                server.restart().await;
            }
        })
    };

    // Eight senders, each taking whole tickets so that a ticket's events stay in order.
    let tickets = Arc::new(std::sync::Mutex::new(per_ticket.into_iter()));
    let acknowledgements = Arc::new(std::sync::Mutex::new(HashMap::new()));
    let senders: Vec<_> = (0..8)
        .map(|_| {
            let tickets = Arc::clone(&tickets);
            let acknowledgements = Arc::clone(&acknowledgements);
            let acknowledged_count = Arc::clone(&acknowledged_count);
            let url = url.clone();
            tokio::spawn(async move {
                let client = reqwest::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .unwrap();
                loop {
                    let next = tickets.lock().unwrap().next();
                    let Some(events) = next else { break };
                    for event in events {
                        let acknowledged = post_until_acknowledged(&client, &url, &event).await;
                        let id = event["id"].as_str().unwrap().to_owned();
                        acknowledgements.lock().unwrap().insert(id, acknowledged);
                        acknowledged_count.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();
    for sender in senders {
        sender.await.unwrap();
    }
    killer.await.unwrap();

    let client = reqwest::Client::new();
    let cases = settled_cases(&client, &url, &case_ids, Duration::from_secs(90)).await;
    let logs = server.lock().await.logs();
    let acknowledgements = acknowledgements.lock().unwrap().clone();
    assert_eq!(acknowledgements.len(), 2_000);

    // Every acknowledged event that was accepted (202), or found already stored (a retry after
    // a lost answer), is in its case's timeline exactly once.
    assert_eq!(cases.len(), 500, "every ticket has its case");
    let mut applied: HashMap<String, usize> = HashMap::new();
    for case in cases.values() {
        for id in applied_event_ids(case) {
            *applied.entry(id).or_default() += 1;
        }
    }
    for (id, acknowledged) in &acknowledgements {
        let stored = acknowledged.status == 202 || acknowledged.reply["status"] == "duplicate";
        let times = applied.get(id).copied().unwrap_or(0);
        if stored {
            assert_eq!(
                times, 1,
                "event {id} ({acknowledged:?}) applied {times} times\n{logs}"
            );
        } else {
            assert!(times <= 1, "event {id} applied {times} times");
        }
    }
    assert!(
        applied.values().all(|times| *times == 1),
        "no event is applied twice"
    );

    // Every page decided is delivered, at least once, always under its one dedup key; the
    // destination never saw a key we did not decide.
    let triggers: Vec<Value> = pagerduty
        .accepted()
        .iter()
        .map(|request| request.json())
        .filter(|body| body["event_action"] == "trigger")
        .collect();
    let triggered_keys: BTreeSet<String> = triggers
        .iter()
        .map(|body| body["dedup_key"].as_str().unwrap().to_owned())
        .collect();
    let mut decided_keys = BTreeSet::new();
    for (case_id, case) in &cases {
        for (dedup_key, state) in paged_alerts(case_id, case) {
            assert_eq!(state, "delivered", "{dedup_key}");
            assert!(
                triggered_keys.contains(&dedup_key),
                "{dedup_key} never reached PagerDuty"
            );
            decided_keys.insert(dedup_key);
        }
    }
    assert!(
        !decided_keys.is_empty(),
        "tickets created two hours ago page"
    );
    assert_eq!(triggered_keys, decided_keys);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_deadline_that_falls_due_while_the_destinations_are_down_and_the_server_is_killed_is_decided_within_two_seconds()
 {
    // PagerDuty throttles every event with Retry-After: 30, and Slack never answers.
    let pagerduty = FaultySink::pagerduty().await;
    let slack = FaultySink::slack().await;
    pagerduty.set_schedule(|_, _| Fault::Throttle {
        retry_after_secs: 30,
    });
    slack.set_schedule(|_, _| Fault::Hang);
    let data = tempfile::tempdir().unwrap();
    let mut server = start_server(data.path(), &pagerduty, &slack).await;
    let client = reqwest::Client::new();

    // Enterprise urgent tickets (24x7, first response within 30 minutes) created so that their
    // first-response deadlines fall due two per second from 6 s to 15 s from now.
    let start = Timestamp::now();
    let mut case_ids = Vec::new();
    for n in 0..20_i64 {
        let created = start
            .checked_sub(SignedDuration::from_mins(30))
            .and_then(|t| t.checked_add(SignedDuration::from_secs(6 + n / 2)))
            .unwrap();
        let mut ticket = Ticket::new(&format!("{}", 76_000 + n), created, "URGENT");
        ticket.tags.push("enterprise".into());
        post_until_acknowledged(&client, &server.url, &ticket.created()).await;
        case_ids.push(ticket.case_id());
    }

    // Killed while the first deadlines are being decided, restarted at once.
    tokio::time::sleep(Duration::from_secs(8).saturating_sub(elapsed_since(start))).await;
    server.kill();
    server.restart().await;
    tokio::time::sleep(Duration::from_secs(18).saturating_sub(elapsed_since(start))).await;

    let mut worst = SignedDuration::ZERO;
    for case_id in &case_ids {
        let case = case_detail(&client, &server.url, case_id).await.unwrap();
        let clock = &case["clocks"]["first_response"];
        assert_eq!(clock["state"], "breached", "{case_id}: {clock}");
        let due: Timestamp = clock["due"].as_str().unwrap().parse().unwrap();
        let decided: Timestamp = clock["breached_at"].as_str().unwrap().parse().unwrap();
        let late = decided.duration_since(due);
        assert!(
            late >= SignedDuration::ZERO,
            "{case_id} decided before its due time: {clock}"
        );
        worst = worst.max(late);
    }
    println!("deadlines decided through a brownout and a SIGKILL: at most {worst:?} late");
    assert!(
        worst <= SignedDuration::from_secs(2),
        "a deadline was decided {worst:?} late\n{}",
        server.logs()
    );
}

fn elapsed_since(start: Timestamp) -> Duration {
    Timestamp::now().duration_since(start).unsigned_abs()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_crash_no_slack_message_is_accepted_twice_through_a_brownout() {
    let pagerduty = FaultySink::pagerduty().await;
    let slack = FaultySink::slack().await;
    // Slack fails in every way, including one answer that never comes (the client's timeout
    // ends it, and the item must not be sent twice meanwhile).
    slack.set_schedule(|index, path| match index {
        0 => Fault::Hang,
        _ => brownout(index, path),
    });
    pagerduty.set_schedule(brownout);
    let data = tempfile::tempdir().unwrap();
    let server = start_server(data.path(), &pagerduty, &slack).await;
    let client = reqwest::Client::new();

    // Every new chat is told to Slack, at any hour: 30 chats, 30 messages.
    let now = Timestamp::now();
    let case_ids: Vec<String> = (0..30)
        .map(|n| format!("intercom-{}", 88_000 + n))
        .collect();
    for n in 0..30 {
        let chat = tests::payloads::intercom_conversation(
            "conversation.user.created",
            &format!("{}", 88_000 + n),
            now,
            now,
            "visitor@example.com",
        );
        post_chat_until_acknowledged(&client, &server.url, &chat).await;
    }
    let cases = settled_cases(&client, &server.url, &case_ids, Duration::from_secs(90)).await;

    let decided: usize = cases
        .values()
        .map(|case| {
            case["effects"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|effect| {
                    effect["effect"]
                        .as_str()
                        .is_some_and(|text| text.starts_with("tell Slack"))
                })
                .count()
        })
        .sum();
    let accepted: Vec<String> = slack
        .accepted()
        .iter()
        .map(|request| String::from_utf8_lossy(&request.body).into_owned())
        .collect();
    let distinct: BTreeSet<&String> = accepted.iter().collect();
    assert!(decided >= 30, "every new chat is told to Slack");
    assert_eq!(
        distinct.len(),
        accepted.len(),
        "a Slack message was accepted twice:\n{}",
        server.logs()
    );
    assert_eq!(accepted.len(), decided, "every Slack message arrived once");
}

/// Connections that announce a large body and then stall.
async fn stall(
    addr: &str,
    count: usize,
    head: &str,
    body_prefix: &[u8],
) -> Vec<tokio::net::TcpStream> {
    let mut streams = Vec::new();
    for _ in 0..count {
        let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
            continue; // beyond the accept queue: refused is fine
        };
        if stream.write_all(head.as_bytes()).await.is_ok() {
            let _ = stream.write_all(body_prefix).await;
        }
        streams.push(stream);
    }
    streams
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_stalled_two_mebibyte_bodies_cost_little_memory_and_healthz_still_answers() {
    let pagerduty = FaultySink::pagerduty().await;
    let slack = FaultySink::slack().await;
    let data = tempfile::tempdir().unwrap();
    let server = start_server(data.path(), &pagerduty, &slack).await;
    let addr = server.url.trim_start_matches("http://").to_owned();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = server.resident_bytes();

    // 150 announce 2 MiB in Content-Length (refused with 413 before the body is read) and 150
    // stream a chunked body, 200 KiB of it, then stall (held up to the 256 KiB limit at most).
    let announced = "POST /webhooks/zendesk HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2097152\r\n\r\n";
    let chunked = "POST /webhooks/zendesk HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    let mut chunk = format!("{:x}\r\n", 200 * 1024).into_bytes();
    chunk.extend(std::iter::repeat_n(b'x', 200 * 1024));
    chunk.extend_from_slice(b"\r\n");
    let mut held = stall(&addr, 150, announced, &[b'{'; 64 * 1024]).await;
    held.extend(stall(&addr, 150, chunked, &chunk).await);
    tokio::time::sleep(Duration::from_secs(2)).await;

    let during = server.resident_bytes();
    let health = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
        .get(format!("{}/healthz", server.url))
        .send()
        .await
        .map(|response| response.status().as_u16());
    drop(held);
    let grown_mib = during.saturating_sub(before) as f64 / (1024.0 * 1024.0);
    println!(
        "resident memory: {:.1} MiB before, {:.1} MiB with 300 stalled bodies (+{grown_mib:.1} MiB)",
        before as f64 / (1024.0 * 1024.0),
        during as f64 / (1024.0 * 1024.0),
    );
    assert_eq!(health.ok(), Some(200), "/healthz answers meanwhile");
    // 150 × 200 KiB of chunked bodies is 29 MiB if every one were buffered whole.
    assert!(
        grown_mib < 64.0,
        "300 stalled bodies grew resident memory by {grown_mib:.1} MiB"
    );
}
