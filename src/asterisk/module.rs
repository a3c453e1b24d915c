// SPDX-License-Identifier: GPL-2.0-or-later
//! Module life cycle: the shim's `load_module`/`unload_module`/
//! `reload_module` (in `include/hotline_asterisk.c`) forward here.
//!
//! Load order: panic hook and logger first (so that everything after can
//! report), then applications, CLI, AMI actions, device state. Unload undoes it in
//! reverse. A failed load undoes whatever was done and declines.

use std::os::raw::c_int;

use super::{apps, cli, devstate, logging, manager, runtime};
use crate::entry;
use crate::ffi::guard::install_panic_hook;

/// `enum ast_module_load_result`.
const LOAD_SUCCESS: c_int = 0;
const LOAD_DECLINE: c_int = 1;
const LOAD_FAILURE: c_int = -1;

/// Undo [`runtime::install`] after a later step of the load failed.
fn undo_install() {
    match runtime::close() {
        Ok(Some(rt)) => runtime::stop(rt),
        Ok(None) => {}
        Err(why) => log::error!("Hotline: cannot stop after a failed load: {why}"),
    }
}

fn load() -> c_int {
    // Configuration errors name file, line and key; Asterisk keeps running
    // without the module.
    if let Err(e) = runtime::install() {
        log::error!("Hotline not loaded: {e}");
        return LOAD_DECLINE;
    }
    if let Err(name) = apps::register() {
        log::error!("Hotline: cannot register application {}", name.to_string_lossy());
        undo_install();
        return LOAD_DECLINE;
    }
    if !cli::register() {
        log::error!("Hotline: cannot register CLI commands");
        apps::unregister();
        undo_install();
        return LOAD_DECLINE;
    }
    if !manager::register() {
        log::error!("Hotline: cannot register the AMI actions");
        cli::unregister();
        apps::unregister();
        undo_install();
        return LOAD_DECLINE;
    }
    if !devstate::subscribe() {
        log::error!("Hotline: cannot subscribe to device state changes");
        manager::unregister();
        cli::unregister();
        apps::unregister();
        undo_install();
        return LOAD_DECLINE;
    }
    super::speech::register();
    if let Ok(rt) = runtime::GATE.enter("hotline_ast_load") {
        devstate::snapshot(&rt.router, rt.config().agents.iter().map(|a| a.device.clone()));
    }
    log::info!("Hotline {} loaded", env!("CARGO_PKG_VERSION"));
    LOAD_SUCCESS
}

/// Unload: close the gate first (new entries are refused from here on).
/// With an entry inside (a caller in `HotlineQueue`, a CLI command, a
/// callback thread) or a call active, refuse: the gate opens again and the
/// module keeps serving; Asterisk keeps it loaded (also on `module unload
/// -f`, which skips Asterisk's own use count). Otherwise undo the load in
/// reverse and stop the runtime, joining every thread we started.
fn unload() -> c_int {
    if super::speech::live() > 0 {
        log::warn!("Hotline: unload refused: {} speech objects use the hotline speech engine", super::speech::live());
        return -1;
    }
    let rt = match runtime::close() {
        Ok(rt) => rt,
        Err(why) => {
            log::warn!("Hotline: unload refused: {why}; the module stays loaded and keeps serving");
            return -1;
        }
    };
    // devstate::unsubscribe joins its thread: after it no callback into
    // this library runs. CLI and applications: Asterisk waits for running
    // handlers (which the closed gate refuses anyway).
    devstate::unsubscribe();
    super::speech::unregister();
    manager::unregister();
    cli::unregister();
    apps::unregister();
    // Stops and joins the router, sinks and callback threads; the runtime
    // is dropped here, on the unloading thread.
    if let Some(rt) = rt {
        runtime::stop(rt);
    }
    log::info!("Hotline unloaded");
    0
}

fn reload(rt: &runtime::Runtime) -> c_int {
    match rt.reload() {
        Ok(c) => {
            devstate::snapshot(&rt.router, c.agents.iter().map(|a| a.device.clone()));
            log::info!("Hotline reloaded: {} queues, {} agents", c.queues.len(), c.agents.len());
            0
        }
        Err(e) => {
            log::error!("Hotline reload failed, old configuration kept: {e}");
            -1
        }
    }
}

/// Module load entry point (called once per dlopen of app_hotline.so).
#[no_mangle]
pub extern "C" fn hotline_ast_load() -> c_int {
    install_panic_hook();
    logging::init();
    entry!("hotline_ast_load", LOAD_FAILURE, || load())
}

/// Module unload entry point. Non-zero refuses the unload.
#[no_mangle]
pub extern "C" fn hotline_ast_unload() -> c_int {
    let rc = entry!("hotline_ast_unload", -1, || unload());
    if rc == 0 {
        logging::shutdown();
    }
    rc
}

/// Module reload entry point (`module reload app_hotline.so`).
#[no_mangle]
pub extern "C" fn hotline_ast_reload() -> c_int {
    entry!("hotline_ast_reload", &runtime::GATE, -1, |rt| reload(rt))
}
