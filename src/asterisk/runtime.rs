// SPDX-License-Identifier: GPL-2.0-or-later
//! What exists while the module is loaded: the router thread, the
//! configuration, and the threads that turn router output into Asterisk
//! calls (AMI events). Created by `load`, dropped by `unload`, which joins
//! every thread started here.
//!
//! PBX threads reach the runtime through [`current`], a lock-free pointer
//! load. It is safe because Asterisk never runs an application or CLI
//! handler of a module while that module unloads (pbx_exec holds a module
//! reference for the whole exec), and unload refuses while calls are active.

use std::ops::Deref;
use std::path::PathBuf;
use std::thread::JoinHandle;

use crate::core::event::EventKind;
use crate::core::{ConfigError, Event};
use crate::router::RouterOptions;
use crate::service::{setup_error, Loaded, PbxSide, Service, Sweep};

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

static CURRENT: Loaded<Runtime> = Loaded::new();

/// The loaded runtime, if any.
pub fn current() -> Option<&'static Runtime> {
    CURRENT.get()
}

/// The store's file when `[store] path` is not set: Asterisk's
/// variable-data directory (astvarlibdir), where it keeps its own state.
fn default_store() -> PathBuf {
    // SAFETY: Asterisk's configured path, a C string for the process's life.
    let dir = unsafe { crate::ffi::cstr::to_string_lossy(sys::hotline_ast_var_dir()) };
    let dir = if dir.is_empty() { "/var/lib/asterisk".to_string() } else { dir };
    PathBuf::from(dir).join("hotline.db")
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

/// Start everything and publish it. Errors name the configuration problem.
pub fn install() -> Result<(), ConfigError> {
    let pbx = PbxSide {
        fire: Box::new(|e| ami_event(&e.event)),
        default_store: default_store(),
        channel_alive: Some(Box::new(channel_alive)),
        sweep: Sweep::default(),
    };
    let service = Service::start_with(config_path(), RouterOptions::default(), pbx)?;
    let path = service.config_path.clone();
    let rx = service.router.global_actions();
    let callbacks = std::thread::Builder::new()
        .name("hotline-callbacks".into())
        .spawn(move || super::callback::executor(rx))
        .map_err(|e| setup_error(&path, format!("cannot start the callback thread: {e}")))?;
    let rt = Box::new(Runtime { service, callbacks: Some(callbacks) });
    CURRENT.publish(rt);
    // Saved agents' states and pending callbacks, now that the threads
    // that ring callbacks are running.
    if let Some(rt) = current() {
        rt.service.restore_saved();
    }
    Ok(())
}

/// Stop and join everything. Refused (false) while calls are active.
pub fn uninstall() -> bool {
    let Some(rt) = current() else { return true };
    let active = rt.active_calls();
    if active > 0 {
        log::warn!("Hotline: {active} calls are in Hotline applications; not unloading");
        return false;
    }
    let Some(mut rt) = CURRENT.take() else { return true };
    // Everything stops while the runtime is still allocated: a callback
    // thread that read `current()` just before `take` keeps a valid
    // reference until it is joined. Stopping the service joins the router
    // (its action senders go with it, so the callback executor drains and
    // ends, joining its callback threads) and every sink.
    rt.service.stop();
    if let Some(t) = rt.callbacks.take() {
        let _ = t.join();
    }
    drop(rt);
    true
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
