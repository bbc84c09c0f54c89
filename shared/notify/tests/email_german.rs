//! The chat-fallback e-mail in German, the language of the reply in the chat by default.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::chat;
use domain::case::EmailKind;
use domain::policy::Language;
use notify::{LogMailer, chat_fallback_email, chat_fallback_email_in};

const MAILBOX: &str = "Müller Hosting Support <support@mueller.example>";

#[test]
fn the_german_e_mail_says_in_german_that_the_chat_continues_by_e_mail() {
    let email = chat_fallback_email_in(Language::German, &chat(), MAILBOX);

    assert_eq!(
        email.subject,
        "Ihr Chat mit dem Müller Hosting Support geht per E-Mail weiter"
    );
    assert!(email.text.contains("per E-Mail weiter"), "{}", email.text);
    assert!(
        email
            .text
            .contains("Antworten Sie einfach auf diese E-Mail"),
        "{}",
        email.text
    );
    assert!(
        email.text.contains("support@mueller.example"),
        "{}",
        email.text
    );
    assert!(email.text.contains("intercom-1295"), "{}", email.text);
    assert!(email.html.contains("<html lang=\"de\">"), "{}", email.html);
    assert!(email.html.contains("Vorgangsnummer"), "{}", email.html);
}

#[test]
fn english_stays_the_default_of_the_plain_function() {
    assert_eq!(
        chat_fallback_email(&chat(), MAILBOX),
        chat_fallback_email_in(Language::English, &chat(), MAILBOX)
    );
}

#[test]
fn the_log_mailer_renders_in_the_language_it_is_given() {
    let german = LogMailer::new(MAILBOX).with_language(Language::German);
    assert_eq!(
        german.render(EmailKind::ChatFallback, &chat()),
        chat_fallback_email_in(Language::German, &chat(), MAILBOX)
    );
    let english = LogMailer::new(MAILBOX);
    assert_eq!(
        english.render(EmailKind::ChatFallback, &chat()),
        chat_fallback_email(&chat(), MAILBOX)
    );
}
