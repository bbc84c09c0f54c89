//! Retries with exponential backoff inside one notifier call.
//!
//! Only [`NotifyError::Retryable`] failures are retried; a permanent one returns at once. After
//! the last attempt the last retryable error is returned, and the engine keeps the effect
//! pending in its outbox for a later delivery run.

use app::ports::NotifyError;
use std::future::Future;
use std::time::Duration;

/// How often and how patiently one call tries.
///
/// The wait before retry `n` (1 = the first retry) is `base_delay × 2^(n-1)`, or the receiver's
/// `Retry-After` when that is longer, and never more than `max_delay`. The delays are
/// deterministic (no jitter): each call retries a single request, not a thundering herd, and
/// tests can reason about them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included; `0` counts as `1`.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 3 attempts, waiting 0.5 s and then 1 s (or what `Retry-After` asks, up to 30 s).
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    pub const fn new(max_attempts: u32, base_delay: Duration, max_delay: Duration) -> Self {
        Self {
            max_attempts,
            base_delay,
            max_delay,
        }
    }

    /// A single attempt, no retry.
    pub const fn once() -> Self {
        Self::new(1, Duration::ZERO, Duration::ZERO)
    }

    /// The exponential backoff before retry `retry` (1-based), capped at `max_delay`.
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        self.base_delay
            .checked_mul(factor)
            .unwrap_or(Duration::MAX)
            .min(self.max_delay)
    }

    /// The wait before retry `retry`: the backoff, or `retry_after` when the receiver asked for
    /// longer, capped at `max_delay`.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        self.backoff(retry)
            .max(retry_after.unwrap_or_default())
            .min(self.max_delay)
    }

    /// Runs `attempt(1)`, `attempt(2)`, … until one succeeds, fails permanently, or the attempts
    /// are used up, sleeping [`RetryPolicy::delay`] between them.
    pub async fn run<T, F, Fut>(&self, mut attempt: F) -> Result<T, NotifyError>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, NotifyError>>,
    {
        let attempts = self.max_attempts.max(1);
        let mut number = 1;
        loop {
            match attempt(number).await {
                Err(NotifyError::Retryable {
                    reason,
                    retry_after,
                }) if number < attempts => {
                    let delay = self.delay(number, retry_after);
                    tracing::warn!(
                        attempt = number,
                        attempts,
                        delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        %reason,
                        "temporary failure, retrying"
                    );
                    tokio::time::sleep(delay).await;
                    number += 1;
                }
                outcome => return outcome,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn the_default_is_three_attempts_from_half_a_second_up_to_thirty() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.max_attempts, 3);
        assert_eq!(policy.backoff(1), 500 * MS);
        assert_eq!(policy.backoff(2), 1000 * MS);
        assert_eq!(policy.backoff(3), 2000 * MS);
        assert_eq!(policy.backoff(20), Duration::from_secs(30));
        assert_eq!(policy.backoff(u32::MAX), Duration::from_secs(30));
    }

    #[test]
    fn retry_after_wins_when_longer_and_is_capped_by_max_delay() {
        let policy = RetryPolicy::new(3, 100 * MS, Duration::from_secs(5));
        assert_eq!(policy.delay(1, None), 100 * MS);
        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(policy.delay(1, Some(MS)), 100 * MS);
        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(120))),
            Duration::from_secs(5)
        );
    }

    fn retryable() -> NotifyError {
        NotifyError::Retryable {
            reason: "busy".into(),
            retry_after: None,
        }
    }

    #[tokio::test]
    async fn retryable_failures_are_retried_until_success() {
        let policy = RetryPolicy::new(3, MS, MS);
        let mut seen = Vec::new();
        let outcome = policy
            .run(|n| {
                seen.push(n);
                async move { if n < 3 { Err(retryable()) } else { Ok(n) } }
            })
            .await;
        assert_eq!(outcome, Ok(3));
        assert_eq!(seen, [1, 2, 3]);
    }

    #[tokio::test]
    async fn the_last_retryable_error_is_returned_after_the_last_attempt() {
        let policy = RetryPolicy::new(2, MS, MS);
        let mut calls = 0;
        let outcome: Result<(), _> = policy
            .run(|n| {
                calls += 1;
                async move {
                    Err(NotifyError::Retryable {
                        reason: format!("attempt {n}"),
                        retry_after: None,
                    })
                }
            })
            .await;
        assert_eq!(calls, 2);
        assert_eq!(
            outcome,
            Err(NotifyError::Retryable {
                reason: "attempt 2".into(),
                retry_after: None
            })
        );
    }

    #[tokio::test]
    async fn permanent_failures_are_not_retried() {
        let policy = RetryPolicy::new(5, MS, MS);
        let mut calls = 0;
        let outcome: Result<(), _> = policy
            .run(|_| {
                calls += 1;
                async {
                    Err(NotifyError::Permanent {
                        reason: "bad".into(),
                    })
                }
            })
            .await;
        assert_eq!(calls, 1);
        assert!(matches!(outcome, Err(NotifyError::Permanent { .. })));
    }

    #[tokio::test]
    async fn zero_attempts_still_tries_once() {
        let policy = RetryPolicy::new(0, MS, MS);
        let mut calls = 0;
        let _ = policy
            .run(|_| {
                calls += 1;
                async { Err::<(), _>(retryable()) }
            })
            .await;
        assert_eq!(calls, 1);
    }
}
