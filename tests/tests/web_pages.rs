//! The web pages in a real browser: headless Chromium loads the board and the report page
//! from the real local server with known cases, runs their script, and the tests assert on
//! the rendered DOM. Screenshots go to `target/web-pages/`.
//!
//! Chromium is required: without it these tests fail with a message saying how to install it
//! (`scripts/test.sh` installs Debian's `chromium`); they never pass by skipping.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use app::ports::{Clock, ManualClock};
use domain::Timestamp;
use local::runtime::{RunningServer, ServerOptions, start};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use tests::TestApp;
use tests::payloads::{Ticket, berlin};
use tokio::net::TcpListener;

/// The browser: `$CHROMIUM` when set, else the first of the usual names on the `PATH`.
fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return PathBuf::from(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ] {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "these browser tests need Chromium and found none on the PATH (chromium, \
         chromium-browser, google-chrome): install it (`sudo apt-get install -y chromium`; \
         scripts/test.sh does) or set CHROMIUM to its path"
    );
}

/// Where screenshots go: `<target dir>/web-pages/`.
fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    let dir = target.join("web-pages");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Run headless Chromium on `url` with `what` (`--dump-dom` or `--screenshot=…`), letting the
/// page's script run for `budget_ms` of virtual time. Returns stdout.
async fn run_chromium(url: &str, what: &str, budget_ms: u32) -> String {
    let (url, what) = (url.to_owned(), what.to_owned());
    tokio::task::spawn_blocking(move || {
        let profile = tempfile::tempdir().unwrap();
        let output = Command::new(chromium())
            .args([
                "--headless",
                // Root in a container has no user namespace for the sandbox; the pages are ours.
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--hide-scrollbars",
                "--window-size=1280,900",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("--virtual-time-budget={budget_ms}"))
            .arg(&what)
            .arg(&url)
            .output()
            .unwrap_or_else(|error| panic!("cannot run chromium: {error}"));
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "chromium {what} {url} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    })
    .await
    .unwrap()
}

/// The DOM after the page's script ran for `budget_ms` (virtual time).
async fn dom(url: &str, budget_ms: u32) -> String {
    let dom = run_chromium(url, "--dump-dom", budget_ms).await;
    assert!(dom.contains("</html>"), "no document from {url}: {dom}");
    dom
}

async fn screenshot(url: &str, name: &str) -> PathBuf {
    let path = screenshot_dir().join(name);
    let _ = std::fs::remove_file(&path);
    run_chromium(url, &format!("--screenshot={}", path.display()), 2000).await;
    let size = std::fs::metadata(&path)
        .unwrap_or_else(|error| panic!("no screenshot {}: {error}", path.display()))
        .len();
    assert!(size > 1000, "{} is only {size} bytes", path.display());
    path
}

/// The `<tr …>` start tag of a case's row on the board.
fn row_tag<'a>(dom: &'a str, case_id: &str) -> &'a str {
    let marker = format!("data-case-id=\"{case_id}\"");
    let at = dom
        .find(&marker)
        .unwrap_or_else(|| panic!("no row of {case_id} in {dom}"));
    let start = dom[..at].rfind("<tr").unwrap();
    let end = at + dom[at..].find('>').unwrap();
    &dom[start..=end]
}

fn position(dom: &str, case_id: &str) -> usize {
    dom.find(&format!("data-case-id=\"{case_id}\"")).unwrap()
}

const XSS_SUBJECT: &str = "<img src=x onerror=\"document.body.setAttribute('data-xss','img')\">\
                           <script>document.body.setAttribute('data-xss','script')</script>";

/// Issue 13's known cases, on Tuesday 1 December 2026, looked at at 09:45 Berlin time:
/// - `zendesk-9001`, urgent Enterprise, received 09:00, never answered: first response due
///   09:30, breached;
/// - `zendesk-9002`, urgent Enterprise, received 09:00, answered 09:10: met; its dispatch
///   (business, due 10:00) still runs;
/// - `zendesk-9003`, normal, received 09:40, new (subject: an XSS attempt): dispatch due 10:40;
/// - `zendesk-9004`, urgent Enterprise, received 09:20: first response due 09:50, warned at
///   09:42:30, so at risk at 09:45.
async fn known_cases() -> TestApp {
    let app = TestApp::spawn(berlin("2026-12-01T09:00")).await;
    let enterprise = |id: &str, at: Timestamp| {
        let mut ticket = Ticket::new(id, at, "URGENT");
        ticket.tags.push("enterprise".into());
        ticket
    };
    let breached = enterprise("9001", berlin("2026-12-01T09:00"));
    assert_eq!(app.post_zendesk(&breached.created()).await.status(), 202);
    let met = enterprise("9002", berlin("2026-12-01T09:00"));
    assert_eq!(app.post_zendesk(&met.created()).await.status(), 202);

    app.advance_to(berlin("2026-12-01T09:10"));
    let answer = met.public_staff_comment(berlin("2026-12-01T09:10"));
    assert_eq!(app.post_zendesk(&answer).await.status(), 202);

    app.advance_to(berlin("2026-12-01T09:20"));
    let at_risk = enterprise("9004", berlin("2026-12-01T09:20"));
    assert_eq!(app.post_zendesk(&at_risk.created()).await.status(), 202);

    app.advance_to(berlin("2026-12-01T09:40"));
    let normal = Ticket::new("9003", berlin("2026-12-01T09:40"), "NORMAL");
    let mut created = normal.created();
    created["detail"]["subject"] = Value::from(XSS_SUBJECT);
    assert_eq!(app.post_zendesk(&created).await.status(), 202);

    app.advance_to(berlin("2026-12-01T09:45"));
    // The breach of zendesk-9001 (due 09:30) pages once the due loop has looked.
    let pages = app
        .wait_for_pagerduty(1, tests::is_event("trigger", "zendesk-9001/first_response"))
        .await;
    assert_eq!(pages.len(), 1, "the breach was not paged");
    app
}

#[tokio::test]
async fn the_board_in_chromium_lists_the_open_tickets_most_pressing_first_with_breached_and_at_risk_highlighted()
 {
    let app = known_cases().await;

    // 16 s of virtual time: the countdown ticks and the 15-second refresh runs once.
    let dom = dom(&format!("{}/", app.base_url), 16_000).await;

    for id in [
        "zendesk-9001",
        "zendesk-9002",
        "zendesk-9003",
        "zendesk-9004",
    ] {
        assert!(
            row_tag(&dom, id).contains("class=\"case "),
            "{id}: {}",
            row_tag(&dom, id)
        );
    }
    assert!(row_tag(&dom, "zendesk-9001").contains("breached"));
    assert!(row_tag(&dom, "zendesk-9004").contains("at-risk"));
    assert!(row_tag(&dom, "zendesk-9002").contains("on-track"));
    assert!(row_tag(&dom, "zendesk-9003").contains("on-track"));
    // Least time left first: 9001 (09:30, overdue), 9004 (09:50), 9002 (dispatch 10:00),
    // 9003 (dispatch 10:40).
    let order = [
        position(&dom, "zendesk-9001"),
        position(&dom, "zendesk-9004"),
        position(&dom, "zendesk-9002"),
        position(&dom, "zendesk-9003"),
    ];
    assert!(order.is_sorted(), "rows out of order: {order:?}");
    // The countdown ran from the server's clock: 9001 is 15 minutes overdue.
    assert!(dom.contains(">-15m<"), "{dom}");
    assert!(dom.contains("id=\"breached-count\">1<"), "{dom}");
    assert!(dom.contains("id=\"at-risk-count\">1<"), "{dom}");
    // The refresh fetched the page again and swapped its rows in.
    assert!(
        dom.contains("id=\"refresh-state\" class=\"refresh-state\">updated "),
        "{dom}"
    );
    // Each row opens its timeline.
    assert!(dom.contains("href=\"/cases/zendesk-9001\""));
    // The subject is shown as text: neither its image nor its script ran.
    let body_tag = &dom[dom.find("<body").unwrap()..];
    let body_tag = &body_tag[..=body_tag.find('>').unwrap()];
    assert!(
        !body_tag.contains("data-xss"),
        "the XSS payload ran: {body_tag}"
    );
    assert!(
        dom.contains("&lt;script&gt;document.body.setAttribute"),
        "{dom}"
    );
    assert!(!dom.contains("<img src=\"x\""), "{dom}");

    let shot = screenshot(&format!("{}/", app.base_url), "board.png").await;
    println!("board screenshot: {}", shot.display());
    app.shutdown().await;
}

#[tokio::test]
async fn the_board_filters_by_channel_plan_priority_and_cluster() {
    let app = known_cases().await;
    let page = |query: &'static str| {
        let url = format!("{}/{query}", app.base_url);
        let http = app.http.clone();
        async move {
            let response = http.get(url).send().await.unwrap();
            assert_eq!(response.status(), 200, "{query}");
            response.text().await.unwrap()
        }
    };

    let normal = page("?priority=normal").await;
    assert!(normal.contains("data-case-id=\"zendesk-9003\""));
    assert!(!normal.contains("data-case-id=\"zendesk-9001\""));
    let enterprise = page("?plan=24x7&channel=ticket").await;
    for id in ["zendesk-9001", "zendesk-9002", "zendesk-9004"] {
        assert!(
            enterprise.contains(&format!("data-case-id=\"{id}\"")),
            "{id}"
        );
    }
    assert!(!enterprise.contains("data-case-id=\"zendesk-9003\""));
    // Every ticket of the payloads carries the tag cluster_c42.
    let cluster = page("?cluster=c42").await;
    assert_eq!(cluster.matches("data-case-id=").count(), 4);
    assert!(cluster.contains("<option value=\"c42\" selected>c42</option>"));
    let none = page("?channel=chat").await;
    assert_eq!(none.matches("data-case-id=").count(), 0);
    assert!(none.contains("No open cases."));

    let bad = app
        .http
        .get(format!("{}/?priority=whenever", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    app.shutdown().await;
}

#[tokio::test]
async fn a_cases_page_shows_its_clocks_and_timeline() {
    let app = known_cases().await;

    let response = app
        .http
        .get(format!("{}/cases/zendesk-9001", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();

    assert!(html.contains("<span id=\"case-id\">zendesk-9001</span>"));
    assert!(
        html.contains("<tr class=\"clock breached\"><td>first_response</td>"),
        "{html}"
    );
    assert!(html.contains("id=\"timeline\""));
    // Opened by its event, breached by its timer or the due loop's sweep, paged.
    assert!(html.contains("<td>event</td>"), "{html}");
    assert!(
        html.contains("<td>timer_fired</td>") || html.contains("<td>swept</td>"),
        "{html}"
    );
    assert!(html.contains("page on-call: first_response"), "{html}");
    assert!(html.contains("<td>decided</td>"), "{html}");
    let missing = app
        .http
        .get(format!("{}/cases/zendesk-404", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    app.shutdown().await;
}

#[tokio::test]
async fn the_report_page_in_chromium_has_the_compliance_table_both_charts_and_the_csv_link() {
    let app = known_cases().await;
    let url = format!("{}/reports?month=2026-12", app.base_url);

    let dom = dom(&url, 1000).await;

    // First response, 24x7 urgent tickets: 9002 met, 9001 breached, 9004 pending.
    let urgent = "<tr class=\"row\" data-clock=\"first_response\" data-plan=\"24x7\" \
                  data-priority=\"urgent\" data-channel=\"ticket\"><td>first_response</td>\
                  <td>24x7</td><td>urgent</td><td>ticket</td><td>3</td><td>1</td><td>0</td>\
                  <td>1</td><td>1</td><td>0</td><td>50.0 %</td><td>10.0</td><td>10.0</td></tr>";
    assert!(dom.contains(urgent), "{dom}");
    let normal = "<tr class=\"row\" data-clock=\"first_response\" data-plan=\"12x5\" \
                  data-priority=\"normal\" data-channel=\"ticket\"><td>first_response</td>\
                  <td>12x5</td><td>normal</td><td>ticket</td><td>1</td><td>0</td><td>0</td>\
                  <td>0</td><td>1</td>";
    assert!(dom.contains(normal), "{dom}");
    assert!(dom.contains("<svg class=\"chart weekly\" id=\"weekly-first_response\""));
    // December's first week starts on Tuesday the 1st: one urgent bar at 50 %.
    assert!(
        dom.contains("<rect class=\"bar\" data-week=\"2026-12-01\" data-priority=\"urgent\""),
        "{dom}"
    );
    assert!(dom.contains("<svg class=\"chart percentiles\" id=\"first-response-percentiles\""));
    assert!(dom.contains("<rect class=\"p50\""), "{dom}");
    assert!(dom.contains("href=\"/api/reports/compliance.csv?month=2026-12\""));
    assert!(dom.contains("value=\"2026-12\""));
    assert!(dom.contains("<a href=\"/cases/zendesk-9001\">zendesk-9001</a>"));

    let csv = app
        .http
        .get(format!(
            "{}/api/reports/compliance.csv?month=2026-12",
            app.base_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert!(
        csv.text()
            .await
            .unwrap()
            .starts_with("clock,plan,priority,channel,")
    );

    let shot = screenshot(&url, "reports.png").await;
    println!("report screenshot: {}", shot.display());
    app.shutdown().await;
}

const READ_TOKEN: &str = "board-read-token-7f3a";

/// The real server with a read token set (and the test secrets), on loopback.
async fn server_with_read_token(data: &Path) -> RunningServer {
    let pagerduty = wiremock::MockServer::start().await;
    let slack = wiremock::MockServer::start().await;
    let mut env = tests::test_lookup(&pagerduty, &slack);
    env.insert("SUPPORT_SLA_READ_TOKEN".into(), READ_TOKEN.into());
    start(ServerOptions {
        listener: TcpListener::bind("127.0.0.1:0").await.unwrap(),
        data_dir: data.to_owned(),
        policy: policy_file::default_policy().unwrap(),
        clock: Arc::new(ManualClock::new(berlin("2026-12-01T09:00"))) as Arc<dyn Clock>,
        lookup: Arc::new(move |name: &str| env.get(name).cloned()),
        due_loop_idle: Duration::from_millis(50),
        engine: tests::fast_settings(),
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn with_a_read_token_the_pages_ask_for_it_and_accept_it_as_the_basic_password() {
    let data = tempfile::tempdir().unwrap();
    let server = server_with_read_token(data.path()).await;
    let base = format!("http://{}", server.addr());
    let http = reqwest::Client::new();

    for path in [
        "/",
        "/reports?month=2026-12",
        "/cases/zendesk-1",
        "/assets/board.js",
    ] {
        let refused = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(refused.status(), 401, "{path}");
        assert!(
            refused.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Basic "),
            "{path}"
        );
    }
    let board = http
        .get(format!("{base}/"))
        .basic_auth("lead", Some(READ_TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(board.status(), 200);
    let wrong = http
        .get(format!("{base}/"))
        .basic_auth("lead", Some("not-the-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    // The browser takes the credentials from the URL, as it would from its prompt.
    let url = format!("http://lead:{READ_TOKEN}@{}/", server.addr());
    let dom = dom(&url, 1000).await;
    assert!(dom.contains("<h1>Open cases</h1>"), "{dom}");
    assert!(dom.contains("No open cases."), "{dom}");
    server.shutdown().await.unwrap();
}
