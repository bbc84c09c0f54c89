//! The Intercom REST API client against a wiremock Intercom that checks every request.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use app::ports::{ChatReplier, Delivered, NotifyError};
use notify::{
    IntercomApi, IntercomApiConfig, IntercomChatReplies, IntercomChatSettings, http_client,
};
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "dG9rOmFjY2Vzcw==SECRET";

fn api(server: &MockServer) -> IntercomApi {
    let config = IntercomApiConfig::new(&server.uri(), TOKEN)
        .unwrap()
        .unwrap()
        .with_retry(common::fast_retry());
    IntercomApi::new(config, http_client().unwrap())
}

#[tokio::test]
async fn a_contacts_attributes_and_its_companies_attributes_and_plan_are_read() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/contacts/6657adf46abd0167d9419cd0"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("intercom-version", "2.11"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "type": "contact", "id": "6657adf46abd0167d9419cd0", "role": "user",
            "email": "ada@example.org", "name": "Ada",
            "custom_attributes": {"tier": "gold", "seats": 12, "beta": true, "notes": null},
            "companies": {"type": "list", "data": [{"type": "company", "id": "6657adc96abd0167d9419ccb", "url": "/companies/6657adc96abd0167d9419ccb"}],
                          "url": "/contacts/6657adf46abd0167d9419cd0/companies", "total_count": 1, "has_more": false}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/contacts/6657adf46abd0167d9419cd0/companies"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "type": "list",
            "data": [{
                "type": "company", "id": "6657adc96abd0167d9419ccb", "company_id": "acme",
                "name": "Acme", "plan": {"type": "plan", "id": "269", "name": "Enterprise"},
                "custom_attributes": {"region": "eu"}
            }],
            "pages": {"type": "pages", "page": 1, "per_page": 50, "total_pages": 1},
            "total_count": 1
        })))
        .expect(1)
        .mount(&server)
        .await;

    let attributes = api(&server)
        .account_attributes("6657adf46abd0167d9419cd0")
        .await
        .unwrap();

    assert_eq!(attributes.contact["tier"], "gold");
    assert_eq!(attributes.contact["seats"], "12");
    assert_eq!(attributes.contact["beta"], "true");
    assert!(!attributes.contact.contains_key("notes"));
    assert_eq!(attributes.companies.len(), 1);
    assert_eq!(attributes.companies[0]["plan"], "Enterprise");
    assert!(
        attributes
            .pairs()
            .any(|(name, value)| name == "region" && value == "eu")
    );
}

#[tokio::test]
async fn the_fallback_offer_is_posted_as_an_admin_comment_in_the_conversation() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/conversations/1295/reply"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(body_json(json!({
            "message_type": "comment", "type": "admin", "admin_id": "814860",
            "body": "Möchten Sie per E-Mail weitermachen?"
        })))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"type": "conversation", "id": "1295"})),
        )
        .expect(1)
        .mount(&server)
        .await;

    api(&server)
        .reply_as_admin("1295", "814860", "Möchten Sie per E-Mail weitermachen?")
        .await
        .unwrap();
}

#[tokio::test]
async fn an_id_that_could_change_the_path_is_refused_without_a_request() {
    let server = MockServer::start().await;

    let error = api(&server)
        .reply_as_admin("../admins", "1", "x")
        .await
        .unwrap_err();

    assert!(matches!(error, NotifyError::Permanent { .. }), "{error:?}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_bad_token_is_permanent_and_never_repeated() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "type": "error.list", "request_id": "r1",
            "errors": [{"code": "unauthorized", "message": format!("Access Token Invalid {TOKEN}")}]
        })))
        .expect(1)
        .mount(&server)
        .await;

    let error = api(&server).account_attributes("abc").await.unwrap_err();

    let NotifyError::Permanent { reason } = error else {
        panic!("401 is permanent: {error:?}");
    };
    assert!(reason.contains("INTERCOM_ACCESS_TOKEN"), "{reason}");
    assert!(!reason.contains(TOKEN), "{reason}");
}

#[tokio::test]
async fn a_rate_limit_is_waited_out() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"type": "conversation"})))
        .expect(1)
        .mount(&server)
        .await;

    api(&server).reply_as_admin("1295", "1", "x").await.unwrap();
}

fn chat_settings(server: &MockServer, token: &str, admin: Option<&str>) -> IntercomChatSettings {
    IntercomChatSettings::from_lookup(|name| match name {
        "INTERCOM_API_URL" => Some(server.uri()),
        "INTERCOM_ACCESS_TOKEN" => Some(token.to_owned()),
        "INTERCOM_ADMIN_ID" => admin.map(str::to_owned),
        _ => None,
    })
    .unwrap()
}

#[tokio::test]
async fn a_chat_reply_goes_to_the_cases_conversation_as_the_configured_admin() {
    let server = MockServer::start().await;
    let context = common::chat();
    let conversation = context
        .case_id
        .as_str()
        .strip_prefix("intercom-")
        .unwrap()
        .to_owned();
    Mock::given(method("POST"))
        .and(path(format!("/conversations/{conversation}/reply")))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(body_json(json!({
            "message_type": "comment",
            "type": "admin",
            "admin_id": "814860",
            "body": "Wir machen per E-Mail weiter."
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "type": "conversation" })))
        .expect(1)
        .mount(&server)
        .await;
    let replies = IntercomChatReplies::new(
        chat_settings(&server, TOKEN, Some("814860")),
        http_client().unwrap(),
    );

    let delivered = replies
        .reply(&context, "Wir machen per E-Mail weiter.")
        .await
        .unwrap();

    assert!(matches!(delivered, Delivered::Sent { .. }), "{delivered:?}");
}

#[tokio::test]
async fn without_a_token_or_an_admin_a_chat_reply_is_not_configured() {
    let server = MockServer::start().await;
    for (token, admin) in [("", Some("814860")), (TOKEN, None)] {
        let replies =
            IntercomChatReplies::new(chat_settings(&server, token, admin), http_client().unwrap());
        assert!(!replies.is_configured());
        let delivered = replies.reply(&common::chat(), "Hallo").await.unwrap();
        assert_eq!(delivered, Delivered::NotConfigured);
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_case_that_is_not_a_chat_is_refused_without_a_request() {
    let server = MockServer::start().await;
    let replies = IntercomChatReplies::new(
        chat_settings(&server, TOKEN, Some("814860")),
        http_client().unwrap(),
    );

    let error = replies.reply(&common::ticket(), "Hallo").await.unwrap_err();

    assert!(matches!(error, NotifyError::Permanent { .. }), "{error:?}");
    assert!(server.received_requests().await.unwrap().is_empty());
}
