//! [`SchedulerTimers`]: the engine's timers as one-time EventBridge Scheduler schedules.
//!
//! Each (case, timer kind) has one schedule in a dedicated schedule group, named
//! deterministically ([`schedule_name`]), firing once `at(yyyy-mm-ddThh:mm:ss)` in UTC
//! ([`at_expression`]) with no flexible window. Its target is the escalate function, invoked
//! with a [`TimerInput`] as its event; its role lets Scheduler invoke that function; failed
//! invocations are retried ([`MAX_RETRY_ATTEMPTS`], [`MAX_EVENT_AGE_SECONDS`]) and then sent
//! to a dead-letter queue; a schedule deletes itself after it fired.
//!
//! Timers are hints (see `app::ports::timers`): a schedule that fires late, twice, or for a
//! deadline that moved does nothing wrong, because the engine re-evaluates the case at `now`.

use crate::config::{ConfigError, required};
use crate::error::{Failure, classify};
use app::ports::{TimerError, Timers};
use aws_sdk_scheduler::error::SdkError;
use aws_sdk_scheduler::types::{
    ActionAfterCompletion, DeadLetterConfig, FlexibleTimeWindow, FlexibleTimeWindowMode,
    RetryPolicy, ScheduleState, Target,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use domain::Timestamp;
use domain::case::{CaseId, TimerKind};
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

pub const SCHEDULE_GROUP_VAR: &str = "SCHEDULE_GROUP";
pub const TARGET_ARN_VAR: &str = "ESCALATE_FUNCTION_ARN";
pub const ROLE_ARN_VAR: &str = "SCHEDULER_ROLE_ARN";
pub const DEAD_LETTER_ARN_VAR: &str = "SCHEDULER_DLQ_ARN";

/// Invocation attempts Scheduler makes when the target fails or is throttled: the maximum it
/// allows. A redelivered timer is harmless (a stale or duplicate timer does nothing), and each
/// attempt may be the one that pages the on-call engineer.
pub const MAX_RETRY_ATTEMPTS: i32 = 185;

/// How long Scheduler keeps retrying one firing: the maximum, 24 hours. The sweep normally
/// catches a deadline long before; what still fails after that lands in the dead-letter queue
/// for someone to look at.
pub const MAX_EVENT_AGE_SECONDS: i32 = 86_400;

/// The `outcome` field of the one log line written when a timer could not be applied (a
/// schedule create, update or delete that failed for good): the metric filters of
/// `template.yaml` count it (`{ $.fields.outcome = "timer_not_applied" }`) and alarm, since the
/// case then waits for the five-minute sweep. Keep it stable.
pub const TIMER_NOT_APPLIED: &str = "timer_not_applied";

/// The longest schedule name Scheduler accepts.
pub const MAX_NAME_LEN: usize = 64;

/// Where the schedules go and what they invoke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerConfig {
    /// The schedule group (created with the stack; all of this service's schedules live there).
    pub group: String,
    /// The escalate function's ARN.
    pub target_arn: String,
    /// The role Scheduler assumes to invoke the target (`lambda:InvokeFunction` on it).
    pub role_arn: String,
    /// The SQS queue for firings that failed every retry.
    pub dead_letter_arn: String,
}

impl SchedulerConfig {
    /// From `SCHEDULE_GROUP`, `ESCALATE_FUNCTION_ARN`, `SCHEDULER_ROLE_ARN` and
    /// `SCHEDULER_DLQ_ARN`; all four are required.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {
            group: required(&lookup, SCHEDULE_GROUP_VAR)?,
            target_arn: required(&lookup, TARGET_ARN_VAR)?,
            role_arn: required(&lookup, ROLE_ARN_VAR)?,
            dead_letter_arn: required(&lookup, DEAD_LETTER_ARN_VAR)?,
        })
    }
}

/// The event a schedule sends to the escalate function:
/// `{"case_id": "zendesk-5158", "timer": "first_response"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimerInput {
    pub case_id: CaseId,
    pub timer: TimerKind,
}

impl TimerInput {
    pub fn new(case_id: CaseId, timer: TimerKind) -> Self {
        Self { case_id, timer }
    }

    pub fn to_json(&self) -> String {
        // Two strings: serialization cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }
}

/// The schedule's name: `<case id>.<timer>` when that fits in 64 characters (case ids are
/// `[A-Za-z0-9._-]`, as are timer names, so it is always valid), otherwise the start of the
/// case id, `-`, a 64-bit FNV-1a hash of `<case id>.<timer>` in 16 hex digits, `.` and the
/// timer: exactly 64 characters, readable, and the same in every release.
pub fn schedule_name(case: &CaseId, timer: TimerKind) -> String {
    let plain = format!("{case}.{timer}");
    if plain.len() <= MAX_NAME_LEN {
        return plain;
    }
    let suffix = format!("-{:016x}.{timer}", fnv1a64(plain.as_bytes()));
    let keep = MAX_NAME_LEN - suffix.len();
    // Case ids are ASCII: any byte index is a character boundary.
    let prefix = case.as_str().get(..keep).unwrap_or_default();
    format!("{prefix}{suffix}")
}

/// 64-bit FNV-1a. Written out here so that schedule names never change with a dependency.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(PRIME)
    })
}

/// `at(yyyy-mm-ddThh:mm:00)` in UTC (to be sent with `ScheduleExpressionTimezone = "UTC"`).
///
/// Scheduler fires a one-time schedule within the minute of its `at()` (documented precision:
/// `at(…T01:00:00)` fires between 01:00:00 and 01:00:59), so any seconds would let a timer
/// fire up to 59 s before its deadline. The instant is rounded up to the next whole minute (one
/// already on a whole minute stays): a timer never fires early, and at most 60 s late.
pub fn at_expression(at: Timestamp) -> String {
    format!("at({})", fire_minute(at).strftime("%Y-%m-%dT%H:%M:%S"))
}

/// `at` rounded up to the next whole minute (UTC); an instant on a whole minute stays.
pub fn fire_minute(at: Timestamp) -> Timestamp {
    const NANOS_PER_MINUTE: i128 = 60_000_000_000;
    let nanos = at.as_nanosecond();
    let rounded = nanos.div_euclid(NANOS_PER_MINUTE) * NANOS_PER_MINUTE;
    let rounded = if rounded < nanos {
        rounded + NANOS_PER_MINUTE
    } else {
        rounded
    };
    // Only the last minute before Timestamp::MAX cannot be rounded up: keep it as it is.
    Timestamp::from_nanosecond(rounded).unwrap_or(at)
}

/// `app::ports::Timers` on EventBridge Scheduler.
#[derive(Debug, Clone)]
pub struct SchedulerTimers {
    client: aws_sdk_scheduler::Client,
    config: SchedulerConfig,
}

/// What one create or update request failed with.
enum Attempt {
    Conflict,
    NotFound,
    Failed(TimerError),
}

impl SchedulerTimers {
    pub fn new(client: aws_sdk_scheduler::Client, config: SchedulerConfig) -> Self {
        Self { client, config }
    }

    pub fn config(&self) -> &SchedulerConfig {
        &self.config
    }

    fn target(&self, case: &CaseId, timer: TimerKind) -> Result<Target, TimerError> {
        Target::builder()
            .arn(&self.config.target_arn)
            .role_arn(&self.config.role_arn)
            .input(TimerInput::new(case.clone(), timer).to_json())
            .retry_policy(
                RetryPolicy::builder()
                    .maximum_retry_attempts(MAX_RETRY_ATTEMPTS)
                    .maximum_event_age_in_seconds(MAX_EVENT_AGE_SECONDS)
                    .build(),
            )
            .dead_letter_config(
                DeadLetterConfig::builder()
                    .arn(&self.config.dead_letter_arn)
                    .build(),
            )
            .build()
            .map_err(|error| TimerError::Refused(format!("invalid schedule target: {error}")))
    }

    fn window() -> Result<FlexibleTimeWindow, TimerError> {
        FlexibleTimeWindow::builder()
            .mode(FlexibleTimeWindowMode::Off)
            .build()
            .map_err(|error| TimerError::Refused(format!("invalid time window: {error}")))
    }

    async fn create(&self, name: &str, expression: &str, target: Target) -> Result<(), Attempt> {
        self.client
            .create_schedule()
            .group_name(&self.config.group)
            .name(name)
            .schedule_expression(expression)
            .schedule_expression_timezone("UTC")
            .flexible_time_window(Self::window().map_err(Attempt::Failed)?)
            .target(target)
            .action_after_completion(ActionAfterCompletion::Delete)
            .state(ScheduleState::Enabled)
            .send()
            .await
            .map(|_| ())
            .map_err(|error| {
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conflict_exception())
                {
                    Attempt::Conflict
                } else {
                    // ResourceNotFound here means the group is missing: nothing to fall back to.
                    Attempt::Failed(timer_error("create schedule", name, &error))
                }
            })
    }

    /// `UpdateSchedule` replaces the whole schedule: every field is sent again (moto, for one,
    /// stores a missing `State` as null).
    async fn update(&self, name: &str, expression: &str, target: Target) -> Result<(), Attempt> {
        self.client
            .update_schedule()
            .group_name(&self.config.group)
            .name(name)
            .schedule_expression(expression)
            .schedule_expression_timezone("UTC")
            .flexible_time_window(Self::window().map_err(Attempt::Failed)?)
            .target(target)
            .action_after_completion(ActionAfterCompletion::Delete)
            .state(ScheduleState::Enabled)
            .send()
            .await
            .map(|_| ())
            .map_err(|error| {
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception())
                {
                    Attempt::NotFound
                } else {
                    Attempt::Failed(timer_error("update schedule", name, &error))
                }
            })
    }
}

/// Throttling, 5xx, timeouts: `Unavailable`; a rejected request (validation, access denied,
/// quota): `Refused`. Logged with the whole error chain.
fn timer_error<E>(
    operation: &str,
    name: &str,
    error: &SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>,
) -> TimerError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let Failure {
        transient,
        code,
        message,
    } = classify(error, &["InternalServerException"]);
    warn!(outcome = TIMER_NOT_APPLIED, operation, schedule = name, code = code.as_deref().unwrap_or("-"), error = %message, "timer not applied: scheduler request failed");
    let reason = format!("{operation} {name}: {message}");
    if transient {
        TimerError::Unavailable(reason)
    } else {
        TimerError::Refused(reason)
    }
}

/// The error of the last attempt. A failed request was logged by [`timer_error`]; a schedule
/// that kept changing under us is logged here, with the same `outcome`.
fn attempt_error(operation: &str, name: &str, attempt: Attempt) -> TimerError {
    let race = match attempt {
        Attempt::Failed(error) => return error,
        Attempt::Conflict => "the schedule was created concurrently",
        Attempt::NotFound => "the schedule was deleted concurrently",
    };
    warn!(
        outcome = TIMER_NOT_APPLIED,
        operation,
        schedule = name,
        error = race,
        "timer not applied: the schedule changed concurrently"
    );
    TimerError::Unavailable(format!("{operation} {name}: {race}"))
}

impl Timers for SchedulerTimers {
    async fn schedule(
        &self,
        case: &CaseId,
        timer: TimerKind,
        at: Timestamp,
        moving: bool,
    ) -> Result<(), TimerError> {
        let name = schedule_name(case, timer);
        let expression = at_expression(at);
        let target = self.target(case, timer)?;
        // One request in the usual case: update a timer the case had, create a new one. The
        // hint can be wrong (a schedule that fired deleted itself; a create was lost), so each
        // falls back to the other once, and once more if the schedule changed meanwhile.
        let result = if moving {
            match self.update(&name, &expression, target.clone()).await {
                Err(Attempt::NotFound) => {
                    match self.create(&name, &expression, target.clone()).await {
                        Err(Attempt::Conflict) => self.update(&name, &expression, target).await,
                        other => other,
                    }
                }
                other => other,
            }
        } else {
            match self.create(&name, &expression, target.clone()).await {
                Err(Attempt::Conflict) => {
                    match self.update(&name, &expression, target.clone()).await {
                        Err(Attempt::NotFound) => self.create(&name, &expression, target).await,
                        other => other,
                    }
                }
                other => other,
            }
        };
        result.map_err(|attempt| attempt_error("schedule", &name, attempt))?;
        info!(case_id = %case, %timer, schedule = %name, %expression, moving, "timer scheduled");
        Ok(())
    }

    async fn cancel(&self, case: &CaseId, timer: TimerKind) -> Result<(), TimerError> {
        let name = schedule_name(case, timer);
        match self
            .client
            .delete_schedule()
            .group_name(&self.config.group)
            .name(&name)
            .send()
            .await
        {
            Ok(_) => {
                info!(case_id = %case, %timer, schedule = %name, "timer cancelled");
                Ok(())
            }
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                // Fired (and deleted itself) or never created: nothing to cancel.
                info!(case_id = %case, %timer, schedule = %name, "timer to cancel did not exist");
                Ok(())
            }
            Err(error) => Err(timer_error("delete schedule", &name, &error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn the_at_expression_is_utc_without_a_zone_rounded_up_to_the_whole_minute() {
        for (at, expression) in [
            // On a whole minute: stays.
            ("2026-12-01T10:00:00Z", "at(2026-12-01T10:00:00)"),
            ("2026-12-01T10:00:00.000Z", "at(2026-12-01T10:00:00)"),
            // Any later instant within the minute: the next minute.
            ("2026-12-01T10:00:00.001Z", "at(2026-12-01T10:01:00)"),
            ("2026-12-01T10:00:00.000000001Z", "at(2026-12-01T10:01:00)"),
            ("2026-12-01T10:00:30Z", "at(2026-12-01T10:01:00)"),
            ("2026-12-01T10:00:59Z", "at(2026-12-01T10:01:00)"),
            ("2026-12-01T10:00:59.999999999Z", "at(2026-12-01T10:01:00)"),
            ("2026-01-05T07:08:09Z", "at(2026-01-05T07:09:00)"),
            // In UTC, whatever the offset it was written with.
            ("2026-03-29T03:30:05+02:00", "at(2026-03-29T01:31:00)"),
            // Hour, day, month and year roll over.
            ("2026-12-01T10:59:01Z", "at(2026-12-01T11:00:00)"),
            ("2026-12-01T23:59:59Z", "at(2026-12-02T00:00:00)"),
            ("2026-02-28T23:59:00.5Z", "at(2026-03-01T00:00:00)"),
            ("2026-12-31T23:59:59.5Z", "at(2027-01-01T00:00:00)"),
            // Before the epoch too (nanoseconds are negative there).
            ("1969-12-31T23:59:59.5Z", "at(1970-01-01T00:00:00)"),
            ("1969-12-31T23:58:00Z", "at(1969-12-31T23:58:00)"),
        ] {
            assert_eq!(at_expression(ts(at)), expression, "{at}");
        }
    }

    #[test]
    fn the_fire_minute_is_never_before_the_instant_nor_a_minute_or_more_after_it() {
        for at in [
            "2026-12-01T10:00:00Z",
            "2026-12-01T10:00:00.001Z",
            "2026-12-01T10:00:59.999Z",
            "1969-12-31T23:59:59.5Z",
        ] {
            let at = ts(at);
            let fire = fire_minute(at);
            assert!(fire >= at, "{at} -> {fire}");
            assert!(fire.duration_since(at) < domain::jiff::SignedDuration::from_secs(60));
            assert_eq!(fire.as_nanosecond() % 60_000_000_000, 0, "{fire}");
        }
    }

    #[test]
    fn short_names_are_the_case_id_and_the_timer() {
        let case = CaseId::parse("zendesk-5158").unwrap();
        assert_eq!(
            schedule_name(&case, TimerKind::FirstResponseWarning),
            "zendesk-5158.first_response_warning"
        );
        assert_eq!(
            schedule_name(&case, TimerKind::Dispatch),
            "zendesk-5158.dispatch"
        );
    }

    fn valid(name: &str) -> bool {
        (1..=MAX_NAME_LEN).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    }

    #[test]
    fn long_names_keep_a_readable_prefix_and_a_stable_hash() {
        let long = CaseId::parse(&format!("twilio-RE{}", "0123456789abcdef".repeat(7))).unwrap();
        for timer in TimerKind::ALL {
            let name = schedule_name(&long, timer);
            assert!(valid(&name), "{name}");
            assert_eq!(name.len(), MAX_NAME_LEN);
            assert!(name.starts_with("twilio-RE0123"), "{name}");
            assert!(name.ends_with(&format!(".{timer}")), "{name}");
        }
        // Pinned: a release that changed the name would orphan every pending schedule.
        assert_eq!(
            schedule_name(&long, TimerKind::FirstResponse),
            "twilio-RE0123456789abcdef0123456-1deb59849f927b9d.first_response"
        );
        assert_eq!(
            schedule_name(&long, TimerKind::Dispatch),
            "twilio-RE0123456789abcdef0123456789abc-3455d2826672c83b.dispatch"
        );
        // Two ids that share the prefix get different names.
        let other = CaseId::parse(&format!("twilio-RE{}X", "0123456789abcdef".repeat(7))).unwrap();
        assert_ne!(
            schedule_name(&long, TimerKind::Dispatch),
            schedule_name(&other, TimerKind::Dispatch)
        );
        // The longest possible id.
        let longest = CaseId::parse(&"z".repeat(CaseId::MAX_LEN)).unwrap();
        assert!(valid(&schedule_name(
            &longest,
            TimerKind::FirstResponseWarning
        )));
    }

    #[test]
    fn fnv1a64_matches_the_reference_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn the_input_is_the_case_id_and_the_timer_name() {
        let input = TimerInput::new(
            CaseId::parse("intercom-1295").unwrap(),
            TimerKind::ChatFallback,
        );
        assert_eq!(
            input.to_json(),
            r#"{"case_id":"intercom-1295","timer":"chat_fallback"}"#
        );
        assert_eq!(
            TimerInput::from_json(r#"{"timer": "dispatch", "case_id": "zendesk-1"}"#).unwrap(),
            TimerInput::new(CaseId::parse("zendesk-1").unwrap(), TimerKind::Dispatch)
        );
        assert!(TimerInput::from_json(r#"{"case_id": "bad id", "timer": "dispatch"}"#).is_err());
        assert!(TimerInput::from_json(r#"{"case_id": "zendesk-1", "timer": "lunch"}"#).is_err());
    }

    mod failures {
        use super::super::timer_error;
        use app::ports::TimerError;
        use aws_sdk_scheduler::error::SdkError;
        use aws_sdk_scheduler::operation::create_schedule::CreateScheduleError;
        use aws_smithy_runtime_api::http::{Response, StatusCode};
        use aws_smithy_types::body::SdkBody;
        use aws_smithy_types::error::ErrorMetadata;

        fn failure(status: u16, code: &str) -> TimerError {
            let error = CreateScheduleError::generic(
                ErrorMetadata::builder().code(code).message("m").build(),
            );
            let raw = Response::new(StatusCode::try_from(status).unwrap(), SdkBody::empty());
            timer_error(
                "create schedule",
                "zendesk-1.dispatch",
                &SdkError::service_error(error, raw),
            )
        }

        #[test]
        fn throttling_server_errors_and_timeouts_are_unavailable() {
            for (status, code) in [
                (400, "ThrottlingException"),
                (429, "TooManyRequestsException"),
                (500, "InternalServerException"),
                (503, "ServiceUnavailable"),
            ] {
                assert!(
                    matches!(failure(status, code), TimerError::Unavailable(_)),
                    "{code}"
                );
            }
            let timeout = timer_error::<CreateScheduleError>(
                "create schedule",
                "zendesk-1.dispatch",
                &SdkError::timeout_error("no answer"),
            );
            assert!(matches!(timeout, TimerError::Unavailable(_)));
        }

        #[test]
        fn validation_access_and_quota_errors_are_refused() {
            for (status, code) in [
                (400, "ValidationException"),
                (403, "AccessDeniedException"),
                (402, "ServiceQuotaExceededException"),
                (404, "ResourceNotFoundException"),
            ] {
                let error = failure(status, code);
                let TimerError::Refused(reason) = &error else {
                    panic!("{code} should be refused, got {error:?}")
                };
                assert!(reason.contains("zendesk-1.dispatch"), "{reason}");
            }
        }
    }

    #[test]
    fn the_config_needs_all_four_settings() {
        let all = |name: &str| Some(format!("value of {name}"));
        let config = SchedulerConfig::from_lookup(all).unwrap();
        assert_eq!(config.group, "value of SCHEDULE_GROUP");
        assert_eq!(config.target_arn, "value of ESCALATE_FUNCTION_ARN");
        assert_eq!(config.role_arn, "value of SCHEDULER_ROLE_ARN");
        assert_eq!(config.dead_letter_arn, "value of SCHEDULER_DLQ_ARN");
        let no_dlq = |name: &str| (name != DEAD_LETTER_ARN_VAR).then(|| "x".to_owned());
        assert_eq!(
            SchedulerConfig::from_lookup(no_dlq),
            Err(ConfigError::Missing("SCHEDULER_DLQ_ARN"))
        );
    }
}
