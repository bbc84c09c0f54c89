//! The Intercom REST API as a system of record: who a chat's contact is (and their companies),
//! and a reply inside the conversation (the chat fallback offer).
//!
//! Authentication is an access token (`Authorization: Bearer …`) with the `Intercom-Version`
//! header pinned, so that a change of the workspace's default version cannot change the shapes
//! read here (docs/providers/intercom.md). 408, 429 (with `Retry-After`), 5xx, timeouts and
//! network errors are retried; other 4xx are permanent. The token is redacted from every reason.

use crate::http::{self, JsonApi};
use crate::retry::RetryPolicy;
use app::ports::{ChatReplier, Delivered, NotifyError};
use domain::case::AlertContext;
use env_config::{ConfigError, Secret};
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// The official endpoint.
pub const DEFAULT_INTERCOM_API_URL: &str = "https://api.intercom.io";
/// The API version every request asks for.
pub const INTERCOM_API_VERSION: &str = "2.11";

#[derive(Debug, Clone)]
pub struct IntercomApiConfig {
    /// `https://api.intercom.io` (or the EU/AU region host, or a test server).
    pub base_url: Url,
    pub access_token: Secret,
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

impl IntercomApiConfig {
    /// `None` when the token is blank: the API is then not configured.
    pub fn new(base_url: &str, access_token: &str) -> Result<Option<Self>, ConfigError> {
        let base_url = http::parse_url("INTERCOM_API_URL", base_url)?;
        Ok(Secret::new(access_token).map(|access_token| Self {
            base_url,
            access_token,
            timeout: http::DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
        }))
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }
}

/// A contact's own attributes and those of each company it belongs to, as text: what the plan
/// rules (`plans.enterprise_attributes`) are matched against. A company's built-in plan counts
/// as its attribute `plan`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountAttributes {
    pub contact: BTreeMap<String, String>,
    pub companies: Vec<BTreeMap<String, String>>,
}

impl AccountAttributes {
    /// Every (name, value) pair, the contact's first.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        std::iter::once(&self.contact)
            .chain(&self.companies)
            .flat_map(|attributes| {
                attributes
                    .iter()
                    .map(|(name, value)| (name.as_str(), value.as_str()))
            })
    }
}

/// The Intercom REST API client (built once, sharing the process's HTTP client).
#[derive(Debug, Clone)]
pub struct IntercomApi {
    http: reqwest::Client,
    config: IntercomApiConfig,
}

impl IntercomApi {
    pub fn new(config: IntercomApiConfig, http: reqwest::Client) -> Self {
        Self { http, config }
    }

    /// `GET /contacts/{id}` and `GET /contacts/{id}/companies`.
    pub async fn account_attributes(
        &self,
        contact_id: &str,
    ) -> Result<AccountAttributes, NotifyError> {
        #[derive(Deserialize)]
        struct Contact {
            #[serde(default)]
            custom_attributes: BTreeMap<String, serde_json::Value>,
        }
        #[derive(Deserialize)]
        struct Plan {
            #[serde(default)]
            name: Option<String>,
        }
        #[derive(Deserialize)]
        struct Company {
            #[serde(default)]
            custom_attributes: BTreeMap<String, serde_json::Value>,
            #[serde(default)]
            plan: Option<Plan>,
        }
        #[derive(Deserialize)]
        struct Companies {
            // `data` in current versions; `companies` in the older documentation.
            #[serde(default, alias = "companies")]
            data: Vec<Company>,
        }
        let contact_id = path_segment(contact_id)?;
        let contact: Contact = self
            .call::<(), _>(Method::GET, &format!("/contacts/{contact_id}"), None)
            .await?;
        let companies: Companies = self
            .call::<(), _>(
                Method::GET,
                &format!("/contacts/{contact_id}/companies"),
                None,
            )
            .await?;
        Ok(AccountAttributes {
            contact: as_text(contact.custom_attributes),
            companies: companies
                .data
                .into_iter()
                .map(|company| {
                    let mut attributes = as_text(company.custom_attributes);
                    if let Some(name) = company.plan.and_then(|plan| plan.name) {
                        attributes.entry("plan".to_owned()).or_insert(name);
                    }
                    attributes
                })
                .collect(),
        })
    }

    /// Posts a reply in the conversation as the admin (`POST /conversations/{id}/reply`,
    /// `message_type: comment`): the customer sees it in the chat.
    pub async fn reply_as_admin(
        &self,
        conversation_id: &str,
        admin_id: &str,
        body: &str,
    ) -> Result<(), NotifyError> {
        #[derive(Serialize)]
        struct Reply<'a> {
            message_type: &'a str,
            #[serde(rename = "type")]
            kind: &'a str,
            admin_id: &'a str,
            body: &'a str,
        }
        let conversation_id = path_segment(conversation_id)?;
        let reply = Reply {
            message_type: "comment",
            kind: "admin",
            admin_id,
            body,
        };
        let _: serde_json::Value = self
            .call(
                Method::POST,
                &format!("/conversations/{conversation_id}/reply"),
                Some(&reply),
            )
            .await?;
        Ok(())
    }

    /// One API call with retries; the answer's JSON is parsed into `T`.
    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, NotifyError> {
        let mut url = self.config.base_url.clone();
        url.set_path(path);
        let api = JsonApi {
            name: "Intercom",
            timeout: self.config.timeout,
            secrets: &[&self.config.access_token],
            auth_hint: " (check INTERCOM_ACCESS_TOKEN)",
            retry: self.config.retry,
        };
        let what = format!("{method} {path}");
        api.call(&what, body, || {
            self.http
                .request(method.clone(), url.clone())
                .bearer_auth(self.config.access_token.expose())
                .header("Intercom-Version", INTERCOM_API_VERSION)
        })
        .await
    }
}

/// Ids go into the path: only what Intercom's ids are made of.
fn path_segment(id: &str) -> Result<&str, NotifyError> {
    let valid = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        Ok(id)
    } else {
        Err(NotifyError::Permanent {
            reason: format!("{id:?} is not an Intercom id"),
        })
    }
}

/// Attribute values as text; nulls, objects and arrays are not plan markers and are left out.
fn as_text(attributes: BTreeMap<String, serde_json::Value>) -> BTreeMap<String, String> {
    attributes
        .into_iter()
        .filter_map(|(name, value)| {
            let text = match value {
                serde_json::Value::String(text) => text,
                serde_json::Value::Bool(flag) => flag.to_string(),
                serde_json::Value::Number(number) => number.to_string(),
                _ => return None,
            };
            Some((name, text))
        })
        .collect()
}

/// Where chat replies go: the Intercom API and the admin who speaks. Read from
/// `INTERCOM_ACCESS_TOKEN` (bearer), `INTERCOM_API_URL` (default `https://api.intercom.io`) and
/// `INTERCOM_ADMIN_ID`; without a token or an admin id replies are recorded as not sent.
#[derive(Debug, Clone, Default)]
pub struct IntercomChatSettings {
    pub api: Option<IntercomApiConfig>,
    pub admin_id: Option<String>,
}

impl IntercomChatSettings {
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let base_url = env_config::optional(&lookup, "INTERCOM_API_URL")
            .unwrap_or_else(|| DEFAULT_INTERCOM_API_URL.to_owned());
        let token = lookup("INTERCOM_ACCESS_TOKEN").unwrap_or_default();
        Ok(Self {
            api: IntercomApiConfig::new(&base_url, &token)?,
            admin_id: env_config::optional(&lookup, "INTERCOM_ADMIN_ID"),
        })
    }
}

/// Replies in Intercom conversations as the configured admin (the `ChatReplier` port).
#[derive(Debug, Clone)]
pub struct IntercomChatReplies {
    api: Option<(IntercomApi, String)>,
}

impl IntercomChatReplies {
    pub fn new(settings: IntercomChatSettings, http: reqwest::Client) -> Self {
        let api = match (settings.api, settings.admin_id) {
            (Some(config), Some(admin)) => Some((IntercomApi::new(config, http), admin)),
            (Some(_), None) => {
                tracing::warn!("INTERCOM_ADMIN_ID is not set: chat replies are recorded, not sent");
                None
            }
            (None, _) => None,
        };
        Self { api }
    }

    pub fn is_configured(&self) -> bool {
        self.api.is_some()
    }
}

impl ChatReplier for IntercomChatReplies {
    async fn reply(&self, context: &AlertContext, text: &str) -> Result<Delivered, NotifyError> {
        let Some((api, admin_id)) = &self.api else {
            return Ok(Delivered::NotConfigured);
        };
        // Our case ids of chats are `intercom-<conversation id>`.
        let conversation = context
            .case_id
            .as_str()
            .strip_prefix("intercom-")
            .ok_or_else(|| NotifyError::Permanent {
                reason: format!("{} is not an Intercom conversation", context.case_id),
            })?;
        api.reply_as_admin(conversation, admin_id, text).await?;
        Ok(Delivered::Sent {
            detail: format!("replied in conversation {conversation} as admin {admin_id}"),
        })
    }
}
