// SPDX-License-Identifier: GPL-2.0-or-later
//! The message player against the fake PBX: listening order, heard marks,
//! deletion, barge-in, an empty mailbox, a hang-up.

use std::path::PathBuf;
use std::rc::Rc;

use super::*;
use crate::core::Input;
use crate::flow::ivr::tests::Press;
use crate::flow::queue::tests::{Fake, Recorder};
use crate::messages::MessageRecord;

struct Spoken;

impl TextPrompts for Spoken {
    fn file(&self, text: &str, _language: &str) -> Option<String> {
        Some(format!("/tts/{text}.wav"))
    }
}

fn message(id: u64, left_at: i64, heard: bool) -> MessageRecord {
    MessageRecord {
        id,
        mailbox: "sales".into(),
        step: "vm".into(),
        number: format!("09{id}"),
        name: String::new(),
        callback: None,
        file: format!("/msg/sales/{id}.wav"),
        ms: 3000,
        data: serde_json::json!({}),
        left_at,
        heard_at: heard.then_some(left_at + 1),
        heard_by: heard.then(|| "1001".to_string()),
    }
}

struct Played {
    fake: Fake,
    router: Rc<Recorder>,
    end: AppEnd,
}

fn play(kept: Vec<MessageRecord>, presses: &[Press]) -> Played {
    let messages = Messages::new(PathBuf::from("/msg"), kept);
    let router = Rc::new(Recorder::default());
    let mut fake = Fake::new(router.clone(), Vec::new());
    fake.keys = presses.iter().cloned().collect();
    let end = run(&mut fake, &*router, &PlayerContext { messages: &messages, texts: &Spoken }, "sales");
    Played { fake, router, end }
}

impl Played {
    fn files(&self) -> Vec<String> {
        self.fake.log.iter().filter(|l| l.starts_with("play File(\"/msg/")).cloned().collect()
    }
    fn events(&self) -> Vec<EventKind> {
        self.router.inputs.borrow().iter().filter_map(|i| if let Input::Publish(k) = i { Some(k.clone()) } else { None }).collect()
    }
}

#[test]
fn new_messages_play_first_and_are_marked_heard() {
    // 1 heard long ago, 2 new: 2 plays first.
    let p = play(vec![message(1, 10, true), message(2, 20, false)], &[]);
    assert_eq!(p.end.result, "DONE");
    let files = p.files();
    assert_eq!(files.len(), 2, "{:?}", p.fake.log);
    assert!(files[0].contains("/msg/sales/2.wav") && files[1].contains("/msg/sales/1.wav"), "{files:?}");
    let ev = p.events();
    assert_eq!(ev.len(), 1, "only the new one is marked: {ev:?}");
    assert!(matches!(&ev[0], EventKind::MessageHeard { id: 2, by, .. } if by == "0901"), "{ev:?}");
    assert_eq!(p.fake.vars.get("hotline_messages_count").map(String::as_str), Some("2"));
    assert_eq!(p.fake.vars.get("hotline_messages_heard").map(String::as_str), Some("2"));
    // "You have 1 new messages", and the caller's number said digit by digit.
    assert!(p.fake.log.iter().any(|l| l == "play Number(1)"), "{:?}", p.fake.log);
    assert!(p.fake.log.iter().any(|l| l.starts_with("play Digits(\"092\")")), "{:?}", p.fake.log);
}

#[test]
fn a_key_during_the_announcement_deletes_without_playing() {
    let p = play(vec![message(1, 10, false), message(2, 20, false)], &[Press::Key('3')]);
    let ev = p.events();
    assert!(matches!(&ev[0], EventKind::MessageDeleted { id: 1, .. }), "{ev:?}");
    // 1 was deleted before its file played; 2 played and was marked heard.
    assert_eq!(p.files().len(), 1);
    assert!(p.files()[0].contains("/2.wav"));
    assert!(matches!(&ev[1], EventKind::MessageHeard { id: 2, .. }), "{ev:?}");
}

#[test]
fn one_repeats_and_star_stops() {
    // The intro (3 prompts) and message 1 (6) play to the end; at the
    // choices 1 (again), then * (stop) cuts the repeat at once.
    let presses = [vec![Press::Nothing; 9], vec![Press::Key('1')], vec![Press::Key('*')]].concat();
    let p = play(vec![message(1, 10, false), message(2, 20, false)], &presses);
    assert_eq!(p.end.result, "DONE");
    assert_eq!(p.files().len(), 1, "played once, the repeat cut by *: {:?}", p.fake.log);
    assert!(p.events().is_empty(), "stopped before the end: nothing marked");
}

#[test]
fn an_empty_mailbox_says_so_and_a_hang_up_ends_it() {
    let p = play(Vec::new(), &[]);
    assert_eq!(p.end.result, "DONE");
    assert!(p.fake.log.iter().any(|l| l.contains(NO_MESSAGES)), "{:?}", p.fake.log);
    let p = play(vec![message(1, 10, false)], &[Press::HangUp]);
    assert_eq!((p.end.result, p.end.caller_gone), ("ABANDONED", true));
    assert!(p.events().is_empty());
}
