//! Time to verify, parse and normalize one typical event of each provider (target ≤ 20 µs).
//!
//! `cargo bench -p providers --bench intake -- --warm-up-time 1 --measurement-time 3`

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::{
    at, fixture, intercom, intercom_request, twilio, twilio_request, zendesk, zendesk_request,
};
use criterion::{Criterion, criterion_group, criterion_main};
use providers::Intake;
use std::hint::black_box;

fn intake(c: &mut Criterion) {
    let now = at("2026-01-01T00:00:00Z");
    let mut group = c.benchmark_group("verify_and_parse");

    let handler = zendesk();
    let request = zendesk_request(
        "2026-01-01T00:00:00Z",
        fixture("zendesk/ticket_comment_added_by_staff.json"),
    );
    assert!(matches!(
        handler.handle(&request.raw(), now),
        Ok(Intake::Accepted(_))
    ));
    group.bench_function("zendesk ticket.comment_added (1 KiB)", |b| {
        b.iter(|| handler.handle(black_box(&request.raw()), now));
    });

    let handler = intercom();
    let request = intercom_request(fixture("intercom/conversation_admin_replied.json"));
    assert!(matches!(
        handler.handle(&request.raw(), now),
        Ok(Intake::Accepted(_))
    ));
    group.bench_function("intercom conversation.admin.replied (2.5 KiB)", |b| {
        b.iter(|| handler.handle(black_box(&request.raw()), now));
    });

    let handler = twilio();
    let request = twilio_request(fixture("twilio/recording_completed_of_call.form"));
    assert!(matches!(
        handler.handle(&request.raw(), now),
        Ok(Intake::Accepted(_))
    ));
    group.bench_function("twilio recording completed (0.5 KiB)", |b| {
        b.iter(|| handler.handle(black_box(&request.raw()), now));
    });

    group.finish();

    // For comparison: the HMAC alone over the same bytes (the rest is parsing and normalizing).
    let mut group = c.benchmark_group("hmac_only");
    let body = fixture("zendesk/ticket_comment_added_by_staff.json");
    group.bench_function("zendesk sha256", |b| {
        b.iter(|| common::hmac_sha256_base64(common::ZENDESK_SECRET, black_box(&body)));
    });
    let body = fixture("intercom/conversation_admin_replied.json");
    group.bench_function("intercom sha1", |b| {
        b.iter(|| common::hmac_sha1(common::INTERCOM_SECRET, black_box(&body)));
    });
    group.finish();
}

criterion_group!(benches, intake);
criterion_main!(benches);
