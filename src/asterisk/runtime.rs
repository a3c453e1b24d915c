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

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::RecvTimeoutError;

use crate::core::event::EventKind;
use crate::core::{Config, ConfigError, Event, Input};
use crate::router::{Router, RouterOptions};

use super::sys;

/// Where the configuration lives: $HOTLINE_CONFIG or Asterisk's etc dir.
pub fn config_path() -> PathBuf {
    std::env::var_os("HOTLINE_CONFIG").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/etc/asterisk/hotline.toml"))
}

pub struct Runtime {
    pub router: Router,
    pub config_path: PathBuf,
    /// The configuration in force (swapped on reload; read by apps to
    /// validate names and pick music classes).
    config: RwLock<Arc<Config>>,
    /// Calls inside a Hotline application right now.
    pub active: AtomicUsize,
    stop: Arc<AtomicBool>,
    sink: Option<JoinHandle<()>>,
    callbacks: Option<JoinHandle<()>>,
}

static CURRENT: AtomicPtr<Runtime> = AtomicPtr::new(std::ptr::null_mut());

/// The loaded runtime, if any.
pub fn current() -> Option<&'static Runtime> {
    let p = CURRENT.load(Ordering::Acquire);
    // SAFETY: set from Box::into_raw in `install` and freed only in
    // `uninstall`, which runs when no application or CLI handler of this
    // module can be running (see the module doc).
    unsafe { p.as_ref() }
}

/// Start everything and publish it. Errors name the configuration problem.
pub fn install() -> Result<(), ConfigError> {
    let path = config_path();
    let cfg = Arc::new(Config::load(&path)?);
    let router = Router::start(cfg.clone(), RouterOptions::default()).map_err(|e| ConfigError {
        file: path.display().to_string(),
        line: 0,
        key: String::new(),
        message: format!("cannot start the router thread: {e}"),
    })?;
    let stop = Arc::new(AtomicBool::new(false));
    let sink = router.events().map(|rx| {
        let stop = stop.clone();
        std::thread::Builder::new()
            .name("hotline-ami".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match rx.recv_timeout(Duration::from_millis(200)) {
                        Ok(e) => ami_event(&e),
                        Err(RecvTimeoutError::Timeout) => {}
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
            })
            .expect("spawn hotline-ami")
    });
    let callbacks = {
        let (rx, stop) = (router.global_actions(), stop.clone());
        std::thread::Builder::new()
            .name("hotline-callbacks".into())
            .spawn(move || super::callback::executor(rx, stop))
            .expect("spawn hotline-callbacks")
    };
    log::info!(
        "Hotline: {} queues, {} agents from {}",
        cfg.queues.len(),
        cfg.agents.len(),
        path.display()
    );
    let rt = Box::new(Runtime {
        router,
        config_path: path,
        config: RwLock::new(cfg),
        active: AtomicUsize::new(0),
        stop,
        sink,
        callbacks: Some(callbacks),
    });
    CURRENT.store(Box::into_raw(rt), Ordering::Release);
    Ok(())
}

/// Stop and join everything. Refused (false) while calls are active.
pub fn uninstall() -> bool {
    let Some(rt) = current() else { return true };
    let active = rt.active.load(Ordering::Acquire);
    if active > 0 {
        log::warn!("Hotline: {active} calls are in Hotline applications; not unloading");
        return false;
    }
    let p = CURRENT.swap(std::ptr::null_mut(), Ordering::AcqRel);
    // SAFETY: p came from Box::into_raw in install and is unpublished now.
    let mut rt = unsafe { Box::from_raw(p) };
    rt.stop.store(true, Ordering::Relaxed);
    if let Some(t) = rt.sink.take() {
        let _ = t.join();
    }
    if let Some(t) = rt.callbacks.take() {
        let _ = t.join();
    }
    // Dropping the router stops and joins its thread.
    drop(rt);
    true
}

impl Runtime {
    pub fn config(&self) -> Arc<Config> {
        self.config.read().map(|c| c.clone()).unwrap_or_else(|e| e.into_inner().clone())
    }

    /// Re-read the configuration file and swap it in. On error the old one
    /// stays and the error (file:line: key: message) is returned.
    pub fn reload(&self) -> Result<Arc<Config>, ConfigError> {
        let cfg = Arc::new(Config::load(&self.config_path)?);
        self.router.send(Input::Reload(cfg.clone())).map_err(|e| ConfigError {
            file: self.config_path.display().to_string(),
            line: 0,
            key: String::new(),
            message: format!("reload not applied: {e}"),
        })?;
        match self.config.write() {
            Ok(mut c) => *c = cfg.clone(),
            Err(e) => *e.into_inner() = cfg.clone(),
        }
        Ok(cfg)
    }
}

/// Counts a call in a Hotline application for as long as it lives.
pub struct ActiveCall(&'static Runtime);

impl ActiveCall {
    pub fn new(rt: &'static Runtime) -> ActiveCall {
        rt.active.fetch_add(1, Ordering::AcqRel);
        ActiveCall(rt)
    }
}

impl Drop for ActiveCall {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One router event as an AMI event `Hotline<Name>`.
fn ami_event(e: &Event) {
    let kind = match e.kind {
        EventKind::AgentStateChanged { .. } => sys::hotline_ami_kind::HOTLINE_AMI_AGENT,
        _ => sys::hotline_ami_kind::HOTLINE_AMI_CALL,
    };
    let mut body = String::with_capacity(128);
    for (k, v) in e.kind.fields() {
        // Values never carry line breaks into the AMI stream.
        let v = v.replace(['\r', '\n'], " ");
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
