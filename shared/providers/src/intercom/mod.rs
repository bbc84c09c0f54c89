//! Intercom webhooks (conversation topics), described in docs/providers/intercom.md.
//!
//! Signature: `X-Hub-Signature: sha1=<hex HMAC-SHA1(client secret, raw body)>`. Intercom checks
//! the URL with an unsigned `HEAD` and then sends a signed `ping`; both answer 200.

mod wire;

use crate::config::{self, ConfigError};
use crate::lenient::Id;
use crate::request::{DEFAULT_BODY_LIMIT, Intake, RawRequest, Rejection, excerpt};
use crate::{Classifier, Webhook, json, signature};
use domain::case::{
    CaseEvent, CaseFacts, CaseId, Change, References, RequestFacts, Requester, Status,
};
use domain::policy::{Channel, Plan, Priority};
use env_config::Secret;
use http::Method;
use jiff::Timestamp;
use wire::{Conversation, DeletedConversation, Notification};

pub const SIGNATURE_HEADER: &str = "x-hub-signature";

const PROVIDER: &str = "intercom";
/// A deleted conversation: its payload names only the conversation.
const DELETED_TOPIC: &str = "conversation.deleted";
/// Contacts named for lookup, at most; longer ids are not Intercom's.
const MAX_CONTACTS: usize = 5;
const MAX_CONTACT_ID_LEN: usize = 64;

/// How to verify Intercom webhooks.
#[derive(Debug, Clone)]
pub struct IntercomConfig {
    /// The app's client secret (Developer Hub → Basic information); there is no webhook secret.
    pub client_secret: Secret,
    pub body_limit: usize,
}

impl IntercomConfig {
    pub fn new(client_secret: Secret) -> Self {
        Self {
            client_secret,
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }

    /// From `INTERCOM_CLIENT_SECRET` (required).
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self::new(config::required_secret(
            &lookup,
            "INTERCOM_CLIENT_SECRET",
        )?))
    }

    pub fn with_body_limit(mut self, limit: usize) -> Self {
        self.body_limit = limit;
        self
    }
}

/// The Intercom webhook endpoint.
#[derive(Debug, Clone)]
pub struct IntercomHandler {
    config: IntercomConfig,
    classifier: Classifier,
}

impl IntercomHandler {
    pub fn new(config: IntercomConfig, classifier: Classifier) -> Self {
        Self { config, classifier }
    }

    /// Verify, parse and normalize one request. `HEAD` answers [`Intake::Pong`] unsigned.
    pub fn handle(&self, request: &RawRequest<'_>, now: Timestamp) -> Result<Intake, Rejection> {
        if request.method == Method::HEAD {
            return Ok(Intake::Pong);
        }
        request.require_method(&[Method::POST, Method::HEAD], "POST, HEAD")?;
        request.require_size(self.config.body_limit)?;
        self.verify(request)?;
        crate::plausible::check(PROVIDER, self.parse(request.body)?, now)
    }

    fn verify(&self, request: &RawRequest<'_>) -> Result<(), Rejection> {
        let given = request
            .header(SIGNATURE_HEADER)
            .ok_or(Rejection::MissingSignature {
                header: "X-Hub-Signature",
            })?;
        let tag = given
            .trim_ascii()
            .strip_prefix(b"sha1=")
            .and_then(|hex_digits| hex::decode(hex_digits).ok())
            .ok_or(Rejection::BadSignature)?;
        if signature::sha1_verifies(
            self.config.client_secret.expose().as_bytes(),
            &[request.body],
            &tag,
        ) {
            Ok(())
        } else {
            Err(Rejection::BadSignature)
        }
    }

    fn parse(&self, body: &[u8]) -> Result<Intake, Rejection> {
        let notification: Notification<'_> = json::parse(PROVIDER, "", body)?;
        if notification.topic == "ping" {
            return Ok(Intake::Pong);
        }
        if notification.topic == DELETED_TOPIC {
            return Ok(Intake::Accepted(vec![self.deletion_event(&notification)?]));
        }
        let Some(topic) = Topic::from_name(&notification.topic) else {
            let reason = format!(
                "intercom topic {} is not tracked",
                excerpt(&notification.topic)
            );
            tracing::info!(provider = PROVIDER, %reason, "webhook ignored");
            return Ok(Intake::Ignored { reason });
        };
        let item = notification
            .data
            .as_ref()
            .and_then(|data| data.item)
            .ok_or_else(|| missing("data.item"))?;
        let conversation: Conversation = json::parse(PROVIDER, "data.item", item.get().as_bytes())?;
        if let Some(kind) = conversation
            .kind
            .as_deref()
            .filter(|k| *k != "conversation")
        {
            return Err(Rejection::malformed(
                PROVIDER,
                format_args!(
                    "topic {} carries a {:?}, not a conversation",
                    topic.name(),
                    excerpt(kind)
                ),
            ));
        }
        Ok(Intake::Accepted(vec![self.conversation_event(
            &notification,
            topic,
            &conversation,
        )?]))
    }

    fn conversation_event(
        &self,
        notification: &Notification<'_>,
        topic: Topic,
        conversation: &Conversation,
    ) -> Result<CaseEvent, Rejection> {
        let conversation_id = conversation.id.0.trim();
        if conversation_id.is_empty() {
            return Err(missing("data.item.id"));
        }
        let case_id = CaseId::for_provider(PROVIDER, conversation_id)
            .map_err(|error| Rejection::malformed(PROVIDER, error))?;
        let last_part = conversation
            .conversation_parts
            .as_ref()
            .and_then(|list| list.conversation_parts.as_ref())
            .and_then(|parts| parts.last());
        let part_at = last_part.and_then(|part| part.created_at);

        let occurred_at = match topic {
            Topic::UserCreated => Some(conversation.created_at),
            // A reply happened when its part was written; the envelope is close behind.
            Topic::AdminReplied | Topic::UserReplied => part_at.or(notification.created_at),
            Topic::AdminAssigned
            | Topic::AdminClosed
            | Topic::PriorityUpdated
            | Topic::AdminOpened
            | Topic::AdminSnoozed => notification
                .created_at
                .or(part_at)
                .or(conversation.updated_at),
        }
        .ok_or_else(|| missing("created_at"))
        .and_then(|seconds| unix(seconds, "created_at"))?;

        let event_id = match notification.id.as_ref().map(|id| id.0.trim()) {
            Some(id) if !id.is_empty() => id.to_owned(),
            // No notification id: name the event by what it is, so a redelivery gets the same.
            _ => {
                let part = last_part
                    .and_then(|part| part.id.as_ref())
                    .map_or("-", |id| id.0.as_str());
                format!(
                    "derived:{}:{conversation_id}:{part}:{}",
                    topic.name(),
                    occurred_at.as_second()
                )
            }
        };

        let mut snapshot = self.snapshot(conversation)?;
        snapshot.request.link = notification
            .app_id
            .as_deref()
            .and_then(|app| inbox_link(app, conversation_id));
        let change = match topic {
            Topic::UserCreated => Change::Opened,
            Topic::AdminReplied => {
                // A conversation first heard of through its reply is created answered.
                snapshot.first_response_at.get_or_insert(occurred_at);
                Change::AgentReplied
            }
            Topic::AdminAssigned => Change::Assigned {
                assignee: snapshot.assignee.clone(),
            },
            Topic::AdminClosed => {
                snapshot.status = Status::Solved;
                Change::Solved
            }
            Topic::PriorityUpdated => Change::PriorityChanged {
                priority: snapshot.request.priority,
            },
            Topic::UserReplied => Change::CustomerReplied,
            // An admin reopened a closed conversation: a follow-up (docs/policy.md rule 6).
            Topic::AdminOpened => {
                snapshot.status = Status::Open;
                Change::Reopened
            }
            Topic::AdminSnoozed => Change::Observed,
        };
        // Raw strings become domain values here: bounded, so that no case outgrows its item.
        Ok(crate::bounded::event(CaseEvent {
            case_id,
            event_id,
            occurred_at,
            change,
            snapshot,
        }))
    }

    /// `conversation.deleted`: Intercom sends only the conversation's identifying fields, so
    /// the event can only solve a case we know ([`Change::Deleted`]). Its snapshot holds what
    /// the payload says (a chat, deleted, when); the machine does not create a case from it.
    fn deletion_event(&self, notification: &Notification<'_>) -> Result<CaseEvent, Rejection> {
        let item = notification
            .data
            .as_ref()
            .and_then(|data| data.item)
            .ok_or_else(|| missing("data.item"))?;
        let deleted: DeletedConversation =
            json::parse(PROVIDER, "data.item", item.get().as_bytes())?;
        if let Some(kind) = deleted.kind.as_deref().filter(|k| *k != "conversation") {
            return Err(Rejection::malformed(
                PROVIDER,
                format_args!(
                    "topic {DELETED_TOPIC} carries a {:?}, not a conversation",
                    excerpt(kind)
                ),
            ));
        }
        let conversation_id = deleted.id.0.trim();
        if conversation_id.is_empty() {
            return Err(missing("data.item.id"));
        }
        let case_id = CaseId::for_provider(PROVIDER, conversation_id)
            .map_err(|error| Rejection::malformed(PROVIDER, error))?;
        let occurred_at = notification
            .created_at
            .ok_or_else(|| missing("created_at"))
            .and_then(|seconds| unix(seconds, "created_at"))?;
        let event_id = match notification.id.as_ref().map(|id| id.0.trim()) {
            Some(id) if !id.is_empty() => id.to_owned(),
            _ => format!(
                "derived:{DELETED_TOPIC}:{conversation_id}:{}",
                occurred_at.as_second()
            ),
        };
        let link = notification
            .app_id
            .as_deref()
            .and_then(|app| inbox_link(app, conversation_id));
        Ok(crate::bounded::event(CaseEvent {
            case_id,
            event_id,
            occurred_at,
            change: Change::Deleted,
            snapshot: CaseFacts {
                request: RequestFacts {
                    channel: Channel::Chat,
                    plan: Plan::Standard,
                    priority: Priority::Normal,
                    received: occurred_at,
                    labels: Default::default(),
                    subject: None,
                    requester: None,
                    link,
                    voicemail: None,
                },
                status: Status::Solved,
                assignee: None,
                first_response_at: None,
                adoption: None,
                references: References::default(),
            },
        }))
    }

    fn snapshot(&self, conversation: &Conversation) -> Result<CaseFacts, Rejection> {
        let tags: Vec<&str> = conversation
            .tags
            .iter()
            .flat_map(|list| list.tags.iter().flatten())
            .map(|tag| tag.name.as_str())
            .collect();
        let plans = &self.classifier.plans;
        let by_attribute = || {
            conversation
                .custom_attributes
                .iter()
                .flatten()
                .find_map(|(name, value)| {
                    let text = match value {
                        serde_json::Value::String(text) => text.clone(),
                        serde_json::Value::Bool(_) | serde_json::Value::Number(_) => {
                            value.to_string()
                        }
                        _ => return None,
                    };
                    plans.plan_for_attribute(name, &text)
                })
        };
        let plan = match plans.plan_for_tags(tags.iter().copied()) {
            Plan::Enterprise => Plan::Enterprise,
            Plan::Standard => by_attribute().unwrap_or(Plan::Standard),
        };
        let priority = match conversation.priority.as_deref() {
            Some("priority") => Priority::High,
            _ => Priority::Normal,
        };
        let closed = match conversation.state.as_deref() {
            Some(state) => state.eq_ignore_ascii_case("closed"),
            None => conversation.open == Some(false),
        };
        let first_response_at = conversation
            .statistics
            .as_ref()
            .and_then(|stats| stats.first_admin_reply_at)
            .filter(|seconds| *seconds > 0)
            .map(|seconds| unix(seconds, "statistics.first_admin_reply_at"))
            .transpose()?;
        let source = conversation.source.as_ref();
        // Chats rarely have a title: then the customer's first message, trimmed, says what
        // the alert is about.
        let subject = nonempty(conversation.title.as_deref())
            .or_else(|| nonempty(source.and_then(|s| s.subject.as_deref())))
            .or_else(|| first_message(source.and_then(|s| s.body.as_deref())));
        let requester = source
            .and_then(|s| s.author.as_ref())
            .filter(|author| !matches!(author.kind.as_deref(), Some("admin" | "bot" | "team")))
            .map(|author| Requester {
                name: nonempty(author.name.as_deref()),
                email: nonempty(author.email.as_deref()),
            })
            .filter(|r| r.name.is_some() || r.email.is_some());

        Ok(CaseFacts {
            request: RequestFacts {
                channel: Channel::Chat,
                plan,
                priority,
                received: unix(conversation.created_at, "data.item.created_at")?,
                labels: self.classifier.labels.labels(tags.iter().copied()),
                subject,
                requester,
                link: None,
                voicemail: None,
            },
            status: if closed { Status::Solved } else { Status::Open },
            assignee: conversation
                .admin_assignee_id
                .clone()
                .and_then(Id::into_some),
            first_response_at,
            adoption: None,
            references: References {
                contact_ids: conversation
                    .contacts
                    .iter()
                    .flat_map(|list| list.contacts.iter().flatten())
                    .filter_map(|contact| contact.id.clone().and_then(Id::into_some))
                    .filter(|id| id.len() <= MAX_CONTACT_ID_LEN)
                    .take(MAX_CONTACTS)
                    .collect(),
                ..References::default()
            },
        })
    }
}

impl Webhook for IntercomHandler {
    fn handle(&self, request: &RawRequest<'_>, now: Timestamp) -> Result<Intake, Rejection> {
        IntercomHandler::handle(self, request, now)
    }
}

/// The value of `X-Hub-Signature` for a body, for simulators and tests that play Intercom.
pub fn sign(client_secret: &Secret, body: &[u8]) -> String {
    format!(
        "sha1={}",
        signature::sha1_hex(client_secret.expose().as_bytes(), &[body])
    )
}

/// The conversation topics we interpret; every other topic is answered 200 and ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Topic {
    UserCreated,
    AdminReplied,
    AdminAssigned,
    AdminClosed,
    PriorityUpdated,
    UserReplied,
    /// An admin reopened a closed conversation.
    AdminOpened,
    /// Snoozed or unsnoozed: nothing we track changes; the snapshot may still create the case.
    AdminSnoozed,
}

impl Topic {
    const ALL: [(Topic, &'static str); 9] = [
        (Topic::UserCreated, "conversation.user.created"),
        (Topic::AdminReplied, "conversation.admin.replied"),
        (Topic::AdminAssigned, "conversation.admin.assigned"),
        (Topic::AdminClosed, "conversation.admin.closed"),
        (Topic::PriorityUpdated, "conversation.priority.updated"),
        (Topic::UserReplied, "conversation.user.replied"),
        (Topic::AdminOpened, "conversation.admin.opened"),
        (Topic::AdminSnoozed, "conversation.admin.snoozed"),
        (Topic::AdminSnoozed, "conversation.admin.unsnoozed"),
    ];

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(_, text)| *text == name)
            .map(|(topic, _)| *topic)
    }

    fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(topic, _)| *topic == self)
            .map_or("conversation", |(_, text)| text)
    }
}

fn unix(seconds: i64, field: &str) -> Result<Timestamp, Rejection> {
    Timestamp::from_second(seconds).map_err(|_| {
        Rejection::malformed(
            PROVIDER,
            format_args!("`{field}` {seconds} is not a unix time in seconds"),
        )
    })
}

/// How much of the first message a subject keeps (characters).
const FIRST_MESSAGE_CHARS: usize = 200;

/// The conversation in the Intercom inbox; `None` for an app id that is not one (it goes into
/// a URL).
fn inbox_link(app_id: &str, conversation_id: &str) -> Option<String> {
    let app_id = app_id.trim();
    let valid = !app_id.is_empty()
        && app_id.len() <= 64
        && app_id.bytes().all(|b| b.is_ascii_alphanumeric());
    valid.then(|| {
        format!("https://app.intercom.com/a/inbox/{app_id}/inbox/conversation/{conversation_id}")
    })
}

/// The text of an HTML message body on one line: tags dropped (a block or a `<br>` becomes a
/// space), the common entities decoded, whitespace collapsed, cut to
/// [`FIRST_MESSAGE_CHARS`] characters with `…`.
fn first_message(html: Option<&str>) -> Option<String> {
    let html = html?;
    let mut text = String::with_capacity(html.len().min(4 * FIRST_MESSAGE_CHARS));
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let decoded = text
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    let words: Vec<&str> = decoded.split_whitespace().collect();
    let line = words.join(" ");
    if line.is_empty() {
        return None;
    }
    if line.chars().count() <= FIRST_MESSAGE_CHARS {
        return Some(line);
    }
    let mut cut: String = line.chars().take(FIRST_MESSAGE_CHARS - 1).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    Some(cut)
}

fn nonempty(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

fn missing(field: &str) -> Rejection {
    Rejection::malformed(PROVIDER, format_args!("missing field `{field}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_message_is_plain_text_on_one_line_and_trimmed() {
        assert_eq!(
            first_message(Some(
                "<p>Shop&nbsp;is <b>down</b></p><p>since 10:00 &amp; more</p>"
            )),
            Some("Shop is down since 10:00 & more".to_owned())
        );
        assert_eq!(first_message(Some("<p> </p>")), None);
        assert_eq!(first_message(None), None);
        let long = format!("<p>{}</p>", "ä".repeat(500));
        let cut = first_message(Some(&long)).unwrap();
        assert_eq!(cut.chars().count(), FIRST_MESSAGE_CHARS);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn only_a_plain_app_id_makes_an_inbox_link() {
        assert_eq!(
            inbox_link("a86dr8yl", "1295").as_deref(),
            Some("https://app.intercom.com/a/inbox/a86dr8yl/inbox/conversation/1295")
        );
        assert_eq!(inbox_link("a86/../x", "1295"), None);
        assert_eq!(inbox_link(" ", "1295"), None);
    }
}
