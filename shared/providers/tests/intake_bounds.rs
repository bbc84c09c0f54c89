//! The largest webhook each provider may send (a body of exactly the 256 KiB limit, its texts
//! as long as that allows) becomes an event whose texts are bounded at intake: every text at
//! most `MAX_TEXT_BYTES`, cut on a character boundary, an over-long event id replaced by its
//! hash, so that what the case, its timeline and its effects copy stays small.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{
    at, fixture, intercom, intercom_request, single_event, twilio, twilio_request, zendesk,
    zendesk_request,
};
use domain::case::{CaseEvent, Change};
use providers::{DEFAULT_BODY_LIMIT, MAX_EMAIL_BYTES, MAX_EVENT_ID_BYTES, MAX_TEXT_BYTES};
use serde_json::{Value, json};

/// `bytes` bytes of text with two-byte characters (and one `x` when odd), so that a cut in the
/// wrong place would split a character.
fn filler(bytes: usize) -> String {
    let mut text = "ü".repeat(bytes / 2);
    if bytes % 2 == 1 {
        text.push('x');
    }
    text
}

/// The JSON body `build` makes with `fields` texts, each as long as the limit allows together
/// (the remainder goes to the first): exactly `DEFAULT_BODY_LIMIT` bytes.
fn largest_json(fields: usize, build: impl Fn(&[String]) -> Value) -> Vec<u8> {
    let empty = vec![String::new(); fields];
    let base = serde_json::to_vec(&build(&empty)).unwrap().len();
    let room = DEFAULT_BODY_LIMIT - base;
    let texts: Vec<String> = (0..fields)
        .map(|i| filler(room / fields + if i == 0 { room % fields } else { 0 }))
        .collect();
    let body = serde_json::to_vec(&build(&texts)).unwrap();
    assert_eq!(body.len(), DEFAULT_BODY_LIMIT, "the largest body allowed");
    body
}

/// Every text of the event within its bound, and the event itself small.
fn assert_bounded(event: &CaseEvent) {
    let facts = &event.snapshot;
    let mut texts: Vec<&str> = Vec::new();
    texts.extend(facts.request.subject.as_deref());
    texts.extend(facts.request.link.as_deref());
    texts.extend(facts.assignee.as_deref());
    texts.extend(facts.request.labels.cluster.as_deref());
    texts.extend(facts.request.labels.website.as_deref());
    if let Some(requester) = &facts.request.requester {
        texts.extend(requester.name.as_deref());
        if let Some(email) = &requester.email {
            assert!(email.len() <= MAX_EMAIL_BYTES, "{}", email.len());
        }
    }
    if let Some(voicemail) = &facts.request.voicemail {
        texts.push(&voicemail.caller);
        texts.push(&voicemail.called);
        texts.extend(voicemail.recording_url.as_deref());
    }
    if let Change::Assigned {
        assignee: Some(assignee),
    } = &event.change
    {
        texts.push(assignee);
    }
    assert!(texts.len() >= 3, "{texts:?}");
    for text in texts {
        assert!(text.len() <= MAX_TEXT_BYTES, "{} bytes", text.len());
    }
    assert!(event.event_id.len() <= MAX_EVENT_ID_BYTES);
    let size = serde_json::to_vec(event).unwrap().len();
    assert!(size < 16 * 1024, "the event is {size} bytes");
}

#[test]
fn the_largest_zendesk_comment_is_bounded_at_intake() {
    let template: Value =
        serde_json::from_slice(&fixture("zendesk/ticket_comment_added.json")).unwrap();
    let body = largest_json(5, |texts| {
        let mut value = template.clone();
        value["detail"]["subject"] = json!(texts[0]);
        value["event"]["comment"]["author"]["name"] = json!(texts[1]);
        value["detail"]["tags"] = json!([
            format!("cluster_{}", texts[2]),
            format!("site_{}", texts[3])
        ]);
        value["id"] = json!(format!("d8551ba3-{}", texts[4]));
        value
    });
    let signed_at = "2026-06-09T08:36:45Z";
    let event =
        single_event(zendesk().handle(&zendesk_request(signed_at, body).raw(), at(signed_at)));
    assert_bounded(&event);
    let subject = event.snapshot.request.subject.as_deref().unwrap();
    assert!(
        subject.ends_with('…') && subject.starts_with("üüü"),
        "cut and marked"
    );
    assert!(
        event
            .snapshot
            .request
            .requester
            .as_ref()
            .unwrap()
            .name
            .as_deref()
            .unwrap()
            .ends_with('…')
    );
    assert!(
        event
            .snapshot
            .request
            .labels
            .cluster
            .as_deref()
            .unwrap()
            .ends_with('…')
    );
    assert!(event.event_id.starts_with("sha256:"), "{}", event.event_id);
}

#[test]
fn the_largest_intercom_conversation_is_bounded_at_intake() {
    let template: Value =
        serde_json::from_slice(&fixture("intercom/conversation_user_created.json")).unwrap();
    let body = largest_json(5, |texts| {
        let mut value = template.clone();
        let item = &mut value["data"]["item"];
        item["title"] = json!(texts[0]);
        item["source"]["author"]["name"] = json!(texts[1]);
        item["source"]["author"]["email"] = json!(format!("{}@example.org", texts[2]));
        item["tags"]["tags"][0]["name"] = json!(format!("cluster_{}", texts[3]));
        item["admin_assignee_id"] = json!(texts[4]);
        value
    });
    let event =
        single_event(intercom().handle(&intercom_request(body).raw(), at("2022-09-19T15:06:42Z")));
    assert_bounded(&event);
    let requester = event.snapshot.request.requester.as_ref().unwrap();
    assert_eq!(
        requester.email, None,
        "an address cut short would reach someone else"
    );
    assert!(requester.name.as_deref().unwrap().ends_with('…'));
    assert!(event.snapshot.assignee.as_deref().unwrap().ends_with('…'));
}

#[test]
fn the_largest_twilio_callback_is_bounded_at_intake() {
    // The `<Record>` action carries the most texts: the numbers, the caller's name, the link.
    let form = |caller: &str, called: &str, url: &str| {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("AccountSid", "AC0123456789abcdef0123456789abcdef")
            .append_pair("CallSid", "CA0123456789abcdef0123456789abcdef")
            .append_pair("From", caller)
            .append_pair("To", called)
            .append_pair("RecordingUrl", &format!("https://api.twilio.com/{url}"))
            .append_pair("RecordingDuration", "17")
            .finish()
    };
    // ASCII digits: one byte each in the form, so the body is exactly the limit.
    let room = DEFAULT_BODY_LIMIT - form("", "", "").len();
    let text = |bytes: usize| "4".repeat(bytes);
    let body = form(&text(room / 3 + room % 3), &text(room / 3), &text(room / 3));
    assert_eq!(body.len(), DEFAULT_BODY_LIMIT);
    let policy = policy_file::default_policy().unwrap();
    let answer = twilio()
        .handle_record_action(
            &twilio_request(body).raw(),
            at("2026-11-28T09:01:00Z"),
            &policy,
        )
        .unwrap();
    let event = answer.event.unwrap();
    assert_bounded(&event);
    let voicemail = event.snapshot.request.voicemail.as_ref().unwrap();
    assert!(voicemail.caller.ends_with('…'));
    assert!(
        voicemail
            .recording_url
            .as_deref()
            .unwrap()
            .starts_with("https://api.twilio.com/")
    );
}
