//! Stuck agents and calls: a PBX that never reports a call's end leaves
//! its agent ringing or talking for ever. An operator resets the agent;
//! the router's sweep asks the PBX about long talks ([`Engine::long_calls`])
//! and reports the ones whose channels are gone.

use super::Engine;
use crate::core::agent::AgentState;
use crate::core::call::{CallId, CallPhase};
use crate::core::event::EventKind;
use crate::core::input::{EndedBy, OfferOutcome};
use crate::core::Time;

/// A talking call for the sweep: (call, answered at, the caller's data).
pub type LongCall = (CallId, Time, Vec<(String, String)>);

impl Engine {
    /// Free a ringing or talking agent: its offer is cancelled (the caller
    /// waits again) or its talk ended as failed. The agent is available at
    /// once, or takes the state it asked for meanwhile (logout, break).
    pub(super) fn agent_reset(&mut self, name: &str, now: Time) {
        let Some(a) = self.known_agent("reset", name, now) else { return };
        let agent = &self.agents[a as usize];
        let (call, talking) = match agent.state {
            AgentState::Ringing(c) => (c, false),
            AgentState::OnCall(c) => (c, true),
            _ => return self.refuse(now, "reset", name, "", "the agent is not ringing or on a call"),
        };
        self.event(now, EventKind::AgentReset { agent: agent.name.clone(), call });
        if talking {
            self.end_talk(call, EndedBy::Failed, false, now);
        } else {
            let seq = self.calls.get(&call).map_or(0, |c| c.offer_seq);
            self.offer_result(call, a, OfferOutcome::Cancelled, seq, now);
        }
    }

    /// The PBX found no channel for talking call `call`.
    pub(super) fn call_gone(&mut self, call: CallId, now: Time) {
        let Some((q, a)) = self.calls.get(&call).filter(|c| c.phase == CallPhase::Talking).and_then(|c| Some((c.queue, c.agent?))) else {
            self.counters.stale_inputs += 1;
            return;
        };
        let (queue, agent) = (self.queues[q as usize].name.clone(), self.agents[a as usize].name.clone());
        self.event(now, EventKind::CallGone { call, queue, agent });
        self.end_talk(call, EndedBy::Failed, false, now);
    }

    /// Talking calls answered more than `older_than` ago, oldest first:
    /// (call, answered at, the caller's data, which carries the PBX's
    /// channel and unique id). For the router's sweep, which asks the PBX
    /// whether their channels still exist; a scan of the live calls.
    /// Callbacks are left out: their caller's channel is long gone while the
    /// agent talks to the customer on legs of their own.
    pub fn long_calls(&self, now: Time, older_than: Time) -> Vec<LongCall> {
        let mut v: Vec<_> = self
            .calls
            .values()
            .filter(|c| c.phase == CallPhase::Talking && c.callback.is_none() && now.saturating_sub(c.answered_at) > older_than)
            .map(|c| (c.id, c.answered_at, c.caller.data.clone()))
            .collect();
        v.sort_by_key(|(id, at, _)| (*at, *id));
        v
    }
}
