// SPDX-License-Identifier: GPL-2.0-or-later
//! The Hotline AMI actions (`HotlineQueueAdd`, ...; see
//! [`crate::admin::ami`]): the shim registers every name with one handler,
//! which hands the message's header lines to [`hotline_ami_action`].

use std::os::raw::{c_char, c_int};

use crate::admin;
use crate::ffi::cstr::{free_raw, into_raw, to_string_lossy};

use super::{runtime, sys};

/// The message's `Name: value` lines as (name, value) pairs.
fn headers(lines: &[String]) -> Vec<(String, String)> {
    lines.iter().filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect()
}

/// `+message` (success) or `-message` (error) for one action.
fn answer(rt: &runtime::Runtime, lines: &[String]) -> String {
    let hs = headers(lines);
    let action = hs.iter().find(|(k, _)| k.eq_ignore_ascii_case("Action")).map(|(_, v)| v.clone()).unwrap_or_default();
    match admin::ami::run(&rt.router, &*rt.service, &action, &hs) {
        Ok(m) => format!("+{m}"),
        Err(e) => format!("-{e}"),
    }
}

/// The shim's handler calls this for every Hotline action.
///
/// # Safety
/// `headers` holds `n` NULL or NUL-terminated strings valid for the call.
unsafe extern "C" fn hotline_ami_action(n: c_int, headers: *const *const c_char) -> *mut c_char {
    // NULL (not running, unloading, or a panic) is answered by the shim.
    crate::entry!("hotline AMI action", &runtime::GATE, std::ptr::null_mut(), |rt| {
        let n = usize::try_from(n).unwrap_or(0);
        let lines: Vec<String> = if headers.is_null() {
            Vec::new()
        } else {
            // SAFETY: per the contract, n valid entries.
            (0..n).map(|i| unsafe { to_string_lossy(*headers.add(i)) }).collect()
        };
        into_raw(&answer(rt, &lines))
    })
}

/// Frees what [`hotline_ami_action`] returned.
///
/// # Safety
/// `text` is NULL or a string from [`hotline_ami_action`], freed once.
unsafe extern "C" fn hotline_ami_free(text: *mut c_char) {
    // SAFETY: per the contract, from into_raw.
    crate::entry!("hotline AMI free", (), || unsafe { free_raw(text) });
}

/// Register the actions. `false` on failure (none stays registered).
pub fn register() -> bool {
    let names: Vec<*const c_char> = admin::ami::ACTIONS.iter().map(|(n, _)| n.as_ptr()).collect();
    let synopses: Vec<*const c_char> = admin::ami::ACTIONS.iter().map(|(_, s)| s.as_ptr()).collect();
    // SAFETY: static C strings (the manager keeps the name pointers; they
    // live as long as the module); the arrays are read during the call only.
    unsafe {
        sys::hotline_ami_register(names.as_ptr(), synopses.as_ptr(), names.len() as c_int, Some(hotline_ami_action), Some(hotline_ami_free)) == 0
    }
}

/// Unregister them (before the runtime goes).
pub fn unregister() {
    // SAFETY: the shim unregisters what it registered.
    unsafe { sys::hotline_ami_unregister() };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lines_split_at_the_first_colon_and_without_a_runtime_it_says_so() {
        let lines = vec!["Action: HotlineQueueAdd".to_string(), "Contact: PJSIP/1001:5060".to_string(), "junk".to_string()];
        assert_eq!(headers(&lines), [("Action".to_string(), "HotlineQueueAdd".to_string()), ("Contact".into(), "PJSIP/1001:5060".into())]);
        // Not loaded: the gate refuses and the shim answers the NULL.
        let ptrs: Vec<std::ffi::CString> = lines.iter().map(|l| std::ffi::CString::new(l.as_str()).unwrap()).collect();
        let raw: Vec<*const c_char> = ptrs.iter().map(|c| c.as_ptr()).collect();
        // SAFETY: three valid C strings.
        assert!(unsafe { hotline_ami_action(raw.len() as c_int, raw.as_ptr()) }.is_null());
    }
}
