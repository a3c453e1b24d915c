// SPDX-License-Identifier: GPL-2.0-or-later
//! `log` → FreeSWITCH's logger (`switch_log_printf`).
//!
//! | `log` level | FreeSWITCH        |
//! |-------------|-------------------|
//! | error       | `SWITCH_LOG_ERROR`   |
//! | warn        | `SWITCH_LOG_WARNING` |
//! | info        | `SWITCH_LOG_INFO`    |
//! | debug/trace | `SWITCH_LOG_DEBUG`   |
//!
//! FreeSWITCH filters by level itself (console and logfile levels), so no
//! `enabled` callback is installed.
//!
//! While a dialplan application runs, its thread carries the call's UUID
//! ([`CallScope`]); every line logged meanwhile is tagged with it, as
//! `SWITCH_CHANNEL_SESSION_LOG` does for FreeSWITCH's own modules (fs_cli's
//! uuid filter, per-call logs). The UUID is kept in a fixed buffer in a
//! `const` thread-local without destructor, so no FreeSWITCH thread ever
//! registers a thread-local destructor of this library (which would keep
//! `unload mod_hotline` from unmapping it).

use std::cell::Cell;
use std::os::raw::{c_char, c_int};

use super::sys;
use crate::ffi::log::{self as hostlog, HostLog, LevelMap};

/// UUIDs are 36 characters; the buffer keeps a NUL after them.
const UUID_CAP: usize = 64;

thread_local! {
    static CALL_UUID: Cell<[u8; UUID_CAP]> = const { Cell::new([0; UUID_CAP]) };
}

fn level(l: sys::hotline_fs_log_level) -> c_int {
    l.0 as c_int
}

/// The function handed to the `log` bridge: adds this thread's call UUID.
unsafe extern "C" fn fs_log(lvl: c_int, file: *const c_char, line: c_int, func: *const c_char, msg: *const c_char) {
    let uuid = CALL_UUID.try_with(|c| c.get()).unwrap_or([0; UUID_CAP]);
    let uuid_ptr = if uuid[0] == 0 { std::ptr::null() } else { uuid.as_ptr() as *const c_char };
    // SAFETY: valid C strings from the bridge; uuid is NUL-terminated
    // (the last byte is never written) and lives on this stack frame.
    unsafe { sys::hotline_fs_log(lvl, file, line, func, uuid_ptr, msg) };
}

/// Route the `log` facade to FreeSWITCH. Called first thing at load.
pub fn init() {
    hostlog::init(HostLog {
        log: fs_log,
        enabled: None,
        levels: LevelMap {
            error: level(sys::hotline_fs_log_level::HOTLINE_FS_LOG_ERROR),
            warn: level(sys::hotline_fs_log_level::HOTLINE_FS_LOG_WARNING),
            info: level(sys::hotline_fs_log_level::HOTLINE_FS_LOG_INFO),
            debug: level(sys::hotline_fs_log_level::HOTLINE_FS_LOG_DEBUG),
            trace: level(sys::hotline_fs_log_level::HOTLINE_FS_LOG_DEBUG),
        },
    });
}

/// Stop forwarding (last thing at unload).
pub fn shutdown() {
    hostlog::shutdown();
}

/// Tags this thread's log lines with a call's UUID until dropped.
pub struct CallScope {
    previous: [u8; UUID_CAP],
}

impl CallScope {
    pub fn new(uuid: &str) -> CallScope {
        let mut buf = [0u8; UUID_CAP];
        let n = uuid.len().min(UUID_CAP - 1);
        buf[..n].copy_from_slice(&uuid.as_bytes()[..n]);
        let previous = CALL_UUID.try_with(|c| c.replace(buf)).unwrap_or([0; UUID_CAP]);
        CallScope { previous }
    }
}

impl Drop for CallScope {
    fn drop(&mut self) {
        let _ = CALL_UUID.try_with(|c| c.set(self.previous));
    }
}

/// Log at FreeSWITCH's NOTICE level (no `log` equivalent).
#[track_caller]
pub fn notice(msg: &str) {
    use crate::ffi::cstr::to_cstring;
    let loc = std::panic::Location::caller();
    let file = to_cstring(loc.file());
    let func = to_cstring(module_path!());
    let msg = to_cstring(msg);
    let line = c_int::try_from(loc.line()).unwrap_or(0);
    // SAFETY: valid C strings for the duration of the call.
    unsafe {
        fs_log(level(sys::hotline_fs_log_level::HOTLINE_FS_LOG_NOTICE), file.as_ptr(), line, func.as_ptr(), msg.as_ptr())
    };
}
