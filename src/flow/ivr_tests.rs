// SPDX-License-Identifier: GPL-2.0-or-later
//! The IVR flow against the queue flow's fake PBX on a virtual clock:
//! barge-in, digit collection (terminators, complete keys, maximum,
//! timeouts), hang-ups, text prompts, masking, transfers, queue exits and
//! the IVR's events.

use std::rc::Rc;
use std::time::{Duration, Instant};

use super::*;
use crate::core::event::EventKind;
use crate::flow::queue::tests::{Fake, Recorder};
use crate::ivr::metrics::IvrMetrics;

/// What the fake caller does at the next prompt or wait for a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Press {
    /// A key while a prompt plays (barge-in) or as soon as a key is
    /// waited for.
    Key(char),
    /// Nothing: the prompt plays out / the wait times out.
    Nothing,
    /// The caller hangs up.
    HangUp,
    /// Words, when the menu listens (confidence 90).
    Say(&'static str),
}

impl IvrPrimitives for Fake {
    fn play_prompt(&mut self, prompt: &PbxPrompt, barge_in: bool) -> Heard {
        self.log.push(format!("play {prompt:?}{}", if barge_in { " (barge)" } else { "" }));
        self.now += 100;
        match self.keys.front() {
            Some(Press::Key(k)) if barge_in => {
                let k = *k;
                self.keys.pop_front();
                Heard::Key(k)
            }
            Some(Press::HangUp) => {
                self.keys.pop_front();
                self.up = false;
                Heard::Gone
            }
            Some(Press::Nothing) => {
                self.keys.pop_front();
                Heard::Nothing
            }
            _ => Heard::Nothing,
        }
    }

    fn read_key(&mut self, timeout: Time) -> Heard {
        self.log.push(format!("read {timeout}"));
        match self.keys.pop_front() {
            Some(Press::Key(k)) => {
                self.now += 50;
                Heard::Key(k)
            }
            Some(Press::HangUp) => {
                self.up = false;
                Heard::Gone
            }
            Some(Press::Nothing | Press::Say(_)) | None => {
                self.now += timeout;
                Heard::Nothing
            }
        }
    }

    fn listen(&mut self, speech: &Speech, timeout: Time, prompts: &[String]) -> Listened {
        self.log.push(format!("listen {:?} {timeout} over {prompts:?}", speech.grammar()));
        match self.keys.pop_front() {
            Some(Press::Say(w)) => {
                self.now += 800;
                Listened::Words { text: w.to_string(), confidence: 90 }
            }
            Some(Press::Key(k)) => Listened::Key(k),
            Some(Press::HangUp) => {
                self.up = false;
                Listened::Gone
            }
            Some(Press::Nothing) | None => {
                self.now += timeout;
                Listened::Nothing
            }
        }
    }

    fn set_language(&mut self, lang: &str) {
        self.log.push(format!("language {lang}"));
    }

    fn goto(&mut self, target: &str) -> Result<(), String> {
        self.log.push(format!("goto {target}"));
        Ok(())
    }

    fn hang_up(&mut self) {
        self.log.push("hang up".into());
        self.up = false;
    }

    /// The next press says how it goes: `s` a short one (300 ms), a hang-up
    /// after 4 s, anything else 4 s ended by silence.
    fn record(&mut self, file: &str, max_ms: Time, silence_ms: Time, beep: bool) -> Recording {
        self.log.push(format!("record {file} max {max_ms} silence {silence_ms}{}", if beep { " beep" } else { "" }));
        match self.keys.pop_front() {
            Some(Press::Key('s')) => Recording { ms: 300, gone: false },
            Some(Press::HangUp) => {
                self.up = false;
                Recording { ms: 4000, gone: true }
            }
            _ => Recording { ms: 4000, gone: false },
        }
    }

    fn unix_ms(&self) -> i64 {
        // Monday 2026-01-05 10:00 in Vietnam.
        1_767_582_000_000
    }
}

struct Rendered;

impl TextPrompts for Rendered {
    fn file(&self, text: &str, _language: &str) -> Option<String> {
        (text == "Welcome").then(|| "/cache/welcome.wav".to_string())
    }
}

struct NoFacts;

impl Facts for NoFacts {
    fn waiting(&self, _queue: &str) -> Option<usize> {
        None
    }
    fn idle_agents(&self, _queue: &str) -> Option<usize> {
        None
    }
}

const CONFIG: &str = r##"
[[queue]]
name = "support"
callback_contact = "PJSIP/{number}@trunk"

[[menu]]
name = "main"
greet_long = ["text:Welcome", "text:Not rendered", "say:digits:12", "menu-options"]
invalid_sound = ["invalid"]
timeout_seconds = 4
inter_digit_timeout_seconds = 1
digit_len = 3
max_failures = 1
max_timeouts = 1
on_max_failures = { action = "hangup" }
on_max_timeouts = { action = "return" }
  [[menu.entry]]
  digits = "1"
  action = "queue"
  target = "support"
  priority = 7
  skills = "vi:3"
  [[menu.entry]]
  digits = "2"
  action = "collect"
  target = "card"
  [[menu.entry]]
  digits = "5"
  action = "message"
  target = "vm"
  [[menu.entry]]
  digits = "6"
  action = "callback"
  target = "support"
  prompts = ["cb-confirm"]
  [[menu.entry]]
  digits = "/^7[0-9]{2}$/"
  action = "transfer"
  target = "ext-{digits}"

[[menu]]
name = "spoken"
greet_long = ["say-or-press"]
invalid_sound = ["not-understood"]
timeout_seconds = 4
max_failures = 2
on_max_failures = { action = "hangup" }
speech_confidence = 50
  [[menu.entry]]
  digits = "1"
  words = ["support", "technical support"]
  action = "queue"
  target = "support"
  [[menu.entry]]
  digits = "2"
  words = ["call me back"]
  action = "callback"
  target = "support"

[[collect]]
name = "card"
prompts = ["enter-card"]
into = "card"
min_digits = 12
max_digits = 19
terminators = "#"
validate = "luhn"
sensitive = true
next = { action = "return" }
on_failure = { action = "hangup" }

[[message]]
name = "vm"
mailbox = "sales"
prompts = ["leave-message"]
max_seconds = 60
silence_seconds = 3
min_seconds = 1
callback = "support"
done_sound = ["thanks"]
on_empty = { action = "return" }
"##;

struct Run {
    fake: Fake,
    router: Rc<Recorder>,
    end: AppEnd,
    metrics: IvrMetrics,
}

fn run_ivr(presses: &[Press]) -> Run {
    run_ivr_at("main", presses)
}

fn run_ivr_at(menu: &str, presses: &[Press]) -> Run {
    run_ivr_with(CONFIG, menu, presses)
}

fn run_ivr_with(config: &str, menu: &str, presses: &[Press]) -> Run {
    let cfg = Config::parse(config, "ivr-flow.toml").unwrap_or_else(|e| panic!("{e}"));
    let router = Rc::new(Recorder { refuse_enter: true, ..Default::default() });
    let mut fake = Fake::new(router.clone(), Vec::new());
    fake.keys = presses.iter().cloned().collect();
    let metrics = IvrMetrics::default();
    let cx = IvrContext { cfg: &cfg, facts: &NoFacts, texts: &Rendered, metrics: &metrics, messages_dir: std::path::Path::new("/msg") };
    let end = run(&mut fake, &*router, &cx, menu);
    Run { fake, router, end, metrics }
}

fn keys(s: &str) -> Vec<Press> {
    s.chars().map(Press::Key).collect()
}

impl Run {
    fn plays(&self) -> Vec<&str> {
        self.fake.log.iter().filter(|l| l.starts_with("play ")).map(|l| l.as_str()).collect()
    }
    fn var(&self, name: &str) -> Option<&str> {
        self.fake.vars.get(name).map(|s| s.as_str())
    }
    fn left(&self) -> Option<EventKind> {
        self.router.inputs.borrow().iter().find_map(|i| match i {
            RouterInput::Publish(e @ EventKind::IvrLeft { .. }) => Some(e.clone()),
            _ => None,
        })
    }
}

#[test]
fn a_key_during_the_greeting_ends_it_and_a_complete_key_waits_for_nothing() {
    let r = run_ivr(&keys("1"));
    // The rendered text prompt plays from its file; the unrendered one is
    // skipped; the key came during the first prompt, so nothing else played.
    assert_eq!(r.plays(), ["play File(\"/cache/welcome.wav\") (barge)"]);
    assert!(!r.fake.log.iter().any(|l| l.starts_with("read ")), "1 is complete: no wait for more digits: {:?}", r.fake.log);
    // Into the queue with the entry's priority and skills (the router here
    // refuses the call: the queue flow's own ERROR).
    let entered = r.router.entered.borrow();
    assert_eq!((entered[0].priority, entered[0].skills.clone()), (7, vec![("vi".to_string(), 3)]));
    assert_eq!(r.end.result, "ERROR");
    assert_eq!(r.var("hotline_ivr_path"), Some("main"));
    assert!(matches!(r.left(), Some(EventKind::IvrLeft { result: "QUEUE", .. })), "{:?}", r.left());
}

#[test]
fn dial_by_extension_collects_up_to_the_menus_length_with_the_inter_digit_timeout() {
    let r = run_ivr(&keys("712"));
    // The first key interrupts, then two waits of the inter-digit timeout.
    let reads: Vec<&String> = r.fake.log.iter().filter(|l| l.starts_with("read ")).collect();
    assert_eq!(reads, ["read 1000", "read 1000"]);
    assert!(r.fake.log.contains(&"goto ext-712".to_string()), "{:?}", r.fake.log);
    assert_eq!((r.end.result, r.var("hotline_ivr_result")), ("TRANSFER", Some("TRANSFER")));
    // The key-to-prompt time is counted for keys followed by a prompt only.
    assert_eq!(r.metrics.key_to_prompt.count(), 0);
}

#[test]
fn silence_waits_the_first_digit_timeout_then_takes_the_timeouts_exit() {
    let r = run_ivr(&[Press::Nothing, Press::Nothing, Press::Nothing, Press::Nothing, Press::Nothing]);
    assert!(r.fake.log.contains(&"read 4000".to_string()), "{:?}", r.fake.log);
    assert_eq!(r.end.result, "RETURN");
}

#[test]
fn a_caller_who_hangs_up_during_a_prompt_is_abandoned_and_reported() {
    let r = run_ivr(&[Press::HangUp]);
    assert_eq!((r.end.result, r.end.caller_gone), ("ABANDONED", true));
    assert!(matches!(r.left(), Some(EventKind::IvrLeft { result: "ABANDONED", .. })), "{:?}", r.left());
    assert_eq!(r.metrics.report().lines().nth(1), Some("left: queue 0, transfer 0, hangup 0, return 0, abandoned 1, error 0"));
}

#[test]
fn a_collected_card_ends_on_the_terminator_and_stays_masked_outside() {
    let mut presses = keys("2");
    presses.push(Press::Nothing); // the rest of the greeting... none left: the collect's prompt
    presses.extend(keys("4111111111111111#"));
    let r = run_ivr(&presses);
    assert_eq!(r.end.result, "RETURN", "{:?}", r.fake.log);
    assert_eq!(r.var("hotline_data_card"), Some("************1111"));
    let Some(EventKind::IvrLeft { data, path, .. }) = r.left() else { panic!("IvrLeft") };
    assert_eq!(data, vec![("data_card".to_string(), "************1111".to_string())]);
    assert_eq!(path, "main/card");
    // The terminator ended the input: no wait after it.
    let last_read = r.fake.log.iter().rposition(|l| l.starts_with("read "));
    let after: Vec<&String> = r.fake.log[last_read.unwrap_or(0)..].iter().collect();
    assert_eq!(after.iter().filter(|l| l.starts_with("read ")).count(), 1, "{after:?}");
    // The key that opened the collect was followed by its prompt: counted.
    assert!(r.metrics.key_to_prompt.count() >= 1);
}

#[test]
fn a_wrong_key_plays_the_invalid_prompt_then_the_failures_exit() {
    let r = run_ivr(&keys("9"));
    assert!(r.plays().iter().any(|p| p.contains("\"invalid\"")), "{:?}", r.plays());
    assert_eq!((r.end.result, r.end.caller_gone), ("HANGUP", true));
    assert!(r.fake.log.contains(&"hang up".to_string()));
}

#[test]
fn bad_arguments_and_unknown_menus_fail_the_call_with_no_session() {
    let cfg = Config::parse(CONFIG, "ivr-flow.toml").unwrap_or_else(|e| panic!("{e}"));
    let router = Rc::new(Recorder::default());
    let metrics = IvrMetrics::default();
    let cx = IvrContext { cfg: &cfg, facts: &NoFacts, texts: &NoTexts, metrics: &metrics, messages_dir: std::path::Path::new("/msg") };
    for args in ["", "main,extra", "nosuch"] {
        let mut fake = Fake::new(router.clone(), Vec::new());
        let end = run(&mut fake, &*router, &cx, args);
        assert_eq!(end.result, "ERROR", "{args:?}");
        assert!(!fake.log.contains(&"answer".to_string()), "not answered for {args:?}");
    }
    assert!(router.inputs.borrow().is_empty(), "no IVR events without a session");
}

// ---- leaving a message ----

fn published(r: &Run) -> Vec<EventKind> {
    r.router.inputs.borrow().iter().filter_map(|i| if let RouterInput::Publish(k) = i { Some(k.clone()) } else { None }).collect()
}

#[test]
fn a_message_is_recorded_after_its_prompt_announced_and_queued_for_a_callback() {
    let r = run_ivr(&keys("5"));
    let rec = r.fake.log.iter().find(|l| l.starts_with("record ")).expect("recorded");
    assert_eq!(rec, &format!("record /msg/sales/{}-7 max 60000 silence 3000 beep", 1_767_582_000_000i64));
    let plays = r.plays();
    let prompt = plays.iter().position(|p| p.contains("\"leave-message\"")).expect("prompt before the beep");
    let thanks = plays.iter().position(|p| p.contains("\"thanks\"")).expect("done_sound after it");
    assert!(prompt < thanks);
    assert_eq!((r.end.result, r.end.caller_gone), ("HANGUP", true), "the step's default next is hang up");
    let inputs = r.router.inputs.borrow();
    let cb = inputs.iter().find_map(|i| if let RouterInput::CallbackNew { call, queue, number, .. } = i { Some((call.0, queue.clone(), number.clone())) } else { None });
    assert_eq!(cb, Some((7, "support".to_string(), "0901".to_string())));
    drop(inputs);
    let left = published(&r).into_iter().find_map(|k| match k {
        EventKind::MessageLeft { id, mailbox, file, ms, callback, .. } => Some((id, mailbox, file, ms, callback)),
        _ => None,
    });
    assert_eq!(left, Some((7, "sales".into(), format!("/msg/sales/{}-7.wav", 1_767_582_000_000i64), 4000, Some("support".into()))));
}

#[test]
fn a_too_short_message_is_discarded_and_takes_on_empty() {
    let r = run_ivr(&[Press::Key('5'), Press::Key('s')]);
    assert_eq!(r.end.result, "RETURN");
    let ev = published(&r);
    assert!(ev.iter().any(|k| matches!(k, EventKind::MessageDiscarded { ms: 300, .. })), "{ev:?}");
    assert!(!ev.iter().any(|k| matches!(k, EventKind::MessageLeft { .. })));
    assert!(!r.router.inputs.borrow().iter().any(|i| matches!(i, RouterInput::CallbackNew { .. })), "no callback for nothing");
    assert!(!r.plays().iter().any(|p| p.contains("\"thanks\"")));
}

#[test]
fn hanging_up_ends_the_message_and_keeps_it() {
    let r = run_ivr(&[Press::Key('5'), Press::Nothing, Press::HangUp]);
    assert_eq!((r.end.result, r.end.caller_gone), ("HANGUP", true));
    let ev = published(&r);
    assert!(ev.iter().any(|k| matches!(k, EventKind::MessageLeft { ms: 4000, .. })), "{ev:?}");
    assert!(ev.iter().any(|k| matches!(k, EventKind::IvrLeft { result: "HANGUP", .. })), "{ev:?}");
    assert!(!r.plays().iter().any(|p| p.contains("\"thanks\"")), "nothing played to a caller who left");
}

#[test]
fn a_callback_key_queues_a_callback_confirms_and_hangs_up() {
    let r = run_ivr(&keys("6"));
    assert_eq!((r.end.result, r.end.caller_gone), ("HANGUP", true));
    let inputs = r.router.inputs.borrow();
    let cb: Vec<_> = inputs.iter().filter_map(|i| if let RouterInput::CallbackNew { queue, number, .. } = i { Some((queue.clone(), number.clone())) } else { None }).collect();
    assert_eq!(cb, vec![("support".to_string(), "0901".to_string())]);
    drop(inputs);
    assert!(r.plays().iter().any(|p| p.contains("\"cb-confirm\"")), "{:?}", r.plays());
    assert!(!r.fake.log.iter().any(|l| l.starts_with("record ")), "no recording for a plain callback");
}

#[test]
fn masks_keep_four_of_long_values_only() {
    assert_eq!(mask("4111111111111111"), "************1111");
    assert_eq!(mask("1234"), "****");
    assert_eq!(mask(""), "");
}

// ---- the lookup's thread and deadline ----

#[test]
fn a_lookup_runs_on_its_own_thread() {
    let rx = start_lookup(|| {
        let t = std::thread::current();
        Ok(vec![("thread".into(), t.name().unwrap_or("").to_string())])
    })
    .unwrap();
    let got = wait_lookup(&rx, Instant::now() + Duration::from_secs(10)).unwrap();
    assert_eq!(got, vec![("thread".to_string(), "hotline-lookup".to_string())]);
    assert_ne!(std::thread::current().name(), Some("hotline-lookup"));
}

#[test]
fn a_late_lookup_is_a_timeout_at_its_deadline() {
    let (release, held) = crossbeam_channel::bounded::<()>(0);
    let rx = start_lookup(move || {
        // Answers only once the test lets it (or after 10 s).
        let _ = held.recv_timeout(Duration::from_secs(10));
        Ok(Vec::new())
    })
    .unwrap();
    let started = Instant::now();
    assert_eq!(wait_lookup(&rx, started + Duration::from_millis(200)), Err("timeout".to_string()));
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(200) && took < Duration::from_millis(1000), "{took:?}");
    drop(release);
    // A result already there is taken even past the deadline.
    let (tx, rx) = crossbeam_channel::bounded(1);
    tx.send(Ok(vec![("a".to_string(), "1".to_string())])).unwrap();
    assert_eq!(wait_lookup(&rx, Instant::now()), Ok(vec![("a".to_string(), "1".to_string())]));
    // A worker that died without answering is not a timeout.
    let rx = start_lookup(|| panic!("lookup worker panics (expected by the test)")).unwrap();
    let e = wait_lookup(&rx, Instant::now() + Duration::from_secs(10)).unwrap_err();
    assert!(e.contains("without a result"), "{e}");
}


#[test]
fn a_spoken_phrase_takes_its_keys_branch_and_unknown_words_are_invalid() {
    // "technical support" is key 1: into the support queue, after one
    // utterance that stands for no key ("banana": the invalid prompt).
    let r = run_ivr_at("spoken", &[Press::Say("banana"), Press::Say("I need technical support")]);
    assert_eq!(
        r.fake.log.iter().filter(|l| l.starts_with("listen ") || l.starts_with("play ")).cloned().collect::<Vec<_>>(),
        [
            // The prompts play inside the listening: the caller's voice
            // stops them (barge-in) as a key does.
            "listen \"support|technical support|call me back\" 4000 over [\"say-or-press\"]",
            "listen \"support|technical support|call me back\" 4000 over [\"not-understood\", \"say-or-press\"]",
        ]
    );
    assert_eq!(r.router.entered.borrow().len(), 1, "queued after the words");
    assert_eq!(r.end.result, "ERROR", "the recorder refuses the queue");
}

#[test]
fn keys_are_taken_while_listening_and_silence_is_a_timeout() {
    // Silence (the greeting plays inside the listening), then key 2.
    let r = run_ivr_at("spoken", &[Press::Nothing, Press::Key('2')]);
    assert!(r.router.inputs.borrow().iter().any(|i| matches!(i, RouterInput::CallbackNew { .. })), "key 2 asked for a callback");
    assert_eq!(r.fake.log.iter().filter(|l| l.starts_with("listen ")).count(), 2);
    let r = run_ivr_at("spoken", &[Press::Say("banana"), Press::Say("call me")]);
    assert_eq!(r.end.result, "HANGUP", "two utterances that stand for no key: the failures exit");
}

/// Only the sound files at the end play inside the listening: a say
/// prompt before them is the PBX's (a key stops it), and a menu without
/// barge-in plays everything first.
#[test]
fn prompts_said_by_the_pbx_play_before_the_listening() {
    let cfg = r##"
[[queue]]
name = "support"

[[menu]]
name = "spoken"
greet_long = ["say:number:3", "options", "say-or-press"]
timeout_seconds = 4
  [[menu.entry]]
  digits = "1"
  words = ["support"]
  action = "queue"
  target = "support"
"##;
    let r = run_ivr_with(cfg, "spoken", &[Press::Say("support")]);
    let log: Vec<String> = r.fake.log.iter().filter(|l| l.starts_with("listen ") || l.starts_with("play ")).cloned().collect();
    assert_eq!(log, ["play Number(3) (barge)", "listen \"support\" 4000 over [\"options\", \"say-or-press\"]"]);
    let r = run_ivr_with(&cfg.replace("timeout_seconds = 4", "timeout_seconds = 4\nbarge_in = false"), "spoken", &[Press::Say("support")]);
    let log: Vec<String> = r.fake.log.iter().filter(|l| l.starts_with("listen ") || l.starts_with("play ")).cloned().collect();
    assert_eq!(log, ["play Number(3)", "play File(\"options\")", "play File(\"say-or-press\")", "listen \"support\" 4000 over []"]);
}

/// A Vietnamese menu's collect: the read-back (and a say prompt) are the
/// rendered words' files, in order; a key during them ends the read-back
/// (barge-in) as it ends any prompt. In English the PBX says the digits.
#[test]
fn a_read_back_in_vietnamese_plays_the_rendered_words() {
    const VI: &str = r##"
[[queue]]
name = "support"

[[menu]]
name = "main"
language = "vi"
greet_long = ["say:number:25"]
timeout_seconds = 2
  [[menu.entry]]
  digits = "1"
  action = "collect"
  target = "acct"

[[collect]]
name = "acct"
prompts = ["enter"]
into = "acct"
max_digits = 3
read_back = true
read_back_sound = ["you-entered"]
confirm_sound = ["press-1"]
confirm_key = "1"
next = { action = "return" }
on_failure = { action = "hangup" }
"##;
    let go = |lang: &str, presses: &[Press]| {
        let cfg = Config::parse(&VI.replace("language = \"vi\"", &format!("language = \"{lang}\"")), "vi.toml").unwrap_or_else(|e| panic!("{e}"));
        let router = Rc::new(Recorder::default());
        let mut fake = Fake::new(router.clone(), Vec::new());
        fake.keys = presses.iter().cloned().collect();
        let metrics = IvrMetrics::default();
        let cx = IvrContext { cfg: &cfg, facts: &NoFacts, texts: &crate::flow::queue::tests::Words, metrics: &metrics, messages_dir: std::path::Path::new("/msg") };
        let end = run(&mut fake, &*router, &cx, "main");
        let plays: Vec<String> = fake.log.iter().filter(|l| l.starts_with("play ")).cloned().collect();
        (end, plays)
    };
    // 1 opens the collect (during the greeting), 1 0 5 are the value; the
    // read-back plays out, then 1 confirms.
    let mut presses = keys("1");
    presses.push(Press::Nothing);
    presses.extend(keys("105"));
    presses.extend([Press::Nothing, Press::Nothing, Press::Nothing, Press::Nothing, Press::Nothing]);
    presses.push(Press::Key('1'));
    let (end, plays) = go("vi", &presses);
    assert_eq!(end.result, "RETURN", "{plays:?}");
    let file = |w: &str| format!("play File(\"/w/vi-{w}.wav\") (barge)");
    assert_eq!(plays[0], file("hai"), "the say prompt: {plays:?}");
    let at = plays.iter().position(|p| p.contains("you-entered")).expect("read-back sound");
    assert_eq!(plays[at + 1..at + 4], [file("một"), file("không"), file("năm")], "{plays:?}");
    assert!(plays[at + 4].contains("press-1"), "{plays:?}");
    // In English the PBX's own say functions.
    let (_, plays) = go("en", &presses);
    assert_eq!(plays[0], "play Number(25) (barge)", "{plays:?}");
    assert!(plays.iter().any(|p| p == "play Digits(\"105\") (barge)"), "{plays:?}");
}
