// SPDX-License-Identifier: GPL-2.0-or-later
//! Events for `GET /api/v1/events` (server-sent events).
//!
//! The adapter publishes every bus event through an [`EventPublisher`]:
//! the event goes into a short ring (so a client that reconnects with
//! `Last-Event-ID` gets what it missed) and onto a broadcast channel that
//! each open stream reads. Publishing never waits for a client: a stream
//! that falls behind the channel is told how many events it lost and is
//! closed, and resumes from the ring when it reconnects.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Deserialize;
use tokio::sync::broadcast;

use crate::core::Event;

/// Events kept for `Last-Event-ID` resume.
pub const RING_EVENTS: usize = 1024;
/// Events a stream may fall behind before it is closed.
pub(crate) const CHANNEL_EVENTS: usize = 256;

/// One published event.
#[derive(Debug)]
pub(crate) struct Record {
    pub id: u64,
    pub kind: String,
    pub json: String,
    /// The agent and queue it is about, read from its JSON once (None: not
    /// a JSON object, shown only to unscoped principals).
    pub about: Option<About>,
}

/// Top-level `agent` / `queue` fields of an event (either case), which
/// decide who may see it.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct About {
    #[serde(alias = "Agent")]
    pub agent: Option<String>,
    #[serde(alias = "Queue")]
    pub queue: Option<String>,
}

struct Ring {
    events: VecDeque<Arc<Record>>,
    /// Id of the newest event pushed out of the ring (0: none yet).
    evicted_through: u64,
}

struct Hub {
    ring: Mutex<Ring>,
    tx: broadcast::Sender<Arc<Record>>,
}

/// Feeds the event stream; cheap to clone, usable from any thread, never
/// blocks on a client (the ring's lock is held for a push).
#[derive(Clone)]
pub struct EventPublisher {
    hub: Arc<Hub>,
}

/// What a new stream starts with.
pub(crate) struct Subscription {
    /// Events after the client's last id, still in the ring.
    pub backlog: Vec<Arc<Record>>,
    /// Ids the client missed that the ring no longer holds: (after, through).
    pub gap: Option<(u64, u64)>,
    pub live: broadcast::Receiver<Arc<Record>>,
}

impl EventPublisher {
    pub(crate) fn new() -> EventPublisher {
        let (tx, _) = broadcast::channel(CHANNEL_EVENTS);
        let ring = Ring { events: VecDeque::with_capacity(RING_EVENTS), evicted_through: 0 };
        EventPublisher { hub: Arc::new(Hub { ring: Mutex::new(ring), tx }) }
    }

    fn ring(&self) -> MutexGuard<'_, Ring> {
        self.hub.ring.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Publish one event: `id` the bus event id (increasing), `kind` its
    /// name (the SSE `event:` line), `json` its data. Fields `agent` /
    /// `queue` (or `Agent` / `Queue`) scope it to the principals that see
    /// that agent or queue.
    pub fn publish(&self, id: u64, kind: &str, json: String) {
        let about = serde_json::from_str::<About>(&json).ok();
        // An SSE field cannot hold a line break.
        let kind = kind.replace(['\r', '\n'], " ");
        let record = Arc::new(Record { id, kind, json, about });
        let mut ring = self.ring();
        if ring.events.len() >= RING_EVENTS {
            if let Some(old) = ring.events.pop_front() {
                ring.evicted_through = old.id;
            }
        }
        ring.events.push_back(record.clone());
        // No stream open is fine; full streams lag, they never block this.
        let _ = self.hub.tx.send(record);
    }

    /// Publish a router event as JSON: `time` (engine milliseconds) and the
    /// same fields as the PBX events (`CallId`, `Queue`, `Agent`, ...).
    pub fn publish_event(&self, id: u64, event: &Event) {
        self.publish(id, event.kind.name(), event_json(event));
    }

    /// Start a stream after `last_id` (None: live events only). Taken under
    /// the ring's lock, so the backlog and the live channel neither overlap
    /// nor leave a hole.
    pub(crate) fn subscribe(&self, last_id: Option<u64>) -> Subscription {
        let ring = self.ring();
        let live = self.hub.tx.subscribe();
        let Some(last) = last_id else {
            return Subscription { backlog: Vec::new(), gap: None, live };
        };
        let backlog = ring.events.iter().filter(|r| r.id > last).cloned().collect();
        let gap = (ring.evicted_through > last).then_some((last, ring.evicted_through));
        Subscription { backlog, gap, live }
    }
}

/// A router event as a JSON object.
pub fn event_json(event: &Event) -> String {
    let mut m = serde_json::Map::new();
    m.insert("time".into(), event.time.into());
    for (k, v) in event.kind.fields() {
        m.insert(k.into_owned(), v.into());
    }
    serde_json::Value::Object(m).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ring_resumes_and_reports_what_it_lost() {
        let p = EventPublisher::new();
        for id in 1..=(RING_EVENTS as u64 + 10) {
            p.publish(id, "AgentState", format!("{{\"Agent\":\"a{id}\"}}"));
        }
        let s = p.subscribe(Some(RING_EVENTS as u64 + 5));
        assert_eq!(s.backlog.iter().map(|r| r.id).collect::<Vec<_>>(), (RING_EVENTS as u64 + 6..=RING_EVENTS as u64 + 10).collect::<Vec<_>>());
        assert_eq!(s.gap, None);
        assert_eq!(s.backlog[0].about.as_ref().and_then(|a| a.agent.as_deref()), Some("a1030"));
        let s = p.subscribe(Some(3));
        assert_eq!(s.gap, Some((3, 10)), "ids 4-10 left the ring");
        assert_eq!(s.backlog.len(), RING_EVENTS);
        assert!(p.subscribe(None).backlog.is_empty());
        p.publish(9999, "bad\nkind", "not json".into());
        let r = p.subscribe(Some(9998)).backlog.pop().unwrap();
        assert_eq!((r.kind.as_str(), r.about.is_none()), ("bad kind", true));
    }
}
