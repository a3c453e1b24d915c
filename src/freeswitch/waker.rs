// SPDX-License-Identifier: GPL-2.0-or-later
//! How a waiting caller hears from the router without polling and without
//! a descriptor of its own.
//!
//! FreeSWITCH offers no way to add anything to a session's own wait, so the
//! caller's thread plays music on hold with `switch_ivr_play_file` (or, with
//! no music at all, `switch_ivr_sleep`), both of which stop when the
//! channel's `CF_BREAK` flag is set. Each waiting call has a [`CallWake`]:
//! the router (after queueing an action), the ringing threads (an agent
//! answered) and the DTMF callback call [`Wake::wake`], which pushes the
//! call onto ONE queue, at most once between two looks of the caller's
//! thread ([`Latch`]), so the queue never holds more than one entry per
//! call. The waker thread sleeps in `recv()` on that queue (no timeout, no
//! poll); for each call whose caller is *armed* (waiting in music, not
//! ringing, prompting or talking) it finds the session again by UUID
//! (`switch_core_session_locate`, so no session pointer is ever kept), sets
//! `CF_BREAK` and sends `SWITCH_SIG_BREAK`, which makes the endpoint return
//! from a blocking read at once, and releases it. The caller's thread then
//! takes its actions from its channel.
//!
//! Cost: one thread and one queue for all calls, no descriptor per call;
//! latency: a channel hand-off plus the session's break, microseconds.
//!
//! Races: the caller arms and resets its latch *before* it looks at its
//! action channel, and every waking side queues its news *before* it calls
//! `wake`, so news is either seen by the caller's look or followed by a
//! break. The arm flag is a mutex held while breaking, so after
//! [`CallWake::disarm`] returns no break can land any more (a stray
//! `CF_BREAK` would cut the next prompt short).

use std::ffi::CString;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crossbeam_channel::{unbounded, Receiver, Sender};

use crate::ffi::cstr::to_cstring;
use crate::router::{Latch, Wake};

use super::sys;

enum Job {
    Break(Arc<Target>),
    Stop,
}

/// What the waker thread needs of a call: its session and its arm flag.
struct Target {
    uuid: CString,
    armed: Mutex<bool>,
}

/// The waker thread and its queue.
pub struct Waker {
    tx: Sender<Job>,
    thread: Option<JoinHandle<()>>,
}

impl Waker {
    pub fn start() -> std::io::Result<Waker> {
        let (tx, rx) = unbounded();
        let thread = std::thread::Builder::new().name("hotline-waker".into()).spawn(move || run(&rx))?;
        Ok(Waker { tx, thread: Some(thread) })
    }

    /// The wake-up of the caller on session `uuid`.
    pub fn call(&self, uuid: &str) -> Arc<CallWake> {
        let target = Arc::new(Target { uuid: to_cstring(uuid), armed: Mutex::new(false) });
        Arc::new(CallWake { target, latch: Latch::default(), queue: self.tx.clone() })
    }

    /// Stop and join the thread (wake-ups after this do nothing).
    pub fn stop(&mut self) {
        if let Some(t) = self.thread.take() {
            let _ = self.tx.send(Job::Stop);
            let _ = t.join();
        }
    }
}

impl Drop for Waker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One waiting caller's wake-up.
pub struct CallWake {
    target: Arc<Target>,
    latch: Latch,
    queue: Sender<Job>,
}

impl CallWake {
    /// From now on a wake-up breaks the caller's playback; call before
    /// looking for news.
    pub fn arm(&self) {
        *lock(&self.target.armed) = true;
        self.latch.reset();
    }

    /// From now on wake-ups break nothing. Waits for a break in progress,
    /// so none lands after this returns.
    pub fn disarm(&self) {
        *lock(&self.target.armed) = false;
    }
}

impl Wake for CallWake {
    fn wake(&self) {
        if self.latch.raise() {
            // Unbounded, yet at most one entry per call (the latch); after
            // stop() nobody reads it, and nothing is waiting any more.
            let _ = self.queue.send(Job::Break(self.target.clone()));
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn run(rx: &Receiver<Job>) {
    while let Ok(Job::Break(call)) = rx.recv() {
        let armed = lock(&call.armed);
        if *armed {
            // SAFETY: a valid C string; the shim locates the session (read
            // lock), sets the flag, sends the break and releases it.
            unsafe { sys::hotline_fs_break_uuid(call.uuid.as_ptr()) };
        }
    }
}
