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
use std::collections::BTreeMap;
use std::fmt;
use tokio::task::JoinSet;
use tracing::info;

/// The suffix of the variable that names a secret's Secrets Manager secret.
pub const SECRET_ID_SUFFIX: &str = "_SECRET_ID";

/// A secret a function reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretSpec {
    /// The variable its value is read under (`ZENDESK_WEBHOOK_SECRET`).
    pub name: &'static str,
    /// A function without a required secret does not start.
    pub required: bool,
}

impl SecretSpec {
    pub const fn required(name: &'static str) -> Self {
        Self {
            name,
            required: true,
        }
    }

    pub const fn optional(name: &'static str) -> Self {
        Self {
            name,
            required: false,
        }
    }
}

/// Named values: the environment and the fetched secrets. `Debug` lists the names only.
#[derive(Clone, Default)]
pub struct Settings {
    values: BTreeMap<String, String>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("names", &self.values.keys().collect::<Vec<_>>())
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
        }
    }

    /// The value, trimmed; blank counts as unset.
    pub fn get(&self, name: &str) -> Option<String> {
        self.values
            .get(name)
            .map(|value| value.trim())
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
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

    /// Fill in every secret of `specs` that is not set directly, from the Secrets Manager
    /// secret its `NAME_SECRET_ID` names; all of them in parallel, in one round trip. The
    /// client is built only when there is something to fetch.
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
                Some(secret_id) => to_fetch.push((spec.name, id_variable, secret_id)),
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
        for (name, id_variable, secret_id) in to_fetch {
            let client = client.clone();
            fetches.spawn(async move {
                let value = fetch_secret(&client, &secret_id).await;
                (name, id_variable, secret_id, value)
            });
        }
        while let Some(joined) = fetches.join_next().await {
            let (name, variable, secret_id, value) = joined.map_err(|error| InitError::Secret {
                variable: String::from("?"),
                secret_id: String::from("?"),
                reason: error.to_string(),
            })?;
            let value = value.map_err(|reason| InitError::Secret {
                variable,
                secret_id,
                reason,
            })?;
            info!(secret = name, "secret read from Secrets Manager");
            self.values.insert(name.to_owned(), value);
        }
        Ok(self)
    }
}

async fn fetch_secret(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
) -> Result<String, String> {
    let output = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|error| DisplayErrorContext(&error).to_string())?;
    match output.secret_string() {
        Some(value) if !value.trim().is_empty() => Ok(value.trim().to_owned()),
        Some(_) => Err(String::from("the secret's SecretString is empty")),
        None => Err(String::from(
            "the secret has no SecretString (binary secrets are not supported)",
        )),
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
