//! The stored names of the domain's enums, spelled out once: a renamed or added domain variant
//! fails to compile here instead of changing what is written.

use domain::case::{AlertAction, AlertKey, EmailKind, SlackKind, Status, TimerKind};
use domain::policy::{Channel, Plan, Priority, Severity};
use serde::{Deserialize, Serialize};

/// A stored enum with explicit names, converted both ways to its domain enum.
macro_rules! stored_names {
    ($(#[$meta:meta])* $stored:ident <-> $domain:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $stored {
            $(#[serde(rename = $text)] $variant),+
        }

        impl From<$domain> for $stored {
            fn from(value: $domain) -> Self {
                match value { $($domain::$variant => $stored::$variant),+ }
            }
        }

        impl From<$stored> for $domain {
            fn from(value: $stored) -> Self {
                match value { $($stored::$variant => $domain::$variant),+ }
            }
        }
    };
}

stored_names!(StoredChannel <-> Channel { Ticket = "ticket", Chat = "chat", Phone = "phone" });
stored_names!(StoredPlan <-> Plan { Standard = "12x5", Enterprise = "24x7" });
stored_names!(StoredPriority <-> Priority {
    Urgent = "urgent",
    High = "high",
    Normal = "normal",
    Low = "low",
});
stored_names!(StoredSeverity <-> Severity {
    Critical = "critical",
    Error = "error",
    Warning = "warning",
    Info = "info",
});
stored_names!(StoredStatus <-> Status { Open = "open", Solved = "solved" });
stored_names!(StoredAlertAction <-> AlertAction {
    Acknowledged = "acknowledged",
    Resolved = "resolved",
});
stored_names!(StoredAlertKey <-> AlertKey {
    Dispatch = "dispatch",
    FirstResponse = "first_response",
    OutOfHours = "out_of_hours",
    Chat = "chat",
    Voicemail = "voicemail",
    NextResponse = "next_response",
});
stored_names!(StoredTimerKind <-> TimerKind {
    Dispatch = "dispatch",
    FirstResponseWarning = "first_response_warning",
    FirstResponse = "first_response",
    ChatFallback = "chat_fallback",
    NextResponseWarning = "next_response_warning",
    NextResponse = "next_response",
});
stored_names!(StoredSlackKind <-> SlackKind {
    NewChat = "new_chat",
    Voicemail = "voicemail",
    MissedCall = "missed_call",
    DispatchBreached = "dispatch_breached",
    FirstResponseWarning = "first_response_warning",
    ChatFallbackImpossible = "chat_fallback_impossible",
    DeliveryFailed = "delivery_failed",
    NextResponseWarning = "next_response_warning",
});
stored_names!(StoredEmailKind <-> EmailKind { ChatFallback = "chat_fallback" });
