//! The policy file: the shipped default loads into the policy of POLICY.md, and every invalid
//! file fails with a message that names the key and the reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::calendar::{Calendar, GermanState, OpenHours};
use domain::jiff::Timestamp;
use domain::jiff::civil::{Weekday, date};
use domain::policy::{ClockName, Plan, Priority, Severity};
use policy_file::{DEFAULT_POLICY_TOML, PolicyError, default_policy, load_policy, parse_policy};
use std::path::Path;
use std::time::Duration;

fn minutes(n: u64) -> Duration {
    Duration::from_secs(n * 60)
}

/// The default text with `from` replaced by `to` once; panics if `from` is not in it, so that a
/// change of the default file cannot turn a mutation into a no-op.
fn mutated(from: &str, to: &str) -> String {
    assert!(
        DEFAULT_POLICY_TOML.contains(from),
        "the default policy has no {from:?}"
    );
    DEFAULT_POLICY_TOML.replacen(from, to, 1)
}

#[test]
fn the_default_policy_loads_and_says_what_policy_md_says() {
    let policy = default_policy().unwrap();
    let Calendar::Business(business) = &policy.business else {
        panic!("the business calendar is a weekly schedule");
    };
    assert_eq!(business.time_zone().iana_name(), Some("Europe/Berlin"));
    assert_eq!(
        business.closed_days().state,
        Some(GermanState::NordrheinWestfalen)
    );
    assert!(business.closed_days().extra_closed.is_empty());
    assert!(business.closed_days().extra_open.is_empty());
    let eight_to_eight: OpenHours = "08:00-20:00".parse().unwrap();
    for weekday in [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
    ] {
        assert_eq!(
            business.weekly().on(weekday).intervals(),
            &[eight_to_eight],
            "{weekday:?}"
        );
    }
    assert!(business.weekly().on(Weekday::Saturday).is_closed());
    assert!(business.weekly().on(Weekday::Sunday).is_closed());
    assert!(matches!(policy.always, Calendar::Always));

    assert_eq!(policy.dispatch.duration, minutes(60));
    assert_eq!(policy.dispatch.clock, ClockName::Business);
    // priority, target, 12x5 clock, 24x7 clock, severity
    let targets = [
        (
            Priority::Urgent,
            30,
            ClockName::Business,
            ClockName::Always,
            Severity::Critical,
        ),
        (
            Priority::High,
            4 * 60,
            ClockName::Business,
            ClockName::Always,
            Severity::Error,
        ),
        (
            Priority::Normal,
            12 * 60,
            ClockName::Business,
            ClockName::Business,
            Severity::Warning,
        ),
        (
            Priority::Low,
            36 * 60,
            ClockName::Business,
            ClockName::Business,
            Severity::Info,
        ),
    ];
    for (priority, target, standard, enterprise, severity) in targets {
        let response = policy.response_target(priority);
        assert_eq!(response.duration, minutes(target), "{priority}");
        assert_eq!(
            response.for_plan(Plan::Standard).clock,
            standard,
            "{priority}"
        );
        assert_eq!(
            response.for_plan(Plan::Enterprise).clock,
            enterprise,
            "{priority}"
        );
        assert_eq!(policy.severity(priority), severity, "{priority}");
    }
    assert_eq!(policy.warning_at.value(), 0.75);
    assert_eq!(policy.chat_fallback_after, minutes(10));
    assert_eq!(
        policy.plan_rules.plan_for_tags(["Enterprise"]),
        Plan::Enterprise
    );
    assert_eq!(policy.plan_rules.plan_for_tags(["vip"]), Plan::Standard);
    assert_eq!(
        policy.plan_rules.plan_for_attribute("plan", "enterprise"),
        Some(Plan::Enterprise)
    );
    assert!(policy.plan_rules.enterprise_numbers.is_empty());
    assert_eq!(policy.label_rules.cluster_prefix, "cluster_");
    assert_eq!(policy.label_rules.website_prefix, "site_");
}

#[test]
fn the_compiled_in_default_is_the_text_of_infra_policy_toml_and_loads_from_disk() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/policy.toml");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), DEFAULT_POLICY_TOML);
    let from_disk = load_policy(&path).unwrap();
    let received: Timestamp = "2026-11-27T18:45:00Z".parse().unwrap();
    assert_eq!(
        from_disk.business.add(received, minutes(240)).unwrap(),
        default_policy()
            .unwrap()
            .business
            .add(received, minutes(240))
            .unwrap()
    );
}

#[test]
fn a_missing_file_fails_with_its_path() {
    let error = load_policy(Path::new("/nonexistent/policy.toml")).unwrap_err();
    assert!(matches!(error, PolicyError::Read { .. }), "{error:?}");
    assert!(
        error.to_string().contains("/nonexistent/policy.toml"),
        "{error}"
    );
}

#[test]
fn every_invalid_policy_file_fails_with_a_message_naming_the_key_and_the_reason() {
    // what, replace, with, key named in the message, reason named in the message
    let table = [
        (
            "unknown priority section",
            "[chat]",
            "[first_response.critical]\ntarget = \"15m\"\nclock_12x5 = \"business\"\nclock_24x7 = \"always\"\nseverity = \"critical\"\n\n[chat]",
            "first_response.critical",
            "unknown field `critical`",
        ),
        (
            "closing before opening",
            "monday = [\"08:00-20:00\"]",
            "monday = [\"20:00-08:00\"]",
            "business_calendar.hours.monday",
            "closes before it opens",
        ),
        (
            "an interval that opens and closes at once",
            "friday = [\"08:00-20:00\"]",
            "friday = [\"08:00-08:00\"]",
            "business_calendar.hours.friday",
            "closes before it opens",
        ),
        (
            "overlapping intervals",
            "tuesday = [\"08:00-20:00\"]",
            "tuesday = [\"08:00-14:00\", \"12:00-20:00\"]",
            "business_calendar.hours.tuesday",
            "overlaps",
        ),
        (
            "a malformed interval",
            "wednesday = [\"08:00-20:00\"]",
            "wednesday = [\"8-20\"]",
            "business_calendar.hours.wednesday",
            "is not an interval of the form HH:MM-HH:MM",
        ),
        (
            "an hour past 24",
            "thursday = [\"08:00-20:00\"]",
            "thursday = [\"08:00-25:00\"]",
            "business_calendar.hours.thursday",
            "hours run from 00:00 to 24:00",
        ),
        (
            "a zero target",
            "target = \"30m\"",
            "target = \"0m\"",
            "first_response.urgent.target",
            "must be positive",
        ),
        (
            "a negative target",
            "target = \"1h\"",
            "target = \"-1h\"",
            "dispatch.target",
            "must be positive",
        ),
        (
            "a target that is no duration",
            "target = \"4h\"",
            "target = \"four hours\"",
            "first_response.high.target",
            "is not a duration",
        ),
        (
            "a zero chat fallback",
            "fallback_after = \"10m\"",
            "fallback_after = \"0s\"",
            "chat.fallback_after",
            "must be positive",
        ),
        (
            "an unknown state code",
            "holidays = \"DE-NW\"",
            "holidays = \"DE-XX\"",
            "business_calendar.holidays",
            "unknown German state code \"DE-XX\"",
        ),
        (
            "an unknown time zone",
            "time_zone = \"Europe/Berlin\"",
            "time_zone = \"Europe/Berlni\"",
            "business_calendar.time_zone",
            "unknown time zone \"Europe/Berlni\"",
        ),
        (
            "a warning point above 1",
            "warning_at = 0.75",
            "warning_at = 1.5",
            "first_response.warning_at",
            "strictly between 0 and 1, got 1.5",
        ),
        (
            "a warning point of 1",
            "warning_at = 0.75",
            "warning_at = 1.0",
            "first_response.warning_at",
            "strictly between 0 and 1",
        ),
        (
            "a warning point of 0",
            "warning_at = 0.75",
            "warning_at = 0.0",
            "first_response.warning_at",
            "strictly between 0 and 1",
        ),
        (
            "a warning point that is not a number",
            "warning_at = 0.75",
            "warning_at = nan",
            "first_response.warning_at",
            "strictly between 0 and 1",
        ),
        (
            "an unknown clock name for dispatch",
            "clock = \"business\"",
            "clock = \"sometimes\"",
            "dispatch.clock",
            "unknown calendar \"sometimes\"",
        ),
        (
            "an unknown clock name for a plan",
            "clock_24x7 = \"always\"",
            "clock_24x7 = \"24x7\"",
            "first_response.urgent.clock_24x7",
            "unknown calendar \"24x7\"",
        ),
        (
            "an unknown severity",
            "severity = \"info\"",
            "severity = \"fatal\"",
            "first_response.low.severity",
            "unknown severity \"fatal\"",
        ),
        (
            "a bad date in extra_closed",
            "extra_closed = []",
            "extra_closed = [\"2026-12-24\", \"2026-02-30\"]",
            "business_calendar.extra_closed[1]",
            "\"2026-02-30\" is not a date of the form YYYY-MM-DD",
        ),
        (
            "a bad date in extra_open",
            "extra_open = []",
            "extra_open = [{ date = \"27.12.2026\", hours = [\"10:00-14:00\"] }]",
            "business_calendar.extra_open[0].date",
            "is not a date of the form YYYY-MM-DD",
        ),
        (
            "an extra open date without hours",
            "extra_open = []",
            "extra_open = [{ date = \"2026-12-27\", hours = [] }]",
            "business_calendar.extra_open[0].hours",
            "an extra open date needs hours",
        ),
        (
            "an extra open date listed twice",
            "extra_open = []",
            "extra_open = [{ date = \"2026-12-27\", hours = [\"10:00-14:00\"] }, { date = \"2026-12-27\", hours = [\"15:00-16:00\"] }]",
            "business_calendar.extra_open[1]",
            "2026-12-27 is listed twice",
        ),
        (
            "a calendar with no open hours at all",
            "[business_calendar.hours]\nmonday = [\"08:00-20:00\"]\ntuesday = [\"08:00-20:00\"]\nwednesday = [\"08:00-20:00\"]\nthursday = [\"08:00-20:00\"]\nfriday = [\"08:00-20:00\"]",
            "[business_calendar.hours]\nmonday = []\ntuesday = []\nwednesday = []\nthursday = []\nfriday = []",
            "business_calendar.hours",
            "never open",
        ),
        (
            "a misspelt key",
            "time_zone = \"Europe/Berlin\"",
            "timezone = \"Europe/Berlin\"",
            "timezone",
            "unknown field",
        ),
        (
            "a missing section",
            "[chat]\n# Without an agent reply after this long, the customer is offered to continue by e-mail.\nfallback_after = \"10m\"",
            "",
            "chat",
            "missing field",
        ),
        (
            "an enterprise number that is not E.164",
            "enterprise_numbers = []",
            "enterprise_numbers = [\"040 123456\"]",
            "plans.enterprise_numbers[0]",
            "is not an E.164 number",
        ),
        (
            "an enterprise attribute without values",
            "enterprise_attributes = [{ name = \"plan\", values = [\"enterprise\"] }]",
            "enterprise_attributes = [{ name = \"plan\", values = [] }]",
            "plans.enterprise_attributes[0].values",
            "must list at least one value",
        ),
        (
            "an empty label prefix",
            "cluster_prefix = \"cluster_\"",
            "cluster_prefix = \"\"",
            "labels.cluster_prefix",
            "must not be empty",
        ),
    ];
    for (what, from, to, key, reason) in table {
        let text = mutated(from, to);
        let message = match parse_policy(&text) {
            Ok(_) => panic!("{what}: the file was accepted"),
            Err(error) => error.to_string(),
        };
        assert!(
            message.contains(key),
            "{what}: {message:?} does not name {key:?}"
        );
        assert!(
            message.contains(reason),
            "{what}: {message:?} does not say {reason:?}"
        );
    }
}

#[test]
fn a_date_both_extra_open_and_extra_closed_is_rejected() {
    let text = mutated("extra_closed = []", "extra_closed = [\"2026-12-27\"]").replacen(
        "extra_open = []",
        "extra_open = [{ date = \"2026-12-27\", hours = [\"10:00-14:00\"] }]",
        1,
    );
    let message = parse_policy(&text).unwrap_err().to_string();
    assert!(
        message.contains("business_calendar.extra_open"),
        "{message}"
    );
    assert!(
        message.contains("2026-12-27 is listed as both extra open and extra closed"),
        "{message}"
    );
}

#[test]
fn a_valid_variation_of_the_default_loads_and_takes_effect() {
    let text = mutated("holidays = \"DE-NW\"", "holidays = \"DE-BY\"")
        .replacen(
            "time_zone = \"Europe/Berlin\"",
            "time_zone = \"Europe/Vienna\"",
            1,
        )
        .replacen("extra_closed = []", "extra_closed = [\"2026-12-24\"]", 1)
        .replacen(
            "extra_open = []",
            "extra_open = [{ date = \"2026-12-27\", hours = [\"10:00-14:00\"] }]",
            1,
        )
        .replacen(
            "saturday = []",
            "saturday = [\"09:00-12:00\", \"13:00-15:00\"]",
            1,
        )
        .replacen("target = \"30m\"", "target = \"1h 30m\"", 1)
        .replacen("warning_at = 0.75", "warning_at = 0.5", 1);
    let policy = parse_policy(&text).unwrap();
    let Calendar::Business(business) = &policy.business else {
        panic!("the business calendar is a weekly schedule");
    };
    assert_eq!(business.time_zone().iana_name(), Some("Europe/Vienna"));
    assert_eq!(business.closed_days().state, Some(GermanState::Bayern));
    assert!(
        business.hours_on(date(2026, 1, 6)).is_empty(),
        "Epiphany in Bavaria"
    );
    assert!(
        business.hours_on(date(2026, 12, 24)).is_empty(),
        "extra closed"
    );
    assert_eq!(
        business.hours_on(date(2026, 12, 27)).len(),
        1,
        "extra open Sunday"
    );
    assert_eq!(
        business.hours_on(date(2026, 11, 28)).len(),
        2,
        "Saturday with a break"
    );
    assert_eq!(policy.urgent.duration, minutes(90));
    assert_eq!(policy.warning_at.value(), 0.5);
    let sunday: Timestamp = "2026-12-27T09:30:00Z".parse().unwrap(); // 10:30 in Vienna
    assert!(policy.business.is_open(sunday));
}

#[test]
fn durations_may_be_written_in_several_forms() {
    for (text, expected) in [
        ("30m", minutes(30)),
        ("4h", minutes(240)),
        ("1h 30m", minutes(90)),
        ("PT30M", minutes(30)),
        ("PT1H30M", minutes(90)),
        ("90 minutes", minutes(90)),
    ] {
        let policy = parse_policy(&mutated("target = \"30m\"", &format!("target = {text:?}")))
            .unwrap_or_else(|error| panic!("{text}: {error}"));
        assert_eq!(policy.urgent.duration, expected, "{text}");
    }
}

#[test]
fn a_file_that_is_not_toml_fails_as_a_syntax_error() {
    let error = parse_policy("[business_calendar\ntime_zone = ").unwrap_err();
    assert!(matches!(error, PolicyError::Syntax(_)), "{error:?}");
    assert!(
        error.to_string().starts_with("invalid policy file"),
        "{error}"
    );
}
