//! Distribution strategies. Each strategy is an ordering of a queue's ready
//! agents: [`Strategy::key`] turns an agent's state into a sort key that the
//! queue's ready index ([`super::index::ReadyIndex`]) keeps sorted, so a
//! decision is a seek, not a scan over all agents.
//!
//! | strategy | order (best first) |
//! |---|---|
//! | `ring-all` (集體振鈴) | every eligible ready agent rings at once |
//! | `round-robin` (循環振鈴) | next member after the one offered last, wrapping |
//! | `linear` | member order as configured, always from the top |
//! | `longest-idle` (空閑時間最長) | earliest end of last call (or login) |
//! | `fewest-calls` (業務量均衡) | fewest answered calls, then longest idle |
//! | `least-talk-time` (業務量均衡) | least talk time, then longest idle |
//! | `random` | a fresh random rank each time an agent becomes ready |
//! | `skills` | best proficiency in the queue's skill, then longest idle |
//!
//! Tier (level) and penalty come before the strategy's own order in every
//! queue: a tier-1 agent is always preferred to a tier-2 agent, and rules
//! over time decide when a caller may reach tier 2 at all.

use serde::Deserialize;

#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    #[serde(alias = "ringall")]
    RingAll,
    #[serde(alias = "rrmemory", alias = "roundrobin", alias = "hunt")]
    RoundRobin,
    #[serde(alias = "top-down", alias = "rrordered")]
    Linear,
    #[default]
    #[serde(alias = "leastrecent", alias = "longest-idle-agent")]
    LongestIdle,
    #[serde(alias = "fewestcalls", alias = "agent-with-fewest-calls")]
    FewestCalls,
    #[serde(alias = "agent-with-least-talk-time")]
    LeastTalkTime,
    Random,
    #[serde(alias = "skills-based")]
    Skills,
}

impl Strategy {
    pub fn name(self) -> &'static str {
        match self {
            Strategy::RingAll => "ring-all",
            Strategy::RoundRobin => "round-robin",
            Strategy::Linear => "linear",
            Strategy::LongestIdle => "longest-idle",
            Strategy::FewestCalls => "fewest-calls",
            Strategy::LeastTalkTime => "least-talk-time",
            Strategy::Random => "random",
            Strategy::Skills => "skills",
        }
    }

    /// (primary, secondary) sort key of a ready agent; smaller is better.
    pub fn key(self, f: &KeyFacts) -> (u64, u64) {
        match self {
            Strategy::RingAll | Strategy::RoundRobin | Strategy::Linear => (f.position as u64, 0),
            Strategy::LongestIdle => (f.idle_since, 0),
            Strategy::FewestCalls => (f.calls, f.idle_since),
            Strategy::LeastTalkTime => (f.talk_ms, f.idle_since),
            Strategy::Random => (f.random, 0),
            Strategy::Skills => (10u64.saturating_sub(f.proficiency as u64), f.idle_since),
        }
    }
}

/// What a strategy may look at when ranking an agent in one queue.
pub struct KeyFacts {
    /// Position of the agent among the queue's members (config order).
    pub position: u32,
    pub idle_since: u64,
    pub calls: u64,
    pub talk_ms: u64,
    /// Proficiency in the queue's skill, 0 if none.
    pub proficiency: u8,
    /// Fresh random number drawn when the agent became ready.
    pub random: u64,
}
