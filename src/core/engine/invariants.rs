//! The engine's invariants, checked by tests, the simulation and debug
//! builds after every input.

use std::collections::HashMap;

use super::{wait_key, Engine};
use crate::core::agent::AgentState;
use crate::core::call::CallPhase;
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
