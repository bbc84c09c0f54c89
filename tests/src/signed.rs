//! Provider webhooks signed as the providers sign them, for any server under test (the
//! in-process `TestApp` and a `supportctl serve` process alike).

use crate::{INTERCOM_SECRET, ZENDESK_SECRET};
use domain::Timestamp;
use providers::Secret;
use serde_json::Value;

/// `POST <base_url>/webhooks/zendesk`, signed for `now` (the signature's timestamp).
pub fn zendesk(
    http: &reqwest::Client,
    base_url: &str,
    event: &Value,
    now: Timestamp,
) -> reqwest::RequestBuilder {
    let body = serde_json::to_vec(event).unwrap();
    let timestamp = now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let signature =
        providers::zendesk::sign(&Secret::new(ZENDESK_SECRET).unwrap(), &timestamp, &body);
    http.post(format!("{base_url}/webhooks/zendesk"))
        .header("Content-Type", "application/json")
        .header("X-Zendesk-Webhook-Signature", signature)
        .header("X-Zendesk-Webhook-Signature-Timestamp", timestamp)
        .body(body)
}

/// `POST <base_url>/webhooks/intercom`, signed with the app's client secret.
pub fn intercom(http: &reqwest::Client, base_url: &str, event: &Value) -> reqwest::RequestBuilder {
    let body = serde_json::to_vec(event).unwrap();
    let signature = providers::intercom::sign(&Secret::new(INTERCOM_SECRET).unwrap(), &body);
    http.post(format!("{base_url}/webhooks/intercom"))
        .header("Content-Type", "application/json")
        .header("X-Hub-Signature", signature)
        .body(body)
}
