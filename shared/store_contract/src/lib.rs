//! The contract every store must pass ([`CaseStore`] and [`CaseReader`]), as async test
//! functions generic over the store, and the golden stored documents every store must read.
//! Test support only (`publish = false`): adapters use it as a dev-dependency.
//!
//! Each function takes a fresh, empty store and panics when the store breaks the contract.
//! An adapter runs the whole suite with one line in an integration test file:
//!
//! ```ignore
//! store_contract::store_contract_tests!(async { (SqliteStore::in_memory().unwrap(), ()) });
//! ```
//!
//! The expression is evaluated (and awaited) once per test, so every test gets its own store.
//! It yields a `(store, guard)` pair: the guard (a temporary directory, a table to drop, or
//! `()`) lives until the test ends. See [`Fixture`]. The calling crate needs `tokio` (with `macros`
//! and `rt-multi-thread`) among its dev-dependencies.
//!
//! # How the contract reads where `ports::store` leaves room
//!
//! - **Precedence.** A write that both names an applied event and fails its version check fails
//!   with [`StoreError::DuplicateEvent`]: it is the final answer, while a `Conflict` would only
//!   make the caller reload and fail again.
//! - **A version for a case that does not exist** (`expected_version: Some(_)`, no case) is a
//!   [`StoreError::Conflict`].
//! - **Outbox keys are unique per store** (not per case), and within one write the first item of
//!   a key wins. A new item is created with `created_at = next_attempt_at = write.now`.
//! - **Leases.** An item is leased until `now + lease`; the lease has expired when
//!   `lease_until <= now`. `finish_delivery` ends the lease.
//! - **Order per lane.** Every item has a delivery lane, `Effect::delivery_lane`: a page and
//!   its resolve share one (the alert), every Slack message and e-mail has its own. An item is
//!   held back while an older item of its lane is still [`DeliveryState::Pending`], whether
//!   that one is leased, waiting for a retry or claimable. So a resolve never overtakes its
//!   trigger, and an item that keeps failing holds back only the later items of its own lane.
//! - **Attempts.** `Delivered`, `Failed` and `RetryAt` each count one attempt; `NotSent` does not
//!   (nothing was sent). `RetryAt` records `last_error` and sets `next_attempt_at = at`;
//!   `Failed` records `last_error`; `Delivered` and `NotSent` record `detail`.
//!   The rule itself is `app::outbox::Finish`, which both stores persist; these tests check
//!   that they do.
//! - **Final is final.** Finishing an item that is final already changes nothing and appends no
//!   second timeline entry (a lease that ran out can make two workers deliver one item).
//!   Finishing an unknown key is no error either.
//! - **The `Delivered` timeline entry** is written at the `now` given to `finish_delivery`;
//!   its `outcome` is the final state in snake case (`delivered`, `not_sent`, `failed`),
//!   followed by `": "` and the detail, reason or error.
//! - **Unknown cases** have an empty timeline and an empty outbox.
//! - **Destinations.** `claim_destination` is `claim_outbox` over every case restricted to the
//!   items whose effect goes to that `Destination`, with the same order per lane.
//! - **Pages.** `list_cases_page` lists what `list_cases` lists, in the same order (received,
//!   then id, both descending), `limit` at a time; `next` is the cursor after the page's last
//!   case when more follow, `None` on the last page.
//! - **Quarantine.** `quarantine(entry)` replaces the case's entry; until `entry.until` the
//!   case is neither in `due_cases` nor counted by `next_due` (then it is due again); the next
//!   successful `commit` of the case ends the quarantine. `quarantined_cases` lists entries,
//!   the soonest `until` first.
//! - **Lease renewal.** `renew_lease(key, now, lease)` moves a pending, leased item's lease to
//!   `now + lease` (even when it has just run out) and answers `true`; for an item that is
//!   final, was never claimed, or does not exist it changes nothing and answers `false`.
//! - **Rejected events.** `keep_rejected` keeps one record per provider and event id (a second
//!   one replaces the first); `rejected_events` lists them, the most recently received first.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod blocks;
mod cases;
mod concurrency;
mod delivery_workers;
mod due;
mod events;
pub mod golden;
mod listing;
mod outbox;
mod outbox_per_case;
mod quarantine;
mod received_range;
mod rejected;
mod timeline;

pub use blocks::{
    at, case_id, create, decided_entry, event_applied, event_entry, page, resolve, sample_case,
    slack, t0, update, with_timers,
};
pub use cases::*;
pub use concurrency::*;
pub use delivery_workers::*;
pub use due::*;
pub use events::*;
pub use listing::*;
pub use outbox::*;
pub use outbox_per_case::*;
pub use quarantine::*;
pub use received_range::*;
pub use rejected::*;
pub use timeline::*;

use app::ports::{CaseReader, CaseStore};

/// What a contract test factory yields: a store with a guard that must outlive it. (Only pairs:
/// a blanket impl for bare stores would overlap, since the store traits are another crate's.)
pub trait Fixture {
    type Store: CaseStore + CaseReader;
    type Guard;
    fn into_parts(self) -> (Self::Store, Self::Guard);
}

impl<S: CaseStore + CaseReader, G> Fixture for (S, G) {
    type Store = S;
    type Guard = G;
    fn into_parts(self) -> (S, G) {
        self
    }
}

/// Expands to one `#[tokio::test]` per contract test, each with a store made by `$factory`
/// (an expression yielding a future of a [`Fixture`], such as an `async` block).
#[macro_export]
macro_rules! store_contract_tests {
    ($factory:expr) => {
        $crate::store_contract_tests!(@each $factory;
            a_new_case_is_stored_at_version_1,
            unknown_ids_return_nothing,
            creating_a_case_that_exists_conflicts,
            a_version_for_an_unknown_case_conflicts,
            a_stale_version_conflicts,
            the_right_version_increments_it,
            a_duplicate_event_is_rejected_and_writes_nothing,
            a_duplicate_event_wins_over_a_conflict,
            a_conflicting_commit_writes_nothing,
            applied_events_are_known_by_their_exact_id,
            concurrent_creations_of_one_case_let_exactly_one_win,
            concurrent_commits_of_one_event_let_exactly_one_win,
            concurrent_updates_at_one_version_let_exactly_one_win,
            the_timeline_comes_back_in_write_order,
            a_final_delivery_appends_a_delivered_entry,
            new_outbox_items_are_pending_with_no_attempts,
            an_outbox_item_whose_key_exists_is_skipped,
            claim_returns_due_pending_items_oldest_first,
            claim_respects_the_limit,
            claim_filters_by_case,
            a_claimed_item_is_leased_until_the_lease_expires,
            concurrent_claims_never_return_the_same_item,
            an_item_waits_for_older_pending_items_of_its_lane,
            an_item_waiting_for_a_retry_holds_back_nothing_outside_its_lane,
            final_outcomes_are_recorded_and_never_claimed_again,
            a_retry_counts_the_attempt_and_waits_until_its_time,
            finishing_a_final_item_again_changes_nothing,
            due_cases_are_those_whose_next_due_has_passed_earliest_first,
            a_case_without_timers_is_never_due,
            next_due_is_the_earliest_and_follows_recommits,
            cases_are_listed_most_recently_received_first,
            outbox_of_returns_every_item_of_a_case_oldest_first,
            a_destination_claim_returns_only_that_destinations_items_oldest_first,
            a_destination_claim_keeps_the_order_per_lane,
            a_renewed_lease_keeps_the_item_from_every_other_claim,
            renewing_a_finished_unclaimed_or_unknown_item_changes_nothing,
            cases_are_listed_in_pages_that_a_cursor_continues,
            a_quarantined_case_is_not_due_before_its_time_and_a_commit_ends_it,
            quarantined_cases_are_listed_soonest_retry_first,
            cases_received_in_a_range_come_back_earliest_first_with_the_end_excluded,
            rejected_events_are_kept_and_listed_most_recent_first,
        );
    };
    (@each $factory:expr; $($name:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let (store, _guard) =
                    $crate::Fixture::into_parts($factory.await);
                $crate::$name(store).await;
            }
        )+
    };
}
