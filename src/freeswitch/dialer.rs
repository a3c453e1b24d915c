// SPDX-License-Identifier: GPL-2.0-or-later
//! Ringing agents from threads of the module's own, not the caller's.
//!
//! A waiting caller's session thread runs its hold music, so it looks at
//! anything only once per media frame (20 ms): a loopback channel's reads
//! are paced by a soft timer, an RTP read by packets. Had that thread to
//! ring the agent, every offer would start up to a frame late. So the
//! router sends offers to its global channel as well
//! ([`crate::router::RouterOptions::offers_to_globals`]); the executor
//! thread receives one within microseconds and rings the agents on a
//! thread of its own ([`ring`]) with `switch_ivr_originate` and no
//! originator, while the caller keeps hearing its music. Offers that reach
//! the caller's own channel (the global channel was full) go the same way.
//!
//! Each waiting caller has a [`Slot`], opened before the router hears of
//! the call:
//! - when an agent answers, the ringing thread hands the agent's leg over
//!   by UUID and wakes the caller, whose thread bridges at its next frame;
//! - when the caller leaves (hang-up, exit, transfer), its thread closes
//!   the slot: an originate in progress is cancelled through
//!   `cancel_cause`, and a leg answered meanwhile is hung up.
//!
//! Leg outcomes are reported as before (see [`super::offers`]); a ringing
//! thread reports nothing once its caller is gone, since the router frees
//! the offered agents with the caller's hang-up.

use std::collections::HashMap;
use std::ffi::CStr;
use std::os::raw::c_char;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

use crossbeam_channel::Receiver;

use crate::core::input::AgentId;
use crate::core::{Action, CallId, Input, OfferOutcome, OfferTarget};
use crate::ffi::cstr::{to_cstring, to_string_lossy};
use crate::router::Wake;

use super::runtime::{self, Runtime};
use super::sys;

/// An agent's leg that answered, handed to the caller's thread by UUID.
pub struct Answered {
    pub uuid: String,
    pub winner: OfferTarget,
    /// The router's offer number.
    pub seq: u32,
    /// The offer (its talk is registered under this key).
    pub key: u64,
}

/// Why an answered leg was not handed over.
pub enum Refused {
    CallerGone(Answered),
    AlreadyAnswered(Answered),
}

#[derive(Default)]
struct SlotState {
    closed: bool,
    /// Answered legs not yet taken, oldest first (of different offers:
    /// the router decides which stands).
    answered: std::collections::VecDeque<Answered>,
    queue: String,
}

/// One waiting caller, as its ringing threads see it.
pub struct Slot {
    /// Shown to the agent.
    number: String,
    name: String,
    /// The caller's session, named on every agent leg (`hotline_caller_uuid`).
    uuid: String,
    /// Set once the router has the call.
    wake: OnceLock<Arc<dyn Wake>>,
    /// One `switch_call_cause_t` per originate in progress, read by
    /// originate: non-zero cancels (the caller left, or another leg of the
    /// same caller answered first: ring escalation).
    rings: Mutex<Vec<(u32, Arc<AtomicU32>)>>,
    state: Mutex<SlotState>,
}

impl Slot {
    fn lock(&self) -> std::sync::MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_wake(&self, wake: Arc<dyn Wake>) {
        let _ = self.wake.set(wake);
    }

    /// The caller moved to another queue (legs carry the queue's name).
    pub fn set_queue(&self, queue: &str) {
        self.lock().queue = queue.to_string();
    }

    /// The answered leg, if one was handed over.
    pub fn take_answered(&self) -> Option<Answered> {
        self.lock().answered.pop_front()
    }

    /// The router connected one answer: the legs still waiting answered
    /// older offers (stale), for the caller's thread to report and hang up.
    /// (Legs answered later wait: after a short talk the caller may be
    /// offered again while its bridge is still ending.)
    pub fn take_all_answered(&self) -> Vec<Answered> {
        self.lock().answered.drain(..).collect()
    }

    fn closed(&self) -> bool {
        self.lock().closed
    }

    /// Hand an answered leg to the caller: refused if the caller is gone,
    /// or if another agent's leg is already waiting for it (never kept: it
    /// would leave the first agent on a silent live leg). Handed over, the
    /// other originates of the same offer (`mine` excepted) are cancelled:
    /// first answer wins.
    fn hand_over(&self, a: Answered, mine: &Arc<AtomicU32>) -> Result<(), Refused> {
        let seq = a.seq;
        {
            let mut st = self.lock();
            if st.closed {
                return Err(Refused::CallerGone(a));
            }
            if st.answered.iter().any(|b| b.seq == seq) {
                return Err(Refused::AlreadyAnswered(a));
            }
            st.answered.push_back(a);
        }
        for (_, r) in self.rings_lock().iter().filter(|(s, r)| *s == seq && !Arc::ptr_eq(r, mine)) {
            let _ = r.compare_exchange(0, LOSE_RACE, Ordering::SeqCst, Ordering::SeqCst);
        }
        if let Some(w) = self.wake.get() {
            w.wake();
        }
        Ok(())
    }

    fn new(number: &str, name: &str, uuid: &str, queue: &str) -> Slot {
        Slot {
            number: number.to_string(),
            name: name.to_string(),
            uuid: uuid.to_string(),
            wake: OnceLock::new(),
            rings: Mutex::new(Vec::new()),
            state: Mutex::new(SlotState { queue: queue.to_string(), ..Default::default() }),
        }
    }

    /// Mark the caller gone and cancel ringing; a leg answered meanwhile
    /// comes back (for [`Slot::close`] to hang up).
    fn shut(&self) -> Vec<Answered> {
        let left = {
            let mut st = self.lock();
            st.closed = true;
            st.answered.drain(..).collect()
        };
        for (_, r) in self.rings_lock().iter() {
            r.store(sys::switch_call_cause_t::SWITCH_CAUSE_ORIGINATOR_CANCEL.0, Ordering::SeqCst);
        }
        left
    }

    fn rings_lock(&self) -> std::sync::MutexGuard<'_, Vec<(u32, Arc<AtomicU32>)>> {
        self.rings.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cancel cause of a new originate of offer `seq` (already set if
    /// the caller left).
    fn add_ring(&self, seq: u32) -> Arc<AtomicU32> {
        let closed = self.closed();
        let c = Arc::new(AtomicU32::new(if closed { sys::switch_call_cause_t::SWITCH_CAUSE_ORIGINATOR_CANCEL.0 } else { 0 }));
        self.rings_lock().push((seq, c.clone()));
        c
    }

    fn remove_ring(&self, c: &Arc<AtomicU32>) {
        self.rings_lock().retain(|(_, r)| !Arc::ptr_eq(r, c));
    }

    /// The caller leaves: cancel ringing, hang up a leg answered for
    /// nobody. Idempotent.
    pub fn close(&self) {
        for a in self.shut() {
            hangup_uuid(&a.uuid, sys::switch_call_cause_t::SWITCH_CAUSE_ORIGINATOR_CANCEL.0 as i32);
        }
    }
}

/// The waiting callers' slots, and the ringing threads started for offers
/// that reached a caller's own channel (joined at unload).
#[derive(Default)]
pub struct Dialer {
    slots: Mutex<HashMap<CallId, Arc<Slot>>>,
    extra: Mutex<Vec<JoinHandle<()>>>,
}

/// Closes and forgets the caller's slot when its queue application ends.
pub struct SlotGuard<'a> {
    dialer: &'a Dialer,
    call: CallId,
    pub slot: Arc<Slot>,
}

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        self.slot.close();
        self.dialer.lock().remove(&self.call);
    }
}

impl Dialer {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<CallId, Arc<Slot>>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Ring an offer that reached the caller's own channel.
    pub fn ring_from_caller(&self, call: CallId, seq: u32, targets: Vec<OfferTarget>, deadline: u64) {
        let agents = targets.iter().map(|t| t.agent).collect();
        match spawn(call, seq, targets, deadline) {
            Ok(t) => {
                let mut extra = self.extra.lock().unwrap_or_else(|e| e.into_inner());
                extra.retain(|t| !t.is_finished());
                extra.push(t);
            }
            Err(e) => cannot_ring(call, seq, agents, e),
        }
    }

    /// Keep a thread of the module's (an announcement to an agent) to join
    /// at unload.
    pub fn track(&self, t: JoinHandle<()>) {
        let mut extra = self.extra.lock().unwrap_or_else(|e| e.into_inner());
        extra.retain(|t| !t.is_finished());
        extra.push(t);
    }

    /// Join the threads of [`Dialer::ring_from_caller`] and [`Dialer::track`].
    pub fn join(&self) {
        let threads = std::mem::take(&mut *self.extra.lock().unwrap_or_else(|e| e.into_inner()));
        for t in threads {
            let _ = t.join();
        }
    }

    /// Open the slot of `call` (before the router hears of it).
    pub fn open(&self, call: CallId, number: &str, name: &str, uuid: &str, queue: &str) -> SlotGuard<'_> {
        let slot = Arc::new(Slot::new(number, name, uuid, queue));
        self.lock().insert(call, slot.clone());
        SlotGuard { dialer: self, call, slot }
    }

    fn slot(&self, call: CallId) -> Option<Arc<Slot>> {
        self.lock().get(&call).cloned()
    }
}

/// Consume the router's global actions (offers, callbacks) until the
/// router stops; joins every thread it started before returning.
pub fn executor(rx: Receiver<Action>) {
    let mut running: Vec<JoinHandle<()>> = Vec::new();
    while let Ok(action) = rx.recv() {
        let call = action.call();
        let (seq, agents, spawned) = match action {
            Action::Offer { call, seq, targets, deadline, .. } => (seq, targets.iter().map(|t| t.agent).collect(), spawn(call, seq, targets, deadline)),
            Action::Callback { call, seq, queue, number, target, timeout } => (
                seq,
                vec![target.agent],
                std::thread::Builder::new()
                    .name(format!("hotline-cb-{call}"))
                    .spawn(move || super::callback::ring_agent(call, seq, queue.to_string(), number, target, timeout)),
            ),
            _ => continue,
        };
        running.retain(|t| !t.is_finished());
        match spawned {
            Ok(t) => running.push(t),
            Err(e) => cannot_ring(call, seq, agents, e),
        }
    }
    for t in running {
        let _ = t.join();
    }
}

/// Ring an offer on a thread of its own, until `deadline` (router clock).
pub fn spawn(call: CallId, seq: u32, targets: Vec<OfferTarget>, deadline: u64) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new().name(format!("hotline-ring-{call}")).spawn(move || ring_guarded(call, seq, &targets, deadline))
}

/// No thread for an offer: its agents count as unreachable for this
/// caller, who stays in line.
pub fn cannot_ring(call: CallId, seq: u32, agents: Vec<AgentId>, e: std::io::Error) {
    log::error!("Hotline: call {call}: cannot start a ringing thread: {e}");
    crate::entry!("hotline ring", &runtime::GATE, (), |rt| {
        for agent in agents {
            rt.router.report(Input::OfferResult { call, agent, outcome: OfferOutcome::Unavailable, seq });
        }
    })
}

fn ring_guarded(call: CallId, seq: u32, targets: &[OfferTarget], deadline: u64) {
    // A thread of ours, through the gate like a PBX entry: refused once
    // unload has closed the gate.
    crate::entry!("hotline ring", &runtime::GATE, (), |rt| {
        // The offer rings until its deadline, however late this starts.
        let timeout = deadline.saturating_sub(rt.router.now());
        ring(rt, call, seq, targets, timeout)
    })
}

/// Ring `targets` at once for `call`; the first to answer is handed to the
/// caller. Every other outcome goes to the router.
fn ring(rt: &Runtime, call: CallId, seq: u32, targets: &[OfferTarget], timeout: u64) {
    let Some(slot) = rt.dialer.slot(call) else {
        // The caller's application ended; its hang-up freed the agents.
        return;
    };
    if slot.closed() {
        return;
    }
    let agents: Vec<AgentId> = targets.iter().map(|t| t.agent).collect();
    let key = rt.offers.open(call, seq, &agents);
    let cancel = slot.add_ring(seq);
    let secs = ring_seconds(timeout);
    let queue = slot.lock().queue.clone();
    let dial = dial_string(targets, call, &queue, key, secs, &slot.number, &slot.name, &slot.uuid);
    log::debug!("Hotline: call {call} rings {dial}");
    let dial_c = to_cstring(&dial);
    let mut leg: *mut sys::switch_core_session_t = std::ptr::null_mut();
    let mut cause: i32 = 0;
    let (names, values) = OriginateVars::for_targets(targets).pointers();
    // SAFETY: valid C strings and out-parameters; `cancel` lives in the
    // slot (an Arc held across the call) and is only read by originate; the
    // variables are static strings.
    let rc = unsafe {
        sys::hotline_fs_originate_cancellable(
            dial_c.as_ptr(),
            secs,
            cancel.as_ptr(),
            names.as_ptr(),
            values.as_ptr(),
            names.len() as i32,
            &mut leg,
            &mut cause,
        )
    };
    slot.remove_ring(&cancel);
    let unreported = rt.offers.close(key);
    let report = |agent, outcome: OfferOutcome| {
        log::debug!("Hotline: call {call} agent #{agent} (offer {seq}): {}", outcome.name());
        rt.router.report(Input::OfferResult { call, agent, outcome, seq });
    };
    if rc != 0 || leg.is_null() {
        if !slot.closed() {
            // Cancelled because another leg of this caller answered first.
            let lost = cancel.load(Ordering::SeqCst) == LOSE_RACE;
            let outcome = if lost { OfferOutcome::Cancelled } else { crate::flow::cause::offer_outcome(cause.max(0) as u32) };
            for agent in unreported {
                report(agent, outcome);
            }
        }
        return;
    }
    // SAFETY: the answered, read-locked leg; values are copied at once,
    // then the lock is released: the leg is found again by UUID.
    let (answered_by, uuid) = unsafe {
        let a = to_string_lossy(sys::hotline_fs_leg_var(leg, c"hotline_agent_id".as_ptr()));
        let u = to_string_lossy(sys::hotline_fs_session_uuid(leg));
        sys::hotline_fs_leg_unlock(leg);
        (a, u)
    };
    let Some(winner) = answered_by.trim().parse::<AgentId>().ok().and_then(|id| targets.iter().find(|t| t.agent == id)) else {
        log::error!("Hotline: call {call}: answered leg has no known hotline_agent_id ({answered_by:?})");
        hangup_uuid(&uuid, sys::switch_call_cause_t::SWITCH_CAUSE_NORMAL_TEMPORARY_FAILURE.0 as i32);
        if !slot.closed() {
            for agent in agents {
                report(agent, OfferOutcome::Unavailable);
            }
        }
        return;
    };
    match slot.hand_over(Answered { uuid, winner: winner.clone(), key, seq }, &cancel) {
        Ok(()) => {}
        // The caller left while the agent answered: the router frees the
        // agent with the caller's hang-up.
        Err(Refused::CallerGone(a)) => hangup_uuid(&a.uuid, sys::switch_call_cause_t::SWITCH_CAUSE_ORIGINATOR_CANCEL.0 as i32),
        Err(Refused::AlreadyAnswered(a)) => {
            log::warn!("Hotline: call {call}: {} answered after another agent; hanging up the second leg", a.winner.name);
            hangup_uuid(&a.uuid, sys::switch_call_cause_t::SWITCH_CAUSE_LOSE_RACE.0 as i32);
            report(a.winner.agent, OfferOutcome::Cancelled);
        }
    }
}

/// Originate variables: set on every leg by FreeSWITCH itself
/// (switch_ivr_originate's `ovars`), never pasted into a dial string.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct OriginateVars(Vec<(&'static CStr, &'static CStr)>);

impl OriginateVars {
    /// `sip_auto_answer=true` (sofia adds Call-Info answer-after=0 and
    /// Alert-Info to the INVITE) when every target auto-answers. The
    /// variables of one originate reach every leg, so a ring-all that mixes
    /// auto-answer and ordinary phones rings them all the ordinary way.
    pub fn for_targets(targets: &[OfferTarget]) -> OriginateVars {
        if !targets.is_empty() && targets.iter().all(|t| t.auto_answer) {
            OriginateVars(vec![(c"sip_auto_answer", c"true")])
        } else {
            if targets.iter().any(|t| t.auto_answer) {
                log::debug!("Hotline: a ring-all mixes auto-answer and ordinary agents; none auto-answers");
            }
            OriginateVars::default()
        }
    }

    /// Name and value pointers (static strings) for the shim.
    pub fn pointers(&self) -> (Vec<*const c_char>, Vec<*const c_char>) {
        self.0.iter().map(|(k, v)| (k.as_ptr(), v.as_ptr())).unzip()
    }
}

/// An answer left waiting when the router connected another one: the
/// router learns of it (and counts it stale), the leg is hung up.
pub(super) fn stale_leg(rt: &Runtime, call: CallId, a: Answered) {
    log::warn!("Hotline: call {call}: {} answered offer {} while the caller talks to another agent; hanging up that leg", a.winner.name, a.seq);
    hangup_uuid(&a.uuid, sys::switch_call_cause_t::SWITCH_CAUSE_LOSE_RACE.0 as i32);
    rt.router.report_final(Input::OfferResult { call, agent: a.winner.agent, outcome: OfferOutcome::Answered, seq: a.seq });
}

/// The cancel cause of an originate that lost to another leg's answer.
const LOSE_RACE: u32 = sys::switch_call_cause_t::SWITCH_CAUSE_LOSE_RACE.0;

pub(super) fn hangup_uuid(uuid: &str, cause: i32) {
    let u = to_cstring(uuid);
    // SAFETY: valid C string; the shim locates and unlocks.
    unsafe { sys::hotline_fs_hangup_uuid(u.as_ptr(), cause) };
}

/// An offer's ring timeout (ms) in whole seconds for `originate`, at least 1.
pub fn ring_seconds(timeout_ms: u64) -> u32 {
    timeout_ms.div_ceil(1000).clamp(1, u32::MAX as u64) as u32
}

/// A value safe inside `{...}` / `[...]` dial-string variables.
pub fn dial_value(v: &str) -> String {
    v.chars().map(|c| if matches!(c, ',' | '[' | ']' | '{' | '}' | '\'' | '"' | '|' | ' ') { '_' } else { c }).collect()
}

/// `{common vars}[leg vars]contact,[leg vars]contact...`; the agents see
/// the caller's number and name, and every leg, answered or not, names the
/// caller's session in `hotline_caller_uuid` (as mod_callcenter's
/// `cc_member_session_uuid`), so event-socket tools can tie a failed offer
/// to its caller.
#[allow(clippy::too_many_arguments)]
pub fn dial_string(targets: &[OfferTarget], call: CallId, queue: &str, offer: u64, secs: u32, number: &str, name: &str, caller_uuid: &str) -> String {
    let mut d = format!(
        "{{hotline_offer={offer},hotline_callid={call},hotline_queue={},hotline_caller_uuid={},ignore_early_media=true,\
originate_timeout={secs},loopback_bowout=false",
        dial_value(queue),
        dial_value(caller_uuid)
    );
    if !number.is_empty() {
        d.push_str(&format!(",origination_caller_id_number={}", dial_value(number)));
    }
    if !name.is_empty() {
        d.push_str(&format!(",origination_caller_id_name={}", dial_value(name)));
    }
    d.push('}');
    for (i, t) in targets.iter().enumerate() {
        if i > 0 {
            d.push(',');
        }
        d.push_str(&format!("[hotline_agent_id={},hotline_agent={},leg_timeout={secs}]{}", t.agent, dial_value(&t.name), t.contact.trim()));
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dial_strings_tag_every_leg_and_show_the_caller() {
        let t = |agent, name: &str, contact: &str| OfferTarget { agent, name: Arc::from(name), contact: Arc::from(contact), auto_answer: false, popup_url: None };
        let d = dial_string(&[t(3, "a,1", "user/1000"), t(4, "b", "loopback/102/agents")], CallId(9), "sup port", 17, 5, "0901", "Mr X", "u-1");
        assert!(d.starts_with("{hotline_offer=17,hotline_callid=9,hotline_queue=sup_port,hotline_caller_uuid=u-1,"), "{d}");
        assert!(d.contains("originate_timeout=5"), "{d}");
        assert!(d.contains(",origination_caller_id_number=0901,origination_caller_id_name=Mr_X}"), "{d}");
        assert!(d.ends_with("[hotline_agent_id=3,hotline_agent=a_1,leg_timeout=5]user/1000,[hotline_agent_id=4,hotline_agent=b,leg_timeout=5]loopback/102/agents"), "{d}");
        let anon = dial_string(&[t(3, "a", "null/1")], CallId(1), "q", 1, 1, "", "", "u-2");
        assert!(!anon.contains("origination_caller_id"), "{anon}");
    }

    #[test]
    fn auto_answer_is_an_originate_variable_only_when_every_target_wants_it() {
        let t = |agent, auto_answer| OfferTarget { agent, name: Arc::from("a"), contact: Arc::from("user/1"), auto_answer, popup_url: None };
        assert_eq!(OriginateVars::for_targets(&[t(1, true)]).0, [(c"sip_auto_answer", c"true")]);
        assert_eq!(OriginateVars::for_targets(&[t(1, true), t(2, true)]).0.len(), 1);
        assert!(OriginateVars::for_targets(&[t(1, true), t(2, false)]).0.is_empty());
        assert!(OriginateVars::for_targets(&[t(1, false)]).0.is_empty());
        let d = dial_string(&[t(1, true)], CallId(1), "q", 1, 1, "", "", "u");
        assert!(!d.contains("auto_answer"), "never in the dial string: {d}");
    }

    #[test]
    fn a_closed_slot_refuses_the_hand_over_and_cancels() {
        let slot = Slot::new("1", "n", "u", "q");
        let a = |k| Answered { uuid: String::new(), winner: OfferTarget { agent: 1, name: "a".into(), contact: "null/1".into(), auto_answer: false, popup_url: None }, key: k, seq: 1 };
        let b = |k| Answered { seq: 2, ..a(k) };
        let (mine, other, newer) = (slot.add_ring(1), slot.add_ring(1), slot.add_ring(2));
        assert!(slot.hand_over(a(1), &mine).is_ok());
        assert_eq!(slot.take_answered().map(|a| a.key), Some(1));
        // First answer wins: the caller's other originate is cancelled as a lost race.
        assert_eq!((mine.load(Ordering::SeqCst), other.load(Ordering::SeqCst)), (0, LOSE_RACE));
        assert_eq!(newer.load(Ordering::SeqCst), 0, "a newer offer is not this answer's race");
        slot.remove_ring(&other);
        slot.remove_ring(&newer);
        assert!(slot.hand_over(a(2), &mine).is_ok());
        // A second answer to the same offer before the first is taken is
        // refused, not kept; one to another offer waits for its turn.
        assert!(matches!(slot.hand_over(a(9), &mine), Err(Refused::AlreadyAnswered(r)) if r.key == 9));
        assert!(slot.hand_over(b(4), &mine).is_ok());
        assert_eq!(mine.load(Ordering::SeqCst), 0);
        // Once one answer is connected, the others waiting come back.
        assert_eq!(slot.take_all_answered().iter().map(|a| a.key).collect::<Vec<_>>(), [2, 4]);
        assert!(slot.hand_over(a(6), &mine).is_ok());
        // Leaving gives back the leg answered meanwhile and cancels ringing.
        assert_eq!(slot.shut().iter().map(|a| a.key).collect::<Vec<_>>(), [6]);
        assert_ne!(mine.load(Ordering::SeqCst), 0);
        assert_ne!(slot.add_ring(3).load(Ordering::SeqCst), 0, "an originate after the caller left is cancelled at once");
        assert!(matches!(slot.hand_over(a(3), &mine), Err(Refused::CallerGone(_))));
        assert!(slot.shut().is_empty());
    }
}
