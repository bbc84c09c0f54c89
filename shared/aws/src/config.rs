//! The SDK configuration and the adapters' settings.
//!
//! [`sdk_config`] loads the configuration once per process (a Lambda execution environment
//! keeps it between invocations) with `BehaviorVersion::latest()`: region, credentials and
//! retries from the environment, and `AWS_ENDPOINT_URL` when set, so the same code talks to
//! moto server in tests without any change.

use aws_config::{BehaviorVersion, SdkConfig};
use tokio::sync::OnceCell;

/// A setting is missing or unusable, and the lookups: the workspace's own, from `env_config`.
pub use env_config::{ConfigError, optional, required};

/// Load a fresh SDK configuration from the environment.
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::load_defaults(BehaviorVersion::latest()).await
}

/// The process's SDK configuration, loaded on first use and shared afterwards.
pub async fn sdk_config() -> &'static SdkConfig {
    static CONFIG: OnceCell<SdkConfig> = OnceCell::const_new();
    CONFIG.get_or_init(load_sdk_config).await
}

/// A DynamoDB client for `config`.
pub fn dynamodb_client(config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(config)
}

/// An EventBridge Scheduler client for `config`.
pub fn scheduler_client(config: &SdkConfig) -> aws_sdk_scheduler::Client {
    aws_sdk_scheduler::Client::new(config)
}

/// An SES v2 client for `config`.
pub fn ses_client(config: &SdkConfig) -> aws_sdk_sesv2::Client {
    aws_sdk_sesv2::Client::new(config)
}
