//! The end of a talk: the agent's counters, wrap-up or the state asked for
//! during the call, sticky memory and the queue's handle-time estimate.

use super::{wait_key, Engine};
use crate::core::agent::AgentState;
use crate::core::call::{Call, CallId, CallPhase};
use crate::core::event::EventKind;
use crate::core::input::{Action, EndedBy};
use crate::core::timer::TimerKind;
use crate::core::Time;

impl Engine {
    pub(super) fn call_ended(&mut self, id: CallId, by: EndedBy, now: Time) {
        let Some(c) = self.calls.get(&id) else {
            self.counters.stale_inputs += 1;
            return;
        };
        if c.phase != CallPhase::Talking {
            // Ended before an agent answered: the caller gave up.
            return self.caller_hangup(id, now);
        }
        // A talk the agent ended while the caller is still there, in a
        // queue that requeues short talks: the caller's thread waits for
        // the verdict (Requeued or TalkDone).
        let cfg = &self.queues[c.queue as usize].cfg;
        let verdict = by == EndedBy::Agent && c.callback.is_none() && cfg.requeue_short.is_some();
        if verdict {
            let short = cfg.requeue_short.is_some_and(|d| now.saturating_sub(c.answered_at) < d);
            if short && c.requeues < cfg.requeue_max {
                return self.requeue(id, now);
            }
        }
        self.end_talk(id, by, true, now);
        if verdict {
            self.actions.push(Action::TalkDone { call: id });
        }
    }

    /// The agent hung up a talk shorter than `requeue_short_seconds`: the
    /// agent's side ends as any talk, the caller goes back to the head of
    /// the line, skipping that agent, and is offered again at once.
    fn requeue(&mut self, id: CallId, now: Time) {
        let Some(mut c) = self.calls.remove(&id) else { return };
        let Some(a) = c.agent.take() else { return };
        self.finish_talk(&c, a, EndedBy::Agent, true, now);
        c.requeues += 1;
        c.phase = CallPhase::Waiting;
        c.agent_leg.clear();
        // Ahead of everyone waiting, whatever their priority.
        c.rank = i64::MAX / 2;
        let cfg = &self.queues[c.queue as usize].cfg;
        let skip = cfg.retry_exclude.max(cfg.requeue_short.unwrap_or(0));
        c.excluded.retain(|&(_, until)| until > now);
        c.excluded.push((a, now + skip));
        let (key, q, needs, requeues) = (wait_key(&c), c.queue, c.needs.clone(), c.requeues);
        let talk = now.saturating_sub(c.answered_at);
        self.calls.insert(id, c);
        self.queues[q as usize].line_insert(key, id, &needs);
        self.timers.arm(now + skip, TimerKind::Recheck { call: id });
        self.counters.requeues += 1;
        let (queue, agent) = (self.queues[q as usize].name.clone(), self.agents[a as usize].name.clone());
        self.event(now, EventKind::CallRequeued { call: id, queue, agent, talk, requeues });
        self.actions.push(Action::Requeued { call: id });
        self.try_match_call(id, now);
    }

    /// End talking call `id`. `reported`: the PBX saw the talk end. If not
    /// (an operator reset, channels found gone), when it really ended is
    /// unknown: the agent is freed without wrap-up, and the talk does not
    /// feed the handle-time estimate callers are told.
    pub(super) fn end_talk(&mut self, id: CallId, by: EndedBy, reported: bool, now: Time) {
        let Some(c) = self.calls.remove(&id) else { return };
        let Some(a) = c.agent else { return };
        self.finish_talk(&c, a, by, reported, now);
    }

    /// The agent's side of the end of talk `c` (already out of the calls).
    fn finish_talk(&mut self, c: &Call, a: u32, by: EndedBy, reported: bool, now: Time) {
        let id = c.id;
        let talk = now.saturating_sub(c.answered_at);
        let qix = c.queue as usize;
        let queue_wrapup = self.queues[qix].cfg.wrapup;
        let sticky = self.queues[qix].cfg.sticky.is_some();
        let agent = &mut self.agents[a as usize];
        agent.calls += 1;
        agent.talk_ms += talk;
        agent.idle_since = now;
        let wrapup = if reported { agent.cfg.wrapup.unwrap_or(queue_wrapup) } else { 0 };
        let after = agent.after_call.take();
        let name = agent.name.clone();
        if sticky && !c.caller.number.is_empty() {
            let queues = &self.queues;
            // Forgetting keeps what the longest sticky window still needs.
            let window = || queues.iter().filter_map(|q| q.cfg.sticky).max().unwrap_or(0);
            self.prefs.remember(c.caller.number.clone(), a, now, window);
        }
        if reported {
            self.handle_time[qix].observe(talk + wrapup);
        }
        let qname = self.queues[qix].name.clone();
        let wrapup_used = if after.is_some() { 0 } else { wrapup };
        self.event(now, EventKind::CallEnded { call: id, queue: qname, agent: name, talk, wrapup: wrapup_used, by });
        match after {
            Some(state) => self.set_state(a, state, now),
            None if wrapup > 0 => {
                let until = now + wrapup;
                self.set_state(a, AgentState::WrapUp { until }, now);
                self.timers.arm(until, TimerKind::WrapUpEnd { agent: a, until });
            }
            None => self.set_state(a, AgentState::Available, now),
        }
        self.leave_pending(a, now);
        self.try_match_agent(a, now);
    }

}

/// A queue's handle time (talk + wrap-up), an exponential moving average
/// with weight 0.1 on the newest call: it follows the day's changes within
/// a few dozen calls and needs no history. Feeds the expected wait
/// announced to callers.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HandleTime(Option<f64>);

impl HandleTime {
    /// One finished call's talk + wrap-up (ms).
    pub fn observe(&mut self, handle: Time) {
        let handle = handle as f64;
        self.0 = Some(match self.0 {
            Some(v) => v * 0.9 + handle * 0.1,
            None => handle,
        });
    }

    /// The estimate (ms); `None` before the first call.
    pub fn estimate(&self) -> Option<f64> {
        self.0
    }

    /// Expected wait of the caller at `position` (1-based) with `staffed`
    /// agents logged in: the calls ahead, shared among the agents.
    pub fn expected_wait(&self, position: usize, staffed: usize) -> Option<Time> {
        let staffed = staffed.max(1) as f64;
        self.estimate().map(|aht| (position as f64 * aht / staffed) as Time)
    }
}
