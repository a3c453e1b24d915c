// SPDX-License-Identifier: GPL-2.0-or-later
//! `hotline_queue queue[,option=value...]` on the caller's session thread.
//!
//! The thread answers, puts the caller into the router and then waits with
//! music on hold: `switch_ivr_play_file` of the queue's music (its
//! `music_class`: a FreeSWITCH file/stream URL as is, `default` = the
//! `hold_music` variable or `local_stream://moh`, any other name =
//! `local_stream://<name>`), falling back to `silence_stream://-1` and then
//! to `switch_ivr_sleep` when nothing can be played. Router decisions wake
//! it through the [`super::waker`] thread, which sets `CF_BREAK` on the
//! channel: playback stops within one frame and the thread takes its
//! actions from its own channel. There is no timer and no polling.
//!
//! Agents are rung by [`super::dialer`] on threads of its own
//! (`switch_ivr_originate`, one leg per target, `,`-joined for ring-all,
//! each leg carrying `hotline_agent_id`/`hotline_offer` and showing the
//! caller's number), while the caller keeps hearing its music. The answered
//! leg is handed over by UUID; this thread bridges it with
//! `switch_ivr_multi_threaded_bridge`. Every outcome goes back to the
//! router at once (see [`super::offers`]).
//!
//! Channel variables set: `hotline_result` (ANSWERED, ABANDONED,
//! TRANSFERRED, TIMEOUT, LEAVEEMPTY, JOINEMPTY, FULL, UNKNOWNQUEUE, CALLBACK,
//! DUPLICATE, ERROR), `hotline_agent`, `hotline_callid`, `hotline_queue`.
//! Agent legs get `hotline_callid` and `hotline_queue` too (screen pop).

use std::ffi::c_void;
use std::os::raw::c_char;

use crossbeam_channel::TryRecvError;

use crate::core::input::AgentId;
use crate::core::{Action, CallId, CallerInfo, EndedBy, Input, OfferOutcome};
use crate::ffi::cstr::to_cstring;
use crate::ffi::guard::guard;
use crate::router::CallHandle;

use crate::app_args::{parse_args, parse_priority, parse_skills};
use super::dialer::{Answered, Slot};
use super::runtime::{self, ActiveCall, Runtime};
use super::session::Session;
use super::sys;
use super::waker::Registration;

/// Silence that never ends (mod_tone_stream).
const SILENCE: &str = "silence_stream://-1";

pub fn exec(s: &Session<'_>, args: &str) {
    let Some(rt) = runtime::current() else {
        log::error!("hotline_queue: Hotline is not running");
        s.set_var("hotline_result", Some("ERROR"));
        return;
    };
    let _active = ActiveCall::new(rt);
    let fail = |msg: String| {
        log::error!("hotline_queue({args}): {msg}");
        s.set_var("hotline_result", Some("ERROR"));
    };
    let parsed = match parse_args(args) {
        Ok(a) => a,
        Err(e) => return fail(e),
    };
    let priority = match parsed.priority {
        Some(p) => p,
        None => match s.get_var("hotline_priority").filter(|v| !v.trim().is_empty()) {
            Some(v) => match parse_priority(&v) {
                Ok(p) => p,
                Err(e) => return fail(format!("hotline_priority: {e}")),
            },
            None => 0,
        },
    };
    let skills = match parsed.skills.clone() {
        Some(sk) => sk,
        None => match s.get_var("hotline_skills").filter(|v| !v.trim().is_empty()) {
            Some(v) => match parse_skills(&v) {
                Ok(sk) => sk,
                Err(e) => return fail(format!("hotline_skills: {e}")),
            },
            None => Vec::new(),
        },
    };
    let mut parsed = parsed;
    if parsed.callback_digit.is_none() {
        if let Some(v) = s.get_var("hotline_callback_key").filter(|v| !v.trim().is_empty()) {
            match parse_args(&format!("{},callback={v}", parsed.queue)) {
                Ok(a) => parsed.callback_digit = a.callback_digit,
                Err(e) => return fail(format!("hotline_callback_key: {e}")),
            }
        }
    }
    if parsed.callback_digit.is_some() && rt.config().queue(&parsed.queue).is_some_and(|q| q.callback_contact.is_none()) {
        return fail(format!("queue {} has no callback_contact; callbacks are off", parsed.queue));
    }
    if !s.answer() {
        return fail("cannot answer (caller gone)".into());
    }
    let uuid = s.uuid();
    let caller = CallerInfo {
        number: s.caller_number(),
        name: s.caller_name(),
        priority,
        language: s.get_var("default_language").unwrap_or_default(),
        skills,
        data: vec![("uuid".into(), uuid.clone())],
    };
    let class = rt.config().queue(&parsed.queue).map(|q| q.music_class.clone()).unwrap_or_else(|| "default".into());
    let music = music_url(&class, s);
    // The slot exists before the router can send an offer for the call.
    let id = rt.router.new_call_id();
    let slot = rt.dialer.open(id, &caller.number, &caller.name, &parsed.queue);
    let handle = match rt.router.enter_as(id, &parsed.queue, caller) {
        Ok(h) => h,
        Err(e) => return fail(e.to_string()),
    };
    slot.slot.set_wake(handle.wake.clone());
    s.set_var("hotline_callid", Some(&handle.id.to_string()));
    s.set_var("hotline_queue", Some(&parsed.queue));
    s.set_var("hotline_agent", None);
    let reg = rt.waker.register(handle.id, &uuid, handle.wake.clone());
    let mut call = QueueCall {
        rt,
        s,
        handle,
        reg,
        slot: slot.slot.clone(),
        queue: parsed.queue,
        hold: Hold::Music(music),
        callback_digit: parsed.callback_digit,
    };
    call.run();
}

/// The FreeSWITCH file for a music class.
fn music_url(class: &str, s: &Session<'_>) -> String {
    let class = class.trim();
    if class.contains("://") || class.starts_with('/') {
        class.to_string()
    } else if class.is_empty() || class == "default" {
        s.get_var("hold_music").filter(|m| !m.trim().is_empty()).unwrap_or_else(|| "local_stream://moh".into())
    } else {
        format!("local_stream://{class}")
    }
}

/// What the caller hears while waiting.
enum Hold {
    Music(String),
    /// The music could not be played.
    Silence,
    /// Not even silence could be played: wait without media of our own.
    Sleep,
}

struct QueueCall<'a, 's> {
    rt: &'static Runtime,
    s: &'a Session<'s>,
    handle: CallHandle,
    reg: Registration,
    slot: std::sync::Arc<Slot>,
    queue: String,
    hold: Hold,
    callback_digit: Option<char>,
}

/// How a hand-over ended.
enum Rung {
    /// Bridged and over.
    Talked,
    /// The agent's leg was gone before the bridge: wait for the router's
    /// next decision.
    Failed,
}

/// Context of the DTMF callback while music plays.
struct DtmfCtx {
    digit: Option<char>,
    call: CallId,
    number: String,
    rt: &'static Runtime,
}

unsafe extern "C" fn on_dtmf(user: *mut c_void, digit: c_char) {
    guard("hotline_queue dtmf", (), || {
        // SAFETY: `user` is the DtmfCtx on the stack of QueueCall::hold,
        // which outlives the playback that calls us.
        let ctx = unsafe { &*(user as *const DtmfCtx) };
        let d = digit as u8 as char;
        if ctx.digit != Some(d) {
            return;
        }
        if ctx.number.is_empty() {
            log::warn!("hotline_queue: call {} asked for a callback but has no caller number", ctx.call);
            return;
        }
        ctx.rt.router.report(Input::CallbackRequest { call: ctx.call, number: ctx.number.clone() });
    })
}

impl QueueCall<'_, '_> {
    fn id(&self) -> CallId {
        self.handle.id
    }

    fn run(&mut self) {
        loop {
            // Arm first, then look: an action queued (or an agent handed
            // over) after the look wakes the music below (see waker.rs).
            self.reg.arm();
            if let Some(a) = self.slot.take_answered() {
                self.disarm();
                match self.talk(a) {
                    Rung::Talked => {
                        self.s.set_var("hotline_result", Some("ANSWERED"));
                        return;
                    }
                    Rung::Failed => continue,
                }
            }
            match self.handle.actions.try_recv() {
                Ok(action) => {
                    self.disarm();
                    if self.act(action) {
                        return;
                    }
                    continue;
                }
                Err(TryRecvError::Disconnected) => {
                    self.disarm();
                    log::error!("hotline_queue: call {}: the router stopped", self.id());
                    self.s.set_var("hotline_result", Some("ERROR"));
                    return;
                }
                Err(TryRecvError::Empty) => {}
            }
            if !self.s.ready() {
                self.disarm();
                return self.left();
            }
            let r = self.hold();
            self.disarm();
            if r < 0 && !self.s.ready() {
                return self.left();
            }
        }
    }

    fn disarm(&self) {
        self.reg.disarm();
        // A break that landed after the playback ended must not cut the
        // next prompt short.
        self.s.clear_break();
    }

    /// Wait in music until woken (1), the file ended (0) or failed/hung up (-1).
    fn hold(&mut self) -> i32 {
        let ctx = DtmfCtx { digit: self.callback_digit, call: self.id(), number: self.s.caller_number(), rt: self.rt };
        let user = &ctx as *const DtmfCtx as *mut c_void;
        let sp = self.s.as_ptr();
        match &self.hold {
            Hold::Music(url) => {
                let file = to_cstring(url);
                let started = std::time::Instant::now();
                // SAFETY: our live session on its own thread; ctx outlives the call.
                let r = unsafe { sys::hotline_fs_play(sp, file.as_ptr(), Some(on_dtmf), user) };
                // An empty file "ends" at once: replaying it would spin.
                let r = if r == 0 && started.elapsed() < std::time::Duration::from_millis(20) { -1 } else { r };
                if r < 0 && self.s.ready() {
                    log::warn!("hotline_queue: cannot play {url}; the caller waits in silence");
                    self.hold = Hold::Silence;
                }
                r
            }
            Hold::Silence => {
                let file = to_cstring(SILENCE);
                // SAFETY: as above.
                let r = unsafe { sys::hotline_fs_play(sp, file.as_ptr(), Some(on_dtmf), user) };
                if r < 0 && self.s.ready() {
                    log::warn!("hotline_queue: cannot play {SILENCE} (mod_tone_stream?); waiting without media");
                    self.hold = Hold::Sleep;
                }
                r
            }
            // SAFETY: as above.
            Hold::Sleep => unsafe { sys::hotline_fs_sleep(sp, 3_600_000, Some(on_dtmf), user) },
        }
    }

    /// The caller left while waiting (hung up or transferred away).
    fn left(&mut self) {
        // Stop the ringing first, so no agent rings for a caller the
        // router no longer has.
        self.slot.close();
        self.rt.router.report_final(Input::CallerHangup { call: self.id() });
        let result = if self.s.transferred() { "TRANSFERRED" } else { "ABANDONED" };
        self.s.set_var("hotline_result", Some(result));
        log::debug!("hotline_queue: call {} left {}: {result}", self.id(), self.queue);
    }

    /// Apply one router decision; true ends the application.
    fn act(&mut self, action: Action) -> bool {
        match action {
            Action::Offer { targets, timeout, .. } => {
                // Reached this channel only when the router's global one was
                // full: ring from a thread all the same.
                self.rt.dialer.ring_from_caller(self.id(), targets, timeout);
                false
            }
            Action::Announce { position, .. } => {
                self.announce(position);
                false
            }
            Action::Moved { queue, music_class, .. } => {
                self.queue = queue.to_string();
                self.slot.set_queue(&self.queue);
                self.s.set_var("hotline_queue", Some(&self.queue));
                self.hold = Hold::Music(music_url(&music_class, self.s));
                false
            }
            Action::Exit { reason, .. } => {
                self.slot.close();
                self.s.set_var("hotline_result", Some(reason.name()));
                log::debug!("hotline_queue: call {} leaves {}: {}", self.id(), self.queue, reason.name());
                true
            }
            Action::Callback { .. } => false,
        }
    }

    /// "You are number N in line" (FreeSWITCH's standard prompts; missing
    /// sound files only log).
    fn announce(&mut self, position: usize) {
        let sp = self.s.as_ptr();
        let n = to_cstring(&position.to_string());
        for f in ["ivr/ivr-you_are_number.wav", "", "ivr/ivr-in_line.wav"] {
            if !self.s.ready() {
                return;
            }
            // SAFETY: our live session on its own thread; valid C strings.
            unsafe {
                if f.is_empty() {
                    sys::hotline_fs_say(sp, n.as_ptr(), c"number".as_ptr(), c"pronounced".as_ptr());
                } else {
                    let file = to_cstring(f);
                    sys::hotline_fs_play(sp, file.as_ptr(), None, std::ptr::null_mut());
                }
            }
        }
    }

    fn report(&self, agent: AgentId, outcome: OfferOutcome) {
        log::debug!("hotline_queue: call {} agent #{agent}: {}", self.id(), outcome.name());
        self.rt.router.report(Input::OfferResult { call: self.id(), agent, outcome });
    }

    /// Bridge caller and the agent whose leg answered; the agent's hang-up
    /// may end the talk first (see [`super::offers`]).
    fn talk(&mut self, a: Answered) -> Rung {
        let Answered { uuid, winner, key } = a;
        let u = to_cstring(&uuid);
        // SAFETY: valid C string; NULL or a read-locked session, released
        // by hotline_fs_bridge below.
        let bleg = unsafe { sys::hotline_fs_locate(u.as_ptr()) };
        if bleg.is_null() {
            log::info!("hotline_queue: call {}: {} answered and hung up at once", self.id(), winner.name);
            self.report(winner.agent, OfferOutcome::Rejected);
            return Rung::Failed;
        }
        self.rt.offers.start_talk(key, self.id(), winner.agent, &self.s.uuid());
        self.rt.router.report(Input::OfferResult { call: self.id(), agent: winner.agent, outcome: OfferOutcome::Answered });
        self.s.set_var("hotline_agent", Some(&winner.name));
        // The bridge would hang the caller up itself after the agent's
        // hang-up with hangup_after_bridge=true; we do it after telling who
        // ended the call.
        let hab = self.s.get_var("hangup_after_bridge");
        self.s.set_var("hangup_after_bridge", Some("false"));
        // SAFETY: our live session and the read-locked answered leg, which
        // the shim unlocks after the bridge; bleg is not used after this.
        unsafe { sys::hotline_fs_bridge(self.s.as_ptr(), bleg) };
        self.s.set_var("hangup_after_bridge", hab.as_deref());
        let by = if self.s.transferred() {
            EndedBy::Transfer
        } else if !self.s.ready() {
            EndedBy::Caller
        } else {
            EndedBy::Agent
        };
        if self.rt.offers.end_talk(key) {
            self.rt.router.report_final(Input::CallEnded { call: self.id(), by });
        }
        log::debug!("hotline_queue: call {} with {} ended by {}", self.id(), winner.name, by.name());
        if by == EndedBy::Agent && hab.as_deref().is_some_and(is_true) {
            self.s.hangup(sys::switch_call_cause_t::SWITCH_CAUSE_NORMAL_CLEARING.0 as i32);
        }
        Rung::Talked
    }
}

/// FreeSWITCH's idea of a true value (switch_true).
fn is_true(v: &str) -> bool {
    matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "yes" | "on" | "enabled" | "active" | "allow" | "1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn true_values() {
        assert!(is_true("TRUE") && is_true("on") && !is_true("false"));
    }
}
