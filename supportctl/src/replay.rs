//! `supportctl replay`: sign sample provider events and post them to a running server, so that
//! a new user can watch cases appear and deadlines fire.
//!
//! A sample is a JSON file with `provider` (`zendesk`, `intercom`, `twilio`), `path`, and either
//! `body` (JSON, for Zendesk and Intercom) or `form` (string fields, for Twilio); or, for what
//! takes several requests (a phone call: the voice webhook, then the recording), `steps`, each
//! with its own `path` and `body` or `form`, posted in order. Placeholders are filled in before
//! signing: `{{now}}`, `{{now-59m}}`, `{{now+2h}}` (RFC 3339), `"{{unix:now-5m}}"` (a JSON
//! number of seconds), `{{rfc2822:now}}`, `{{uuid}}`, `{{hex32}}` (new each time), `{{call}}`
//! (32 hex digits, the same in every step of a sample: one call's sid).

use domain::jiff::{SignedDuration, Timestamp};
use local::dev_secrets::DevSecrets;
use providers::Secret;
use serde::Deserialize;
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Sample files or directories of them (default: infra/events).
    paths: Vec<PathBuf>,
    /// Base URL of the running server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Data directory of the server, whose dev-secrets.env signs the samples when the
    /// secret variables are not set.
    #[arg(long, default_value = "data")]
    data: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{path}: {reason}")]
    Sample { path: PathBuf, reason: String },
    #[error("no secret for {0}: set it, or start `supportctl serve` once with the same --data")]
    MissingSecret(&'static str),
    #[error("cannot post to {url}: {reason}")]
    Post { url: String, reason: String },
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

#[derive(Debug, Deserialize)]
struct Sample {
    #[serde(default)]
    description: Option<String>,
    provider: String,
    #[serde(flatten)]
    request: Step,
    #[serde(default)]
    steps: Vec<Step>,
}

/// One request of a sample.
#[derive(Debug, Default, Deserialize)]
struct Step {
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    body: Option<serde_json::Value>,
    #[serde(default)]
    form: Option<serde_json::Map<String, serde_json::Value>>,
}

impl Sample {
    fn steps(&self) -> Vec<&Step> {
        if self.steps.is_empty() {
            vec![&self.request]
        } else {
            self.steps.iter().collect()
        }
    }
}

pub fn run(args: &Args) -> Result<(), ReplayError> {
    let files = sample_files(&args.paths)?;
    let secrets = DevSecrets::load(&args.data).ok();
    let secret = |name: &'static str| -> Result<Secret, ReplayError> {
        std::env::var(name)
            .ok()
            .and_then(Secret::new)
            .or_else(|| {
                secrets
                    .as_ref()
                    .and_then(|s| s.get(name))
                    .and_then(Secret::new)
            })
            .ok_or(ReplayError::MissingSecret(name))
    };
    let public_base = std::env::var("PUBLIC_BASE_URL").unwrap_or_else(|_| args.url.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ReplayError::Runtime)?;
    let client = reqwest::Client::new();
    for file in files {
        let sample = read_sample(&file)?;
        let call = random_hex(16).map_err(|reason| ReplayError::Sample {
            path: file.clone(),
            reason,
        })?;
        for step in sample.steps() {
            let now = Timestamp::now();
            let fill = |text: &str| fill(text, now, &call);
            let path = step.path.as_deref().ok_or_else(|| ReplayError::Sample {
                path: file.clone(),
                reason: "every request needs a `path`".into(),
            })?;
            let url = format!("{}{path}", args.url.trim_end_matches('/'));
            let mut request = client.post(&url);
            let (body, content_type) = match sample.provider.as_str() {
                "zendesk" => {
                    let body = json_body(&file, step, fill)?;
                    let timestamp = now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
                    let signature = providers::zendesk::sign(
                        &secret("ZENDESK_WEBHOOK_SECRET")?,
                        &timestamp,
                        &body,
                    );
                    request = request
                        .header("X-Zendesk-Webhook-Signature", signature)
                        .header("X-Zendesk-Webhook-Signature-Timestamp", timestamp);
                    (body, "application/json")
                }
                "intercom" => {
                    let body = json_body(&file, step, fill)?;
                    let signature =
                        providers::intercom::sign(&secret("INTERCOM_CLIENT_SECRET")?, &body);
                    request = request.header("X-Hub-Signature", signature);
                    (body, "application/json")
                }
                "twilio" => {
                    let body = form_body(&file, step, fill)?;
                    let signed_url = format!("{}{path}", public_base.trim_end_matches('/'));
                    let signature =
                        providers::twilio::sign(&secret("TWILIO_AUTH_TOKEN")?, &signed_url, &body);
                    request = request.header("X-Twilio-Signature", signature);
                    (body, "application/x-www-form-urlencoded")
                }
                other => {
                    return Err(ReplayError::Sample {
                        path: file,
                        reason: format!("unknown provider {other:?}"),
                    });
                }
            };
            let response = runtime
                .block_on(
                    request
                        .header("Content-Type", content_type)
                        .body(body)
                        .send(),
                )
                .map_err(|error| ReplayError::Post {
                    url: url.clone(),
                    reason: error.without_url().to_string(),
                })?;
            let status = response.status();
            let answer = runtime.block_on(response.text()).unwrap_or_default();
            println!(
                "{} {path} -> {} {}",
                file.display(),
                status.as_u16(),
                answer.trim()
            );
        }
        if let Some(description) = sample.description {
            println!("   {description}");
        }
    }
    Ok(())
}

fn sample_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ReplayError> {
    let defaults = [PathBuf::from("infra/events")];
    let paths = if paths.is_empty() {
        &defaults[..]
    } else {
        paths
    };
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let entries = std::fs::read_dir(path).map_err(|error| ReplayError::Sample {
                path: path.clone(),
                reason: error.to_string(),
            })?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|p| p.extension().is_some_and(|ext| ext == "json"))
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn read_sample(path: &Path) -> Result<Sample, ReplayError> {
    let text = std::fs::read_to_string(path).map_err(|error| ReplayError::Sample {
        path: path.to_owned(),
        reason: error.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|error| ReplayError::Sample {
        path: path.to_owned(),
        reason: error.to_string(),
    })
}

fn json_body(
    path: &Path,
    sample: &Step,
    fill: impl Fn(&str) -> Result<String, String>,
) -> Result<Vec<u8>, ReplayError> {
    let bad = |reason: String| ReplayError::Sample {
        path: path.to_owned(),
        reason,
    };
    let body = sample
        .body
        .as_ref()
        .ok_or_else(|| bad("a JSON sample needs `body`".into()))?;
    let text = fill(&body.to_string()).map_err(bad)?;
    Ok(text.into_bytes())
}

fn form_body(
    path: &Path,
    sample: &Step,
    fill: impl Fn(&str) -> Result<String, String>,
) -> Result<Vec<u8>, ReplayError> {
    let bad = |reason: String| ReplayError::Sample {
        path: path.to_owned(),
        reason,
    };
    let form = sample
        .form
        .as_ref()
        .ok_or_else(|| bad("a form sample needs `form`".into()))?;
    let mut encoder = form_urlencoded::Serializer::new(String::new());
    for (name, value) in form {
        let value = value
            .as_str()
            .ok_or_else(|| bad(format!("form field {name} must be a string")))?;
        encoder.append_pair(name, &fill(value).map_err(bad)?);
    }
    Ok(encoder.finish().into_bytes())
}

/// Replace every placeholder; `"{{unix:…}}"` loses its quotes to become a JSON number.
fn fill(text: &str, now: Timestamp, call: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let end = rest[start..]
            .find("}}")
            .map(|i| start + i)
            .ok_or_else(|| "unterminated placeholder".to_owned())?;
        let name = &rest[start + 2..end];
        let mut prefix = &rest[..start];
        let mut after = &rest[end + 2..];
        let value = if name == "call" {
            call.to_owned()
        } else {
            expand(name, now)?
        };
        if name.starts_with("unix:") && prefix.ends_with('"') && after.starts_with('"') {
            prefix = &prefix[..prefix.len() - 1];
            after = &after[1..];
        }
        out.push_str(prefix);
        out.push_str(&value);
        rest = after;
    }
    out.push_str(rest);
    Ok(out)
}

fn expand(name: &str, now: Timestamp) -> Result<String, String> {
    let (format, instant) = match name.split_once(':') {
        Some((format, instant)) => (format, instant),
        None => ("rfc3339", name),
    };
    if name == "uuid" {
        return random_hex(16).map(|h| {
            format!(
                "{}-{}-{}-{}-{}",
                &h[0..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..32]
            )
        });
    }
    if name == "hex32" {
        return random_hex(16);
    }
    let at = relative(instant, now).ok_or_else(|| format!("unknown placeholder {{{{{name}}}}}"))?;
    match format {
        "rfc3339" => Ok(at.to_string()),
        "unix" => Ok(at.as_second().to_string()),
        "rfc2822" => Ok(at.strftime("%a, %d %b %Y %H:%M:%S +0000").to_string()),
        other => Err(format!("unknown placeholder format {other:?}")),
    }
}

/// `now`, `now-59m`, `now+2h`, `now-3d`, `now-30s`.
fn relative(text: &str, now: Timestamp) -> Option<Timestamp> {
    let offset = text.strip_prefix("now")?;
    if offset.is_empty() {
        return Some(now);
    }
    let (sign, amount) = match offset.split_at(1) {
        ("-", amount) => (-1, amount),
        ("+", amount) => (1, amount),
        _ => return None,
    };
    let (number, unit) = amount.split_at(amount.len().checked_sub(1)?);
    let number: i64 = number.parse().ok()?;
    let seconds = match unit {
        "s" => number,
        "m" => number * 60,
        "h" => number * 3600,
        "d" => number * 86_400,
        _ => return None,
    };
    now.checked_add(SignedDuration::from_secs(sign * seconds))
        .ok()
}

fn random_hex(bytes: usize) -> Result<String, String> {
    let mut buffer = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut file| file.read_exact(&mut buffer))
        .map_err(|error| format!("no randomness: {error}"))?;
    Ok(buffer.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_instants_numbers_and_ids() {
        let now: Timestamp = "2026-12-01T09:00:00Z".parse().unwrap();
        let text =
            r#"{"a":"{{now-59m}}","b":"{{unix:now}}","c":"{{rfc2822:now+1h}}","d":"{{uuid}}"}"#;
        let filled: serde_json::Value =
            serde_json::from_str(&fill(text, now, "c0ffee").unwrap()).unwrap();
        assert_eq!(filled["a"], "2026-12-01T08:01:00Z");
        assert_eq!(filled["b"], 1_796_115_600);
        assert_eq!(filled["c"], "Tue, 01 Dec 2026 10:00:00 +0000");
        assert_eq!(filled["d"].as_str().unwrap().len(), 36);
    }

    #[test]
    fn unknown_placeholders_are_refused() {
        let now = Timestamp::UNIX_EPOCH;
        assert!(fill("{{yesterday}}", now, "").is_err());
        assert!(fill("{{now-5w}}", now, "").is_err());
        assert!(fill("{{now", now, "").is_err());
    }

    #[test]
    fn every_step_of_a_call_sample_names_the_same_call() {
        let sample: Sample = serde_json::from_str(include_str!(
            "../../infra/events/03-twilio-call-and-voicemail.json"
        ))
        .unwrap();
        let steps = sample.steps();
        assert_eq!(
            steps.iter().map(|s| s.path.as_deref()).collect::<Vec<_>>(),
            [
                Some("/webhooks/twilio/voice"),
                Some("/webhooks/twilio/recording")
            ]
        );
        let now: Timestamp = "2026-12-01T09:00:00Z".parse().unwrap();
        let sids: Vec<String> = steps
            .iter()
            .map(|step| {
                let form = step.form.as_ref().unwrap();
                fill(form["CallSid"].as_str().unwrap(), now, "0123").unwrap()
            })
            .collect();
        assert_eq!(sids, ["CA0123", "CA0123"]);
    }
}
