//! The Zendesk Support API as a system of record: voicemails become tickets.
//!
//! Authentication is an API token (`Authorization: Basic base64("<email>/token:<token>")`,
//! docs/providers/zendesk.md). Creating a ticket is not idempotent on Zendesk's side, so
//! [`ZendeskApi::create_ticket_once`] first lists the tickets carrying our `external_id` (the
//! case id) and creates one only when there is none: a retry after an unknown outcome (a
//! timeout after Zendesk took the request) finds the ticket instead of opening a second one.
//!
//! The requester is the caller: an end user found by phone number through the search API, or
//! else created (or updated) under the external id `phone:<number>`, which makes a repeated
//! creation land on the same user even before Zendesk's search index knows it.
//!
//! 408, 429 (with `Retry-After`), 5xx, timeouts and network errors are retried
//! ([`RetryPolicy`]); other 4xx are permanent. The token is wrapped in [`Secret`] and redacted
//! from every error reason.

use crate::http::{self, JsonApi};
use crate::retry::RetryPolicy;
use app::ports::{BreachNote, Delivered, NotifyError, TicketSystem};
use domain::case::{AlertContext, BREACH_TAG, TicketRequest, TimerKind, UNKNOWN_NUMBER};
use env_config::{ConfigError, Secret};
use jiff::Timestamp;
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Organization tags and user roles change rarely; five minutes keeps lookups off the rate limit.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(300);

/// The agent whose API token is used.
pub const API_EMAIL_VAR: &str = "ZENDESK_API_EMAIL";
/// The API token (Admin Center → Apps and integrations → Zendesk API).
pub const API_TOKEN_VAR: &str = "ZENDESK_API_TOKEN";
/// The API's base URL (tests point it at a stand-in).
pub const API_URL_VAR: &str = "ZENDESK_API_URL";

/// Zendesk's own host for a subdomain: `https://<subdomain>.zendesk.com`.
pub fn zendesk_base_url(subdomain: &str) -> String {
    format!("https://{}.zendesk.com", subdomain.trim())
}

/// Where and as whom the API is called.
#[derive(Debug, Clone)]
pub struct ZendeskApiConfig {
    /// `https://<subdomain>.zendesk.com`, or a test server.
    pub base_url: Url,
    /// The agent the token belongs to.
    pub email: String,
    pub token: Secret,
    /// Per request (connect, send, read the answer).
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// How long an organization's tags and a user's role are trusted without asking again.
    pub cache_ttl: Duration,
}

impl ZendeskApiConfig {
    /// `None` when the e-mail or the token is blank: the API is then not configured.
    pub fn new(base_url: &str, email: &str, token: &str) -> Result<Option<Self>, ConfigError> {
        let base_url = http::parse_url("ZENDESK_API_URL", base_url)?;
        let email = email.trim();
        let (false, Some(token)) = (email.is_empty(), Secret::new(token)) else {
            return Ok(None);
        };
        Ok(Some(Self {
            base_url,
            email: email.to_owned(),
            token,
            timeout: http::DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
            cache_ttl: DEFAULT_CACHE_TTL,
        }))
    }

    /// From `ZENDESK_API_EMAIL` and `ZENDESK_API_TOKEN`, at `ZENDESK_API_URL` or else
    /// `https://<ZENDESK_SUBDOMAIN>.zendesk.com`. `None` when neither credential is set; only
    /// one of them, or credentials without a place to call, is an error naming what is missing.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, ConfigError> {
        let email = env_config::optional(&lookup, API_EMAIL_VAR);
        let token = env_config::optional_secret(&lookup, API_TOKEN_VAR);
        let (email, token) = match (email, token) {
            (None, None) => return Ok(None),
            (Some(_), None) => return Err(ConfigError::Missing(API_TOKEN_VAR)),
            (None, Some(_)) => return Err(ConfigError::Missing(API_EMAIL_VAR)),
            (Some(email), Some(token)) => (email, token),
        };
        let base_url = match env_config::optional(&lookup, API_URL_VAR) {
            Some(url) => url,
            None => {
                let subdomain = env_config::optional(&lookup, "ZENDESK_SUBDOMAIN")
                    .ok_or(ConfigError::Missing("ZENDESK_SUBDOMAIN"))?;
                zendesk_base_url(
                    subdomain
                        .trim()
                        .trim_start_matches("https://")
                        .trim_end_matches('/')
                        .trim_end_matches(".zendesk.com"),
                )
            }
        };
        Self::new(&base_url, &email, token.expose())
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// A ticket to open, in our terms; [`ZendeskApi::create_ticket_once`] turns it into the
/// Tickets API's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTicket {
    /// Our case id: the ticket's `external_id`, and the key that makes creation happen once.
    pub external_id: String,
    pub subject: String,
    /// The first comment, always internal (`public: false`), so the customer is not e-mailed.
    pub internal_note: String,
    /// `urgent`, `high`, `normal` or `low`.
    pub priority: &'static str,
    pub tags: Vec<String>,
    /// The caller's number (E.164), who becomes the requester; `None` for an anonymous call,
    /// in which case Zendesk makes the API user the requester.
    pub requester_phone: Option<String>,
}

/// The ticket that now stands for the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketRef {
    pub id: u64,
    /// `false` when a ticket with our external id existed already (an earlier attempt made it).
    pub created: bool,
}

/// What Zendesk knows about a ticket's progress (`GET /api/v2/tickets/{id}/metrics`): enough to
/// adopt a ticket first seen late without paging for what was done long ago.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TicketMetrics {
    /// Public replies by agents.
    #[serde(default)]
    pub replies: u32,
    #[serde(default)]
    pub reopens: u32,
    #[serde(default)]
    pub initially_assigned_at: Option<Timestamp>,
    #[serde(default)]
    pub assigned_at: Option<Timestamp>,
    #[serde(default)]
    pub solved_at: Option<Timestamp>,
    #[serde(default)]
    pub latest_comment_added_at: Option<Timestamp>,
    /// Minutes from the ticket's creation to its first agent reply (`null` before one).
    #[serde(default)]
    pub reply_time_in_minutes: Option<MinutesPair>,
}

/// A duration in minutes, on the calendar and within business hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct MinutesPair {
    #[serde(default)]
    pub calendar: Option<u64>,
    #[serde(default)]
    pub business: Option<u64>,
}

/// The Zendesk Support API client (built once, sharing the process's HTTP client).
#[derive(Debug)]
pub struct ZendeskApi {
    http: reqwest::Client,
    config: ZendeskApiConfig,
    organization_tags: TtlCache<u64, Vec<String>>,
    staff: TtlCache<u64, bool>,
}

impl ZendeskApi {
    /// `http` is the shared client from [`crate::http_client`].
    pub fn new(config: ZendeskApiConfig, http: reqwest::Client) -> Self {
        let ttl = config.cache_ttl;
        Self {
            http,
            config,
            organization_tags: TtlCache::new(ttl),
            staff: TtlCache::new(ttl),
        }
    }

    /// The ticket's metrics (`GET /api/v2/tickets/{id}/metrics`).
    pub async fn ticket_metrics(&self, ticket_id: u64) -> Result<TicketMetrics, NotifyError> {
        #[derive(Deserialize)]
        struct Answer {
            ticket_metric: TicketMetrics,
        }
        let path = format!("/api/v2/tickets/{ticket_id}/metrics");
        let answer: Answer = self.call::<(), _>(Method::GET, &path, &[], None).await?;
        Ok(answer.ticket_metric)
    }

    /// An organization's tags (`GET /api/v2/organizations/{id}`), cached.
    pub async fn organization_tags(
        &self,
        organization_id: u64,
    ) -> Result<Vec<String>, NotifyError> {
        if let Some(tags) = self.organization_tags.get(&organization_id) {
            return Ok(tags);
        }
        #[derive(Deserialize)]
        struct Organization {
            #[serde(default)]
            tags: Vec<String>,
        }
        #[derive(Deserialize)]
        struct Answer {
            organization: Organization,
        }
        let path = format!("/api/v2/organizations/{organization_id}");
        let answer: Answer = self.call::<(), _>(Method::GET, &path, &[], None).await?;
        self.organization_tags
            .put(organization_id, answer.organization.tags.clone());
        Ok(answer.organization.tags)
    }

    /// Whether a user is staff (role `agent` or `admin`, `GET /api/v2/users/{id}`), cached:
    /// for comments whose event names the author but not the role.
    pub async fn user_is_staff(&self, user_id: u64) -> Result<bool, NotifyError> {
        if let Some(staff) = self.staff.get(&user_id) {
            return Ok(staff);
        }
        #[derive(Deserialize)]
        struct User {
            role: String,
        }
        #[derive(Deserialize)]
        struct Answer {
            user: User,
        }
        let path = format!("/api/v2/users/{user_id}");
        let answer: Answer = self.call::<(), _>(Method::GET, &path, &[], None).await?;
        let staff = matches!(answer.user.role.as_str(), "agent" | "admin");
        self.staff.put(user_id, staff);
        Ok(staff)
    }

    /// Adds an internal note and tags to a ticket (`PUT /api/v2/tickets/{id}` with
    /// `additional_tags`, which adds to the ticket's tags instead of replacing them).
    pub async fn add_internal_note(
        &self,
        ticket_id: u64,
        note: &str,
        tags: &[String],
    ) -> Result<(), NotifyError> {
        #[derive(Serialize)]
        struct Update<'a> {
            comment: CommentBody<'a>,
            additional_tags: &'a [String],
        }
        #[derive(Serialize)]
        struct Envelope<'a> {
            ticket: Update<'a>,
        }
        let body = Envelope {
            ticket: Update {
                comment: CommentBody {
                    body: note,
                    public: false,
                },
                additional_tags: tags,
            },
        };
        let path = format!("/api/v2/tickets/{ticket_id}");
        let _: serde_json::Value = self.call(Method::PUT, &path, &[], Some(&body)).await?;
        Ok(())
    }

    /// Opens the ticket unless one with the same external id exists, and returns it either way.
    pub async fn create_ticket_once(&self, ticket: &NewTicket) -> Result<TicketRef, NotifyError> {
        let existing = match self.find_ticket(&ticket.external_id).await {
            Ok(existing) => existing,
            // Zendesk always has the list endpoint; a 404 there (a stand-in or proxy without
            // it) must not stop the ticket: the create request reports any real problem
            // itself. Any other refusal (401, 403) stays an error.
            Err(NotifyError::Permanent { reason }) if reason.contains("(404 Not Found)") => {
                tracing::warn!(%reason, "tickets could not be looked up by external_id; creating");
                None
            }
            Err(error) => return Err(error),
        };
        if let Some(id) = existing {
            tracing::info!(
                ticket_id = id,
                external_id = %ticket.external_id,
                "a Zendesk ticket for the case exists already"
            );
            return Ok(TicketRef { id, created: false });
        }
        let requester_id = match &ticket.requester_phone {
            Some(phone) => match self.end_user_for_phone(phone).await {
                Ok(id) => Some(id),
                // The ticket matters more than its requester: without one Zendesk makes the
                // API user the requester, and the caller's number is in the subject and note.
                Err(NotifyError::Permanent { reason }) => {
                    tracing::warn!(%reason, "the caller could not be made the requester");
                    None
                }
                Err(error) => return Err(error),
            },
            None => None,
        };
        let body = TicketEnvelope {
            ticket: TicketBody {
                subject: &ticket.subject,
                comment: CommentBody {
                    body: &ticket.internal_note,
                    public: false,
                },
                priority: ticket.priority,
                tags: &ticket.tags,
                external_id: &ticket.external_id,
                requester_id,
            },
        };
        let created: TicketEnvelopeAnswer = self
            .call(Method::POST, "/api/v2/tickets", &[], Some(&body))
            .await?;
        tracing::info!(
            ticket_id = created.ticket.id,
            external_id = %ticket.external_id,
            "Zendesk ticket created"
        );
        Ok(TicketRef {
            id: created.ticket.id,
            created: true,
        })
    }

    /// The oldest ticket whose `external_id` is ours (`GET /api/v2/tickets?external_id=`).
    /// A deleted ticket is not listed, so a deleted voicemail ticket would be opened again.
    pub async fn find_ticket(&self, external_id: &str) -> Result<Option<u64>, NotifyError> {
        let found: TicketList = self
            .call::<(), _>(
                Method::GET,
                "/api/v2/tickets",
                &[("external_id", external_id)],
                None,
            )
            .await?;
        Ok(found.tickets.iter().map(|ticket| ticket.id).min())
    }

    /// The end user who has this number: found by search, or else created under the external
    /// id `phone:<number>` (`POST /api/v2/users/create_or_update`), idempotent on retries.
    async fn end_user_for_phone(&self, phone: &str) -> Result<u64, NotifyError> {
        // Zendesk's phone search wants digits only, no `+`.
        let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
        if !digits.is_empty() {
            let query = format!("type:user role:end-user phone:{digits}");
            let found: UserSearch = self
                .call::<(), _>(
                    Method::GET,
                    "/api/v2/search",
                    &[("query", query.as_str())],
                    None,
                )
                .await?;
            if let Some(id) = found.results.iter().map(|user| user.id).min() {
                return Ok(id);
            }
        }
        let external_id = format!("phone:{phone}");
        let name = format!("Caller {phone}");
        let body = UserEnvelope {
            user: UserBody {
                name: &name,
                phone,
                external_id: &external_id,
                role: "end-user",
            },
        };
        let user: UserEnvelopeAnswer = self
            .call(
                Method::POST,
                "/api/v2/users/create_or_update",
                &[],
                Some(&body),
            )
            .await?;
        Ok(user.user.id)
    }

    /// One API call with retries; the answer's JSON is parsed into `T`.
    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&B>,
    ) -> Result<T, NotifyError> {
        let mut url = self.config.base_url.clone();
        url.set_path(path);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let api = JsonApi {
            name: "Zendesk",
            timeout: self.config.timeout,
            secrets: &[&self.config.token],
            auth_hint: " (check ZENDESK_API_EMAIL and ZENDESK_API_TOKEN)",
            retry: self.config.retry,
        };
        let what = format!("{method} {path}");
        api.call(&what, body, || {
            self.http.request(method.clone(), url.clone()).basic_auth(
                format!("{}/token", self.config.email),
                Some(self.config.token.expose()),
            )
        })
        .await
    }
}

impl TicketSystem for ZendeskApi {
    async fn open_ticket(
        &self,
        ticket: &TicketRequest,
        context: &AlertContext,
    ) -> Result<Delivered, NotifyError> {
        let opened = self
            .create_ticket_once(&voicemail_ticket(ticket, context))
            .await?;
        let detail = if opened.created {
            format!("Zendesk ticket {} created", opened.id)
        } else {
            format!("Zendesk ticket {} existed already", opened.id)
        };
        Ok(Delivered::Sent { detail })
    }

    async fn write_back_breach(
        &self,
        breach: &BreachNote,
        context: &AlertContext,
    ) -> Result<Delivered, NotifyError> {
        // Our tickets' cases are `zendesk-<ticket id>`; other cases have no ticket to write to.
        let Some(ticket_id) = context
            .case_id
            .as_str()
            .strip_prefix("zendesk-")
            .and_then(|id| id.parse::<u64>().ok())
        else {
            return Ok(Delivered::NotConfigured);
        };
        let tags = [BREACH_TAG.to_owned()];
        self.add_internal_note(ticket_id, &breach_note(breach), &tags)
            .await?;
        Ok(Delivered::Sent {
            detail: format!("internal note and tag {BREACH_TAG} on Zendesk ticket {ticket_id}"),
        })
    }
}

/// The internal note of a breach: which clock, when it was due, how late it was found.
pub fn breach_note(breach: &BreachNote) -> String {
    let clock = match breach.clock {
        TimerKind::Dispatch => "dispatch (assignment to an agent)",
        TimerKind::FirstResponse => "first response",
        TimerKind::FirstResponseWarning => "first response warning",
        TimerKind::ChatFallback => "chat fallback",
        TimerKind::NextResponse => "next response (the answer to the customer's follow-up)",
        TimerKind::NextResponseWarning => "next response warning",
    };
    let late_minutes = breach
        .breached_at
        .duration_since(breach.due)
        .as_secs()
        .max(0)
        / 60;
    let late = match (late_minutes / 60, late_minutes % 60) {
        (0, minutes) => format!("{minutes} min"),
        (hours, 0) => format!("{hours} h"),
        (hours, minutes) => format!("{hours} h {minutes} min"),
    };
    format!(
        "SLA breached: the {clock} was due at {due} and is {late} late (noted at {at}).",
        due = crate::text::utc(breach.due),
        at = crate::text::utc(breach.breached_at),
    )
}

/// The ticket of a voicemail: subject `Voicemail from <caller> (<m:ss>)`, an internal note
/// with the caller, the line called, the length and the recording link; urgent; the caller as
/// requester; `external_id` the case id.
pub fn voicemail_ticket(ticket: &TicketRequest, context: &AlertContext) -> NewTicket {
    let voicemail = context.request.voicemail.as_ref();
    let caller = voicemail.map_or(UNKNOWN_NUMBER, |v| v.caller.as_str());
    let called = voicemail.map_or(UNKNOWN_NUMBER, |v| v.called.as_str());
    let seconds = voicemail.map_or(0, |v| v.duration_seconds);
    let length = format!("{}:{:02}", seconds / 60, seconds % 60);
    let name = context
        .request
        .requester
        .as_ref()
        .and_then(|r| r.name.as_deref());
    let mut note = format!("Voicemail on the support line.\nCaller: {caller}");
    if let Some(name) = name {
        note.push_str(&format!(" ({name})"));
    }
    note.push_str(&format!(
        "\nLine called: {called}\nLength: {length}\nRecording: {}\nPlan: {}\nCase: {}",
        voicemail
            .and_then(|v| v.recording_url.as_deref())
            .unwrap_or("none"),
        context.request.plan.as_str(),
        context.case_id,
    ));
    NewTicket {
        external_id: context.case_id.as_str().to_owned(),
        subject: format!("Voicemail from {caller} ({length})"),
        internal_note: note,
        priority: "urgent",
        tags: ticket.tags.clone(),
        requester_phone: (caller != UNKNOWN_NUMBER).then(|| caller.to_owned()),
    }
}

/// Answers remembered for a while, so that busy cases do not spend the API rate limit.
#[derive(Debug)]
pub(crate) struct TtlCache<K, V> {
    ttl: Duration,
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: std::hash::Hash + Eq, V: Clone> TtlCache<K, V> {
    /// Entries beyond this are dropped wholesale: a bound on memory, not an eviction policy.
    const MAX_ENTRIES: usize = 10_000;

    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn get(&self, key: &K) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        let (at, value) = entries.get(key)?;
        (at.elapsed() < self.ttl).then(|| value.clone())
    }

    pub(crate) fn put(&self, key: K, value: V) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= Self::MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(key, (Instant::now(), value));
        }
    }
}

#[derive(Serialize)]
struct TicketEnvelope<'a> {
    ticket: TicketBody<'a>,
}

#[derive(Serialize)]
struct TicketBody<'a> {
    subject: &'a str,
    comment: CommentBody<'a>,
    priority: &'a str,
    tags: &'a [String],
    external_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    requester_id: Option<u64>,
}

#[derive(Serialize)]
struct CommentBody<'a> {
    body: &'a str,
    public: bool,
}

#[derive(Serialize)]
struct UserEnvelope<'a> {
    user: UserBody<'a>,
}

#[derive(Serialize)]
struct UserBody<'a> {
    name: &'a str,
    phone: &'a str,
    external_id: &'a str,
    role: &'a str,
}

#[derive(Deserialize)]
struct Identified {
    id: u64,
}

#[derive(Deserialize)]
struct TicketEnvelopeAnswer {
    ticket: Identified,
}

#[derive(Deserialize)]
struct UserEnvelopeAnswer {
    user: Identified,
}

#[derive(Deserialize)]
struct TicketList {
    #[serde(default)]
    tickets: Vec<Identified>,
}

#[derive(Deserialize)]
struct UserSearch {
    #[serde(default)]
    results: Vec<Identified>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_credentials_leave_the_api_unconfigured() {
        let base = zendesk_base_url("acme");
        assert!(ZendeskApiConfig::new(&base, "", "t0ken").unwrap().is_none());
        assert!(
            ZendeskApiConfig::new(&base, "agent@example.org", " ")
                .unwrap()
                .is_none()
        );
        let config = ZendeskApiConfig::new(&base, "agent@example.org", "t0ken")
            .unwrap()
            .unwrap();
        assert_eq!(config.base_url.as_str(), "https://acme.zendesk.com/");
        assert!(!format!("{config:?}").contains("t0ken"));
    }

    #[test]
    fn a_bad_base_url_is_refused_naming_the_variable() {
        let error = ZendeskApiConfig::new("acme.zendesk.com", "a@b.c", "t").unwrap_err();
        assert!(error.to_string().contains("ZENDESK_API_URL"));
    }
}
