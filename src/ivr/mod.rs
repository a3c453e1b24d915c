// SPDX-License-Identifier: GPL-2.0-or-later
//! The IVR engine (互動式語音應答): menus, digit collection, routing on the
//! call's data, business hours, PBX-neutral and without FFI.
//!
//! An [`IvrSession`] is a sans-IO state machine: the call flow
//! ([`crate::flow::ivr`]) asks it for the next [`Command`] (play these
//! prompts and collect digits, set the language, finish by joining a queue,
//! transferring or hanging up), performs it with the PBX's primitives and
//! feeds back what happened ([`Input`]). Wall-clock time comes in with every
//! step, so hours and holidays are tested on a virtual clock.
#![forbid(unsafe_code)]

pub mod config;
pub mod engine;
pub mod hours;
pub mod tts;
pub mod validate;

pub use config::{IvrConfig, MenuConfig};
pub use engine::IvrSession;

use crate::core::Time;

/// One prompt, as configured. Text prompts reach the PBX as the file they
/// were rendered to ([`Prompt::File`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    /// A sound file, by the PBX's own name (no extension: `hello-world`,
    /// `ivr/ivr-welcome`, or an absolute path).
    File(String),
    /// Said digit by digit (`say:digits:` in config).
    Digits(String),
    /// Said as a number (`say:number:`).
    Number(i64),
    /// Text to speak (`text:`), rendered once by espeak-ng.
    Text(String),
}

/// How digits are collected after (and during) the prompts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collect {
    pub min_digits: usize,
    pub max_digits: usize,
    /// Wait for the first digit after the prompts end (ms).
    pub timeout: Time,
    /// Wait between digits (ms).
    pub inter_digit: Time,
    /// Keys that end the input (not part of the value), e.g. "#".
    pub terminators: String,
    /// A key interrupts the prompts (and is the first digit).
    pub barge_in: bool,
    /// Input ends as soon as the digits equal one of these (keys no other
    /// key extends), so a valid key never waits for the inter-digit timeout.
    pub complete: Vec<String>,
}

/// What the PBX should do next for this caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Play `prompts` in order; with `collect`, gather digits and answer
    /// [`Input::Digits`], else [`Input::Played`].
    Play { prompts: Vec<Prompt>, collect: Option<Collect> },
    /// Set the channel's language (prompt directories follow it); answer
    /// [`Input::Done`].
    SetLanguage(String),
    /// The IVR is over for this caller.
    Finish(Exit),
}

/// How a caller leaves the IVR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// Join a Hotline queue (the call's data goes along).
    Queue { queue: String, priority: i32, skills: Vec<(String, u8)> },
    /// Continue in the dialplan at `target` (Asterisk `context,exten,priority`
    /// or `exten`; FreeSWITCH `exten [dialplan [context]]`).
    Transfer(String),
    /// Hang up (after any goodbye prompt was played).
    Hangup,
    /// Return to the dialplan after the application (`HOTLINE_IVR_RESULT`).
    Return,
}

/// What happened to the last command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The prompts of a `Play` without `collect` were played.
    Played,
    /// The digits collected, terminator excluded; empty: nothing pressed
    /// before the timeout.
    Digits(String),
    /// A `SetLanguage` was done.
    Done,
}

/// What the engine may ask about the world outside the call (routing
/// conditions on queues), answered by the router's published snapshot.
pub trait Facts {
    /// Callers waiting in `queue` (None: no such queue).
    fn waiting(&self, queue: &str) -> Option<usize>;
    /// Agents idle (ready, not on a call) in `queue`.
    fn idle_agents(&self, queue: &str) -> Option<usize>;
}
