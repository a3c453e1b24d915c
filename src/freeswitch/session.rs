// SPDX-License-Identifier: GPL-2.0-or-later
//! A borrowed `switch_core_session_t`.
//!
//! [`Session`] is what a dialplan application receives: a session owned by
//! FreeSWITCH and valid while the application runs on the session's own
//! thread. It is neither locked nor freed by Rust, and never stored beyond
//! that call: other threads find a session again by UUID.

use std::marker::PhantomData;
use std::ptr::NonNull;

use super::sys;
use crate::ffi::cstr::{to_cstring, to_string_lossy};

/// A session borrowed from FreeSWITCH for `'a`.
pub struct Session<'a> {
    ptr: NonNull<sys::switch_core_session_t>,
    _borrow: PhantomData<&'a mut sys::switch_core_session_t>,
}

impl<'a> Session<'a> {
    /// Wrap a session pointer received from FreeSWITCH. NULL gives `None`.
    ///
    /// # Safety
    /// `ptr` is NULL or a live session that stays valid for `'a` (the
    /// session passed to an application function, for that call).
    pub unsafe fn from_raw(ptr: *mut sys::switch_core_session_t) -> Option<Self> {
        NonNull::new(ptr).map(|ptr| Session { ptr, _borrow: PhantomData })
    }

    /// The raw pointer, for shim calls not wrapped here.
    pub fn as_ptr(&self) -> *mut sys::switch_core_session_t {
        self.ptr.as_ptr()
    }

    /// The session's UUID (immutable for its life).
    pub fn uuid(&self) -> String {
        // SAFETY: live session; the UUID string lives as long as it.
        unsafe { to_string_lossy(sys::hotline_fs_session_uuid(self.as_ptr())) }
    }

    /// A channel variable, `None` if unset.
    pub fn get_var(&self, name: &str) -> Option<String> {
        let name = to_cstring(name);
        // SAFETY: live session; the shim returns NULL or a copy from the
        // session's pool, valid while the session is.
        let v = unsafe { sys::hotline_fs_get_var(self.as_ptr(), name.as_ptr()) };
        // SAFETY: as above.
        (!v.is_null()).then(|| unsafe { to_string_lossy(v) })
    }

    /// Set a channel variable (`None` unsets it).
    pub fn set_var(&self, name: &str, value: Option<&str>) {
        let name = to_cstring(name);
        let value = value.map(to_cstring);
        let vptr = value.as_ref().map_or(std::ptr::null(), |v| v.as_ptr());
        // SAFETY: live session, valid C strings (copied by FreeSWITCH).
        unsafe { sys::hotline_fs_set_var(self.as_ptr(), name.as_ptr(), vptr) };
    }

    /// Answer. `false` if it failed (channel gone).
    pub fn answer(&self) -> bool {
        // SAFETY: live session, called from its own thread.
        unsafe { sys::hotline_fs_answer(self.as_ptr()) == 0 }
    }

    /// Up and not hung up.
    pub fn ready(&self) -> bool {
        // SAFETY: live session.
        unsafe { sys::hotline_fs_ready(self.as_ptr()) != 0 }
    }

    /// The channel was transferred (CF_TRANSFER).
    pub fn transferred(&self) -> bool {
        // SAFETY: live session.
        unsafe { sys::hotline_fs_transferred(self.as_ptr()) != 0 }
    }

    /// Drop a pending CF_BREAK.
    pub fn clear_break(&self) {
        // SAFETY: live session.
        unsafe { sys::hotline_fs_clear_break(self.as_ptr()) };
    }

    /// Hang up with a Q.850 cause.
    pub fn hangup(&self, cause: i32) {
        // SAFETY: live session.
        unsafe { sys::hotline_fs_hangup(self.as_ptr(), cause) };
    }

    /// Caller id number (`""` if none).
    pub fn caller_number(&self) -> String {
        self.get_var("caller_id_number").unwrap_or_default()
    }

    /// Caller id name (`""` if none).
    pub fn caller_name(&self) -> String {
        self.get_var("caller_id_name").unwrap_or_default()
    }
}
