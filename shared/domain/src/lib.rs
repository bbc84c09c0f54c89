//! The pure SLA domain of support-sla.
//!
//! Architecture invariant: this crate does no I/O, reads no clock, spawns nothing and looks up
//! no time zone by name. Every function that needs the time takes `now`; every calendar holds a
//! resolved time zone. It therefore cannot fail because of the world, only because of its input.

pub mod calendar;
pub mod case;
pub mod deadlines;
pub mod policy;

pub use jiff::{self, Timestamp};
