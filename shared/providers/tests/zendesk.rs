//! Zendesk ticket events, from the captured payload shapes (docs/providers/zendesk.md) to the
//! normalized `CaseEvent`, and the malformed variants that must be refused with 400.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{at, expect_malformed, fixture, single_event, zendesk, zendesk_request};
use domain::case::{
    CaseEvent, CaseFacts, CaseId, Change, CommentAuthor, References, RequestFacts, Requester,
    Status,
};
use domain::policy::{Channel, Labels, Plan, Priority};
use providers::{Classifier, Intake, Rejection, ZendeskConfig, ZendeskHandler};
use serde_json::{Value, json};
use std::time::Duration;

const SIGNED_AT: &str = "2026-06-10T00:00:00Z";

fn send(body: impl Into<Vec<u8>>) -> Result<Intake, Rejection> {
    zendesk().handle(&zendesk_request(SIGNED_AT, body).raw(), at(SIGNED_AT))
}

fn send_fixture(name: &str) -> Result<Intake, Rejection> {
    send(fixture(&format!("zendesk/{name}")))
}

/// The fixture with `edit` applied, serialized again (the signature covers the new bytes).
fn edited(name: &str, edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut value: Value = serde_json::from_slice(&fixture(&format!("zendesk/{name}"))).unwrap();
    edit(&mut value);
    serde_json::to_vec(&value).unwrap()
}

fn ticket(id: &str) -> CaseId {
    CaseId::for_provider("zendesk", id).unwrap()
}

#[test]
fn a_created_ticket_opens_a_case_with_the_full_snapshot() {
    let event = single_event(send_fixture("ticket_created.json"));
    assert_eq!(
        event,
        CaseEvent {
            case_id: ticket("5158"),
            event_id: "cbe4028c-7239-495d-b020-f22348516046".into(),
            occurred_at: at("2025-01-08T10:12:07.672717030Z"),
            change: Change::Opened,
            snapshot: CaseFacts {
                request: RequestFacts {
                    channel: Channel::Ticket,
                    plan: Plan::Standard,
                    priority: Priority::Low,
                    received: at("2025-01-08T10:12:07Z"),
                    labels: Labels::default(),
                    subject: Some("ticketinfo_2294a6e9ece2".into()),
                    requester: None,
                    link: Some("https://acme.zendesk.com/agent/tickets/5158".into()),
                    voicemail: None,
                },
                status: Status::Open,
                assignee: Some("8447388090494".into()),
                first_response_at: None,
                adoption: None,
                references: References {
                    organization_id: Some("8447346622462".into()),
                    ..References::default()
                },
            },
        }
    );
}

#[test]
fn without_a_subdomain_there_is_no_link() {
    let handler = ZendeskHandler::new(
        ZendeskConfig::new(providers::Secret::new(common::ZENDESK_SECRET).unwrap()),
        Classifier::default(),
    );
    let request = zendesk_request(SIGNED_AT, fixture("zendesk/ticket_created.json"));
    let event = single_event(handler.handle(&request.raw(), at(SIGNED_AT)));
    assert_eq!(event.snapshot.request.link, None);
}

#[test]
fn a_public_staff_comment_is_a_first_response() {
    let event = single_event(send_fixture("ticket_comment_added_by_staff.json"));
    let occurred = at("2026-06-09T08:50:02.118Z");
    assert_eq!(event.case_id, ticket("71448"));
    assert_eq!(event.event_id, "5e1a2b7c-8d0f-4a66-9c3e-7f1d2e3a4b5c");
    assert_eq!(event.occurred_at, occurred);
    assert_eq!(event.change, Change::AgentReplied);
    // A ticket first heard of through this reply is created already answered.
    assert_eq!(event.snapshot.first_response_at, Some(occurred));
    assert_eq!(event.snapshot.request.plan, Plan::Enterprise);
    assert_eq!(
        event.snapshot.request.labels,
        Labels {
            cluster: Some("fra1".into()),
            website: Some("shop.example.com".into())
        }
    );
    assert_eq!(event.snapshot.request.priority, Priority::Urgent);
    assert_eq!(event.snapshot.status, Status::Open, "PENDING is still open");
    assert_eq!(event.snapshot.request.received, at("2026-06-09T08:36:43Z"));
    assert_eq!(
        event.snapshot.request.subject.as_deref(),
        Some("Website down")
    );
}

#[test]
fn the_captured_private_comment_by_the_customer_is_a_customer_reply() {
    let event = single_event(send_fixture("ticket_comment_added.json"));
    assert_eq!(event.case_id, ticket("71447"));
    assert_eq!(event.event_id, "d8551ba3-4243-433c-8629-aa79dc3e7182");
    assert_eq!(event.occurred_at, at("2026-06-09T08:36:44.304701605Z"));
    assert_eq!(event.change, Change::CustomerReplied);
    assert_eq!(
        event.snapshot.request.priority,
        Priority::Normal,
        "null priority is normal"
    );
    assert_eq!(event.snapshot.assignee, None);
    assert_eq!(event.snapshot.first_response_at, None);
    // The author is the requester, so the comment tells us the requester's name.
    assert_eq!(
        event.snapshot.request.requester,
        Some(Requester {
            name: Some("Khushi Singh".into()),
            email: None
        })
    );
}

#[test]
fn the_comment_that_creates_a_ticket_is_never_its_first_response_also_by_an_agent() {
    // An agent opens the ticket for a customer: its public description is a staff comment
    // added as the ticket is created (`created_at` 08:36:43, truncated to the second).
    for (time, expected) in [
        ("2026-06-09T08:36:43.000000000Z", Change::Observed),
        ("2026-06-09T08:36:44.304701605Z", Change::Observed),
        ("2026-06-09T08:36:47.900000000Z", Change::Observed),
        ("2026-06-09T08:36:48.000000000Z", Change::AgentReplied),
        ("2026-06-09T08:50:02.118000000Z", Change::AgentReplied),
    ] {
        let body = edited("ticket_comment_added_by_staff.json", |v| {
            v["time"] = json!(time);
        });
        let event = single_event(send(body));
        assert_eq!(event.change, expected, "{time}");
        assert_eq!(
            event.snapshot.first_response_at.is_some(),
            expected == Change::AgentReplied,
            "{time}"
        );
    }
}

#[test]
fn comments_are_classified_by_author_and_visibility() {
    // (author is staff, comment is public) -> change
    let table = [
        (true, true, Change::AgentReplied),
        (true, false, Change::Observed),
        (false, true, Change::CustomerReplied),
        (false, false, Change::CustomerReplied),
    ];
    for (is_staff, is_public, expected) in table {
        let body = edited("ticket_comment_added_by_staff.json", |v| {
            v["event"]["comment"]["author"]["is_staff"] = json!(is_staff);
            v["event"]["comment"]["is_public"] = json!(is_public);
        });
        let event = single_event(send(body));
        assert_eq!(
            event.change, expected,
            "staff={is_staff} public={is_public}"
        );
        assert_eq!(
            event.snapshot.first_response_at.is_some(),
            expected == Change::AgentReplied
        );
    }
}

#[test]
fn status_changes_become_solved_reopened_waiting_or_observed() {
    // (previous, current) -> change; values as Zendesk sends them and in lower case.
    let table = [
        (json!("OPEN"), "PENDING", Change::Waiting),
        (json!("open"), "hold", Change::Waiting),
        (json!("PENDING"), "HOLD", Change::Waiting),
        (Value::Null, "PENDING", Change::Waiting),
        (json!("PENDING"), "OPEN", Change::Observed),
        (json!("NEW"), "OPEN", Change::Observed),
        (json!("OPEN"), "SOLVED", Change::Solved),
        (json!("pending"), "closed", Change::Solved),
        (json!("SOLVED"), "CLOSED", Change::Solved),
        (json!("SOLVED"), "OPEN", Change::Reopened),
        (json!("CLOSED"), "new", Change::Reopened),
        (json!("Solved"), "HOLD", Change::Reopened),
        (Value::Null, "OPEN", Change::Observed),
    ];
    for (previous, current, expected) in table {
        let body = edited("ticket_status_changed.json", |v| {
            v["event"] = json!({ "previous": previous.clone(), "current": current });
            v["detail"]["status"] = json!(current);
        });
        let event = single_event(send(body));
        assert_eq!(event.change, expected, "{previous} -> {current}");
    }
}

#[test]
fn the_zd3_status_change_keeps_its_snapshot() {
    let event = single_event(send_fixture("ticket_status_changed.json"));
    assert_eq!(event.case_id, ticket("5158"));
    assert_eq!(event.event_id, "2b24ef10-19d4-4740-93cf-8f98ec4776c0");
    assert_eq!(event.occurred_at, at("2025-01-08T10:12:07.672717030Z"));
    // OPEN -> PENDING: the agent waits for the customer (no next-response clock runs).
    assert_eq!(event.change, Change::Waiting);
    assert_eq!(event.snapshot.request.priority, Priority::High);
    assert_eq!(event.snapshot.request.received, at("2025-01-08T10:00:00Z"));
    assert_eq!(event.snapshot.request.subject, None);
    assert_eq!(event.snapshot.assignee.as_deref(), Some("8447388090494"));
}

#[test]
fn a_solved_snapshot_says_so_even_on_other_events() {
    let body = edited("ticket_status_changed.json", |v| {
        v["detail"]["status"] = json!("SOLVED");
        v["event"] = json!({ "previous": "OPEN", "current": "SOLVED" });
    });
    let event = single_event(send(body));
    assert_eq!(event.change, Change::Solved);
    assert_eq!(event.snapshot.status, Status::Solved);
}

#[test]
fn an_agent_assignment_carries_the_new_assignee_given_as_a_number() {
    let event = single_event(send_fixture("ticket_agent_assignment_changed.json"));
    assert_eq!(event.case_id, ticket("5158"));
    assert_eq!(event.event_id, "c6d7e8f9-0a1b-2c3d-4e5f-6a7b8c9d0e1f");
    assert_eq!(event.occurred_at, at("2025-01-08T12:15:45.789012345Z"));
    assert_eq!(
        event.change,
        Change::Assigned {
            assignee: Some("8447388090496".into())
        }
    );
    assert_eq!(event.snapshot.request.priority, Priority::Urgent);
    assert_eq!(
        event.snapshot.request.subject.as_deref(),
        Some("Cannot login to mobile app")
    );
    // Absent tags, requester and status fields are tolerated: this detail is minimal.
    assert_eq!(event.snapshot.request.labels, Labels::default());
}

#[test]
fn assignment_ids_may_be_strings_and_null_means_unassigned() {
    let table = [
        (json!("8447388090496"), Some("8447388090496")),
        (json!(8447388090496_u64), Some("8447388090496")),
        (Value::Null, None),
    ];
    for (current, expected) in table {
        let body = edited("ticket_agent_assignment_changed.json", |v| {
            v["event"]["current"] = current.clone();
        });
        let event = single_event(send(body));
        assert_eq!(
            event.change,
            Change::Assigned {
                assignee: expected.map(str::to_owned)
            },
            "{current}"
        );
    }
}

#[test]
fn a_priority_change_carries_the_new_priority() {
    let event = single_event(send_fixture("ticket_priority_changed.json"));
    assert_eq!(event.case_id, ticket("5158"));
    assert_eq!(event.event_id, "0f3b9d2e-5a61-4c1e-9f7a-3b2c1d0e9f8a");
    assert_eq!(event.occurred_at, at("2025-01-08T12:20:00.1Z"));
    assert_eq!(
        event.change,
        Change::PriorityChanged {
            priority: Priority::High
        }
    );
    assert_eq!(event.snapshot.request.priority, Priority::High);
    assert_eq!(event.snapshot.assignee, None);
}

#[test]
fn a_removed_priority_is_normal() {
    let body = edited("ticket_priority_changed.json", |v| {
        v["event"]["current"] = Value::Null;
        v["detail"]["priority"] = Value::Null;
    });
    let event = single_event(send(body));
    assert_eq!(
        event.change,
        Change::PriorityChanged {
            priority: Priority::Normal
        }
    );
}

#[test]
fn changed_tags_reclassify_plan_and_labels_from_the_full_tag_list() {
    let event = single_event(send_fixture("ticket_tags_changed.json"));
    assert_eq!(event.event_id, "01JQMQH83YNAKWSWJ8B1QH2NSC");
    assert_eq!(event.occurred_at, at("2025-01-08T12:30:00Z"));
    let labels = Labels {
        cluster: Some("ber2".into()),
        website: Some("blog.example.org".into()),
    };
    assert_eq!(
        event.change,
        Change::Reclassified {
            plan: Plan::Enterprise,
            labels: labels.clone()
        }
    );
    assert_eq!(event.snapshot.request.plan, Plan::Enterprise);
    assert_eq!(event.snapshot.request.labels, labels);
}

#[test]
fn null_tags_are_no_tags() {
    let body = edited("ticket_tags_changed.json", |v| {
        v["detail"]["tags"] = Value::Null;
    });
    let event = single_event(send(body));
    assert_eq!(
        event.change,
        Change::Reclassified {
            plan: Plan::Standard,
            labels: Labels::default()
        }
    );
}

#[test]
fn events_about_users_are_accepted_and_ignored() {
    match send_fixture("user_active_changed.json") {
        Ok(Intake::Ignored { reason }) => assert!(reason.contains("user.active_changed")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn other_ticket_events_are_observed_so_their_snapshot_can_create_the_ticket() {
    let body = edited("ticket_priority_changed.json", |v| {
        v["type"] = json!("zen:event-type:ticket.subject_changed");
    });
    let event = single_event(send(body));
    assert_eq!(event.change, Change::Observed);
    assert_eq!(event.snapshot.request.priority, Priority::High);
}

#[test]
fn a_deleted_or_spam_ticket_stops_its_clocks() {
    for kind in ["soft_deleted", "permanently_deleted", "marked_as_spam"] {
        let body = edited("ticket_created.json", |v| {
            v["type"] = json!(format!("zen:event-type:ticket.{kind}"));
        });
        assert_eq!(single_event(send(body)).change, Change::Solved, "{kind}");
    }
    let body = edited("ticket_created.json", |v| {
        v["type"] = json!("zen:event-type:ticket.undeleted");
    });
    assert_eq!(single_event(send(body)).change, Change::Reopened);
}

#[test]
fn other_ticket_events_with_an_incomplete_detail_are_ignored() {
    let body = edited("ticket_priority_changed.json", |v| {
        v["type"] = json!("zen:event-type:ticket.subject_changed");
        v["detail"] = json!({ "id": "5158" });
    });
    assert!(matches!(send(body), Ok(Intake::Ignored { .. })));
}

#[test]
fn the_ticket_id_falls_back_to_the_subject() {
    let body = edited("ticket_created.json", |v| {
        v["detail"].as_object_mut().unwrap().remove("id");
    });
    assert_eq!(single_event(send(body)).case_id, ticket("5158"));
}

#[test]
fn numeric_ids_are_tolerated_where_strings_are_usual() {
    let body = edited("ticket_created.json", |v| {
        v["detail"]["id"] = json!(5158);
        v["detail"]["assignee_id"] = json!(8447388090494_u64);
    });
    let event = single_event(send(body));
    assert_eq!(event.case_id, ticket("5158"));
    assert_eq!(event.snapshot.assignee.as_deref(), Some("8447388090494"));
}

#[test]
fn malformed_bodies_are_refused_with_a_reason() {
    let created = fixture("zendesk/ticket_created.json");
    let remove = |path: &'static [&'static str]| {
        edited("ticket_created.json", move |v| {
            let mut target = v;
            for key in &path[..path.len() - 1] {
                target = &mut target[*key];
            }
            target.as_object_mut().unwrap().remove(path[path.len() - 1]);
        })
    };
    let set = |path: &'static [&'static str], value: Value| {
        edited("ticket_created.json", move |v| {
            let mut target = v;
            for key in path {
                target = &mut target[*key];
            }
            *target = value;
        })
    };
    let table: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "truncated JSON",
            created[..created.len() / 2].to_vec(),
            "EOF",
        ),
        ("empty body", Vec::new(), "EOF"),
        (
            "not UTF-8",
            b"{\"type\":\"zen:event-type:ticket.created\xff\"}".to_vec(),
            "unicode",
        ),
        ("a JSON array", b"[1,2,3]".to_vec(), "invalid type"),
        ("missing type", remove(&["type"]), "type"),
        ("missing event id", remove(&["id"]), "id"),
        ("missing time", remove(&["time"]), "time"),
        ("missing detail", remove(&["detail"]), "detail"),
        (
            "missing created_at",
            remove(&["detail", "created_at"]),
            "created_at",
        ),
        (
            "time is not a date",
            set(&["time"], json!("yesterday")),
            "time",
        ),
        (
            "time is a number",
            set(&["time"], json!(1736331127)),
            "time",
        ),
        (
            "tags is a string",
            set(&["detail", "tags"], json!("a b")),
            "tags",
        ),
        (
            "status is a number",
            set(&["detail", "status"], json!(42)),
            "status",
        ),
        (
            "unknown status",
            set(&["detail", "status"], json!("EXPLODED")),
            "status",
        ),
        (
            "unknown priority",
            set(&["detail", "priority"], json!("CRITICAL")),
            "priority",
        ),
        ("id is a float", set(&["detail", "id"], json!(51.58)), "id"),
        (
            "id unusable as a case id",
            set(&["detail", "id"], json!("51 58")),
            "case id",
        ),
        ("detail is an array", set(&["detail"], json!([])), "detail"),
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
fn malformed_event_objects_are_refused() {
    let table: Vec<(&str, Vec<u8>)> = vec![
        (
            "status change without current",
            edited("ticket_status_changed.json", |v| {
                v["event"] = json!({ "previous": "OPEN" });
            }),
        ),
        (
            "status change to an unknown status",
            edited("ticket_status_changed.json", |v| {
                v["event"]["current"] = json!("GONE");
            }),
        ),
        (
            "is_public as a string",
            edited("ticket_comment_added.json", |v| {
                v["event"]["comment"]["is_public"] = json!("yes");
            }),
        ),
        (
            "comment event without event",
            edited("ticket_comment_added.json", |v| {
                v.as_object_mut().unwrap().remove("event");
            }),
        ),
        (
            "assignment to an object",
            edited("ticket_agent_assignment_changed.json", |v| {
                v["event"]["current"] = json!({});
            }),
        ),
        (
            "priority change to a number",
            edited("ticket_priority_changed.json", |v| {
                v["event"]["current"] = json!(3);
            }),
        ),
    ];
    for (name, body) in table {
        let reason = expect_malformed(send(body));
        assert!(reason.contains("event"), "{name}: {reason}");
    }
}

#[test]
fn the_timestamp_window_is_one_hour_either_way_by_default() {
    let body = fixture("zendesk/ticket_created.json");
    let request = zendesk_request(SIGNED_AT, body);
    let handler = zendesk();
    let signed = at(SIGNED_AT);
    let minutes = |m: i64| jiff::SignedDuration::from_mins(m);
    for (offset, accepted) in [
        (-61, false),
        (-59, true),
        (0, true),
        (60, true),
        (61, false),
    ] {
        let outcome = handler.handle(&request.raw(), signed + minutes(offset));
        if accepted {
            assert!(outcome.is_ok(), "{offset} min: {outcome:?}");
        } else {
            assert_eq!(outcome, Err(Rejection::StaleTimestamp), "{offset} min");
        }
    }
}

#[test]
fn the_timestamp_window_is_configurable() {
    let handler = ZendeskHandler::new(
        ZendeskConfig::new(providers::Secret::new(common::ZENDESK_SECRET).unwrap())
            .with_timestamp_window(Duration::from_secs(300)),
        Classifier::default(),
    );
    let request = zendesk_request(SIGNED_AT, fixture("zendesk/ticket_created.json"));
    let later = at(SIGNED_AT) + jiff::SignedDuration::from_mins(6);
    assert_eq!(
        handler.handle(&request.raw(), later),
        Err(Rejection::StaleTimestamp)
    );
}

#[test]
fn an_unreadable_signed_timestamp_is_refused_as_unauthorized() {
    let request = zendesk_request("not a time", fixture("zendesk/ticket_created.json"));
    let outcome = zendesk().handle(&request.raw(), at(SIGNED_AT));
    assert_eq!(outcome, Err(Rejection::StaleTimestamp));
    assert_eq!(outcome.unwrap_err().status(), 401);
}

#[test]
fn implausible_request_times_are_refused_with_the_field_named() {
    for (created_at, hint) in [
        ("0001-01-01T00:00:00Z", "before 2000-01-01"),
        ("1999-12-31T23:59:59Z", "before 2000-01-01"),
        ("2200-01-01T00:00:00Z", "more than 24 hours after"),
    ] {
        let body = edited("ticket_created.json", |value| {
            value["detail"]["created_at"] = json!(created_at);
        });
        let reason = expect_malformed(send(body));
        assert!(reason.contains("creation time"), "{created_at}: {reason}");
        assert!(reason.contains(hint), "{created_at}: {reason}");
    }
    let at_the_edge = edited("ticket_created.json", |value| {
        value["detail"]["created_at"] = json!("2000-01-01T00:00:00Z");
    });
    assert!(matches!(send(at_the_edge), Ok(Intake::Accepted(_))));
}

#[test]
fn a_ticket_we_opened_for_a_voicemail_is_that_voicemails_case() {
    let ours = edited("ticket_created.json", |body| {
        body["detail"]["external_id"] = json!("twilio-CA0123456789abcdef0123456789abcdef");
    });
    let event = single_event(send(ours));
    assert_eq!(
        event.case_id,
        CaseId::parse("twilio-CA0123456789abcdef0123456789abcdef").unwrap()
    );
    // Anyone else's external id (another integration's) leaves the ticket its own case.
    for other in [
        "crm-4711",
        "twilio-CA12",
        "twilio-RE0123456789abcdef0123456789abcdef",
    ] {
        let theirs = edited("ticket_created.json", |body| {
            body["detail"]["external_id"] = json!(other);
        });
        let case_id = single_event(send(theirs)).case_id;
        assert!(
            case_id.as_str().starts_with("zendesk-"),
            "{other}: {case_id}"
        );
    }
}

#[test]
fn a_comment_without_author_details_is_accepted_and_left_for_the_engine_to_look_up() {
    for (what, edit) in [
        (
            "no author",
            Box::new(|v: &mut Value| {
                v["event"]["comment"]
                    .as_object_mut()
                    .unwrap()
                    .remove("author");
            }) as Box<dyn Fn(&mut Value)>,
        ),
        (
            "an author without is_staff",
            Box::new(|v: &mut Value| {
                v["event"]["comment"]["author"] = json!({ "id": "4242" });
                v["event"]["comment"]["is_public"] = json!(true);
            }),
        ),
    ] {
        // A later comment: the one that creates the ticket is never a response, so never
        // looked up.
        let later = |v: &mut Value| {
            v["detail"]["created_at"] = json!("2025-06-01T09:00:00Z");
            edit(v);
        };
        let event = single_event(send(edited("ticket_comment_added.json", later)));
        assert_eq!(event.change, Change::Observed, "{what}");
        assert_eq!(event.snapshot.first_response_at, None, "{what}");
        let author = event
            .snapshot
            .references
            .unknown_comment_author
            .expect(what);
        if what == "no author" {
            assert_eq!(
                author,
                CommentAuthor {
                    id: None,
                    public: false
                }
            );
        } else {
            assert_eq!(
                author,
                CommentAuthor {
                    id: Some("4242".into()),
                    public: true
                }
            );
        }
    }
}

#[test]
fn a_comment_by_the_requester_without_is_staff_is_the_customer_writing() {
    let event = single_event(send(edited("ticket_comment_added.json", |v| {
        v["event"]["comment"]["author"] = json!({ "id": "58789189659033" });
    })));
    assert_eq!(event.change, Change::CustomerReplied);
    assert_eq!(event.snapshot.references.unknown_comment_author, None);
}
