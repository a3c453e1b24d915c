//! The routing core: queues, agents, callers, strategies, rules over time,
//! statistics and configuration. Sans-IO: [`Engine::handle`] takes an input
//! and the current time, and leaves [`Action`]s (what a PBX must do) and
//! [`Event`]s (what happened, for sinks) to be drained.
#![forbid(unsafe_code)]

pub mod agent;
pub mod agent_announce;
pub mod call;
pub mod config;
pub mod engine;
pub mod erlang;
pub mod event;
pub mod index;
pub mod input;
pub mod popup;
pub mod preference;
pub mod queue;
pub mod stats;
pub mod strategy;
pub mod timer;

pub use agent::{AgentState, AgentView};
pub use call::{CallId, CallView, CallerInfo};
pub use config::{Config, ConfigError};
pub use engine::Engine;
pub use event::{Event, EventKind};
pub use input::{Action, ExitReason, Input, OfferOutcome, OfferTarget, EndedBy};
pub use stats::{Stats, StatsReport};

/// Milliseconds on the engine's clock. The router uses a monotonic clock
/// started at module load; tests and the simulation use a virtual one.
pub type Time = u64;

/// Seconds (as written in configuration) to milliseconds.
pub fn secs(s: f64) -> Time {
    if s <= 0.0 || !s.is_finite() {
        0
    } else {
        (s * 1000.0).round() as Time
    }
}
