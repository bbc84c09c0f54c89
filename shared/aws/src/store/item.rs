//! The table's items: keys, attribute names, and the encoding of values (see
//! `infra/dynamodb.md`).

use app::ports::{DeliveryState, Destination, OutboxItem, StoreError, StoredCase, TimelineEntry};
use app::stored::{self, StoredError};
use aws_sdk_dynamodb::types::AttributeValue;
use domain::Timestamp;
use domain::case::{Case, CaseId, Effect};
use std::collections::HashMap;

pub(super) type Item = HashMap<String, AttributeValue>;

// Key attributes of the table and of its indexes.
pub(super) const PK: &str = "pk";
pub(super) const SK: &str = "sk";
pub(super) const DUE_PK: &str = "due_pk";
pub(super) const DUE_SK: &str = "due_sk";
pub(super) const LIST_PK: &str = "list_pk";
pub(super) const LIST_SK: &str = "list_sk";
pub(super) const PENDING_PK: &str = "pending_pk";
pub(super) const PENDING_SK: &str = "pending_sk";

// Other attributes.
pub(super) const ENTITY: &str = "entity";
pub(super) const CASE_ID: &str = "case_id";
pub(super) const VERSION: &str = "version";
pub(super) const RECEIVED: &str = "received";
pub(super) const NEXT_DUE: &str = "next_due";
pub(super) const DOCUMENT: &str = "document";
pub(super) const AT: &str = "at";
pub(super) const ENTRY: &str = "entry";
pub(super) const EVENT_ID: &str = "event_id";
pub(super) const APPLIED_AT: &str = "applied_at";
/// The TTL attribute: epoch seconds.
pub(super) const EXPIRES_AT: &str = "expires_at";
pub(super) const OUTBOX_KEY: &str = "outbox_key";
pub(super) const ITEM_SK: &str = "item_sk";
pub(super) const EFFECT: &str = "effect";
pub(super) const CREATED_AT: &str = "created_at";
pub(super) const STATE: &str = "state";
pub(super) const ATTEMPTS: &str = "attempts";
pub(super) const NEXT_ATTEMPT_AT: &str = "next_attempt_at";
pub(super) const LEASE_UNTIL: &str = "lease_until";
pub(super) const LAST_ERROR: &str = "last_error";
pub(super) const DETAIL: &str = "detail";
/// `Effect::delivery_lane`: items of one lane are delivered in order.
pub(super) const LANE: &str = "lane";
/// `app::ports::Destination`: each destination's workers claim their own items.
pub(super) const DESTINATION: &str = "destination";

// Constant partition keys of the sparse indexes, and sort keys of singleton items.
pub(super) const DUE_PARTITION: &str = "DUE";
pub(super) const LIST_PARTITION: &str = "CASES";
pub(super) const PENDING_PARTITION: &str = "PENDING";
pub(super) const CASE_SK: &str = "CASE";
pub(super) const EVENT_SK: &str = "EVENT";
pub(super) const OUTBOX_KEY_SK: &str = "OUTBOX_KEY";
pub(super) const OUTBOX_PREFIX: &str = "OUTBOX#";
/// The `entity` of an outbox item: the deliver function's stream filter selects on it.
pub const OUTBOX_ENTITY: &str = "outbox";
pub(super) const TIMELINE_PREFIX: &str = "TIMELINE#";

pub(super) fn case_pk(id: &CaseId) -> String {
    format!("CASE#{id}")
}

pub(super) fn event_pk(event_id: &str) -> String {
    format!("EVENT#{event_id}")
}

pub(super) fn outbox_key_pk(key: &str) -> String {
    format!("OUTBOX_KEY#{key}")
}

/// An outbox item's sort key in its case's partition: the version its write created, then
/// its place in that write, so that a case's items sort in the order they were decided.
pub(super) fn outbox_sk(version: u64, index: usize) -> String {
    format!("{OUTBOX_PREFIX}{version:020}#{index:05}")
}

/// A timeline entry written by the commit that created `version`.
pub(super) fn commit_timeline_sk(version: u64, index: usize) -> String {
    format!("{TIMELINE_PREFIX}{version:020}#C#{index:05}")
}

/// A `Delivered` timeline entry written while the case was at `version`: after that version's
/// own entries (`F` > `C`), before the next version's.
pub(super) fn finish_timeline_sk(version: u64, now: Timestamp, key: &str) -> String {
    format!(
        "{TIMELINE_PREFIX}{version:020}#F#{}#{key}",
        instant_key(now)
    )
}

/// Shifts every instant jiff can represent (from -9999 to 9999 AD) to a positive count.
const KEY_OFFSET_NANOS: i128 = 400_000_000_000 * 1_000_000_000;
const INSTANT_KEY_LEN: usize = 21;

/// An instant as a fixed-width decimal string that sorts like the instant: nanoseconds since
/// the Unix epoch plus 4×10²⁰, 21 digits. Used where an instant starts a sort key.
pub(super) fn instant_key(at: Timestamp) -> String {
    format!(
        "{:0width$}",
        at.as_nanosecond() + KEY_OFFSET_NANOS,
        width = INSTANT_KEY_LEN
    )
}

/// The instant at the start of a sort key made with [`instant_key`].
pub(super) fn instant_from_key(key: &str) -> Result<Timestamp, StoreError> {
    key.get(..INSTANT_KEY_LEN)
        .and_then(|digits| digits.parse::<i128>().ok())
        .and_then(|nanos| Timestamp::from_nanosecond(nanos - KEY_OFFSET_NANOS).ok())
        .ok_or_else(|| corrupt(format!("sort key {key:?} does not start with an instant")))
}

/// The sort key of the due index: when the case is next due, then its id.
pub(super) fn due_sk(next_due: Timestamp, id: &CaseId) -> String {
    format!("{}#{id}", instant_key(next_due))
}

/// An upper bound (exclusive) for [`due_sk`]s whose instant is at most `now`: `$` sorts right
/// after the `#` separator.
/// The received index's sort key: newest last, so a listing reads it backwards.
pub(super) fn list_sk(received: Timestamp, id: &CaseId) -> String {
    format!("{}#{id}", instant_key(received))
}

pub(super) fn due_bound(now: Timestamp) -> String {
    format!("{}$", instant_key(now))
}

pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(super) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// An instant as a number: nanoseconds since the Unix epoch (exact, and compared as a number
/// in condition expressions).
pub(super) fn instant(at: Timestamp) -> AttributeValue {
    n(at.as_nanosecond())
}

pub(super) fn corrupt(message: impl Into<String>) -> StoreError {
    StoreError::Corrupt(message.into())
}

/// A stored document that cannot be written or read: retrying will not help.
fn stored_error(what: &str, error: StoredError) -> StoreError {
    corrupt(format!("{what}: {error}"))
}

/// Reads attributes of one item, naming the item in every error.
pub(super) struct Reader<'a> {
    item: &'a Item,
    what: String,
}

impl<'a> Reader<'a> {
    pub(super) fn new(item: &'a Item, what: impl Into<String>) -> Self {
        Self {
            item,
            what: what.into(),
        }
    }

    pub(super) fn what(&self) -> &str {
        &self.what
    }

    pub(super) fn opt_s(&self, name: &str) -> Result<Option<&'a str>, StoreError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::S(text)) => Ok(Some(text)),
            Some(_) => Err(corrupt(format!(
                "{}: attribute {name} is not a string",
                self.what
            ))),
        }
    }

    pub(super) fn s(&self, name: &str) -> Result<&'a str, StoreError> {
        self.opt_s(name)?
            .ok_or_else(|| corrupt(format!("{}: attribute {name} is missing", self.what)))
    }

    pub(super) fn opt_n<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, StoreError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::N(number)) => number.parse().map(Some).map_err(|_| {
                corrupt(format!(
                    "{}: attribute {name} = {number} is out of range",
                    self.what
                ))
            }),
            Some(_) => Err(corrupt(format!(
                "{}: attribute {name} is not a number",
                self.what
            ))),
        }
    }

    pub(super) fn n<T: std::str::FromStr>(&self, name: &str) -> Result<T, StoreError> {
        self.opt_n(name)?
            .ok_or_else(|| corrupt(format!("{}: attribute {name} is missing", self.what)))
    }

    pub(super) fn opt_instant(&self, name: &str) -> Result<Option<Timestamp>, StoreError> {
        self.opt_n::<i128>(name)?
            .map(|nanos| {
                Timestamp::from_nanosecond(nanos)
                    .map_err(|error| corrupt(format!("{}: attribute {name}: {error}", self.what)))
            })
            .transpose()
    }

    pub(super) fn instant(&self, name: &str) -> Result<Timestamp, StoreError> {
        self.opt_instant(name)?
            .ok_or_else(|| corrupt(format!("{}: attribute {name} is missing", self.what)))
    }
}

/// The case item: the document, its version, and the keys of the due and list indexes.
pub(super) fn case_item(case: &Case, version: u64) -> Result<Item, StoreError> {
    let id = &case.id;
    let mut item = Item::from([
        (PK.to_owned(), s(case_pk(id))),
        (SK.to_owned(), s(CASE_SK)),
        (ENTITY.to_owned(), s("case")),
        (CASE_ID.to_owned(), s(id.as_str())),
        (VERSION.to_owned(), n(version)),
        (RECEIVED.to_owned(), instant(case.request.received)),
        (
            DOCUMENT.to_owned(),
            s(stored::encode_case(case).map_err(|e| stored_error(id.as_str(), e))?),
        ),
        (LIST_PK.to_owned(), s(LIST_PARTITION)),
        (LIST_SK.to_owned(), s(list_sk(case.request.received, id))),
    ]);
    // Present only while the case has timers: the due index is sparse.
    if let Some(next_due) = case.next_due() {
        item.insert(NEXT_DUE.to_owned(), instant(next_due));
        item.insert(DUE_PK.to_owned(), s(DUE_PARTITION));
        item.insert(DUE_SK.to_owned(), s(due_sk(next_due, id)));
    }
    Ok(item)
}

pub(super) fn decode_case(item: &Item) -> Result<StoredCase, StoreError> {
    let pk = Reader::new(item, "case item").s(PK)?.to_owned();
    let read = Reader::new(item, pk);
    let case = stored::decode_case(read.s(DOCUMENT)?).map_err(|e| stored_error(read.what(), e))?;
    if case_pk(&case.id) != read.what() {
        return Err(corrupt(format!(
            "{}: the document is case {}",
            read.what(),
            case.id
        )));
    }
    Ok(StoredCase {
        case,
        version: read.n(VERSION)?,
    })
}

pub(super) fn timeline_item(
    id: &CaseId,
    sk: String,
    entry: &TimelineEntry,
) -> Result<Item, StoreError> {
    Ok(Item::from([
        (PK.to_owned(), s(case_pk(id))),
        (SK.to_owned(), s(sk)),
        (ENTITY.to_owned(), s("timeline")),
        (AT.to_owned(), instant(entry.at)),
        (
            ENTRY.to_owned(),
            s(stored::encode_timeline_entry(entry).map_err(|e| stored_error(id.as_str(), e))?),
        ),
    ]))
}

pub(super) fn decode_timeline(item: &Item) -> Result<TimelineEntry, StoreError> {
    let read = Reader::new(item, "timeline item");
    let what = format!("timeline item {}/{}", read.s(PK)?, read.s(SK)?);
    stored::decode_timeline_entry(read.s(ENTRY)?).map_err(|e| stored_error(&what, e))
}

pub(super) fn event_item(event_id: &str, id: &CaseId, now: Timestamp, expires_at: i64) -> Item {
    Item::from([
        (PK.to_owned(), s(event_pk(event_id))),
        (SK.to_owned(), s(EVENT_SK)),
        (ENTITY.to_owned(), s("event")),
        (EVENT_ID.to_owned(), s(event_id)),
        (CASE_ID.to_owned(), s(id.as_str())),
        (APPLIED_AT.to_owned(), instant(now)),
        (EXPIRES_AT.to_owned(), n(expires_at)),
    ])
}

/// The guard that makes an outbox key unique in the table, and finds its item.
pub(super) fn outbox_key_item(key: &str, id: &CaseId, item_sk: &str) -> Item {
    Item::from([
        (PK.to_owned(), s(outbox_key_pk(key))),
        (SK.to_owned(), s(OUTBOX_KEY_SK)),
        (ENTITY.to_owned(), s("outbox_key")),
        (OUTBOX_KEY.to_owned(), s(key)),
        (CASE_ID.to_owned(), s(id.as_str())),
        (ITEM_SK.to_owned(), s(item_sk)),
    ])
}

/// The pending index's sort key: creation instant, case, place in the case: oldest first.
pub(super) fn pending_sk(created_at: Timestamp, id: &CaseId, item_sk: &str) -> String {
    let place = item_sk.strip_prefix(OUTBOX_PREFIX).unwrap_or(item_sk);
    format!("{}#{id}#{place}", instant_key(created_at))
}

pub(super) fn new_outbox_item(
    id: &CaseId,
    item_sk: &str,
    key: &str,
    effect: &Effect,
    now: Timestamp,
) -> Result<Item, StoreError> {
    Ok(Item::from([
        (PK.to_owned(), s(case_pk(id))),
        (SK.to_owned(), s(item_sk)),
        (ENTITY.to_owned(), s(OUTBOX_ENTITY)),
        (OUTBOX_KEY.to_owned(), s(key)),
        (CASE_ID.to_owned(), s(id.as_str())),
        (LANE.to_owned(), s(effect.delivery_lane(id))),
        (DESTINATION.to_owned(), s(Destination::of(effect).as_str())),
        (
            EFFECT.to_owned(),
            s(stored::encode_effect(effect).map_err(|e| stored_error(key, e))?),
        ),
        (CREATED_AT.to_owned(), instant(now)),
        (STATE.to_owned(), s(DeliveryState::Pending.as_str())),
        (ATTEMPTS.to_owned(), n(0)),
        (NEXT_ATTEMPT_AT.to_owned(), instant(now)),
        // Present only while pending: the pending index is sparse.
        (PENDING_PK.to_owned(), s(PENDING_PARTITION)),
        (PENDING_SK.to_owned(), s(pending_sk(now, id, item_sk))),
    ]))
}

pub(super) fn decode_outbox(item: &Item) -> Result<OutboxItem, StoreError> {
    let read = Reader::new(item, "outbox item");
    let key = read.s(OUTBOX_KEY)?.to_owned();
    let read = Reader::new(item, format!("outbox item {key}"));
    let state = read.s(STATE)?;
    let case_id = CaseId::parse(read.s(CASE_ID)?)
        .map_err(|error| corrupt(format!("{}: {error}", read.what())))?;
    Ok(OutboxItem {
        case_id,
        effect: stored::decode_effect(read.s(EFFECT)?).map_err(|e| stored_error(read.what(), e))?,
        created_at: read.instant(CREATED_AT)?,
        state: DeliveryState::parse(state)
            .ok_or_else(|| corrupt(format!("{}: unknown state {state:?}", read.what())))?,
        attempts: read.n(ATTEMPTS)?,
        next_attempt_at: read.instant(NEXT_ATTEMPT_AT)?,
        last_error: read.opt_s(LAST_ERROR)?.map(str::to_owned),
        detail: read.opt_s(DETAIL)?.map(str::to_owned),
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::jiff::SignedDuration;

    #[test]
    fn instant_keys_sort_like_instants_and_read_back() {
        let instants: Vec<Timestamp> = [
            Timestamp::MIN,
            "1969-12-31T23:59:59.999999999Z".parse().unwrap(),
            Timestamp::UNIX_EPOCH,
            "2026-03-02T09:00:00Z".parse().unwrap(),
            "2026-03-02T09:00:00.000000001Z".parse().unwrap(),
            "2026-03-02T09:00:01Z".parse().unwrap(),
            Timestamp::MAX,
        ]
        .to_vec();
        let keys: Vec<String> = instants.iter().map(|t| instant_key(*t)).collect();
        assert!(
            keys.iter().all(|key| key.len() == INSTANT_KEY_LEN),
            "{keys:?}"
        );
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(sorted, keys);
        for (at, key) in instants.iter().zip(&keys) {
            assert_eq!(instant_from_key(key).unwrap(), *at);
        }
        assert!(instant_from_key("not a key").is_err());
    }

    #[test]
    fn the_due_bound_includes_exactly_the_instants_up_to_now() {
        let now: Timestamp = "2026-03-02T09:00:00Z".parse().unwrap();
        let bound = due_bound(now);
        let id = CaseId::parse("zzzz-zzz_.9").unwrap();
        assert!(due_sk(now, &id) < bound);
        assert!(due_sk(now - SignedDuration::from_nanos(1), &id) < bound);
        assert!(
            due_sk(
                now + SignedDuration::from_nanos(1),
                &CaseId::parse("0").unwrap()
            ) > bound
        );
    }

    #[test]
    fn sort_keys_keep_write_order_within_a_partition() {
        let now: Timestamp = "2026-03-02T09:00:00Z".parse().unwrap();
        let ordered = [
            CASE_SK.to_owned(),
            outbox_sk(1, 0),
            outbox_sk(1, 1),
            outbox_sk(2, 0),
            outbox_sk(10, 0),
            commit_timeline_sk(1, 0),
            commit_timeline_sk(1, 9),
            finish_timeline_sk(1, now, "k"),
            finish_timeline_sk(1, now + SignedDuration::from_secs(1), "a"),
            commit_timeline_sk(2, 0),
            finish_timeline_sk(2, now - SignedDuration::from_secs(999), "z"),
            commit_timeline_sk(10, 0),
        ];
        let mut sorted = ordered.clone();
        sorted.sort();
        assert_eq!(sorted, ordered);
    }
}
