//! The SDK configuration and the adapters' settings.
//!
//! [`load_sdk_config`] loads the configuration with `BehaviorVersion::latest()`: region,
//! credentials and retries from the environment, and `AWS_ENDPOINT_URL` when set, so the same
//! code talks to moto server in tests without any change. A Lambda function loads it once per
//! execution environment (`lambda`); the clients are built from it with `Client::new`.

use aws_config::{BehaviorVersion, SdkConfig};

/// A setting is missing or unusable, and the lookups: the workspace's own, from `env_config`.
pub use env_config::{ConfigError, optional, required};

/// Load a fresh SDK configuration from the environment.
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::load_defaults(BehaviorVersion::latest()).await
}
