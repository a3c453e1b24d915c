// SPDX-License-Identifier: GPL-2.0-or-later
//! `HotlineQueue(queue[,option=value...])` on the caller's channel thread.
//!
//! The thread puts the caller into the router and then sleeps in
//! `ast_waitfor_nandfds` on two things at once: the caller's channel and
//! the call's wake-up descriptor. Every decision (ring these agents,
//! announce, moved, leave) arrives on the call's own channel. Ringing,
//! answer detection and bridging happen here with Asterisk's own calls
//! (`ast_request`, `ast_call`, `ast_read`, `ast_bridge_call`); every outcome
//! goes back to the router at once, so a failed agent is replaced in
//! microseconds, not on a re-check timer.
//!
//! Channel pointers never leave this call: agent legs are created, watched
//! and hung up (or handed to the bridge) inside [`QueueCall::ring`].
//!
//! Options (also read from channel variables when not given):
//! - `priority=N` (`HOTLINE_PRIORITY`): higher first.
//! - `skills=name:level+name:level` (`HOTLINE_SKILLS`): caller needs.
//! - `callback=D` (`HOTLINE_CALLBACK_KEY`): DTMF digit D asks for a
//!   callback to the caller number; the caller keeps its place and hangs
//!   up (the queue needs `callback_contact`).
//!
//! Variables set on return: `HOTLINE_RESULT` (ANSWERED, ABANDONED, TIMEOUT,
//! LEAVEEMPTY, JOINEMPTY, FULL, UNKNOWNQUEUE, CALLBACK, ERROR),
//! `HOTLINE_AGENT`, `HOTLINE_CALLID`, `HOTLINE_QUEUE`.

use std::os::fd::AsRawFd;
use std::os::raw::c_int;
use std::ptr;
use std::time::{Duration, Instant};

use crate::app_args::{parse_args, parse_priority, parse_skills};
use crate::core::{Action, CallId, CallerInfo, EndedBy, Input, OfferOutcome, OfferTarget};
use crate::ffi::cstr::to_cstring;
use crate::router::CallHandle;

use super::apps::AppResult;
use super::channel::Channel;
use super::runtime::{self, ActiveCall, Runtime};
use super::sys;

pub fn exec(chan: &Channel<'_>, args: &str) -> AppResult {
    let Some(rt) = runtime::current() else {
        log::error!("HotlineQueue on {}: Hotline is not running", chan.name());
        chan.set_var("HOTLINE_RESULT", Some("ERROR"));
        return AppResult::Continue;
    };
    let _active = ActiveCall::new(rt);
    let parsed = match parse_args(args) {
        Ok(a) => a,
        Err(e) => {
            log::error!("HotlineQueue({args}) on {}: {e}", chan.name());
            chan.set_var("HOTLINE_RESULT", Some("ERROR"));
            return AppResult::Continue;
        }
    };
    let priority = match parsed.priority {
        Some(p) => p,
        None => match chan.get_var("HOTLINE_PRIORITY").filter(|v| !v.is_empty()) {
            Some(v) => match parse_priority(&v) {
                Ok(p) => p,
                Err(e) => {
                    log::error!("HotlineQueue on {}: HOTLINE_PRIORITY: {e}", chan.name());
                    chan.set_var("HOTLINE_RESULT", Some("ERROR"));
                    return AppResult::Continue;
                }
            },
            None => 0,
        },
    };
    let skills = match parsed.skills.clone() {
        Some(s) => s,
        None => match chan.get_var("HOTLINE_SKILLS").filter(|v| !v.is_empty()) {
            Some(v) => match parse_skills(&v) {
                Ok(s) => s,
                Err(e) => {
                    log::error!("HotlineQueue on {}: HOTLINE_SKILLS: {e}", chan.name());
                    chan.set_var("HOTLINE_RESULT", Some("ERROR"));
                    return AppResult::Continue;
                }
            },
            None => Vec::new(),
        },
    };
    let caller = CallerInfo {
        number: chan.caller_number(),
        name: String::new(),
        priority,
        language: String::new(),
        skills,
        data: vec![("uniqueid".into(), chan.uniqueid()), ("channel".into(), chan.name())],
    };
    let mut parsed = parsed;
    if parsed.callback_digit.is_none() {
        if let Some(v) = chan.get_var("HOTLINE_CALLBACK_KEY").filter(|v| !v.is_empty()) {
            match parse_args(&format!("{},callback={v}", parsed.queue)) {
                Ok(a) => parsed.callback_digit = a.callback_digit,
                Err(e) => {
                    log::error!("HotlineQueue on {}: HOTLINE_CALLBACK_KEY: {e}", chan.name());
                    chan.set_var("HOTLINE_RESULT", Some("ERROR"));
                    return AppResult::Continue;
                }
            }
        }
    }
    let cfg = rt.config();
    let music = cfg.queue(&parsed.queue).map(|q| q.music_class.clone()).unwrap_or_else(|| "default".into());
    if parsed.callback_digit.is_some() && cfg.queue(&parsed.queue).is_some_and(|q| q.callback_contact.is_none()) {
        log::error!("HotlineQueue({args}) on {}: queue {} has no callback_contact; callbacks are off", chan.name(), parsed.queue);
        chan.set_var("HOTLINE_RESULT", Some("ERROR"));
        return AppResult::Continue;
    }
    drop(cfg);
    // Answer first: the caller hears music while waiting.
    if !chan.answer() {
        chan.set_var("HOTLINE_RESULT", Some("ABANDONED"));
        return AppResult::Hangup;
    }
    let handle = match rt.router.enter(&parsed.queue, caller) {
        Ok(h) => h,
        Err(e) => {
            log::error!("HotlineQueue({args}) on {}: {e}", chan.name());
            chan.set_var("HOTLINE_RESULT", Some("ERROR"));
            return AppResult::Continue;
        }
    };
    chan.set_var("HOTLINE_CALLID", Some(&handle.id.to_string()));
    chan.set_var("HOTLINE_QUEUE", Some(&parsed.queue));
    let mut call = QueueCall { rt, chan, handle, queue: parsed.queue, music, moh_on: false, callback_digit: parsed.callback_digit };
    call.run()
}

struct QueueCall<'a, 'c> {
    rt: &'static Runtime,
    chan: &'a Channel<'c>,
    handle: CallHandle,
    queue: String,
    music: String,
    moh_on: bool,
    callback_digit: Option<char>,
}

/// How ringing ended.
enum Rung {
    /// Bridged and over; who ended it.
    Talked(EndedBy),
    CallerGone,
    /// Every agent failed: wait for the router's next decision.
    Failed,
}

impl QueueCall<'_, '_> {
    fn id(&self) -> CallId {
        self.handle.id
    }

    fn run(&mut self) -> AppResult {
        self.moh(true);
        let result = self.wait_loop();
        self.moh(false);
        result
    }

    fn wait_loop(&mut self) -> AppResult {
        let fd = self.handle.wake.as_raw_fd();
        loop {
            // Reset the wake-up, then take every queued decision: a signal
            // after this point wakes the next wait, so none is lost.
            self.handle.wake.clear();
            while let Ok(action) = self.handle.actions.try_recv() {
                if let Some(r) = self.act(action) {
                    return r;
                }
            }
            let mut chans = [self.chan.as_ptr()];
            let mut fds = [fd];
            let mut outfd: c_int = -1;
            let mut ms: c_int = -1;
            // SAFETY: one live channel (ours, on its own thread) and one
            // valid descriptor; out-parameters point to locals.
            let winner = unsafe {
                sys::ast_waitfor_nandfds(chans.as_mut_ptr(), 1, fds.as_mut_ptr(), 1, ptr::null_mut(), &mut outfd, &mut ms)
            };
            if outfd == fd {
                continue;
            }
            if winner.is_null() {
                if self.chan.is_hungup() {
                    return self.abandoned();
                }
                continue;
            }
            match read_frame(self.chan.as_ptr()) {
                FrameKind::Hangup => return self.abandoned(),
                FrameKind::Dtmf(d) if Some(d) == self.callback_digit => self.request_callback(),
                _ => {}
            }
        }
    }

    /// Apply one router decision; `Some` ends the application.
    fn act(&mut self, action: Action) -> Option<AppResult> {
        match action {
            Action::Offer { targets, timeout, .. } => match self.ring(&targets, timeout) {
                Rung::Talked(by) => {
                    self.chan.set_var("HOTLINE_RESULT", Some("ANSWERED"));
                    Some(if by == EndedBy::Caller { AppResult::Hangup } else { AppResult::Continue })
                }
                Rung::CallerGone => Some(self.abandoned()),
                Rung::Failed => {
                    self.moh(true);
                    None
                }
            },
            Action::Announce { position, expected_wait, .. } => {
                self.announce(position, expected_wait);
                None
            }
            Action::Moved { queue, music_class, .. } => {
                self.queue = queue.to_string();
                self.chan.set_var("HOTLINE_QUEUE", Some(&self.queue));
                if *music_class != *self.music {
                    self.music = music_class.to_string();
                    self.moh(false);
                    self.moh(true);
                }
                None
            }
            Action::Exit { reason, .. } => {
                self.chan.set_var("HOTLINE_RESULT", Some(reason.name()));
                log::debug!("HotlineQueue: call {} leaves {}: {}", self.id(), self.queue, reason.name());
                Some(AppResult::Continue)
            }
            Action::Callback { .. } => None,
        }
    }

    fn abandoned(&mut self) -> AppResult {
        self.rt.router.report_final(Input::CallerHangup { call: self.id() });
        self.chan.set_var("HOTLINE_RESULT", Some("ABANDONED"));
        AppResult::Hangup
    }

    fn request_callback(&mut self) {
        let number = self.chan.caller_number();
        if number.is_empty() {
            log::warn!("HotlineQueue: call {} asked for a callback but has no caller number", self.id());
            return;
        }
        self.rt.router.report(Input::CallbackRequest { call: self.id(), number });
    }

    fn moh(&mut self, on: bool) {
        if on == self.moh_on {
            return;
        }
        if on {
            let class = to_cstring(&self.music);
            // SAFETY: our live channel, valid C string.
            unsafe { sys::hotline_moh_start(self.chan.as_ptr(), class.as_ptr()) };
        } else {
            // SAFETY: our live channel.
            unsafe { sys::hotline_moh_stop(self.chan.as_ptr()) };
        }
        self.moh_on = on;
    }

    fn announce(&mut self, position: usize, expected_wait: Option<u64>) {
        self.moh(false);
        let chan = self.chan.as_ptr();
        let empty = c"";
        // SAFETY: our live channel; static or owned C strings. Missing sound
        // files make these return non-zero, which is not an error for us.
        unsafe {
            if position == 1 {
                sys::ast_stream_and_wait(chan, c"queue-youarenext".as_ptr(), empty.as_ptr());
            } else {
                sys::ast_stream_and_wait(chan, c"queue-thereare".as_ptr(), empty.as_ptr());
                sys::ast_say_number(chan, position as c_int, empty.as_ptr(), sys::ast_channel_language(chan), ptr::null());
                sys::ast_stream_and_wait(chan, c"queue-callswaiting".as_ptr(), empty.as_ptr());
            }
            if let Some(ms) = expected_wait {
                let minutes = ms.div_ceil(60_000).max(1);
                sys::ast_stream_and_wait(chan, c"queue-holdtime".as_ptr(), empty.as_ptr());
                sys::ast_say_number(chan, minutes as c_int, empty.as_ptr(), sys::ast_channel_language(chan), ptr::null());
                sys::ast_stream_and_wait(chan, c"queue-minutes".as_ptr(), empty.as_ptr());
            }
        }
        self.moh(true);
    }

    /// Ring `targets` at once; the first to answer is bridged with the
    /// caller. Every failure is reported to the router as it happens.
    fn ring(&mut self, targets: &[OfferTarget], timeout: u64) -> Rung {
        let caller = self.chan.as_ptr();
        let mut legs: Vec<Leg> = Vec::with_capacity(targets.len());
        for t in targets {
            match Leg::dial(Some(caller), t, self.id(), &self.queue) {
                Ok(leg) => legs.push(leg),
                Err(outcome) => self.report(t, outcome),
            }
        }
        let deadline = Instant::now() + Duration::from_millis(timeout);
        let fd = self.handle.wake.as_raw_fd();
        while !legs.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                for leg in legs.drain(..) {
                    let t = leg.target.clone();
                    leg.hangup();
                    self.report(&t, OfferOutcome::NoAnswer);
                }
                break;
            }
            let mut chans: Vec<*mut sys::ast_channel> = std::iter::once(caller).chain(legs.iter().map(|l| l.chan)).collect();
            let mut fds = [fd];
            let mut outfd: c_int = -1;
            let mut ms: c_int = left.as_millis().min(c_int::MAX as u128) as c_int;
            // SAFETY: the caller and our own (live, not yet hung up) agent
            // legs; valid out-parameters.
            let winner = unsafe {
                sys::ast_waitfor_nandfds(chans.as_mut_ptr(), chans.len() as c_int, fds.as_mut_ptr(), 1, ptr::null_mut(), &mut outfd, &mut ms)
            };
            if outfd == fd {
                // Nothing is expected from the router while ringing: reset
                // the descriptor (else it stays readable and this loop
                // spins); queued actions are taken after ringing.
                self.handle.wake.clear();
                continue;
            }
            if winner.is_null() {
                continue;
            }
            if winner == caller {
                if let FrameKind::Hangup = read_frame(caller) {
                    for leg in legs.drain(..) {
                        leg.hangup();
                    }
                    return Rung::CallerGone;
                }
                continue;
            }
            let Some(i) = legs.iter().position(|l| l.chan == winner) else { continue };
            let outcome = match read_frame(winner) {
                FrameKind::Answer => None,
                FrameKind::Hangup => Some(hangup_outcome(winner)),
                FrameKind::Busy => Some(OfferOutcome::Busy),
                FrameKind::Congestion => Some(OfferOutcome::Unavailable),
                _ => continue,
            };
            let leg = legs.swap_remove(i);
            match outcome {
                Some(o) => {
                    let t = leg.target.clone();
                    leg.hangup();
                    self.report(&t, o);
                }
                None => {
                    // Answered: other legs go first (the router frees them
                    // as cancelled when it hears of the answer).
                    for other in legs.drain(..) {
                        other.hangup();
                    }
                    return self.talk(leg);
                }
            }
        }
        Rung::Failed
    }

    fn report(&self, t: &OfferTarget, outcome: OfferOutcome) {
        log::debug!("HotlineQueue: call {} agent {}: {}", self.id(), t.name, outcome.name());
        self.rt.router.report(Input::OfferResult { call: self.id(), agent: t.agent, outcome });
    }

    /// Bridge caller and agent until one hangs up.
    fn talk(&mut self, leg: Leg) -> Rung {
        self.rt.router.report(Input::OfferResult { call: self.id(), agent: leg.target.agent, outcome: OfferOutcome::Answered });
        self.moh(false);
        self.chan.set_var("HOTLINE_AGENT", Some(&leg.target.name));
        // SAFETY: zero is the documented "no features" bridge configuration.
        let mut cfg: sys::ast_bridge_config = unsafe { std::mem::zeroed() };
        // The agent may transfer the caller (blind and attended, with the
        // DTMF codes of features.conf), as app_queue's `t` option allows.
        cfg.features_callee.flags = AST_FEATURE_REDIRECT | AST_FEATURE_ATXFER;
        let caller = self.chan.as_ptr();
        // SAFETY: both channels live; ast_bridge_call takes the agent leg
        // (imparted independent: the bridge hangs it up). We never touch
        // the leg again.
        let res = unsafe { sys::ast_bridge_call(caller, leg.into_raw(), &mut cfg) };
        // 0 means the caller left the bridge for somewhere else (an async
        // goto: a transfer or an AMI Redirect), which also sets the soft
        // hang-up flag, so test it first.
        let by = if res == 0 {
            EndedBy::Transfer
        } else if self.chan.is_hungup() {
            EndedBy::Caller
        } else {
            EndedBy::Agent
        };
        self.rt.router.report_final(Input::CallEnded { call: self.id(), by });
        Rung::Talked(by)
    }
}

/// `AST_FEATURE_*` bits of asterisk/channel.h (an anonymous enum bindgen
/// does not name).
pub(super) const AST_FEATURE_REDIRECT: u32 = 1 << 1;
pub(super) const AST_FEATURE_ATXFER: u32 = 1 << 3;

/// An outgoing leg (an agent, or a callback's customer) being rung. Hung up
/// on drop unless handed to the bridge.
pub(super) struct Leg {
    pub chan: *mut sys::ast_channel,
    pub target: OfferTarget,
}

impl Leg {
    /// Request and call `t.contact`. `requestor`: the channel this leg is
    /// for (its formats and linked id), if any.
    pub fn dial(requestor: Option<*mut sys::ast_channel>, t: &OfferTarget, call: CallId, queue: &str) -> Result<Leg, OfferOutcome> {
        let (tech, data) = match t.contact.split_once('/') {
            Some((tech, data)) if !tech.is_empty() && !data.is_empty() => (tech, data),
            _ => {
                log::error!("Hotline: agent {} has a bad contact {:?} (want TECH/resource)", t.name, t.contact);
                return Err(OfferOutcome::Unavailable);
            }
        };
        let tech = to_cstring(tech);
        let data = to_cstring(data);
        let mut cause: c_int = 0;
        // SAFETY: the requestor is live and its native formats are valid
        // while it is; without one we own a default format set for the
        // call; C strings outlive the call.
        let chan = unsafe {
            match requestor {
                Some(caller) => {
                    let caps = sys::ast_channel_nativeformats(caller);
                    sys::ast_request(tech.as_ptr(), caps, ptr::null(), caller, data.as_ptr(), &mut cause)
                }
                None => {
                    let caps = sys::hotline_format_cap_default();
                    if caps.is_null() {
                        return Err(OfferOutcome::Unavailable);
                    }
                    let c = sys::ast_request(tech.as_ptr(), caps, ptr::null(), ptr::null(), data.as_ptr(), &mut cause);
                    sys::hotline_format_cap_release(caps);
                    c
                }
            }
        };
        if chan.is_null() {
            log::warn!("Hotline: cannot reach agent {} at {} (cause {cause})", t.name, t.contact);
            return Err(if cause == 17 { OfferOutcome::Busy } else { OfferOutcome::Unavailable });
        }
        let leg = Leg { chan, target: t.clone() };
        // Screen-pop data for the agent's side.
        for (k, v) in [("HOTLINE_CALLID", call.to_string()), ("HOTLINE_QUEUE", queue.to_string())] {
            let (k, v) = (to_cstring(k), to_cstring(&v));
            // SAFETY: our new channel; the helper locks it.
            unsafe { sys::pbx_builtin_setvar_helper(chan, k.as_ptr(), v.as_ptr()) };
        }
        // SAFETY: our new, not yet called channel; valid C string.
        if unsafe { sys::ast_call(chan, data.as_ptr(), 0) } != 0 {
            log::warn!("Hotline: call to agent {} at {} failed", t.name, t.contact);
            return Err(OfferOutcome::Unavailable); // leg dropped: hung up
        }
        Ok(leg)
    }

    pub fn hangup(self) {
        drop(self)
    }

    /// Give the channel away (to the bridge).
    pub fn into_raw(self) -> *mut sys::ast_channel {
        let c = self.chan;
        std::mem::forget(self);
        c
    }
}

impl Drop for Leg {
    fn drop(&mut self) {
        // SAFETY: a channel we requested and still own.
        unsafe { sys::ast_hangup(self.chan) };
    }
}

pub(super) enum FrameKind {
    Hangup,
    Answer,
    Busy,
    Congestion,
    Dtmf(char),
    Other,
}

/// Read one frame and classify it (frees the frame).
pub(super) fn read_frame(chan: *mut sys::ast_channel) -> FrameKind {
    // SAFETY: a live channel owned by this thread's call.
    let f = unsafe { sys::ast_read(chan) };
    if f.is_null() {
        return FrameKind::Hangup;
    }
    // SAFETY: ast_read returned a valid frame, freed below exactly once.
    let (ty, sub) = unsafe { ((*f).frametype, (*f).subclass.integer) };
    use sys::ast_control_frame_type as ctl;
    let is = |c: ctl| sub as i64 == c.0 as i64;
    let kind = if ty == sys::ast_frame_type::AST_FRAME_CONTROL {
        if is(ctl::AST_CONTROL_ANSWER) {
            FrameKind::Answer
        } else if is(ctl::AST_CONTROL_BUSY) {
            FrameKind::Busy
        } else if is(ctl::AST_CONTROL_CONGESTION) {
            FrameKind::Congestion
        } else if is(ctl::AST_CONTROL_HANGUP) {
            FrameKind::Hangup
        } else {
            FrameKind::Other
        }
    } else if ty == sys::ast_frame_type::AST_FRAME_DTMF_END {
        char::from_u32(sub as u32).map(FrameKind::Dtmf).unwrap_or(FrameKind::Other)
    } else {
        FrameKind::Other
    };
    // SAFETY: frame from ast_read, not used after this.
    unsafe { sys::hotline_frfree(f) };
    kind
}

/// What an agent leg's hang-up before answering means.
pub(super) fn hangup_outcome(chan: *mut sys::ast_channel) -> OfferOutcome {
    // SAFETY: live channel (hung up, not yet destroyed: we still own it).
    match unsafe { sys::ast_channel_hangupcause(chan) } {
        17 => OfferOutcome::Busy,
        18 | 19 => OfferOutcome::NoAnswer,
        1 | 3 | 20 | 27 | 34 | 38 | 41 | 42 | 44 | 58 => OfferOutcome::Unavailable,
        _ => OfferOutcome::Rejected,
    }
}
