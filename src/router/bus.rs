//! The event bus: every router event, numbered, copied to one queue per
//! sink, so no consumer takes another's events and no sink slows the router
//! or another sink.
//!
//! Two kinds of sink ([`SinkKind`]):
//! - **best-effort** (AMI / ESL events, server-sent events): a bounded
//!   queue; when it is full the sink loses that event, counted in its own
//!   `dropped`, and nobody else notices;
//! - **durable** (the store's event log, and what later issues build on it:
//!   webhook outbox, call records, queue_log): a much larger queue drained
//!   into the store's writer in batches. If the store cannot keep up the
//!   router still decides: the event is counted as dropped and the loss is
//!   logged loudly (and shows in `hotline show sinks`).
//!
//! Event ids are unique across restarts and ordered within a run: a run
//! numbers on from the larger of the clock (microseconds since the Unix
//! epoch at start) and one past the last id the store kept.
//!
//! The statistics are not a sink: the router applies every event to them
//! itself, so they stay exact whatever the sinks do.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};

use crate::core::Event;

/// An event as sinks receive it.
#[derive(Debug, Clone, PartialEq)]
pub struct BusEvent {
    /// Unique across restarts, increasing within a run (idempotency key).
    pub id: u64,
    pub event: Event,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkKind {
    BestEffort,
    Durable,
}

impl SinkKind {
    pub fn name(self) -> &'static str {
        match self {
            SinkKind::BestEffort => "best-effort",
            SinkKind::Durable => "durable",
        }
    }
}

#[derive(Debug, Default)]
struct SinkCounters {
    accepted: AtomicU64,
    dropped: AtomicU64,
}

/// A sink's end of the bus. Dropping it detaches the sink.
pub struct Subscription {
    pub name: Arc<str>,
    pub kind: SinkKind,
    pub events: Receiver<Arc<BusEvent>>,
}

/// A sink as `hotline show sinks` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkView {
    pub name: String,
    pub kind: SinkKind,
    /// Events queued, not yet taken by the sink.
    pub depth: usize,
    /// Taken by the sink.
    pub delivered: u64,
    /// Lost because the sink's queue was full.
    pub dropped: u64,
}

struct Slot {
    name: Arc<str>,
    kind: SinkKind,
    tx: Sender<Arc<BusEvent>>,
    counters: Arc<SinkCounters>,
}

/// The router thread's side of the bus.
pub(crate) struct Bus {
    next_id: u64,
    slots: Vec<Slot>,
}

/// The first event id of a run: after everything a previous run kept, and
/// after the clock.
pub fn first_event_id(after_stored: u64) -> u64 {
    let clock = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64);
    clock.max(after_stored).max(1)
}

impl Bus {
    pub fn new(first_id: u64) -> Bus {
        Bus { next_id: first_id, slots: Vec::new() }
    }

    /// A new sink with a queue of `capacity` events.
    pub fn subscribe(&mut self, name: &str, kind: SinkKind, capacity: usize) -> Subscription {
        let (tx, rx) = bounded(capacity.max(1));
        let name: Arc<str> = Arc::from(name);
        self.slots.push(Slot { name: name.clone(), kind, tx, counters: Arc::default() });
        Subscription { name, kind, events: rx }
    }

    /// Number the event and offer it to every sink; never waits.
    pub fn publish(&mut self, event: Event) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        if self.slots.is_empty() {
            return id;
        }
        let e = Arc::new(BusEvent { id, event });
        self.slots.retain(|s| match s.tx.try_send(e.clone()) {
            Ok(()) => {
                s.counters.accepted.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(TrySendError::Full(_)) => {
                let n = s.counters.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                // Loud but not a flood: the first loss, then every power of two.
                if s.kind == SinkKind::Durable && n.is_power_of_two() {
                    log::error!("hotline: durable sink {} cannot keep up: {n} events lost so far (event {id})", s.name);
                } else if n.is_power_of_two() {
                    log::warn!("hotline: sink {} is full: {n} events dropped so far", s.name);
                }
                true
            }
            // The sink went away.
            Err(TrySendError::Disconnected(_)) => false,
        });
        id
    }

    pub fn views(&self) -> Vec<SinkView> {
        self.slots
            .iter()
            .map(|s| {
                let depth = s.tx.len();
                SinkView {
                    name: s.name.to_string(),
                    kind: s.kind,
                    depth,
                    delivered: s.counters.accepted.load(Ordering::Relaxed).saturating_sub(depth as u64),
                    dropped: s.counters.dropped.load(Ordering::Relaxed),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::EventKind;

    fn ev(n: usize) -> Event {
        Event { time: n as u64, kind: EventKind::ConfigReloaded { queues: n, agents: 0 } }
    }

    #[test]
    fn every_sink_gets_every_event_and_a_stalled_one_drops_only_its_own() {
        let mut bus = Bus::new(100);
        let fast = bus.subscribe("fast", SinkKind::BestEffort, 1000);
        let stalled = bus.subscribe("stalled", SinkKind::BestEffort, 3);
        let durable = bus.subscribe("log", SinkKind::Durable, 1000);
        for n in 0..10 {
            assert_eq!(bus.publish(ev(n)), 100 + n as u64);
        }
        let ids = |s: &Subscription| s.events.try_iter().map(|e| e.id).collect::<Vec<_>>();
        assert_eq!(ids(&fast), (100..110).collect::<Vec<_>>());
        assert_eq!(ids(&durable), (100..110).collect::<Vec<_>>());
        assert_eq!(ids(&stalled), [100, 101, 102]);
        let v = bus.views();
        assert_eq!((v[0].delivered, v[0].dropped), (10, 0));
        assert_eq!((v[1].depth, v[1].delivered, v[1].dropped), (0, 3, 7));
    }

    #[test]
    fn a_sink_that_goes_away_is_detached() {
        let mut bus = Bus::new(1);
        let keep = bus.subscribe("keep", SinkKind::BestEffort, 10);
        drop(bus.subscribe("gone", SinkKind::BestEffort, 10));
        bus.publish(ev(1));
        assert_eq!(bus.views().len(), 1);
        assert_eq!(keep.events.len(), 1);
    }

    #[test]
    fn ids_follow_the_store_and_the_clock() {
        let now = first_event_id(0);
        assert!(now > 1_700_000_000_000_000, "microseconds since the epoch");
        assert_eq!(first_event_id(u64::MAX / 2), u64::MAX / 2);
    }
}
