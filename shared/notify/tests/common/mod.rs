//! Shared fixtures of the notify tests: a case context, fast retry policies, a closed port and
//! a log capture.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use domain::case::{AlertContext, CaseId, RequestFacts, Requester, Voicemail};
use domain::policy::{Channel, Labels, Plan, Priority};
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A high-priority 12x5 ticket with cluster and website labels and a link.
pub fn ticket() -> AlertContext {
    AlertContext {
        case_id: CaseId::parse("zendesk-5158").unwrap(),
        request: RequestFacts {
            channel: Channel::Ticket,
            plan: Plan::Standard,
            priority: Priority::High,
            received: "2026-03-02T09:00:00Z".parse().unwrap(),
            labels: Labels {
                cluster: Some("c42".into()),
                website: Some("shop.example".into()),
            },
            subject: Some("Site down".into()),
            requester: Some(Requester {
                name: Some("Jürgen Weiß".into()),
                email: Some("jw@example.org".into()),
            }),
            link: Some("https://acme.zendesk.com/agent/tickets/5158".into()),
            voicemail: None,
        },
        dispatch_due: Some("2026-03-02T10:00:00Z".parse().unwrap()),
        first_response_due: "2026-03-02T13:00:00Z".parse().unwrap(),
        out_of_hours: false,
    }
}

/// An Intercom chat without labels, link or subject.
pub fn chat() -> AlertContext {
    AlertContext {
        case_id: CaseId::parse("intercom-1295").unwrap(),
        request: RequestFacts {
            channel: Channel::Chat,
            plan: Plan::Enterprise,
            priority: Priority::Normal,
            received: "2026-03-02T21:15:00Z".parse().unwrap(),
            labels: Labels::default(),
            subject: None,
            requester: Some(Requester {
                name: Some("Ada".into()),
                email: None,
            }),
            link: None,
            voicemail: None,
        },
        dispatch_due: None,
        first_response_due: "2026-03-03T05:15:00Z".parse().unwrap(),
        out_of_hours: true,
    }
}

/// An urgent 24x7 voicemail with a recording.
pub fn voicemail() -> AlertContext {
    AlertContext {
        case_id: CaseId::parse("twilio-RE42").unwrap(),
        request: RequestFacts {
            channel: Channel::Phone,
            plan: Plan::Enterprise,
            priority: Priority::Urgent,
            received: "2026-03-07T03:10:00Z".parse().unwrap(),
            labels: Labels::default(),
            subject: None,
            requester: None,
            link: None,
            voicemail: Some(Voicemail {
                caller: "+4930123456".into(),
                called: "+4940999000".into(),
                duration_seconds: 65,
                recording_url: Some("https://api.twilio.com/Recordings/RE42".into()),
                ended_without_message: false,
            }),
        },
        dispatch_due: None,
        first_response_due: "2026-03-07T03:40:00Z".parse().unwrap(),
        out_of_hours: true,
    }
}

/// Three attempts a millisecond apart.
pub fn fast_retry() -> notify::RetryPolicy {
    notify::RetryPolicy::new(3, Duration::from_millis(1), Duration::from_millis(5))
}

/// A localhost URL where nothing listens (the port was bound, then released).
pub fn closed_port_url(path: &str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}{path}")
}

/// Everything logged, at every level, while the guard lives (current-thread runtimes only:
/// `#[tokio::test]`'s default).
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    pub fn capture() -> (Self, tracing::subscriber::DefaultGuard) {
        let logs = Self::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        (logs, guard)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
