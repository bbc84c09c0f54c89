//! `supportctl report --table` and `supportctl whatif --table` against moto: the table is read
//! directly with the caller's credentials (`AWS_ENDPOINT_URL` points the default chain at
//! moto). Two urgent Enterprise tickets of Monday 2026-11-30, received at 10:00 Berlin: one
//! answered at 10:10, one never; the reports look at 11:00 Berlin (10:00 UTC).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::ports::{CaseStore, CaseWrite, TimelineEntry, TimelineKind};
use aws::store::DynamoStore;
use domain::case::{
    Case, CaseEvent, CaseFacts, CaseId, Change, Input, RequestFacts, Status, TimerKind, decide,
};
use domain::jiff::Timestamp;
use domain::policy::{Channel, Labels, Plan, Priority};
use serde_json::Value;
use std::process::{Command, Output};

const DEFAULT_POLICY: &str = include_str!("../../infra/policy.toml");
const AT: &str = "2026-11-30T10:00:00Z";

fn berlin(local: &str) -> Timestamp {
    tests::payloads::berlin(local)
}

enum Step {
    Event(usize, Change),
    Timer(TimerKind),
}

/// A ticket decided as the engine would (events when they arrive, timers when due up to 11:00
/// Berlin), and the event entries of its timeline.
fn ticket(id: &str, replied: Option<&str>) -> (Case, Vec<TimelineEntry>) {
    let policy = policy_file::default_policy().unwrap();
    let received = berlin("2026-11-30T10:00");
    let id = CaseId::parse(id).unwrap();
    let facts = CaseFacts {
        request: RequestFacts {
            channel: Channel::Ticket,
            plan: Plan::Enterprise,
            priority: Priority::Urgent,
            received,
            labels: Labels::default(),
            subject: Some("Checkout returns HTTP 502".into()),
            requester: None,
            link: None,
            voicemail: None,
        },
        status: Status::Open,
        assignee: None,
        first_response_at: None,
        adoption: None,
        references: Default::default(),
    };
    let mut events = vec![(Change::Opened, received)];
    if let Some(at) = replied {
        events.push((Change::AgentReplied, berlin(at)));
    }
    let timers = [
        (TimerKind::FirstResponseWarning, "2026-11-30T10:22:30"),
        (TimerKind::FirstResponse, "2026-11-30T10:30"),
        (TimerKind::Dispatch, "2026-11-30T11:00"),
    ];
    let mut steps: Vec<(Timestamp, Step)> = events
        .into_iter()
        .enumerate()
        .map(|(n, (change, at))| (at, Step::Event(n, change)))
        .collect();
    steps.extend(
        timers
            .iter()
            .map(|(timer, at)| (berlin(at), Step::Timer(*timer))),
    );
    // At one instant an event before a timer; the sort is stable.
    steps.sort_by_key(|(at, step)| (*at, matches!(step, Step::Timer(_))));

    let mut case: Option<Case> = None;
    let mut timeline = Vec::new();
    for (at, step) in steps {
        case = Some(match step {
            Step::Event(n, change) => {
                let event = CaseEvent {
                    case_id: id.clone(),
                    event_id: format!("{id}-evt-{n}"),
                    occurred_at: at,
                    change: change.clone(),
                    snapshot: facts.clone(),
                };
                timeline.push(TimelineEntry {
                    at,
                    kind: TimelineKind::Event {
                        event_id: event.event_id.clone(),
                        occurred_at: at,
                        change,
                    },
                });
                decide(&policy, case, Input::Event(&event), at)
                    .unwrap()
                    .case
            }
            Step::Timer(timer) => {
                let current = case.unwrap();
                if current.timers.contains_key(&timer) {
                    decide(&policy, Some(current), Input::TimerFired(timer), at)
                        .unwrap()
                        .case
                } else {
                    current
                }
            }
        });
    }
    (case.unwrap(), timeline)
}

async fn seeded_table() -> String {
    let sdk = aws::test_support::sdk_config().await;
    aws::test_support::warm_up(&sdk).await;
    let table = aws::test_support::new_table(&sdk, "supportctl").await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), &table);
    for (case, timeline) in [
        ticket("zendesk-9201", None),
        ticket("zendesk-9202", Some("2026-11-30T10:10")),
    ] {
        store
            .commit(CaseWrite {
                now: case.last_event_at,
                case,
                expected_version: None,
                event_id: None,
                timeline,
                outbox: Vec::new(),
            })
            .await
            .unwrap();
    }
    table
}

async fn supportctl(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_supportctl"))
            .args(args)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn json_of(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn urgent_first_response(rows: &Value) -> Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|row| {
            row["clock"] == "first_response" && row["plan"] == "24x7" && row["priority"] == "urgent"
        })
        .cloned()
        .unwrap_or_else(|| panic!("no urgent 24x7 first-response row in {rows}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn report_table_reads_the_months_cases_from_dynamodb() {
    let table = seeded_table().await;
    let args = [
        "report", "--table", &table, "--month", "2026-11", "--format", "json", "--at", AT,
    ];
    let report = json_of(&supportctl(args.map(str::to_owned).to_vec()).await);

    assert_eq!(report["month"], "2026-11");
    let row = urgent_first_response(&report["rows"]);
    assert_eq!(
        (row["met"].as_u64(), row["breached"].as_u64()),
        (Some(1), Some(1)),
        "{report}"
    );
    // The answer came 10 minutes after receipt.
    assert_eq!(row["p50_minutes"], 10.0);
    assert_eq!(report["breaches"][0]["case_id"], "zendesk-9201");

    let args = [
        "report", "--table", &table, "--month", "2026-10", "--format", "json", "--at", AT,
    ];
    let october = json_of(&supportctl(args.map(str::to_owned).to_vec()).await);
    assert_eq!(october["totals"]["total"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn whatif_table_replays_the_months_cases_from_dynamodb() {
    let table = seeded_table().await;
    let policy = tempfile::NamedTempFile::new().unwrap();
    let proposed = DEFAULT_POLICY.replace(
        "[first_response.urgent]\ntarget = \"30m\"",
        "[first_response.urgent]\ntarget = \"3h\"",
    );
    assert_ne!(proposed, DEFAULT_POLICY);
    std::fs::write(policy.path(), proposed).unwrap();
    let path = policy.path().to_str().unwrap();
    let args = [
        "whatif", "--table", &table, "--month", "2026-11", "--policy", path, "--format", "json",
        "--at", AT,
    ];
    let json = json_of(&supportctl(args.map(str::to_owned).to_vec()).await);

    assert_eq!(
        json["changed"],
        serde_json::json!([{
            "case_id": "zendesk-9201",
            "clock": "first_response",
            "current": "breached",
            "proposed": "pending",
        }]),
        "{json}"
    );
    let current = urgent_first_response(&json["current"]);
    assert_eq!(
        (current["met"].as_u64(), current["breached"].as_u64()),
        (Some(1), Some(1))
    );
    let proposed = urgent_first_response(&json["proposed"]);
    assert_eq!(
        (proposed["met"].as_u64(), proposed["pending"].as_u64()),
        (Some(1), Some(1))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_table_fails_with_its_name() {
    let args = [
        "report",
        "--table",
        "no-such-table-here",
        "--month",
        "2026-11",
    ];
    let output = supportctl(args.map(str::to_owned).to_vec()).await;
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no-such-table-here"), "{stderr}");
}
