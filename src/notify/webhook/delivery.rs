// SPDX-License-Identifier: GPL-2.0-or-later
//! Senders: one dispatcher thread per endpoint (`hotline-webhook`), which
//! takes the endpoint's oldest rows from the outbox and POSTs them with up
//! to `concurrency` requests in flight (a call's rows on one lane, in
//! order, when `ordered`).
//!
//! - 2xx: delivered (the row is deleted).
//! - 410 Gone: the endpoint is disabled (rows stay; `hotline webhooks
//!   retry <name>` enables it again).
//! - Anything else, or a timeout: the endpoint backs off (exponential from
//!   `retry_min_ms` to `retry_max_ms`, with jitter), then probes with its
//!   oldest row alone; the first success ends the back-off and the backlog
//!   goes out at full speed at once. Rows older than `dead_after` go to the
//!   dead letters.
//!
//! A dispatcher sleeps on its wake channel (the sink wakes it after a
//! commit) or its back-off deadline: no polling.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{select, Receiver};

use super::config::WebhookConfig;
use super::outbox::{Outbox, Row};
use super::sign;

/// Rows taken from the outbox per round.
const BATCH: usize = 256;

/// An endpoint's counters and state, shared with `hotline webhooks show`.
#[derive(Debug, Default)]
pub struct EndpointStats {
    pub sent: AtomicU64,
    pub failed: AtomicU64,
    pub expired: AtomicU64,
    pub disabled: AtomicBool,
    /// Unix ms until which it backs off (0: not backing off).
    pub backoff_until: AtomicU64,
    pub last_error: Mutex<Option<String>>,
    /// Event -> 2xx times, ms, the newest 1024 (for `show`).
    pub latencies: Mutex<std::collections::VecDeque<u32>>,
}

impl EndpointStats {
    fn note_error(&self, e: &str) {
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(e.to_string());
    }

    pub fn state(&self) -> &'static str {
        if self.disabled.load(Ordering::Relaxed) {
            "disabled (410 Gone)"
        } else if self.backoff_until.load(Ordering::Relaxed) > crate::store::unix_ms() as u64 {
            "backing off"
        } else {
            "up"
        }
    }
}

/// How one POST went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    Ok,
    Gone,
    Failed(String),
}

/// POST one body, signed now.
pub fn post(agent: &ureq::Agent, cfg: &WebhookConfig, row: &Row) -> Sent {
    let t = crate::store::unix_ms() / 1000;
    let signature = sign::sign(&cfg.secrets, t, row.body.as_bytes());
    let r = agent
        .post(&cfg.url)
        .set("Content-Type", "application/json")
        .set("User-Agent", concat!("Hotline/", env!("CARGO_PKG_VERSION")))
        .set(sign::HEADER, &signature)
        .set("Hotline-Event-Id", &row.event_id.to_string())
        .set("Hotline-Event-Type", &row.kind)
        .send_string(&row.body);
    match r {
        Ok(resp) if (200..300).contains(&resp.status()) => Sent::Ok,
        Ok(resp) => Sent::Failed(format!("HTTP {}", resp.status())),
        Err(ureq::Error::Status(410, _)) => Sent::Gone,
        Err(ureq::Error::Status(code, _)) => Sent::Failed(format!("HTTP {code}")),
        Err(ureq::Error::Transport(t)) => Sent::Failed(t.to_string()),
    }
}

/// Exponential back-off with jitter: the `n`th failure in a row waits
/// `min * 2^(n-1)` capped at `max`, times a factor in [0.5, 1.0).
pub fn backoff(cfg: &WebhookConfig, n: u32, jitter: f64) -> Duration {
    let base = cfg.retry_min_ms.saturating_mul(1u64 << n.saturating_sub(1).min(30)).min(cfg.retry_max_ms);
    Duration::from_millis(((base as f64) * (0.5 + 0.5 * jitter.clamp(0.0, 1.0))) as u64)
}

struct Rand(u64);
impl Rand {
    fn new() -> Rand {
        let mut b = [0u8; 8];
        let _ = getrandom::getrandom(&mut b);
        Rand(u64::from_le_bytes(b) | 1)
    }
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The lanes of one round: each a list of rows sent in order, a lane
/// stopping at its first failure.
fn lanes(rows: Vec<Row>, n: usize, ordered: bool) -> Vec<Vec<Row>> {
    let n = n.max(1);
    let mut lanes: Vec<Vec<Row>> = (0..n).map(|_| Vec::new()).collect();
    for (i, r) in rows.into_iter().enumerate() {
        let lane = match (ordered, r.call_id) {
            (true, Some(c)) => (c % n as u64) as usize,
            _ => i % n,
        };
        lanes[lane].push(r);
    }
    lanes.retain(|l| !l.is_empty());
    lanes
}

/// Run one endpoint until `stop` disconnects.
pub fn run(cfg: WebhookConfig, outbox: Arc<Outbox>, stats: Arc<EndpointStats>, wake: Receiver<()>, stop: Receiver<()>) {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_millis(cfg.timeout_ms))
        .max_idle_connections_per_host(cfg.concurrency)
        .redirects(0)
        .build();
    let mut rand = Rand::new();
    let mut failures: u32 = 0;
    let mut wait: Option<Instant> = None;
    loop {
        // Backing off: only the stop ends the wait early (news can wait).
        if let Some(until) = wait.take() {
            select! {
                recv(stop) -> _ => return,
                default(until.saturating_duration_since(Instant::now())) => {}
            }
            while wake.try_recv().is_ok() {}
        }
        if stop.try_recv() == Err(crossbeam_channel::TryRecvError::Disconnected) {
            return;
        }
        stats.backoff_until.store(0, Ordering::Relaxed);
        if stats.disabled.load(Ordering::Relaxed) {
            select! {
                recv(stop) -> _ => return,
                recv(wake) -> _ => continue,
            }
        }
        let now = crate::store::unix_ms();
        if failures > 0 {
            match outbox.expire(&cfg.name, now - cfg.dead_after_ms as i64, now) {
                Ok(0) => {}
                Ok(n) => {
                    stats.expired.fetch_add(n as u64, Ordering::Relaxed);
                    log::error!("Hotline webhook {}: {n} events failed for longer than {} h: moved to the dead letters", cfg.name, cfg.dead_after_ms / 3_600_000);
                }
                Err(e) => log::error!("Hotline webhook {}: {e}", cfg.name),
            }
        }
        // A probe after failures: the oldest row alone.
        let limit = if failures > 0 { 1 } else { BATCH };
        let rows = match outbox.pending(&cfg.name, limit) {
            Ok(r) => r,
            Err(e) => {
                log::error!("Hotline webhook {}: {e}", cfg.name);
                wait = Some(Instant::now() + Duration::from_secs(1));
                continue;
            }
        };
        if rows.is_empty() {
            select! {
                recv(stop) -> _ => return,
                recv(wake) -> _ => continue,
            }
        }
        let lanes = lanes(rows, cfg.concurrency, cfg.ordered);
        let results: Vec<(Vec<i64>, Option<(i64, Sent)>)> = std::thread::scope(|s| {
            let handles: Vec<_> = lanes
                .into_iter()
                .map(|lane| {
                    let (agent, cfg, stats) = (&agent, &cfg, &stats);
                    s.spawn(move || {
                        let mut ok = Vec::new();
                        for row in &lane {
                            let t0 = crate::store::unix_ms();
                            match post(agent, cfg, row) {
                                Sent::Ok => {
                                    let mut l = stats.latencies.lock().unwrap_or_else(|e| e.into_inner());
                                    if l.len() >= 1024 {
                                        l.pop_front();
                                    }
                                    l.push_back((t0 - row.created_at).max(0).min(u32::MAX as i64) as u32);
                                    ok.push(row.seq);
                                }
                                other => return (ok, Some((row.seq, other))),
                            }
                        }
                        (ok, None)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or((Vec::new(), None))).collect()
        });
        let mut delivered = Vec::new();
        let mut failure: Option<Sent> = None;
        for (ok, bad) in results {
            delivered.extend(ok);
            if let Some((seq, why)) = bad {
                if let Sent::Failed(e) = &why {
                    let _ = outbox.failed(seq, e);
                }
                if failure.is_none() || why == Sent::Gone {
                    failure = Some(why);
                }
            }
        }
        stats.sent.fetch_add(delivered.len() as u64, Ordering::Relaxed);
        if let Err(e) = outbox.done(&delivered) {
            // They will be sent again (at least once).
            log::error!("Hotline webhook {}: {e}", cfg.name);
        }
        match failure {
            None => {
                if failures > 0 {
                    log::info!("Hotline webhook {}: {} answers again; sending the backlog", cfg.name, cfg.url);
                }
                failures = 0;
            }
            Some(Sent::Gone) => {
                stats.disabled.store(true, Ordering::Relaxed);
                stats.note_error("HTTP 410 Gone");
                log::error!("Hotline webhook {}: {} answered 410 Gone: endpoint disabled (hotline webhooks retry {} enables it)", cfg.name, cfg.url, cfg.name);
            }
            Some(Sent::Failed(e)) => {
                stats.failed.fetch_add(1, Ordering::Relaxed);
                failures += 1;
                let d = backoff(&cfg, failures, rand.next());
                if failures == 1 || failures.is_power_of_two() {
                    log::warn!("Hotline webhook {}: {}: {e}; retrying in {d:?} (failure {failures} in a row)", cfg.name, cfg.url);
                }
                stats.note_error(&e);
                stats.backoff_until.store((crate::store::unix_ms() as u64).saturating_add(d.as_millis() as u64), Ordering::Relaxed);
                wait = Some(Instant::now() + d);
            }
            Some(Sent::Ok) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> WebhookConfig {
        WebhookConfig {
            name: "t".into(),
            url: "http://127.0.0.1:1/".into(),
            events: Vec::new(),
            queues: Vec::new(),
            agents: Vec::new(),
            secrets: vec!["0123456789abcdef".into()],
            timeout_ms: 100,
            concurrency: 3,
            ordered: true,
            retry_min_ms: 100,
            retry_max_ms: 1000,
            dead_after_ms: 1000,
        }
    }

    #[test]
    fn backoff_doubles_to_its_cap_with_jitter_below_it() {
        let c = cfg();
        assert_eq!(backoff(&c, 1, 1.0), Duration::from_millis(100));
        assert_eq!(backoff(&c, 2, 1.0), Duration::from_millis(200));
        assert_eq!(backoff(&c, 4, 1.0), Duration::from_millis(800));
        assert_eq!(backoff(&c, 5, 1.0), Duration::from_millis(1000));
        assert_eq!(backoff(&c, 40, 1.0), Duration::from_millis(1000));
        assert_eq!(backoff(&c, 2, 0.0), Duration::from_millis(100));
    }

    #[test]
    fn a_calls_rows_share_a_lane_in_order() {
        let row = |seq: i64, call: Option<u64>| Row { seq, event_id: seq as u64, kind: "k".into(), call_id: call, body: String::new(), created_at: 0, attempts: 0 };
        let rows = vec![row(1, Some(7)), row(2, Some(8)), row(3, Some(7)), row(4, None), row(5, Some(7))];
        let l = lanes(rows.clone(), 3, true);
        let of7 = l.iter().find(|l| l.iter().any(|r| r.call_id == Some(7))).unwrap();
        assert_eq!(of7.iter().filter(|r| r.call_id == Some(7)).map(|r| r.seq).collect::<Vec<_>>(), vec![1, 3, 5]);
        assert_eq!(l.iter().map(Vec::len).sum::<usize>(), 5);
        assert_eq!(lanes(rows, 1, false).len(), 1);
    }
}
