// SPDX-License-Identifier: GPL-2.0-or-later
//! How the router wakes a waiting caller's thread after queueing an action
//! for it, with no descriptor of ours per call: each adapter implements
//! [`Wake`] with its PBX's own means (Asterisk queues a frame on the
//! caller's channel, whose alert pipe ends the thread's `ast_waitfor`;
//! FreeSWITCH breaks the session's playback), finding the call again by
//! name or UUID.
//!
//! [`Latch`] coalesces the wake-ups of one call between two looks of its
//! thread, so a burst of decisions costs the PBX one wake-up, and the
//! adapter's queue of pending wake-ups holds at most one entry per call.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// Wakes one waiting call. Called on the router thread (and on an adapter's
/// own threads): it must not wait for the caller's thread.
pub trait Wake: Send + Sync {
    fn wake(&self);
}

/// For a thread that blocks on its action channel itself
/// ([`super::CallHandle::recv_timeout`]): nothing to wake.
#[derive(Debug, Default)]
pub struct NoWake;

impl Wake for NoWake {
    fn wake(&self) {}
}

/// The wake-ups of one call since its thread last looked.
///
/// The contract: the caller's thread calls [`Latch::reset`] *before* it
/// looks at its action channel; the waking side calls [`Latch::raise`]
/// *after* queueing an action, and wakes the thread only when it returns
/// true. So an action queued after the look is always followed by a
/// wake-up, and one queued before it is seen by the look.
#[derive(Debug, Default)]
pub struct Latch {
    pending: AtomicBool,
}

impl Latch {
    /// Mark a wake-up pending: true if none was (the thread must be woken).
    pub fn raise(&self) -> bool {
        !self.pending.swap(true, Ordering::SeqCst)
    }

    /// The thread is about to look: later wake-ups must wake it again.
    pub fn reset(&self) {
        self.pending.store(false, Ordering::SeqCst);
    }
}

/// A wake-up a thread without a PBX channel can sleep on (tests, tools).
#[derive(Debug, Default)]
pub struct Signal {
    woken: Mutex<bool>,
    cv: Condvar,
}

impl Signal {
    /// Sleep until woken or `timeout` passes; true if woken (and reset).
    pub fn wait(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut woken = self.woken.lock().unwrap_or_else(|e| e.into_inner());
        while !*woken {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            woken = self.cv.wait_timeout(woken, left).unwrap_or_else(|e| e.into_inner()).0;
        }
        *woken = false;
        true
    }
}

impl Wake for Signal {
    fn wake(&self) {
        *self.woken.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.cv.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_latch_wakes_once_until_reset() {
        let l = Latch::default();
        assert!(l.raise(), "first wake-up wakes");
        assert!(!l.raise(), "further ones coalesce");
        l.reset();
        assert!(l.raise(), "after a look, a wake-up wakes again");
    }

    #[test]
    fn a_signal_wakes_a_sleeping_thread() {
        let s = Arc::new(Signal::default());
        let s2 = s.clone();
        let t = std::thread::spawn(move || s2.wait(Duration::from_secs(10)));
        s.wake();
        assert!(t.join().expect("thread"), "woken, not timed out");
        // A wake-up before the wait is not lost.
        s.wake();
        assert!(s.wait(Duration::from_secs(10)));
    }
}
