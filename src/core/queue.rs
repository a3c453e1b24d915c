//! Queues: configuration, the waiting line and the ready-agent index.

use std::collections::{BTreeMap, HashMap};

/// The line for `needs` (few distinct needs per queue: a short scan).
fn line_of<'a>(lines: &'a mut Vec<(Needs, BTreeMap<WaitKey, CallId>)>, needs: &Needs) -> Option<usize> {
    lines.iter().position(|(n, _)| Arc::ptr_eq(n, needs) || n == needs)
}
use std::sync::Arc;

use super::call::{CallId, Needs};
use super::config::QueueConfig;
use super::index::ReadyIndex;

impl Queue {
    pub fn line_insert(&mut self, key: WaitKey, id: CallId, needs: &Needs) {
        self.waiting.insert(key, id);
        match line_of(&mut self.lines, needs) {
            Some(i) => {
                self.lines[i].1.insert(key, id);
            }
            None => self.lines.push((needs.clone(), BTreeMap::from([(key, id)]))),
        }
    }

    pub fn line_remove(&mut self, key: &WaitKey, needs: &Needs) -> bool {
        let removed = self.waiting.remove(key).is_some();
        if let Some(i) = line_of(&mut self.lines, needs) {
            self.lines[i].1.remove(key);
            if self.lines[i].1.is_empty() {
                self.lines.swap_remove(i);
            }
        }
        removed
    }

    /// 1-based position of `key` in the line, counting from whichever end
    /// is nearer (O(min(ahead, behind))): new callers are near the back.
    pub fn position_of(&self, key: &WaitKey) -> Option<usize> {
        // The usual cases first: the newest caller is last, the next one
        // to be served is first (one descent each).
        match (self.waiting.last_key_value(), self.waiting.first_key_value()) {
            (Some((last, _)), _) if last == key => return Some(self.waiting.len()),
            (_, Some((first, _))) if first == key => return Some(1),
            _ => {}
        }
        if !self.waiting.contains_key(key) {
            return None;
        }
        let mut ahead = self.waiting.range(..*key);
        let mut behind = self.waiting.range(*key..).skip(1);
        let mut n = 0;
        loop {
            match (ahead.next(), behind.next()) {
                (Some(_), Some(_)) => n += 1,
                (None, _) => return Some(n + 1),
                (Some(_), None) => return Some(self.waiting.len() - n),
            }
        }
    }
}

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
    /// The same callers split by what they need (skills): a freed agent
    /// looks only at the lines it can serve, head first.
    pub lines: Vec<(Needs, BTreeMap<WaitKey, CallId>)>,
    /// Ready agents who have a given skill, built the first time a caller
    /// needs that skill here and maintained from then on.
    pub skill_ready: HashMap<Arc<str>, ReadyIndex>,
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
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct QueueView {
    pub name: String,
    pub strategy: &'static str,
    pub waiting: usize,
    pub members: usize,
    pub logged_in: usize,
    pub ready: usize,
    pub retired: bool,
}
