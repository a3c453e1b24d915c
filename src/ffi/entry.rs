// SPDX-License-Identifier: GPL-2.0-or-later
//! The one way into the module from C: [`entry!`](crate::entry).
//!
//! Every function the PBX can call (dialplan applications, CLI and API
//! commands, state and hang-up handlers, event callbacks, module
//! load/reload/unload) and every thread of ours that works on the service
//! runs its body through this macro, as pgrx wraps every entry in one
//! `#[pg_guard]`:
//!
//! - `entry!(name, fail, || body)`: the panic guard alone, for entries
//!   that do not touch the service (module load/unload, freeing a string
//!   we handed out, collecting channel variables).
//! - `entry!(name, &GATE, fail, |rt| body)`: the panic guard plus a
//!   [`Pass`] on the running service for the whole call: `rt` derefs to
//!   the service. While the pass lives, unload refuses; when the gate is
//!   closing (or nothing is loaded) the body does not run and the entry
//!   returns `fail` (a closing gate logs that once).
//!
//! Either way a panic never unwinds into C: it is logged as "`name`: panic
//! caught at the C boundary: message at file:line:col" and the entry
//! returns `fail`.

use std::panic::AssertUnwindSafe;

use super::gate::{Gate, Pass};
use super::guard::catch;

/// Run `body` with a pass on `gate`'s service inside the panic guard;
/// `fail` when refused or on panic. Use through [`entry!`](crate::entry).
pub fn gated<T: Sync + 'static, R>(name: &str, gate: &'static Gate<T>, fail: R, body: impl FnOnce(&Pass<T>) -> R) -> R {
    let run = AssertUnwindSafe(|| gate.enter(name).ok().map(|pass| body(&pass)));
    match catch(name, run) {
        Some(Some(r)) => r,
        _ => fail,
    }
}

/// The entry macro (see the module doc of `ffi::entry`).
#[macro_export]
macro_rules! entry {
    ($name:expr, $fail:expr, || $body:expr) => {
        $crate::ffi::guard::guard($name, $fail, ::std::panic::AssertUnwindSafe(|| $body))
    };
    ($name:expr, $gate:expr, $fail:expr, |$rt:ident| $body:expr) => {
        $crate::ffi::entry::gated($name, $gate, $fail, |$rt| $body)
    };
}

#[cfg(test)]
mod tests {
    use crate::ffi::gate::{Close, Gate};

    static GATE: Gate<u32> = Gate::new();

    #[test]
    fn the_macro_guards_gates_and_refuses() {
        // Not loaded: the failure value, the body never runs.
        assert_eq!(crate::entry!("t", &GATE, -1, |v| **v as i32), -1);
        assert!(GATE.open(Box::new(5)).is_ok());
        assert_eq!(crate::entry!("t", &GATE, -1, |v| **v as i32), 5);
        // Inside the body the pass counts: unload is refused.
        let refused = crate::entry!("t", &GATE, false, |_v| matches!(GATE.close(|_| None), Close::Busy(_)));
        assert!(refused);
        // A panic inside returns the failure value and releases the pass.
        crate::ffi::guard::install_panic_hook();
        assert_eq!(crate::entry!("t", &GATE, -2, |_v| if **_v == 5 { panic!("boom") } else { 0 }), -2);
        assert_eq!(GATE.passes(), 0);
        assert_eq!(crate::entry!("t", 7, || 8), 8);
        let Close::Closed(v) = GATE.close(|_| None) else { panic!("idle gate") };
        assert_eq!(*v, 5);
        // Closed: refused.
        assert_eq!(crate::entry!("t", &GATE, -1, |v| **v as i32), -1);
    }
}
