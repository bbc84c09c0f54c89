//! Bounds on the provider texts a case keeps.
//!
//! A webhook body may be up to 256 KiB ([`crate::DEFAULT_BODY_LIMIT`]), and the strings of an
//! event are copied into the case, its timeline and every outbox effect. Without a bound, one
//! pathological subject would exceed DynamoDB's 400 KB item limit (the write fails, the provider
//! retries forever) or the size of an event. So every event is bounded here, at intake, where
//! raw strings become domain values:
//!
//! - texts (subjects, names, assignees, labels, links, phone numbers, the recording URL) are cut
//!   to at most [`MAX_TEXT_BYTES`] on a character boundary, ending in `…` when cut;
//! - an e-mail address longer than [`MAX_EMAIL_BYTES`] (RFC 5321's limit) is dropped, since a
//!   cut address would reach someone else;
//! - an event id longer than [`MAX_EVENT_ID_BYTES`] is replaced by `sha256:<hex>` of it, which
//!   keeps deduplication exact (a cut id could make two events one).

use domain::case::{CaseEvent, CaseFacts, Change, RequestFacts, Requester, Voicemail};
use domain::policy::Labels;
use sha2::{Digest, Sha256};

/// The most bytes of UTF-8 a text of an event keeps (about 1 KB).
pub const MAX_TEXT_BYTES: usize = 1024;
/// The longest e-mail address kept (RFC 5321: 254 characters in a path).
pub const MAX_EMAIL_BYTES: usize = 254;
/// The longest event id kept as it is; longer ones are replaced by their SHA-256.
pub const MAX_EVENT_ID_BYTES: usize = 256;

/// Marks a text that was cut.
const CUT: char = '…';

/// `text` if it fits in [`MAX_TEXT_BYTES`], else its longest prefix that ends on a character
/// boundary and leaves room for `…`, with `…` appended.
pub fn truncate(mut text: String) -> String {
    if text.len() <= MAX_TEXT_BYTES {
        return text;
    }
    let cut = text.floor_char_boundary(MAX_TEXT_BYTES - CUT.len_utf8());
    text.truncate(cut);
    text.push(CUT);
    text
}

/// The event with every text bounded (see the module documentation).
pub(crate) fn event(event: CaseEvent) -> CaseEvent {
    let CaseEvent {
        case_id,
        event_id,
        occurred_at,
        change,
        snapshot,
    } = event;
    CaseEvent {
        case_id,
        event_id: bounded_event_id(event_id),
        occurred_at,
        change: bounded_change(change),
        snapshot: bounded_facts(snapshot),
    }
}

fn bounded_event_id(id: String) -> String {
    if id.len() <= MAX_EVENT_ID_BYTES {
        return id;
    }
    format!("sha256:{}", hex::encode(Sha256::digest(id.as_bytes())))
}

fn bounded_change(change: Change) -> Change {
    match change {
        Change::Assigned { assignee } => Change::Assigned {
            assignee: assignee.map(truncate),
        },
        Change::Reclassified { plan, labels } => Change::Reclassified {
            plan,
            labels: bounded_labels(labels),
        },
        other => other,
    }
}

fn bounded_labels(labels: Labels) -> Labels {
    Labels {
        cluster: labels.cluster.map(truncate),
        website: labels.website.map(truncate),
    }
}

fn bounded_facts(facts: CaseFacts) -> CaseFacts {
    let requester = facts.request.requester.and_then(|requester| {
        let bounded = Requester {
            name: requester.name.map(truncate),
            email: requester
                .email
                .filter(|email| email.len() <= MAX_EMAIL_BYTES),
        };
        (bounded.name.is_some() || bounded.email.is_some()).then_some(bounded)
    });
    CaseFacts {
        request: RequestFacts {
            labels: bounded_labels(facts.request.labels),
            subject: facts.request.subject.map(truncate),
            requester,
            link: facts.request.link.map(truncate),
            voicemail: facts.request.voicemail.map(|voicemail| Voicemail {
                caller: truncate(voicemail.caller),
                called: truncate(voicemail.called),
                duration_seconds: voicemail.duration_seconds,
                recording_url: voicemail.recording_url.map(truncate),
                ended_without_message: voicemail.ended_without_message,
            }),
            ..facts.request
        },
        assignee: facts.assignee.map(truncate),
        ..facts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_that_fits_is_kept_as_it_is() {
        for text in ["", "Checkout returns HTTP 502", &"x".repeat(MAX_TEXT_BYTES)] {
            assert_eq!(truncate(text.to_owned()), text);
        }
    }

    #[test]
    fn a_long_text_is_cut_to_the_limit_and_marked() {
        let cut = truncate("a".repeat(MAX_TEXT_BYTES + 1));
        assert_eq!(cut.len(), MAX_TEXT_BYTES);
        assert!(cut.ends_with('…'), "{cut}");
        assert!(cut.starts_with(&"a".repeat(MAX_TEXT_BYTES - 3)));
    }

    #[test]
    fn a_cut_never_splits_a_character() {
        // Two-, three- and four-byte characters, at every offset against the limit.
        for filler in ["ü", "€", "🦀"] {
            for offset in 0..4 {
                let text = format!("{}{}", "a".repeat(offset), filler.repeat(MAX_TEXT_BYTES));
                let cut = truncate(text.clone());
                assert!(
                    cut.len() <= MAX_TEXT_BYTES,
                    "{filler} {offset}: {}",
                    cut.len()
                );
                assert!(
                    cut.len() > MAX_TEXT_BYTES - 3 - filler.len(),
                    "as much as fits"
                );
                let kept = cut.strip_suffix('…').unwrap();
                assert!(text.starts_with(kept), "{filler} {offset}");
            }
        }
    }

    #[test]
    fn long_event_ids_become_their_hash_and_stay_distinct() {
        let short = "0e5b0001-7239-495d-b020-f22348516046".to_owned();
        assert_eq!(bounded_event_id(short.clone()), short);
        let long = "e".repeat(10_000);
        let other = format!("{long}f");
        let hashed = bounded_event_id(long.clone());
        assert!(
            hashed.starts_with("sha256:") && hashed.len() == 7 + 64,
            "{hashed}"
        );
        assert_eq!(hashed, bounded_event_id(long), "the same id, the same hash");
        assert_ne!(hashed, bounded_event_id(other));
    }
}
