//! [`SesMailer`]: the customer e-mail (docs/policy.md rule 4, the chat fallback) with SES v2
//! `SendEmail`.
//!
//! The text comes from [`notify::chat_fallback_email_in`], in the policy's chat language; it is sent as a simple message with a
//! plain-text and an HTML part, UTF-8 throughout, from `SES_FROM_ADDRESS`, with replies going
//! to `SUPPORT_MAILBOX`, tagged `kind=<e-mail kind>` and, when `SES_CONFIGURATION_SET` is set,
//! in that configuration set (for event publishing and suppression).
//!
//! SES's API reference says a subject may only hold 7-bit ASCII, non-ASCII text going in
//! RFC 2047 encoded words: a non-ASCII subject (a company named "Müller") and a non-ASCII
//! display name in From or Reply-To are encoded here, as `=?UTF-8?B?…?=`.
//!
//! The recipient's address is personal data: it is never logged or put in an error in full
//! ([`mask_address`]).

use crate::config::{ConfigError, optional, required};
use crate::error::{Failure, classify, notify_error};
use app::ports::{Delivered, Mailer, NotifyError};
use aws_sdk_sesv2::error::SdkError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message, MessageTag};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use domain::case::{AlertContext, EmailKind};
use domain::policy::Language;
use notify::{SUPPORT_MAILBOX_VAR, chat_fallback_email_in};
use tracing::{info, warn};

/// The sender, e.g. `Acme Hosting Support <noreply@acme.example>`: a verified SES identity.
pub const FROM_ADDRESS_VAR: &str = "SES_FROM_ADDRESS";
/// Optional SES configuration set.
pub const CONFIGURATION_SET_VAR: &str = "SES_CONFIGURATION_SET";
/// The name of the tag that carries the e-mail's kind (`chat_fallback`).
pub const KIND_TAG: &str = "kind";

const CHARSET: &str = "UTF-8";

/// What the mailer sends with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SesConfig {
    pub from_address: String,
    /// Named in the e-mail and set as Reply-To.
    pub support_mailbox: String,
    pub configuration_set: Option<String>,
}

impl SesConfig {
    /// From `SES_FROM_ADDRESS`, `SUPPORT_MAILBOX` and `SES_CONFIGURATION_SET`. `None` when
    /// `SES_FROM_ADDRESS` is unset (no e-mail is sent); `SUPPORT_MAILBOX` is then required, since
    /// the e-mail tells the customer to reply to it.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, ConfigError> {
        let Some(from_address) = optional(&lookup, FROM_ADDRESS_VAR) else {
            return Ok(None);
        };
        let support_mailbox = required(&lookup, SUPPORT_MAILBOX_VAR)?;
        for (name, value) in [
            (FROM_ADDRESS_VAR, &from_address),
            (SUPPORT_MAILBOX_VAR, &support_mailbox),
        ] {
            if !plausible_mailbox(value) {
                return Err(ConfigError::Invalid {
                    name,
                    reason: format!("{value:?} is not an e-mail address"),
                });
            }
        }
        Ok(Some(Self {
            from_address,
            support_mailbox,
            configuration_set: optional(&lookup, CONFIGURATION_SET_VAR),
        }))
    }
}

/// `app::ports::Mailer` on SES v2. Without a sender configured it sends nothing and reports
/// [`Delivered::NotConfigured`], like the other notifiers without their secret.
#[derive(Debug, Clone)]
pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
    config: Option<SesConfig>,
    /// The policy's `[chat] language`; English until told.
    language: Language,
}

impl SesMailer {
    pub fn new(client: aws_sdk_sesv2::Client, config: SesConfig) -> Self {
        Self {
            client,
            config: Some(config),
            language: Language::English,
        }
    }

    /// The language of the e-mails (the policy's `[chat] language`).
    pub fn with_language(mut self, language: Language) -> Self {
        self.language = language;
        self
    }

    /// A mailer that records e-mails as not sent.
    pub fn not_configured(client: aws_sdk_sesv2::Client) -> Self {
        Self {
            client,
            config: None,
            language: Language::English,
        }
    }

    /// See [`SesConfig::from_lookup`]; warns when `SES_FROM_ADDRESS` is unset.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        client: aws_sdk_sesv2::Client,
    ) -> Result<Self, ConfigError> {
        Ok(match SesConfig::from_lookup(lookup)? {
            Some(config) => Self::new(client, config),
            None => {
                warn!(
                    "{FROM_ADDRESS_VAR} is not configured: customer e-mails are recorded, not sent"
                );
                Self::not_configured(client)
            }
        })
    }

    pub fn is_configured(&self) -> bool {
        self.config.is_some()
    }

    async fn send_with(
        &self,
        config: &SesConfig,
        email: EmailKind,
        to: &str,
        context: &AlertContext,
    ) -> Result<Delivered, NotifyError> {
        let masked = mask_address(to);
        let case = context.case_id.as_str();
        if !plausible_address(to) {
            warn!(email = email.as_str(), case, to = %masked, "not an e-mail address; not sent");
            return Err(NotifyError::Permanent {
                reason: format!("the recipient {masked} is not an e-mail address"),
            });
        }
        let content = match email {
            EmailKind::ChatFallback => {
                chat_fallback_email_in(self.language, context, &config.support_mailbox)
            }
        };
        let permanent = |what: &str, error: &dyn std::fmt::Display| NotifyError::Permanent {
            reason: format!("cannot build the {what}: {error}"),
        };
        let subject = Content::builder()
            .data(encode_header_text(&content.subject))
            .charset(CHARSET)
            .build()
            .map_err(|e| permanent("subject", &e))?;
        let text = Content::builder()
            .data(content.text)
            .charset(CHARSET)
            .build()
            .map_err(|e| permanent("text body", &e))?;
        let html = Content::builder()
            .data(content.html)
            .charset(CHARSET)
            .build()
            .map_err(|e| permanent("HTML body", &e))?;
        let tag = MessageTag::builder()
            .name(KIND_TAG)
            .value(email.as_str())
            .build()
            .map_err(|e| permanent("tag", &e))?;
        let message = Message::builder()
            .subject(subject)
            .body(Body::builder().text(text).html(html).build())
            .build();
        let result = self
            .client
            .send_email()
            .from_email_address(encode_mailbox(&config.from_address))
            .destination(Destination::builder().to_addresses(to.trim()).build())
            .reply_to_addresses(encode_mailbox(&config.support_mailbox))
            .content(EmailContent::builder().simple(message).build())
            .email_tags(tag)
            .set_configuration_set_name(config.configuration_set.clone())
            .send()
            .await;
        match result {
            Ok(output) => {
                let message_id = output.message_id().unwrap_or_default().to_owned();
                info!(receiver = "email", email = email.as_str(), case, to = %masked, %message_id, "e-mail sent");
                Ok(Delivered::Sent { detail: message_id })
            }
            Err(error) => {
                let error = send_failure(&error, to.trim(), &masked);
                warn!(receiver = "email", email = email.as_str(), case, to = %masked, %error, "e-mail not sent");
                Err(error)
            }
        }
    }
}

/// Throttling, the sending quota, 5xx, timeouts: `Retryable`. Anything else SES refused
/// (MessageRejected, MailFromDomainNotVerified, a bad address as BadRequest, a missing
/// configuration set, a suspended or paused account): `Permanent`, since the same request
/// will not succeed. SES names unverified recipients in its messages (sandbox): the recipient
/// is masked in the reason.
fn send_failure<E>(error: &SdkError<E, HttpResponse>, to: &str, masked: &str) -> NotifyError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let Failure {
        transient,
        code,
        message,
    } = classify(error, &["LimitExceededException"]);
    let message = if to.is_empty() {
        message
    } else {
        message.replace(to, masked)
    };
    let code = code.as_deref().unwrap_or("-");
    notify_error(transient, format!("SES SendEmail ({code}): {message}"))
}

impl Mailer for SesMailer {
    async fn send(
        &self,
        email: EmailKind,
        to: &str,
        context: &AlertContext,
    ) -> Result<Delivered, NotifyError> {
        match &self.config {
            Some(config) => self.send_with(config, email, to, context).await,
            None => {
                info!(
                    receiver = "email",
                    email = email.as_str(),
                    case = context.case_id.as_str(),
                    to = %mask_address(to),
                    "not sent: no destination configured"
                );
                Ok(Delivered::NotConfigured)
            }
        }
    }
}

/// `jane.doe@example.org` → `j***@example.org`: enough to tell addresses apart in a log, not
/// enough to write to the person. Anything without an `@` becomes `***`.
pub fn mask_address(address: &str) -> String {
    let address = address.trim();
    match address.rsplit_once('@') {
        Some((local, domain)) if !local.is_empty() => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        _ => String::from("***"),
    }
}

/// One bare address: something, `@`, a domain with a dot; no spaces, separators or line breaks
/// (which could add recipients or headers).
fn plausible_address(address: &str) -> bool {
    let address = address.trim();
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !address
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, ',' | ';' | '<' | '>'))
}

/// `address` or `Name <address>`.
fn plausible_mailbox(mailbox: &str) -> bool {
    match (mailbox.rfind('<'), mailbox.ends_with('>')) {
        (Some(open), true) => plausible_address(&mailbox[open + 1..mailbox.len() - 1]),
        _ => plausible_address(mailbox),
    }
}

/// ASCII header text as it is; anything else as RFC 2047 encoded words (`=?UTF-8?B?…?=`, each
/// at most 75 characters, split between characters, separated by spaces, which decoders drop
/// between adjacent encoded words).
pub fn encode_header_text(text: &str) -> String {
    if text.is_ascii() && !text.contains(['\r', '\n']) {
        return text.to_owned();
    }
    // 45 bytes of UTF-8 → 60 base64 characters → 72 with `=?UTF-8?B?` and `?=`.
    const MAX_CHUNK: usize = 45;
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars().filter(|c| !matches!(c, '\r' | '\n')) {
        if chunk.len() + c.len_utf8() > MAX_CHUNK {
            words.push(encoded_word(&chunk));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(encoded_word(&chunk));
    }
    words.join(" ")
}

fn encoded_word(text: &str) -> String {
    format!("=?UTF-8?B?{}?=", BASE64.encode(text.as_bytes()))
}

/// `Name <address>` with a non-ASCII name encoded; a bare address as it is.
fn encode_mailbox(mailbox: &str) -> String {
    let mailbox = mailbox.trim();
    match (mailbox.rfind('<'), mailbox.ends_with('>')) {
        (Some(open), true) if !mailbox[..open].is_ascii() => {
            let name = mailbox[..open].trim().trim_matches('"').trim();
            format!("{} {}", encode_header_text(name), &mailbox[open..])
        }
        _ => mailbox.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_words(header: &str) -> String {
        header
            .split(' ')
            .map(|word| {
                let inner = word
                    .strip_prefix("=?UTF-8?B?")
                    .and_then(|w| w.strip_suffix("?="))
                    .expect("an encoded word");
                String::from_utf8(BASE64.decode(inner).expect("base64")).expect("UTF-8")
            })
            .collect()
    }

    mod failures {
        use super::super::send_failure;
        use app::ports::NotifyError;
        use aws_sdk_sesv2::error::SdkError;
        use aws_sdk_sesv2::operation::send_email::SendEmailError;
        use aws_smithy_runtime_api::http::{Response, StatusCode};
        use aws_smithy_types::body::SdkBody;
        use aws_smithy_types::error::ErrorMetadata;

        fn failure(status: u16, code: &str, message: &str) -> NotifyError {
            let error = SendEmailError::generic(
                ErrorMetadata::builder().code(code).message(message).build(),
            );
            let raw = Response::new(StatusCode::try_from(status).unwrap(), SdkBody::empty());
            send_failure(
                &SdkError::service_error(error, raw),
                "jane@example.org",
                "j***@example.org",
            )
        }

        fn retryable(error: &NotifyError) -> bool {
            matches!(error, NotifyError::Retryable { .. })
        }

        #[test]
        fn throttling_quota_and_server_errors_are_retried_later() {
            assert!(retryable(&failure(
                429,
                "TooManyRequestsException",
                "slow down"
            )));
            assert!(retryable(&failure(
                400,
                "LimitExceededException",
                "daily quota"
            )));
            assert!(retryable(&failure(500, "InternalFailure", "oops")));
            assert!(retryable(&failure(503, "ServiceUnavailable", "later")));
            let timeout = send_failure::<SendEmailError>(
                &SdkError::timeout_error("no answer"),
                "jane@example.org",
                "j***@example.org",
            );
            assert!(retryable(&timeout));
        }

        #[test]
        fn rejections_are_permanent_and_never_name_the_recipient() {
            for code in [
                "MessageRejected",
                "MailFromDomainNotVerifiedException",
                "BadRequestException",
                "NotFoundException",
                "AccountSuspendedException",
            ] {
                let error = failure(400, code, "Email address is not verified: jane@example.org");
                let NotifyError::Permanent { reason } = error else {
                    panic!("{code} should be permanent")
                };
                assert!(reason.contains(code), "{reason}");
                assert!(reason.contains("j***@example.org"), "{reason}");
                assert!(!reason.contains("jane@example.org"), "{reason}");
            }
        }
    }

    #[test]
    fn an_ascii_subject_is_left_alone() {
        let subject = "Your chat with Acme Hosting support continues by e-mail";
        assert_eq!(encode_header_text(subject), subject);
    }

    #[test]
    fn a_non_ascii_subject_becomes_short_encoded_words_that_decode_to_it() {
        let subject = "Your chat with Müller Grüße İİ Hosting support continues by e-mail – «ok» ✓";
        let encoded = encode_header_text(subject);
        assert!(encoded.is_ascii(), "{encoded}");
        for word in encoded.split(' ') {
            assert!(word.len() <= 75, "{word}");
            assert!(
                word.starts_with("=?UTF-8?B?") && word.ends_with("?="),
                "{word}"
            );
        }
        assert!(encoded.split(' ').count() > 1);
        assert_eq!(decode_words(&encoded), subject);
        assert_eq!(decode_words(&encode_header_text("Grüße")), "Grüße");
    }

    #[test]
    fn a_non_ascii_display_name_is_encoded_and_the_address_kept() {
        assert_eq!(
            encode_mailbox("\"Müller Hosting\" <support@mh.example>"),
            format!(
                "{} <support@mh.example>",
                encode_header_text("Müller Hosting")
            )
        );
        assert_eq!(
            encode_mailbox("Acme Support <support@acme.example>"),
            "Acme Support <support@acme.example>"
        );
        assert_eq!(
            encode_mailbox("support@acme.example"),
            "support@acme.example"
        );
    }

    #[test]
    fn addresses_are_masked_for_logs() {
        assert_eq!(mask_address("jane.doe@example.org"), "j***@example.org");
        assert_eq!(mask_address(" ü@example.org "), "ü***@example.org");
        assert_eq!(mask_address("not an address"), "***");
        assert_eq!(mask_address("@example.org"), "***");
    }

    #[test]
    fn only_single_plain_addresses_are_sent_to() {
        assert!(plausible_address("jane@example.org"));
        assert!(plausible_address(" jane+sla@mail.example.org "));
        for bad in [
            "",
            "jane",
            "jane@localhost",
            "@example.org",
            "jane@example.org, eve@example.org",
            "jane@example.org\r\nBcc: eve@example.org",
            "Jane <jane@example.org>",
            "jane@.org",
        ] {
            assert!(!plausible_address(bad), "{bad:?}");
        }
    }

    #[test]
    fn the_config_needs_a_sender_and_then_a_support_mailbox() {
        let none = |_: &str| None;
        assert_eq!(SesConfig::from_lookup(none), Ok(None));
        let no_mailbox =
            |name: &str| (name == FROM_ADDRESS_VAR).then(|| "sla@acme.example".to_owned());
        assert_eq!(
            SesConfig::from_lookup(no_mailbox),
            Err(ConfigError::Missing("SUPPORT_MAILBOX"))
        );
        let all = |name: &str| match name {
            FROM_ADDRESS_VAR => Some("Acme SLA <sla@acme.example>".to_owned()),
            SUPPORT_MAILBOX_VAR => Some("Acme Hosting Support <support@acme.example>".to_owned()),
            CONFIGURATION_SET_VAR => Some("sla".to_owned()),
            _ => None,
        };
        assert_eq!(
            SesConfig::from_lookup(all),
            Ok(Some(SesConfig {
                from_address: "Acme SLA <sla@acme.example>".to_owned(),
                support_mailbox: "Acme Hosting Support <support@acme.example>".to_owned(),
                configuration_set: Some("sla".to_owned()),
            }))
        );
        let bad = |name: &str| match name {
            FROM_ADDRESS_VAR => Some("nobody".to_owned()),
            SUPPORT_MAILBOX_VAR => Some("support@acme.example".to_owned()),
            _ => None,
        };
        assert!(matches!(
            SesConfig::from_lookup(bad),
            Err(ConfigError::Invalid {
                name: "SES_FROM_ADDRESS",
                ..
            })
        ));
    }
}
