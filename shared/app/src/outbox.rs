//! The outbox rule, stated once: how the outcome of one delivery attempt changes its item
//! (state, attempt count, recorded text, next attempt) and what the timeline says about it.
//! The stores only persist what [`Finish::of`] decides.

use crate::ports::{DeliveryOutcome, DeliveryState, TimelineEntry, TimelineKind};
use domain::Timestamp;

/// Where the outcome's text is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// What the receiver answered, or why nothing was sent (`Delivered`, `NotSent`).
    Detail(String),
    /// Why the attempt failed (`RetryAt`, `Failed`).
    LastError(String),
}

impl Recorded {
    pub fn text(&self) -> &str {
        match self {
            Recorded::Detail(text) | Recorded::LastError(text) => text,
        }
    }
}

/// How one finished delivery changes a pending outbox item.
#[derive(Debug, Clone, PartialEq)]
pub struct Finish {
    /// `Pending` again for a retry; otherwise final.
    pub state: DeliveryState,
    /// Added to the item's attempts: 0 when nothing was sent (`NotSent`), else 1.
    pub attempts_added: u32,
    pub recorded: Recorded,
    /// For a retry: when the item is offered again.
    pub next_attempt_at: Option<Timestamp>,
    /// For a final outcome: the `Delivered` timeline entry, written with the item.
    pub entry: Option<TimelineEntry>,
}

impl Finish {
    /// The change that `outcome` of the delivery of item `key`, recorded at `now`, makes.
    pub fn of(key: &str, outcome: DeliveryOutcome, now: Timestamp) -> Self {
        let (state, attempts_added, recorded, next_attempt_at) = match outcome {
            DeliveryOutcome::Delivered { detail } => {
                (DeliveryState::Delivered, 1, Recorded::Detail(detail), None)
            }
            DeliveryOutcome::NotSent { reason } => {
                (DeliveryState::NotSent, 0, Recorded::Detail(reason), None)
            }
            DeliveryOutcome::Failed { error } => {
                (DeliveryState::Failed, 1, Recorded::LastError(error), None)
            }
            DeliveryOutcome::RetryAt { at, error } => (
                DeliveryState::Pending,
                1,
                Recorded::LastError(error),
                Some(at),
            ),
        };
        let entry = (state != DeliveryState::Pending).then(|| {
            let text = recorded.text();
            let outcome = if text.is_empty() {
                state.as_str().to_owned()
            } else {
                format!("{}: {text}", state.as_str())
            };
            TimelineEntry {
                at: now,
                kind: TimelineKind::Delivered {
                    key: key.to_owned(),
                    outcome,
                },
            }
        });
        Self {
            state,
            attempts_added,
            recorded,
            next_attempt_at,
            entry,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn now() -> Timestamp {
        "2026-03-02T09:00:00Z".parse().unwrap()
    }

    fn outcome_text(finish: &Finish) -> Option<&str> {
        match &finish.entry.as_ref()?.kind {
            TimelineKind::Delivered { outcome, .. } => Some(outcome),
            _ => None,
        }
    }

    #[test]
    fn a_delivery_counts_one_attempt_records_the_detail_and_says_so_in_the_timeline() {
        let finish = Finish::of(
            "k",
            DeliveryOutcome::Delivered {
                detail: "202".into(),
            },
            now(),
        );
        assert_eq!(finish.state, DeliveryState::Delivered);
        assert_eq!(finish.attempts_added, 1);
        assert_eq!(finish.recorded, Recorded::Detail("202".into()));
        assert_eq!(finish.next_attempt_at, None);
        assert_eq!(outcome_text(&finish), Some("delivered: 202"));
        assert_eq!(finish.entry.unwrap().at, now());
    }

    #[test]
    fn nothing_sent_counts_no_attempt() {
        let finish = Finish::of(
            "k",
            DeliveryOutcome::NotSent {
                reason: "no destination configured".into(),
            },
            now(),
        );
        assert_eq!(finish.state, DeliveryState::NotSent);
        assert_eq!(finish.attempts_added, 0);
        assert_eq!(
            outcome_text(&finish),
            Some("not_sent: no destination configured")
        );
    }

    #[test]
    fn a_failure_records_the_error_and_an_empty_text_leaves_only_the_state() {
        let finish = Finish::of(
            "k",
            DeliveryOutcome::Failed {
                error: String::new(),
            },
            now(),
        );
        assert_eq!(finish.state, DeliveryState::Failed);
        assert_eq!(finish.attempts_added, 1);
        assert_eq!(finish.recorded, Recorded::LastError(String::new()));
        assert_eq!(outcome_text(&finish), Some("failed"));
    }

    #[test]
    fn a_retry_stays_pending_counts_the_attempt_and_writes_no_timeline_entry() {
        let later = now() + domain::jiff::SignedDuration::from_secs(30);
        let finish = Finish::of(
            "k",
            DeliveryOutcome::RetryAt {
                at: later,
                error: "503".into(),
            },
            now(),
        );
        assert_eq!(finish.state, DeliveryState::Pending);
        assert_eq!(finish.attempts_added, 1);
        assert_eq!(finish.recorded, Recorded::LastError("503".into()));
        assert_eq!(finish.next_attempt_at, Some(later));
        assert_eq!(finish.entry, None);
    }
}
