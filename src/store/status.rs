// SPDX-License-Identifier: GPL-2.0-or-later
//! What the writer thread shares with the rest: lock-free counters that PBX
//! threads bump, and a small health record (behind a mutex that only the
//! writer and `status()` take). [`StoreStatus`] is the copy an operator
//! sees (`hotline show store`).

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

/// The result of `PRAGMA quick_check`, run by the writer after open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuickCheck {
    /// Not finished yet (it runs off the loading thread).
    Pending,
    Ok,
    /// What SQLite found (first lines), or why the check could not run.
    Failed(String),
}

impl fmt::Display for QuickCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuickCheck::Pending => f.write_str("pending"),
            QuickCheck::Ok => f.write_str("ok"),
            QuickCheck::Failed(why) => write!(f, "FAILED: {why}"),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Health {
    /// The current write failure (None: the last write went through).
    pub failing: Option<String>,
    /// The last failure ever seen, kept after recovery for diagnosis.
    pub last_error: Option<String>,
    pub quick_check: QuickCheck,
    /// Set by close: the writer stops retrying then.
    pub close_deadline: Option<Instant>,
    pub stopped: bool,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub path: PathBuf,
    pub rejected_full: AtomicU64,
    pub batches: AtomicU64,
    pub rows: AtomicU64,
    pub write_failures: AtomicU64,
    pub dropped: AtomicU64,
    /// Rows taken off the channel and not yet committed.
    pub retained: AtomicUsize,
    health: Mutex<Health>,
}

impl Shared {
    pub fn new(path: PathBuf) -> Shared {
        Shared {
            path,
            rejected_full: AtomicU64::new(0),
            batches: AtomicU64::new(0),
            rows: AtomicU64::new(0),
            write_failures: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            retained: AtomicUsize::new(0),
            health: Mutex::new(Health {
                failing: None,
                last_error: None,
                quick_check: QuickCheck::Pending,
                close_deadline: None,
                stopped: false,
            }),
        }
    }

    /// The health record; a poisoned lock (a panic elsewhere) is still read.
    pub fn health(&self) -> MutexGuard<'_, Health> {
        self.health.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn status(&self, queued: usize) -> StoreStatus {
        let h = self.health();
        let quick_ok = !matches!(h.quick_check, QuickCheck::Failed(_));
        StoreStatus {
            path: self.path.clone(),
            healthy: h.failing.is_none() && quick_ok && !h.stopped,
            stopped: h.stopped,
            last_error: h.last_error.clone(),
            queued,
            retained: self.retained.load(Ordering::Relaxed),
            batches_written: self.batches.load(Ordering::Relaxed),
            rows_written: self.rows.load(Ordering::Relaxed),
            write_failures: self.write_failures.load(Ordering::Relaxed),
            rejected_full: self.rejected_full.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            quick_check: h.quick_check.clone(),
        }
    }
}

/// The store as an operator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreStatus {
    pub path: PathBuf,
    /// Writes go through, the integrity check did not fail, the writer runs.
    pub healthy: bool,
    /// The writer thread has ended (closed, or it failed to run).
    pub stopped: bool,
    /// The last write failure seen (kept after recovery).
    pub last_error: Option<String>,
    /// Writes waiting in the channel.
    pub queued: usize,
    /// Writes the writer holds and has not committed yet (being written,
    /// or kept for a retry after a failure).
    pub retained: usize,
    pub batches_written: u64,
    pub rows_written: u64,
    /// Failed transactions (each retried, or its rows counted in `dropped`).
    pub write_failures: u64,
    /// Writes refused because the channel was full (the caller went on).
    pub rejected_full: u64,
    /// Writes given up: over the cap of retained rows while the disk
    /// failed, refused by SQLite itself, or left at close's deadline.
    pub dropped: u64,
    pub quick_check: QuickCheck,
}

impl fmt::Display for StoreStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match (self.healthy, self.stopped) {
            (true, _) => "healthy",
            (false, true) => "STOPPED",
            (false, false) => "UNHEALTHY",
        };
        writeln!(f, "store: {} ({state})", self.path.display())?;
        writeln!(f, "integrity (quick_check): {}", self.quick_check)?;
        writeln!(f, "last error: {}", self.last_error.as_deref().unwrap_or("none"))?;
        writeln!(f, "queued: {}, retained for writing: {}", self.queued, self.retained)?;
        writeln!(f, "written: {} rows in {} batches", self.rows_written, self.batches_written)?;
        writeln!(
            f,
            "write failures: {}, rejected (queue full): {}, dropped: {}",
            self.write_failures, self.rejected_full, self.dropped
        )
    }
}
