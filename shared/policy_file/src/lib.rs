//! Configuration at the edge: the policy file, read and validated into domain types.
//!
//! This is where time zone names are resolved (against the tz database compiled into the
//! binary), so that the domain only ever sees a resolved zone.

mod toml_document;

pub use toml_document::{
    DEFAULT_POLICY_TOML, PolicyError, default_policy, load_policy, parse_policy,
};
