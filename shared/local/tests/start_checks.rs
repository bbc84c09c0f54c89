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
    let mut env = Vec::new();
    if let Some(url) = public_base_url {
        env.push(("PUBLIC_BASE_URL", url));
    }
    options_with(listen, data_dir, &env).await
}

async fn options_with(listen: &str, data_dir: &Path, env: &[(&str, &str)]) -> ServerOptions {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    ServerOptions {
        listener: TcpListener::bind(listen).await.unwrap(),
        data_dir: data_dir.to_owned(),
        policy: policy_file::default_policy().unwrap(),
        clock: Arc::new(ManualClock::new("2026-03-02T09:00:00Z".parse().unwrap()))
            as Arc<dyn Clock>,
        lookup: Arc::new(move |name: &str| {
            env.iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
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
async fn beyond_loopback_the_server_refuses_to_start_without_a_read_token() {
    let data = tempfile::tempdir().unwrap();

    let error = start(options("0.0.0.0:0", data.path(), Some("https://sla.example.com")).await)
        .await
        .expect_err("no SUPPORT_SLA_READ_TOKEN beyond loopback");

    assert!(
        error.to_string().contains("SUPPORT_SLA_READ_TOKEN"),
        "{error}"
    );
}

#[tokio::test]
async fn beyond_loopback_the_server_starts_with_public_base_url_and_a_read_token() {
    let data = tempfile::tempdir().unwrap();

    let server = start(
        options_with(
            "0.0.0.0:0",
            data.path(),
            &[
                ("PUBLIC_BASE_URL", "https://sla.example.com/support"),
                ("SUPPORT_SLA_READ_TOKEN", "read-token-1"),
            ],
        )
        .await,
    )
    .await
    .unwrap();

    server.shutdown().await.unwrap();
}

/// The status code of one HTTP/1.1 request to the server, written by hand: the local crate's
/// tests have no HTTP client, and this is all they need.
async fn status_of(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    auth: Option<&str>,
) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", addr.port()))
        .await
        .unwrap();
    let auth = auth.map_or(String::new(), |value| format!("Authorization: {value}\r\n"));
    let request =
        format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response);
    response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {response:?}"))
}

#[tokio::test]
async fn with_a_read_token_reads_need_it_and_webhooks_do_not() {
    let data = tempfile::tempdir().unwrap();
    let server = start(
        options_with(
            "0.0.0.0:0",
            data.path(),
            &[
                ("PUBLIC_BASE_URL", "https://sla.example.com"),
                ("SUPPORT_SLA_READ_TOKEN", "read-token-1"),
            ],
        )
        .await,
    )
    .await
    .unwrap();
    let addr = server.addr();
    // "reader:read-token-1" in base64: the token as the password of HTTP Basic auth.
    let basic = "Basic cmVhZGVyOnJlYWQtdG9rZW4tMQ==";

    assert_eq!(status_of(addr, "GET", "/api/cases", None).await, 401);
    assert_eq!(
        status_of(addr, "GET", "/api/cases", Some("Bearer wrong")).await,
        401
    );
    assert_eq!(
        status_of(addr, "GET", "/api/cases", Some("Bearer read-token-1")).await,
        200
    );
    assert_eq!(status_of(addr, "GET", "/api/cases", Some(basic)).await, 200);
    assert_eq!(
        status_of(addr, "GET", "/api/reports/compliance?month=2026-03", None).await,
        401
    );
    assert_eq!(status_of(addr, "GET", "/healthz", None).await, 200);
    // Intercom's HEAD check of a webhook URL: a webhook route, signature-only, no token.
    assert_eq!(
        status_of(addr, "HEAD", "/webhooks/intercom", None).await,
        200
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn on_loopback_without_a_token_reads_stay_open() {
    let data = tempfile::tempdir().unwrap();
    let server = start(options("127.0.0.1:0", data.path(), None).await)
        .await
        .unwrap();

    assert_eq!(
        status_of(server.addr(), "GET", "/api/cases", None).await,
        200
    );
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
