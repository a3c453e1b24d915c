//! The routing engine: all queue, agent and call state, and every routing
//! decision. Sans-IO and single-threaded: [`Engine::handle`] and
//! [`Engine::advance`] take the current time; actions for the PBX and events
//! for sinks are drained afterwards.
//!
//! The invariant every input restores: no waiting caller has an eligible
//! ready agent. Callers are matched when they arrive or their options widen;
//! agents are matched when they become ready, so a decision is a seek in an
//! index, never a sweep over all callers or agents.
//!
//! One [`Engine`], its `impl` spread by concern: `matching` (who may take
//! whom, and the seeks), `callers` (entering, moving, leaving), `offers`
//! (ringing and its reports), `call_end` (the end of a talk), `agents`
//! (agent state, commands, hot desking and the ready indexes), `members`
//! (run-time membership), `stuck` (resets, gone calls, the long-call
//! query), `timers`, `config` (reload) and `invariants`.

use std::collections::HashMap;
use std::sync::Arc;

use super::agent::{Agent, AgentState, AgentView};
use super::call::{Call, CallId, CallMap, CallPhase, CallView};
use super::config::Config;
use super::event::{Event, EventKind};
use super::input::{Action, AgentId, Input};
use super::preference::PreferenceSources;
use super::queue::{Queue, QueueView, WaitKey};
use super::timer::Timers;
use super::Time;

mod agents;
mod call_end;
mod callers;
mod config;
mod invariants;
mod matching;
mod members;
mod offers;
mod stuck;
mod timers;

pub use stuck::LongCall;

use agents::AgentCommand;
use call_end::HandleTime;

/// Extra time an offer may stay unreported before the router frees its
/// agents itself.
pub const OFFER_GRACE: Time = 5_000;
/// Callbacks also ring the customer: give them longer.
pub const CALLBACK_GRACE: Time = 120_000;
/// A caller moves between queues at most this often (overflow loops).
const MAX_MOVES: u8 = 8;
/// The break reason of an agent parked after `max_no_answer` misses.
pub const NO_ANSWER_BREAK: &str = "no-answer";

/// Inputs that did not apply (late or duplicate reports), by kind.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counters {
    pub stale_inputs: u64,
    pub unknown_agent: u64,
    pub unknown_queue: u64,
    pub watchdog_fired: u64,
    pub decisions: u64,
    pub callbacks_refused: u64,
    /// Answers to offers already given up (their legs were hung up).
    pub stale_answers: u64,
    /// Offers that rang one more agent alongside (`ring_escalate_seconds`).
    pub escalations: u64,
    /// Callers sent back to the head of the line after a short talk.
    pub requeues: u64,
}

pub struct Engine {
    cfg: Arc<Config>,
    queues: Vec<Queue>,
    queue_by_name: HashMap<Arc<str>, u32>,
    agents: Vec<Agent>,
    agent_by_name: HashMap<Arc<str>, u32>,
    agents_by_device: HashMap<String, Vec<u32>>,
    calls: CallMap<Call>,
    /// Callers waiting for a preferred agent, by agent (checked lazily).
    pref_waiters: HashMap<u32, Vec<CallId>, std::hash::BuildHasherDefault<super::call::IdHasher>>,
    /// Account owners and sticky memory, for callers' preferred agents.
    prefs: PreferenceSources,
    timers: Timers,
    rng: u64,
    seq: u64,
    /// Per queue: handle-time estimate, for the announced expected wait.
    handle_time: Vec<HandleTime>,
    actions: Vec<Action>,
    events: Vec<Event>,
    pub counters: Counters,
}

impl Engine {
    pub fn new(cfg: Arc<Config>, now: Time, seed: u64) -> Engine {
        let mut e = Engine {
            cfg: Arc::new(Config::default()),
            queues: Vec::new(),
            queue_by_name: HashMap::new(),
            agents: Vec::new(),
            agent_by_name: HashMap::new(),
            agents_by_device: HashMap::new(),
            calls: CallMap::default(),
            pref_waiters: HashMap::default(),
            prefs: PreferenceSources::default(),
            timers: Timers::default(),
            rng: seed ^ 0x9E37_79B9_7F4A_7C15,
            seq: 0,
            handle_time: Vec::new(),
            actions: Vec::new(),
            events: Vec::new(),
            counters: Counters::default(),
        };
        e.apply_config(cfg, now);
        e.events.clear();
        e
    }

    pub fn config(&self) -> &Arc<Config> {
        &self.cfg
    }

    /// Apply one input at time `now`. Timers due at or before `now` fire
    /// first, so the engine never acts on a stale view of time.
    pub fn handle(&mut self, now: Time, input: Input) {
        self.advance(now);
        match input {
            Input::CallEnter { call, queue, caller } => self.call_enter(call, &queue, caller, None, now),
            Input::AgentLeg { call, agent, leg } => match self.calls.get_mut(&call) {
                Some(c) if c.ringing.contains(&agent) => c.agent_leg = leg,
                _ => self.counters.stale_inputs += 1,
            },
            Input::CallbackRestore { call, queue, caller, number } => self.call_enter(call, &queue, caller, Some(number), now),
            Input::CallbackNew { call, queue, caller, number } => self.callback_new(call, &queue, caller, number, now),
            Input::CallerHangup { call } => self.caller_hangup(call, now),
            Input::OfferResult { call, agent, outcome, seq } => self.offer_result(call, agent, outcome, seq, now),
            Input::CallEnded { call, by } => self.call_ended(call, by, now),
            Input::Transfer { call, queue } => self.transfer(call, &queue, now),
            Input::CallbackRequest { call, number } => self.callback_request(call, number, now),
            Input::AgentLogin { agent, contact } => self.agent_command(&agent, now, AgentCommand::Login(contact)),
            Input::AgentLogout { agent } => self.agent_command(&agent, now, AgentCommand::Logout),
            Input::AgentBreak { agent, reason } => self.agent_command(&agent, now, AgentCommand::Break(reason)),
            Input::AgentReady { agent } => self.agent_command(&agent, now, AgentCommand::Ready),
            Input::DeviceState { device, busy } => self.device_state(&device, busy, now),
            Input::AgentReset { agent } => self.agent_reset(&agent, now),
            Input::AddMember { agent, queue, penalty, tier } => self.add_member(&agent, &queue, penalty, tier, now),
            Input::RemoveMember { agent, queue } => self.remove_member(&agent, &queue, now),
            Input::SetPenalty { agent, queue, penalty, tier } => self.set_penalty(&agent, &queue, penalty, tier, now),
            Input::CallGone { call } => self.call_gone(call, now),
            Input::Note { call, text, by } => self.note(call, text, by, now),
            Input::Reload(cfg) => {
                self.apply_config(cfg, now);
                self.rematch_all(now);
            }
            Input::Publish(kind) => self.event(now, kind),
        }
    }

    /// Fire every timer due at or before `now`.
    pub fn advance(&mut self, now: Time) {
        while let Some((_, kind)) = self.timers.pop_due(now) {
            self.fire(kind, now);
        }
    }

    pub fn next_deadline(&self) -> Option<Time> {
        self.timers.next_deadline()
    }

    pub fn take_actions(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.actions)
    }

    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// Move pending actions and events into the caller's buffers (no
    /// allocation when they are reused).
    pub fn drain_into(&mut self, actions: &mut Vec<Action>, events: &mut Vec<Event>) {
        actions.append(&mut self.actions);
        events.append(&mut self.events);
    }

    pub fn agent_id(&self, name: &str) -> Option<AgentId> {
        self.agent_by_name.get(name).copied()
    }

    pub fn agent_state(&self, name: &str) -> Option<&AgentState> {
        self.agent_by_name.get(name).map(|&a| &self.agents[a as usize].state)
    }

    /// The engine still holds `call` (waiting, ringing or talking).
    pub fn has_call(&self, call: CallId) -> bool {
        self.calls.contains_key(&call)
    }

    pub fn active_calls(&self) -> usize {
        self.calls.len()
    }

    /// Calls with a live caller leg (callbacks waiting for an agent excluded).
    pub fn live_calls(&self) -> usize {
        self.calls.values().filter(|c| c.callback.is_none()).count()
    }

    pub fn queue_views(&self) -> Vec<QueueView> {
        self.queues
            .iter()
            .filter(|q| !q.retired || !q.waiting.is_empty())
            .map(|q| QueueView {
                name: q.name.to_string(),
                strategy: q.cfg.strategy.name(),
                waiting: q.waiting.len()
                    + self.calls.values().filter(|c| c.phase == CallPhase::Offering && self.queues[c.queue as usize].name == q.name).count(),
                members: q.members.len(),
                logged_in: q.logged_in,
                ready: q.ready.len(),
                retired: q.retired,
            })
            .collect()
    }

    pub fn agent_views(&self) -> Vec<AgentView> {
        self.agents
            .iter()
            .filter(|a| !a.retired || a.state != AgentState::LoggedOut)
            .map(|a| AgentView {
                name: a.name.to_string(),
                contact: a.contact.to_string(),
                state: a.state.clone(),
                since: a.since,
                device_busy: a.device_busy,
                calls: a.calls,
                talk_ms: a.talk_ms,
                misses: a.misses,
                queues: a.members.iter().map(|m| self.queues[m.queue as usize].name.to_string()).collect(),
            })
            .collect()
    }

    pub fn call_views(&self, now: Time) -> Vec<CallView> {
        let mut v: Vec<_> = self
            .calls
            .values()
            .map(|c| CallView {
                id: c.id,
                queue: self.queues[c.queue as usize].name.to_string(),
                number: c.caller.number.clone(),
                priority: c.caller.priority,
                phase: c.phase,
                waited: now.saturating_sub(c.entered),
                agent: c.agent.map(|a| self.agents[a as usize].name.to_string()),
                callback: c.callback.is_some(),
            })
            .collect();
        v.sort_by_key(|c| c.id);
        v
    }

    /// Position (1-based) of a waiting call in its queue.
    pub fn position(&self, call: CallId) -> Option<usize> {
        let c = self.calls.get(&call)?;
        let q = &self.queues[c.queue as usize];
        q.position_of(&wait_key(c))
    }

    fn event(&mut self, time: Time, kind: EventKind) {
        self.events.push(Event { time, kind });
    }

    /// A command that cannot apply, said in an event: commands are sent
    /// without waiting for an answer, so this is how their sender learns.
    fn refuse(&mut self, now: Time, command: &'static str, agent: &str, queue: &str, reason: impl Into<String>) {
        let (agent, queue, reason) = (agent.to_string(), queue.to_string(), reason.into());
        self.event(now, EventKind::CommandRefused { command, agent, queue, reason });
    }

    fn next_random(&mut self) -> u64 {
        // splitmix64
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn wait_key(c: &Call) -> WaitKey {
    WaitKey { neg_rank: -c.rank, seq: c.seq }
}
