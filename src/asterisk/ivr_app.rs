// SPDX-License-Identifier: GPL-2.0-or-later
//! `HotlineIVR(menu)`: the shared IVR flow ([`crate::flow::ivr`]) over
//! Asterisk's prompt and digit primitives, on the caller's channel thread.
//!
//! Prompts play with `ast_streamfile`/`ast_waitstream` in the channel's
//! language (barge-in: any key ends the prompt), say with Asterisk's say
//! functions, keys come from `ast_waitfordigit`; a transfer is a
//! `Goto`-style jump taken when the application returns. A queue exit
//! runs `HotlineQueue`'s flow on the same channel. Sets
//! `HOTLINE_IVR_RESULT`, `HOTLINE_IVR_PATH` and `HOTLINE_DATA_<KEY>`.

use std::os::raw::c_int;

use crate::core::Time;
use crate::ffi::cstr::to_cstring;
use crate::flow::ivr::{self, Heard, IvrPrimitives, Listened, PbxPrompt, Recording};
use crate::ivr::Speech;
// Asterisk names sound files without their format's extension.
use crate::ivr::sounds::asterisk_stem;

use super::apps::AppResult;
use super::channel::Channel;
use super::queue_app::AstCaller;
use super::runtime::{ActiveCall, Runtime};
use super::sys;

pub fn exec(rt: &Runtime, chan: &Channel<'_>, args: &str) -> AppResult {
    let _active = ActiveCall::new(rt);
    let mut caller = AstCaller::new(rt, chan, "HotlineIVR");
    let facts = rt.router.published();
    let cfg = rt.config();
    let end = ivr::run(&mut caller, &rt.router, &rt.ivr_context(&cfg, &*facts), args);
    if end.caller_gone {
        AppResult::Hangup
    } else {
        AppResult::Continue
    }
}

/// A shim's answer: the key (> 0), 0 (nothing), -1 (hung up).
fn heard(rc: c_int) -> Heard {
    match rc {
        rc if rc < 0 => Heard::Gone,
        0 => Heard::Nothing,
        rc => Heard::Key(char::from_u32(rc as u32).unwrap_or('?')),
    }
}

impl IvrPrimitives for AstCaller<'_, '_> {
    fn play_prompt(&mut self, prompt: &PbxPrompt, barge_in: bool) -> Heard {
        let chan = self.chan.as_ptr();
        let barge = c_int::from(barge_in);
        // SAFETY: our live channel on its own thread; valid C strings.
        heard(unsafe {
            match prompt {
                PbxPrompt::File(f) => sys::hotline_ivr_play(chan, to_cstring(asterisk_stem(f)).as_ptr(), barge),
                PbxPrompt::Digits(d) => sys::hotline_ivr_say_digits(chan, to_cstring(d).as_ptr(), barge),
                PbxPrompt::Number(n) => sys::hotline_ivr_say_number(chan, (*n).clamp(c_int::MIN as i64, c_int::MAX as i64) as c_int, barge),
                PbxPrompt::Date(d) => sys::hotline_ivr_say_date(chan, PbxPrompt::date_time(*d), barge),
                PbxPrompt::Money(c) => sys::hotline_ivr_say_money(chan, to_cstring(&PbxPrompt::money_text(*c)).as_ptr(), barge),
            }
        })
    }

    fn read_key(&mut self, timeout: Time) -> Heard {
        // SAFETY: our live channel on its own thread.
        heard(unsafe { sys::hotline_ivr_read_digit(self.chan.as_ptr(), timeout.min(c_int::MAX as u64) as c_int) })
    }

    fn set_language(&mut self, lang: &str) {
        let l = to_cstring(lang);
        // SAFETY: our live channel; the shim locks it; Asterisk copies the string.
        unsafe { sys::hotline_ivr_set_language(self.chan.as_ptr(), l.as_ptr()) };
    }

    fn goto(&mut self, target: &str) -> Result<(), String> {
        let t = to_cstring(target);
        // SAFETY: our live channel, on the thread running its dialplan.
        match unsafe { sys::hotline_ivr_goto(self.chan.as_ptr(), t.as_ptr()) } {
            0 => Ok(()),
            _ => Err("no such dialplan target".into()),
        }
    }

    fn hang_up(&mut self) {
        // The application returns -1: Asterisk hangs the channel up.
    }

    fn record(&mut self, file: &str, max_ms: Time, silence_ms: Time, beep: bool) -> Recording {
        let f = to_cstring(file);
        let max_sec = max_ms.div_ceil(1000).min(c_int::MAX as u64) as c_int;
        let silence = silence_ms.min(c_int::MAX as u64) as c_int;
        let mut ms: std::os::raw::c_long = 0;
        // SAFETY: our live channel on its own thread; `ms` outlives the call.
        let rc = unsafe { sys::hotline_ivr_record(self.chan.as_ptr(), f.as_ptr(), max_sec, silence, c_int::from(beep), &mut ms) };
        Recording { ms: ms.max(0) as Time, gone: rc != 0 }
    }

    fn listen(&mut self, speech: &Speech, timeout: Time, prompts: &[String]) -> Listened {
        let (engine, grammar) = (to_cstring(&speech.engine), to_cstring(&speech.grammar()));
        let files: Vec<std::ffi::CString> = prompts.iter().map(|f| to_cstring(asterisk_stem(f))).collect();
        let file_ptrs: Vec<*const std::os::raw::c_char> = files.iter().map(|f| f.as_ptr()).collect();
        let mut text = [0 as std::os::raw::c_char; 256];
        let mut score: c_int = 0;
        let timeout = timeout.min(c_int::MAX as u64) as c_int;
        // SAFETY: our live channel on its own thread; the strings, the
        // pointer array and the buffers outlive the call.
        let rc = unsafe {
            sys::hotline_ivr_listen(
                self.chan.as_ptr(),
                engine.as_ptr(),
                grammar.as_ptr(),
                timeout,
                file_ptrs.as_ptr(),
                file_ptrs.len(),
                text.as_mut_ptr(),
                text.len(),
                &mut score,
            )
        };
        // SAFETY: the shim NUL-terminates what it copies.
        let words = || Some((unsafe { crate::ffi::cstr::to_string_lossy(text.as_ptr()) }, score.clamp(0, 100) as u8));
        Listened::from_code(rc, words, &crate::flow::pbx::Primitives::context(self), &speech.engine)
    }
}

/// `HotlineMessages(mailbox)`: the message player ([`crate::flow::messages`]).
pub fn exec_messages(rt: &Runtime, chan: &Channel<'_>, args: &str) -> AppResult {
    let _active = ActiveCall::new(rt);
    let mut caller = AstCaller::new(rt, chan, "HotlineMessages");
    let cx = crate::flow::messages::PlayerContext { messages: &rt.messages, texts: &*rt.texts };
    let end = crate::flow::messages::run(&mut caller, &rt.router, &cx, args);
    if end.caller_gone {
        AppResult::Hangup
    } else {
        AppResult::Continue
    }
}
