// SPDX-License-Identifier: GPL-2.0-or-later
//! The recordings sink (thread `hotline-recordings`): a row per recording
//! in the store, written when the recorder starts, completed once the
//! PBX's recorder has closed the file (its size, SHA-256 and length, read
//! here, off every PBX thread). A file that never appears, or stays
//! half-written, is marked failed with the reason and an event; the call
//! itself went on regardless.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::core::{CallId, EventKind};
use crate::router::BusEvent;
use crate::store::{unix_ms, RecordingRecord, Store};

use super::file;

/// How often, and how long, a stopped recording's file is looked at
/// until the recorder has closed it.
const CHECK_EVERY: Duration = Duration::from_millis(250);
const GIVE_UP_AFTER: u32 = 40;

struct Pending {
    id: u64,
    call: CallId,
    path: PathBuf,
    next: Instant,
    tries: u32,
    /// The size at the last look: a file is done when its header is whole
    /// and it stopped growing.
    last_size: Option<u64>,
    /// A stereo recording whose recorder wrote interleaved raw audio
    /// (Asterisk's MixMonitor `D`): converted to the WAV file once the raw
    /// file stopped growing.
    raw: Option<PathBuf>,
}

pub type Publish = Box<dyn Fn(EventKind) + Send>;
/// Each queue's retention in days, as configured now.
pub type Policy = Box<dyn Fn() -> Vec<(String, u32)> + Send>;

/// The retention sweep: a minute after start, then daily.
const FIRST_SWEEP: Duration = Duration::from_secs(60);
const SWEEP_EVERY: Duration = Duration::from_secs(86_400);

pub struct RecordingsSink {
    store: Arc<Store>,
    every: Duration,
    tries: u32,
    pending: Vec<Pending>,
    /// Files of recordings under way, by id, and whether they are stereo.
    files: std::collections::HashMap<u64, (PathBuf, bool)>,
    publish: Publish,
    retention: Option<(Policy, Instant)>,
}

fn object(pairs: &[(String, String)]) -> Value {
    Value::Object(pairs.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
}

impl RecordingsSink {
    pub fn new(store: Arc<Store>, publish: Publish) -> RecordingsSink {
        RecordingsSink { store, every: CHECK_EVERY, tries: GIVE_UP_AFTER, pending: Vec::new(), files: Default::default(), publish, retention: None }
    }

    /// Sweep old recordings daily, as `policy` says.
    pub fn with_retention(mut self, policy: Policy) -> RecordingsSink {
        self.retention = Some((policy, Instant::now() + FIRST_SWEEP));
        self
    }

    /// Look every `every`, give up after `tries` looks (tests).
    pub fn with_patience(mut self, every: Duration, tries: u32) -> RecordingsSink {
        self.every = every;
        self.tries = tries;
        self
    }

    /// When [`RecordingsSink::tick`] has work next.
    pub fn next_check(&self) -> Option<Instant> {
        self.pending.iter().map(|p| p.next).chain(self.retention.as_ref().map(|r| r.1)).min()
    }

    fn sweep_if_due(&mut self, now: Instant) {
        let Some((policy, due)) = &mut self.retention else { return };
        if *due > now {
            return;
        }
        *due = now + SWEEP_EVERY;
        let policy = policy();
        if policy.is_empty() {
            return;
        }
        match super::retention::sweep(&self.store, &policy, unix_ms(), false) {
            Ok(r) if r.deleted.is_empty() && r.failed.is_empty() => {}
            Ok(r) => log::info!("{}", r.text("retention sweep", false).trim_end()),
            Err(e) => log::error!("Hotline: retention sweep: {e}"),
        }
    }

    pub fn apply(&mut self, e: &BusEvent) {
        match &e.event.kind {
            EventKind::RecordingStarted { id, call, queue, agent, number, name, file, format, stereo, data, identity } => {
                let prefix = crate::flow::data::PREFIX;
                let bag: Vec<(String, String)> = data.iter().filter_map(|(k, v)| k.strip_prefix(prefix).map(|k| (k.to_string(), v.clone()))).collect();
                self.files.insert(*id, (PathBuf::from(file), *stereo));
                let _ = self.store.put_recording(RecordingRecord {
                    id: *id,
                    call_id: call.0,
                    queue: Some(queue.clone()),
                    agent: Some(agent.clone()),
                    number: Some(number.clone()),
                    name: Some(name.clone()),
                    path: Some(file.clone()),
                    format: Some(format.clone()),
                    stereo: Some(*stereo),
                    started_at: Some(unix_ms()),
                    status: Some("recording".into()),
                    data: Some(object(&bag)),
                    pbx: Some(object(identity)),
                    paused: Some(Value::Array(Vec::new())),
                    tags: Some(Value::Array(Vec::new())),
                    ..RecordingRecord::default()
                });
            }
            EventKind::RecordingStopped { id, call, ms, paused } => {
                let paused = Value::Array(paused.iter().map(|(a, b)| serde_json::json!([a, b])).collect());
                let _ = self.store.put_recording(RecordingRecord {
                    id: *id,
                    call_id: call.0,
                    ended_at: Some(unix_ms()),
                    duration_ms: Some(*ms),
                    paused: Some(paused),
                    ..RecordingRecord::default()
                });
                if let Some((path, stereo)) = self.files.remove(id) {
                    let raw = stereo.then(|| PathBuf::from(super::path::stereo_raw(&path.display().to_string()))).filter(|r| r.exists());
                    self.pending.push(Pending { id: *id, call: *call, path, next: Instant::now(), tries: 0, last_size: None, raw });
                    self.tick();
                }
            }
            EventKind::RecordingFailed { id, call, reason, .. } => {
                self.files.remove(id);
                let _ = self.store.put_recording(RecordingRecord {
                    id: *id,
                    call_id: call.0,
                    status: Some("failed".into()),
                    error: Some(reason.clone()),
                    ..RecordingRecord::default()
                });
            }
            _ => {}
        }
    }

    /// Look at the files whose time came: complete ones get their facts,
    /// the others another look later, until they are given up.
    pub fn tick(&mut self) {
        let now = Instant::now();
        self.sweep_if_due(now);
        let mut keep = Vec::new();
        for mut p in std::mem::take(&mut self.pending) {
            if p.next > now {
                keep.push(p);
                continue;
            }
            p.tries += 1;
            let last = p.tries >= self.tries;
            if let Some(raw) = p.raw.clone() {
                let size = std::fs::metadata(&raw).map(|m| m.len()).ok();
                if size.is_some() && size == p.last_size || last {
                    p.raw = None;
                    p.last_size = None;
                    if let Err(e) = interleaved_to_wav(&raw, &p.path) {
                        let reason = format!("{}: {e}", raw.display());
                        log::error!("Hotline: recording {} of call {}: {reason}", p.id, p.call);
                        (self.publish)(EventKind::RecordingFailed { id: p.id, call: p.call, file: raw.display().to_string(), reason });
                        continue;
                    }
                } else {
                    p.last_size = size;
                    p.next = now + self.every;
                    keep.push(p);
                    continue;
                }
            }
            match file::inspect(&p.path) {
                Ok(f) if (f.complete && p.last_size == Some(f.size)) || last => {
                    let error = (!f.complete).then(|| "the recorder did not finish the file's header".to_string());
                    let _ = self.store.put_recording(RecordingRecord {
                        id: p.id,
                        call_id: p.call.0,
                        size: Some(f.size),
                        sha256: Some(f.sha256),
                        duration_ms: f.duration_ms,
                        status: Some(if f.complete { "done" } else { "failed" }.into()),
                        error,
                        ..RecordingRecord::default()
                    });
                }
                Err(e) if last => {
                    let reason = format!("{}: {e} (is the directory writable by the PBX? is the disk full?)", p.path.display());
                    log::error!("Hotline: recording {} of call {}: {reason}", p.id, p.call);
                    (self.publish)(EventKind::RecordingFailed { id: p.id, call: p.call, file: p.path.display().to_string(), reason });
                    let _ = self.store.put_recording(RecordingRecord {
                        id: p.id,
                        call_id: p.call.0,
                        status: Some("failed".into()),
                        error: Some(format!("{}: {e}", p.path.display())),
                        ..RecordingRecord::default()
                    });
                }
                found => {
                    p.last_size = found.ok().map(|f| f.size);
                    p.next = now + self.every;
                    keep.push(p);
                }
            }
        }
        self.pending = keep;
    }
}

/// Interleaved signed 16-bit 8 kHz stereo (MixMonitor `D`) into a WAV
/// file, with sox; the raw file goes once the WAV is written.
fn interleaved_to_wav(raw: &std::path::Path, wav: &std::path::Path) -> Result<(), String> {
    let out = std::process::Command::new("sox")
        .args(["-t", "raw", "-r", "8000", "-e", "signed-integer", "-b", "16", "-c", "2"])
        .arg(raw)
        .arg(wav)
        .output()
        .map_err(|e| format!("sox: {e} (stereo recordings need sox: apt-get install sox)"))?;
    if !out.status.success() {
        return Err(format!("sox: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    std::fs::remove_file(raw).map_err(|e| format!("removing the raw file: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Event;
    use std::sync::Mutex;

    fn ev(id: u64, kind: EventKind) -> BusEvent {
        BusEvent { id, event: Event { time: 0, kind } }
    }

    fn started(id: u64, file: &Path) -> EventKind {
        EventKind::RecordingStarted {
            id,
            call: CallId(7),
            queue: "support".into(),
            agent: "a1".into(),
            number: "0912".into(),
            name: "N".into(),
            file: file.display().to_string(),
            format: "wav".into(),
            stereo: false,
            data: vec![("data_account".into(), "105".into()), ("uuid".into(), "x".into())],
            identity: vec![("uuid".into(), "u-1".into())],
        }
    }

    use std::path::Path;

    #[test]
    fn a_finished_file_completes_its_row_and_a_missing_one_fails_with_an_event() {
        let dir = std::env::temp_dir().join(format!("hotline-rec-sink-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = Arc::new(Store::open(&dir.join("h.db")).unwrap());
        let failed: Arc<Mutex<Vec<EventKind>>> = Arc::default();
        let f2 = failed.clone();
        let mut sink = RecordingsSink::new(store.clone(), Box::new(move |k| f2.lock().unwrap().push(k))).with_patience(Duration::from_millis(10), 5);
        let good = dir.join("good.wav");
        sink.apply(&ev(1, started(11, &good)));
        // The recorder is still writing: the header has no sizes yet.
        let mut open = super::super::file::tests::wav(1, 2000);
        open[4..8].copy_from_slice(&0u32.to_le_bytes());
        std::fs::write(&good, &open).unwrap();
        sink.apply(&ev(2, EventKind::RecordingStopped { id: 11, call: CallId(7), ms: 2100, paused: vec![(500, 900)] }));
        assert!(sink.next_check().is_some(), "looked again later");
        std::fs::write(&good, super::super::file::tests::wav(1, 2000)).unwrap();
        for _ in 0..2 {
            std::thread::sleep(Duration::from_millis(15));
            sink.tick();
        }
        assert_eq!(sink.next_check(), None, "whole and no longer growing");
        // No file at all: given up after five looks, failed, an event.
        sink.apply(&ev(3, started(12, &dir.join("never.wav"))));
        sink.apply(&ev(4, EventKind::RecordingStopped { id: 12, call: CallId(8), ms: 1000, paused: vec![] }));
        while sink.next_check().is_some() {
            std::thread::sleep(Duration::from_millis(10));
            sink.tick();
        }
        assert!(store.flush(Duration::from_secs(5)));
        let r = store.recording(11).unwrap().expect("row");
        assert_eq!((r.status.as_deref(), r.duration_ms, r.size), (Some("done"), Some(2000), Some(44 + 32_000)));
        assert_eq!((r.queue.as_deref(), r.agent.as_deref(), r.number.as_deref()), (Some("support"), Some("a1"), Some("0912")));
        assert_eq!(r.data, Some(serde_json::json!({ "account": "105" })), "the data bag, not the PBX's fields");
        assert_eq!(r.pbx, Some(serde_json::json!({ "uuid": "u-1" })));
        assert_eq!(r.paused, Some(serde_json::json!([[500, 900]])));
        assert_eq!(r.sha256.as_deref().map(str::len), Some(64));
        let r = store.recording(12).unwrap().expect("row");
        assert_eq!(r.status.as_deref(), Some("failed"));
        assert!(r.error.as_deref().is_some_and(|e| e.contains("never.wav")), "{r:?}");
        assert!(matches!(&failed.lock().unwrap()[..], [EventKind::RecordingFailed { id: 12, .. }]));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_stereo_recordings_interleaved_raw_audio_becomes_its_wav_file() {
        let dir = std::env::temp_dir().join(format!("hotline-rec-stereo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = Arc::new(Store::open(&dir.join("h.db")).unwrap());
        let mut sink = RecordingsSink::new(store.clone(), Box::new(|_| {})).with_patience(Duration::from_millis(10), 50);
        let wav = dir.join("s.wav");
        let mut ev_start = started(21, &wav);
        if let EventKind::RecordingStarted { stereo, .. } = &mut ev_start {
            *stereo = true;
        }
        sink.apply(&ev(1, ev_start));
        // One second: left 1000, right -1000, interleaved.
        let raw: Vec<u8> = (0..8000).flat_map(|_| [1000i16.to_le_bytes(), (-1000i16).to_le_bytes()]).flatten().collect();
        std::fs::write(super::super::path::stereo_raw(&wav.display().to_string()), &raw).unwrap();
        sink.apply(&ev(2, EventKind::RecordingStopped { id: 21, call: CallId(7), ms: 1000, paused: vec![] }));
        while sink.next_check().is_some() {
            std::thread::sleep(Duration::from_millis(10));
            sink.tick();
        }
        assert!(store.flush(Duration::from_secs(5)));
        let r = store.recording(21).unwrap().expect("row");
        assert_eq!((r.status.as_deref(), r.duration_ms), (Some("done"), Some(1000)), "{r:?}");
        assert_eq!(super::super::file::inspect(&wav).unwrap().channels, Some(2));
        assert!(!std::path::Path::new(&super::super::path::stereo_raw(&wav.display().to_string())).exists(), "the raw file is gone");
        std::fs::remove_dir_all(&dir).ok();
    }
}
