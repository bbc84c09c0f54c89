//! `policy.toml`: the whole support policy as data (default: `infra/policy.toml`).

use domain::calendar::{
    BusinessCalendar, Calendar, ClosedDays, DailyHours, GermanState, OpenHours, WeeklyHours,
};
use domain::policy::{
    AttributeRule, ChatPolicy, ChatTexts, Fraction, LabelRules, NextResponseTargets, PhonePolicy,
    PhoneTexts, PlanRules, Policy, ResponseTarget, Severity, Target,
};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// The default policy, the same text as `infra/policy.toml`, compiled in.
pub const DEFAULT_POLICY_TOML: &str = include_str!("../../../infra/policy.toml");

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read policy file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid policy file: {0}")]
    Syntax(String),
    #[error("invalid policy file: `{key}`: {reason}")]
    Invalid { key: String, reason: String },
}

fn invalid(key: impl Into<String>, reason: impl ToString) -> PolicyError {
    PolicyError::Invalid {
        key: key.into(),
        reason: reason.to_string(),
    }
}

pub fn default_policy() -> Result<Policy, PolicyError> {
    parse_policy(DEFAULT_POLICY_TOML)
}

pub fn load_policy(path: &Path) -> Result<Policy, PolicyError> {
    let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse_policy(&text)
}

pub fn parse_policy(text: &str) -> Result<Policy, PolicyError> {
    let raw: RawPolicy =
        toml::from_str(text).map_err(|error| PolicyError::Syntax(error.to_string()))?;
    raw.into_policy()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    business_calendar: RawCalendar,
    dispatch: RawTarget,
    first_response: RawFirstResponse,
    #[serde(default)]
    next_response: RawNextResponse,
    chat: RawChat,
    #[serde(default)]
    phone: RawPhone,
    #[serde(default)]
    plans: RawPlans,
    #[serde(default)]
    labels: RawLabels,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    time_zone: String,
    holidays: String,
    #[serde(default)]
    extra_closed: Vec<String>,
    #[serde(default)]
    extra_open: Vec<RawOpenDate>,
    hours: RawWeek,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOpenDate {
    date: String,
    hours: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWeek {
    #[serde(default)]
    monday: Vec<String>,
    #[serde(default)]
    tuesday: Vec<String>,
    #[serde(default)]
    wednesday: Vec<String>,
    #[serde(default)]
    thursday: Vec<String>,
    #[serde(default)]
    friday: Vec<String>,
    #[serde(default)]
    saturday: Vec<String>,
    #[serde(default)]
    sunday: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    target: String,
    clock: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFirstResponse {
    warning_at: f64,
    urgent: RawResponseTarget,
    high: RawResponseTarget,
    normal: RawResponseTarget,
    low: RawResponseTarget,
}

/// Optional as a whole and per priority: a priority left out takes its first-response target.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawNextResponse {
    urgent: Option<RawResponseTarget>,
    high: Option<RawResponseTarget>,
    normal: Option<RawResponseTarget>,
    low: Option<RawResponseTarget>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResponseTarget {
    target: String,
    clock_12x5: String,
    clock_24x7: String,
    severity: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChat {
    fallback_after: String,
    /// Optional, like `[phone]`: what is left out comes from the default policy file.
    language: Option<String>,
    #[serde(default)]
    texts: RawChatLanguages,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawChatLanguages {
    #[serde(default)]
    de: RawChatTexts,
    #[serde(default)]
    en: RawChatTexts,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawChatTexts {
    offer: Option<String>,
    ask_email: Option<String>,
}

/// Optional as a whole and per key: what is left out comes from the default policy file.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPhone {
    language: Option<String>,
    max_message: Option<String>,
    #[serde(default)]
    texts: RawPhoneLanguages,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPhoneLanguages {
    #[serde(default)]
    de: RawPhoneTexts,
    #[serde(default)]
    en: RawPhoneTexts,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPhoneTexts {
    in_hours: Option<String>,
    out_of_hours: Option<String>,
    goodbye: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPlans {
    #[serde(default)]
    enterprise_tags: Vec<String>,
    #[serde(default)]
    enterprise_numbers: Vec<String>,
    #[serde(default)]
    enterprise_attributes: Vec<RawAttribute>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAttribute {
    name: String,
    values: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLabels {
    cluster_prefix: String,
    website_prefix: String,
}

impl Default for RawLabels {
    fn default() -> Self {
        let rules = LabelRules::default();
        Self {
            cluster_prefix: rules.cluster_prefix,
            website_prefix: rules.website_prefix,
        }
    }
}

impl RawPolicy {
    fn into_policy(self) -> Result<Policy, PolicyError> {
        let business = self.business_calendar.into_calendar()?;
        let response = &self.first_response;
        let warning_at = Fraction::new(response.warning_at).ok_or_else(|| {
            invalid(
                "first_response.warning_at",
                format!(
                    "must lie strictly between 0 and 1, got {}",
                    response.warning_at
                ),
            )
        })?;
        let urgent = response.urgent.parse("first_response.urgent")?;
        let high = response.high.parse("first_response.high")?;
        let normal = response.normal.parse("first_response.normal")?;
        let low = response.low.parse("first_response.low")?;
        let next = &self.next_response;
        let or_first = |raw: &Option<RawResponseTarget>, key: &str, first: ResponseTarget| {
            raw.as_ref().map_or(Ok(first), |raw| raw.parse(key))
        };
        let next_response = NextResponseTargets {
            urgent: or_first(&next.urgent, "next_response.urgent", urgent)?,
            high: or_first(&next.high, "next_response.high", high)?,
            normal: or_first(&next.normal, "next_response.normal", normal)?,
            low: or_first(&next.low, "next_response.low", low)?,
        };
        Ok(Policy {
            business,
            always: Calendar::Always,
            dispatch: Target {
                duration: duration("dispatch.target", &self.dispatch.target)?,
                clock: parse_named("dispatch.clock", &self.dispatch.clock)?,
            },
            urgent,
            high,
            normal,
            low,
            warning_at,
            next_response,
            chat_fallback_after: duration("chat.fallback_after", &self.chat.fallback_after)?,
            chat: self.chat.into_policy()?,
            phone: self.phone.into_policy()?,
            plan_rules: self.plans.into_rules()?,
            label_rules: self.labels.into_rules()?,
        })
    }
}

impl RawCalendar {
    fn into_calendar(self) -> Result<Calendar, PolicyError> {
        let time_zone = TimeZone::get(self.time_zone.trim()).map_err(|_| {
            invalid(
                "business_calendar.time_zone",
                format!(
                    "unknown time zone {:?} (use an IANA name such as \"Europe/Berlin\")",
                    self.time_zone
                ),
            )
        })?;
        let state = match self.holidays.trim() {
            "none" | "" => None,
            code => Some(
                GermanState::from_str(code)
                    .map_err(|error| invalid("business_calendar.holidays", error))?,
            ),
        };
        let week = self.hours;
        let days = [
            ("monday", week.monday),
            ("tuesday", week.tuesday),
            ("wednesday", week.wednesday),
            ("thursday", week.thursday),
            ("friday", week.friday),
            ("saturday", week.saturday),
            ("sunday", week.sunday),
        ];
        let mut weekly: [DailyHours; 7] = Default::default();
        for (slot, (day, hours)) in weekly.iter_mut().zip(days) {
            *slot = daily_hours(&format!("business_calendar.hours.{day}"), &hours)?;
        }
        let weekly = WeeklyHours::new(weekly);
        if !weekly.has_open_time() {
            return Err(invalid(
                "business_calendar.hours",
                "the business calendar is never open; give at least one day opening hours",
            ));
        }
        let mut extra_closed = BTreeSet::new();
        for (index, text) in self.extra_closed.iter().enumerate() {
            extra_closed.insert(date(
                &format!("business_calendar.extra_closed[{index}]"),
                text,
            )?);
        }
        let mut extra_open = BTreeMap::new();
        for (index, open) in self.extra_open.iter().enumerate() {
            let key = format!("business_calendar.extra_open[{index}]");
            let day = date(&format!("{key}.date"), &open.date)?;
            let hours = daily_hours(&format!("{key}.hours"), &open.hours)?;
            if hours.is_closed() {
                return Err(invalid(
                    format!("{key}.hours"),
                    "an extra open date needs hours",
                ));
            }
            if extra_open.insert(day, hours).is_some() {
                return Err(invalid(key, format!("{day} is listed twice")));
            }
        }
        if let Some(both) = extra_open.keys().find(|day| extra_closed.contains(day)) {
            return Err(invalid(
                "business_calendar.extra_open",
                format!("{both} is listed as both extra open and extra closed"),
            ));
        }
        let closed = ClosedDays {
            state,
            extra_closed,
            extra_open,
        };
        Ok(Calendar::Business(Box::new(BusinessCalendar::new(
            time_zone, weekly, closed,
        ))))
    }
}

impl RawResponseTarget {
    fn parse(&self, key: &str) -> Result<ResponseTarget, PolicyError> {
        Ok(ResponseTarget {
            duration: duration(&format!("{key}.target"), &self.target)?,
            standard_clock: parse_named(&format!("{key}.clock_12x5"), &self.clock_12x5)?,
            enterprise_clock: parse_named(&format!("{key}.clock_24x7"), &self.clock_24x7)?,
            severity: parse_named::<Severity>(&format!("{key}.severity"), &self.severity)?,
        })
    }
}

impl RawPlans {
    fn into_rules(self) -> Result<PlanRules, PolicyError> {
        let mut attributes = Vec::new();
        for (index, rule) in self.enterprise_attributes.into_iter().enumerate() {
            let key = format!("plans.enterprise_attributes[{index}]");
            if rule.name.trim().is_empty() {
                return Err(invalid(format!("{key}.name"), "must not be empty"));
            }
            if rule.values.is_empty() {
                return Err(invalid(
                    format!("{key}.values"),
                    "must list at least one value",
                ));
            }
            attributes.push(AttributeRule {
                name: rule.name,
                values: rule.values.into_iter().collect(),
            });
        }
        for (index, number) in self.enterprise_numbers.iter().enumerate() {
            let digits = number.trim_start_matches('+');
            if !number.starts_with('+')
                || digits.is_empty()
                || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(invalid(
                    format!("plans.enterprise_numbers[{index}]"),
                    format!("{number:?} is not an E.164 number such as \"+4940123456\""),
                ));
            }
        }
        Ok(PlanRules {
            enterprise_tags: self.enterprise_tags.into_iter().collect(),
            enterprise_attributes: attributes,
            enterprise_numbers: self.enterprise_numbers.into_iter().collect(),
        })
    }
}

/// The `[chat]` section of the compiled-in default policy, which fills what a file leaves out.
fn default_chat() -> Result<RawChat, PolicyError> {
    #[derive(Deserialize)]
    struct ChatSection {
        chat: RawChat,
    }
    toml::from_str::<ChatSection>(DEFAULT_POLICY_TOML)
        .map(|section| section.chat)
        .map_err(|error| PolicyError::Syntax(format!("default policy, [chat]: {error}")))
}

impl RawChat {
    fn into_policy(self) -> Result<ChatPolicy, PolicyError> {
        let defaults = default_chat()?;
        let language = self
            .language
            .or(defaults.language)
            .unwrap_or_else(|| "de".into());
        Ok(ChatPolicy {
            language: parse_named("chat.language", &language)?,
            german: self.texts.de.merge("chat.texts.de", defaults.texts.de)?,
            english: self.texts.en.merge("chat.texts.en", defaults.texts.en)?,
        })
    }
}

impl RawChatTexts {
    fn merge(self, key: &str, defaults: RawChatTexts) -> Result<ChatTexts, PolicyError> {
        let text = |name: &str, value: Option<String>, default: Option<String>| {
            let value = value.or(default).unwrap_or_default();
            if value.trim().is_empty() {
                Err(invalid(format!("{key}.{name}"), "must not be empty"))
            } else {
                Ok(value.trim().to_owned())
            }
        };
        Ok(ChatTexts {
            offer: text("offer", self.offer, defaults.offer)?,
            ask_email: text("ask_email", self.ask_email, defaults.ask_email)?,
        })
    }
}

/// The `[phone]` section of the compiled-in default policy, which fills what a file leaves out.
fn default_phone() -> Result<RawPhone, PolicyError> {
    // Only `[phone]` is read: the other sections of the default file are ignored here.
    #[derive(Deserialize)]
    struct PhoneSection {
        phone: RawPhone,
    }
    toml::from_str::<PhoneSection>(DEFAULT_POLICY_TOML)
        .map(|section| section.phone)
        .map_err(|error| PolicyError::Syntax(format!("default policy, [phone]: {error}")))
}

impl RawPhone {
    fn into_policy(self) -> Result<PhonePolicy, PolicyError> {
        let defaults = default_phone()?;
        let language = self
            .language
            .or(defaults.language)
            .unwrap_or_else(|| "de".into());
        let max_message = self
            .max_message
            .or(defaults.max_message)
            .unwrap_or_else(|| "3m".into());
        let max_message = duration("phone.max_message", &max_message)?;
        // Twilio's <Record maxLength> is whole seconds, at most four hours.
        if max_message > Duration::from_secs(4 * 3600) {
            return Err(invalid("phone.max_message", "must be at most 4h"));
        }
        Ok(PhonePolicy {
            language: parse_named("phone.language", &language)?,
            german: self.texts.de.merge("phone.texts.de", defaults.texts.de)?,
            english: self.texts.en.merge("phone.texts.en", defaults.texts.en)?,
            max_message,
        })
    }
}

impl RawPhoneTexts {
    fn merge(self, key: &str, defaults: RawPhoneTexts) -> Result<PhoneTexts, PolicyError> {
        let text = |name: &str, value: Option<String>, default: Option<String>| {
            let value = value.or(default).unwrap_or_default();
            if value.trim().is_empty() {
                Err(invalid(format!("{key}.{name}"), "must not be empty"))
            } else {
                Ok(value.trim().to_owned())
            }
        };
        Ok(PhoneTexts {
            in_hours: text("in_hours", self.in_hours, defaults.in_hours)?,
            out_of_hours: text("out_of_hours", self.out_of_hours, defaults.out_of_hours)?,
            goodbye: text("goodbye", self.goodbye, defaults.goodbye)?,
        })
    }
}

impl RawLabels {
    fn into_rules(self) -> Result<LabelRules, PolicyError> {
        for (key, prefix) in [
            ("labels.cluster_prefix", &self.cluster_prefix),
            ("labels.website_prefix", &self.website_prefix),
        ] {
            if prefix.trim().is_empty() {
                return Err(invalid(key, "must not be empty"));
            }
        }
        Ok(LabelRules {
            cluster_prefix: self.cluster_prefix,
            website_prefix: self.website_prefix,
        })
    }
}

fn daily_hours(key: &str, intervals: &[String]) -> Result<DailyHours, PolicyError> {
    let parsed = intervals
        .iter()
        .map(|text| OpenHours::from_str(text).map_err(|error| invalid(key, error)))
        .collect::<Result<Vec<_>, _>>()?;
    DailyHours::new(parsed).map_err(|error| invalid(key, error))
}

fn date(key: &str, text: &str) -> Result<Date, PolicyError> {
    Date::from_str(text.trim()).map_err(|_| {
        invalid(
            key,
            format!("{text:?} is not a date of the form YYYY-MM-DD"),
        )
    })
}

/// A positive duration such as "30m", "4h", "1h 30m" or "PT30M".
fn duration(key: &str, text: &str) -> Result<Duration, PolicyError> {
    let parsed = jiff::SignedDuration::from_str(text.trim()).map_err(|_| {
        invalid(
            key,
            format!("{text:?} is not a duration such as \"30m\", \"4h\" or \"1h 30m\""),
        )
    })?;
    if !parsed.is_positive() {
        return Err(invalid(key, format!("must be positive, got {text:?}")));
    }
    Duration::try_from(parsed).map_err(|_| invalid(key, format!("{text:?} is out of range")))
}

fn parse_named<T>(key: &str, text: &str) -> Result<T, PolicyError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|error| invalid(key, error))
}
