//! Agents: state changes, the ready indexes they are filed in, operator
//! and dialplan commands, and device state.

use std::sync::Arc;

use super::Engine;
use crate::core::agent::{check_contact, AgentState};
use crate::core::call::CallId;
use crate::core::config::device_of;
use crate::core::event::EventKind;
use crate::core::index::{ReadyIndex, ReadyKey};
use crate::core::input::ExitReason;
use crate::core::strategy::{KeyFacts, Strategy};
use crate::core::Time;

impl Engine {
    pub(super) fn set_state(&mut self, a: u32, to: AgentState, now: Time) {
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
        let agent = &self.agents[a as usize];
        let name = agent.name.clone();
        // A login says where the agent is rung from now on.
        let contact = (!was_in && is_in).then(|| agent.contact.clone());
        let logout_from_desk = !is_in && agent.hot_desk.is_some();
        self.event(now, EventKind::AgentStateChanged { agent: name, from, to, contact });
        if logout_from_desk {
            self.set_contact(a, None);
        }
        self.refile(a);
    }

    /// Ring agent `a` at `hot` (hot desking) from now on, or at its
    /// configured contact again (`None`); the device whose state counts
    /// goes with the contact. The caller refiles the agent.
    pub(super) fn set_contact(&mut self, a: u32, hot: Option<Arc<str>>) {
        let agent = &mut self.agents[a as usize];
        let device = match &hot {
            Some(c) => device_of(c),
            None => agent.cfg.device.clone(),
        };
        agent.contact = hot.clone().unwrap_or_else(|| Arc::from(agent.cfg.contact.as_str()));
        agent.hot_desk = hot;
        if device == agent.device {
            return;
        }
        let old = std::mem::replace(&mut agent.device, device.clone());
        // The other phone's state is unknown until it changes.
        agent.device_busy = false;
        if let Some(list) = self.agents_by_device.get_mut(&old) {
            list.retain(|&x| x != a);
            if list.is_empty() {
                self.agents_by_device.remove(&old);
            }
        }
        if !agent.retired {
            self.agents_by_device.entry(device).or_default().push(a);
        }
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

    pub(super) fn file(&mut self, a: u32) {
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
    pub(super) fn ensure_skill_index(&mut self, q: u32, skill: &Arc<str>) {
        if self.queues[q as usize].skill_ready.contains_key(skill) {
            return;
        }
        let mut ix = ReadyIndex::default();
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

    pub(super) fn refile(&mut self, a: u32) {
        self.unfile(a);
        self.file(a);
    }

    /// An agent whose offer ended without a call: back to available, or to
    /// the state asked for during the offer.
    pub(super) fn free_agent(&mut self, a: u32, now: Time) {
        let next = self.agents[a as usize].after_call.take().unwrap_or(AgentState::Available);
        self.set_state(a, next, now);
        self.leave_pending(a, now);
    }

    /// The agent named `name`, or `None` counted and refused: not in the
    /// configuration (or removed from it).
    pub(super) fn known_agent(&mut self, command: &'static str, name: &str, now: Time) -> Option<u32> {
        let found = self.agent_by_name.get(name).copied().filter(|&a| !self.agents[a as usize].retired);
        if found.is_none() {
            self.counters.unknown_agent += 1;
            self.refuse(now, command, name, "", "unknown agent");
        }
        found
    }

    pub(super) fn agent_command(&mut self, name: &str, now: Time, cmd: AgentCommand) {
        let Some(a) = self.known_agent(cmd.name(), name, now) else { return };
        let busy = self.agents[a as usize].is_busy();
        let target = match cmd {
            AgentCommand::Login(contact) => {
                let contact: Option<Arc<str>> = match contact.as_deref().map(check_contact) {
                    Some(Err(e)) => return self.refuse(now, "login", name, "", e),
                    _ => contact.map(Arc::from),
                };
                if self.agents[a as usize].state.is_logged_in() {
                    return self.change_phones(a, contact, now);
                }
                if contact.is_some() {
                    self.set_contact(a, contact);
                }
                AgentState::Available
            }
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
        let logging_out = target == AgentState::LoggedOut;
        self.set_state(a, target, now);
        if logging_out {
            let queues: Vec<u32> = self.agents[a as usize].members.iter().map(|m| m.queue).collect();
            for q in queues {
                self.check_empty(q, now);
            }
        }
        self.try_match_agent(a, now);
    }

    /// A logged-in agent logs in again: with a contact, it moves to that
    /// phone (the event repeats its state with the new contact); without,
    /// nothing changes.
    fn change_phones(&mut self, a: u32, contact: Option<Arc<str>>, now: Time) {
        let agent = &self.agents[a as usize];
        let Some(contact) = contact.filter(|c| *c != agent.contact) else { return };
        let state = agent.state.clone();
        let name = agent.name.clone();
        self.set_contact(a, Some(contact.clone()));
        self.event(now, EventKind::AgentStateChanged { agent: name, from: state.clone(), to: state, contact: Some(contact) });
        self.refile(a);
        self.try_match_agent(a, now);
    }

    /// `leave_when_empty`: with no member logged in, waiting callers leave.
    pub(super) fn check_empty(&mut self, q: u32, now: Time) {
        let queue = &self.queues[q as usize];
        if !queue.cfg.leave_when_empty || queue.logged_in > 0 {
            return;
        }
        let ids: Vec<CallId> = queue.waiting.values().copied().collect();
        for id in ids {
            self.exit_call(id, ExitReason::LeaveEmpty, now);
        }
    }

    pub(super) fn device_state(&mut self, device: &str, busy: bool, now: Time) {
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
}

/// What an agent (or an operator for it) asks.
pub(super) enum AgentCommand {
    /// With a hot-desk contact, or at the configured one.
    Login(Option<String>),
    Logout,
    Break(String),
    Ready,
}

impl AgentCommand {
    fn name(&self) -> &'static str {
        match self {
            AgentCommand::Login(_) => "login",
            AgentCommand::Logout => "logout",
            AgentCommand::Break(_) => "break",
            AgentCommand::Ready => "ready",
        }
    }
}
