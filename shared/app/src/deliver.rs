//! Routing a decided effect to the notifier that carries it out.

use crate::ports::{
    BreachNote, ChatReplier, Delivered, EventPublisher, Mailer, NoChatReplies, NoEventPublisher,
    NotifyError, Pager, SlackNotifier, TicketSystem,
};
use crate::sla_event_document::SlaEventDocumentV1;
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

/// The notifiers of a runtime and its ticket system, routed by effect. `chat` replies in a
/// customer's chat and `events` publishes SLA events; a runtime without them keeps the
/// defaults, which record such effects as not sent.
#[derive(Debug, Clone)]
pub struct Notifiers<P, K, M, T, C = NoChatReplies, E = NoEventPublisher> {
    pub pager: P,
    pub slack: K,
    pub mailer: M,
    pub tickets: T,
    pub chat: C,
    pub events: E,
}

impl<P, K, M, T, E> Notifiers<P, K, M, T, NoChatReplies, E> {
    /// The same notifiers, replying in chats through `chat`.
    pub fn with_chat<C: ChatReplier>(self, chat: C) -> Notifiers<P, K, M, T, C, E> {
        Notifiers {
            pager: self.pager,
            slack: self.slack,
            mailer: self.mailer,
            tickets: self.tickets,
            chat,
            events: self.events,
        }
    }
}

impl<P, K, M, T, C> Notifiers<P, K, M, T, C, NoEventPublisher> {
    /// The same notifiers, publishing SLA events through `events`.
    pub fn with_events<E: EventPublisher>(self, events: E) -> Notifiers<P, K, M, T, C, E> {
        Notifiers {
            pager: self.pager,
            slack: self.slack,
            mailer: self.mailer,
            tickets: self.tickets,
            chat: self.chat,
            events,
        }
    }
}

impl<P: Pager, K: SlackNotifier, M: Mailer, T: TicketSystem, C: ChatReplier, E: EventPublisher>
    Deliver for Notifiers<P, K, M, T, C, E>
{
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
            Effect::ReplyInChat { text, context } => self.chat.reply(context, text).await,
            Effect::OpenTicket { ticket, context } => {
                self.tickets.open_ticket(ticket, context).await
            }
            Effect::PublishEvent { event } => {
                self.events.publish(&SlaEventDocumentV1::of(event)).await
            }
            Effect::WriteBackBreach {
                clock,
                due,
                breached_at,
                context,
            } => {
                let breach = BreachNote {
                    clock: *clock,
                    due: *due,
                    breached_at: *breached_at,
                };
                self.tickets.write_back_breach(&breach, context).await
            }
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
        Effect::ReplyInChat { .. } => String::from("reply in the chat: chat fallback"),
        Effect::OpenTicket { ticket, .. } => {
            format!("open a ticket (tags {})", ticket.tags.join(", "))
        }
        Effect::PublishEvent { event } => format!("publish event: {}", event.kind),
        Effect::WriteBackBreach { clock, .. } => {
            format!("write the {clock} breach back into the ticket")
        }
    }
}

/// A one-line description of a timer change for timelines and logs.
pub fn describe_timer(change: &TimerChange) -> String {
    match change {
        TimerChange::Schedule { timer, at } => format!("schedule {timer} timer at {at}"),
        TimerChange::Cancel { timer } => format!("cancel {timer} timer"),
    }
}
