//! `supportctl deadline` as an operator runs it: output format, exit codes, error messages.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

fn supportctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_supportctl"))
        .args(args)
        .output()
        .unwrap()
}

fn deadline_json(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["deadline"];
    all.extend_from_slice(args);
    let output = supportctl(&all);
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn a_friday_evening_ticket_prints_utc_deadlines_and_the_consumed_intervals() {
    let json = deadline_json(&[
        "--received",
        "2026-11-27T19:45:00+01:00",
        "--plan",
        "12x5",
        "--priority",
        "high",
    ]);
    assert_eq!(json["received"], "2026-11-27T18:45:00Z");
    assert_eq!(json["plan"], "12x5");
    assert_eq!(json["priority"], "high");
    assert_eq!(json["channel"], "ticket");
    assert_eq!(json["out_of_hours"], false);
    assert_eq!(json["dispatch_due"], "2026-11-30T07:45:00Z");
    assert_eq!(json["first_response_due"], "2026-11-30T10:45:00Z");
    assert_eq!(json["first_response_warning_at"], "2026-11-30T09:45:00Z");
    let dispatch = &json["explanation"][0];
    assert_eq!(dispatch["deadline"], "dispatch");
    assert_eq!(
        dispatch["consumed"],
        serde_json::json!([
            "Fri 2026-11-27 19:45-20:00 CET",
            "Mon 2026-11-30 08:00-08:45 CET"
        ])
    );
}

#[test]
fn a_chat_has_no_dispatch_deadline_and_an_enterprise_urgent_one_runs_around_the_clock() {
    let json = deadline_json(&[
        "--received",
        "2026-11-28T09:00:00Z",
        "--plan",
        "24x7",
        "--priority",
        "urgent",
        "--channel",
        "chat",
    ]);
    assert_eq!(json["channel"], "chat");
    assert_eq!(json["dispatch_due"], serde_json::Value::Null);
    assert_eq!(json["out_of_hours"], true);
    assert_eq!(json["first_response_due"], "2026-11-28T09:30:00Z");
    assert_eq!(json["explanation"][0]["calendar"], "always");
}

#[test]
fn bad_input_exits_with_2_names_the_argument_and_prints_nothing_on_stdout() {
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "--received",
                "2026-11-27 19:45",
                "--plan",
                "12x5",
                "--priority",
                "high",
            ],
            "--received",
        ),
        (
            &[
                "--received",
                "yesterday",
                "--plan",
                "12x5",
                "--priority",
                "high",
            ],
            "--received",
        ),
        (
            &[
                "--received",
                "2026-11-27T19:45:00Z",
                "--plan",
                "9x5",
                "--priority",
                "high",
            ],
            "--plan",
        ),
        (
            &[
                "--received",
                "2026-11-27T19:45:00Z",
                "--plan",
                "12x5",
                "--priority",
                "asap",
            ],
            "--priority",
        ),
        (
            &[
                "--received",
                "2026-11-27T19:45:00Z",
                "--plan",
                "12x5",
                "--priority",
                "high",
                "--channel",
                "fax",
            ],
            "--channel",
        ),
        (
            &[
                "--received",
                "2026-11-27T19:45:00Z",
                "--plan",
                "12x5",
                "--priority",
                "high",
                "--policy",
                "/nonexistent/policy.toml",
            ],
            "--policy",
        ),
    ];
    for (args, named) in cases {
        let mut all = vec!["deadline"];
        all.extend_from_slice(args);
        let output = supportctl(&all);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?} printed on stdout");
        assert!(
            stderr.contains(named),
            "{args:?}: stderr does not name {named}: {stderr}"
        );
    }
}

#[test]
fn an_invalid_policy_file_exits_with_2_and_names_the_key() {
    let dir = std::env::temp_dir().join(format!("supportctl-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("policy.toml");
    let text = policy_file::DEFAULT_POLICY_TOML.replace("Europe/Berlin", "Europe/Berlni");
    std::fs::write(&path, text).unwrap();
    let output = supportctl(&[
        "deadline",
        "--received",
        "2026-11-27T19:45:00Z",
        "--plan",
        "12x5",
        "--priority",
        "high",
        "--policy",
        path.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    assert!(stderr.contains("business_calendar.time_zone"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}
