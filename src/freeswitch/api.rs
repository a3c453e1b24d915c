// SPDX-License-Identifier: GPL-2.0-or-later
//! The `hotline` API command (fs_cli, ESL `api`/`bgapi`, XML-RPC): the same
//! words as the Asterisk CLI, run by [`crate::admin::run`]:
//!
//! `hotline show queues|agents|calls|sinks|store|ivr`, `hotline stats`,
//! `hotline agent login <agent> [contact]`, `hotline agent
//! logout|ready|reset <agent>`, `hotline agent break <agent> [reason]`,
//! `hotline queue add|remove|penalty <queue> <agent> ...` (members at run
//! time), `hotline reload`; `pause`/`unpause` are accepted for `break`/`ready`
//! ([`crate::admin::USAGE`]).

use std::os::raw::c_char;

use crate::admin;
use crate::ffi::cstr::{to_cow_lossy, to_cstring};

use super::runtime::{Runtime, GATE};
use super::sys;

/// `hotline` API syntax (shown by `show api` and on bad arguments).
pub const SYNTAX: &std::ffi::CStr = c"show queues|agents|calls|sinks|store|ivr | stats | agent login <agent> [contact] | \
agent logout|ready|reset <agent> | agent break <agent> [reason...] | queue add <queue> <agent> [penalty] [tier] | \
queue remove <queue> <agent> | queue penalty <queue> <agent> <penalty> [tier] | call note <call-id> <text...> | \
record pause|resume <call-id> | recordings [key=value...] | recordings sweep [dry-run] | recordings erase <caller> [dry-run] | \
recordings hold|release <recording-id> | webhooks show | webhooks retry|purge [webhook] | reload";

/// The text for one command line (the words after `hotline`).
pub fn run(rt: &Runtime, cmd: &str) -> String {
    let words: Vec<&str> = cmd.split_whitespace().collect();
    match admin::run(&rt.router, &*rt.service, &words) {
        admin::Outcome::Text(t) => t,
        admin::Outcome::Usage => format!("-USAGE: hotline {}\n", SYNTAX.to_string_lossy()),
    }
}

/// The API function FreeSWITCH calls (`switch_api_function_t`).
///
/// # Safety
/// Called by FreeSWITCH with a NULL or NUL-terminated command and a valid
/// output stream for the duration of the call.
pub unsafe extern "C" fn hotline_api(
    cmd: *const c_char,
    _session: *mut sys::switch_core_session_t,
    stream: *mut sys::switch_stream_handle_t,
) -> sys::switch_status_t {
    let refused = "-ERR Hotline: not running, unloading, or an internal error (see the log)\n".to_string();
    let text = crate::entry!("hotline api", &GATE, refused, |rt| {
        // SAFETY: NULL or a C string valid during the call.
        let cmd = unsafe { to_cow_lossy(cmd) };
        run(rt, &cmd)
    });
    let c = to_cstring(&text);
    // SAFETY: the stream FreeSWITCH passed; the shim writes with "%s".
    unsafe { sys::hotline_fs_stream_write(stream, c.as_ptr()) };
    sys::switch_status_t::SWITCH_STATUS_SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_syntax_is_the_shared_usage() {
        assert_eq!(SYNTAX.to_string_lossy(), admin::USAGE.replace("hotline ", ""));
    }
}
