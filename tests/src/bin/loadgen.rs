//! Load generator: posts signed Zendesk `ticket.created` events (one new ticket each) to a
//! running `supportctl serve` and prints throughput and latency percentiles.
//!
//! `cargo run --release -p tests --bin loadgen -- --url http://127.0.0.1:18080 --events 20000 --concurrency 32`
//! The signing secret comes from `ZENDESK_WEBHOOK_SECRET` or the server's `--data` directory.

use domain::Timestamp;
use local::dev_secrets::DevSecrets;
use providers::Secret;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tests::payloads::Ticket;

struct Options {
    url: String,
    events: usize,
    concurrency: usize,
    data: PathBuf,
    first_ticket: u64,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        url: "http://127.0.0.1:8080".into(),
        events: 20_000,
        concurrency: 32,
        data: PathBuf::from("data"),
        first_ticket: 1_000_000,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => options.url = value()?,
            "--events" => {
                options.events = value()?.parse().map_err(|e| format!("--events: {e}"))?;
            }
            "--concurrency" => {
                options.concurrency = value()?
                    .parse()
                    .map_err(|e| format!("--concurrency: {e}"))?;
            }
            "--data" => options.data = PathBuf::from(value()?),
            "--first-ticket" => {
                options.first_ticket = value()?
                    .parse()
                    .map_err(|e| format!("--first-ticket: {e}"))?;
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(options)
}

struct Signed {
    body: Vec<u8>,
    signature: String,
    timestamp: String,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("loadgen: {message}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let options = parse_options()?;
    let secret = std::env::var("ZENDESK_WEBHOOK_SECRET")
        .ok()
        .and_then(Secret::new)
        .or_else(|| {
            DevSecrets::load(&options.data)
                .ok()?
                .get("ZENDESK_WEBHOOK_SECRET")
                .and_then(Secret::new)
        })
        .ok_or("no ZENDESK_WEBHOOK_SECRET and no dev-secrets.env in --data")?;
    let now = Timestamp::now();
    let timestamp = now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let priorities = ["URGENT", "HIGH", "NORMAL", "LOW"];
    // Sign everything up front, so the measurement is the server's work.
    let requests: Vec<Signed> = (0..options.events)
        .map(|i| {
            let id = (options.first_ticket + i as u64).to_string();
            let ticket = Ticket::new(&id, now, priorities[i % priorities.len()]);
            let body = serde_json::to_vec(&ticket.created()).unwrap_or_default();
            let signature = providers::zendesk::sign(&secret, &timestamp, &body);
            Signed {
                body,
                signature,
                timestamp: timestamp.clone(),
            }
        })
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(drive(options, requests))
}

async fn drive(options: Options, requests: Vec<Signed>) -> Result<(), String> {
    let requests = Arc::new(requests);
    let next = Arc::new(AtomicUsize::new(0));
    let client = reqwest::Client::new();
    let url = format!("{}/webhooks/zendesk", options.url.trim_end_matches('/'));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..options.concurrency {
        let (requests, next, client, url) = (
            Arc::clone(&requests),
            Arc::clone(&next),
            client.clone(),
            url.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0usize;
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(request) = requests.get(index) else {
                    break;
                };
                let sent = Instant::now();
                let response = client
                    .post(&url)
                    .header("Content-Type", "application/json")
                    .header("X-Zendesk-Webhook-Signature", &request.signature)
                    .header("X-Zendesk-Webhook-Signature-Timestamp", &request.timestamp)
                    .body(request.body.clone())
                    .send()
                    .await;
                latencies.push(sent.elapsed());
                match response {
                    Ok(response) if response.status().is_success() => {}
                    _ => failures += 1,
                }
            }
            (latencies, failures)
        }));
    }
    let mut latencies: Vec<Duration> = Vec::with_capacity(requests.len());
    let mut failures = 0;
    for worker in workers {
        let (worker_latencies, worker_failures) = worker.await.map_err(|e| e.to_string())?;
        latencies.extend(worker_latencies);
        failures += worker_failures;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let percentile = |p: f64| {
        let index = ((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1);
        latencies.get(index).copied().unwrap_or_default()
    };
    println!("events:      {}", latencies.len());
    println!("concurrency: {}", options.concurrency);
    println!("failures:    {failures}");
    println!("elapsed:     {:.2} s", elapsed.as_secs_f64());
    println!(
        "throughput:  {:.0} events/s",
        latencies.len() as f64 / elapsed.as_secs_f64()
    );
    for (name, p) in [("p50", 0.50), ("p90", 0.90), ("p99", 0.99), ("max", 1.0)] {
        println!(
            "{name}:         {:.2} ms",
            percentile(p).as_secs_f64() * 1000.0
        );
    }
    if failures > 0 {
        return Err(format!("{failures} requests failed"));
    }
    Ok(())
}
