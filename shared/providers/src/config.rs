//! Configuration errors and environment lookups: the workspace's own, from `env_config`.

pub use env_config::{ConfigError, optional, required_secret};
