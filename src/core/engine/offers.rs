//! Offers: ringing agents for a caller, and what the PBX reports back.

use super::{wait_key, Engine, CALLBACK_GRACE, NO_ANSWER_BREAK, OFFER_GRACE};
use crate::core::agent::AgentState;
use crate::core::call::{CallId, CallPhase};
use crate::core::event::EventKind;
use crate::core::input::{Action, AgentId, ExitReason, OfferOutcome, OfferTarget};
use crate::core::popup::PopupFacts;
use crate::core::strategy::Strategy;
use crate::core::timer::TimerKind;
use crate::core::Time;

impl Engine {
    /// The screen-pop URL of `call` for agent `a`: the agent's template,
    /// else its queue's, rendered with the call's facts.
    fn popup_url(&self, id: CallId, a: AgentId) -> Option<std::sync::Arc<str>> {
        let c = self.calls.get(&id)?;
        let agent = &self.agents[a as usize];
        let q = &self.queues[c.queue as usize];
        let t = agent.cfg.popup_url.as_ref().or(q.cfg.popup_url.as_ref())?;
        let facts = PopupFacts { caller: &c.caller.number, caller_name: &c.caller.name, call_id: id.0, queue: &q.name, agent: &agent.name, data: &c.data };
        Some(t.render(&facts).into())
    }

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
        let escalate = q.cfg.ring_escalate.filter(|&e| e < timeout && q.cfg.strategy != Strategy::RingAll);
        let qname = q.name.clone();
        let deadline = now + timeout;
        if let Some(c) = self.calls.get_mut(&id) {
            c.offer_deadline = deadline;
        }
        let mut out = Vec::with_capacity(targets.len());
        let data = self.calls.get(&id).map(|c| c.data.clone()).unwrap_or_else(|| Vec::new().into());
        for &a in &targets {
            self.set_state(a, AgentState::Ringing(id), now);
            let agent = &self.agents[a as usize];
            let auto_answer = agent.cfg.auto_answer.unwrap_or(queue_auto_answer);
            let popup_url = self.popup_url(id, a);
            let agent = &self.agents[a as usize];
            out.push(OfferTarget { agent: a, name: agent.name.clone(), contact: agent.contact.clone(), auto_answer, popup_url: popup_url.clone() });
            let name = agent.name.clone();
            self.event(now, EventKind::CallOffered { call: id, queue: qname.clone(), agent: name, data: data.clone(), popup_url });
        }
        match callback {
            Some(number) => {
                // `offer` rang only the first target for a callback.
                let target = out.swap_remove(0);
                self.actions.push(Action::Callback { call: id, seq, queue: qname.clone(), number, target, timeout });
                self.timers.arm(now + timeout + CALLBACK_GRACE, TimerKind::OfferWatchdog { call: id, seq });
            }
            None => {
                self.actions.push(Action::Offer { call: id, seq, targets: out, timeout, deadline });
                self.timers.arm(deadline + OFFER_GRACE, TimerKind::OfferWatchdog { call: id, seq });
                if let Some(after) = escalate {
                    self.timers.arm(now + after, TimerKind::RingEscalate { call: id, seq });
                }
            }
        }
    }

    /// Offer `seq` of `call` has rung its one agent `ring_escalate_seconds`:
    /// ring one more idle eligible agent alongside, on the same offer
    /// (same deadline); the first to answer wins.
    pub(super) fn ring_escalate(&mut self, id: CallId, seq: u32, now: Time) {
        let Some(c) = self.calls.get(&id) else { return };
        if c.offer_seq != seq || c.phase != CallPhase::Offering || c.callback.is_some() || c.ringing.len() != 1 || c.offer_deadline <= now {
            return;
        }
        let q = c.queue;
        let dice = if self.queues[q as usize].cfg.strategy == Strategy::Random { self.next_random() } else { 0 };
        let Some(c) = self.calls.get(&id) else { return };
        let Some(&a) = self.find_agents(c, now, dice).first() else { return };
        let deadline = c.offer_deadline;
        let data = c.data.clone();
        if let Some(c) = self.calls.get_mut(&id) {
            c.ringing.push(a);
        }
        self.counters.escalations += 1;
        self.set_state(a, AgentState::Ringing(id), now);
        let agent = &self.agents[a as usize];
        let auto_answer = agent.cfg.auto_answer.unwrap_or(self.queues[q as usize].cfg.auto_answer);
        let popup_url = self.popup_url(id, a);
        let agent = &self.agents[a as usize];
        let target = OfferTarget { agent: a, name: agent.name.clone(), contact: agent.contact.clone(), auto_answer, popup_url: popup_url.clone() };
        let qname = self.queues[q as usize].name.clone();
        self.event(now, EventKind::CallOffered { call: id, queue: qname, agent: target.name.clone(), data, popup_url });
        self.actions.push(Action::Offer { call: id, seq, targets: vec![target], timeout: deadline - now, deadline });
    }

    /// An answer to an offer the router no longer has (given up by the
    /// watchdog, an operator reset, the caller moved on): the caller's
    /// thread hangs that leg up ([`Action::Drop`]); the caller, if still
    /// here, is in line again or offered anew.
    fn stale_answer(&mut self, id: CallId, a: AgentId, seq: u32, now: Time) {
        self.counters.stale_answers += 1;
        let Some(c) = self.calls.get(&id) else { return };
        if c.callback.is_some() {
            return;
        }
        let qname = self.queues[c.queue as usize].name.clone();
        let aname = self.agents[a as usize].name.clone();
        self.event(now, EventKind::OfferFailed { call: id, queue: qname, agent: aname, outcome: OfferOutcome::Stale });
        self.actions.push(Action::Drop { call: id, seq, agent: a });
    }

    pub(super) fn offer_result(&mut self, id: CallId, a: AgentId, outcome: OfferOutcome, seq: u32, now: Time) {
        if a as usize >= self.agents.len() {
            self.counters.unknown_agent += 1;
            return;
        }
        let in_offer = self.calls.get(&id).is_some_and(|c| c.phase == CallPhase::Offering && c.ringing.contains(&a));
        let ringing_here = self.agents[a as usize].state == AgentState::Ringing(id);
        let current = in_offer && ringing_here && self.calls.get(&id).is_some_and(|c| c.offer_seq == seq);
        if !current {
            self.counters.stale_inputs += 1;
            if outcome == OfferOutcome::Answered {
                self.stale_answer(id, a, seq, now);
            }
            if ringing_here && !in_offer {
                // Ringing for a call we no longer know or no longer offer:
                // free the agent. (Ringing in a newer offer of the same
                // call, it waits for that offer's report.)
                self.free_agent(a, now);
                self.try_match_agent(a, now);
            }
            return;
        }
        let Some(c) = self.calls.get_mut(&id) else { return };
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
            if self.calls.get(&id).is_some_and(|c| c.callback.is_none()) {
                self.actions.push(Action::Connect { call: id, seq, agent: a });
            }
            let popup_url = self.popup_url(id, a);
            self.event(now, EventKind::CallAnswered { call: id, queue: qname.clone(), agent: aname, wait, data, leg, popup_url });
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
            OfferOutcome::Answered | OfferOutcome::Cancelled | OfferOutcome::Stale => false,
        };
        let break_for = qcfg.no_answer_break;
        if counts {
            agent.misses += 1;
        }
        let backoff = if outcome == OfferOutcome::Busy { qcfg.busy_backoff } else { 0 };
        if counts && max_misses > 0 && agent.misses >= max_misses {
            agent.after_call = None;
            self.set_state(a, AgentState::Break(NO_ANSWER_BREAK.into()), now);
            if let Some(d) = break_for {
                self.timers.arm(now + d, TimerKind::NoAnswerBreakEnd { agent: a, since: now });
            }
            self.leave_pending(a, now);
        } else {
            if backoff > 0 {
                // Held back from every caller for a while (busy_backoff).
                let until = now + backoff;
                agent.held_until = Some(until);
                self.timers.arm(until, TimerKind::BackoffEnd { agent: a, until });
            }
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
            self.offer_result(call, a, OfferOutcome::NoAnswer, seq, now);
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
