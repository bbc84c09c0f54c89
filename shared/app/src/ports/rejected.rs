//! Events that can never be decided: refused with a 4xx (the provider stops retrying) and
//! kept, so that an operator sees them in the read API (`GET /api/rejected`). Never retried.

use domain::Timestamp;

/// How much of the request body a rejected event keeps: enough to see what was sent, bounded
/// so that a large payload does not grow the store.
pub const MAX_REJECTED_BODY_BYTES: usize = 4096;

/// One refused event as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedEvent {
    /// `zendesk`, `intercom`, `twilio`.
    pub provider: String,
    pub event_id: String,
    /// The case the event named.
    pub case_id: String,
    /// Why it can never be decided.
    pub reason: String,
    pub received_at: Timestamp,
    /// The request body, cut to [`MAX_REJECTED_BODY_BYTES`] at a character boundary.
    pub body: String,
}

impl RejectedEvent {
    /// The record of a refused event; the body is cut to the bound (invalid UTF-8 replaced).
    pub fn new(
        provider: &str,
        event_id: &str,
        case_id: &str,
        reason: &str,
        received_at: Timestamp,
        body: &[u8],
    ) -> Self {
        let body = String::from_utf8_lossy(body);
        let mut end = body.len().min(MAX_REJECTED_BODY_BYTES);
        while !body.is_char_boundary(end) {
            end -= 1;
        }
        Self {
            provider: provider.to_owned(),
            event_id: event_id.to_owned(),
            case_id: case_id.to_owned(),
            reason: reason.to_owned(),
            received_at,
            body: body[..end].to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_cut_to_the_bound_at_a_character_boundary() {
        let body = "ä".repeat(MAX_REJECTED_BODY_BYTES);
        let at = Timestamp::UNIX_EPOCH;
        let kept = RejectedEvent::new("zendesk", "e1", "zendesk-1", "no", at, body.as_bytes());
        assert!(kept.body.len() <= MAX_REJECTED_BODY_BYTES);
        assert!(kept.body.len() >= MAX_REJECTED_BODY_BYTES - 1);
        assert!(kept.body.chars().all(|c| c == 'ä'));
        let short = RejectedEvent::new("zendesk", "e1", "zendesk-1", "no", at, b"{}");
        assert_eq!(short.body, "{}");
    }
}
