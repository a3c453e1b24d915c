// SPDX-License-Identifier: GPL-2.0-or-later
//! How a waiting caller hears from the router without polling.
//!
//! The router signals a call's [`WakeFd`] after queueing an action for it.
//! FreeSWITCH offers no way to add a descriptor to a session's own wait, so
//! the caller's thread plays music on hold with `switch_ivr_play_file` (or,
//! with no music at all, `switch_ivr_sleep`), both of which stop within one
//! media frame when the channel's `CF_BREAK` flag is set. This module's one
//! thread sleeps in `poll(2)` on every waiting call's descriptor (plus a
//! control eventfd) with no timeout; when one becomes readable it resets
//! it and, if that caller is *armed* (waiting in music, not ringing or
//! talking), finds the session again by UUID (`switch_core_session_locate`,
//! so no session pointer is ever kept) and sets `CF_BREAK`. The caller's
//! thread then takes its actions from its channel.
//!
//! Cost: one thread for all calls, one `poll` return per router decision;
//! latency: the decision reaches the call within one 20 ms media frame.
//!
//! Races: the caller arms *before* it looks at its action channel, and the
//! waker resets the descriptor *before* it looks at the arm flag, so an
//! action is either seen by the caller's look or followed by a break. The
//! arm flag is a mutex held while breaking, so after [`Registration::disarm`]
//! returns no break can land any more (a stray `CF_BREAK` would cut the next
//! prompt short).

use std::collections::HashMap;
use std::ffi::CString;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crate::core::CallId;
use crate::ffi::cstr::to_cstring;
use crate::router::WakeFd;

use super::sys;

struct Entry {
    uuid: CString,
    wake: Arc<WakeFd>,
    armed: Arc<Mutex<bool>>,
}

struct Shared {
    calls: Mutex<HashMap<CallId, Arc<Entry>>>,
    control: WakeFd,
    stop: AtomicBool,
}

/// The waker thread and its registry.
pub struct Waker {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Waker {
    pub fn start() -> std::io::Result<Waker> {
        let shared = Arc::new(Shared { calls: Mutex::new(HashMap::new()), control: WakeFd::new()?, stop: AtomicBool::new(false) });
        let s2 = shared.clone();
        let thread = std::thread::Builder::new().name("hotline-waker".into()).spawn(move || run(&s2))?;
        Ok(Waker { shared, thread: Some(thread) })
    }

    /// Watch `wake` for the call on session `uuid` until the registration
    /// is dropped.
    pub fn register(&self, call: CallId, uuid: &str, wake: Arc<WakeFd>) -> Registration {
        let armed = Arc::new(Mutex::new(false));
        let entry = Arc::new(Entry { uuid: to_cstring(uuid), wake, armed: armed.clone() });
        lock(&self.shared.calls).insert(call, entry);
        self.shared.control.signal();
        Registration { shared: self.shared.clone(), call, armed }
    }

    /// Stop and join the thread.
    pub fn stop(&mut self) {
        if let Some(t) = self.thread.take() {
            self.shared.stop.store(true, Ordering::SeqCst);
            self.shared.control.signal();
            let _ = t.join();
        }
    }
}

impl Drop for Waker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A call watched by the waker; unregisters on drop.
pub struct Registration {
    shared: Arc<Shared>,
    call: CallId,
    armed: Arc<Mutex<bool>>,
}

impl Registration {
    /// From now on a wake-up breaks the caller's playback.
    pub fn arm(&self) {
        *lock(&self.armed) = true;
    }

    /// From now on wake-ups only reset the descriptor. Waits for a break in
    /// progress, so none lands after this returns.
    pub fn disarm(&self) {
        *lock(&self.armed) = false;
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.disarm();
        lock(&self.shared.calls).remove(&self.call);
        self.shared.control.signal();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn run(shared: &Shared) {
    let mut watched: Vec<Arc<Entry>> = Vec::new();
    let mut fds: Vec<libc::pollfd> = Vec::new();
    let mut dirty = true;
    while !shared.stop.load(Ordering::SeqCst) {
        if dirty {
            // Snapshot: the Arcs keep every descriptor open while polled.
            watched = lock(&shared.calls).values().cloned().collect();
            fds.clear();
            fds.push(libc::pollfd { fd: shared.control.as_raw_fd(), events: libc::POLLIN, revents: 0 });
            fds.extend(watched.iter().map(|e| libc::pollfd { fd: e.wake.as_raw_fd(), events: libc::POLLIN, revents: 0 }));
            dirty = false;
        }
        for p in fds.iter_mut() {
            p.revents = 0;
        }
        // SAFETY: fds is a valid array of fds.len() pollfd structures whose
        // descriptors stay open (held by `watched` / `shared`).
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
        if n < 0 {
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::Interrupted {
                log::error!("Hotline: waker poll failed: {err}");
                std::thread::sleep(std::time::Duration::from_millis(100));
                dirty = true;
            }
            continue;
        }
        if fds[0].revents != 0 {
            shared.control.clear();
            dirty = true;
        }
        for (p, e) in fds[1..].iter().zip(&watched) {
            if p.revents == 0 {
                continue;
            }
            e.wake.clear();
            if p.revents & (libc::POLLERR | libc::POLLNVAL) != 0 {
                dirty = true;
                continue;
            }
            let armed = lock(&e.armed);
            if *armed {
                // SAFETY: a valid C string; the shim locates the session
                // (read lock), sets the flag and releases it.
                unsafe { sys::hotline_fs_break_uuid(e.uuid.as_ptr()) };
            }
        }
    }
}
