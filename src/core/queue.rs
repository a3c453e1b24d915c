//! Queues: configuration, the waiting line and the ready-agent index.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::call::CallId;
use super::config::QueueConfig;
use super::index::ReadyIndex;

/// Order of the waiting line: higher rank first, then arrival order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WaitKey {
    pub neg_rank: i64,
    pub seq: u64,
}

#[derive(Debug, Clone)]
pub struct Queue {
    pub name: Arc<str>,
    pub music_class: Arc<str>,
    pub cfg: QueueConfig,
    pub ready: ReadyIndex,
    /// Callers waiting for an agent (not those being offered right now).
    pub waiting: BTreeMap<WaitKey, CallId>,
    /// Position offered last (round-robin memory).
    pub rr_cursor: Option<u64>,
    /// Member agents, in position order.
    pub members: Vec<u32>,
    /// Members logged in (any state but logged out).
    pub logged_in: usize,
    /// Removed from the configuration; kept until its callers are gone.
    pub retired: bool,
}

/// A read-only view of a queue for the CLI / API.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueView {
    pub name: String,
    pub strategy: &'static str,
    pub waiting: usize,
    pub members: usize,
    pub logged_in: usize,
    pub ready: usize,
    pub retired: bool,
}
