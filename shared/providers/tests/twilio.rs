//! Twilio recording status callbacks, from the form bodies of docs/providers/twilio.md (TW-5)
//! to the normalized voicemail `CaseEvent`, and malformed variants (400).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{at, expect_malformed, fixture, fixture_text, single_event, twilio, twilio_request};
use domain::case::{CaseEvent, CaseFacts, CaseId, Change, RequestFacts, Status, Voicemail};
use domain::policy::{Channel, Labels, Plan, Policy, Priority};
use providers::twilio::VoiceAnswer;
use providers::{Intake, Rejection};

fn now() -> jiff::Timestamp {
    at("2026-11-28T09:10:00Z")
}

fn send(body: impl Into<Vec<u8>>) -> Result<Intake, Rejection> {
    twilio().handle(&twilio_request(body).raw(), now())
}

fn call(sid: &str) -> CaseId {
    CaseId::for_provider("twilio", sid).unwrap()
}

const CALL_SID: &str = "CA0123456789abcdef0123456789abcdef";

fn policy() -> Policy {
    policy_file::default_policy().unwrap()
}

fn voice(fixture_name: &str, now: jiff::Timestamp) -> Result<VoiceAnswer, Rejection> {
    twilio().handle_voice(&twilio_request(fixture(fixture_name)).raw(), now, &policy())
}

fn action(body: impl Into<Vec<u8>>) -> Result<VoiceAnswer, Rejection> {
    twilio().handle_record_action(&twilio_request(body).raw(), now(), &policy())
}

#[test]
fn a_completed_recording_is_an_urgent_voicemail_of_its_call_with_a_playable_link() {
    let event = single_event(send(fixture("twilio/recording_completed.form")));
    let sid = "RE9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a49";
    let call_sid = "CA3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c";
    assert_eq!(
        event,
        CaseEvent {
            case_id: call(call_sid),
            event_id: format!("{sid}:completed"),
            occurred_at: at("2022-08-22T12:00:00Z"),
            change: Change::VoicemailLeft,
            snapshot: CaseFacts {
                request: RequestFacts {
                    channel: Channel::Phone,
                    plan: Plan::Standard,
                    priority: Priority::Urgent,
                    received: at("2022-08-22T12:00:00Z"),
                    labels: Labels::default(),
                    subject: None,
                    requester: None,
                    link: None,
                    // Twilio's recording status callback has no From/To: the call start knows.
                    voicemail: Some(Voicemail {
                        caller: "unknown".into(),
                        called: "unknown".into(),
                        duration_seconds: 42,
                        recording_url: Some(format!(
                            "https://api.twilio.com/2010-04-01/Accounts/AC8a1e0d2e5c9b4f7a6d3c2b1a0f9e8d7c/Recordings/{sid}.mp3"
                        )),
                        ended_without_message: false,
                    }),
                },
                status: Status::Open,
                assignee: None,
                first_response_at: None,
                adoption: None,
                references: Default::default(),
            },
        }
    );
}

#[test]
fn a_recording_callback_with_every_documented_parameter_is_read() {
    let event = single_event(send(fixture("twilio/recording_completed_of_call.form")));
    assert_eq!(event.case_id, call(CALL_SID));
    assert_eq!(event.change, Change::VoicemailLeft);
    let voicemail = event.snapshot.request.voicemail.unwrap();
    assert_eq!(voicemail.duration_seconds, 17);
    assert!(
        voicemail
            .recording_url
            .unwrap()
            .ends_with("/Recordings/RE0123456789abcdef0123456789abcdef.mp3")
    );
}

#[test]
fn an_absent_recording_is_a_missed_call_without_a_recording_url() {
    let event = single_event(send(fixture("twilio/recording_absent.form")));
    let sid = "RE0123456789abcdef0123456789abcdee";
    assert_eq!(event.case_id, call("CA0123456789abcdef0123456789abcdee"));
    assert_eq!(event.event_id, format!("{sid}:absent"));
    assert_eq!(event.change, Change::CallMissed);
    assert_eq!(event.occurred_at, at("2026-11-28T09:05:00Z"));
    assert_eq!(event.snapshot.request.plan, Plan::Standard);
    assert_eq!(event.snapshot.request.priority, Priority::Normal);
    assert_eq!(
        event.snapshot.request.voicemail,
        Some(Voicemail {
            caller: "unknown".into(),
            called: "unknown".into(),
            duration_seconds: 0,
            recording_url: None,
            ended_without_message: false,
        })
    );
}

#[test]
fn a_completed_recording_of_nothing_is_a_missed_call() {
    let body = fixture_text("twilio/recording_completed_of_call.form")
        .replace("RecordingDuration=17", "RecordingDuration=0");
    let event = single_event(send(body));
    assert_eq!(event.change, Change::CallMissed);
    assert_eq!(
        event.snapshot.request.voicemail.unwrap().recording_url,
        None
    );
}

#[test]
fn an_incoming_call_starts_its_case_and_is_answered_with_the_recording_prompt() {
    // Tuesday 10:00 in Berlin: office hours.
    let answer = voice("twilio/voice_incoming.form", at("2026-12-01T09:00:00Z")).unwrap();
    let event = answer.event.unwrap();
    assert_eq!(event.case_id, call(CALL_SID));
    assert_eq!(event.event_id, format!("{CALL_SID}:call"));
    assert_eq!(event.change, Change::CallStarted);
    let request = &event.snapshot.request;
    assert_eq!(request.plan, Plan::Enterprise, "the hotline was called");
    assert_eq!(request.received, at("2026-12-01T09:00:00Z"));
    let voicemail = request.voicemail.as_ref().unwrap();
    assert_eq!(voicemail.caller, "+4915791234567");
    assert_eq!(voicemail.called, "+49301234560");
    assert_eq!(request.requester, None);

    let twiml = &answer.twiml;
    let texts = &policy().phone;
    assert!(twiml.contains(r#"<Say language="de-DE">"#), "{twiml}");
    assert!(twiml.contains(&texts.german.in_hours), "{twiml}");
    assert!(
        twiml
            .contains(r#"recordingStatusCallback="https://example.com/webhooks/twilio/recording""#),
        "{twiml}"
    );
    assert!(twiml.contains(r#"recordingStatusCallbackEvent="completed""#));
    assert!(twiml.contains(r#"action="https://example.com/webhooks/twilio/voice/goodbye""#));
    assert!(twiml.contains(r#"trim="trim-silence""#));
    assert!(twiml.contains(r#"maxLength="180""#));
}

#[test]
fn out_of_hours_the_caller_hears_the_out_of_hours_greeting() {
    // Saturday 03:00 in Berlin.
    let answer = voice("twilio/voice_incoming.form", at("2026-12-05T02:00:00Z")).unwrap();
    assert!(answer.twiml.contains(&policy().phone.german.out_of_hours));
}

#[test]
fn the_caller_name_becomes_the_requester_name() {
    let answer = voice("twilio/voice_incoming_caller_name.form", now()).unwrap();
    let request = answer.event.unwrap().snapshot.request;
    assert_eq!(
        request.requester.and_then(|r| r.name).as_deref(),
        Some("Max Müller")
    );
}

#[test]
fn the_record_action_with_a_message_is_the_voicemail_and_says_goodbye() {
    let answer = action(fixture("twilio/record_action_message.form")).unwrap();
    let event = answer.event.unwrap();
    assert_eq!(event.case_id, call(CALL_SID));
    assert_eq!(event.event_id, format!("{CALL_SID}:action"));
    assert_eq!(event.change, Change::VoicemailLeft);
    let voicemail = event.snapshot.request.voicemail.unwrap();
    assert_eq!(voicemail.caller, "+4915791234567");
    assert_eq!(voicemail.duration_seconds, 17);
    assert!(voicemail.recording_url.unwrap().ends_with(".mp3"));
    assert!(answer.twiml.contains(&policy().phone.german.goodbye));
    assert!(answer.twiml.contains("<Hangup/>"));
}

#[test]
fn the_record_action_without_a_message_is_a_missed_call() {
    let answer = action(fixture("twilio/record_action_no_message.form")).unwrap();
    assert_eq!(answer.event.unwrap().change, Change::CallMissed);
    let zero = fixture_text("twilio/record_action_message.form")
        .replace("RecordingDuration=17", "RecordingDuration=0");
    let answer = action(zero).unwrap();
    let event = answer.event.unwrap();
    assert_eq!(event.change, Change::CallMissed);
    assert_eq!(
        event.snapshot.request.voicemail.unwrap().recording_url,
        None
    );
    assert!(answer.twiml.contains("<Hangup/>"));
}

#[test]
fn voice_requests_need_a_valid_signature_and_call_sid() {
    let mut request = twilio_request(fixture("twilio/voice_incoming.form"));
    request.body.extend_from_slice(b"&Extra=1");
    assert!(matches!(
        twilio().handle_voice(&request.raw(), now(), &policy()),
        Err(Rejection::BadSignature)
    ));
    let body = fixture_text("twilio/voice_incoming.form")
        .replace(&format!("CallSid={CALL_SID}"), "CallSid=CA12");
    let Err(rejection) = twilio().handle_voice(&twilio_request(body).raw(), now(), &policy())
    else {
        panic!("a short CallSid was accepted");
    };
    assert!(rejection.to_string().contains("CallSid"), "{rejection}");
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
fn a_recording_callback_takes_no_numbers_from_parameters_twilio_does_not_send() {
    let body = "CallSid=CA0123456789abcdef0123456789abcdef&RecordingSid=RE0123456789abcdef0123456789abcdef&RecordingStatus=absent&From=%2B333&To=%2B444";
    let voicemail = single_event(send(body)).snapshot.request.voicemail.unwrap();
    assert_eq!(
        (voicemail.caller.as_str(), voicemail.called.as_str()),
        ("unknown", "unknown")
    );
}

#[test]
fn negative_durations_mean_nothing_was_recorded() {
    let body = "CallSid=CA0123456789abcdef0123456789abcdef&RecordingSid=RE0123456789abcdef0123456789abcdef&RecordingStatus=absent&RecordingDuration=-1";
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
            "missing CallSid",
            without("CallSid").into_bytes(),
            "CallSid",
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
