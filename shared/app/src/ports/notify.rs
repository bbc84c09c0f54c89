//! Who hears about a case: the on-call engineer (pager), the team channel (Slack), the customer
//! (e-mail). Every call carries an idempotency key in its arguments, so a repeat is harmless
//! where the receiver supports it (PagerDuty `dedup_key`).

use domain::case::{AlertContext, AlertKey, CaseId, EmailKind, SlackKind};
use domain::policy::Severity;
use std::future::Future;
use std::time::Duration;

/// What happened to a notification that did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    /// Accepted by the receiver; the detail is for the timeline (e.g. a message id).
    Sent { detail: String },
    /// No destination is configured: recorded and logged, not sent.
    NotConfigured,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// Try again later (429, 5xx, network); `retry_after` when the receiver said how long.
    #[error("temporary failure: {reason}")]
    Retryable {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Retrying the same request will not help (400, 403, 404, invalid payload).
    #[error("permanent failure: {reason}")]
    Permanent { reason: String },
}

pub trait Pager: Send + Sync + 'static {
    /// Trigger the alert `dedup_key` = `<case>/<alert>` (see [`AlertKey::dedup_key`]).
    fn trigger(
        &self,
        alert: AlertKey,
        severity: Severity,
        context: &AlertContext,
    ) -> impl Future<Output = Result<Delivered, NotifyError>> + Send;

    fn resolve(
        &self,
        case: &CaseId,
        alert: AlertKey,
    ) -> impl Future<Output = Result<Delivered, NotifyError>> + Send;
}

pub trait SlackNotifier: Send + Sync + 'static {
    fn post(
        &self,
        message: SlackKind,
        context: &AlertContext,
    ) -> impl Future<Output = Result<Delivered, NotifyError>> + Send;
}

pub trait Mailer: Send + Sync + 'static {
    fn send(
        &self,
        email: EmailKind,
        to: &str,
        context: &AlertContext,
    ) -> impl Future<Output = Result<Delivered, NotifyError>> + Send;
}

/// Replies inside a customer's chat (Intercom), as our admin.
pub trait ChatReplier: Send + Sync + 'static {
    fn reply(
        &self,
        context: &AlertContext,
        text: &str,
    ) -> impl Future<Output = Result<Delivered, NotifyError>> + Send;
}

/// No chat API configured: a reply is recorded as not sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoChatReplies;

impl ChatReplier for NoChatReplies {
    async fn reply(&self, _context: &AlertContext, _text: &str) -> Result<Delivered, NotifyError> {
        Ok(Delivered::NotConfigured)
    }
}
