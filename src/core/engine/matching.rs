//! Matching: which agents may take a caller, and the seeks that find the
//! agent for a caller or the caller for an agent.

use super::{wait_key, Engine};
use crate::core::call::{Call, CallId, CallPhase};
use crate::core::index::ReadyKey;
use crate::core::queue::WaitKey;
use crate::core::strategy::Strategy;
use crate::core::Time;

impl Engine {
    /// May agent `a` take call `c` now (ignoring whether `a` is ready)?
    fn eligible(&self, c: &Call, a: u32, now: Time) -> bool {
        let agent = &self.agents[a as usize];
        let Some(m) = agent.member(c.queue) else { return false };
        m.tier <= c.max_tier && m.penalty <= c.max_penalty && self.eligible_extra(c, a, now, true)
    }

    /// Caller-specific checks beyond tier and penalty.
    fn eligible_extra(&self, c: &Call, a: u32, now: Time, check_preferred: bool) -> bool {
        if check_preferred && !c.preference.allows(a, now) {
            return false;
        }
        if c.excluded.iter().any(|&(x, until)| x == a && until > now) {
            return false;
        }
        c.needs.is_empty() || self.agents[a as usize].meets(&c.needs)
    }

    /// The agents to ring for a waiting call, best first (empty: none).
    pub(super) fn find_agents(&self, c: &Call, now: Time, dice: u64) -> Vec<u32> {
        let q = &self.queues[c.queue as usize];
        if c.preference.active(now) {
            // A handful of preferred agents: rank them by their filed keys.
            let mut best: Option<(ReadyKey, u32)> = None;
            for &a in c.preference.agents() {
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

    pub(super) fn try_match_call(&mut self, id: CallId, now: Time) -> bool {
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
    pub(super) fn try_match_agent(&mut self, a: u32, now: Time) -> bool {
        if !self.agents[a as usize].is_ready() {
            return false;
        }
        let mut best: Option<(WaitKey, CallId)> = None;
        // Callers waiting for this agent in particular come first.
        if let Some(list) = self.pref_waiters.get(&a).filter(|_| !self.pref_waiters.is_empty()) {
            let mut keep = Vec::with_capacity(list.len());
            for &id in list {
                let Some(c) = self.calls.get(&id) else { continue };
                if !c.preference.prefers(a, now) {
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
}
