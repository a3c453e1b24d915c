//! The routing engine: all queue, agent and call state, and every routing
//! decision. Sans-IO and single-threaded: [`Engine::handle`] and
//! [`Engine::advance`] take the current time; actions for the PBX and events
//! for sinks are drained afterwards.
//!
//! The invariant every input restores: no waiting caller has an eligible
//! ready agent. Callers are matched when they arrive or their options widen;
//! agents are matched when they become ready, so a decision is a seek in an
//! index, never a sweep over all callers or agents.

use std::collections::HashMap;
use std::sync::Arc;

use super::agent::{Agent, AgentState, AgentView, Member};
use super::call::{needs_of, Call, CallId, CallMap, CallPhase, CallView, CallerInfo, Needs};
use super::config::{AreaTarget, Config, InitialState};
use super::event::{Event, EventKind, MoveReason};
use super::index::ReadyKey;
use super::input::{Action, AgentId, EndedBy, ExitReason, Input, OfferOutcome, OfferTarget};
use super::queue::{Queue, QueueView, WaitKey};
use super::strategy::{KeyFacts, Strategy};
use super::timer::{TimerKind, Timers};
use super::Time;

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
    pub watchdog_fired: u64,
    pub decisions: u64,
    pub callbacks_refused: u64,
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
    /// caller number -> (agent, when the call ended): sticky routing.
    last_agent: HashMap<String, (u32, Time)>,
    owners: HashMap<String, u32>,
    timers: Timers,
    rng: u64,
    seq: u64,
    /// Per queue: moving average handle time (ms), for expected-wait.
    aht: Vec<Option<f64>>,
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
            last_agent: HashMap::new(),
            owners: HashMap::new(),
            timers: Timers::default(),
            rng: seed ^ 0x9E37_79B9_7F4A_7C15,
            seq: 0,
            aht: Vec::new(),
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
            Input::CallbackRestore { call, queue, caller, number } => self.call_enter(call, &queue, caller, Some(number), now),
            Input::CallerHangup { call } => self.caller_hangup(call, now),
            Input::OfferResult { call, agent, outcome } => self.offer_result(call, agent, outcome, now),
            Input::CallEnded { call, by } => self.call_ended(call, by, now),
            Input::Transfer { call, queue } => self.transfer(call, &queue, now),
            Input::CallbackRequest { call, number } => self.callback_request(call, number, now),
            Input::AgentLogin { agent } => self.agent_command(&agent, now, AgentCommand::Login),
            Input::AgentLogout { agent } => self.agent_command(&agent, now, AgentCommand::Logout),
            Input::AgentBreak { agent, reason } => self.agent_command(&agent, now, AgentCommand::Break(reason)),
            Input::AgentReady { agent } => self.agent_command(&agent, now, AgentCommand::Ready),
            Input::DeviceState { device, busy } => self.device_state(&device, busy, now),
            Input::Reload(cfg) => {
                self.apply_config(cfg, now);
                self.rematch_all(now);
            }
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

    // -----------------------------------------------------------------------
    // Configuration

    fn apply_config(&mut self, cfg: Arc<Config>, now: Time) {
        for q in &mut self.queues {
            q.retired = true;
            q.members.clear();
            q.ready.clear();
            q.skill_ready.clear();
        }
        for qc in &cfg.queues {
            let ix = match self.queue_by_name.get(qc.name.as_str()) {
                Some(&ix) => ix,
                None => {
                    let name: Arc<str> = Arc::from(qc.name.as_str());
                    self.queues.push(Queue {
                        name: name.clone(),
                        music_class: Arc::from(qc.music_class.as_str()),
                        cfg: qc.clone(),
                        ready: Default::default(),
                        waiting: Default::default(),
                        lines: Vec::new(),
                        skill_ready: Default::default(),
                        rr_cursor: None,
                        members: Vec::new(),
                        logged_in: 0,
                        retired: false,
                    });
                    self.aht.push(None);
                    self.queue_by_name.insert(name, (self.queues.len() - 1) as u32);
                    (self.queues.len() - 1) as u32
                }
            };
            let q = &mut self.queues[ix as usize];
            q.cfg = qc.clone();
            q.music_class = Arc::from(qc.music_class.as_str());
            q.retired = false;
        }
        for a in &mut self.agents {
            a.retired = true;
        }
        for ac in &cfg.agents {
            let ix = match self.agent_by_name.get(ac.name.as_str()) {
                Some(&ix) => ix,
                None => {
                    let name: Arc<str> = Arc::from(ac.name.as_str());
                    let state = match ac.initial {
                        InitialState::Available => AgentState::Available,
                        InitialState::LoggedOut => AgentState::LoggedOut,
                    };
                    self.agents.push(Agent {
                        name: name.clone(),
                        contact: Arc::from(ac.contact.as_str()),
                        cfg: Arc::new(ac.clone()),
                        members: Vec::new(),
                        state,
                        since: now,
                        idle_since: now,
                        calls: 0,
                        talk_ms: 0,
                        misses: 0,
                        device_busy: false,
                        retired: false,
                        after_call: None,
                        filed: Vec::new(),
                    });
                    self.agent_by_name.insert(name, (self.agents.len() - 1) as u32);
                    (self.agents.len() - 1) as u32
                }
            };
            let a = &mut self.agents[ix as usize];
            a.cfg = Arc::new(ac.clone());
            a.contact = Arc::from(ac.contact.as_str());
            a.retired = false;
            a.members.clear();
            for m in &ac.members {
                if let Some(&q) = self.queue_by_name.get(m.queue.as_str()) {
                    let queue = &mut self.queues[q as usize];
                    a.members.push(Member { queue: q, tier: m.tier, penalty: m.penalty, position: queue.members.len() as u32 });
                    queue.members.push(ix);
                }
            }
        }
        // Agents removed from the configuration leave now if idle, else
        // after their call.
        for ix in 0..self.agents.len() {
            let a = &mut self.agents[ix];
            if a.retired {
                a.members.clear();
                match a.state {
                    AgentState::Ringing(_) | AgentState::OnCall(_) => a.after_call = Some(AgentState::LoggedOut),
                    AgentState::LoggedOut => {}
                    _ => {
                        self.set_state(ix as u32, AgentState::LoggedOut, now);
                    }
                }
            }
            self.agents[ix].filed.clear();
        }
        self.agents_by_device.clear();
        for (ix, a) in self.agents.iter().enumerate() {
            if !a.retired {
                self.agents_by_device.entry(a.cfg.device.clone()).or_default().push(ix as u32);
            }
        }
        self.owners = cfg
            .owners
            .iter()
            .filter_map(|(num, agent)| self.agent_by_name.get(agent.as_str()).map(|&a| (num.clone(), a)))
            .collect();
        for q in 0..self.queues.len() {
            let logged_in = self.queues[q].members.iter().filter(|&&a| self.agents[a as usize].state.is_logged_in()).count();
            self.queues[q].logged_in = logged_in;
            self.queues[q].rr_cursor = None;
        }
        for a in 0..self.agents.len() as u32 {
            self.file(a);
        }
        self.event(
            now,
            EventKind::ConfigReloaded {
                queues: self.queues.iter().filter(|q| !q.retired).count(),
                agents: self.agents.iter().filter(|a| !a.retired).count(),
            },
        );
        self.cfg = cfg;
    }

    fn rematch_all(&mut self, now: Time) {
        let mut waiting: Vec<(WaitKey, CallId)> =
            self.queues.iter().flat_map(|q| q.waiting.iter().map(|(k, c)| (*k, *c))).collect();
        waiting.sort();
        for (_, c) in waiting {
            self.try_match_call(c, now);
        }
        for q in 0..self.queues.len() {
            if self.queues[q].retired {
                // Removed from the configuration: nobody will serve its line.
                let ids: Vec<CallId> = self.queues[q].waiting.values().copied().collect();
                for id in ids {
                    self.exit_call(id, ExitReason::LeaveEmpty, now);
                }
            } else {
                self.check_empty(q as u32, now);
            }
        }
    }

    // -----------------------------------------------------------------------
    // Agent state and the ready index

    fn set_state(&mut self, a: u32, to: AgentState, now: Time) {
        let agent = &mut self.agents[a as usize];
        if agent.state == to {
            return;
        }
        let from = std::mem::replace(&mut agent.state, to.clone());
        agent.since = now;
        let was_in = from.is_logged_in();
        let is_in = to.is_logged_in();
        if was_in != is_in {
            for m in &self.agents[a as usize].members {
                let q = &mut self.queues[m.queue as usize];
                if is_in {
                    q.logged_in += 1;
                } else {
                    q.logged_in = q.logged_in.saturating_sub(1);
                }
            }
        }
        let name = self.agents[a as usize].name.clone();
        self.event(now, EventKind::AgentStateChanged { agent: name, from, to });
        self.refile(a);
    }

    fn unfile(&mut self, a: u32) {
        let mut filed = std::mem::take(&mut self.agents[a as usize].filed);
        for (q, skill, key) in filed.drain(..) {
            let queue = &mut self.queues[q as usize];
            match skill {
                None => queue.ready.remove(&key),
                Some(s) => queue.skill_ready.get_mut(&s).is_some_and(|ix| ix.remove(&key)),
            };
        }
        self.agents[a as usize].filed = filed;
    }

    fn file(&mut self, a: u32) {
        if !self.agents[a as usize].is_ready() {
            return;
        }
        let random = self.next_random();
        let mut filed = std::mem::take(&mut self.agents[a as usize].filed);
        let agent = &self.agents[a as usize];
        for m in &agent.members {
            let q = &mut self.queues[m.queue as usize];
            if q.retired {
                continue;
            }
            let proficiency = q.cfg.skill.as_deref().map(|s| agent.proficiency(s)).unwrap_or(0);
            let facts = KeyFacts {
                position: m.position,
                idle_since: agent.idle_since,
                calls: agent.calls,
                talk_ms: agent.talk_ms,
                proficiency,
                random,
            };
            let (primary, secondary) = q.cfg.strategy.key(&facts);
            // Round-robin and random seek by primary key inside a tier, so
            // they file penalty 0 and check the caller's limit on the way.
            let penalty = if matches!(q.cfg.strategy, Strategy::RoundRobin | Strategy::Random) { 0 } else { m.penalty };
            let key = ReadyKey { tier: m.tier, penalty, primary, secondary, agent: a };
            q.ready.insert(key);
            filed.push((m.queue, None, key));
            for (skill, ix) in q.skill_ready.iter_mut() {
                if agent.proficiency(skill) > 0 {
                    ix.insert(key);
                    filed.push((m.queue, Some(skill.clone()), key));
                }
            }
        }
        self.agents[a as usize].filed = filed;
    }

    /// Build queue `q`'s index of ready agents with `skill` (first use).
    fn ensure_skill_index(&mut self, q: u32, skill: &Arc<str>) {
        if self.queues[q as usize].skill_ready.contains_key(skill) {
            return;
        }
        let mut ix = super::index::ReadyIndex::default();
        let keys: Vec<ReadyKey> = self.queues[q as usize].ready.iter().copied().collect();
        for key in keys {
            let agent = &mut self.agents[key.agent as usize];
            if agent.proficiency(skill) > 0 {
                ix.insert(key);
                agent.filed.push((q, Some(skill.clone()), key));
            }
        }
        self.queues[q as usize].skill_ready.insert(skill.clone(), ix);
    }

    fn refile(&mut self, a: u32) {
        self.unfile(a);
        self.file(a);
    }

    fn next_random(&mut self) -> u64 {
        // splitmix64
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    // -----------------------------------------------------------------------
    // Matching

    /// May agent `a` take call `c` now (ignoring whether `a` is ready)?
    fn eligible(&self, c: &Call, a: u32, now: Time) -> bool {
        let agent = &self.agents[a as usize];
        let Some(m) = agent.member(c.queue) else { return false };
        m.tier <= c.max_tier && m.penalty <= c.max_penalty && self.eligible_extra(c, a, now, true)
    }

    /// Caller-specific checks beyond tier and penalty.
    fn eligible_extra(&self, c: &Call, a: u32, now: Time, check_preferred: bool) -> bool {
        if check_preferred && !c.preferred.is_empty() && now < c.prefer_until && !c.preferred.contains(&a) {
            return false;
        }
        if c.excluded.iter().any(|&(x, until)| x == a && until > now) {
            return false;
        }
        c.needs.is_empty() || self.agents[a as usize].meets(&c.needs)
    }

    /// The agents to ring for a waiting call, best first (empty: none).
    fn find_agents(&self, c: &Call, now: Time, dice: u64) -> Vec<u32> {
        let q = &self.queues[c.queue as usize];
        if !c.preferred.is_empty() && now < c.prefer_until {
            // A handful of preferred agents: rank them by their filed keys.
            let mut best: Option<(ReadyKey, u32)> = None;
            for &a in &c.preferred {
                let agent = &self.agents[a as usize];
                if !agent.is_ready() || !self.eligible(c, a, now) {
                    continue;
                }
                if let Some((_, _, key)) = agent.filed.iter().find(|(qq, s, _)| *qq == c.queue && s.is_none()) {
                    if best.is_none_or(|(k, _)| *key < k) {
                        best = Some((*key, a));
                    }
                }
            }
            return best.map(|(_, a)| vec![a]).unwrap_or_default();
        }
        let accept = |a: u32| self.eligible_extra(c, a, now, false);
        // A caller with needs looks in the smallest index of agents having
        // one of its skills (built by try_match_call), else the main one.
        let index = c
            .needs
            .iter()
            .filter_map(|(s, _)| q.skill_ready.get(s))
            .min_by_key(|ix| ix.len())
            .unwrap_or(&q.ready);
        match q.cfg.strategy {
            Strategy::RingAll => index.all(c.max_tier, c.max_penalty, accept),
            Strategy::RoundRobin | Strategy::Random => {
                // Random: the first key at or after a random point on the
                // circle of random keys; round-robin: after the cursor.
                let after = if q.cfg.strategy == Strategy::Random { Some(dice) } else { q.rr_cursor };
                let queue = c.queue;
                index
                    .next_after(c.max_tier, after, |a| {
                        self.agents[a as usize].member(queue).is_some_and(|m| m.penalty <= c.max_penalty) && accept(a)
                    })
                    .into_iter()
                    .collect()
            }
            _ => index.best(c.max_tier, c.max_penalty, accept).into_iter().collect(),
        }
    }

    fn try_match_call(&mut self, id: CallId, now: Time) -> bool {
        let Some(c) = self.calls.get(&id) else { return false };
        if c.phase != CallPhase::Waiting {
            return false;
        }
        if !c.needs.is_empty() {
            let (q, needs) = (c.queue, c.needs.clone());
            for (skill, _) in needs.iter() {
                self.ensure_skill_index(q, skill);
            }
        }
        let Some(c) = self.calls.get(&id) else { return false };
        let dice = if self.queues[c.queue as usize].cfg.strategy == Strategy::Random { self.next_random() } else { 0 };
        let Some(c) = self.calls.get(&id) else { return false };
        let targets = self.find_agents(c, now, dice);
        if targets.is_empty() {
            return false;
        }
        self.offer(id, targets, now);
        true
    }

    /// Find the call a newly ready agent should take, and offer it.
    fn try_match_agent(&mut self, a: u32, now: Time) -> bool {
        if !self.agents[a as usize].is_ready() {
            return false;
        }
        let mut best: Option<(WaitKey, CallId)> = None;
        // Callers waiting for this agent in particular come first.
        if let Some(list) = self.pref_waiters.get(&a).filter(|_| !self.pref_waiters.is_empty()) {
            let mut keep = Vec::with_capacity(list.len());
            for &id in list {
                let Some(c) = self.calls.get(&id) else { continue };
                if c.prefer_until <= now || !c.preferred.contains(&a) {
                    continue;
                }
                keep.push(id);
                if c.phase == CallPhase::Waiting && self.eligible(c, a, now) {
                    let k = wait_key(c);
                    if best.is_none_or(|(b, _)| k < b) {
                        best = Some((k, id));
                    }
                }
            }
            if keep.is_empty() {
                self.pref_waiters.remove(&a);
            } else if let Some(l) = self.pref_waiters.get_mut(&a) {
                *l = keep;
            }
        }
        if best.is_none() {
            let agent = &self.agents[a as usize];
            for m in &agent.members {
                let q = &self.queues[m.queue as usize];
                // Only the lines whose needs this agent meets, head first.
                for (needs, line) in q.lines.iter() {
                    if !agent.meets(needs) {
                        continue;
                    }
                    for (k, id) in line {
                        if best.is_some_and(|(b, _)| *k >= b) {
                            break;
                        }
                        if let Some(c) = self.calls.get(id) {
                            if self.eligible(c, a, now) {
                                best = Some((*k, *id));
                                break;
                            }
                        }
                    }
                }
            }
        }
        match best {
            Some((_, id)) => {
                self.offer(id, vec![a], now);
                true
            }
            None => false,
        }
    }

    fn offer(&mut self, id: CallId, mut targets: Vec<u32>, now: Time) {
        self.counters.decisions += 1;
        let Some(c) = self.calls.get_mut(&id) else { return };
        if c.callback.is_some() {
            // A callback rings one agent, even in a ring-all queue: the
            // customer is called from that agent's phone.
            targets.truncate(1);
        }
        let key = wait_key(c);
        c.phase = CallPhase::Offering;
        c.ringing.clear();
        c.ringing.extend_from_slice(&targets);
        c.offer_seq = c.offer_seq.wrapping_add(1);
        let seq = c.offer_seq;
        let qix = c.queue;
        let callback = c.callback.clone();
        let needs = c.needs.clone();
        self.queues[qix as usize].line_remove(&key, &needs);
        let q = &mut self.queues[qix as usize];
        if q.cfg.strategy == Strategy::RoundRobin {
            if let Some(m) = self.agents[targets[0] as usize].member(qix) {
                q.rr_cursor = Some(m.position as u64);
            }
        }
        let timeout = q.cfg.ring_timeout;
        let qname = q.name.clone();
        let mut out = Vec::with_capacity(targets.len());
        for &a in &targets {
            self.set_state(a, AgentState::Ringing(id), now);
            let agent = &self.agents[a as usize];
            out.push(OfferTarget { agent: a, name: agent.name.clone(), contact: agent.contact.clone() });
            let name = agent.name.clone();
            self.event(now, EventKind::CallOffered { call: id, queue: qname.clone(), agent: name });
        }
        match callback {
            Some(number) => {
                // `offer` rang only the first target for a callback.
                let target = out.swap_remove(0);
                self.actions.push(Action::Callback { call: id, queue: qname.clone(), number, target, timeout });
                self.timers.arm(now + timeout + CALLBACK_GRACE, TimerKind::OfferWatchdog { call: id, seq });
            }
            None => {
                self.actions.push(Action::Offer { call: id, targets: out, timeout });
                self.timers.arm(now + timeout + OFFER_GRACE, TimerKind::OfferWatchdog { call: id, seq });
            }
        }
    }

    // -----------------------------------------------------------------------
    // Callers

    /// A caller joins `queue`; `callback`: a callback kept across a restart,
    /// back in line (in the order restored) to be called at that number.
    fn call_enter(&mut self, id: CallId, queue: &str, caller: CallerInfo, callback: Option<String>, now: Time) {
        if self.calls.contains_key(&id) {
            self.actions.push(Action::Exit { call: id, reason: ExitReason::Duplicate });
            return;
        }
        let Some(&q) = self.queue_by_name.get(queue).filter(|&&q| !self.queues[q as usize].retired) else {
            self.actions.push(Action::Exit { call: id, reason: ExitReason::UnknownQueue });
            return;
        };
        self.seq += 1;
        let call = Call {
            id,
            caller,
            queue: q,
            seq: self.seq,
            rank: 0,
            entered: now,
            queue_entered: now,
            epoch: 0,
            phase: CallPhase::Waiting,
            max_tier: u8::MAX,
            max_penalty: u32::MAX,
            skills_dropped: false,
            needs: Needs::from(Vec::new()),
            preferred: Vec::new(),
            prefer_until: 0,
            excluded: Vec::new(),
            callback,
            ringing: Vec::new(),
            offer_seq: 0,
            agent: None,
            answered_at: 0,
            expired: false,
            moves: 0,
        };
        self.calls.insert(id, call);
        let qcfg = &self.queues[q as usize].cfg;
        let empty = self.queues[q as usize].logged_in == 0;
        let reject = if empty && !qcfg.join_when_empty {
            Some(ExitReason::JoinEmpty)
        } else if qcfg.max_callers.is_some_and(|m| self.queues[q as usize].waiting.len() >= m) {
            Some(ExitReason::Full)
        } else {
            None
        };
        if let Some(reason) = reject {
            self.calls.remove(&id);
            let qname = self.queues[q as usize].name.clone();
            self.event(now, EventKind::CallExited { call: id, queue: qname, wait: 0, reason });
            self.actions.push(Action::Exit { call: id, reason });
            return;
        }
        if let Some(max) = qcfg.max_wait {
            self.timers.arm(now + max, TimerKind::MaxWait { call: id });
        }
        self.enter_queue(id, q, now);
        let position = self.position(id).unwrap_or(0);
        let c = &self.calls[&id];
        let ev = EventKind::CallEntered {
            call: id,
            queue: self.queues[q as usize].name.clone(),
            number: c.caller.number.clone(),
            priority: c.caller.priority,
            position,
            data: c.caller.data.clone(),
        };
        self.event(now, ev);
        if self.redirect_on_entry(id, now) {
            return;
        }
        if self.queues[q as usize].cfg.leave_when_empty && empty {
            self.exit_call(id, ExitReason::LeaveEmpty, now);
            return;
        }
        self.try_match_call(id, now);
    }

    /// Area routing to another queue and overflow rules that apply on entry.
    /// True if the call moved (and has been matched in its new queue).
    fn redirect_on_entry(&mut self, id: CallId, now: Time) -> bool {
        let c = &self.calls[&id];
        let q = &self.queues[c.queue as usize];
        for area in &q.cfg.areas {
            if let AreaTarget::Queue(to) = &area.target {
                if c.caller.number.starts_with(&area.prefix) {
                    if let Some(&to) = self.queue_by_name.get(to.as_str()) {
                        self.move_call(id, to, MoveReason::Area, now);
                        return true;
                    }
                }
            }
        }
        self.redirect_on_entry_overflow_only(id, now)
    }

    fn overflow_applies(&self, q: u32, rule: usize) -> bool {
        let queue = &self.queues[q as usize];
        let Some(r) = queue.cfg.overflow.get(rule) else { return false };
        let Some(&to) = self.queue_by_name.get(r.to.as_str()) else { return false };
        let target = &self.queues[to as usize];
        if target.retired {
            return false;
        }
        // Waiting count excludes the caller itself.
        let waiting = queue.waiting.len().saturating_sub(1);
        r.waiting_over.is_none_or(|n| waiting > n)
            && r.target_idle_at_least.is_none_or(|n| target.ready.len() >= n)
            && (!r.no_agents || queue.logged_in == 0)
    }

    /// Put a call (already in `calls`) into queue `q`: rules over time start
    /// again, the place in line (arrival order) is kept.
    fn enter_queue(&mut self, id: CallId, q: u32, now: Time) {
        let queue = &self.queues[q as usize];
        let cfg = &queue.cfg;
        let Some(c) = self.calls.get_mut(&id) else { return };
        c.queue = q;
        c.queue_entered = now;
        c.epoch = c.epoch.wrapping_add(1);
        c.rank = c.caller.priority as i64 + cfg.weight as i64;
        c.max_tier = cfg.max_tier;
        c.max_penalty = cfg.max_penalty;
        c.skills_dropped = false;
        c.needs = needs_of(&c.caller.skills);
        c.preferred.clear();
        // Exclusions (agents that just failed this caller) survive a move.
        c.phase = CallPhase::Waiting;
        let epoch = c.epoch;
        // Preferred agents: owner, then the last agent (sticky), then the
        // caller's area group.
        let number = c.caller.number.as_str();
        let mut preferred = Vec::new();
        if cfg.use_owners {
            if let Some(&a) = self.owners.get(number) {
                preferred.push(a);
            }
        }
        if preferred.is_empty() {
            if let Some(window) = cfg.sticky {
                if let Some(&(a, at)) = self.last_agent.get(number) {
                    if now.saturating_sub(at) <= window {
                        preferred.push(a);
                    }
                }
            }
        }
        if preferred.is_empty() && !cfg.areas.is_empty() {
            for area in &cfg.areas {
                if let AreaTarget::Agents(list) = &area.target {
                    if number.starts_with(&area.prefix) {
                        preferred.extend(list.iter().filter_map(|n| self.agent_by_name.get(n.as_str()).copied()));
                        break;
                    }
                }
            }
        }
        preferred.retain(|&a| self.agents[a as usize].member(q).is_some());
        let prefer_wait = cfg.prefer_wait;
        let (n_widen, n_overflow) = (cfg.widen.len(), cfg.overflow.len());
        let announce = cfg.announce_every;
        let c = self.calls.get_mut(&id).expect("call present");
        if !preferred.is_empty() {
            c.preferred = preferred.clone();
            c.prefer_until = now + prefer_wait;
            self.timers.arm(now + prefer_wait, TimerKind::Recheck { call: id });
            for a in preferred {
                self.pref_waiters.entry(a).or_default().push(id);
            }
        }
        let key = wait_key(c);
        let needs = c.needs.clone();
        self.queues[q as usize].line_insert(key, id, &needs);
        for step in 0..n_widen {
            let after = self.queues[q as usize].cfg.widen[step].after;
            if after == 0 {
                self.apply_widen(id, step, now);
            } else {
                self.timers.arm(now + after, TimerKind::Widen { call: id, epoch, step: step as u16 });
            }
        }
        for rule in 0..n_overflow {
            let after = self.queues[q as usize].cfg.overflow[rule].after;
            if after > 0 {
                self.timers.arm(now + after, TimerKind::Overflow { call: id, epoch, rule: rule as u16 });
            }
        }
        if let Some(every) = announce {
            self.timers.arm(now + every, TimerKind::Announce { call: id, epoch });
        }
    }

    fn apply_widen(&mut self, id: CallId, step: usize, _now: Time) {
        let Some(c) = self.calls.get_mut(&id) else { return };
        let Some(w) = self.queues[c.queue as usize].cfg.widen.get(step) else { return };
        if let Some(t) = w.max_tier {
            c.max_tier = t;
        }
        if let Some(p) = w.max_penalty {
            c.max_penalty = p;
        }
        if w.drop_skills && !c.skills_dropped {
            c.skills_dropped = true;
            let old = std::mem::replace(&mut c.needs, Needs::from(Vec::new()));
            if c.phase == CallPhase::Waiting {
                let (key, q, needs) = (wait_key(c), c.queue, c.needs.clone());
                let queue = &mut self.queues[q as usize];
                queue.line_remove(&key, &old);
                queue.line_insert(key, id, &needs);
            }
        }
    }

    fn move_call(&mut self, id: CallId, to: u32, reason: MoveReason, now: Time) {
        let Some(c) = self.calls.get_mut(&id) else { return };
        if c.moves >= MAX_MOVES || c.queue == to {
            return;
        }
        c.moves += 1;
        let from = c.queue;
        let key = wait_key(c);
        let is_callback = c.callback.is_some();
        let needs = c.needs.clone();
        self.queues[from as usize].line_remove(&key, &needs);
        self.enter_queue(id, to, now);
        let (fname, tname, music) = {
            let f = &self.queues[from as usize];
            let t = &self.queues[to as usize];
            (f.name.clone(), t.name.clone(), t.music_class.clone())
        };
        self.event(now, EventKind::CallMoved { call: id, from: fname, to: tname.clone(), reason });
        if !is_callback {
            self.actions.push(Action::Moved { call: id, queue: tname, music_class: music });
        }
        if !self.redirect_on_entry_overflow_only(id, now) {
            self.try_match_call(id, now);
        }
    }

    /// After a move, entry overflow rules of the new queue still apply (area
    /// rules do not: the caller already was routed by area).
    fn redirect_on_entry_overflow_only(&mut self, id: CallId, now: Time) -> bool {
        let c = &self.calls[&id];
        let q = &self.queues[c.queue as usize];
        for (i, rule) in q.cfg.overflow.iter().enumerate() {
            if rule.after == 0 && self.overflow_applies(c.queue, i) {
                if let Some(&to) = self.queue_by_name.get(rule.to.as_str()) {
                    self.move_call(id, to, MoveReason::Overflow, now);
                    return true;
                }
            }
        }
        false
    }

    fn exit_call(&mut self, id: CallId, reason: ExitReason, now: Time) {
        let Some(c) = self.calls.remove(&id) else { return };
        let key = wait_key(&c);
        let q = &mut self.queues[c.queue as usize];
        q.line_remove(&key, &c.needs);
        let qname = q.name.clone();
        self.event(now, EventKind::CallExited { call: id, queue: qname, wait: now.saturating_sub(c.entered), reason });
        if c.callback.is_none() {
            self.actions.push(Action::Exit { call: id, reason });
        }
    }

    fn caller_hangup(&mut self, id: CallId, now: Time) {
        let Some(c) = self.calls.get(&id) else {
            self.counters.stale_inputs += 1;
            return;
        };
        match c.phase {
            CallPhase::Talking => return self.call_ended(id, EndedBy::Caller, now),
            CallPhase::Waiting | CallPhase::Offering => {}
        }
        let position = self.position(id).unwrap_or(1);
        let c = self.calls.remove(&id).expect("call present");
        let key = wait_key(&c);
        let q = &mut self.queues[c.queue as usize];
        q.line_remove(&key, &c.needs);
        let qname = q.name.clone();
        self.event(now, EventKind::CallAbandoned { call: id, queue: qname.clone(), wait: now.saturating_sub(c.entered), position });
        // The PBX side hung up the agent legs before reporting.
        for a in c.ringing {
            if self.agents[a as usize].state == AgentState::Ringing(id) {
                let name = self.agents[a as usize].name.clone();
                self.event(now, EventKind::OfferFailed { call: id, queue: qname.clone(), agent: name, outcome: OfferOutcome::Cancelled });
                self.free_agent(a, now);
                self.try_match_agent(a, now);
            }
        }
    }

    /// An agent whose offer ended without a call: back to available, or to
    /// the state asked for during the offer.
    fn free_agent(&mut self, a: u32, now: Time) {
        let next = self.agents[a as usize].after_call.take().unwrap_or(AgentState::Available);
        self.set_state(a, next, now);
    }

    fn offer_result(&mut self, id: CallId, a: AgentId, outcome: OfferOutcome, now: Time) {
        if a as usize >= self.agents.len() {
            self.counters.unknown_agent += 1;
            return;
        }
        if self.agents[a as usize].state != AgentState::Ringing(id) {
            self.counters.stale_inputs += 1;
            return;
        }
        let Some(c) = self.calls.get_mut(&id) else {
            // Ringing for a call we no longer know: free the agent.
            self.counters.stale_inputs += 1;
            self.free_agent(a, now);
            self.try_match_agent(a, now);
            return;
        };
        if c.phase != CallPhase::Offering || !c.ringing.contains(&a) {
            self.counters.stale_inputs += 1;
            self.free_agent(a, now);
            self.try_match_agent(a, now);
            return;
        }
        c.ringing.retain(|&x| x != a);
        let qix = c.queue;
        let qname = self.queues[qix as usize].name.clone();
        let aname = self.agents[a as usize].name.clone();
        if outcome == OfferOutcome::Answered {
            let c = self.calls.get_mut(&id).expect("call present");
            c.phase = CallPhase::Talking;
            c.agent = Some(a);
            c.answered_at = now;
            let others = std::mem::take(&mut c.ringing);
            let wait = now.saturating_sub(c.entered);
            let agent = &mut self.agents[a as usize];
            agent.misses = 0;
            self.set_state(a, AgentState::OnCall(id), now);
            self.event(now, EventKind::CallAnswered { call: id, queue: qname.clone(), agent: aname, wait });
            for o in others {
                let oname = self.agents[o as usize].name.clone();
                self.event(now, EventKind::OfferFailed { call: id, queue: qname.clone(), agent: oname, outcome: OfferOutcome::Cancelled });
                self.free_agent(o, now);
                self.try_match_agent(o, now);
            }
            return;
        }
        // The offer to this agent failed.
        self.event(now, EventKind::OfferFailed { call: id, queue: qname, agent: aname, outcome });
        let qcfg = &self.queues[qix as usize].cfg;
        let retry_exclude = qcfg.retry_exclude;
        let agent = &mut self.agents[a as usize];
        let max_misses = agent.cfg.max_no_answer.unwrap_or(qcfg.max_no_answer);
        // A busy or unreachable phone is not a missing agent unless the
        // queue says so (app_queue's autopausebusy / autopauseunavail).
        let counts = match outcome {
            OfferOutcome::NoAnswer | OfferOutcome::Rejected => true,
            OfferOutcome::Busy => qcfg.autopause_busy,
            OfferOutcome::Unavailable => qcfg.autopause_unavailable,
            OfferOutcome::Answered | OfferOutcome::Cancelled => false,
        };
        let break_for = qcfg.no_answer_break;
        if counts {
            agent.misses += 1;
        }
        if counts && max_misses > 0 && agent.misses >= max_misses {
            agent.after_call = None;
            self.set_state(a, AgentState::Break(NO_ANSWER_BREAK.into()), now);
            if let Some(d) = break_for {
                self.timers.arm(now + d, TimerKind::NoAnswerBreakEnd { agent: a, since: now });
            }
        } else {
            self.free_agent(a, now);
        }
        let c = self.calls.get_mut(&id).expect("call present");
        if outcome.is_miss() && retry_exclude > 0 {
            c.excluded.retain(|&(_, until)| until > now);
            c.excluded.push((a, now + retry_exclude));
            self.timers.arm(now + retry_exclude, TimerKind::Recheck { call: id });
        }
        if c.ringing.is_empty() {
            if c.expired {
                self.exit_call(id, ExitReason::Timeout, now);
            } else {
                c.phase = CallPhase::Waiting;
                let key = wait_key(c);
                let q = c.queue;
                let needs = c.needs.clone();
                self.queues[q as usize].line_insert(key, id, &needs);
                self.try_match_call(id, now);
            }
        }
        self.try_match_agent(a, now);
    }

    fn call_ended(&mut self, id: CallId, by: EndedBy, now: Time) {
        let Some(c) = self.calls.get(&id) else {
            self.counters.stale_inputs += 1;
            return;
        };
        if c.phase != CallPhase::Talking {
            // Ended before an agent answered: the caller gave up.
            return self.caller_hangup(id, now);
        }
        let c = self.calls.remove(&id).expect("call present");
        let Some(a) = c.agent else { return };
        let talk = now.saturating_sub(c.answered_at);
        let qix = c.queue as usize;
        let queue_wrapup = self.queues[qix].cfg.wrapup;
        let sticky = self.queues[qix].cfg.sticky.is_some();
        let agent = &mut self.agents[a as usize];
        agent.calls += 1;
        agent.talk_ms += talk;
        agent.idle_since = now;
        let wrapup = agent.cfg.wrapup.unwrap_or(queue_wrapup);
        let after = agent.after_call.take();
        let name = agent.name.clone();
        if sticky && !c.caller.number.is_empty() {
            self.remember_agent(c.caller.number.clone(), a, now);
        }
        let handle = (talk + wrapup) as f64;
        let aht = &mut self.aht[qix];
        *aht = Some(match *aht {
            Some(v) => v * 0.9 + handle * 0.1,
            None => handle,
        });
        let qname = self.queues[qix].name.clone();
        let wrapup_used = if after.is_some() { 0 } else { wrapup };
        self.event(now, EventKind::CallEnded { call: id, queue: qname, agent: name, talk, wrapup: wrapup_used, by });
        match after {
            Some(state) => self.set_state(a, state, now),
            None if wrapup > 0 => {
                let until = now + wrapup;
                self.set_state(a, AgentState::WrapUp { until }, now);
                self.timers.arm(until, TimerKind::WrapUpEnd { agent: a, until });
            }
            None => self.set_state(a, AgentState::Available, now),
        }
        self.try_match_agent(a, now);
    }

    fn remember_agent(&mut self, number: String, a: u32, now: Time) {
        if self.last_agent.len() >= 1024 && self.last_agent.len().is_power_of_two() {
            // Forget memories older than the longest sticky window.
            let window = self.queues.iter().filter_map(|q| q.cfg.sticky).max().unwrap_or(0);
            self.last_agent.retain(|_, (_, at)| now.saturating_sub(*at) <= window);
        }
        self.last_agent.insert(number, (a, now));
    }

    fn transfer(&mut self, id: CallId, queue: &str, now: Time) {
        let Some(&to) = self.queue_by_name.get(queue).filter(|&&q| !self.queues[q as usize].retired) else {
            self.counters.stale_inputs += 1;
            return;
        };
        match self.calls.get(&id) {
            Some(c) if c.phase == CallPhase::Waiting => self.move_call(id, to, MoveReason::Transfer, now),
            _ => self.counters.stale_inputs += 1,
        }
    }

    fn callback_request(&mut self, id: CallId, number: String, now: Time) {
        let Some(c) = self.calls.get_mut(&id) else {
            self.counters.stale_inputs += 1;
            return;
        };
        if c.phase != CallPhase::Waiting || c.callback.is_some() {
            self.counters.stale_inputs += 1;
            return;
        }
        let q = &self.queues[c.queue as usize];
        let qname = q.name.clone();
        // The number goes into a dial string: only plain numbers are called.
        let refused = if q.cfg.callback_contact.is_none() {
            Some("the queue has no callback_contact")
        } else if !q.cfg.callback_numbers.matches(&number) {
            Some("the number does not match callback_number_pattern")
        } else {
            None
        };
        if let Some(reason) = refused {
            self.counters.callbacks_refused += 1;
            self.event(now, EventKind::CallbackRefused { call: id, queue: qname, number, reason });
            return;
        }
        c.callback = Some(number.clone());
        self.event(now, EventKind::CallbackRequested { call: id, queue: qname, number });
        self.actions.push(Action::Exit { call: id, reason: ExitReason::CallbackScheduled });
    }

    // -----------------------------------------------------------------------
    // Agents

    fn agent_command(&mut self, name: &str, now: Time, cmd: AgentCommand) {
        let Some(&a) = self.agent_by_name.get(name) else {
            self.counters.unknown_agent += 1;
            return;
        };
        if self.agents[a as usize].retired {
            self.counters.unknown_agent += 1;
            return;
        }
        let busy = matches!(self.agents[a as usize].state, AgentState::Ringing(_) | AgentState::OnCall(_));
        let target = match cmd {
            AgentCommand::Login => match self.agents[a as usize].state {
                AgentState::LoggedOut => AgentState::Available,
                _ => return,
            },
            AgentCommand::Ready => match self.agents[a as usize].state {
                AgentState::LoggedOut | AgentState::Break(_) | AgentState::WrapUp { .. } => AgentState::Available,
                _ if busy => {
                    self.agents[a as usize].after_call = None;
                    return;
                }
                _ => return,
            },
            AgentCommand::Logout => AgentState::LoggedOut,
            AgentCommand::Break(reason) => AgentState::Break(reason),
        };
        if busy {
            // Takes effect when the current offer or call is over.
            self.agents[a as usize].after_call = Some(target);
            return;
        }
        let agent = &mut self.agents[a as usize];
        if target == AgentState::Available {
            agent.misses = 0;
            if agent.state == AgentState::LoggedOut {
                agent.idle_since = now;
            }
        }
        let leaving = target == AgentState::LoggedOut;
        self.set_state(a, target, now);
        if leaving {
            let queues: Vec<u32> = self.agents[a as usize].members.iter().map(|m| m.queue).collect();
            for q in queues {
                self.check_empty(q, now);
            }
        }
        self.try_match_agent(a, now);
    }

    /// `leave_when_empty`: with no member logged in, waiting callers leave.
    fn check_empty(&mut self, q: u32, now: Time) {
        let queue = &self.queues[q as usize];
        if !queue.cfg.leave_when_empty || queue.logged_in > 0 {
            return;
        }
        let ids: Vec<CallId> = queue.waiting.values().copied().collect();
        for id in ids {
            self.exit_call(id, ExitReason::LeaveEmpty, now);
        }
    }

    fn device_state(&mut self, device: &str, busy: bool, now: Time) {
        let Some(list) = self.agents_by_device.get(device) else { return };
        for a in list.clone() {
            let agent = &mut self.agents[a as usize];
            if agent.device_busy != busy {
                agent.device_busy = busy;
                self.refile(a);
                if !busy {
                    self.try_match_agent(a, now);
                }
            }
        }
    }

    // -----------------------------------------------------------------------
    // Timers

    fn fire(&mut self, kind: TimerKind, now: Time) {
        match kind {
            TimerKind::MaxWait { call } => {
                let Some(c) = self.calls.get_mut(&call) else { return };
                if c.callback.is_some() {
                    return;
                }
                let Some(max) = self.queues[c.queue as usize].cfg.max_wait else { return };
                if now.saturating_sub(c.entered) < max {
                    // Moved into a queue with a longer limit.
                    let at = c.entered + max;
                    self.timers.arm(at, TimerKind::MaxWait { call });
                    return;
                }
                match c.phase {
                    CallPhase::Waiting => self.exit_call(call, ExitReason::Timeout, now),
                    CallPhase::Offering => c.expired = true,
                    CallPhase::Talking => {}
                }
            }
            TimerKind::Widen { call, epoch, step } => {
                if self.calls.get(&call).is_some_and(|c| c.epoch == epoch) {
                    self.apply_widen(call, step as usize, now);
                    self.try_match_call(call, now);
                }
            }
            TimerKind::Overflow { call, epoch, rule } => {
                let Some(c) = self.calls.get(&call) else { return };
                if c.epoch != epoch || c.phase != CallPhase::Waiting {
                    return;
                }
                if self.overflow_applies(c.queue, rule as usize) {
                    let to = self.queues[c.queue as usize].cfg.overflow[rule as usize].to.clone();
                    if let Some(&to) = self.queue_by_name.get(to.as_str()) {
                        self.move_call(call, to, MoveReason::Overflow, now);
                    }
                }
            }
            TimerKind::Announce { call, epoch } => {
                let Some(c) = self.calls.get(&call) else { return };
                if c.epoch != epoch || c.callback.is_some() {
                    return;
                }
                let q = c.queue as usize;
                if let Some(every) = self.queues[q].cfg.announce_every {
                    self.timers.arm(now + every, TimerKind::Announce { call, epoch });
                }
                if c.phase != CallPhase::Waiting {
                    return;
                }
                let position = self.position(call).unwrap_or(1);
                let staffed = self.queues[q].logged_in.max(1) as f64;
                let expected_wait = self.aht[q].map(|aht| (position as f64 * aht / staffed) as Time);
                self.actions.push(Action::Announce { call, position, expected_wait });
            }
            TimerKind::Recheck { call } => {
                self.try_match_call(call, now);
            }
            TimerKind::OfferWatchdog { call, seq } => {
                let Some(c) = self.calls.get(&call) else { return };
                if c.offer_seq != seq || c.phase != CallPhase::Offering {
                    return;
                }
                for a in c.ringing.clone() {
                    self.counters.watchdog_fired += 1;
                    let name = self.agents[a as usize].name.clone();
                    self.event(now, EventKind::OfferWatchdog { call, agent: name });
                    self.offer_result(call, a, OfferOutcome::NoAnswer, now);
                }
            }
            TimerKind::NoAnswerBreakEnd { agent, since } => {
                let ag = &self.agents[agent as usize];
                if ag.since == since && matches!(&ag.state, AgentState::Break(r) if r == NO_ANSWER_BREAK) {
                    self.agents[agent as usize].misses = 0;
                    self.set_state(agent, AgentState::Available, now);
                    self.try_match_agent(agent, now);
                }
            }
            TimerKind::WrapUpEnd { agent, until } => {
                if self.agents[agent as usize].state == (AgentState::WrapUp { until }) {
                    self.set_state(agent, AgentState::Available, now);
                    self.try_match_agent(agent, now);
                }
            }
        }
    }

    fn event(&mut self, time: Time, kind: EventKind) {
        self.events.push(Event { time, kind });
    }

    // -----------------------------------------------------------------------
    // Invariants (tests, simulation, debug builds)

    /// Check the engine's invariants; `Err` names the first one broken.
    pub fn check_invariants(&self, now: Time) -> Result<(), String> {
        for (ix, a) in self.agents.iter().enumerate() {
            let ix = ix as u32;
            match &a.state {
                AgentState::Ringing(c) => {
                    let call = self.calls.get(c).ok_or(format!("agent {} rings for unknown call {c}", a.name))?;
                    if call.phase != CallPhase::Offering || !call.ringing.contains(&ix) {
                        return Err(format!("agent {} rings for call {c} which is not offering to it", a.name));
                    }
                }
                AgentState::OnCall(c) => {
                    let call = self.calls.get(c).ok_or(format!("agent {} on unknown call {c}", a.name))?;
                    if call.agent != Some(ix) || call.phase != CallPhase::Talking {
                        return Err(format!("agent {} on call {c} which is not talking to it", a.name));
                    }
                }
                _ => {}
            }
            let main = a.filed.iter().filter(|(_, s, _)| s.is_none()).count();
            let expected = if a.is_ready() { a.members.iter().filter(|m| !self.queues[m.queue as usize].retired).count() } else { 0 };
            if main != expected {
                return Err(format!("agent {} filed in {main} ready indexes, expected {expected}", a.name));
            }
            for (q, skill, key) in &a.filed {
                let queue = &self.queues[*q as usize];
                let present = match skill {
                    None => queue.ready.contains(key),
                    Some(s) => queue.skill_ready.get(s).is_some_and(|ix| ix.contains(key)),
                };
                if !present {
                    return Err(format!("agent {} filed key missing from queue {}", a.name, queue.name));
                }
            }
        }
        for q in &self.queues {
            let in_lines: usize = q.lines.iter().map(|(_, l)| l.len()).sum();
            if in_lines != q.waiting.len() {
                return Err(format!("queue {}: {} in lines by needs, {} waiting", q.name, in_lines, q.waiting.len()));
            }
            for ix in std::iter::once(&q.ready).chain(q.skill_ready.values()) {
                for k in ix.iter() {
                    if !self.agents[k.agent as usize].filed.iter().any(|(qq, _, kk)| kk == k && self.queues[*qq as usize].name == q.name) {
                        return Err(format!("queue {} indexes agent {} which is not filed there", q.name, k.agent));
                    }
                }
            }
        }
        let mut talking = HashMap::new();
        for c in self.calls.values() {
            let q = &self.queues[c.queue as usize];
            let in_line = q.waiting.get(&wait_key(c)) == Some(&c.id);
            match c.phase {
                CallPhase::Waiting => {
                    if !in_line {
                        return Err(format!("waiting call {} is not in its queue's line", c.id));
                    }
                    let found = self.find_agents(c, now, 0);
                    if !found.is_empty() {
                        return Err(format!(
                            "call {} waits in {} while agent {} is ready for it",
                            c.id, q.name, self.agents[found[0] as usize].name
                        ));
                    }
                }
                CallPhase::Offering => {
                    if in_line || c.ringing.is_empty() {
                        return Err(format!("offering call {} is in line or rings nobody", c.id));
                    }
                    for a in &c.ringing {
                        if self.agents[*a as usize].state != AgentState::Ringing(c.id) {
                            return Err(format!("call {} rings agent {} which is not ringing for it", c.id, a));
                        }
                    }
                }
                CallPhase::Talking => {
                    let a = c.agent.ok_or(format!("talking call {} has no agent", c.id))?;
                    if let Some(other) = talking.insert(a, c.id) {
                        return Err(format!("agent {a} talks to calls {other} and {}", c.id));
                    }
                }
            }
        }
        let lines: usize = self.queues.iter().map(|q| q.waiting.len()).sum();
        let waiting = self.calls.values().filter(|c| c.phase == CallPhase::Waiting).count();
        if lines != waiting {
            return Err(format!("{lines} entries in queue lines but {waiting} waiting calls"));
        }
        Ok(())
    }
}

enum AgentCommand {
    Login,
    Logout,
    Break(String),
    Ready,
}

fn wait_key(c: &Call) -> WaitKey {
    WaitKey { neg_rank: -c.rank, seq: c.seq }
}
