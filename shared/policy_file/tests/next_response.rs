//! `[next_response]`: the follow-up targets per priority (docs/policy.md rule 6).
#![allow(clippy::unwrap_used)]

use domain::policy::{ClockName, Priority, Severity};
use policy_file::{DEFAULT_POLICY_TOML, PolicyError, default_policy, parse_policy};
use std::time::Duration;

/// The default text without its `[next_response.*]` sections.
fn without_next_response() -> String {
    let start = DEFAULT_POLICY_TOML
        .find("# A customer's follow-up")
        .unwrap();
    let end = DEFAULT_POLICY_TOML.find("# The support line").unwrap();
    format!(
        "{}{}",
        &DEFAULT_POLICY_TOML[..start],
        &DEFAULT_POLICY_TOML[end..]
    )
}

#[test]
fn the_default_next_response_targets_are_the_first_response_targets() {
    let policy = default_policy().unwrap();
    for &priority in Priority::ALL {
        assert_eq!(
            policy.next_response.for_priority(priority),
            policy.response_target(priority),
            "{priority}"
        );
    }
    assert_eq!(
        policy.next_response.high.duration,
        Duration::from_secs(4 * 3600)
    );
}

#[test]
fn a_file_without_next_response_takes_the_first_response_target_of_each_priority() {
    let text = without_next_response();
    assert!(!text.contains("[next_response"));
    let policy = parse_policy(&text).unwrap();
    for &priority in Priority::ALL {
        assert_eq!(
            policy.next_response.for_priority(priority),
            policy.response_target(priority),
            "{priority}"
        );
    }
}

#[test]
fn a_next_response_priority_of_its_own_overrides_only_that_priority() {
    let text = format!(
        "{}\n[next_response.normal]\ntarget = \"2h\"\nclock_12x5 = \"always\"\n\
         clock_24x7 = \"always\"\nseverity = \"error\"\n",
        without_next_response()
    );
    let policy = parse_policy(&text).unwrap();
    let normal = policy.next_response.normal;
    assert_eq!(normal.duration, Duration::from_secs(2 * 3600));
    assert_eq!(normal.standard_clock, ClockName::Always);
    assert_eq!(normal.severity, Severity::Error);
    assert_eq!(
        policy.next_response.low,
        *policy.response_target(Priority::Low)
    );
    assert_ne!(normal, *policy.response_target(Priority::Normal));
}

#[test]
fn an_invalid_next_response_target_names_its_key() {
    let cases = [(
        "target = \"4h\"\nclock_12x5 = \"business\"\nclock_24x7 = \"always\"\nseverity = \"error\"\n\n[next_response.normal]",
        "target = \"soon\"\nclock_12x5 = \"business\"\nclock_24x7 = \"always\"\nseverity = \"error\"\n\n[next_response.normal]",
        "next_response.high.target",
    )];
    for (from, to, key) in cases {
        assert!(DEFAULT_POLICY_TOML.contains(from), "{from}");
        let text = DEFAULT_POLICY_TOML.replacen(from, to, 1);
        match parse_policy(&text) {
            Err(PolicyError::Invalid { key: named, .. }) => assert_eq!(named, key),
            other => panic!("{key}: {other:?}"),
        }
    }
    let unknown =
        DEFAULT_POLICY_TOML.replacen("[next_response.low]", "[next_response.whenever]", 1);
    assert!(matches!(
        parse_policy(&unknown),
        Err(PolicyError::Syntax(message)) if message.contains("whenever")
    ));
}
