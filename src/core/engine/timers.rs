//! Timers: what each deadline does when it comes (timers are never
//! cancelled; each checks on firing whether it still applies).

use super::{Engine, NO_ANSWER_BREAK};
use crate::core::agent::AgentState;
use crate::core::call::CallPhase;
use crate::core::input::{Action, ExitReason};
use crate::core::timer::TimerKind;
use crate::core::Time;

impl Engine {
    pub(super) fn fire(&mut self, kind: TimerKind, now: Time) {
        match kind {
            TimerKind::MaxWait { call, epoch } => {
                let Some(c) = self.calls.get_mut(&call) else { return };
                if c.callback.is_some() || c.epoch != epoch {
                    return;
                }
                let Some(max) = self.queues[c.queue as usize].cfg.max_wait else { return };
                if now.saturating_sub(c.queue_entered) < max {
                    // A reload gave the queue a longer limit.
                    self.timers.arm(c.queue_entered + max, TimerKind::MaxWait { call, epoch });
                    return;
                }
                match c.phase {
                    CallPhase::Waiting => self.exit_call(call, ExitReason::Timeout, now),
                    CallPhase::Offering => c.expired = true,
                    CallPhase::Talking => {}
                }
            }
            TimerKind::Widen { call, epoch, step } => {
                if self.calls.get(&call).is_some_and(|c| c.epoch == epoch) {
                    self.apply_widen(call, step as usize, now);
                    self.try_match_call(call, now);
                }
            }
            TimerKind::Overflow { call, epoch, rule } => {
                let Some(c) = self.calls.get_mut(&call) else { return };
                if c.epoch != epoch {
                    return;
                }
                match c.phase {
                    CallPhase::Waiting => {
                        self.overflow_by_rule(call, rule as usize, now);
                    }
                    CallPhase::Offering => c.overflow_due.push(rule),
                    CallPhase::Talking => {}
                }
            }
            TimerKind::Announce { call, epoch } => {
                let Some(c) = self.calls.get(&call) else { return };
                if c.epoch != epoch || c.callback.is_some() {
                    return;
                }
                let q = c.queue as usize;
                if let Some(every) = self.queues[q].cfg.announce_every {
                    self.timers.arm(now + every, TimerKind::Announce { call, epoch });
                }
                if c.phase != CallPhase::Waiting {
                    return;
                }
                let position = self.position(call).unwrap_or(1);
                let expected_wait = self.handle_time[q].expected_wait(position, self.queues[q].logged_in);
                self.actions.push(Action::Announce { call, position, expected_wait });
            }
            TimerKind::Recheck { call } => {
                self.try_match_call(call, now);
            }
            TimerKind::OfferWatchdog { call, seq } => self.offer_watchdog(call, seq, now),
            TimerKind::NoAnswerBreakEnd { agent, since } => {
                let ag = &self.agents[agent as usize];
                if ag.since == since && matches!(&ag.state, AgentState::Break(r) if r == NO_ANSWER_BREAK) {
                    self.agents[agent as usize].misses = 0;
                    self.set_state(agent, AgentState::Available, now);
                    self.try_match_agent(agent, now);
                }
            }
            TimerKind::RingEscalate { call, seq } => self.ring_escalate(call, seq, now),
            TimerKind::BackoffEnd { agent, until } => {
                if self.agents[agent as usize].held_until == Some(until) {
                    self.agents[agent as usize].held_until = None;
                    self.refile(agent);
                    self.try_match_agent(agent, now);
                }
            }
            TimerKind::WrapUpEnd { agent, until } => {
                if self.agents[agent as usize].state == (AgentState::WrapUp { until }) {
                    self.set_state(agent, AgentState::Available, now);
                    self.try_match_agent(agent, now);
                }
            }
        }
    }
}
