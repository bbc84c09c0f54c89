//! Shared test helpers: fixtures, the test policy rules, and requests signed the way each
//! provider signs them. The signing here uses `hmac` directly, not the crate's `sign`
//! helpers, so a mistake in the crate's message construction cannot hide itself.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use domain::case::{CaseEvent, CaseFacts, Change};
use domain::policy::{AttributeRule, LabelRules, PlanRules};
use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderValue, Method};
use jiff::Timestamp;
use providers::{
    Classifier, Intake, IntercomConfig, IntercomHandler, PublicBaseUrl, RawRequest, Rejection,
    TwilioConfig, TwilioHandler, ZendeskConfig, ZendeskHandler,
};

pub const ZENDESK_SECRET: &str = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==";
pub const INTERCOM_SECRET: &str = "test_client_secret";
pub const TWILIO_TOKEN: &str = "12345";
pub const TWILIO_BASE: &str = "https://example.com";
pub const TWILIO_PATH: &str = "/twilio/recording-status?tenant=acme";
pub const TWILIO_URL: &str = "https://example.com/twilio/recording-status?tenant=acme";

pub fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|error| panic!("{full}: {error}"))
}

pub fn fixture_text(path: &str) -> String {
    String::from_utf8(fixture(path)).unwrap()
}

pub fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// The test policy: tag `enterprise`, Intercom attribute `sla` in {enterprise, 24x7}, the
/// Enterprise hotline +49 30 1234560, and the default `cluster_`/`site_` label prefixes.
pub fn classifier() -> Classifier {
    Classifier::new(
        PlanRules {
            enterprise_tags: ["enterprise".to_owned()].into(),
            enterprise_attributes: vec![AttributeRule {
                name: "sla".into(),
                values: ["enterprise".to_owned(), "24x7".to_owned()].into(),
            }],
            enterprise_numbers: ["+49 30 1234560".to_owned()].into(),
        },
        LabelRules::default(),
    )
}

pub fn zendesk() -> ZendeskHandler {
    ZendeskHandler::new(
        ZendeskConfig::new(providers::Secret::new(ZENDESK_SECRET).unwrap())
            .with_subdomain("acme")
            .unwrap(),
        classifier(),
    )
}

pub fn intercom() -> IntercomHandler {
    IntercomHandler::new(
        IntercomConfig::new(providers::Secret::new(INTERCOM_SECRET).unwrap()),
        classifier(),
    )
}

pub fn twilio() -> TwilioHandler {
    TwilioHandler::new(
        TwilioConfig::new(
            providers::Secret::new(TWILIO_TOKEN).unwrap(),
            PublicBaseUrl::parse(TWILIO_BASE).unwrap(),
        ),
        classifier(),
    )
}

/// An owned request; `raw()` lends it to a handler.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Request {
    pub fn post(path: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            method: Method::POST,
            path: path.to_owned(),
            headers: HeaderMap::new(),
            body: body.into(),
        }
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers
            .insert(name, HeaderValue::from_str(value).unwrap());
        self
    }

    pub fn without(mut self, name: &'static str) -> Self {
        self.headers.remove(name);
        self
    }

    pub fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    pub fn raw(&self) -> RawRequest<'_> {
        RawRequest::new(&self.method, &self.path, &self.headers, &self.body)
    }
}

pub fn hmac_sha256_base64(key: &str, message: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(message);
    STANDARD.encode(mac.finalize().into_bytes())
}

pub fn hmac_sha1(key: &str, message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// Signed as Zendesk signs: timestamp header + body. The header names use Zendesk's casing;
/// `HeaderMap` is case-insensitive.
pub fn zendesk_request(timestamp: &str, body: impl Into<Vec<u8>>) -> Request {
    let body = body.into();
    let mut message = timestamp.as_bytes().to_vec();
    message.extend_from_slice(&body);
    let signature = hmac_sha256_base64(ZENDESK_SECRET, &message);
    Request::post("/zendesk", body)
        .header("X-Zendesk-Webhook-Signature", &signature)
        .header("X-Zendesk-Webhook-Signature-Timestamp", timestamp)
}

pub fn intercom_request(body: impl Into<Vec<u8>>) -> Request {
    let body = body.into();
    let signature = format!("sha1={}", hex::encode(hmac_sha1(INTERCOM_SECRET, &body)));
    Request::post("/intercom", body).header("X-Hub-Signature", &signature)
}

/// Signed as Twilio signs: URL + params sorted by name then value, URL-decoded (leniently, as
/// the `form_urlencoded` reference decoder does).
pub fn twilio_request(body: impl Into<Vec<u8>>) -> Request {
    let body = body.into();
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(&body)
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    pairs.sort();
    let mut message = TWILIO_URL.to_owned();
    for (name, value) in pairs {
        message.push_str(&name);
        message.push_str(&value);
    }
    let signature = STANDARD.encode(hmac_sha1(TWILIO_TOKEN, message.as_bytes()));
    Request::post(TWILIO_PATH, body).header("X-Twilio-Signature", &signature)
}

/// The one event an accepted outcome must hold.
pub fn single_event(outcome: Result<Intake, Rejection>) -> CaseEvent {
    match outcome {
        Ok(Intake::Accepted(mut events)) if events.len() == 1 => events.remove(0),
        other => panic!("expected one accepted event, got {other:?}"),
    }
}

pub fn expect_malformed(outcome: Result<Intake, Rejection>) -> String {
    match outcome {
        Err(Rejection::Malformed { reason, .. }) => reason,
        other => panic!("expected a 400 rejection, got {other:?}"),
    }
}

pub fn change_and_facts(event: &CaseEvent) -> (&Change, &CaseFacts) {
    (&event.change, &event.snapshot)
}
