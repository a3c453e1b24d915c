//! Offers: ringing agents for a caller, and what the PBX reports back.

use super::{wait_key, Engine, CALLBACK_GRACE, NO_ANSWER_BREAK, OFFER_GRACE};
use crate::core::agent::AgentState;
use crate::core::call::{CallId, CallPhase};
use crate::core::event::EventKind;
use crate::core::input::{Action, AgentId, ExitReason, OfferOutcome, OfferTarget};
use crate::core::strategy::Strategy;
use crate::core::timer::TimerKind;
use crate::core::Time;

impl Engine {
    pub(super) fn offer(&mut self, id: CallId, mut targets: Vec<u32>, now: Time) {
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
        let queue_auto_answer = q.cfg.auto_answer;
        let qname = q.name.clone();
        let mut out = Vec::with_capacity(targets.len());
        let data = self.calls.get(&id).map(|c| c.data.clone()).unwrap_or_else(|| Vec::new().into());
        for &a in &targets {
            self.set_state(a, AgentState::Ringing(id), now);
            let agent = &self.agents[a as usize];
            let auto_answer = agent.cfg.auto_answer.unwrap_or(queue_auto_answer);
            out.push(OfferTarget { agent: a, name: agent.name.clone(), contact: agent.contact.clone(), auto_answer });
            let name = agent.name.clone();
            self.event(now, EventKind::CallOffered { call: id, queue: qname.clone(), agent: name, data: data.clone() });
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

    pub(super) fn offer_result(&mut self, id: CallId, a: AgentId, outcome: OfferOutcome, now: Time) {
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
            let (data, leg) = (c.data.clone(), c.agent_leg.clone());
            let agent = &mut self.agents[a as usize];
            agent.misses = 0;
            self.set_state(a, AgentState::OnCall(id), now);
            self.event(now, EventKind::CallAnswered { call: id, queue: qname.clone(), agent: aname, wait, data, leg });
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
            self.leave_pending(a, now);
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
                self.back_in_line(id, now);
            }
        }
        self.try_match_agent(a, now);
    }

    /// Offer `seq` of `call` got no report within its timeout and grace:
    /// free its agents as if they had not answered (self-healing).
    pub(super) fn offer_watchdog(&mut self, call: CallId, seq: u32, now: Time) {
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

    /// The offer ended unanswered and the caller waits again. An overflow
    /// rule whose time came while it rang is checked now, else the caller
    /// is matched again.
    fn back_in_line(&mut self, id: CallId, now: Time) {
        let Some(c) = self.calls.get_mut(&id) else { return };
        c.phase = CallPhase::Waiting;
        let key = wait_key(c);
        let q = c.queue;
        let needs = c.needs.clone();
        let due = std::mem::take(&mut c.overflow_due);
        self.queues[q as usize].line_insert(key, id, &needs);
        if due.into_iter().any(|rule| self.overflow_by_rule(id, rule as usize, now)) {
            return;
        }
        self.try_match_call(id, now);
    }
}
