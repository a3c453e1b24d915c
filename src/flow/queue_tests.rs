// SPDX-License-Identifier: GPL-2.0-or-later
//! The queue flow against a fake PBX on a virtual clock: every branch a
//! real call can take, without a PBX.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use std::sync::Arc;

use crossbeam_channel::{bounded, Receiver, Sender};

use super::*;
use crate::core::{ExitReason, OfferTarget};
use crate::flow::ivr::NoTexts;
use crate::flow::{LegPlayed, LegPrompt, Sound, TalkEnd};
use crate::router::{CallHandle, NoWake, RouterError, Wake};

/// One thing the fake PBX does when the flow waits.
pub(crate) enum Step {
    /// The router decides (the flow is woken).
    Router(Action),
    Happen(Happening<u32>),
    /// Time passes; the wait ends with a timeout.
    Advance(Time),
    /// During the next bridge, the agent's own hang-up handler ends the talk
    /// first (FreeSWITCH).
    AgentEndsTalkFirst,
}

#[derive(Default)]
pub(crate) struct Recorder {
    pub(crate) inputs: RefCell<Vec<Input>>,
    pub(crate) entered: RefCell<Vec<CallerInfo>>,
    pub(crate) tx: RefCell<Option<Sender<Action>>>,
    pub(crate) refuse_enter: bool,
    /// The router's verdict on answers, as the engine would give it: the
    /// next this many answers are stale (dropped), later ones connect.
    pub(crate) stale_answers: Cell<u32>,
    /// Answers are lost (the router's channel stays full).
    pub(crate) lose_answers: bool,
    /// Answers are delivered but no verdict comes (yet).
    pub(crate) hold_verdicts: bool,
}

impl Recorder {
    /// Answer an answer report as the router does.
    fn verdict(&self, input: &Input) -> bool {
        let Input::OfferResult { call, agent, outcome: OfferOutcome::Answered, seq } = *input else { return true };
        if self.lose_answers {
            return false;
        }
        if self.hold_verdicts {
            return true;
        }
        let stale = self.stale_answers.get();
        let action = if stale > 0 {
            self.stale_answers.set(stale - 1);
            Action::Drop { call, seq, agent }
        } else {
            Action::Connect { call, seq, agent }
        };
        self.tx.borrow().as_ref().expect("entered").send(action).expect("send");
        true
    }
}

impl RouterPort for Recorder {
    fn new_call_id(&self) -> CallId {
        CallId(7)
    }
    fn enter(&self, id: CallId, _queue: &str, caller: CallerInfo, _wake: Arc<dyn Wake>) -> Result<CallHandle, RouterError> {
        self.entered.borrow_mut().push(caller);
        if self.refuse_enter {
            return Err(RouterError::Full);
        }
        let (tx, rx) = bounded(16);
        *self.tx.borrow_mut() = Some(tx);
        Ok(CallHandle { id, actions: rx })
    }
    fn send(&self, input: Input) -> Result<(), RouterError> {
        self.inputs.borrow_mut().push(input);
        Ok(())
    }
    fn report(&self, input: Input) {
        self.inputs.borrow_mut().push(input);
    }
    fn report_final(&self, input: Input) -> bool {
        let delivered = self.verdict(&input);
        if delivered {
            self.inputs.borrow_mut().push(input);
        }
        delivered
    }
}

pub(crate) struct Fake {
    pub(crate) now: Time,
    script: VecDeque<Step>,
    pub(crate) log: Vec<String>,
    pub(crate) vars: HashMap<String, String>,
    pub(crate) up: bool,
    /// What the caller does in the IVR, in order (src/flow/ivr_tests.rs).
    pub(crate) keys: VecDeque<crate::flow::ivr::tests::Press>,
    router: Rc<Recorder>,
    /// Ring inline (Asterisk) or detached (FreeSWITCH).
    inline: bool,
    /// Targets that cannot even be dialled.
    undialable: Vec<AgentId>,
    claim_ok: bool,
    bridge_end: EndedBy,
    agent_ends_first: bool,
    talk: Option<Arc<TalkEnd>>,
    panic_in_bridge: bool,
    /// The variables each ring and claim put on agent legs.
    leg_vars: Vec<Vec<(String, String)>>,
    /// How each announcement to an agent ends (default: played).
    leg_played: VecDeque<LegPlayed>,
    /// The channel's language.
    pub(crate) language: String,
    /// Notes the router hands over while the caller talks.
    notes_in_bridge: Vec<&'static str>,
    /// Where the dialplan has the caller (after a transfer).
    location: String,
    /// The recorder refuses to start.
    recorder_fails: bool,
}

impl Fake {
    pub(crate) fn new(router: Rc<Recorder>, script: Vec<Step>) -> Fake {
        Fake {
            now: 1_000,
            script: script.into(),
            log: Vec::new(),
            vars: HashMap::new(),
            up: true,
            keys: VecDeque::new(),
            router,
            inline: true,
            undialable: Vec::new(),
            claim_ok: true,
            bridge_end: EndedBy::Agent,
            agent_ends_first: false,
            talk: None,
            panic_in_bridge: false,
            leg_vars: Vec::new(),
            leg_played: VecDeque::new(),
            notes_in_bridge: Vec::new(),
            location: String::new(),
            recorder_fails: false,
            language: String::new(),
        }
    }
}

impl Primitives for Fake {
    type Leg = u32;
    fn waker(&mut self) -> Arc<dyn Wake> {
        // The script drives every wait: nothing to wake.
        Arc::new(NoWake)
    }
    fn now(&self) -> Time {
        self.now
    }
    fn context(&self) -> String {
        "FakeQueue".into()
    }
    fn get_var(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }
    fn set_var(&mut self, name: &str, value: Option<&str>) {
        match value {
            Some(v) => self.vars.insert(name.to_string(), v.to_string()),
            None => self.vars.remove(name),
        };
    }
    fn caller_number(&self) -> String {
        "0901".into()
    }
    fn language(&self) -> String {
        self.language.clone()
    }
    fn identity(&self) -> Vec<(String, String)> {
        vec![("uuid".into(), "u-1".into())]
    }
    fn answer(&mut self) -> bool {
        self.log.push("answer".into());
        self.up
    }
    fn caller_up(&self) -> bool {
        self.up
    }
    fn music_on(&mut self, class: &str) {
        self.log.push(format!("music {class}"));
    }
    fn music_off(&mut self) {
        self.log.push("music off".into());
    }
    fn sound(&self, s: Sound) -> Option<&'static str> {
        match s {
            Sound::YouAreNext => Some("next"),
            Sound::ThereAre => Some("there-are"),
            Sound::CallsWaiting => Some("waiting"),
            Sound::HoldTime => None,
            Sound::Minutes => Some("minutes"),
        }
    }
    fn play_file(&mut self, file: &str) {
        self.log.push(format!("play {file}"));
    }
    fn say_number(&mut self, n: u64) {
        self.log.push(format!("say {n}"));
    }
    fn moved(&mut self, queue: &str) {
        self.log.push(format!("moved {queue}"));
    }
    fn release(&mut self) {
        self.log.push("release".into());
    }
    fn wait(&mut self, mode: Wait, actions: &Receiver<Action>) -> Happening<u32> {
        assert!(matches!(mode, Wait::Ringing { .. }) || actions.is_empty(), "waited with decisions queued");
        match self.script.pop_front().expect("the flow waited after the script ended") {
            Step::Router(a) => {
                self.router.tx.borrow().as_ref().expect("entered").send(a).expect("send");
                Happening::Woken
            }
            Step::Happen(h) => {
                if matches!(h, Happening::CallerGone) {
                    self.up = false;
                }
                h
            }
            Step::Advance(ms) => {
                self.now += ms;
                Happening::Timeout
            }
            Step::AgentEndsTalkFirst => {
                self.agent_ends_first = true;
                Happening::Woken
            }
        }
    }
    fn data_vars(&self) -> Vec<(String, String)> {
        self.vars.iter().filter_map(|(k, v)| k.strip_prefix("hotline_data_").map(|k| (k.to_string(), v.clone()))).collect()
    }
    fn ring(&mut self, _call: CallId, seq: u32, queue: &str, targets: &[OfferTarget], deadline: Time, vars: &[(String, String)]) -> Ringing {
        let names = targets.iter().map(|t| t.name.as_ref()).collect::<Vec<_>>().join("+");
        self.log.push(format!("ring {queue} {names} for {}{}", deadline - self.now, if seq == 1 { String::new() } else { format!(" (offer {seq})") }));
        self.leg_vars.push(vars.to_vec());
        if !self.inline {
            return Ringing::Detached;
        }
        let (failed, ringing): (Vec<_>, Vec<_>) = targets.iter().map(|t| t.agent).partition(|a| self.undialable.contains(a));
        Ringing::Inline { failed: failed.into_iter().map(|a| (a, OfferOutcome::Unavailable)).collect(), ringing }
    }
    fn stop_ringing(&mut self) {
        self.log.push("stop ringing".into());
    }
    fn play_to_leg(&mut self, leg: &mut u32, prompt: &LegPrompt) -> LegPlayed {
        self.log.push(format!("announce {leg} {prompt:?}"));
        let played = self.leg_played.pop_front().unwrap_or(LegPlayed::Done);
        if played == LegPlayed::CallerGone {
            self.up = false;
        }
        played
    }
    fn claim(&mut self, leg: &mut u32) -> bool {
        self.log.push(format!("claim {leg}"));
        self.claim_ok
    }
    fn connected(&mut self, _leg: &u32, talk: &Arc<TalkEnd>) {
        self.talk = Some(talk.clone());
    }
    fn drop_leg(&mut self, leg: u32) {
        self.log.push(format!("drop {leg}"));
    }
    fn leg_identity(&self, leg: &u32) -> Vec<(String, String)> {
        vec![("uuid".into(), format!("leg-{leg}"))]
    }
    fn set_leg_vars(&mut self, _leg: &mut u32, vars: &[(String, String)]) {
        self.leg_vars.push(vars.to_vec());
    }
    fn bridge(&mut self, leg: u32) -> EndedBy {
        self.log.push(format!("bridge {leg}"));
        if self.panic_in_bridge {
            panic!("bridge blew up");
        }
        for text in self.notes_in_bridge.drain(..) {
            self.router.tx.borrow().as_ref().expect("entered").send(Action::Note { call: CallId(7), text: text.into() }).expect("send");
        }
        if self.agent_ends_first {
            let router = self.router.clone();
            assert!(self.talk.as_ref().expect("claimed").end(&*router, EndedBy::Agent));
        }
        self.bridge_end
    }
    fn location(&self) -> String {
        self.location.clone()
    }
    fn record_start(&mut self, file: &str, stereo: bool) -> Result<(), String> {
        self.log.push(format!("record {file} stereo={stereo}"));
        if self.recorder_fails {
            return Err("disk on fire".into());
        }
        Ok(())
    }
    fn record_stop(&mut self, file: &str) {
        self.log.push(format!("record stop {file}"));
    }
}

fn target(agent: AgentId) -> OfferTarget {
    OfferTarget { agent, name: format!("a{agent}").into(), contact: format!("null/{agent}").into(), auto_answer: false, popup_url: None }
}

/// Offer 1, made when the fake's clock reads 1000.
fn offer(agents: &[AgentId], timeout: Time) -> Step {
    offer_n(1, agents, 1_000 + timeout)
}

/// Offer `seq` ringing until `deadline`.
fn offer_n(seq: u32, agents: &[AgentId], deadline: Time) -> Step {
    let targets = agents.iter().map(|a| target(*a)).collect();
    Step::Router(Action::Offer { call: CallId(7), seq, targets, timeout: deadline - 1_000, deadline })
}

fn answered(agent: AgentId) -> Step {
    answered_n(1, agent)
}

fn answered_n(seq: u32, agent: AgentId) -> Step {
    Step::Happen(Happening::Answered { leg: agent, agent: target(agent), seq })
}

fn failed(agent: AgentId, outcome: OfferOutcome) -> Step {
    Step::Happen(Happening::LegFailed { agent, outcome })
}

fn exit(reason: ExitReason) -> Step {
    Step::Router(Action::Exit { call: CallId(7), reason })
}

fn config() -> Config {
    Config::parse(
        "[[queue]]\nname = \"support\"\nmusic_class = \"jazz\"\ncallback_contact = \"null/{number}\"\n\
         [[queue]]\nname = \"sales\"\nmusic_class = \"rock\"\n\
         [[queue]]\nname = \"plain\"\n\
         [[queue]]\nname = \"announced\"\nagent_announce = \"agent-beep\"\n\
         [[queue]]\nname = \"named\"\nagent_announce = \"queue\"\n\
         [[queue]]\nname = \"short\"\nmusic_class = \"jazz\"\nrequeue_short_seconds = 2\n\
         [[queue]]\nname = \"recorded\"\nrecord = \"always\"\n\
         [recording]\nroot = \"/rec\"\nfile = \"{queue}/{call}-{agent}\"\n",
        "test.toml",
    )
    .expect("config")
}

/// Run the flow; the router's inputs and the fake afterwards.
fn go(args: &str, script: Vec<Step>, tune: impl FnOnce(&mut Fake)) -> (AppEnd, Vec<Input>, Fake) {
    let router = Rc::new(Recorder::default());
    let mut fake = Fake::new(router.clone(), script);
    tune(&mut fake);
    let end = run(&mut fake, &*router, &config(), &NoTexts, args);
    assert!(fake.script.is_empty(), "script steps left over: {}", fake.script.len());
    let inputs = router.inputs.borrow().clone();
    (end, inputs, fake)
}

fn outcomes(inputs: &[Input]) -> Vec<(AgentId, OfferOutcome)> {
    inputs
        .iter()
        .filter_map(|i| match i {
            Input::OfferResult { agent, outcome, .. } => Some((*agent, *outcome)),
            _ => None,
        })
        .collect()
}

fn ends(inputs: &[Input]) -> Vec<EndedBy> {
    inputs
        .iter()
        .filter_map(|i| match i {
            Input::CallEnded { by, .. } => Some(*by),
            _ => None,
        })
        .collect()
}

#[test]
fn an_answered_offer_is_bridged_and_its_end_reported_once() {
    let (end, inputs, fake) = go("support", vec![offer(&[3], 15_000), answered(3)], |_| {});
    assert_eq!(end, AppEnd { result: "ANSWERED", caller_gone: false, ended_by: Some(EndedBy::Agent) });
    assert_eq!(outcomes(&inputs), [(3, OfferOutcome::Answered)]);
    assert_eq!(ends(&inputs), [EndedBy::Agent]);
    assert_eq!(fake.vars.get("hotline_agent").map(String::as_str), Some("a3"));
    assert_eq!(fake.vars.get("hotline_result").map(String::as_str), Some("ANSWERED"));
    assert_eq!(fake.vars.get("hotline_callid").map(String::as_str), Some("7"));
    let log = fake.log.join(", ");
    assert!(log.starts_with("answer, music jazz, ring support a3 for 15000, stop ringing, claim 3, music off, bridge 3"), "{log}");
}

#[test]
fn no_answer_until_the_deadline_is_reported_then_the_caller_times_out() {
    let script = vec![offer(&[3], 10_000), Step::Advance(4_000), Step::Advance(6_000), exit(ExitReason::Timeout)];
    let (end, inputs, fake) = go("support", script, |_| {});
    assert_eq!(outcomes(&inputs), [(3, OfferOutcome::NoAnswer)]);
    assert_eq!(end, AppEnd { result: "TIMEOUT", caller_gone: false, ended_by: None });
    assert!(fake.log.contains(&"stop ringing".to_string()));
    assert!(fake.log.contains(&"release".to_string()));
}

#[test]
fn a_busy_leg_is_reported_at_once_and_the_caller_keeps_waiting() {
    let script = vec![offer(&[3, 4], 15_000), failed(4, OfferOutcome::Busy), failed(3, OfferOutcome::Rejected), offer(&[5], 15_000), answered(5)];
    let (end, inputs, _) = go("support", script, |_| {});
    assert_eq!(outcomes(&inputs), [(4, OfferOutcome::Busy), (3, OfferOutcome::Rejected), (5, OfferOutcome::Answered)]);
    assert_eq!(end.result, "ANSWERED");
}

#[test]
fn undialable_agents_are_reported_before_anything_rings() {
    let script = vec![offer(&[3, 4], 15_000), answered(4)];
    let (_, inputs, _) = go("support", script, |f| f.undialable = vec![3]);
    assert_eq!(outcomes(&inputs), [(3, OfferOutcome::Unavailable), (4, OfferOutcome::Answered)]);
}

#[test]
fn a_caller_gone_while_ringing_stops_the_legs_and_reports_only_the_hang_up() {
    let (end, inputs, fake) = go("support", vec![offer(&[3], 15_000), Step::Happen(Happening::CallerGone)], |_| {});
    assert_eq!(end, AppEnd { result: "ABANDONED", caller_gone: true, ended_by: None });
    assert!(outcomes(&inputs).is_empty());
    assert!(matches!(inputs.last(), Some(Input::CallerHangup { call: CallId(7) })));
    let log = fake.log.join(", ");
    assert!(log.contains("stop ringing, release"), "{log}");
}

#[test]
fn an_agent_gone_before_the_bridge_is_a_rejection_and_the_caller_waits_on() {
    let script = vec![offer(&[3], 15_000), answered(3), Step::Happen(Happening::CallerGone)];
    let (end, inputs, fake) = go("support", script, |f| f.claim_ok = false);
    assert_eq!(outcomes(&inputs), [(3, OfferOutcome::Rejected)]);
    assert!(ends(&inputs).is_empty());
    assert_eq!(end.result, "ABANDONED");
    let log = fake.log.join(", ");
    assert!(log.contains("claim 3, music jazz"), "music comes back: {log}");
}

#[test]
fn a_transfer_ends_the_talk_as_a_transfer_and_the_dialplan_goes_on() {
    let (end, inputs, _) = go("support", vec![offer(&[3], 15_000), answered(3)], |f| f.bridge_end = EndedBy::Transfer);
    assert_eq!(ends(&inputs), [EndedBy::Transfer]);
    assert_eq!(end, AppEnd { result: "ANSWERED", caller_gone: false, ended_by: Some(EndedBy::Transfer) });
}

#[test]
fn a_caller_hang_up_in_the_talk_ends_the_application_as_gone() {
    let (end, inputs, _) = go("support", vec![offer(&[3], 15_000), answered(3)], |f| f.bridge_end = EndedBy::Caller);
    assert_eq!(ends(&inputs), [EndedBy::Caller]);
    assert!(end.caller_gone);
}

#[test]
fn an_agent_hang_up_seen_first_elsewhere_is_reported_once() {
    let script = vec![offer(&[3], 15_000), Step::AgentEndsTalkFirst, answered(3)];
    let (_, inputs, _) = go("support", script, |f| f.bridge_end = EndedBy::Caller);
    assert_eq!(ends(&inputs), [EndedBy::Agent], "the first report wins; the bridge's is dropped");
}

#[test]
fn a_panic_in_the_bridge_still_frees_the_agent() {
    let router = Rc::new(Recorder::default());
    let mut fake = Fake::new(router.clone(), vec![offer(&[3], 15_000), answered(3)]);
    fake.panic_in_bridge = true;
    let cfg = config();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&mut fake, &*router, &cfg, &NoTexts, "support")));
    assert!(r.is_err());
    assert_eq!(ends(&router.inputs.borrow()), [EndedBy::Failed]);
}

#[test]
fn detached_ringing_waits_in_music_for_the_handed_over_leg() {
    let script = vec![offer(&[3], 15_000), Step::Router(Action::Announce { call: CallId(7), position: 2, expected_wait: None }), answered(3)];
    let (end, inputs, fake) = go("support", script, |f| f.inline = false);
    assert_eq!(end.result, "ANSWERED");
    assert_eq!(outcomes(&inputs), [(3, OfferOutcome::Answered)]);
    let log = fake.log.join(", ");
    assert!(log.contains("ring support a3 for 15000, music off, play there-are, say 2, play waiting, music jazz"), "{log}");
    assert!(!log.contains("stop ringing"), "{log}");
}

/// Every say word rendered as `/w/<language>-<word>.wav`.
pub(crate) struct Words;

impl crate::flow::ivr::TextPrompts for Words {
    fn file(&self, _text: &str, _language: &str) -> Option<String> {
        None
    }
    fn word(&self, lang: crate::ivr::say::Lang, word: &'static str) -> Option<String> {
        Some(format!("/w/{}-{word}.wav", lang.code()))
    }
}

/// In Vietnamese and Chinese the position is said with the rendered
/// words; in English by the PBX.
#[test]
fn announcements_in_vietnamese_and_chinese_play_the_rendered_words() {
    for (lang, want) in [
        ("vi", "play there-are, play /w/vi-hai.wav, play /w/vi-mươi.wav, play /w/vi-mốt.wav, play waiting"),
        ("zh_CN", "play there-are, play /w/zh-二.wav, play /w/zh-十.wav, play /w/zh-一.wav, play waiting"),
        ("en", "play there-are, say 21, play waiting"),
    ] {
        let script = vec![Step::Router(Action::Announce { call: CallId(7), position: 21, expected_wait: None }), exit(ExitReason::LeaveEmpty)];
        let router = Rc::new(Recorder::default());
        let mut fake = Fake::new(router.clone(), script);
        fake.language = lang.into();
        let end = run(&mut fake, &*router, &config(), &Words, "support");
        assert_eq!(end.result, "LEAVEEMPTY");
        let log = fake.log.join(", ");
        assert!(log.contains(want), "{lang}: {log}");
    }
}

#[test]
fn the_first_in_line_hears_the_short_prompt() {
    let script = vec![Step::Router(Action::Announce { call: CallId(7), position: 1, expected_wait: Some(90_000) }), exit(ExitReason::LeaveEmpty)];
    let (end, _, fake) = go("support", script, |_| {});
    assert_eq!(end.result, "LEAVEEMPTY");
    let log = fake.log.join(", ");
    // No hold-time prompt on this PBX: the minutes are left out too.
    assert!(log.contains("music off, play next, music jazz"), "{log}");
    assert!(!log.contains("minutes"), "{log}");
}

#[test]
fn a_move_changes_queue_and_music() {
    let script = vec![
        Step::Router(Action::Moved { call: CallId(7), queue: "sales".into(), music_class: "rock".into() }),
        offer(&[3], 15_000),
        answered(3),
    ];
    let (_, _, fake) = go("support", script, |_| {});
    assert_eq!(fake.vars.get("hotline_queue").map(String::as_str), Some("sales"));
    let log = fake.log.join(", ");
    assert!(log.contains("moved sales, music off, music rock, ring sales a3"), "{log}");
}

#[test]
fn the_callback_digit_asks_for_a_callback_and_other_digits_do_not() {
    let script = vec![Step::Happen(Happening::Dtmf('1')), Step::Happen(Happening::Dtmf('*')), exit(ExitReason::CallbackScheduled)];
    let (end, inputs, _) = go("support,callback=*", script, |_| {});
    assert_eq!(end.result, "CALLBACK");
    let asked: Vec<_> = inputs.iter().filter(|i| matches!(i, Input::CallbackRequest { .. })).collect();
    assert_eq!(asked.len(), 1);
    assert!(matches!(asked[0], Input::CallbackRequest { number, .. } if number == "0901"));
}

#[test]
fn callbacks_need_a_callback_contact() {
    let (end, inputs, fake) = go("plain,callback=*", vec![], |_| {});
    assert_eq!(end.result, "ERROR");
    assert!(inputs.is_empty());
    assert!(!fake.log.contains(&"answer".to_string()), "refused before answering");
}

#[test]
fn bad_options_fail_the_call_before_it_enters() {
    let (end, inputs, _) = go("support", vec![], |f| {
        f.vars.insert("hotline_priority".into(), "high".into());
    });
    assert_eq!(end.result, "ERROR");
    assert!(inputs.is_empty());
}

#[test]
fn a_caller_gone_before_the_answer_is_abandoned() {
    let (end, inputs, _) = go("support", vec![], |f| f.up = false);
    assert_eq!(end, AppEnd { result: "ABANDONED", caller_gone: true, ended_by: None });
    assert!(inputs.is_empty());
}

#[test]
fn a_stopped_router_sends_the_caller_on_with_an_error() {
    let router = Rc::new(Recorder::default());
    let mut fake = Fake::new(router.clone(), vec![]);
    // The router is gone: its end of the call's channel disconnects as
    // soon as the flow has entered.
    struct Gone(Rc<Recorder>);
    impl RouterPort for Gone {
        fn new_call_id(&self) -> CallId {
            CallId(7)
        }
        fn enter(&self, id: CallId, q: &str, c: CallerInfo, w: Arc<dyn Wake>) -> Result<CallHandle, RouterError> {
            let h = self.0.enter(id, q, c, w);
            self.0.tx.borrow_mut().take();
            h
        }
        fn send(&self, i: Input) -> Result<(), RouterError> {
            self.0.send(i)
        }
        fn report(&self, i: Input) {
            self.0.report(i)
        }
        fn report_final(&self, i: Input) -> bool {
            self.0.report_final(i)
        }
    }
    let end = run(&mut fake, &Gone(router), &config(), &NoTexts, "support");
    assert_eq!(end.result, "ERROR");
}

#[test]
fn a_refused_entry_is_an_error() {
    let router = Rc::new(Recorder { refuse_enter: true, ..Default::default() });
    let mut fake = Fake::new(router.clone(), vec![]);
    let end = run(&mut fake, &*router, &config(), &NoTexts, "support");
    assert_eq!(end.result, "ERROR");
}

#[test]
fn the_calls_data_goes_into_its_events_the_channel_and_every_agent_leg() {
    let router = Rc::new(Recorder::default());
    let mut fake = Fake::new(router.clone(), vec![offer(&[3], 15_000), answered(3)]);
    fake.vars.insert("hotline_data_tier".into(), "silver".into());
    let end = run(&mut fake, &*router, &config(), &NoTexts, "support,data=account:123+tier:gold");
    assert_eq!(end.result, "ANSWERED");
    let caller = router.entered.borrow()[0].clone();
    assert_eq!(caller.data, [("uuid".into(), "u-1".into()), ("data_tier".into(), "gold".into()), ("data_account".into(), "123".into())]);
    // On the caller's channel, so it follows a transfer.
    assert_eq!(fake.vars.get("hotline_data_account").map(String::as_str), Some("123"));
    let want = vec![("hotline_data_tier".to_string(), "gold".to_string()), ("hotline_data_account".to_string(), "123".to_string())];
    assert_eq!(fake.leg_vars, [want.clone(), want], "rung with the data and set again on the claimed leg");
}

#[test]
fn data_over_the_limit_fails_the_call_before_it_enters() {
    let big = format!("support,data=blob:{}", "x".repeat(5000));
    let (end, inputs, _) = go(&big, vec![], |_| {});
    assert_eq!(end.result, "ERROR");
    assert!(inputs.is_empty());
}

#[test]
fn a_transfer_appends_a_hop_with_the_notes_and_publishes_it_before_the_end() {
    let (end, inputs, fake) = go("support", vec![Step::Router(Action::Note { call: CallId(7), text: "asked for \"Mai\"\n".into() }), offer(&[3], 15_000), answered(3)], |f| {
        f.bridge_end = EndedBy::Transfer;
        f.location = "2100@hotline-callers".into();
        f.notes_in_bridge = vec!["wants a refund"];
        f.vars.insert("hotline_transfer_note".into(), "VIP".into());
    });
    assert_eq!(end.ended_by, Some(EndedBy::Transfer));
    let hops = transfers::parse(fake.vars.get("hotline_transfers").map(String::as_str));
    assert_eq!(hops.len(), 1, "{:?}", fake.vars.get("hotline_transfers"));
    let h = &hops[0];
    assert_eq!((h.from_call.as_str(), h.from_queue.as_str(), h.from_agent.as_deref(), h.to.as_str(), h.to_queue.as_deref()), ("7", "support", Some("a3"), "2100@hotline-callers", None));
    assert_eq!(h.notes, ["asked for \"Mai\"", "wants a refund", "VIP"], "the waiting note, the talk's note, the agent's variable");
    assert!(h.at.parse::<jiff::Timestamp>().is_ok(), "{}", h.at);
    assert_eq!(fake.vars.get("hotline_transfer_note"), None, "a note is taken once");
    let published = inputs.iter().position(|i| matches!(i, Input::Publish(crate::core::EventKind::CallTransferred { to, transfers, .. })
        if to == "2100@hotline-callers" && transfers::parse(Some(transfers)) == hops));
    let ended = inputs.iter().position(|i| matches!(i, Input::CallEnded { by: EndedBy::Transfer, .. }));
    assert!(published.is_some() && published < ended, "{inputs:?}");
}

#[test]
fn a_talk_that_ends_otherwise_leaves_no_hop_and_publishes_none() {
    let (_, inputs, fake) = go("support", vec![offer(&[3], 15_000), answered(3)], |f| f.notes_in_bridge = vec!["n"]);
    assert_eq!(fake.vars.get("hotline_transfers"), None);
    assert!(!inputs.iter().any(|i| matches!(i, Input::Publish(crate::core::EventKind::CallTransferred { .. }))));
}

#[test]
fn a_caller_transferred_into_another_queue_brings_its_history() {
    let router = Rc::new(Recorder::default());
    let mut fake = Fake::new(router.clone(), vec![exit(ExitReason::Timeout)]);
    // What the first HotlineQueue left on the channel, and a note the
    // dialplan set after the transfer.
    let hop = Hop { at: "2026-12-02T10:00:00.000Z".into(), from_call: "41".into(), from_queue: "support".into(), from_agent: Some("a1".into()), to: "s@x".into(), to_queue: None, notes: vec!["first".into()] };
    for (k, v) in [("hotline_callid", "41".to_string()), ("hotline_transfers", transfers::render(&[hop])), ("hotline_transfer_note", "second".into()), ("hotline_data_account", "9".into())] {
        fake.vars.insert(k.into(), v);
    }
    run(&mut fake, &*router, &config(), &NoTexts, "sales");
    let data = router.entered.borrow()[0].data.clone();
    let get = |k: &str| data.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let hops = transfers::parse(get("transfers").as_deref());
    assert_eq!((hops.len(), hops[0].to_queue.as_deref(), hops[0].notes.clone()), (1, Some("sales"), vec!["first".to_string(), "second".to_string()]));
    assert_eq!(get("data_account").as_deref(), Some("9"));
    assert_eq!(transfers::parse(fake.vars.get("hotline_transfers").map(String::as_str)), hops, "written back to the channel");
    assert_eq!(fake.vars.get("hotline_transfer_note"), None, "a note is taken once");
    assert_eq!(fake.vars.get("hotline_callid").map(String::as_str), Some("7"));
}

#[test]
fn a_caller_never_transferred_carries_no_history() {
    let router = Rc::new(Recorder::default());
    let mut fake = Fake::new(router.clone(), vec![exit(ExitReason::Timeout)]);
    fake.vars.insert("hotline_transfers".into(), "{broken".into());
    run(&mut fake, &*router, &config(), &NoTexts, "sales");
    assert!(!router.entered.borrow()[0].data.iter().any(|(k, _)| k == "transfers"));
}

#[test]
fn the_answered_legs_identity_is_reported_just_before_the_answer() {
    let (_, inputs, _) = go("support", vec![offer(&[3], 15_000), answered(3)], |_| {});
    let at = |f: &dyn Fn(&Input) -> bool| inputs.iter().position(|i| f(i)).expect("reported");
    let leg = at(&|i| matches!(i, Input::AgentLeg { agent: 3, leg, .. } if leg == &[("uuid".to_string(), "leg-3".to_string())]));
    let answer = at(&|i| matches!(i, Input::OfferResult { outcome: OfferOutcome::Answered, .. }));
    assert_eq!(leg + 1, answer);
}

#[test]
fn the_answered_agent_hears_the_announcement_before_the_bridge() {
    let (end, inputs, fake) = go("announced", vec![offer(&[3], 15_000), answered(3)], |_| {});
    assert_eq!(end.result, "ANSWERED");
    assert_eq!(outcomes(&inputs), [(3, OfferOutcome::Answered)]);
    let log = fake.log.join(", ");
    // Played to the answered leg while the caller's music goes on (no
    // "music off" before it), then claimed and bridged.
    assert!(log.contains("stop ringing, announce 3 File(\"agent-beep\"), claim 3, music off, bridge 3"), "{log}");
    // The queue's name: its prompt, or spelled.
    let (_, _, fake) = go("named", vec![offer(&[3], 15_000), answered(3)], |_| {});
    assert!(fake.log.join(", ").contains("announce 3 FileOrSpell { file: \"hotline/queue-named\", spell: \"named\" }"), "{:?}", fake.log);
    // No announcement configured: none played.
    let (_, _, fake) = go("support", vec![offer(&[3], 15_000), answered(3)], |_| {});
    assert!(!fake.log.iter().any(|l| l.starts_with("announce")), "{:?}", fake.log);
}

#[test]
fn the_calls_option_overrides_the_queues_announcement() {
    let (_, _, fake) = go("support,data=account:0042,agent_announce=data:account", vec![offer(&[3], 15_000), answered(3)], |_| {});
    assert!(fake.log.contains(&"announce 3 Digits(\"0042\")".to_string()), "{:?}", fake.log);
    let (_, _, fake) = go("announced,agent_announce=none", vec![offer(&[3], 15_000), answered(3)], |_| {});
    assert!(!fake.log.iter().any(|l| l.starts_with("announce")), "{:?}", fake.log);
    // The variable, when the option is not given.
    let (_, _, fake) = go("support", vec![offer(&[3], 15_000), answered(3)], |f| {
        f.vars.insert("hotline_agent_announce".into(), "queue".into());
    });
    assert!(fake.log.iter().any(|l| l.starts_with("announce 3 FileOrSpell")), "{:?}", fake.log);
    // A data key the call lacks: nothing to say, the talk goes on.
    let (end, _, fake) = go("support,agent_announce=data:nothing", vec![offer(&[3], 15_000), answered(3)], |_| {});
    assert_eq!(end.result, "ANSWERED");
    assert!(!fake.log.iter().any(|l| l.starts_with("announce")), "{:?}", fake.log);
}

#[test]
fn an_agent_gone_during_the_announcement_is_a_failed_offer_and_the_caller_is_offered_again() {
    let script = vec![offer(&[3], 15_000), answered(3), offer(&[4], 15_000), answered(4)];
    let (end, inputs, fake) = go("announced", script, |f| f.leg_played.push_back(LegPlayed::LegGone));
    assert_eq!(end.result, "ANSWERED");
    assert_eq!(outcomes(&inputs), [(3, OfferOutcome::Rejected), (4, OfferOutcome::Answered)]);
    assert_eq!(ends(&inputs), [EndedBy::Agent], "one talk, with agent 4");
    let log = fake.log.join(", ");
    assert!(log.contains("announce 3 File(\"agent-beep\"), drop 3, music default, ring announced a4"), "{log}");
    assert!(!log.contains("claim 3") && log.contains("claim 4, music off, bridge 4"), "{log}");
}

#[test]
fn a_stale_answer_is_hung_up_and_the_caller_is_served_by_the_next_offer() {
    // a3 rings for offer 1; the router gives that offer up (an operator
    // reset) and offers the caller to a4: offer 2 waits until offer 1's
    // ring is over. a3 answers: stale, its leg is hung up.
    let script = vec![offer(&[3], 15_000), offer_n(2, &[4], 20_000), answered(3), answered_n(2, 4)];
    let router = Rc::new(Recorder { stale_answers: Cell::new(1), ..Default::default() });
    let mut fake = Fake::new(router.clone(), script);
    let end = run(&mut fake, &*router, &config(), &NoTexts, "support");
    assert!(fake.script.is_empty());
    assert_eq!(end.result, "ANSWERED");
    let inputs = router.inputs.borrow().clone();
    assert_eq!(outcomes(&inputs), [(3, OfferOutcome::Answered), (4, OfferOutcome::Answered)]);
    let seqs: Vec<u32> = inputs.iter().filter_map(|i| match i { Input::OfferResult { seq, .. } => Some(*seq), _ => None }).collect();
    assert_eq!(seqs, [1, 2], "each answer names its offer");
    let log = fake.log.join(", ");
    assert!(log.contains("claim 3, drop 3, music jazz, ring support a4 for 19000 (offer 2)"), "{log}");
    assert!(log.contains("bridge 4") && !log.contains("bridge 3"), "{log}");
    assert_eq!(ends(&inputs), [EndedBy::Agent], "only the real talk ends");
}

#[test]
fn an_answer_the_router_never_heard_is_not_bridged() {
    let script = vec![offer(&[3], 15_000), answered(3), exit(ExitReason::Timeout)];
    let router = Rc::new(Recorder { lose_answers: true, ..Default::default() });
    let mut fake = Fake::new(router.clone(), script);
    let end = run(&mut fake, &*router, &config(), &NoTexts, "support");
    assert_eq!(end.result, "TIMEOUT");
    let log = fake.log.join(", ");
    assert!(log.contains("claim 3, drop 3") && !log.contains("bridge"), "{log}");
}

#[test]
fn the_flow_rings_until_the_offers_deadline() {
    // Decided at 1000 for 15 s, but the deadline says 11000 (the offer
    // reached the caller late): the ring ends then, not 15 s after dialling.
    let targets = vec![target(3)];
    let late = Step::Router(Action::Offer { call: CallId(7), seq: 1, targets, timeout: 15_000, deadline: 11_000 });
    let script = vec![late, Step::Advance(10_000), exit(ExitReason::Timeout)];
    let (end, inputs, _) = go("support", script, |_| {});
    assert_eq!(outcomes(&inputs), [(3, OfferOutcome::NoAnswer)]);
    assert_eq!(end.result, "TIMEOUT");
}

#[test]
fn an_escalation_adds_a_leg_while_ringing_inline_and_the_first_answer_wins() {
    let script = vec![offer(&[3], 15_000), offer_n(1, &[4], 16_000), answered(4)];
    let (end, inputs, fake) = go("support", script, |_| {});
    assert_eq!(end.result, "ANSWERED");
    assert_eq!(outcomes(&inputs), [(4, OfferOutcome::Answered)], "a3's leg is hung up, not reported");
    let log = fake.log.join(", ");
    assert!(log.contains("ring support a3 for 15000, ring support a4 for 15000, stop ringing, claim 4, music off, bridge 4"), "{log}");
}

#[test]
fn an_exit_while_ringing_inline_stops_the_legs_at_once() {
    let script = vec![offer(&[3], 15_000), exit(ExitReason::LeaveEmpty)];
    let (end, inputs, fake) = go("support", script, |_| {});
    assert_eq!(end.result, "LEAVEEMPTY");
    assert!(outcomes(&inputs).is_empty());
    assert!(fake.log.join(", ").contains("stop ringing, release"));
}

#[test]
fn a_short_talk_puts_the_caller_back_in_line_when_the_router_says_so() {
    let script = vec![
        offer(&[3], 15_000),
        answered(3),
        Step::Router(Action::Requeued { call: CallId(7) }),
        offer_n(2, &[4], 30_000),
        answered_n(2, 4),
        Step::Router(Action::TalkDone { call: CallId(7) }),
    ];
    let (end, inputs, fake) = go("short", script, |_| {});
    assert_eq!(end, AppEnd { result: "ANSWERED", caller_gone: false, ended_by: Some(EndedBy::Agent) });
    assert_eq!(ends(&inputs), [EndedBy::Agent, EndedBy::Agent]);
    assert_eq!(outcomes(&inputs), [(3, OfferOutcome::Answered), (4, OfferOutcome::Answered)]);
    let log = fake.log.join(", ");
    assert!(log.contains("bridge 3, music jazz, ring short a4"), "music and waiting again: {log}");
    assert_eq!(fake.vars.get("hotline_agent").map(String::as_str), Some("a4"));
}

#[test]
fn a_caller_gone_during_the_announcement_drops_the_agent_leg_and_abandons() {
    let (end, inputs, fake) = go("announced", vec![offer(&[3], 15_000), answered(3)], |f| f.leg_played.push_back(LegPlayed::CallerGone));
    assert_eq!(end, AppEnd { result: "ABANDONED", caller_gone: true, ended_by: None });
    assert!(outcomes(&inputs).is_empty(), "the router frees the agent with the caller's hang-up");
    assert!(inputs.iter().any(|i| matches!(i, Input::CallerHangup { .. })), "{inputs:?}");
    assert!(ends(&inputs).is_empty());
    let log = fake.log.join(", ");
    assert!(log.contains("announce 3 File(\"agent-beep\"), drop 3") && !log.contains("claim 3"), "{log}");
}

#[test]
fn a_requeue_waits_for_the_verdict_also_when_the_agents_hang_up_was_reported_first() {
    let script = vec![
        offer(&[3], 15_000),
        Step::AgentEndsTalkFirst,
        answered(3),
        Step::Router(Action::TalkDone { call: CallId(7) }),
    ];
    let (end, inputs, _) = go("short", script, |_| {});
    assert_eq!(end.result, "ANSWERED");
    assert_eq!(ends(&inputs), [EndedBy::Agent]);
}

#[test]
fn without_requeue_the_flow_leaves_after_the_talk_and_a_caller_hang_up_needs_no_verdict() {
    let (end, _, _) = go("support", vec![offer(&[3], 15_000), answered(3)], |_| {});
    assert_eq!(end.result, "ANSWERED");
    let (end, inputs, _) = go("short", vec![offer(&[3], 15_000), answered(3)], |f| f.bridge_end = EndedBy::Caller);
    assert!(end.caller_gone);
    assert_eq!(ends(&inputs), [EndedBy::Caller]);
}

#[test]
fn a_caller_gone_while_the_answer_is_decided_hangs_up_the_leg() {
    // The verdict never comes before the caller hangs up.
    let script = vec![offer(&[3], 15_000), answered(3), Step::Happen(Happening::CallerGone)];
    let router = Rc::new(Recorder { hold_verdicts: true, ..Default::default() });
    let mut fake = Fake::new(router.clone(), script);
    let end = run(&mut fake, &*router, &config(), &NoTexts, "support");
    assert_eq!(end.result, "ABANDONED");
    let log = fake.log.join(", ");
    assert!(log.contains("claim 3") && log.contains("drop 3") && !log.contains("bridge"), "{log}");
    assert!(matches!(router.inputs.borrow().last(), Some(Input::CallerHangup { .. })));
}

#[test]
fn two_answers_waiting_at_once_are_each_decided_and_one_is_bridged() {
    // FreeSWITCH: the legs of an old and a new offer answer together.
    let script = vec![
        offer(&[3], 15_000),
        answered(3),
        answered_n(2, 4),
        Step::Router(Action::Drop { call: CallId(7), seq: 1, agent: 3 }),
        Step::Router(Action::Connect { call: CallId(7), seq: 2, agent: 4 }),
    ];
    let router = Rc::new(Recorder { hold_verdicts: true, ..Default::default() });
    let mut fake = Fake::new(router.clone(), script);
    fake.inline = false;
    let end = run(&mut fake, &*router, &config(), &NoTexts, "support");
    assert_eq!(end.result, "ANSWERED");
    assert_eq!(outcomes(&router.inputs.borrow()), [(3, OfferOutcome::Answered), (4, OfferOutcome::Answered)]);
    let log = fake.log.join(", ");
    assert!(log.contains("claim 3, claim 4, drop 3, music off, bridge 4"), "{log}");
}

#[test]
fn a_recorded_queue_records_exactly_the_talk_and_publishes_its_start_and_stop() {
    let (end, inputs, fake) = go("recorded", vec![offer(&[3], 15_000), answered(3)], |_| {});
    assert_eq!(end.result, "ANSWERED");
    let at = |what: &str| fake.log.iter().position(|l| l.starts_with(what)).unwrap_or_else(|| panic!("{what}: {:?}", fake.log));
    assert!(at("record /rec/recorded/7-a3.wav stereo=false") < at("bridge") && at("bridge") < at("record stop /rec/recorded/7-a3.wav"), "{:?}", fake.log);
    let started = inputs.iter().find_map(|i| match i {
        Input::Publish(crate::core::EventKind::RecordingStarted { id, call, queue, agent, file, .. }) => Some((*id, *call, queue.clone(), agent.clone(), file.clone())),
        _ => None,
    });
    let (id, call, queue, agent, file) = started.expect("RecordingStarted");
    assert_eq!((call, queue.as_str(), agent.as_str(), file.as_str()), (CallId(7), "recorded", "a3", "/rec/recorded/7-a3.wav"));
    let stopped = inputs.iter().position(|i| matches!(i, Input::Publish(crate::core::EventKind::RecordingStopped { id: s, .. }) if *s == id));
    let ended = inputs.iter().position(|i| matches!(i, Input::CallEnded { .. }));
    assert!(stopped.is_some() && stopped < ended, "stopped before the talk's end is reported: {inputs:?}");
}

#[test]
fn a_recorder_that_refuses_costs_the_call_nothing() {
    let (end, inputs, fake) = go("recorded", vec![offer(&[3], 15_000), answered(3)], |f| f.recorder_fails = true);
    assert_eq!(end.result, "ANSWERED");
    assert!(fake.log.iter().any(|l| l == "bridge 3") && !fake.log.iter().any(|l| l.starts_with("record stop")), "{:?}", fake.log);
    assert!(inputs.iter().any(|i| matches!(i, Input::Publish(crate::core::EventKind::RecordingFailed { reason, .. }) if reason == "disk on fire")));
    assert!(!inputs.iter().any(|i| matches!(i, Input::Publish(crate::core::EventKind::RecordingStarted { .. }))));
}

#[test]
fn a_queue_that_does_not_record_never_starts_the_recorder() {
    let (_, _, fake) = go("support", vec![offer(&[3], 15_000), answered(3)], |_| {});
    assert!(!fake.log.iter().any(|l| l.starts_with("record")), "{:?}", fake.log);
}
