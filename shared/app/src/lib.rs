//! The engine of support-sla: use cases over ports.
//!
//! It loads a case, asks the pure domain to decide, writes the new state together with the
//! decided effects (a transactional outbox), then carries the effects out. Adapters implement
//! the ports in `ports`; `store_contract` is the test suite every store must pass.

pub mod deliver;
pub mod engine;
pub mod ports;
pub mod store_contract;

pub use deliver::{Deliver, Notifiers};
pub use engine::{
    DeliveryReport, Engine, EngineError, EngineSettings, FireOutcome, IngestOutcome, SweepReport,
};
