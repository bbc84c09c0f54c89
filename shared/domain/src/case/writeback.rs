//! Breaches written back into the ticket system: agents see in their own views (Zendesk) which
//! tickets missed a deadline, not only the on-call engineer in PagerDuty.

use super::{AlertContext, Case, Effect, TimerKind};
use crate::policy::Channel;
use jiff::Timestamp;

/// The tag a breached ticket gets.
pub const BREACH_TAG: &str = "sla_breached";

/// A ticket's `clock`, due at `due`, was breached at `now`: write it back. Chats and calls have
/// no ticket of their own to write to.
pub(super) fn breached(
    case: &Case,
    clock: TimerKind,
    due: Timestamp,
    now: Timestamp,
    effects: &mut Vec<Effect>,
) {
    if case.request.channel != Channel::Ticket {
        return;
    }
    effects.push(Effect::WriteBackBreach {
        clock,
        due,
        breached_at: now,
        context: AlertContext::of(case),
    });
}
