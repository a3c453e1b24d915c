// SPDX-License-Identifier: GPL-2.0-or-later
//! Call recording, PBX-neutral: the policy ([`config`]), file names
//! ([`path`]), the metadata rows and what a finished file holds
//! ([`file`]), and the sink that writes them ([`sink`]). The PBX's own
//! recorder writes the audio (Asterisk MixMonitor, FreeSWITCH
//! `record_session`), started by the queue flow when caller and agent are
//! bridged and stopped when the talk ends.

pub mod config;
pub mod file;
pub mod path;
pub mod retention;
pub mod search;
pub mod sink;

pub use config::{QueueRecording, RecordMode, RecordingConfig};
