// SPDX-License-Identifier: GPL-2.0-or-later
//! `hotline_queue queue[,option=value...]` on the caller's session thread:
//! the shared queue flow ([`crate::flow::queue`]) over FreeSWITCH's
//! primitives.
//!
//! The caller waits in music on hold: `switch_ivr_play_file` of the queue's
//! music (its `music_class`: a FreeSWITCH file/stream URL as is, `default`
//! = the `hold_music` variable or `local_stream://moh`, any other name =
//! `local_stream://<name>`), falling back to `silence_stream://-1` and then
//! to `switch_ivr_sleep` when nothing can be played. Router decisions (and
//! the caller's digits) wake it through the [`super::waker`] thread, which
//! sets `CF_BREAK` on the channel: playback stops within one frame and the
//! flow takes its decisions. There is no timer and no polling.
//!
//! Agents are rung by [`super::dialer`] on threads of its own
//! (`switch_ivr_originate`, one leg per target, `,`-joined for ring-all,
//! each leg carrying `hotline_agent_id`/`hotline_offer` and showing the
//! caller's number), while the caller keeps hearing its music; those
//! threads and the hang-up handler report every leg (see
//! [`super::offers`]). The answered leg is handed over by UUID and bridged
//! here with `switch_ivr_multi_threaded_bridge`.
//!
//! Variables: `hotline_priority`, `hotline_skills`, `hotline_callback_key`
//! in; `hotline_result`, `hotline_agent`, `hotline_callid`, `hotline_queue`
//! out. Agent legs get `hotline_callid` and `hotline_queue` too.

use std::cell::RefCell;
use std::ffi::c_void;
use std::os::raw::{c_char, c_int};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::Receiver;

use crate::core::{Action, CallId, CallerInfo, EndedBy, OfferTarget, Time};
use crate::ffi::cstr::to_cstring;
use crate::flow::{self, Happening, LegPlayed, LegPrompt, Primitives, Ringing, Sound, TalkEnd, Wait};
use crate::router::Wake;

use super::dialer::{Answered, SlotGuard};
use super::runtime::{ActiveCall, Runtime};
use super::session::Session;
use super::sys;
use super::waker::CallWake;

/// Silence that never ends (mod_tone_stream).
const SILENCE: &str = "silence_stream://-1";

pub fn exec(rt: &Runtime, s: &Session<'_>, args: &str) {
    let facts = rt.router.published();
    let cfg = rt.config();
    run_flow(rt, s, "hotline_queue", |caller| flow::ivr::queue_app(caller, &rt.router, &rt.ivr_context(&cfg, &*facts), args));
}

/// Run a flow (the queue's, or the IVR's, which may end in the queue's)
/// for the caller on `s`.
pub(super) fn run_flow(rt: &Runtime, s: &Session<'_>, app: &'static str, f: impl FnOnce(&mut FsCaller<'_, '_>) -> flow::AppEnd) {
    let _active = ActiveCall::new(rt);
    let mut caller = FsCaller {
        rt,
        s,
        started: rt.router.epoch(),
        slot: None,
        wake: None,
        class: None,
        hold: Hold::Sleep,
        digits: Box::new(Digits::default()),
        blegs: Vec::new(),
        hangup_after_bridge: None,
        app,
    };
    let end = f(&mut caller);
    // The bridge would have hung the caller up itself after the agent's
    // hang-up with hangup_after_bridge=true; it is done after telling who
    // ended the call.
    if end.ended_by == Some(EndedBy::Agent) && caller.hangup_after_bridge.as_deref().is_some_and(is_true) {
        s.hangup(sys::switch_call_cause_t::SWITCH_CAUSE_NORMAL_CLEARING.0 as i32);
    }
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

/// Digits the caller pressed during the music, for the flow. The DTMF
/// callback runs on the session's own thread, inside the playback.
#[derive(Default)]
struct Digits {
    pressed: RefCell<Vec<char>>,
    wake: RefCell<Option<Arc<CallWake>>>,
}

impl Digits {
    /// The first digit not yet taken.
    fn take(&self) -> Option<char> {
        let mut p = self.pressed.borrow_mut();
        (!p.is_empty()).then(|| p.remove(0))
    }
}

unsafe extern "C" fn on_dtmf(user: *mut c_void, digit: c_char) {
    crate::entry!("hotline_queue dtmf", (), || {
        // SAFETY: `user` is the boxed Digits of the FsCaller whose playback
        // calls us, on the same thread; it outlives the playback.
        let d = unsafe { &*(user as *const Digits) };
        d.pressed.borrow_mut().push(digit as u8 as char);
        // End the playback so the flow sees the digit now.
        if let Some(w) = d.wake.borrow().as_ref() {
            w.wake();
        }
    })
}

/// The caller's session and its registrations, for the flow.
pub(super) struct FsCaller<'a, 's> {
    rt: &'a Runtime,
    pub(super) s: &'a Session<'s>,
    started: Instant,
    slot: Option<SlotGuard<'a>>,
    wake: Option<Arc<CallWake>>,
    class: Option<String>,
    hold: Hold,
    digits: Box<Digits>,
    /// Claimed agent legs by UUID, read-locked until bridged or dropped.
    blegs: Vec<(String, *mut sys::switch_core_session_t)>,
    hangup_after_bridge: Option<String>,
    /// The application running (log lines).
    app: &'static str,
}

impl FsCaller<'_, '_> {
    /// The read-locked session of a claimed leg, taken out.
    fn take_bleg(&mut self, uuid: &str) -> Option<*mut sys::switch_core_session_t> {
        let i = self.blegs.iter().position(|(u, _)| u == uuid)?;
        Some(self.blegs.swap_remove(i).1)
    }

    fn disarm(&self) {
        if let Some(w) = &self.wake {
            w.disarm();
        }
        // A break that landed after the playback ended must not cut the
        // next prompt short.
        self.s.clear_break();
    }

    /// Wait in music until woken (1), the file ended (0) or failed/hung up (-1).
    fn hold(&mut self) -> i32 {
        let user = &*self.digits as *const Digits as *mut c_void;
        let sp = self.s.as_ptr();
        match &self.hold {
            Hold::Music(url) => {
                let file = to_cstring(url);
                let started = Instant::now();
                // SAFETY: our live session on its own thread; the digits outlive the call.
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
}

impl Primitives for FsCaller<'_, '_> {
    type Leg = Answered;

    fn now(&self) -> Time {
        self.started.elapsed().as_millis() as Time
    }

    fn context(&self) -> String {
        self.app.into()
    }

    fn get_var(&self, name: &str) -> Option<String> {
        self.s.get_var(name)
    }

    fn set_var(&mut self, name: &str, value: Option<&str>) {
        self.s.set_var(name, value)
    }

    fn data_vars(&self) -> Vec<(String, String)> {
        crate::ffi::vars::read_prefixed(c"hotline_data_", |prefix, cb, user| {
            // SAFETY: our live session; the shim calls `cb` with `user`,
            // which read_prefixed keeps alive across the call.
            unsafe { sys::hotline_fs_channel_vars(self.s.as_ptr(), prefix.as_ptr(), Some(cb), user) }
        })
    }

    fn caller_number(&self) -> String {
        self.s.caller_number()
    }

    fn caller_name(&self) -> String {
        self.s.caller_name()
    }

    fn language(&self) -> String {
        self.s.get_var("default_language").unwrap_or_default()
    }

    fn identity(&self) -> Vec<(String, String)> {
        vec![("uuid".into(), self.s.uuid())]
    }

    fn answer(&mut self) -> bool {
        self.s.answer()
    }

    fn caller_up(&self) -> bool {
        self.s.ready()
    }

    fn music_on(&mut self, class: &str) {
        // Music plays only while the flow waits; a class that could not be
        // played stays degraded until the class changes.
        if self.class.as_deref() != Some(class) {
            self.hold = Hold::Music(music_url(class, self.s));
            self.class = Some(class.to_string());
        }
    }

    fn music_off(&mut self) {}

    fn sound(&self, s: Sound) -> Option<&'static str> {
        match s {
            Sound::ThereAre => Some("ivr/ivr-you_are_number.wav"),
            Sound::CallsWaiting => Some("ivr/ivr-in_line.wav"),
            Sound::YouAreNext | Sound::HoldTime | Sound::Minutes => None,
        }
    }

    fn play_file(&mut self, file: &str) {
        let f = to_cstring(file);
        // SAFETY: our live session on its own thread; valid C string.
        // Missing sound files only log.
        unsafe { sys::hotline_fs_play(self.s.as_ptr(), f.as_ptr(), None, std::ptr::null_mut()) };
    }

    fn say_number(&mut self, n: u64) {
        let text = to_cstring(&n.to_string());
        // SAFETY: our live session on its own thread; valid C strings.
        unsafe { sys::hotline_fs_say(self.s.as_ptr(), text.as_ptr(), c"number".as_ptr(), c"pronounced".as_ptr()) };
    }

    fn entering(&mut self, call: CallId, caller: &CallerInfo, queue: &str) {
        // The slot exists before the router can send an offer for the call.
        self.slot = Some(self.rt.dialer.open(call, &caller.number, &caller.name, &self.s.uuid(), queue));
    }

    fn waker(&mut self) -> Arc<dyn Wake> {
        let wake = self.rt.waker.call(&self.s.uuid());
        if let Some(g) = &self.slot {
            g.slot.set_wake(wake.clone());
        }
        *self.digits.wake.borrow_mut() = Some(wake.clone());
        self.wake = Some(wake.clone());
        wake
    }

    fn moved(&mut self, queue: &str) {
        if let Some(g) = &self.slot {
            g.slot.set_queue(queue);
        }
    }

    fn release(&mut self) {
        if let Some(g) = &self.slot {
            g.slot.close();
        }
    }

    fn wait(&mut self, _mode: Wait, actions: &Receiver<Action>) -> Happening<Answered> {
        // Arm first, then look: a decision queued (or an agent handed
        // over, or a digit) after the look breaks the music below (see
        // waker.rs).
        if let Some(w) = &self.wake {
            w.arm();
        }
        let answered = self.slot.as_ref().and_then(|g| g.slot.take_answered());
        let happened = if let Some(a) = answered {
            Some(Happening::Answered { agent: a.winner.clone(), seq: a.seq, leg: a })
        } else if !actions.is_empty() {
            Some(Happening::Woken)
        } else if let Some(d) = self.digits.take() {
            Some(Happening::Dtmf(d))
        } else if !self.s.ready() {
            Some(Happening::CallerGone)
        } else {
            None
        };
        if let Some(h) = happened {
            self.disarm();
            return h;
        }
        let r = self.hold();
        self.disarm();
        if r < 0 && !self.s.ready() {
            return Happening::CallerGone;
        }
        Happening::Woken
    }

    fn ring(&mut self, call: CallId, seq: u32, _queue: &str, targets: &[OfferTarget], deadline: Time, _vars: &[(String, String)]) -> Ringing {
        // Reached the caller's channel only when the router's global one
        // was full: ring from a thread all the same.
        self.rt.dialer.ring_from_caller(call, seq, targets.to_vec(), deadline);
        Ringing::Detached
    }

    fn stop_ringing(&mut self) {}

    fn play_to_leg(&mut self, leg: &mut Answered, prompt: &LegPrompt) -> LegPlayed {
        // The agent's leg is played to from a thread of ours (it is not
        // bridged: nothing else reads it), so this thread keeps the caller
        // in music until that thread is done and wakes it.
        let done = Arc::new(AtomicU8::new(PLAYING));
        let wake = self.digits.wake.borrow().clone();
        let (uuid, prompt, flag) = (leg.uuid.clone(), prompt.clone(), done.clone());
        let spawned = std::thread::Builder::new().name("hotline-announce".into()).spawn(move || {
            let played = crate::entry!("hotline announce", &super::runtime::GATE, LegPlayed::LegGone, |_rt| play_on_leg(&uuid, &prompt));
            flag.store(if played == LegPlayed::Done { PLAYED } else { LEG_GONE }, Ordering::Release);
            if let Some(w) = wake {
                w.wake();
            }
        });
        match spawned {
            Ok(t) => self.rt.dialer.track(t),
            Err(e) => {
                log::error!("hotline_queue: cannot start the announcement to {}: {e}; bridging without it", leg.winner.name);
                return LegPlayed::Done;
            }
        }
        loop {
            match done.load(Ordering::Acquire) {
                PLAYED => return LegPlayed::Done,
                LEG_GONE => return LegPlayed::LegGone,
                _ => {}
            }
            if !self.s.ready() {
                return LegPlayed::CallerGone;
            }
            // Arm, then look again: the thread's signal after this point
            // breaks the music below.
            if let Some(w) = &self.wake {
                w.arm();
            }
            if done.load(Ordering::Acquire) != PLAYING {
                self.disarm();
                continue;
            }
            self.hold();
            self.disarm();
        }
    }

    fn claim(&mut self, leg: &mut Answered) -> bool {
        let u = to_cstring(&leg.uuid);
        // SAFETY: valid C string; NULL or a read-locked session, released
        // by hotline_fs_bridge in `bridge` (or in `drop_leg`).
        let bleg = unsafe { sys::hotline_fs_locate(u.as_ptr()) };
        if bleg.is_null() {
            return false;
        }
        self.blegs.push((leg.uuid.clone(), bleg));
        true
    }

    fn connected(&mut self, leg: &Answered, talk: &Arc<TalkEnd>) {
        // The agent's hang-up may end the talk first (see offers.rs).
        self.rt.offers.start_talk(leg.key, leg.winner.agent, &self.s.uuid(), talk.clone());
        if let Some(g) = &self.slot {
            // Answers queued before this one was connected are stale.
            for a in g.slot.take_all_answered() {
                super::dialer::stale_leg(self.rt, talk.call(), a);
            }
        }
    }

    fn drop_leg(&mut self, leg: Answered) {
        self.rt.offers.end_talk(leg.key);
        if let Some(bleg) = self.take_bleg(&leg.uuid) {
            // SAFETY: the read lock taken by `claim`, released once.
            unsafe { sys::hotline_fs_leg_unlock(bleg) };
        }
        super::dialer::hangup_uuid(&leg.uuid, sys::switch_call_cause_t::SWITCH_CAUSE_NORMAL_CLEARING.0 as i32);
    }

    fn leg_identity(&self, leg: &Answered) -> Vec<(String, String)> {
        vec![("uuid".into(), leg.uuid.clone())]
    }

    fn set_leg_vars(&mut self, leg: &mut Answered, vars: &[(String, String)]) {
        let Some(bleg) = self.blegs.iter().find(|(u, _)| *u == leg.uuid).map(|(_, b)| *b) else { return };
        for (k, v) in vars {
            let (k, v) = (to_cstring(k), to_cstring(v));
            // SAFETY: the claimed leg, read-locked until the bridge; valid C
            // strings (copied by FreeSWITCH).
            unsafe { sys::hotline_fs_set_var(bleg, k.as_ptr(), v.as_ptr()) };
        }
    }

    fn bridge(&mut self, leg: Answered) -> EndedBy {
        let Some(bleg) = self.take_bleg(&leg.uuid) else { return EndedBy::Failed };
        let hab = self.s.get_var("hangup_after_bridge");
        self.s.set_var("hangup_after_bridge", Some("false"));
        // SAFETY: our live session and the read-locked answered leg, which
        // the shim unlocks after the bridge; bleg is not used after this.
        unsafe { sys::hotline_fs_bridge(self.s.as_ptr(), bleg) };
        self.s.set_var("hangup_after_bridge", hab.as_deref());
        self.hangup_after_bridge = hab;
        self.rt.offers.end_talk(leg.key);
        if self.s.transferred() {
            EndedBy::Transfer
        } else if !self.s.ready() {
            EndedBy::Caller
        } else {
            EndedBy::Agent
        }
    }

    fn transferred(&self) -> bool {
        self.s.transferred()
    }

    fn record_start(&mut self, file: &str, stereo: bool) -> Result<(), String> {
        let f = to_cstring(file);
        // SAFETY: live caller session on its own thread; valid C string
        // (record_session copies it).
        match unsafe { sys::hotline_fs_record_start(self.s.as_ptr(), f.as_ptr(), stereo as c_int) } {
            0 => Ok(()),
            _ => Err("record_session refused (see the FreeSWITCH log)".into()),
        }
    }

    fn record_stop(&mut self, file: &str) {
        let f = to_cstring(file);
        // SAFETY: as above; a session without that recording is left alone.
        unsafe { sys::hotline_fs_record_stop(self.s.as_ptr(), f.as_ptr()) };
    }

    /// The caller profile's `destination_number@context` (a transfer
    /// gives the session a new profile).
    fn location(&self) -> String {
        format!("{}@{}", self.s.get_var("destination_number").unwrap_or_default(), self.s.get_var("context").unwrap_or_default())
    }
}

/// The announcement thread's progress.
const PLAYING: u8 = 0;
const PLAYED: u8 = 1;
const LEG_GONE: u8 = 2;

/// Play `prompt` to the answered agent leg `uuid` (found again by UUID,
/// read-locked meanwhile); on the announcement's own thread.
fn play_on_leg(uuid: &str, prompt: &LegPrompt) -> LegPlayed {
    let u = to_cstring(uuid);
    // SAFETY: valid C string; NULL or a read-locked session, unlocked below.
    let leg = unsafe { sys::hotline_fs_locate(u.as_ptr()) };
    if leg.is_null() {
        return LegPlayed::LegGone;
    }
    let play = |file: &str| {
        let f = to_cstring(file);
        // SAFETY: the read-locked leg; valid C string; no input callback.
        unsafe { sys::hotline_fs_play(leg, f.as_ptr(), None, std::ptr::null_mut()) }
    };
    let say = |text: &str, kind: &std::ffi::CStr, method: &std::ffi::CStr| {
        let t = to_cstring(text);
        // SAFETY: as above; valid C strings.
        unsafe { sys::hotline_fs_say(leg, t.as_ptr(), kind.as_ptr(), method.as_ptr()) };
    };
    // SAFETY: the read-locked leg.
    let ready = || unsafe { sys::hotline_fs_ready(leg) } != 0;
    match prompt {
        LegPrompt::File(f) => {
            play(f);
        }
        LegPrompt::FileOrSpell { file, spell } => {
            if play(file) < 0 && ready() {
                say(spell, c"name_spelled", c"pronounced");
            }
        }
        LegPrompt::Digits(d) => say(d, c"number", c"iterated"),
        LegPrompt::Spell(t) => say(t, c"name_spelled", c"pronounced"),
    }
    let up = ready();
    // SAFETY: locked above, released once.
    unsafe { sys::hotline_fs_leg_unlock(leg) };
    if up {
        LegPlayed::Done
    } else {
        LegPlayed::LegGone
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
