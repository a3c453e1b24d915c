// SPDX-License-Identifier: GPL-2.0-or-later
//! Channel variables handed out by a shim's iterator, one callback each.

use std::ffi::CStr;
use std::os::raw::{c_char, c_void};

use super::cstr::to_string_lossy;

/// The shims' callback: `user` is the `Vec<(String, String)>` being filled.
///
/// # Safety
/// `user` points to a live `Vec<(String, String)>` not otherwise borrowed;
/// `name` and `value` are NULL or NUL-terminated strings valid for the call.
pub unsafe extern "C" fn collect(user: *mut c_void, name: *const c_char, value: *const c_char) {
    crate::entry!("hotline channel variables", (), || {
        // SAFETY: per the contract above.
        let (out, name, value) = unsafe { (&mut *(user as *mut Vec<(String, String)>), to_string_lossy(name), to_string_lossy(value)) };
        out.push((name, value));
    })
}

/// The shims' iterator callback type.
pub type VarCallback = unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char);

/// Every variable a shim's iterator hands out for `prefix`, as (key without
/// the prefix, value). `iterate` calls the shim with the prefix, [`collect`]
/// and the user pointer it is given.
pub fn read_prefixed(prefix: &CStr, iterate: impl FnOnce(&CStr, VarCallback, *mut c_void)) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = Vec::new();
    iterate(prefix, collect, &mut all as *mut _ as *mut c_void);
    strip_prefix(all, &prefix.to_string_lossy())
}

/// `(key, value)` for each `(prefix<key>, value)`, the prefix matched
/// without regard to case.
pub fn strip_prefix(vars: Vec<(String, String)>, prefix: &str) -> Vec<(String, String)> {
    vars.into_iter()
        .filter_map(|(n, v)| {
            let head = n.get(..prefix.len())?;
            head.eq_ignore_ascii_case(prefix).then(|| (n[prefix.len()..].to_string(), v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn prefixes_match_in_any_case() {
        let vars = vec![("HOTLINE_DATA_ACCOUNT".to_string(), "1".to_string()), ("other".to_string(), "2".to_string())];
        assert_eq!(super::strip_prefix(vars, "hotline_data_"), [("ACCOUNT".to_string(), "1".to_string())]);
    }
}
