//! docs/policy.md section 6: every worked example of the default policy, as a table.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::deadlines::Request;
use domain::jiff::Timestamp;
use domain::jiff::civil::DateTime;
use domain::jiff::tz::TimeZone;
use domain::policy::{Channel, Plan, Priority};

fn berlin(local: &str) -> Timestamp {
    let tz = TimeZone::get("Europe/Berlin").unwrap();
    let local: DateTime = local.parse().unwrap();
    tz.to_ambiguous_timestamp(local).compatible().unwrap()
}

#[test]
fn every_worked_example_of_the_policy_holds() {
    let policy = policy_file::default_policy().unwrap();
    // received (local), plan, priority, dispatch due, first response due, out of hours
    let examples = [
        (
            "2026-12-01T09:00",
            Plan::Standard,
            Priority::Normal,
            "2026-12-01T10:00",
            "2026-12-02T09:00",
            false,
        ),
        (
            "2026-11-27T19:45",
            Plan::Standard,
            Priority::High,
            "2026-11-30T08:45",
            "2026-11-30T11:45",
            false,
        ),
        (
            "2026-11-28T10:00",
            Plan::Standard,
            Priority::Normal,
            "2026-11-30T09:00",
            "2026-11-30T20:00",
            true,
        ),
        (
            "2026-11-28T10:00",
            Plan::Enterprise,
            Priority::Urgent,
            "2026-11-30T09:00",
            "2026-11-28T10:30",
            true,
        ),
        (
            "2026-04-02T19:00",
            Plan::Standard,
            Priority::Low,
            "2026-04-02T20:00",
            "2026-04-09T19:00",
            false,
        ),
    ];
    for (received, plan, priority, dispatch, first_response, out_of_hours) in examples {
        let request = Request {
            received: berlin(received),
            plan,
            priority,
            channel: Channel::Ticket,
        };
        let deadlines = policy.deadlines(&request).unwrap();
        let case = format!("{received} {plan} {priority}");
        assert_eq!(
            deadlines.dispatch_due,
            Some(berlin(dispatch)),
            "dispatch of {case}"
        );
        assert_eq!(
            deadlines.first_response_due,
            berlin(first_response),
            "first response of {case}"
        );
        assert_eq!(
            deadlines.out_of_hours, out_of_hours,
            "out of hours of {case}"
        );
    }
}
