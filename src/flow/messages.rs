// SPDX-License-Identifier: GPL-2.0-or-later
//! The message player, once for both PBXes: `HotlineMessages(mailbox)` on
//! Asterisk, `hotline_messages mailbox` on FreeSWITCH. An agent calls it
//! from any phone and hears the mailbox's messages, new ones first.
//!
//! For each message: "message N from <number>", the recording, then
//! 1 = hear it again, 2 or # = the next one (the message is marked heard),
//! 3 = delete it, * = stop. No key within the timeout counts as 2. A key
//! pressed during the announcement or the recording is taken at once
//! (barge-in). Marks and deletions are events (`MessageHeard`,
//! `MessageDeleted`): the messages sink files them off this thread.
//!
//! Sets `hotline_messages_count` (messages in the mailbox on entry) and
//! `hotline_messages_heard` (played to the end or skipped through).

use crate::core::event::EventKind;
use crate::core::{Input as RouterInput, Time};
use crate::ivr::Prompt;
use crate::messages::Messages;

use super::ivr::{Heard, IvrPrimitives, TextPrompts};
use super::queue::AppEnd;
use super::RouterPort;

/// The player's own words, rendered with the IVR's text prompts at load.
pub const YOU_HAVE: &str = "You have";
pub const NEW_MESSAGES: &str = "new messages.";
pub const NO_MESSAGES: &str = "You have no messages.";
pub const MESSAGE: &str = "Message";
pub const FROM: &str = "from";
pub const CHOICES: &str = "Press 1 to hear it again, 2 for the next message, 3 to delete it.";
pub const DELETED: &str = "Deleted.";
pub const NO_MORE: &str = "No more messages. Goodbye.";
/// Every text the player says (rendered at load when espeak-ng is there).
pub const TEXTS: [&str; 8] = [YOU_HAVE, NEW_MESSAGES, NO_MESSAGES, MESSAGE, FROM, CHOICES, DELETED, NO_MORE];

/// How long the player waits for a key after the choices (ms).
pub const CHOICE_TIMEOUT: Time = 5_000;

/// What the player needs besides the PBX and the router.
pub struct PlayerContext<'a> {
    pub messages: &'a Messages,
    pub texts: &'a dyn TextPrompts,
}

/// Run the player for the mailbox named in `args`.
pub fn run<P: IvrPrimitives>(pbx: &mut P, router: &dyn RouterPort, cx: &PlayerContext<'_>, args: &str) -> AppEnd {
    let mailbox = args.trim();
    if mailbox.is_empty() || mailbox.contains(',') {
        log::error!("{}({args}): usage: the mailbox's name", pbx.context());
        return AppEnd { result: "ERROR", caller_gone: false, ended_by: None };
    }
    if !pbx.answer() {
        return gone();
    }
    let list = cx.messages.list(mailbox);
    let count_var = pbx.hotline_var("messages_count");
    pbx.set_var(&count_var, Some(&list.len().to_string()));
    let by = pbx.caller_number();
    let new = list.iter().filter(|m| m.heard_at.is_none()).count();
    let intro = if list.is_empty() {
        vec![Prompt::Text(NO_MESSAGES.into())]
    } else {
        vec![Prompt::Text(YOU_HAVE.into()), Prompt::Number(new as i64), Prompt::Text(NEW_MESSAGES.into())]
    };
    if say(pbx, cx.texts, &intro, false) == Heard::Gone {
        return gone();
    }
    let mut heard = 0;
    'messages: for (i, m) in list.iter().enumerate() {
        let digits: String = m.number.chars().filter(|c| c.is_ascii_digit()).collect();
        loop {
            let mut about = vec![Prompt::Text(MESSAGE.into()), Prompt::Number(i as i64 + 1)];
            if !digits.is_empty() {
                about.extend([Prompt::Text(FROM.into()), Prompt::Digits(digits.clone())]);
            }
            about.push(Prompt::File(m.file.clone()));
            about.push(Prompt::Text(CHOICES.into()));
            let key = match say(pbx, cx.texts, &about, true) {
                Heard::Gone => return gone(),
                Heard::Key(k) => Some(k),
                Heard::Nothing => match pbx.read_key(CHOICE_TIMEOUT) {
                    Heard::Gone => return gone(),
                    Heard::Key(k) => Some(k),
                    Heard::Nothing => None,
                },
            };
            match key {
                Some('1') => continue,
                Some('3') => {
                    router.report(RouterInput::Publish(EventKind::MessageDeleted { id: m.id, mailbox: mailbox.into(), by: by.clone() }));
                    if say(pbx, cx.texts, &[Prompt::Text(DELETED.into())], true) == Heard::Gone {
                        return gone();
                    }
                    heard += 1;
                    continue 'messages;
                }
                Some('*') => break 'messages,
                _ => {
                    if m.heard_at.is_none() {
                        router.report(RouterInput::Publish(EventKind::MessageHeard { id: m.id, mailbox: mailbox.into(), by: by.clone() }));
                    }
                    heard += 1;
                    continue 'messages;
                }
            }
        }
    }
    let heard_var = pbx.hotline_var("messages_heard");
    pbx.set_var(&heard_var, Some(&heard.to_string()));
    if !list.is_empty() && say(pbx, cx.texts, &[Prompt::Text(NO_MORE.into())], false) == Heard::Gone {
        return gone();
    }
    AppEnd { result: "DONE", caller_gone: false, ended_by: None }
}

fn gone() -> AppEnd {
    AppEnd { result: "ABANDONED", caller_gone: true, ended_by: None }
}

/// Play `prompts` in order; with `barge`, the first key ends them.
fn say<P: IvrPrimitives>(pbx: &mut P, texts: &dyn TextPrompts, prompts: &[Prompt], barge: bool) -> Heard {
    // The player's words are English: numbers are said by the PBX.
    for p in prompts {
        for prompt in super::ivr::to_pbx(pbx, texts, "", p) {
            match pbx.play_prompt(&prompt, barge) {
                Heard::Key(k) if barge => return Heard::Key(k),
                Heard::Gone => return Heard::Gone,
                _ => {}
            }
        }
    }
    Heard::Nothing
}

#[cfg(test)]
#[path = "messages_tests.rs"]
mod tests;
