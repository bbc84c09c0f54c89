//! `SchedulerTimers` on moto: what a schedule looks like (read back with `GetSchedule`), how it
//! moves, how it is cancelled, and the fallbacks when the `moving` hint is wrong. Schedules never
//! fire in moto; the escalate function's tests call it with the schedule's input instead.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use app::ports::Timers;
use aws::scheduler::{
    MAX_EVENT_AGE_SECONDS, MAX_RETRY_ATTEMPTS, SchedulerConfig, SchedulerTimers, TimerInput,
    schedule_name,
};
use aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput;
use aws_sdk_scheduler::types::{ActionAfterCompletion, FlexibleTimeWindowMode, ScheduleState};
use common::RequestLog;
use domain::Timestamp;
use domain::case::{CaseId, TimerKind};

const TARGET: &str = "arn:aws:lambda:eu-central-1:123456789012:function:support-sla-escalate";
const ROLE: &str = "arn:aws:iam::123456789012:role/support-sla-scheduler";
const DLQ: &str = "arn:aws:sqs:eu-central-1:123456789012:support-sla-timers-dlq";

struct Fixture {
    timers: SchedulerTimers,
    log: RequestLog,
    client: aws_sdk_scheduler::Client,
    group: String,
}

async fn fixture() -> Fixture {
    let sdk = common::sdk_config().await;
    common::warm_up(&sdk).await;
    let group = common::new_group(&sdk, "timers").await;
    let log = RequestLog::default();
    let timers = SchedulerTimers::new(
        common::counted_scheduler(&sdk, &log),
        SchedulerConfig {
            group: group.clone(),
            target_arn: TARGET.to_owned(),
            role_arn: ROLE.to_owned(),
            dead_letter_arn: DLQ.to_owned(),
        },
    );
    Fixture {
        timers,
        log,
        client: aws_sdk_scheduler::Client::new(&sdk),
        group,
    }
}

impl Fixture {
    async fn get(&self, case: &CaseId, timer: TimerKind) -> Option<GetScheduleOutput> {
        match self
            .client
            .get_schedule()
            .group_name(&self.group)
            .name(schedule_name(case, timer))
            .send()
            .await
        {
            Ok(schedule) => Some(schedule),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                None
            }
            Err(error) => panic!("get_schedule: {error:?}"),
        }
    }

    async fn expression(&self, case: &CaseId, timer: TimerKind) -> String {
        self.get(case, timer)
            .await
            .expect("schedule exists")
            .schedule_expression()
            .unwrap_or_default()
            .to_owned()
    }
}

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn case(id: &str) -> CaseId {
    CaseId::parse(id).unwrap()
}

#[tokio::test]
async fn a_new_timer_is_a_one_time_utc_schedule_that_invokes_the_escalate_function() {
    let f = fixture().await;
    let id = case("zendesk-5158");
    f.timers
        .schedule(
            &id,
            TimerKind::FirstResponse,
            ts("2026-12-01T10:29:59.250+01:00"),
            false,
        )
        .await
        .unwrap();
    assert_eq!(f.log.take(), ["CreateSchedule"]);

    let schedule = f.get(&id, TimerKind::FirstResponse).await.unwrap();
    assert_eq!(schedule.name(), Some("zendesk-5158.first_response"));
    assert_eq!(schedule.group_name(), Some(f.group.as_str()));
    // UTC, rounded up to the whole minute: never before the deadline (Scheduler fires within
    // the minute of at()).
    assert_eq!(
        schedule.schedule_expression(),
        Some("at(2026-12-01T09:30:00)")
    );
    assert_eq!(schedule.schedule_expression_timezone(), Some("UTC"));
    assert_eq!(
        schedule.flexible_time_window().map(|w| w.mode()),
        Some(&FlexibleTimeWindowMode::Off)
    );
    assert_eq!(schedule.state(), Some(&ScheduleState::Enabled));
    assert_eq!(
        schedule.action_after_completion(),
        Some(&ActionAfterCompletion::Delete)
    );
    let target = schedule.target().expect("a target");
    assert_eq!(target.arn(), TARGET);
    assert_eq!(target.role_arn(), ROLE);
    let input = TimerInput::from_json(target.input().expect("an input")).unwrap();
    assert_eq!(input, TimerInput::new(id.clone(), TimerKind::FirstResponse));
    let retry = target.retry_policy().expect("a retry policy");
    assert_eq!(retry.maximum_retry_attempts(), Some(MAX_RETRY_ATTEMPTS));
    assert_eq!(
        retry.maximum_event_age_in_seconds(),
        Some(MAX_EVENT_AGE_SECONDS)
    );
    assert_eq!(target.dead_letter_config().and_then(|d| d.arn()), Some(DLQ));
}

#[tokio::test]
async fn a_moved_deadline_updates_its_schedule_in_one_request() {
    let f = fixture().await;
    let id = case("intercom-1295");
    f.timers
        .schedule(
            &id,
            TimerKind::ChatFallback,
            ts("2026-03-02T09:05:00Z"),
            false,
        )
        .await
        .unwrap();
    f.log.take();
    f.timers
        .schedule(
            &id,
            TimerKind::ChatFallback,
            ts("2026-03-02T11:00:00Z"),
            true,
        )
        .await
        .unwrap();
    assert_eq!(f.log.take(), ["UpdateSchedule"]);
    let schedule = f.get(&id, TimerKind::ChatFallback).await.unwrap();
    assert_eq!(
        schedule.schedule_expression(),
        Some("at(2026-03-02T11:00:00)")
    );
    // An update replaces the whole schedule: everything is still there.
    assert_eq!(schedule.state(), Some(&ScheduleState::Enabled));
    assert_eq!(schedule.schedule_expression_timezone(), Some("UTC"));
    let target = schedule.target().unwrap();
    assert_eq!(target.arn(), TARGET);
    assert_eq!(
        TimerInput::from_json(target.input().unwrap()).unwrap(),
        TimerInput::new(id.clone(), TimerKind::ChatFallback)
    );
    assert_eq!(target.dead_letter_config().and_then(|d| d.arn()), Some(DLQ));
    assert_eq!(
        target
            .retry_policy()
            .and_then(|r| r.maximum_retry_attempts()),
        Some(MAX_RETRY_ATTEMPTS)
    );
}

/// Scheduler fires within the minute of `at()`: a deadline with seconds is scheduled for the
/// next whole minute, whether created or moved, so that it never fires early.
#[tokio::test]
async fn a_deadline_within_a_minute_is_scheduled_at_the_next_whole_minute() {
    let f = fixture().await;
    let id = case("zendesk-2");
    f.timers
        .schedule(
            &id,
            TimerKind::Dispatch,
            ts("2026-03-02T09:14:00.001Z"),
            false,
        )
        .await
        .unwrap();
    assert_eq!(
        f.expression(&id, TimerKind::Dispatch).await,
        "at(2026-03-02T09:15:00)"
    );
    f.timers
        .schedule(&id, TimerKind::Dispatch, ts("2026-03-02T23:59:59Z"), true)
        .await
        .unwrap();
    assert_eq!(
        f.expression(&id, TimerKind::Dispatch).await,
        "at(2026-03-03T00:00:00)"
    );
}

#[tokio::test]
async fn timers_of_one_case_are_separate_schedules() {
    let f = fixture().await;
    let id = case("zendesk-1");
    f.timers
        .schedule(&id, TimerKind::Dispatch, ts("2026-03-02T09:15:00Z"), false)
        .await
        .unwrap();
    f.timers
        .schedule(
            &id,
            TimerKind::FirstResponse,
            ts("2026-03-02T09:30:00Z"),
            false,
        )
        .await
        .unwrap();
    assert_eq!(
        f.expression(&id, TimerKind::Dispatch).await,
        "at(2026-03-02T09:15:00)"
    );
    assert_eq!(
        f.expression(&id, TimerKind::FirstResponse).await,
        "at(2026-03-02T09:30:00)"
    );
}

#[tokio::test]
async fn cancelling_deletes_the_schedule_and_a_missing_one_is_no_error() {
    let f = fixture().await;
    let id = case("zendesk-2");
    f.timers
        .schedule(&id, TimerKind::Dispatch, ts("2026-03-02T09:15:00Z"), false)
        .await
        .unwrap();
    f.log.take();
    f.timers.cancel(&id, TimerKind::Dispatch).await.unwrap();
    assert_eq!(f.log.take(), ["DeleteSchedule"]);
    assert!(f.get(&id, TimerKind::Dispatch).await.is_none());

    // Fired (and deleted itself), or never created: fine.
    f.timers.cancel(&id, TimerKind::Dispatch).await.unwrap();
    f.timers
        .cancel(&case("zendesk-never"), TimerKind::ChatFallback)
        .await
        .unwrap();
    assert_eq!(f.log.take(), ["DeleteSchedule", "DeleteSchedule"]);
}

#[tokio::test]
async fn a_create_that_finds_the_schedule_updates_it_instead() {
    let f = fixture().await;
    let id = case("zendesk-3");
    f.timers
        .schedule(
            &id,
            TimerKind::FirstResponse,
            ts("2026-03-02T09:30:00Z"),
            false,
        )
        .await
        .unwrap();
    f.log.take();
    // The hint says "new", but the schedule exists (a retried event, say).
    f.timers
        .schedule(
            &id,
            TimerKind::FirstResponse,
            ts("2026-03-02T13:00:00Z"),
            false,
        )
        .await
        .unwrap();
    assert_eq!(f.log.take(), ["CreateSchedule", "UpdateSchedule"]);
    assert_eq!(
        f.expression(&id, TimerKind::FirstResponse).await,
        "at(2026-03-02T13:00:00)"
    );
}

#[tokio::test]
async fn an_update_that_finds_no_schedule_creates_it_instead() {
    let f = fixture().await;
    let id = case("zendesk-4");
    // The hint says "moving", but the schedule fired and deleted itself meanwhile.
    f.timers
        .schedule(&id, TimerKind::Dispatch, ts("2026-03-02T10:00:00Z"), true)
        .await
        .unwrap();
    assert_eq!(f.log.take(), ["UpdateSchedule", "CreateSchedule"]);
    assert_eq!(
        f.expression(&id, TimerKind::Dispatch).await,
        "at(2026-03-02T10:00:00)"
    );
}

#[tokio::test]
async fn long_case_ids_get_valid_stable_names_that_work_end_to_end() {
    let f = fixture().await;
    let long = case(&format!("twilio-RE{}", "a1b2c3d4e5f60718".repeat(7)));
    assert_eq!(long.as_str().len(), 121);
    for timer in TimerKind::ALL {
        let name = schedule_name(&long, timer);
        assert!(name.len() <= 64, "{name}");
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')),
            "{name}"
        );
        assert!(name.starts_with("twilio-RE"), "{name}");
        assert_eq!(name, schedule_name(&long, timer), "stable");
    }
    f.timers
        .schedule(
            &long,
            TimerKind::FirstResponseWarning,
            ts("2026-03-02T09:22:30Z"),
            false,
        )
        .await
        .unwrap();
    let schedule = f.get(&long, TimerKind::FirstResponseWarning).await.unwrap();
    // The input carries the whole id, whatever the name had to leave out.
    assert_eq!(
        TimerInput::from_json(schedule.target().unwrap().input().unwrap()).unwrap(),
        TimerInput::new(long.clone(), TimerKind::FirstResponseWarning)
    );
    f.timers
        .schedule(
            &long,
            TimerKind::FirstResponseWarning,
            ts("2026-03-02T10:00:00Z"),
            true,
        )
        .await
        .unwrap();
    assert_eq!(
        f.expression(&long, TimerKind::FirstResponseWarning).await,
        "at(2026-03-02T10:00:00)"
    );
    f.timers
        .cancel(&long, TimerKind::FirstResponseWarning)
        .await
        .unwrap();
    assert!(
        f.get(&long, TimerKind::FirstResponseWarning)
            .await
            .is_none()
    );
}
