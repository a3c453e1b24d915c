//! Events: every state change, for sinks (statistics, PBX events, webhooks,
//! recording metadata). Names are cheap to clone (`Arc<str>`).

use std::sync::Arc;

use super::agent::AgentState;
use super::call::CallId;
use super::input::{EndedBy, ExitReason, OfferOutcome};
use super::Time;

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub time: Time,
    pub kind: EventKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveReason {
    Overflow,
    Area,
    Transfer,
}

impl MoveReason {
    pub fn name(self) -> &'static str {
        match self {
            MoveReason::Overflow => "overflow",
            MoveReason::Area => "area",
            MoveReason::Transfer => "transfer",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    CallEntered { call: CallId, queue: Arc<str>, number: String, priority: i32, position: usize },
    CallOffered { call: CallId, queue: Arc<str>, agent: Arc<str> },
    OfferFailed { call: CallId, queue: Arc<str>, agent: Arc<str>, outcome: OfferOutcome },
    CallAnswered { call: CallId, queue: Arc<str>, agent: Arc<str>, wait: Time },
    CallEnded { call: CallId, queue: Arc<str>, agent: Arc<str>, talk: Time, wrapup: Time, by: EndedBy },
    CallAbandoned { call: CallId, queue: Arc<str>, wait: Time, position: usize },
    CallExited { call: CallId, queue: Arc<str>, wait: Time, reason: ExitReason },
    CallMoved { call: CallId, from: Arc<str>, to: Arc<str>, reason: MoveReason },
    CallbackRequested { call: CallId, queue: Arc<str>, number: String },
    AgentStateChanged { agent: Arc<str>, from: AgentState, to: AgentState },
    /// An offer got no report within its timeout plus grace: the router
    /// freed the agents itself (self-healing).
    OfferWatchdog { call: CallId, agent: Arc<str> },
    ConfigReloaded { queues: usize, agents: usize },
}

impl EventKind {
    /// Short name, e.g. for AMI / CUSTOM event subclasses.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::CallEntered { .. } => "CallEntered",
            EventKind::CallOffered { .. } => "CallOffered",
            EventKind::OfferFailed { .. } => "OfferFailed",
            EventKind::CallAnswered { .. } => "CallAnswered",
            EventKind::CallEnded { .. } => "CallEnded",
            EventKind::CallAbandoned { .. } => "CallAbandoned",
            EventKind::CallExited { .. } => "CallExited",
            EventKind::CallMoved { .. } => "CallMoved",
            EventKind::CallbackRequested { .. } => "CallbackRequested",
            EventKind::AgentStateChanged { .. } => "AgentState",
            EventKind::OfferWatchdog { .. } => "OfferWatchdog",
            EventKind::ConfigReloaded { .. } => "ConfigReloaded",
        }
    }

    /// The event as ordered key/value pairs (AMI headers, ESL fields, JSON).
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        let mut f = Vec::new();
        match self {
            EventKind::CallEntered { call, queue, number, priority, position } => {
                f.push(("CallId", call.to_string()));
                f.push(("Queue", queue.to_string()));
                f.push(("CallerNumber", number.clone()));
                f.push(("Priority", priority.to_string()));
                f.push(("Position", position.to_string()));
            }
            EventKind::CallOffered { call, queue, agent } => {
                f.push(("CallId", call.to_string()));
                f.push(("Queue", queue.to_string()));
                f.push(("Agent", agent.to_string()));
            }
            EventKind::OfferFailed { call, queue, agent, outcome } => {
                f.push(("CallId", call.to_string()));
                f.push(("Queue", queue.to_string()));
                f.push(("Agent", agent.to_string()));
                f.push(("Outcome", outcome.name().to_string()));
            }
            EventKind::CallAnswered { call, queue, agent, wait } => {
                f.push(("CallId", call.to_string()));
                f.push(("Queue", queue.to_string()));
                f.push(("Agent", agent.to_string()));
                f.push(("WaitMs", wait.to_string()));
            }
            EventKind::CallEnded { call, queue, agent, talk, wrapup, by } => {
                f.push(("CallId", call.to_string()));
                f.push(("Queue", queue.to_string()));
                f.push(("Agent", agent.to_string()));
                f.push(("TalkMs", talk.to_string()));
                f.push(("WrapupMs", wrapup.to_string()));
                f.push(("EndedBy", by.name().to_string()));
            }
            EventKind::CallAbandoned { call, queue, wait, position } => {
                f.push(("CallId", call.to_string()));
                f.push(("Queue", queue.to_string()));
                f.push(("WaitMs", wait.to_string()));
                f.push(("Position", position.to_string()));
            }
            EventKind::CallExited { call, queue, wait, reason } => {
                f.push(("CallId", call.to_string()));
                f.push(("Queue", queue.to_string()));
                f.push(("WaitMs", wait.to_string()));
                f.push(("Reason", reason.name().to_string()));
            }
            EventKind::CallMoved { call, from, to, reason } => {
                f.push(("CallId", call.to_string()));
                f.push(("From", from.to_string()));
                f.push(("Queue", to.to_string()));
                f.push(("Reason", reason.name().to_string()));
            }
            EventKind::CallbackRequested { call, queue, number } => {
                f.push(("CallId", call.to_string()));
                f.push(("Queue", queue.to_string()));
                f.push(("Number", number.clone()));
            }
            EventKind::AgentStateChanged { agent, from, to } => {
                f.push(("Agent", agent.to_string()));
                f.push(("From", from.name().to_string()));
                f.push(("State", to.name().to_string()));
                if let AgentState::Break(r) = to {
                    f.push(("Reason", r.clone()));
                }
            }
            EventKind::OfferWatchdog { call, agent } => {
                f.push(("CallId", call.to_string()));
                f.push(("Agent", agent.to_string()));
            }
            EventKind::ConfigReloaded { queues, agents } => {
                f.push(("Queues", queues.to_string()));
                f.push(("Agents", agents.to_string()));
            }
        }
        f
    }
}
