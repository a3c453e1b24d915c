// SPDX-License-Identifier: GPL-2.0-or-later
//! What exists while the module is loaded: the router thread, the
//! configuration, and the threads that turn router output into Asterisk
//! calls (AMI events). Created by `load`, dropped by `unload`, which joins
//! every thread started here.
//!
//! PBX threads (and our callback threads) reach the runtime only through
//! [`GATE`], by the entry macro [`crate::entry!`]: each call holds a pass
//! for its duration, and unload ([`close`]) refuses while any pass exists
//! or calls are active. The runtime is dropped by the unloading thread
//! after [`stop`] joined every thread started here.

use std::ops::Deref;
use std::os::raw::c_int;
use std::path::PathBuf;
use std::thread::JoinHandle;

use crate::core::event::EventKind;
use crate::core::{ConfigError, Event};
use crate::router::RouterOptions;
use crate::ffi::gate::{Close, Gate};
use crate::service::{setup_error, PbxSide, Service, Sweep};

use super::sys;

pub use crate::service::ActiveCall;

/// Where the configuration lives: $HOTLINE_CONFIG or Asterisk's etc dir.
pub fn config_path() -> PathBuf {
    std::env::var_os("HOTLINE_CONFIG").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/etc/asterisk/hotline.toml"))
}

/// The service plus the Asterisk-side thread: the callback executor. It
/// ends when the router stops (its channel disconnects); the service's own
/// threads (event sinks, web port, store) end with [`Service::stop`].
pub struct Runtime {
    pub service: Service,
    callbacks: Option<JoinHandle<()>>,
}

impl Deref for Runtime {
    type Target = Service;
    fn deref(&self) -> &Service {
        &self.service
    }
}

/// The running runtime, entered through passes (see the module doc).
pub static GATE: Gate<Runtime> = Gate::new();

/// The store's file when `[store] path` is not set: Asterisk's
/// variable-data directory (astvarlibdir), where it keeps its own state.
fn default_store() -> PathBuf {
    // SAFETY: Asterisk's configured path, a C string for the process's life.
    let dir = unsafe { crate::ffi::cstr::to_string_lossy(sys::hotline_ast_var_dir()) };
    let dir = if dir.is_empty() { "/var/lib/asterisk".to_string() } else { dir };
    PathBuf::from(dir).join("hotline.db")
}

/// Where Asterisk finds sound files: `<astdatadir>/sounds`.
fn sounds_dir() -> PathBuf {
    // SAFETY: Asterisk's configured path, a C string for the process's life.
    let dir = unsafe { crate::ffi::cstr::to_string_lossy(sys::hotline_ast_data_dir()) };
    let dir = if dir.is_empty() { "/usr/share/asterisk".to_string() } else { dir };
    PathBuf::from(dir).join("sounds")
}

/// Whether the caller's channel of a call still exists, found by its
/// unique id (which never changes, unlike a name after a masquerade).
fn channel_alive(data: &[(String, String)]) -> Option<bool> {
    let (_, id) = data.iter().find(|(k, _)| k == "uniqueid")?;
    let id = crate::ffi::cstr::to_cstring(id);
    // SAFETY: a valid C string; the shim looks the channel up and drops
    // its reference before returning.
    Some(unsafe { sys::hotline_channel_exists(id.as_ptr()) } != 0)
}

/// Pause (mute) or resume the MixMonitor on the caller's channel named in
/// a recording's identity; on the recordings thread, never a PBX thread.
fn record_pause(identity: &[(String, String)], _file: &str, pause: bool) -> Result<(), String> {
    let (_, id) = identity.iter().find(|(k, _)| k == "uniqueid").ok_or("the recording names no channel")?;
    let id = crate::ffi::cstr::to_cstring(id);
    // SAFETY: a valid C string; the shim looks the channel up and drops
    // its reference before returning.
    match unsafe { sys::hotline_record_mute(id.as_ptr(), pause as c_int) } {
        0 => Ok(()),
        -1 => Err("the call's channel is gone".into()),
        _ => Err("no recorder on the call's channel".into()),
    }
}

/// Start everything and publish it. Errors name the configuration problem.
pub fn install() -> Result<(), ConfigError> {
    let pbx = PbxSide {
        fire: Box::new(|e| ami_event(&e.event)),
        default_store: default_store(),
        channel_alive: Some(Box::new(channel_alive)),
        record_pause: Some(Box::new(record_pause)),
        sweep: Sweep::default(),
        sounds: crate::ivr::sounds::SoundLayout::Asterisk { dir: sounds_dir() },
    };
    let service = Service::start_with(config_path(), RouterOptions::default(), pbx)?;
    let path = service.config_path.clone();
    let rx = service.router.global_actions();
    let callbacks = std::thread::Builder::new()
        .name("hotline-callbacks".into())
        .spawn(move || super::callback::executor(rx))
        .map_err(|e| setup_error(&path, format!("cannot start the callback thread: {e}")))?;
    let rt = Box::new(Runtime { service, callbacks: Some(callbacks) });
    if let Err(rt) = GATE.open(rt) {
        stop(rt);
        return Err(setup_error(&path, "a previous instance is still running".into()));
    }
    // Saved agents' states and pending callbacks, now that the threads
    // that ring callbacks are running.
    if let Ok(rt) = GATE.enter("hotline load") {
        rt.service.restore_saved();
    }
    Ok(())
}

/// Close the gate for unload: `Ok(Some(runtime))` to [`stop`] when no
/// entry is inside and no call is active, `Ok(None)` when nothing runs,
/// `Err(why)` (gate open again, still serving) otherwise.
pub fn close() -> Result<Option<Box<Runtime>>, String> {
    match GATE.close(|rt| busy(rt.active_calls())) {
        Close::Closed(rt) => Ok(Some(rt)),
        Close::NotRunning => Ok(None),
        Close::Busy(why) => Err(why),
    }
}

/// Why calls forbid unloading, if they do.
pub fn busy(active: usize) -> Option<String> {
    (active > 0).then(|| format!("{active} {} active in Hotline", if active == 1 { "call is" } else { "calls are" }))
}

/// Stop and join every thread, then drop the runtime (on this thread: the
/// last reference to the service goes here).
pub fn stop(mut rt: Box<Runtime>) {
    // Stopping the service joins the router (its action senders go with
    // it, so the callback executor drains and ends, joining its callback
    // threads) and every sink. A callback thread that starts meanwhile
    // finds the gate closed.
    rt.service.stop();
    if let Some(t) = rt.callbacks.take() {
        let _ = t.join();
    }
    drop(rt);
}

/// One router event as an AMI event `Hotline<Name>`.
fn ami_event(e: &Event) {
    let kind = match e.kind {
        EventKind::AgentStateChanged { .. }
        | EventKind::MemberAdded { .. }
        | EventKind::MemberRemoved { .. }
        | EventKind::MemberChanged { .. }
        | EventKind::AgentReset { .. }
        | EventKind::CommandRefused { .. } => sys::hotline_ami_kind::HOTLINE_AMI_AGENT,
        _ => sys::hotline_ami_kind::HOTLINE_AMI_CALL,
    };
    let mut body = String::with_capacity(128);
    for (k, v) in crate::flow::events::headers(e) {
        body.push_str(&k);
        body.push_str(": ");
        body.push_str(&v);
        body.push_str("\r\n");
    }
    let name = crate::ffi::cstr::to_cstring(&format!("Hotline{}", e.kind.name()));
    let body = crate::ffi::cstr::to_cstring(&body);
    // SAFETY: valid C strings for the duration of the call; manager_event
    // copies what it needs.
    unsafe { sys::hotline_ami_event(kind.0 as _, name.as_ptr(), body.as_ptr()) };
}
