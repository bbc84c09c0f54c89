//! Routing a decided effect to the notifier that carries it out.

use crate::ports::{Delivered, Mailer, NotifyError, Pager, SlackNotifier};
use domain::case::{CaseId, Effect, TimerChange};
use std::future::Future;

/// Carries out one effect (a notification; timer changes go to the `Timers` port).
pub trait Deliver: Send + Sync + 'static {
    fn deliver(
        &self,
        case: &CaseId,
        effect: &Effect,
    ) -> impl Future<Output = Result<Delivered, NotifyError>> + Send;
}

/// The three notifiers of a runtime, routed by effect.
#[derive(Debug, Clone)]
pub struct Notifiers<P, K, M> {
    pub pager: P,
    pub slack: K,
    pub mailer: M,
}

impl<P: Pager, K: SlackNotifier, M: Mailer> Deliver for Notifiers<P, K, M> {
    async fn deliver(&self, case: &CaseId, effect: &Effect) -> Result<Delivered, NotifyError> {
        match effect {
            Effect::Page {
                alert,
                severity,
                context,
            } => self.pager.trigger(*alert, *severity, context).await,
            Effect::ResolvePage { alert } => self.pager.resolve(case, *alert).await,
            Effect::NotifySlack { message, context } => self.slack.post(*message, context).await,
            Effect::SendEmail { email, to, context } => self.mailer.send(*email, to, context).await,
        }
    }
}

/// A one-line description of an effect for timelines and logs (no secrets, no message bodies).
pub fn describe(effect: &Effect) -> String {
    match effect {
        Effect::Page {
            alert, severity, ..
        } => format!("page on-call: {alert} ({severity})"),
        Effect::ResolvePage { alert } => format!("resolve page: {alert}"),
        Effect::NotifySlack { message, .. } => format!("tell Slack: {}", message.as_str()),
        Effect::SendEmail { email, .. } => format!("e-mail the customer: {}", email.as_str()),
    }
}

/// A one-line description of a timer change for timelines and logs.
pub fn describe_timer(change: &TimerChange) -> String {
    match change {
        TimerChange::Schedule { timer, at } => format!("schedule {timer} timer at {at}"),
        TimerChange::Cancel { timer } => format!("cancel {timer} timer"),
    }
}
