//! The support policy as data: plans, priorities, targets and their clocks, and the rules that
//! classify a request (docs/policy.md sections 2-4). Built by the policy-file loader, used pure.

use crate::calendar::Calendar;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A value that is not one of the names a domain enum accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?} (expected one of: {})", expected.join(", "))]
pub struct UnknownName {
    pub kind: &'static str,
    pub value: String,
    pub expected: &'static [&'static str],
}

macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident, $kind:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "&'static str")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownName;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                let text = text.trim();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|value| value.as_str().eq_ignore_ascii_case(text))
                    .ok_or_else(|| UnknownName {
                        kind: $kind,
                        value: text.to_owned(),
                        expected: &[$($text),+],
                    })
            }
        }

        impl TryFrom<String> for $name {
            type Error = UnknownName;
            fn try_from(text: String) -> Result<Self, UnknownName> {
                text.parse()
            }
        }

        impl From<$name> for &'static str {
            fn from(value: $name) -> &'static str {
                value.as_str()
            }
        }
    };
}

named_enum!(
    /// The support plan: `12x5` for everyone, `24x7` with the Enterprise SLA.
    Plan, "plan", { Standard => "12x5", Enterprise => "24x7" }
);

named_enum!(
    /// Priority of a request; `Urgent` is the most pressing.
    Priority, "priority", { Urgent => "urgent", High => "high", Normal => "normal", Low => "low" }
);

named_enum!(
    /// Where a request came in.
    Channel, "channel", { Ticket => "ticket", Chat => "chat", Phone => "phone" }
);

named_enum!(
    /// The two calendars a target can run on.
    ClockName, "calendar", { Business => "business", Always => "always" }
);

named_enum!(
    /// A language the system speaks to customers in (phone greetings, chat and e-mail texts).
    Language, "language", { German => "de", English => "en" }
);

named_enum!(
    /// PagerDuty event severity.
    Severity, "severity", { Critical => "critical", Error => "error", Warning => "warning", Info => "info" }
);

/// How long, and on which calendar, for one plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub duration: Duration,
    pub clock: ClockName,
}

/// The first-response target of one priority, per plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseTarget {
    pub duration: Duration,
    pub standard_clock: ClockName,
    pub enterprise_clock: ClockName,
    pub severity: Severity,
}

impl ResponseTarget {
    pub fn for_plan(&self, plan: Plan) -> Target {
        let clock = match plan {
            Plan::Standard => self.standard_clock,
            Plan::Enterprise => self.enterprise_clock,
        };
        Target {
            duration: self.duration,
            clock,
        }
    }
}

/// A named attribute whose value marks a customer as Enterprise (Intercom conversation attributes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeRule {
    pub name: String,
    pub values: BTreeSet<String>,
}

/// Rules that decide the plan of a request from what the provider sends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanRules {
    /// Zendesk ticket or Intercom conversation tags that mean Enterprise (case-insensitive).
    pub enterprise_tags: BTreeSet<String>,
    /// Intercom conversation attributes (`custom_attributes`) that mean Enterprise.
    pub enterprise_attributes: Vec<AttributeRule>,
    /// Called numbers (E.164) that are Enterprise hotlines.
    pub enterprise_numbers: BTreeSet<String>,
}

impl PlanRules {
    pub fn plan_for_tags<'a>(&self, tags: impl IntoIterator<Item = &'a str>) -> Plan {
        let enterprise = tags.into_iter().any(|tag| {
            self.enterprise_tags
                .iter()
                .any(|rule| rule.eq_ignore_ascii_case(tag.trim()))
        });
        if enterprise {
            Plan::Enterprise
        } else {
            Plan::Standard
        }
    }

    pub fn plan_for_attribute(&self, name: &str, value: &str) -> Option<Plan> {
        self.enterprise_attributes
            .iter()
            .any(|rule| {
                rule.name.eq_ignore_ascii_case(name)
                    && rule
                        .values
                        .iter()
                        .any(|v| v.eq_ignore_ascii_case(value.trim()))
            })
            .then_some(Plan::Enterprise)
    }

    pub fn plan_for_called_number(&self, called: &str) -> Plan {
        let called = normalize_number(called);
        if self
            .enterprise_numbers
            .iter()
            .any(|number| normalize_number(number) == called)
        {
            Plan::Enterprise
        } else {
            Plan::Standard
        }
    }
}

fn normalize_number(number: &str) -> String {
    number
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect()
}

/// The cluster and website a request concerns, taken from tags with configured prefixes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Labels {
    pub cluster: Option<String>,
    pub website: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelRules {
    pub cluster_prefix: String,
    pub website_prefix: String,
}

impl Default for LabelRules {
    fn default() -> Self {
        Self {
            cluster_prefix: "cluster_".into(),
            website_prefix: "site_".into(),
        }
    }
}

impl LabelRules {
    /// The first tag with each prefix names the cluster and the website.
    pub fn labels<'a>(&self, tags: impl IntoIterator<Item = &'a str>) -> Labels {
        let mut labels = Labels::default();
        for tag in tags {
            let tag = tag.trim();
            if labels.cluster.is_none() {
                labels.cluster = strip_nonempty(tag, &self.cluster_prefix);
            }
            if labels.website.is_none() {
                labels.website = strip_nonempty(tag, &self.website_prefix);
            }
        }
        labels
    }
}

fn strip_nonempty(tag: &str, prefix: &str) -> Option<String> {
    tag.strip_prefix(prefix)
        .filter(|rest| !rest.is_empty())
        .map(str::to_owned)
}

/// A fraction of a target, strictly between 0 and 1 (the first-response warning point).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fraction(f64);

impl Fraction {
    pub fn new(value: f64) -> Option<Self> {
        (value > 0.0 && value < 1.0).then_some(Self(value))
    }

    pub fn value(self) -> f64 {
        self.0
    }

    pub fn of(self, duration: Duration) -> Duration {
        // Whole seconds keep deadlines readable and reproducible across platforms.
        Duration::from_secs((duration.as_secs_f64() * self.0).round() as u64)
    }
}

/// What a caller hears on the support line, in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneTexts {
    /// Greeting while the office is open, before the beep.
    pub in_hours: String,
    /// Greeting outside office hours, before the beep.
    pub out_of_hours: String,
    /// Said after the message, before the call ends.
    pub goodbye: String,
}

/// The support line: the greeting's language and texts, and the longest message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhonePolicy {
    pub language: Language,
    pub german: PhoneTexts,
    pub english: PhoneTexts,
    pub max_message: Duration,
}

impl PhonePolicy {
    pub fn texts(&self) -> &PhoneTexts {
        match self.language {
            Language::German => &self.german,
            Language::English => &self.english,
        }
    }
}

/// What the chat fallback says in the conversation, in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatTexts {
    /// To a visitor whose e-mail address we know: we continue by e-mail.
    pub offer: String,
    /// To a visitor without an address: please leave one, we continue by e-mail.
    pub ask_email: String,
}

/// The chat fallback's language and texts (the reply in the chat and the e-mail after it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatPolicy {
    pub language: Language,
    pub german: ChatTexts,
    pub english: ChatTexts,
}

impl ChatPolicy {
    pub fn texts(&self) -> &ChatTexts {
        match self.language {
            Language::German => &self.german,
            Language::English => &self.english,
        }
    }
}

/// How soon a customer's follow-up must be answered, per priority: the same shape as the
/// first-response targets (duration, calendar per plan, severity of the page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextResponseTargets {
    pub urgent: ResponseTarget,
    pub high: ResponseTarget,
    pub normal: ResponseTarget,
    pub low: ResponseTarget,
}

impl NextResponseTargets {
    pub fn for_priority(&self, priority: Priority) -> &ResponseTarget {
        match priority {
            Priority::Urgent => &self.urgent,
            Priority::High => &self.high,
            Priority::Normal => &self.normal,
            Priority::Low => &self.low,
        }
    }
}

/// The whole policy. Every number, hour, holiday and route comes from the policy file.
#[derive(Debug, Clone)]
pub struct Policy {
    pub business: Calendar,
    pub always: Calendar,
    pub dispatch: Target,
    pub urgent: ResponseTarget,
    pub high: ResponseTarget,
    pub normal: ResponseTarget,
    pub low: ResponseTarget,
    pub warning_at: Fraction,
    /// The next-response targets per priority (`[next_response]`; the loader fills in the
    /// first-response targets for a priority the file leaves out).
    pub next_response: NextResponseTargets,
    pub chat_fallback_after: Duration,
    pub chat: ChatPolicy,
    pub phone: PhonePolicy,
    pub plan_rules: PlanRules,
    pub label_rules: LabelRules,
}

impl Policy {
    pub fn calendar(&self, clock: ClockName) -> &Calendar {
        match clock {
            ClockName::Business => &self.business,
            ClockName::Always => &self.always,
        }
    }

    pub fn response_target(&self, priority: Priority) -> &ResponseTarget {
        match priority {
            Priority::Urgent => &self.urgent,
            Priority::High => &self.high,
            Priority::Normal => &self.normal,
            Priority::Low => &self.low,
        }
    }

    pub fn severity(&self, priority: Priority) -> Severity {
        self.response_target(priority).severity
    }
}
