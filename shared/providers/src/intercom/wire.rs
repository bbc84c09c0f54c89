//! Intercom notification payloads as they arrive (docs/providers/intercom.md). Timestamps are unix
//! seconds; ids are strings or integers; lists come wrapped in `{"type":"….list", …}` objects.

use crate::lenient::Id;
use serde::Deserialize;
use serde_json::value::RawValue;

/// The notification envelope. `data.item` stays raw until the topic says what it is.
#[derive(Debug, Deserialize)]
pub(super) struct Notification<'a> {
    pub topic: String,
    /// The workspace: part of a conversation's link in the Intercom inbox.
    #[serde(default)]
    pub app_id: Option<String>,
    /// Null on `ping`, and possibly elsewhere: then we derive one.
    #[serde(default)]
    pub id: Option<Id>,
    #[serde(default)]
    pub created_at: Option<i64>,
    #[serde(default, borrow)]
    pub data: Option<Data<'a>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Data<'a> {
    #[serde(default, borrow)]
    pub item: Option<&'a RawValue>,
}

/// The item of `conversation.deleted`: only the identifying fields (Intercom's webhook
/// models: "the *.deleted webhook topics send a minimal identification payload").
#[derive(Debug, Deserialize)]
pub(super) struct DeletedConversation {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    pub id: Id,
}

/// The conversation item (schema `conversation`, API 2.x).
#[derive(Debug, Deserialize)]
pub(super) struct Conversation {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    pub id: Id,
    pub created_at: i64,
    #[serde(default)]
    pub updated_at: Option<i64>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub open: Option<bool>,
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default)]
    pub admin_assignee_id: Option<Id>,
    #[serde(default)]
    pub tags: Option<TagList>,
    #[serde(default)]
    pub source: Option<Source>,
    #[serde(default)]
    pub statistics: Option<Statistics>,
    #[serde(default)]
    pub conversation_parts: Option<PartList>,
    #[serde(default)]
    pub custom_attributes: Option<serde_json::Map<String, serde_json::Value>>,
    /// The conversation's contacts, by id only: their attributes and companies are looked up.
    #[serde(default)]
    pub contacts: Option<ContactList>,
}

/// `{"type": "contact.list", "contacts": [{"type": "contact", "id": "…"}]}`.
#[derive(Debug, Deserialize)]
pub(super) struct ContactList {
    #[serde(default)]
    pub contacts: Option<Vec<ContactRef>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ContactRef {
    #[serde(default)]
    pub id: Option<Id>,
}

#[derive(Debug, Deserialize)]
pub(super) struct TagList {
    #[serde(default)]
    pub tags: Option<Vec<Tag>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Tag {
    pub name: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct Source {
    #[serde(default)]
    pub author: Option<Author>,
    #[serde(default)]
    pub subject: Option<String>,
    /// The customer's first message, as HTML.
    #[serde(default)]
    pub body: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Author {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Statistics {
    #[serde(default)]
    pub first_admin_reply_at: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub(super) struct PartList {
    #[serde(default)]
    pub conversation_parts: Option<Vec<Part>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Part {
    #[serde(default)]
    pub id: Option<Id>,
    #[serde(default)]
    pub created_at: Option<i64>,
}
