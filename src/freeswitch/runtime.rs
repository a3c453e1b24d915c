// SPDX-License-Identifier: GPL-2.0-or-later
//! What exists while the module is loaded: the router thread, the
//! configuration, the CUSTOM event sink thread, the waker thread, the
//! ringing executor thread and the registries of waiting callers, offers
//! and pending callbacks. Created by `load`, dropped by `shutdown`, which joins
//! every thread started here.
//!
//! Applications, the API, the hang-up handler and our ringing threads
//! reach the runtime only through [`GATE`], by the entry macro
//! [`crate::entry!`]: each holds a pass for its duration, and `shutdown`
//! ([`close`]) stops the runtime only when no pass exists and no call or
//! pending callback is active. The runtime is dropped by the unloading
//! thread after [`stop`] joined every thread started here.

use std::ops::Deref;
use std::os::raw::c_char;
use std::path::PathBuf;
use std::thread::JoinHandle;

use crate::core::{ConfigError, Event};
use crate::ffi::cstr::{to_cstring, to_string_lossy};
use crate::ffi::gate::{Close, Gate};
use crate::service::{setup_error, PbxSide, Service, Sweep};

pub use crate::service::ActiveCall;

use super::callback::Callbacks;
use super::devices::Devices;
use super::dialer::Dialer;
use super::offers::Offers;
use super::sys;
use super::waker::Waker;

/// Subclass of the CUSTOM events fired for every router event.
pub const EVENT_SUBCLASS: &str = "hotline::info";

/// Where the configuration lives: $HOTLINE_CONFIG, else hotline.toml in
/// FreeSWITCH's conf dir.
pub fn config_path() -> PathBuf {
    if let Some(p) = std::env::var_os("HOTLINE_CONFIG").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    // SAFETY: FreeSWITCH's global directory table; NULL or a C string
    // living as long as the process.
    let dir = unsafe { to_string_lossy(sys::hotline_fs_conf_dir()) };
    let dir = if dir.is_empty() { "/usr/local/freeswitch/conf".to_string() } else { dir };
    PathBuf::from(dir).join("hotline.toml")
}

/// The service plus the FreeSWITCH-side parts: the waker thread, the
/// offer registry and the CUSTOM event sink.
pub struct Runtime {
    pub service: Service,
    pub waker: Waker,
    pub offers: Offers,
    pub callbacks: Callbacks,
    pub dialer: Dialer,
    pub devices: Devices,
    executor: Option<JoinHandle<()>>,
}

impl Deref for Runtime {
    type Target = Service;
    fn deref(&self) -> &Service {
        &self.service
    }
}

/// The running runtime, entered through passes (see the module doc).
pub static GATE: Gate<Runtime> = Gate::new();

/// The store's file when `[store] path` is not set: FreeSWITCH's db
/// directory, where it keeps its own SQLite files.
fn default_store() -> PathBuf {
    // SAFETY: FreeSWITCH's global directory table; NULL or a C string
    // living as long as the process.
    let dir = unsafe { to_string_lossy(sys::hotline_fs_db_dir()) };
    let dir = if dir.is_empty() { "/usr/local/freeswitch/db".to_string() } else { dir };
    PathBuf::from(dir).join("hotline.db")
}

/// Whether the caller's session of a call still exists (by UUID).
fn channel_alive(data: &[(String, String)]) -> Option<bool> {
    let (_, uuid) = data.iter().find(|(k, _)| k == "uuid")?;
    let uuid = to_cstring(uuid);
    // SAFETY: a valid C string; the shim locates and releases the session.
    Some(unsafe { sys::hotline_fs_uuid_state(uuid.as_ptr()) } >= 0)
}

/// Mask or unmask the recording `file` on the caller's session named in a
/// recording's identity; on the recordings thread, never a PBX thread.
fn record_pause(identity: &[(String, String)], file: &str, pause: bool) -> Result<(), String> {
    let (_, uuid) = identity.iter().find(|(k, _)| k == "uuid").ok_or("the recording names no session")?;
    let (uuid, file) = (to_cstring(uuid), to_cstring(file));
    // SAFETY: valid C strings; the shim locates and releases the session.
    match unsafe { sys::hotline_fs_record_mask(uuid.as_ptr(), file.as_ptr(), pause as std::os::raw::c_int) } {
        0 => Ok(()),
        -1 => Err("the call's session is gone".into()),
        _ => Err("no such recording on the call's session".into()),
    }
}

/// Start everything and publish it. Errors name the configuration problem
/// (file:line: key: message).
pub fn install() -> Result<(), ConfigError> {
    let path = config_path();
    // Offers go to the ringing threads (see dialer.rs).
    let options = crate::router::RouterOptions { offers_to_globals: true, ..Default::default() };
    let pbx = PbxSide {
        fire: Box::new(|e| fire_event(&e.event)),
        default_store: default_store(),
        channel_alive: Some(Box::new(channel_alive)),
        record_pause: Some(Box::new(record_pause)),
        sweep: Sweep::default(),
        // Relative names go by the channel's sound_prefix: absolute paths only.
        sounds: crate::ivr::sounds::SoundLayout::FreeSwitch,
    };
    let service = Service::start_with(path.clone(), options, pbx)?;
    let router = &service.router;
    let waker = Waker::start().map_err(|e| setup_error(&path, format!("cannot start the waker thread: {e}")))?;
    let rx = router.global_actions();
    let executor = std::thread::Builder::new()
        .name("hotline-ring".into())
        .spawn(move || super::dialer::executor(rx))
        .map_err(|e| setup_error(&path, format!("cannot start the ringing thread: {e}")))?;
    let rt = Box::new(Runtime {
        service,
        waker,
        offers: Offers::default(),
        callbacks: Callbacks::default(),
        dialer: Dialer::default(),
        devices: Devices::default(),
        executor: Some(executor),
    });
    if let Err(rt) = GATE.open(rt) {
        stop(rt);
        return Err(setup_error(&path, "a previous instance is still running".into()));
    }
    // Saved agents' states and pending callbacks, now that the threads
    // that ring callbacks are running.
    if let Ok(rt) = GATE.enter("mod_hotline load") {
        rt.service.restore_saved();
    }
    Ok(())
}

/// Close the gate for unload: `Ok(Some(runtime))` to [`stop`] when no
/// entry is inside and no call or pending callback is active, `Ok(None)`
/// when nothing runs, `Err(why)` (gate open again, still serving)
/// otherwise.
pub fn close() -> Result<Option<Box<Runtime>>, String> {
    match GATE.close(|rt| busy(rt.active_calls(), rt.callbacks.len())) {
        Close::Closed(rt) => Ok(Some(rt)),
        Close::NotRunning => Ok(None),
        Close::Busy(why) => Err(why),
    }
}

/// Why calls forbid unloading, if they do.
fn busy(active: usize, callbacks: usize) -> Option<String> {
    match (active, callbacks) {
        (0, 0) => None,
        (a, 0) => Some(format!("{a} {} active in Hotline", if a == 1 { "call is" } else { "calls are" })),
        (a, c) => Some(format!("{a} calls and {c} answered callbacks are active in Hotline")),
    }
}

/// Stop and join every thread, then drop the runtime (on this thread: the
/// last reference to the service goes here).
pub fn stop(mut rt: Box<Runtime>) {
    rt.waker.stop();
    // Joins the router thread (its action senders go with it, so the
    // ringing executor drains what is left and ends, joining its ringing
    // and callback threads), the web port and every sink. A ringing
    // thread that starts meanwhile finds the gate closed.
    rt.service.stop();
    if let Some(t) = rt.executor.take() {
        let _ = t.join();
    }
    rt.dialer.join();
    drop(rt);
}

/// One router event as a CUSTOM `hotline::info` event: `Hotline-Event:
/// <Name>` and `Hotline-<Key>: <value>` for every field.
fn fire_event(e: &Event) {
    let mut names = vec![to_cstring("Hotline-Event")];
    let mut values = vec![to_cstring(e.kind.name())];
    for (k, v) in crate::flow::events::headers(e) {
        names.push(to_cstring(&format!("Hotline-{k}")));
        values.push(to_cstring(&v));
    }
    let np: Vec<*const c_char> = names.iter().map(|c| c.as_ptr()).collect();
    let vp: Vec<*const c_char> = values.iter().map(|c| c.as_ptr()).collect();
    let subclass = to_cstring(EVENT_SUBCLASS);
    // SAFETY: n valid C strings in each array, alive for the call; the
    // event copies them.
    unsafe { sys::hotline_fs_fire_custom(subclass.as_ptr(), np.as_ptr(), vp.as_ptr(), np.len() as _) };
}
