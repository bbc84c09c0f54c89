//! Settings of a function: the environment, plus the secrets it names, read from Secrets Manager
//! once at init.
//!
//! A secret `NAME` (e.g. `ZENDESK_WEBHOOK_SECRET`) is found, in this order:
//!
//! 1. `NAME` itself, when set and not blank: local runs, the benchmark and the tests;
//! 2. `NAME_SECRET_ID`, the name or ARN of a Secrets Manager secret whose `SecretString` is
//!    the value: what `template.yaml` sets. The value is fetched with `GetSecretValue` at
//!    init, so it never appears in the function's configuration (which anyone with
//!    `lambda:GetFunctionConfiguration` can read), and a rotated secret is picked up by the
//!    next cold start.
//!
//! A required secret found nowhere fails the start with a message naming both variables.

use crate::InitError;
use aws_smithy_types::error::display::DisplayErrorContext;
use domain::Timestamp;
use std::collections::BTreeMap;
use std::fmt;
use tokio::task::JoinSet;
use tracing::{error, info};

/// The suffix of the variable that names a secret's Secrets Manager secret.
pub const SECRET_ID_SUFFIX: &str = "_SECRET_ID";

/// A secret a function reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretSpec {
    /// The variable its value is read under (`ZENDESK_WEBHOOK_SECRET`).
    pub name: &'static str,
    /// A function without a required secret does not start; an optional one that cannot be
    /// read is logged as an error and left unset (its destination is off).
    pub required: bool,
    /// Also read the secret's `AWSPREVIOUS` version, accepted for [`PREVIOUS_SECRET_OVERLAP`]
    /// after the current one was stored (webhook signing secrets during a rotation).
    pub previous: bool,
}

impl SecretSpec {
    pub const fn required(name: &'static str) -> Self {
        Self {
            name,
            required: true,
            previous: false,
        }
    }

    pub const fn optional(name: &'static str) -> Self {
        Self {
            name,
            required: false,
            previous: false,
        }
    }

    /// The same, with its previous value accepted during a rotation.
    pub const fn with_previous(self) -> Self {
        Self {
            previous: true,
            ..self
        }
    }
}

/// How long a rotated-out secret (the `AWSPREVIOUS` version) is still accepted after the new
/// one was stored: time to change it at the provider in either order.
pub const PREVIOUS_SECRET_OVERLAP: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// A rotated-out secret value and the end of its overlap window.
#[derive(Clone)]
struct Previous {
    value: String,
    until: Timestamp,
}

/// Named values: the environment and the fetched secrets. `Debug` lists the names only.
#[derive(Clone, Default)]
pub struct Settings {
    values: BTreeMap<String, String>,
    previous: BTreeMap<String, Previous>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("names", &self.values.keys().collect::<Vec<_>>())
            .field("previous", &self.previous.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Settings {
    /// The process environment (variables that are not UTF-8 are skipped).
    pub fn from_env() -> Self {
        Self::from_pairs(std::env::vars_os().filter_map(|(name, value)| {
            Some((name.into_string().ok()?, value.into_string().ok()?))
        }))
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            values: pairs
                .into_iter()
                .map(|(name, value)| (name.into(), value.into()))
                .collect(),
            previous: BTreeMap::new(),
        }
    }

    /// The value, trimmed; blank counts as unset.
    pub fn get(&self, name: &str) -> Option<String> {
        env_config::optional(&|name: &str| self.values.get(name).cloned(), name)
    }

    /// A required plain setting.
    pub fn require(&self, name: &str) -> Result<String, InitError> {
        self.get(name).ok_or_else(|| InitError::Missing {
            name: name.to_owned(),
            hint: String::from("template.yaml sets it"),
        })
    }

    /// For the `from_lookup`/`from_env` constructors of the adapters.
    pub fn lookup(&self) -> impl Fn(&str) -> Option<String> + '_ {
        move |name| self.get(name)
    }

    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.values.insert(name.into(), value.into());
    }

    /// The rotated-out value of secret `name`, while its overlap window lasts at `now`.
    pub fn previous(&self, name: &str, now: Timestamp) -> Option<String> {
        self.previous
            .get(name)
            .filter(|previous| now < previous.until)
            .map(|previous| previous.value.clone())
    }

    /// A copy with the previous value of each secret of `specs` that has one in place of the
    /// current value, and the end of the shortest overlap window; `None` when no secret has
    /// been rotated.
    pub fn with_previous_secrets(&self, specs: &[SecretSpec]) -> Option<(Self, Timestamp)> {
        let mut settings = self.clone();
        let mut until: Option<Timestamp> = None;
        for spec in specs {
            if let Some(previous) = self.previous.get(spec.name) {
                settings.set(spec.name, previous.value.clone());
                until = Some(until.map_or(previous.until, |until| until.min(previous.until)));
            }
        }
        until.map(|until| (settings, until))
    }

    /// Fill in every secret of `specs` that is not set directly, from the Secrets Manager
    /// secret its `NAME_SECRET_ID` names; all of them in parallel, in one round trip. The
    /// client is built only when there is something to fetch. A required secret that cannot be
    /// read fails; an optional one is logged as an error and stays unset.
    pub async fn resolve_secrets(
        mut self,
        sdk: &aws_config::SdkConfig,
        specs: &[SecretSpec],
    ) -> Result<Self, InitError> {
        let mut to_fetch = Vec::new();
        for spec in specs {
            if self.get(spec.name).is_some() {
                info!(secret = spec.name, "secret set in the environment");
                continue;
            }
            let id_variable = format!("{}{SECRET_ID_SUFFIX}", spec.name);
            match self.get(&id_variable) {
                Some(secret_id) => to_fetch.push((*spec, id_variable, secret_id)),
                None if spec.required => {
                    return Err(InitError::Missing {
                        name: id_variable,
                        hint: format!(
                            "it names the Secrets Manager secret that holds {} (or set {} itself for a local run)",
                            spec.name, spec.name
                        ),
                    });
                }
                None => info!(secret = spec.name, "optional secret not configured"),
            }
        }
        if to_fetch.is_empty() {
            return Ok(self);
        }
        let client = aws_sdk_secretsmanager::Client::new(sdk);
        let mut fetches = JoinSet::new();
        for (spec, id_variable, secret_id) in to_fetch {
            let client = client.clone();
            fetches.spawn(async move {
                let value = fetch_secret(&client, &secret_id, CURRENT).await;
                let previous = match (&value, spec.previous) {
                    (Ok(_), true) => fetch_previous(&client, &secret_id).await,
                    _ => None,
                };
                (spec, id_variable, secret_id, value, previous)
            });
        }
        let mut failed = None;
        while let Some(joined) = fetches.join_next().await {
            let (spec, variable, secret_id, value, previous) =
                joined.map_err(|error| InitError::Secret {
                    variable: String::from("?"),
                    secret_id: String::from("?"),
                    reason: error.to_string(),
                })?;
            match value {
                Ok(fetched) => {
                    info!(secret = spec.name, "secret read from Secrets Manager");
                    self.values.insert(spec.name.to_owned(), fetched.value);
                    // Without the date the current one was stored, no window can be computed.
                    let until = fetched
                        .created
                        .and_then(|stored| stored.checked_add(PREVIOUS_SECRET_OVERLAP).ok());
                    if let (Some(value), Some(until)) = (previous, until) {
                        self.previous
                            .insert(spec.name.to_owned(), Previous { value, until });
                    }
                }
                Err(reason) if !spec.required => error!(
                    secret = spec.name,
                    variable = %variable,
                    secret_id = %secret_id,
                    reason = %reason,
                    "cannot read an optional secret: running with its destination off"
                ),
                Err(reason) => {
                    failed.get_or_insert(InitError::Secret {
                        variable,
                        secret_id,
                        reason,
                    });
                }
            }
        }
        match failed {
            Some(error) => Err(error),
            None => Ok(self),
        }
    }
}

const CURRENT: &str = "AWSCURRENT";
const PREVIOUS: &str = "AWSPREVIOUS";

/// A secret's value and when that version was stored.
struct Fetched {
    value: String,
    created: Option<Timestamp>,
}

async fn fetch_secret(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
    stage: &str,
) -> Result<Fetched, String> {
    let output = client
        .get_secret_value()
        .secret_id(secret_id)
        .version_stage(stage)
        .send()
        .await
        .map_err(|error| DisplayErrorContext(&error).to_string())?;
    let created = output
        .created_date()
        .and_then(|date| Timestamp::from_second(date.secs()).ok());
    match output.secret_string() {
        Some(value) if !value.trim().is_empty() => Ok(Fetched {
            value: value.trim().to_owned(),
            created,
        }),
        Some(_) => Err(String::from("the secret's SecretString is empty")),
        None => Err(String::from(
            "the secret has no SecretString (binary secrets are not supported)",
        )),
    }
}

/// The `AWSPREVIOUS` version, if the secret has been rotated; any failure only means that no
/// previous value is accepted.
async fn fetch_previous(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
) -> Option<String> {
    match fetch_secret(client, secret_id, PREVIOUS).await {
        Ok(fetched) => Some(fetched.value),
        Err(reason) => {
            info!(secret_id, reason = %reason, "no previous version of the secret");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_values_count_as_unset_and_debug_shows_no_value() {
        let settings = Settings::from_pairs([("A", " x "), ("B", "  "), ("SECRET", "hunter2")]);
        assert_eq!(settings.get("A").as_deref(), Some("x"));
        assert_eq!(settings.get("B"), None);
        assert_eq!(settings.get("C"), None);
        let debug = format!("{settings:?}");
        assert!(
            debug.contains("SECRET") && !debug.contains("hunter2"),
            "{debug}"
        );
    }

    #[tokio::test]
    async fn a_secret_set_directly_needs_no_fetch_and_a_missing_one_names_both_variables() {
        let sdk = aws_config::SdkConfig::builder().build();
        let specs = [
            SecretSpec::required("ZENDESK_WEBHOOK_SECRET"),
            SecretSpec::optional("SLACK_WEBHOOK_URL"),
        ];
        let direct = Settings::from_pairs([("ZENDESK_WEBHOOK_SECRET", "s3cret")])
            .resolve_secrets(&sdk, &specs)
            .await
            .map(|settings| settings.get("ZENDESK_WEBHOOK_SECRET"));
        assert_eq!(direct.ok().flatten().as_deref(), Some("s3cret"));

        let missing = Settings::default().resolve_secrets(&sdk, &specs).await;
        let message = missing
            .map(|_| ())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            message.contains("ZENDESK_WEBHOOK_SECRET_SECRET_ID")
                && message.contains("ZENDESK_WEBHOOK_SECRET itself"),
            "{message}"
        );
    }
}
