// SPDX-License-Identifier: GPL-2.0-or-later
//! Hotline's speech engine ([`crate::speech`]) as FreeSWITCH's ASR
//! interface `hotline`: `detect_speech hotline sales|technical_support menu`
//! and `play_and_detect_speech <file> detect:hotline <grammar>` in plain
//! dialplan, and `hotline_ivr` menus with words, use it alike.
//!
//! The C trampolines (include/hotline_freeswitch.c) call the functions of
//! [`TABLE`] with the handle's id; each goes through the entry macro's
//! panic guard. A handle is a [`Recognizer`] behind its own lock (FreeSWITCH
//! feeds audio on the media thread and asks for results on its speech
//! thread); the registry lock is held only to find it. A call after close
//! finds no handle and does nothing.

use std::collections::HashMap;
use std::ffi::{c_char, c_int};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use crate::ffi::cstr::to_string_lossy as text;
use crate::speech::recognizer::{nlsml, Recognizer, Report};

use super::sys;

struct Handle {
    rate: u32,
    recognizer: Recognizer,
}

fn handles() -> &'static Mutex<HashMap<u64, Arc<Mutex<Handle>>>> {
    static HANDLES: OnceLock<Mutex<HashMap<u64, Arc<Mutex<Handle>>>>> = OnceLock::new();
    HANDLES.get_or_init(Mutex::default)
}

static NEXT: AtomicU64 = AtomicU64::new(1);

/// Handles open now (the calls using the engine).
pub fn live() -> usize {
    handles().lock().unwrap_or_else(|e| e.into_inner()).len()
}

fn with<R>(id: u64, f: impl FnOnce(&mut Handle) -> R) -> Option<R> {
    let h = handles().lock().unwrap_or_else(|e| e.into_inner()).get(&id).cloned()?;
    let mut h = h.lock().unwrap_or_else(|e| e.into_inner());
    Some(f(&mut h))
}

/// What the shim calls.
pub static TABLE: sys::hotline_fs_asr = sys::hotline_fs_asr {
    open: Some(open),
    close: Some(close),
    load_grammar: Some(load_grammar),
    unload_grammar: Some(unload_grammar),
    enable_grammar: Some(enable_grammar),
    feed: Some(feed),
    pause: Some(pause),
    check: Some(check),
    results: Some(results),
    start_timers: Some(start_timers),
    param: Some(param),
};

/// Start the engine (if this load has none yet) and add the ASR
/// interface; false, with the engine's own log line, when there is none.
///
/// # Safety
/// `mi` is the module interface `load` is filling.
pub unsafe fn register(mi: *mut *mut sys::switch_loadable_module_interface_t) -> bool {
    if crate::speech::engine().is_none() && crate::speech::start_for_pbx(1).is_none() {
        return false;
    }
    // SAFETY: per the contract; a static name and table.
    if unsafe { sys::hotline_fs_add_asr(mi, c"hotline".as_ptr(), &TABLE) } != 0 {
        log::error!("Hotline: cannot add the ASR interface; menus with words take DTMF only");
        crate::speech::stop_for_pbx();
        return false;
    }
    true
}

/// Unload: stop the engine (FreeSWITCH removed the interface once its
/// handles closed).
pub fn unregister() {
    crate::speech::stop_for_pbx();
}

extern "C" fn open(rate: u32) -> u64 {
    crate::entry!("hotline asr open", 0, || {
        let Some(engine) = crate::speech::engine() else {
            log::error!("Hotline speech: the engine is stopped");
            return 0;
        };
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        let h = Handle { rate, recognizer: Recognizer::new(engine) };
        handles().lock().unwrap_or_else(|e| e.into_inner()).insert(id, Arc::new(Mutex::new(h)));
        id
    })
}

extern "C" fn close(id: u64) {
    crate::entry!("hotline asr close", (), || {
        handles().lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
    })
}

/// A grammar as FreeSWITCH hands it: phrases (`a|b|c`, `_` for spaces) or
/// the path of a file holding them (one per line).
fn grammar_text(grammar: &str) -> Result<String, String> {
    let g = grammar.trim();
    if g.starts_with('/') {
        std::fs::read_to_string(g).map_err(|e| format!("grammar file {g}: {e}"))
    } else {
        Ok(g.to_string())
    }
}

extern "C" fn load_grammar(id: u64, grammar: *const c_char, name: *const c_char) -> c_int {
    crate::entry!("hotline asr load", -1, || {
        // SAFETY: NULL or NUL-terminated strings valid during the call.
        let (grammar, name) = unsafe { (text(grammar), text(name)) };
        let name = if name.is_empty() { "hotline".to_string() } else { name };
        let r = with(id, |h| grammar_text(&grammar).and_then(|g| h.recognizer.load(&name, &g, Instant::now())));
        match r {
            Some(Ok(())) => 0,
            Some(Err(e)) => {
                log::error!("Hotline speech: grammar {name:?}: {e}");
                -1
            }
            None => -1,
        }
    })
}

extern "C" fn unload_grammar(id: u64, name: *const c_char) -> c_int {
    crate::entry!("hotline asr unload", -1, || {
        // SAFETY: as above.
        let name = unsafe { text(name) };
        if with(id, |h| h.recognizer.unload(&name)) == Some(true) {
            0
        } else {
            -1
        }
    })
}

extern "C" fn enable_grammar(id: u64, name: *const c_char, on: c_int) -> c_int {
    crate::entry!("hotline asr enable", -1, || {
        let all = name.is_null();
        // SAFETY: as above.
        let name = unsafe { text(name) };
        let ok = with(id, |h| {
            if all {
                h.recognizer.disable_all();
                true
            } else {
                h.recognizer.enable(&name, on != 0)
            }
        });
        if ok == Some(true) {
            0
        } else {
            -1
        }
    })
}

extern "C" fn feed(id: u64, samples: *const i16, count: usize) -> c_int {
    crate::entry!("hotline asr feed", -1, || {
        if samples.is_null() || count == 0 {
            return 0;
        }
        // SAFETY: FreeSWITCH hands `count` signed linear samples (the
        // media bug's frame), valid during the call.
        let audio = unsafe { std::slice::from_raw_parts(samples, count) };
        match with(id, |h| {
            let rate = h.rate;
            h.recognizer.feed(audio, rate, Instant::now());
        }) {
            Some(()) => 0,
            None => -1,
        }
    })
}

extern "C" fn pause(id: u64, paused: c_int) {
    crate::entry!("hotline asr pause", (), || {
        with(id, |h| if paused != 0 { h.recognizer.pause() } else { h.recognizer.resume(Instant::now()) });
    })
}

extern "C" fn check(id: u64) -> c_int {
    crate::entry!("hotline asr check", 0, || c_int::from(with(id, |h| h.recognizer.ready(Instant::now())) == Some(true)))
}

extern "C" fn results(id: u64, buf: *mut c_char, len: usize) -> c_int {
    crate::entry!("hotline asr results", 0, || {
        match with(id, |h| h.recognizer.take()).flatten() {
            Some(Report::BeginSpeaking) => 2,
            Some(r) => {
                // SAFETY: buf holds len bytes (the shim's own buffer).
                unsafe { crate::ffi::cstr::copy_to(buf, len, &nlsml(&r)) };
                1
            }
            None => 0,
        }
    })
}

extern "C" fn start_timers(id: u64) {
    crate::entry!("hotline asr timers", (), || {
        with(id, |h| h.recognizer.start_timers(Instant::now()));
    })
}

extern "C" fn param(id: u64, name: *const c_char, value: *const c_char) {
    crate::entry!("hotline asr param", (), || {
        // SAFETY: as above.
        let (name, value) = unsafe { (text(name), text(value)) };
        if with(id, |h| h.recognizer.param(&name, &value, Instant::now())) == Some(false) {
            log::debug!("Hotline speech: parameter {name}={value} not taken");
        }
    })
}
