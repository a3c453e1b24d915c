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
    /// Paused spans and the stop, in ms from when this sink saw the start:
    /// moved onto the file's own timeline once its length is known (the
    /// recorder writes from the bridge on, a moment after the start).
    spans: Vec<(u64, u64)>,
    stopped_ms: u64,
}

pub type Publish = Box<dyn Fn(EventKind) + Send>;
/// The adapter's pause (true) / resume of a recording on the caller's
/// channel (its identity) into a file; called on this sink's thread.
pub type PauseFn = Box<dyn Fn(&[(String, String)], &str, bool) -> Result<(), String> + Send>;

/// What the CLI and the API ask of the sink's thread.
pub enum Command {
    /// Pause (true) or resume the recording of a live call; the reply says
    /// what was done.
    Pause { call: CallId, pause: bool, reply: crossbeam_channel::Sender<Result<String, String>> },
}

/// A recording under way, as the sink follows it.
struct Active {
    call: CallId,
    file: String,
    identity: Vec<(String, String)>,
    started: Instant,
    paused_since: Option<Instant>,
    spans: Vec<(u64, u64)>,
}

impl Active {
    fn ms(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.started).as_millis() as u64
    }
}
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
    active: std::collections::HashMap<u64, Active>,
    pause_fn: Option<PauseFn>,
}

fn object(pairs: &[(String, String)]) -> Value {
    Value::Object(pairs.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
}

impl RecordingsSink {
    pub fn new(store: Arc<Store>, publish: Publish) -> RecordingsSink {
        RecordingsSink { store, every: CHECK_EVERY, tries: GIVE_UP_AFTER, pending: Vec::new(), files: Default::default(), publish, retention: None, active: Default::default(), pause_fn: None }
    }

    /// Recordings can be paused and resumed through `f` (the adapter's).
    pub fn with_pause(mut self, f: Option<PauseFn>) -> RecordingsSink {
        self.pause_fn = f;
        self
    }

    pub fn command(&mut self, c: Command) {
        match c {
            Command::Pause { call, pause, reply } => {
                let _ = reply.send(self.pause(call, pause));
            }
        }
    }

    /// Pause or resume the recording of `call`: the recorder writes
    /// silence meanwhile (the timeline is kept), and the span is kept in
    /// the recording's row.
    pub fn pause(&mut self, call: CallId, pause: bool) -> Result<String, String> {
        let Some(f) = &self.pause_fn else { return Err("this PBX cannot pause recordings".into()) };
        let (&id, a) = self.active.iter_mut().find(|(_, a)| a.call == call).ok_or_else(|| format!("call {call} is not being recorded"))?;
        let verb = if pause { "paused" } else { "resumed" };
        if a.paused_since.is_some() == pause {
            return Ok(format!("recording {id} of call {call}: already {verb}"));
        }
        f(&a.identity, &a.file, pause).map_err(|e| format!("recording {id} of call {call}: {e}"))?;
        let now = Instant::now();
        match a.paused_since.take() {
            Some(since) => a.spans.push((a.ms(since), a.ms(now))),
            None => a.paused_since = Some(now),
        }
        let at = a.ms(now);
        (self.publish)(EventKind::RecordingPaused { id, call, paused: pause, at });
        Ok(format!("recording {id} of call {call}: {verb}"))
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
                self.active.insert(
                    *id,
                    Active { call: *call, file: file.clone(), identity: identity.clone(), started: Instant::now(), paused_since: None, spans: Vec::new() },
                );
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
                // The spans this sink paused, closed at the stop, with any
                // the flow reported.
                let mut spans: Vec<(u64, u64)> = paused.clone();
                let mut stopped_ms = *ms;
                if let Some(mut a) = self.active.remove(id) {
                    stopped_ms = a.ms(Instant::now());
                    if let Some(since) = a.paused_since.take() {
                        a.spans.push((a.ms(since), stopped_ms));
                    }
                    spans.extend(a.spans);
                }
                let paused = Value::Array(spans.iter().map(|(a, b)| serde_json::json!([a, b])).collect());
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
                    self.pending.push(Pending { id: *id, call: *call, path, next: Instant::now(), tries: 0, last_size: None, raw, spans, stopped_ms });
                    self.tick();
                }
            }
            EventKind::RecordingFailed { id, call, reason, .. } => {
                self.files.remove(id);
                self.active.remove(id);
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
                    // The file ends at the stop: it began `stopped - length`
                    // after this sink saw the start.
                    let shift = f.duration_ms.map_or(0, |d| p.stopped_ms.saturating_sub(d));
                    let paused = (!p.spans.is_empty()).then(|| {
                        Value::Array(p.spans.iter().map(|(a, b)| serde_json::json!([a.saturating_sub(shift), b.saturating_sub(shift)])).collect())
                    });
                    let _ = self.store.put_recording(RecordingRecord {
                        id: p.id,
                        call_id: p.call.0,
                        size: Some(f.size),
                        sha256: Some(f.sha256),
                        duration_ms: f.duration_ms,
                        status: Some(if f.complete { "done" } else { "failed" }.into()),
                        error,
                        paused,
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
    fn a_pause_goes_to_the_pbx_and_its_span_into_the_row() {
        let dir = std::env::temp_dir().join(format!("hotline-rec-pause-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = Arc::new(Store::open(&dir.join("h.db")).unwrap());
        let asked: Arc<Mutex<Vec<(String, bool)>>> = Arc::default();
        let (a2, events) = (asked.clone(), Arc::new(Mutex::new(Vec::new())));
        let e2 = events.clone();
        let mut sink = RecordingsSink::new(store.clone(), Box::new(move |k| e2.lock().unwrap().push(k)))
            .with_pause(Some(Box::new(move |identity: &[(String, String)], file: &str, on: bool| {
                assert_eq!(identity, [("uuid".to_string(), "u-1".to_string())]);
                a2.lock().unwrap().push((file.to_string(), on));
                Ok(())
            })))
            .with_patience(Duration::from_millis(10), 3);
        let file = dir.join("p.wav");
        assert!(sink.pause(CallId(7), true).unwrap_err().contains("not being recorded"));
        sink.apply(&ev(1, started(31, &file)));
        sink.pause(CallId(7), true).unwrap();
        assert!(sink.pause(CallId(7), true).unwrap().contains("already paused"));
        std::thread::sleep(Duration::from_millis(30));
        sink.pause(CallId(7), false).unwrap();
        sink.pause(CallId(7), true).unwrap();
        std::fs::write(&file, super::super::file::tests::wav(1, 500)).unwrap();
        // Stopped while paused: the open span closes at the stop.
        sink.apply(&ev(2, EventKind::RecordingStopped { id: 31, call: CallId(7), ms: 100, paused: vec![] }));
        while sink.next_check().is_some() {
            std::thread::sleep(Duration::from_millis(10));
            sink.tick();
        }
        assert_eq!(asked.lock().unwrap().iter().map(|(_, on)| *on).collect::<Vec<_>>(), [true, false, true]);
        assert_eq!(events.lock().unwrap().iter().filter(|k| matches!(k, EventKind::RecordingPaused { .. })).count(), 3);
        assert!(store.flush(Duration::from_secs(5)));
        let spans = store.recording(31).unwrap().expect("row").paused.expect("paused");
        let spans = spans.as_array().unwrap();
        assert_eq!(spans.len(), 2, "{spans:?}");
        assert!(spans[0][1].as_u64().unwrap() - spans[0][0].as_u64().unwrap() >= 30, "{spans:?}");
        assert!(sink.pause(CallId(7), false).is_err(), "over: nothing to resume");
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
