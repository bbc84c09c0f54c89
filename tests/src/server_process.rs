//! `supportctl serve` as a child process, for the tests that kill it (SIGKILL: no shutdown, no
//! flush), restart it on the same data directory, or read its resident memory.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running `supportctl serve`; killed when dropped.
#[derive(Debug)]
pub struct ServerProcess {
    binary: PathBuf,
    data: PathBuf,
    port: u16,
    env: Vec<(String, String)>,
    child: Option<Child>,
    /// `http://127.0.0.1:<port>`, the same across restarts.
    pub url: String,
    starts: usize,
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

impl ServerProcess {
    /// Start `binary serve` on `127.0.0.1:<port>` with `data` as its data directory and `env`
    /// added to the environment, and wait until `/healthz` answers.
    pub async fn start(binary: &Path, data: &Path, port: u16, env: &[(&str, String)]) -> Self {
        let mut server = Self {
            binary: binary.to_owned(),
            data: data.to_owned(),
            port,
            env: env
                .iter()
                .map(|(name, value)| ((*name).to_owned(), value.clone()))
                .collect(),
            child: None,
            url: format!("http://127.0.0.1:{port}"),
            starts: 0,
        };
        server.restart().await;
        server
    }

    /// Start it again (after [`ServerProcess::kill`]); each run logs to `server-<n>.log` in the
    /// data directory.
    pub async fn restart(&mut self) {
        assert!(self.child.is_none(), "the server is still running");
        self.starts += 1;
        let log = std::fs::File::create(self.log_path(self.starts))
            .map(Stdio::from)
            .unwrap_or_else(|_| Stdio::null());
        let child = Command::new(&self.binary)
            .args(["serve", "--listen", &format!("127.0.0.1:{}", self.port)])
            .arg("--data")
            .arg(&self.data)
            .envs(self.env.iter().map(|(name, value)| (name, value)))
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn supportctl serve");
        self.child = Some(child);
        let client = reqwest::Client::new();
        for _ in 0..400 {
            if client
                .get(format!("{}/healthz", self.url))
                .send()
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.kill();
        panic!(
            "the server did not start; its log:\n{}",
            std::fs::read_to_string(self.log_path(self.starts)).unwrap_or_default()
        );
    }

    /// SIGKILL, and wait for the process to be gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Resident memory in bytes (`VmRSS` of `/proc/<pid>/status`; Linux only).
    pub fn resident_bytes(&self) -> u64 {
        let pid = self.pid().expect("the server runs");
        let status =
            std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc status");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| {
                value
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map(|kib| kib * 1024)
            .expect("VmRSS in /proc status")
    }

    fn log_path(&self, start: usize) -> PathBuf {
        self.data.join(format!("server-{start}.log"))
    }

    /// Every run's log, for a failure message.
    pub fn logs(&self) -> String {
        (1..=self.starts)
            .map(|start| {
                let log = std::fs::read_to_string(self.log_path(start)).unwrap_or_default();
                format!("--- run {start} ---\n{log}")
            })
            .collect()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
