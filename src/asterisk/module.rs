// SPDX-License-Identifier: GPL-2.0-or-later
//! Module life cycle: the shim's `load_module`/`unload_module`/
//! `reload_module` (in `include/hotline_asterisk.c`) forward here.
//!
//! Load order: panic hook and logger first (so that everything after can
//! report), then applications, CLI, AMI actions, device state. Unload undoes it in
//! reverse. A failed load undoes whatever was done and declines.

use std::os::raw::c_int;

use super::{apps, cli, devstate, logging, manager, runtime};
use crate::ffi::guard::{guard, install_panic_hook};

/// `enum ast_module_load_result`.
const LOAD_SUCCESS: c_int = 0;
const LOAD_DECLINE: c_int = 1;
const LOAD_FAILURE: c_int = -1;

fn load() -> c_int {
    // Configuration errors name file, line and key; Asterisk keeps running
    // without the module.
    if let Err(e) = runtime::install() {
        log::error!("Hotline not loaded: {e}");
        return LOAD_DECLINE;
    }
    if let Err(name) = apps::register() {
        log::error!("Hotline: cannot register application {}", name.to_string_lossy());
        runtime::uninstall();
        return LOAD_DECLINE;
    }
    if !cli::register() {
        log::error!("Hotline: cannot register CLI commands");
        apps::unregister();
        runtime::uninstall();
        return LOAD_DECLINE;
    }
    if !manager::register() {
        log::error!("Hotline: cannot register the AMI actions");
        cli::unregister();
        apps::unregister();
        runtime::uninstall();
        return LOAD_DECLINE;
    }
    if !devstate::subscribe() {
        log::error!("Hotline: cannot subscribe to device state changes");
        manager::unregister();
        cli::unregister();
        apps::unregister();
        runtime::uninstall();
        return LOAD_DECLINE;
    }
    if let Some(rt) = runtime::current() {
        devstate::snapshot(&rt.router, rt.config().agents.iter().map(|a| a.device.clone()));
    }
    log::info!("Hotline {} loaded", env!("CARGO_PKG_VERSION"));
    LOAD_SUCCESS
}

fn unload() -> c_int {
    // Refuse while callers are inside Hotline applications (Asterisk's own
    // use count refuses too; this also covers a forced unload attempt).
    if runtime::current().is_some_and(|rt| rt.active_calls() > 0) {
        log::warn!("Hotline: calls are in Hotline applications; unload refused");
        return -1;
    }
    // Reverse of load. devstate::unsubscribe joins its thread: after it no
    // callback into this library runs.
    devstate::unsubscribe();
    manager::unregister();
    cli::unregister();
    apps::unregister();
    // Stops and joins the router and event threads.
    if !runtime::uninstall() {
        return -1;
    }
    log::info!("Hotline unloaded");
    0
}

fn reload() -> c_int {
    let Some(rt) = runtime::current() else { return -1 };
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
    guard("hotline_ast_load", LOAD_FAILURE, load)
}

/// Module unload entry point. Non-zero refuses the unload.
#[no_mangle]
pub extern "C" fn hotline_ast_unload() -> c_int {
    let rc = guard("hotline_ast_unload", -1, unload);
    if rc == 0 {
        logging::shutdown();
    }
    rc
}

/// Module reload entry point (`module reload app_hotline.so`).
#[no_mangle]
pub extern "C" fn hotline_ast_reload() -> c_int {
    guard("hotline_ast_reload", -1, reload)
}
