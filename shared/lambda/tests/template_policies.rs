//! `template.yaml` against the rules it must keep: least-privilege IAM (no `*` action, no `*`
//! resource), every function built and run the same way, secrets only by name, the settings the
//! code reads present under the names the code reads them, and the table as the store expects.
//!
//! The SAM short forms (`!Ref`, `!Sub`, `!GetAtt`, `!If`) parse as tagged YAML values.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_yaml_ng::Value;
use serde_yaml_ng::value::TaggedValue;
use std::collections::BTreeSet;
use std::path::Path;

/// Actions AWS grants on `"*"` only (no resource-level permission), each with its reason.
/// Nothing in the template needs one today; an addition must say why here.
const STAR_RESOURCE_EXCEPTIONS: &[(&str, &str)] = &[
    // X-Ray segments are not resources (only if `Tracing: Active` is ever turned on).
    (
        "xray:PutTraceSegments",
        "X-Ray has no resource-level permissions",
    ),
    (
        "xray:PutTelemetryRecords",
        "X-Ray has no resource-level permissions",
    ),
    // Metrics are not resources; restrict with a cloudwatch:namespace condition instead.
    ("cloudwatch:PutMetricData", "CloudWatch metrics have no ARN"),
];

/// The secret variables the code reads, by function; the template may only name their secrets.
const FUNCTION_SECRETS: &[(&str, &[&str])] = &[
    ("zendesk-webhook", &["ZENDESK_WEBHOOK_SECRET"]),
    ("intercom-webhook", &["INTERCOM_CLIENT_SECRET"]),
    ("voicemail-webhook", &["TWILIO_AUTH_TOKEN"]),
    ("escalate", &[]),
    ("sweep", &[]),
];

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn template() -> Value {
    let text = std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml exists");
    serde_yaml_ng::from_str(&text).expect("template.yaml parses (tags included)")
}

fn get<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value.as_mapping().and_then(|mapping| mapping.get(key))
}

fn resources(template: &Value) -> Vec<(String, &Value)> {
    get(template, "Resources")
        .and_then(Value::as_mapping)
        .expect("Resources")
        .iter()
        .map(|(name, resource)| (name.as_str().unwrap().to_owned(), resource))
        .collect()
}

fn of_type<'a>(template: &'a Value, kind: &str) -> Vec<(String, &'a Value)> {
    resources(template)
        .into_iter()
        .filter(|(_, resource)| get(resource, "Type").and_then(Value::as_str) == Some(kind))
        .collect()
}

fn tagged<'a>(value: &'a Value, tag: &str) -> Option<&'a Value> {
    match value {
        Value::Tagged(tagged) if tagged.tag == tag => Some(&tagged.value),
        _ => None,
    }
}

/// The values a property can take: both branches of an `!If`, every item of a list.
fn alternatives(value: &Value) -> Vec<&Value> {
    if let Some(Value::Sequence(branches)) = tagged(value, "If") {
        return branches.iter().skip(1).flat_map(alternatives).collect();
    }
    match value {
        Value::Sequence(items) => items.iter().flat_map(alternatives).collect(),
        other => vec![other],
    }
}

/// A plain string, or the text of a `!Sub` (a `!Ref`/`!GetAtt` names a resource: never `*`).
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Tagged(tagged) if tagged.tag == "Sub" => match &tagged.value {
            Value::String(text) => Some(text.clone()),
            Value::Sequence(parts) => parts.first().and_then(Value::as_str).map(str::to_owned),
            _ => None,
        },
        _ => None,
    }
}

/// Every IAM statement in the template: any mapping with `Effect` and an action key.
fn statements(value: &Value, path: &str, found: &mut Vec<(String, Value)>) {
    match value {
        Value::Mapping(mapping) => {
            if mapping.contains_key("Effect")
                && ["Action", "NotAction"]
                    .iter()
                    .any(|key| mapping.contains_key(*key))
            {
                found.push((path.to_owned(), value.clone()));
            }
            for (key, inner) in mapping {
                let key = key.as_str().unwrap_or("?");
                statements(inner, &format!("{path}.{key}"), found);
            }
        }
        Value::Sequence(items) => {
            for (i, inner) in items.iter().enumerate() {
                statements(inner, &format!("{path}[{i}]"), found);
            }
        }
        Value::Tagged(tagged) => {
            let TaggedValue { value, .. } = tagged.as_ref();
            statements(value, path, found);
        }
        _ => {}
    }
}

#[test]
fn no_statement_grants_every_action_or_every_resource() {
    let template = template();
    let mut found = Vec::new();
    statements(&template, "", &mut found);
    assert!(
        found.len() >= 20,
        "the policies were not found: {}",
        found.len()
    );
    let mut problems = Vec::new();
    for (path, statement) in &found {
        for key in ["NotAction", "NotResource", "NotPrincipal"] {
            if get(statement, key).is_some() {
                problems.push(format!("{path}: {key} grants by exclusion"));
            }
        }
        let actions: Vec<String> = get(statement, "Action")
            .map(alternatives)
            .unwrap_or_default()
            .into_iter()
            .filter_map(text)
            .collect();
        for action in &actions {
            if action == "*" || action.ends_with(":*") || !action.contains(':') {
                problems.push(format!("{path}: action {action:?} is a wildcard"));
            }
        }
        if let Some(principal) = get(statement, "Principal") {
            // A trust policy: who may assume the role. Never everyone.
            if principal.as_str() == Some("*") || format!("{principal:?}").contains("\"*\"") {
                problems.push(format!("{path}: the principal is everyone"));
            }
            continue;
        }
        let Some(resource) = get(statement, "Resource") else {
            problems.push(format!("{path}: an identity statement without Resource"));
            continue;
        };
        for resource in alternatives(resource) {
            let star = text(resource).is_some_and(|text| text.trim() == "*");
            let excepted = actions
                .iter()
                .all(|action| STAR_RESOURCE_EXCEPTIONS.iter().any(|(a, _)| a == action));
            if star && !excepted {
                problems.push(format!("{path}: Resource \"*\" for {actions:?}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "over-broad IAM statements:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_function_is_built_by_cargo_lambda_and_runs_on_al2023_with_the_chosen_architecture() {
    let template = template();
    let architecture = get(get(&template, "Parameters").unwrap(), "Architecture").unwrap();
    assert_eq!(
        get(architecture, "Default").and_then(Value::as_str),
        Some("arm64")
    );
    let allowed: BTreeSet<&str> = get(architecture, "AllowedValues")
        .and_then(Value::as_sequence)
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(allowed, BTreeSet::from(["arm64", "x86_64"]));

    let roles: BTreeSet<String> = of_type(&template, "AWS::IAM::Role")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let mut binaries = BTreeSet::new();
    for (name, function) in of_type(&template, "AWS::Serverless::Function") {
        let properties = get(function, "Properties").unwrap();
        let property = |key: &str| get(properties, key);
        assert_eq!(
            property("Runtime").and_then(Value::as_str),
            Some("provided.al2023"),
            "{name}"
        );
        assert_eq!(
            property("Handler").and_then(Value::as_str),
            Some("bootstrap"),
            "{name}"
        );
        let architectures = property("Architectures")
            .and_then(Value::as_sequence)
            .unwrap();
        assert_eq!(architectures.len(), 1, "{name}");
        assert_eq!(
            tagged(&architectures[0], "Ref").and_then(Value::as_str),
            Some("Architecture"),
            "{name}: Architectures must be [!Ref Architecture]"
        );
        let metadata = get(function, "Metadata").unwrap_or_else(|| panic!("{name}: no Metadata"));
        assert_eq!(
            get(metadata, "BuildMethod").and_then(Value::as_str),
            Some("rust-cargolambda"),
            "{name}"
        );
        let binary = get(metadata, "BuildProperties")
            .and_then(|p| get(p, "Binary"))
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{name}: no BuildProperties.Binary"));
        binaries.insert(binary.to_owned());
        // Its own role from this template, not a SAM-generated one with managed policies.
        assert!(
            property("Policies").is_none(),
            "{name}: use its Role, not Policies"
        );
        let role = property("Role")
            .and_then(|r| tagged(r, "GetAtt"))
            .and_then(Value::as_str);
        let role = role
            .and_then(|r| r.strip_suffix(".Arn"))
            .unwrap_or_default();
        assert!(
            roles.contains(role),
            "{name}: Role must be !GetAtt <a role here>.Arn"
        );
        assert!(
            property("LoggingConfig")
                .and_then(|l| get(l, "LogGroup"))
                .is_some(),
            "{name}"
        );
    }
    let crates: BTreeSet<String> = std::fs::read_dir(root().join("functions"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(binaries, crates, "one function per crate under functions/");
}

#[test]
fn secrets_are_only_ever_named_never_given() {
    let template = template();
    let secret_words = ["secret", "token", "key", "password"];
    for (name, _) in get(&template, "Parameters").unwrap().as_mapping().unwrap() {
        let name = name.as_str().unwrap();
        let lower = name.to_ascii_lowercase();
        if secret_words.iter().any(|word| lower.contains(word)) {
            assert!(
                name.ends_with("Name") || name.ends_with("Arn"),
                "parameter {name} looks like a secret value: parameters may only name secrets"
            );
        }
    }
    let mut variables = BTreeSet::new();
    environment_variables(&template, &mut variables);
    for (function, secrets) in FUNCTION_SECRETS {
        for secret in *secrets {
            assert!(
                !variables.contains(*secret),
                "{secret} must not be set in {function}'s environment"
            );
            let id = format!("{secret}{}", lambda::SECRET_ID_SUFFIX);
            assert!(variables.contains(&id), "{function} needs {id}");
        }
    }
    for spec in lambda::NOTIFIER_SECRETS {
        assert!(
            !variables.contains(spec.name),
            "{} must not be set directly",
            spec.name
        );
        let id = format!("{}{}", spec.name, lambda::SECRET_ID_SUFFIX);
        assert!(variables.contains(&id), "the functions need {id}");
    }
    let text = std::fs::read_to_string(root().join("template.yaml")).unwrap();
    assert!(
        !text.contains("{{resolve:"),
        "secrets are read at init, not resolved into the configuration"
    );
}

fn environment_variables(value: &Value, found: &mut BTreeSet<String>) {
    match value {
        Value::Mapping(mapping) => {
            for (key, inner) in mapping {
                if key.as_str() == Some("Variables")
                    && let Some(variables) = inner.as_mapping()
                {
                    found.extend(
                        variables
                            .keys()
                            .filter_map(Value::as_str)
                            .map(str::to_owned),
                    );
                }
                environment_variables(inner, found);
            }
        }
        Value::Sequence(items) => items
            .iter()
            .for_each(|inner| environment_variables(inner, found)),
        Value::Tagged(tagged) => environment_variables(&tagged.value, found),
        _ => {}
    }
}

#[test]
fn the_settings_the_code_reads_are_set() {
    let template = template();
    let globals = get(
        get(
            get(get(&template, "Globals").unwrap(), "Function").unwrap(),
            "Environment",
        )
        .unwrap(),
        "Variables",
    )
    .and_then(Value::as_mapping)
    .unwrap();
    for variable in [
        lambda::TABLE_NAME_VAR,
        aws::scheduler::SCHEDULE_GROUP_VAR,
        aws::scheduler::TARGET_ARN_VAR,
        aws::scheduler::ROLE_ARN_VAR,
        aws::scheduler::DEAD_LETTER_ARN_VAR,
        aws::ses::FROM_ADDRESS_VAR,
        notify::SUPPORT_MAILBOX_VAR,
        aws::ses::CONFIGURATION_SET_VAR,
        lambda::POLICY_FILE_VAR,
    ] {
        assert!(globals.contains_key(variable), "Globals sets {variable}");
    }
    let voicemail = of_type(&template, "AWS::Serverless::Function")
        .into_iter()
        .find(|(name, _)| name == "VoicemailWebhookFunction")
        .unwrap()
        .1;
    let variables = get(
        get(get(voicemail, "Properties").unwrap(), "Environment").unwrap(),
        "Variables",
    )
    .unwrap();
    assert!(
        get(variables, "PUBLIC_BASE_URL").is_some(),
        "Twilio signatures need PUBLIC_BASE_URL"
    );
}

#[test]
fn the_api_routes_each_webhook_to_its_function() {
    let template = template();
    let routes: BTreeSet<String> = of_type(&template, "AWS::ApiGatewayV2::Route")
        .into_iter()
        .map(|(_, route)| {
            get(get(route, "Properties").unwrap(), "RouteKey")
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let expected = [
        "POST /webhooks/zendesk",
        "POST /webhooks/intercom",
        "HEAD /webhooks/intercom",
        "POST /webhooks/twilio/recording",
    ];
    assert_eq!(routes, expected.iter().map(|r| (*r).to_owned()).collect());
}

#[test]
fn the_table_has_the_indexes_and_ttl_the_store_uses() {
    let template = template();
    let (_, table) = of_type(&template, "AWS::DynamoDB::Table").pop().unwrap();
    let properties = get(table, "Properties").unwrap();
    assert_eq!(
        get(properties, "BillingMode").and_then(Value::as_str),
        Some("PAY_PER_REQUEST")
    );
    let ttl = get(properties, "TimeToLiveSpecification").unwrap();
    assert_eq!(
        get(ttl, "AttributeName").and_then(Value::as_str),
        Some(aws::store::TTL_ATTRIBUTE)
    );
    assert_eq!(get(ttl, "Enabled"), Some(&Value::Bool(true)));
    let pitr = get(properties, "PointInTimeRecoverySpecification").unwrap();
    assert_eq!(
        get(pitr, "PointInTimeRecoveryEnabled"),
        Some(&Value::Bool(true))
    );
    assert_eq!(
        get(get(properties, "SSESpecification").unwrap(), "SSEEnabled"),
        Some(&Value::Bool(true))
    );
    let indexes: BTreeSet<&str> = get(properties, "GlobalSecondaryIndexes")
        .and_then(Value::as_sequence)
        .unwrap()
        .iter()
        .filter_map(|index| get(index, "IndexName").and_then(Value::as_str))
        .collect();
    assert_eq!(
        indexes,
        BTreeSet::from([
            aws::store::DUE_INDEX,
            aws::store::RECEIVED_INDEX,
            aws::store::PENDING_INDEX
        ])
    );
}
