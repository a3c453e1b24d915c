// SPDX-License-Identifier: GPL-2.0-or-later
//! C strings without panics.
//!
//! - In: [`to_string_lossy`] / [`to_cow_lossy`]: NULL is the empty string,
//!   invalid UTF-8 is replaced by U+FFFD.
//! - Out: [`to_cstring`]: interior NUL bytes (which C cannot represent) are
//!   replaced by U+FFFD instead of failing.
//! - Ownership transfer to C: [`into_raw`] / [`free_raw`].

use std::borrow::Cow;
use std::ffi::{CStr, CString};
use std::os::raw::c_char;

/// The replacement for bytes C cannot carry (same as `from_utf8_lossy`).
const REPLACEMENT: &str = "\u{FFFD}";

/// Borrow a C string as UTF-8, lossily. NULL gives `""`.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that stays valid and
/// unmodified for `'a`.
pub unsafe fn to_cow_lossy<'a>(p: *const c_char) -> Cow<'a, str> {
    if p.is_null() {
        return Cow::Borrowed("");
    }
    // SAFETY: non-NULL and NUL-terminated per the caller's contract.
    let c = unsafe { CStr::from_ptr(p) };
    c.to_string_lossy()
}

/// Copy a C string into an owned `String`, lossily. NULL gives `""`.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string valid for this call.
pub unsafe fn to_string_lossy(p: *const c_char) -> String {
    // SAFETY: same contract as ours.
    unsafe { to_cow_lossy(p) }.into_owned()
}

/// Make a C string, replacing interior NULs by U+FFFD. Never fails.
pub fn to_cstring(s: &str) -> CString {
    let owned = if s.as_bytes().contains(&0) {
        s.replace('\0', REPLACEMENT)
    } else {
        s.to_owned()
    };
    // No NUL is left, so this cannot fail; fall back to "" rather than panic.
    CString::new(owned).unwrap_or_default()
}

/// Copy `s` into a C buffer of `len` bytes, NUL-terminated, cut at a
/// character boundary when it does not fit. Nothing is written when `len`
/// is 0 or `buf` NULL.
///
/// # Safety
/// `buf` is NULL or points to `len` writable bytes.
pub unsafe fn copy_to(buf: *mut c_char, len: usize, s: &str) {
    if buf.is_null() || len == 0 {
        return;
    }
    let s = to_cstring(s);
    let bytes = s.as_bytes();
    let mut n = bytes.len().min(len - 1);
    while n > 0 && n < bytes.len() && (bytes[n] & 0xC0) == 0x80 {
        n -= 1;
    }
    // SAFETY: n < len bytes fit, plus the NUL.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr() as *const c_char, buf, n);
        *buf.add(n) = 0;
    }
}

/// Hand a string to C. The pointer must come back to [`free_raw`] (never to
/// C's `free()`: Rust's allocator owns it).
pub fn into_raw(s: &str) -> *mut c_char {
    to_cstring(s).into_raw()
}

/// Free a string made by [`into_raw`]. NULL is ignored.
///
/// # Safety
/// `p` is NULL or was returned by [`into_raw`] and not freed yet.
pub unsafe fn free_raw(p: *mut c_char) {
    if !p.is_null() {
        // SAFETY: p came from CString::into_raw per the caller's contract.
        drop(unsafe { CString::from_raw(p) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ptr;

    #[test]
    fn copies_cut_at_a_character_and_end_with_nul() {
        let mut buf = [1 as c_char; 6];
        unsafe { copy_to(buf.as_mut_ptr(), buf.len(), "héllo") };
        assert_eq!(unsafe { to_string_lossy(buf.as_ptr()) }, "héll");
        unsafe { copy_to(buf.as_mut_ptr(), 3, "héllo") };
        assert_eq!(unsafe { to_string_lossy(buf.as_ptr()) }, "h", "é is not cut in half");
        unsafe { copy_to(ptr::null_mut(), 5, "x") };
    }

    #[test]
    fn null_is_empty() {
        // SAFETY: NULL is allowed.
        assert_eq!(unsafe { to_string_lossy(ptr::null()) }, "");
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let bytes = b"a\xffb\0";
        // SAFETY: NUL-terminated literal.
        let s = unsafe { to_string_lossy(bytes.as_ptr().cast()) };
        assert_eq!(s, "a\u{FFFD}b");
    }

    #[test]
    fn interior_nul_is_replaced() {
        let c = to_cstring("a\0b");
        assert_eq!(c.to_str().unwrap(), "a\u{FFFD}b");
        assert_eq!(to_cstring("plain").as_bytes(), b"plain");
    }

    #[test]
    fn raw_round_trip() {
        let p = into_raw("hello\0world");
        // SAFETY: p is a valid NUL-terminated string from into_raw.
        assert_eq!(unsafe { to_string_lossy(p) }, "hello\u{FFFD}world");
        // SAFETY: p came from into_raw, freed once.
        unsafe { free_raw(p) };
        // SAFETY: NULL is ignored.
        unsafe { free_raw(ptr::null_mut()) };
    }
}
