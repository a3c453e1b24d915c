// SPDX-License-Identifier: GPL-2.0-or-later
//! Voice messages (語音信箱) left in the IVR's `[[message]]` steps.
//!
//! The caller's thread only records and announces (`MessageLeft`,
//! `MessageDiscarded`); everything else happens on the messages sink's
//! thread (`hotline-messages`, a durable sink of the event bus, see
//! [`sink`]): the message goes into the store and into the in-memory
//! [`Messages`] list, the e-mail notification is queued, a heard mark is
//! kept, the file of a deleted or discarded message is removed.
//!
//! Readers (`HotlineMessages` / `hotline_messages` on PBX threads, the web
//! port) take the list without a lock: it is an `ArcSwap` the sink replaces
//! on every change.
//!
//! Files: `<dir>/<mailbox>/<unix ms>-<id>.wav` with `<dir>` beside the
//! store (`hotline-messages/`); the mailbox directories are made at load.

pub mod sink;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use serde_json::Value;

use crate::core::EventKind;
pub use crate::store::MessageRecord;

/// The messages kept, shared between the sink (the only writer) and readers.
pub struct Messages {
    dir: PathBuf,
    list: ArcSwap<Vec<Arc<MessageRecord>>>,
}

/// What an event changed, for the sink to carry out.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Left(Arc<MessageRecord>),
    Heard { id: u64, by: String },
    /// Removed: its file goes too.
    Deleted { id: u64, file: String },
    /// A recording not kept: its file goes.
    Discarded { file: String },
}

impl Messages {
    /// `dir`: where mailboxes live; `kept`: what the store had, oldest first.
    pub fn new(dir: PathBuf, kept: Vec<MessageRecord>) -> Messages {
        Messages { dir, list: ArcSwap::from_pointee(kept.into_iter().map(Arc::new).collect()) }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Make the mailboxes' directories (at load, off the PBX threads).
    pub fn prepare(&self, mailboxes: &[&str]) -> Result<(), String> {
        for m in mailboxes {
            let d = self.dir.join(m);
            std::fs::create_dir_all(&d).map_err(|e| format!("cannot make the mailbox directory {}: {e}", d.display()))?;
        }
        Ok(())
    }

    /// Every message, oldest first.
    pub fn all(&self) -> Arc<Vec<Arc<MessageRecord>>> {
        self.list.load_full()
    }

    /// The messages of `mailbox` in listening order: new ones first, then
    /// those already heard, each oldest first.
    pub fn list(&self, mailbox: &str) -> Vec<Arc<MessageRecord>> {
        let all = self.list.load();
        let mine = all.iter().filter(|m| m.mailbox == mailbox);
        let (new, heard): (Vec<_>, Vec<_>) = mine.cloned().partition(|m| m.heard_at.is_none());
        new.into_iter().chain(heard).collect()
    }

    pub fn get(&self, id: u64) -> Option<Arc<MessageRecord>> {
        self.list.load().iter().find(|m| m.id == id).cloned()
    }

    /// Correct a message's length (measured from its file); the new record.
    pub fn set_length(&self, id: u64, ms: u64) -> Option<Arc<MessageRecord>> {
        let old = self.get(id)?;
        let new = Arc::new(MessageRecord { ms, ..(*old).clone() });
        let next: Vec<_> = self.list.load().iter().map(|m| if m.id == id { new.clone() } else { m.clone() }).collect();
        self.list.store(Arc::new(next));
        Some(new)
    }

    /// Apply one bus event (`now`: wall-clock ms) to the list; what changed.
    /// Only the sink's thread calls it, so the replace cannot race.
    pub fn apply(&self, kind: &EventKind, now: i64) -> Option<Change> {
        match kind {
            EventKind::MessageLeft { id, mailbox, step, number, name, callback, file, ms, data, .. } => {
                let record = Arc::new(MessageRecord {
                    id: *id,
                    mailbox: mailbox.clone(),
                    step: step.clone(),
                    number: number.clone(),
                    name: name.clone(),
                    callback: callback.clone(),
                    file: file.clone(),
                    ms: *ms,
                    data: Value::Object(data.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect()),
                    left_at: now,
                    heard_at: None,
                    heard_by: None,
                });
                let mut next: Vec<_> = self.list.load().iter().filter(|m| m.id != *id).cloned().collect();
                next.push(record.clone());
                self.list.store(Arc::new(next));
                Some(Change::Left(record))
            }
            EventKind::MessageHeard { id, by, .. } => {
                let old = self.get(*id)?;
                if old.heard_at.is_some() {
                    return None;
                }
                let heard = Arc::new(MessageRecord { heard_at: Some(now), heard_by: Some(by.clone()), ..(*old).clone() });
                let next: Vec<_> = self.list.load().iter().map(|m| if m.id == *id { heard.clone() } else { m.clone() }).collect();
                self.list.store(Arc::new(next));
                Some(Change::Heard { id: *id, by: by.clone() })
            }
            EventKind::MessageDeleted { id, .. } => {
                let old = self.get(*id)?;
                let next: Vec<_> = self.list.load().iter().filter(|m| m.id != *id).cloned().collect();
                self.list.store(Arc::new(next));
                Some(Change::Deleted { id: *id, file: old.file.clone() })
            }
            EventKind::MessageDiscarded { file, .. } => Some(Change::Discarded { file: file.clone() }),
            _ => None,
        }
    }
}

/// The length of an 8 kHz (or any rate) 16-bit PCM WAV file in ms, from its
/// header and size; None if it is not one.
pub fn wav_ms(path: &Path) -> Option<u64> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).ok()?;
    let mut h = [0u8; 44];
    f.read_exact(&mut h).ok()?;
    if &h[0..4] != b"RIFF" || &h[8..12] != b"WAVE" {
        return None;
    }
    let byte_rate = u32::from_le_bytes([h[28], h[29], h[30], h[31]]) as u64;
    let len = f.metadata().ok()?.len().saturating_sub(44);
    (byte_rate > 0).then(|| len * 1000 / byte_rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn left(id: u64, mailbox: &str) -> EventKind {
        EventKind::MessageLeft {
            id,
            mailbox: mailbox.into(),
            step: "vm".into(),
            number: "0901".into(),
            name: String::new(),
            callback: None,
            file: format!("/x/{id}.wav"),
            ms: 3000,
            data: vec![("account".into(), "42".into())],
            identity: Vec::new(),
        }
    }

    #[test]
    fn new_messages_come_first_and_heard_and_deleted_ones_change_the_list() {
        let m = Messages::new(PathBuf::from("/x"), Vec::new());
        for (id, t) in [(1, 10), (2, 20), (3, 30)] {
            assert!(matches!(m.apply(&left(id, "sales"), t), Some(Change::Left(_))));
        }
        m.apply(&left(4, "support"), 40);
        let heard = m.apply(&EventKind::MessageHeard { id: 1, mailbox: "sales".into(), by: "1001".into() }, 50);
        assert_eq!(heard, Some(Change::Heard { id: 1, by: "1001".into() }));
        // Heard twice: nothing changes the second time.
        assert_eq!(m.apply(&EventKind::MessageHeard { id: 1, mailbox: "sales".into(), by: "1002".into() }, 60), None);
        let ids: Vec<u64> = m.list("sales").iter().map(|r| r.id).collect();
        assert_eq!(ids, vec![2, 3, 1]);
        assert_eq!(m.get(1).and_then(|r| r.heard_by.clone()).as_deref(), Some("1001"));
        let gone = m.apply(&EventKind::MessageDeleted { id: 2, mailbox: "sales".into(), by: "1001".into() }, 70);
        assert_eq!(gone, Some(Change::Deleted { id: 2, file: "/x/2.wav".into() }));
        assert_eq!(m.list("sales").iter().map(|r| r.id).collect::<Vec<_>>(), vec![3, 1]);
        assert_eq!(m.list("support").len(), 1);
        assert_eq!(m.apply(&EventKind::MessageDeleted { id: 99, mailbox: "sales".into(), by: String::new() }, 80), None);
        assert_eq!(m.get(3).map(|r| r.data.clone()), Some(serde_json::json!({"account": "42"})));
    }

    #[test]
    fn wav_length_from_the_header() {
        let dir = std::env::temp_dir().join(format!("hotline-wav-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("a.wav");
        let mut h = Vec::new();
        h.extend_from_slice(b"RIFF\0\0\0\0WAVEfmt ");
        h.extend_from_slice(&16u32.to_le_bytes());
        h.extend_from_slice(&1u16.to_le_bytes());
        h.extend_from_slice(&1u16.to_le_bytes());
        h.extend_from_slice(&8000u32.to_le_bytes());
        h.extend_from_slice(&16000u32.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&16u16.to_le_bytes());
        h.extend_from_slice(b"data\0\0\0\0");
        h.resize(44 + 16000 * 2 + 8000, 0);
        std::fs::write(&p, &h).unwrap();
        assert_eq!(wav_ms(&p), Some(2500));
        std::fs::write(&p, b"not a wav file at all, just text that is long enough").unwrap();
        assert_eq!(wav_ms(&p), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
