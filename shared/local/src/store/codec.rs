//! Between rows and domain values: instants, states, JSON documents, and SQLite errors.

use app::ports::{DeliveryState, OutboxItem, StoreError, StoredCase};
use app::stored::StoredError;
use domain::Timestamp;
use domain::case::CaseId;
use rusqlite::ErrorCode;

/// An instant as stored: nanoseconds since the Unix epoch. That covers 1677 to 2262; an instant
/// outside saturates to the nearest end, which keeps the order (a timer asked for after 2262
/// would come back as 2262, early, and timers are hints).
pub(super) fn nanos(at: Timestamp) -> i64 {
    let nanos = at.as_nanosecond();
    i64::try_from(nanos).unwrap_or(if nanos < 0 { i64::MIN } else { i64::MAX })
}

pub(super) fn instant(nanos: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_nanosecond(i128::from(nanos))
        .map_err(|error| corrupt(format!("instant {nanos}: {error}")))
}

/// A count or limit as SQLite's `INTEGER`.
pub(super) fn sql_int(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn parse_state(text: &str) -> Result<DeliveryState, StoreError> {
    DeliveryState::parse(text).ok_or_else(|| corrupt(format!("unknown outbox state {text:?}")))
}

pub(super) fn corrupt(message: impl Into<String>) -> StoreError {
    StoreError::Corrupt(message.into())
}

/// A stored document that cannot be written or read: retrying will not help.
pub(super) fn stored_error(what: &str, error: StoredError) -> StoreError {
    corrupt(format!("{what}: {error}"))
}

pub(super) fn case_id(text: &str) -> Result<CaseId, StoreError> {
    CaseId::parse(text).map_err(|error| corrupt(error.to_string()))
}

/// A `cases` row as read.
#[derive(Debug)]
pub(super) struct CaseRow {
    pub id: String,
    pub version: i64,
    pub document: String,
}

impl CaseRow {
    pub(super) fn decode(self) -> Result<StoredCase, StoreError> {
        let case = app::stored::decode_case(&self.document)
            .map_err(|error| stored_error(&format!("case {}", self.id), error))?;
        let version = u64::try_from(self.version)
            .map_err(|_| corrupt(format!("case {}: version {}", self.id, self.version)))?;
        Ok(StoredCase { case, version })
    }
}

/// The columns an outbox query selects, in [`OutboxRow::from_row`]'s order.
pub(super) const OUTBOX_COLUMNS: &str =
    "key, case_id, effect, created_at, state, attempts, next_attempt_at, last_error, detail";

/// An `outbox` row as read.
#[derive(Debug)]
pub(super) struct OutboxRow {
    key: String,
    case_id: String,
    effect: String,
    created_at: i64,
    state: String,
    attempts: i64,
    next_attempt_at: i64,
    last_error: Option<String>,
    detail: Option<String>,
}

impl OutboxRow {
    /// Reads [`OUTBOX_COLUMNS`], starting at column `first`.
    pub(super) fn from_row(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Self> {
        Ok(Self {
            key: row.get(first)?,
            case_id: row.get(first + 1)?,
            effect: row.get(first + 2)?,
            created_at: row.get(first + 3)?,
            state: row.get(first + 4)?,
            attempts: row.get(first + 5)?,
            next_attempt_at: row.get(first + 6)?,
            last_error: row.get(first + 7)?,
            detail: row.get(first + 8)?,
        })
    }

    pub(super) fn decode(self) -> Result<OutboxItem, StoreError> {
        let effect = app::stored::decode_effect(&self.effect)
            .map_err(|error| stored_error(&format!("outbox item {}", self.key), error))?;
        let attempts = u32::try_from(self.attempts).map_err(|_| {
            corrupt(format!(
                "outbox item {}: attempts {}",
                self.key, self.attempts
            ))
        })?;
        Ok(OutboxItem {
            case_id: case_id(&self.case_id)?,
            effect,
            created_at: instant(self.created_at)?,
            state: parse_state(&self.state)?,
            attempts,
            next_attempt_at: instant(self.next_attempt_at)?,
            last_error: self.last_error,
            detail: self.detail,
            key: self.key,
        })
    }
}

/// Maps SQLite's errors: contention and I/O are worth a retry (`Unavailable`), a damaged file
/// or unreadable value is not (`Corrupt`).
pub(super) fn sql_error(context: &str, error: rusqlite::Error) -> StoreError {
    let message = format!("{context}: {error}");
    let code = error.sqlite_error_code();
    match (&error, code) {
        (_, Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase))
        | (
            rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::InvalidColumnType(..)
            | rusqlite::Error::IntegralValueOutOfRange(..)
            | rusqlite::Error::Utf8Error(..),
            _,
        ) => StoreError::Corrupt(message),
        // Busy, locked, I/O, full disk, no permission, and anything unforeseen: the store cannot
        // do it now. The caller retries later, and the message says why.
        _ => StoreError::Unavailable(message),
    }
}

/// `.ctx("what")` on a rusqlite result: map the error with context.
pub(super) trait SqlContext<T> {
    fn ctx(self, context: &str) -> Result<T, StoreError>;
}

impl<T> SqlContext<T> for rusqlite::Result<T> {
    fn ctx(self, context: &str) -> Result<T, StoreError> {
        self.map_err(|error| sql_error(context, error))
    }
}
