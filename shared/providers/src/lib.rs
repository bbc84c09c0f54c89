//! Webhook intake for Zendesk, Intercom and Twilio voicemail, and PagerDuty's incident updates.
//!
//! Each provider has a handler with one entry point,
//! `handle(&self, &RawRequest, now) -> Result<Intake, Rejection>`, that works on the raw bytes
//! of the request, independent of any HTTP framework, in a fixed order:
//!
//! 1. method (405), body size (413);
//! 2. signature over the raw body (401) — nothing else is read from an unauthenticated body;
//! 3. parse the provider's wire format (400 with a readable reason) into private wire structs;
//! 4. normalize into [`domain::case::CaseEvent`]s, classified by the policy's rules.
//!
//! The library reads no clock and no environment: `now` is a parameter, and the `from_env`
//! constructors take a lookup closure. [`respond`] and [`stored_reply`] turn an outcome into
//! the HTTP status and JSON body; for accepted events the status depends on whether the caller
//! could store them, so that the provider retries when it could not.

mod bounded;
mod config;
pub mod intercom;
mod json;
mod lenient;
pub mod pagerduty;
mod plausible;
mod request;
mod signature;
pub mod twilio;
pub mod zendesk;

pub use bounded::{MAX_EMAIL_BYTES, MAX_EVENT_ID_BYTES, MAX_TEXT_BYTES, truncate};
pub use config::ConfigError;
pub use env_config::Secret;
pub use intercom::{IntercomConfig, IntercomHandler};
pub use pagerduty::{PagerDutyConfig, PagerDutyHandler, PagerDutyIntake};
pub use request::{
    DEFAULT_BODY_LIMIT, Intake, RawRequest, Rejection, Reply, StoreFailure, respond, stored_reply,
};
pub use twilio::{PublicBaseUrl, TwilioConfig, TwilioHandler};
pub use zendesk::{ZendeskConfig, ZendeskHandler};

use domain::policy::{LabelRules, PlanRules, Policy};
use jiff::Timestamp;

/// The policy rules that classify a request (plan and cluster/website labels). Owned, so a
/// handler built once at start-up can serve every request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Classifier {
    pub plans: PlanRules,
    pub labels: LabelRules,
}

impl Classifier {
    pub fn new(plans: PlanRules, labels: LabelRules) -> Self {
        Self { plans, labels }
    }
}

impl From<&Policy> for Classifier {
    fn from(policy: &Policy) -> Self {
        Self::new(policy.plan_rules.clone(), policy.label_rules.clone())
    }
}

/// The common shape of the three handlers, so that an engine can route to them uniformly.
pub trait Webhook {
    /// Verify, parse and normalize one request that arrived at `now`.
    fn handle(&self, request: &RawRequest<'_>, now: Timestamp) -> Result<Intake, Rejection>;
}
