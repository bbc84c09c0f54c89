//! What the state machine decides; adapters carry it out.

use super::{Case, CaseId, RequestFacts, SlaEvent};
use crate::policy::Severity;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The alert clocks of a case; each names one PagerDuty alert, `dedup_key` `<case id>/<clock>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKey {
    Dispatch,
    FirstResponse,
    OutOfHours,
    Chat,
    Voicemail,
    /// A customer's follow-up went unanswered (docs/policy.md rule 6).
    NextResponse,
}

impl AlertKey {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKey::Dispatch => "dispatch",
            AlertKey::FirstResponse => "first_response",
            AlertKey::OutOfHours => "out_of_hours",
            AlertKey::Chat => "chat",
            AlertKey::Voicemail => "voicemail",
            AlertKey::NextResponse => "next_response",
        }
    }

    /// The PagerDuty `dedup_key` of this alert for one case.
    pub fn dedup_key(self, case: &CaseId) -> String {
        format!("{case}/{}", self.as_str())
    }
}

impl fmt::Display for AlertKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The one-time timers a case can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerKind {
    Dispatch,
    FirstResponseWarning,
    FirstResponse,
    ChatFallback,
    NextResponseWarning,
    NextResponse,
}

impl TimerKind {
    pub const ALL: [TimerKind; 6] = [
        TimerKind::Dispatch,
        TimerKind::FirstResponseWarning,
        TimerKind::FirstResponse,
        TimerKind::ChatFallback,
        TimerKind::NextResponseWarning,
        TimerKind::NextResponse,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TimerKind::Dispatch => "dispatch",
            TimerKind::FirstResponseWarning => "first_response_warning",
            TimerKind::FirstResponse => "first_response",
            TimerKind::ChatFallback => "chat_fallback",
            TimerKind::NextResponseWarning => "next_response_warning",
            TimerKind::NextResponse => "next_response",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

impl fmt::Display for TimerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlackKind {
    NewChat,
    Voicemail,
    MissedCall,
    DispatchBreached,
    FirstResponseWarning,
    /// The chat fallback came due, but the customer left no e-mail address.
    ChatFallbackImpossible,
    /// A notification of the case could not be delivered within the maximum age and was given
    /// up (said once per failed notification; decided by the engine, not by the machine).
    DeliveryFailed,
    /// A follow-up's next response is due soon (docs/policy.md rule 6).
    NextResponseWarning,
}

impl SlackKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SlackKind::NewChat => "new_chat",
            SlackKind::Voicemail => "voicemail",
            SlackKind::MissedCall => "missed_call",
            SlackKind::DispatchBreached => "dispatch_breached",
            SlackKind::FirstResponseWarning => "first_response_warning",
            SlackKind::ChatFallbackImpossible => "chat_fallback_impossible",
            SlackKind::DeliveryFailed => "delivery_failed",
            SlackKind::NextResponseWarning => "next_response_warning",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailKind {
    /// "We continue by e-mail": docs/policy.md section 4, rule 4.
    ChatFallback,
}

impl EmailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EmailKind::ChatFallback => "chat_fallback",
        }
    }
}

/// Everything a notifier needs to say about a case, captured when the effect was decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertContext {
    pub case_id: CaseId,
    #[serde(flatten)]
    pub request: RequestFacts,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispatch_due: Option<Timestamp>,
    pub first_response_due: Timestamp,
    pub out_of_hours: bool,
}

impl AlertContext {
    pub fn of(case: &Case) -> Self {
        Self {
            case_id: case.id.clone(),
            request: case.request.clone(),
            dispatch_due: case.dispatch.map(|clock| clock.due),
            first_response_due: case.first_response.due,
            out_of_hours: case.out_of_hours,
        }
    }
}

/// A change to a case's timers the state machine decided. Timers are hints, applied directly
/// after the decision is stored; they are not notifications and never enter the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerChange {
    /// Create or move the case's timer of this kind.
    Schedule {
        timer: TimerKind,
        at: Timestamp,
    },
    Cancel {
        timer: TimerKind,
    },
}

impl TimerChange {
    /// A key that names this change for one case; moving a timer is a new change.
    pub fn idempotency_key(&self, case: &CaseId) -> String {
        match self {
            TimerChange::Schedule { timer, at } => format!("{case}/timer/{timer}/{at}"),
            TimerChange::Cancel { timer } => format!("{case}/timer/{timer}/cancel"),
        }
    }

    pub fn timer(&self) -> TimerKind {
        match self {
            TimerChange::Schedule { timer, .. } | TimerChange::Cancel { timer } => *timer,
        }
    }
}

/// A notification the state machine decided: a page, its resolve, a Slack message, an e-mail.
/// Each has an idempotency key, so that carrying it out twice does no harm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    /// Page the on-call engineer.
    Page {
        alert: AlertKey,
        severity: Severity,
        context: AlertContext,
    },
    ResolvePage {
        alert: AlertKey,
    },
    NotifySlack {
        message: SlackKind,
        context: AlertContext,
    },
    SendEmail {
        email: EmailKind,
        to: String,
        context: AlertContext,
    },
    /// Post `text` in the chat's conversation as our admin (the chat fallback offer).
    ReplyInChat {
        text: String,
        context: AlertContext,
    },
    /// Open a ticket for the case in the ticket system (Zendesk), exactly once: its
    /// `external_id` is the case id. Decided for every voicemail.
    OpenTicket {
        ticket: TicketRequest,
        context: AlertContext,
    },
    /// Tell subscribers what happened to the case (docs/events.md).
    PublishEvent {
        event: SlaEvent,
    },
    /// Tell the ticket (Zendesk) that one of its clocks was breached: an internal note naming
    /// the clock, its due time and how late it is, and the tag `sla_breached`, so that agents
    /// see it in their views. Decided at every breach of a ticket's clock.
    WriteBackBreach {
        clock: TimerKind,
        due: Timestamp,
        breached_at: Timestamp,
        context: AlertContext,
    },
}

/// The ticket the state machine asks for, in the policy's terms; the adapter renders it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketRequest {
    /// `voicemail` and the plan's tags.
    pub tags: Vec<String>,
}

impl Effect {
    /// The chat fallback's offer to the customer: the reply in the chat or the e-mail. Once
    /// one is delivered, the engine tells the case (`Input::OfferDelivered`).
    pub fn is_chat_fallback_offer(&self) -> bool {
        matches!(
            self,
            Effect::ReplyInChat { .. }
                | Effect::SendEmail {
                    email: EmailKind::ChatFallback,
                    ..
                }
        )
    }

    /// A key that names this effect for one case: repeating an effect with the same key is
    /// a duplicate.
    pub fn idempotency_key(&self, case: &CaseId) -> String {
        match self {
            Effect::Page { alert, .. } => format!("{}/trigger", alert.dedup_key(case)),
            Effect::ResolvePage { alert } => format!("{}/resolve", alert.dedup_key(case)),
            Effect::NotifySlack { message, .. } => format!("{case}/slack/{}", message.as_str()),
            Effect::SendEmail { email, .. } => format!("{case}/email/{}", email.as_str()),
            Effect::ReplyInChat { .. } => format!("{case}/chat_reply/fallback"),
            Effect::OpenTicket { .. } => format!("{case}/ticket"),
            Effect::PublishEvent { event } => format!("{case}/event/{}", event.happening()),
            Effect::WriteBackBreach { clock, .. } => format!("{case}/{}/writeback", clock.as_str()),
        }
    }

    /// Effects that must reach their receiver in decision order share a delivery lane: a page
    /// and its resolve (one PagerDuty alert), a case's SLA events. Any other effect has a lane of its own, so that
    /// one waiting for a retry (a Slack message during a Slack outage) holds nothing else back.
    pub fn delivery_lane(&self, case: &CaseId) -> String {
        match self {
            Effect::Page { alert, .. } | Effect::ResolvePage { alert } => alert.dedup_key(case),
            // Subscribers see a case's events in the order they happened.
            Effect::PublishEvent { .. } => format!("{case}/events"),
            Effect::NotifySlack { .. }
            | Effect::SendEmail { .. }
            | Effect::ReplyInChat { .. }
            | Effect::OpenTicket { .. }
            | Effect::WriteBackBreach { .. } => self.idempotency_key(case),
        }
    }
}
