//! The whole system in one process: SQLite store, due loop, webhooks and read API over HTTP,
//! PagerDuty and Slack over HTTP, e-mail logged. `supportctl serve` runs this; the end-to-end
//! tests start it in-process with a clock they control.

use crate::delivery_workers::{DeliveryWakers, WorkerSettings, spawn_delivery_workers};
use crate::dev_secrets::DevSecrets;
use crate::due_loop::{DueLoopTimers, run_due_loop};
use crate::http_server::{self, ServerLimits};
use crate::store::{Pruned, SqliteStore};
use api::{AppState, READ_TOKEN_VARIABLE, ReadAccess, ReadState, Webhooks};
use app::ports::{Clock, StoreError};
use app::{Engine, EngineSettings, Notifiers};
use domain::jiff::SignedDuration;
use domain::policy::Policy;
use notify::{
    ConfigError, EventsWebhook, EventsWebhookConfig, HttpClientError, IntercomChatReplies,
    IntercomChatSettings, LocalMailer, NotifierSettings, PagerDutyClient, SlackWebhook,
    ZendeskTickets,
};
use providers::{
    Classifier, IntercomConfig, IntercomHandler, PagerDutyConfig, PagerDutyHandler, TwilioConfig,
    TwilioHandler, ZendeskConfig, ZendeskHandler,
};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{info, warn};

pub type LocalNotifiers = Notifiers<
    PagerDutyClient,
    SlackWebhook,
    LocalMailer,
    ZendeskTickets,
    IntercomChatReplies,
    Option<EventsWebhook>,
>;
pub type LocalEngine = Engine<Arc<SqliteStore>, DueLoopTimers, LocalNotifiers>;

/// Reads a setting by name (the process environment in production, a map in tests).
pub type Lookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

pub struct ServerOptions {
    pub listener: TcpListener,
    pub data_dir: PathBuf,
    pub policy: Policy,
    pub clock: Arc<dyn Clock>,
    pub lookup: Lookup,
    /// The longest the due loop sleeps without looking at the store.
    pub due_loop_idle: Duration,
    pub engine: EngineSettings,
}

impl std::fmt::Debug for ServerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerOptions")
            .field("data_dir", &self.data_dir)
            .field("due_loop_idle", &self.due_loop_idle)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the store in {dir}: {source}")]
    Store {
        dir: PathBuf,
        #[source]
        source: StoreError,
    },
    #[error("cannot prepare the data directory {dir}: {source}")]
    DataDir {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A setting is missing or invalid; the error names the variable.
    #[error("invalid configuration of {component}: {source}")]
    Config {
        component: &'static str,
        #[source]
        source: ConfigError,
    },
    #[error(transparent)]
    HttpClient(#[from] HttpClientError),
    #[error(
        "PUBLIC_BASE_URL is not set, and the server listens on {0}, beyond loopback: Twilio signs \
         the URL it calls, so set PUBLIC_BASE_URL to the URL Twilio is given"
    )]
    PublicBaseUrlRequired(SocketAddr),
    #[error(
        "SUPPORT_SLA_READ_TOKEN is not set, and the server listens on {0}, beyond loopback: the \
         board and the read API show subjects, caller numbers and timelines, so set \
         SUPPORT_SLA_READ_TOKEN to the token readers must present"
    )]
    ReadTokenRequired(SocketAddr),
    #[error(
        "the store {0} is an empty file: refusing to start on it (it is not replaced); move it \
         away to start with a new store, or restore it from a backup"
    )]
    EmptyStore(PathBuf),
    #[error("another server uses the data directory {0} (it holds {LOCK_FILE})")]
    DataDirInUse(PathBuf),
    #[error("cannot serve: {0}")]
    Io(#[from] std::io::Error),
}

/// The data directory holds the cases and the generated secrets: its owner's alone (0700).
fn prepare_data_dir(dir: &std::path::Path) -> Result<(), StartError> {
    let failed = |source| StartError::DataDir {
        dir: dir.to_owned(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(failed)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(failed)?;
    }
    Ok(())
}

/// A zero-length database file is a store lost (a failed copy, a full disk): SQLite would
/// silently take it for a new, empty one.
fn refuse_empty_store(dir: &std::path::Path) -> Result<(), StartError> {
    let path = dir.join(SqliteStore::FILE_NAME);
    match std::fs::metadata(&path) {
        Ok(metadata) if metadata.len() == 0 => Err(StartError::EmptyStore(path)),
        _ => Ok(()),
    }
}

/// The database and its WAL files are readable by the owner only (0600).
fn restrict_store_files(dir: &std::path::Path) -> Result<(), StartError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for suffix in ["", "-wal", "-shm"] {
            let path = dir.join(format!("{}{suffix}", SqliteStore::FILE_NAME));
            match std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)) {
                Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                    return Err(StartError::DataDir {
                        dir: dir.to_owned(),
                        source: error,
                    });
                }
                _ => {}
            }
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Held for as long as the server runs: one server per data directory.
const LOCK_FILE: &str = "server.lock";

fn lock_data_dir(dir: &std::path::Path) -> Result<std::fs::File, StartError> {
    let path = dir.join(LOCK_FILE);
    let mut options = std::fs::OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(&path).map_err(|source| StartError::DataDir {
        dir: dir.to_owned(),
        source,
    })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StartError::DataDirInUse(dir.to_owned())),
        Err(std::fs::TryLockError::Error(source)) => Err(StartError::DataDir {
            dir: dir.to_owned(),
            source,
        }),
    }
}

/// A started server; dropping it does not stop it, [`RunningServer::shutdown`] does.
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    engine: Arc<LocalEngine>,
    timers: DueLoopTimers,
    wakers: DeliveryWakers,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    due_loop: JoinHandle<()>,
    delivery_workers: Vec<JoinHandle<()>>,
    pruning: JoinHandle<()>,
    /// The exclusive lock on the data directory, released when the server is dropped.
    _directory_lock: std::fs::File,
}

pub async fn start(options: ServerOptions) -> Result<RunningServer, StartError> {
    let ServerOptions {
        listener,
        data_dir,
        policy,
        clock,
        lookup,
        due_loop_idle,
        engine: engine_settings,
    } = options;
    let addr = listener.local_addr()?;
    // Twilio signs the URL it calls: beyond loopback, `http://<listen address>` is not that URL
    // and every callback would get 401, without a word.
    if !addr.ip().is_loopback() && lookup("PUBLIC_BASE_URL").is_none_or(|url| url.trim().is_empty())
    {
        return Err(StartError::PublicBaseUrlRequired(addr));
    }
    // Reads show what customers wrote: beyond loopback only with the token.
    let read_access =
        ReadAccess::from_token(lookup(READ_TOKEN_VARIABLE).and_then(env_config::Secret::new));
    if !addr.ip().is_loopback() && !read_access.needs_token() {
        return Err(StartError::ReadTokenRequired(addr));
    }
    prepare_data_dir(&data_dir)?;
    let secrets = DevSecrets::load_or_create(&data_dir).map_err(|source| StartError::DataDir {
        dir: data_dir.clone(),
        source,
    })?;
    let settings = Settings::read(&*lookup, &secrets, &format!("http://{addr}"))?;

    let directory_lock = lock_data_dir(&data_dir)?;
    refuse_empty_store(&data_dir)?;
    let store = SqliteStore::open(&data_dir).map_err(|source| StartError::Store {
        dir: data_dir.clone(),
        source,
    })?;
    restrict_store_files(&data_dir)?;
    let released = store
        .release_stale_leases()
        .await
        .map_err(|source| StartError::Store {
            dir: data_dir.clone(),
            source,
        })?;
    if released > 0 {
        warn!(
            released,
            "released outbox leases of a previous run that did not finish"
        );
    }
    let webhooks = settings.webhooks(&policy);
    let records = Arc::new(notify::SystemsOfRecord::from_configs(
        settings.notifiers.zendesk.clone(),
        settings.intercom_chat.api.clone(),
        notify::http_client()?,
    ));
    let notifiers = settings
        .notifiers
        .notifiers(settings.mailer.with_language(policy.chat.language))?
        .with_chat(IntercomChatReplies::new(
            settings.intercom_chat,
            notify::http_client()?,
        ))
        .with_events(
            settings
                .events
                .clone()
                .map(|config| notify::http_client().map(|http| EventsWebhook::new(config, http)))
                .transpose()?,
        );
    // SLA events are decided only when someone receives them.
    let engine_settings = EngineSettings {
        publish_sla_events: engine_settings.publish_sla_events || settings.events.is_some(),
        ..engine_settings
    };
    let timers = DueLoopTimers::new();
    let store = Arc::new(store);
    let pruning_clock = Arc::clone(&clock);
    let policy = Arc::new(policy);
    let reads = ReadState {
        reader: Arc::clone(&store),
        policy: Arc::clone(&policy),
        clock: Arc::clone(&clock),
        access: read_access,
    };
    let wakers = DeliveryWakers::new();
    let metrics = Arc::new(api::PrometheusMetrics::new());
    let metrics_routes = api::metrics_router(
        Arc::clone(&metrics),
        Arc::clone(&store),
        Arc::clone(&clock),
        reads.access.clone(),
    );
    let engine = Arc::new(
        Engine::new(policy, Arc::clone(&store), timers.clone(), notifiers, clock)
            .with_settings(engine_settings)
            .with_delivery_wake(wakers.as_engine_wake())
            .with_metrics(metrics)
            .with_system_of_record(records),
    );
    let state = Arc::new(AppState {
        engine: Arc::clone(&engine),
        webhooks,
        deliver_in_background: true,
    });
    let (shutdown, stopped) = watch::channel(false);
    let due_loop = tokio::spawn(run_due_loop(
        Arc::clone(&engine),
        timers.clone(),
        stopped.clone(),
        due_loop_idle,
    ));
    let delivery_workers = spawn_delivery_workers(
        Arc::clone(&engine),
        wakers.clone(),
        WorkerSettings {
            idle: due_loop_idle,
            ..WorkerSettings::default()
        },
        stopped.clone(),
    );
    let pruning = tokio::spawn(prune_history(
        store,
        pruning_clock,
        settings.retention,
        stopped.clone(),
    ));
    let router = api::router(state, reads).merge(metrics_routes);
    let mut server_stopped = stopped;
    let server = tokio::spawn(http_server::serve(
        listener,
        router,
        ServerLimits::default(),
        async move {
            let _ = server_stopped.wait_for(|stop| *stop).await;
        },
    ));
    info!(%addr, data_dir = %data_dir.display(), "support-sla is listening");
    Ok(RunningServer {
        addr,
        engine,
        timers,
        wakers,
        shutdown,
        server,
        due_loop,
        delivery_workers,
        pruning,
        _directory_lock: directory_lock,
    })
}

/// The default retention of the embedded store's history.
const DEFAULT_RETENTION_DAYS: u64 = 400;

fn retention(setting: &impl Fn(&str) -> Option<String>) -> Result<Duration, StartError> {
    const NAME: &str = "RETENTION_DAYS";
    let days = match env_config::optional(setting, NAME) {
        None => DEFAULT_RETENTION_DAYS,
        Some(text) => text
            .parse::<u64>()
            .ok()
            .filter(|days| (1..=36_500).contains(days))
            .ok_or_else(|| StartError::Config {
                component: "store",
                source: env_config::ConfigError::Invalid {
                    name: NAME,
                    reason: format!("{text:?} is not a number of days from 1 to 36500"),
                },
            })?,
    };
    Ok(Duration::from_secs(days * 24 * 60 * 60))
}

/// How often the embedded store's history is pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(6 * 60 * 60);

/// Prunes what only history needs and is older than `retention`, at start and every
/// [`PRUNE_EVERY`], until the server stops. A failed round is logged and tried again later.
async fn prune_history(
    store: Arc<SqliteStore>,
    clock: Arc<dyn Clock>,
    retention: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    let retention = SignedDuration::try_from(retention).unwrap_or(SignedDuration::MAX);
    loop {
        let before = clock
            .now()
            .checked_sub(retention)
            .unwrap_or(domain::Timestamp::MIN);
        match store.prune(before).await {
            Ok(pruned) if pruned != Pruned::default() => info!(
                events = pruned.events,
                timeline = pruned.timeline,
                outbox = pruned.outbox,
                %before,
                "pruned history older than the retention age"
            ),
            Ok(_) => {}
            Err(error) => warn!(%error, "pruning failed; trying again later"),
        }
        tokio::select! {
            _ = stopped.wait_for(|stop| *stop) => return,
            () = tokio::time::sleep(PRUNE_EVERY) => {}
        }
    }
}

/// What the local server reads from its environment, once: the webhook secrets (each falls
/// back to the data directory's generated `dev-secrets.env`), `PUBLIC_BASE_URL` (default: the
/// listen address), `ZENDESK_SUBDOMAIN`, the notifier destinations and `SUPPORT_MAILBOX`.
#[derive(Debug, Clone)]
pub struct Settings {
    pub zendesk: ZendeskConfig,
    pub intercom: IntercomConfig,
    pub twilio: TwilioConfig,
    /// `PAGERDUTY_WEBHOOK_SECRET` (optional): without it `/webhooks/pagerduty` answers 503.
    pub pagerduty: Option<PagerDutyConfig>,
    pub notifiers: NotifierSettings,
    /// `INTERCOM_ACCESS_TOKEN`, `INTERCOM_API_URL`, `INTERCOM_ADMIN_ID`: replies in chats.
    pub intercom_chat: IntercomChatSettings,
    /// `SMTP_URL` (with `SMTP_FROM`, `SUPPORT_MAILBOX`): customer e-mails over SMTP; unset:
    /// rendered and logged, not sent.
    pub mailer: LocalMailer,
    /// `RETENTION_DAYS` (default 400): how long applied event ids, timelines and delivered
    /// outbox items are kept.
    pub retention: Duration,
    /// `EVENTS_WEBHOOK_URL` with `EVENTS_WEBHOOK_SECRET`: where SLA events are POSTed, signed.
    pub events: Option<EventsWebhookConfig>,
}

impl Settings {
    pub fn read(
        lookup: &dyn Fn(&str) -> Option<String>,
        dev_secrets: &DevSecrets,
        default_public_base_url: &str,
    ) -> Result<Self, StartError> {
        let setting = |name: &str| -> Option<String> {
            lookup(name)
                .filter(|value| !value.trim().is_empty())
                .or_else(|| dev_secrets.get(name))
                .or_else(|| (name == "PUBLIC_BASE_URL").then(|| default_public_base_url.to_owned()))
        };
        let config = |component| move |source| StartError::Config { component, source };
        Ok(Self {
            zendesk: ZendeskConfig::from_env(setting).map_err(config("zendesk"))?,
            intercom: IntercomConfig::from_env(setting).map_err(config("intercom"))?,
            twilio: TwilioConfig::from_env(setting).map_err(config("twilio"))?,
            pagerduty: PagerDutyConfig::from_env_if_set(setting).map_err(config("pagerduty"))?,
            notifiers: NotifierSettings::from_lookup(setting).map_err(config("notify"))?,
            intercom_chat: IntercomChatSettings::from_lookup(setting)
                .map_err(config("intercom api"))?,
            mailer: LocalMailer::from_lookup(setting).map_err(config("smtp"))?,
            retention: retention(&setting)?,
            events: EventsWebhookConfig::from_lookup(setting, setting("PUBLIC_BASE_URL"))
                .map_err(config("events webhook"))?,
        })
    }

    /// Every provider's handler, classified by `policy`'s rules.
    fn webhooks(&self, policy: &Policy) -> Webhooks {
        let classifier = Classifier::from(policy);
        Webhooks {
            zendesk: Some(ZendeskHandler::new(
                self.zendesk.clone(),
                classifier.clone(),
            )),
            intercom: Some(IntercomHandler::new(
                self.intercom.clone(),
                classifier.clone(),
            )),
            twilio: Some(TwilioHandler::new(self.twilio.clone(), classifier)),
            pagerduty: self.pagerduty.clone().map(PagerDutyHandler::new),
        }
    }
}

impl RunningServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn engine(&self) -> &Arc<LocalEngine> {
        &self.engine
    }

    /// Make the due loop and the delivery workers look at the store now.
    pub fn wake_timers(&self) {
        self.timers.wake();
        self.wakers.wake_all();
    }

    /// Stop accepting requests, let running ones finish, stop the due loop.
    pub async fn shutdown(self) -> Result<(), StartError> {
        let _ = self.shutdown.send(true);
        let served = self
            .server
            .await
            .map_err(|error| StartError::Io(std::io::Error::other(error)))?;
        let _ = self.due_loop.await;
        for worker in self.delivery_workers {
            let _ = worker.await;
        }
        let _ = self.pruning.await;
        info!("support-sla stopped");
        Ok(served?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_is_kept_400_days_unless_retention_days_says_otherwise() {
        let days = |n: u64| Duration::from_secs(n * 24 * 60 * 60);
        assert_eq!(retention(&|_: &str| None).unwrap(), days(400));
        assert_eq!(
            retention(&|_: &str| Some("30".to_owned())).unwrap(),
            days(30)
        );
        for bad in ["0", "-5", "a year", "99999999"] {
            let error = retention(&|_: &str| Some(bad.to_owned())).unwrap_err();
            assert!(
                error.to_string().contains("RETENTION_DAYS"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn settings_fall_back_to_the_generated_secrets_and_errors_name_the_variable() {
        let dir = tempfile::tempdir().unwrap();
        let dev = DevSecrets::load_or_create(dir.path()).unwrap();
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        // A blank variable counts as unset: the generated secret is used.
        let settings = Settings::read(
            &env(&[("ZENDESK_WEBHOOK_SECRET", " "), ("SLACK_WEBHOOK_URL", "")]),
            &dev,
            "http://127.0.0.1:8080",
        )
        .unwrap();
        assert_eq!(
            Some(settings.zendesk.secret.expose().to_owned()),
            dev.get("ZENDESK_WEBHOOK_SECRET")
        );
        assert!(settings.notifiers.slack.webhook_url.is_none());

        let error = Settings::read(
            &env(&[("PUBLIC_BASE_URL", "ftp://example.com")]),
            &dev,
            "http://127.0.0.1:8080",
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("PUBLIC_BASE_URL"), "{error}");
        let error = Settings::read(
            &env(&[("PAGERDUTY_EVENTS_URL", "not a url")]),
            &dev,
            "http://127.0.0.1:8080",
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("PAGERDUTY_EVENTS_URL"), "{error}");
    }
}
