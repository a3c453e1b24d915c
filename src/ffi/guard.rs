// SPDX-License-Identifier: GPL-2.0-or-later
//! Panic guard for `extern "C"` entry points.
//!
//! A panic unwinding out of an `extern "C"` function aborts the whole PBX
//! process. Every function the host calls (module load/unload, dialplan
//! applications, CLI, event callbacks) therefore runs its body as
//! `guard("name", fallback, || body)` (through the one entry macro,
//! [`crate::entry!`], which also takes the unload gate): a panic is caught,
//! logged with its message and location, and the entry point returns
//! `fallback` to C.
//!
//! The location comes from a panic hook installed once by
//! [`install_panic_hook`] (at module load). The hook records the last panic
//! of the current thread and then chains to the previous hook (by default
//! Rust's, which prints to stderr). The thread-local is only touched when a
//! panic happens, so threads that never panic never register a thread-local
//! destructor (which would keep the host from unloading the library).
//!
//! Requires `panic = "unwind"` (the crate's release profile): with
//! `panic = "abort"` nothing can be caught.

use std::any::Any;
use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe, UnwindSafe};
use std::sync::Once;

thread_local! {
    /// "message at file:line:col" of this thread's last panic, set by the hook.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

/// Install the recording panic hook (idempotent; chains to the previous hook).
pub fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let msg = payload_message(info.payload());
            let text = match info.location() {
                Some(loc) => format!("{msg} at {}:{}:{}", loc.file(), loc.line(), loc.column()),
                None => msg,
            };
            // try_with: the thread may be tearing down its thread-locals;
            // try_borrow_mut: a panic while the cell is borrowed.
            let _ = LAST_PANIC.try_with(|last| {
                if let Ok(mut last) = last.try_borrow_mut() {
                    *last = Some(text);
                }
            });
            previous(info);
        }));
    });
}

/// Take (and clear) the last panic recorded on this thread.
pub fn take_last_panic() -> Option<String> {
    LAST_PANIC
        .try_with(|last| last.try_borrow_mut().ok().and_then(|mut l| l.take()))
        .ok()
        .flatten()
}

/// The text of a panic payload (`&str` or `String`), else a placeholder.
pub fn payload_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

/// Run `f`; if it panics, log the panic under `name` and return `fallback`.
pub fn guard<R>(name: &str, fallback: R, f: impl FnOnce() -> R + UnwindSafe) -> R {
    catch(name, f).unwrap_or(fallback)
}

/// Run `f`; if it panics, log the panic under `name` ("`name`: panic
/// caught at the C boundary: `message` at `file:line:col`") and return
/// `None`.
pub fn catch<R>(name: &str, f: impl FnOnce() -> R + UnwindSafe) -> Option<R> {
    match panic::catch_unwind(f) {
        Ok(r) => Some(r),
        Err(payload) => {
            let what = take_last_panic().unwrap_or_else(|| payload_message(&*payload));
            // A payload whose destructor panics must not escape either.
            if panic::catch_unwind(AssertUnwindSafe(move || drop(payload))).is_err() {
                ::log::error!("{name}: panic payload destructor panicked");
            }
            ::log::error!("{name}: panic caught at the C boundary: {what}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_value_without_panic() {
        assert_eq!(guard("t", 0, || 42), 42);
    }

    #[test]
    fn returns_fallback_and_records_location() {
        install_panic_hook();
        let r = guard("t", -1, || -> i32 { panic!("boom {}", 7) });
        assert_eq!(r, -1);
        // guard consumed the record.
        assert!(take_last_panic().is_none());

        let _ = panic::catch_unwind(|| panic!("second"));
        let last = take_last_panic().expect("hook recorded the panic");
        assert!(last.starts_with("second at "), "{last}");
        assert!(last.contains("guard.rs"), "{last}");
    }

    #[test]
    fn payload_kinds() {
        assert_eq!(payload_message(&"x"), "x");
        assert_eq!(payload_message(&String::from("y")), "y");
        assert_eq!(payload_message(&5u8), "non-string panic payload");
    }
}
