//! Instants from a provider must be plausible before they decide anything: a Zendesk
//! `created_at` in year 1 or 2200 would otherwise page at once, or never. Earlier than
//! 2000-01-01 or more than 24 hours after our clock is refused with 400 and the reason, which
//! providers do not retry.

use crate::request::{Intake, Rejection};
use domain::case::CaseEvent;
use jiff::{SignedDuration, Timestamp};

/// The earliest instant accepted: no support request of this system is older.
pub const EARLIEST: Timestamp = Timestamp::constant(946_684_800, 0);
/// How far ahead of our clock an instant may be (provider clocks drift, time zones get mixed).
pub const MAX_AHEAD: SignedDuration = SignedDuration::from_hours(24);

/// `intake` if every instant of its events is plausible at `now`, else a 400 naming the field.
pub(crate) fn check(
    provider: &'static str,
    intake: Intake,
    now: Timestamp,
) -> Result<Intake, Rejection> {
    if let Intake::Accepted(events) = &intake {
        for event in events {
            instants(event, now).map_err(|reason| Rejection::malformed(provider, reason))?;
        }
    }
    Ok(intake)
}

fn instants(event: &CaseEvent, now: Timestamp) -> Result<(), String> {
    let latest = now.saturating_add(MAX_AHEAD).unwrap_or(now);
    let named = [
        ("the event time", Some(event.occurred_at)),
        (
            "the request's creation time",
            Some(event.snapshot.request.received),
        ),
        ("the first response time", event.snapshot.first_response_at),
    ];
    for (name, at) in named {
        let Some(at) = at else { continue };
        if at < EARLIEST {
            return Err(format!("{name} {at} is before {EARLIEST}"));
        }
        if at > latest {
            return Err(format!(
                "{name} {at} is more than 24 hours after the server's time {now}"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_earliest_instant_is_the_start_of_2000() {
        assert_eq!(EARLIEST.to_string(), "2000-01-01T00:00:00Z");
    }
}
