//! Acknowledgements survive the stored format: the case document and the timeline entry of
//! an incident update read back as written.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::ports::{TimelineEntry, TimelineKind};
use app::stored::{decode_case, decode_timeline_entry, encode_case, encode_timeline_entry};
use domain::case::{AlertAction, AlertKey, AlertResponse};
use store_contract::blocks::{at, sample_case, t0};

#[test]
fn a_case_with_alert_responses_reads_back_as_written() {
    let mut case = sample_case("zendesk-4711", t0());
    case.alert_responses.insert(
        AlertKey::Dispatch,
        AlertResponse {
            triggered_at: Some(at(900)),
            acknowledged_at: Some(at(1260)),
            acknowledged_by: Some("Earline Greenholt".into()),
            resolved_at: Some(at(2000)),
            resolved_by: Some("Earline Greenholt".into()),
        },
    );

    let json = encode_case(&case).unwrap();

    assert!(
        json.contains(r#""alert_responses":{"dispatch":{"#),
        "{json}"
    );
    assert_eq!(decode_case(&json).unwrap(), case);
}

#[test]
fn a_case_document_without_alert_responses_has_none() {
    let case = sample_case("zendesk-4712", t0());
    let json = encode_case(&case).unwrap();
    assert!(!json.contains("alert_responses"), "{json}");
    assert!(decode_case(&json).unwrap().alert_responses.is_empty());
}

#[test]
fn an_alert_update_in_the_timeline_reads_back_as_written() {
    let entry = TimelineEntry {
        at: at(1260),
        kind: TimelineKind::AlertUpdated {
            event_id: "pagerduty-w-1".into(),
            occurred_at: at(1250),
            alert: AlertKey::FirstResponse,
            action: AlertAction::Acknowledged,
            by: Some("Earline Greenholt".into()),
        },
    };

    let json = encode_timeline_entry(&entry).unwrap();

    assert!(json.contains(r#""type":"alert_updated""#), "{json}");
    assert!(json.contains(r#""alert":"first_response""#), "{json}");
    assert_eq!(decode_timeline_entry(&json).unwrap(), entry);
}
