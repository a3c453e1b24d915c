// SPDX-License-Identifier: GPL-2.0-or-later
//! A borrowed `ast_channel`.
//!
//! [`Channel`] is what a dialplan application receives: a channel owned by
//! Asterisk and valid while the application runs on the channel's own
//! thread. It is neither reference counted nor freed by Rust.

use std::marker::PhantomData;
use std::os::raw::c_char;
use std::ptr::NonNull;

use super::sys;
use crate::ffi::cstr::{to_cstring, to_string_lossy};

/// A channel borrowed from Asterisk for `'a`.
pub struct Channel<'a> {
    ptr: NonNull<sys::ast_channel>,
    _borrow: PhantomData<&'a mut sys::ast_channel>,
}

impl<'a> Channel<'a> {
    /// Wrap a channel pointer received from Asterisk. NULL gives `None`.
    ///
    /// # Safety
    /// `ptr` is NULL or a live channel that stays valid for `'a` (e.g. the
    /// channel passed to an application's exec function, for the duration
    /// of that call).
    pub unsafe fn from_raw(ptr: *mut sys::ast_channel) -> Option<Self> {
        NonNull::new(ptr).map(|ptr| Channel { ptr, _borrow: PhantomData })
    }

    /// The raw pointer, for calls not wrapped here.
    pub fn as_ptr(&self) -> *mut sys::ast_channel {
        self.ptr.as_ptr()
    }

    /// Run `f` with the channel locked.
    fn locked<R>(&self, f: impl FnOnce(*mut sys::ast_channel) -> R) -> R {
        struct Unlock(*mut sys::ast_channel);
        impl Drop for Unlock {
            fn drop(&mut self) {
                // SAFETY: locked below by this thread; the channel is live.
                unsafe { sys::hotline_channel_unlock(self.0) };
            }
        }
        // SAFETY: live channel (type invariant).
        unsafe { sys::hotline_channel_lock(self.as_ptr()) };
        let _unlock = Unlock(self.as_ptr());
        f(self.as_ptr())
    }

    /// Channel name, e.g. `PJSIP/1001-00000001` (copied under the lock: a
    /// masquerade may rename the channel).
    pub fn name(&self) -> String {
        // SAFETY: the channel is locked; the string is copied before unlock.
        self.locked(|c| unsafe { to_string_lossy(sys::ast_channel_name(c)) })
    }

    /// Where the channel is in the dialplan, `exten@context` (copied under
    /// the lock: a goto may change it).
    pub fn location(&self) -> String {
        // SAFETY: the channel is locked; both strings are copied before unlock.
        self.locked(|c| unsafe { format!("{}@{}", to_string_lossy(sys::ast_channel_exten(c)), to_string_lossy(sys::ast_channel_context(c))) })
    }

    /// Unique id (immutable for the channel's life).
    pub fn uniqueid(&self) -> String {
        // SAFETY: live channel; uniqueid never changes, no lock needed.
        unsafe { to_string_lossy(sys::ast_channel_uniqueid(self.as_ptr())) }
    }

    /// Caller id number, `""` if none.
    pub fn caller_number(&self) -> String {
        let mut buf = [0 as c_char; 128];
        // SAFETY: live channel; buf is writable for its length; the shim
        // locks the channel and always NUL-terminates.
        unsafe {
            sys::hotline_channel_caller_number(self.as_ptr(), buf.as_mut_ptr(), buf.len() as _);
            to_string_lossy(buf.as_ptr())
        }
    }

    /// Caller id name, `""` if none.
    pub fn caller_name(&self) -> String {
        let mut buf = [0 as c_char; 256];
        // SAFETY: as caller_number.
        unsafe {
            sys::hotline_channel_caller_name(self.as_ptr(), buf.as_mut_ptr(), buf.len() as _);
            to_string_lossy(buf.as_ptr())
        }
    }

    /// A channel variable (or dialplan function value), `None` if unset.
    pub fn get_var(&self, name: &str) -> Option<String> {
        let name = to_cstring(name);
        self.locked(|c| {
            // SAFETY: channel locked, as pbx_builtin_getvar_helper requires
            // for reading the returned buffer; copied before unlock.
            let v = unsafe { sys::pbx_builtin_getvar_helper(c, name.as_ptr()) };
            // SAFETY: NULL or a NUL-terminated string valid under the lock.
            (!v.is_null()).then(|| unsafe { to_string_lossy(v) })
        })
    }

    /// Set a channel variable (`value` `None` deletes it).
    pub fn set_var(&self, name: &str, value: Option<&str>) {
        let name = to_cstring(name);
        let value = value.map(to_cstring);
        let vptr = value.as_ref().map_or(std::ptr::null(), |v| v.as_ptr());
        // SAFETY: live channel, valid C strings; the helper locks itself.
        unsafe { sys::pbx_builtin_setvar_helper(self.as_ptr(), name.as_ptr(), vptr) };
    }

    /// Answer the channel. `false` if it failed (channel hung up).
    pub fn answer(&self) -> bool {
        // SAFETY: live channel, called from its own thread.
        unsafe { sys::ast_answer(self.as_ptr()) == 0 }
    }

    /// Whether the channel has been asked to hang up.
    pub fn is_hungup(&self) -> bool {
        // SAFETY: live channel; this variant takes the lock itself.
        unsafe { sys::ast_check_hangup_locked(self.as_ptr()) != 0 }
    }

    /// Whether the channel is hung up for a reason other than a forced
    /// unload of this module (see [`Channel::withdraw_unload_hangup`]).
    pub fn is_gone(&self) -> bool {
        self.is_hungup() && !self.withdraw_unload_hangup()
    }

    /// `module unload -f` asks every channel in a Hotline application to
    /// hang up before it asks Hotline to unload; Hotline refuses that
    /// unload while this channel is inside (the gate counts it), so when
    /// that is the channel's only hang-up request it is withdrawn here and
    /// the call goes on (true).
    pub fn withdraw_unload_hangup(&self) -> bool {
        // SAFETY: live channel; the shim locks it.
        let withdrawn = unsafe { sys::hotline_withdraw_unload_hangup(self.as_ptr()) } != 0;
        if withdrawn {
            log::warn!("Hotline: {}: hang-up request of a forced unload withdrawn (the unload is refused while the call is inside)", self.name());
        }
        withdrawn
    }
}
