//! What every moto-backed test of the workspace shares (feature `test-support`): the endpoint
//! check, the SDK configuration, unique names, a table or schedule group per test, warming each
//! service once, and a request counter. `scripts/test.sh` starts moto and exports
//! `AWS_ENDPOINT_URL`; without it these helpers fail the test with a message saying so (they
//! never fall back to real AWS).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aws_config::SdkConfig;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// moto's endpoint. These tests must not pass without it: they would prove nothing.
pub fn endpoint() -> String {
    let missing = |name: &str| std::env::var(name).map_or(true, |value| value.trim().is_empty());
    for name in [
        "AWS_ENDPOINT_URL",
        "AWS_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ] {
        assert!(
            !missing(name),
            "{name} is not set. The AWS adapter tests talk to moto server: run them through \
             scripts/test.sh, which starts moto on 127.0.0.1 and exports AWS_ENDPOINT_URL, \
             AWS_REGION=eu-central-1, AWS_ACCESS_KEY_ID=test and AWS_SECRET_ACCESS_KEY=test \
             (or start moto_server yourself and export them)."
        );
    }
    std::env::var("AWS_ENDPOINT_URL")
        .unwrap()
        .trim_end_matches('/')
        .to_owned()
}

/// The SDK configuration exactly as the functions load it (`AWS_ENDPOINT_URL` points it at moto).
pub async fn sdk_config() -> SdkConfig {
    endpoint();
    crate::config::load_sdk_config().await
}

/// A name no other test (or earlier run against the same moto) uses.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}-{}-{count}-{nanos:09}", std::process::id())
}

/// The first call to each service on a fresh moto takes seconds: make it once per test binary.
pub async fn warm_up(sdk: &SdkConfig) {
    static DYNAMODB: OnceCell<()> = OnceCell::const_new();
    static SCHEDULER: OnceCell<()> = OnceCell::const_new();
    static SES: OnceCell<()> = OnceCell::const_new();
    DYNAMODB
        .get_or_init(|| async {
            aws_sdk_dynamodb::Client::new(sdk)
                .list_tables()
                .send()
                .await
                .expect("moto answers DynamoDB");
        })
        .await;
    SCHEDULER
        .get_or_init(|| async {
            aws_sdk_scheduler::Client::new(sdk)
                .list_schedule_groups()
                .send()
                .await
                .expect("moto answers EventBridge Scheduler");
        })
        .await;
    SES.get_or_init(|| async {
        aws_sdk_sesv2::Client::new(sdk)
            .list_email_identities()
            .send()
            .await
            .expect("moto answers SES v2");
    })
    .await;
}

/// A fresh table with its indexes and TTL, named for this test.
pub async fn new_table(sdk: &SdkConfig, prefix: &str) -> String {
    let table = unique(prefix);
    crate::store::create_table(&aws_sdk_dynamodb::Client::new(sdk), &table)
        .await
        .unwrap_or_else(|error| panic!("cannot create table {table}: {error}"));
    table
}

/// A fresh schedule group, named for this test.
pub async fn new_group(sdk: &SdkConfig, prefix: &str) -> String {
    let group = unique(prefix);
    aws_sdk_scheduler::Client::new(sdk)
        .create_schedule_group()
        .name(&group)
        .send()
        .await
        .unwrap_or_else(|error| panic!("cannot create schedule group {group}: {error:?}"));
    group
}

/// A fresh event bus whose rule sends every `support-sla` event to a fresh SQS queue: the bus
/// name and the queue URL.
pub async fn new_event_bus_with_queue(sdk: &SdkConfig, prefix: &str) -> (String, String) {
    let bus = unique(prefix);
    let events = aws_sdk_eventbridge::Client::new(sdk);
    let sqs = aws_sdk_sqs::Client::new(sdk);
    events
        .create_event_bus()
        .name(&bus)
        .send()
        .await
        .unwrap_or_else(|error| panic!("cannot create event bus {bus}: {error:?}"));
    let queue_url = sqs
        .create_queue()
        .queue_name(unique(prefix))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let queue_arn = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()
        .remove(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .unwrap();
    events
        .put_rule()
        .event_bus_name(&bus)
        .name("all-sla-events")
        .event_pattern(r#"{"source":["support-sla"]}"#)
        .send()
        .await
        .unwrap();
    events
        .put_targets()
        .event_bus_name(&bus)
        .rule("all-sla-events")
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("queue")
                .arn(queue_arn)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    (bus, queue_url)
}

/// The EventBridge events (each the whole envelope, `detail` included) that reached
/// `queue_url`, waiting up to 10 s for at least `at_least` of them.
pub async fn received_events(
    sdk: &SdkConfig,
    queue_url: &str,
    at_least: usize,
) -> Vec<serde_json::Value> {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let mut events = Vec::new();
    for _ in 0..10 {
        let answer = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        for message in answer.messages() {
            events.push(serde_json::from_str(message.body().unwrap()).unwrap());
        }
        if events.len() >= at_least {
            break;
        }
    }
    events
}

/// Records every HTTP request an SDK client sends (each attempt of each operation), with its
/// operation name and body.
#[derive(Debug, Clone, Default)]
pub struct RequestLog(Arc<Mutex<Vec<Request>>>);

/// An operation name and the request body.
type Request = (String, Vec<u8>);

impl RequestLog {
    /// The operations sent so far, in order.
    pub fn operations(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|(op, _)| op.clone())
            .collect()
    }

    /// The bodies of the requests of `operation`.
    pub fn bodies(&self, operation: &str) -> Vec<Vec<u8>> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(op, _)| op == operation)
            .map(|(_, body)| body.clone())
            .collect()
    }

    /// Forget what was recorded; return it.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
            .into_iter()
            .map(|(op, _)| op)
            .collect()
    }
}

impl Intercept for RequestLog {
    fn name(&self) -> &'static str {
        "RequestLog"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg
            .load::<Metadata>()
            .map_or_else(|| "?".to_owned(), |metadata| metadata.name().to_owned());
        let body = context
            .request()
            .body()
            .bytes()
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        self.0.lock().unwrap().push((operation, body));
        Ok(())
    }
}

pub fn counted_dynamodb(sdk: &SdkConfig, log: &RequestLog) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(sdk)
            .interceptor(log.clone())
            .build(),
    )
}

pub fn counted_scheduler(sdk: &SdkConfig, log: &RequestLog) -> aws_sdk_scheduler::Client {
    aws_sdk_scheduler::Client::from_conf(
        aws_sdk_scheduler::config::Builder::from(sdk)
            .interceptor(log.clone())
            .build(),
    )
}

pub fn counted_ses(sdk: &SdkConfig, log: &RequestLog) -> aws_sdk_sesv2::Client {
    aws_sdk_sesv2::Client::from_conf(
        aws_sdk_sesv2::config::Builder::from(sdk)
            .interceptor(log.clone())
            .build(),
    )
}
