//! The local mailer's settings: SMTP only when `SMTP_URL` is set, and errors that name the
//! variable without showing its value.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use notify::LocalMailer;

fn lookup<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |name| {
        pairs
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| (*value).to_owned())
    }
}

#[test]
fn without_smtp_url_e_mails_are_logged() {
    let mailer = LocalMailer::from_lookup(lookup(&[("SUPPORT_MAILBOX", "support@acme.example")]));
    assert!(matches!(mailer, Ok(LocalMailer::Log(_))), "{mailer:?}");
}

#[tokio::test]
async fn with_smtp_url_and_a_mailbox_e_mails_go_over_smtp() {
    let mailer = LocalMailer::from_lookup(lookup(&[
        ("SMTP_URL", "smtp://127.0.0.1:2525"),
        ("SUPPORT_MAILBOX", "Acme Support <support@acme.example>"),
    ]));
    assert!(matches!(mailer, Ok(LocalMailer::Smtp(_))), "{mailer:?}");
}

#[test]
fn a_bad_smtp_url_names_the_variable_and_never_shows_the_password() {
    let error = LocalMailer::from_lookup(lookup(&[
        ("SMTP_URL", "imap://user:hunter2@mail.example"),
        ("SUPPORT_MAILBOX", "support@acme.example"),
    ]))
    .unwrap_err()
    .to_string();
    assert!(error.contains("SMTP_URL"), "{error}");
    assert!(!error.contains("hunter2"), "{error}");
}

#[test]
fn smtp_needs_a_support_mailbox_to_send_from() {
    let error = LocalMailer::from_lookup(lookup(&[("SMTP_URL", "smtp://127.0.0.1:2525")]))
        .unwrap_err()
        .to_string();
    assert!(error.contains("SUPPORT_MAILBOX"), "{error}");
}
