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

/// Actions AWS grants on `"*"` only (no resource-level permission), each with its reason. Such
/// an action must have a statement of its own (every action of a `"*"` statement must be
/// listed here); an addition must say why here.
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
    // The deliver function's stream (DeliverRole) lists the table's streams to find the
    // current one; ListStreams takes no resource, so a stream ARN there would match nothing.
    (
        "dynamodb:ListStreams",
        "ListStreams has no resource-level permissions",
    ),
];

/// The secret variables the code reads, by function (each function's own `SECRETS`); the
/// template may only name their secrets.
const FUNCTION_SECRETS: &[(&str, &[lambda::SecretSpec])] = &[
    ("zendesk-webhook", &zendesk_webhook::SECRETS),
    ("intercom-webhook", &intercom_webhook::SECRETS),
    ("voicemail-webhook", &voicemail_webhook::SECRETS),
    ("pagerduty-webhook", &pagerduty_webhook::SECRETS),
    ("escalate", &escalate::SECRETS),
    ("sweep", &sweep::SECRETS),
    ("read-api", &read_api::SECRETS),
    ("deliver", &deliver::SECRETS),
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
    let crates: BTreeSet<String> = std::fs::read_dir(root().join("functions"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    let named: BTreeSet<String> = FUNCTION_SECRETS
        .iter()
        .map(|(function, _)| (*function).to_owned())
        .collect();
    assert_eq!(named, crates, "every function's secrets are checked");
    for (function, secrets) in FUNCTION_SECRETS {
        for spec in *secrets {
            let secret = spec.name;
            assert!(
                !variables.contains(secret),
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
        "POST /webhooks/pagerduty",
        "GET /",
        "GET /reports",
        "GET /api/{proxy+}",
        "POST /webhooks/twilio/voice",
        "POST /webhooks/twilio/voice/goodbye",
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

fn resource<'a>(template: &'a Value, name: &str) -> &'a Value {
    get(get(template, "Resources").unwrap(), name).unwrap_or_else(|| panic!("no {name}"))
}

fn properties<'a>(template: &'a Value, name: &str) -> &'a Value {
    get(resource(template, name), "Properties").unwrap_or_else(|| panic!("{name}: no Properties"))
}

#[test]
fn only_the_delivering_functions_may_put_sla_events_and_only_on_the_stack_s_bus() {
    let template = template();
    for function in [
        "ZendeskWebhookFunction",
        "IntercomWebhookFunction",
        "VoicemailWebhookFunction",
        "PagerDutyWebhookFunction",
    ] {
        let role = role_of(&template, function);
        assert!(
            !action_names(&template, &role).contains("events:PutEvents"),
            "{function} may put events"
        );
    }
    let policy = properties(&template, "SlaEventsPolicy");
    let statement = &get(get(policy, "PolicyDocument").unwrap(), "Statement")
        .and_then(Value::as_sequence)
        .unwrap()[0];
    assert_eq!(
        get(statement, "Action").and_then(Value::as_str),
        Some("events:PutEvents")
    );
    assert_eq!(
        format!("{:?}", get(statement, "Resource").unwrap()),
        format!(
            "{:?}",
            serde_yaml_ng::from_str::<Value>("!GetAtt SlaEventBus.Arn").unwrap()
        )
    );
}

/// A CloudFormation intrinsic evaluated with the given parameters: `!Ref`, `!Sub` (both
/// forms), `!Select` and `!Split`, enough for the template's ARNs. Pseudo parameters
/// (`AWS::Region`, …) stay as `${AWS::Region}`.
fn evaluate(value: &Value, parameters: &[(&str, &str)]) -> String {
    let substitute = |text: &str, variables: &[(String, String)]| {
        let mut out = text.to_owned();
        for (name, value) in variables {
            out = out.replace(&format!("${{{name}}}"), value);
        }
        out
    };
    let parameters: Vec<(String, String)> = parameters
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    match value {
        Value::String(text) => text.clone(),
        Value::Tagged(tagged) => match (
            tagged.tag.to_string().trim_start_matches('!'),
            &tagged.value,
        ) {
            ("Ref", Value::String(name)) => parameters
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("no parameter {name}")),
            ("Sub", Value::String(text)) => substitute(text, &parameters),
            ("Sub", Value::Sequence(parts)) => {
                let mut variables = parameters.clone();
                for (name, inner) in parts[1].as_mapping().unwrap() {
                    let name = name.as_str().unwrap().to_owned();
                    let borrowed: Vec<(&str, &str)> = parameters
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .collect();
                    variables.push((name, evaluate(inner, &borrowed)));
                }
                substitute(parts[0].as_str().unwrap(), &variables)
            }
            ("Select", Value::Sequence(parts)) => {
                let index = parts[0].as_u64().unwrap() as usize;
                let list = split(&parts[1], &parameters);
                list.get(index)
                    .unwrap_or_else(|| panic!("!Select {index} of {list:?}"))
                    .clone()
            }
            (tag, _) => panic!("cannot evaluate !{tag}"),
        },
        other => panic!("cannot evaluate {other:?}"),
    }
}

fn split(value: &Value, parameters: &[(String, String)]) -> Vec<String> {
    let borrowed: Vec<(&str, &str)> = parameters
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let Some(Value::Sequence(parts)) = tagged(value, "Split") else {
        panic!("!Select needs a !Split: {value:?}")
    };
    let separator = parts[0].as_str().unwrap();
    evaluate(&parts[1], &borrowed)
        .split(separator)
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_mailer_may_send_from_the_domain_identity_and_from_the_address_identity() {
    let template = template();
    let document = get(properties(&template, "MailerPolicy"), "PolicyDocument").unwrap();
    let statement = &get(document, "Statement")
        .and_then(Value::as_sequence)
        .unwrap()[0];
    assert_eq!(
        get(statement, "Action").and_then(Value::as_str),
        Some("ses:SendEmail")
    );
    let resources = alternatives(get(statement, "Resource").unwrap());
    let arn = |identity: &str| {
        format!(
            "arn:${{AWS::Partition}}:ses:${{AWS::Region}}:${{AWS::AccountId}}:identity/{identity}"
        )
    };
    for (from, address) in [
        (
            "Acme Hosting Support <support@acme-hosting.example>",
            "support@acme-hosting.example",
        ),
        (
            "support@acme-hosting.example",
            "support@acme-hosting.example",
        ),
        ("<noreply@acme.example>", "noreply@acme.example"),
    ] {
        let parameters = [
            ("SesIdentity", "acme-hosting.example"),
            ("SesFromAddress", from),
            ("SesConfigurationSet", "sla"),
        ];
        let granted: BTreeSet<String> = resources
            .iter()
            .filter(|resource| {
                tagged(resource, "Ref").and_then(Value::as_str) != Some("AWS::NoValue")
            })
            .map(|resource| evaluate(resource, &parameters))
            .collect();
        assert!(
            granted.contains(&arn("acme-hosting.example")),
            "{granted:?}"
        );
        assert!(granted.contains(&arn(address)), "{from}: {granted:?}");
    }
}

#[test]
fn every_function_reserves_concurrency_by_parameter_and_keeps_its_report_lines() {
    let template = template();
    let parameters = get(&template, "Parameters").unwrap();
    let conditions = get(&template, "Conditions").unwrap();
    let expected = [
        ("ZendeskWebhookFunction", "WebhookReservedConcurrency", 20),
        ("IntercomWebhookFunction", "WebhookReservedConcurrency", 20),
        ("VoicemailWebhookFunction", "WebhookReservedConcurrency", 20),
        ("PagerDutyWebhookFunction", "WebhookReservedConcurrency", 20),
        ("EscalateFunction", "EscalateReservedConcurrency", 20),
        ("SweepFunction", "SweepReservedConcurrency", 2),
        ("ReadApiFunction", "ReadApiReservedConcurrency", 5),
        ("DeliverFunction", "DeliverReservedConcurrency", 10),
    ];
    let functions = of_type(&template, "AWS::Serverless::Function");
    assert_eq!(functions.len(), expected.len());
    for (function, parameter, default) in expected {
        let reserved = get(
            properties(&template, function),
            "ReservedConcurrentExecutions",
        )
        .unwrap_or_else(|| panic!("{function}: no ReservedConcurrentExecutions"));
        // !If [<condition>, !Ref <parameter>, !Ref AWS::NoValue]: 0 means unreserved, since
        // a reservation of 0 would stop the function.
        let Some(Value::Sequence(branches)) = tagged(reserved, "If") else {
            panic!("{function}: ReservedConcurrentExecutions must be an !If")
        };
        let condition = branches[0].as_str().unwrap();
        assert_eq!(
            tagged(&branches[1], "Ref").and_then(Value::as_str),
            Some(parameter),
            "{function}"
        );
        assert_eq!(
            tagged(&branches[2], "Ref").and_then(Value::as_str),
            Some("AWS::NoValue"),
            "{function}"
        );
        let condition = format!("{:?}", get(conditions, condition).unwrap());
        assert!(
            condition.contains("Not")
                && condition.contains(parameter)
                && condition.contains("\"0\""),
            "{function}: the condition must be {parameter} != 0: {condition}"
        );
        let parameter = get(parameters, parameter).unwrap();
        assert_eq!(
            get(parameter, "Default").and_then(Value::as_u64),
            Some(default)
        );
        assert_eq!(get(parameter, "MinValue").and_then(Value::as_u64), Some(0));

        // The platform's REPORT lines (duration, memory, init) are system logs at INFO.
        let logging = get(properties(&template, function), "LoggingConfig").unwrap();
        assert_eq!(
            get(logging, "SystemLogLevel").and_then(Value::as_str),
            Some("INFO"),
            "{function}"
        );
    }
    // Webhooks at their cap cannot take what escalate and sweep reserve.
    let reserved = |name: &str| {
        get(get(parameters, name).unwrap(), "Default")
            .and_then(Value::as_u64)
            .unwrap()
    };
    assert!(
        reserved("EscalateReservedConcurrency") >= 1 && reserved("SweepReservedConcurrency") >= 1
    );
}

/// Every action a role's statements allow (inline policies and attached managed policies), with
/// the resources of each statement as text.
fn role_actions(template: &Value, role: &str) -> Vec<(String, Vec<String>)> {
    let role_properties = properties(template, role);
    let mut found = Vec::new();
    if let Some(policies) = get(role_properties, "Policies") {
        statements(policies, role, &mut found);
    }
    for managed in get(role_properties, "ManagedPolicyArns")
        .map(alternatives)
        .unwrap_or_default()
    {
        let name = tagged(managed, "Ref").and_then(Value::as_str).unwrap();
        statements(properties(template, name), name, &mut found);
    }
    let mut actions = Vec::new();
    for (_, statement) in &found {
        let resources: Vec<String> = get(statement, "Resource")
            .map(alternatives)
            .unwrap_or_default()
            .into_iter()
            .map(|resource| match text(resource) {
                Some(text) => text,
                None => format!("{resource:?}"),
            })
            .collect();
        for action in get(statement, "Action")
            .map(alternatives)
            .unwrap_or_default()
            .into_iter()
            .filter_map(text)
        {
            actions.push((action, resources.clone()));
        }
    }
    actions
}

#[test]
fn the_read_api_role_may_only_read_the_table_its_logs_and_its_token() {
    let template = template();
    let actions = role_actions(&template, "ReadApiRole");
    let names: BTreeSet<&str> = actions.iter().map(|(action, _)| action.as_str()).collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "dynamodb:GetItem",
            "dynamodb:BatchGetItem",
            "dynamodb:Query",
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "secretsmanager:GetSecretValue",
        ])
    );
    for write in [
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:TransactWriteItems",
        "dynamodb:ConditionCheckItem",
        "scheduler:CreateSchedule",
        "ses:SendEmail",
    ] {
        assert!(!names.contains(write), "the read-api role may {write}");
    }
    for (action, resources) in &actions {
        if action == "secretsmanager:GetSecretValue" {
            assert_eq!(resources.len(), 1, "{resources:?}");
            assert!(
                resources[0].contains("${ReadTokenSecretName}"),
                "only the read token: {resources:?}"
            );
        }
        if action.starts_with("logs:") {
            assert!(
                resources.iter().all(|r| r.contains("ReadApiLogGroup")),
                "{resources:?}"
            );
        }
    }
}

#[test]
fn a_webhook_role_may_write_the_table_so_the_read_only_check_can_tell() {
    // The same helper sees the store policy's writes through a managed policy.
    let template = template();
    let actions = role_actions(&template, "ZendeskWebhookRole");
    assert!(
        actions
            .iter()
            .any(|(action, _)| action == "dynamodb:TransactWriteItems")
    );
}

#[test]
fn the_read_api_function_reads_its_token_by_secret_id() {
    let template = template();
    let variables = get(
        get(properties(&template, "ReadApiFunction"), "Environment").unwrap(),
        "Variables",
    )
    .unwrap();
    let id = format!("{}{}", api_read_token(), lambda::SECRET_ID_SUFFIX);
    assert_eq!(
        get(variables, &id)
            .and_then(|v| tagged(v, "Ref"))
            .and_then(Value::as_str),
        Some("ReadTokenSecretName")
    );
}

fn api_read_token() -> &'static str {
    read_api::SECRETS[0].name
}
/// The role of a function resource (`Role: !GetAtt <role>.Arn`).
fn role_of(template: &Value, function: &str) -> String {
    get(properties(template, function), "Role")
        .and_then(|role| tagged(role, "GetAtt"))
        .and_then(Value::as_str)
        .unwrap()
        .trim_end_matches(".Arn")
        .to_owned()
}

/// The functions that send (they build the notifiers) and the ones that do not.
const DELIVERING: [&str; 3] = ["DeliverFunction", "EscalateFunction", "SweepFunction"];
const WEBHOOKS: [&str; 4] = [
    "ZendeskWebhookFunction",
    "IntercomWebhookFunction",
    "VoicemailWebhookFunction",
    "PagerDutyWebhookFunction",
];

#[test]
fn every_function_that_delivers_may_read_the_zendesk_api_token() {
    let template = template();
    let functions = of_type(&template, "AWS::Serverless::Function");
    let mut names: BTreeSet<&str> = functions.iter().map(|(name, _)| name.as_str()).collect();
    names.remove("ReadApiFunction");
    let expected: BTreeSet<&str> = DELIVERING.iter().chain(&WEBHOOKS).copied().collect();
    assert_eq!(
        names, expected,
        "every function is either delivering or a webhook"
    );
    for name in DELIVERING {
        let role = role_of(&template, name);
        let policies = serde_yaml_ng::to_string(properties(&template, &role)).unwrap();
        assert!(
            policies.contains("secret:${ZendeskApiTokenSecretName}-??????"),
            "{name} ({role}) cannot read the Zendesk API token"
        );
    }
    let globals = serde_yaml_ng::to_string(get(&template, "Globals").unwrap()).unwrap();
    for variable in [
        "ZENDESK_API_TOKEN_SECRET_ID",
        notify::API_EMAIL_VAR,
        notify::API_URL_VAR,
    ] {
        assert!(globals.contains(variable), "Globals sets {variable}");
    }
}

/// The actions a role allows, by name.
fn action_names(template: &Value, role: &str) -> BTreeSet<String> {
    role_actions(template, role)
        .into_iter()
        .map(|(action, _)| action)
        .collect()
}

const STORE: [&str; 7] = [
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:TransactWriteItems",
];
const TIMERS: [&str; 4] = [
    "scheduler:CreateSchedule",
    "scheduler:UpdateSchedule",
    "scheduler:DeleteSchedule",
    "iam:PassRole",
];
const LOGS_AND_SECRETS: [&str; 3] = [
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "secretsmanager:GetSecretValue",
];
const STREAM: [&str; 4] = [
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
];

fn set(groups: &[&[&str]]) -> BTreeSet<String> {
    groups
        .iter()
        .flat_map(|group| group.iter().map(|action| (*action).to_owned()))
        .collect()
}

#[test]
fn each_role_allows_exactly_the_actions_of_the_ports_its_function_builds() {
    let template = template();
    let expected = [
        // Webhooks store and answer: the case store, the timers when they schedule, their own
        // secret. Nothing that sends.
        (
            "ZendeskWebhookFunction",
            set(&[&STORE, &TIMERS, &LOGS_AND_SECRETS]),
        ),
        (
            "IntercomWebhookFunction",
            set(&[&STORE, &TIMERS, &LOGS_AND_SECRETS]),
        ),
        (
            "VoicemailWebhookFunction",
            set(&[&STORE, &TIMERS, &LOGS_AND_SECRETS]),
        ),
        // An incident update decides no effect and moves no timer.
        (
            "PagerDutyWebhookFunction",
            set(&[&STORE, &LOGS_AND_SECRETS]),
        ),
        // deliver sends: the store, SES, the stream, its failure queue; it moves no timer.
        (
            "DeliverFunction",
            set(&[
                &STORE,
                &["ses:SendEmail", "events:PutEvents"],
                &LOGS_AND_SECRETS,
                &STREAM,
                &["sqs:SendMessage"],
            ]),
        ),
        (
            "EscalateFunction",
            set(&[
                &STORE,
                &TIMERS,
                &["ses:SendEmail", "events:PutEvents"],
                &LOGS_AND_SECRETS,
                &["sqs:SendMessage"],
            ]),
        ),
        (
            "SweepFunction",
            set(&[
                &STORE,
                &TIMERS,
                &["ses:SendEmail", "events:PutEvents"],
                &LOGS_AND_SECRETS,
                &["sqs:SendMessage"],
            ]),
        ),
    ];
    for (function, actions) in expected {
        let role = role_of(&template, function);
        assert_eq!(
            action_names(&template, &role),
            actions,
            "{function} ({role})"
        );
    }
    // The examples the issue names, spelled out.
    let zendesk = action_names(&template, &role_of(&template, "ZendeskWebhookFunction"));
    assert!(
        !zendesk.contains("ses:SendEmail"),
        "zendesk-webhook may send e-mail"
    );
    let deliver = action_names(&template, &role_of(&template, "DeliverFunction"));
    assert!(
        deliver.contains("ses:SendEmail"),
        "deliver cannot send e-mail"
    );
}

#[test]
fn a_webhook_role_reads_its_own_signing_secret_and_no_notifier_secret() {
    let template = template();
    let own = [
        ("ZendeskWebhookFunction", "${ZendeskWebhookSecretName}"),
        ("IntercomWebhookFunction", "${IntercomClientSecretName}"),
        ("VoicemailWebhookFunction", "${TwilioAuthTokenSecretName}"),
        ("PagerDutyWebhookFunction", "${PagerDutyWebhookSecretName}"),
    ];
    for (function, secret) in own {
        let role = role_of(&template, function);
        let secrets: Vec<Vec<String>> = role_actions(&template, &role)
            .into_iter()
            .filter(|(action, _)| action == "secretsmanager:GetSecretValue")
            .map(|(_, resources)| resources)
            .collect();
        assert_eq!(secrets.len(), 1, "{function}: {secrets:?}");
        assert_eq!(secrets[0].len(), 1, "{function}: {secrets:?}");
        assert!(secrets[0][0].contains(secret), "{function}: {secrets:?}");
    }
    for function in DELIVERING {
        let role = role_of(&template, function);
        let policies = serde_yaml_ng::to_string(properties(&template, &role)).unwrap();
        assert!(
            policies.contains("secret:${PagerDutyRoutingKeySecretName}-??????"),
            "{function} ({role}) cannot read the PagerDuty routing key"
        );
    }
}

#[test]
fn deliver_reads_new_outbox_items_from_the_stream_and_reports_failed_records() {
    let template = template();
    let table = properties(&template, "CasesTable");
    let stream = get(table, "StreamSpecification").expect("the table has a stream");
    // A fixed view type with the new image: toggling the pipe never changes it.
    assert_eq!(
        get(stream, "StreamViewType").and_then(Value::as_str),
        Some("NEW_AND_OLD_IMAGES")
    );
    let events = get(properties(&template, "DeliverFunction"), "Events")
        .and_then(Value::as_mapping)
        .unwrap();
    assert_eq!(events.len(), 1);
    let event = events.values().next().unwrap();
    assert_eq!(get(event, "Type").and_then(Value::as_str), Some("DynamoDB"));
    let event = get(event, "Properties").unwrap();
    assert_eq!(
        get(event, "Stream")
            .and_then(|s| tagged(s, "GetAtt"))
            .and_then(Value::as_str),
        Some("CasesTable.StreamArn")
    );
    assert_eq!(
        get(event, "StartingPosition").and_then(Value::as_str),
        Some("LATEST")
    );
    assert_eq!(
        get(event, "FunctionResponseTypes"),
        Some(&Value::Sequence(vec![Value::from(
            "ReportBatchItemFailures"
        )]))
    );
    assert_eq!(
        get(event, "BisectBatchOnFunctionError"),
        Some(&Value::Bool(true))
    );
    assert!(
        get(event, "MaximumRetryAttempts")
            .and_then(Value::as_u64)
            .is_some()
    );
    let destination = get(event, "DestinationConfig")
        .and_then(|d| get(d, "OnFailure"))
        .and_then(|d| get(d, "Destination"))
        .and_then(|d| tagged(d, "GetAtt"))
        .and_then(Value::as_str);
    assert_eq!(destination, Some("DeliverFailureQueue.Arn"));

    // The filter lets through the insert of an outbox item only: as the store writes it.
    let filters = get(get(event, "FilterCriteria").unwrap(), "Filters")
        .and_then(Value::as_sequence)
        .unwrap();
    assert_eq!(filters.len(), 1);
    let pattern: serde_json::Value =
        serde_json::from_str(get(&filters[0], "Pattern").and_then(Value::as_str).unwrap()).unwrap();
    assert_eq!(
        pattern,
        serde_json::json!({
            "eventName": ["INSERT"],
            "dynamodb": { "NewImage": { "entity": { "S": [aws::store::OUTBOX_ENTITY] } } }
        })
    );
}
