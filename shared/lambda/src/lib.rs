//! What every Lambda function of support-sla shares: the composition root of the AWS runtime,
//! as `local::runtime` is for the local one.
//!
//! A function's `main` calls [`init_json_logs`], then [`start`] once per execution environment
//! (the SDK configuration, the secrets, the policy, the clients and the engine), then hands each
//! event to the handler in its `lib.rs`. A setting that is missing or invalid fails the start
//! with a message that names the variable ([`InitError`]).

pub mod emf;
pub mod http;
mod logs;
pub mod read;
pub mod settings;
#[cfg(feature = "test-support")]
pub mod test_support;

pub use logs::{init_json_logs, json_layer};
pub use settings::{SECRET_ID_SUFFIX, SecretSpec, Settings};

use app::ports::{Clock, SystemClock};
use app::{Engine, EngineSettings, Notifiers};
use aws::events::{EVENT_BUS_VAR, EventBridgePublisher};
use aws::scheduler::{SchedulerConfig, SchedulerTimers};
use aws::ses::{SesConfig, SesMailer};
use aws::store::DynamoStore;
use domain::policy::Policy;
use env_config::ConfigError;
use notify::{
    IntercomChatReplies, IntercomChatSettings, NotifierSettings, PagerDutyClient, SlackWebhook,
    ZendeskTickets,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tracing::{error, info, warn};

pub type LambdaNotifiers = Notifiers<
    PagerDutyClient,
    SlackWebhook,
    SesMailer,
    ZendeskTickets,
    IntercomChatReplies,
    Option<EventBridgePublisher>,
>;
/// The engine of the functions that deliver (deliver, escalate, sweep).
pub type LambdaEngine = Engine<DynamoStore, SchedulerTimers, LambdaNotifiers>;
/// The engine of the webhook functions: the store and the timers, no notifier.
pub type WebhookEngine = Engine<DynamoStore, SchedulerTimers, NoDelivery>;

/// The webhook functions' stand-in for the notifiers: they store outbox items and never send
/// them (the `deliver` function does). Built without an HTTP client, SES client or notifier
/// secret; if it were ever asked to send, the item stays pending for `deliver` and the sweep.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDelivery;

impl app::Deliver for NoDelivery {
    async fn deliver(
        &self,
        _case: &domain::case::CaseId,
        _effect: &domain::case::Effect,
    ) -> Result<app::ports::Delivered, app::ports::NotifyError> {
        Err(app::ports::NotifyError::Retryable {
            reason: String::from("a webhook function does not deliver; the deliver function will"),
            retry_after: None,
        })
    }
}

/// The table's name.
pub const TABLE_NAME_VAR: &str = "TABLE_NAME";
/// A policy file packaged with the function; relative paths are read from `LAMBDA_TASK_ROOT`.
pub const POLICY_FILE_VAR: &str = "POLICY_FILE";

/// The secrets of the functions that deliver the outbox (deliver, escalate, sweep): a page
/// without a routing key would be recorded and never sent, so the key is required in AWS. The
/// webhook functions read none of them.
pub const NOTIFIER_SECRETS: [SecretSpec; 4] = [
    SecretSpec::required(notify::ROUTING_KEY_VAR),
    SecretSpec::optional(notify::WEBHOOK_URL_VAR),
    // The chat fallback's reply in the conversation; without it the reply is not sent.
    SecretSpec::optional("INTERCOM_ACCESS_TOKEN"),
    // Voicemail tickets; without it they are recorded as not sent.
    SecretSpec::optional(notify::API_TOKEN_VAR),
];

/// Why a function could not start. Every variant names the setting to fix.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("environment variable {name} is not set ({hint})")]
    Missing { name: String, hint: String },
    #[error("cannot read the secret {secret_id:?} named by {variable}: {reason}")]
    Secret {
        variable: String,
        secret_id: String,
        reason: String,
    },
    #[error("the policy ({source_name}) is invalid: {source}")]
    Policy {
        source_name: String,
        #[source]
        source: policy_file::PolicyError,
    },
    /// A setting an adapter reads is missing or invalid; the error names the variable.
    #[error("{component}: {source}")]
    Config {
        component: &'static str,
        #[source]
        source: ConfigError,
    },
    #[error(transparent)]
    HttpClient(#[from] notify::HttpClientError),
}

impl InitError {
    /// For `map_err`: the configuration error of `component`.
    pub fn config(component: &'static str) -> impl FnOnce(ConfigError) -> Self {
        move |source| InitError::Config { component, source }
    }
}

/// Log why the start failed and turn it into the error `main` returns (the runtime then reports
/// an init error and Lambda retries the start on the next invocation).
pub fn init_failed(error: InitError) -> Box<dyn std::error::Error + Send + Sync> {
    error!(error = %error, "function could not start");
    Box::new(error)
}

/// Everything a function builds once per execution environment.
#[derive(Debug)]
pub struct Started {
    /// The environment as read, before the secrets were fetched (re-reads start from it).
    pub env: Settings,
    pub settings: Settings,
    pub sdk: aws_config::SdkConfig,
    pub policy: Arc<Policy>,
    pub engine: Arc<LambdaEngine>,
}

/// Load the SDK configuration, the settings with `NOTIFIER_SECRETS` plus the function's own
/// secrets, the policy, and build the engine on the system clock.
pub async fn start(own_secrets: &[SecretSpec]) -> Result<Started, InitError> {
    let sdk = aws::config::lambda_sdk_config();
    let mut specs = NOTIFIER_SECRETS.to_vec();
    specs.extend_from_slice(own_secrets);
    let env = Settings::from_env();
    let settings = env.clone().resolve_secrets(&sdk, &specs).await?;
    let function = FunctionSettings::read(&settings)?;
    let policy = Arc::new(load_policy_file(function.policy_file.as_deref())?);
    let engine = engine_from(function, &sdk, Arc::clone(&policy), Arc::new(SystemClock))?;
    Ok(Started {
        env,
        settings,
        sdk,
        policy,
        engine: Arc::new(engine),
    })
}

/// What a webhook function builds once per execution environment: no notifier.
#[derive(Debug)]
pub struct StartedWebhook {
    /// The environment as read, before the secrets were fetched (re-reads start from it).
    pub env: Settings,
    pub settings: Settings,
    pub sdk: aws_config::SdkConfig,
    pub policy: Arc<Policy>,
    pub engine: Arc<WebhookEngine>,
}

/// Load the SDK configuration, the settings with the function's own secrets only, the policy,
/// and build the store and the timers: a webhook stores and answers, it never sends.
pub async fn start_webhook(own_secrets: &[SecretSpec]) -> Result<StartedWebhook, InitError> {
    let sdk = aws::config::lambda_sdk_config();
    let env = Settings::from_env();
    let settings = env.clone().resolve_secrets(&sdk, own_secrets).await?;
    let function = WebhookSettings::read(&settings)?;
    let policy = Arc::new(load_policy_file(function.policy_file.as_deref())?);
    let engine = webhook_engine_from(function, &sdk, Arc::clone(&policy), Arc::new(SystemClock));
    Ok(StartedWebhook {
        env,
        settings,
        sdk,
        policy,
        engine: Arc::new(engine),
    })
}

/// What the engine of a webhook function is built from: the table, the timers, the policy.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    pub table: String,
    pub scheduler: SchedulerConfig,
    pub policy_file: Option<PathBuf>,
    pub engine: EngineSettings,
}

impl WebhookSettings {
    pub fn read(settings: &Settings) -> Result<Self, InitError> {
        let lookup = settings.lookup();
        Ok(Self {
            table: settings.require(TABLE_NAME_VAR)?,
            scheduler: SchedulerConfig::from_lookup(&lookup)
                .map_err(InitError::config("scheduler"))?,
            policy_file: settings
                .get(POLICY_FILE_VAR)
                .map(|file| policy_path(&file, settings.get("LAMBDA_TASK_ROOT").as_deref())),
            engine: engine_settings(settings)?,
        })
    }
}

/// The webhook engine from [`WebhookSettings::read`]`(settings)`.
pub fn build_webhook_engine(
    settings: &Settings,
    sdk: &aws_config::SdkConfig,
    policy: Arc<Policy>,
    clock: Arc<dyn Clock>,
) -> Result<WebhookEngine, InitError> {
    Ok(webhook_engine_from(
        WebhookSettings::read(settings)?,
        sdk,
        policy,
        clock,
    ))
}

/// The store and the timers; the SDK clients connect lazily.
pub fn webhook_engine_from(
    function: WebhookSettings,
    sdk: &aws_config::SdkConfig,
    policy: Arc<Policy>,
    clock: Arc<dyn Clock>,
) -> WebhookEngine {
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), function.table);
    let timers = SchedulerTimers::new(aws_sdk_scheduler::Client::new(sdk), function.scheduler);
    Engine::new(policy, store, timers, NoDelivery, clock).with_settings(function.engine)
}

/// Everything the engine of a function is built from, read once from its settings (the
/// environment plus the fetched secrets). Each error names the variable to fix.
#[derive(Debug, Clone)]
pub struct FunctionSettings {
    /// `TABLE_NAME`.
    pub table: String,
    /// `SCHEDULE_GROUP`, `ESCALATE_FUNCTION_ARN`, `SCHEDULER_ROLE_ARN`, `SCHEDULER_DLQ_ARN`.
    pub scheduler: SchedulerConfig,
    /// `SES_FROM_ADDRESS`, `SUPPORT_MAILBOX`, `SES_CONFIGURATION_SET`; `None`: no e-mail is sent.
    pub ses: Option<SesConfig>,
    /// `PAGERDUTY_ROUTING_KEY`, `PAGERDUTY_EVENTS_URL`, `SLACK_WEBHOOK_URL`.
    pub notifiers: NotifierSettings,
    /// `INTERCOM_ACCESS_TOKEN`, `INTERCOM_API_URL`, `INTERCOM_ADMIN_ID`: replies in chats.
    pub intercom_chat: IntercomChatSettings,
    /// `POLICY_FILE`, relative to `LAMBDA_TASK_ROOT`; `None`: the built-in default policy.
    pub policy_file: Option<PathBuf>,
    /// `DELIVERY_FIRST_RETRY_SECONDS`, `DELIVERY_MAX_RETRY_SECONDS`, `RETRY_AFTER_CAP_SECONDS`,
    /// `DELIVERY_MAX_AGE_HOURS`; the defaults where unset.
    pub engine: EngineSettings,
    /// `EVENT_BUS_NAME` (with `PUBLIC_BASE_URL` for the case links): where SLA events go.
    pub event_bus: Option<String>,
    /// `PUBLIC_BASE_URL`: the deployment's address, for links to case pages.
    pub public_base_url: Option<String>,
}

impl FunctionSettings {
    pub fn read(settings: &Settings) -> Result<Self, InitError> {
        let lookup = settings.lookup();
        Ok(Self {
            table: settings.require(TABLE_NAME_VAR)?,
            scheduler: SchedulerConfig::from_lookup(&lookup)
                .map_err(InitError::config("scheduler"))?,
            ses: SesConfig::from_lookup(&lookup).map_err(InitError::config("ses"))?,
            event_bus: settings.get(EVENT_BUS_VAR),
            public_base_url: settings.get("PUBLIC_BASE_URL"),
            notifiers: NotifierSettings::from_lookup(&lookup)
                .map_err(InitError::config("notify"))?,
            intercom_chat: IntercomChatSettings::from_lookup(&lookup)
                .map_err(InitError::config("intercom api"))?,
            policy_file: settings
                .get(POLICY_FILE_VAR)
                .map(|file| policy_path(&file, settings.get("LAMBDA_TASK_ROOT").as_deref())),
            engine: engine_settings(settings)?,
        })
    }
}

/// The engine's settings; SLA events are decided (in every function, so the webhooks' decisions
/// carry theirs too) when `EVENT_BUS_NAME` names a bus to publish them to.
fn engine_settings(settings: &Settings) -> Result<EngineSettings, InitError> {
    let mut engine =
        EngineSettings::from_lookup(&settings.lookup()).map_err(InitError::config("engine"))?;
    engine.publish_sla_events = settings.get(EVENT_BUS_VAR).is_some();
    Ok(engine)
}

/// `policy_file::default_policy()` unless `POLICY_FILE` names a file packaged with the function.
pub fn load_policy(settings: &Settings) -> Result<Policy, InitError> {
    let file = settings
        .get(POLICY_FILE_VAR)
        .map(|file| policy_path(&file, settings.get("LAMBDA_TASK_ROOT").as_deref()));
    load_policy_file(file.as_deref())
}

fn load_policy_file(file: Option<&Path>) -> Result<Policy, InitError> {
    match file {
        None => policy_file::default_policy().map_err(|source| InitError::Policy {
            source_name: String::from("the built-in default policy"),
            source,
        }),
        Some(path) => {
            let policy = policy_file::load_policy(path).map_err(|source| InitError::Policy {
                source_name: format!("{POLICY_FILE_VAR}={}", path.display()),
                source,
            })?;
            info!(policy_file = %path.display(), "policy loaded");
            Ok(policy)
        }
    }
}

fn policy_path(file: &str, task_root: Option<&str>) -> PathBuf {
    let path = Path::new(file);
    match task_root {
        Some(root) if path.is_relative() => Path::new(root).join(path),
        _ => path.to_owned(),
    }
}

/// The engine over DynamoDB, EventBridge Scheduler, SES, PagerDuty and Slack, from
/// [`FunctionSettings::read`]`(settings)`.
pub fn build_engine(
    settings: &Settings,
    sdk: &aws_config::SdkConfig,
    policy: Arc<Policy>,
    clock: Arc<dyn Clock>,
) -> Result<LambdaEngine, InitError> {
    engine_from(FunctionSettings::read(settings)?, sdk, policy, clock)
}

/// The engine from typed settings. The SDK clients are built here, once; they connect lazily.
pub fn engine_from(
    function: FunctionSettings,
    sdk: &aws_config::SdkConfig,
    policy: Arc<Policy>,
    clock: Arc<dyn Clock>,
) -> Result<LambdaEngine, InitError> {
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), function.table);
    let timers = SchedulerTimers::new(aws_sdk_scheduler::Client::new(sdk), function.scheduler);
    let ses = aws_sdk_sesv2::Client::new(sdk);
    let mailer = match function.ses {
        Some(config) => SesMailer::new(ses, config),
        None => {
            warn!("SES_FROM_ADDRESS is not configured: customer e-mails are recorded, not sent");
            SesMailer::not_configured(ses)
        }
    };
    let records = Arc::new(notify::SystemsOfRecord::from_configs(
        function.notifiers.zendesk.clone(),
        function.intercom_chat.api.clone(),
        notify::http_client()?,
    ));
    let chat = IntercomChatReplies::new(function.intercom_chat, notify::http_client()?);
    let mailer = mailer.with_language(policy.chat.language);
    let events = function.event_bus.map(|bus| {
        EventBridgePublisher::new(
            aws_sdk_eventbridge::Client::new(sdk),
            bus,
            function.public_base_url,
        )
    });
    let notifiers = function
        .notifiers
        .notifiers(mailer)?
        .with_chat(chat)
        .with_events(events);
    let metrics = Arc::new(emf::EmfMetrics::stdout(Arc::clone(&clock)));
    Ok(Engine::new(policy, store, timers, notifiers, clock)
        .with_settings(function.engine)
        .with_metrics(metrics)
        .with_system_of_record(records))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relative_policy_file_is_read_from_the_task_root() {
        assert_eq!(
            policy_path("policy.toml", Some("/var/task")),
            Path::new("/var/task/policy.toml")
        );
        assert_eq!(
            policy_path("/opt/policy.toml", Some("/var/task")),
            Path::new("/opt/policy.toml")
        );
        assert_eq!(policy_path("policy.toml", None), Path::new("policy.toml"));
    }

    #[test]
    fn without_policy_file_the_default_policy_is_used_and_a_bad_file_is_named() {
        assert!(load_policy(&Settings::default()).is_ok());
        let settings = Settings::from_pairs([(POLICY_FILE_VAR, "/nonexistent/policy.toml")]);
        let message = load_policy(&settings)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            message.contains("POLICY_FILE=/nonexistent/policy.toml"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn a_webhook_engine_reads_no_notifier_setting_and_never_sends() {
        let settings = Settings::from_pairs([
            ("TABLE_NAME", "cases"),
            ("SCHEDULE_GROUP", "timers"),
            (
                "ESCALATE_FUNCTION_ARN",
                "arn:aws:lambda:eu-central-1:123456789012:function:escalate",
            ),
            (
                "SCHEDULER_ROLE_ARN",
                "arn:aws:iam::123456789012:role/scheduler",
            ),
            (
                "SCHEDULER_DLQ_ARN",
                "arn:aws:sqs:eu-central-1:123456789012:scheduler-dlq",
            ),
            // Settings only a delivering function reads: invalid here, and not read.
            ("SLACK_WEBHOOK_URL", "hooks.slack.com/s3cret"),
            ("SES_FROM_ADDRESS", "support@acme.example"),
        ]);
        assert!(
            FunctionSettings::read(&settings).is_err(),
            "a delivering function refuses these settings"
        );
        let sdk = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("eu-central-1"))
            .build();
        let policy = Arc::new(policy_file::default_policy().unwrap());
        let engine = build_webhook_engine(&settings, &sdk, policy, Arc::new(SystemClock));
        assert!(engine.is_ok(), "{:?}", engine.err());

        let effect = domain::case::Effect::ResolvePage {
            alert: domain::case::AlertKey::Dispatch,
        };
        let case = domain::case::CaseId::parse("zendesk-1").unwrap();
        let sent = app::Deliver::deliver(&NoDelivery, &case, &effect).await;
        assert!(
            matches!(sent, Err(app::ports::NotifyError::Retryable { .. })),
            "{sent:?}"
        );
    }

    #[test]
    fn function_settings_are_read_once_and_each_error_names_its_variable() {
        let complete = [
            ("TABLE_NAME", "cases"),
            ("SCHEDULE_GROUP", "timers"),
            (
                "ESCALATE_FUNCTION_ARN",
                "arn:aws:lambda:eu-central-1:123456789012:function:escalate",
            ),
            (
                "SCHEDULER_ROLE_ARN",
                "arn:aws:iam::123456789012:role/scheduler",
            ),
            (
                "SCHEDULER_DLQ_ARN",
                "arn:aws:sqs:eu-central-1:123456789012:scheduler-dlq",
            ),
            ("POLICY_FILE", "policy.toml"),
            ("LAMBDA_TASK_ROOT", "/var/task"),
        ];
        let read = FunctionSettings::read(&Settings::from_pairs(complete)).unwrap();
        assert_eq!(read.table, "cases");
        assert!(read.ses.is_none(), "no sender: e-mail is off");
        assert!(read.notifiers.slack.webhook_url.is_none());
        assert_eq!(
            read.policy_file.as_deref(),
            Some(Path::new("/var/task/policy.toml"))
        );

        let error = |pairs: &[(&str, &str)]| {
            let mut settings = Settings::from_pairs(complete);
            for (name, value) in pairs {
                settings.set(*name, *value);
            }
            FunctionSettings::read(&settings)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(error(&[("TABLE_NAME", " ")]).contains("TABLE_NAME"));
        assert!(error(&[("SCHEDULER_DLQ_ARN", "")]).contains("SCHEDULER_DLQ_ARN"));
        assert!(error(&[("SES_FROM_ADDRESS", "support@acme.example")]).contains("SUPPORT_MAILBOX"));
        let slack = error(&[("SLACK_WEBHOOK_URL", "hooks.slack.com/s3cret")]);
        assert!(
            slack.contains("SLACK_WEBHOOK_URL") && !slack.contains("s3cret"),
            "{slack}"
        );
    }
}
