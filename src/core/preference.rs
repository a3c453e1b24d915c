//! Preferred agents: a caller's account owner, the agent it spoke to last
//! (sticky), or its area's group of agents, preferred for a while before
//! anyone may take it. Chosen in one place ([`PreferenceSources::choose`])
//! on each queue entry, held on the call as a [`Preference`].

use std::collections::HashMap;

use super::config::{AreaTarget, QueueConfig};
use super::input::AgentId;
use super::Time;

/// The agents a caller prefers, and until when. Empty: no preference.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preference {
    agents: Vec<AgentId>,
    until: Time,
}

impl Preference {
    pub fn agents(&self) -> &[AgentId] {
        &self.agents
    }

    pub fn is_empty(&self) -> bool {
        self.agents.is_empty()
    }

    pub fn until(&self) -> Time {
        self.until
    }

    /// Only the preferred agents may take the caller now.
    pub fn active(&self, now: Time) -> bool {
        !self.agents.is_empty() && now < self.until
    }

    /// Agent `a` may take the caller as far as the preference goes.
    pub fn allows(&self, a: AgentId, now: Time) -> bool {
        !self.active(now) || self.agents.contains(&a)
    }

    /// The caller still waits for agent `a` in particular.
    pub fn prefers(&self, a: AgentId, now: Time) -> bool {
        now < self.until && self.agents.contains(&a)
    }
}

/// What preferences are chosen from: account owners (configuration) and
/// each caller number's last agent (sticky memory, learnt from calls).
#[derive(Debug, Clone, Default)]
pub struct PreferenceSources {
    /// caller number -> account owner.
    owners: HashMap<String, AgentId>,
    /// caller number -> (agent, when the call ended).
    last_agent: HashMap<String, (AgentId, Time)>,
}

impl PreferenceSources {
    pub fn set_owners(&mut self, owners: HashMap<String, AgentId>) {
        self.owners = owners;
    }

    /// Remember that `number` last spoke to agent `a`. The memory is pruned
    /// of entries older than `window` (the longest sticky window of any
    /// queue) whenever it doubles past 1024, so it stays bounded by the
    /// callers of one window at amortised O(1).
    pub fn remember(&mut self, number: String, a: AgentId, now: Time, window: impl FnOnce() -> Time) {
        if self.last_agent.len() >= 1024 && self.last_agent.len().is_power_of_two() {
            let window = window();
            self.last_agent.retain(|_, (_, at)| now.saturating_sub(*at) <= window);
        }
        self.last_agent.insert(number, (a, now));
    }

    /// The preference of caller `number` entering a queue configured as
    /// `cfg`: its owner (if the queue uses owners), else its last agent
    /// within the sticky window, else its area's agents; only members of
    /// the queue (`is_member`), for `prefer_wait` from `now`.
    pub fn choose(
        &self,
        cfg: &QueueConfig,
        number: &str,
        now: Time,
        agent_named: impl Fn(&str) -> Option<AgentId>,
        is_member: impl Fn(AgentId) -> bool,
    ) -> Preference {
        let mut agents = Vec::new();
        if cfg.use_owners {
            if let Some(&a) = self.owners.get(number) {
                agents.push(a);
            }
        }
        if agents.is_empty() {
            if let Some(window) = cfg.sticky {
                if let Some(&(a, at)) = self.last_agent.get(number) {
                    if now.saturating_sub(at) <= window {
                        agents.push(a);
                    }
                }
            }
        }
        if agents.is_empty() {
            for area in &cfg.areas {
                if let AreaTarget::Agents(list) = &area.target {
                    if number.starts_with(&area.prefix) {
                        agents.extend(list.iter().filter_map(|n| agent_named(n)));
                        break;
                    }
                }
            }
        }
        agents.retain(|&a| is_member(a));
        Preference { agents, until: now + cfg.prefer_wait }
    }
}
