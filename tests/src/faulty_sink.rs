//! A stand-in for an outbound destination (PagerDuty, Slack, Zendesk) that fails on purpose:
//! it answers 429 with `Retry-After`, 500, never answers, or resets the connection, as its
//! schedule says for each request, and records every request it received.
//!
//! Written on a raw TCP listener rather than wiremock, because wiremock cannot reset a
//! connection or hold one open without answering.

use crate::raw_http::{read_request, request_path};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// What the sink does with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer with the sink's success status and body.
    Answer,
    /// Answer `429 Too Many Requests` with `Retry-After: <seconds>`.
    Throttle { retry_after_secs: u32 },
    /// Answer `500 Internal Server Error`.
    ServerError,
    /// Read the request and never answer (the client's timeout must end it).
    Hang,
    /// Read the request and reset the connection.
    Reset,
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub body: Vec<u8>,
    /// When it arrived, on the test's monotonic clock.
    pub at: Instant,
    pub fault: Fault,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

type Schedule = dyn Fn(usize, &str) -> Fault + Send + Sync;

struct State {
    schedule: Box<Schedule>,
    received: Vec<Received>,
}

/// The sink: [`FaultySink::start`] it, point a destination URL at [`FaultySink::url`], change
/// its behaviour with [`FaultySink::set_schedule`] at any time.
pub struct FaultySink {
    addr: std::net::SocketAddr,
    success_status: u16,
    success_body: &'static str,
    state: Arc<Mutex<State>>,
    accept_loop: JoinHandle<()>,
}

impl std::fmt::Debug for FaultySink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultySink")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl FaultySink {
    /// A sink that answers `success_status` with `success_body` until told otherwise.
    pub async fn start(success_status: u16, success_body: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the sink");
        let addr = listener.local_addr().expect("the sink's address");
        let state = Arc::new(Mutex::new(State {
            schedule: Box::new(|_, _| Fault::Answer),
            received: Vec::new(),
        }));
        let accept_state = Arc::clone(&state);
        let accept_loop = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = Arc::clone(&accept_state);
                tokio::spawn(serve_connection(
                    stream,
                    state,
                    success_status,
                    success_body,
                ));
            }
        });
        Self {
            addr,
            success_status,
            success_body,
            state,
            accept_loop,
        }
    }

    /// PagerDuty Events API v2's success answer.
    pub async fn pagerduty() -> Self {
        Self::start(
            202,
            r#"{"status":"success","message":"Event processed","dedup_key":"sink"}"#,
        )
        .await
    }

    /// A Slack incoming webhook's success answer.
    pub async fn slack() -> Self {
        Self::start(200, "ok").await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Decide each request's fault from its index (0-based, over the sink's lifetime) and path.
    pub fn set_schedule(&self, schedule: impl Fn(usize, &str) -> Fault + Send + Sync + 'static) {
        self.state.lock().expect("sink state").schedule = Box::new(schedule);
    }

    /// Every request so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.state.lock().expect("sink state").received.clone()
    }

    /// The requests that were answered with success: what the destination accepted.
    pub fn accepted(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|request| request.fault == Fault::Answer)
            .collect()
    }

    pub fn success(&self) -> (u16, &'static str) {
        (self.success_status, self.success_body)
    }
}

impl Drop for FaultySink {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

async fn serve_connection(
    mut stream: TcpStream,
    state: Arc<Mutex<State>>,
    success_status: u16,
    success_body: &'static str,
) {
    let mut buffer = Vec::new();
    loop {
        let Some((head, body)) = read_request(&mut stream, &mut buffer).await else {
            return;
        };
        let path = request_path(&head).to_owned();
        let fault = {
            let mut state = state.lock().expect("sink state");
            let index = state.received.len();
            let fault = (state.schedule)(index, &path);
            state.received.push(Received {
                path,
                body,
                at: Instant::now(),
                fault,
            });
            fault
        };
        let answer = match fault {
            Fault::Answer => response(success_status, "", success_body),
            Fault::Throttle { retry_after_secs } => response(
                429,
                &format!("Retry-After: {retry_after_secs}\r\n"),
                r#"{"status":"throttle event","message":"Requests for this service are arriving too quickly"}"#,
            ),
            Fault::ServerError => response(500, "", "internal error"),
            Fault::Hang => {
                // Hold the connection until the client gives up (or the test ends).
                let _ =
                    tokio::time::timeout(Duration::from_secs(600), stream.read(&mut [0; 1])).await;
                return;
            }
            Fault::Reset => {
                // Zero linger: closing sends RST instead of FIN.
                let _ = stream.set_zero_linger();
                return;
            }
        };
        if stream.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}

fn response(status: u16, extra_headers: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status} Sink\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{extra_headers}\r\n{body}",
        body.len()
    )
}
