//! The SDK configuration and the adapters' settings.
//!
//! [`load_sdk_config`] loads the configuration with `BehaviorVersion::latest()`: region,
//! credentials and retries from the environment, and `AWS_ENDPOINT_URL` when set, so the same
//! code talks to moto server in tests without any change. A Lambda function loads it once per
//! execution environment (`lambda`); the clients are built from it with `Client::new`.
//!
//! The SDK's requests go through [`sdk_http_client`]: reqwest with the process's one TLS
//! configuration ([`notify::tls_config`], compiled-in roots), instead of the SDK's own
//! hyper/rustls client, which loaded and parsed the native root store at start. One HTTP/TLS
//! stack per binary: a faster cold start and a smaller binary.

use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// A setting is missing or unusable, and the lookups: the workspace's own, from `env_config`.
pub use env_config::{ConfigError, optional, required};

/// Load a fresh SDK configuration from the environment.
pub async fn load_sdk_config() -> SdkConfig {
    sdk_loader().load().await
}

/// The SDK configuration of a Lambda function, from what Lambda sets: `AWS_REGION`, the
/// execution role's credentials in `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and
/// `AWS_SESSION_TOKEN`, and `AWS_ENDPOINT_URL` when set (tests). Retries, timeouts and the
/// identity cache are the SDK clients' defaults for `BehaviorVersion::latest()`, as with
/// [`load_sdk_config`].
///
/// Why not [`load_sdk_config`] in Lambda: its default provider chains (profile files, SSO, web
/// identity through STS, container and instance metadata) are never used there, but they
/// build an STS client at every start and put those clients into every binary.
pub fn lambda_sdk_config() -> SdkConfig {
    let setting = |name: &str| optional(&|name: &str| std::env::var(name).ok(), name);
    let credentials = aws_config::environment::EnvironmentVariableCredentialsProvider::new();
    let mut config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(sdk_http_client())
        .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(
            credentials,
        ));
    config.set_region(setting("AWS_REGION").map(aws_config::Region::new));
    config.set_endpoint_url(setting("AWS_ENDPOINT_URL"));
    config.build()
}

/// The loader [`load_sdk_config`] uses, for callers that set more (an endpoint) before loading.
pub fn sdk_loader() -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest()).http_client(sdk_http_client())
}

/// The SDK's HTTP client: reqwest with [`notify::tls_config`]. The SDK asks for a connector per
/// set of timeouts (connect, read); each is built once, on first use, and pools connections.
pub fn sdk_http_client() -> SharedHttpClient {
    SharedHttpClient::new(ReqwestHttpClient::default())
}

/// Connect and read timeouts, as the SDK hands them over.
type TimeoutKey = (Option<Duration>, Option<Duration>);

#[derive(Debug, Default)]
struct ReqwestHttpClient {
    /// Few entries in practice (one per timeout configuration), so a list.
    connectors: Mutex<Vec<(TimeoutKey, SharedHttpConnector)>>,
}

impl HttpClient for ReqwestHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let key = (settings.connect_timeout(), settings.read_timeout());
        let mut connectors = self
            .connectors
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((_, connector)) = connectors.iter().find(|(known, _)| *known == key) {
            return connector.clone();
        }
        let connector = SharedHttpConnector::new(ReqwestConnector::new(key));
        connectors.push((key, connector.clone()));
        connector
    }
}

/// One reqwest client for one set of timeouts; or why it could not be built (every request
/// then fails with that reason, not retried).
#[derive(Debug)]
struct ReqwestConnector {
    client: Result<reqwest::Client, Arc<str>>,
}

impl ReqwestConnector {
    fn new((connect_timeout, read_timeout): TimeoutKey) -> Self {
        let client = notify::tls_config()
            .map_err(|error| error.to_string())
            .and_then(|tls| {
                let mut builder = reqwest::Client::builder()
                    .use_preconfigured_tls(tls)
                    // The SDK follows no redirects; an endpoint that answers one is an error.
                    .redirect(reqwest::redirect::Policy::none());
                if let Some(timeout) = connect_timeout {
                    builder = builder.connect_timeout(timeout);
                }
                if let Some(timeout) = read_timeout {
                    builder = builder.read_timeout(timeout);
                }
                builder
                    .build()
                    .map_err(|error| format!("cannot build the SDK's HTTP client: {error}"))
            })
            .map_err(Arc::from);
        Self { client }
    }
}

impl HttpConnector for ReqwestConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let client = self.client.clone();
        HttpConnectorFuture::new(async move {
            let client =
                client.map_err(|reason| ConnectorError::other(reason.to_string().into(), None))?;
            let request = to_reqwest(request)?;
            let response = client.execute(request).await.map_err(connector_error)?;
            let status = response.status();
            let headers = response.headers().clone();
            // The services this workspace calls answer small JSON or XML documents.
            let body = response.bytes().await.map_err(connector_error)?;
            let mut answer = http::Response::new(SdkBody::from(body));
            *answer.status_mut() = status;
            *answer.headers_mut() = headers;
            HttpResponse::try_from(answer)
                .map_err(|error| ConnectorError::other(error.into(), None))
        })
    }
}

/// The signed SDK request as a reqwest request: method, URI, headers and the whole body (the
/// operations used here have in-memory bodies; a streaming body is refused).
fn to_reqwest(request: HttpRequest) -> Result<reqwest::Request, ConnectorError> {
    let request = request
        .try_into_http1x()
        .map_err(|error| ConnectorError::other(error.into(), None))?;
    let (parts, body) = request.into_parts();
    let bytes = body
        .bytes()
        .map(bytes::Bytes::copy_from_slice)
        .ok_or_else(|| {
            ConnectorError::other("a streaming request body is not supported".into(), None)
        })?;
    reqwest::Request::try_from(http::Request::from_parts(parts, bytes))
        .map_err(|error| ConnectorError::other(error.into(), None))
}

/// Timeouts and network failures are transient for the SDK's retry strategy; a request that
/// could not be built is not.
fn connector_error(error: reqwest::Error) -> ConnectorError {
    if error.is_timeout() {
        ConnectorError::timeout(error.into())
    } else if error.is_builder() {
        ConnectorError::other(error.into(), None)
    } else {
        ConnectorError::io(error.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::error::DisplayErrorContext;
    use std::io::{Read, Write};

    fn loopback_sdk(endpoint: &str) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(aws_config::Region::new("eu-central-1"))
            .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(
                aws_sdk_dynamodb::config::Credentials::for_tests(),
            ))
            .endpoint_url(endpoint)
            .http_client(sdk_http_client())
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .build()
    }

    /// A one-request HTTP server on loopback: returns its URL and, once served, the request.
    fn one_answer(answer: &'static str) -> (String, std::thread::JoinHandle<String>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let served = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            stream
                .set_read_timeout(Some(Duration::from_millis(500)))
                .unwrap();
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            while let Ok(read) = stream.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                request.extend_from_slice(&buffer[..read]);
                let text = String::from_utf8_lossy(&request);
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length = head
                        .lines()
                        .find_map(|line| {
                            let (name, value) = line.split_once(':')?;
                            name.eq_ignore_ascii_case("content-length")
                                .then(|| value.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    if body.len() >= length {
                        break;
                    }
                }
            }
            stream.write_all(answer.as_bytes()).unwrap();
            String::from_utf8_lossy(&request).into_owned()
        });
        (url, served)
    }

    #[tokio::test]
    async fn the_sdk_sends_its_signed_request_through_the_shared_client_and_reads_the_answer() {
        let body = r#"{"TableNames":["cases"]}"#;
        let answer: &'static str = Box::leak(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nx-amzn-RequestId: r1\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .into_boxed_str(),
        );
        let (url, served) = one_answer(answer);
        let client = aws_sdk_dynamodb::Client::new(&loopback_sdk(&url));

        let tables = client.list_tables().send().await.unwrap();

        assert_eq!(tables.table_names(), ["cases"]);
        let request = served.join().unwrap();
        assert!(request.starts_with("POST / HTTP/1.1"), "{request}");
        let lower = request.to_ascii_lowercase();
        assert!(
            lower.contains("x-amz-target: dynamodb_20120810.listtables"),
            "{request}"
        );
        assert!(
            lower.contains("authorization: aws4-hmac-sha256"),
            "{request}"
        );
    }

    #[tokio::test]
    async fn a_closed_port_is_a_retryable_dispatch_failure() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let client =
            aws_sdk_dynamodb::Client::new(&loopback_sdk(&format!("http://127.0.0.1:{port}")));

        let error = client.list_tables().send().await.unwrap_err();

        let connector = match &error {
            aws_sdk_dynamodb::error::SdkError::DispatchFailure(failure) => {
                failure.as_connector_error()
            }
            _ => None,
        }
        .unwrap_or_else(|| panic!("{}", DisplayErrorContext(&error)));
        assert!(connector.is_io(), "{}", DisplayErrorContext(&error));
    }

    #[tokio::test]
    async fn the_sdk_refuses_a_server_whose_certificate_is_not_under_the_compiled_in_roots() {
        let server = notify::test_tls::UntrustedTlsServer::start().await;
        let client = aws_sdk_dynamodb::Client::new(&loopback_sdk(&server.url()));

        let error = client.list_tables().send().await.unwrap_err();

        let text = format!("{}", DisplayErrorContext(&error)).to_lowercase();
        assert!(text.contains("certificate"), "{text}");
        assert!(
            server.handshakes_failed() >= 1,
            "the server saw no failed handshake: {text}"
        );
    }
}
