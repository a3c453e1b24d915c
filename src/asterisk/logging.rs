// SPDX-License-Identifier: GPL-2.0-or-later
//! `log` → Asterisk logger.
//!
//! | `log` level | Asterisk                                    |
//! |-------------|---------------------------------------------|
//! | error       | `LOG_ERROR`                                 |
//! | warn        | `LOG_WARNING`                               |
//! | info        | verbose level 3 (`    -- ...`, like apps)   |
//! | debug/trace | `LOG_DEBUG`, only with `core set debug` ≥ 1 |
//!
//! Use `log::warn!` for what an administrator must see; Asterisk's NOTICE
//! level is reachable through [`notice`].

use std::os::raw::c_int;

use super::sys;
use crate::ffi::cstr::to_cstring;
use crate::ffi::log::{self as hostlog, HostLog, LevelMap};

fn level(l: sys::hotline_log_level) -> c_int {
    l.0 as c_int
}

/// Route the `log` facade to Asterisk. Called first thing at load.
pub fn init() {
    hostlog::init(HostLog {
        log: sys::hotline_ast_log,
        enabled: Some(sys::hotline_ast_log_enabled),
        levels: LevelMap {
            error: level(sys::hotline_log_level::HOTLINE_LOG_ERROR),
            warn: level(sys::hotline_log_level::HOTLINE_LOG_WARNING),
            info: level(sys::hotline_log_level::HOTLINE_LOG_VERBOSE),
            debug: level(sys::hotline_log_level::HOTLINE_LOG_DEBUG),
            trace: level(sys::hotline_log_level::HOTLINE_LOG_DEBUG),
        },
    });
}

/// Stop forwarding (last thing at unload).
pub fn shutdown() {
    hostlog::shutdown();
}

/// Log at Asterisk's NOTICE level (no `log` equivalent).
#[track_caller]
pub fn notice(msg: &str) {
    let loc = std::panic::Location::caller();
    let file = to_cstring(loc.file());
    let func = to_cstring(module_path!());
    let msg = to_cstring(msg);
    let line = c_int::try_from(loc.line()).unwrap_or(0);
    // SAFETY: valid C strings for the duration of the call; the shim
    // formats msg with "%s".
    unsafe {
        sys::hotline_ast_log(
            level(sys::hotline_log_level::HOTLINE_LOG_NOTICE),
            file.as_ptr(),
            line,
            func.as_ptr(),
            msg.as_ptr(),
        )
    };
}
