//! The ticket system (Zendesk): where a voicemail becomes a ticket that agents answer.

use super::notify::{Delivered, NotifyError};
use domain::case::{AlertContext, TicketRequest};
use std::future::Future;

pub trait TicketSystem: Send + Sync + 'static {
    /// Open the case's ticket exactly once: the ticket's `external_id` is the case id, and an
    /// adapter that cannot tell whether an earlier attempt succeeded looks it up before creating
    /// another. `Sent.detail` names the ticket; `NotConfigured` when no API is set up.
    fn open_ticket(
        &self,
        ticket: &TicketRequest,
        context: &AlertContext,
    ) -> impl Future<Output = Result<Delivered, NotifyError>> + Send;
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
}

impl<T: TicketSystem> TicketSystem for std::sync::Arc<T> {
    fn open_ticket(
        &self,
        ticket: &TicketRequest,
        context: &AlertContext,
    ) -> impl Future<Output = Result<Delivered, NotifyError>> + Send {
        T::open_ticket(self, ticket, context)
    }
}
