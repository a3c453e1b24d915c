//! Deadlines. Timers are never cancelled: each carries enough to check on
//! firing whether it still applies (call epoch, offer sequence), so arming
//! is O(log n) and nothing needs to find a timer again.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::call::CallId;
use super::Time;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TimerKind {
    /// `max_wait_seconds` of the current queue, counted from entering it
    /// (epoch = queue entry), as app_queue's timeout restarts with each
    /// Queue().
    MaxWait { call: CallId, epoch: u32 },
    /// Rule `step` of the current queue's widen list (epoch = queue entry).
    Widen { call: CallId, epoch: u32, step: u16 },
    /// Overflow rule `rule` with `after_seconds`.
    Overflow { call: CallId, epoch: u32, rule: u16 },
    Announce { call: CallId, epoch: u32 },
    /// Preferred agents no longer required, or an exclusion ran out.
    Recheck { call: CallId },
    /// The offer numbered `seq` should have been reported by now.
    OfferWatchdog { call: CallId, seq: u32 },
    /// The `no-answer` break agent `agent` took at `since` ends by itself.
    NoAnswerBreakEnd { agent: u32, since: Time },
    /// Offer `seq` has rung one agent `ring_escalate_seconds`: ring one more.
    RingEscalate { call: CallId, seq: u32 },
    /// Agent `agent`'s busy back-off (held until `until`) ends.
    BackoffEnd { agent: u32, until: Time },
    /// Wrap-up of agent `agent` ends (if it is still in that wrap-up).
    WrapUpEnd { agent: u32, until: Time },
}

#[derive(Debug, Default, Clone)]
pub struct Timers {
    heap: BinaryHeap<Reverse<(Time, TimerKind)>>,
}

impl Timers {
    pub fn arm(&mut self, at: Time, kind: TimerKind) {
        self.heap.push(Reverse((at, kind)));
    }

    pub fn next_deadline(&self) -> Option<Time> {
        self.heap.peek().map(|Reverse((t, _))| *t)
    }

    /// The earliest timer due at or before `now`.
    pub fn pop_due(&mut self, now: Time) -> Option<(Time, TimerKind)> {
        match self.heap.peek() {
            Some(Reverse((t, _))) if *t <= now => self.heap.pop().map(|Reverse(x)| x),
            _ => None,
        }
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}
