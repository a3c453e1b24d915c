// SPDX-License-Identifier: GPL-2.0-or-later
//! The queue application, once for both PBXes: `HotlineQueue(queue[,...])`
//! on Asterisk, `hotline_queue` on FreeSWITCH.
//!
//! [`run`] resolves the options, answers, puts the caller into the router
//! and then loops: take the router's decisions (ring these agents,
//! announce, moved, leave), then [`Primitives::wait`] for the next thing
//! that happens. Ringing is a command: an adapter that rings inline
//! (Asterisk, on the caller's thread) reports each leg back through the
//! wait, and the flow reports it to the router at once, so a failed agent is
//! replaced in microseconds; an adapter that rings on threads of its own
//! (FreeSWITCH) reports the legs itself and hands the answered one over.
//! The answered leg is claimed, reported, bridged, and the talk's end is
//! reported exactly once ([`TalkEnd`]).
//!
//! Variables set (names per PBX): `result` (ANSWERED, ABANDONED,
//! TRANSFERRED, TIMEOUT, LEAVEEMPTY, JOINEMPTY, FULL, UNKNOWNQUEUE,
//! CALLBACK, DUPLICATE, ERROR), `agent`, `callid`, `queue`.

use std::collections::VecDeque;
use std::sync::Arc;

use crossbeam_channel::{Receiver, TryRecvError};

use crate::core::input::AgentId;
use crate::core::{Action, CallId, CallerInfo, Config, EndedBy, Input, OfferOutcome, OfferTarget, Time};

use super::data::CallData;
use super::ivr::TextPrompts;
use super::options::{resolve, QueueRequest};
use super::pbx::{Happening, LegPlayed, Primitives, Ringing, Wait};
use crate::core::agent_announce::AgentAnnounce;
use super::talk::{TalkEnd, TalkGuard};
use super::transfers::{self, Hop};
use super::{announce, RouterPort};

/// How the application ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppEnd {
    /// The value of the result variable.
    pub result: &'static str,
    /// The caller is gone (the PBX should not go on in the dialplan).
    pub caller_gone: bool,
    /// Who ended the talk, if there was one.
    pub ended_by: Option<EndedBy>,
}

impl AppEnd {
    fn leave(result: &'static str) -> AppEnd {
        AppEnd { result, caller_gone: false, ended_by: None }
    }
}

/// Run the queue application for the caller behind `pbx`; `texts` has the
/// rendered say words for announcements in Vietnamese and Chinese.
pub fn run<P: Primitives>(pbx: &mut P, router: &dyn RouterPort, cfg: &Config, texts: &dyn TextPrompts, args: &str) -> AppEnd {
    let end = match enter(pbx, router, cfg, texts, args) {
        Ok(mut flow) => flow.run(pbx),
        Err(end) => end,
    };
    let result = pbx.hotline_var("result");
    pbx.set_var(&result, Some(end.result));
    end
}

fn enter<'r, 'c, P: Primitives>(
    pbx: &mut P,
    router: &'r dyn RouterPort,
    cfg: &'c Config,
    texts: &'c dyn TextPrompts,
    args: &str,
) -> Result<QueueFlow<'r, 'c>, AppEnd> {
    let fail = |pbx: &P, msg: String| {
        log::error!("{}({args}): {msg}", pbx.context());
        AppEnd::leave("ERROR")
    };
    let req: QueueRequest =
        resolve(args, |s| pbx.get_var(&pbx.hotline_var(s)), |s| pbx.hotline_var(s), pbx.data_vars()).map_err(|e| fail(pbx, e))?;
    let queue_cfg = cfg.queue(&req.queue);
    if req.callback_digit.is_some() && queue_cfg.is_some_and(|q| q.callback_contact.is_none()) {
        return Err(fail(pbx, format!("queue {} has no callback_contact; callbacks are off", req.queue)));
    }
    let music = queue_cfg.map(|q| q.music_class.clone()).unwrap_or_else(|| "default".into());
    // Answer first: the caller hears music while waiting.
    if !pbx.answer() {
        return Err(AppEnd { result: "ABANDONED", caller_gone: true, ended_by: None });
    }
    let number = pbx.caller_number();
    // The data stays on the caller's channel (it follows a transfer) and
    // goes on every agent leg.
    let mut leg_vars: Vec<(String, String)> =
        req.data.entries().iter().map(|(k, v)| (pbx.hotline_var(&format!("data_{k}")), v.clone())).collect();
    for (name, value) in &leg_vars {
        pbx.set_var(name, Some(value));
    }
    let history = transfer_history(pbx, &req.queue);
    // The next agent's leg gets the history too (its phone or CRM reads it).
    leg_vars.extend(history.iter().map(|(_, v)| (pbx.hotline_var(transfers::KEY), v.clone())));
    let mut data = pbx.identity();
    data.extend(history);
    data.extend(req.data.fields());
    let caller = CallerInfo { number: number.clone(), name: pbx.caller_name(), priority: req.priority, language: pbx.language(), skills: req.skills, data };
    let id = router.new_call_id();
    pbx.entering(id, &caller, &req.queue);
    let wake = pbx.waker();
    let handle = router.enter(id, &req.queue, caller, wake).map_err(|e| fail(pbx, e.to_string()))?;
    pbx.entered(&handle);
    for (var, value) in [("callid", Some(id.to_string())), ("queue", Some(req.queue.clone())), ("agent", None)] {
        let name = pbx.hotline_var(var);
        pbx.set_var(&name, value.as_deref());
    }
    Ok(QueueFlow {
        id,
        router,
        actions: handle.actions,
        queue: req.queue,
        music,
        callback_digit: req.callback_digit,
        message_digit: queue_cfg.and_then(|q| q.message_key),
        number,
        ringing: None,
        leg_vars,
        cfg,
        texts,
        agent_announce: req.agent_announce,
        data: req.data,
        deferred: VecDeque::new(),
        requeue_queues: cfg.queues.iter().filter(|q| q.requeue_short.is_some()).map(|q| q.name.clone()).collect(),
        notes: Vec::new(),
    })
}

/// The caller's transfer history ([`transfers`]), if an agent transferred
/// it here: the last hop arrived in `queue` (with a note the dialplan set
/// in `hotline_transfer_note` since), written back to the channel, and as
/// caller data so every event and webhook of this call carries it.
fn transfer_history<P: Primitives>(pbx: &mut P, queue: &str) -> Vec<(String, String)> {
    let (hops_var, note_var) = (pbx.hotline_var(transfers::KEY), pbx.hotline_var("transfer_note"));
    let mut hops = transfers::parse(pbx.get_var(&hops_var).as_deref());
    if hops.is_empty() {
        return Vec::new();
    }
    let mut changed = transfers::arrived(&mut hops, queue);
    if let Some(note) = take_note_var(pbx, &note_var) {
        if let Some(last) = hops.last_mut() {
            last.notes.push(note);
            changed = true;
        }
    }
    let text = transfers::render(&hops);
    if changed {
        pbx.set_var(&hops_var, Some(&text));
    }
    vec![(transfers::KEY.into(), text)]
}

/// The agent's note in `hotline_transfer_note`, taken once.
fn take_note_var<P: Primitives>(pbx: &mut P, var: &str) -> Option<String> {
    let note = pbx.get_var(var).and_then(|n| transfers::clean_note(&n))?;
    pbx.set_var(var, None);
    Some(note)
}

/// A recording under way (started at `started`, the flow's clock).
struct Recording {
    id: u64,
    file: String,
    started: Time,
}

/// Legs the adapter rings inline, still pending.
struct Inline {
    seq: u32,
    agents: Vec<AgentId>,
    until: Time,
}

/// The router's word on one of the answers the flow reported (an index
/// into the answers waiting for it).
enum Verdict {
    Connect(usize),
    Drop(usize),
    Leave(AppEnd),
}

/// An answered, claimed leg reported to the router: (leg, agent, offer).
type Pending<L> = (L, OfferTarget, u32);

struct QueueFlow<'r, 'c> {
    id: CallId,
    router: &'r dyn RouterPort,
    actions: Receiver<Action>,
    /// Decisions taken off the channel while the flow waited for
    /// something else (ringing inline, an answer's verdict): applied next.
    deferred: VecDeque<Action>,
    queue: String,
    music: String,
    callback_digit: Option<char>,
    /// The queue's `message_key`: leave a message, keep the place (a callback).
    message_digit: Option<char>,
    number: String,
    ringing: Option<Inline>,
    /// The call's data as the PBX's variables, for agent legs.
    leg_vars: Vec<(String, String)>,
    cfg: &'c Config,
    /// Rendered say words (announcements in Vietnamese and Chinese).
    texts: &'c dyn TextPrompts,
    /// The call's own agent announcement (over the queue's).
    agent_announce: Option<Option<AgentAnnounce>>,
    data: CallData,
    /// Queues that requeue short talks (`requeue_short_seconds`): after a
    /// talk the agent ended there, the flow waits for the router's verdict.
    requeue_queues: Vec<String>,
    /// Notes taken on the call (the API's, through [`Action::Note`]): they
    /// go with the transfer hop if the agent transfers the caller.
    notes: Vec<String>,
}

impl QueueFlow<'_, '_> {
    fn run<P: Primitives>(&mut self, pbx: &mut P) -> AppEnd {
        pbx.music_on(&self.music);
        let end = loop {
            if let Some(end) = self.step(pbx) {
                break end;
            }
        };
        pbx.music_off();
        end
    }

    /// The next decision: one put aside earlier, else one from the channel.
    fn next_action(&mut self, deferred_too: bool) -> Result<Option<Action>, ()> {
        if deferred_too {
            if let Some(a) = self.deferred.pop_front() {
                return Ok(Some(a));
            }
        }
        loop {
            match self.actions.try_recv() {
                Ok(Action::Note { text, .. }) => self.keep_note(&text),
                Ok(a) => return Ok(Some(a)),
                Err(TryRecvError::Empty) => return Ok(None),
                Err(TryRecvError::Disconnected) => return Err(()),
            }
        }
    }

    /// Start recording the talk about to be bridged, if the queue records
    /// always. A recorder that refuses costs the call nothing: it is
    /// logged and published, and the talk goes on unrecorded.
    fn start_recording<P: Primitives>(&mut self, pbx: &mut P, agent: &str) -> Option<Recording> {
        let policy = &self.cfg.queues.iter().find(|q| q.name == self.queue)?.recording;
        if policy.mode != crate::recording::RecordMode::Always {
            return None;
        }
        let id = self.router.new_call_id().0;
        let Some(root) = self.cfg.recording.root.as_deref() else {
            log::error!("{}: call {}: no recording root; not recorded", pbx.context(), self.id);
            return None;
        };
        let names = crate::recording::path::Names { id, call: self.id.0, queue: &self.queue, agent, number: &self.number, at: jiff::Timestamp::now() };
        let file = crate::recording::path::render(root, &self.cfg.recording.file, &policy.format, &names).display().to_string();
        if let Err(reason) = pbx.record_start(&file, policy.stereo) {
            log::error!("{}: call {}: recording {file}: {reason}; the call goes on unrecorded", pbx.context(), self.id);
            self.router.report(Input::Publish(crate::core::EventKind::RecordingFailed { id, call: self.id, file, reason }));
            return None;
        }
        let mut data = self.data.fields().collect::<Vec<_>>();
        data.retain(|(k, _)| k != transfers::KEY);
        self.router.report(Input::Publish(crate::core::EventKind::RecordingStarted {
            id,
            call: self.id,
            queue: self.queue.clone(),
            agent: agent.to_string(),
            number: self.number.clone(),
            name: pbx.caller_name(),
            file: file.clone(),
            format: policy.format.clone(),
            stereo: policy.stereo,
            data,
            identity: pbx.identity(),
        }));
        Some(Recording { id, file, started: pbx.now() })
    }

    fn stop_recording<P: Primitives>(&mut self, pbx: &mut P, r: Recording) {
        pbx.record_stop(&r.file);
        let ms = pbx.now().saturating_sub(r.started);
        self.router.report(Input::Publish(crate::core::EventKind::RecordingStopped { id: r.id, call: self.id, ms, paused: Vec::new() }));
    }

    fn keep_note(&mut self, text: &str) {
        if let Some(n) = transfers::clean_note(text) {
            self.notes.push(n);
        }
    }

    /// The agent transferred the caller away: append the hop to the
    /// channel's history (with the notes so far) and publish it, before
    /// the talk's end is reported, so the `call.transferred` webhook
    /// carries it.
    fn record_transfer<P: Primitives>(&mut self, pbx: &mut P, agent: &str) {
        // Notes that came during the talk are still in the channel.
        while let Ok(a) = self.actions.try_recv() {
            match a {
                Action::Note { text, .. } => self.keep_note(&text),
                other => self.deferred.push_back(other),
            }
        }
        let (hops_var, note_var) = (pbx.hotline_var(transfers::KEY), pbx.hotline_var("transfer_note"));
        let mut notes = std::mem::take(&mut self.notes);
        notes.extend(take_note_var(pbx, &note_var));
        let mut hops = transfers::parse(pbx.get_var(&hops_var).as_deref());
        let to = pbx.location();
        let hop = Hop {
            at: transfers::now_rfc3339(),
            from_call: self.id.to_string(),
            from_queue: self.queue.clone(),
            from_agent: Some(agent.to_string()),
            to: to.clone(),
            to_queue: None,
            notes,
        };
        transfers::push(&mut hops, hop);
        let text = transfers::render(&hops);
        pbx.set_var(&hops_var, Some(&text));
        log::info!("{}: call {}: {agent} transferred the caller to {to:?}", pbx.context(), self.id);
        self.router.report(Input::Publish(crate::core::EventKind::CallTransferred {
            call: self.id,
            queue: self.queue.clone(),
            agent: agent.to_string(),
            to,
            transfers: text,
        }));
    }

    fn router_gone<P: Primitives>(&mut self, pbx: &mut P) -> AppEnd {
        self.stop_ringing(pbx);
        pbx.release();
        log::error!("{}: call {}: the router stopped", pbx.context(), self.id);
        AppEnd::leave("ERROR")
    }

    /// Take the router's decisions, then wait once. While ringing inline
    /// only more legs for the ringing offer (escalation) and an exit are
    /// taken at once; the rest waits until the offer is over.
    fn step<P: Primitives>(&mut self, pbx: &mut P) -> Option<AppEnd> {
        loop {
            let action = match self.next_action(self.ringing.is_none()) {
                Ok(Some(a)) => a,
                Ok(None) => break,
                Err(()) => return Some(self.router_gone(pbx)),
            };
            if let Some(r) = &self.ringing {
                match &action {
                    Action::Offer { seq, .. } if *seq == r.seq => {}
                    Action::Exit { .. } => self.stop_ringing(pbx),
                    _ => {
                        self.deferred.push_back(action);
                        continue;
                    }
                }
            }
            if let Some(end) = self.act(pbx, action) {
                return Some(end);
            }
        }
        let mode = match &self.ringing {
            Some(r) => Wait::Ringing { until: r.until },
            None => Wait::Holding,
        };
        if matches!(mode, Wait::Holding) && !self.deferred.is_empty() {
            return None;
        }
        match pbx.wait(mode, &self.actions) {
            Happening::Woken => None,
            Happening::CallerGone => Some(self.caller_left(pbx)),
            Happening::Dtmf(d) => {
                if self.ringing.is_none() && Some(d) == self.callback_digit {
                    self.request_callback(pbx);
                } else if self.ringing.is_none() && Some(d) == self.message_digit {
                    // The message is recorded once the caller is out of
                    // line (flow::ivr::queue_app); the callback keeps its place.
                    let name = pbx.hotline_var("message_pending");
                    pbx.set_var(&name, Some("1"));
                    self.request_callback(pbx);
                }
                None
            }
            Happening::Answered { leg, agent, seq } => {
                self.stop_ringing(pbx);
                let end = self.talk(pbx, leg, agent, seq);
                if end.is_none() {
                    pbx.music_on(&self.music);
                }
                end
            }
            Happening::LegFailed { agent, outcome } => {
                let Some(r) = &mut self.ringing else { return None };
                let Some(i) = r.agents.iter().position(|a| *a == agent) else { return None };
                let seq = r.seq;
                r.agents.swap_remove(i);
                if r.agents.is_empty() {
                    self.ringing = None;
                }
                self.report(pbx, agent, outcome, seq);
                None
            }
            Happening::Timeout => {
                if self.ringing.as_ref().is_some_and(|r| pbx.now() >= r.until) {
                    let (seq, agents) = self.ringing.take().map(|r| (r.seq, r.agents)).unwrap_or_default();
                    pbx.stop_ringing();
                    for agent in agents {
                        self.report(pbx, agent, OfferOutcome::NoAnswer, seq);
                    }
                }
                None
            }
        }
    }

    /// Apply one router decision; `Some` ends the application.
    fn act<P: Primitives>(&mut self, pbx: &mut P, action: Action) -> Option<AppEnd> {
        match action {
            Action::Offer { seq, targets, deadline, .. } => {
                match pbx.ring(self.id, seq, &self.queue, &targets, deadline, &self.leg_vars) {
                    Ringing::Detached => {}
                    Ringing::Inline { failed, ringing } => {
                        for (agent, outcome) in failed {
                            self.report(pbx, agent, outcome, seq);
                        }
                        match &mut self.ringing {
                            // More legs for the offer ringing (escalation).
                            Some(r) if r.seq == seq => r.agents.extend(ringing),
                            _ if !ringing.is_empty() => self.ringing = Some(Inline { seq, agents: ringing, until: deadline }),
                            _ => {}
                        }
                    }
                }
                None
            }
            Action::Announce { position, expected_wait, .. } => {
                pbx.music_off();
                announce::position(pbx, self.texts, position, expected_wait);
                pbx.music_on(&self.music);
                None
            }
            Action::Moved { queue, music_class, .. } => {
                self.queue = queue.to_string();
                pbx.moved(&self.queue);
                let var = pbx.hotline_var("queue");
                pbx.set_var(&var, Some(&self.queue));
                if *music_class != *self.music {
                    self.music = music_class.to_string();
                    pbx.music_off();
                    pbx.music_on(&self.music);
                }
                None
            }
            Action::Exit { reason, .. } => {
                pbx.release();
                log::debug!("{}: call {} leaves {}: {}", pbx.context(), self.id, self.queue, reason.name());
                Some(AppEnd::leave(reason.name()))
            }
            // Verdicts come while the flow waits for them; one found here
            // is for a leg already gone.
            Action::Connect { .. } | Action::Drop { .. } | Action::Requeued { .. } | Action::TalkDone { .. } | Action::Callback { .. } => None,
            Action::Note { text, .. } => {
                self.keep_note(&text);
                None
            }
        }
    }

    fn stop_ringing<P: Primitives>(&mut self, pbx: &mut P) {
        if self.ringing.take().is_some() {
            pbx.stop_ringing();
        }
    }

    /// The caller hung up (or was taken away) while waiting or ringing.
    fn caller_left<P: Primitives>(&mut self, pbx: &mut P) -> AppEnd {
        // Stop the ringing first, so no agent rings for a caller the
        // router no longer has.
        self.stop_ringing(pbx);
        pbx.release();
        self.router.report_final(Input::CallerHangup { call: self.id });
        let transferred = pbx.transferred();
        let result = if transferred { "TRANSFERRED" } else { "ABANDONED" };
        log::debug!("{}: call {} left {}: {result}", pbx.context(), self.id, self.queue);
        AppEnd { result, caller_gone: !transferred, ended_by: None }
    }

    fn request_callback<P: Primitives>(&mut self, pbx: &P) {
        if self.number.is_empty() {
            log::warn!("{}: call {} asked for a callback but has no caller number", pbx.context(), self.id);
            return;
        }
        self.router.report(Input::CallbackRequest { call: self.id, number: self.number.clone() });
    }

    fn report<P: Primitives>(&self, pbx: &P, agent: AgentId, outcome: OfferOutcome, seq: u32) {
        log::debug!("{}: call {} agent #{agent} (offer {seq}): {}", pbx.context(), self.id, outcome.name());
        self.router.report(Input::OfferResult { call: self.id, agent, outcome, seq });
    }

    /// The announcement to the agent for this call in its current queue.
    fn agent_prompt(&self) -> Option<super::LegPrompt> {
        let announce = match &self.agent_announce {
            Some(own) => own.as_ref(),
            None => self.cfg.queue(&self.queue).and_then(|q| q.agent_announce.as_ref()),
        }?;
        announce::to_agent(announce, &self.queue, &self.data)
    }

    /// Wait for the router's verdict on the answers in `pending`. Other
    /// decisions are put aside; an exit, the caller's hang-up or a stopped
    /// router end the wait (and the application). A leg that answers
    /// meanwhile is reported and waits for its verdict too: the router
    /// connects at most one.
    fn verdict<P: Primitives>(&mut self, pbx: &mut P, pending: &mut Vec<Pending<P::Leg>>) -> Verdict {
        let find = |pending: &Vec<Pending<P::Leg>>, seq: u32, agent: AgentId| pending.iter().position(|(_, t, s)| *s == seq && t.agent == agent);
        loop {
            match self.next_action(false) {
                Ok(Some(Action::Connect { seq, agent, .. })) if find(pending, seq, agent).is_some() => {
                    return Verdict::Connect(find(pending, seq, agent).unwrap_or_default());
                }
                Ok(Some(Action::Drop { seq, agent, .. })) if find(pending, seq, agent).is_some() => {
                    return Verdict::Drop(find(pending, seq, agent).unwrap_or_default());
                }
                Ok(Some(action @ Action::Exit { .. })) => {
                    let end = self.act(pbx, action).unwrap_or(AppEnd::leave("ERROR"));
                    return Verdict::Leave(end);
                }
                Ok(Some(other)) => {
                    self.deferred.push_back(other);
                    continue;
                }
                Ok(None) => {}
                Err(()) => return Verdict::Leave(self.router_gone(pbx)),
            }
            match pbx.wait(Wait::Holding, &self.actions) {
                Happening::CallerGone => return Verdict::Leave(self.caller_left(pbx)),
                Happening::Answered { leg, agent, seq } => {
                    self.offer_answer(pbx, leg, agent, seq, pending);
                    // The caller hung up during an announcement to the agent.
                    if !pbx.caller_up() {
                        return Verdict::Leave(self.caller_left(pbx));
                    }
                }
                Happening::Woken | Happening::Dtmf(_) | Happening::LegFailed { .. } | Happening::Timeout => {}
            }
        }
    }

    /// Claim an answered leg and report the answer like a final report;
    /// it then waits in `pending` for the router's verdict.
    fn offer_answer<P: Primitives>(&mut self, pbx: &mut P, mut leg: P::Leg, agent: OfferTarget, seq: u32, pending: &mut Vec<Pending<P::Leg>>) {
        // The agent hears the announcement first (the caller its music),
        // before the answer is reported: an agent who hangs up meanwhile is
        // a failed offer like any other.
        if let Some(prompt) = self.agent_prompt() {
            match pbx.play_to_leg(&mut leg, &prompt) {
                LegPlayed::Done => {}
                LegPlayed::LegGone => {
                    log::info!("{}: call {}: {} hung up during the announcement", pbx.context(), self.id, agent.name);
                    pbx.drop_leg(leg);
                    self.report(pbx, agent.agent, OfferOutcome::Rejected, seq);
                    return;
                }
                LegPlayed::CallerGone => {
                    // The next wait sees the caller gone and reports it.
                    pbx.drop_leg(leg);
                    return;
                }
            }
        }
        if !pbx.claim(&mut leg) {
            log::info!("{}: call {}: {} answered and hung up at once", pbx.context(), self.id, agent.name);
            self.report(pbx, agent.agent, OfferOutcome::Rejected, seq);
            return;
        }
        match &agent.popup_url {
            Some(url) => {
                let mut vars = self.leg_vars.clone();
                vars.push((pbx.hotline_var("popup_url"), url.to_string()));
                pbx.set_leg_vars(&mut leg, &vars);
            }
            None => pbx.set_leg_vars(&mut leg, &self.leg_vars),
        }
        // Before the answer, from the same thread: it rides in CallAnswered.
        let identity = pbx.leg_identity(&leg);
        if !identity.is_empty() {
            self.router.report(Input::AgentLeg { call: self.id, agent: agent.agent, leg: identity });
        }
        if !self.router.report_final(Input::OfferResult { call: self.id, agent: agent.agent, outcome: OfferOutcome::Answered, seq }) {
            // The router never heard it: its watchdog frees the agent.
            log::error!("{}: call {}: the answer of {} was not delivered; hanging up its leg", pbx.context(), self.id, agent.name);
            pbx.drop_leg(leg);
            return;
        }
        pending.push((leg, agent, seq));
    }

    /// After a talk the agent ended in a queue that requeues short talks:
    /// `None` if the router put the caller back in line (music and wait
    /// again), else how the application ends.
    fn after_talk<P: Primitives>(&mut self, pbx: &mut P, answered: AppEnd) -> Option<AppEnd> {
        loop {
            match self.next_action(false) {
                Ok(Some(Action::Requeued { .. })) => {
                    log::info!("{}: call {}: short talk; back at the head of the line", pbx.context(), self.id);
                    return None;
                }
                Ok(Some(Action::TalkDone { .. })) => return Some(answered),
                Ok(Some(Action::Exit { .. })) | Err(()) => return Some(answered),
                Ok(Some(other)) => {
                    self.deferred.push_back(other);
                    continue;
                }
                Ok(None) => {}
            }
            match pbx.wait(Wait::Holding, &self.actions) {
                Happening::CallerGone => {
                    // Perhaps back in line already: the router learns the
                    // caller is gone (a stale report if it was not).
                    self.router.report_final(Input::CallerHangup { call: self.id });
                    return Some(AppEnd { caller_gone: true, ended_by: Some(EndedBy::Agent), ..answered });
                }
                Happening::Answered { leg, agent, seq } => {
                    pbx.drop_leg(leg);
                    self.report(pbx, agent.agent, OfferOutcome::Cancelled, seq);
                }
                Happening::Woken | Happening::Dtmf(_) | Happening::LegFailed { .. } | Happening::Timeout => {}
            }
        }
    }

    /// Bridge the caller with the agent whose leg answered, once the router
    /// confirms the answer. `None`: no talk (the leg was gone, or the answer
    /// was stale) or the caller is back in line; wait for the router's next
    /// decision.
    fn talk<P: Primitives>(&mut self, pbx: &mut P, leg: P::Leg, agent: OfferTarget, seq: u32) -> Option<AppEnd> {
        let mut pending = Vec::new();
        self.offer_answer(pbx, leg, agent, seq, &mut pending);
        if pending.is_empty() && !pbx.caller_up() {
            // The caller hung up during the announcement to the agent.
            return Some(self.caller_left(pbx));
        }
        let (leg, agent) = loop {
            if pending.is_empty() {
                return None;
            }
            match self.verdict(pbx, &mut pending) {
                Verdict::Connect(i) => {
                    let (leg, agent, _) = pending.swap_remove(i);
                    // Any other answer waiting is stale: the router
                    // connects one.
                    for (other, _, _) in pending.drain(..) {
                        pbx.drop_leg(other);
                    }
                    break (leg, agent);
                }
                Verdict::Drop(i) => {
                    let (leg, agent, seq) = pending.swap_remove(i);
                    log::warn!("{}: call {}: {} answered offer {seq} after it was given up; hanging up that leg", pbx.context(), self.id, agent.name);
                    pbx.drop_leg(leg);
                }
                Verdict::Leave(end) => {
                    for (leg, _, _) in pending.drain(..) {
                        pbx.drop_leg(leg);
                    }
                    return Some(end);
                }
            }
        };
        let talk = TalkEnd::new(self.id);
        pbx.connected(&leg, &talk);
        let guard = TalkGuard { talk: Arc::clone(&talk), router: self.router };
        pbx.music_off();
        let var = pbx.hotline_var("agent");
        pbx.set_var(&var, Some(&agent.name));
        let recording = self.start_recording(pbx, &agent.name);
        let by = pbx.bridge(leg);
        if let Some(r) = recording {
            self.stop_recording(pbx, r);
        }
        if by == EndedBy::Transfer {
            self.record_transfer(pbx, &agent.name);
        }
        let reported = talk.end(self.router, by);
        drop(guard);
        log::debug!("{}: call {} with {} ended by {}", pbx.context(), self.id, agent.name, by.name());
        let end = AppEnd { result: "ANSWERED", caller_gone: by == EndedBy::Caller, ended_by: Some(by) };
        if self.requeue_queues.contains(&self.queue) {
            if by == EndedBy::Agent && pbx.caller_up() {
                let end = self.after_talk(pbx, end);
                if end.is_none() {
                    pbx.set_var(&var, None);
                }
                return end;
            }
            if !reported && by != EndedBy::Transfer {
                // The agent's hang-up was reported first (FreeSWITCH) and
                // may have requeued a caller who is gone now.
                self.router.report_final(Input::CallerHangup { call: self.id });
            }
        }
        Some(end)
    }
}

#[cfg(test)]
#[path = "queue_tests.rs"]
pub(crate) mod tests;
