// SPDX-License-Identifier: GPL-2.0-or-later
//! `hotline ...` CLI commands.
//!
//! The shim registers the command entries (`hotline show queues|agents|
//! calls|sinks|store|ivr`, `hotline agent`, `hotline queue`, `hotline
//! webhooks`, `hotline reload`, `hotline stats`) and sends every invocation
//! to [`hotline_cli`] with the full argv. [`run`] parses the words and produces the text to print.

use std::os::raw::{c_char, c_int};

use crate::ffi::cstr::{free_raw, into_raw, to_string_lossy};

use super::runtime::{Runtime, GATE};
use super::sys;
use crate::admin;

/// What a command produced.
#[derive(Debug, PartialEq, Eq)]
pub enum CliOutput {
    /// Print this text.
    Text(String),
    /// Wrong arguments: Asterisk prints the command's usage.
    ShowUsage,
}

/// What the CLI prints when the entry is refused (unloading, not running)
/// or panicked.
const REFUSED: &str = "Hotline: not running, unloading, or an internal error (see the log)\n";

/// The words after `hotline`, or `None` for anything else.
fn command(args: &[String]) -> Option<Vec<&str>> {
    let (first, rest) = args.split_first()?;
    (first == "hotline").then(|| rest.iter().map(String::as_str).collect())
}

/// Run one CLI command given its words (`["hotline", "show", "queues"]`).
pub fn run(rt: &Runtime, args: &[String]) -> CliOutput {
    let Some(rest) = command(args) else {
        return CliOutput::ShowUsage;
    };
    match admin::run(&rt.router, &*rt.service, &rest) {
        admin::Outcome::Text(t) => CliOutput::Text(t),
        admin::Outcome::Usage => CliOutput::ShowUsage,
    }
}

/// Called by the shim's CLI handler. Returns the text to print (freed by
/// [`hotline_cli_free`]) or NULL to make Asterisk show the usage.
///
/// # Safety
/// `argv` holds `argc` NULL or NUL-terminated strings (Asterisk's
/// `ast_cli_args`), valid for the call.
#[no_mangle]
pub unsafe extern "C" fn hotline_cli(argc: c_int, argv: *const *const c_char, _fd: c_int) -> *mut c_char {
    let fallback = into_raw(REFUSED);
    let out = crate::entry!("hotline_cli", &GATE, fallback, |rt| {
        let n = usize::try_from(argc).unwrap_or(0);
        let args: Vec<String> = if argv.is_null() {
            Vec::new()
        } else {
            (0..n)
                // SAFETY: argv has argc entries per the caller's contract;
                // each is NULL or a valid C string.
                .map(|i| unsafe { to_string_lossy(*argv.add(i)) })
                .collect()
        };
        match run(rt, &args) {
            CliOutput::Text(t) => into_raw(&t),
            CliOutput::ShowUsage => std::ptr::null_mut(),
        }
    });
    if out != fallback {
        // SAFETY: fallback came from into_raw and was not handed out.
        unsafe { free_raw(fallback) };
    }
    out
}

/// Free a string returned by [`hotline_cli`].
///
/// # Safety
/// `text` is NULL or a pointer returned by [`hotline_cli`], freed once.
#[no_mangle]
pub unsafe extern "C" fn hotline_cli_free(text: *mut c_char) {
    // SAFETY: per the contract, text came from into_raw.
    crate::entry!("hotline_cli_free", (), || unsafe { free_raw(text) });
}

/// Register the CLI entries (shim). `false` on failure.
pub fn register() -> bool {
    // SAFETY: the shim registers its static entry table.
    unsafe { sys::hotline_cli_register() == 0 }
}

/// Unregister the CLI entries (shim).
pub fn unregister() {
    // SAFETY: as above; unregistering twice is harmless in Asterisk.
    unsafe { sys::hotline_cli_unregister() };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn only_hotline_commands_are_ours() {
        assert_eq!(command(&words("hotline show queues")), Some(vec!["show", "queues"]));
        assert_eq!(command(&words("queue show")), None);
        assert_eq!(command(&[]), None);
    }
}
