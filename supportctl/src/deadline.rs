//! `supportctl deadline`: the deadlines of one request, with the open time each consumed.

use domain::calendar::{Calendar, OpenSpan};
use domain::deadlines::{Explained, Request};
use domain::jiff::Timestamp;
use domain::jiff::tz::TimeZone;
use domain::policy::{Channel, Plan, Policy, Priority};
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// When the request reached support, as an RFC 3339 instant (e.g. 2026-12-01T09:00:00+01:00).
    #[arg(long, value_parser = parse_instant)]
    received: Timestamp,
    /// Support plan: 12x5 or 24x7.
    #[arg(long, value_parser = parse_named::<Plan>)]
    plan: Plan,
    /// Priority: urgent, high, normal or low.
    #[arg(long, value_parser = parse_named::<Priority>)]
    priority: Priority,
    /// Channel: ticket, chat or phone.
    #[arg(long, value_parser = parse_named::<Channel>, default_value = "ticket")]
    channel: Channel,
    /// Policy file (default: the built-in default policy, the same as infra/policy.toml).
    #[arg(long)]
    policy: Option<PathBuf>,
}

fn parse_instant(text: &str) -> Result<Timestamp, String> {
    text.parse().map_err(|_| {
        format!("{text:?} is not an RFC 3339 instant such as 2026-12-01T09:00:00+01:00 or 2026-12-01T08:00:00Z")
    })
}

fn parse_named<T: std::str::FromStr>(text: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|error: T::Err| error.to_string())
}

#[derive(Debug, thiserror::Error)]
pub enum DeadlineError {
    #[error("--policy: {0}")]
    Policy(#[from] policy_file::PolicyError),
    #[error("cannot compute the deadlines: {0}")]
    Calendar(#[from] domain::calendar::CalendarError),
    #[error("cannot write the result: {0}")]
    Output(#[from] serde_json::Error),
}

#[derive(Debug, Serialize)]
struct Output {
    received: Timestamp,
    plan: Plan,
    priority: Priority,
    channel: Channel,
    out_of_hours: bool,
    dispatch_due: Option<Timestamp>,
    first_response_due: Timestamp,
    first_response_warning_at: Timestamp,
    explanation: Vec<Explanation>,
}

#[derive(Debug, Serialize)]
struct Explanation {
    deadline: &'static str,
    calendar: &'static str,
    due: Timestamp,
    /// The open intervals consumed, in the business calendar's local time.
    consumed: Vec<String>,
}

pub fn run(args: &Args) -> Result<(), DeadlineError> {
    let policy = match &args.policy {
        Some(path) => policy_file::load_policy(path)?,
        None => policy_file::default_policy()?,
    };
    let output = compute(&policy, args)?;
    println!("{}", serde_json::to_string_pretty(&output)?);
    Ok(())
}

fn compute(policy: &Policy, args: &Args) -> Result<Output, DeadlineError> {
    let request = Request {
        received: args.received,
        plan: args.plan,
        priority: args.priority,
        channel: args.channel,
    };
    let explained = policy.explain_deadlines(&request)?;
    let zone = local_zone(policy);
    let explain = |deadline: &'static str, item: &Explained| Explanation {
        deadline,
        calendar: item.clock.as_str(),
        due: item.due,
        consumed: item
            .spans
            .iter()
            .map(|span| describe(span, &zone))
            .collect(),
    };
    let mut explanation = Vec::new();
    if let Some(dispatch) = &explained.dispatch {
        explanation.push(explain("dispatch", dispatch));
    }
    explanation.push(explain("first_response", &explained.first_response));
    explanation.push(explain(
        "first_response_warning",
        &explained.first_response_warning,
    ));
    Ok(Output {
        received: args.received,
        plan: args.plan,
        priority: args.priority,
        channel: args.channel,
        out_of_hours: explained.out_of_hours,
        dispatch_due: explained.dispatch.as_ref().map(|d| d.due),
        first_response_due: explained.first_response.due,
        first_response_warning_at: explained.first_response_warning.due,
        explanation,
    })
}

fn local_zone(policy: &Policy) -> TimeZone {
    match &policy.business {
        Calendar::Business(calendar) => calendar.time_zone().clone(),
        Calendar::Always => TimeZone::UTC,
    }
}

/// `Fri 2026-11-27 19:45-20:00 CET`, or with both dates when a span crosses midnight.
fn describe(span: &OpenSpan, zone: &TimeZone) -> String {
    let start = span.start.to_zoned_datetime(zone.clone());
    let end = span.end.to_zoned_datetime(zone.clone());
    let end_format = if start.date() == end.date() {
        "%H:%M"
    } else {
        "%a %Y-%m-%d %H:%M"
    };
    format!(
        "{}-{} {}",
        start.strftime("%a %Y-%m-%d %H:%M"),
        end.strftime(end_format),
        end.strftime("%Z")
    )
}
