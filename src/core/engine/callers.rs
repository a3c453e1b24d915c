//! Callers: entering, moving between queues (area, overflow, transfer),
//! rules over time, leaving, hanging up, and asking for a callback.

use super::{wait_key, Engine, MAX_MOVES};
use crate::core::agent::AgentState;
use crate::core::call::{needs_of, Call, CallId, CallPhase, CallerInfo, Needs};
use crate::core::config::AreaTarget;
use crate::core::preference::Preference;
use crate::core::event::{EventKind, MoveReason};
use crate::core::input::{Action, EndedBy, ExitReason, OfferOutcome};
use crate::core::timer::TimerKind;
use crate::core::Time;
use std::sync::Arc;

impl Engine {
    /// A caller joins `queue`; `callback`: a callback kept across a restart,
    /// back in line (in the order restored) to be called at that number.
    pub(super) fn call_enter(&mut self, id: CallId, queue: &str, caller: CallerInfo, callback: Option<String>, now: Time) {
        if self.calls.contains_key(&id) {
            self.actions.push(Action::Exit { call: id, reason: ExitReason::Duplicate });
            return;
        }
        let Some(&q) = self.queue_by_name.get(queue).filter(|&&q| !self.queues[q as usize].retired) else {
            self.actions.push(Action::Exit { call: id, reason: ExitReason::UnknownQueue });
            return;
        };
        self.seq += 1;
        let data: std::sync::Arc<[(String, String)]> = caller.data.clone().into();
        let call = Call {
            id,
            caller,
            data,
            agent_leg: Vec::new(),
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
            preference: Preference::default(),
            excluded: Vec::new(),
            callback,
            ringing: Vec::new(),
            offer_seq: 0,
            offer_deadline: 0,
            requeues: 0,
            agent: None,
            answered_at: 0,
            expired: false,
            overflow_due: Vec::new(),
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
        self.enter_queue(id, q, now);
        let position = self.position(id).unwrap_or(0);
        let c = &self.calls[&id];
        let ev = EventKind::CallEntered {
            call: id,
            queue: self.queues[q as usize].name.clone(),
            number: c.caller.number.clone(),
            name: c.caller.name.clone(),
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
        let area = q.cfg.areas.iter().find_map(|area| match &area.target {
            AreaTarget::Queue(to) if c.caller.number.starts_with(&area.prefix) => self.queue_by_name.get(to.as_str()).copied(),
            _ => None,
        });
        if let Some(to) = area {
            if self.move_call(id, to, MoveReason::Area, now) {
                return true;
            }
        }
        self.redirect_on_entry_overflow_only(id, now)
    }

    pub(super) fn overflow_applies(&self, q: u32, rule: usize) -> bool {
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
        c.overflow_due.clear();
        // Exclusions (agents that just failed this caller) survive a move.
        c.phase = CallPhase::Waiting;
        let epoch = c.epoch;
        let (by_name, agents) = (&self.agent_by_name, &self.agents);
        let preference = self.prefs.choose(
            cfg,
            &c.caller.number,
            now,
            |n| by_name.get(n).copied(),
            |a| agents[a as usize].member(q).is_some(),
        );
        let (n_widen, n_overflow) = (cfg.widen.len(), cfg.overflow.len());
        let (announce, max_wait) = (cfg.announce_every, cfg.max_wait);
        let c = self.calls.get_mut(&id).expect("call present");
        if !preference.is_empty() {
            self.timers.arm(preference.until(), TimerKind::Recheck { call: id });
            for &a in preference.agents() {
                self.pref_waiters.entry(a).or_default().push(id);
            }
        }
        c.preference = preference;
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
        if let Some(max) = max_wait {
            self.timers.arm(now + max, TimerKind::MaxWait { call: id, epoch });
        }
    }

    pub(super) fn apply_widen(&mut self, id: CallId, step: usize, _now: Time) {
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

    /// Move a waiting caller to queue `to` and match it there. False if it
    /// did not move (it stays where it is, still to be matched).
    pub(super) fn move_call(&mut self, id: CallId, to: u32, reason: MoveReason, now: Time) -> bool {
        let Some(c) = self.calls.get_mut(&id) else { return false };
        if c.moves >= MAX_MOVES || c.queue == to {
            return false;
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
        true
    }

    /// After a move, entry overflow rules of the new queue still apply (area
    /// rules do not: the caller already was routed by area).
    fn redirect_on_entry_overflow_only(&mut self, id: CallId, now: Time) -> bool {
        let q = self.calls[&id].queue as usize;
        let rules = self.queues[q].cfg.overflow.len();
        (0..rules).any(|i| self.queues[q].cfg.overflow[i].after == 0 && self.overflow_by_rule(id, i, now))
    }

    /// Overflow rule `rule` of the caller's queue: move the caller if the
    /// rule's conditions hold now. True if it moved.
    pub(super) fn overflow_by_rule(&mut self, id: CallId, rule: usize, now: Time) -> bool {
        let Some(c) = self.calls.get(&id) else { return false };
        if !self.overflow_applies(c.queue, rule) {
            return false;
        }
        let to = &self.queues[c.queue as usize].cfg.overflow[rule].to;
        match self.queue_by_name.get(to.as_str()) {
            Some(&to) => self.move_call(id, to, MoveReason::Overflow, now),
            None => false,
        }
    }

    pub(super) fn exit_call(&mut self, id: CallId, reason: ExitReason, now: Time) {
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

    pub(super) fn caller_hangup(&mut self, id: CallId, now: Time) {
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

    pub(super) fn transfer(&mut self, id: CallId, queue: &str, now: Time) {
        let Some(&to) = self.queue_by_name.get(queue).filter(|&&q| !self.queues[q as usize].retired) else {
            self.counters.stale_inputs += 1;
            return;
        };
        match self.calls.get(&id) {
            Some(c) if c.phase == CallPhase::Waiting => {
                self.move_call(id, to, MoveReason::Transfer, now);
            }
            _ => self.counters.stale_inputs += 1,
        }
    }

    /// A note on a live call: published, and handed to the call's thread
    /// for its transfer history.
    pub(super) fn note(&mut self, id: CallId, text: String, by: String, now: Time) {
        let Some(c) = self.calls.get(&id) else {
            self.counters.stale_inputs += 1;
            return;
        };
        let queue = self.queues[c.queue as usize].name.clone();
        self.actions.push(Action::Note { call: id, text: Arc::from(text.as_str()) });
        self.event(now, EventKind::CallNote { call: id, queue, text, by });
    }

    pub(super) fn callback_request(&mut self, id: CallId, number: String, now: Time) {
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
        if let Some(reason) = callback_refusal(&q.cfg, &number) {
            self.counters.callbacks_refused += 1;
            self.event(now, EventKind::CallbackRefused { call: id, queue: qname, number, reason });
            return;
        }
        c.callback = Some(number.clone());
        self.event(now, EventKind::CallbackRequested { call: id, queue: qname, number });
        self.actions.push(Action::Exit { call: id, reason: ExitReason::CallbackScheduled });
    }

    /// A callback task without a waiting caller ([`Input::CallbackNew`]).
    pub(super) fn callback_new(&mut self, id: CallId, queue: &str, caller: CallerInfo, number: String, now: Time) {
        let refused = match self.queue_by_name.get(queue).filter(|&&q| !self.queues[q as usize].retired) {
            None => Some("no such queue"),
            Some(&q) => callback_refusal(&self.queues[q as usize].cfg, &number),
        };
        if let Some(reason) = refused {
            self.counters.callbacks_refused += 1;
            self.event(now, EventKind::CallbackRefused { call: id, queue: queue.into(), number, reason });
            return;
        }
        self.call_enter(id, queue, caller, Some(number.clone()), now);
        if self.calls.contains_key(&id) {
            self.event(now, EventKind::CallbackRequested { call: id, queue: queue.into(), number });
        }
    }
}

/// Why a queue will not call `number` back, if it will not. The number goes
/// into a dial string: only plain numbers are called.
fn callback_refusal(q: &crate::core::config::QueueConfig, number: &str) -> Option<&'static str> {
    if q.callback_contact.is_none() {
        Some("the queue has no callback_contact")
    } else if !q.callback_numbers.matches(number) {
        Some("the number does not match callback_number_pattern")
    } else {
        None
    }
}
