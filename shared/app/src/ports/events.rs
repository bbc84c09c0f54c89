//! Subscribers of SLA events: the stack's EventBridge bus on AWS, a signed webhook locally.

use super::notify::{Delivered, NotifyError};
use crate::sla_event_document::SlaEventDocumentV1;
use std::future::Future;

pub trait EventPublisher: Send + Sync + 'static {
    /// Publish one event. At least once: a retry sends the same document, whose `id` lets the
    /// subscriber deduplicate.
    fn publish(
        &self,
        event: &SlaEventDocumentV1,
    ) -> impl Future<Output = Result<Delivered, NotifyError>> + Send;
}

/// No subscriber configured: every event is recorded as not sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEventPublisher;

impl EventPublisher for NoEventPublisher {
    async fn publish(&self, _event: &SlaEventDocumentV1) -> Result<Delivered, NotifyError> {
        Ok(Delivered::NotConfigured)
    }
}

impl<E: EventPublisher> EventPublisher for Option<E> {
    async fn publish(&self, event: &SlaEventDocumentV1) -> Result<Delivered, NotifyError> {
        match self {
            Some(publisher) => publisher.publish(event).await,
            None => Ok(Delivered::NotConfigured),
        }
    }
}
