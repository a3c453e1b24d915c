// SPDX-License-Identifier: GPL-2.0-or-later
//! Module life cycle.
//!
//! FreeSWITCH dlopen()s `mod_hotline.so` and reads the function table
//! `mod_hotline_module_interface` (the name is the file name plus
//! `_module_interface`). It is a Rust static: a global defined in the C shim
//! would not be exported by the cdylib.
//!
//! Load order: panic hook and logger first (so that everything after can
//! report), then the runtime (configuration, router, threads; a
//! configuration error declines the load with `file:line: key: message` in
//! the log), the module interface with the applications and the API
//! command, the CUSTOM event subclass and the agent legs' hang-up handler.
//!
//! Unload: `unload mod_hotline` is refused by FreeSWITCH itself while a
//! Hotline application or API call runs: executing an application read-locks
//! the module interface, and unloading first try-write-locks it ("Module in
//! use."). That is the only refusal FreeSWITCH offers: by the time
//! `shutdown` is called the applications and the API are already
//! unregistered. `shutdown` then closes the unload gate
//! ([`crate::ffi::gate`]): with no entry inside (hang-up handler, ringing
//! thread) and no call or pending callback active it stops and joins every
//! thread of the module and drops the runtime. Otherwise (a forced `unload
//! -f`, a system shutdown with callers inside) Hotline refuses: it logs
//! "Hotline: unload refused: ...", keeps everything running (the callers
//! inside are still served) and returns `SWITCH_STATUS_NOUNLOAD`, so the
//! library stays mapped; a later `load mod_hotline` resumes that running
//! instance (registers the applications and the API again). No `runtime`
//! function: the module has no polling loop.

use std::os::raw::{c_char, c_int};

use super::sys;
use super::sys::switch_status_t as status;
use super::{agent_app, api, asr, callback, ivr_app, logging, offers, queue_app, runtime, screenpop_app};
use crate::ffi::cstr::to_cow_lossy;
use crate::ffi::cstr::to_cstring;
use crate::entry;
use crate::ffi::guard::install_panic_hook;
use super::runtime::{Runtime, GATE};
use super::session::Session;

/// What FreeSWITCH looks up after dlopen().
#[no_mangle]
pub static mod_hotline_module_interface: sys::switch_loadable_module_function_table_t = sys::switch_loadable_module_function_table_t {
    switch_api_version: sys::SWITCH_API_VERSION as c_int,
    load: Some(mod_hotline_load),
    shutdown: Some(mod_hotline_shutdown),
    runtime: None,
    flags: sys::switch_module_flag_enum_t::SMODF_NONE.0 as sys::switch_module_flag_t,
};

const MODULE_NAME: &std::ffi::CStr = c"mod_hotline";

/// One dialplan application.
struct App {
    name: &'static std::ffi::CStr,
    short: &'static std::ffi::CStr,
    long: &'static std::ffi::CStr,
    syntax: &'static std::ffi::CStr,
    function: unsafe extern "C" fn(*mut sys::switch_core_session_t, *const c_char),
}

static APPS: &[App] = &[
    App {
        name: c"hotline_queue",
        short: c"Queue a call in a Hotline queue",
        long: c"Answers, plays music on hold and waits in the Hotline queue until an agent answers, then \
bridges to the agent. Sets hotline_result (ANSWERED, ABANDONED, TIMEOUT, LEAVEEMPTY, JOINEMPTY, FULL, \
UNKNOWNQUEUE, CALLBACK, ERROR), hotline_agent, hotline_callid, hotline_queue.",
        syntax: c"<queue>[,priority=N][,skills=name:level+name:level][,callback=D]",
        function: app_queue,
    },
    App {
        name: c"hotline_ivr",
        short: c"Run a Hotline IVR menu",
        long: c"Plays the menu, collects digits and routes the caller: into a Hotline queue, to a dialplan \
target, or back to the dialplan. Sets hotline_ivr_result (QUEUE, TRANSFER, HANGUP, RETURN, ABANDONED, ERROR), \
hotline_ivr_path and hotline_data_<key>.",
        syntax: c"<menu>",
        function: app_ivr,
    },
    App {
        name: c"hotline_messages",
        short: c"Listen to a Hotline mailbox's voice messages",
        long: c"Plays the mailbox's messages, new ones first. After each: 1 again, 2 or # next (marked heard), \
3 delete, * stop. Sets hotline_messages_count and hotline_messages_heard.",
        syntax: c"<mailbox>",
        function: app_messages,
    },
    App {
        name: c"hotline_agent",
        short: c"Change a Hotline agent's state",
        long: c"Logs an agent in or out, or puts it on break / back. Sets hotline_agent_result to OK or ERROR.",
        syntax: c"login|logout|break|ready,<agent>[,reason]",
        function: app_agent,
    },
    App {
        name: c"hotline_screenpop",
        short: c"Fire a Hotline webhook's screen pop",
        long: c"Queues a call.screenpop event for the [[webhook]] of that name (its events must include \"screenpop\") \
with the caller, the call's data (hotline_data_<key>), the channel's UUID and the extra fields; never waits for the \
endpoint. Sets hotline_screenpop_result to OK or ERROR.",
        syntax: c"<webhook>[,key=value...]",
        function: app_screenpop,
    },
    App {
        name: c"hotline_callback",
        short: c"The agent side of a Hotline ACD callback (internal)",
        long: c"Started by mod_hotline itself on an agent leg that answered a callback: calls the customer at \
the queue's callback_contact and bridges them. Not for dialplans.",
        syntax: c"<callid>",
        function: app_callback,
    },
    App {
        name: c"hotline_test_panic",
        short: c"Panic on purpose (Hotline test configurations only)",
        long: c"Panics inside the module when hotline.toml has [general] test_hooks = true; otherwise logs an \
error. The panic guard hangs the channel up; FreeSWITCH keeps running.",
        syntax: c"",
        function: app_test_panic,
    },
];

/// Undo [`runtime::install`] after a later step of the load failed (a
/// resumed instance keeps running).
fn undo_install(resumed: bool) {
    if resumed {
        return;
    }
    match runtime::close() {
        Ok(Some(rt)) => runtime::stop(rt),
        Ok(None) => {}
        Err(why) => log::error!("Hotline: cannot stop after a failed load: {why}"),
    }
}

fn load(mi: *mut *mut sys::switch_loadable_module_interface_t, pool: *mut sys::switch_memory_pool_t) -> status {
    // A refused unload left the runtime running (and the library mapped):
    // serve on with it.
    let resumed = GATE.is_loaded();
    if resumed {
        log::warn!("Hotline: resuming the instance a refused unload kept running");
    } else if let Err(e) = runtime::install() {
        log::error!("Hotline not loaded: {e}");
        return status::SWITCH_STATUS_FALSE;
    }
    // SAFETY: the out-pointer and pool FreeSWITCH passed to load.
    if unsafe { sys::hotline_fs_module_create(mi, pool, MODULE_NAME.as_ptr()) } != 0 {
        log::error!("Hotline: cannot create the module interface");
        undo_install(resumed);
        return status::SWITCH_STATUS_FALSE;
    }
    for app in APPS {
        // SAFETY: the module interface just created; static strings and
        // functions living as long as the library.
        let rc = unsafe { sys::hotline_fs_add_app(mi, app.name.as_ptr(), app.short.as_ptr(), app.long.as_ptr(), app.syntax.as_ptr(), Some(app.function)) };
        if rc != 0 {
            log::error!("Hotline: cannot add application {}", app.name.to_string_lossy());
            undo_install(resumed);
            return status::SWITCH_STATUS_FALSE;
        }
    }
    // SAFETY: as above.
    let rc = unsafe { sys::hotline_fs_add_api(mi, c"hotline".as_ptr(), c"Hotline call center".as_ptr(), api::SYNTAX.as_ptr(), Some(api::hotline_api)) };
    if rc != 0 {
        log::error!("Hotline: cannot add the hotline API");
        undo_install(resumed);
        return status::SWITCH_STATUS_FALSE;
    }
    let subclass = to_cstring(runtime::EVENT_SUBCLASS);
    // SAFETY: valid C string (FreeSWITCH copies it).
    if unsafe { sys::hotline_fs_reserve_subclass(subclass.as_ptr()) } != 0 {
        // Still reserved by an earlier load (e.g. an ESL client subscribed
        // to it): events fire all the same.
        log::warn!("Hotline: event subclass {} already reserved", runtime::EVENT_SUBCLASS);
    }
    // SAFETY: a function valid until unbound in shutdown.
    if unsafe { sys::hotline_fs_bind_leg_hangup(Some(offers::leg_hangup)) } != 0 {
        log::error!("Hotline: cannot install the hang-up state handler");
        // SAFETY: as above.
        unsafe { sys::hotline_fs_free_subclass(subclass.as_ptr()) };
        undo_install(resumed);
        return status::SWITCH_STATUS_FALSE;
    }
    // SAFETY: a function valid until unbound with the hang-up handler.
    unsafe { sys::hotline_fs_bind_devices(Some(super::devices::device_change)) };
    // Speech input: without PocketSphinx, menus with words take DTMF only
    // (one log line says so).
    // SAFETY: the module interface being filled.
    unsafe { asr::register(mi) };
    log::info!("Hotline {} loaded", env!("CARGO_PKG_VERSION"));
    status::SWITCH_STATUS_SUCCESS
}

fn shutdown() -> status {
    // Close the gate first: from here on every entry is refused.
    let rt = match runtime::close() {
        Ok(rt) => rt,
        Err(why) => {
            // The applications are already unregistered, so this is no
            // refusal FreeSWITCH honours: the module stays mapped and keeps
            // serving the calls inside; `load mod_hotline` resumes it.
            log::warn!("Hotline: unload refused: {why}; the module stays in memory and keeps serving them (load mod_hotline resumes it)");
            return status::SWITCH_STATUS_NOUNLOAD;
        }
    };
    // After this no hang-up handler runs (it waits for one running).
    // SAFETY: plain call.
    unsafe { sys::hotline_fs_unbind_leg_hangup() };
    if let Some(rt) = rt {
        runtime::stop(rt);
    }
    // FreeSWITCH refuses the unload while an ASR handle is open (it holds
    // the module's lock), so no call uses the engine any more.
    asr::unregister();
    let subclass = to_cstring(runtime::EVENT_SUBCLASS);
    // SAFETY: valid C string.
    unsafe { sys::hotline_fs_free_subclass(subclass.as_ptr()) };
    log::info!("Hotline unloaded");
    status::SWITCH_STATUS_SUCCESS
}

/// `load` of the function table.
///
/// # Safety
/// Called by FreeSWITCH's loader with its out-pointer and the module pool.
unsafe extern "C" fn mod_hotline_load(
    mi: *mut *mut sys::switch_loadable_module_interface_t,
    pool: *mut sys::switch_memory_pool_t,
) -> status {
    install_panic_hook();
    logging::init();
    let st = entry!("mod_hotline load", status::SWITCH_STATUS_FALSE, || load(mi, pool));
    if st != status::SWITCH_STATUS_SUCCESS {
        logging::shutdown();
    }
    st
}

/// `shutdown` of the function table.
unsafe extern "C" fn mod_hotline_shutdown() -> status {
    let st = entry!("mod_hotline shutdown", status::SWITCH_STATUS_NOUNLOAD, || shutdown());
    if st == status::SWITCH_STATUS_SUCCESS {
        logging::shutdown();
    }
    st
}

/// Runs an application body through the entry macro (panic guard and a
/// pass on the running runtime for the whole call) with the session
/// wrapped and its UUID on the log lines. A panic or a refusal (unloading)
/// fails the call: `hotline_result=ERROR` and a hang-up (after a panic its
/// state in the engine is unknown).
fn run_app(name: &str, session: *mut sys::switch_core_session_t, data: *const c_char, body: fn(&Runtime, &Session<'_>, &str)) {
    entry!(name, (), || {
        // SAFETY: FreeSWITCH passes the live session executing the app; it
        // outlives this call.
        let Some(s) = (unsafe { Session::from_raw(session) }) else { return };
        let _scope = logging::CallScope::new(&s.uuid());
        let ok = entry!(name, &GATE, false, |rt| {
            // SAFETY: NULL or a NUL-terminated string valid during the call.
            let args = unsafe { to_cow_lossy(data) };
            body(rt, &s, &args);
            true
        });
        if !ok {
            s.set_var("hotline_result", Some("ERROR"));
            s.hangup(sys::switch_call_cause_t::SWITCH_CAUSE_NORMAL_TEMPORARY_FAILURE.0 as i32);
        }
    })
}

unsafe extern "C" fn app_queue(session: *mut sys::switch_core_session_t, data: *const c_char) {
    run_app("hotline_queue", session, data, queue_app::exec);
}

unsafe extern "C" fn app_ivr(session: *mut sys::switch_core_session_t, data: *const c_char) {
    run_app("hotline_ivr", session, data, ivr_app::exec);
}

unsafe extern "C" fn app_messages(session: *mut sys::switch_core_session_t, data: *const c_char) {
    run_app("hotline_messages", session, data, ivr_app::exec_messages);
}

unsafe extern "C" fn app_agent(session: *mut sys::switch_core_session_t, data: *const c_char) {
    run_app("hotline_agent", session, data, agent_app::exec);
}

unsafe extern "C" fn app_screenpop(session: *mut sys::switch_core_session_t, data: *const c_char) {
    run_app("hotline_screenpop", session, data, screenpop_app::exec);
}

unsafe extern "C" fn app_callback(session: *mut sys::switch_core_session_t, data: *const c_char) {
    run_app("hotline_callback", session, data, callback::exec);
}

unsafe extern "C" fn app_test_panic(session: *mut sys::switch_core_session_t, data: *const c_char) {
    run_app("hotline_test_panic", session, data, |rt, s, args| {
        if !rt.config().general.test_hooks {
            log::error!("hotline_test_panic: disabled (set [general] test_hooks = true)");
            return;
        }
        panic!("hotline_test_panic({args}): deliberate panic on {}", s.uuid());
    });
}
