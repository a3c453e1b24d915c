// SPDX-License-Identifier: GPL-2.0-or-later
//! The router's state, published for readers that must not wait on it.
//!
//! Every [`PUBLISH_EVERY`] ms at most, and only after something changed,
//! the router thread builds a [`Published`] copy (queues, agents, calls) and
//! swaps it in ([`arc_swap`]): a PBX thread (IVR routing conditions) or the
//! web port reads the latest copy without a lock and without a round trip
//! through the router's channel. A copy is at most that old.

use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::core::call::CallView;
use crate::core::queue::QueueView;
use crate::core::{AgentView, Engine, Time};
use crate::ivr::Facts;

/// Longest a published copy lags behind the router (ms).
pub const PUBLISH_EVERY: Time = 100;

/// One published copy of the router's state.
#[derive(Debug, Default)]
pub struct Published {
    /// Counts up with every copy (0: nothing published yet).
    pub version: u64,
    /// The router's clock when it was built.
    pub at: Time,
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
    dirty: bool,
    last: Option<Time>,
    version: u64,
}

impl Publisher {
    pub fn new() -> (Publisher, Arc<ArcSwap<Published>>) {
        let cell = Arc::new(ArcSwap::from_pointee(Published::default()));
        (Publisher { cell: cell.clone(), dirty: true, last: None, version: 0 }, cell)
    }

    /// Something changed since the last copy.
    pub fn touch(&mut self) {
        self.dirty = true;
    }

    /// When the next copy is due (None: nothing to publish).
    pub fn due(&self) -> Option<Time> {
        self.dirty.then(|| self.last.map_or(0, |l| l + PUBLISH_EVERY))
    }

    /// Publish if due at `now`.
    pub fn maybe_publish(&mut self, now: Time, engine: &Engine) {
        if self.due().is_some_and(|d| d <= now) {
            self.version += 1;
            let copy = Published {
                version: self.version,
                at: now,
                queues: engine.queue_views(),
                agents: engine.agent_views(),
                calls: engine.call_views(now),
            };
            self.cell.store(Arc::new(copy));
            self.dirty = false;
            self.last = Some(now);
        }
    }
}
