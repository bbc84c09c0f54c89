//! The local runtime of support-sla: everything the engine needs to run as one process on one
//! machine, without any cloud service.
//!
//! - [`store`]: [`store::SqliteStore`], the embedded case store (SQLite), implementing
//!   `app::ports::CaseStore`.
//! - [`due_loop`]: the sleep-until-due loop over the store's due-instant index.
//! - [`delivery_workers`]: the outbox delivered per destination, apart from deciding.
//! - [`runtime`]: the whole system assembled and served over HTTP (`supportctl serve`).
//! - [`dev_secrets`]: generated webhook secrets for a local data directory.

pub mod delivery_workers;
pub mod dev_secrets;
pub mod due_loop;
pub mod http_server;
pub mod runtime;
pub mod store;
