//! Hotline: a call-center module (ACD queues, agents, routing strategies,
//! statistics) for Asterisk and FreeSWITCH.
//!
//! The tree reads like the architecture:
//! - [`core`]: the PBX-neutral routing engine. Safe Rust, no FFI, no threads,
//!   no clock of its own: every input carries the time, so tests and the
//!   simulation run on a virtual clock.
//! - [`router`]: the background thread that owns an engine, fed by bounded
//!   channels from PBX threads and answering each call on its own channel,
//!   then waking the call's thread through the adapter's `Wake` (the PBX's
//!   own means: no descriptor per call).
//! - [`admin`]: the operator commands (`hotline show queues`...) shared by
//!   both PBXes.
//! - [`store`]: the durable store (SQLite, one writer thread): what must
//!   outlive a restart, and the event log later sinks build on.
//! - [`messages`]: voice messages left in the IVR (list, files, the sink
//!   that files them and sends the e-mail).
//! - [`web`]: the embedded web port (JSON API, server-sent events), on a
//!   small tokio runtime of its own; off unless `[http] listen` is set.
//! - [`notify`]: e-mail notice of voicemail over SMTP, sent by a thread of
//!   its own with retries (`[mail]`).
//! - [`sim`]: a discrete-event simulation of a call center on a virtual
//!   clock, used by the `hotline-sim` command and by the long-run tests.
//! - `ffi`, `asterisk`, `freeswitch`: the host boundary and the adapters,
//!   built only with the matching cargo feature.

pub mod admin;
pub mod app_args;
pub mod core;
pub mod flow;
pub mod ivr;
pub mod messages;
pub mod notify;
pub mod recording;
pub mod router;
pub mod service;
pub mod sim;
pub mod speech;
pub mod store;
pub mod web;
pub mod ffi;
#[cfg(feature = "asterisk")]
pub mod asterisk;
#[cfg(feature = "freeswitch")] pub mod freeswitch;
