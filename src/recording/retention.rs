// SPDX-License-Identifier: GPL-2.0-or-later
//! Keeping recordings as long as policy says, and no longer: the daily
//! sweep (each queue's `record_retention_days`), a legal hold that keeps a
//! recording whatever its age, and erasing one caller's recordings on
//! request. Each can run as a dry run that only reports. Off the PBX
//! threads: the recordings sink's thread, the CLI's and the API's.

use std::path::Path;

use serde_json::Value;

use crate::store::{RecordingFilter, RecordingRecord, Store};

/// The tag that keeps a recording from every deletion.
pub const LEGAL_HOLD: &str = "legal-hold";

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Deleted (or, in a dry run, to delete): (id, path).
    pub deleted: Vec<(u64, String)>,
    /// Kept by a legal hold.
    pub held: Vec<u64>,
    /// Files that could not be removed (the row stays, to try again).
    pub failed: Vec<(u64, String)>,
}

impl Report {
    pub fn text(&self, what: &str, dry_run: bool) -> String {
        let verb = if dry_run { "would delete" } else { "deleted" };
        let mut out = format!("Hotline: {what}: {verb} {}, kept {} on legal hold, {} failed\n", self.deleted.len(), self.held.len(), self.failed.len());
        for (id, path) in &self.deleted {
            out.push_str(&format!("  {verb} {id} {path}\n"));
        }
        for id in &self.held {
            out.push_str(&format!("  held {id}\n"));
        }
        for (id, why) in &self.failed {
            out.push_str(&format!("  failed {id}: {why}\n"));
        }
        out
    }
}

pub fn on_hold(r: &RecordingRecord) -> bool {
    r.tags.as_ref().and_then(Value::as_array).is_some_and(|t| t.iter().any(|v| v == LEGAL_HOLD))
}

fn delete(store: &Store, rows: Vec<RecordingRecord>, dry_run: bool) -> Report {
    let mut report = Report::default();
    for r in rows {
        if on_hold(&r) {
            report.held.push(r.id);
            continue;
        }
        let path = r.path.clone().unwrap_or_default();
        if !dry_run {
            match std::fs::remove_file(Path::new(&path)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound || path.is_empty() => {}
                Err(e) => {
                    report.failed.push((r.id, format!("{path}: {e}")));
                    continue;
                }
            }
            let _ = store.remove_recording(r.id);
        }
        report.deleted.push((r.id, path));
    }
    report
}

/// Everything older than its queue's retention (`(queue, days)`), as of
/// `now_ms`, except what is on hold.
pub fn sweep(store: &Store, policy: &[(String, u32)], now_ms: i64, dry_run: bool) -> Result<Report, String> {
    let mut all = Report::default();
    for (queue, days) in policy {
        let filter = RecordingFilter { queue: Some(queue.clone()), to: Some(now_ms - *days as i64 * DAY_MS), limit: 10_000, ..Default::default() };
        let rows = store.recordings(&filter).map_err(|e| e.to_string())?;
        // A recording under way is never swept.
        let rows = rows.into_iter().filter(|r| r.status.as_deref() != Some("recording")).collect();
        let r = delete(store, rows, dry_run);
        all.deleted.extend(r.deleted);
        all.held.extend(r.held);
        all.failed.extend(r.failed);
    }
    Ok(all)
}

/// Every recording of caller `number` (an erasure request), except what
/// is on hold.
pub fn erase_caller(store: &Store, number: &str, dry_run: bool) -> Result<Report, String> {
    let rows = store.recordings(&RecordingFilter { number: Some(number.into()), limit: 10_000, ..Default::default() }).map_err(|e| e.to_string())?;
    Ok(delete(store, rows, dry_run))
}

/// Put a recording on legal hold, or take it off.
pub fn set_hold(store: &Store, id: u64, hold: bool) -> Result<String, String> {
    let r = store.recording(id).map_err(|e| e.to_string())?.ok_or_else(|| format!("no recording {id}"))?;
    let mut tags: Vec<Value> = r.tags.as_ref().and_then(Value::as_array).cloned().unwrap_or_default();
    tags.retain(|t| t != LEGAL_HOLD);
    if hold {
        tags.push(Value::String(LEGAL_HOLD.into()));
    }
    store
        .put_recording(RecordingRecord { id, call_id: r.call_id, tags: Some(Value::Array(tags)), ..RecordingRecord::default() })
        .map_err(|e| e.to_string())?;
    Ok(format!("recording {id}: {}", if hold { "on legal hold" } else { "legal hold released" }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_sweep_deletes_what_is_old_and_not_held_and_erasure_takes_one_callers() {
        let dir = std::env::temp_dir().join(format!("hotline-rec-retention-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::open(&dir.join("h.db")).unwrap();
        let now = 100 * DAY_MS;
        let put = |id: u64, queue: &str, number: &str, age_days: i64| {
            let path = dir.join(format!("{id}.wav"));
            std::fs::write(&path, b"RIFF").unwrap();
            store
                .put_recording(RecordingRecord {
                    id,
                    call_id: id,
                    queue: Some(queue.into()),
                    number: Some(number.into()),
                    path: Some(path.display().to_string()),
                    started_at: Some(now - age_days * DAY_MS),
                    status: Some("done".into()),
                    ..RecordingRecord::default()
                })
                .unwrap();
        };
        put(1, "support", "0901", 40); // old: goes
        put(2, "support", "0902", 10); // young: stays
        put(3, "support", "0903", 50); // old, on hold: stays
        put(4, "sales", "0901", 400); // no retention in sales: stays
        put(5, "sales", "0901", 1);
        assert!(store.flush(Duration::from_secs(5)));
        set_hold(&store, 3, true).unwrap();
        assert!(store.flush(Duration::from_secs(5)));
        let policy = vec![("support".to_string(), 30)];
        let dry = sweep(&store, &policy, now, true).unwrap();
        assert_eq!((dry.deleted.iter().map(|d| d.0).collect::<Vec<_>>(), dry.held.clone()), (vec![1], vec![3]));
        assert!(dir.join("1.wav").exists(), "a dry run deletes nothing");
        let done = sweep(&store, &policy, now, false).unwrap();
        assert_eq!(done.deleted.len(), 1);
        assert!(store.flush(Duration::from_secs(5)));
        assert!(!dir.join("1.wav").exists() && store.recording(1).unwrap().is_none());
        for id in [2, 3, 4, 5] {
            assert!(dir.join(format!("{id}.wav")).exists() && store.recording(id).unwrap().is_some(), "{id} kept");
        }
        // Erasing caller 0901: 4 and 5 (1 is gone already).
        let erased = erase_caller(&store, "0901", false).unwrap();
        assert_eq!(erased.deleted.iter().map(|d| d.0).collect::<Vec<_>>(), [5, 4]);
        // Released, the held one goes with the next sweep.
        set_hold(&store, 3, false).unwrap();
        assert!(store.flush(Duration::from_secs(5)));
        assert_eq!(sweep(&store, &policy, now, false).unwrap().deleted.iter().map(|d| d.0).collect::<Vec<_>>(), [3]);
        assert!(set_hold(&store, 99, true).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
