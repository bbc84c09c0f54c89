//! `SesMailer` on moto: the chat fallback e-mail as SES receives it (read back from moto's
//! `/moto-api/data.json`), the request as sent (moto keeps neither Reply-To nor the text part,
//! so those are read from the request body an interceptor saw), and the failures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use app::ports::{Delivered, Mailer, NotifyError};
use aws::ses::{SesConfig, SesMailer, encode_header_text};
use common::RequestLog;
use domain::Timestamp;
use domain::case::{AlertContext, CaseId, EmailKind, RequestFacts, Requester};
use domain::policy::{Channel, Labels, Plan, Priority};
use serde_json::Value;
use std::io::Write;
use std::sync::{Arc, Mutex};

const RECIPIENT: &str = "jane.doe@example.org";
const MASKED: &str = "j***@example.org";

fn context() -> AlertContext {
    let received: Timestamp = "2026-03-02T09:00:00Z".parse().unwrap();
    AlertContext {
        case_id: CaseId::parse("intercom-1295").unwrap(),
        request: RequestFacts {
            channel: Channel::Chat,
            plan: Plan::Standard,
            priority: Priority::Normal,
            received,
            labels: Labels::default(),
            subject: Some("Cannot log in <script>".into()),
            requester: Some(Requester {
                name: Some("Jane Doe".into()),
                email: Some(RECIPIENT.into()),
            }),
            link: None,
            voicemail: None,
        },
        dispatch_due: None,
        first_response_due: "2026-03-02T09:30:00Z".parse().unwrap(),
        out_of_hours: false,
    }
}

/// A sender identity of this test's own, verified (moto verifies at once).
async fn verified_sender(sdk: &aws_config::SdkConfig) -> String {
    let address = format!("{}@acme-hosting.example", common::unique("sla"));
    aws_sdk_sesv2::Client::new(sdk)
        .create_email_identity()
        .email_identity(&address)
        .send()
        .await
        .unwrap();
    address
}

/// The message moto recorded under `id`.
async fn sent_message(id: &str) -> Value {
    let data: Value = reqwest::get(format!("{}/moto-api/data.json", common::endpoint()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    data["ses"]["Message"]
        .as_array()
        .expect("moto's SES messages")
        .iter()
        .find(|message| message["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no message {id} in moto"))
}

/// The JSON body of the one SendEmail request sent.
fn request_body(log: &RequestLog) -> Value {
    let bodies = log.bodies("SendEmail");
    assert_eq!(bodies.len(), 1, "one SendEmail request");
    serde_json::from_slice(&bodies[0]).unwrap()
}

/// Everything logged while the guard lives, on this thread (the tests run on one thread).
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let logs = self.clone();
        tracing::subscriber::set_default(
            tracing_subscriber::fmt()
                .with_writer(move || logs.clone())
                .with_max_level(tracing::Level::DEBUG)
                .with_ansi(false)
                .finish(),
        )
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn the_chat_fallback_email_goes_out_in_both_parts_with_replies_to_support() {
    let sdk = common::sdk_config().await;
    common::warm_up(&sdk).await;
    let sender = verified_sender(&sdk).await;
    let support = "Acme Hosting Support <support@acme-hosting.example>";
    let log = RequestLog::default();
    let mailer = SesMailer::new(
        common::counted_ses(&sdk, &log),
        SesConfig {
            from_address: format!("Acme Hosting <{sender}>"),
            support_mailbox: support.to_owned(),
            configuration_set: None,
        },
    );
    let logs = Logs::default();
    let _capture = logs.capture();
    let delivered = mailer
        .send(EmailKind::ChatFallback, RECIPIENT, &context())
        .await
        .unwrap();
    let Delivered::Sent { detail: message_id } = delivered else {
        panic!("expected Sent, got {delivered:?}")
    };
    assert!(!message_id.is_empty());

    let expected = notify::chat_fallback_email(&context(), support);
    let message = sent_message(&message_id).await;
    assert_eq!(message["source"], format!("Acme Hosting <{sender}>"));
    assert_eq!(
        message["destinations"]["ToAddresses"],
        serde_json::json!([RECIPIENT])
    );
    assert_eq!(
        message["subject"],
        "Your chat with Acme Hosting support continues by e-mail"
    );
    assert_eq!(message["subject"], expected.subject.as_str());
    // moto keeps the HTML part only.
    assert_eq!(message["body"], expected.html.as_str());
    assert!(expected.html.contains("Cannot log in &lt;script&gt;"));

    let request = request_body(&log);
    assert_eq!(request["ReplyToAddresses"], serde_json::json!([support]));
    assert_eq!(
        request["Destination"]["ToAddresses"],
        serde_json::json!([RECIPIENT])
    );
    let simple = &request["Content"]["Simple"];
    assert_eq!(simple["Subject"]["Charset"], "UTF-8");
    assert_eq!(simple["Body"]["Text"]["Data"], expected.text.as_str());
    assert_eq!(simple["Body"]["Text"]["Charset"], "UTF-8");
    assert_eq!(simple["Body"]["Html"]["Data"], expected.html.as_str());
    assert_eq!(simple["Body"]["Html"]["Charset"], "UTF-8");
    assert_eq!(
        request["EmailTags"],
        serde_json::json!([{"Name": "kind", "Value": "chat_fallback"}])
    );
    assert!(request.get("ConfigurationSetName").is_none());

    let logged = logs.text();
    assert!(logged.contains("e-mail sent"), "{logged}");
    assert!(logged.contains(MASKED), "{logged}");
    assert!(!logged.contains(RECIPIENT), "{logged}");
}

#[tokio::test]
async fn a_non_ascii_company_name_is_sent_as_encoded_words() {
    let sdk = common::sdk_config().await;
    common::warm_up(&sdk).await;
    let sender = verified_sender(&sdk).await;
    let support = "Müller Hosting <support@mueller-hosting.example>";
    let log = RequestLog::default();
    let mailer = SesMailer::new(
        common::counted_ses(&sdk, &log),
        SesConfig {
            from_address: sender.clone(),
            support_mailbox: support.to_owned(),
            configuration_set: Some("sla-mail".to_owned()),
        },
    );
    let Delivered::Sent { detail: message_id } = mailer
        .send(EmailKind::ChatFallback, RECIPIENT, &context())
        .await
        .unwrap()
    else {
        panic!("expected Sent")
    };
    let expected = notify::chat_fallback_email(&context(), support);
    assert_eq!(
        expected.subject,
        "Your chat with Müller Hosting support continues by e-mail"
    );
    let message = sent_message(&message_id).await;
    let subject = message["subject"].as_str().unwrap();
    assert!(subject.is_ascii(), "{subject}");
    assert_eq!(subject, encode_header_text(&expected.subject));
    assert!(subject.starts_with("=?UTF-8?B?"), "{subject}");

    let request = request_body(&log);
    assert_eq!(
        request["ReplyToAddresses"],
        serde_json::json!([format!(
            "{} <support@mueller-hosting.example>",
            encode_header_text("Müller Hosting")
        )])
    );
    assert_eq!(request["ConfigurationSetName"], "sla-mail");
    // The bodies stay UTF-8 text: their charset says so.
    assert_eq!(
        request["Content"]["Simple"]["Body"]["Text"]["Data"],
        expected.text.as_str()
    );
}

#[tokio::test]
async fn an_unverified_sender_is_a_permanent_failure_that_names_no_recipient() {
    let sdk = common::sdk_config().await;
    common::warm_up(&sdk).await;
    let mailer = SesMailer::new(
        aws_sdk_sesv2::Client::new(&sdk),
        SesConfig {
            from_address: format!("{}@unverified.example", common::unique("nobody")),
            support_mailbox: "support@acme-hosting.example".to_owned(),
            configuration_set: None,
        },
    );
    let logs = Logs::default();
    let _capture = logs.capture();
    let error = mailer
        .send(EmailKind::ChatFallback, RECIPIENT, &context())
        .await
        .unwrap_err();
    let NotifyError::Permanent { reason } = error else {
        panic!("expected a permanent failure, got {error:?}")
    };
    assert!(reason.contains("MessageRejected"), "{reason}");
    assert!(!reason.contains(RECIPIENT), "{reason}");
    let logged = logs.text();
    assert!(logged.contains("e-mail not sent"), "{logged}");
    assert!(!logged.contains(RECIPIENT), "{logged}");
}

#[tokio::test]
async fn a_recipient_that_is_not_one_address_is_refused_without_a_request() {
    let sdk = common::sdk_config().await;
    let log = RequestLog::default();
    let mailer = SesMailer::new(
        common::counted_ses(&sdk, &log),
        SesConfig {
            from_address: "sla@acme-hosting.example".to_owned(),
            support_mailbox: "support@acme-hosting.example".to_owned(),
            configuration_set: None,
        },
    );
    for to in ["not an address", "jane@example.org, eve@example.org"] {
        let error = mailer
            .send(EmailKind::ChatFallback, to, &context())
            .await
            .unwrap_err();
        assert!(matches!(error, NotifyError::Permanent { .. }), "{error:?}");
    }
    assert_eq!(log.operations(), Vec::<String>::new());
}

#[tokio::test]
async fn without_a_sender_nothing_is_sent() {
    let sdk = common::sdk_config().await;
    let log = RequestLog::default();
    let mailer = SesMailer::from_lookup(|_| None, common::counted_ses(&sdk, &log)).unwrap();
    assert!(!mailer.is_configured());
    assert_eq!(
        mailer
            .send(EmailKind::ChatFallback, RECIPIENT, &context())
            .await,
        Ok(Delivered::NotConfigured)
    );
    assert_eq!(log.operations(), Vec::<String>::new());
}
