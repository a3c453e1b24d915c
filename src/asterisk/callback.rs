// SPDX-License-Identifier: GPL-2.0-or-later
//! ACD callbacks: a caller who asked to be called back kept its place in
//! line; when its turn comes the router sends [`Action::Callback`] on the
//! global channel. Each callback runs on a thread of its own (it blocks in
//! ringing and talking): ring the agent; when the agent answers, call the
//! customer at the queue's `callback_contact` with `{number}` filled in;
//! when the customer answers, bridge them. Every outcome goes back to the
//! router like an offer's. Threads are counted as active calls (unload is
//! refused meanwhile) and joined when the runtime stops.

use std::os::raw::c_int;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;

use crate::core::{Action, CallId, EndedBy, Input, OfferOutcome, OfferTarget};

use super::queue_app::{hangup_outcome, read_frame, FrameKind, Leg, AST_FEATURE_ATXFER, AST_FEATURE_REDIRECT};
use super::runtime::{ActiveCall, GATE};
use super::sys;

/// How long the customer may ring before the callback counts as failed.
const CUSTOMER_RING: Duration = Duration::from_secs(45);

/// Consume the router's global actions until the router stops; joins every
/// callback thread it started before returning.
pub fn executor(rx: Receiver<Action>) {
    let running: Mutex<Vec<JoinHandle<()>>> = Mutex::new(Vec::new());
    while let Ok(action) = rx.recv() {
        match action {
            Action::Callback { call, seq, queue, number, target, timeout } => {
                let agent = target.agent;
                let spawned = std::thread::Builder::new()
                    .name(format!("hotline-cb-{call}"))
                    .spawn(move || run(call, seq, &queue, &number, &target, timeout));
                match spawned {
                    Ok(t) => {
                        let mut r = running.lock().unwrap_or_else(|e| e.into_inner());
                        r.retain(|t| !t.is_finished());
                        r.push(t);
                    }
                    Err(e) => {
                        // The agent is freed and the callback waits again.
                        log::error!("Hotline: cannot start callback {call}: {e}");
                        crate::entry!("hotline callback", &GATE, (), |rt| {
                            rt.router.report(Input::OfferResult { call, agent, outcome: OfferOutcome::Unavailable, seq })
                        });
                    }
                }
            }
            _ => {}
        }
    }
    for t in running.into_inner().unwrap_or_else(|e| e.into_inner()) {
        let _ = t.join();
    }
}

fn run(call: CallId, seq: u32, queue: &str, number: &str, agent: &OfferTarget, timeout: u64) {
    // A thread of ours, through the gate like a PBX entry: while it runs,
    // unload is refused; once unload has closed the gate it does nothing.
    crate::entry!("hotline callback", &GATE, (), |rt| {
        let _active = ActiveCall::new(rt);
        let Some(template) = rt.config().queue(queue).and_then(|q| q.callback_contact.clone()) else {
            log::error!("Hotline: callback {call} for queue {queue}, which has no callback_contact");
            rt.router.report(Input::OfferResult { call, agent: agent.agent, outcome: OfferOutcome::Cancelled, seq });
            return;
        };
        // 1. The agent.
        let leg = match Leg::dial(None, agent, call, queue, &[]) {
            Ok(l) => l,
            Err(o) => return rt.router.report(Input::OfferResult { call, agent: agent.agent, outcome: o, seq }),
        };
        let leg = match wait_answer(leg, None, Duration::from_millis(timeout)) {
            Ok(l) => l,
            Err(o) => return rt.router.report(Input::OfferResult { call, agent: agent.agent, outcome: o, seq }),
        };
        rt.router.report(Input::OfferResult { call, agent: agent.agent, outcome: OfferOutcome::Answered, seq });
        // 2. The customer, requested on behalf of the agent's channel.
        let customer = OfferTarget {
            agent: u32::MAX,
            name: Arc::from(format!("customer {number}")),
            contact: Arc::from(crate::flow::callback::customer_dial(&template, number)),
            auto_answer: false,
            popup_url: None,
        };
        // The agent hears ringback while the customer's phone rings.
        // SAFETY: our live, answered agent channel.
        unsafe { sys::ast_indicate(leg.chan, sys::ast_control_frame_type::AST_CONTROL_RINGING.0 as c_int) };
        let cust = Leg::dial(Some(leg.chan), &customer, call, queue, &[]).and_then(|c| wait_answer(c, Some(leg.chan), CUSTOMER_RING));
        // SAFETY: as above; -1 stops any indication.
        unsafe { sys::ast_indicate(leg.chan, -1) };
        let Ok(cust) = cust else {
            log::info!("Hotline: callback {call}: customer {number} not reached");
            drop(leg);
            rt.router.report_final(Input::CallEnded { call, by: EndedBy::Failed });
            return;
        };
        // 3. Talk: this thread runs the agent's side of the bridge.
        // SAFETY: zero is the "no features" configuration.
        let mut cfg: sys::ast_bridge_config = unsafe { std::mem::zeroed() };
        cfg.features_caller.flags = AST_FEATURE_REDIRECT | AST_FEATURE_ATXFER;
        let agent_chan = leg.chan;
        // SAFETY: both channels are ours and live; the customer leg is
        // handed to the bridge (which hangs it up); the agent leg stays ours
        // and is hung up when `leg` drops below.
        let res = unsafe { sys::ast_bridge_call(agent_chan, cust.into_raw(), &mut cfg) };
        // SAFETY: our live agent channel.
        let agent_gone = unsafe { sys::ast_check_hangup_locked(agent_chan) } != 0;
        let by = if res == 0 {
            EndedBy::Transfer
        } else if agent_gone {
            EndedBy::Agent
        } else {
            EndedBy::Caller
        };
        drop(leg);
        rt.router.report_final(Input::CallEnded { call, by });
    })
}

/// Ring one leg until it answers (Ok) or fails (Err with the outcome).
/// `watch`: a channel whose hang-up cancels the ringing.
fn wait_answer(leg: Leg, watch: Option<*mut sys::ast_channel>, timeout: Duration) -> Result<Leg, OfferOutcome> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(OfferOutcome::NoAnswer);
        }
        let mut chans: Vec<*mut sys::ast_channel> = std::iter::once(leg.chan).chain(watch).collect();
        let mut ms: c_int = left.as_millis().min(c_int::MAX as u128) as c_int;
        // SAFETY: live channels we own (or watch for the duration of the
        // call); a valid out-parameter.
        let winner = unsafe { sys::ast_waitfor_n(chans.as_mut_ptr(), chans.len() as c_int, &mut ms) };
        if winner.is_null() {
            continue;
        }
        if Some(winner) == watch {
            if let FrameKind::Hangup = read_frame(winner) {
                return Err(OfferOutcome::Cancelled);
            }
            continue;
        }
        match read_frame(leg.chan) {
            FrameKind::Answer => return Ok(leg),
            FrameKind::Hangup => return Err(hangup_outcome(leg.chan)),
            FrameKind::Busy => return Err(OfferOutcome::Busy),
            FrameKind::Congestion => return Err(OfferOutcome::Unavailable),
            _ => {}
        }
    }
}
