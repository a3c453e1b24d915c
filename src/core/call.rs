//! Callers: who they are, and where they stand in the routing engine.

use std::fmt;
use std::sync::Arc;

use super::input::AgentId;
use super::preference::Preference;
use super::Time;

/// A call's identity, chosen by the PBX side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct CallId(pub u64);

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What a caller brings into the queue.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallerInfo {
    /// Caller number (used for area routing, owner and sticky agents).
    pub number: String,
    pub name: String,
    /// Higher first (VIP); FIFO within a priority.
    pub priority: i32,
    pub language: String,
    /// Skills the caller needs, with a minimum proficiency.
    pub skills: Vec<(String, u8)>,
    /// Data gathered earlier (IVR digits, CRM fields), passed to sinks.
    pub data: Vec<(String, String)>,
}

/// What a caller needs from an agent: skills with a minimum proficiency,
/// sorted by skill. Empty: anyone in the queue.
pub type Needs = Arc<[(Arc<str>, u8)]>;

pub fn needs_of(skills: &[(String, u8)]) -> Needs {
    let mut v: Vec<(Arc<str>, u8)> = skills.iter().map(|(s, p)| (Arc::from(s.as_str()), *p)).collect();
    v.sort();
    v.dedup_by(|a, b| a.0 == b.0);
    v.into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CallPhase {
    Waiting,
    Offering,
    Talking,
}

/// A call as the engine holds it.
#[derive(Debug, Clone)]
pub struct Call {
    pub id: CallId,
    pub caller: CallerInfo,
    pub queue: u32,
    /// Global arrival order; kept across overflow and callbacks.
    pub seq: u64,
    /// Sort priority in the current queue (caller priority + queue weight).
    pub rank: i64,
    /// First entry (for statistics: waits count from here).
    pub entered: Time,
    /// Entry into the current queue (rules over time and its max wait
    /// count from here).
    pub queue_entered: Time,
    /// Bumped on every queue change; stale timers compare it.
    pub epoch: u32,
    pub phase: CallPhase,
    pub max_tier: u8,
    pub max_penalty: u32,
    pub skills_dropped: bool,
    /// Active needs (empty once widening dropped the skills).
    pub needs: Needs,
    /// Preferred agents (owner, sticky, area group) and until when.
    pub preference: Preference,
    /// Agents that just failed this call, skipped until the given time.
    pub excluded: Vec<(AgentId, Time)>,
    pub callback: Option<String>,
    /// Agents ringing for the current offer and its sequence number.
    pub ringing: Vec<AgentId>,
    pub offer_seq: u32,
    /// When the current offer stops ringing (router clock).
    pub offer_deadline: Time,
    /// Times the caller went back to the head of the line after a short talk.
    pub requeues: u32,
    pub agent: Option<AgentId>,
    pub answered_at: Time,
    /// The caller's data, shared by the events that carry it.
    pub data: std::sync::Arc<[(String, String)]>,
    /// The answered agent leg's PBX identity (channel and unique id, UUID).
    pub agent_leg: Vec<(String, String)>,
    /// Max wait passed while an offer was out: leave if the offer fails.
    pub expired: bool,
    /// Overflow rules whose time came while an offer rang (a ringing
    /// caller cannot move): checked when the offer ends unanswered.
    pub overflow_due: Vec<u16>,
    pub moves: u8,
}

/// A read-only view of a call for the CLI / API.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CallView {
    pub id: CallId,
    pub queue: String,
    pub number: String,
    pub priority: i32,
    pub phase: CallPhase,
    pub waited: Time,
    pub agent: Option<String>,
    pub callback: bool,
}

/// Hasher for maps keyed by small integers (call ids): one multiply,
/// instead of SipHash's rounds; ids are not attacker-chosen.
#[derive(Default, Clone, Copy)]
pub struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ *b as u64).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29);
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(n as u64)
    }
}

/// A map keyed by call id.
pub type CallMap<V> = std::collections::HashMap<CallId, V, std::hash::BuildHasherDefault<IdHasher>>;
