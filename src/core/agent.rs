//! Agents: configuration joined with live state.

use std::fmt;
use std::sync::Arc;

use super::call::CallId;
use super::config::AgentConfig;
use super::index::ReadyKey;
use super::Time;

/// In JSON (web API): `{"state": "break", "detail": "lunch"}`, `{"state":
/// "on-call", "detail": 12}` (the call), `{"state": "available"}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", content = "detail", rename_all = "kebab-case")]
pub enum AgentState {
    LoggedOut,
    Available,
    /// On break / paused, with a reason code (`no-answer` when the router
    /// parked the agent after too many missed offers).
    Break(String),
    Ringing(CallId),
    OnCall(CallId),
    WrapUp { until: Time },
}

impl AgentState {
    pub fn name(&self) -> &'static str {
        match self {
            AgentState::LoggedOut => "logged-out",
            AgentState::Available => "available",
            AgentState::Break(_) => "break",
            AgentState::Ringing(_) => "ringing",
            AgentState::OnCall(_) => "on-call",
            AgentState::WrapUp { .. } => "wrap-up",
        }
    }

    pub fn is_logged_in(&self) -> bool {
        !matches!(self, AgentState::LoggedOut)
    }
}

impl fmt::Display for AgentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgentState::Break(r) => write!(f, "break ({r})"),
            AgentState::Ringing(c) => write!(f, "ringing (call {c})"),
            AgentState::OnCall(c) => write!(f, "on-call (call {c})"),
            s => f.write_str(s.name()),
        }
    }
}

/// Membership of an agent in one queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    pub queue: u32,
    pub tier: u8,
    pub penalty: u32,
    /// Order among the queue's members (config order, then run-time
    /// members in the order they were added).
    pub position: u32,
    /// Added at run time (not in the configuration): kept across reloads.
    pub added: bool,
    /// Removed while the agent was ringing or talking: it leaves the queue
    /// when that is over.
    pub leaving: bool,
}

#[derive(Debug, Clone)]
pub struct Agent {
    pub name: Arc<str>,
    /// The dial string offers ring: the hot-desk contact while there is
    /// one, else the configured contact.
    pub contact: Arc<str>,
    /// Hot desking: the contact given at login, until logout.
    pub hot_desk: Option<Arc<str>>,
    /// The device whose state marks the agent busy: the configured one, or
    /// the hot-desk contact's.
    pub device: String,
    /// Configuration (cold: behind a pointer so the hot fields stay close).
    pub cfg: Arc<AgentConfig>,
    pub members: Vec<Member>,
    pub state: AgentState,
    pub since: Time,
    /// When the agent last became free (call end or login): longest-idle.
    pub idle_since: Time,
    pub calls: u64,
    pub talk_ms: u64,
    /// Consecutive missed offers.
    pub misses: u32,
    pub device_busy: bool,
    /// Held back after answering busy (`busy_backoff_seconds`), until this time.
    pub held_until: Option<Time>,
    /// Removed from the configuration; leaves once its call is over.
    pub retired: bool,
    /// State to take when the current offer or call is over (logout or
    /// break asked for while busy).
    pub after_call: Option<AgentState>,
    /// Keys this agent is filed under in ready indexes: (queue, skill
    /// index or None for the queue's main index, key).
    pub filed: Vec<(u32, Option<Arc<str>>, ReadyKey)>,
}

impl Agent {
    pub fn member(&self, queue: u32) -> Option<&Member> {
        self.members.iter().find(|m| m.queue == queue)
    }

    /// Free to be offered a call now.
    pub fn is_ready(&self) -> bool {
        self.state == AgentState::Available && !self.device_busy && !self.retired && self.held_until.is_none()
    }

    pub fn proficiency(&self, skill: &str) -> u8 {
        self.cfg.proficiency(skill)
    }

    pub fn meets(&self, needs: &[(Arc<str>, u8)]) -> bool {
        needs.iter().all(|(s, p)| self.proficiency(s) >= *p)
    }

    /// Ringing or talking: commands wait until the call is over.
    pub fn is_busy(&self) -> bool {
        matches!(self.state, AgentState::Ringing(_) | AgentState::OnCall(_))
    }
}

/// Check a hot-desk contact given at login: one dial string `TECH/resource`
/// (`PJSIP/2002`, `Local/100@agents`, `sofia/internal/1000@host`). It goes
/// into the PBX's dial command, so what would make it several devices or
/// options there (`,` `&` `|` `^`, whitespace) is refused.
pub fn check_contact(contact: &str) -> Result<(), String> {
    let (tech, resource) = contact.split_once('/').unwrap_or((contact, ""));
    let bad = contact.chars().find(|c| matches!(c, ',' | '&' | '|' | '^') || c.is_whitespace() || c.is_control());
    if contact.is_empty() {
        Err("empty contact (want TECH/resource, e.g. PJSIP/2002)".into())
    } else if let Some(c) = bad {
        Err(format!("contact {contact:?} has {c:?}: one dial string TECH/resource, no options or lists"))
    } else if tech.is_empty() || resource.is_empty() || !tech.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        Err(format!("contact {contact:?} is not TECH/resource (e.g. PJSIP/2002)"))
    } else {
        Ok(())
    }
}

/// A read-only view of an agent for the CLI / API.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AgentView {
    pub name: String,
    pub contact: String,
    #[serde(flatten)]
    pub state: AgentState,
    pub since: Time,
    pub device_busy: bool,
    pub calls: u64,
    pub talk_ms: u64,
    pub misses: u32,
    pub queues: Vec<String>,
}
