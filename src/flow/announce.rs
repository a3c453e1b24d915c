// SPDX-License-Identifier: GPL-2.0-or-later
//! "You are caller number N; the expected wait is M minutes": which prompts,
//! in which order. Each PBX names its own sound files ([`Sound`]); a sound
//! a PBX lacks is left out (FreeSWITCH has no hold-time prompt).

use super::pbx::{Primitives, Sound};
use crate::core::Time;

/// Play the announcement; stops early when the caller leaves.
pub fn position<P: Primitives>(pbx: &mut P, position: usize, expected_wait: Option<Time>) {
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
            Step::Number(n) => pbx.say_number(n),
        }
    }
}

enum Step {
    Sound(Sound),
    Number(u64),
}
