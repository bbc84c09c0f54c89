//! The stored outbox effect and its alert context.

use super::StoredError;
use super::case::{StoredRequestV1, case_id};
use super::names::{
    StoredAlertKey, StoredEmailKind, StoredSeverity, StoredSlackKind, StoredTimerKind,
};
use crate::sla_event_document::SlaEventDocumentV1;
use domain::Timestamp;
use domain::case::{AlertContext, Effect, TicketRequest};
use serde::{Deserialize, Serialize};

/// What a notifier says about a case, captured when the effect was decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredAlertContextV1 {
    pub case_id: String,
    #[serde(flatten)]
    pub request: StoredRequestV1,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispatch_due: Option<Timestamp>,
    pub first_response_due: Timestamp,
    pub out_of_hours: bool,
}

/// An outbox effect, version 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEffectV1 {
    #[serde(default = "super::schema_v1")]
    pub schema: u32,
    #[serde(flatten)]
    pub kind: StoredEffectKindV1,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "effect")]
pub enum StoredEffectKindV1 {
    #[serde(rename = "page")]
    Page {
        alert: StoredAlertKey,
        severity: StoredSeverity,
        context: StoredAlertContextV1,
    },
    #[serde(rename = "resolve_page")]
    ResolvePage { alert: StoredAlertKey },
    #[serde(rename = "notify_slack")]
    NotifySlack {
        message: StoredSlackKind,
        context: StoredAlertContextV1,
    },
    #[serde(rename = "send_email")]
    SendEmail {
        email: StoredEmailKind,
        to: String,
        context: StoredAlertContextV1,
    },
    #[serde(rename = "reply_in_chat")]
    ReplyInChat {
        text: String,
        context: StoredAlertContextV1,
    },
    #[serde(rename = "write_back_breach")]
    WriteBackBreach {
        clock: StoredTimerKind,
        due: Timestamp,
        breached_at: Timestamp,
        context: StoredAlertContextV1,
    },
    #[serde(rename = "open_ticket")]
    OpenTicket {
        tags: Vec<String>,
        context: StoredAlertContextV1,
    },
    /// Stored as the contract's document (docs/events.md), without the case-page link, which
    /// the publisher adds from its own configuration.
    #[serde(rename = "publish_event")]
    PublishEvent { event: SlaEventDocumentV1 },
}

impl From<&AlertContext> for StoredAlertContextV1 {
    fn from(context: &AlertContext) -> Self {
        Self {
            case_id: context.case_id.as_str().to_owned(),
            request: StoredRequestV1::from(&context.request),
            dispatch_due: context.dispatch_due,
            first_response_due: context.first_response_due,
            out_of_hours: context.out_of_hours,
        }
    }
}

impl StoredAlertContextV1 {
    fn into_domain(self) -> Result<AlertContext, StoredError> {
        Ok(AlertContext {
            case_id: case_id("effect", "context.case_id", &self.case_id)?,
            request: self.request.to_domain(),
            dispatch_due: self.dispatch_due,
            first_response_due: self.first_response_due,
            out_of_hours: self.out_of_hours,
        })
    }
}

impl From<&Effect> for StoredEffectV1 {
    fn from(effect: &Effect) -> Self {
        let kind = match effect {
            Effect::Page {
                alert,
                severity,
                context,
            } => StoredEffectKindV1::Page {
                alert: (*alert).into(),
                severity: (*severity).into(),
                context: context.into(),
            },
            Effect::ResolvePage { alert } => StoredEffectKindV1::ResolvePage {
                alert: (*alert).into(),
            },
            Effect::NotifySlack { message, context } => StoredEffectKindV1::NotifySlack {
                message: (*message).into(),
                context: context.into(),
            },
            Effect::SendEmail { email, to, context } => StoredEffectKindV1::SendEmail {
                email: (*email).into(),
                to: to.clone(),
                context: context.into(),
            },
            Effect::ReplyInChat { text, context } => StoredEffectKindV1::ReplyInChat {
                text: text.clone(),
                context: context.into(),
            },
            Effect::OpenTicket { ticket, context } => StoredEffectKindV1::OpenTicket {
                tags: ticket.tags.clone(),
                context: context.into(),
            },
            Effect::PublishEvent { event } => StoredEffectKindV1::PublishEvent {
                event: SlaEventDocumentV1::of(event),
            },
            Effect::WriteBackBreach {
                clock,
                due,
                breached_at,
                context,
            } => StoredEffectKindV1::WriteBackBreach {
                clock: (*clock).into(),
                due: *due,
                breached_at: *breached_at,
                context: context.into(),
            },
        };
        Self {
            schema: super::SCHEMA,
            kind,
        }
    }
}

impl StoredEffectV1 {
    pub fn into_domain(self) -> Result<Effect, StoredError> {
        Ok(match self.kind {
            StoredEffectKindV1::Page {
                alert,
                severity,
                context,
            } => Effect::Page {
                alert: alert.into(),
                severity: severity.into(),
                context: context.into_domain()?,
            },
            StoredEffectKindV1::ResolvePage { alert } => Effect::ResolvePage {
                alert: alert.into(),
            },
            StoredEffectKindV1::NotifySlack { message, context } => Effect::NotifySlack {
                message: message.into(),
                context: context.into_domain()?,
            },
            StoredEffectKindV1::SendEmail { email, to, context } => Effect::SendEmail {
                email: email.into(),
                to,
                context: context.into_domain()?,
            },
            StoredEffectKindV1::ReplyInChat { text, context } => Effect::ReplyInChat {
                text,
                context: context.into_domain()?,
            },
            StoredEffectKindV1::OpenTicket { tags, context } => Effect::OpenTicket {
                ticket: TicketRequest { tags },
                context: context.into_domain()?,
            },
            StoredEffectKindV1::PublishEvent { event } => Effect::PublishEvent {
                event: event.into_domain()?,
            },
            StoredEffectKindV1::WriteBackBreach {
                clock,
                due,
                breached_at,
                context,
            } => Effect::WriteBackBreach {
                clock: clock.into(),
                due,
                breached_at,
                context: context.into_domain()?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use domain::case::{CaseId, RequestFacts, TimerKind};
    use domain::policy::{Channel, Labels, Plan, Priority};

    #[test]
    fn a_breach_write_back_is_stored_under_its_own_name_and_loads_as_it_was() {
        let at = |text: &str| text.parse::<Timestamp>().unwrap();
        let effect = Effect::WriteBackBreach {
            clock: TimerKind::FirstResponse,
            due: at("2026-03-02T10:00:00Z"),
            breached_at: at("2026-03-02T11:12:00Z"),
            context: AlertContext {
                case_id: CaseId::parse("zendesk-5158").unwrap(),
                request: RequestFacts {
                    channel: Channel::Ticket,
                    plan: Plan::Enterprise,
                    priority: Priority::Urgent,
                    received: at("2026-03-02T09:00:00Z"),
                    labels: Labels::default(),
                    subject: None,
                    requester: None,
                    link: None,
                    voicemail: None,
                },
                dispatch_due: None,
                first_response_due: at("2026-03-02T10:00:00Z"),
                out_of_hours: false,
            },
        };
        let json = serde_json::to_value(StoredEffectV1::from(&effect)).unwrap();
        assert_eq!(json["effect"], "write_back_breach");
        assert_eq!(json["clock"], "first_response");
        assert_eq!(json["due"], "2026-03-02T10:00:00Z");
        let loaded: StoredEffectV1 = serde_json::from_value(json).unwrap();
        assert_eq!(loaded.into_domain().unwrap(), effect);
    }
}
