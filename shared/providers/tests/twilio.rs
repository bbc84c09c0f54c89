//! Twilio recording status callbacks, from the form bodies of docs/providers/twilio.md (TW-5)
//! to the normalized voicemail `CaseEvent`, and malformed variants (400).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{at, expect_malformed, fixture, fixture_text, single_event, twilio, twilio_request};
use domain::case::{CaseEvent, CaseFacts, CaseId, Change, RequestFacts, Status, Voicemail};
use domain::policy::{Channel, Labels, Plan, Priority};
use providers::{Intake, Rejection};

fn now() -> jiff::Timestamp {
    at("2026-11-28T09:10:00Z")
}

fn send(body: impl Into<Vec<u8>>) -> Result<Intake, Rejection> {
    twilio().handle(&twilio_request(body).raw(), now())
}

fn recording(sid: &str) -> CaseId {
    CaseId::for_provider("twilio", sid).unwrap()
}

#[test]
fn a_completed_recording_is_an_urgent_voicemail_case() {
    let event = single_event(send(fixture("twilio/recording_completed.form")));
    let sid = "RE9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a49";
    assert_eq!(
        event,
        CaseEvent {
            case_id: recording(sid),
            event_id: format!("{sid}:completed"),
            occurred_at: at("2022-08-22T12:00:00Z"),
            change: Change::Opened,
            snapshot: CaseFacts {
                request: RequestFacts {
                    channel: Channel::Phone,
                    plan: Plan::Standard,
                    priority: Priority::Urgent,
                    received: at("2022-08-22T12:00:00Z"),
                    labels: Labels::default(),
                    subject: Some("Voicemail from unknown".into()),
                    requester: None,
                    link: None,
                    // The recording status callback of TW-5 (docs/test-vectors.md) has no From/To.
                    voicemail: Some(Voicemail {
                        caller: "unknown".into(),
                        called: "unknown".into(),
                        duration_seconds: 42,
                        recording_url: Some(format!(
                            "https://api.twilio.com/2010-04-01/Accounts/AC8a1e0d2e5c9b4f7a6d3c2b1a0f9e8d7c/Recordings/{sid}"
                        )),
                    }),
                },
                status: Status::Open,
                assignee: None,
                first_response_at: None,
            },
        }
    );
}

#[test]
fn a_call_to_the_enterprise_hotline_is_on_the_enterprise_plan() {
    let event = single_event(send(fixture(
        "twilio/recording_completed_with_numbers.form",
    )));
    assert_eq!(event.snapshot.request.plan, Plan::Enterprise);
    assert_eq!(event.occurred_at, at("2026-11-28T09:00:00Z"));
    let voicemail = event.snapshot.request.voicemail.unwrap();
    assert_eq!(voicemail.caller, "+4915791234567", "%2B decodes to +");
    assert_eq!(voicemail.called, "+49301234560");
    assert_eq!(voicemail.duration_seconds, 17);
    assert_eq!(
        event.snapshot.request.subject.as_deref(),
        Some("Voicemail from +4915791234567")
    );
}

#[test]
fn an_absent_recording_is_a_missed_call_without_a_recording_url() {
    let event = single_event(send(fixture("twilio/recording_absent.form")));
    let sid = "RE0123456789abcdef0123456789abcdee";
    assert_eq!(event.case_id, recording(sid));
    assert_eq!(event.event_id, format!("{sid}:absent"));
    assert_eq!(event.change, Change::Opened);
    assert_eq!(event.occurred_at, at("2026-11-28T09:05:00Z"));
    assert_eq!(event.snapshot.request.plan, Plan::Standard);
    assert_eq!(
        event.snapshot.request.voicemail,
        Some(Voicemail {
            // Only the legacy Caller/Called names are present here.
            caller: "+4915791234567".into(),
            called: "+4930999999".into(),
            duration_seconds: 0,
            recording_url: None,
        })
    );
    assert_eq!(
        event.snapshot.request.subject.as_deref(),
        Some("Missed call from +4915791234567")
    );
}

#[test]
fn recordings_in_progress_or_failed_are_accepted_and_ignored() {
    assert!(matches!(
        send(fixture("twilio/recording_in_progress.form")),
        Ok(Intake::Ignored { .. })
    ));
    let failed = fixture_text("twilio/recording_in_progress.form")
        .replace("RecordingStatus=in-progress", "RecordingStatus=failed");
    assert!(matches!(send(failed), Ok(Intake::Ignored { .. })));
}

#[test]
fn without_a_start_time_the_voicemail_was_received_now() {
    let body = fixture_text("twilio/recording_completed.form").replace(
        "&RecordingStartTime=Mon%2C+22+Aug+2022+12%3A00%3A00+%2B0000",
        "",
    );
    let event = single_event(send(body));
    assert_eq!(event.snapshot.request.received, now());
    assert_eq!(event.occurred_at, now());
}

#[test]
fn from_and_to_win_over_caller_and_called() {
    let body = "RecordingSid=RE0123456789abcdef0123456789abcdef&RecordingStatus=absent&Caller=%2B111&Called=%2B222&From=%2B333&To=%2B444";
    let voicemail = single_event(send(body)).snapshot.request.voicemail.unwrap();
    assert_eq!(
        (voicemail.caller.as_str(), voicemail.called.as_str()),
        ("+333", "+444")
    );
}

#[test]
fn negative_durations_mean_nothing_was_recorded() {
    let body = "RecordingSid=RE0123456789abcdef0123456789abcdef&RecordingStatus=absent&RecordingDuration=-1";
    let voicemail = single_event(send(body)).snapshot.request.voicemail.unwrap();
    assert_eq!(voicemail.duration_seconds, 0);
}

#[test]
fn malformed_bodies_are_refused_with_a_reason() {
    let completed = fixture_text("twilio/recording_completed.form");
    let without = |name: &str| {
        completed
            .split('&')
            .filter(|pair| !pair.starts_with(&format!("{name}=")))
            .collect::<Vec<_>>()
            .join("&")
    };
    let table: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "bad percent-encoding",
            completed.replace("%3A", "%zz").into_bytes(),
            "percent-encoding",
        ),
        (
            "truncated percent-encoding",
            format!("{completed}&X=%4").into_bytes(),
            "percent-encoding",
        ),
        (
            "encoded bytes that are not UTF-8",
            format!("{completed}&X=%C3%28").into_bytes(),
            "UTF-8",
        ),
        (
            "raw bytes that are not UTF-8",
            [completed.as_bytes(), b"&X=\xff"].concat(),
            "UTF-8",
        ),
        (
            "missing RecordingSid",
            without("RecordingSid").into_bytes(),
            "RecordingSid",
        ),
        (
            "missing RecordingStatus",
            without("RecordingStatus").into_bytes(),
            "RecordingStatus",
        ),
        (
            "completed without RecordingUrl",
            without("RecordingUrl").into_bytes(),
            "RecordingUrl",
        ),
        (
            "completed without duration",
            without("RecordingDuration").into_bytes(),
            "RecordingDuration",
        ),
        (
            "duration is text",
            completed
                .replace("RecordingDuration=42", "RecordingDuration=lots")
                .into_bytes(),
            "RecordingDuration",
        ),
        (
            "start time is ISO, not RFC 2822",
            completed
                .replace(
                    "Mon%2C+22+Aug+2022+12%3A00%3A00+%2B0000",
                    "2022-08-22T12%3A00%3A00Z",
                )
                .into_bytes(),
            "RFC 2822",
        ),
        (
            "recording url is not http",
            completed
                .replace("https%3A%2F%2F", "ftp%3A%2F%2F")
                .into_bytes(),
            "RecordingUrl",
        ),
        (
            "recording sid with a space",
            completed
                .replace("RecordingSid=RE", "RecordingSid=R+E")
                .into_bytes(),
            "RecordingSid",
        ),
        (
            "recording sid that is not RE and 32 hex digits",
            completed
                .replace("RecordingSid=RE9c8b", "RecordingSid=RE9c8g")
                .into_bytes(),
            "32 hexadecimal digits",
        ),
        (
            "call sid of another kind",
            completed.replace("CallSid=CA", "CallSid=CF").into_bytes(),
            "CallSid",
        ),
        (
            "account sid too long",
            completed
                .replace("AccountSid=AC8a1e", "AccountSid=AC08a1e")
                .into_bytes(),
            "AccountSid",
        ),
        (
            "duplicated RecordingSid",
            format!("{completed}&RecordingSid=RE2").into_bytes(),
            "more than once",
        ),
        (
            "a JSON body",
            br#"{"RecordingSid":"RE1"}"#.to_vec(),
            "RecordingSid",
        ),
        ("empty body", Vec::new(), "RecordingSid"),
    ];
    for (name, body, hint) in table {
        let reason = expect_malformed(send(body)).to_lowercase();
        assert!(
            reason.contains(&hint.to_lowercase()),
            "{name}: {reason:?} should mention {hint:?}"
        );
    }
}

#[test]
fn a_captured_callback_re_split_between_two_parameters_is_refused() {
    // Twilio signs names and values run together, so moving "RecordVerb" from the value of
    // RecordingSource to the end of RecordingSid keeps a captured signature valid; only the
    // sid's format gives the forgery away.
    let original = fixture_text("twilio/recording_completed.form");
    let sid = "RE9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a49";
    let forged = original
        .replace(
            &format!("RecordingSid={sid}"),
            &format!("RecordingSid={sid}RecordingSourceRecordVerb"),
        )
        .replace("&RecordingSource=RecordVerb", "");
    let captured = twilio_request(original.into_bytes());
    let replayed = twilio_request(forged.into_bytes());
    assert_eq!(
        captured.headers, replayed.headers,
        "the forgery keeps the captured signature"
    );

    let reason = expect_malformed(twilio().handle(&replayed.raw(), now()));

    assert!(reason.contains("RecordingSid"), "{reason}");
}

#[test]
fn a_recording_started_a_day_ahead_of_our_clock_is_refused() {
    let body = fixture_text("twilio/recording_completed.form").replace(
        "Mon%2C+22+Aug+2022+12%3A00%3A00+%2B0000",
        "Fri%2C+01+Jan+2100+12%3A00%3A00+%2B0000",
    );
    let reason = expect_malformed(send(body));
    assert!(reason.contains("more than 24 hours after"), "{reason}");
}
