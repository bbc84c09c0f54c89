//! Property tests: whatever the bytes, a validly signed request never panics a handler, and a
//! valid signature is never mistaken for a bad one. Each body is signed as the provider would
//! sign it, so the parser really runs on it. Bounded to 2000 cases per property.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{
    at, fixture, intercom, intercom_request, twilio, twilio_request, zendesk, zendesk_request,
};
use proptest::prelude::*;
use providers::{Intake, Rejection};
use serde_json::Value;

const SIGNED_AT: &str = "2026-01-01T00:00:00Z";

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The invariants every outcome of a validly signed request must keep.
fn check(provider: &str, outcome: Result<Intake, Rejection>) -> Result<(), TestCaseError> {
    match outcome {
        Err(Rejection::BadSignature | Rejection::MissingSignature { .. }) => Err(
            TestCaseError::fail(format!("{provider}: a valid signature was refused")),
        ),
        Err(Rejection::Malformed { reason, .. }) => {
            prop_assert!(!reason.is_empty());
            Ok(())
        }
        Err(other) => Err(TestCaseError::fail(format!(
            "{provider}: unexpected {other:?}"
        ))),
        Ok(Intake::Accepted(events)) => {
            prop_assert_eq!(events.len(), 1);
            for event in events {
                let prefix = format!("{provider}-");
                prop_assert!(event.case_id.as_str().starts_with(&prefix));
                prop_assert!(!event.event_id.is_empty());
            }
            Ok(())
        }
        Ok(Intake::Ignored { .. } | Intake::Pong) => Ok(()),
    }
}

fn run_zendesk(body: Vec<u8>) -> Result<(), TestCaseError> {
    let request = zendesk_request(SIGNED_AT, body);
    check("zendesk", zendesk().handle(&request.raw(), at(SIGNED_AT)))
}

fn run_intercom(body: Vec<u8>) -> Result<(), TestCaseError> {
    let request = intercom_request(body);
    check("intercom", intercom().handle(&request.raw(), at(SIGNED_AT)))
}

fn run_twilio(body: Vec<u8>) -> Result<(), TestCaseError> {
    let request = twilio_request(body);
    check("twilio", twilio().handle(&request.raw(), at(SIGNED_AT)))
}

/// A byte-level edit of a valid body, at a position taken modulo its length.
#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Delete(usize, usize),
    Insert(usize, Vec<u8>),
    Flip(usize, u8),
}

fn mutations(tokens: &'static [&'static str]) -> impl Strategy<Value = Vec<Mutation>> {
    let token = prop_oneof![
        prop::sample::select(tokens).prop_map(|t| t.as_bytes().to_vec()),
        prop::collection::vec(any::<u8>(), 1..4),
    ];
    let mutation = prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 1..16_usize).prop_map(|(at, n)| Mutation::Delete(at, n)),
        (any::<usize>(), token).prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Flip(at, byte)),
    ];
    prop::collection::vec(mutation, 1..6)
}

fn mutate(body: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut body = body.to_vec();
    for mutation in mutations {
        let len = body.len().max(1);
        match mutation {
            Mutation::Truncate(at) => body.truncate(at % len),
            Mutation::Delete(at, n) => {
                let start = (at % len).min(body.len());
                let end = (start + n).min(body.len());
                body.drain(start..end);
            }
            Mutation::Insert(at, bytes) => {
                let at = (at % (body.len() + 1)).min(body.len());
                body.splice(at..at, bytes.iter().copied());
            }
            Mutation::Flip(at, byte) => {
                if !body.is_empty() {
                    let at = at % body.len();
                    body[at] = *byte;
                }
            }
        }
    }
    body
}

const JSON_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "null",
    "true",
    "false",
    "0",
    "-1",
    "1.5",
    "1e999",
    "18446744073709551616",
    "\"\"",
    "\"SOLVED\"",
    "\"priority\"",
    "\\u0000",
    "\\ud800",
    "ü",
    "\u{10FFFF}",
    "\"zen:event-type:ticket.created\"",
    "\"conversation.admin.replied\"",
];

const FORM_TOKENS: &[&str] = &[
    "&",
    "=",
    "%",
    "%2",
    "%2B",
    "%zz",
    "%C3%BC",
    "%FF",
    "+",
    "RecordingStatus=completed",
    "RecordingStatus=absent",
    "RecordingSid=",
    "RecordingDuration=-5",
    "RecordingUrl=http%3A%2F%2Fx",
    "RecordingStartTime=Mon%2C+22+Aug+2022+12%3A00%3A00+%2B0000",
    "From=%2B49",
    "ü",
];

/// Arbitrary JSON values, nested a little, to replace one field of a valid payload.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        prop::sample::select(vec![
            "SOLVED", "open", "URGENT", "priority", "closed", "0", ""
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Every JSON pointer of a value, so a strategy can pick one field to replace.
fn pointers(value: &Value, prefix: String, into: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let path = format!("{prefix}/{}", key.replace('~', "~0").replace('/', "~1"));
                into.push(path.clone());
                pointers(child, path, into);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                let path = format!("{prefix}/{index}");
                into.push(path.clone());
                pointers(child, path, into);
            }
        }
        _ => {}
    }
}

fn replace_field(fixture_path: &str, pick: usize, replacement: Value, remove: bool) -> Vec<u8> {
    let mut value: Value = serde_json::from_slice(&fixture(fixture_path)).unwrap();
    let mut paths = Vec::new();
    pointers(&value, String::new(), &mut paths);
    let path = &paths[pick % paths.len()];
    if remove {
        let (parent, key) = path.rsplit_once('/').unwrap();
        if let Some(Value::Object(map)) = value.pointer_mut(parent) {
            map.remove(&key.replace("~1", "/").replace("~0", "~"));
        }
    } else if let Some(slot) = value.pointer_mut(path) {
        *slot = replacement;
    }
    serde_json::to_vec(&value).unwrap()
}

const ZENDESK_FIXTURES: &[&str] = &[
    "zendesk/ticket_created.json",
    "zendesk/ticket_comment_added.json",
    "zendesk/ticket_comment_added_by_staff.json",
    "zendesk/ticket_status_changed.json",
    "zendesk/ticket_agent_assignment_changed.json",
    "zendesk/ticket_priority_changed.json",
    "zendesk/ticket_tags_changed.json",
];

const INTERCOM_FIXTURES: &[&str] = &[
    "intercom/conversation_user_created.json",
    "intercom/conversation_admin_replied.json",
    "intercom/conversation_admin_assigned.json",
    "intercom/conversation_admin_closed.json",
    "intercom/conversation_priority_updated.json",
    "intercom/conversation_user_replied.json",
];

const TWILIO_FIXTURES: &[&str] = &[
    "twilio/recording_completed.form",
    "twilio/recording_completed_of_call.form",
    "twilio/recording_absent.form",
    "twilio/recording_in_progress.form",
];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn zendesk_survives_arbitrary_bytes(body in prop::collection::vec(any::<u8>(), 0..512)) {
        run_zendesk(body)?;
    }

    #[test]
    fn zendesk_survives_mutated_payloads(
        which in prop::sample::select(ZENDESK_FIXTURES),
        edits in mutations(JSON_TOKENS),
    ) {
        run_zendesk(mutate(&fixture(which), &edits))?;
    }

    #[test]
    fn zendesk_survives_any_field_replaced_or_removed(
        which in prop::sample::select(ZENDESK_FIXTURES),
        pick in any::<usize>(),
        replacement in json_value(),
        remove in any::<bool>(),
    ) {
        run_zendesk(replace_field(which, pick, replacement, remove))?;
    }

    #[test]
    fn intercom_survives_arbitrary_bytes(body in prop::collection::vec(any::<u8>(), 0..512)) {
        run_intercom(body)?;
    }

    #[test]
    fn intercom_survives_mutated_payloads(
        which in prop::sample::select(INTERCOM_FIXTURES),
        edits in mutations(JSON_TOKENS),
    ) {
        run_intercom(mutate(&fixture(which), &edits))?;
    }

    #[test]
    fn intercom_survives_any_field_replaced_or_removed(
        which in prop::sample::select(INTERCOM_FIXTURES),
        pick in any::<usize>(),
        replacement in json_value(),
        remove in any::<bool>(),
    ) {
        run_intercom(replace_field(which, pick, replacement, remove))?;
    }

    #[test]
    fn twilio_survives_arbitrary_bytes(body in prop::collection::vec(any::<u8>(), 0..512)) {
        run_twilio(body)?;
    }

    #[test]
    fn twilio_survives_mutated_payloads(
        which in prop::sample::select(TWILIO_FIXTURES),
        edits in mutations(FORM_TOKENS),
    ) {
        run_twilio(mutate(&fixture(which), &edits))?;
    }

    #[test]
    fn twilio_survives_arbitrary_parameter_values(
        status in prop::sample::select(vec!["completed", "absent", "in-progress", "failed", "", "x"]),
        values in prop::collection::vec(".{0,24}", 6),
    ) {
        let names = ["RecordingSid", "RecordingUrl", "RecordingDuration", "RecordingStartTime", "From", "To"];
        let mut body: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("RecordingStatus", status)
            .extend_pairs(names.iter().zip(values.iter()))
            .finish();
        body.push_str("&AccountSid=AC1");
        run_twilio(body.into_bytes())?;
    }
}
