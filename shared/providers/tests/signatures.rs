//! Every signature test vector of docs/test-vectors.md: the published ones and our own.
//!
//! Our own vectors (ZD-3 value, ZD-6, ZD-7, IC-1, IC-3, IC-4, TW-5, TW-6, TW-7) were computed
//! with openssl, independently of this crate, as:
//!
//! ```sh
//! # Zendesk: base64(HMAC-SHA256(secret, timestamp + body))
//! printf '%s' "$ts$body" | openssl dgst -sha256 -hmac "$secret" -binary | base64
//! # Intercom: hex HMAC-SHA1(secret, body)
//! printf '%s' "$body" | openssl dgst -sha1 -hmac "$secret"
//! # Twilio: base64(HMAC-SHA1(token, url + sorted decoded name+value pairs)), string built by hand
//! printf '%s' "$url$params" | openssl dgst -sha1 -hmac "$token" -binary | base64
//! ```
//!
//! The published vectors (ZD-1/1b/2/4, IC-2, TW-1/2/2a/2b/2c/3) were re-checked the same way.
//! Non-ASCII strings were passed to openssl as UTF-8 from the shell.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Request, at};
use http::Method;
use providers::{
    Classifier, Intake, IntercomConfig, IntercomHandler, PublicBaseUrl, Rejection, Secret,
    TwilioConfig, TwilioHandler, ZendeskConfig, ZendeskHandler, intercom, twilio, zendesk,
};

const ZD_TEST_SECRET: &str = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==";
const ZD_LEGACY_SECRET: &str = "HRkRd4BeOAoUkfZr-mhauJT64rvBASlJRoIyPsd3zeA=";
const HELLO: &str = r#"{"say": "hello"}"#;

fn zendesk_with(secret: &str) -> ZendeskHandler {
    ZendeskHandler::new(
        ZendeskConfig::new(providers::Secret::new(secret).unwrap()),
        Classifier::default(),
    )
}

/// The outcome of a Zendesk request signed with `signature`, received at the signing time.
fn zendesk_outcome(
    secret: &str,
    timestamp: &str,
    body: &[u8],
    signature: &str,
) -> Result<Intake, Rejection> {
    let request = Request::post("/zendesk", body)
        .header("x-zendesk-webhook-signature", signature)
        .header("x-zendesk-webhook-signature-timestamp", timestamp);
    zendesk_with(secret).handle(&request.raw(), at(timestamp))
}

/// Passing the signature check means any later refusal is about the body, not the signature.
fn signature_accepted(outcome: &Result<Intake, Rejection>) -> bool {
    !matches!(
        outcome,
        Err(Rejection::BadSignature | Rejection::MissingSignature { .. })
    )
}

struct ZendeskVector {
    name: &'static str,
    secret: &'static str,
    timestamp: &'static str,
    body: &'static str,
    signature: &'static str,
    valid: bool,
}

const ZENDESK_VECTORS: &[ZendeskVector] = &[
    // The legacy doc's example signs BODY+TIMESTAMP: a correct verifier must refuse it.
    ZendeskVector {
        name: "ZD-1 legacy body-first example",
        secret: ZD_LEGACY_SECRET,
        timestamp: "2021-07-25T10:00:00Z",
        body: HELLO,
        signature: "tRDSF7URY8BLCDlaBcQ7FHu051Zk+aAB0NKMP53teMw=",
        valid: false,
    },
    ZendeskVector {
        name: "ZD-1b",
        secret: ZD_LEGACY_SECRET,
        timestamp: "2021-07-25T10:00:00Z",
        body: HELLO,
        signature: "Rry/4TtIdFyawtXXp8QdI6tlAUUQ/5kL1OTp5qo/ZIk=",
        valid: true,
    },
    ZendeskVector {
        name: "ZD-2 static test secret, used as ASCII",
        secret: ZD_TEST_SECRET,
        timestamp: "2021-07-25T10:00:00Z",
        body: HELLO,
        signature: "gf3v0LzLRHPUnIdhbvwRDVEvzSb07/QN0GYjSNlkBT0=",
        valid: true,
    },
    ZendeskVector {
        name: "ZD-4 empty body",
        secret: ZD_TEST_SECRET,
        timestamp: "2025-01-08T10:12:08Z",
        body: "",
        signature: "Ahsahagk93tglK+EWtZVwKC4ZX4A31ECo4ztwKp7QQg=",
        valid: true,
    },
    ZendeskVector {
        name: "ZD-6 (ours) UTF-8 body with umlauts",
        secret: ZD_TEST_SECRET,
        timestamp: "2026-11-28T09:00:00Z",
        body: r#"{"say":"Grüße aus Köln – Äpfel, Öl, Übermut, ß"}"#,
        signature: "z0IRIfnVUCR1EBIcVvKSKmIABs6kwNXhW7LjQbgHA2k=",
        valid: true,
    },
    ZendeskVector {
        name: "ZD-7 (ours) non-ASCII secret, empty body",
        secret: "Schlüssel-ä",
        timestamp: "2026-11-28T09:00:00Z",
        body: "",
        signature: "OeiEMrSmBCqRh7QGLIulXUM7ADZrWYGILM8Vhvf7RQM=",
        valid: true,
    },
    ZendeskVector {
        name: "ZD-7 with a truncated signature",
        secret: "Schlüssel-ä",
        timestamp: "2026-11-28T09:00:00Z",
        body: "",
        signature: "OeiEMrSmBCqRh7QGLIulXUM7ADZrWYGILM8Vhvf7RQ==",
        valid: false,
    },
];

#[test]
fn every_zendesk_vector_is_accepted_or_refused_as_documented() {
    for vector in ZENDESK_VECTORS {
        let outcome = zendesk_outcome(
            vector.secret,
            vector.timestamp,
            vector.body.as_bytes(),
            vector.signature,
        );
        assert_eq!(
            signature_accepted(&outcome),
            vector.valid,
            "{}: {outcome:?}",
            vector.name
        );
        if !vector.valid {
            assert_eq!(outcome, Err(Rejection::BadSignature), "{}", vector.name);
        }
        let computed = zendesk::sign(
            &Secret::new(vector.secret).unwrap(),
            vector.timestamp,
            vector.body.as_bytes(),
        );
        assert_eq!(
            computed == vector.signature,
            vector.valid,
            "{}",
            vector.name
        );
    }
}

#[test]
fn zd3_the_status_changed_fixture_verifies_only_timestamp_first() {
    let body = common::fixture("zendesk/ticket_status_changed.json");
    let timestamp = "2025-01-08T10:12:08Z";
    // openssl, timestamp + body and body + timestamp respectively.
    let right = "RavJuaD9GSJOtRMAEJIAnONYuHUZdTJG+GroHuS/ITg=";
    let body_first = "MzoPyBF2AFzrgB3svp/GRMLft4q3i/jwwN9QtZ/9KlE=";
    let outcome = zendesk_outcome(ZD_TEST_SECRET, timestamp, &body, right);
    assert!(matches!(outcome, Ok(Intake::Accepted(_))), "{outcome:?}");
    assert_eq!(
        zendesk_outcome(ZD_TEST_SECRET, timestamp, &body, body_first),
        Err(Rejection::BadSignature)
    );
}

#[test]
fn a_zendesk_secret_is_not_base64_decoded() {
    // Keyed with the decoded bytes of the test secret, ZD-2 must not verify.
    let outcome = zendesk_outcome(
        "this_secret_is_for_testing_only",
        "2021-07-25T10:00:00Z",
        HELLO.as_bytes(),
        "gf3v0LzLRHPUnIdhbvwRDVEvzSb07/QN0GYjSNlkBT0=",
    );
    assert_eq!(outcome, Err(Rejection::BadSignature));
}

#[test]
fn a_zendesk_signature_over_another_timestamp_is_refused() {
    let outcome = zendesk_outcome(
        ZD_TEST_SECRET,
        "2021-07-25T10:00:01Z",
        HELLO.as_bytes(),
        "gf3v0LzLRHPUnIdhbvwRDVEvzSb07/QN0GYjSNlkBT0=",
    );
    assert_eq!(outcome, Err(Rejection::BadSignature));
}

fn intercom_outcome(body: &[u8], header: &str) -> Result<Intake, Rejection> {
    let handler = IntercomHandler::new(
        IntercomConfig::new(providers::Secret::new("test_client_secret").unwrap()),
        Classifier::default(),
    );
    let request = Request::post("/intercom", body).header("x-hub-signature", header);
    handler.handle(&request.raw(), at("2026-01-01T00:00:00Z"))
}

#[test]
fn every_intercom_vector_is_accepted_or_refused_as_documented() {
    let ping = common::fixture("intercom/ping.json");
    let user_created = common::fixture("intercom/user_created.json");
    let umlauts = r#"{"topic":"ping","note":"Grüße, Jürgen – Straße"}"#.as_bytes();
    let table: &[(&str, &[u8], &str, bool)] = &[
        (
            "IC-1 (ours) ping",
            &ping,
            "sha1=408be1b830503efeaa0a362187121918003eb694",
            true,
        ),
        (
            "IC-2",
            &user_created,
            "sha1=fe8cbed1a218f1fbb00c841f40957d5b8ddc9aad",
            true,
        ),
        (
            "IC-2 upper-case hex",
            &user_created,
            "sha1=FE8CBED1A218F1FBB00C841F40957D5B8DDC9AAD",
            true,
        ),
        (
            "IC-3 (ours) umlauts",
            umlauts,
            "sha1=9cdb188b86522061f2f9bfeec9ac83a2c367b336",
            true,
        ),
        (
            "IC-4 (ours) empty body",
            b"",
            "sha1=c95c9a88edb8b6b35c9820b2b2077a8e95cd98d9",
            true,
        ),
        (
            "IC-2 without the sha1= prefix",
            &user_created,
            "fe8cbed1a218f1fbb00c841f40957d5b8ddc9aad",
            false,
        ),
        (
            "IC-2 as sha256=",
            &user_created,
            "sha256=fe8cbed1a218f1fbb00c841f40957d5b8ddc9aad",
            false,
        ),
        (
            "IC-2 one digit off",
            &user_created,
            "sha1=fe8cbed1a218f1fbb00c841f40957d5b8ddc9aae",
            false,
        ),
        ("IC-2 not hex", &user_created, "sha1=not-hex", false),
        (
            "IC-1 signature on IC-2 body",
            &user_created,
            "sha1=408be1b830503efeaa0a362187121918003eb694",
            false,
        ),
    ];
    for (name, body, header, valid) in table {
        let outcome = intercom_outcome(body, header);
        assert_eq!(signature_accepted(&outcome), *valid, "{name}: {outcome:?}");
    }
    assert_eq!(
        intercom::sign(&Secret::new("test_client_secret").unwrap(), &user_created),
        "sha1=fe8cbed1a218f1fbb00c841f40957d5b8ddc9aad"
    );
}

fn twilio_outcome(
    base: &str,
    path: &str,
    body: &str,
    signature: &str,
) -> Result<Intake, Rejection> {
    let config = TwilioConfig::new(
        providers::Secret::new("12345").unwrap(),
        PublicBaseUrl::parse(base).unwrap(),
    );
    let handler = TwilioHandler::new(config, Classifier::default());
    let request = Request::post(path, body).header("x-twilio-signature", signature);
    handler.handle(&request.raw(), at("2026-01-01T00:00:00Z"))
}

const TW1_BODY: &str = "CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234&From=%2B12349013030&To=%2B18005551212";
const TW2_BODY: &str = "CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To=%2B18005551212";
const TW3_BODY: &str = "Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234";
const MYAPP: &str = "/myapp.php?foo=1&bar=2";

#[test]
fn every_twilio_vector_is_accepted_or_refused_as_documented() {
    let table: &[(&str, &str, &str, &str, bool)] = &[
        (
            "TW-1",
            "https://mycompany.com",
            TW1_BODY,
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ=",
            true,
        ),
        (
            "TW-2",
            "https://mycompany.com",
            TW2_BODY,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
            true,
        ),
        // Signed with :443 while we are configured without a port, and the reverse.
        (
            "TW-2a",
            "https://mycompany.com",
            TW2_BODY,
            "kvajT1Ptam85bY51eRf/AJRuM3w=",
            true,
        ),
        (
            "TW-2a reverse",
            "https://mycompany.com:443",
            TW2_BODY,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
            true,
        ),
        (
            "TW-2b",
            "http://mycompany.com",
            TW2_BODY,
            "0ZXoZLH/DfblKGATFgpif+LLRf4=",
            true,
        ),
        (
            "TW-2b reverse",
            "http://mycompany.com:80",
            TW2_BODY,
            "0ZXoZLH/DfblKGATFgpif+LLRf4=",
            true,
        ),
        (
            "TW-2c",
            "http://mycompany.com:1234",
            TW2_BODY,
            "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=",
            true,
        ),
        // A non-default port is part of the URL: it is never added or dropped.
        (
            "TW-2c without its port",
            "http://mycompany.com",
            TW2_BODY,
            "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=",
            false,
        ),
        (
            "TW-2b under https",
            "https://mycompany.com",
            TW2_BODY,
            "0ZXoZLH/DfblKGATFgpif+LLRf4=",
            false,
        ),
        (
            "TW-3 duplicates",
            "https://mycompany.com",
            TW3_BODY,
            "IK+Dwps556ElfBT0I3Rgjkr1wJU=",
            true,
        ),
        (
            "TW-1 signature on TW-2 params",
            "https://mycompany.com",
            TW2_BODY,
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ=",
            false,
        ),
    ];
    for (name, base, body, signature, valid) in table {
        let outcome = twilio_outcome(base, MYAPP, body, signature);
        assert_eq!(signature_accepted(&outcome), *valid, "{name}: {outcome:?}");
    }
}

#[test]
fn twilio_parameter_order_on_the_wire_does_not_matter() {
    let shuffled = "To=%2B18005551212&Digits=1234&From=%2B12349013030&CallSid=CA1234567890ABCDE&Caller=%2B12349013030";
    let outcome = twilio_outcome(
        "https://mycompany.com",
        MYAPP,
        shuffled,
        "0/KCTR6DLpKmkAf8muzZqo1nDgQ=",
    );
    assert!(signature_accepted(&outcome), "{outcome:?}");
    let shuffled_duplicates = "Digits=1234&SidAccount=AC123&Digits=5678&Sid=CA123";
    let outcome = twilio_outcome(
        "https://mycompany.com",
        MYAPP,
        shuffled_duplicates,
        "IK+Dwps556ElfBT0I3Rgjkr1wJU=",
    );
    assert!(signature_accepted(&outcome), "{outcome:?}");
}

#[test]
fn twilio_signs_the_query_string_as_part_of_the_url() {
    let outcome = twilio_outcome(
        "https://mycompany.com",
        "/myapp.php?foo=1&bar=3",
        TW1_BODY,
        "0/KCTR6DLpKmkAf8muzZqo1nDgQ=",
    );
    assert_eq!(outcome, Err(Rejection::BadSignature));
}

#[test]
fn our_own_twilio_vectors_verify() {
    let base = "https://example.com";
    let path = "/twilio/recording-status?tenant=acme";
    let tw5 = common::fixture_text("twilio/recording_completed.form");
    let tw6 = "CallerName=J%C3%BCrgen+M%C3%BCller&From=%2B4915791234567&RecordingSid=RE1&RecordingStatus=absent";
    let table: &[(&str, &str, &str, &str)] = &[
        (
            "TW-5 recording status body",
            path,
            &tw5,
            "rSpyKVgVO1KMN/bwtaLKkJwcu9g=",
        ),
        (
            "TW-6 umlauts, + as space, %2B as plus",
            path,
            tw6,
            "9ZtfhNks01EZ77F+aRLR3IcLmpo=",
        ),
        (
            "TW-7 empty body, no query",
            "/twilio/recording-status",
            "",
            "HJK1QLt8jSGL9BOospEt3KAHXOc=",
        ),
    ];
    for (name, path, body, signature) in table {
        let outcome = twilio_outcome(base, path, body, signature);
        assert!(signature_accepted(&outcome), "{name}: {outcome:?}");
        let url = format!("{base}{path}");
        assert_eq!(
            twilio::sign(&Secret::new("12345").unwrap(), &url, body.as_bytes()),
            *signature,
            "{name}"
        );
    }
    // TW-5 is a complete recording callback: it goes all the way through.
    let outcome = twilio_outcome(base, path, &tw5, "rSpyKVgVO1KMN/bwtaLKkJwcu9g=");
    assert!(matches!(outcome, Ok(Intake::Accepted(_))), "{outcome:?}");
}

#[test]
fn a_missing_signature_header_is_401_for_every_provider() {
    let now = at("2025-01-08T10:12:08Z");
    let zendesk = zendesk_with(ZD_TEST_SECRET);
    let only_timestamp = Request::post("/zendesk", HELLO).header(
        "x-zendesk-webhook-signature-timestamp",
        "2025-01-08T10:12:08Z",
    );
    let only_signature = Request::post("/zendesk", HELLO).header(
        "x-zendesk-webhook-signature",
        "gf3v0LzLRHPUnIdhbvwRDVEvzSb07/QN0GYjSNlkBT0=",
    );
    let unsigned = Request::post("/x", HELLO);
    let intercom = IntercomHandler::new(
        IntercomConfig::new(providers::Secret::new("s").unwrap()),
        Classifier::default(),
    );
    let twilio = TwilioHandler::new(
        TwilioConfig::new(
            providers::Secret::new("t").unwrap(),
            PublicBaseUrl::parse("https://x").unwrap(),
        ),
        Classifier::default(),
    );
    for outcome in [
        zendesk.handle(&only_timestamp.raw(), now),
        zendesk.handle(&only_signature.raw(), now),
        intercom.handle(&unsigned.raw(), now),
        twilio.handle(&unsigned.raw(), now),
    ] {
        let rejection = outcome.unwrap_err();
        assert!(
            matches!(rejection, Rejection::MissingSignature { .. }),
            "{rejection:?}"
        );
        assert_eq!(rejection.status(), 401);
    }
}

#[test]
fn signatures_are_checked_before_the_body_is_parsed() {
    // A garbage body with a wrong signature is a 401, never a 400: nothing was parsed.
    let now = at("2025-01-08T10:12:08Z");
    let garbage = b"{not json".as_slice();
    let zendesk = Request::post("/z", garbage)
        .header(
            "x-zendesk-webhook-signature",
            "gf3v0LzLRHPUnIdhbvwRDVEvzSb07/QN0GYjSNlkBT0=",
        )
        .header(
            "x-zendesk-webhook-signature-timestamp",
            "2025-01-08T10:12:08Z",
        );
    assert_eq!(
        zendesk_with(ZD_TEST_SECRET).handle(&zendesk.raw(), now),
        Err(Rejection::BadSignature)
    );
    assert_eq!(
        intercom_outcome(garbage, "sha1=fe8cbed1a218f1fbb00c841f40957d5b8ddc9aad"),
        Err(Rejection::BadSignature)
    );
    assert_eq!(
        twilio_outcome("https://x", "/", "A=%zz", "0/KCTR6DLpKmkAf8muzZqo1nDgQ="),
        Err(Rejection::BadSignature)
    );
}

#[test]
fn methods_and_sizes_are_checked_before_signatures() {
    let now = at("2025-01-08T10:12:08Z");
    let get = Request::post("/z", "").method(Method::GET);
    let zendesk = zendesk_with(ZD_TEST_SECRET);
    let rejection = zendesk.handle(&get.raw(), now).unwrap_err();
    assert_eq!(rejection.status(), 405);
    assert_eq!(rejection.allow(), Some("POST"));

    let small = ZendeskHandler::new(
        ZendeskConfig::new(providers::Secret::new(ZD_TEST_SECRET).unwrap()).with_body_limit(8),
        Classifier::default(),
    );
    let big = Request::post("/z", HELLO);
    let rejection = small.handle(&big.raw(), now).unwrap_err();
    assert_eq!(rejection, Rejection::TooLarge { size: 16, limit: 8 });
    assert_eq!(rejection.status(), 413);
}
