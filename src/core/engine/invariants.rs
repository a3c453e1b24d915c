//! The engine's invariants, checked by tests, the simulation and debug
//! builds after every input.

use std::collections::HashMap;

use super::{wait_key, Engine};
use crate::core::agent::AgentState;
use crate::core::call::CallPhase;
use crate::core::config::device_of;
use crate::core::strategy::Strategy;
use crate::core::Time;

impl Engine {
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
                // Filed under its membership as it is now (a penalty or
                // tier change refiles).
                let m = a.member(*q).ok_or(format!("agent {} filed in queue {} it is not a member of", a.name, queue.name))?;
                let penalty = if matches!(queue.cfg.strategy, Strategy::RoundRobin | Strategy::Random) { 0 } else { m.penalty };
                if key.tier != m.tier || key.penalty != penalty {
                    return Err(format!("agent {} filed in queue {} with a stale tier or penalty", a.name, queue.name));
                }
            }
        }
        self.check_members_and_contacts()?;
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

    /// Memberships agree between agents and queues (run-time changes
    /// included), each queue's logged-in count is its members', a pending
    /// removal only waits for a call, and every agent is rung and followed
    /// at one contact and device.
    fn check_members_and_contacts(&self) -> Result<(), String> {
        for (ix, a) in self.agents.iter().enumerate() {
            let ix = ix as u32;
            for (i, m) in a.members.iter().enumerate() {
                let queue = &self.queues[m.queue as usize];
                if a.members[..i].iter().any(|o| o.queue == m.queue) {
                    return Err(format!("agent {} is twice a member of queue {}", a.name, queue.name));
                }
                if !queue.members.contains(&ix) {
                    return Err(format!("agent {} is a member of queue {} which does not list it", a.name, queue.name));
                }
                if m.leaving && !a.is_busy() {
                    return Err(format!("agent {} is free but still leaving queue {}", a.name, queue.name));
                }
            }
            if a.retired && !a.members.is_empty() {
                return Err(format!("removed agent {} is still a member", a.name));
            }
            let (contact, device) = match &a.hot_desk {
                Some(c) if !a.state.is_logged_in() => return Err(format!("logged-out agent {} keeps hot-desk contact {c}", a.name)),
                Some(c) => (&**c, device_of(c)),
                None => (a.cfg.contact.as_str(), a.cfg.device.clone()),
            };
            if *a.contact != *contact || a.device != device {
                return Err(format!("agent {} rung at {} (device {}), expected {contact} ({device})", a.name, a.contact, a.device));
            }
            let indexed: Vec<&String> = self.agents_by_device.iter().filter(|(_, l)| l.contains(&ix)).map(|(d, _)| d).collect();
            let expected: Vec<&String> = if a.retired { vec![] } else { vec![&a.device] };
            if indexed != expected {
                return Err(format!("agent {} followed at devices {indexed:?}, expected {expected:?}", a.name));
            }
        }
        for (qi, q) in self.queues.iter().enumerate() {
            for (i, &a) in q.members.iter().enumerate() {
                if q.members[..i].contains(&a) || self.agents[a as usize].member(qi as u32).is_none() {
                    return Err(format!("queue {} lists agent {} twice or as a non-member", q.name, self.agents[a as usize].name));
                }
            }
            let logged_in = q.members.iter().filter(|&&a| self.agents[a as usize].state.is_logged_in()).count();
            if q.logged_in != logged_in {
                return Err(format!("queue {} counts {} logged in, its members {logged_in}", q.name, q.logged_in));
            }
        }
        Ok(())
    }
}
