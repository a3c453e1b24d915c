// SPDX-License-Identifier: GPL-2.0-or-later
//! Device state changes (aggregate state of every device, e.g.
//! `PJSIP/1001` → `INUSE`), delivered by the shim's stasis subscription on
//! its own thread, one message at a time.

use std::os::raw::{c_char, c_int};

use super::sys;
use crate::core::Input;
use crate::ffi::cstr::{to_cow_lossy, to_string_lossy};

/// `enum ast_device_state` as text (`"NOT_INUSE"`, `"INUSE"`, ...).
pub fn state_name(state: c_int) -> String {
    let state = sys::ast_device_state(state as _);
    // SAFETY: ast_devstate_str returns a static string for any value
    // ("UNKNOWN" for out-of-range ones).
    unsafe { to_string_lossy(sys::ast_devstate_str(state)) }
}

extern "C" fn on_devstate(device: *const c_char, state: c_int) {
    crate::entry!("hotline devstate", &super::runtime::GATE, (), |rt| {
        // SAFETY: the shim passes the message's device name, valid for
        // the duration of this callback.
        let device = unsafe { to_cow_lossy(device) };
        log::debug!("device state: {device} is {}", state_name(state));
        // Never blocks: a full router channel drops this update (counted);
        // the next change of the device corrects it.
        let _ = rt.router.send(Input::DeviceState { device: device.into_owned(), busy: is_busy(state) });
    });
}

/// Whether a device state means "do not offer a call": in use, busy,
/// ringing, on hold, or unreachable. NOT_INUSE, UNKNOWN and INVALID (e.g.
/// Local channels without a hint) do not block offers.
pub fn is_busy(state: c_int) -> bool {
    let s = sys::ast_device_state(state as _);
    s == sys::ast_device_state::AST_DEVICE_INUSE
        || s == sys::ast_device_state::AST_DEVICE_BUSY
        || s == sys::ast_device_state::AST_DEVICE_RINGING
        || s == sys::ast_device_state::AST_DEVICE_RINGINUSE
        || s == sys::ast_device_state::AST_DEVICE_ONHOLD
        || s == sys::ast_device_state::AST_DEVICE_UNAVAILABLE
}

/// Tell the router the current state of every agent device: changes
/// arrive by subscription, but a phone that was unregistered before the
/// module loaded never changes, and must not be rung meanwhile.
pub fn snapshot(router: &crate::router::Router, devices: impl IntoIterator<Item = String>) {
    for device in devices {
        let c = crate::ffi::cstr::to_cstring(&device);
        // SAFETY: a valid C string; ast_device_state only reads it.
        let state = unsafe { sys::hotline_device_state_now(c.as_ptr()) };
        router.report(Input::DeviceState { device, busy: is_busy(state) });
    }
}

/// Subscribe to device state changes. `false` on failure.
pub fn subscribe() -> bool {
    // SAFETY: on_devstate stays valid until unsubscribe(), which joins the
    // subscription before the module can be unmapped.
    unsafe { sys::hotline_devstate_subscribe(Some(on_devstate)) == 0 }
}

/// Unsubscribe; returns after the last callback has finished.
pub fn unsubscribe() {
    // SAFETY: no preconditions; a no-op when not subscribed.
    unsafe { sys::hotline_devstate_unsubscribe() };
}
