// SPDX-License-Identifier: GPL-2.0-or-later
//! Hotline's speech engine ([`crate::speech`]) registered with res_speech
//! as `hotline`: `SpeechCreate(hotline)` / `SpeechBackground` in plain
//! dialplan, and `HotlineIVR` menus with words, use it alike.
//!
//! The C side (include/hotline_asterisk.c) holds the `ast_speech_engine`
//! table; each callback lands in one function here, through the entry
//! macro's panic guard. A handle lives in `speech->data` from `create` to
//! `destroy`; the decoder thread reaches the `ast_speech` only through the
//! handle's slot, which `destroy` empties first (under its lock). Unload is
//! refused while any handle lives.

use std::ffi::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::speech::{Heard, Progress, Utterance};

use super::sys;

/// Handles alive (speech objects of calls using the engine).
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// Speech objects using the engine now (unload waits for none).
pub fn live() -> usize {
    LIVE.load(Ordering::SeqCst)
}

/// Start the engine and register it; false (with the engine's own log
/// line) when there is none here.
pub fn register() -> bool {
    if crate::speech::start_for_pbx(1).is_none() {
        return false;
    }
    // SAFETY: called once at load, on the loading thread.
    if unsafe { sys::hotline_speech_register() } != 0 {
        log::info!("Hotline: res_speech is not loaded; the speech engine is not registered (menus with words take DTMF only)");
        crate::speech::stop_for_pbx();
        return false;
    }
    true
}

/// Unregister and stop the engine (joins its threads).
pub fn unregister() {
    // SAFETY: at unload, after the load registered it (a no-op otherwise).
    unsafe { sys::hotline_speech_unregister() };
    crate::speech::stop_for_pbx();
}

/// Where the decoder thread reports a result: the `ast_speech`, until
/// `destroy`.
type Target = Arc<Mutex<Option<usize>>>;

struct Handle {
    rate: u32,
    /// Loaded grammars: phrases, active.
    grammars: crate::speech::Grammars,
    utterance: Option<Utterance>,
    target: Target,
    result: Option<Heard>,
}

impl Handle {
    fn phrases(&self) -> Vec<String> {
        crate::speech::active_phrases(&self.grammars)
    }
}

/// # Safety
/// `h` is a handle from [`hotline_speech_create`] not yet destroyed, used
/// by the speech's own thread.
unsafe fn handle<'a>(h: *mut c_void) -> Option<&'a mut Handle> {
    (h as *mut Handle).as_mut()
}

use crate::ffi::cstr::to_string_lossy as text;

#[no_mangle]
pub extern "C" fn hotline_speech_create(rate: c_int) -> *mut c_void {
    crate::entry!("hotline speech create", std::ptr::null_mut(), || {
        let Some(_) = crate::speech::engine() else { return std::ptr::null_mut() };
        if rate != 8000 && rate != 16000 {
            log::error!("Hotline speech: {rate} Hz audio is not taken (8000 or 16000)");
            return std::ptr::null_mut();
        }
        LIVE.fetch_add(1, Ordering::SeqCst);
        Box::into_raw(Box::new(Handle { rate: rate as u32, grammars: crate::speech::Grammars::new(), utterance: None, target: Arc::default(), result: None })) as *mut c_void
    })
}

#[no_mangle]
pub extern "C" fn hotline_speech_destroy(h: *mut c_void) {
    crate::entry!("hotline speech destroy", (), || {
        if h.is_null() {
            return;
        }
        // SAFETY: the handle from create, destroyed once (speech->data is
        // cleared by the caller).
        let handle = unsafe { Box::from_raw(h as *mut Handle) };
        handle.target.lock().unwrap_or_else(|e| e.into_inner()).take();
        drop(handle);
        LIVE.fetch_sub(1, Ordering::SeqCst);
    })
}

#[no_mangle]
pub extern "C" fn hotline_speech_load(h: *mut c_void, name: *const c_char, grammar: *const c_char) -> c_int {
    crate::entry!("hotline speech load", -1, || {
        // SAFETY: see `handle` and `text`.
        let (Some(handle), name, grammar) = (unsafe { handle(h) }, unsafe { text(name) }, unsafe { text(grammar) }) else { return -1 };
        match crate::speech::phrases(&grammar) {
            Ok(p) => {
                handle.grammars.insert(name, (p, false));
                0
            }
            Err(e) => {
                log::error!("Hotline speech: grammar {name:?}: {e}");
                -1
            }
        }
    })
}

#[no_mangle]
pub extern "C" fn hotline_speech_unload(h: *mut c_void, name: *const c_char) -> c_int {
    crate::entry!("hotline speech unload", -1, || {
        // SAFETY: see `handle` and `text`.
        let (Some(handle), name) = (unsafe { handle(h) }, unsafe { text(name) }) else { return -1 };
        if handle.grammars.remove(&name).is_some() {
            0
        } else {
            -1
        }
    })
}

#[no_mangle]
pub extern "C" fn hotline_speech_activate(h: *mut c_void, name: *const c_char, on: c_int) -> c_int {
    crate::entry!("hotline speech activate", -1, || {
        // SAFETY: see `handle` and `text`.
        let (Some(handle), name) = (unsafe { handle(h) }, unsafe { text(name) }) else { return -1 };
        match handle.grammars.get_mut(&name) {
            Some(g) => {
                g.1 = on != 0;
                0
            }
            None => -1,
        }
    })
}

#[no_mangle]
pub extern "C" fn hotline_speech_start(h: *mut c_void, speech: *mut sys::ast_speech) -> c_int {
    crate::entry!("hotline speech start", -1, || {
        // SAFETY: see `handle`.
        let Some(handle) = (unsafe { handle(h) }) else { return -1 };
        let Some(engine) = crate::speech::engine() else { return -1 };
        let phrases = handle.phrases();
        if phrases.is_empty() {
            log::error!("Hotline speech: no active grammar");
            return -1;
        }
        *handle.target.lock().unwrap_or_else(|e| e.into_inner()) = Some(speech as usize);
        let mut u = engine.utterance(phrases);
        let target = handle.target.clone();
        u.notify(Arc::new(move || {
            // The speech lives while the slot holds it (destroy empties
            // the slot under this lock before the speech is freed).
            let slot = target.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(p) = *slot {
                // SAFETY: see above.
                unsafe { sys::hotline_speech_ready(p as *mut sys::ast_speech) };
            }
        }));
        handle.utterance = Some(u);
        handle.result = None;
        0
    })
}

#[no_mangle]
pub extern "C" fn hotline_speech_write(h: *mut c_void, data: *const c_void, len: c_int) -> c_int {
    crate::entry!("hotline speech write", -1, || {
        // SAFETY: see `handle`.
        let Some(handle) = (unsafe { handle(h) }) else { return -1 };
        if data.is_null() || len <= 0 {
            return 0;
        }
        // SAFETY: Asterisk hands `len` bytes of signed linear audio,
        // 2-byte aligned (frame data).
        let samples = unsafe { std::slice::from_raw_parts(data as *const i16, len as usize / 2) };
        let rate = handle.rate;
        let Some(u) = handle.utterance.as_mut() else { return 0 };
        progress_code(u.feed(samples, rate))
    })
}

fn progress_code(p: Progress) -> c_int {
    match p {
        Progress::Quiet => 0,
        Progress::Speaking => 1,
        Progress::Decoding => 2,
        Progress::Done(Ok(_)) => 3,
        Progress::Done(Err(e)) => {
            log::warn!("Hotline speech: {e}");
            -1
        }
    }
}

#[no_mangle]
pub extern "C" fn hotline_speech_result(h: *mut c_void, buf: *mut c_char, len: usize, score: *mut c_int, grammar: *mut c_char, glen: usize) -> c_int {
    crate::entry!("hotline speech result", 0, || {
        // SAFETY: see `handle`.
        let Some(handle) = (unsafe { handle(h) }) else { return 0 };
        if let Some(u) = handle.utterance.as_mut() {
            if let Progress::Done(Ok(heard)) = u.progress() {
                handle.result = heard;
                handle.utterance = None;
            }
        }
        let Some(heard) = &handle.result else { return 0 };
        let name = handle.grammars.iter().find(|(_, (p, on))| *on && p.contains(&heard.text)).map_or("hotline", |(n, _)| n.as_str());
        // SAFETY: buf/grammar hold len/glen bytes, score is writable (the
        // shim's own locals).
        unsafe {
            crate::ffi::cstr::copy_to(buf, len, &heard.text);
            crate::ffi::cstr::copy_to(grammar, glen, name);
            *score = heard.confidence as c_int;
        }
        1
    })
}
