//! How long a monthly compliance report over 100,000 cases takes.
//!
//! The cases are real: each is built by the domain's own `decide` from an opening event and,
//! depending on a fixed-seed PRNG, an assignment and an agent reply at some minutes or hours
//! later (some never), under the shipped default policy. They are received at pseudo-random
//! instants over March 2026 in Berlin time (weekends, nights, the DST change of 29 March);
//! every priority, both plans and every channel occur, so both business and 24x7 clocks are
//! measured, met, met late, breached, pending and cancelled.
//!
//! Target (issue 13): at most 1 s per report of 100,000 cases. Measured on the 2-core
//! development machine: 52 ms (50-55 ms).
//! Run: `cargo bench -p report --bench compliance -- --warm-up-time 1 --measurement-time 5`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use domain::Timestamp;
use domain::case::{
    Case, CaseEvent, CaseFacts, CaseId, Change, Input, RequestFacts, Status, decide,
};
use domain::jiff::SignedDuration;
use domain::policy::{Channel, Labels, Plan, Policy, Priority};
use report::{Month, compliance};
use std::hint::black_box;
use std::time::Duration;

const CASES: usize = 100_000;

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
    let channel = Channel::ALL[index % Channel::ALL.len()];
    let priority = Priority::ALL[(index / 3) % Priority::ALL.len()];
    let plan = Plan::ALL[(index / 12) % Plan::ALL.len()];
    let facts = CaseFacts {
        request: RequestFacts {
            channel,
            plan,
            priority,
            received,
            labels: Labels::default(),
            subject: None,
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
    let id = CaseId::parse(&format!("bench-{index}")).unwrap();
    let opened = event(&id, 1, Change::Opened, received, &facts);
    let mut case = decide(policy, None, Input::Event(&opened), received)
        .unwrap()
        .case;
    // Up to 48 hours later, so that some answers are late and some fall after a weekend.
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

fn cases(policy: &Policy) -> Vec<Case> {
    // 2026-03-01T00:00 Berlin is 2026-02-28T23:00Z; March has 31 days less the DST hour.
    let start: Timestamp = "2026-02-28T23:00:00Z".parse().unwrap();
    let span = 31 * 24 * 3600 - 3600;
    let mut rng = SplitMix64(0x5EED_2026);
    (0..CASES)
        .map(|index| {
            let received = start + SignedDuration::from_secs(rng.below(span) as i64);
            case(policy, index, received, &mut rng)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let policy = policy_file::default_policy().unwrap();
    let cases = cases(&policy);
    let month: Month = "2026-03".parse().unwrap();
    // Mid-April: the month's late answers are in and its open clocks are due.
    let now: Timestamp = "2026-04-15T12:00:00Z".parse().unwrap();

    let report = compliance(&policy, &cases, month, now);
    assert_eq!(report.totals.total as usize, CASES + CASES.div_ceil(3));
    let mut group = c.benchmark_group("compliance");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("report_over_100k_cases", |b| {
        b.iter(|| compliance(&policy, black_box(&cases), month, now));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
