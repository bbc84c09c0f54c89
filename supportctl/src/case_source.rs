//! Where the reports' cases come from: a running server's read API (`--url`) or the DynamoDB
//! table itself (`--table`, with the caller's AWS credentials from the SDK's default chain;
//! `AWS_ENDPOINT_URL` is honoured, so the same command reads moto server).

use app::ports::{CaseReader, StoredCase, TimelineEntry, TimelineKind};
use aws::store::DynamoStore;
use domain::case::Case;
use domain::policy::Policy;
use report::Month;
use report::whatif::{RecordedCase, RecordedEvent, month_bounds};

/// The default `--url`: the local server's default listen address.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8080";

/// The two sources, as the command line names them (`--url URL` or `--table NAME`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseSource {
    Url(String),
    Table(String),
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("month {month} has no instants in the policy's time zone: {reason}")]
    Month { month: Month, reason: String },
    #[error("cannot read {url}: {reason}")]
    Http { url: String, reason: String },
    #[error("{url} answered {status}: {body}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    #[error("{what} cannot be read: {reason}")]
    Document { what: String, reason: String },
    #[error("DynamoDB table {table}: {source}")]
    Table {
        table: String,
        #[source]
        source: app::ports::StoreError,
    },
}

impl CaseSource {
    /// From the two exclusive options (clap refuses both); neither means the local server.
    pub fn from_args(url: Option<String>, table: Option<String>) -> Self {
        match (url, table) {
            (_, Some(table)) => CaseSource::Table(table),
            (Some(url), None) => CaseSource::Url(url),
            (None, None) => CaseSource::Url(DEFAULT_URL.to_owned()),
        }
    }

    /// The cases received in `month` (in `policy`'s time zone) with their recorded events.
    pub async fn recorded_month(
        &self,
        policy: &Policy,
        month: Month,
    ) -> Result<Vec<RecordedCase>, SourceError> {
        match self {
            CaseSource::Url(url) => recorded_from_url(url, month).await,
            CaseSource::Table(table) => {
                let store = table_store(table).await;
                let cases = month_cases(&store, table, policy, month).await?;
                let mut recorded = Vec::with_capacity(cases.len());
                for stored in cases {
                    let timeline = store.timeline(&stored.case.id).await.map_err(|source| {
                        SourceError::Table {
                            table: table.clone(),
                            source,
                        }
                    })?;
                    recorded.push(recorded_case(&stored.case, &timeline));
                }
                Ok(recorded)
            }
        }
    }

    /// The cases received in `month` from the table (for `report --table`).
    pub async fn table_month(
        table: &str,
        policy: &Policy,
        month: Month,
    ) -> Result<Vec<Case>, SourceError> {
        let store = table_store(table).await;
        let cases = month_cases(&store, table, policy, month).await?;
        Ok(cases.into_iter().map(|stored| stored.case).collect())
    }
}

async fn table_store(table: &str) -> DynamoStore {
    let config = aws::config::load_sdk_config().await;
    DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), table)
}

/// Through the table's `received` index (infra/dynamodb.md): the month's cases only.
async fn month_cases(
    store: &DynamoStore,
    table: &str,
    policy: &Policy,
    month: Month,
) -> Result<Vec<StoredCase>, SourceError> {
    let (from, to) = month_bounds(policy, month).map_err(|error| SourceError::Month {
        month,
        reason: error.to_string(),
    })?;
    store
        .cases_received_between(from, to)
        .await
        .map_err(|source| SourceError::Table {
            table: table.to_owned(),
            source,
        })
}

/// A stored case and its timeline as a replay sees them: the provider events, in write order.
pub fn recorded_case(case: &Case, timeline: &[TimelineEntry]) -> RecordedCase {
    let events = timeline
        .iter()
        .filter_map(|entry| match &entry.kind {
            TimelineKind::Event {
                event_id,
                occurred_at,
                change,
            } => Some(RecordedEvent {
                recorded_at: entry.at,
                event_id: event_id.clone(),
                occurred_at: *occurred_at,
                change: change.clone(),
            }),
            _ => None,
        })
        .collect();
    RecordedCase::from_case(case, events)
}

/// `GET /api/reports/recorded?month=`, with the read token when `SUPPORT_SLA_READ_TOKEN` is set.
async fn recorded_from_url(base: &str, month: Month) -> Result<Vec<RecordedCase>, SourceError> {
    let url = format!(
        "{}/api/reports/recorded?month={month}",
        base.trim_end_matches('/')
    );
    let http_error = |error: reqwest::Error| SourceError::Http {
        url: url.clone(),
        reason: error.to_string(),
    };
    let mut request = reqwest::Client::new().get(&url);
    if let Some(token) = std::env::var(api::READ_TOKEN_VARIABLE)
        .ok()
        .filter(|token| !token.trim().is_empty())
    {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.map_err(http_error)?;
    let status = response.status();
    let body = response.text().await.map_err(http_error)?;
    if !status.is_success() {
        return Err(SourceError::Status {
            url,
            status: status.as_u16(),
            body: body.chars().take(500).collect(),
        });
    }
    let document: api::RecordedMonthDocument =
        serde_json::from_str(&body).map_err(|error| SourceError::Document {
            what: url.clone(),
            reason: error.to_string(),
        })?;
    document
        .cases
        .into_iter()
        .map(|recorded| {
            let case = recorded
                .case
                .into_domain()
                .map_err(|error| SourceError::Document {
                    what: format!("a case of {url}"),
                    reason: error.to_string(),
                })?;
            let timeline = recorded
                .events
                .into_iter()
                .map(|entry| entry.into_domain())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|error| SourceError::Document {
                    what: format!("the timeline of {} from {url}", case.id),
                    reason: error.to_string(),
                })?;
            Ok(recorded_case(&case, &timeline))
        })
        .collect()
}
