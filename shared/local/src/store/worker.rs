//! The store's connection on a thread of its own, committing operations in groups.
//!
//! Every operation is sent to this thread and runs there. While the thread is busy, new
//! operations queue up; the next round takes all of them (up to [`MAX_GROUP`]) into one
//! `BEGIN IMMEDIATE … COMMIT`, each inside a savepoint of its own. So under load one commit
//! (one WAL append, one lock round) serves many operations, and an idle store answers a lone
//! operation as fast as before: nothing ever waits for a group to fill.
//!
//! Each operation keeps its own all-or-nothing semantics: a failed one is rolled back to its
//! savepoint and the others go on. Nobody is answered before the group's commit succeeded;
//! if it fails, every operation of the group gets the error (retryable), none is half-done.

use app::ports::StoreError;
use rusqlite::Connection;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use tokio::sync::oneshot;

/// The most operations one commit carries: bounds what a failed commit takes down with it and
/// how long the first caller of a group waits for the last.
const MAX_GROUP: usize = 64;

/// The sending side; cheap to clone. The thread ends, closing the connection, when the last
/// clone is dropped and the queue is empty.
#[derive(Debug, Clone)]
pub(super) struct Worker {
    jobs: mpsc::Sender<Box<dyn Job>>,
}

impl Worker {
    pub(super) fn start(conn: Connection) -> Result<Self, StoreError> {
        let (jobs, queue) = mpsc::channel::<Box<dyn Job>>();
        std::thread::Builder::new()
            .name("sqlite-store".into())
            .spawn(move || {
                while let Ok(first) = queue.recv() {
                    let mut group = vec![first];
                    group.extend(queue.try_iter().take(MAX_GROUP - 1));
                    run_group(&conn, group);
                }
            })
            .map_err(|error| {
                StoreError::Unavailable(format!("cannot start the store thread: {error}"))
            })?;
        Ok(Self { jobs })
    }

    /// Run `work` on the store's thread, inside a transaction, and return its result once that
    /// transaction is committed. `work` must not begin or end transactions itself.
    pub(super) async fn run<T, F>(&self, op: &'static str, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Box::new(Operation { op, work, reply }))
            .map_err(|_| StoreError::Unavailable(format!("{op}: the store thread has stopped")))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable(format!("{op}: the store thread has stopped")))?
    }
}

/// An operation waiting in the queue.
trait Job: Send {
    fn run(self: Box<Self>, conn: &Connection) -> Box<dyn Answer>;
    /// Answer without running: the group could not start.
    fn reject(self: Box<Self>, error: &str);
}

/// An operation that ran, waiting for its group's commit.
trait Answer: Send {
    fn succeeded(&self) -> bool;
    /// `group_error`: the group was rolled back, so report that instead of the result.
    fn send(self: Box<Self>, group_error: Option<&str>);
}

struct Operation<T, F> {
    op: &'static str,
    work: F,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

struct Outcome<T> {
    op: &'static str,
    result: Result<T, StoreError>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Job for Operation<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
{
    fn run(self: Box<Self>, conn: &Connection) -> Box<dyn Answer> {
        let Operation { op, work, reply } = *self;
        // A panicking operation must not take the thread, and with it the store, down.
        let result = catch_unwind(AssertUnwindSafe(|| work(conn))).unwrap_or_else(|_| {
            Err(StoreError::Unavailable(format!(
                "{op}: the store operation panicked"
            )))
        });
        Box::new(Outcome { op, result, reply })
    }

    fn reject(self: Box<Self>, error: &str) {
        // The caller may have gone away (a cancelled request); nobody is left to tell.
        let _ = self.reply.send(Err(StoreError::Unavailable(format!(
            "{}: {error}",
            self.op
        ))));
    }
}

impl<T: Send> Answer for Outcome<T> {
    fn succeeded(&self) -> bool {
        self.result.is_ok()
    }

    fn send(self: Box<Self>, group_error: Option<&str>) {
        let result = match group_error {
            Some(error) => Err(StoreError::Unavailable(format!("{}: {error}", self.op))),
            None => self.result,
        };
        let _ = self.reply.send(result);
    }
}

fn run_group(conn: &Connection, group: Vec<Box<dyn Job>>) {
    if let Err(error) = conn.execute_batch("BEGIN IMMEDIATE") {
        let error = format!("cannot begin a transaction: {error}");
        tracing::warn!(%error, operations = group.len(), "store transaction not started");
        for job in group {
            job.reject(&error);
        }
        return;
    }
    let mut answers = Vec::with_capacity(group.len());
    let mut broken = None;
    let mut jobs = group.into_iter();
    for job in jobs.by_ref() {
        if let Err(error) = conn.execute_batch("SAVEPOINT operation") {
            let error = format!("cannot open a savepoint: {error}");
            job.reject(&error);
            broken = Some(error);
            break;
        }
        let answer = job.run(conn);
        // Some errors (a full disk, an I/O error) make SQLite roll the whole transaction
        // back; the operations before this one are then undone too.
        if conn.is_autocommit() {
            broken = Some("the transaction was rolled back by the database".to_owned());
            answers.push(answer);
            break;
        }
        let close = if answer.succeeded() {
            "RELEASE operation"
        } else {
            "ROLLBACK TO operation; RELEASE operation"
        };
        answers.push(answer);
        if let Err(error) = conn.execute_batch(close) {
            broken = Some(format!("cannot close a savepoint: {error}"));
            break;
        }
    }
    let error = match broken {
        Some(error) => Some(error),
        None => conn
            .execute_batch("COMMIT")
            .err()
            .map(|error| format!("commit failed: {error}")),
    };
    if let Some(error) = &error {
        tracing::warn!(%error, operations = answers.len(), "store transaction rolled back");
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        for job in jobs {
            job.reject(error);
        }
    }
    for answer in answers {
        answer.send(error.as_deref());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (v INTEGER NOT NULL)")
            .unwrap();
        conn
    }

    type Reply = oneshot::Receiver<Result<i64, StoreError>>;

    fn insert(value: i64, fail_after_insert: bool) -> (Box<dyn Job>, Reply) {
        let (reply, answer) = oneshot::channel();
        let work = move |conn: &Connection| {
            conn.execute("INSERT INTO t (v) VALUES (?1)", [value])
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            if fail_after_insert {
                return Err(StoreError::Conflict(
                    domain::case::CaseId::parse("c").unwrap(),
                ));
            }
            Ok(value)
        };
        let job: Box<dyn Job> = Box::new(Operation {
            op: "insert",
            work,
            reply,
        });
        (job, answer)
    }

    fn values(conn: &Connection) -> Vec<i64> {
        let mut query = conn.prepare("SELECT v FROM t ORDER BY v").unwrap();
        query
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn a_failed_operation_is_rolled_back_alone_and_the_rest_of_its_group_commits() {
        let conn = connection();
        let (first, first_answer) = insert(1, false);
        let (failing, failing_answer) = insert(2, true);
        let (last, last_answer) = insert(3, false);

        run_group(&conn, vec![first, failing, last]);

        assert_eq!(values(&conn), [1, 3]);
        assert!(conn.is_autocommit(), "the group's transaction is closed");
        assert_eq!(first_answer.blocking_recv().unwrap(), Ok(1));
        assert!(matches!(
            failing_answer.blocking_recv().unwrap(),
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(last_answer.blocking_recv().unwrap(), Ok(3));
    }

    #[test]
    fn a_panicking_operation_is_answered_with_an_error_and_does_not_stop_the_group() {
        let conn = connection();
        let (reply, answer) = oneshot::channel::<Result<i64, StoreError>>();
        let panicking: Box<dyn Job> = Box::new(Operation {
            op: "explode",
            work: |_: &Connection| -> Result<i64, StoreError> { panic!("boom") },
            reply,
        });
        let (after, after_answer) = insert(7, false);

        run_group(&conn, vec![panicking, after]);

        assert!(matches!(
            answer.blocking_recv().unwrap(),
            Err(StoreError::Unavailable(message)) if message.contains("panicked")
        ));
        assert_eq!(after_answer.blocking_recv().unwrap(), Ok(7));
        assert_eq!(values(&conn), [7]);
    }

    #[test]
    fn a_group_that_cannot_take_the_write_lock_answers_every_operation_retryably() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let conn = Connection::open(&path).unwrap();
        conn.busy_timeout(std::time::Duration::from_millis(50))
            .unwrap();
        conn.execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t (v INTEGER NOT NULL)")
            .unwrap();
        let other = Connection::open(&path).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let (first, first_answer) = insert(1, false);
        let (second, second_answer) = insert(2, false);

        run_group(&conn, vec![first, second]);

        for answer in [first_answer, second_answer] {
            let error = answer.blocking_recv().unwrap().unwrap_err();
            assert!(error.is_retryable(), "{error}");
        }
        other.execute_batch("ROLLBACK").unwrap();
        assert!(values(&conn).is_empty());
    }

    #[tokio::test]
    async fn operations_sent_together_are_all_answered_after_their_commit() {
        let conn = connection();
        let worker = Worker::start(conn).unwrap();
        let inserts = (0..200).map(|value| {
            let worker = worker.clone();
            async move {
                worker
                    .run("insert", move |conn| {
                        conn.execute("INSERT INTO t (v) VALUES (?1)", [value])
                            .map_err(|e| StoreError::Unavailable(e.to_string()))
                    })
                    .await
            }
        });
        let results = futures_join_all(inserts).await;
        assert!(results.iter().all(|result| *result == Ok(1)));
        let count = worker
            .run("count", |conn| {
                conn.query_row("SELECT count(*) FROM t", [], |row| row.get::<_, i64>(0))
                    .map_err(|e| StoreError::Unavailable(e.to_string()))
            })
            .await;
        assert_eq!(count, Ok(200));
    }

    /// Runs every future concurrently, each on a task of its own.
    async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handles: Vec<_> = futures.map(tokio::spawn).collect();
        let mut results = Vec::with_capacity(handles.len());
        for handle in handles {
            results.push(handle.await.unwrap());
        }
        results
    }
}
