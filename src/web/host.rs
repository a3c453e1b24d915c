// SPDX-License-Identifier: GPL-2.0-or-later
//! What the web port needs from the module: the views the CLI shows, and
//! agent commands. The adapter implements [`WebHost`] (usually by handing
//! each call to [`Service`]'s implementation); the server calls it from its
//! bounded blocking pool, never from a worker thread, because answering
//! means asking the router thread and waiting for its reply.

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::admin::{self, QUERY_TIMEOUT};
use crate::core::call::CallView;
use crate::core::queue::QueueView;
use crate::core::{AgentView, CallId, Input, StatsReport};
use crate::router::{Published, Query, Reply, RouterError};
use crate::service::ServiceCore;

/// An agent command from the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentCommand {
    /// `contact`: where to ring the agent this session, if not the
    /// configured contact.
    Login { contact: Option<String> },
    Logout,
    /// `reason`: a reason code (default "break").
    Break { reason: Option<String> },
    Ready,
}

impl AgentCommand {
    /// The verb, as in the URL and the CLI.
    pub fn action(&self) -> &'static str {
        match self {
            AgentCommand::Login { .. } => "login",
            AgentCommand::Logout => "logout",
            AgentCommand::Break { .. } => "break",
            AgentCommand::Ready => "ready",
        }
    }
}

/// Why a host call failed; each maps to one HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostError {
    /// No such agent (404).
    NotFound(String),
    /// The request cannot be carried out as asked (400).
    BadRequest(String),
    /// The router did not answer in time, is overloaded or stopped (503).
    Unavailable(String),
    /// Anything else (500).
    Failed(String),
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::NotFound(m) | HostError::BadRequest(m) | HostError::Unavailable(m) | HostError::Failed(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for HostError {}

impl From<RouterError> for HostError {
    fn from(e: RouterError) -> Self {
        HostError::Unavailable(e.to_string())
    }
}

/// The module as the web port sees it. Calls may block briefly (a router
/// query with a timeout) but must return in bounded time: stopping the
/// server waits for calls under way.
pub trait WebHost: Send + Sync + 'static {
    fn queues(&self) -> Result<Vec<QueueView>, HostError>;
    fn agents(&self) -> Result<Vec<AgentView>, HostError>;
    fn calls(&self) -> Result<Vec<CallView>, HostError>;
    fn stats(&self) -> Result<StatsReport, HostError>;
    /// Carry out a command for a configured agent (the server checked
    /// [`WebHost::has_agent`] and the caller's rights first).
    fn agent_command(&self, agent: &str, cmd: AgentCommand) -> Result<(), HostError>;
    fn has_agent(&self, name: &str) -> bool;
    /// The version of the snapshot [`WebHost::agents`] and
    /// [`WebHost::calls`] answer from right now, when they answer from one
    /// (then equal versions mean equal answers and the server may reuse a
    /// body); None: they are asked afresh each time.
    fn snapshot_version(&self) -> Option<u64> {
        None
    }
    /// A call as the router holds it right now (not from a snapshot: a
    /// call just answered is there).
    fn live_call(&self, _call: CallId) -> Result<Option<CallView>, HostError> {
        Ok(None)
    }
    /// A note on a live call, by `by` (the token's name).
    fn call_note(&self, call: CallId, _text: &str, _by: &str) -> Result<(), HostError> {
        Err(HostError::NotFound(format!("no live call {call}")))
    }
    /// Pause (true) or resume the recording of a live call.
    fn record_pause(&self, call: CallId, _pause: bool) -> Result<String, HostError> {
        Err(HostError::NotFound(format!("call {call} is not being recorded")))
    }
    /// Recordings matching a search (the store's).
    fn recordings(&self, _filter: &crate::store::RecordingFilter) -> Result<Vec<crate::store::RecordingRecord>, HostError> {
        Err(HostError::NotFound("no durable store".into()))
    }
    fn recording(&self, _id: u64) -> Result<Option<crate::store::RecordingRecord>, HostError> {
        Err(HostError::NotFound("no durable store".into()))
    }
    /// The webhook endpoints (`GET /webhooks`; admin tokens only).
    fn webhooks(&self) -> Result<Vec<crate::notify::webhook::EndpointView>, HostError> {
        Err(HostError::NotFound("no webhooks configured".into()))
    }
    /// Dead letters back into the outbox (`POST /webhooks/retry`), for one
    /// endpoint or all: how many.
    fn webhooks_retry(&self, _name: Option<&str>) -> Result<usize, HostError> {
        Err(HostError::NotFound("no webhooks configured".into()))
    }
    /// Drop dead letters (`POST /webhooks/purge`): how many.
    fn webhooks_purge(&self, _name: Option<&str>) -> Result<usize, HostError> {
        Err(HostError::NotFound("no webhooks configured".into()))
    }
}

/// Oldest published copy the API serves (ms); older, the router is asked.
const STALE_AFTER: crate::core::Time = 1000;

/// The router's published copy, unless this web port changed something
/// since it was built (read-your-writes: then the router is asked).
fn published(service: &ServiceCore) -> Option<Arc<Published>> {
    let p = service.router.published_full();
    // A router too busy to publish: ask it.
    let recent = service.router.now().saturating_sub(p.at) <= STALE_AFTER;
    let fresh = p.full && recent && p.at > service.web_wrote_at.load(Ordering::Acquire);
    fresh.then_some(p)
}

fn ask(service: &ServiceCore, q: Query) -> Result<Reply, HostError> {
    Ok(service.router.query(q, QUERY_TIMEOUT)?)
}

fn unexpected(r: Reply) -> HostError {
    HostError::Failed(format!("unexpected router reply {r:?}"))
}

/// The PBX-neutral implementation: the same router queries and inputs as
/// the operator commands in [`admin`].
impl WebHost for ServiceCore {
    fn queues(&self) -> Result<Vec<QueueView>, HostError> {
        if let Some(p) = published(self) {
            return Ok(p.queues.clone());
        }
        match ask(self, Query::Queues)? {
            Reply::Queues(q) => Ok(q),
            r => Err(unexpected(r)),
        }
    }

    fn agents(&self) -> Result<Vec<AgentView>, HostError> {
        if let Some(p) = published(self) {
            return Ok(p.agents.clone());
        }
        match ask(self, Query::Agents)? {
            Reply::Agents(a) => Ok(a),
            r => Err(unexpected(r)),
        }
    }

    fn calls(&self) -> Result<Vec<CallView>, HostError> {
        if let Some(p) = published(self) {
            return Ok(p.calls.clone());
        }
        match ask(self, Query::Calls)? {
            Reply::Calls(c) => Ok(c),
            r => Err(unexpected(r)),
        }
    }

    fn stats(&self) -> Result<StatsReport, HostError> {
        match ask(self, Query::Stats)? {
            Reply::Stats(s, _) => Ok(s),
            r => Err(unexpected(r)),
        }
    }

    fn agent_command(&self, agent: &str, cmd: AgentCommand) -> Result<(), HostError> {
        if !admin::Host::has_agent(self, agent) {
            return Err(HostError::NotFound(format!("no agent named {agent:?}")));
        }
        // A login's hot-desk contact, a break's reason (checked by
        // agent_input: a bad contact is a bad request).
        let arg = match &cmd {
            AgentCommand::Login { contact } => contact.as_deref(),
            AgentCommand::Break { reason } => reason.as_deref(),
            _ => None,
        };
        let input = admin::agent_input(cmd.action(), agent, arg).map_err(HostError::BadRequest)?;
        // Copies published before the router applies this are stale for
        // whoever asks next; the router clock is in ms, so +1 covers this ms.
        self.web_wrote_at.fetch_max(self.router.now() + 1, Ordering::AcqRel);
        Ok(self.router.send(input)?)
    }

    fn has_agent(&self, name: &str) -> bool {
        admin::Host::has_agent(self, name)
    }

    fn recordings(&self, filter: &crate::store::RecordingFilter) -> Result<Vec<crate::store::RecordingRecord>, HostError> {
        admin::Host::recordings(self, filter).map_err(HostError::Unavailable)
    }

    fn record_pause(&self, call: CallId, pause: bool) -> Result<String, HostError> {
        admin::Host::record_pause(self, call, pause).map_err(|e| {
            if e.contains("not being recorded") {
                HostError::NotFound(e)
            } else if e.contains("thread") {
                HostError::Unavailable(e)
            } else {
                HostError::BadRequest(e)
            }
        })
    }

    fn recording(&self, id: u64) -> Result<Option<crate::store::RecordingRecord>, HostError> {
        let store = self.store.as_ref().ok_or_else(|| HostError::NotFound("no durable store".into()))?;
        store.recording(id).map_err(|e| HostError::Failed(e.to_string()))
    }

    fn live_call(&self, call: CallId) -> Result<Option<CallView>, HostError> {
        match ask(self, Query::Calls)? {
            Reply::Calls(c) => Ok(c.into_iter().find(|c| c.id == call)),
            r => Err(unexpected(r)),
        }
    }

    fn call_note(&self, call: CallId, text: &str, by: &str) -> Result<(), HostError> {
        let text = crate::flow::transfers::clean_note(text).ok_or_else(|| HostError::BadRequest("a note needs some text".into()))?;
        Ok(self.router.send(Input::Note { call, text, by: by.to_string() })?)
    }

    fn snapshot_version(&self) -> Option<u64> {
        published(self).map(|p| p.version)
    }

    fn webhooks(&self) -> Result<Vec<crate::notify::webhook::EndpointView>, HostError> {
        Ok(self.webhooks.load_full().ok_or_else(|| HostError::NotFound("no webhooks configured".into()))?.show())
    }

    fn webhooks_retry(&self, name: Option<&str>) -> Result<usize, HostError> {
        let w = self.webhooks.load_full().ok_or_else(|| HostError::NotFound("no webhooks configured".into()))?;
        w.retry(name).map_err(HostError::NotFound)
    }

    fn webhooks_purge(&self, name: Option<&str>) -> Result<usize, HostError> {
        let w = self.webhooks.load_full().ok_or_else(|| HostError::NotFound("no webhooks configured".into()))?;
        w.purge(name).map_err(HostError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::Service;
    use crate::core::AgentState;

    #[test]
    fn the_service_answers_from_its_router() {
        let path = std::env::temp_dir().join(format!("hotline-web-host-{}.toml", std::process::id()));
        std::fs::write(&path, "[[queue]]\nname = \"q\"\n[[agent]]\nname = \"a\"\ncontact = \"Local/a@x\"\nqueues = [\"q\"]\n").unwrap();
        let service = Service::start(path.clone()).expect("service");
        let _ = std::fs::remove_file(&path);
        let host: &dyn WebHost = &*service;
        assert_eq!(host.queues().unwrap()[0].name, "q");
        assert!(host.calls().unwrap().is_empty());
        assert!(host.has_agent("a") && !host.has_agent("b"));
        host.agent_command("a", AgentCommand::Break { reason: Some("lunch".into()) }).unwrap();
        assert_eq!(host.agents().unwrap()[0].state, AgentState::Break("lunch".into()));
        host.agent_command("a", AgentCommand::Ready).unwrap();
        assert_eq!(host.agents().unwrap()[0].state, AgentState::Available);
        assert!(matches!(host.agent_command("b", AgentCommand::Logout), Err(HostError::NotFound(_))));
        // Hot desking: a contact given at login is rung from then on; one
        // that is not a single dial string is a bad request.
        let contact = AgentCommand::Login { contact: Some("PJSIP/9".into()) };
        host.agent_command("a", contact).unwrap();
        assert_eq!(host.agents().unwrap()[0].contact, "PJSIP/9");
        let bad = AgentCommand::Login { contact: Some("PJSIP/9,20".into()) };
        assert!(matches!(host.agent_command("a", bad), Err(HostError::BadRequest(m)) if m.contains("contact")));
        assert!(host.stats().unwrap().agents.iter().any(|a| a.name == "a"));
        let timeout: HostError = RouterError::Timeout.into();
        assert!(matches!(timeout, HostError::Unavailable(_)));
    }
}
