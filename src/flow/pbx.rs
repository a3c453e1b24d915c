// SPDX-License-Identifier: GPL-2.0-or-later
//! The primitives a PBX gives the call flow, for the caller's channel.
//!
//! Every method runs on the caller's own thread (the one running the
//! queue application), so an adapter may keep its channel pointer for the
//! duration of the application and never let it leave. A primitive is a
//! command: [`Primitives::ring`] may ring on threads of the adapter's own
//! and report those legs' outcomes to the router itself.

use std::sync::Arc;

use crossbeam_channel::Receiver;

use crate::core::input::AgentId;
use crate::core::{Action, CallId, CallerInfo, EndedBy, OfferOutcome, OfferTarget, Time};
use crate::router::{CallHandle, Wake};

use super::TalkEnd;

/// The announcement prompts, named per PBX by [`Primitives::sound`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sound {
    YouAreNext,
    ThereAre,
    CallsWaiting,
    HoldTime,
    Minutes,
}

/// What an answered agent hears before the bridge
/// ([`Primitives::play_to_leg`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegPrompt {
    /// A prompt file.
    File(String),
    /// `file` if the PBX has it, else `spell` spelled (the queue's name).
    FileOrSpell { file: String, spell: String },
    /// Said digit by digit.
    Digits(String),
    /// Spelled letter by letter.
    Spell(String),
}

/// How playing to an agent leg ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegPlayed {
    Done,
    /// The agent hung up meanwhile.
    LegGone,
    /// The caller hung up meanwhile.
    CallerGone,
}

/// What the flow is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// In line, with music: a router decision, a hang-up, a digit, or an
    /// answered leg handed over by a ringing thread.
    Holding,
    /// Legs the adapter rings itself are ringing until `until` (flow clock).
    Ringing { until: Time },
}

/// What woke the flow.
#[derive(Debug)]
pub enum Happening<L> {
    /// The router may have queued decisions (or nothing happened at all).
    Woken,
    /// The caller hung up or was taken away.
    CallerGone,
    Dtmf(char),
    /// An agent leg of offer `seq` answered; it is the flow's to bridge or
    /// hang up.
    Answered { leg: L, agent: OfferTarget, seq: u32 },
    /// A leg the adapter rings inline ended without answering.
    LegFailed { agent: AgentId, outcome: OfferOutcome },
    /// The wait's deadline passed.
    Timeout,
}

/// How an offer is being rung.
#[derive(Debug, PartialEq, Eq)]
pub enum Ringing {
    /// On the adapter's own threads, which report every leg themselves;
    /// an answered leg comes back as [`Happening::Answered`].
    Detached,
    /// Inline: these targets could not even be dialled; the others ring
    /// until the flow's deadline, reported through [`Happening`]s.
    Inline { failed: Vec<(AgentId, OfferOutcome)>, ringing: Vec<AgentId> },
}

pub trait Primitives {
    /// An answered agent leg.
    type Leg;

    /// The flow's clock in milliseconds (monotonic).
    fn now(&self) -> Time;
    /// "HotlineQueue on PJSIP/1001-0001": who is speaking, for log lines.
    fn context(&self) -> String;

    /// A Hotline channel variable's name on this PBX (`hotline_result` on
    /// FreeSWITCH, `HOTLINE_RESULT` on Asterisk).
    fn hotline_var(&self, suffix: &str) -> String {
        format!("hotline_{suffix}")
    }
    fn get_var(&self, name: &str) -> Option<String>;
    fn set_var(&mut self, name: &str, value: Option<&str>);
    /// The caller's data variables (`hotline_data_<key>`) as (key, value).
    fn data_vars(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    fn caller_number(&self) -> String;
    fn caller_name(&self) -> String {
        String::new()
    }
    fn language(&self) -> String {
        String::new()
    }
    /// The caller leg's PBX identity for events (channel and unique id, UUID).
    fn identity(&self) -> Vec<(String, String)>;

    fn answer(&mut self) -> bool;
    /// Up and not hung up.
    fn caller_up(&self) -> bool;
    fn music_on(&mut self, class: &str);
    fn music_off(&mut self);
    /// The file of a prompt, if this PBX has one.
    fn sound(&self, s: Sound) -> Option<&'static str>;
    fn play_file(&mut self, file: &str);
    fn say_number(&mut self, n: u64);

    /// About to join the router as `call` (before it can decide anything).
    fn entering(&mut self, _call: CallId, _caller: &CallerInfo, _queue: &str) {}
    /// How the router wakes this caller's [`Primitives::wait`] after
    /// queueing a decision (asked once, as the call joins, after
    /// [`Primitives::entering`]). No descriptor per call: the PBX's own
    /// means, finding the call again by name or UUID.
    fn waker(&mut self) -> Arc<dyn Wake>;
    /// Joined: decisions will arrive on `handle`.
    fn entered(&mut self, _handle: &CallHandle) {}
    /// The caller now waits in `queue`.
    fn moved(&mut self, _queue: &str) {}
    /// The caller leaves the queue (hang-up, exit): stop anything still
    /// ringing for it before the router hears of it.
    fn release(&mut self) {}

    /// Sleep until something happens. Must return [`Happening::Woken`]
    /// at once if `actions` is not empty when the wait starts (after the
    /// adapter reset its wake-up, e.g. its [`crate::router::Latch`]), so no
    /// decision is missed.
    fn wait(&mut self, mode: Wait, actions: &Receiver<Action>) -> Happening<Self::Leg>;
    /// Ring `targets` of offer `seq` at once until `deadline` (the flow's
    /// clock, [`Primitives::now`]); `vars` go on every agent leg (the
    /// call's data, by the PBX's variable names). Called again with the
    /// `seq` already ringing, it adds legs to that offer (escalation).
    fn ring(&mut self, call: CallId, seq: u32, queue: &str, targets: &[OfferTarget], deadline: Time, vars: &[(String, String)]) -> Ringing;
    /// Hang up every leg still ringing inline (nothing is reported).
    fn stop_ringing(&mut self);
    /// Play `prompt` to an answered agent leg, not yet claimed, while the
    /// caller keeps hearing its music; returns when it is over.
    fn play_to_leg(&mut self, leg: &mut Self::Leg, prompt: &LegPrompt) -> LegPlayed;
    /// Take an answered leg for the bridge: false if it is already gone.
    fn claim(&mut self, leg: &mut Self::Leg) -> bool;
    /// The router confirmed the answer of a claimed leg: the talk is on.
    /// `talk` is its end, shared with anything of the adapter's that sees
    /// the agent hang up first.
    fn connected(&mut self, _leg: &Self::Leg, _talk: &Arc<TalkEnd>) {}
    /// Hang up an answered (maybe claimed) leg that will not be bridged:
    /// a stale answer, a second answer, or the caller left meanwhile.
    fn drop_leg(&mut self, leg: Self::Leg);
    /// A claimed leg's PBX identity for the `CallAnswered` event
    /// (`channel` and `uniqueid` on Asterisk, `uuid` on FreeSWITCH).
    fn leg_identity(&self, _leg: &Self::Leg) -> Vec<(String, String)> {
        Vec::new()
    }
    /// Set `vars` on a claimed leg that was rung elsewhere (FreeSWITCH's
    /// ringing threads); an adapter that set them when dialling does nothing.
    fn set_leg_vars(&mut self, _leg: &mut Self::Leg, _vars: &[(String, String)]) {}
    /// Bridge caller and agent until the talk ends; who ended it.
    fn bridge(&mut self, leg: Self::Leg) -> EndedBy;
    /// The caller was transferred away (not hung up).
    fn transferred(&self) -> bool {
        false
    }
    /// Start the PBX's recorder on the caller's channel, writing `file`
    /// (its directories are made if missing) while caller and agent are
    /// bridged; `stereo`: caller on the left, agent on the right. Must not
    /// block on the disk.
    fn record_start(&mut self, _file: &str, _stereo: bool) -> Result<(), String> {
        Err("this PBX adapter does not record".into())
    }
    /// Stop the recorder started on `file` (nothing if the channel is gone).
    fn record_stop(&mut self, _file: &str) {}
    /// Where the caller is in the dialplan now (`exten@context`), e.g.
    /// where a transfer sent it.
    fn location(&self) -> String {
        String::new()
    }
}
