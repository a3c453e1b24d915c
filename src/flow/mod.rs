// SPDX-License-Identifier: GPL-2.0-or-later
//! The one call flow both PBXes run, PBX-neutral and without FFI.
//!
//! The queue application (wait with music, announcements, ring agent legs,
//! bridge, hang-ups, transfers, callback requests) is written once, in
//! [`queue`], as a state machine that drives a small trait of PBX
//! primitives ([`Primitives`]: answer, music, play, say, wait, ring, bridge,
//! variables) and talks to the router through [`RouterPort`]. Each adapter
//! implements the trait with its PBX's own calls and may run a primitive on
//! threads of its own (FreeSWITCH rings agents from module threads). The
//! adapters' applications are a few lines around [`queue::run`].
//!
//! Written once as well: option resolution ([`options`]), the agent
//! application ([`agent`]), the end of a talk reported exactly once
//! ([`talk`]), hang-up causes by name ([`cause`]), announcements
//! ([`announce`]), digits and numbers said in Vietnamese and Chinese with
//! Hotline's rendered words ([`say`]), the callback dial string ([`callback`]) and event fields
//! for the PBX event streams ([`events`]).
#![forbid(unsafe_code)]

pub mod agent;
pub mod announce;
pub mod callback;
pub mod cause;
pub mod data;
pub mod events;
pub mod ivr;
pub mod messages;
pub mod options;
pub mod pbx;
pub mod port;
pub mod queue;
pub mod say;
pub mod screenpop;
pub mod talk;
pub mod transfers;

pub use pbx::{Happening, LegPlayed, LegPrompt, Primitives, Ringing, Sound, Wait};
pub use port::RouterPort;
pub use queue::AppEnd;
pub use talk::TalkEnd;
