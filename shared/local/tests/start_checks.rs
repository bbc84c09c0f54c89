//! What `local::runtime::start` refuses, and the permissions of what it creates.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::EngineSettings;
use app::ports::{Clock, ManualClock};
use local::runtime::{ServerOptions, start};
use local::store::SqliteStore;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

async fn options(listen: &str, data_dir: &Path, public_base_url: Option<&str>) -> ServerOptions {
    let public_base_url = public_base_url.map(str::to_owned);
    ServerOptions {
        listener: TcpListener::bind(listen).await.unwrap(),
        data_dir: data_dir.to_owned(),
        policy: policy_file::default_policy().unwrap(),
        clock: Arc::new(ManualClock::new("2026-03-02T09:00:00Z".parse().unwrap()))
            as Arc<dyn Clock>,
        lookup: Arc::new(move |name: &str| {
            (name == "PUBLIC_BASE_URL")
                .then(|| public_base_url.clone())
                .flatten()
        }),
        due_loop_idle: Duration::from_millis(50),
        engine: EngineSettings::default(),
    }
}

#[tokio::test]
async fn beyond_loopback_the_server_refuses_to_start_without_public_base_url() {
    let data = tempfile::tempdir().unwrap();

    let error = start(options("0.0.0.0:0", data.path(), None).await)
        .await
        .expect_err("no PUBLIC_BASE_URL beyond loopback");

    assert!(error.to_string().contains("PUBLIC_BASE_URL"), "{error}");
}

#[tokio::test]
async fn beyond_loopback_the_server_starts_with_public_base_url() {
    let data = tempfile::tempdir().unwrap();

    let server = start(
        options(
            "0.0.0.0:0",
            data.path(),
            Some("https://sla.example.com/support"),
        )
        .await,
    )
    .await
    .unwrap();

    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_empty_database_file_is_refused_and_left_as_it_is() {
    let data = tempfile::tempdir().unwrap();
    let database = data.path().join(SqliteStore::FILE_NAME);
    std::fs::write(&database, b"").unwrap();

    let error = start(options("127.0.0.1:0", data.path(), None).await)
        .await
        .expect_err("an empty store file");

    assert!(error.to_string().contains("empty file"), "{error}");
    assert_eq!(std::fs::metadata(&database).unwrap().len(), 0);
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_directory_is_the_owners_alone() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("data");
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;

    let server = start(options("127.0.0.1:0", &data, None).await)
        .await
        .unwrap();

    assert_eq!(mode(&data), 0o700);
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
    assert!(data.join(SqliteStore::FILE_NAME).exists());
    server.shutdown().await.unwrap();
}
