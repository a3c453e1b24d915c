// SPDX-License-Identifier: GPL-2.0-or-later
//! FreeSWITCH adapter: `mod_hotline.so` (feature `freeswitch`).
//!
//! FreeSWITCH loads `mod_hotline.so` from its mod dir (install or symlink
//! the cdylib `libhotline.so` under that name) and looks up the Rust static
//! `mod_hotline_module_interface` ([`module`]).
//!
//! One file per concern:
//! - [`sys`]: bindgen output for `include/hotline_freeswitch.h` (opaque
//!   handles, the module function table, the C shim
//!   `include/hotline_freeswitch.c`).
//! - [`module`]: the function table, `load` and `shutdown`.
//! - [`logging`]: routes the `log` facade to `switch_log_printf`, tagged
//!   with the call's UUID while an application runs.
//! - [`session`]: a borrowed `switch_core_session_t` with the few safe
//!   accessors the applications need.
//! - [`runtime`]: router, configuration, CUSTOM event sink, waker thread and
//!   offer registry while the module is loaded.
//! - [`waker`]: the thread that turns wake-ups (one queue of calls, no
//!   descriptor per call) into `CF_BREAK` on the waiting caller's channel
//!   (see its doc: how a caller waits without polling).
//! - [`offers`]: agent legs being rung, so that each leg's outcome is
//!   reported once, as soon as it is known.
//! - [`dialer`]: rings agents from threads of its own (offers and
//!   callbacks arrive on the router's global channel) and hands the
//!   answered leg to the caller's thread.
//! - [`callback`]: ACD callbacks (agent first, then the customer), with
//!   the internal application `hotline_callback`.
//! - [`queue_app`], [`agent_app`], [`api`]: `hotline_queue`,
//!   `hotline_agent` and the `hotline` API command.
//!
//! Every `extern "C"` entry point (and every thread of ours that works on
//! the service) goes through the one entry macro [`crate::entry!`]: the
//! panic guard plus a pass on [`runtime::GATE`], which `shutdown` closes;
//! session pointers never leave the callback that received them (other
//! threads find a session again by UUID).

#[cfg(feature = "asterisk")]
compile_error!(
    "features \"asterisk\" and \"freeswitch\" cannot be built together: build one at a time \
     (cargo build --release --features freeswitch)"
);

pub mod agent_app;
pub mod api;
pub mod asr;
pub mod callback;
pub mod devices;
pub mod dialer;
pub mod ivr_app;
pub mod logging;
pub mod module;
pub mod offers;
pub mod queue_app;
pub mod runtime;
pub mod screenpop_app;
pub mod session;
pub mod sys;
pub mod waker;
