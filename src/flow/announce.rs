// SPDX-License-Identifier: GPL-2.0-or-later
//! "You are caller number N; the expected wait is M minutes": which prompts,
//! in which order. Each PBX names its own sound files ([`Sound`]); a sound
//! a PBX lacks is left out (FreeSWITCH has no hold-time prompt). Numbers
//! are said in the channel's language: in Vietnamese and Chinese with
//! Hotline's rendered words ([`super::say`]), else by the PBX.
//!
//! And what an answered agent hears before the bridge ([`to_agent`]).

use super::data::CallData;
use super::ivr::TextPrompts;
use super::pbx::{LegPrompt, Primitives, Sound};
use super::say::{said, Said, Say};
use crate::core::agent_announce::AgentAnnounce;
use crate::core::Time;

/// The prompt for an agent announcement: a file as is; the queue's name as
/// the prompt `hotline/queue-<name>` or spelled; a data value said (digits
/// as digits, anything else spelled). `None`: nothing to say (the data key
/// is not set on this call).
pub fn to_agent(announce: &AgentAnnounce, queue: &str, data: &CallData) -> Option<LegPrompt> {
    Some(match announce {
        AgentAnnounce::File(f) => LegPrompt::File(f.clone()),
        AgentAnnounce::QueueName => LegPrompt::FileOrSpell { file: format!("hotline/queue-{queue}"), spell: queue.to_string() },
        AgentAnnounce::Data(key) => {
            let v = data.entries().iter().find(|(k, _)| k == key).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())?;
            if v.chars().all(|c| c.is_ascii_digit()) {
                LegPrompt::Digits(v.to_string())
            } else {
                LegPrompt::Spell(v.to_string())
            }
        }
    })
}

/// Play the announcement; stops early when the caller leaves.
pub fn position<P: Primitives>(pbx: &mut P, texts: &dyn TextPrompts, position: usize, expected_wait: Option<Time>) {
    let mut steps: Vec<Step> = Vec::with_capacity(6);
    if position == 1 && pbx.sound(Sound::YouAreNext).is_some() {
        steps.push(Step::Sound(Sound::YouAreNext));
    } else {
        steps.extend([Step::Sound(Sound::ThereAre), Step::Number(position as u64), Step::Sound(Sound::CallsWaiting)]);
    }
    if let Some(ms) = expected_wait {
        if pbx.sound(Sound::HoldTime).is_some() {
            let minutes = ms.div_ceil(60_000).max(1);
            steps.extend([Step::Sound(Sound::HoldTime), Step::Number(minutes), Step::Sound(Sound::Minutes)]);
        }
    }
    for step in steps {
        if !pbx.caller_up() {
            return;
        }
        match step {
            Step::Sound(s) => {
                if let Some(file) = pbx.sound(s) {
                    pbx.play_file(file);
                }
            }
            Step::Number(n) => say_number(pbx, texts, n),
        }
    }
}

fn say_number<P: Primitives>(pbx: &mut P, texts: &dyn TextPrompts, n: u64) {
    let lang = pbx.language();
    match said(texts, &lang, Say::Number(i64::try_from(n).unwrap_or(i64::MAX))) {
        Said::Files(files) => {
            for f in files {
                if !pbx.caller_up() {
                    return;
                }
                pbx.play_file(&f);
            }
        }
        Said::Pbx => pbx.say_number(n),
        Said::NotRendered(word) => {
            log::warn!("{}: say word {word:?} ({lang}) is not rendered; the PBX says it", pbx.context());
            pbx.say_number(n);
        }
    }
}

enum Step {
    Sound(Sound),
    Number(u64),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_announcements_say_files_queue_names_and_data() {
        let mut data = CallData::default();
        data.set("account", "0123").expect("ok");
        data.set("tier", "gold").expect("ok");
        assert_eq!(to_agent(&AgentAnnounce::File("beep".into()), "q", &data), Some(LegPrompt::File("beep".into())));
        assert_eq!(
            to_agent(&AgentAnnounce::QueueName, "sales", &data),
            Some(LegPrompt::FileOrSpell { file: "hotline/queue-sales".into(), spell: "sales".into() })
        );
        assert_eq!(to_agent(&AgentAnnounce::Data("account".into()), "q", &data), Some(LegPrompt::Digits("0123".into())));
        assert_eq!(to_agent(&AgentAnnounce::Data("tier".into()), "q", &data), Some(LegPrompt::Spell("gold".into())));
        assert_eq!(to_agent(&AgentAnnounce::Data("missing".into()), "q", &data), None);
    }
}
