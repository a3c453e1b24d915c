//! Events: every state change, for sinks (statistics, PBX events, webhooks,
//! recording metadata). Names are cheap to clone (`Arc<str>`).

use std::borrow::Cow;
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
    /// `data`: what the caller brought (IVR digits, CRM fields, the PBX's
    /// channel and unique id), for screen pops.
    CallEntered { call: CallId, queue: Arc<str>, number: String, name: String, priority: i32, position: usize, data: Vec<(String, String)> },
    /// `data`: the caller's (as in CallEntered), for a pop while ringing.
    CallOffered { call: CallId, queue: Arc<str>, agent: Arc<str>, data: Arc<[(String, String)]>, popup_url: Option<Arc<str>> },
    OfferFailed { call: CallId, queue: Arc<str>, agent: Arc<str>, outcome: OfferOutcome },
    /// `leg`: the answered agent leg's PBX identity (fields `Agent<Key>`:
    /// `AgentChannel`, `AgentUniqueid` on Asterisk, `AgentUuid` on
    /// FreeSWITCH), for recording and screen pop to refer to the leg.
    CallAnswered { call: CallId, queue: Arc<str>, agent: Arc<str>, wait: Time, data: Arc<[(String, String)]>, leg: Vec<(String, String)>, popup_url: Option<Arc<str>> },
    CallEnded { call: CallId, queue: Arc<str>, agent: Arc<str>, talk: Time, wrapup: Time, by: EndedBy },
    /// Follows the `CallEnded` of a talk the agent ended within
    /// `requeue_short_seconds`: the caller is back at the head of the line
    /// (`requeues`: how many times so far for this call).
    CallRequeued { call: CallId, queue: Arc<str>, agent: Arc<str>, talk: Time, requeues: u32 },
    CallAbandoned { call: CallId, queue: Arc<str>, wait: Time, position: usize },
    CallExited { call: CallId, queue: Arc<str>, wait: Time, reason: ExitReason },
    CallMoved { call: CallId, from: Arc<str>, to: Arc<str>, reason: MoveReason },
    /// The PBX's recorder started on a talk (`crate::recording`): the
    /// recording's id, its file, the call's data (sensitive values masked)
    /// and the caller channel's identity.
    RecordingStarted {
        id: u64,
        call: CallId,
        queue: String,
        agent: String,
        number: String,
        name: String,
        file: String,
        format: String,
        stereo: bool,
        data: Vec<(String, String)>,
        identity: Vec<(String, String)>,
    },
    /// The talk (and its recording) ended; `ms`: how long it recorded,
    /// `paused`: spans (ms from the start) it was paused.
    RecordingStopped { id: u64, call: CallId, ms: Time, paused: Vec<(Time, Time)> },
    /// A recording was paused (`paused`) or resumed, `at` ms from its
    /// start (the recorder writes silence while paused).
    RecordingPaused { id: u64, call: CallId, paused: bool, at: Time },
    /// A recording could not be made or kept (the recorder refused, the
    /// file never appeared): the call went on unrecorded.
    RecordingFailed { id: u64, call: CallId, file: String, reason: String },
    /// A note on a live call, by `by` (an API user, the CLI).
    CallNote { call: CallId, queue: Arc<str>, text: String, by: String },
    /// The agent transferred the caller away (published by the call flow
    /// just before the talk's `CallEnded`): to the dialplan target `to`,
    /// with the call's whole transfer history as JSON
    /// ([`crate::flow::transfers`]).
    CallTransferred { call: CallId, queue: String, agent: String, to: String, transfers: String },
    CallbackRequested { call: CallId, queue: Arc<str>, number: String },
    /// A callback was asked for and refused; the caller keeps waiting.
    CallbackRefused { call: CallId, queue: Arc<str>, number: String, reason: &'static str },
    /// `contact`: on a login, the dial string the agent is rung at from now
    /// on (a hot-desk contact, or the configured one); also sent with `from`
    /// equal to `to` when a logged-in agent logs in from another phone.
    AgentStateChanged { agent: Arc<str>, from: AgentState, to: AgentState, contact: Option<Arc<str>> },
    /// Membership changes, by operator command; `MemberRemoved` when the
    /// removal takes effect (after the call of a busy agent).
    MemberAdded { agent: Arc<str>, queue: Arc<str>, penalty: u32, tier: u8 },
    MemberRemoved { agent: Arc<str>, queue: Arc<str>, penalty: u32, tier: u8 },
    MemberChanged { agent: Arc<str>, queue: Arc<str>, penalty: u32, tier: u8 },
    /// An operator freed an agent stuck on `call` (ringing or talking).
    AgentReset { agent: Arc<str>, call: CallId },
    /// A talking call's channels were gone (router sweep); it is ended.
    CallGone { call: CallId, queue: Arc<str>, agent: Arc<str> },
    /// An operator or dialplan command that could not apply: unknown agent
    /// or queue, not a member, a bad contact... `queue` is empty when the
    /// command names none.
    CommandRefused { command: &'static str, agent: String, queue: String, reason: String },
    /// An offer got no report within its timeout plus grace: the router
    /// freed the agents itself (self-healing).
    OfferWatchdog { call: CallId, agent: Arc<str> },
    ConfigReloaded { queues: usize, agents: usize },
    /// A caller started IVR menu `menu` (`identity`: its PBX channel:
    /// `channel`/`uniqueid` on Asterisk, `uuid` on FreeSWITCH).
    IvrEntered { menu: String, number: String, identity: Vec<(String, String)> },
    /// A caller left the IVR: how (`result`: QUEUE, TRANSFER, HANGUP,
    /// RETURN, ABANDONED), the nodes walked (`a/b/c`), the data it had then
    /// (sensitive values masked) and how long it took.
    IvrLeft { menu: String, number: String, result: &'static str, path: String, data: Vec<(String, String)>, identity: Vec<(String, String)>, took: Time },
    /// A caller left a voice message (`[[message]]` step `step`) in
    /// `mailbox`: the file (`.wav`), its length, a callback queued in
    /// `callback` (if any), the call's data (sensitive values masked).
    MessageLeft {
        id: u64,
        mailbox: String,
        step: String,
        number: String,
        name: String,
        callback: Option<String>,
        file: String,
        ms: Time,
        data: Vec<(String, String)>,
        identity: Vec<(String, String)>,
    },
    /// The caller answered the queue's satisfaction survey after the agent
    /// hung up: the answer as collected, and as a score when it is 1-5.
    SurveyAnswered { call: CallId, queue: String, agent: String, answer: String, score: Option<u8> },
    /// A recording too short to keep (its file is removed).
    MessageDiscarded { mailbox: String, file: String, ms: Time },
    /// A message was listened to to the end, by `by` (the listener's number).
    MessageHeard { id: u64, mailbox: String, by: String },
    /// A message was deleted (its file is removed).
    MessageDeleted { id: u64, mailbox: String, by: String },
    /// `HotlineScreenPop(endpoint,...)` / `hotline_screenpop`: a screen pop
    /// for webhook `endpoint`, with the call (when it is in a queue), the
    /// caller, the call's data, the dialplan's extra `fields` and the
    /// channel's identity.
    ScreenPop {
        endpoint: String,
        call: Option<CallId>,
        number: String,
        name: String,
        data: Vec<(String, String)>,
        fields: Vec<(String, String)>,
        identity: Vec<(String, String)>,
    },
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
            EventKind::CallRequeued { .. } => "CallRequeued",
            EventKind::CallAbandoned { .. } => "CallAbandoned",
            EventKind::CallExited { .. } => "CallExited",
            EventKind::CallMoved { .. } => "CallMoved",
            EventKind::CallNote { .. } => "CallNote",
            EventKind::RecordingStarted { .. } => "RecordingStarted",
            EventKind::RecordingStopped { .. } => "RecordingStopped",
            EventKind::RecordingFailed { .. } => "RecordingFailed",
            EventKind::RecordingPaused { paused: true, .. } => "RecordingPaused",
            EventKind::RecordingPaused { paused: false, .. } => "RecordingResumed",
            EventKind::CallTransferred { .. } => "CallTransferred",
            EventKind::CallbackRequested { .. } => "CallbackRequested",
            EventKind::CallbackRefused { .. } => "CallbackRefused",
            EventKind::IvrEntered { .. } => "IvrEntered",
            EventKind::IvrLeft { .. } => "IvrLeft",
            EventKind::MessageLeft { .. } => "MessageLeft",
            EventKind::MessageDiscarded { .. } => "MessageDiscarded",
            EventKind::SurveyAnswered { .. } => "SurveyAnswered",
            EventKind::MessageHeard { .. } => "MessageHeard",
            EventKind::MessageDeleted { .. } => "MessageDeleted",
            EventKind::ScreenPop { .. } => "ScreenPop",
            EventKind::AgentStateChanged { .. } => "AgentState",
            EventKind::MemberAdded { .. } => "MemberAdded",
            EventKind::MemberRemoved { .. } => "MemberRemoved",
            EventKind::MemberChanged { .. } => "MemberChanged",
            EventKind::AgentReset { .. } => "AgentReset",
            EventKind::CallGone { .. } => "CallGone",
            EventKind::CommandRefused { .. } => "CommandRefused",
            EventKind::OfferWatchdog { .. } => "OfferWatchdog",
            EventKind::ConfigReloaded { .. } => "ConfigReloaded",
        }
    }

    /// The event as ordered key/value pairs (AMI headers, ESL fields, JSON).
    pub fn fields(&self) -> Vec<(Cow<'static, str>, String)> {
        let mut f = Vec::new();
        match self {
            EventKind::CallEntered { call, queue, number, name, priority, position, data } => {
                f.push(("CallId".into(), call.to_string()));
                f.push(("Queue".into(), queue.to_string()));
                f.push(("CallerNumber".into(), number.clone()));
                f.push(("CallerName".into(), name.clone()));
                f.push(("Priority".into(), priority.to_string()));
                f.push(("Position".into(), position.to_string()));
                push_data(&mut f, "", data);
            }
            EventKind::CallOffered { call, queue, agent, data, popup_url } => {
                f.push(("CallId".into(), call.to_string()));
                f.push(("Queue".into(), queue.to_string()));
                f.push(("Agent".into(), agent.to_string()));
                if let Some(u) = popup_url {
                    f.push(("PopupUrl".into(), u.to_string()));
                }
                push_data(&mut f, "", data);
            }
            EventKind::CallRequeued { call, queue, agent, talk, requeues } => {
                f.push(("CallId".into(), call.to_string()));
                f.push(("Queue".into(), queue.to_string()));
                f.push(("Agent".into(), agent.to_string()));
                f.push(("TalkMs".into(), talk.to_string()));
                f.push(("Requeues".into(), requeues.to_string()));
            }
            EventKind::CallGone { call, queue, agent } => {
                f.push(("CallId".into(), call.to_string()));
                f.push(("Queue".into(), queue.to_string()));
                f.push(("Agent".into(), agent.to_string()));
            }
            EventKind::OfferFailed { call, queue, agent, outcome } => {
                f.push(("CallId".into(), call.to_string()));
                f.push(("Queue".into(), queue.to_string()));
                f.push(("Agent".into(), agent.to_string()));
                f.push(("Outcome".into(), outcome.name().to_string()));
            }
            EventKind::CallAnswered { call, queue, agent, wait, data, leg, popup_url } => {
                f.push(("CallId".into(), call.to_string()));
                f.push(("Queue".into(), queue.to_string()));
                f.push(("Agent".into(), agent.to_string()));
                f.push(("WaitMs".into(), wait.to_string()));
                if let Some(u) = popup_url {
                    f.push(("PopupUrl".into(), u.to_string()));
                }
                push_data(&mut f, "Agent", leg);
                push_data(&mut f, "", data);
            }
            EventKind::CallEnded { call, queue, agent, talk, wrapup, by } => {
                f.push(("CallId".into(), call.to_string()));
                f.push(("Queue".into(), queue.to_string()));
                f.push(("Agent".into(), agent.to_string()));
                f.push(("TalkMs".into(), talk.to_string()));
                f.push(("WrapupMs".into(), wrapup.to_string()));
                f.push(("EndedBy".into(), by.name().to_string()));
            }
            EventKind::CallAbandoned { call, queue, wait, position } => {
                f.push(("CallId".into(), call.to_string()));
                f.push(("Queue".into(), queue.to_string()));
                f.push(("WaitMs".into(), wait.to_string()));
                f.push(("Position".into(), position.to_string()));
            }
            EventKind::CallExited { call, queue, wait, reason } => {
                f.push(("CallId".into(), call.to_string()));
                f.push(("Queue".into(), queue.to_string()));
                f.push(("WaitMs".into(), wait.to_string()));
                f.push(("Reason".into(), reason.name().to_string()));
            }
            EventKind::CallMoved { call, from, to, reason } => {
                f.push(("CallId".into(), call.to_string()));
                f.push(("From".into(), from.to_string()));
                f.push(("Queue".into(), to.to_string()));
                f.push(("Reason".into(), reason.name().to_string()));
            }
            EventKind::RecordingStarted { id, call, queue, agent, number, name, file, format, stereo, data, identity } => {
                f.push(("RecordingId".into(), id.to_string()));
                f.push(("CallId".into(), call.to_string()));
                f.push(("Queue".into(), queue.clone()));
                f.push(("Agent".into(), agent.clone()));
                f.push(("CallerNumber".into(), number.clone()));
                f.push(("CallerName".into(), name.clone()));
                f.push(("File".into(), file.clone()));
                f.push(("Format".into(), format.clone()));
                f.push(("Stereo".into(), stereo.to_string()));
                push_data(&mut f, "", identity);
                push_data(&mut f, "", data);
            }
            EventKind::RecordingStopped { id, call, ms, paused } => {
                f.push(("RecordingId".into(), id.to_string()));
                f.push(("CallId".into(), call.to_string()));
                f.push(("DurationMs".into(), ms.to_string()));
                f.push(("Paused".into(), paused.iter().map(|(a, b)| format!("{a}-{b}")).collect::<Vec<_>>().join(",")));
            }
            EventKind::RecordingPaused { id, call, at, .. } => {
                f.push(("RecordingId".into(), id.to_string()));
                f.push(("CallId".into(), call.to_string()));
                f.push(("AtMs".into(), at.to_string()));
            }
            EventKind::RecordingFailed { id, call, file, reason } => {
                f.push(("RecordingId".into(), id.to_string()));
                f.push(("CallId".into(), call.to_string()));
                f.push(("File".into(), file.clone()));
                f.push(("Reason".into(), reason.clone()));
            }
            EventKind::CallNote { call, queue, text, by } => {
                f.push(("CallId".into(), call.to_string()));
                f.push(("Queue".into(), queue.to_string()));
                f.push(("Note".into(), text.clone()));
                f.push(("By".into(), by.clone()));
            }
            EventKind::CallTransferred { call, queue, agent, to, transfers } => {
                f.push(("CallId".into(), call.to_string()));
                f.push(("Queue".into(), queue.clone()));
                f.push(("Agent".into(), agent.clone()));
                f.push(("To".into(), to.clone()));
                f.push(("Transfers".into(), transfers.clone()));
            }
            EventKind::CallbackRequested { call, queue, number } => {
                f.push(("CallId".into(), call.to_string()));
                f.push(("Queue".into(), queue.to_string()));
                f.push(("Number".into(), number.clone()));
            }
            EventKind::CallbackRefused { call, queue, number, reason } => {
                f.push(("CallId".into(), call.to_string()));
                f.push(("Queue".into(), queue.to_string()));
                f.push(("Number".into(), number.clone()));
                f.push(("Reason".into(), reason.to_string()));
            }
            EventKind::IvrEntered { menu, number, identity } => {
                f.push(("Menu".into(), menu.clone()));
                f.push(("CallerNumber".into(), number.clone()));
                push_data(&mut f, "", identity);
            }
            EventKind::IvrLeft { menu, number, result, path, data, identity, took } => {
                f.push(("Menu".into(), menu.clone()));
                f.push(("CallerNumber".into(), number.clone()));
                f.push(("Result".into(), result.to_string()));
                f.push(("Path".into(), path.clone()));
                f.push(("Duration".into(), took.to_string()));
                push_data(&mut f, "", identity);
                push_data(&mut f, "", data);
            }
            EventKind::MessageLeft { id, mailbox, step, number, name, callback, file, ms, data, identity } => {
                f.push(("MessageId".into(), id.to_string()));
                f.push(("Mailbox".into(), mailbox.clone()));
                f.push(("Step".into(), step.clone()));
                f.push(("CallerNumber".into(), number.clone()));
                f.push(("CallerName".into(), name.clone()));
                if let Some(q) = callback {
                    f.push(("CallbackQueue".into(), q.clone()));
                }
                f.push(("File".into(), file.clone()));
                f.push(("DurationMs".into(), ms.to_string()));
                push_data(&mut f, "", identity);
                push_data(&mut f, "", data);
            }
            EventKind::SurveyAnswered { call, queue, agent, answer, score } => {
                f.push(("CallId".into(), call.to_string()));
                f.push(("Queue".into(), queue.clone()));
                f.push(("Agent".into(), agent.clone()));
                f.push(("Answer".into(), answer.clone()));
                if let Some(s) = score {
                    f.push(("Score".into(), s.to_string()));
                }
            }
            EventKind::MessageDiscarded { mailbox, file, ms } => {
                f.push(("Mailbox".into(), mailbox.clone()));
                f.push(("File".into(), file.clone()));
                f.push(("DurationMs".into(), ms.to_string()));
            }
            EventKind::ScreenPop { endpoint, call, number, name, data, fields, identity } => {
                f.push(("Endpoint".into(), endpoint.clone()));
                if let Some(c) = call {
                    f.push(("CallId".into(), c.to_string()));
                }
                f.push(("CallerNumber".into(), number.clone()));
                f.push(("CallerName".into(), name.clone()));
                push_data(&mut f, "", identity);
                push_data(&mut f, "", data);
                push_data(&mut f, "Field", fields);
            }
            EventKind::MessageHeard { id, mailbox, by } | EventKind::MessageDeleted { id, mailbox, by } => {
                f.push(("MessageId".into(), id.to_string()));
                f.push(("Mailbox".into(), mailbox.clone()));
                f.push(("By".into(), by.clone()));
            }
            EventKind::AgentStateChanged { agent, from, to, contact } => {
                f.push(("Agent".into(), agent.to_string()));
                f.push(("From".into(), from.name().to_string()));
                f.push(("State".into(), to.name().to_string()));
                if let AgentState::Break(r) = to {
                    f.push(("Reason".into(), r.clone()));
                }
                if let Some(c) = contact {
                    f.push(("Contact".into(), c.to_string()));
                }
            }
            EventKind::MemberAdded { agent, queue, penalty, tier }
            | EventKind::MemberRemoved { agent, queue, penalty, tier }
            | EventKind::MemberChanged { agent, queue, penalty, tier } => {
                f.push(("Agent".into(), agent.to_string()));
                f.push(("Queue".into(), queue.to_string()));
                f.push(("Penalty".into(), penalty.to_string()));
                f.push(("Tier".into(), tier.to_string()));
            }
            EventKind::AgentReset { agent, call } => {
                f.push(("Agent".into(), agent.to_string()));
                f.push(("CallId".into(), call.to_string()));
            }
            EventKind::CommandRefused { command, agent, queue, reason } => {
                f.push(("Command".into(), command.to_string()));
                f.push(("Agent".into(), agent.clone()));
                if !queue.is_empty() {
                    f.push(("Queue".into(), queue.clone()));
                }
                f.push(("Reason".into(), reason.clone()));
            }
            EventKind::OfferWatchdog { call, agent } => {
                f.push(("CallId".into(), call.to_string()));
                f.push(("Agent".into(), agent.to_string()));
            }
            EventKind::ConfigReloaded { queues, agents } => {
                f.push(("Queues".into(), queues.to_string()));
                f.push(("Agents".into(), agents.to_string()));
            }
        }
        f
    }
}

/// Key/value pairs as event fields, each key as [`data_key`] after `prefix`.
fn push_data(f: &mut Vec<(Cow<'static, str>, String)>, prefix: &str, data: &[(String, String)]) {
    f.extend(data.iter().map(|(k, v)| (Cow::Owned(format!("{prefix}{}", data_key(k))), v.clone())));
}

/// A caller data key as an event field name: `uniqueid` -> `Uniqueid`,
/// `crm_account` -> `CrmAccount` (AMI header style).
fn data_key(k: &str) -> String {
    k.split(|c: char| c == '_' || c == '-' || c == '.')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(kind: EventKind) -> Vec<String> {
        kind.fields().into_iter().map(|(k, _)| k.into_owned()).collect()
    }

    #[test]
    fn member_reset_and_refusal_events_carry_their_fields() {
        let (agent, queue): (Arc<str>, Arc<str>) = ("1001".into(), "q".into());
        for kind in [
            EventKind::MemberAdded { agent: agent.clone(), queue: queue.clone(), penalty: 3, tier: 2 },
            EventKind::MemberRemoved { agent: agent.clone(), queue: queue.clone(), penalty: 3, tier: 2 },
            EventKind::MemberChanged { agent: agent.clone(), queue: queue.clone(), penalty: 3, tier: 2 },
        ] {
            let values: Vec<String> = kind.fields().into_iter().map(|(_, v)| v).collect();
            assert_eq!(keys(kind), ["Agent", "Queue", "Penalty", "Tier"]);
            assert_eq!(values, ["1001", "q", "3", "2"]);
        }
        assert_eq!(keys(EventKind::AgentReset { agent: agent.clone(), call: CallId(4) }), ["Agent", "CallId"]);
        assert_eq!(keys(EventKind::CallGone { call: CallId(4), queue: queue.clone(), agent: agent.clone() }), ["CallId", "Queue", "Agent"]);
        let refused = |queue: &str| EventKind::CommandRefused { command: "login", agent: "x".into(), queue: queue.into(), reason: "unknown agent".into() };
        assert_eq!(keys(refused("")), ["Command", "Agent", "Reason"]);
        assert_eq!(keys(refused("q")), ["Command", "Agent", "Queue", "Reason"]);
        let login = |contact: Option<Arc<str>>| EventKind::AgentStateChanged { agent: agent.clone(), from: AgentState::LoggedOut, to: AgentState::Available, contact };
        assert_eq!(keys(login(Some("PJSIP/2002".into()))), ["Agent", "From", "State", "Contact"]);
        assert_eq!(keys(login(None)), ["Agent", "From", "State"]);
    }
}
