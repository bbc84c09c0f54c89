//! PagerDuty v3 incident webhooks: signatures (vectors PD-1 to PD-4, docs/test-vectors.md) and
//! the alert update each documented payload becomes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{at, fixture};
use domain::case::{AlertAction, AlertKey, AlertUpdate, CaseId};
use http::{HeaderMap, HeaderValue, Method};
use providers::{PagerDutyConfig, PagerDutyHandler, PagerDutyIntake, RawRequest, Rejection};

const SECRET: &str = "pd_test_webhook_secret";
/// PD-1: the signature of `incident_acknowledged.json` under `SECRET`.
const PD1: &str = "v1=65e520c67b321f556bbbf8683a30cc2b312f0ab4848fbe3c794fd155cf0d966a";
/// PD-2: the signature of `incident_resolved.json` under `SECRET`.
const PD2: &str = "v1=d922edac6da1ed156c6f6f3cae5702a363ddf8ce4150d7bd32b137bb32346013";
/// PD-3: the signature of the empty body under `SECRET`.
const PD3: &str = "v1=5c1299cab285e716a9dab47243859045dbd0b0694a9dee66cddbb695b8f3e487";
const NOW: &str = "2026-11-27T10:00:00Z";

fn handler() -> PagerDutyHandler {
    PagerDutyHandler::new(PagerDutyConfig::new(
        providers::Secret::new(SECRET).unwrap(),
    ))
}

fn headers(signature: &str, webhook_id: Option<&str>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-pagerduty-signature",
        HeaderValue::from_str(signature).unwrap(),
    );
    if let Some(id) = webhook_id {
        headers.insert("x-webhook-id", HeaderValue::from_str(id).unwrap());
    }
    headers
}

fn handle(body: &[u8], headers: &HeaderMap) -> Result<PagerDutyIntake, Rejection> {
    let request = RawRequest::new(&Method::POST, "/webhooks/pagerduty", headers, body);
    handler().handle(&request, at(NOW))
}

fn update(intake: Result<PagerDutyIntake, Rejection>) -> AlertUpdate {
    match intake {
        Ok(PagerDutyIntake::Update(update)) => update,
        other => panic!("not an update: {other:?}"),
    }
}

#[test]
fn a_signed_acknowledgement_names_our_alert_the_person_and_the_time() {
    let body = fixture("pagerduty/incident_acknowledged.json");

    let update = update(handle(
        &body,
        &headers(PD1, Some("f8b8d0a4-7a8e-4a3e-9d2c-3f0a1f3f4e11")),
    ));

    assert_eq!(
        update,
        AlertUpdate {
            case_id: CaseId::parse("zendesk-4711").unwrap(),
            alert: AlertKey::FirstResponse,
            event_id: "pagerduty-f8b8d0a4-7a8e-4a3e-9d2c-3f0a1f3f4e11".into(),
            occurred_at: at("2026-11-27T09:36:05Z"),
            action: AlertAction::Acknowledged,
            by: Some("Earline Greenholt".into()),
            incident_created_at: Some(at("2026-11-27T09:31:05Z")),
        }
    );
}

#[test]
fn any_matching_signature_of_a_rotation_passes_whatever_its_place() {
    let body = fixture("pagerduty/incident_acknowledged.json");
    let stale = "v1=0000000000000000000000000000000000000000000000000000000000000000";

    for header in [
        format!("{stale},{PD1}"),
        format!("{PD1}, {stale}"),
        format!("{stale}, {PD1}"),
    ] {
        let intake = handle(&body, &headers(&header, None));
        assert!(
            matches!(intake, Ok(PagerDutyIntake::Update(_))),
            "{header}: {intake:?}"
        );
    }
}

#[test]
fn a_wrong_missing_or_misprefixed_signature_is_refused() {
    let body = fixture("pagerduty/incident_acknowledged.json");
    let digest = PD1.trim_start_matches("v1=");
    for header in [
        // PD-2 belongs to another body.
        PD2.to_owned(),
        digest.to_owned(),
        format!("v2={digest}"),
        format!("v1={}", &digest[..62]),
        String::from("v1=not-hex"),
        String::new(),
    ] {
        assert_eq!(
            handle(&body, &headers(&header, None)),
            Err(Rejection::BadSignature),
            "{header:?}"
        );
    }
    let none = HeaderMap::new();
    let request = RawRequest::new(&Method::POST, "/", &none, &body);
    assert!(matches!(
        handler().handle(&request, at(NOW)),
        Err(Rejection::MissingSignature { .. })
    ));
    // The body changed by one byte no longer matches its signature.
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    assert_eq!(
        handle(&tampered, &headers(PD1, None)),
        Err(Rejection::BadSignature)
    );
}

#[test]
fn a_resolve_by_a_person_names_them_and_one_by_a_service_names_no_one() {
    let by_person = update(handle(
        &fixture("pagerduty/incident_resolved.json"),
        &headers(PD2, Some("d1")),
    ));
    assert_eq!(by_person.action, AlertAction::Resolved);
    assert_eq!(by_person.by.as_deref(), Some("Earline Greenholt"));

    let body = fixture("pagerduty/incident_resolved_by_integration.json");
    let signature = format!("v1={}", sign(&body));
    let by_service = update(handle(&body, &headers(&signature, Some("d2"))));
    assert_eq!(by_service.action, AlertAction::Resolved);
    assert_eq!(by_service.by, None);
}

#[test]
fn without_a_webhook_id_the_event_id_deduplicates() {
    let update = update(handle(
        &fixture("pagerduty/incident_acknowledged.json"),
        &headers(PD1, None),
    ));
    assert_eq!(update.event_id, "pagerduty-01DEN3EQUJGCHRQ6YVS4SJ4VBD");
}

#[test]
fn an_incident_that_is_not_ours_or_an_event_we_do_not_track_is_ignored() {
    let foreign = fixture("pagerduty/incident_foreign.json");
    let intake = handle(&foreign, &headers(&format!("v1={}", sign(&foreign)), None));
    assert!(
        matches!(&intake, Ok(PagerDutyIntake::Ignored { reason }) if reason.contains("no alert of ours")),
        "{intake:?}"
    );

    let annotated = String::from_utf8(fixture("pagerduty/incident_acknowledged.json"))
        .unwrap()
        .replace("incident.acknowledged", "incident.annotated")
        .into_bytes();
    let intake = handle(
        &annotated,
        &headers(&format!("v1={}", sign(&annotated)), None),
    );
    assert!(
        matches!(intake, Ok(PagerDutyIntake::Ignored { .. })),
        "{intake:?}"
    );
}

#[test]
fn a_signed_body_that_is_not_a_webhook_is_a_bad_request() {
    let body = br#"{"event":{"id":"x","event_type":"incident.acknowledged"}}"#;
    let intake = handle(body, &headers(&format!("v1={}", sign(body)), None));
    assert!(
        matches!(&intake, Err(Rejection::Malformed { reason, .. }) if reason.contains("occurred_at")),
        "{intake:?}"
    );
}

#[test]
fn the_empty_body_vector_passes_the_signature_and_fails_as_a_body() {
    let intake = handle(b"", &headers(PD3, None));
    assert!(
        matches!(intake, Err(Rejection::Malformed { .. })),
        "{intake:?}"
    );
    assert_eq!(
        handle(b" ", &headers(PD3, None)),
        Err(Rejection::BadSignature)
    );
}

#[test]
fn only_post_is_accepted() {
    let body = fixture("pagerduty/incident_acknowledged.json");
    let headers = headers(PD1, None);
    let request = RawRequest::new(&Method::GET, "/", &headers, &body);
    assert!(matches!(
        handler().handle(&request, at(NOW)),
        Err(Rejection::MethodNotAllowed { .. })
    ));
}

/// HMAC-SHA256 in hex, computed with `hmac` directly (not the crate's code).
fn sign(body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}
