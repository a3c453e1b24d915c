// SPDX-License-Identifier: GPL-2.0-or-later
//! Agent legs being rung, so each leg's outcome reaches the router exactly
//! once and as soon as it is known.
//!
//! `switch_ivr_originate` (on the caller's thread) returns only when the
//! whole offer is decided: someone answered, every leg failed, or the ring
//! timeout passed. With one agent that is already "at once". With ring-all,
//! a leg that fails early (busy, unreachable) would otherwise be reported
//! only when the last leg gives up, so each leg also carries the channel
//! variables `hotline_offer` and `hotline_agent_id`, and the module's
//! hang-up handler (a global CS_HANGUP state handler, run in the leg's own
//! thread) reports an unanswered leg the moment it
//! hangs up ([`leg_hangup`]).
//!
//! Both paths take the agent out of the offer's pending set under one lock:
//! whichever comes first reports, the other finds nothing. The caller's
//! thread closes the offer when originate returns, so legs cancelled by the
//! answer report nothing.
//!
//! The talk that follows is registered too ([`Offers::start_talk`]): when
//! the agent hangs up first, the hang-up handler ends the call in the router the
//! moment the agent's leg hangs up, so the agent gets its next caller
//! without waiting for the caller's bridge to notice (which takes up to a
//! frame). It does so only while the caller is still up and not
//! transferred (else the caller's thread reports the caller's hang-up or the
//! transfer); the talk's [`TalkEnd`] makes exactly one of the two report.

use std::collections::HashMap;
use std::os::raw::{c_char, c_int};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::core::input::AgentId;
use crate::core::{CallId, Input};
use crate::ffi::cstr::to_cow_lossy;
use crate::flow::TalkEnd;

use super::runtime;

struct Pending {
    call: CallId,
    seq: u32,
    agents: Vec<AgentId>,
}

/// An answered offer being talked: who, the caller's session, and the
/// talk's end (reported once, by whoever sees it first).
struct Talk {
    agent: AgentId,
    caller: String,
    end: Arc<TalkEnd>,
}

#[derive(Default)]
pub struct Offers {
    next: AtomicU64,
    open: Mutex<HashMap<u64, Pending>>,
    talks: Mutex<HashMap<u64, Talk>>,
}

impl Offers {
    /// Start an offer of `call` to `agents`; the key goes into the legs'
    /// `hotline_offer` variable.
    pub fn open(&self, call: CallId, seq: u32, agents: &[AgentId]) -> u64 {
        let key = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        self.lock().insert(key, Pending { call, seq, agents: agents.to_vec() });
        key
    }

    /// Take `agent` out of offer `key`: `Some((call, seq))` if it was
    /// still pending (the caller of this reports it).
    pub fn take(&self, key: u64, agent: AgentId) -> Option<(CallId, u32)> {
        let mut open = self.lock();
        let p = open.get_mut(&key)?;
        let i = p.agents.iter().position(|a| *a == agent)?;
        p.agents.swap_remove(i);
        Some((p.call, p.seq))
    }

    /// End offer `key`: the agents nobody has reported yet.
    pub fn close(&self, key: u64) -> Vec<AgentId> {
        self.lock().remove(&key).map(|p| p.agents).unwrap_or_default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Pending>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Offer `key` was answered by `agent` and is bridged to the caller
    /// whose session is `caller`.
    pub fn start_talk(&self, key: u64, agent: AgentId, caller: &str, end: Arc<TalkEnd>) {
        self.talks().insert(key, Talk { agent, caller: caller.to_string(), end });
    }

    /// The caller's bridge of offer `key` is over.
    pub fn end_talk(&self, key: u64) {
        self.talks().remove(&key);
    }

    /// The talk of offer `key` if `agent` is the one talking: its end and
    /// the caller's session.
    fn talk_of(&self, key: u64, agent: AgentId) -> Option<(Arc<TalkEnd>, String)> {
        self.talks().get(&key).filter(|t| t.agent == agent).map(|t| (t.end.clone(), t.caller.clone()))
    }

    fn talks(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Talk>> {
        self.talks.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One of our agent legs hangs up (its own thread; the shim filters
/// on `hotline_offer`). Unanswered legs still pending are reported now.
///
/// # Safety
/// `offer` and `agent` are NUL-terminated strings valid for the call;
/// `callback` is NULL or one.
pub unsafe extern "C" fn leg_hangup(offer: *const c_char, agent: *const c_char, callback: *const c_char, c: c_int, answered: c_int) {
    // The gate first: nothing is touched once unload has closed it.
    crate::entry!("hotline leg hangup", &runtime::GATE, (), |rt| {
        // SAFETY: per the contract above.
        let (offer, agent) = unsafe { (to_cow_lossy(offer), to_cow_lossy(agent)) };
        let (Ok(key), Ok(agent)) = (offer.trim().parse::<u64>(), agent.trim().parse::<AgentId>()) else { return };
        if answered != 0 {
            // An answered leg: a callback's agent who hung up before the
            // callback's application started, or a talking agent who hung
            // up first. (A leg that answered but lost a ring-all race was
            // freed by the router with the winner's Answered.)
            // SAFETY: NULL or a NUL-terminated string valid for the call.
            let cb = unsafe { to_cow_lossy(callback) };
            if let Ok(id) = cb.trim().parse::<u64>() {
                return super::callback::agent_gone_before_start(rt, CallId(id));
            }
            return agent_ended_talk(rt, key, agent);
        }
        if let Some((call, seq)) = rt.offers.take(key, agent) {
            let outcome = crate::flow::cause::offer_outcome(c.max(0) as u32);
            log::debug!("Hotline: call {call} agent #{agent}: {} (leg hung up, cause {c})", outcome.name());
            rt.router.report(Input::OfferResult { call, agent, outcome, seq });
        }
    })
}

/// A talking agent's leg hung up: if the caller is still there (not
/// hung up, not transferred) the agent ended the call; end it in the router
/// now, unless the caller's thread already did.
fn agent_ended_talk(rt: &super::runtime::Runtime, key: u64, agent: AgentId) {
    let Some((end, caller)) = rt.offers.talk_of(key, agent) else { return };
    let uuid = crate::ffi::cstr::to_cstring(&caller);
    // SAFETY: a valid C string; the shim locates and unlocks the session.
    if unsafe { super::sys::hotline_fs_uuid_state(uuid.as_ptr()) } != 0 {
        return;
    }
    if end.end(&rt.router, crate::core::EndedBy::Agent) {
        log::debug!("Hotline: call {}: agent #{agent} hung up", end.call());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_agent_is_reported_once() {
        let o = Offers::default();
        let k = o.open(CallId(7), 4, &[1, 2, 3]);
        assert_eq!(o.take(k, 2), Some((CallId(7), 4)));
        assert_eq!(o.take(k, 2), None);
        let mut rest = o.close(k);
        rest.sort();
        assert_eq!(rest, [1, 3]);
        assert_eq!(o.take(k, 1), None);
        assert_ne!(o.open(CallId(7), 5, &[1]), k);
    }

    #[test]
    fn a_talk_is_found_only_for_its_agent() {
        let o = Offers::default();
        o.start_talk(5, 2, "uuid-1", TalkEnd::new(CallId(7)));
        assert!(o.talk_of(5, 3).is_none(), "a ring-all loser is not the talker");
        let (end, caller) = o.talk_of(5, 2).expect("the talker");
        assert_eq!((end.call(), caller.as_str()), (CallId(7), "uuid-1"));
        o.end_talk(5);
        assert!(o.talk_of(5, 2).is_none());
    }
}
