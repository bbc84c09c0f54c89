//! The chat-fallback e-mail text and the logging mailer of the local runtime.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use app::ports::{Delivered, Mailer};
use common::{Logs, chat, ticket};
use domain::case::{AlertContext, EmailKind, RequestFacts, Requester};
use notify::{LogMailer, chat_fallback_email};

const MAILBOX: &str = "Müller Hosting Support <support@mueller.example>";

#[test]
fn the_subject_names_the_company_and_says_the_chat_continues_by_e_mail() {
    let email = chat_fallback_email(&chat(), MAILBOX);
    assert_eq!(
        email.subject,
        "Your chat with Müller Hosting support continues by e-mail"
    );
    let bare = chat_fallback_email(&chat(), "support@mueller.example");
    assert_eq!(
        bare.subject,
        "Your chat with mueller.example support continues by e-mail"
    );
}

#[test]
fn the_text_says_the_conversation_continues_by_e_mail_and_a_reply_reaches_support() {
    let email = chat_fallback_email(&chat(), MAILBOX);
    let text = &email.text;
    assert!(text.starts_with("Hello Ada,\n"), "{text}");
    assert!(
        text.contains("continue the conversation by e-mail"),
        "{text}"
    );
    assert!(
        text.contains(
            "Simply reply to this e-mail: your reply reaches our support team \
                       (support@mueller.example)"
        ),
        "{text}"
    );
    assert!(text.contains("Your reference: intercom-1295"), "{text}");
    assert!(text.ends_with("Müller Hosting support\n"), "{text}");
    assert!(!text.contains('<'), "plain text has no markup: {text}");
}

#[test]
fn the_html_says_the_same_and_links_the_mailbox() {
    let email = chat_fallback_email(&chat(), MAILBOX);
    let html = &email.html;
    assert!(html.contains("<meta charset=\"utf-8\">"), "{html}");
    assert!(html.contains("<p>Hello Ada,</p>"), "{html}");
    assert!(html.contains("continue the conversation by"), "{html}");
    assert!(
        html.contains("<a href=\"mailto:support@mueller.example\">support@mueller.example</a>"),
        "{html}"
    );
    assert!(html.contains("Your reference: intercom-1295"), "{html}");
}

#[test]
fn user_text_is_html_escaped_and_kept_on_one_line() {
    let hostile = AlertContext {
        request: RequestFacts {
            subject: Some("<script>alert(\"x\")</script>\r\nBcc: all@example.org".into()),
            requester: Some(Requester {
                name: Some("<b>Eve</b> & \"Co\"".into()),
                email: Some("eve@example.org".into()),
            }),
            ..chat().request
        },
        ..chat()
    };

    let email = chat_fallback_email(&hostile, MAILBOX);

    assert!(!email.html.contains("<script>"), "{}", email.html);
    assert!(!email.html.contains("<b>"), "{}", email.html);
    assert!(
        email.html.contains(
            "about “&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Bcc: all@example.org”"
        ),
        "{}",
        email.html
    );
    assert!(
        email
            .html
            .contains("Hello &lt;b&gt;Eve&lt;/b&gt; &amp; &quot;Co&quot;,"),
        "{}",
        email.html
    );
    assert!(!email.subject.contains(['\r', '\n']));
    assert!(!email.text.contains("\r\nBcc"), "{}", email.text);
}

#[test]
fn without_a_name_the_greeting_is_plain() {
    let anonymous = AlertContext {
        request: RequestFacts {
            requester: None,
            ..ticket().request
        },
        ..ticket()
    };
    let email = chat_fallback_email(&anonymous, MAILBOX);
    assert!(email.text.starts_with("Hello,\n"));
    assert!(
        email.text.contains("by chat about “Site down”."),
        "{}",
        email.text
    );
}

#[tokio::test]
async fn the_log_mailer_renders_logs_and_reports_not_configured_without_the_address() {
    let (logs, _guard) = Logs::capture();
    let mailer = LogMailer::from_lookup(|name| (name == "SUPPORT_MAILBOX").then(|| MAILBOX.into()));

    let delivered = mailer
        .send(EmailKind::ChatFallback, "ada@example.org", &chat())
        .await;

    assert_eq!(delivered, Ok(Delivered::NotConfigured));
    let logs = logs.text();
    assert!(
        logs.contains("not sent: no destination configured"),
        "{logs}"
    );
    assert!(logs.contains("case=\"intercom-1295\""), "{logs}");
    assert!(
        logs.contains("Your chat with Müller Hosting support"),
        "{logs}"
    );
    assert!(
        !logs.contains("ada@example.org"),
        "the recipient is not logged: {logs}"
    );
    assert_eq!(
        mailer.render(EmailKind::ChatFallback, &chat()),
        chat_fallback_email(&chat(), MAILBOX)
    );
}
