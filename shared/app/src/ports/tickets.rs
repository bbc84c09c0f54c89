//! The ticket system (Zendesk): where a voicemail becomes a ticket that agents answer.

use super::notify::{Delivered, NotifyError};
use domain::Timestamp;
use domain::case::{AlertContext, TicketRequest, TimerKind};
use std::future::Future;

/// A breach to write back into the case's ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreachNote {
    pub clock: TimerKind,
    pub due: Timestamp,
    pub breached_at: Timestamp,
}

pub trait TicketSystem: Send + Sync + 'static {
    /// Open the case's ticket exactly once: the ticket's `external_id` is the case id, and an
    /// adapter that cannot tell whether an earlier attempt succeeded looks it up before creating
    /// another. `Sent.detail` names the ticket; `NotConfigured` when no API is set up.
    fn open_ticket(
        &self,
        ticket: &TicketRequest,
        context: &AlertContext,
    ) -> impl Future<Output = Result<Delivered, NotifyError>> + Send;

    /// Add an internal note about the breach and the tag `sla_breached` to the case's ticket.
    /// `NotConfigured` when no API is set up (the default), or the case has no ticket there.
    fn write_back_breach(
        &self,
        _breach: &BreachNote,
        _context: &AlertContext,
    ) -> impl Future<Output = Result<Delivered, NotifyError>> + Send {
        async { Ok(Delivered::NotConfigured) }
    }
}

/// No ticket system: every ticket is recorded as not sent (tests, and runtimes without one).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTicketSystem;

impl TicketSystem for NoTicketSystem {
    async fn open_ticket(
        &self,
        _ticket: &TicketRequest,
        _context: &AlertContext,
    ) -> Result<Delivered, NotifyError> {
        Ok(Delivered::NotConfigured)
    }
}

/// A ticket system that may not be configured: `None` records every ticket as not sent.
impl<T: TicketSystem> TicketSystem for Option<T> {
    async fn open_ticket(
        &self,
        ticket: &TicketRequest,
        context: &AlertContext,
    ) -> Result<Delivered, NotifyError> {
        match self {
            Some(system) => system.open_ticket(ticket, context).await,
            None => Ok(Delivered::NotConfigured),
        }
    }

    async fn write_back_breach(
        &self,
        breach: &BreachNote,
        context: &AlertContext,
    ) -> Result<Delivered, NotifyError> {
        match self {
            Some(system) => system.write_back_breach(breach, context).await,
            None => Ok(Delivered::NotConfigured),
        }
    }
}

impl<T: TicketSystem> TicketSystem for std::sync::Arc<T> {
    fn open_ticket(
        &self,
        ticket: &TicketRequest,
        context: &AlertContext,
    ) -> impl Future<Output = Result<Delivered, NotifyError>> + Send {
        T::open_ticket(self, ticket, context)
    }

    fn write_back_breach(
        &self,
        breach: &BreachNote,
        context: &AlertContext,
    ) -> impl Future<Output = Result<Delivered, NotifyError>> + Send {
        T::write_back_breach(self, breach, context)
    }
}
