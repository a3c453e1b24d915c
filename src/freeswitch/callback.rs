// SPDX-License-Identifier: GPL-2.0-or-later
//! ACD callbacks on FreeSWITCH.
//!
//! A caller who pressed the queue's callback digit kept its place in line
//! and hung up; when its turn comes the router sends [`Action::Callback`]
//! on its global channel. Two steps, so that no thread of ours sits in a
//! call:
//!
//! 1. The executor thread ([`super::dialer::executor`]) starts one
//!    short-lived thread per callback that
//!    rings the agent with `switch_ivr_originate` and no originator (the
//!    leg carries `hotline_offer`, `hotline_agent_id`, `hotline_callback`,
//!    so the hang-up handler reports a ring-out at once, as for a
//!    queue offer). When the agent answers, the leg is handed to its own
//!    session thread to run the internal application `hotline_callback
//!    <callid>` (what the originate API does for `&app(arg)`).
//! 2. [`exec`] runs on the agent's session: it reports the answer, rings
//!    the customer at the queue's `callback_contact` (`{number}` filled in)
//!    with the agent hearing ringback, bridges them and reports who ended
//!    the call.
//!
//! Between 1 and 2 the callback is *pending* ([`Callbacks`]). Whoever takes
//! it out reports it: the application when it starts, or the hang-up
//! handler when the agent hung up before the application ran. Pending
//! callbacks forbid unloading like active calls (see
//! [`super::runtime::close`]).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::core::{CallId, EndedBy, Input, OfferOutcome, OfferTarget};
use crate::ffi::cstr::to_cstring;

use super::dialer::{dial_value, ring_seconds};
use super::runtime::{ActiveCall, Runtime, GATE};
use super::session::Session;
use super::sys;

/// How long the customer may ring before the callback counts as failed.
const CUSTOMER_RING: Duration = Duration::from_secs(45);

/// A callback whose agent answered and whose application has not started.
pub struct Pending {
    queue: String,
    number: String,
    agent: OfferTarget,
    /// The router's offer number.
    seq: u32,
}

/// Callbacks between the agent's answer and their application.
#[derive(Default)]
pub struct Callbacks(Mutex<HashMap<CallId, Pending>>);

impl Callbacks {
    fn insert(&self, call: CallId, p: Pending) {
        self.lock().insert(call, p);
    }

    /// Take the callback out: `Some` for exactly one taker.
    pub fn take(&self, call: CallId) -> Option<Pending> {
        self.lock().remove(&call)
    }

    /// Callbacks pending now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<CallId, Pending>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Step 1: ring the agent; on answer hand the leg to `hotline_callback`.
pub fn ring_agent(call: CallId, seq: u32, queue: String, number: String, agent: OfferTarget, timeout: u64) {
    // A thread of ours, through the gate like a PBX entry: refused once
    // unload has closed the gate (the router is gone with it).
    crate::entry!("hotline callback", &GATE, (), |rt| {
        let _active = ActiveCall::new(rt);
        let report = |outcome| rt.router.report(Input::OfferResult { call, agent: agent.agent, outcome, seq });
        if rt.config().queue(&queue).and_then(|q| q.callback_contact.as_ref()).is_none() {
            log::error!("Hotline: callback {call} for queue {queue}, which has no callback_contact");
            return report(OfferOutcome::Cancelled);
        }
        let key = rt.offers.open(call, seq, &[agent.agent]);
        let secs = ring_seconds(timeout);
        let dial = format!(
            "{{hotline_offer={key},hotline_callback={call},hotline_callid={call},hotline_queue={},\
hotline_callback_number={},ignore_early_media=true,originate_timeout={secs}}}[hotline_agent_id={},hotline_agent={}]{}",
            dial_value(&queue),
            dial_value(&number),
            agent.agent,
            dial_value(&agent.name),
            agent.contact.trim()
        );
        log::debug!("Hotline: callback {call} rings {dial}");
        // Pending before the leg can hang up: the hang-up handler must find it.
        rt.callbacks.insert(call, Pending { queue, number, agent: agent.clone(), seq });
        let dial_c = to_cstring(&dial);
        let mut leg: *mut sys::switch_core_session_t = std::ptr::null_mut();
        let mut cause: i32 = 0;
        // SAFETY: no originator; out-parameters are locals. On success leg
        // is the answered, read-locked session, unlocked below.
        let (names, values) = super::dialer::OriginateVars::for_targets(std::slice::from_ref(&agent)).pointers();
        let rc = unsafe {
            sys::hotline_fs_originate(
                std::ptr::null_mut(),
                dial_c.as_ptr(),
                secs,
                names.as_ptr(),
                values.as_ptr(),
                names.len() as i32,
                &mut leg,
                &mut cause,
            )
        };
        let unreported = rt.offers.close(key);
        if rc != 0 || leg.is_null() {
            rt.callbacks.take(call);
            if !unreported.is_empty() {
                report(crate::flow::cause::offer_outcome(cause.max(0) as u32));
            }
            return;
        }
        let arg = to_cstring(&call.to_string());
        // SAFETY: the answered leg, read-locked by originate; the shim
        // unlocks it.
        unsafe { sys::hotline_fs_leg_execute(leg, c"hotline_callback".as_ptr(), arg.as_ptr()) };
    })
}

/// The agent's leg hung up after answering (hang-up handler): if
/// its application never started, the callback ends here.
pub fn agent_gone_before_start(rt: &Runtime, call: CallId) {
    if let Some(p) = rt.callbacks.take(call) {
        log::info!("Hotline: callback {call}: agent {} hung up before the customer was called", p.agent.name);
        rt.router.report(Input::OfferResult { call, agent: p.agent.agent, outcome: OfferOutcome::Answered, seq: p.seq });
        rt.router.report_final(Input::CallEnded { call, by: EndedBy::Agent });
    }
}

/// Step 2, `hotline_callback <callid>` on the agent's session.
pub fn exec(rt: &Runtime, s: &Session<'_>, args: &str) {
    let call = args.trim().parse::<u64>().ok().map(CallId);
    let Some((call, p)) = call.and_then(|c| Some((c, rt.callbacks.take(c)?))) else {
        // Internal application: only the module starts it, with a pending id.
        log::error!("hotline_callback({args}): no such callback waiting (internal application of mod_hotline)");
        s.hangup(sys::switch_call_cause_t::SWITCH_CAUSE_NORMAL_TEMPORARY_FAILURE.0 as i32);
        return;
    };
    rt.router.report(Input::OfferResult { call, agent: p.agent.agent, outcome: OfferOutcome::Answered, seq: p.seq });
    let Some(template) = rt.config().queue(&p.queue).and_then(|q| q.callback_contact.clone()) else {
        log::error!("hotline_callback: queue {} lost its callback_contact in a reload", p.queue);
        return end(rt, s, call, EndedBy::Failed);
    };
    let dial = format!(
        "{{hotline_callid={call},hotline_queue={},ignore_early_media=true}}{}",
        dial_value(&p.queue),
        crate::flow::callback::customer_dial(&template, &p.number)
    );
    log::info!("Hotline: callback {call}: agent {} answered; calling {}", p.agent.name, p.number);
    let dial_c = to_cstring(&dial);
    let mut customer: *mut sys::switch_core_session_t = std::ptr::null_mut();
    let mut cause: i32 = 0;
    let secs = CUSTOMER_RING.as_secs() as u32;
    // SAFETY: our live session on its own thread; out-parameters are
    // locals; on success the customer leg is read-locked and handed to
    // hotline_fs_bridge, which unlocks it.
    let rc = unsafe {
        sys::hotline_fs_originate(s.as_ptr(), dial_c.as_ptr(), secs, std::ptr::null(), std::ptr::null(), 0, &mut customer, &mut cause)
    };
    if rc != 0 || customer.is_null() {
        log::info!("Hotline: callback {call}: customer {} not reached (cause {cause})", p.number);
        return end(rt, s, call, EndedBy::Failed);
    }
    let hab = s.get_var("hangup_after_bridge");
    s.set_var("hangup_after_bridge", Some("false"));
    // SAFETY: as above; customer is not used after this.
    unsafe { sys::hotline_fs_bridge(s.as_ptr(), customer) };
    s.set_var("hangup_after_bridge", hab.as_deref());
    let by = if s.transferred() {
        EndedBy::Transfer
    } else if !s.ready() {
        EndedBy::Agent
    } else {
        EndedBy::Caller
    };
    end(rt, s, call, by);
}

fn end(rt: &Runtime, s: &Session<'_>, call: CallId, by: EndedBy) {
    rt.router.report_final(Input::CallEnded { call, by });
    log::debug!("hotline_callback: call {call} ended by {}", by.name());
    if by != EndedBy::Transfer && s.ready() {
        s.hangup(sys::switch_call_cause_t::SWITCH_CAUSE_NORMAL_CLEARING.0 as i32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_callback_is_taken_once_and_counted_meanwhile() {
        let c = Callbacks::default();
        let agent = OfferTarget { agent: 1, name: "a".into(), contact: "null/1".into(), auto_answer: false, popup_url: None };
        c.insert(CallId(4), Pending { queue: "q".into(), number: "5".into(), agent, seq: 1 });
        assert_eq!(c.len(), 1, "unload sees it");
        assert!(c.take(CallId(4)).is_some());
        assert!(c.take(CallId(4)).is_none());
        assert!(c.is_empty());
    }
}
