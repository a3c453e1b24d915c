// SPDX-License-Identifier: GPL-2.0-or-later
//! `hotline_ivr menu`: the shared IVR flow ([`crate::flow::ivr`]) over
//! FreeSWITCH's prompt and digit primitives, on the caller's session thread.
//!
//! Prompts play with `switch_ivr_play_file` (barge-in: an input callback
//! keeps the first key and ends the playback), say with `switch_ivr_say`
//! (`default_language` picks the say module), keys come one at a time from
//! `switch_ivr_collect_digits_count`; a transfer is
//! `switch_ivr_session_transfer` to `exten [dialplan [context]]`. The
//! language is the channel's `default_language`. A queue exit runs
//! `hotline_queue`'s flow on the same session. Sets `hotline_ivr_result`,
//! `hotline_ivr_path` and `hotline_data_<key>`.

use crate::core::Time;
use crate::ffi::cstr::to_cstring;
use crate::flow::ivr::{self, Heard, IvrPrimitives, Listened, PbxPrompt, Recording};
use crate::ivr::Speech;

use super::queue_app::{run_flow, FsCaller};
use super::runtime::Runtime;
use super::session::Session;
use super::sys;

/// `hotline_messages mailbox`: the message player ([`crate::flow::messages`]).
pub fn exec_messages(rt: &Runtime, s: &Session<'_>, args: &str) {
    let cx = crate::flow::messages::PlayerContext { messages: &rt.messages, texts: &*rt.texts };
    run_flow(rt, s, "hotline_messages", |caller| crate::flow::messages::run(caller, &rt.router, &cx, args));
}

pub fn exec(rt: &Runtime, s: &Session<'_>, args: &str) {
    let facts = rt.router.published();
    let cfg = rt.config();
    run_flow(rt, s, "hotline_ivr", |caller| ivr::run(caller, &rt.router, &rt.ivr_context(&cfg, &*facts), args));
}

/// A shim's answer: the key (> 0), 0 (nothing), -1 (down).
fn heard(rc: i32) -> Heard {
    match rc {
        rc if rc < 0 => Heard::Gone,
        0 => Heard::Nothing,
        rc => Heard::Key(char::from_u32(rc as u32).unwrap_or('?')),
    }
}

impl IvrPrimitives for FsCaller<'_, '_> {
    fn play_prompt(&mut self, prompt: &PbxPrompt, barge_in: bool) -> Heard {
        let sp = self.s.as_ptr();
        let barge = i32::from(barge_in);
        // A stale break must not cut the prompt short.
        self.s.clear_break();
        // SAFETY: our live session on its own thread; valid C strings.
        heard(unsafe {
            match prompt {
                PbxPrompt::File(f) => sys::hotline_fs_ivr_play(sp, to_cstring(f).as_ptr(), barge),
                PbxPrompt::Digits(d) => sys::hotline_fs_ivr_say(sp, to_cstring(d).as_ptr(), c"number".as_ptr(), c"iterated".as_ptr(), barge),
                PbxPrompt::Number(n) => {
                    sys::hotline_fs_ivr_say(sp, to_cstring(&n.to_string()).as_ptr(), c"number".as_ptr(), c"pronounced".as_ptr(), barge)
                }
                PbxPrompt::Date(d) => {
                    sys::hotline_fs_ivr_say(sp, to_cstring(&PbxPrompt::date_time(*d).to_string()).as_ptr(), c"current_date".as_ptr(), c"pronounced".as_ptr(), barge)
                }
                PbxPrompt::Money(c) => {
                    sys::hotline_fs_ivr_say(sp, to_cstring(&PbxPrompt::money_text(*c)).as_ptr(), c"currency".as_ptr(), c"pronounced".as_ptr(), barge)
                }
            }
        })
    }

    fn read_key(&mut self, timeout: Time) -> Heard {
        // SAFETY: our live session on its own thread.
        heard(unsafe { sys::hotline_fs_ivr_read_digit(self.s.as_ptr(), timeout.min(u32::MAX as u64) as u32) })
    }

    fn set_language(&mut self, lang: &str) {
        self.s.set_var("default_language", Some(lang));
    }

    fn goto(&mut self, target: &str) -> Result<(), String> {
        let t = to_cstring(target);
        // SAFETY: our live session on its own thread.
        match unsafe { sys::hotline_fs_ivr_transfer(self.s.as_ptr(), t.as_ptr()) } {
            0 => Ok(()),
            _ => Err("transfer refused".into()),
        }
    }

    fn hang_up(&mut self) {
        self.s.hangup(sys::switch_call_cause_t::SWITCH_CAUSE_NORMAL_CLEARING.0 as i32);
    }

    fn record(&mut self, file: &str, max_ms: Time, silence_ms: Time, beep: bool) -> Recording {
        let f = to_cstring(file);
        let max_sec = max_ms.div_ceil(1000).min(u32::MAX as u64) as u32;
        let silence_sec = silence_ms.div_ceil(1000).min(u32::MAX as u64) as u32;
        let mut ms: std::os::raw::c_long = 0;
        self.s.clear_break();
        // SAFETY: our live session on its own thread; `ms` outlives the call.
        let rc = unsafe { sys::hotline_fs_ivr_record(self.s.as_ptr(), f.as_ptr(), max_sec, silence_sec, i32::from(beep), &mut ms) };
        Recording { ms: ms.max(0) as Time, gone: rc != 0 }
    }

    fn listen(&mut self, speech: &Speech, timeout: Time, prompts: &[String]) -> Listened {
        // FreeSWITCH's grammar string: phrases with `_` for spaces (its
        // parameter parser splits at commas and spaces).
        let grammar = speech.grammar().replace(' ', "_");
        let (engine, grammar) = (to_cstring(&speech.engine), to_cstring(&grammar));
        let files: Vec<std::ffi::CString> = prompts.iter().map(|f| to_cstring(f)).collect();
        let file_ptrs: Vec<*const std::os::raw::c_char> = files.iter().map(|f| f.as_ptr()).collect();
        let mut nlsml = vec![0 as std::os::raw::c_char; 4096];
        self.s.clear_break();
        // SAFETY: our live session on its own thread; the strings, the
        // pointer array and the buffer outlive the call.
        let rc = unsafe {
            sys::hotline_fs_ivr_listen(
                self.s.as_ptr(),
                engine.as_ptr(),
                grammar.as_ptr(),
                timeout.min(u32::MAX as u64) as u32,
                file_ptrs.as_ptr(),
                file_ptrs.len(),
                nlsml.as_mut_ptr(),
                nlsml.len(),
            )
        };
        // No input or no match in the NLSML: silence to the menu.
        let words = || {
            // SAFETY: the shim NUL-terminates what it copies.
            let xml = unsafe { crate::ffi::cstr::to_string_lossy(nlsml.as_ptr()) };
            crate::speech::recognizer::from_nlsml(&xml).map(|h| (h.text, h.confidence))
        };
        Listened::from_code(rc, words, &crate::flow::pbx::Primitives::context(self), &speech.engine)
    }
}
