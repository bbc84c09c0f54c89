//! The engine of support-sla: use cases over ports.
//!
//! It loads a case, asks the pure domain to decide, writes the new state together with the
//! decided effects (a transactional outbox), then carries the effects out. Adapters implement
//! the ports in `ports`. `outbox` states how a delivery outcome changes an outbox item, and
//! `stored` is the stored format both stores write; the stores only persist.

pub mod deliver;
pub mod engine;
pub mod outbox;
pub mod ports;
pub mod settings_lookup;
pub mod sla_event_document;
pub mod stored;

pub use deliver::{Deliver, Notifiers};
pub use engine::{
    AlertUpdateOutcome, DeliveryReport, DeliveryWake, Engine, EngineError, EngineSettings,
    FireOutcome, IngestOutcome, SweepReport,
};
