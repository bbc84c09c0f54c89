//! SLA events: what other systems (ticket trackers, status pages, BI) may subscribe to. They are
//! read off the difference between a case before and after a decision, so every runtime and
//! every path that changes a case (a provider event, a timer, a PagerDuty update) tells the same
//! story. The wire document and its JSON Schema are in docs/events.md.

use super::{AlertKey, Case, CaseId, ClockState, Status};
use crate::policy::{Channel, Labels, Plan, Priority};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The event types of the contract, named as subscribers see them (EventBridge `detail-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SlaEventKind {
    #[serde(rename = "Case Opened")]
    CaseOpened,
    #[serde(rename = "SLA Warning")]
    SlaWarning,
    #[serde(rename = "SLA Breached")]
    SlaBreached,
    #[serde(rename = "SLA Met")]
    SlaMet,
    #[serde(rename = "SLA Met Late")]
    SlaMetLate,
    #[serde(rename = "Case Solved")]
    CaseSolved,
    #[serde(rename = "Page Acknowledged")]
    PageAcknowledged,
}

impl SlaEventKind {
    pub const ALL: [SlaEventKind; 7] = [
        SlaEventKind::CaseOpened,
        SlaEventKind::SlaWarning,
        SlaEventKind::SlaBreached,
        SlaEventKind::SlaMet,
        SlaEventKind::SlaMetLate,
        SlaEventKind::CaseSolved,
        SlaEventKind::PageAcknowledged,
    ];

    /// The type's name in the contract.
    pub fn as_str(self) -> &'static str {
        match self {
            SlaEventKind::CaseOpened => "Case Opened",
            SlaEventKind::SlaWarning => "SLA Warning",
            SlaEventKind::SlaBreached => "SLA Breached",
            SlaEventKind::SlaMet => "SLA Met",
            SlaEventKind::SlaMetLate => "SLA Met Late",
            SlaEventKind::CaseSolved => "Case Solved",
            SlaEventKind::PageAcknowledged => "Page Acknowledged",
        }
    }

    /// The type in keys and ids: lower case, no spaces.
    pub fn slug(self) -> &'static str {
        match self {
            SlaEventKind::CaseOpened => "case_opened",
            SlaEventKind::SlaWarning => "sla_warning",
            SlaEventKind::SlaBreached => "sla_breached",
            SlaEventKind::SlaMet => "sla_met",
            SlaEventKind::SlaMetLate => "sla_met_late",
            SlaEventKind::CaseSolved => "case_solved",
            SlaEventKind::PageAcknowledged => "page_acknowledged",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text || kind.slug() == text)
    }
}

impl fmt::Display for SlaEventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The promise an SLA event is about (the chat fallback is a hand-over, not a promise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaClock {
    Dispatch,
    FirstResponse,
    /// The follow-up clock of the case's latest round.
    NextResponse,
}

impl SlaClock {
    pub const ALL: [SlaClock; 3] = [
        SlaClock::Dispatch,
        SlaClock::FirstResponse,
        SlaClock::NextResponse,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SlaClock::Dispatch => "dispatch",
            SlaClock::FirstResponse => "first_response",
            SlaClock::NextResponse => "next_response",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|clock| clock.as_str() == text)
    }

    fn state(self, case: &Case) -> Option<&ClockState> {
        match self {
            SlaClock::Dispatch => case.dispatch.as_ref(),
            SlaClock::FirstResponse => Some(&case.first_response),
            SlaClock::NextResponse => case.next_response.as_ref().map(|round| &round.clock),
        }
    }

    /// The clock's state in `before` when it is the same clock as in `after`: a new
    /// follow-up round is a new clock, whatever the previous round came to.
    fn previous<'a>(self, before: Option<&'a Case>, after: &Case) -> Option<&'a ClockState> {
        let before = before?;
        if self == SlaClock::NextResponse {
            let round = |case: &Case| case.next_response.as_ref().map(|next| next.round);
            if round(before) != round(after) {
                return None;
            }
        }
        self.state(before)
    }

    /// The clock an alert pages for, if it pages for one.
    fn of_alert(alert: AlertKey) -> Option<Self> {
        match alert {
            AlertKey::Dispatch => Some(SlaClock::Dispatch),
            AlertKey::FirstResponse => Some(SlaClock::FirstResponse),
            AlertKey::NextResponse => Some(SlaClock::NextResponse),
            AlertKey::OutOfHours | AlertKey::Chat | AlertKey::Voicemail => None,
        }
    }
}

impl fmt::Display for SlaClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One SLA event. Every field comes from the case as it was decided, so the event (and its id)
/// is the same however often it is delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaEvent {
    pub kind: SlaEventKind,
    pub case_id: CaseId,
    pub channel: Channel,
    pub plan: Plan,
    pub priority: Priority,
    /// The promise concerned; `None` for a case opened or solved, and for a page that is about
    /// no single clock (out of hours, a chat, a voicemail).
    pub clock: Option<SlaClock>,
    /// The page acknowledged (`Page Acknowledged` only).
    pub alert: Option<AlertKey>,
    /// Who acknowledged, as PagerDuty names them.
    pub by: Option<String>,
    /// The clock's deadline, when the event is about a clock.
    pub due: Option<Timestamp>,
    /// When it happened.
    pub at: Timestamp,
    pub labels: Labels,
    /// The request at its provider (a Zendesk ticket, an Intercom conversation).
    pub source_link: Option<String>,
}

impl SlaEvent {
    /// Unique per case and happening, stable across redeliveries: what a subscriber
    /// deduplicates on.
    pub fn id(&self) -> String {
        format!("{}/{}", self.case_id, self.happening())
    }

    /// What happened to the case, and when: `<type>/<clock, alert or "case">/<unix seconds>`.
    pub(super) fn happening(&self) -> String {
        let about = match (self.clock, self.alert) {
            (Some(clock), _) => clock.as_str(),
            (None, Some(alert)) => alert.as_str(),
            (None, None) => "case",
        };
        format!("{}/{about}/{}", self.kind.slug(), self.at.as_second())
    }

    fn new(case: &Case, kind: SlaEventKind, at: Timestamp) -> Self {
        Self {
            kind,
            case_id: case.id.clone(),
            channel: case.request.channel,
            plan: case.request.plan,
            priority: case.request.priority,
            clock: None,
            alert: None,
            by: None,
            due: None,
            at,
            labels: case.request.labels.clone(),
            source_link: case.request.link.clone(),
        }
    }

    fn about_clock(mut self, clock: SlaClock, due: Timestamp) -> Self {
        self.clock = Some(clock);
        self.due = Some(due);
        self
    }
}

/// The SLA events that lead from `before` (`None`: the case is new) to `after`, in the order
/// they happened.
pub fn sla_events(before: Option<&Case>, after: &Case) -> Vec<SlaEvent> {
    let mut events = Vec::new();
    if before.is_none() {
        events.push(SlaEvent::new(
            after,
            SlaEventKind::CaseOpened,
            after.request.received,
        ));
    }
    if let (Some(at), None) = (after.warned_at, before.and_then(|case| case.warned_at)) {
        events.push(
            SlaEvent::new(after, SlaEventKind::SlaWarning, at)
                .about_clock(SlaClock::FirstResponse, after.first_response.due),
        );
    }
    if let Some(next) = &after.next_response {
        let warned_before = SlaClock::NextResponse
            .previous(before, after)
            .and(before.and_then(|case| case.next_response.as_ref()))
            .and_then(|previous| previous.warned_at);
        if let (Some(at), None) = (next.warned_at, warned_before) {
            events.push(
                SlaEvent::new(after, SlaEventKind::SlaWarning, at)
                    .about_clock(SlaClock::NextResponse, next.clock.due),
            );
        }
    }
    for clock in SlaClock::ALL {
        let Some(now) = clock.state(after) else {
            continue;
        };
        let was = clock.previous(before, after);
        if let (Some(at), None) = (now.breached_at, was.and_then(|state| state.breached_at)) {
            events.push(
                SlaEvent::new(after, SlaEventKind::SlaBreached, at).about_clock(clock, now.due),
            );
        }
        if let (Some(at), None) = (now.met_at, was.and_then(|state| state.met_at)) {
            let kind = if at <= now.due {
                SlaEventKind::SlaMet
            } else {
                SlaEventKind::SlaMetLate
            };
            events.push(SlaEvent::new(after, kind, at).about_clock(clock, now.due));
        }
    }
    for (alert, response) in &after.alert_responses {
        let known = before
            .and_then(|case| case.alert_responses.get(alert))
            .and_then(|response| response.acknowledged_at);
        if let (Some(at), None) = (response.acknowledged_at, known) {
            let mut event = SlaEvent::new(after, SlaEventKind::PageAcknowledged, at);
            event.alert = Some(*alert);
            event.by = response.acknowledged_by.clone();
            if let Some(clock) = SlaClock::of_alert(*alert) {
                event.clock = Some(clock);
                event.due = clock.state(after).map(|state| state.due);
            }
            events.push(event);
        }
    }
    let was_solved = before.is_some_and(|case| case.status == Status::Solved);
    if after.status == Status::Solved && !was_solved {
        events.push(SlaEvent::new(
            after,
            SlaEventKind::CaseSolved,
            after.applied.status,
        ));
    }
    events.sort_by_key(|event| event.at);
    events
}
