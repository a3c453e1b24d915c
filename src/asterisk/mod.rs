// SPDX-License-Identifier: GPL-2.0-or-later
//! Asterisk adapter: `app_hotline.so` (feature `asterisk`).
//!
//! One file per concern:
//! - [`sys`]: bindgen output for `include/hotline_asterisk.h` (Asterisk API
//!   subset + the C shim `include/hotline_asterisk.c`).
//! - [`module`]: `hotline_ast_load/unload/reload`, called by the shim's
//!   module descriptor.
//! - [`logging`]: routes the `log` facade to `ast_log`/`ast_verb`.
//! - [`apps`]: dialplan applications: the [`apps::DialplanApp`] trait and the
//!   one generic trampoline that runs them through the entry macro.
//! - [`channel`]: a borrowed `ast_channel` with the few safe accessors the
//!   applications need.
//! - [`cli`]: the `hotline ...` CLI commands.
//! - [`manager`]: the Hotline AMI actions (`HotlineQueueAdd`, ...).
//! - [`devstate`]: device state change subscription.
//! - [`runtime`]: router thread, configuration and AMI event sink while
//!   the module is loaded.
//! - [`queue_app`], [`agent_app`], [`test_app`]: the application bodies.
//! - [`callback`]: ACD callbacks (agent first, then the customer).
//!
//! Every `extern "C"` entry point (and every thread of ours that works on
//! the service) goes through the one entry macro [`crate::entry!`]: the
//! panic guard plus a pass on [`runtime::GATE`], which unload closes.

pub mod agent_app;
pub mod ivr_app;
pub mod apps;
pub mod callback;
pub mod channel;
pub mod cli;
pub mod devstate;
pub mod logging;
pub mod manager;
pub mod module;
pub mod queue_app;
pub mod runtime;
pub mod screenpop_app;
pub mod speech;
pub mod sys;
pub mod test_app;
