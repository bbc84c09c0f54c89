//! Intercom conversation topics, from the payload shapes of docs/providers/intercom.md to the
//! normalized `CaseEvent`, the HEAD/ping handshake, and malformed variants (400).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Request, at, expect_malformed, fixture, intercom, intercom_request, single_event};
use domain::case::{
    CaseEvent, CaseFacts, CaseId, Change, References, RequestFacts, Requester, Status,
};
use domain::policy::{Channel, Labels, Plan, Priority};
use http::Method;
use providers::{Intake, Rejection};
use serde_json::{Value, json};

fn now() -> jiff::Timestamp {
    at("2022-09-19T15:00:00Z")
}

fn send(body: impl Into<Vec<u8>>) -> Result<Intake, Rejection> {
    intercom().handle(&intercom_request(body).raw(), now())
}

fn send_fixture(name: &str) -> Result<Intake, Rejection> {
    send(fixture(&format!("intercom/{name}")))
}

fn edited(name: &str, edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut value: Value = serde_json::from_slice(&fixture(&format!("intercom/{name}"))).unwrap();
    edit(&mut value);
    serde_json::to_vec(&value).unwrap()
}

fn conversation(id: &str) -> CaseId {
    CaseId::for_provider("intercom", id).unwrap()
}

fn unix(seconds: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(seconds).unwrap()
}

#[test]
fn a_head_request_is_answered_without_a_signature() {
    let request = Request::post("/intercom", "").method(Method::HEAD);
    assert_eq!(intercom().handle(&request.raw(), now()), Ok(Intake::Pong));
}

#[test]
fn the_signed_ping_is_a_pong() {
    assert_eq!(send_fixture("ping.json"), Ok(Intake::Pong));
}

#[test]
fn an_unsigned_ping_is_refused() {
    let request = Request::post("/intercom", fixture("intercom/ping.json"));
    assert_eq!(
        intercom().handle(&request.raw(), now()),
        Err(Rejection::MissingSignature {
            header: "X-Hub-Signature"
        })
    );
}

#[test]
fn other_methods_are_405() {
    for method in [Method::GET, Method::PUT, Method::DELETE] {
        let request = intercom_request(fixture("intercom/ping.json")).method(method.clone());
        let rejection = intercom().handle(&request.raw(), now()).unwrap_err();
        assert_eq!(rejection.status(), 405, "{method}");
        assert_eq!(rejection.allow(), Some("POST, HEAD"));
    }
}

#[test]
fn a_new_conversation_opens_a_chat_case_received_at_its_creation() {
    let event = single_event(send_fixture("conversation_user_created.json"));
    assert_eq!(
        event,
        CaseEvent {
            case_id: conversation("1296"),
            event_id: "notif_1a2b3c4d-0000-4000-8000-000000001296".into(),
            occurred_at: unix(1663600000),
            change: Change::Opened,
            snapshot: CaseFacts {
                request: RequestFacts {
                    channel: Channel::Chat,
                    // No `enterprise` tag, but the conversation attribute SLA=Enterprise.
                    plan: Plan::Enterprise,
                    priority: Priority::High,
                    received: unix(1663600000),
                    labels: Labels {
                        cluster: Some("fra1".into()),
                        website: Some("shop.example.com".into()),
                    },
                    subject: Some("Shop is down".into()),
                    requester: Some(Requester {
                        name: Some("Jürgen Müller".into()),
                        email: Some("juergen@example.de".into()),
                    }),
                    link: Some(
                        "https://app.intercom.com/a/inbox/a86dr8yl/inbox/conversation/1296".into()
                    ),
                    voicemail: None,
                },
                status: Status::Open,
                assignee: None,
                first_response_at: None,
                adoption: None,
                references: References {
                    contact_ids: vec!["5ba682d23d7cf92bef87bfd5".into()],
                    ..References::default()
                },
            },
        }
    );
}

#[test]
fn an_admin_reply_is_the_first_response_at_the_time_of_its_part() {
    let event = single_event(send_fixture("conversation_admin_replied.json"));
    assert_eq!(
        event,
        CaseEvent {
            case_id: conversation("1295"),
            event_id: "notif_0f6c2b1e-1a2b-4c3d-9e8f-001122334455".into(),
            occurred_at: unix(1663597260),
            change: Change::AgentReplied,
            snapshot: CaseFacts {
                request: RequestFacts {
                    channel: Channel::Chat,
                    plan: Plan::Standard,
                    priority: Priority::Normal,
                    received: unix(1663597223),
                    labels: Labels::default(),
                    // No title: the customer's first message, as text.
                    subject: Some("My order never arrived".into()),
                    requester: Some(Requester {
                        name: Some("Jane".into()),
                        email: Some("jane@example.com".into()),
                    }),
                    link: Some(
                        "https://app.intercom.com/a/inbox/a86dr8yl/inbox/conversation/1295".into()
                    ),
                    voicemail: None,
                },
                status: Status::Open,
                assignee: Some("814860".into()),
                first_response_at: Some(unix(1663597260)),
                adoption: None,
                references: References {
                    contact_ids: vec!["5ba682d23d7cf92bef87bfd4".into()],
                    ..References::default()
                },
            },
        }
    );
}

#[test]
fn an_admin_reply_without_parts_happened_at_the_envelope_time() {
    let body = edited("conversation_admin_replied.json", |v| {
        v["data"]["item"]["conversation_parts"]["conversation_parts"] = json!([]);
        v["data"]["item"]["statistics"]["first_admin_reply_at"] = Value::Null;
        v["created_at"] = json!(1663597270);
    });
    let event = single_event(send(body));
    assert_eq!(event.occurred_at, unix(1663597270));
    // Statistics not yet filled in: the reply itself is the first response we know of.
    assert_eq!(event.snapshot.first_response_at, Some(unix(1663597270)));
}

#[test]
fn an_assignment_names_the_admin_assignee_even_with_a_numeric_conversation_id() {
    let event = single_event(send_fixture("conversation_admin_assigned.json"));
    assert_eq!(event.case_id, conversation("1295"));
    assert_eq!(event.event_id, "notif_aa000000-0000-4000-8000-000000000001");
    assert_eq!(event.occurred_at, unix(1663597300));
    assert_eq!(
        event.change,
        Change::Assigned {
            assignee: Some("991122".into())
        }
    );
    assert_eq!(event.snapshot.assignee.as_deref(), Some("991122"));
}

#[test]
fn an_assignment_to_nobody_unassigns() {
    let body = edited("conversation_admin_assigned.json", |v| {
        v["data"]["item"]["admin_assignee_id"] = Value::Null;
    });
    assert_eq!(
        single_event(send(body)).change,
        Change::Assigned { assignee: None }
    );
}

#[test]
fn closing_a_conversation_solves_the_case() {
    let event = single_event(send_fixture("conversation_admin_closed.json"));
    assert_eq!(event.event_id, "notif_cc000000-0000-4000-8000-000000000002");
    assert_eq!(event.occurred_at, unix(1663598000));
    assert_eq!(event.change, Change::Solved);
    assert_eq!(event.snapshot.status, Status::Solved);
    assert_eq!(
        event.snapshot.request.plan,
        Plan::Enterprise,
        "tagged enterprise"
    );
}

#[test]
fn an_admin_reopening_a_conversation_is_a_reopening_at_the_envelope_time() {
    let body = edited("conversation_admin_closed.json", |v| {
        v["topic"] = json!("conversation.admin.opened");
        v["data"]["item"]["state"] = json!("open");
    });
    let event = single_event(send(body));
    assert_eq!(event.change, Change::Reopened);
    assert_eq!(event.occurred_at, unix(1663598000));
    assert_eq!(event.snapshot.status, Status::Open);
}

#[test]
fn a_priority_update_is_high_when_marked_priority_and_normal_otherwise() {
    let event = single_event(send_fixture("conversation_priority_updated.json"));
    assert_eq!(event.event_id, "notif_pp000000-0000-4000-8000-000000000003");
    assert_eq!(event.occurred_at, unix(1663597400));
    assert_eq!(
        event.change,
        Change::PriorityChanged {
            priority: Priority::High
        }
    );
    let body = edited("conversation_priority_updated.json", |v| {
        v["data"]["item"]["priority"] = json!("not_priority");
    });
    assert_eq!(
        single_event(send(body)).change,
        Change::PriorityChanged {
            priority: Priority::Normal
        }
    );
}

#[test]
fn a_customer_reply_without_notification_id_gets_a_stable_derived_id() {
    let body = fixture("intercom/conversation_user_replied.json");
    let first = single_event(send(body));
    assert_eq!(first.change, Change::CustomerReplied);
    assert_eq!(first.occurred_at, unix(1663597500));
    assert_eq!(
        first.event_id,
        "derived:conversation.user.replied:1295:7288350:1663597500"
    );
    // A redelivery has other delivery fields but the same event.
    let redelivered = edited("conversation_user_replied.json", |v| {
        v["delivery_attempts"] = json!(2);
        v["delivered_at"] = json!(1663597600);
    });
    assert_eq!(single_event(send(redelivered)).event_id, first.event_id);
}

#[test]
fn the_plan_comes_from_tags_or_custom_attributes() {
    // (tags, custom attributes) -> plan
    let table = [
        (json!([]), json!({}), Plan::Standard),
        (
            json!([{"type": "tag", "id": "1", "name": "Enterprise"}]),
            json!({}),
            Plan::Enterprise,
        ),
        (json!([]), json!({"sla": "24x7"}), Plan::Enterprise),
        (
            json!([]),
            json!({"sla": "basic", "other": null}),
            Plan::Standard,
        ),
        (json!([]), json!({"SLA": ["enterprise"]}), Plan::Standard),
    ];
    for (tags, attributes, plan) in table {
        let body = edited("conversation_admin_replied.json", |v| {
            v["data"]["item"]["tags"]["tags"] = tags.clone();
            v["data"]["item"]["custom_attributes"] = attributes.clone();
        });
        assert_eq!(
            single_event(send(body)).snapshot.request.plan,
            plan,
            "{tags} {attributes}"
        );
    }
}

#[test]
fn null_wrappers_and_missing_optional_fields_are_tolerated() {
    let body = edited("conversation_admin_assigned.json", |v| {
        let item = v["data"]["item"].as_object_mut().unwrap();
        item.insert("tags".into(), Value::Null);
        item.insert("statistics".into(), Value::Null);
        item.insert("custom_attributes".into(), Value::Null);
        item.remove("source");
        item.remove("state");
        item.insert("open".into(), json!(false));
    });
    let event = single_event(send(body));
    assert_eq!(event.snapshot.request.requester, None);
    assert_eq!(
        event.snapshot.status,
        Status::Solved,
        "open: false without state"
    );
}

#[test]
fn an_admin_started_conversation_has_no_customer_requester() {
    let body = edited("conversation_admin_replied.json", |v| {
        v["data"]["item"]["source"]["author"]["type"] = json!("admin");
    });
    assert_eq!(single_event(send(body)).snapshot.request.requester, None);
}

#[test]
fn other_topics_are_accepted_and_ignored() {
    match send_fixture("user_created.json") {
        Ok(Intake::Ignored { reason }) => assert!(reason.contains("user.created"), "{reason}"),
        other => panic!("{other:?}"),
    }
    let body = edited("conversation_admin_replied.json", |v| {
        v["topic"] = json!("conversation.admin.noted");
    });
    assert!(matches!(send(body), Ok(Intake::Ignored { .. })));
}

#[test]
fn malformed_bodies_are_refused_with_a_reason() {
    let replied = fixture("intercom/conversation_admin_replied.json");
    let item_edit = |edit: fn(&mut serde_json::Map<String, Value>)| {
        edited("conversation_admin_replied.json", move |v| {
            edit(v["data"]["item"].as_object_mut().unwrap());
        })
    };
    let table: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "truncated JSON",
            replied[..replied.len() - 40].to_vec(),
            "EOF",
        ),
        ("empty body", Vec::new(), "EOF"),
        (
            "not UTF-8",
            b"{\"topic\":\"ping\xc3\x28\"}".to_vec(),
            "unicode",
        ),
        (
            "missing topic",
            edited("conversation_admin_replied.json", |v| {
                v.as_object_mut().unwrap().remove("topic");
            }),
            "topic",
        ),
        (
            "topic is a number",
            edited("conversation_admin_replied.json", |v| v["topic"] = json!(7)),
            "invalid type",
        ),
        (
            "missing data",
            edited("conversation_admin_replied.json", |v| {
                v.as_object_mut().unwrap().remove("data");
            }),
            "data.item",
        ),
        (
            "missing conversation id",
            item_edit(|i| {
                i.remove("id");
            }),
            "id",
        ),
        (
            "missing created_at",
            item_edit(|i| {
                i.remove("created_at");
            }),
            "created_at",
        ),
        (
            "created_at as text",
            item_edit(|i| {
                i.insert("created_at".into(), json!("2022-09-19"));
            }),
            "created_at",
        ),
        (
            "created_at out of range",
            item_edit(|i| {
                i.insert("created_at".into(), json!(i64::MAX));
            }),
            "created_at",
        ),
        (
            "tags as a plain array",
            item_edit(|i| {
                i.insert("tags".into(), json!(["vip"]));
            }),
            "tags",
        ),
        (
            "assignee as a float",
            item_edit(|i| {
                i.insert("admin_assignee_id".into(), json!(1.5));
            }),
            "id",
        ),
        (
            "item is a contact",
            item_edit(|i| {
                i.insert("type".into(), json!("contact"));
            }),
            "not a conversation",
        ),
        (
            "conversation id with spaces",
            item_edit(|i| {
                i.insert("id".into(), json!("12 95"));
            }),
            "case id",
        ),
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
fn a_reply_with_no_time_anywhere_is_refused() {
    let body = edited("conversation_admin_replied.json", |v| {
        v["data"]["item"]["conversation_parts"] = Value::Null;
        v.as_object_mut().unwrap().remove("created_at");
    });
    let reason = expect_malformed(send(body));
    assert!(reason.contains("created_at"), "{reason}");
}

#[test]
fn an_admin_reopening_a_conversation_reopens_the_case() {
    let event = single_event(send(edited("conversation_admin_closed.json", |v| {
        v["topic"] = json!("conversation.admin.opened");
        v["data"]["item"]["state"] = json!("open");
        v["data"]["item"]["open"] = json!(true);
    })));
    assert_eq!(event.change, Change::Reopened);
    assert_eq!(event.snapshot.status, Status::Open);
    assert_eq!(event.occurred_at, unix(1663598000));
}

#[test]
fn snoozing_and_unsnoozing_are_accepted_and_change_nothing_tracked() {
    for topic in ["conversation.admin.snoozed", "conversation.admin.unsnoozed"] {
        let event = single_event(send(edited("conversation_admin_assigned.json", |v| {
            v["topic"] = json!(topic);
        })));
        assert_eq!(event.change, Change::Observed, "{topic}");
    }
}

#[test]
fn a_deleted_conversation_is_a_deletion_of_its_case_at_the_envelope_time() {
    let event = single_event(send_fixture("conversation_deleted.json"));
    assert_eq!(event.case_id, conversation("147"));
    assert_eq!(event.event_id, "notif_cc000000-0000-4000-8000-000000000009");
    assert_eq!(event.occurred_at, unix(1663598100));
    assert_eq!(event.change, Change::Deleted);
    assert!(event.change.needs_known_case());
    assert_eq!(event.snapshot.status, Status::Solved);
}

#[test]
fn a_deletion_must_name_a_conversation() {
    type Edit = fn(&mut Value);
    let cases: [(&str, Edit); 3] = [
        ("no item", |v| v["data"] = json!({})),
        ("no id", |v| {
            v["data"]["item"] = json!({ "type": "conversation" });
        }),
        ("a contact", |v| {
            v["data"]["item"]["type"] = json!("contact");
        }),
    ];
    for (name, edit) in cases {
        let result = send(edited("conversation_deleted.json", edit));
        assert!(
            matches!(result, Err(Rejection::Malformed { .. })),
            "{name}: {result:?}"
        );
    }
}
