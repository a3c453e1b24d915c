// SPDX-License-Identifier: GPL-2.0-or-later
//! Dialplan applications.
//!
//! An application is a type implementing [`DialplanApp`]; [`register`] hands
//! Asterisk the generic [`trampoline`] for it, which converts the arguments
//! and runs [`DialplanApp::exec`] through the entry macro (panic guard and
//! a pass on the running service for the whole exec). Adding an
//! application = one impl + one line in [`APPS`].
//!

use std::ffi::CStr;
use std::os::raw::{c_char, c_int};

use super::channel::Channel;
use super::sys;
use crate::ffi::cstr::to_cow_lossy;
use super::runtime::{Runtime, GATE};

/// What the application tells the PBX when it returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppResult {
    /// Continue with the next dialplan priority (exec returns 0).
    Continue,
    /// Hang the channel up (exec returns -1).
    Hangup,
}

impl AppResult {
    fn code(self) -> c_int {
        match self {
            AppResult::Continue => 0,
            AppResult::Hangup => -1,
        }
    }
}

/// A dialplan application implemented in Rust.
pub trait DialplanApp {
    const NAME: &'static CStr;
    const SYNOPSIS: &'static CStr;
    const DESCRIPTION: &'static CStr;
    /// Runs on the channel's thread, holding a pass on the running
    /// runtime `rt`; may block for the whole call.
    fn exec(rt: &Runtime, chan: &Channel<'_>, args: &str) -> AppResult;
}

/// The exec function Asterisk calls for application `A`.
///
/// # Safety
/// Called by Asterisk only, with a live channel and a NULL or
/// NUL-terminated argument string valid for the call.
pub unsafe extern "C" fn trampoline<A: DialplanApp>(
    chan: *mut sys::ast_channel,
    data: *const c_char,
) -> c_int {
    let name = A::NAME.to_str().unwrap_or("HotlineApp");
    // A panic hangs the channel up: its state in the engine is unknown.
    // Refused (unloading, not running): hang up too.
    crate::entry!(name, &GATE, AppResult::Hangup.code(), |rt| {
        // SAFETY: Asterisk passes the live channel executing this app; it
        // outlives this call.
        let Some(chan) = (unsafe { Channel::from_raw(chan) }) else {
            return AppResult::Hangup.code();
        };
        // SAFETY: NULL or a NUL-terminated string valid during the call.
        let args = unsafe { to_cow_lossy(data) };
        A::exec(rt, &chan, &args).code()
    })
}

/// One registration entry (see [`APPS`]).
pub struct AppEntry {
    pub name: &'static CStr,
    synopsis: &'static CStr,
    description: &'static CStr,
    exec: unsafe extern "C" fn(*mut sys::ast_channel, *const c_char) -> c_int,
}

/// The entry for application `A`.
pub const fn entry<A: DialplanApp>() -> AppEntry {
    AppEntry {
        name: A::NAME,
        synopsis: A::SYNOPSIS,
        description: A::DESCRIPTION,
        exec: trampoline::<A>,
    }
}

/// Every application of the module.
pub static APPS: &[AppEntry] =
    &[entry::<HotlineQueue>(), entry::<HotlineIVR>(), entry::<HotlineMessages>(), entry::<HotlineAgent>(), entry::<HotlineScreenPop>(), entry::<HotlineTestPanic>()];

/// Register all [`APPS`]. On failure, those already registered are removed
/// again and the failing name is returned.
pub fn register() -> Result<(), &'static CStr> {
    for (i, app) in APPS.iter().enumerate() {
        // SAFETY: static C strings (Asterisk keeps the pointers) and an exec
        // function valid while the module is loaded; unregister() runs at
        // unload.
        let rc = unsafe {
            sys::hotline_register_app(
                app.name.as_ptr(),
                Some(app.exec),
                app.synopsis.as_ptr(),
                app.description.as_ptr(),
            )
        };
        if rc != 0 {
            unregister_first(i);
            return Err(app.name);
        }
    }
    Ok(())
}

/// Unregister all [`APPS`].
pub fn unregister() {
    unregister_first(APPS.len());
}

fn unregister_first(n: usize) {
    for app in &APPS[..n] {
        // SAFETY: static C string.
        unsafe { sys::hotline_unregister_app(app.name.as_ptr()) };
    }
}

// ---- applications ------------------------------------------------------------

/// `HotlineQueue(queue[,options])`: put the caller in a Hotline queue.
/// Sets `HOTLINE_RESULT` on return.
pub struct HotlineQueue;

impl DialplanApp for HotlineQueue {
    const NAME: &'static CStr = c"HotlineQueue";
    const SYNOPSIS: &'static CStr = c"Queue a call in a Hotline queue";
    const DESCRIPTION: &'static CStr = c"HotlineQueue(queue[,options]): waits in the queue until an agent \
answers, then bridges to the agent. Sets HOTLINE_RESULT.";

    fn exec(rt: &Runtime, chan: &Channel<'_>, args: &str) -> AppResult {
        super::queue_app::exec(rt, chan, args)
    }
}

/// `HotlineIVR(menu)`: walk a Hotline IVR menu (hotline.toml `[[menu]]`).
pub struct HotlineIVR;

impl DialplanApp for HotlineIVR {
    const NAME: &'static CStr = c"HotlineIVR";
    const SYNOPSIS: &'static CStr = c"Run a Hotline IVR menu";
    const DESCRIPTION: &'static CStr = c"HotlineIVR(menu): plays the menu, collects digits and routes the caller: \
into a Hotline queue, to a dialplan target, or back to the dialplan. Sets HOTLINE_IVR_RESULT (QUEUE, TRANSFER, \
HANGUP, RETURN, ABANDONED, ERROR), HOTLINE_IVR_PATH and HOTLINE_DATA_<KEY>.";

    fn exec(rt: &Runtime, chan: &Channel<'_>, args: &str) -> AppResult {
        super::ivr_app::exec(rt, chan, args)
    }
}

/// `HotlineMessages(mailbox)`: hear and manage a mailbox's voice messages.
pub struct HotlineMessages;

impl DialplanApp for HotlineMessages {
    const NAME: &'static CStr = c"HotlineMessages";
    const SYNOPSIS: &'static CStr = c"Listen to a Hotline mailbox's voice messages";
    const DESCRIPTION: &'static CStr = c"HotlineMessages(mailbox): plays the mailbox's messages, new ones first. \
After each: 1 again, 2 or # next (marked heard), 3 delete, * stop. Sets HOTLINE_MESSAGES_COUNT and HOTLINE_MESSAGES_HEARD.";

    fn exec(rt: &Runtime, chan: &Channel<'_>, args: &str) -> AppResult {
        super::ivr_app::exec_messages(rt, chan, args)
    }
}

/// `HotlineAgent(action,agent[,reason])`: login, logout, break, ready.
pub struct HotlineAgent;

impl DialplanApp for HotlineAgent {
    const NAME: &'static CStr = c"HotlineAgent";
    const SYNOPSIS: &'static CStr = c"Change a Hotline agent's state";
    const DESCRIPTION: &'static CStr = c"HotlineAgent(login|logout|break|ready,agent[,reason]). \
Sets HOTLINE_AGENT_RESULT to OK or ERROR.";

    fn exec(rt: &Runtime, chan: &Channel<'_>, args: &str) -> AppResult {
        super::agent_app::exec(rt, chan, args)
    }
}

/// `HotlineScreenPop(webhook[,key=value...])`: fire a webhook's screen pop.
pub struct HotlineScreenPop;

impl DialplanApp for HotlineScreenPop {
    const NAME: &'static CStr = c"HotlineScreenPop";
    const SYNOPSIS: &'static CStr = c"Fire a Hotline webhook's screen pop";
    const DESCRIPTION: &'static CStr = c"HotlineScreenPop(webhook[,key=value...]): queues a call.screenpop event for the [[webhook]] of that name (its events must include \"screenpop\") with the caller, the call's data (HOTLINE_DATA_<KEY>), the channel and the extra fields; never waits for the endpoint. Sets HOTLINE_SCREENPOP_RESULT to OK or ERROR.";

    fn exec(rt: &Runtime, chan: &Channel<'_>, args: &str) -> AppResult {
        super::screenpop_app::exec(rt, chan, args)
    }
}

/// `HotlineTestPanic()`: proves the panic guard (only with test_hooks).
pub struct HotlineTestPanic;

impl DialplanApp for HotlineTestPanic {
    const NAME: &'static CStr = c"HotlineTestPanic";
    const SYNOPSIS: &'static CStr = c"Panic on purpose (Hotline test PBX only)";
    const DESCRIPTION: &'static CStr = c"HotlineTestPanic(): panics inside the module when hotline.toml has \
[general] test_hooks = true; otherwise logs an error. The panic guard hangs the channel up.";

    fn exec(rt: &Runtime, chan: &Channel<'_>, args: &str) -> AppResult {
        super::test_app::exec(rt, chan, args)
    }
}
