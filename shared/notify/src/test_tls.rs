//! For tests (here and in `aws`, feature `test-tls`): a TLS server on loopback whose
//! certificate is self-signed, so under no root of [`crate::tls_config`]. A client that
//! verifies certificates must refuse it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Self-signed end-entity certificate for `localhost` and `127.0.0.1`, P-256, valid until 2126
/// (`openssl req -x509`).
const CERTIFICATE: &str = "-----BEGIN CERTIFICATE-----
MIIBrjCCAVSgAwIBAgIUEZAocpP2I2kloTNP/HZU9bTIp04wCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEzMDIyNTY0M1oYDzIxMjYxMTA2
MjI1NjQzWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAATMkucLBMgGc/IECFnIGgDvapQulVZiRx/MSwU8oPsPGrOKAM4icUwL
v53hQjHuVyPRce7rWKp3zWk1tBDNjh7Xo4GBMH8wHQYDVR0OBBYEFLLSmwWC/YEj
k8hWzfueMVYcnstbMB8GA1UdIwQYMBaAFLLSmwWC/YEjk8hWzfueMVYcnstbMBoG
A1UdEQQTMBGCCWxvY2FsaG9zdIcEfwAAATAMBgNVHRMBAf8EAjAAMBMGA1UdJQQM
MAoGCCsGAQUFBwMBMAoGCCqGSM49BAMCA0gAMEUCIQCDuZ7IAYbYthkr8fIDF7t2
xVME7Rn1TF7YAxPP23CGMwIgPRXNrIRN2soUdqtrLc0Ru2dx1deIt1KKe+BT4YE4
pKw=
-----END CERTIFICATE-----
";
const PRIVATE_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgsy2nXAWEQqBvzccy
C2Y6xTmwRAJdXRgUHzdEYyGakcehRANCAATMkucLBMgGc/IECFnIGgDvapQulVZi
Rx/MSwU8oPsPGrOKAM4icUwLv53hQjHuVyPRce7rWKp3zWk1tBDNjh7X
-----END PRIVATE KEY-----
";

/// Serves TLS handshakes on 127.0.0.1 until the test ends; counts the failed ones.
#[derive(Debug)]
pub struct UntrustedTlsServer {
    port: u16,
    failed: Arc<AtomicUsize>,
}

impl UntrustedTlsServer {
    pub async fn start() -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let certificate = CertificateDer::from_pem_slice(CERTIFICATE.as_bytes()).unwrap();
        let key = PrivateKeyDer::from_pem_slice(PRIVATE_KEY.as_bytes()).unwrap();
        let config = Arc::new(
            rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(vec![certificate], key)
                .unwrap(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let failed = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&failed);
        // A thread, not a task: it outlives no test process and needs no runtime.
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut connection = rustls::ServerConnection::new(Arc::clone(&config)).unwrap();
                while connection.is_handshaking() {
                    if connection.complete_io(&mut stream).is_err() {
                        counter.fetch_add(1, Ordering::SeqCst);
                        break;
                    }
                }
            }
        });
        Self { port, failed }
    }

    /// `https://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// Handshakes that failed so far, waiting up to 2 s for the first (the client may hang up
    /// before the server thread has read its alert).
    pub fn handshakes_failed(&self) -> usize {
        for _ in 0..200 {
            let failed = self.failed.load(Ordering::SeqCst);
            if failed > 0 {
                return failed;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        0
    }
}
