//! The customer e-mail over SMTP, for the local runtime (`SMTP_URL`), and the local mailer that
//! chooses between SMTP and logging. The text is [`crate::chat_fallback_email_in`], the same as
//! SES sends on AWS.
//!
//! lettre, on tokio with rustls: `smtp://host:port` (plain, e.g. a local test server),
//! `smtp://host:587?tls=required` (STARTTLS) or `smtps://host:465`; credentials as the URL's
//! user and password. The URL is a secret (it may hold a password) and never printed.

use crate::email::{EmailContent, LogMailer, SUPPORT_MAILBOX_VAR, chat_fallback_email_in};
use app::ports::{Delivered, Mailer, NotifyError};
use domain::case::{AlertContext, EmailKind};
use domain::policy::Language;
use env_config::{ConfigError, Secret};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

pub const SMTP_URL_VAR: &str = "SMTP_URL";
/// The sender; default `SUPPORT_MAILBOX`.
pub const SMTP_FROM_VAR: &str = "SMTP_FROM";

/// How long one SMTP delivery may take, connection included.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// Sends the customer e-mail through an SMTP server.
#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    reply_to: Mailbox,
    support_mailbox: String,
    language: Language,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("from", &self.from.to_string())
            .field("language", &self.language)
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// `url` is `SMTP_URL`; `from` and `support_mailbox` are `Name <address>` or an address.
    pub fn new(url: &Secret, from: &str, support_mailbox: &str) -> Result<Self, ConfigError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
            .map_err(|_| ConfigError::Invalid {
                name: SMTP_URL_VAR,
                // The value may hold a password: only its shape is described.
                reason: "not an SMTP URL such as smtp://host:25, smtp://host:587?tls=required or smtps://user:password@host:465".into(),
            })?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        let mailbox = |name: &'static str, text: &str| {
            text.parse::<Mailbox>()
                .map_err(|error| ConfigError::Invalid {
                    name,
                    reason: format!("{text:?} is not a mailbox: {error}"),
                })
        };
        Ok(Self {
            transport,
            from: mailbox(SMTP_FROM_VAR, from)?,
            reply_to: mailbox(SUPPORT_MAILBOX_VAR, support_mailbox)?,
            support_mailbox: support_mailbox.to_owned(),
            language: Language::English,
        })
    }

    /// The language of the e-mails (the policy's `[chat] language`).
    pub fn with_language(mut self, language: Language) -> Self {
        self.language = language;
        self
    }

    fn message(&self, to: &str, content: EmailContent) -> Result<Message, NotifyError> {
        let to: Mailbox = to.parse().map_err(|_| NotifyError::Permanent {
            reason: String::from("the recipient is not an e-mail address"),
        })?;
        Message::builder()
            .from(self.from.clone())
            .reply_to(self.reply_to.clone())
            .to(to)
            .subject(content.subject)
            .multipart(MultiPart::alternative_plain_html(
                content.text,
                content.html,
            ))
            .map_err(|error| NotifyError::Permanent {
                reason: format!("cannot build the e-mail: {error}"),
            })
    }
}

impl Mailer for SmtpMailer {
    async fn send(
        &self,
        email: EmailKind,
        to: &str,
        context: &AlertContext,
    ) -> Result<Delivered, NotifyError> {
        let content = match email {
            EmailKind::ChatFallback => {
                chat_fallback_email_in(self.language, context, &self.support_mailbox)
            }
        };
        let message = self.message(to, content)?;
        match self.transport.send(message).await {
            Ok(response) => Ok(Delivered::Sent {
                detail: format!("SMTP {}", response.code()),
            }),
            // A 5xx answer will be the same next time; anything else (4xx, connection, timeout)
            // may pass.
            Err(error) if error.is_permanent() => Err(NotifyError::Permanent {
                reason: format!("SMTP refused the e-mail: {error}"),
            }),
            Err(error) => Err(NotifyError::Retryable {
                reason: format!("SMTP failed: {error}"),
                retry_after: None,
            }),
        }
    }
}

/// The local runtime's mailer: SMTP when `SMTP_URL` is set, else the logging mailer.
#[derive(Debug, Clone)]
pub enum LocalMailer {
    Smtp(SmtpMailer),
    Log(LogMailer),
}

impl LocalMailer {
    /// From `SMTP_URL`, `SMTP_FROM` and `SUPPORT_MAILBOX`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let Some(url) = env_config::optional_secret(&lookup, SMTP_URL_VAR) else {
            return Ok(Self::Log(LogMailer::from_lookup(lookup)));
        };
        let support = env_config::optional(&lookup, SUPPORT_MAILBOX_VAR)
            .ok_or(ConfigError::Missing(SUPPORT_MAILBOX_VAR))?;
        let from = env_config::optional(&lookup, SMTP_FROM_VAR).unwrap_or_else(|| support.clone());
        SmtpMailer::new(&url, &from, &support).map(Self::Smtp)
    }

    pub fn with_language(self, language: Language) -> Self {
        match self {
            Self::Smtp(mailer) => Self::Smtp(mailer.with_language(language)),
            Self::Log(mailer) => Self::Log(mailer.with_language(language)),
        }
    }
}

impl Mailer for LocalMailer {
    async fn send(
        &self,
        email: EmailKind,
        to: &str,
        context: &AlertContext,
    ) -> Result<Delivered, NotifyError> {
        match self {
            Self::Smtp(mailer) => mailer.send(email, to, context).await,
            Self::Log(mailer) => mailer.send(email, to, context).await,
        }
    }
}
