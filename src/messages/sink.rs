// SPDX-License-Identifier: GPL-2.0-or-later
//! The messages sink: on its own thread (`hotline-messages`, a durable sink
//! of the event bus, so no message is dropped under load), it keeps the
//! [`Messages`] list and the store's `messages` table in step with the
//! message events, measures each recording from its WAV header (the PBX's
//! own figure is kept when the file is not a WAV), hands kept messages to
//! the notifier (e-mail) and removes the files of deleted and discarded
//! messages. Nothing here runs on a PBX thread.

use std::path::Path;
use std::sync::Arc;

use super::{wav_ms, Change, MessageRecord, Messages};
use crate::router::BusEvent;
use crate::store::{unix_ms, Store};

/// Told of every message kept (e-mail).
pub type Notify = Box<dyn FnMut(&MessageRecord) + Send>;

pub struct MessagesSink {
    messages: Arc<Messages>,
    store: Option<Arc<Store>>,
    notify: Option<Notify>,
}

impl MessagesSink {
    pub fn new(messages: Arc<Messages>, store: Option<Arc<Store>>, notify: Option<Notify>) -> MessagesSink {
        MessagesSink { messages, store, notify }
    }

    pub fn apply(&mut self, e: &BusEvent) {
        let Some(change) = self.messages.apply(&e.event.kind, unix_ms()) else { return };
        match change {
            Change::Left(m) => {
                let m = match wav_ms(Path::new(&m.file)) {
                    Some(ms) if ms != m.ms => self.messages.set_length(m.id, ms).unwrap_or(m),
                    _ => m,
                };
                if let Some(store) = &self.store {
                    let _ = store.put_message((*m).clone());
                }
                if let Some(notify) = &mut self.notify {
                    notify(&m);
                }
            }
            Change::Heard { id, by } => {
                if let Some(store) = &self.store {
                    let _ = store.message_heard(id, &by);
                }
            }
            Change::Deleted { id, file } => {
                if let Some(store) = &self.store {
                    let _ = store.remove_message(id);
                }
                remove(&file);
            }
            Change::Discarded { file } => remove(&file),
        }
    }
}

fn remove(file: &str) {
    match std::fs::remove_file(file) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => log::warn!("Hotline: cannot remove the message file {file}: {e}"),
    }
}
