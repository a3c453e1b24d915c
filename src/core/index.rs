//! A queue's ready index: the agents who could take a call from this queue
//! now, sorted by tier, penalty and the strategy's key. Each agent appears
//! at most once; the agent remembers the key it was filed under so removal
//! is exact.

use std::collections::BTreeSet;
use std::ops::Bound;

/// Sort key of one ready agent in one queue. Field order is sort order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReadyKey {
    pub tier: u8,
    pub penalty: u32,
    pub primary: u64,
    pub secondary: u64,
    pub agent: u32,
}

impl ReadyKey {
    fn tier_start(tier: u8) -> ReadyKey {
        ReadyKey { tier, penalty: 0, primary: 0, secondary: 0, agent: 0 }
    }
}

#[derive(Debug, Default, Clone)]
pub struct ReadyIndex {
    set: BTreeSet<ReadyKey>,
}

impl ReadyIndex {
    pub fn insert(&mut self, key: ReadyKey) {
        self.set.insert(key);
    }

    pub fn remove(&mut self, key: &ReadyKey) -> bool {
        self.set.remove(key)
    }

    pub fn contains(&self, key: &ReadyKey) -> bool {
        self.set.contains(key)
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    pub fn clear(&mut self) {
        self.set.clear()
    }

    pub fn iter(&self) -> impl Iterator<Item = &ReadyKey> {
        self.set.iter()
    }

    /// Best agent with tier <= `max_tier` and penalty <= `max_penalty` that
    /// `accept` takes. Agents over the penalty limit are skipped a whole tier
    /// at a time by seeking, so the cost is O(tiers * log n) plus whatever
    /// `accept` rejects.
    pub fn best(&self, max_tier: u8, max_penalty: u32, mut accept: impl FnMut(u32) -> bool) -> Option<u32> {
        let mut cursor = Bound::Unbounded;
        loop {
            let mut advanced_tier = None;
            for k in self.set.range((cursor, Bound::Unbounded)) {
                if k.tier > max_tier {
                    return None;
                }
                if k.penalty > max_penalty {
                    advanced_tier = Some(k.tier);
                    break;
                }
                if accept(k.agent) {
                    return Some(k.agent);
                }
            }
            match advanced_tier {
                Some(t) if t < u8::MAX => cursor = Bound::Included(ReadyKey::tier_start(t + 1)),
                _ => return None,
            }
        }
    }

    /// Round-robin: the first acceptable agent of the best tier present whose
    /// position (primary key) is after `after`, else wrap to that tier's
    /// start. Round-robin queues file every key with penalty 0 (the caller's
    /// penalty limit is checked by `accept`), so positions are contiguous
    /// within a tier and both look-ups are seeks.
    pub fn next_after(&self, max_tier: u8, after: Option<u64>, mut accept: impl FnMut(u32) -> bool) -> Option<u32> {
        let first = self.set.iter().take_while(|k| k.tier <= max_tier).find(|k| accept(k.agent))?;
        let Some(after) = after else { return Some(first.agent) };
        let tier = first.tier;
        let from = ReadyKey { tier, penalty: 0, primary: after.saturating_add(1), secondary: 0, agent: 0 };
        self.set
            .range(from..)
            .take_while(|k| k.tier == tier)
            .find(|k| accept(k.agent))
            .map(|k| k.agent)
            .or(Some(first.agent))
    }

    /// Every acceptable agent within the limits, best first (ring-all).
    pub fn all(&self, max_tier: u8, max_penalty: u32, mut accept: impl FnMut(u32) -> bool) -> Vec<u32> {
        self.set
            .iter()
            .take_while(|k| k.tier <= max_tier)
            .filter(|k| k.penalty <= max_penalty && accept(k.agent))
            .map(|k| k.agent)
            .collect()
    }
}
