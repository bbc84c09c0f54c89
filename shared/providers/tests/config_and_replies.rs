//! Configuration from the environment (through a lookup closure, never the process env),
//! secrets that never show, and the HTTP replies an engine sends back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{at, fixture, intercom_request, zendesk, zendesk_request};
use http::StatusCode;
use providers::{
    Classifier, ConfigError, Intake, IntercomConfig, IntercomHandler, RawRequest, Rejection,
    StoreFailure, TwilioConfig, TwilioHandler, ZendeskConfig, ZendeskHandler, respond,
    stored_reply,
};
use std::collections::HashMap;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

const SECRET: &str = "s3cr3t-that-must-not-leak";

#[test]
fn every_provider_is_configured_from_its_variables() {
    let lookup = env(&[
        ("ZENDESK_WEBHOOK_SECRET", SECRET),
        ("ZENDESK_SUBDOMAIN", "acme"),
        ("INTERCOM_CLIENT_SECRET", SECRET),
        ("TWILIO_AUTH_TOKEN", SECRET),
        ("PUBLIC_BASE_URL", "https://api.example.com/prod/"),
    ]);
    let zendesk = ZendeskConfig::from_env(&lookup).unwrap();
    assert_eq!(zendesk.subdomain.as_deref(), Some("acme"));
    assert_eq!(zendesk.timestamp_window.as_secs(), 3600);
    assert_eq!(zendesk.body_limit, 256 * 1024);
    IntercomConfig::from_env(&lookup).unwrap();
    let twilio = TwilioConfig::from_env(&lookup).unwrap();
    assert_eq!(
        twilio.public_base_url.candidate_urls("/twilio")[0],
        "https://api.example.com/prod/twilio"
    );
}

#[test]
fn the_zendesk_subdomain_is_optional() {
    let config = ZendeskConfig::from_env(env(&[("ZENDESK_WEBHOOK_SECRET", SECRET)])).unwrap();
    assert_eq!(config.subdomain, None);
}

#[test]
fn missing_or_blank_secrets_are_configuration_errors() {
    let blank = env(&[
        ("ZENDESK_WEBHOOK_SECRET", "  "),
        ("INTERCOM_CLIENT_SECRET", ""),
        ("PUBLIC_BASE_URL", "https://x"),
    ]);
    assert_eq!(
        ZendeskConfig::from_env(&blank).unwrap_err(),
        ConfigError::Missing("ZENDESK_WEBHOOK_SECRET")
    );
    assert_eq!(
        IntercomConfig::from_env(&blank).unwrap_err(),
        ConfigError::Missing("INTERCOM_CLIENT_SECRET")
    );
    assert_eq!(
        TwilioConfig::from_env(&blank).unwrap_err(),
        ConfigError::Missing("TWILIO_AUTH_TOKEN")
    );
    assert_eq!(
        TwilioConfig::from_env(env(&[("TWILIO_AUTH_TOKEN", SECRET)])).unwrap_err(),
        ConfigError::Missing("PUBLIC_BASE_URL")
    );
}

#[test]
fn unusable_values_are_named_without_revealing_secrets() {
    let error = TwilioConfig::from_env(env(&[
        ("TWILIO_AUTH_TOKEN", SECRET),
        ("PUBLIC_BASE_URL", "api.example.com"),
    ]))
    .unwrap_err();
    assert!(matches!(
        error,
        ConfigError::Invalid {
            name: "PUBLIC_BASE_URL",
            ..
        }
    ));
    assert!(!error.to_string().contains(SECRET));
    let error = ZendeskConfig::from_env(env(&[
        ("ZENDESK_WEBHOOK_SECRET", SECRET),
        ("ZENDESK_SUBDOMAIN", "not a subdomain"),
    ]))
    .unwrap_err();
    assert!(matches!(
        error,
        ConfigError::Invalid {
            name: "ZENDESK_SUBDOMAIN",
            ..
        }
    ));
}

#[test]
fn debug_output_of_configs_and_handlers_never_shows_a_secret() {
    let lookup = env(&[
        ("ZENDESK_WEBHOOK_SECRET", SECRET),
        ("INTERCOM_CLIENT_SECRET", SECRET),
        ("TWILIO_AUTH_TOKEN", SECRET),
        ("PUBLIC_BASE_URL", "https://api.example.com"),
    ]);
    let classifier = Classifier::default();
    let printed = [
        format!(
            "{:?}",
            ZendeskHandler::new(
                ZendeskConfig::from_env(&lookup).unwrap(),
                classifier.clone()
            )
        ),
        format!(
            "{:?}",
            IntercomHandler::new(
                IntercomConfig::from_env(&lookup).unwrap(),
                classifier.clone()
            )
        ),
        format!(
            "{:#?}",
            TwilioHandler::new(TwilioConfig::from_env(&lookup).unwrap(), classifier)
        ),
    ];
    for text in printed {
        assert!(!text.contains(SECRET), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
    }
}

#[test]
fn a_refused_signature_is_not_echoed_in_the_reply() {
    let forged = "sha1=0123456789abcdef0123456789abcdef01234567";
    let request = common::Request::post("/intercom", fixture("intercom/ping.json"))
        .header("X-Hub-Signature", forged);
    let outcome = common::intercom().handle(&request.raw(), at("2026-01-01T00:00:00Z"));
    let (status, body) = respond(&outcome, |_| Ok(()));
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let text = body.to_string();
    assert!(!text.contains("0123456789abcdef"), "{text}");
    assert!(!text.contains(common::INTERCOM_SECRET), "{text}");
    assert!(!format!("{outcome:?}").contains("0123456789abcdef"));
}

#[test]
fn accepted_events_are_202_once_stored_and_retryable_when_not() {
    let request = zendesk_request(
        "2026-01-01T00:00:00Z",
        fixture("zendesk/ticket_created.json"),
    );
    let outcome = zendesk().handle(&request.raw(), at("2026-01-01T00:00:00Z"));
    let mut stored = Vec::new();
    let (status, body) = respond(&outcome, |events| {
        stored.extend_from_slice(events);
        Ok(())
    });
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(body["events"], 1);
    assert_eq!(stored.len(), 1);
    assert_eq!(
        respond(&outcome, |_| Err(StoreFailure::Unavailable)).0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        respond(&outcome, |_| Err(StoreFailure::Failed)).0,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    let (status, body) = respond(&outcome, |_| {
        Err(StoreFailure::Undecidable {
            reason: "event e1 cannot be decided: no open time".into(),
        })
    });
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "never retried forever"
    );
    assert_eq!(body["error"], "undecidable");
    assert!(body["reason"].as_str().unwrap().contains("e1"), "{body}");
    // The same, for an async caller that stores on its own and then asks for the reply.
    assert_eq!(stored_reply(1, Ok(())).0, StatusCode::ACCEPTED);
}

#[test]
fn a_400_reply_explains_what_was_wrong() {
    let request = intercom_request(&b"{\"topic\": \"conversation.user.created\"}"[..]);
    let outcome = common::intercom().handle(&request.raw(), at("2026-01-01T00:00:00Z"));
    let (status, body) = respond(&outcome, |_| Ok(()));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "bad_request");
    assert_eq!(
        body["reason"],
        "not a valid intercom webhook: missing field `data.item`"
    );
}

#[test]
fn ignored_events_and_pongs_are_200() {
    let request = zendesk_request(
        "2026-01-01T00:00:00Z",
        fixture("zendesk/user_active_changed.json"),
    );
    let outcome = zendesk().handle(&request.raw(), at("2026-01-01T00:00:00Z"));
    assert!(matches!(outcome, Ok(Intake::Ignored { .. })));
    assert_eq!(respond(&outcome, |_| Ok(())).0, StatusCode::OK);
    assert_eq!(respond(&Ok(Intake::Pong), |_| Ok(())).0, StatusCode::OK);
}

#[test]
fn an_http_request_can_be_handed_over_as_is() {
    let signed = zendesk_request(
        "2026-01-01T00:00:00Z",
        fixture("zendesk/ticket_created.json"),
    );
    let mut builder = http::Request::builder()
        .method("POST")
        .uri("https://api.example.com/zendesk?x=1");
    for (name, value) in &signed.headers {
        builder = builder.header(name, value);
    }
    let request = builder.body(signed.body).unwrap();
    let raw = RawRequest::from_http(&request);
    assert_eq!(raw.path_and_query, "/zendesk?x=1");
    let outcome = zendesk().handle(&raw, at("2026-01-01T00:00:00Z"));
    assert!(matches!(outcome, Ok(Intake::Accepted(_))), "{outcome:?}");
}

/// A way to spell a header name: lower case, title case, upper case.
type Spell = fn(&str) -> String;

/// The signed request as an `http::Request` whose header names are spelled by `spell`, the way
/// a server hands one over; `forged` replaces the value of one header.
fn respelled(
    signed: &common::Request,
    spell: Spell,
    forged: Option<(&str, &str)>,
) -> http::Request<Vec<u8>> {
    let mut builder = http::Request::builder()
        .method(signed.method.clone())
        .uri(signed.path.as_str());
    for (name, value) in &signed.headers {
        let value = match forged {
            Some((header, forged)) if header == name.as_str() => forged.to_owned(),
            _ => value.to_str().unwrap().to_owned(),
        };
        builder = builder.header(spell(name.as_str()), value);
    }
    builder.body(signed.body.clone()).unwrap()
}

fn title_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[test]
fn every_handler_finds_its_signature_headers_whatever_their_case_on_the_wire() {
    // API Gateway lower-cases header names, the providers send them title-cased, and HTTP
    // says case does not matter: each handler must find its headers in every spelling.
    let now = at("2026-01-01T00:00:00Z");
    let spellings: [(&str, Spell); 3] = [
        ("lower case", str::to_ascii_lowercase),
        ("title case", title_case),
        ("upper case", str::to_ascii_uppercase),
    ];
    let zendesk_signed = zendesk_request(
        "2026-01-01T00:00:00Z",
        fixture("zendesk/ticket_created.json"),
    );
    let intercom_signed = intercom_request(fixture("intercom/conversation_user_created.json"));
    let twilio_signed = common::twilio_request(fixture("twilio/recording_completed.form"));
    let zendesk = zendesk();
    let intercom = common::intercom();
    let twilio = common::twilio();
    type Handle<'a> = &'a dyn Fn(&RawRequest<'_>) -> Result<Intake, Rejection>;
    let providers: [(&str, &common::Request, Handle<'_>, (&str, &str)); 3] = [
        (
            "zendesk",
            &zendesk_signed,
            &|raw: &RawRequest<'_>| zendesk.handle(raw, now),
            (
                providers::zendesk::SIGNATURE_HEADER,
                "gf3v0LzLRHPUnIdhbvwRDVEvzSb07/QN0GYjSNlkBT0=",
            ),
        ),
        (
            "intercom",
            &intercom_signed,
            &|raw: &RawRequest<'_>| intercom.handle(raw, now),
            (
                providers::intercom::SIGNATURE_HEADER,
                "sha1=0123456789abcdef0123456789abcdef01234567",
            ),
        ),
        (
            "twilio",
            &twilio_signed,
            &|raw: &RawRequest<'_>| twilio.handle(raw, now),
            (
                providers::twilio::SIGNATURE_HEADER,
                "0/KCTR6DLpKmkAf8muzZqo1nDgQ=",
            ),
        ),
    ];
    for (provider, signed, handle, forged) in providers {
        for (spelling, spell) in spellings {
            let request = respelled(signed, spell, None);
            let outcome = handle(&RawRequest::from_http(&request));
            assert!(
                matches!(outcome, Ok(Intake::Accepted(_))),
                "{provider}, {spelling}: {outcome:?}"
            );
            // A wrong signature under the same spelling is found and refused, not missed.
            let request = respelled(signed, spell, Some(forged));
            let rejection = handle(&RawRequest::from_http(&request)).unwrap_err();
            assert_eq!(rejection, Rejection::BadSignature, "{provider}, {spelling}");
            assert_eq!(rejection.status(), StatusCode::UNAUTHORIZED);
        }
    }
}
