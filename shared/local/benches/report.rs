//! A monthly compliance report from the embedded store, as `GET /api/reports/compliance` makes
//! it: read the month's cases by receipt (`CaseReader::cases_received_between`, the
//! `(received, id)` index) and compute the report over them.
//!
//! The store (a file in a temporary directory) holds 100,000 cases received in March 2026 and
//! 10,000 in April, which the read must skip. The cases are real: each is built by the domain's
//! own `decide` from an opening event and, from a fixed-seed PRNG, an assignment and an agent
//! reply (or a solve) minutes to hours later, under the shipped default policy; every channel,
//! plan and priority occurs.
//!
//! Target (issue 13): at most 1 s for the month of 100,000 cases.
//! Run: `cargo bench -p local --bench report -- --warm-up-time 1 --measurement-time 10`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::ports::{CaseReader, CaseStore};
use criterion::{Criterion, criterion_group, criterion_main};
use domain::Timestamp;
use domain::case::{
    Case, CaseEvent, CaseFacts, CaseId, Change, Input, RequestFacts, Status, decide,
};
use domain::jiff::SignedDuration;
use domain::policy::{Channel, Labels, Plan, Policy, Priority};
use local::store::SqliteStore;
use report::Month;
use std::hint::black_box;
use std::time::{Duration, Instant};

const MARCH_CASES: usize = 100_000;
const APRIL_CASES: usize = 10_000;

/// SplitMix64: small, fast and good enough to spread instants; no extra crate.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

fn event(id: &CaseId, n: u32, change: Change, at: Timestamp, facts: &CaseFacts) -> CaseEvent {
    CaseEvent {
        case_id: id.clone(),
        event_id: format!("evt-{n}"),
        occurred_at: at,
        change,
        snapshot: facts.clone(),
    }
}

/// One case: opened, then maybe assigned and maybe answered (or solved unanswered).
fn case(policy: &Policy, index: usize, received: Timestamp, rng: &mut SplitMix64) -> Case {
    let facts = CaseFacts {
        request: RequestFacts {
            channel: Channel::ALL[index % Channel::ALL.len()],
            plan: Plan::ALL[(index / 12) % Plan::ALL.len()],
            priority: Priority::ALL[(index / 3) % Priority::ALL.len()],
            received,
            labels: Labels {
                cluster: Some(format!("c{}", index % 40)),
                website: None,
            },
            subject: Some(format!("Checkout broken on shop {index}")),
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
    let id = CaseId::parse(&format!("zendesk-{index}")).unwrap();
    let opened = event(&id, 1, Change::Opened, received, &facts);
    let mut case = decide(policy, None, Input::Event(&opened), received)
        .unwrap()
        .case;
    let later =
        |rng: &mut SplitMix64| received + SignedDuration::from_mins(rng.below(48 * 60) as i64 + 1);
    let mut steps = Vec::new();
    if rng.below(10) < 8 {
        let assignee = Some("agent".to_owned());
        steps.push((Change::Assigned { assignee }, later(rng)));
    }
    match rng.below(10) {
        0..=6 => steps.push((Change::AgentReplied, later(rng))),
        7 => steps.push((Change::Solved, later(rng))),
        _ => {}
    }
    steps.sort_by_key(|(_, at)| *at);
    for (n, (change, at)) in steps.into_iter().enumerate() {
        let event = event(&id, n as u32 + 2, change, at, &facts);
        case = decide(policy, Some(case), Input::Event(&event), at)
            .unwrap()
            .case;
    }
    case
}

/// `count` cases received at pseudo-random instants in `[start, start + span_seconds)`.
fn cases(policy: &Policy, first_index: usize, count: usize, start: &str, span: u64) -> Vec<Case> {
    let start: Timestamp = start.parse().unwrap();
    let mut rng = SplitMix64(0x5EED_2026 + first_index as u64);
    (first_index..first_index + count)
        .map(|index| {
            let received = start + SignedDuration::from_secs(rng.below(span) as i64);
            case(policy, index, received, &mut rng)
        })
        .collect()
}

/// Write every case, many commits at a time (the store groups them into transactions).
async fn fill(store: &SqliteStore, cases: Vec<Case>) {
    let mut pending = tokio::task::JoinSet::new();
    for case in cases {
        if pending.len() >= 256 {
            pending.join_next().await.unwrap().unwrap();
        }
        let store = store.clone();
        pending.spawn(async move {
            store.commit(store_contract::create(case)).await.unwrap();
        });
    }
    while let Some(done) = pending.join_next().await {
        done.unwrap();
    }
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let policy = policy_file::default_policy().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let started = Instant::now();
    // March 2026 in Berlin: 2026-02-28T23:00Z plus 31 days less the DST hour; then April.
    let march = cases(
        &policy,
        0,
        MARCH_CASES,
        "2026-02-28T23:00:00Z",
        31 * 86_400 - 3600,
    );
    let april = cases(
        &policy,
        MARCH_CASES,
        APRIL_CASES,
        "2026-03-31T22:00:00Z",
        30 * 86_400,
    );
    runtime.block_on(fill(&store, march.into_iter().chain(april).collect()));
    eprintln!(
        "filled the store with {} cases in {:.1} s",
        MARCH_CASES + APRIL_CASES,
        started.elapsed().as_secs_f64()
    );

    let month: Month = "2026-03".parse().unwrap();
    let (from, to) = month.bounds(&report::month_time_zone(&policy)).unwrap();
    // Mid-April: the month's late answers are in and its open clocks are due.
    let now: Timestamp = "2026-04-15T12:00:00Z".parse().unwrap();
    let month_report = || {
        let cases = runtime
            .block_on(store.cases_received_between(from, to))
            .unwrap();
        report::compliance(&policy, cases.iter().map(|s| &s.case), month, now)
    };
    let checked = month_report();
    // Every March case counts, no April case: tickets run two clocks, the others one.
    assert_eq!(
        checked.totals.total as usize,
        MARCH_CASES + MARCH_CASES.div_ceil(3)
    );

    // Criterion measures wall time, which on a shared machine includes waiting for a core;
    // the process's CPU time per report (all threads) does not.
    if let Some(before) = cpu_seconds() {
        let rounds = 5;
        let started = Instant::now();
        for _ in 0..rounds {
            black_box(month_report());
        }
        if let Some(after) = cpu_seconds() {
            eprintln!(
                "read and reported: {:.2} s CPU (all threads), {:.2} s wall per month of {MARCH_CASES} cases",
                (after - before) / f64::from(rounds),
                started.elapsed().as_secs_f64() / f64::from(rounds)
            );
        }
    }

    let mut group = c.benchmark_group("report_from_store");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("month_of_100k_cases_read_and_reported", |b| {
        b.iter(|| black_box(month_report()));
    });
    group.bench_function("month_of_100k_cases_read_only", |b| {
        b.iter(|| {
            black_box(
                runtime
                    .block_on(store.cases_received_between(from, to))
                    .unwrap(),
            )
        });
    });
    group.finish();
}

/// This process's user and system CPU time so far, from `/proc/self/stat` (Linux; clock ticks
/// of 1/100 s, the kernel's `USER_HZ` everywhere this runs).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let fields: Vec<&str> = stat.get(stat.rfind(')')? + 2..)?.split(' ').collect();
    let (user, system): (u64, u64) = (fields.get(11)?.parse().ok()?, fields.get(12)?.parse().ok()?);
    Some((user + system) as f64 / 100.0)
}

criterion_group!(benches, bench);
criterion_main!(benches);
