//! Twilio's support line, described in docs/providers/twilio.md: the voice webhook (a call
//! comes in: the case `twilio-<CallSid>` starts and the caller hears the greeting and is
//! recorded), the `<Record>` action (the call ends; without a message it is a missed call) and
//! the recording status callback (the voicemail, found by `CallSid`).
//!
//! Signature: `X-Twilio-Signature = base64(HMAC-SHA1(auth token, public URL + every POST
//! parameter sorted by name then value, as name + value URL-decoded))`. Behind API Gateway the
//! URL Twilio called is not the one we see, so it is rebuilt from `PUBLIC_BASE_URL` plus the
//! request's path and query, and accepted with or without the scheme's default port, as
//! Twilio's own libraries do.

pub mod twiml;
mod wire;

use crate::config::{self, ConfigError};
use crate::request::{DEFAULT_BODY_LIMIT, Intake, RawRequest, Rejection, excerpt};
use crate::{Classifier, Webhook, signature};
use domain::case::{
    CaseEvent, CaseFacts, CaseId, Change, RequestFacts, Requester, Status, UNKNOWN_NUMBER,
    Voicemail,
};
use domain::policy::{Channel, Labels, Policy, Priority};
use env_config::Secret;
use http::Method;
use jiff::Timestamp;
use jiff::fmt::rfc2822::DateTimeParser;
use wire::{RecordingCallback, VoiceRequest};

pub const SIGNATURE_HEADER: &str = "x-twilio-signature";

const PROVIDER: &str = "twilio";

/// The routes Twilio calls, under `PUBLIC_BASE_URL`.
pub const VOICE_PATH: &str = "/webhooks/twilio/voice";
pub const RECORD_ACTION_PATH: &str = "/webhooks/twilio/voice/goodbye";
pub const RECORDING_PATH: &str = "/webhooks/twilio/recording";

/// What a voice request becomes: the event to store and the TwiML to answer with.
#[derive(Debug, Clone, PartialEq)]
pub struct VoiceAnswer {
    /// `None` for a request that changes nothing (the action after a message, whose recording
    /// callback carries the voicemail too, still gives one).
    pub event: Option<CaseEvent>,
    pub twiml: String,
}
static RFC2822: DateTimeParser = DateTimeParser::new();

/// The public base URL Twilio was given, e.g. `https://api.example.com/prod`: scheme, host,
/// optional port and the path prefix (API-Gateway stage or custom-domain base path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicBaseUrl {
    https: bool,
    host: String,
    port: Option<u16>,
    prefix: String,
}

impl PublicBaseUrl {
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let invalid = |reason: &str| ConfigError::Invalid {
            name: "PUBLIC_BASE_URL",
            reason: format!("{text:?} {reason}"),
        };
        let text = text.trim();
        let (https, rest) = if let Some(rest) = text.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = text.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err(invalid("must start with https:// or http://"));
        };
        if rest.contains(['?', '#']) {
            return Err(invalid("must not have a query or fragment"));
        }
        let (authority, prefix) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        // The port is what follows the last ':' outside an IPv6 literal's brackets.
        let (host, port) = match authority.rfind(':') {
            Some(at) if !authority[at..].contains(']') => {
                let port = authority[at + 1..]
                    .parse::<u16>()
                    .map_err(|_| invalid("has an invalid port"))?;
                (&authority[..at], Some(port))
            }
            _ => (authority, None),
        };
        if host.is_empty() || host.contains(['@', ' ']) {
            return Err(invalid("has no usable host"));
        }
        Ok(Self {
            https,
            host: host.to_ascii_lowercase(),
            port,
            prefix: prefix.trim_end_matches('/').to_owned(),
        })
    }

    /// The absolute URL of one of our routes, as configured (what TwiML names).
    pub fn url(&self, path: &str) -> String {
        self.with_port(self.port, path)
    }

    /// The path prefix (`/support`, or empty): an API mapping's base path or a stage, which
    /// the request path the function sees may still carry.
    pub fn path_prefix(&self) -> &str {
        &self.prefix
    }

    fn default_port(&self) -> u16 {
        if self.https { 443 } else { 80 }
    }

    fn with_port(&self, port: Option<u16>, path_and_query: &str) -> String {
        let scheme = if self.https { "https" } else { "http" };
        let slash = if path_and_query.starts_with('/') || path_and_query.is_empty() {
            ""
        } else {
            "/"
        };
        match port {
            Some(port) => format!(
                "{scheme}://{}:{port}{}{slash}{path_and_query}",
                self.host, self.prefix
            ),
            None => format!(
                "{scheme}://{}{}{slash}{path_and_query}",
                self.host, self.prefix
            ),
        }
    }

    /// The URL as configured, and the same with the default port added or removed: Twilio
    /// may sign either form. A non-default port is only ever signed as given.
    pub fn candidate_urls(&self, path_and_query: &str) -> Vec<String> {
        let default = self.default_port();
        match self.port {
            None => vec![
                self.with_port(None, path_and_query),
                self.with_port(Some(default), path_and_query),
            ],
            Some(port) if port == default => vec![
                self.with_port(Some(port), path_and_query),
                self.with_port(None, path_and_query),
            ],
            Some(port) => vec![self.with_port(Some(port), path_and_query)],
        }
    }
}

/// How to verify Twilio callbacks.
#[derive(Debug, Clone)]
pub struct TwilioConfig {
    /// The account's primary auth token.
    pub auth_token: Secret,
    pub public_base_url: PublicBaseUrl,
    pub body_limit: usize,
}

impl TwilioConfig {
    pub fn new(auth_token: Secret, public_base_url: PublicBaseUrl) -> Self {
        Self {
            auth_token,
            public_base_url,
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }

    /// From `TWILIO_AUTH_TOKEN` and `PUBLIC_BASE_URL` (both required).
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let token = config::required_secret(&lookup, "TWILIO_AUTH_TOKEN")?;
        let base = config::optional(&lookup, "PUBLIC_BASE_URL")
            .ok_or(ConfigError::Missing("PUBLIC_BASE_URL"))?;
        Ok(Self::new(token, PublicBaseUrl::parse(&base)?))
    }

    pub fn with_body_limit(mut self, limit: usize) -> Self {
        self.body_limit = limit;
        self
    }
}

/// The Twilio recording-status-callback endpoint.
#[derive(Debug, Clone)]
pub struct TwilioHandler {
    config: TwilioConfig,
    classifier: Classifier,
}

impl TwilioHandler {
    pub fn new(config: TwilioConfig, classifier: Classifier) -> Self {
        Self { config, classifier }
    }

    /// The recording status callback: verify, parse and normalize. POST only (the
    /// callback's default method).
    pub fn handle(&self, request: &RawRequest<'_>, now: Timestamp) -> Result<Intake, Rejection> {
        let pairs = self.authenticated(request)?;
        let callback = RecordingCallback::try_from(pairs)
            .map_err(|reason| Rejection::malformed(PROVIDER, reason))?;
        crate::plausible::check(PROVIDER, self.normalize(callback, now)?, now)
    }

    /// The voice webhook ("a call comes in"): the call starts its case, and the caller hears
    /// the greeting of the `[phone]` policy (in or out of office hours) and is recorded.
    pub fn handle_voice(
        &self,
        request: &RawRequest<'_>,
        now: Timestamp,
        policy: &Policy,
    ) -> Result<VoiceAnswer, Rejection> {
        let voice = self.voice_request(request)?;
        let event = self.call_event(&voice, Change::CallStarted, "call", now)?;
        let texts = policy.phone.texts();
        let greeting = if policy.business.is_open(now) {
            &texts.in_hours
        } else {
            &texts.out_of_hours
        };
        let base = &self.config.public_base_url;
        let twiml = twiml::voicemail_prompt(&twiml::VoicemailPrompt {
            language: policy.phone.language,
            greeting,
            max_length: policy.phone.max_message,
            recording_status_callback: &base.url(RECORDING_PATH),
            action: &base.url(RECORD_ACTION_PATH),
        });
        Ok(VoiceAnswer {
            event: Some(event),
            twiml,
        })
    }

    /// The `<Record>` action (and the redirect after an empty recording): thank the caller and
    /// hang up. With a message it is the voicemail (whichever of this and the recording
    /// callback comes first); without one (`RecordingUrl` absent or `RecordingDuration` 0) a
    /// missed call.
    pub fn handle_record_action(
        &self,
        request: &RawRequest<'_>,
        now: Timestamp,
        policy: &Policy,
    ) -> Result<VoiceAnswer, Rejection> {
        let mut voice = self.voice_request(request)?;
        let duration = match voice.recording_duration.as_deref() {
            Some(text) => parse_duration(text)?,
            None => 0,
        };
        let change = match voice.recording_url.as_deref() {
            Some(url) if duration > 0 => {
                voice.recording_url = Some(playable(url)?);
                Change::VoicemailLeft
            }
            _ => {
                voice.recording_url = None;
                Change::CallMissed
            }
        };
        let mut event = self.call_event(&voice, change, "action", now)?;
        if let Some(voicemail) = event.snapshot.request.voicemail.as_mut() {
            voicemail.duration_seconds = duration;
        }
        let texts = policy.phone.texts();
        Ok(VoiceAnswer {
            event: Some(crate::bounded::event(event)),
            twiml: twiml::goodbye(policy.phone.language, &texts.goodbye),
        })
    }

    fn voice_request(&self, request: &RawRequest<'_>) -> Result<VoiceRequest, Rejection> {
        let pairs = self.authenticated(request)?;
        let voice = VoiceRequest::try_from(pairs)
            .map_err(|reason| Rejection::malformed(PROVIDER, reason))?;
        if let Some(account) = &voice.account_sid {
            check_sid("AccountSid", "AC", account)?;
        }
        Ok(voice)
    }

    /// The call's event: case `twilio-<CallSid>`, the caller and the line from `From`/`To`.
    fn call_event(
        &self,
        voice: &VoiceRequest,
        change: Change,
        step: &str,
        now: Timestamp,
    ) -> Result<CaseEvent, Rejection> {
        let call_sid = voice
            .call_sid
            .as_deref()
            .ok_or_else(|| missing("CallSid"))?;
        check_sid("CallSid", "CA", call_sid)?;
        let case_id = CaseId::for_provider(PROVIDER, call_sid)
            .map_err(|error| Rejection::malformed(PROVIDER, error))?;
        let caller = voice
            .from
            .clone()
            .unwrap_or_else(|| UNKNOWN_NUMBER.to_owned());
        let called = voice
            .to
            .clone()
            .unwrap_or_else(|| UNKNOWN_NUMBER.to_owned());
        let snapshot = self.phone_facts(
            now,
            Voicemail {
                caller,
                called,
                duration_seconds: 0,
                recording_url: voice.recording_url.clone(),
                ended_without_message: false,
            },
            voice.caller_name.clone(),
        );
        Ok(crate::bounded::event(CaseEvent {
            case_id,
            event_id: format!("{call_sid}:{step}"),
            occurred_at: now,
            change,
            snapshot,
        }))
    }

    /// The facts of a call; the state machine decides subject and priority.
    fn phone_facts(
        &self,
        received: Timestamp,
        voicemail: Voicemail,
        caller_name: Option<String>,
    ) -> CaseFacts {
        CaseFacts {
            request: RequestFacts {
                channel: Channel::Phone,
                plan: self
                    .classifier
                    .plans
                    .plan_for_called_number(&voicemail.called),
                priority: if voicemail.recording_url.is_some() {
                    Priority::Urgent
                } else {
                    Priority::Normal
                },
                received,
                labels: Labels::default(),
                subject: None,
                requester: caller_name.map(|name| Requester {
                    name: Some(name),
                    email: None,
                }),
                link: None,
                voicemail: Some(voicemail),
            },
            status: Status::Open,
            assignee: None,
            first_response_at: None,
            adoption: None,
            references: Default::default(),
        }
    }

    /// Method, size and signature; then the strictly decoded parameters.
    fn authenticated(&self, request: &RawRequest<'_>) -> Result<Vec<(String, String)>, Rejection> {
        request.require_method(&[Method::POST], "POST")?;
        request.require_size(self.config.body_limit)?;
        // Twilio signs the decoded parameters, so decoding comes first; its result is only
        // looked at once the signature is known to be good.
        let decoded = wire::decode_strict(request.body);
        let signed = match &decoded {
            Ok(pairs) => wire::signed_params(pairs),
            Err(_) => wire::signed_params(&wire::decode_lenient(request.body)),
        };
        self.verify(request, &signed)?;
        decoded.map_err(|reason| Rejection::malformed(PROVIDER, reason))
    }

    fn verify(&self, request: &RawRequest<'_>, params: &str) -> Result<(), Rejection> {
        let given = request
            .header(SIGNATURE_HEADER)
            .ok_or(Rejection::MissingSignature {
                header: "X-Twilio-Signature",
            })?;
        let tag = signature::decode_base64(given).ok_or(Rejection::BadSignature)?;
        let key = self.config.auth_token.expose().as_bytes();
        let verified = self
            .config
            .public_base_url
            .candidate_urls(request.path_and_query)
            .iter()
            .any(|url| signature::sha1_verifies(key, &[url.as_bytes(), params.as_bytes()], &tag));
        if verified {
            Ok(())
        } else {
            Err(Rejection::BadSignature)
        }
    }

    fn normalize(&self, callback: RecordingCallback, now: Timestamp) -> Result<Intake, Rejection> {
        let sid = callback
            .recording_sid
            .ok_or_else(|| missing("RecordingSid"))?;
        // Twilio signs names and values concatenated without separators, so a signed body can
        // be re-split ("RecordingSid=RE…RecordingSource" + "RecordVerb"); only well-formed sids
        // make that harmless.
        check_sid("RecordingSid", "RE", &sid)?;
        let call_sid = callback.call_sid.ok_or_else(|| missing("CallSid"))?;
        check_sid("CallSid", "CA", &call_sid)?;
        if let Some(account) = &callback.account_sid {
            check_sid("AccountSid", "AC", account)?;
        }
        let status = callback
            .recording_status
            .ok_or_else(|| missing("RecordingStatus"))?;
        let recording_url = match status.as_str() {
            "completed" => {
                let url = callback
                    .recording_url
                    .ok_or_else(|| missing("RecordingUrl"))?;
                Some(playable(&url)?)
            }
            "absent" => None,
            other => {
                let reason = format!("twilio recording status {} is not tracked", excerpt(other));
                tracing::info!(provider = PROVIDER, %reason, "webhook ignored");
                return Ok(Intake::Ignored { reason });
            }
        };
        let case_id = CaseId::for_provider(PROVIDER, &call_sid)
            .map_err(|error| Rejection::malformed(PROVIDER, error))?;
        let duration_seconds = match (callback.recording_duration.as_deref(), &recording_url) {
            (Some(text), _) => parse_duration(text)?,
            (None, None) => 0,
            (None, Some(_)) => return Err(missing("RecordingDuration")),
        };
        // A recording of nothing (trimmed silence) is no message.
        let recording_url = recording_url.filter(|_| duration_seconds > 0);
        let received = match callback.recording_start_time.as_deref() {
            Some(text) => RFC2822.parse_timestamp(text).map_err(|error| {
                Rejection::malformed(
                    PROVIDER,
                    format_args!(
                        "RecordingStartTime {:?} is not an RFC 2822 date: {error}",
                        excerpt(text)
                    ),
                )
            })?,
            None => now,
        };
        let change = if recording_url.is_some() {
            Change::VoicemailLeft
        } else {
            Change::CallMissed
        };
        // The callback names neither caller nor line: the call start (same case) knows them;
        // a recording of a call never seen still makes a case, with both unknown.
        let snapshot = self.phone_facts(
            received,
            Voicemail {
                caller: UNKNOWN_NUMBER.to_owned(),
                called: UNKNOWN_NUMBER.to_owned(),
                duration_seconds,
                recording_url,
                ended_without_message: false,
            },
            None,
        );
        // Raw strings become domain values here: bounded, so that no case outgrows its item.
        Ok(Intake::Accepted(vec![crate::bounded::event(CaseEvent {
            case_id,
            event_id: format!("{sid}:{status}"),
            occurred_at: received,
            change,
            snapshot,
        })]))
    }
}

impl Webhook for TwilioHandler {
    fn handle(&self, request: &RawRequest<'_>, now: Timestamp) -> Result<Intake, Rejection> {
        TwilioHandler::handle(self, request, now)
    }
}

/// The value of `X-Twilio-Signature` for a form `body` posted to `url`, for simulators and
/// tests that play Twilio.
pub fn sign(auth_token: &Secret, url: &str, body: &[u8]) -> String {
    let params = match wire::decode_strict(body) {
        Ok(pairs) => wire::signed_params(&pairs),
        Err(_) => wire::signed_params(&wire::decode_lenient(body)),
    };
    signature::sha1_base64(
        auth_token.expose().as_bytes(),
        &[url.as_bytes(), params.as_bytes()],
    )
}

/// The recording as a link that plays on a phone: Twilio serves `<RecordingUrl>.mp3` (the
/// bare URL is a WAV file).
fn playable(url: &str) -> Result<String, Rejection> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(Rejection::malformed(
            PROVIDER,
            "RecordingUrl is not an http(s) URL",
        ));
    }
    let url = url.trim_end_matches(".wav");
    Ok(if url.ends_with(".mp3") {
        url.to_owned()
    } else {
        format!("{url}.mp3")
    })
}

/// Whole seconds; Twilio reports `-1` or `0` for recordings that hold nothing.
fn parse_duration(text: &str) -> Result<u32, Rejection> {
    match text.parse::<i64>() {
        Ok(seconds) if seconds < 0 => Ok(0),
        Ok(seconds) => Ok(u32::try_from(seconds).unwrap_or(u32::MAX)),
        Err(_) => Err(Rejection::malformed(
            PROVIDER,
            format_args!(
                "RecordingDuration {:?} is not a number of seconds",
                excerpt(text)
            ),
        )),
    }
}

/// A Twilio sid: its two-letter prefix and 32 hexadecimal digits.
fn check_sid(name: &str, prefix: &str, value: &str) -> Result<(), Rejection> {
    let well_formed = value.len() == 34
        && value.starts_with(prefix)
        && value[2..].bytes().all(|b| b.is_ascii_hexdigit());
    if well_formed {
        Ok(())
    } else {
        Err(Rejection::malformed(
            PROVIDER,
            format_args!(
                "{name} {:?} is not {prefix} followed by 32 hexadecimal digits",
                excerpt(value)
            ),
        ))
    }
}

fn missing(field: &str) -> Rejection {
    Rejection::malformed(PROVIDER, format_args!("missing parameter {field}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_base_url_without_port_is_also_tried_with_the_default_port() {
        let base = PublicBaseUrl::parse("https://API.example.com/prod/").unwrap();
        assert_eq!(
            base.candidate_urls("/twilio?x=1"),
            [
                "https://api.example.com/prod/twilio?x=1",
                "https://api.example.com:443/prod/twilio?x=1"
            ]
        );
    }

    #[test]
    fn an_explicit_default_port_is_also_tried_without() {
        let base = PublicBaseUrl::parse("http://example.com:80").unwrap();
        assert_eq!(
            base.candidate_urls("/t"),
            ["http://example.com:80/t", "http://example.com/t"]
        );
    }

    #[test]
    fn a_non_default_port_is_only_tried_as_given() {
        let base = PublicBaseUrl::parse("http://example.com:1234").unwrap();
        assert_eq!(base.candidate_urls("/t"), ["http://example.com:1234/t"]);
    }

    #[test]
    fn unusable_base_urls_are_configuration_errors() {
        for text in [
            "example.com",
            "ftp://x",
            "https://",
            "https://x:99999",
            "https://x/?q",
        ] {
            assert!(PublicBaseUrl::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn durations_clamp_negative_values_and_refuse_text() {
        assert_eq!(parse_duration("42"), Ok(42));
        assert_eq!(parse_duration("-1"), Ok(0));
        assert!(parse_duration("forty").is_err());
    }
}
