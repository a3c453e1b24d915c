//! What a PBX tells the router ([`Input`]) and what the router tells a PBX
//! to do ([`Action`]).

use std::sync::Arc;

use super::call::{CallId, CallerInfo};
use super::config::Config;
use super::Time;

/// Index of an agent, stable for the life of an engine (reloads append).
pub type AgentId = u32;

#[derive(Debug, Clone)]
pub enum Input {
    /// A caller runs the queue application. `call` is chosen by the PBX side
    /// (unique per engine); the router answers on that call's port.
    CallEnter { call: CallId, queue: String, caller: CallerInfo },
    /// The caller hung up. The PBX side has already torn down any agent leg
    /// it was ringing; agents ringing for this call are free again.
    CallerHangup { call: CallId },
    /// How an offer to one agent ended. `Answered` means that agent is now
    /// connected to the caller and every other leg of the same offer
    /// (ring-all) has been hung up. `seq`: the offer's number, from its
    /// [`Action::Offer`] or [`Action::Callback`]; a report for an offer
    /// the router already gave up is stale (an answer is then dropped:
    /// [`Action::Drop`]).
    OfferResult { call: CallId, agent: AgentId, outcome: OfferOutcome, seq: u32 },
    /// The PBX identity of the agent leg that answered (channel and unique
    /// id, UUID), sent just before that leg's `Answered`: it rides in the
    /// `CallAnswered` event.
    AgentLeg { call: CallId, agent: AgentId, leg: Vec<(String, String)> },
    /// The bridge between caller and agent is over.
    CallEnded { call: CallId, by: EndedBy },
    /// A waiting caller moves to another queue (keeps its place in time).
    Transfer { call: CallId, queue: String },
    /// A waiting caller asks to be called back at `number` and hangs up; it
    /// keeps its place in line (ACD Call Back).
    CallbackRequest { call: CallId, number: String },
    /// A callback that was pending when the PBX stopped, back in line after
    /// the restart (no caller thread: it is served like any callback).
    CallbackRestore { call: CallId, queue: String, caller: CallerInfo, number: String },
    /// A new callback task with no caller waiting (a caller who left a
    /// message): in line from now, as if it had asked from the queue.
    CallbackNew { call: CallId, queue: String, caller: CallerInfo, number: String },
    /// `contact`: hot desking, the agent logs in from another phone; offers
    /// ring that dial string (`TECH/resource`) instead of the configured
    /// contact until it logs out. Given while logged in, it changes phones.
    AgentLogin { agent: String, contact: Option<String> },
    AgentLogout { agent: String },
    AgentBreak { agent: String, reason: String },
    /// Back from break (unpause).
    AgentReady { agent: String },
    /// Operator: free an agent whose call end was never reported (ringing
    /// or on a call). A talk is ended as [`EndedBy::Failed`]; an offer is
    /// cancelled and its caller waits again.
    AgentReset { agent: String },
    /// Make an agent a member of a queue at run time (tier from 1). Kept
    /// across reloads while the agent and the queue exist.
    AddMember { agent: String, queue: String, penalty: u32, tier: u8 },
    /// End a membership (from the configuration or run time; a reload
    /// restores the configured ones). A ringing or talking agent leaves
    /// after its call.
    RemoveMember { agent: String, queue: String },
    /// Change a member's penalty, and its tier if given.
    SetPenalty { agent: String, queue: String, penalty: u32, tier: Option<u8> },
    /// A note on a live call (an agent's or a supervisor's, through the API
    /// or the CLI), by `by`: published, and handed to the call's thread,
    /// which keeps it with the call's transfer history.
    Note { call: CallId, text: String, by: String },
    /// The PBX says a talking call's channels no longer exist (the router's
    /// sweep of [`crate::core::Engine::long_calls`]): end it as
    /// [`EndedBy::Failed`] and free its agent.
    CallGone { call: CallId },
    /// The PBX's device state for an agent's device: busy = in use, ringing,
    /// on hold, unavailable; an agent on a direct call is not offered.
    DeviceState { device: String, busy: bool },
    /// Swap the configuration atomically; live calls stay where they are.
    Reload(Arc<Config>),
    /// An event from outside the engine (the IVR), numbered and copied to
    /// every sink like the engine's own; it changes no state.
    Publish(super::event::EventKind),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OfferOutcome {
    Answered,
    /// Rang until the ring timeout.
    NoAnswer,
    Busy,
    /// Could not be reached: congestion, unregistered, no such endpoint.
    Unavailable,
    /// The agent leg hung up without answering.
    Rejected,
    /// Hung up by us (another agent of a ring-all answered, or shutdown).
    Cancelled,
    /// Answered after the router had given the offer up (watchdog, reset,
    /// the caller moved on): the answered leg is hung up. Only in events.
    Stale,
}

impl OfferOutcome {
    /// Counts as a miss towards `max_no_answer`.
    pub fn is_miss(self) -> bool {
        !matches!(self, OfferOutcome::Answered | OfferOutcome::Cancelled | OfferOutcome::Stale)
    }

    pub fn name(self) -> &'static str {
        match self {
            OfferOutcome::Answered => "answered",
            OfferOutcome::NoAnswer => "no-answer",
            OfferOutcome::Busy => "busy",
            OfferOutcome::Unavailable => "unavailable",
            OfferOutcome::Rejected => "rejected",
            OfferOutcome::Cancelled => "cancelled",
            OfferOutcome::Stale => "stale",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndedBy {
    Caller,
    Agent,
    /// The agent transferred the caller elsewhere.
    Transfer,
    /// A callback whose customer could not be reached, or a PBX failure.
    Failed,
}

impl EndedBy {
    pub fn name(self) -> &'static str {
        match self {
            EndedBy::Caller => "caller",
            EndedBy::Agent => "agent",
            EndedBy::Transfer => "transfer",
            EndedBy::Failed => "failed",
        }
    }
}

/// One agent to ring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferTarget {
    pub agent: AgentId,
    pub name: Arc<str>,
    /// Dial string (`PJSIP/1001`, `Local/100@agents`, `user/1000`...).
    pub contact: Arc<str>,
    /// Ask the phone to answer by itself (the agent's `auto_answer`, else
    /// the queue's).
    pub auto_answer: bool,
    /// The screen-pop URL rendered for this agent (its `popup_url`, else
    /// the queue's), set on the leg that answers.
    pub popup_url: Option<Arc<str>>,
}

/// Why a caller leaves the queue application without an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExitReason {
    /// `max_wait_seconds` reached.
    Timeout,
    /// No agent logged in any more (`leave_when_empty`).
    LeaveEmpty,
    /// No agent logged in at entry (`join_when_empty = false`).
    JoinEmpty,
    /// `max_callers` reached.
    Full,
    UnknownQueue,
    /// The caller will be called back; its place is kept.
    CallbackScheduled,
    /// The same call id entered twice.
    Duplicate,
}

impl ExitReason {
    /// Value of the PBX's outcome variable (HOTLINE_RESULT).
    pub fn name(self) -> &'static str {
        match self {
            ExitReason::Timeout => "TIMEOUT",
            ExitReason::LeaveEmpty => "LEAVEEMPTY",
            ExitReason::JoinEmpty => "JOINEMPTY",
            ExitReason::Full => "FULL",
            ExitReason::UnknownQueue => "UNKNOWNQUEUE",
            ExitReason::CallbackScheduled => "CALLBACK",
            ExitReason::Duplicate => "DUPLICATE",
        }
    }
}

/// What the PBX must do. Every action but [`Action::Callback`] is for the
/// thread running the caller's queue application.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Ring these agents (more than one: ring-all) until `deadline` (the
    /// router's clock, [`crate::router::Router::now`], which the adapters'
    /// [`crate::flow::Primitives::now`] share); `timeout` is the ring time
    /// as decided. Offer `seq` of this call: every report names it. An
    /// offer with the `seq` of the one ringing adds legs to it (ring
    /// escalation): first answer wins.
    Offer { call: CallId, seq: u32, targets: Vec<OfferTarget>, timeout: Time, deadline: Time },
    /// The answer of `agent` to offer `seq` stands: bridge it.
    Connect { call: CallId, seq: u32, agent: AgentId },
    /// The answer of `agent` to offer `seq` came after the router gave
    /// that offer up: hang up the answered leg and wait on (the caller is
    /// back in line).
    Drop { call: CallId, seq: u32, agent: AgentId },
    /// After a talk the agent ended quickly (`requeue_short_seconds`): the
    /// caller is back at the head of the line; music and wait again.
    Requeued { call: CallId },
    /// After a talk the agent ended, in a queue with requeueing on: no
    /// requeue, leave as usual.
    TalkDone { call: CallId },
    /// Tell the caller its position and expected wait.
    Announce { call: CallId, position: usize, expected_wait: Option<Time> },
    /// The caller now waits in another queue (overflow, area routing,
    /// transfer): change music and variables.
    Moved { call: CallId, queue: Arc<str>, music_class: Arc<str> },
    /// Leave the queue application with this outcome.
    Exit { call: CallId, reason: ExitReason },
    /// A scheduled callback reached an agent: ring the agent, then call the
    /// customer at `number` and connect them. Report like an offer.
    Callback { call: CallId, seq: u32, queue: Arc<str>, number: String, target: OfferTarget, timeout: Time },
    /// A note was taken on the call ([`Input::Note`]): keep it for the
    /// transfer history.
    Note { call: CallId, text: Arc<str> },
}

impl Action {
    pub fn call(&self) -> CallId {
        match self {
            Action::Offer { call, .. }
            | Action::Announce { call, .. }
            | Action::Moved { call, .. }
            | Action::Exit { call, .. }
            | Action::Connect { call, .. }
            | Action::Drop { call, .. }
            | Action::Requeued { call }
            | Action::TalkDone { call }
            | Action::Callback { call, .. }
            | Action::Note { call, .. } => *call,
        }
    }
}
