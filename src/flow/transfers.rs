// SPDX-License-Identifier: GPL-2.0-or-later
//! A call's transfer history, once for both PBXes.
//!
//! The history lives on the caller's channel, in `hotline_transfers`
//! (`HOTLINE_TRANSFERS` on Asterisk), as a JSON array of hops, so it
//! follows the caller wherever the dialplan takes it (another
//! `HotlineQueue`, a screen pop, another agent's extension):
//!
//! ```json
//! [{ "at": "2026-12-02T10:00:00.000Z", "from_call": "41", "from_queue": "support",
//!    "from_agent": "alice", "to": "2100@hotline-callers", "to_queue": "sales",
//!    "notes": ["wants a refund"] }]
//! ```
//!
//! The queue flow appends a hop when an agent transfers the caller away
//! (blind or attended; `to` is where the PBX sent the caller), with the
//! notes taken on the call (the API's notes, and the agent's
//! `hotline_transfer_note` variable), and fills `to_queue` when the caller
//! enters a Hotline queue again. The history goes into the call's data
//! under [`KEY`] so every later event, screen pop and webhook carries it.
//! A broken value (set by hand) is replaced, not trusted.

use serde::{Deserialize, Serialize};

/// The caller-data key (and variable suffix) of the history.
pub const KEY: &str = "transfers";

/// At most this many hops are kept (the oldest go first), and this many
/// notes of this many characters per hop: a channel variable stays small.
const MAX_HOPS: usize = 20;
const MAX_NOTES: usize = 20;
const MAX_NOTE_CHARS: usize = 1000;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Hop {
    pub at: String,
    pub from_call: String,
    pub from_queue: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_agent: Option<String>,
    #[serde(default)]
    pub to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_queue: Option<String>,
    #[serde(default)]
    pub notes: Vec<String>,
}

/// The history held in a variable's value (empty when unset or broken).
pub fn parse(value: Option<&str>) -> Vec<Hop> {
    match value.filter(|v| !v.trim().is_empty()) {
        None => Vec::new(),
        Some(v) => serde_json::from_str(v).unwrap_or_else(|e| {
            log::warn!("Hotline: ignoring a broken transfer history ({e})");
            Vec::new()
        }),
    }
}

pub fn render(hops: &[Hop]) -> String {
    serde_json::to_string(hops).unwrap_or_else(|_| "[]".into())
}

/// A note as kept: control characters dropped, trimmed, bounded.
pub fn clean_note(text: &str) -> Option<String> {
    let t: String = text.chars().filter(|c| !c.is_control()).take(MAX_NOTE_CHARS).collect();
    let t = t.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Append a hop (bounded).
pub fn push(hops: &mut Vec<Hop>, mut hop: Hop) {
    hop.notes.truncate(MAX_NOTES);
    hops.push(hop);
    if hops.len() > MAX_HOPS {
        let extra = hops.len() - MAX_HOPS;
        hops.drain(..extra);
    }
}

/// The caller entered `queue`: the last hop (if it has no queue yet)
/// arrived there. True if it changed.
pub fn arrived(hops: &mut [Hop], queue: &str) -> bool {
    match hops.last_mut() {
        Some(h) if h.to_queue.is_none() => {
            h.to_queue = Some(queue.to_string());
            true
        }
        _ => false,
    }
}

/// Now, as the hops carry it (RFC 3339, UTC, milliseconds).
pub fn now_rfc3339() -> String {
    format!("{:.3}", jiff::Timestamp::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(from: &str) -> Hop {
        Hop { at: "2026-12-02T10:00:00.000Z".into(), from_call: "1".into(), from_queue: from.into(), ..Hop::default() }
    }

    #[test]
    fn a_history_round_trips_and_a_broken_one_is_dropped() {
        let mut h = vec![hop("support")];
        h[0].notes = vec!["say \"hi\"\n".into()];
        let text = render(&h);
        assert_eq!(parse(Some(&text)), h);
        assert!(!text.contains('\n'), "one line: {text}");
        assert_eq!(parse(Some("{not json")), Vec::new());
        assert_eq!(parse(Some("")), Vec::new());
        assert_eq!(parse(None), Vec::new());
    }

    #[test]
    fn the_next_queue_is_filled_once_and_the_history_is_bounded() {
        let mut h = vec![hop("a")];
        assert!(arrived(&mut h, "b"));
        assert!(!arrived(&mut h, "c"), "the hop already arrived");
        assert_eq!(h[0].to_queue.as_deref(), Some("b"));
        for i in 0..30 {
            push(&mut h, hop(&format!("q{i}")));
        }
        assert_eq!(h.len(), MAX_HOPS);
        assert_eq!(h.last().unwrap().from_queue, "q29");
        assert_eq!(h[0].from_queue, "q10", "the oldest go first");
    }

    #[test]
    fn notes_lose_control_characters_and_stay_bounded() {
        assert_eq!(clean_note("  a\u{0}b\r\nc "), Some("abc".into()));
        assert_eq!(clean_note("\n\t "), None);
        assert_eq!(clean_note(&"x".repeat(5000)).map(|n| n.len()), Some(MAX_NOTE_CHARS));
        assert!(now_rfc3339().parse::<jiff::Timestamp>().is_ok(), "{}", now_rfc3339());
    }
}
