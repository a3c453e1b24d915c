// SPDX-License-Identifier: GPL-2.0-or-later
//! What the IVR counts while it runs (`hotline show ivr`): callers in and
//! out by result, and the module's own time from a caller's key to the
//! next prompt it starts (the engine's decision plus the flow's work; the
//! PBX's own playback start is not in it), in power-of-two microsecond
//! buckets. Lock-free: PBX threads only add to atomics.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const BUCKETS: usize = 32;

/// Latencies in buckets [2^i, 2^(i+1)) µs (bucket 0: below 2 µs).
#[derive(Default)]
pub struct Latency {
    buckets: [AtomicU64; BUCKETS],
}

impl Latency {
    pub fn record(&self, d: Duration) {
        let us = d.as_micros().min(u64::MAX as u128) as u64;
        let i = (64 - us.leading_zeros() as usize).saturating_sub(1).min(BUCKETS - 1);
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }

    /// The upper bound (µs) of the bucket holding quantile `q` (0..1); None
    /// when nothing was recorded.
    pub fn quantile_us(&self, q: f64) -> Option<u64> {
        let counts: Vec<u64> = self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (i, c) in counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Some(2u64 << i);
            }
        }
        None
    }
}

/// The IVR's counters, one per service.
#[derive(Default)]
pub struct IvrMetrics {
    pub entered: AtomicU64,
    /// By result: QUEUE, TRANSFER, HANGUP, RETURN, ABANDONED, ERROR.
    left: [AtomicU64; 6],
    pub key_to_prompt: Latency,
    /// CRM lookups answered (mapped fields taken).
    pub lookup_ok: AtomicU64,
    /// CRM lookups failed (timeout, HTTP status, connection, bad JSON).
    pub lookup_failed: AtomicU64,
}

const RESULTS: [&str; 6] = ["QUEUE", "TRANSFER", "HANGUP", "RETURN", "ABANDONED", "ERROR"];

impl IvrMetrics {
    pub fn left(&self, result: &str) {
        if let Some(i) = RESULTS.iter().position(|r| *r == result) {
            self.left[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Count a lookup's outcome.
    pub fn looked<T, E>(&self, result: &Result<T, E>) {
        let c = if result.is_ok() { &self.lookup_ok } else { &self.lookup_failed };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// For `hotline show ivr`.
    pub fn report(&self) -> String {
        let mut s = format!("ivr callers entered: {}\n", self.entered.load(Ordering::Relaxed));
        let left: Vec<String> = RESULTS.iter().zip(&self.left).map(|(r, n)| format!("{} {}", r.to_ascii_lowercase(), n.load(Ordering::Relaxed))).collect();
        s.push_str(&format!("left: {}\n", left.join(", ")));
        let l = &self.key_to_prompt;
        match (l.quantile_us(0.5), l.quantile_us(0.99), l.quantile_us(1.0)) {
            (Some(p50), Some(p99), Some(max)) => {
                s.push_str(&format!("key -> next prompt (in the module): {} keys, p50 < {p50} µs, p99 < {p99} µs, max < {max} µs\n", l.count()))
            }
            _ => s.push_str("key -> next prompt: no keys yet\n"),
        }
        s.push_str(&format!(
            "lookups: ok {}, failed {}\n",
            self.lookup_ok.load(Ordering::Relaxed),
            self.lookup_failed.load(Ordering::Relaxed)
        ));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_come_from_the_right_buckets() {
        let l = Latency::default();
        assert_eq!(l.quantile_us(0.5), None);
        for _ in 0..98 {
            l.record(Duration::from_micros(20)); // [16, 32)
        }
        l.record(Duration::from_micros(700)); // [512, 1024)
        l.record(Duration::from_millis(5)); // [4096, 8192)
        assert_eq!(l.count(), 100);
        assert_eq!(l.quantile_us(0.5), Some(32));
        assert_eq!(l.quantile_us(0.99), Some(1024));
        assert_eq!(l.quantile_us(1.0), Some(8192));
        l.record(Duration::ZERO);
        assert_eq!(l.count(), 101);
        let m = IvrMetrics::default();
        m.left("QUEUE");
        m.left("nonsense");
        assert!(m.report().contains("queue 1, transfer 0"), "{}", m.report());
        m.looked::<(), ()>(&Ok(()));
        m.looked::<(), ()>(&Err(()));
        m.looked::<(), ()>(&Err(()));
        assert!(m.report().contains("lookups: ok 1, failed 2"), "{}", m.report());
    }
}
