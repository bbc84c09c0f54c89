//! How long a deadline takes to compute, over a realistic mix of requests.
//!
//! The mix: every priority, both plans, tickets (so dispatch is computed too), received at
//! 10,000 pseudo-random instants over 2026 and 2027 (a fixed-seed PRNG, so every run measures
//! the same work). Weekends, nights, holidays and both DST changes are all in there.
//!
//! - `business_add_per_deadline`: one `Calendar::add` on the business calendar per iteration,
//!   cycling through the receipt instants and the business-clock targets of the policy.
//! - `policy_deadlines_per_request`: one full `Policy::deadlines` per iteration (dispatch, first
//!   response, warning and out-of-hours).
//!
//! Target: at most 1 µs per deadline.
//! Run: `cargo bench -p domain --bench deadlines -- --warm-up-time 2 --measurement-time 5`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use domain::Timestamp;
use domain::deadlines::Request;
use domain::policy::{Channel, Plan, Policy, Priority};
use std::hint::black_box;
use std::time::Duration;

const RECEIPTS: usize = 10_000;

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
}

/// Receipt instants, to the second, between 2026-01-01 and 2028-01-01 (UTC).
fn receipts() -> Vec<Timestamp> {
    let start: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    let end: Timestamp = "2028-01-01T00:00:00Z".parse().unwrap();
    let span = (end.as_second() - start.as_second()) as u64;
    let mut rng = SplitMix64(0x5EED_2026);
    (0..RECEIPTS)
        .map(|_| Timestamp::from_second(start.as_second() + (rng.next() % span) as i64).unwrap())
        .collect()
}

/// Every request of the mix: each receipt with a priority, plan and channel that cycle.
fn requests(receipts: &[Timestamp]) -> Vec<Request> {
    let priorities = Priority::ALL;
    let plans = Plan::ALL;
    receipts
        .iter()
        .enumerate()
        .map(|(index, &received)| Request {
            received,
            priority: priorities[index % priorities.len()],
            // 4 priorities and 2 plans: shift the plan every 4 so all 8 pairs occur.
            plan: plans[(index / priorities.len()) % plans.len()],
            channel: Channel::Ticket,
        })
        .collect()
}

/// The durations that run on the business calendar: dispatch, and every first-response target
/// and its warning point.
fn business_durations(policy: &Policy) -> Vec<Duration> {
    let mut durations = vec![policy.dispatch.duration];
    for &priority in Priority::ALL {
        let target = policy.response_target(priority).duration;
        durations.push(target);
        durations.push(policy.warning_at.of(target));
    }
    durations
}

fn deadlines(c: &mut Criterion) {
    let policy = policy_file::default_policy().unwrap();
    let receipts = receipts();
    let requests = requests(&receipts);
    let durations = business_durations(&policy);
    // Each receipt with one of the business-clock durations, in turn.
    let adds: Vec<(Timestamp, Duration)> = receipts
        .iter()
        .enumerate()
        .map(|(index, &at)| (at, durations[index % durations.len()]))
        .collect();

    let mut next = 0;
    c.bench_function("business_add_per_deadline", |b| {
        b.iter(|| {
            let (at, duration) = adds[next];
            next = (next + 1) % adds.len();
            black_box(
                policy
                    .business
                    .add(black_box(at), black_box(duration))
                    .unwrap(),
            )
        });
    });

    let mut next = 0;
    c.bench_function("policy_deadlines_per_request", |b| {
        b.iter(|| {
            let request = &requests[next];
            next = (next + 1) % requests.len();
            black_box(policy.deadlines(black_box(request)).unwrap())
        });
    });
}

criterion_group!(benches, deadlines);
criterion_main!(benches);
