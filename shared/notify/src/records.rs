//! The systems of record as the engine's [`SystemOfRecord`] port: the Zendesk API (ticket
//! metrics, user roles, organization tags) and the Intercom API (a contact's and its companies'
//! attributes), each optional.
//!
//! Every lookup is bounded by [`DEFAULT_LOOKUP_TIMEOUT`] in all (the clients' own retries
//! included), since a webhook waits for it; read lookups are cached with a TTL (organization
//! tags and user roles by [`ZendeskApi`], account attributes here). Ticket metrics are read once
//! per ticket, when it is first seen, and not cached.

use crate::zendesk::TtlCache;
use crate::{DEFAULT_CACHE_TTL, IntercomApi, IntercomApiConfig, ZendeskApi, ZendeskApiConfig};
use app::ports::{Lookup, LookupError, NotifyError, SystemOfRecord, TicketProgress};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// How long intake waits for one lookup before it proceeds without the answer.
pub const DEFAULT_LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// The configured systems of record; one that is `None` answers every lookup with `None`.
pub struct SystemsOfRecord {
    zendesk: Option<Arc<ZendeskApi>>,
    intercom: Option<Arc<IntercomApi>>,
    timeout: Duration,
    accounts: TtlCache<String, Vec<(String, String)>>,
}

impl std::fmt::Debug for SystemsOfRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SystemsOfRecord")
            .field("zendesk", &self.zendesk.is_some())
            .field("intercom", &self.intercom.is_some())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl SystemsOfRecord {
    pub fn new(zendesk: Option<Arc<ZendeskApi>>, intercom: Option<Arc<IntercomApi>>) -> Self {
        Self {
            zendesk,
            intercom,
            timeout: DEFAULT_LOOKUP_TIMEOUT,
            accounts: TtlCache::new(DEFAULT_CACHE_TTL),
        }
    }

    /// From the API settings both runtimes read (`ZENDESK_API_*`, `INTERCOM_ACCESS_TOKEN`,
    /// `INTERCOM_API_URL`), over the shared HTTP client. Logs what works without them.
    pub fn from_configs(
        zendesk: Option<ZendeskApiConfig>,
        intercom: Option<IntercomApiConfig>,
        http: reqwest::Client,
    ) -> Self {
        if zendesk.is_none() {
            tracing::warn!(
                "ZENDESK_API_EMAIL and ZENDESK_API_TOKEN are not set: tickets first seen late are adopted with their outcome unknown, comments without author details do not count as responses, organization tags are not read"
            );
        }
        if intercom.is_none() {
            tracing::warn!(
                "INTERCOM_ACCESS_TOKEN is not set: contact and company attributes are not read"
            );
        }
        Self::new(
            zendesk.map(|config| Arc::new(ZendeskApi::new(config, http.clone()))),
            intercom.map(|config| Arc::new(IntercomApi::new(config, http))),
        )
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn zendesk_configured(&self) -> bool {
        self.zendesk.is_some()
    }

    pub fn intercom_configured(&self) -> bool {
        self.intercom.is_some()
    }

    /// `call` bounded by the timeout, its error in the port's terms.
    async fn bounded<T>(
        &self,
        system: &'static str,
        call: impl Future<Output = Result<T, NotifyError>>,
    ) -> Result<Option<T>, LookupError> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(value)) => Ok(Some(value)),
            Ok(Err(error)) => Err(LookupError {
                system,
                reason: error.to_string(),
            }),
            Err(_) => Err(LookupError {
                system,
                reason: format!("no answer within {} ms", self.timeout.as_millis()),
            }),
        }
    }
}

/// Zendesk ids are numbers; anything else cannot be looked up.
fn zendesk_id(id: &str) -> Result<u64, LookupError> {
    id.trim().parse().map_err(|_| LookupError {
        system: "Zendesk",
        reason: format!(
            "{:?} is not a Zendesk id",
            crate::text::truncate_chars(id, 40)
        ),
    })
}

impl SystemOfRecord for SystemsOfRecord {
    fn ticket_progress<'a>(&'a self, ticket_id: &'a str) -> Lookup<'a, TicketProgress> {
        Box::pin(async move {
            let Some(zendesk) = &self.zendesk else {
                return Ok(None);
            };
            let id = zendesk_id(ticket_id)?;
            let metrics = self.bounded("Zendesk", zendesk.ticket_metrics(id)).await?;
            Ok(metrics.map(|metrics| TicketProgress {
                replies: metrics.replies,
                first_reply_after: metrics
                    .reply_time_in_minutes
                    .and_then(|minutes| minutes.calendar)
                    .map(|minutes| Duration::from_secs(minutes.saturating_mul(60))),
                assigned_at: metrics.initially_assigned_at.or(metrics.assigned_at),
            }))
        })
    }

    fn user_is_staff<'a>(&'a self, user_id: &'a str) -> Lookup<'a, bool> {
        Box::pin(async move {
            let Some(zendesk) = &self.zendesk else {
                return Ok(None);
            };
            let id = zendesk_id(user_id)?;
            self.bounded("Zendesk", zendesk.user_is_staff(id)).await
        })
    }

    fn organization_tags<'a>(&'a self, organization_id: &'a str) -> Lookup<'a, Vec<String>> {
        Box::pin(async move {
            let Some(zendesk) = &self.zendesk else {
                return Ok(None);
            };
            let id = zendesk_id(organization_id)?;
            self.bounded("Zendesk", zendesk.organization_tags(id)).await
        })
    }

    fn account_attributes<'a>(&'a self, contact_id: &'a str) -> Lookup<'a, Vec<(String, String)>> {
        Box::pin(async move {
            let Some(intercom) = &self.intercom else {
                return Ok(None);
            };
            if let Some(pairs) = self.accounts.get(&contact_id.to_owned()) {
                return Ok(Some(pairs));
            }
            let attributes = self
                .bounded("Intercom", intercom.account_attributes(contact_id))
                .await?;
            let pairs: Option<Vec<(String, String)>> = attributes.map(|attributes| {
                attributes
                    .pairs()
                    .map(|(name, value)| (name.to_owned(), value.to_owned()))
                    .collect()
            });
            if let Some(pairs) = &pairs {
                self.accounts.put(contact_id.to_owned(), pairs.clone());
            }
            Ok(pairs)
        })
    }
}
