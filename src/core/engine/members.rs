//! Run-time membership: operators add agents to queues, remove them and
//! change their penalty and tier while calls flow (app_queue's
//! AddQueueMember, RemoveQueueMember, QueueMemberPenalty). Only the agent
//! concerned can become eligible for a caller, so matching that one agent
//! again restores the engine's invariant.

use std::sync::Arc;

use super::Engine;
use crate::core::agent::Member;
use crate::core::event::EventKind;
use crate::core::Time;

#[derive(Clone, Copy)]
enum Change {
    Added,
    Removed,
    Changed,
}

impl Engine {
    pub(super) fn add_member(&mut self, agent: &str, queue: &str, penalty: u32, tier: u8, now: Time) {
        const CMD: &str = "add-member";
        let Some((a, q)) = self.member_target(CMD, agent, queue, Some(tier), now) else { return };
        let ag = &mut self.agents[a as usize];
        match ag.members.iter_mut().find(|m| m.queue == q) {
            Some(m) if m.leaving => {
                // Removed during a call and added back before it ended: it
                // stays, with the new values.
                m.leaving = false;
                (m.penalty, m.tier) = (penalty, tier);
                let m = *m;
                return self.member_event(now, a, m, Change::Changed);
            }
            Some(_) => return self.refuse(now, CMD, agent, queue, "already a member of the queue"),
            None => {}
        }
        // After every member there is: linear and round-robin orders see
        // it last, and positions stay distinct after removals.
        let members = &self.queues[q as usize].members;
        let position = members.iter().filter_map(|&x| self.agents[x as usize].member(q)).map(|m| m.position + 1).max().unwrap_or(0);
        let m = Member { queue: q, tier, penalty, position, added: true, leaving: false };
        let ag = &mut self.agents[a as usize];
        ag.members.push(m);
        let logged_in = ag.state.is_logged_in();
        let queue = &mut self.queues[q as usize];
        queue.members.push(a);
        if logged_in {
            queue.logged_in += 1;
        }
        self.refile(a);
        self.member_event(now, a, m, Change::Added);
        self.try_match_agent(a, now);
    }

    /// An idle member leaves at once; a ringing or talking one when its
    /// call is over ([`Engine::leave_pending`]).
    pub(super) fn remove_member(&mut self, agent: &str, queue: &str, now: Time) {
        const CMD: &str = "remove-member";
        let Some((a, q)) = self.member_target(CMD, agent, queue, None, now) else { return };
        let ag = &mut self.agents[a as usize];
        let busy = ag.is_busy();
        let Some(m) = ag.members.iter_mut().find(|m| m.queue == q) else {
            return self.refuse(now, CMD, agent, queue, "not a member of the queue");
        };
        if busy {
            m.leaving = true;
        } else {
            self.detach_member(a, q, now);
        }
    }

    pub(super) fn set_penalty(&mut self, agent: &str, queue: &str, penalty: u32, tier: Option<u8>, now: Time) {
        const CMD: &str = "set-penalty";
        let Some((a, q)) = self.member_target(CMD, agent, queue, tier, now) else { return };
        let Some(m) = self.agents[a as usize].members.iter_mut().find(|m| m.queue == q) else {
            return self.refuse(now, CMD, agent, queue, "not a member of the queue");
        };
        m.penalty = penalty;
        m.tier = tier.unwrap_or(m.tier);
        let m = *m;
        self.refile(a);
        self.member_event(now, a, m, Change::Changed);
        self.try_match_agent(a, now);
    }

    /// Memberships removed during the agent's call end now that it is
    /// over. Called wherever a ringing or talking agent is freed.
    pub(super) fn leave_pending(&mut self, a: u32, now: Time) {
        let agent = &self.agents[a as usize];
        if agent.is_busy() || !agent.members.iter().any(|m| m.leaving) {
            return;
        }
        let leaving: Vec<u32> = agent.members.iter().filter(|m| m.leaving).map(|m| m.queue).collect();
        for q in leaving {
            self.detach_member(a, q, now);
        }
    }

    fn detach_member(&mut self, a: u32, q: u32, now: Time) {
        let agent = &mut self.agents[a as usize];
        let Some(i) = agent.members.iter().position(|m| m.queue == q) else { return };
        let m = agent.members.remove(i);
        let logged_in = agent.state.is_logged_in();
        let queue = &mut self.queues[q as usize];
        queue.members.retain(|&x| x != a);
        if logged_in {
            queue.logged_in = queue.logged_in.saturating_sub(1);
        }
        self.refile(a);
        self.member_event(now, a, m, Change::Removed);
        self.check_empty(q, now);
    }

    /// The agent and queue a membership command names, or `None` refused:
    /// either unknown (counted), or a tier of 0.
    fn member_target(&mut self, command: &'static str, agent: &str, queue: &str, tier: Option<u8>, now: Time) -> Option<(u32, u32)> {
        let a = self.known_agent(command, agent, now)?;
        let Some(q) = self.queue_by_name.get(queue).copied().filter(|&q| !self.queues[q as usize].retired) else {
            self.counters.unknown_queue += 1;
            self.refuse(now, command, agent, queue, "unknown queue");
            return None;
        };
        if tier == Some(0) {
            self.refuse(now, command, agent, queue, "tiers start at 1");
            return None;
        }
        Some((a, q))
    }

    fn member_event(&mut self, now: Time, a: u32, m: Member, change: Change) {
        let agent: Arc<str> = self.agents[a as usize].name.clone();
        let queue = self.queues[m.queue as usize].name.clone();
        let (penalty, tier) = (m.penalty, m.tier);
        let kind = match change {
            Change::Added => EventKind::MemberAdded { agent, queue, penalty, tier },
            Change::Removed => EventKind::MemberRemoved { agent, queue, penalty, tier },
            Change::Changed => EventKind::MemberChanged { agent, queue, penalty, tier },
        };
        self.event(now, kind);
    }
}
