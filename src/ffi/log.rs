// SPDX-License-Identifier: GPL-2.0-or-later
//! `log` facade → the host's logger.
//!
//! At load the adapter calls [`init`] with a [`HostLog`]: the C function that
//! writes one message, optionally a C function that tells whether a level is
//! currently enabled, and the host's integer for each `log::Level`.
//!
//! - The level is checked first (`enabled` callback), so disabled debug
//!   logging costs no formatting.
//! - The message is always passed as an argument, never as a format string.
//! - Interior NULs are replaced (see [`super::cstr::to_cstring`]); nothing
//!   here panics on bad input.
//!
//! `log::set_logger` works once per process image of this library; [`init`]
//! may be called again (e.g. after a host reload) and just replaces the
//! host functions. [`shutdown`] makes logging a no-op.

use std::os::raw::{c_char, c_int};
use std::sync::RwLock;

use ::log::{Level, LevelFilter, Log, Metadata, Record};

use super::cstr::to_cstring;

/// `void log(int level, const char *file, int line, const char *func, const char *msg)`
pub type HostLogFn = unsafe extern "C" fn(
    level: c_int,
    file: *const c_char,
    line: c_int,
    func: *const c_char,
    msg: *const c_char,
);

/// `int enabled(int level)`: non-zero if a message at `level` would be shown.
pub type HostEnabledFn = unsafe extern "C" fn(level: c_int) -> c_int;

/// The host's level number for each `log` level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LevelMap {
    pub error: c_int,
    pub warn: c_int,
    pub info: c_int,
    pub debug: c_int,
    pub trace: c_int,
}

impl LevelMap {
    fn get(&self, level: Level) -> c_int {
        match level {
            Level::Error => self.error,
            Level::Warn => self.warn,
            Level::Info => self.info,
            Level::Debug => self.debug,
            Level::Trace => self.trace,
        }
    }
}

/// What the host provides.
#[derive(Clone, Copy)]
pub struct HostLog {
    pub log: HostLogFn,
    pub enabled: Option<HostEnabledFn>,
    pub levels: LevelMap,
}

struct HostLogger {
    sink: RwLock<Option<HostLog>>,
}

static LOGGER: HostLogger = HostLogger {
    sink: RwLock::new(None),
};

impl HostLogger {
    fn current(&self) -> Option<HostLog> {
        // A poisoned lock still holds a valid Copy value.
        *self.sink.read().unwrap_or_else(|e| e.into_inner())
    }

    fn set(&self, host: Option<HostLog>) {
        *self.sink.write().unwrap_or_else(|e| e.into_inner()) = host;
    }
}

fn level_enabled(host: &HostLog, level: Level) -> bool {
    match host.enabled {
        // SAFETY: the host promised a valid function for as long as it is
        // installed (until shutdown()).
        Some(enabled) => unsafe { enabled(host.levels.get(level)) != 0 },
        None => true,
    }
}

impl Log for HostLogger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        self.current()
            .is_some_and(|host| level_enabled(&host, metadata.level()))
    }

    fn log(&self, record: &Record) {
        let Some(host) = self.current() else { return };
        if !level_enabled(&host, record.level()) {
            return;
        }
        let msg = to_cstring(&record.args().to_string());
        let file = to_cstring(record.file().unwrap_or("hotline"));
        let func = to_cstring(record.module_path().unwrap_or(record.target()));
        let line = record.line().map_or(0, |l| c_int::try_from(l).unwrap_or(c_int::MAX));
        // SAFETY: valid NUL-terminated strings that outlive the call; the
        // function pointer is valid while installed (see above).
        unsafe { (host.log)(host.levels.get(record.level()), file.as_ptr(), line, func.as_ptr(), msg.as_ptr()) };
    }

    fn flush(&self) {}
}

/// Install (or replace) the host logger. Returns false if another logger
/// (not ours) already owns the `log` facade in this process image.
pub fn init(host: HostLog) -> bool {
    LOGGER.set(Some(host));
    let ours = ::log::set_logger(&LOGGER).is_ok() || is_installed();
    // Filtering is the host's job (via `enabled`); let everything through.
    ::log::set_max_level(LevelFilter::Trace);
    ours
}

/// Stop forwarding: later log calls are dropped.
pub fn shutdown() {
    LOGGER.set(None);
}

fn is_installed() -> bool {
    std::ptr::eq(
        ::log::logger() as *const dyn Log as *const u8,
        &LOGGER as *const HostLogger as *const u8,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;
    use std::sync::Mutex;

    static SEEN: Mutex<Vec<(c_int, String)>> = Mutex::new(Vec::new());

    unsafe extern "C" fn test_log(level: c_int, _f: *const c_char, _l: c_int, _fn: *const c_char, msg: *const c_char) {
        // SAFETY: HostLogger passes a valid C string.
        let m = unsafe { CStr::from_ptr(msg) }.to_string_lossy().into_owned();
        SEEN.lock().unwrap().push((level, m));
    }

    unsafe extern "C" fn test_enabled(level: c_int) -> c_int {
        (level != 0) as c_int // "debug" (0) is off
    }

    #[test]
    fn forwards_and_filters() {
        let ok = init(HostLog {
            log: test_log,
            enabled: Some(test_enabled),
            levels: LevelMap { error: 4, warn: 3, info: 5, debug: 0, trace: 0 },
        });
        if !ok {
            return; // another test binary component owns the facade
        }
        ::log::error!("bad {}", "thing");
        ::log::debug!("hidden");
        ::log::info!("nul\0inside");
        let seen = SEEN.lock().unwrap().clone();
        shutdown(); // leave the facade silent for the other tests
        assert!(seen.contains(&(4, "bad thing".to_owned())), "{seen:?}");
        assert!(!seen.iter().any(|(_, m)| m == "hidden"));
        assert!(seen.contains(&(5, "nul\u{FFFD}inside".to_owned())), "{seen:?}");
    }
}
