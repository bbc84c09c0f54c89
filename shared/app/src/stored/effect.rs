//! The stored outbox effect and its alert context.

use super::StoredError;
use super::case::{StoredRequestV1, case_id};
use super::names::{
    StoredAlertKey, StoredEmailKind, StoredSeverity, StoredSlackKind, StoredTimerKind,
};
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
