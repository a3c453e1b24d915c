// SPDX-License-Identifier: GPL-2.0-or-later
//! The router's state, published for readers that must not wait on it.
//!
//! Every [`PUBLISH_EVERY`] ms at most, and only after something changed,
//! the router thread builds a [`Published`] copy and swaps it in
//! ([`arc_swap`]): a PBX thread (IVR routing conditions) or the web port
//! reads the latest copy without a lock and without a round trip through
//! the router's channel. A copy is at most that old. The queues are always
//! in it (cheap); agents and calls (thousands of views) only while someone
//! reads them ([`crate::router::Router::published_full`] within the last
//! [`DEMAND_KEEP`] ms), so a router nobody watches pays nothing for them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::core::call::CallView;
use crate::core::queue::QueueView;
use crate::core::{AgentView, Engine, Time};
use crate::ivr::Facts;

/// Longest a published copy lags behind the router (ms).
pub const PUBLISH_EVERY: Time = 100;
/// How long one read of agents and calls keeps them in the copies (ms).
pub const DEMAND_KEEP: Time = 5_000;

/// One published copy of the router's state.
#[derive(Debug, Default)]
pub struct Published {
    /// Counts up with every copy (0: nothing published yet).
    pub version: u64,
    /// The router's clock when it was built.
    pub at: Time,
    /// Agents and calls are in this copy (else they are empty).
    pub full: bool,
    pub queues: Vec<QueueView>,
    pub agents: Vec<AgentView>,
    pub calls: Vec<CallView>,
}

impl Facts for Published {
    fn waiting(&self, queue: &str) -> Option<usize> {
        self.queues.iter().find(|q| q.name == queue).map(|q| q.waiting)
    }
    fn idle_agents(&self, queue: &str) -> Option<usize> {
        self.queues.iter().find(|q| q.name == queue).map(|q| q.ready)
    }
}

/// The router thread's side.
pub(crate) struct Publisher {
    cell: Arc<ArcSwap<Published>>,
    /// The router clock (+1) of the last read wanting agents and calls.
    demand: Arc<AtomicU64>,
    dirty: bool,
    last: Option<Time>,
    last_full: bool,
    version: u64,
}

impl Publisher {
    pub fn new() -> (Publisher, Arc<ArcSwap<Published>>, Arc<AtomicU64>) {
        let cell = Arc::new(ArcSwap::from_pointee(Published::default()));
        let demand = Arc::new(AtomicU64::new(0));
        (Publisher { cell: cell.clone(), demand: demand.clone(), dirty: true, last: None, last_full: false, version: 0 }, cell, demand)
    }

    fn wants_full(&self, now: Time) -> bool {
        let d = self.demand.load(Ordering::Relaxed);
        d > 0 && now <= d + DEMAND_KEEP
    }

    /// Something changed since the last copy.
    pub fn touch(&mut self) {
        self.dirty = true;
    }

    /// When the next copy is due (None: nothing to publish): after a
    /// change, or when agents and calls are wanted and the last copy lacks them.
    pub fn due(&self, now: Time) -> Option<Time> {
        let missing = !self.last_full && self.wants_full(now);
        (self.dirty || missing).then(|| self.last.map_or(0, |l| l + PUBLISH_EVERY))
    }

    /// Publish if due at `now`.
    pub fn maybe_publish(&mut self, now: Time, engine: &Engine) {
        if self.due(now).is_some_and(|d| d <= now) {
            self.version += 1;
            let full = self.wants_full(now);
            let copy = Published {
                version: self.version,
                at: now,
                full,
                queues: engine.queue_views(),
                agents: if full { engine.agent_views() } else { Vec::new() },
                calls: if full { engine.call_views(now) } else { Vec::new() },
            };
            self.cell.store(Arc::new(copy));
            self.dirty = false;
            self.last = Some(now);
            self.last_full = full;
        }
    }
}
