//! Agents: state changes, the ready indexes they are filed in, operator
//! and dialplan commands, and device state.

use std::sync::Arc;

use super::Engine;
use crate::core::agent::AgentState;
use crate::core::call::CallId;
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

    fn refile(&mut self, a: u32) {
        self.unfile(a);
        self.file(a);
    }

    /// An agent whose offer ended without a call: back to available, or to
    /// the state asked for during the offer.
    pub(super) fn free_agent(&mut self, a: u32, now: Time) {
        let next = self.agents[a as usize].after_call.take().unwrap_or(AgentState::Available);
        self.set_state(a, next, now);
    }

    pub(super) fn agent_command(&mut self, name: &str, now: Time, cmd: AgentCommand) {
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
    Login,
    Logout,
    Break(String),
    Ready,
}
