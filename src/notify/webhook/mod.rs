// SPDX-License-Identifier: GPL-2.0-or-later
//! Webhooks (CTI screen pop): signed POSTs of call events to the endpoints
//! of `[[webhook]]`, at least once, from a durable outbox.
//!
//! - [`config`]: `[[webhook]]` and the event types;
//! - [`payload`]: the JSON body (schema 1) and the per-call facts behind it;
//! - [`sign`]: `Hotline-Signature` (HMAC-SHA256, Stripe's scheme);
//! - [`outbox`]: the rows in the store's file;
//! - [`delivery`]: one dispatcher per endpoint, back-off, dead letters.
//!
//! Threads: the sink (`hotline-webhooks`), a durable sink of the bus,
//! writes each batch of events to the outbox in one transaction, then wakes
//! the endpoints' dispatchers (`hotline-webhook`). No PBX thread ever waits
//! for any of it; a dead endpoint costs calls nothing.

pub mod config;
pub mod delivery;
pub mod outbox;
pub mod payload;
pub mod sign;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use arc_swap::ArcSwap;
use crossbeam_channel::{bounded, Receiver, Sender};

pub use config::{Kind, WebhookConfig};
use delivery::EndpointStats;
use outbox::Outbox;
use payload::{Outgoing, Tracker};

use crate::router::{BusEvent, Subscription};

/// Events taken off the bus per outbox transaction.
const SINK_BATCH: usize = 512;

struct Endpoint {
    cfg: WebhookConfig,
    stats: Arc<EndpointStats>,
    wake: Sender<()>,
    /// Dropped to stop its dispatcher.
    stop: Mutex<Option<Sender<()>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Endpoint {
    fn start(cfg: &WebhookConfig, outbox: &Arc<Outbox>) -> Result<Arc<Endpoint>, String> {
        let (wake_tx, wake_rx) = bounded::<()>(1);
        let (stop_tx, stop_rx) = bounded::<()>(0);
        let stats = Arc::new(EndpointStats::default());
        let (c, o, s) = (cfg.clone(), outbox.clone(), stats.clone());
        let t = std::thread::Builder::new()
            .name("hotline-webhook".into())
            .spawn(move || delivery::run(c, o, s, wake_rx, stop_rx))
            .map_err(|e| format!("cannot start a webhook thread: {e}"))?;
        // Rows left from before (a restart, a reload) go out at once.
        let _ = wake_tx.try_send(());
        Ok(Arc::new(Endpoint { cfg: cfg.clone(), stats, wake: wake_tx, stop: Mutex::new(Some(stop_tx)), thread: Mutex::new(Some(t)) }))
    }

    fn stop(&self) {
        self.stop.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(t) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = t.join();
        }
    }
}

/// The running webhooks.
pub struct Webhooks {
    outbox: Arc<Outbox>,
    endpoints: Arc<ArcSwap<Vec<Arc<Endpoint>>>>,
    /// Dropped to stop the sink (after it wrote what the bus still holds).
    stop: Mutex<Option<Sender<()>>>,
    sink: Mutex<Option<JoinHandle<()>>>,
}

/// One endpoint as `hotline webhooks show` prints it (and `GET
/// /webhooks` returns it).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EndpointView {
    pub name: String,
    pub url: String,
    pub state: &'static str,
    pub sent: u64,
    pub failed: u64,
    pub pending: u64,
    pub dead: u64,
    pub oldest_pending_ms: Option<i64>,
    pub last_error: Option<String>,
    /// Event to delivery, ms, over the last 1024 deliveries: p50, p99.
    pub latency_ms: Option<(u32, u32)>,
}

impl Webhooks {
    /// Open the outbox in the store's file at `store`, start a dispatcher
    /// per endpoint and the sink on `sub`.
    pub fn start(cfgs: &[WebhookConfig], store: &Path, sub: Subscription) -> Result<Webhooks, String> {
        let outbox = Arc::new(Outbox::open(store)?);
        let mut endpoints = Vec::new();
        for cfg in cfgs {
            match Endpoint::start(cfg, &outbox) {
                Ok(e) => endpoints.push(e),
                Err(e) => {
                    endpoints.iter().for_each(|e: &Arc<Endpoint>| e.stop());
                    return Err(e);
                }
            }
        }
        let endpoints = Arc::new(ArcSwap::from_pointee(endpoints));
        let (stop_tx, stop_rx) = bounded::<()>(0);
        let (o, e) = (outbox.clone(), endpoints.clone());
        let sink = std::thread::Builder::new().name("hotline-webhooks".into()).spawn(move || sink(&o, &e, &sub.events, &stop_rx));
        let sink = match sink {
            Ok(t) => t,
            Err(err) => {
                endpoints.load().iter().for_each(|e| e.stop());
                return Err(format!("cannot start the webhook sink: {err}"));
            }
        };
        log::info!("Hotline: {} webhook endpoints", cfgs.len());
        Ok(Webhooks { outbox, endpoints, stop: Mutex::new(Some(stop_tx)), sink: Mutex::new(Some(sink)) })
    }

    /// A reload: endpoints whose configuration is unchanged keep running;
    /// changed and new ones start (their rows left in the outbox go out),
    /// removed ones stop (their rows stay until the name comes back).
    pub fn reconfigure(&self, cfgs: &[WebhookConfig]) -> Result<(), String> {
        let old = self.endpoints.load_full();
        let mut next = Vec::new();
        for cfg in cfgs {
            match old.iter().find(|e| e.cfg == *cfg) {
                Some(e) => next.push(e.clone()),
                None => next.push(Endpoint::start(cfg, &self.outbox)?),
            }
        }
        self.endpoints.store(Arc::new(next));
        let now = self.endpoints.load();
        for e in old.iter().filter(|e| !now.iter().any(|n| Arc::ptr_eq(n, e))) {
            e.stop();
        }
        Ok(())
    }

    pub fn show(&self) -> Vec<EndpointView> {
        self.endpoints
            .load()
            .iter()
            .map(|e| {
                let counts = self.outbox.counts(&e.cfg.name).unwrap_or_default();
                let latency = {
                    let l = e.stats.latencies.lock().unwrap_or_else(|e| e.into_inner());
                    let mut v: Vec<u32> = l.iter().copied().collect();
                    v.sort_unstable();
                    (!v.is_empty()).then(|| (v[v.len() / 2], v[(v.len() * 99 / 100).min(v.len() - 1)]))
                };
                EndpointView {
                    name: e.cfg.name.clone(),
                    url: e.cfg.url.clone(),
                    state: e.stats.state(),
                    sent: e.stats.sent.load(Ordering::Relaxed),
                    failed: e.stats.failed.load(Ordering::Relaxed),
                    pending: counts.pending,
                    dead: counts.dead,
                    oldest_pending_ms: counts.oldest,
                    last_error: e.stats.last_error.lock().unwrap_or_else(|e| e.into_inner()).clone().or_else(|| self.outbox.last_error(&e.cfg.name)),
                    latency_ms: latency,
                }
            })
            .collect()
    }

    /// Dead letters back into the outbox and disabled endpoints enabled
    /// (one endpoint, or all); how many events went back.
    pub fn retry(&self, name: Option<&str>) -> Result<usize, String> {
        if let Some(n) = name {
            if !self.endpoints.load().iter().any(|e| e.cfg.name == n) {
                return Err(format!("no webhook named {n:?}"));
            }
        }
        let n = self.outbox.retry(name, crate::store::unix_ms())?;
        for e in self.endpoints.load().iter().filter(|e| name.map_or(true, |n| n == e.cfg.name)) {
            e.stats.disabled.store(false, Ordering::Relaxed);
            let _ = e.wake.try_send(());
        }
        Ok(n)
    }

    /// Drop dead letters (one endpoint, or all); how many.
    pub fn purge(&self, name: Option<&str>) -> Result<usize, String> {
        if let Some(n) = name {
            if !self.endpoints.load().iter().any(|e| e.cfg.name == n) {
                return Err(format!("no webhook named {n:?}"));
            }
        }
        self.outbox.purge(name)
    }

    /// Stop and join every thread: the sink first (it writes what the bus
    /// still holds: stop the router before), then the dispatchers (a
    /// request in flight ends within its timeout; what is not delivered
    /// stays in the outbox).
    pub fn stop(&self) {
        self.stop.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(t) = self.sink.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = t.join();
        }
        for e in self.endpoints.load().iter() {
            e.stop();
        }
    }
}

impl Drop for Webhooks {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `hotline webhooks show`.
pub fn report(views: &[EndpointView]) -> String {
    use std::fmt::Write as _;
    let mut out = String::from("Hotline webhooks:\n");
    for v in views {
        let oldest = v.oldest_pending_ms.map_or("-".to_string(), |t| format!("{} s ago", (crate::store::unix_ms() - t).max(0) / 1000));
        let latency = v.latency_ms.map_or("-".to_string(), |(p50, p99)| format!("p50 {p50} ms, p99 {p99} ms"));
        let _ = writeln!(
            out,
            "  {}  {}  {}: sent {}, failed attempts {}, pending {} (oldest {oldest}), dead letters {}, event to delivery {latency}",
            v.name, v.url, v.state, v.sent, v.failed, v.pending, v.dead
        );
        if let Some(e) = &v.last_error {
            let _ = writeln!(out, "    last error: {e}");
        }
    }
    if views.is_empty() {
        out.push_str("  (none)\n");
    }
    out
}

/// The sink: bus events to outbox rows, a batch per
/// transaction, then a wake for each endpoint that got rows.
fn sink(outbox: &Outbox, endpoints: &ArcSwap<Vec<Arc<Endpoint>>>, events: &Receiver<Arc<BusEvent>>, stop: &Receiver<()>) {
    let mut tracker = Tracker::default();
    let mut batch: Vec<Outgoing> = Vec::new();
    loop {
        let mut open = true;
        crossbeam_channel::select! {
            recv(events) -> e => match e {
                Ok(e) => {
                    let now = crate::store::unix_ms();
                    batch.extend(tracker.apply(&e, now));
                    for e in events.try_iter().take(SINK_BATCH) {
                        batch.extend(tracker.apply(&e, now));
                    }
                }
                // The router stopped.
                Err(_) => open = false,
            },
            recv(stop) -> _ => {
                // What the bus still holds goes in first.
                let now = crate::store::unix_ms();
                for e in events.try_iter() {
                    batch.extend(tracker.apply(&e, now));
                }
                open = false;
            }
        }
        if !batch.is_empty() {
            write(outbox, &endpoints.load(), &batch);
            batch.clear();
        }
        if !open {
            return;
        }
    }
}

fn write(outbox: &Outbox, endpoints: &[Arc<Endpoint>], batch: &[Outgoing]) {
    let mut rows: Vec<(&str, u64, &str, Option<u64>, &str)> = Vec::new();
    let mut woken: HashMap<usize, ()> = HashMap::new();
    for o in batch {
        for (i, e) in endpoints.iter().enumerate() {
            let wanted = match &o.to {
                Some(to) => *to == e.cfg.name && e.cfg.events.contains(&o.kind),
                None => e.cfg.wants(o.kind, o.queue.as_deref(), o.agent.as_deref()),
            };
            if wanted {
                rows.push((&e.cfg.name, o.event_id, o.kind.type_name(), o.call, &o.body));
                woken.insert(i, ());
            }
        }
    }
    if rows.is_empty() {
        return;
    }
    // The disk must take it before anyone is told: retry with back-off
    // (the bus's queue holds what comes meanwhile).
    let mut delay = std::time::Duration::from_millis(50);
    let mut tries = 0u32;
    while let Err(e) = outbox.add(&rows, crate::store::unix_ms()) {
        tries += 1;
        if tries == 1 || tries.is_power_of_two() {
            log::error!("Hotline webhooks: cannot write {} events to the outbox ({e}); retrying", rows.len());
        }
        if tries > 12 {
            log::error!("Hotline webhooks: {} events lost: the outbox refused them {tries} times", rows.len());
            return;
        }
        std::thread::sleep(delay);
        delay = (delay * 2).min(std::time::Duration::from_secs(5));
    }
    for i in woken.keys() {
        let _ = endpoints[*i].wake.try_send(());
    }
}

#[cfg(test)]
mod tests;
