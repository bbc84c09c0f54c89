//! The outbox: claims, leases, order per lane, outcomes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::blocks::*;

pub async fn new_outbox_items_are_pending_with_no_attempts<S: CaseStore + CaseReader>(store: S) {
    let case = sample_case("zendesk-1", at(0));
    let items = vec![
        resolve(&case, AlertKey::OutOfHours),
        page(&case, AlertKey::Dispatch),
        slack(&case, SlackKind::DispatchBreached),
    ];
    let mut write = create(case.clone());
    write.outbox = items.clone();
    write.now = at(7);
    commit_ok(&store, write).await;

    let stored = outbox_of(&store, &case.id).await;
    let expected: Vec<OutboxItem> = items
        .into_iter()
        .map(|new| OutboxItem {
            key: new.key,
            case_id: case.id.clone(),
            effect: new.effect,
            created_at: at(7),
            state: DeliveryState::Pending,
            attempts: 0,
            next_attempt_at: at(7),
            last_error: None,
            detail: None,
        })
        .collect();
    assert_eq!(stored, expected);
}

pub async fn an_outbox_item_whose_key_exists_is_skipped<S: CaseStore + CaseReader>(store: S) {
    let case = sample_case("zendesk-1", at(0));
    let trigger = page(&case, AlertKey::Dispatch);
    let notice = slack(&case, SlackKind::DispatchBreached);
    let mut write = create(case.clone());
    // Within one write, the first item of a key wins.
    let mut twin = trigger.clone();
    twin.effect = Effect::ResolvePage {
        alert: AlertKey::Dispatch,
    };
    write.outbox = vec![trigger.clone(), twin];
    commit_ok(&store, write).await;
    assert_eq!(claim_keys(&store, at(1), 10, None).await, keys(&[&trigger]));
    finish(
        &store,
        &trigger.key,
        DeliveryOutcome::RetryAt {
            at: at(100),
            error: "503".into(),
        },
        at(2),
    )
    .await;
    let before = outbox_of(&store, &case.id).await;
    assert_eq!(before.len(), 1);

    // A later write repeating the key (with another effect) neither duplicates nor resets it.
    let mut changed = case.clone();
    changed.request.priority = Priority::High;
    let mut repeated = page(&changed, AlertKey::Dispatch);
    repeated.key.clone_from(&trigger.key);
    let mut write = update(changed, 1, at(50));
    write.outbox = vec![repeated, notice.clone()];
    assert_eq!(commit_ok(&store, write).await, 2);

    let after = outbox_of(&store, &case.id).await;
    assert_eq!(after.len(), 2);
    assert_eq!(after[0], before[0]);
    assert_eq!(after[0].attempts, 1);
    assert_eq!(after[0].effect, trigger.effect);
    assert_eq!(after[1].key, notice.key);

    // Keys are unique per store: another case's item with the same key is skipped too.
    let other = sample_case("zendesk-2", at(60));
    let mut clash = slack(&other, SlackKind::NewChat);
    clash.key.clone_from(&notice.key);
    let mut write = create(other.clone());
    write.outbox = vec![clash];
    commit_ok(&store, write).await;
    assert_eq!(outbox_of(&store, &other.id).await, vec![]);
    assert_eq!(outbox_of(&store, &case.id).await, after);
}

pub async fn claim_returns_due_pending_items_oldest_first<S: CaseStore + CaseReader>(store: S) {
    let (_, a) = case_with_items(&store, "zendesk-a", 0, |c| {
        vec![page(c, AlertKey::Dispatch)]
    })
    .await;
    let (_, c) = case_with_items(&store, "zendesk-c", 1, |c| {
        vec![page(c, AlertKey::Dispatch)]
    })
    .await;
    let (_, b) = case_with_items(&store, "zendesk-b", 2, |c| {
        vec![page(c, AlertKey::Dispatch)]
    })
    .await;
    // Written later, and not yet due at the time of the claim.
    let (_, late) = case_with_items(&store, "zendesk-d", 40, |c| {
        vec![page(c, AlertKey::Dispatch)]
    })
    .await;

    let claimed = store
        .claim_outbox(at(30), LEASE, 10, None)
        .await
        .expect("claim");
    assert_eq!(keys_of(&claimed), keys(&[&a[0], &c[0], &b[0]]));
    for item in &claimed {
        assert_eq!(item.state, DeliveryState::Pending);
        assert_eq!(item.attempts, 0);
    }
    assert_eq!(claimed[0].effect, a[0].effect);
    assert_eq!(claimed[0].case_id.as_str(), "zendesk-a");

    // The first three are leased until at(60).
    assert_eq!(
        claim_keys(&store, at(45), 10, None).await,
        keys(&[&late[0]])
    );
    assert_eq!(
        claim_keys(&store, at(0), 0, None).await,
        Vec::<String>::new()
    );
}

pub async fn claim_respects_the_limit<S: CaseStore + CaseReader>(store: S) {
    let mut all = Vec::new();
    for n in 0..5 {
        let (_, items) = case_with_items(&store, &format!("zendesk-{n}"), n, |c| {
            vec![page(c, AlertKey::Dispatch)]
        })
        .await;
        all.extend(items);
    }
    assert_eq!(
        claim_keys(&store, at(10), 2, None).await,
        keys(&[&all[0], &all[1]])
    );
    assert_eq!(
        claim_keys(&store, at(10), 2, None).await,
        keys(&[&all[2], &all[3]])
    );
    assert_eq!(claim_keys(&store, at(10), 2, None).await, keys(&[&all[4]]));
    assert_eq!(
        claim_keys(&store, at(10), 2, None).await,
        Vec::<String>::new()
    );
}

pub async fn claim_filters_by_case<S: CaseStore + CaseReader>(store: S) {
    let (a, a_items) = case_with_items(&store, "zendesk-a", 0, |c| {
        vec![page(c, AlertKey::Dispatch)]
    })
    .await;
    let (b, b_items) = case_with_items(&store, "zendesk-b", 1, |c| {
        vec![page(c, AlertKey::Dispatch)]
    })
    .await;
    assert_eq!(
        claim_keys(&store, at(10), 10, Some(&b.id)).await,
        keys(&[&b_items[0]])
    );
    assert_eq!(
        claim_keys(&store, at(10), 10, Some(&case_id("zendesk-none"))).await,
        Vec::<String>::new()
    );
    assert_eq!(
        claim_keys(&store, at(10), 10, None).await,
        keys(&[&a_items[0]])
    );
    assert_eq!(
        claim_keys(&store, at(10), 10, Some(&a.id)).await,
        Vec::<String>::new()
    );
}

pub async fn a_claimed_item_is_leased_until_the_lease_expires<S: CaseStore + CaseReader>(store: S) {
    let (_, items) = case_with_items(&store, "zendesk-1", 0, |c| {
        vec![page(c, AlertKey::Dispatch)]
    })
    .await;
    let claimed = keys(&[&items[0]]);
    assert_eq!(claim_keys(&store, at(10), 10, None).await, claimed);
    // LEASE is 30 s: leased until at(40).
    assert_eq!(
        claim_keys(&store, at(11), 10, None).await,
        Vec::<String>::new()
    );
    assert_eq!(
        claim_keys(&store, at(39), 10, None).await,
        Vec::<String>::new()
    );
    assert_eq!(claim_keys(&store, at(41), 10, None).await, claimed);
    assert_eq!(
        claim_keys(&store, at(50), 10, None).await,
        Vec::<String>::new()
    );
    assert_eq!(claim_keys(&store, at(72), 10, None).await, claimed);

    let stored = outbox_of(&store, &case_id("zendesk-1")).await;
    assert_eq!(stored[0].state, DeliveryState::Pending);
    assert_eq!(stored[0].attempts, 0, "a claim alone is not an attempt");
}

pub async fn concurrent_claims_never_return_the_same_item<S: CaseStore + CaseReader>(store: S) {
    const CASES: usize = 40;
    const CLAIMERS: usize = 8;
    for n in 0..CASES {
        case_with_items(&store, &format!("zendesk-{n}"), n as i64, |c| {
            vec![page(c, AlertKey::Dispatch)]
        })
        .await;
    }
    let store = Arc::new(store);
    let barrier = Arc::new(Barrier::new(CLAIMERS));
    let mut tasks = Vec::new();
    for _ in 0..CLAIMERS {
        let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let mut mine = Vec::new();
            loop {
                let batch = claim_keys(&*store, at(100), 3, None).await;
                if batch.is_empty() {
                    break mine;
                }
                mine.extend(batch);
            }
        }));
    }
    let mut seen = HashSet::new();
    for task in tasks {
        for key in task.await.expect("task") {
            assert!(seen.insert(key.clone()), "{key} was claimed twice");
        }
    }
    assert_eq!(seen.len(), CASES);
}

pub async fn an_item_waits_for_older_pending_items_of_its_lane<S: CaseStore + CaseReader>(
    store: S,
) {
    let case = sample_case("zendesk-1", at(0));
    let trigger = page(&case, AlertKey::Dispatch);
    let notice = slack(&case, SlackKind::DispatchBreached);
    let mut write = create(case.clone());
    write.outbox = vec![trigger.clone(), notice.clone()];
    commit_ok(&store, write).await;
    let resolution = resolve(&case, AlertKey::Dispatch);
    let other_alert = page(&case, AlertKey::FirstResponse);
    let mut write = update(case.clone(), 1, at(5));
    write.outbox = vec![resolution.clone(), other_alert.clone()];
    commit_ok(&store, write).await;
    let (_, other) = case_with_items(&store, "zendesk-2", 6, |c| {
        vec![page(c, AlertKey::Dispatch)]
    })
    .await;

    // The head of every lane, oldest first; the resolve waits behind its trigger.
    assert_eq!(
        claim_keys(&store, at(10), 10, None).await,
        keys(&[&trigger, &notice, &other_alert, &other[0]])
    );
    // The trigger is leased, still pending: its resolve is not offered.
    assert_eq!(
        claim_keys(&store, at(11), 10, None).await,
        Vec::<String>::new()
    );
    for delivered in [&notice, &other_alert] {
        finish(
            &store,
            &delivered.key,
            DeliveryOutcome::Delivered {
                detail: "ok".into(),
            },
            at(12),
        )
        .await;
    }
    // Waiting for a retry, still pending: its resolve is not offered.
    finish(
        &store,
        &trigger.key,
        DeliveryOutcome::RetryAt {
            at: at(100),
            error: "503".into(),
        },
        at(12),
    )
    .await;
    assert_eq!(
        claim_keys(&store, at(50), 10, Some(&case.id)).await,
        Vec::<String>::new()
    );
    assert_eq!(
        claim_keys(&store, at(100), 10, Some(&case.id)).await,
        keys(&[&trigger])
    );
    finish(
        &store,
        &trigger.key,
        DeliveryOutcome::Delivered {
            detail: "202".into(),
        },
        at(101),
    )
    .await;
    assert_eq!(
        claim_keys(&store, at(102), 10, Some(&case.id)).await,
        keys(&[&resolution])
    );
}

pub async fn an_item_waiting_for_a_retry_holds_back_nothing_outside_its_lane<
    S: CaseStore + CaseReader,
>(
    store: S,
) {
    let (case, items) = case_with_items(&store, "zendesk-1", 0, |c| {
        vec![slack(c, SlackKind::DispatchBreached)]
    })
    .await;
    let notice = &items[0];
    assert_eq!(
        claim_keys(&store, at(1), 10, Some(&case.id)).await,
        keys(&[notice])
    );
    finish(
        &store,
        &notice.key,
        DeliveryOutcome::RetryAt {
            at: at(3600),
            error: "Slack answered 503".into(),
        },
        at(2),
    )
    .await;
    let trigger = page(&case, AlertKey::Dispatch);
    let mut write = update(case.clone(), 1, at(5));
    write.outbox = vec![trigger.clone()];
    commit_ok(&store, write).await;

    // The page goes out now, not after the Slack message's retry an hour later.
    assert_eq!(
        claim_keys(&store, at(10), 10, None).await,
        keys(&[&trigger])
    );
    finish(
        &store,
        &trigger.key,
        DeliveryOutcome::Delivered {
            detail: "202".into(),
        },
        at(11),
    )
    .await;
    assert_eq!(
        claim_keys(&store, at(3600), 10, Some(&case.id)).await,
        keys(&[notice])
    );
}

pub async fn final_outcomes_are_recorded_and_never_claimed_again<S: CaseStore + CaseReader>(
    store: S,
) {
    let (a, _) = case_with_items(&store, "zendesk-a", 0, |c| {
        vec![page(c, AlertKey::Dispatch)]
    })
    .await;
    let (b, _) = case_with_items(&store, "zendesk-b", 1, |c| {
        vec![page(c, AlertKey::Dispatch)]
    })
    .await;
    let (c, _) = case_with_items(&store, "zendesk-c", 2, |c| {
        vec![page(c, AlertKey::Dispatch)]
    })
    .await;
    let claimed = store
        .claim_outbox(at(10), LEASE, 10, None)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 3);
    let outcomes = [
        DeliveryOutcome::Delivered {
            detail: "202 dedup_key=zendesk-a/dispatch".into(),
        },
        DeliveryOutcome::NotSent {
            reason: "no routing key configured".into(),
        },
        DeliveryOutcome::Failed {
            error: "400 Bad Request".into(),
        },
    ];
    for (item, outcome) in claimed.iter().zip(outcomes) {
        store
            .finish_delivery(&item.key, outcome, at(11))
            .await
            .expect("finish");
    }

    let a_item = &outbox_of(&store, &a.id).await[0];
    assert_eq!(a_item.state, DeliveryState::Delivered);
    assert_eq!(
        a_item.detail.as_deref(),
        Some("202 dedup_key=zendesk-a/dispatch")
    );
    assert_eq!(a_item.attempts, 1);
    assert_eq!(a_item.last_error, None);

    let b_item = &outbox_of(&store, &b.id).await[0];
    assert_eq!(b_item.state, DeliveryState::NotSent);
    assert_eq!(b_item.detail.as_deref(), Some("no routing key configured"));
    assert_eq!(b_item.attempts, 0);

    let c_item = &outbox_of(&store, &c.id).await[0];
    assert_eq!(c_item.state, DeliveryState::Failed);
    assert_eq!(c_item.last_error.as_deref(), Some("400 Bad Request"));
    assert_eq!(c_item.attempts, 1);

    for now in [at(12), at(10_000), at(10_000_000)] {
        assert_eq!(
            claim_keys(&store, now, 10, None).await,
            Vec::<String>::new()
        );
    }
}

pub async fn a_retry_counts_the_attempt_and_waits_until_its_time<S: CaseStore + CaseReader>(
    store: S,
) {
    let (case, items) = case_with_items(&store, "zendesk-1", 0, |c| {
        vec![page(c, AlertKey::Dispatch)]
    })
    .await;
    let key = &items[0].key;
    assert_eq!(
        claim_keys(&store, at(10), 10, None).await,
        vec![key.clone()]
    );
    finish(
        &store,
        key,
        DeliveryOutcome::RetryAt {
            at: at(70),
            error: "503 Service Unavailable".into(),
        },
        at(11),
    )
    .await;
    let stored = &outbox_of(&store, &case.id).await[0];
    assert_eq!(stored.state, DeliveryState::Pending);
    assert_eq!(stored.attempts, 1);
    assert_eq!(stored.next_attempt_at, at(70));
    assert_eq!(
        stored.last_error.as_deref(),
        Some("503 Service Unavailable")
    );

    // Not before `at`, even though the lease was given back.
    assert_eq!(
        claim_keys(&store, at(69), 10, None).await,
        Vec::<String>::new()
    );
    let again = store
        .claim_outbox(at(70), LEASE, 10, None)
        .await
        .expect("claim");
    assert_eq!(keys_of(&again), vec![key.clone()]);
    assert_eq!(again[0].attempts, 1);

    finish(
        &store,
        key,
        DeliveryOutcome::RetryAt {
            at: at(200),
            error: "timeout".into(),
        },
        at(71),
    )
    .await;
    let stored = &outbox_of(&store, &case.id).await[0];
    assert_eq!(stored.attempts, 2);
    assert_eq!(stored.last_error.as_deref(), Some("timeout"));
    assert_eq!(
        claim_keys(&store, at(199), 10, None).await,
        Vec::<String>::new()
    );
    assert_eq!(
        claim_keys(&store, at(200), 10, None).await,
        vec![key.clone()]
    );
}

pub async fn finishing_a_final_item_again_changes_nothing<S: CaseStore + CaseReader>(store: S) {
    let (case, items) = case_with_items(&store, "zendesk-1", 0, |c| {
        vec![page(c, AlertKey::Dispatch)]
    })
    .await;
    let key = &items[0].key;
    claim_keys(&store, at(10), 10, None).await;
    finish(
        &store,
        key,
        DeliveryOutcome::Delivered {
            detail: "202".into(),
        },
        at(11),
    )
    .await;
    let before = outbox_of(&store, &case.id).await;
    let timeline = store.timeline(&case.id).await.expect("timeline");

    for outcome in [
        DeliveryOutcome::Failed {
            error: "late".into(),
        },
        DeliveryOutcome::RetryAt {
            at: at(20),
            error: "late".into(),
        },
        DeliveryOutcome::Delivered {
            detail: "again".into(),
        },
    ] {
        store
            .finish_delivery(key, outcome, at(12))
            .await
            .expect("finish");
    }
    assert_eq!(outbox_of(&store, &case.id).await, before);
    assert_eq!(store.timeline(&case.id).await.expect("timeline"), timeline);
    assert_eq!(
        claim_keys(&store, at(100), 10, None).await,
        Vec::<String>::new()
    );

    // An unknown key is no error.
    store
        .finish_delivery(
            "zendesk-404/dispatch/trigger",
            DeliveryOutcome::Delivered {
                detail: "202".into(),
            },
            at(13),
        )
        .await
        .expect("finish of an unknown key");
}
