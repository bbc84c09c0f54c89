//! Deadlines of a request, always computed from the original receipt time (docs/policy.md
//! sections 3-5).

use crate::calendar::{CalendarError, OpenSpan};
use crate::policy::{Channel, ClockName, Plan, Policy, Priority, Target};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// What the deadlines depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    pub received: Timestamp,
    pub plan: Plan,
    pub priority: Priority,
    pub channel: Channel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadlines {
    /// Tickets only: when an agent must be assigned.
    pub dispatch_due: Option<Timestamp>,
    pub first_response_due: Timestamp,
    pub first_response_warning_at: Timestamp,
    /// Chats only: when the customer is offered to continue by e-mail.
    pub chat_fallback_at: Option<Timestamp>,
    /// Received while the business calendar was closed.
    pub out_of_hours: bool,
}

/// One deadline with the open time it consumed, for people who ask "why then?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explained {
    pub due: Timestamp,
    pub clock: ClockName,
    pub spans: Vec<OpenSpan>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExplainedDeadlines {
    pub dispatch: Option<Explained>,
    pub first_response: Explained,
    pub first_response_warning: Explained,
    pub out_of_hours: bool,
}

impl Policy {
    pub fn is_out_of_hours(&self, received: Timestamp) -> bool {
        !self.business.is_open(received)
    }

    pub fn deadlines(&self, request: &Request) -> Result<Deadlines, CalendarError> {
        let response = self.first_response_target(request);
        let dispatch_due = match request.channel {
            Channel::Ticket => Some(self.due(request.received, self.dispatch)?),
            Channel::Chat | Channel::Phone => None,
        };
        let chat_fallback_at = match request.channel {
            Channel::Chat => Some(self.due(
                request.received,
                Target {
                    duration: self.chat_fallback_after,
                    clock: ClockName::Always,
                },
            )?),
            Channel::Ticket | Channel::Phone => None,
        };
        Ok(Deadlines {
            dispatch_due,
            first_response_due: self.due(request.received, response)?,
            first_response_warning_at: self.due(request.received, self.warning_target(response))?,
            chat_fallback_at,
            out_of_hours: self.is_out_of_hours(request.received),
        })
    }

    pub fn explain_deadlines(
        &self,
        request: &Request,
    ) -> Result<ExplainedDeadlines, CalendarError> {
        let response = self.first_response_target(request);
        let dispatch = match request.channel {
            Channel::Ticket => Some(self.explain(request.received, self.dispatch)?),
            Channel::Chat | Channel::Phone => None,
        };
        Ok(ExplainedDeadlines {
            dispatch,
            first_response: self.explain(request.received, response)?,
            first_response_warning: self
                .explain(request.received, self.warning_target(response))?,
            out_of_hours: self.is_out_of_hours(request.received),
        })
    }

    fn first_response_target(&self, request: &Request) -> Target {
        self.response_target(request.priority)
            .for_plan(request.plan)
    }

    fn warning_target(&self, response: Target) -> Target {
        Target {
            duration: self.warning_at.of(response.duration),
            clock: response.clock,
        }
    }

    fn due(&self, from: Timestamp, target: Target) -> Result<Timestamp, CalendarError> {
        self.calendar(target.clock).add(from, target.duration)
    }

    fn explain(&self, from: Timestamp, target: Target) -> Result<Explained, CalendarError> {
        let (due, spans) = self
            .calendar(target.clock)
            .add_explained(from, target.duration)?;
        Ok(Explained {
            due,
            clock: target.clock,
            spans,
        })
    }
}
