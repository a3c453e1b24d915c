// SPDX-License-Identifier: GPL-2.0-or-later
//! The unload gate: how PBX threads reach the running service, and how
//! unload knows that none of them is inside.
//!
//! A [`Gate`] is a static slot for the service plus one atomic word: a
//! *closing* flag and a count of [`Pass`]es (entries inside, or work that
//! holds a pass on purpose, like a pending callback). Every entry point
//! takes a pass for the duration of its call (through
//! [`crate::entry!`]); unload [`Gate::close`]s:
//!
//! 1. it sets the closing flag; from then on [`Gate::enter`] refuses;
//! 2. if any pass exists, or the service says it is busy (calls active),
//!    it clears the flag again and refuses the unload: the service keeps
//!    serving;
//! 3. otherwise it takes the service out of the slot and hands it to the
//!    unloading thread, which stops it (joining every thread) and drops it.
//!    No pass exists and no new one can be taken, so no PBX thread can
//!    hold a reference to the service, let alone drop the last one.
//!
//! The flag and the count share one word, so "enter" and "close" are each
//! one read-modify-write of it and cannot both succeed: whichever comes
//! first in the word's modification order wins. Entering never blocks and
//! never waits: it is one atomic add (and one subtract when it is refused).

use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering::SeqCst};

/// Bit 0 of the state word: closing. The pass count is the rest.
const CLOSING: usize = 1;
const ONE_PASS: usize = 2;

/// A slot for the running service, entered through passes.
pub struct Gate<T> {
    state: AtomicUsize,
    value: AtomicPtr<T>,
    /// A refusal was logged since the gate last opened (log it once).
    refusal_logged: AtomicBool,
}

/// Why [`Gate::enter`] gave no pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Unload is in progress (or done): the service is going away.
    Closing,
    /// No service (never loaded, or its load failed).
    NotRunning,
}

/// What [`Gate::close`] did.
pub enum Close<T> {
    /// Nobody was inside: here is the service, to stop and drop.
    Closed(Box<T>),
    /// Entries are inside or the service is busy: the gate is open again
    /// and the service keeps running. The text says why.
    Busy(String),
    /// There was no service.
    NotRunning,
}

impl<T> Default for Gate<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Gate<T> {
    pub const fn new() -> Self {
        Gate { state: AtomicUsize::new(0), value: AtomicPtr::new(std::ptr::null_mut()), refusal_logged: AtomicBool::new(false) }
    }

    /// Publish a started service and open the gate. Hands the value back
    /// when a service is already there (a previous instance kept running
    /// by a refused unload).
    pub fn open(&self, value: Box<T>) -> Result<(), Box<T>> {
        let p = Box::into_raw(value);
        if self.value.compare_exchange(std::ptr::null_mut(), p, SeqCst, SeqCst).is_err() {
            // SAFETY: p came from Box::into_raw just above and was not
            // published.
            return Err(unsafe { Box::from_raw(p) });
        }
        self.refusal_logged.store(false, SeqCst);
        self.state.fetch_and(!CLOSING, SeqCst);
        Ok(())
    }

    /// Whether a service is in the slot (open, or closing but not yet
    /// taken out).
    pub fn is_loaded(&self) -> bool {
        !self.value.load(SeqCst).is_null()
    }

    /// Passes alive now (a snapshot, for diagnostics and tests).
    pub fn passes(&self) -> usize {
        self.state.load(SeqCst) / ONE_PASS
    }

    /// Whether the gate refuses entries now.
    pub fn is_closing(&self) -> bool {
        self.state.load(SeqCst) & CLOSING != 0
    }

    /// A pass on the running service, or why not. `entry` names the entry
    /// point in the one log line a closing gate writes (per closing).
    pub fn enter(&'static self, entry: &str) -> Result<Pass<T>, Refused> {
        let before = self.state.fetch_add(ONE_PASS, SeqCst);
        if before & CLOSING != 0 {
            self.state.fetch_sub(ONE_PASS, SeqCst);
            if !self.refusal_logged.swap(true, SeqCst) {
                log::warn!("{entry}: refused, Hotline is unloading");
            }
            return Err(Refused::Closing);
        }
        match NonNull::new(self.value.load(SeqCst)) {
            Some(value) => Ok(Pass { gate: self, value }),
            None => {
                self.state.fetch_sub(ONE_PASS, SeqCst);
                Err(Refused::NotRunning)
            }
        }
    }

    /// Close the gate for unload (see the module doc). `busy` is asked,
    /// with no pass alive and none possible, whether the service still has
    /// work that forbids unloading (calls active); `Some(why)` refuses.
    pub fn close(&self, busy: impl FnOnce(&T) -> Option<String>) -> Close<T> {
        let before = self.state.fetch_or(CLOSING, SeqCst);
        if before & CLOSING != 0 {
            return Close::Busy("an unload is already in progress".into());
        }
        let Some(p) = NonNull::new(self.value.load(SeqCst)) else {
            // Nothing to serve; the gate stays closed until the next open.
            return Close::NotRunning;
        };
        let inside = before / ONE_PASS;
        let why = if inside > 0 {
            Some(format!("{inside} {} inside Hotline", if inside == 1 { "entry is" } else { "entries are" }))
        } else {
            // SAFETY: p is the published service; it is freed only below,
            // by this thread. No pass exists and none can be taken now.
            busy(unsafe { p.as_ref() })
        };
        if let Some(why) = why {
            self.reopen();
            return Close::Busy(why);
        }
        self.value.store(std::ptr::null_mut(), SeqCst);
        // SAFETY: p came from Box::into_raw in `open`; it is unpublished
        // and, with the gate closed and no pass alive, unreachable.
        Close::Closed(unsafe { Box::from_raw(p.as_ptr()) })
    }

    fn reopen(&self) {
        self.refusal_logged.store(false, SeqCst);
        self.state.fetch_and(!CLOSING, SeqCst);
    }
}

/// A counted use of the running service: while one exists the gate cannot
/// close, so the reference it gives stays valid. Owned (it may be kept
/// across threads, e.g. by a pending callback); cloning counts again.
pub struct Pass<T: 'static> {
    gate: &'static Gate<T>,
    value: NonNull<T>,
}

// SAFETY: a pass is a shared reference to `T` plus a count on a static
// atomic: it may move to or be shared with another thread when `&T` may.
unsafe impl<T: Sync> Send for Pass<T> {}
// SAFETY: as above.
unsafe impl<T: Sync> Sync for Pass<T> {}

impl<T> Deref for Pass<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: while this pass counts, `close` cannot take the value
        // out, so it stays allocated.
        unsafe { self.value.as_ref() }
    }
}

impl<T> Clone for Pass<T> {
    fn clone(&self) -> Self {
        // The count is already non-zero (self), so no close can succeed in
        // between: no closing check is needed.
        self.gate.state.fetch_add(ONE_PASS, SeqCst);
        Pass { gate: self.gate, value: self.value }
    }
}

impl<T> Drop for Pass<T> {
    fn drop(&mut self) {
        self.gate.state.fetch_sub(ONE_PASS, SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::sync::{Arc, Barrier};

    /// A service that records being dropped.
    struct Svc {
        id: u32,
        dropped: Arc<AtomicBool>,
    }

    impl Drop for Svc {
        fn drop(&mut self) {
            self.dropped.store(true, SeqCst);
        }
    }

    fn gate() -> &'static Gate<Svc> {
        Box::leak(Box::new(Gate::new()))
    }

    fn svc(id: u32) -> (Box<Svc>, Arc<AtomicBool>) {
        let dropped = Arc::new(AtomicBool::new(false));
        (Box::new(Svc { id, dropped: dropped.clone() }), dropped)
    }

    #[test]
    fn no_service_no_pass() {
        let g = gate();
        assert_eq!(g.enter("t").err(), Some(Refused::NotRunning));
        assert_eq!(g.passes(), 0);
        assert!(matches!(g.close(|_| None), Close::NotRunning));
    }

    #[test]
    fn passes_are_counted_and_released() {
        let g = gate();
        let (s, _) = svc(1);
        assert!(g.open(s).is_ok());
        let a = g.enter("a").expect("open gate");
        let b = a.clone();
        assert_eq!((a.id, b.id, g.passes()), (1, 1, 2));
        drop(a);
        assert_eq!(g.passes(), 1);
        drop(b);
        assert_eq!(g.passes(), 0);
    }

    #[test]
    fn close_is_refused_while_an_entry_is_inside_and_the_gate_reopens() {
        let g = gate();
        let (s, dropped) = svc(1);
        assert!(g.open(s).is_ok());
        let inside = g.enter("app").expect("open");
        let Close::Busy(why) = g.close(|_| None) else { panic!("closed under a pass") };
        assert!(why.contains("1 entry is inside"), "{why}");
        assert!(!g.is_closing(), "a refused unload reopens the gate");
        assert!(!dropped.load(SeqCst));
        // Still serving: new entries get in.
        let again = g.enter("cli").expect("serving after a refused unload");
        assert_eq!(again.id, 1);
        drop((inside, again));
        let Close::Closed(s) = g.close(|_| None) else { panic!("idle gate did not close") };
        assert_eq!(s.id, 1);
        assert!(!dropped.load(SeqCst), "the unloading thread drops it, not the gate");
        drop(s);
        assert!(dropped.load(SeqCst));
    }

    #[test]
    fn close_asks_the_service_when_nobody_is_inside() {
        let g = gate();
        let (s, _) = svc(7);
        assert!(g.open(s).is_ok());
        let mut asked = None;
        let Close::Busy(why) = g.close(|s| {
            asked = Some(s.id);
            Some("2 calls are active".into())
        }) else {
            panic!("closed while busy")
        };
        assert_eq!((asked, why.as_str()), (Some(7), "2 calls are active"));
        assert!(g.enter("x").is_ok());
    }

    #[test]
    fn nothing_enters_after_close() {
        let g = gate();
        let (s, _) = svc(1);
        assert!(g.open(s).is_ok());
        // While the service is being stopped (between close and drop) and
        // after, every entry is refused.
        let Close::Closed(s) = g.close(|_| None) else { panic!() };
        assert!(g.is_closing());
        assert_eq!(g.enter("late").err(), Some(Refused::Closing));
        assert_eq!(g.passes(), 0, "a refused entry leaves no count behind");
        drop(s);
        assert_eq!(g.enter("later").err(), Some(Refused::Closing));
        // A new load opens it again.
        let (s2, _) = svc(2);
        assert!(g.open(s2).is_ok());
        assert_eq!(g.enter("new").expect("reopened").id, 2);
    }

    #[test]
    fn open_refuses_a_second_service() {
        let g = gate();
        let (a, _) = svc(1);
        let (b, b_dropped) = svc(2);
        assert!(g.open(a).is_ok());
        let back = g.open(b).err().expect("slot taken");
        assert_eq!(back.id, 2);
        drop(back);
        assert!(b_dropped.load(SeqCst));
        assert_eq!(g.enter("t").expect("first").id, 1);
    }

    #[test]
    fn a_pass_taken_on_another_thread_blocks_close_until_dropped() {
        let g = gate();
        let (s, dropped) = svc(3);
        assert!(g.open(s).is_ok());
        let entered = Arc::new(Barrier::new(2));
        let leave = Arc::new(Barrier::new(2));
        let (e2, l2) = (entered.clone(), leave.clone());
        let t = std::thread::spawn(move || {
            let pass = g.enter("thread").expect("open");
            e2.wait();
            l2.wait();
            pass.id
        });
        entered.wait();
        assert!(matches!(g.close(|_| None), Close::Busy(_)));
        leave.wait();
        assert_eq!(t.join().expect("thread"), 3);
        let Close::Closed(s) = g.close(|_| None) else { panic!("idle after the thread left") };
        drop(s);
        assert!(dropped.load(SeqCst));
    }

    /// Many threads entering while another closes: a pass never sees a
    /// freed service (each pass reads the service while it holds it; the
    /// closer frees it only once close succeeded).
    #[test]
    fn concurrent_entries_never_outlive_the_service() {
        for _ in 0..50 {
            let g = gate();
            let (s, dropped) = svc(9);
            assert!(g.open(s).is_ok());
            let start = Arc::new(Barrier::new(5));
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    let (start, dropped) = (start.clone(), dropped.clone());
                    std::thread::spawn(move || {
                        start.wait();
                        let mut served = 0;
                        for _ in 0..1000 {
                            match g.enter("t") {
                                Ok(p) => {
                                    assert!(!dropped.load(SeqCst), "a pass on a dropped service");
                                    assert_eq!(p.id, 9);
                                    served += 1;
                                }
                                Err(r) => assert_eq!(r, Refused::Closing),
                            }
                        }
                        served
                    })
                })
                .collect();
            start.wait();
            let closed = loop {
                match g.close(|_| None) {
                    Close::Closed(s) => break s,
                    Close::Busy(_) => std::thread::yield_now(),
                    Close::NotRunning => panic!("service vanished"),
                }
            };
            drop(closed);
            for t in threads {
                t.join().expect("no pass saw a dropped service");
            }
            assert_eq!(g.passes(), 0);
        }
    }
}
