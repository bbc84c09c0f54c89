//! The AWS adapters of support-sla: the engine's ports on AWS services.
//!
//! - [`store::DynamoStore`] implements [`app::ports::CaseStore`] on one DynamoDB table (the key
//!   design is documented in `infra/dynamodb.md`).
//! - [`scheduler::SchedulerTimers`] implements [`app::ports::Timers`] with one-time EventBridge
//!   Scheduler schedules that invoke the escalate function with a [`scheduler::TimerInput`].
//! - [`ses::SesMailer`] implements [`app::ports::Mailer`] with SES v2 `SendEmail`.
//! - [`events::EventBridgePublisher`] implements [`app::ports::EventPublisher`] with EventBridge
//!   `PutEvents` (SLA events, docs/events.md).
//! - [`config`] loads the SDK configuration once (region, credentials, and `AWS_ENDPOINT_URL`,
//!   so the same code talks to moto server in tests) and reads the adapters' settings.
//!
//! Every SDK error is logged with its whole chain
//! ([`DisplayErrorContext`](aws_smithy_types::error::display::DisplayErrorContext)) and mapped
//! to the port's error: throttling, 5xx, timeouts and network failures are worth a retry;
//! a rejected request is not.

pub mod config;
mod error;
pub mod events;
pub mod scheduler;
pub mod ses;
pub mod store;
#[cfg(feature = "test-support")]
pub mod test_support;

pub use config::ConfigError;
