// SPDX-License-Identifier: GPL-2.0-or-later
//! Host-agnostic helpers for the C boundary, shared by every PBX adapter
//! (Asterisk now, FreeSWITCH later). Nothing here knows about a PBX.
//!
//! - [`entry`]: the one entry macro, [`crate::entry!`], that every
//!   `extern "C"` entry point runs its body through: the panic guard
//!   ([`guard`]: a Rust panic never unwinds into C) plus a counted pass on
//!   the running service ([`gate`]: unload refuses while one is held).
//! - [`log`]: a `log::Log` implementation that forwards to a C logging
//!   function the host installs at load time.
//! - [`cstr`]: C strings in and out without panics (NULL, invalid UTF-8 and
//!   interior NULs are all handled).

pub mod cstr;
pub mod entry;
pub mod gate;
pub mod guard;
pub mod log;
pub mod vars;
