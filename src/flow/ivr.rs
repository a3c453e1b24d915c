// SPDX-License-Identifier: GPL-2.0-or-later
//! The IVR application, once for both PBXes: `HotlineIVR(menu)` on
//! Asterisk, `hotline_ivr menu` on FreeSWITCH.
//!
//! [`run`] answers, starts an [`IvrSession`] at the menu and performs its
//! commands with the PBX's primitives ([`IvrPrimitives`]): prompts are
//! played with barge-in (a key ends the prompt and is the first digit),
//! digits are collected one at a time with the first-digit and inter-digit
//! timeouts, up to the maximum, a terminator or a complete key (so a valid
//! key never waits for a timeout). The session decides everything else.
//!
//! At the end the call's data goes onto the channel (`hotline_data_<key>`,
//! sensitive keys masked: their values never leave the module), with
//! `hotline_ivr_result` (QUEUE, TRANSFER, HANGUP, RETURN, ABANDONED,
//! ERROR) and `hotline_ivr_path` (the nodes walked, `/` between them:
//! `main/account/by_card`). A queue exit runs the
//! queue flow ([`super::queue::run`]) on the same channel at once, with
//! the priority and skills the IVR chose and the language the caller chose.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::core::event::EventKind;
use crate::core::{CallerInfo, Config, EndedBy, Input as RouterInput, Time};
use crate::ivr::metrics::IvrMetrics;
use crate::ivr::engine::CallerFacts;
use crate::ivr::{Collect, Command, DateValue, Exit, Facts, Input, IvrSession, LookupRequest, MoneyValue, Prompt, RecordRequest, Speech};

use super::data::CallData;
use super::pbx::Primitives;
use super::say::{said, Said, Say};
use super::queue::AppEnd;
use super::RouterPort;

/// A prompt as the PBX plays it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PbxPrompt {
    /// A sound file (PBX name or absolute path without extension).
    File(String),
    Digits(String),
    Number(i64),
    /// Said by the PBX's date say (weekday, month, day, year in English).
    Date(jiff::civil::Date),
    /// Said by the PBX's money say; in hundredths.
    Money(i64),
}

impl PbxPrompt {
    /// An amount as the PBXes' money say functions read it: `12.50`.
    pub fn money_text(cents: i64) -> String {
        let sign = if cents < 0 { "-" } else { "" };
        format!("{sign}{}.{:02}", cents.unsigned_abs() / 100, cents.unsigned_abs() % 100)
    }

    /// A date as a Unix time the PBXes' date say functions take: noon UTC
    /// that day, the same date in every zone from UTC-11 to UTC+11.
    pub fn date_time(d: jiff::civil::Date) -> i64 {
        d.at(12, 0, 0, 0).to_zoned(jiff::tz::TimeZone::UTC).map(|z| z.timestamp().as_second()).unwrap_or(0)
    }
}

/// What a prompt or a wait for a key ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    /// Played to the end, or the wait timed out.
    Nothing,
    /// A key (barge-in, or the key waited for).
    Key(char),
    /// The caller hung up.
    Gone,
}

/// The PBX primitives the IVR needs beyond the queue's, on the caller's
/// own thread.
pub trait IvrPrimitives: Primitives {
    /// Play one prompt; with `barge_in`, a key ends it.
    fn play_prompt(&mut self, prompt: &PbxPrompt, barge_in: bool) -> Heard;
    /// Wait up to `timeout` ms for one key.
    fn read_key(&mut self, timeout: Time) -> Heard;
    /// Set the channel's language.
    fn set_language(&mut self, lang: &str);
    /// Continue in the dialplan at `target` when the application returns.
    fn goto(&mut self, target: &str) -> Result<(), String>;
    /// Hang the caller up now.
    fn hang_up(&mut self);
    /// Record the caller into `file` (absolute, no extension: the PBX writes
    /// `<file>.wav`, 8 kHz 16-bit mono) after a beep if `beep`, until `#`,
    /// `silence_ms` of silence (0: never), `max_ms` or a hang-up.
    fn record(&mut self, file: &str, max_ms: Time, silence_ms: Time, beep: bool) -> Recording;
    /// Listen up to `timeout` ms for one of `speech`'s phrases through the
    /// PBX's speech API, a key taken alongside. The sound files `prompts`
    /// play first while it listens: a key or the caller's voice stops them
    /// (barge-in), and the timeout runs from their end. Unavailable: the
    /// prompts were not played. Default: no speech here.
    fn listen(&mut self, _speech: &Speech, _timeout: Time, _prompts: &[String]) -> Listened {
        Listened::Unavailable
    }
    /// Wall-clock time, unix milliseconds (hours and holidays).
    fn unix_ms(&self) -> i64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
    }
}

/// What [`IvrPrimitives::listen`] got.
#[derive(Debug, Clone, PartialEq)]
pub enum Listened {
    /// A key (the caller pressed rather than spoke).
    Key(char),
    /// Words, with the engine's confidence (0-100).
    Words { text: String, confidence: u8 },
    /// Nothing before the timeout.
    Nothing,
    /// The caller hung up.
    Gone,
    /// No such speech engine (or it failed): take keys only.
    Unavailable,
}

impl Listened {
    /// What a PBX shim's listen returned: a key (> 0), 0 (nothing), -1
    /// (hung up), -2 (no such engine: logged once per call), -3 (a result:
    /// `words` reads it; none is silence to the menu).
    pub fn from_code(rc: i32, words: impl FnOnce() -> Option<(String, u8)>, context: &str, engine: &str) -> Listened {
        match rc {
            -3 => match words() {
                Some((text, confidence)) => Listened::Words { text, confidence },
                None => Listened::Nothing,
            },
            -2 => {
                log::warn!("{context}: speech engine {engine:?} unavailable; keys only");
                Listened::Unavailable
            }
            -1 => Listened::Gone,
            0 => Listened::Nothing,
            key if key > 0 => Listened::Key(char::from_u32(key as u32).unwrap_or('?')),
            _ => Listened::Unavailable,
        }
    }
}

/// How a recording ended ([`IvrPrimitives::record`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recording {
    /// Length recorded (0: nothing, or no file).
    pub ms: Time,
    /// The caller hung up (a voice message is often ended that way).
    pub gone: bool,
}

/// Text prompts and say words rendered to files (espeak-ng).
pub trait TextPrompts {
    /// A text prompt's file, by text and language.
    fn file(&self, text: &str, language: &str) -> Option<String>;
    /// A say word's file ([`crate::ivr::say`]); None: not rendered.
    fn word(&self, _lang: crate::ivr::say::Lang, _word: &'static str) -> Option<String> {
        None
    }
}

/// No text prompts rendered: each is skipped with a log line.
pub struct NoTexts;

impl TextPrompts for NoTexts {
    fn file(&self, _text: &str, _language: &str) -> Option<String> {
        None
    }
}

/// What the IVR application needs besides the PBX and the router.
pub struct IvrContext<'a> {
    pub cfg: &'a Config,
    /// Queue conditions of routes (the router's published copy).
    pub facts: &'a dyn Facts,
    pub texts: &'a dyn TextPrompts,
    pub metrics: &'a IvrMetrics,
    /// Where messages are recorded (`<dir>/<mailbox>/`, made at load).
    pub messages_dir: &'a std::path::Path,
}

/// Run the IVR application for the caller behind `pbx`; `args` is the
/// menu's name.
pub fn run<P: IvrPrimitives>(pbx: &mut P, router: &dyn RouterPort, cx: &IvrContext<'_>, args: &str) -> AppEnd {
    let walked = walk(pbx, router, cx, args.trim());
    let result = pbx.hotline_var("ivr_result");
    pbx.set_var(&result, Some(walked.end.result));
    cx.metrics.left(walked.end.result);
    if !walked.path.is_empty() {
        let name = pbx.hotline_var("ivr_path");
        pbx.set_var(&name, Some(&walked.path.join("/")));
    }
    walked.end
}

/// The queue application with the queue's satisfaction survey
/// (`survey = "<node>"`): when the agent hangs up first and the caller is
/// still there, the caller walks that IVR node; the answer is what the walk
/// leaves in the data key `survey` (a menu's `set`, or a collect `into`),
/// published with the call, queue and agent (`SurveyAnswered`, a score
/// when it is 1-5) and stored with the call; `hotline_survey` has it too.
///
/// A waiting caller who pressed the queue's `message_key` is out of line
/// with a callback that keeps its place (result CALLBACK): it now leaves
/// the message in the queue's `message` step, filed under the call's id.
pub fn queue_app<P: IvrPrimitives>(pbx: &mut P, router: &dyn RouterPort, cx: &IvrContext<'_>, args: &str) -> AppEnd {
    let end = super::queue::run(pbx, router, cx.cfg, cx.texts, args);
    let pending = pbx.hotline_var("message_pending");
    if pbx.get_var(&pending).is_some_and(|v| v == "1") {
        pbx.set_var(&pending, None);
        if end.result == "CALLBACK" && !end.caller_gone && pbx.caller_up() {
            return message_from_queue(pbx, router, cx, end);
        }
    }
    survey_after(pbx, router, cx, end)
}

/// The queue's message step for a caller its message key took out of line.
fn message_from_queue<P: IvrPrimitives>(pbx: &mut P, router: &dyn RouterPort, cx: &IvrContext<'_>, end: AppEnd) -> AppEnd {
    let queue = hotline_value(pbx, "queue");
    let call = hotline_value(pbx, "callid").parse().ok().map(crate::core::CallId);
    let step = cx.cfg.queue(&queue).and_then(|q| q.message.as_deref()).and_then(|n| cx.cfg.ivr.messages.iter().find(|m| m.name == n));
    let (Some(step), Some(call)) = (step, call) else { return end };
    let mut req = RecordRequest::for_step(step, step.prompts.clone());
    req.callback = Some(queue);
    let taker = Taker { data: pbx.data_vars(), language: pbx.language(), queued: Some(call) };
    let gone = match leave_message(pbx, router, cx, taker, req) {
        Left::Kept { gone: false, .. } => {
            let lang = pbx.language();
            perform(pbx, cx.texts, &lang, &step.done_sound, None).is_none()
        }
        Left::Kept { gone: true, .. } | Left::Nothing { gone: true } => true,
        Left::Nothing { gone: false } => false,
    };
    if !gone {
        pbx.hang_up();
    }
    AppEnd { caller_gone: true, ..end }
}

fn survey_after<P: IvrPrimitives>(pbx: &mut P, router: &dyn RouterPort, cx: &IvrContext<'_>, end: AppEnd) -> AppEnd {
    if end.ended_by != Some(EndedBy::Agent) || end.caller_gone || !pbx.caller_up() {
        return end;
    }
    let queue = hotline_value(pbx, "queue");
    let Some(node) = cx.cfg.queue(&queue).and_then(|q| q.survey.clone()) else { return end };
    let (agent, call) = (hotline_value(pbx, "agent"), hotline_value(pbx, "callid"));
    let answer_var = pbx.hotline_var("data_survey");
    // Only this survey's answer counts.
    pbx.set_var(&answer_var, None);
    let walked = walk(pbx, router, cx, &node);
    match pbx.get_var(&answer_var).filter(|v| !v.trim().is_empty()) {
        Some(answer) => {
            let answer = answer.trim().to_string();
            let score = answer.parse::<u8>().ok().filter(|s| (1..=5).contains(s));
            log::info!("{}: call {call} survey for agent {agent} in {queue}: {answer}", pbx.context());
            let name = pbx.hotline_var("survey");
            pbx.set_var(&name, Some(&answer));
            let call = crate::core::CallId(call.parse().unwrap_or(0));
            router.report(RouterInput::Publish(EventKind::SurveyAnswered { call, queue, agent, answer, score }));
        }
        None => log::info!("{}: call {call}: the survey ({node}) got no answer", pbx.context()),
    }
    AppEnd { caller_gone: walked.end.caller_gone, ..end }
}

/// A Hotline variable's value on the channel (`queue` -> `hotline_queue`),
/// empty when unset.
fn hotline_value<P: IvrPrimitives>(pbx: &P, suffix: &str) -> String {
    pbx.get_var(&pbx.hotline_var(suffix)).unwrap_or_default()
}

/// How a walk ended; `path` once a session ran.
struct Walked {
    end: AppEnd,
    path: Vec<String>,
}

/// `IvrLeft`, as the caller leaves the IVR (before a queue or transfer
/// takes it on): how, the path, the data (masked, as `data_<key>`).
fn report_left<P: IvrPrimitives>(pbx: &P, router: &dyn RouterPort, session: &IvrSession, menu: &str, started: Time, result: &'static str) {
    let data = masked(session).into_iter().map(|(k, v)| (format!("{}{k}", super::data::PREFIX), v)).collect();
    let took = pbx.now().saturating_sub(started);
    let path = session.path().join("/");
    let left = EventKind::IvrLeft { menu: menu.to_string(), number: pbx.caller_number(), result, path, data, identity: pbx.identity(), took };
    router.report(RouterInput::Publish(left));
}

fn walk<P: IvrPrimitives>(pbx: &mut P, router: &dyn RouterPort, cx: &IvrContext<'_>, menu: &str) -> Walked {
    let fail = |pbx: &P, msg: String| {
        log::error!("{}({menu}): {msg}", pbx.context());
        Walked { end: leave("ERROR"), path: Vec::new() }
    };
    if menu.is_empty() || menu.contains(',') {
        return fail(pbx, "usage: the menu's name".into());
    }
    let mut data = CallData::default();
    for (k, v) in pbx.data_vars() {
        if let Err(e) = data.set(&k, &v) {
            return fail(pbx, e);
        }
    }
    let caller = CallerFacts { number: pbx.caller_number(), language: pbx.language() };
    let mut session = match IvrSession::start(cx.cfg.ivr.clone(), menu, caller, data) {
        Ok(s) => s,
        Err(e) => return fail(pbx, e),
    };
    let done = |session: &IvrSession, end: AppEnd| Walked { end, path: session.path().to_vec() };
    let started = pbx.now();
    if !pbx.answer() {
        return done(&session, gone());
    }
    cx.metrics.entered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    router.report(RouterInput::Publish(EventKind::IvrEntered { menu: menu.to_string(), number: pbx.caller_number(), identity: pbx.identity() }));
    let mut input = None;
    // When the caller's last key was taken: the time to the next prompt is
    // the module's own (engine and flow).
    let mut key_at: Option<Instant> = None;
    let exit = loop {
        let cmd = session.next(input.take(), pbx.unix_ms(), cx.facts);
        match cmd {
            Command::Play { prompts, collect } => {
                if let Some(t) = key_at.take() {
                    cx.metrics.key_to_prompt.record(t.elapsed());
                }
                let lang = session.language().to_string();
                match perform(pbx, cx.texts, &lang, &prompts, collect.as_ref()) {
                    Some(i) => {
                        if matches!(&i, Input::Digits(d) if !d.is_empty()) {
                            key_at = Some(Instant::now());
                        }
                        input = Some(i)
                    }
                    None => {
                        report_left(pbx, router, &session, menu, started, "ABANDONED");
                        return done(&session, gone());
                    }
                }
            }
            Command::SetLanguage(lang) => {
                pbx.set_language(&lang);
                input = Some(Input::Done);
            }
            Command::Lookup(req) => {
                let lang = session.language().to_string();
                match look_up(pbx, cx.texts, &lang, req) {
                    Some(result) => {
                        cx.metrics.looked(&result);
                        input = Some(Input::Looked(result));
                    }
                    None => {
                        report_left(pbx, router, &session, menu, started, "ABANDONED");
                        return done(&session, gone());
                    }
                }
            }
            Command::Callback(queue) => {
                request_callback(pbx, router, &session, &queue);
                input = Some(Input::Done);
            }
            Command::Record(req) => {
                let taker = Taker { data: masked(&session), language: session.language().to_string(), queued: None };
                match leave_message(pbx, router, cx, taker, req) {
                    Left::Kept { ms, gone: false } => input = Some(Input::Recorded(Some(ms))),
                    Left::Nothing { gone: false } => input = Some(Input::Recorded(None)),
                    Left::Kept { gone: true, .. } => {
                        report_left(pbx, router, &session, menu, started, "HANGUP");
                        return done(&session, AppEnd { result: "HANGUP", caller_gone: true, ended_by: None });
                    }
                    Left::Nothing { gone: true } => {
                        report_left(pbx, router, &session, menu, started, "ABANDONED");
                        return done(&session, gone());
                    }
                }
            }
            Command::Finish(exit) => break exit,
        }
    };
    hand_over_data(pbx, &session);
    let result = match &exit {
        Exit::Queue { .. } => "QUEUE",
        Exit::Transfer(_) => "TRANSFER",
        Exit::Hangup => "HANGUP",
        Exit::Return => "RETURN",
    };
    report_left(pbx, router, &session, menu, started, result);
    let end = match exit {
        Exit::Queue { queue, priority, skills } => {
            let mut args = format!("{queue},priority={priority}");
            if !skills.is_empty() {
                let list: Vec<String> = skills.iter().map(|(s, l)| format!("{s}:{l}")).collect();
                args.push_str(&format!(",skills={}", list.join("+")));
            }
            let end = queue_app(pbx, router, cx, &args);
            AppEnd { result: if end.result == "ERROR" { "ERROR" } else { "QUEUE" }, ..end }
        }
        Exit::Transfer(target) => match pbx.goto(&target) {
            Ok(()) => leave("TRANSFER"),
            Err(e) => {
                log::error!("{}({menu}): transfer to {target:?}: {e}", pbx.context());
                leave("ERROR")
            }
        },
        Exit::Hangup => {
            pbx.hang_up();
            AppEnd { result: "HANGUP", caller_gone: true, ended_by: None }
        }
        Exit::Return => leave("RETURN"),
    };
    done(&session, end)
}

fn leave(result: &'static str) -> AppEnd {
    AppEnd { result, caller_gone: false, ended_by: None }
}

fn gone() -> AppEnd {
    AppEnd { result: "ABANDONED", caller_gone: true, ended_by: None }
}

/// The session's data, sensitive values masked.
fn masked(session: &IvrSession) -> Vec<(String, String)> {
    let sensitive = session.sensitive_keys();
    session.data().entries().iter().map(|(k, v)| (k.clone(), if sensitive.iter().any(|s| s == k) { mask(v) } else { v.clone() })).collect()
}

/// The session's data onto the channel, sensitive values masked.
fn hand_over_data<P: IvrPrimitives>(pbx: &mut P, session: &IvrSession) {
    for (k, v) in masked(session) {
        let name = pbx.hotline_var(&format!("data_{k}"));
        pbx.set_var(&name, Some(&v));
    }
}

/// `4111111111111111` -> `************1111`: the last four kept when the
/// value is long enough that they do not give it away.
pub fn mask(v: &str) -> String {
    let n = v.chars().count();
    let keep = if n >= 10 { 4 } else { 0 };
    v.chars().enumerate().map(|(i, c)| if i < n - keep { '*' } else { c }).collect()
}

/// A callback task for the caller's number in `queue`, in line from now
/// (the router refuses a number the queue may not call, with an event).
fn request_callback<P: IvrPrimitives>(pbx: &P, router: &dyn RouterPort, session: &IvrSession, queue: &str) {
    let number = pbx.caller_number();
    if number.is_empty() {
        log::warn!("{}: a callback was asked for but the caller has no number", pbx.context());
        return;
    }
    let call = router.new_call_id();
    let caller = CallerInfo { number: number.clone(), name: pbx.caller_name(), language: session.language().to_string(), data: masked(session), ..Default::default() };
    log::info!("{}: callback {call} requested in {queue}", pbx.context());
    router.report(RouterInput::CallbackNew { call, queue: queue.to_string(), caller, number });
}

/// Who leaves a message: the data (sensitive values masked) and language;
/// `queued`: already in line for a callback under this id (the queue's
/// message key), so no new one is queued.
struct Taker {
    data: Vec<(String, String)>,
    language: String,
    queued: Option<crate::core::CallId>,
}

/// How leaving a message went.
enum Left {
    Kept { ms: Time, gone: bool },
    Nothing { gone: bool },
}

/// A `[[message]]` step: the prompts, the beep, the recording into
/// `<messages_dir>/<mailbox>/<unix ms>-<id>.wav`; a message long enough is
/// announced (`MessageLeft`: the messages sink files it, notifies by
/// e-mail) and, if the step says so, a callback task goes in line for the
/// caller's number under the message's id. A shorter one is announced as
/// discarded (the sink removes its file: no disk work here).
fn leave_message<P: IvrPrimitives>(pbx: &mut P, router: &dyn RouterPort, cx: &IvrContext<'_>, caller: Taker, req: RecordRequest) -> Left {
    if perform(pbx, cx.texts, &caller.language, &req.prompts, None).is_none() {
        return Left::Nothing { gone: true };
    }
    let id = caller.queued.unwrap_or_else(|| router.new_call_id());
    let stem = cx.messages_dir.join(&req.mailbox).join(format!("{}-{}", pbx.unix_ms(), id.0));
    let stem = stem.to_string_lossy().into_owned();
    let rec = pbx.record(&stem, req.max_ms, req.silence_ms, req.beep);
    let file = format!("{stem}.wav");
    if rec.ms == 0 || rec.ms < req.min_ms {
        log::info!("{}: message for {} too short ({} ms): not kept", pbx.context(), req.mailbox, rec.ms);
        router.report(RouterInput::Publish(EventKind::MessageDiscarded { mailbox: req.mailbox, file, ms: rec.ms }));
        return Left::Nothing { gone: rec.gone };
    }
    let number = pbx.caller_number();
    let data = caller.data;
    if let (Some(queue), None) = (&req.callback, caller.queued) {
        if number.is_empty() {
            log::warn!("{}: message {} asks for a callback but the caller has no number", pbx.context(), id);
        } else {
            // Under the message's own id: the callback and the message go together.
            let info = CallerInfo { number: number.clone(), name: pbx.caller_name(), language: caller.language.clone(), data: data.clone(), ..Default::default() };
            router.report(RouterInput::CallbackNew { call: id, queue: queue.clone(), caller: info, number: number.clone() });
        }
    }
    log::info!("{}: message {} left for {} ({} ms)", pbx.context(), id, req.mailbox, rec.ms);
    let left = EventKind::MessageLeft {
        id: id.0,
        mailbox: req.mailbox,
        step: req.step,
        number,
        name: pbx.caller_name(),
        callback: req.callback,
        file,
        ms: rec.ms,
        data,
        identity: pbx.identity(),
    };
    router.report(RouterInput::Publish(left));
    Left::Kept { ms: rec.ms, gone: rec.gone }
}

/// What a lookup gives the session.
type Looked = Result<Vec<(String, String)>, String>;

/// A lookup: [`crate::ivr::lookup::fetch`] on a thread of its own
/// ("hotline-lookup", one per request) while the caller hears the prompts,
/// then the result, or `Err("timeout")` once the request's timeout has
/// passed since it started. None: the caller hung up.
fn look_up<P: IvrPrimitives>(pbx: &mut P, texts: &dyn TextPrompts, lang: &str, req: LookupRequest) -> Option<Looked> {
    let LookupRequest { url, timeout, prompts, paths } = req;
    let deadline = Instant::now() + std::time::Duration::from_millis(timeout);
    let started = start_lookup(move || crate::ivr::lookup::fetch(&url, timeout, &paths));
    // Prompts first either way: the fallback follows them.
    perform(pbx, texts, lang, &prompts, None)?;
    match started {
        Ok(rx) => Some(wait_lookup(&rx, deadline)),
        Err(e) => {
            log::error!("{}: {e}", pbx.context());
            Some(Err(e))
        }
    }
}

/// Run `work` on a new thread named "hotline-lookup"; its result comes on
/// the channel (nobody may be listening any more: then it is dropped).
fn start_lookup<F>(work: F) -> Result<crossbeam_channel::Receiver<Looked>, String>
where
    F: FnOnce() -> Looked + Send + 'static,
{
    let (tx, rx) = crossbeam_channel::bounded(1);
    std::thread::Builder::new()
        .name("hotline-lookup".into())
        .spawn(move || {
            let _ = tx.send(work());
        })
        .map_err(|e| format!("cannot start a lookup thread: {e}"))?;
    Ok(rx)
}

/// The lookup's result: one already there (even past the deadline, when
/// the prompts outlasted it), else the wait until `deadline`.
fn wait_lookup(rx: &crossbeam_channel::Receiver<Looked>, deadline: Instant) -> Looked {
    if let Ok(r) = rx.try_recv() {
        return r;
    }
    // The caller's (PBX) thread blocks here, but never past the lookup's own
    // timeout from its start (50-5000 ms, checked at load): the only wait
    // of this kind in the IVR, bounded as a prompt is.
    match rx.recv_deadline(deadline) {
        Ok(r) => r,
        Err(crossbeam_channel::RecvTimeoutError::Timeout) => Err("timeout".into()),
        Err(crossbeam_channel::RecvTimeoutError::Disconnected) => Err("the lookup thread ended without a result".into()),
    }
}

/// Play `prompts` and collect digits: the input for the session, or None
/// when the caller hung up.
fn perform<P: IvrPrimitives>(pbx: &mut P, texts: &dyn TextPrompts, lang: &str, prompts: &[Prompt], collect: Option<&Collect>) -> Option<Input> {
    let barge = collect.is_some_and(|c| c.barge_in);
    let speech = collect.and_then(|c| c.speech.as_ref());
    let all: Vec<PbxPrompt> = prompts.iter().flat_map(|p| to_pbx(pbx, texts, lang, p)).collect();
    // A menu with words: the sound files at the end play inside the
    // listening, so the caller's voice stops them as a key does (what is
    // said by the PBX before them plays first, a key still stopping it).
    let split = match speech {
        Some(_) if barge => all.iter().rposition(|p| !matches!(p, PbxPrompt::File(_))).map_or(0, |i| i + 1),
        _ => all.len(),
    };
    let (before, during) = all.split_at(split);
    let mut first = match play_all(pbx, before, barge) {
        Played::Gone => return None,
        Played::Key(k) => Some(k),
        Played::Out => None,
    };
    let Some(c) = collect else { return Some(Input::Played) };
    if let (Some(speech), None) = (speech, first) {
        let files: Vec<String> = during.iter().filter_map(|p| if let PbxPrompt::File(f) = p { Some(f.clone()) } else { None }).collect();
        match pbx.listen(speech, c.timeout, &files) {
            Listened::Key(k) => first = Some(k),
            Listened::Words { text, confidence } => {
                log::info!("{}: heard {text:?} ({confidence} %)", pbx.context());
                return Some(Input::Spoken { text, confidence });
            }
            Listened::Nothing => return Some(Input::Digits(String::new())),
            Listened::Gone => return None,
            Listened::Unavailable => match play_all(pbx, during, barge) {
                Played::Gone => return None,
                Played::Key(k) => first = Some(k),
                Played::Out => {}
            },
        }
    }
    collect_digits(pbx, c, first).map(Input::Digits)
}

enum Played {
    Out,
    Key(char),
    Gone,
}

/// Play `prompts` in order; with `barge`, a key ends them all.
fn play_all<P: IvrPrimitives>(pbx: &mut P, prompts: &[PbxPrompt], barge: bool) -> Played {
    for prompt in prompts {
        match pbx.play_prompt(prompt, barge) {
            Heard::Gone => return Played::Gone,
            Heard::Key(k) if barge => return Played::Key(k),
            _ => {}
        }
    }
    Played::Out
}

/// Collect after the prompts: `first` is the key that interrupted them.
fn collect_digits<P: IvrPrimitives>(pbx: &mut P, c: &Collect, first: Option<char>) -> Option<String> {
    let mut digits = String::new();
    let mut next = first;
    loop {
        let key = match next.take() {
            Some(k) => k,
            None => {
                let wait = if digits.is_empty() { c.timeout } else { c.inter_digit };
                match pbx.read_key(wait) {
                    Heard::Key(k) => k,
                    Heard::Nothing => return Some(digits),
                    Heard::Gone => return None,
                }
            }
        };
        if c.terminators.contains(key) {
            return Some(digits);
        }
        digits.push(key);
        if digits.len() >= c.max_digits.max(1) || c.complete.iter().any(|k| *k == digits) {
            return Some(digits);
        }
    }
}

/// A prompt as this PBX plays it: a text prompt becomes its rendered file
/// (nothing, with a log line, while it is not rendered); digits and
/// numbers in Vietnamese or Chinese (`lang`: the menu's or the channel's)
/// become the rendered files of their words ([`super::say`]), in any other
/// language the PBX says them.
pub(crate) fn to_pbx<P: IvrPrimitives>(pbx: &P, texts: &dyn TextPrompts, lang: &str, p: &Prompt) -> Vec<PbxPrompt> {
    let (what, by_pbx) = match p {
        Prompt::File(f) => return vec![PbxPrompt::File(f.clone())],
        Prompt::Text(t) => {
            return match texts.file(t, lang) {
                Some(f) => vec![PbxPrompt::File(f)],
                None => {
                    log::warn!("{}: text prompt {t:?} ({lang}) is not rendered; skipped", pbx.context());
                    Vec::new()
                }
            }
        }
        Prompt::Digits(d) => (Say::Digits(d), PbxPrompt::Digits(d.clone())),
        Prompt::Number(n) => (Say::Number(*n), PbxPrompt::Number(*n)),
        Prompt::Date(DateValue::On(d)) => (Say::Date(*d), PbxPrompt::Date(*d)),
        Prompt::Money(MoneyValue::Cents(c)) => (Say::Money(*c), PbxPrompt::Money(*c)),
        // The IVR engine reads the data before it hands prompts over.
        Prompt::Date(DateValue::Data { .. }) | Prompt::Money(MoneyValue::Data(_)) => {
            log::warn!("{}: {p:?} reached the PBX unread; not said", pbx.context());
            return Vec::new();
        }
    };
    match said(texts, lang, what) {
        Said::Files(files) => files.into_iter().map(PbxPrompt::File).collect(),
        Said::Pbx => vec![by_pbx],
        Said::NotRendered(word) => {
            log::warn!("{}: say word {word:?} ({lang}) is not rendered; the PBX says it", pbx.context());
            vec![by_pbx]
        }
    }
}

#[cfg(test)]
#[path = "ivr_tests.rs"]
pub(crate) mod tests;
