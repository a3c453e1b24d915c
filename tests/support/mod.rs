//! Test harness over the sans-IO engine: a virtual clock, helpers to play
//! the PBX, and assertions on actions.
#![allow(dead_code)]

use std::sync::Arc;

use hotline::core::event::EventKind;
use hotline::core::{Action, AgentState, CallId, CallerInfo, Config, EndedBy, Engine, Event, ExitReason, Input, OfferOutcome, Time};

pub struct H {
    pub e: Engine,
    pub now: Time,
    pub actions: Vec<Action>,
    pub events: Vec<Event>,
    next: u64,
    /// The latest offer number of each call, for its reports.
    pub seqs: std::collections::HashMap<CallId, u32>,
}

pub fn cfg(text: &str) -> Arc<Config> {
    Arc::new(Config::parse(text, "test.toml").unwrap_or_else(|e| panic!("config: {e}")))
}

impl H {
    pub fn new(text: &str) -> H {
        H { e: Engine::new(cfg(text), 0, 42), now: 0, actions: Vec::new(), events: Vec::new(), next: 1, seqs: Default::default() }
    }

    fn collect(&mut self) {
        let actions = self.e.take_actions();
        for a in &actions {
            if let Action::Offer { call, seq, .. } | Action::Callback { call, seq, .. } = a {
                self.seqs.insert(*call, *seq);
            }
        }
        self.actions.extend(actions);
        self.events.extend(self.e.take_events());
        self.e.check_invariants(self.now).unwrap_or_else(|err| panic!("invariant at t={}: {err}", self.now));
    }

    pub fn input(&mut self, i: Input) {
        self.e.handle(self.now, i);
        self.collect();
    }

    /// Advance the virtual clock by `ms`, firing timers on the way.
    pub fn wait(&mut self, ms: Time) {
        let end = self.now + ms;
        while let Some(d) = self.e.next_deadline() {
            if d > end {
                break;
            }
            self.now = d.max(self.now);
            self.e.advance(self.now);
            self.collect();
        }
        self.now = end;
        self.e.advance(end);
        self.collect();
    }

    pub fn call_with(&mut self, queue: &str, caller: CallerInfo) -> CallId {
        let id = CallId(self.next);
        self.next += 1;
        self.input(Input::CallEnter { call: id, queue: queue.into(), caller });
        id
    }

    pub fn call(&mut self, queue: &str) -> CallId {
        self.call_with(queue, CallerInfo::default())
    }

    pub fn call_from(&mut self, queue: &str, number: &str) -> CallId {
        self.call_with(queue, CallerInfo { number: number.into(), ..Default::default() })
    }

    /// A caller of `queue` that `agent` is offered and answers (to keep the
    /// agent busy).
    pub fn talking(&mut self, queue: &str, agent: &str) -> CallId {
        self.talking_with(queue, agent, CallerInfo::default())
    }

    pub fn talking_with(&mut self, queue: &str, agent: &str, caller: CallerInfo) -> CallId {
        let c = self.call_with(queue, caller);
        assert_eq!(self.offered(c), agent);
        self.answer(c, agent);
        c
    }

    /// Take the pending offer for `call`: the agent names rung.
    pub fn offer_of(&mut self, call: CallId) -> Option<Vec<String>> {
        let pos = self.actions.iter().position(|a| matches!(a, Action::Offer { call: c, .. } | Action::Callback { call: c, .. } if *c == call))?;
        match self.actions.remove(pos) {
            Action::Offer { targets, .. } => Some(targets.iter().map(|t| t.name.to_string()).collect()),
            Action::Callback { target, .. } => Some(vec![target.name.to_string()]),
            _ => unreachable!(),
        }
    }

    /// The single agent offered `call` (panics if none or several).
    pub fn offered(&mut self, call: CallId) -> String {
        let v = self.offer_of(call).unwrap_or_else(|| panic!("no offer for call {call}; actions: {:?}", self.actions));
        assert_eq!(v.len(), 1, "expected one agent, got {v:?}");
        v.into_iter().next().expect("one")
    }

    pub fn no_offer(&mut self, call: CallId) {
        assert!(self.offer_of(call).is_none(), "unexpected offer for call {call}");
    }

    pub fn exit_of(&mut self, call: CallId) -> Option<ExitReason> {
        let pos = self.actions.iter().position(|a| matches!(a, Action::Exit { call: c, .. } if *c == call))?;
        match self.actions.remove(pos) {
            Action::Exit { reason, .. } => Some(reason),
            _ => unreachable!(),
        }
    }

    pub fn id(&self, agent: &str) -> u32 {
        self.e.agent_id(agent).unwrap_or_else(|| panic!("no agent {agent}"))
    }

    pub fn result(&mut self, call: CallId, agent: &str, outcome: OfferOutcome) {
        let a = self.id(agent);
        let seq = self.seqs.get(&call).copied().unwrap_or(0);
        self.input(Input::OfferResult { call, agent: a, outcome, seq });
    }

    /// Report on offer `seq` of `call` (maybe an old one).
    pub fn result_of(&mut self, call: CallId, seq: u32, agent: &str, outcome: OfferOutcome) {
        let a = self.id(agent);
        self.input(Input::OfferResult { call, agent: a, outcome, seq });
    }

    pub fn answer(&mut self, call: CallId, agent: &str) {
        self.result(call, agent, OfferOutcome::Answered);
    }

    pub fn hangup(&mut self, call: CallId) {
        self.input(Input::CallEnded { call, by: EndedBy::Agent });
    }

    /// Answer, talk `ms`, hang up.
    pub fn serve(&mut self, call: CallId, agent: &str, ms: Time) {
        self.answer(call, agent);
        self.wait(ms);
        self.hangup(call);
    }

    pub fn state(&self, agent: &str) -> AgentState {
        self.e.agent_state(agent).cloned().unwrap_or_else(|| panic!("no agent {agent}"))
    }

    pub fn count_events(&self, f: impl Fn(&EventKind) -> bool) -> usize {
        self.events.iter().filter(|e| f(&e.kind)).count()
    }
}

/// `n` agents a0..a{n-1} in queue `q`, with extra per-agent TOML lines.
pub fn agents(q: &str, n: usize, extra: &str) -> String {
    (0..n).map(|i| format!("[[agent]]\nname = \"a{i}\"\ncontact = \"Local/a{i}@agents\"\nqueues = [\"{q}\"]\n{extra}\n")).collect()
}
