//! The chat fallback inside the chat (docs/policy.md section 4, rule 4): when nobody answered
//! a chat in time, we say so in the conversation and continue by e-mail. Once the offer is
//! delivered, the e-mail (a ticket with clocks of its own) carries the request, so the chat's
//! first-response clock is handed over and never pages. An offer that cannot be delivered (no
//! chat replier, no address, a delivery given up) hands nothing over: the clock runs on and
//! pages as usual.

use super::{AlertContext, AlertKey, Case, Effect, EmailKind, SlackKind, Status};
use crate::policy::Policy;
use jiff::Timestamp;

/// The effects of a chat fallback that fell due at `now`: the reply in the chat (an offer, or
/// a request for an address) and the e-mail when there is an address. The handover waits for
/// their delivery ([`offer_delivered`]).
pub(super) fn fall_back(policy: &Policy, case: &Case, effects: &mut Vec<Effect>) {
    let texts = policy.chat.texts();
    let email = case
        .request
        .requester
        .as_ref()
        .and_then(|requester| requester.email.clone());
    let text = match email {
        Some(_) => texts.offer.clone(),
        None => texts.ask_email.clone(),
    };
    effects.push(Effect::ReplyInChat {
        text,
        context: AlertContext::of(case),
    });
    match email {
        Some(to) => effects.push(Effect::SendEmail {
            email: EmailKind::ChatFallback,
            to,
            context: AlertContext::of(case),
        }),
        // Slack still hears of it: someone may want to look out for the address in the chat.
        None => effects.push(Effect::NotifySlack {
            message: SlackKind::ChatFallbackImpossible,
            context: AlertContext::of(case),
        }),
    }
}

/// The offer (the reply in the chat or the e-mail) was delivered at `now`: hand over, if the
/// fallback happened and the chat is still open.
pub(super) fn offer_delivered(case: &mut Case, now: Timestamp, effects: &mut Vec<Effect>) {
    let fell_back = case
        .chat_fallback
        .is_some_and(|fallback| fallback.breached_at.is_some());
    if fell_back && case.status == Status::Open {
        hand_over(case, now, effects);
    }
}

/// The chat's first response is now the e-mail's business: its clock stops (cancelled, not
/// met: the report shows that the chat itself was not answered) and the chat heads-up page is
/// done.
fn hand_over(case: &mut Case, now: Timestamp, effects: &mut Vec<Effect>) {
    if case.first_response.is_pending() {
        case.first_response.cancelled_at = Some(now);
    }
    if case.open_alerts.remove(&AlertKey::Chat) {
        effects.push(Effect::ResolvePage {
            alert: AlertKey::Chat,
        });
    }
}
