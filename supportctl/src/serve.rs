//! `supportctl serve`: the whole system in one process, until SIGINT or SIGTERM.

use app::EngineSettings;
use app::ports::SystemClock;
use local::runtime::{ServerOptions, StartError, start};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on; loopback unless you say otherwise.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Directory of the embedded store (created if missing).
    #[arg(long, default_value = "data")]
    data: PathBuf,
    /// Policy file (default: the built-in default policy, the same as infra/policy.toml).
    #[arg(long)]
    policy: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("--policy: {0}")]
    Policy(#[from] policy_file::PolicyError),
    #[error("--listen {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("invalid delivery settings: {0}")]
    EngineSettings(#[from] env_config::ConfigError),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

pub fn run(args: &Args) -> Result<(), ServeError> {
    let policy = match &args.policy {
        Some(path) => policy_file::load_policy(path)?,
        None => policy_file::default_policy()?,
    };
    let engine = EngineSettings::from_lookup(&|name: &str| std::env::var(name).ok())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    runtime.block_on(async {
        let listener = TcpListener::bind(args.listen)
            .await
            .map_err(|source| ServeError::Bind {
                addr: args.listen,
                source,
            })?;
        let server = start(ServerOptions {
            listener,
            data_dir: args.data.clone(),
            policy,
            clock: Arc::new(SystemClock),
            lookup: Arc::new(|name: &str| std::env::var(name).ok()),
            due_loop_idle: Duration::from_secs(1),
            engine,
        })
        .await?;
        shutdown_signal().await;
        tracing::info!("shutting down");
        server.shutdown().await?;
        Ok(())
    })
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
