//! The ports: what the engine needs from the world, as traits. Adapters live elsewhere
//! (`local` for the embedded store and due loop, `notify` for PagerDuty and Slack, `aws` for
//! DynamoDB, EventBridge Scheduler and SES).

pub mod clock;
pub mod events;
pub mod metrics;
pub mod notify;
pub mod records;
pub mod rejected;
pub mod store;
pub mod tickets;
pub mod timers;

pub use clock::{Clock, ManualClock, SystemClock};
pub use events::{EventPublisher, NoEventPublisher};
pub use metrics::{GaugeReader, Metrics, NoMetrics, StoreGauges, WebhookOutcome};
pub use notify::{
    ChatReplier, Delivered, Mailer, NoChatReplies, NotifyError, Pager, SlackNotifier,
};
pub use records::{Lookup, LookupError, NoSystemOfRecord, SystemOfRecord, TicketProgress};
pub use rejected::{MAX_REJECTED_BODY_BYTES, RejectedEvent};
pub use store::{
    CaseCursor, CasePage, CaseReader, CaseStore, CaseWrite, DeliveryOutcome, DeliveryState,
    Destination, NewOutboxItem, OutboxItem, Quarantine, StoreError, StoredCase, TimelineEntry,
    TimelineKind,
};
pub use tickets::{BreachNote, NoTicketSystem, TicketSystem};
pub use timers::{TimerError, Timers};
