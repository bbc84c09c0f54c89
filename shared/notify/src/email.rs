//! The customer e-mail: "your chat continues by e-mail" (docs/policy.md rule 4), and a mailer for
//! the local runtime that renders it and logs instead of sending.

use crate::text::{self, html_escape};
use app::ports::{Delivered, Mailer, NotifyError};
use domain::case::{AlertContext, EmailKind};
use domain::policy::Language;

/// The support mailbox that customer replies go to, e.g. `Acme Hosting <support@acme.example>`
/// (its display name names the company in the e-mail) or a bare `support@acme.example`.
pub const SUPPORT_MAILBOX_VAR: &str = "SUPPORT_MAILBOX";

/// What [`LogMailer`] renders with when `SUPPORT_MAILBOX` is unset (`.invalid` is reserved, so
/// the text is obviously a placeholder).
pub const PLACEHOLDER_MAILBOX: &str = "support@example.invalid";

/// A rendered e-mail: a one-line UTF-8 subject (an SES adapter encodes it for the header), a
/// plain-text body and an HTML body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailContent {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The chat-fallback e-mail to the customer, in English: see [`chat_fallback_email_in`].
pub fn chat_fallback_email(context: &AlertContext, support_mailbox: &str) -> EmailContent {
    chat_fallback_email_in(Language::English, context, support_mailbox)
}

/// The chat-fallback e-mail to the customer in `language` (the policy's `[chat] language`, the
/// language of the reply in the chat): the conversation continues by e-mail, and a reply
/// reaches support. `support_mailbox` is `Company <address>` or a bare address; the company is
/// its display name (a trailing "Support" dropped), or else the address's domain.
///
/// Every piece of user text (name, subject) is put on one line and bounded, and escaped in the
/// HTML body; the subject line holds no user text at all.
pub fn chat_fallback_email_in(
    language: Language,
    context: &AlertContext,
    support_mailbox: &str,
) -> EmailContent {
    let mailbox = Mailbox::parse(support_mailbox);
    let company = mailbox.company();
    let address = mailbox.address;
    let name = context
        .request
        .requester
        .as_ref()
        .and_then(|r| r.name.as_deref())
        .map(|name| text::clean(name, 100))
        .filter(|name| !name.is_empty());
    let topic = text::subject(context, 200);
    let reference = context.case_id.as_str();
    let parts = Parts {
        company: &company,
        address: &address,
        name: name.as_deref(),
        topic: topic.as_deref(),
        reference,
    };
    match language {
        Language::English => english(&parts),
        Language::German => german(&parts),
    }
}

/// What both languages fill in (already cleaned and bounded, not yet escaped).
struct Parts<'a> {
    company: &'a str,
    address: &'a str,
    name: Option<&'a str>,
    topic: Option<&'a str>,
    reference: &'a str,
}

fn english(parts: &Parts<'_>) -> EmailContent {
    let Parts {
        company,
        address,
        name,
        topic,
        reference,
    } = *parts;
    let subject = text::clean(
        &format!("Your chat with {company} support continues by e-mail"),
        200,
    );

    let greeting = match name {
        Some(name) => format!("Hello {name},"),
        None => "Hello,".to_owned(),
    };
    let about = topic
        .map(|topic| format!(" about “{topic}”"))
        .unwrap_or_default();
    let text = format!(
        "{greeting}\n\
         \n\
         Thank you for contacting {company} support by chat{about}. We have not been able to \
         answer you in the chat yet, so we will continue the conversation by e-mail.\n\
         \n\
         Simply reply to this e-mail: your reply reaches our support team ({address}), and we \
         will answer you by e-mail. There is no need to stay in the chat.\n\
         \n\
         Your reference: {reference}\n\
         \n\
         Kind regards\n\
         {company} support\n"
    );

    let greeting = match name {
        Some(name) => format!("Hello {},", html_escape(name)),
        None => "Hello,".to_owned(),
    };
    let about = topic
        .map(|topic| format!(" about “{}”", html_escape(topic)))
        .unwrap_or_default();
    let company_html = html_escape(company);
    let address_html = html_escape(address);
    let html = format!(
        "<!DOCTYPE html>\n\
         <html><head><meta charset=\"utf-8\"><title>{subject_html}</title></head>\n\
         <body>\n\
         <p>{greeting}</p>\n\
         <p>Thank you for contacting {company_html} support by chat{about}. We have not been \
         able to answer you in the chat yet, so we will continue the conversation by \
         e-mail.</p>\n\
         <p>Simply reply to this e-mail: your reply reaches our support team \
         (<a href=\"mailto:{address_html}\">{address_html}</a>), and we will answer you by \
         e-mail. There is no need to stay in the chat.</p>\n\
         <p>Your reference: {reference_html}</p>\n\
         <p>Kind regards<br>\n{company_html} support</p>\n\
         </body></html>\n",
        subject_html = html_escape(&subject),
        reference_html = html_escape(reference),
    );

    EmailContent {
        subject,
        text,
        html,
    }
}

fn german(parts: &Parts<'_>) -> EmailContent {
    let Parts {
        company,
        address,
        name,
        topic,
        reference,
    } = *parts;
    let subject = text::clean(
        &format!("Ihr Chat mit dem {company} Support geht per E-Mail weiter"),
        200,
    );

    let greeting = match name {
        Some(name) => format!("Hallo {name},"),
        None => "Guten Tag,".to_owned(),
    };
    let about = topic
        .map(|topic| format!(" zum Thema „{topic}“"))
        .unwrap_or_default();
    let text = format!(
        "{greeting}\n\
         \n\
         vielen Dank für Ihre Anfrage im Chat{about}. Leider konnten wir Ihnen dort noch nicht \
         antworten, daher machen wir per E-Mail weiter.\n\
         \n\
         Antworten Sie einfach auf diese E-Mail: Ihre Antwort erreicht unser Support-Team \
         ({address}), und wir antworten Ihnen per E-Mail. Sie müssen nicht im Chat bleiben.\n\
         \n\
         Ihre Vorgangsnummer: {reference}\n\
         \n\
         Freundliche Grüße\n\
         Ihr {company} Support\n"
    );

    let greeting = match name {
        Some(name) => format!("Hallo {},", html_escape(name)),
        None => "Guten Tag,".to_owned(),
    };
    let about = topic
        .map(|topic| format!(" zum Thema „{}“", html_escape(topic)))
        .unwrap_or_default();
    let company_html = html_escape(company);
    let address_html = html_escape(address);
    let html = format!(
        "<!DOCTYPE html>\n\
         <html lang=\"de\"><head><meta charset=\"utf-8\"><title>{subject_html}</title></head>\n\
         <body>\n\
         <p>{greeting}</p>\n\
         <p>vielen Dank für Ihre Anfrage im Chat{about}. Leider konnten wir Ihnen dort noch \
         nicht antworten, daher machen wir per E-Mail weiter.</p>\n\
         <p>Antworten Sie einfach auf diese E-Mail: Ihre Antwort erreicht unser Support-Team \
         (<a href=\"mailto:{address_html}\">{address_html}</a>), und wir antworten Ihnen per \
         E-Mail. Sie müssen nicht im Chat bleiben.</p>\n\
         <p>Ihre Vorgangsnummer: {reference_html}</p>\n\
         <p>Freundliche Grüße<br>\nIhr {company_html} Support</p>\n\
         </body></html>\n",
        subject_html = html_escape(&subject),
        reference_html = html_escape(reference),
    );

    EmailContent {
        subject,
        text,
        html,
    }
}

/// `Display Name <address>` or `address`.
#[derive(Debug)]
struct Mailbox {
    display_name: Option<String>,
    address: String,
}

impl Mailbox {
    fn parse(mailbox: &str) -> Self {
        let mailbox = text::one_line(mailbox);
        let (display_name, address) = match (mailbox.rfind('<'), mailbox.ends_with('>')) {
            (Some(open), true) => (
                Some(mailbox[..open].trim().trim_matches('"').trim().to_owned()),
                mailbox[open + 1..mailbox.len() - 1].trim().to_owned(),
            ),
            _ => (None, mailbox.trim().to_owned()),
        };
        Self {
            display_name: display_name.filter(|name| !name.is_empty()),
            address: text::truncate_chars(&address, 254),
        }
    }

    /// `Acme Hosting` from `Acme Hosting Support <…>`, else `acme.example` from the address.
    fn company(&self) -> String {
        let from_name = self.display_name.as_deref().map(|name| {
            // Compared as ASCII on the last bytes: lower-casing could move char boundaries.
            let cut = name.len().saturating_sub("support".len());
            match name.get(cut..) {
                Some(last) if last.eq_ignore_ascii_case("support") => {
                    let rest = &name[..cut];
                    if rest.is_empty() || rest.ends_with(' ') {
                        rest.trim()
                    } else {
                        name
                    }
                }
                _ => name,
            }
        });
        let from_address = self
            .address
            .rsplit_once('@')
            .map(|(_, domain)| domain.to_owned());
        let company = from_name
            .filter(|name| !name.is_empty())
            .map(str::to_owned)
            .or(from_address.filter(|domain| !domain.is_empty()))
            .unwrap_or_else(|| "our".to_owned());
        text::clean(&company, 80)
    }
}

/// [`Mailer`] for the local runtime: renders the e-mail, logs that it was not sent, and
/// reports [`Delivered::NotConfigured`]. The recipient's address is not logged.
#[derive(Debug, Clone)]
pub struct LogMailer {
    support_mailbox: String,
    language: Language,
}

impl LogMailer {
    /// Renders in English until [`LogMailer::with_language`] says otherwise.
    pub fn new(support_mailbox: impl Into<String>) -> Self {
        Self {
            support_mailbox: support_mailbox.into(),
            language: Language::English,
        }
    }

    /// The language of the e-mails (the policy's `[chat] language`).
    pub fn with_language(mut self, language: Language) -> Self {
        self.language = language;
        self
    }

    /// From `SUPPORT_MAILBOX`, else [`PLACEHOLDER_MAILBOX`].
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let mailbox = env_config::optional(&lookup, SUPPORT_MAILBOX_VAR)
            .unwrap_or_else(|| PLACEHOLDER_MAILBOX.to_owned());
        Self::new(mailbox)
    }

    /// The e-mail this mailer would send.
    pub fn render(&self, email: EmailKind, context: &AlertContext) -> EmailContent {
        match email {
            EmailKind::ChatFallback => {
                chat_fallback_email_in(self.language, context, &self.support_mailbox)
            }
        }
    }
}

impl Mailer for LogMailer {
    async fn send(
        &self,
        email: EmailKind,
        _to: &str,
        context: &AlertContext,
    ) -> Result<Delivered, NotifyError> {
        let content = self.render(email, context);
        tracing::info!(
            receiver = "email",
            email = email.as_str(),
            case = context.case_id.as_str(),
            subject = content.subject,
            "not sent: no destination configured"
        );
        tracing::debug!(
            case = context.case_id.as_str(),
            text = content.text,
            "the e-mail that was not sent"
        );
        Ok(Delivered::NotConfigured)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_company_comes_from_the_display_name_or_the_domain() {
        let company = |mailbox: &str| Mailbox::parse(mailbox).company();
        assert_eq!(
            company("Acme Hosting Support <support@acme.example>"),
            "Acme Hosting"
        );
        assert_eq!(
            company("\"Müller Hosting\" <support@mh.example>"),
            "Müller Hosting"
        );
        assert_eq!(company("Support <support@acme.example>"), "acme.example");
        assert_eq!(company("Helpsupport <h@acme.example>"), "Helpsupport");
        assert_eq!(company("Grüße İİ Support <x@y>"), "Grüße İİ");
        assert_eq!(company("support@acme.example"), "acme.example");
        assert_eq!(company(""), "our");
        assert_eq!(Mailbox::parse("A <b@c>").address, "b@c");
    }
}
