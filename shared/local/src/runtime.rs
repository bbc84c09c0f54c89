//! The whole system in one process: SQLite store, due loop, webhooks and read API over HTTP,
//! PagerDuty and Slack over HTTP, e-mail logged. `supportctl serve` runs this; the end-to-end
//! tests start it in-process with a clock they control.

use crate::dev_secrets::DevSecrets;
use crate::due_loop::{DueLoopTimers, run_due_loop};
use crate::store::SqliteStore;
use api::{AppState, Webhooks};
use app::ports::{Clock, StoreError};
use app::{Engine, EngineSettings, Notifiers};
use domain::policy::Policy;
use notify::{LogMailer, PagerDutyClient, PagerDutyConfig, SlackConfig, SlackWebhook};
use providers::{
    Classifier, IntercomConfig, IntercomHandler, TwilioConfig, TwilioHandler, ZendeskConfig,
    ZendeskHandler,
};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{info, warn};

pub type LocalNotifiers = Notifiers<PagerDutyClient, SlackWebhook, LogMailer>;
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
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("another server uses the data directory {0} (it holds {LOCK_FILE})")]
    DataDirInUse(PathBuf),
    #[error("cannot serve: {0}")]
    Io(#[from] std::io::Error),
}

/// Held for as long as the server runs: one server per data directory.
const LOCK_FILE: &str = "server.lock";

fn lock_data_dir(dir: &std::path::Path) -> Result<std::fs::File, StartError> {
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| StartError::DataDir {
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
    shutdown: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    due_loop: JoinHandle<()>,
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
        engine: settings,
    } = options;
    let addr = listener.local_addr()?;
    std::fs::create_dir_all(&data_dir).map_err(|source| StartError::DataDir {
        dir: data_dir.clone(),
        source,
    })?;
    let secrets = DevSecrets::load_or_create(&data_dir).map_err(|source| StartError::DataDir {
        dir: data_dir.clone(),
        source,
    })?;
    let public_base_url = format!("http://{addr}");
    let setting = {
        let lookup = Arc::clone(&lookup);
        move |name: &str| -> Option<String> {
            lookup(name)
                .filter(|value| !value.trim().is_empty())
                .or_else(|| secrets.get(name))
                .or_else(|| (name == "PUBLIC_BASE_URL").then(|| public_base_url.clone()))
        }
    };

    let directory_lock = lock_data_dir(&data_dir)?;
    let store = SqliteStore::open(&data_dir).map_err(|source| StartError::Store {
        dir: data_dir.clone(),
        source,
    })?;
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
    let webhooks = webhooks(&policy, &setting)?;
    let notifiers = notifiers(&setting)?;
    let timers = DueLoopTimers::new();
    let engine = Arc::new(
        Engine::new(
            Arc::new(policy),
            Arc::new(store),
            timers.clone(),
            notifiers,
            clock,
        )
        .with_settings(settings),
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
    let router = api::router(state);
    let mut server_stopped = stopped;
    let server = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = server_stopped.wait_for(|stop| *stop).await;
            })
            .await
    });
    info!(%addr, data_dir = %data_dir.display(), "support-sla is listening");
    Ok(RunningServer {
        addr,
        engine,
        timers,
        shutdown,
        server,
        due_loop,
        _directory_lock: directory_lock,
    })
}

fn webhooks(
    policy: &Policy,
    setting: &impl Fn(&str) -> Option<String>,
) -> Result<Webhooks, StartError> {
    let classifier = Classifier::from(policy);
    let config_error = |provider: &str, error: providers::ConfigError| {
        StartError::Config(format!("{provider}: {error}"))
    };
    let zendesk = ZendeskConfig::from_env(setting).map_err(|e| config_error("zendesk", e))?;
    let intercom = IntercomConfig::from_env(setting).map_err(|e| config_error("intercom", e))?;
    let twilio = TwilioConfig::from_env(setting).map_err(|e| config_error("twilio", e))?;
    Ok(Webhooks {
        zendesk: Some(ZendeskHandler::new(zendesk, classifier.clone())),
        intercom: Some(IntercomHandler::new(intercom, classifier.clone())),
        twilio: Some(TwilioHandler::new(twilio, classifier)),
    })
}

fn notifiers(setting: &impl Fn(&str) -> Option<String>) -> Result<LocalNotifiers, StartError> {
    let config_error = |error: notify::ConfigError| StartError::Config(error.to_string());
    let http = notify::http_client().map_err(config_error)?;
    let pager = PagerDutyClient::new(
        PagerDutyConfig::from_lookup(setting).map_err(config_error)?,
        http.clone(),
    );
    let slack = SlackWebhook::new(
        SlackConfig::from_lookup(setting).map_err(config_error)?,
        http,
    );
    if !pager.is_configured() {
        warn!("PAGERDUTY_ROUTING_KEY is not set: pages are recorded, not sent");
    }
    if !slack.is_configured() {
        warn!("SLACK_WEBHOOK_URL is not set: Slack messages are recorded, not sent");
    }
    Ok(Notifiers {
        pager,
        slack,
        mailer: LogMailer::from_lookup(setting),
    })
}

impl RunningServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn engine(&self) -> &Arc<LocalEngine> {
        &self.engine
    }

    /// Make the due loop look at the store now.
    pub fn wake_timers(&self) {
        self.timers.wake();
    }

    /// Stop accepting requests, let running ones finish, stop the due loop.
    pub async fn shutdown(self) -> Result<(), StartError> {
        let _ = self.shutdown.send(true);
        let served = self
            .server
            .await
            .map_err(|error| StartError::Io(std::io::Error::other(error)))?;
        let _ = self.due_loop.await;
        info!("support-sla stopped");
        Ok(served?)
    }
}
