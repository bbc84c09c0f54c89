//! SLA reports computed from cases (docs/reports.md).
//!
//! Pure like the domain: no I/O, no clock (`now` is a parameter), no time zone looked up by
//! name. A caller loads the cases of a month through its own port and hands them in.
//!
//! - [`compliance()`]: the monthly compliance report, one row per clock, plan, priority and
//!   channel, with totals and the month's breaches; serializable as the API's JSON document.
//! - [`to_csv`]: the rows of a report as CSV.
//! - [`weekly_compliance()`]: compliance per clock, priority and week of a month (the chart).
//! - [`whatif::whatif`]: a month's cases decided again under another policy.

mod case_view;
mod compliance;
mod csv;
mod month;
mod weekly;
pub mod whatif;

pub use compliance::{Breach, Clock, ComplianceReport, Counts, Row, compliance};
pub use csv::{CSV_COLUMNS, to_csv};
pub use month::{Month, MonthError};
/// The time zone whose wall clock decides which month a case belongs to (docs/reports.md).
pub fn month_time_zone(policy: &domain::policy::Policy) -> jiff::tz::TimeZone {
    case_view::business_time_zone(policy)
}

pub use weekly::{WeekPoint, WeeklyCompliance, weekly_compliance, weeks_of};
