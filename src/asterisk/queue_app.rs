// SPDX-License-Identifier: GPL-2.0-or-later
//! `HotlineQueue(queue[,option=value...])` on the caller's channel thread:
//! the shared queue flow ([`crate::flow::queue`]) over Asterisk's
//! primitives.
//!
//! The thread sleeps in `ast_waitfor_n` on the caller's channel and the
//! agent legs it rings, nothing else: the router wakes it by queueing a
//! null frame on the caller's channel, found again by name and unique id
//! ([`AstWake`]), whose alert pipe ends the wait at once. Ringing,
//! answer detection and bridging happen here with Asterisk's own calls
//! (`ast_request`, `ast_call`, `ast_read`, `ast_bridge_call`); every leg's
//! outcome goes back to the flow, which reports it to the router at once.
//!
//! Channel pointers never leave this call: agent legs are created, watched
//! and hung up (or handed to the bridge) inside the application.
//!
//! Options and variables: see [`crate::flow::options`] and
//! [`crate::flow::queue`] (`HOTLINE_PRIORITY`, `HOTLINE_SKILLS`,
//! `HOTLINE_CALLBACK_KEY` in; `HOTLINE_RESULT`, `HOTLINE_AGENT`,
//! `HOTLINE_CALLID`, `HOTLINE_QUEUE` out).

use std::ffi::CString;
use std::os::raw::c_int;
use std::ptr;
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::Receiver;

use crate::core::{Action, CallId, EndedBy, OfferOutcome, OfferTarget, Time};
use crate::ffi::cstr::to_cstring;
use crate::flow::{self, Happening, LegPlayed, LegPrompt, Primitives, Ringing, Sound, Wait};
use crate::router::{Latch, Wake};

use super::apps::AppResult;
use super::channel::Channel;
use super::runtime::{ActiveCall, Runtime};
use super::sys;

pub fn exec(rt: &Runtime, chan: &Channel<'_>, args: &str) -> AppResult {
    let _active = ActiveCall::new(rt);
    let mut caller = AstCaller::new(rt, chan, "HotlineQueue");
    let facts = rt.router.published();
    let cfg = rt.config();
    let end = flow::ivr::queue_app(&mut caller, &rt.router, &rt.ivr_context(&cfg, &*facts), args);
    if end.caller_gone {
        AppResult::Hangup
    } else {
        AppResult::Continue
    }
}

/// The caller's channel and the agent legs it rings, for the flow.
pub(super) struct AstCaller<'a, 'c> {
    pub(super) chan: &'a Channel<'c>,
    started: Instant,
    wake: Option<Arc<AstWake>>,
    legs: Vec<Leg>,
    /// The offer the legs ring for.
    ring_seq: u32,
    /// The music-on-hold class playing, if any.
    music: Option<String>,
    /// The application running (log lines).
    app: &'static str,
}

impl<'a, 'c> AstCaller<'a, 'c> {
    pub(super) fn new(rt: &Runtime, chan: &'a Channel<'c>, app: &'static str) -> Self {
        AstCaller { chan, started: rt.router.epoch(), wake: None, legs: Vec::new(), ring_seq: 0, music: None, app }
    }
}

/// How the router wakes the caller's thread: a null frame queued on the
/// caller's channel, found again by name (a hash lookup) and unique id
/// (after a rename), at most once between two looks of the thread.
struct AstWake {
    name: CString,
    uniqueid: CString,
    latch: Latch,
}

impl Wake for AstWake {
    fn wake(&self) {
        if self.latch.raise() {
            // SAFETY: valid C strings; the shim finds the channel, queues
            // the frame and drops its reference before it returns. A caller
            // already gone is not found, which is fine.
            unsafe { sys::hotline_wake_channel(self.name.as_ptr(), self.uniqueid.as_ptr()) };
        }
    }
}

impl Primitives for AstCaller<'_, '_> {
    type Leg = Leg;

    fn now(&self) -> Time {
        self.started.elapsed().as_millis() as Time
    }

    fn context(&self) -> String {
        format!("{} on {}", self.app, self.chan.name())
    }

    fn hotline_var(&self, suffix: &str) -> String {
        format!("HOTLINE_{}", suffix.to_ascii_uppercase())
    }

    fn location(&self) -> String {
        self.chan.location()
    }

    /// MixMonitor, only while bridged (`b`); it makes the directories and
    /// writes on its own thread. Stereo (`D`) interleaves into a raw file,
    /// which the recordings sink turns into the WAV file after the call.
    fn record_start(&mut self, file: &str, stereo: bool) -> Result<(), String> {
        let target = if stereo { crate::recording::path::stereo_raw(file) } else { file.to_string() };
        let (file_c, opts) = (to_cstring(&target), to_cstring(if stereo { "bD" } else { "b" }));
        // SAFETY: live caller channel on its own thread; valid C strings
        // (MixMonitor copies them).
        match unsafe { sys::ast_start_mixmonitor(self.chan.as_ptr(), file_c.as_ptr(), opts.as_ptr()) } {
            0 => Ok(()),
            _ => Err("MixMonitor refused (is app_mixmonitor loaded?)".into()),
        }
    }

    fn record_stop(&mut self, _file: &str) {
        if self.chan.is_hungup() {
            // MixMonitor ends with the channel.
            return;
        }
        // SAFETY: live caller channel on its own thread; NULL: the one
        // MixMonitor Hotline started on it.
        unsafe { sys::ast_stop_mixmonitor(self.chan.as_ptr(), std::ptr::null()) };
    }

    fn get_var(&self, name: &str) -> Option<String> {
        self.chan.get_var(name)
    }

    fn set_var(&mut self, name: &str, value: Option<&str>) {
        self.chan.set_var(name, value)
    }

    fn data_vars(&self) -> Vec<(String, String)> {
        crate::ffi::vars::read_prefixed(c"HOTLINE_DATA_", |prefix, cb, user| {
            // SAFETY: our live channel; the shim locks it and calls `cb`
            // with `user`, which read_prefixed keeps alive across the call.
            unsafe { sys::hotline_channel_vars(self.chan.as_ptr(), prefix.as_ptr(), Some(cb), user) }
        })
    }

    fn caller_number(&self) -> String {
        self.chan.caller_number()
    }

    fn caller_name(&self) -> String {
        self.chan.caller_name()
    }

    fn identity(&self) -> Vec<(String, String)> {
        vec![("uniqueid".into(), self.chan.uniqueid()), ("channel".into(), self.chan.name())]
    }

    fn language(&self) -> String {
        let chan = self.chan.as_ptr();
        // SAFETY: our live channel; the string is copied at once.
        unsafe { crate::ffi::cstr::to_string_lossy(sys::ast_channel_language(chan)) }
    }

    fn answer(&mut self) -> bool {
        self.chan.answer()
    }

    fn caller_up(&self) -> bool {
        !self.chan.is_gone()
    }

    fn music_on(&mut self, class: &str) {
        if self.music.as_deref() == Some(class) {
            return;
        }
        self.music_off();
        let c = to_cstring(class);
        // SAFETY: our live channel, valid C string.
        unsafe { sys::hotline_moh_start(self.chan.as_ptr(), c.as_ptr()) };
        self.music = Some(class.to_string());
    }

    fn music_off(&mut self) {
        if self.music.take().is_some() {
            // SAFETY: our live channel.
            unsafe { sys::hotline_moh_stop(self.chan.as_ptr()) };
        }
    }

    fn sound(&self, s: Sound) -> Option<&'static str> {
        Some(match s {
            Sound::YouAreNext => "queue-youarenext",
            Sound::ThereAre => "queue-thereare",
            Sound::CallsWaiting => "queue-callswaiting",
            Sound::HoldTime => "queue-holdtime",
            Sound::Minutes => "queue-minutes",
        })
    }

    fn play_file(&mut self, file: &str) {
        // Without the format's extension (rendered say words are `.wav`).
        let f = to_cstring(crate::ivr::sounds::asterisk_stem(file));
        // SAFETY: our live channel; valid C strings. A missing sound file
        // returns non-zero, which is not an error for us.
        unsafe { sys::ast_stream_and_wait(self.chan.as_ptr(), f.as_ptr(), c"".as_ptr()) };
    }

    fn say_number(&mut self, n: u64) {
        let chan = self.chan.as_ptr();
        // SAFETY: our live channel; its language string is valid while it is.
        unsafe { sys::ast_say_number(chan, n.min(c_int::MAX as u64) as c_int, c"".as_ptr(), sys::ast_channel_language(chan), ptr::null()) };
    }

    fn waker(&mut self) -> Arc<dyn Wake> {
        let wake = Arc::new(AstWake {
            name: to_cstring(&self.chan.name()),
            uniqueid: to_cstring(&self.chan.uniqueid()),
            latch: Latch::default(),
        });
        self.wake = Some(wake.clone());
        wake
    }

    fn wait(&mut self, mode: Wait, actions: &Receiver<Action>) -> Happening<Leg> {
        // Reset the wake-up, then look: a decision queued after this point
        // queues a frame that ends the wait below, so none is lost (a frame
        // from before reads as nothing: one spurious Woken).
        if let Some(w) = &self.wake {
            w.latch.reset();
        }
        if matches!(mode, Wait::Holding) && !actions.is_empty() {
            return Happening::Woken;
        }
        let caller = self.chan.as_ptr();
        let mut ms: c_int = match mode {
            Wait::Holding => -1,
            Wait::Ringing { until } => {
                let left = until.saturating_sub(self.now());
                if left == 0 {
                    return Happening::Timeout;
                }
                left.min(c_int::MAX as u64) as c_int
            }
        };
        let mut chans: Vec<*mut sys::ast_channel> = std::iter::once(caller).chain(self.legs.iter().map(|l| l.chan)).collect();
        // SAFETY: the caller and our own (live, not yet hung up) agent
        // legs; the out-parameter points to a local.
        let winner = unsafe { sys::ast_waitfor_n(chans.as_mut_ptr(), chans.len() as c_int, &mut ms) };
        if winner.is_null() {
            if self.chan.is_gone() {
                return Happening::CallerGone;
            }
            return match mode {
                Wait::Ringing { .. } => Happening::Timeout,
                Wait::Holding => Happening::Woken,
            };
        }
        if winner == caller {
            // A wake-up is a null frame (Other). While ringing the flow
            // leaves decisions queued until the offer is over.
            return match read_frame(caller) {
                FrameKind::Hangup if self.chan.withdraw_unload_hangup() => Happening::Woken,
                FrameKind::Hangup => Happening::CallerGone,
                FrameKind::Dtmf(d) => Happening::Dtmf(d),
                _ => Happening::Woken,
            };
        }
        let Some(i) = self.legs.iter().position(|l| l.chan == winner) else { return Happening::Woken };
        let outcome = match read_frame(winner) {
            FrameKind::Answer => None,
            FrameKind::Hangup => Some(hangup_outcome(winner)),
            FrameKind::Busy => Some(OfferOutcome::Busy),
            FrameKind::Congestion => Some(OfferOutcome::Unavailable),
            _ => return Happening::Woken,
        };
        let leg = self.legs.swap_remove(i);
        match outcome {
            Some(outcome) => {
                let agent = leg.target.agent;
                leg.hangup();
                Happening::LegFailed { agent, outcome }
            }
            None => {
                let agent = leg.target.clone();
                Happening::Answered { leg, agent, seq: self.ring_seq }
            }
        }
    }

    fn ring(&mut self, call: CallId, seq: u32, queue: &str, targets: &[OfferTarget], _deadline: Time, vars: &[(String, String)]) -> Ringing {
        let caller = self.chan.as_ptr();
        self.ring_seq = seq;
        let mut failed = Vec::new();
        let mut ringing = Vec::new();
        for t in targets {
            match Leg::dial(Some(caller), t, call, queue, vars) {
                Ok(leg) => {
                    ringing.push(t.agent);
                    self.legs.push(leg);
                }
                Err(outcome) => failed.push((t.agent, outcome)),
            }
        }
        Ringing::Inline { failed, ringing }
    }

    fn stop_ringing(&mut self) {
        // The router frees the other legs of a ring-all as cancelled when
        // it hears of the answer.
        for leg in self.legs.drain(..) {
            leg.hangup();
        }
    }

    fn play_to_leg(&mut self, leg: &mut Leg, prompt: &LegPrompt) -> LegPlayed {
        let (kind, file, text) = match prompt {
            LegPrompt::File(f) => (sys::hotline_leg_prompt::HOTLINE_PROMPT_FILE, f.as_str(), ""),
            LegPrompt::FileOrSpell { file, spell } => (sys::hotline_leg_prompt::HOTLINE_PROMPT_FILE_OR_SPELL, file.as_str(), spell.as_str()),
            LegPrompt::Digits(d) => (sys::hotline_leg_prompt::HOTLINE_PROMPT_DIGITS, "", d.as_str()),
            LegPrompt::Spell(t) => (sys::hotline_leg_prompt::HOTLINE_PROMPT_SPELL, "", t.as_str()),
        };
        let (file, text) = (to_cstring(file), to_cstring(text));
        // SAFETY: our own answered agent leg and the caller's channel, both
        // live on this thread; valid C strings. The shim autoservices the
        // caller meanwhile, so its music goes on.
        match unsafe { sys::hotline_play_to_leg(leg.chan, self.chan.as_ptr(), kind.0 as c_int, file.as_ptr(), text.as_ptr()) } {
            0 => LegPlayed::Done,
            1 => LegPlayed::LegGone,
            _ => LegPlayed::CallerGone,
        }
    }

    fn claim(&mut self, _leg: &mut Leg) -> bool {
        true
    }

    fn drop_leg(&mut self, leg: Leg) {
        leg.hangup();
    }

    fn leg_identity(&self, leg: &Leg) -> Vec<(String, String)> {
        // SAFETY: our own live agent leg, borrowed for this call only.
        let Some(chan) = (unsafe { Channel::from_raw(leg.chan) }) else { return Vec::new() };
        vec![("channel".into(), chan.name()), ("uniqueid".into(), chan.uniqueid())]
    }

    /// Bridge caller and agent until one hangs up.
    fn bridge(&mut self, leg: Leg) -> EndedBy {
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
        if res == 0 {
            EndedBy::Transfer
        } else if self.chan.is_hungup() {
            EndedBy::Caller
        } else {
            EndedBy::Agent
        }
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
    pub fn dial(
        requestor: Option<*mut sys::ast_channel>,
        t: &OfferTarget,
        call: CallId,
        queue: &str,
        vars: &[(String, String)],
    ) -> Result<Leg, OfferOutcome> {
        let (tech, data) = match t.contact.split_once('/') {
            Some((tech, data)) if !tech.is_empty() && !data.is_empty() => (tech, data),
            _ => {
                log::error!("Hotline: agent {} has a bad contact {:?} (want TECH/resource)", t.name, t.contact);
                return Err(OfferOutcome::Unavailable);
            }
        };
        let pjsip = tech.eq_ignore_ascii_case("PJSIP");
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
            return Err(if cause == flow::cause::USER_BUSY as c_int { OfferOutcome::Busy } else { OfferOutcome::Unavailable });
        }
        let leg = Leg { chan, target: t.clone() };
        if let Some(caller) = requestor {
            // SAFETY: both channels live (the requestor is the caller's, on
            // this thread; the leg is ours and not yet called).
            unsafe { sys::hotline_leg_from_caller(chan, caller) };
        }
        // Screen-pop data for the agent's side.
        let mut ids = vec![("HOTLINE_CALLID".to_string(), call.to_string()), ("HOTLINE_QUEUE".to_string(), queue.to_string())];
        if let Some(url) = &t.popup_url {
            // Rendered for this agent (percent-encoded values): its CRM pops it.
            ids.push(("HOTLINE_POPUP_URL".to_string(), url.to_string()));
        }
        if t.auto_answer {
            // A Local contact's dialplan can add the headers itself from this.
            ids.push(("HOTLINE_AUTO_ANSWER".to_string(), "1".to_string()));
            // SAFETY: our new, not yet called PJSIP channel.
            if pjsip && unsafe { sys::hotline_pjsip_auto_answer(chan) } != 0 {
                log::warn!("Hotline: cannot add the auto-answer headers for agent {} at {}", t.name, t.contact);
            }
        }
        for (k, v) in ids.iter().chain(vars) {
            let (k, v) = (to_cstring(k), to_cstring(v));
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
    let cause = unsafe { sys::ast_channel_hangupcause(chan) };
    flow::cause::offer_outcome(cause.max(0) as flow::cause::Cause)
}
