// SPDX-License-Identifier: GPL-2.0-or-later
//! The durable store: what must outlive a restart of the module or the PBX,
//! in one SQLite file (bundled SQLite, WAL mode).
//!
//! - **Service state** read back once at load ([`Store::snapshot`]): agents'
//!   presence (ready / break / logged-out; for an agent seen before it wins
//!   over the configuration), queue memberships changed at run time,
//!   contact overrides (hot desking) and pending callbacks, in line order.
//! - **The durable sink**: an event log with ids unique across restarts
//!   ([`Store::log_event`], [`Store::events_after`]) and per-call records
//!   ([`Store::put_call`]), for the webhook outbox, call records and
//!   queue_log to build on.
//!
//! Threads. One writer thread, `hotline-store`, owns the write connection.
//! The write methods (`set_*`, `add_*`, `remove_*`, `log_event`, `put_call`)
//! only `try_send` on a bounded channel: no PBX thread ever waits for the
//! disk. A full channel refuses the write ([`StoreRejected::Full`]),
//! counted in [`StoreStatus::rejected_full`] and logged by the writer; the
//! caller goes on. The writer commits whatever is queued in one transaction
//! per batch, and when the disk fails it keeps the rows and retries with
//! back-off until the disk recovers (see `writer.rs`). Nothing here panics
//! on a bad disk or a bad file: open returns a [`StoreError`] naming the
//! path and what is wrong with it, and later failures show in
//! [`Store::status`].
//!
//! The read methods (`snapshot`, `events_after`, `call_record`) and
//! [`Store::flush`] do wait for the disk: they are for the loading thread,
//! the operator's commands and background consumers, not for PBX threads.
//!
//! PBX-neutral: the adapter picks the file (`[store] path`, else a file in
//! the PBX's data directory) and owns the [`Store`]; closing (or dropping)
//! it writes what is queued, within a deadline, and joins the thread.

mod error;
mod records;
mod schema;
mod status;
mod writer;
#[cfg(test)]
mod tests;

pub use error::{StoreError, StoreErrorKind};
pub use records::{
    presence, AgentStateRecord, CallRecord, CallbackRecord, ContactOverride, EventRecord, MemberRecord, MessageRecord, RecordingFilter,
    RecordingRecord, Snapshot, BREAK, LOGGED_OUT, READY,
};
pub use schema::SCHEMA_VERSION;
pub use status::{QuickCheck, StoreStatus};

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{bounded, Sender, TrySendError};
use rusqlite::{Connection, DatabaseName, OpenFlags};
use serde_json::Value;

use crate::core::Event;
use status::Shared;
use writer::{Msg, Op, Writer};

/// An engine event's call id and its fields as a JSON object.
fn event_payload(event: &Event) -> (Option<u64>, Value) {
    let fields = event.kind.fields();
    let call_id = fields.iter().find(|(k, _)| k == "CallId").and_then(|(_, v)| v.parse().ok());
    (call_id, Value::Object(fields.into_iter().map(|(k, v)| (k.into_owned(), Value::String(v))).collect()))
}

/// Sizes and times of the store; the defaults suit a production PBX.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Writes the channel holds before refusing more.
    pub capacity: usize,
    /// Most writes per transaction.
    pub batch_max: usize,
    /// Most writes kept in memory while the disk fails; past it the oldest
    /// are dropped (and counted).
    pub retain_max: usize,
    /// How long SQLite waits for a lock held by another process.
    pub busy_timeout: Duration,
    /// First and longest wait between retries of a failed write.
    pub retry_min: Duration,
    pub retry_max: Duration,
    /// How long closing may spend writing what is queued.
    pub close_timeout: Duration,
    /// Test hook: while set, the writer's connection is `query_only`, so
    /// every write fails as on a read-only file.
    #[cfg(test)]
    pub fail_writes: Arc<std::sync::atomic::AtomicBool>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            capacity: 65_536,
            batch_max: 1_000,
            retain_max: 100_000,
            busy_timeout: Duration::from_secs(5),
            retry_min: Duration::from_millis(100),
            retry_max: Duration::from_secs(10),
            close_timeout: Duration::from_secs(3),
            #[cfg(test)]
            fail_writes: Arc::default(),
        }
    }
}

/// Why a write was not queued. Either way the caller goes on; the store
/// has counted it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreRejected {
    /// The channel is full: the disk is slower than the writes.
    Full,
    /// The writer thread has stopped.
    Closed,
}

impl fmt::Display for StoreRejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StoreRejected::Full => "store queue full",
            StoreRejected::Closed => "store closed",
        })
    }
}

impl std::error::Error for StoreRejected {}

/// Wall-clock milliseconds since the Unix epoch, the store's time.
pub fn unix_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// An open store: a writer thread and a read connection.
pub struct Store {
    /// `None` once closing has begun (dropping it tells the writer).
    tx: Option<Sender<Msg>>,
    shared: Arc<Shared>,
    reader: Mutex<Connection>,
    thread: Option<JoinHandle<()>>,
    close_timeout: Duration,
}

impl Store {
    /// Open (creating the file and its directory if needed) and migrate to
    /// [`SCHEMA_VERSION`]. The integrity check then runs on the writer
    /// thread; its result shows in [`Store::status`].
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_with(path, StoreOptions::default())
    }

    /// [`Store::open`] with options.
    pub fn open_with(path: &Path, opts: StoreOptions) -> Result<Store, StoreError> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        std::fs::create_dir_all(dir).map_err(|e| {
            let mut err = StoreError::io(path, &e);
            err.detail = format!("cannot create directory {}: {e}", dir.display());
            err
        })?;
        probe_writable(dir).map_err(|e| {
            let mut err = StoreError::io(path, &e);
            err.detail = format!(
                "directory {} is not writable (SQLite keeps its -wal and -shm files beside the database): {e}",
                dir.display()
            );
            err
        })?;
        let mut conn = connect(path, &opts)?;
        let from = schema::migrate(&mut conn, path)?;
        let reader = connect(path, &opts)?;
        reader.pragma_update(None, "query_only", true).map_err(|e| StoreError::sqlite(path, &e))?;
        if from != SCHEMA_VERSION {
            log::info!("hotline store {}: migrated from schema version {from} to {SCHEMA_VERSION}", path.display());
        }

        let shared = Arc::new(Shared::new(path.to_path_buf()));
        let (tx, rx) = bounded(opts.capacity.max(1));
        let writer = Writer::new(conn, shared.clone(), rx, &opts);
        let on_panic = shared.clone();
        let thread = std::thread::Builder::new()
            .name("hotline-store".into())
            .spawn(move || {
                if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| writer.run())).is_err() {
                    log::error!("hotline store {}: writer thread panicked; nothing more is written", on_panic.path.display());
                    let mut h = on_panic.health();
                    h.stopped = true;
                    h.last_error = Some("writer thread panicked".into());
                }
            })
            .map_err(|e| StoreError::new(path, StoreErrorKind::Thread, e.to_string()))?;
        Ok(Store { tx: Some(tx), shared, reader: Mutex::new(reader), thread: Some(thread), close_timeout: opts.close_timeout })
    }

    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    // -- writes: never wait -------------------------------------------------

    /// The agent's presence: [`READY`], [`BREAK`] (with its reason) or
    /// [`LOGGED_OUT`]; [`presence`] maps an engine state to these.
    pub fn set_agent_state(&self, agent: &str, state: &str, reason: Option<&str>) -> Result<(), StoreRejected> {
        self.push(Op::AgentState { agent: agent.into(), state: state.into(), reason: reason.map(Into::into), at: unix_ms() })
    }

    /// The agent joined `queue` at run time (or its tier or penalty changed).
    pub fn add_member(&self, agent: &str, queue: &str, tier: u8, penalty: u32) -> Result<(), StoreRejected> {
        self.push(Op::MemberAdd { agent: agent.into(), queue: queue.into(), tier, penalty, at: unix_ms() })
    }

    /// The agent left `queue` at run time; it stays out after a restart even
    /// if the configuration lists it.
    pub fn remove_member(&self, agent: &str, queue: &str) -> Result<(), StoreRejected> {
        self.push(Op::MemberRemove { agent: agent.into(), queue: queue.into(), at: unix_ms() })
    }

    /// Hot desking: reach the agent at `contact` from now on.
    pub fn set_contact(&self, agent: &str, contact: &str) -> Result<(), StoreRejected> {
        self.push(Op::ContactSet { agent: agent.into(), contact: contact.into(), at: unix_ms() })
    }

    /// Back to the configured contact.
    pub fn clear_contact(&self, agent: &str) -> Result<(), StoreRejected> {
        self.push(Op::ContactClear { agent: agent.into() })
    }

    /// A caller asked to be called back (or its callback changed: same id).
    pub fn add_callback(&self, callback: CallbackRecord) -> Result<(), StoreRejected> {
        self.push(Op::CallbackPut(callback))
    }

    /// The callback was made (or given up): it is not re-queued at restart.
    pub fn remove_callback(&self, id: u64) -> Result<(), StoreRejected> {
        self.push(Op::CallbackRemove { id })
    }

    /// A voice message was left (or changed: same id).
    pub fn put_message(&self, message: MessageRecord) -> Result<(), StoreRejected> {
        self.push(Op::MessagePut(message))
    }

    /// A message was listened to by `by`.
    pub fn message_heard(&self, id: u64, by: &str) -> Result<(), StoreRejected> {
        self.push(Op::MessageHeard { id, by: by.into(), at: unix_ms() })
    }

    pub fn remove_message(&self, id: u64) -> Result<(), StoreRejected> {
        self.push(Op::MessageRemove { id })
    }

    /// Append to the event log. `time`: wall-clock ms since the Unix epoch.
    /// The writer gives the id, in commit order.
    pub fn append_event(&self, time: i64, kind: &str, call_id: Option<u64>, payload: Value) -> Result<(), StoreRejected> {
        self.push(Op::Event { id: None, time, kind: kind.into(), call_id, payload })
    }

    /// Append an engine event: its [`crate::core::EventKind::name`] as the
    /// kind, its fields as a JSON object, its `CallId` field as the call.
    /// `time`: when it happened, wall-clock ms since the Unix epoch (the
    /// engine's own clock restarts with the module).
    pub fn log_event(&self, event: &Event, time: i64) -> Result<(), StoreRejected> {
        let (call_id, payload) = event_payload(event);
        self.append_event(time, event.kind.name(), call_id, payload)
    }

    /// [`Store::log_event`] under the event bus's id (unique across
    /// restarts: see [`Snapshot::next_event_id`]); logging the same id
    /// twice keeps the first.
    pub fn log_bus_event(&self, id: u64, event: &Event, time: i64) -> Result<(), StoreRejected> {
        let (call_id, payload) = event_payload(event);
        self.push(Op::Event { id: Some(id), time, kind: event.kind.name().into(), call_id, payload })
    }

    /// Write what is known of a call: the `Some` fields overwrite, the
    /// `None` ones keep what is stored.
    pub fn put_call(&self, call: CallRecord) -> Result<(), StoreRejected> {
        self.push(Op::Call(call))
    }

    /// Write what is known of a recording (`None` fields keep the stored
    /// value).
    pub fn put_recording(&self, r: RecordingRecord) -> Result<(), StoreRejected> {
        self.push(Op::Recording(r))
    }

    pub fn remove_recording(&self, id: u64) -> Result<(), StoreRejected> {
        self.push(Op::RecordingRemove { id })
    }

    fn push(&self, op: Op) -> Result<(), StoreRejected> {
        let Some(tx) = &self.tx else { return Err(StoreRejected::Closed) };
        match tx.try_send(Msg::Op(op)) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => {
                // Counted here, logged by the writer (a PBX thread must not
                // wait on a logger either).
                self.shared.rejected_full.fetch_add(1, Ordering::Relaxed);
                Err(StoreRejected::Full)
            }
            Err(TrySendError::Disconnected(_)) => Err(StoreRejected::Closed),
        }
    }

    // -- reads and waits: not for PBX threads --------------------------------

    /// What a starting service needs, as committed so far. Called once at
    /// load, before anything is written.
    pub fn snapshot(&self) -> Result<Snapshot, StoreError> {
        records::read_snapshot(&mut self.reader()).map_err(|e| self.error(&e))
    }

    /// Up to `limit` logged events with an id above `after`, by id.
    pub fn events_after(&self, after: u64, limit: usize) -> Result<Vec<EventRecord>, StoreError> {
        records::read_events_after(&self.reader(), after, limit).map_err(|e| self.error(&e))
    }

    pub fn recording(&self, id: u64) -> Result<Option<RecordingRecord>, StoreError> {
        records::read_recording(&self.reader(), id).map_err(|e| self.error(&e))
    }

    /// Recordings matching `filter`, newest first.
    pub fn recordings(&self, filter: &RecordingFilter) -> Result<Vec<RecordingRecord>, StoreError> {
        records::read_recordings(&self.reader(), filter).map_err(|e| self.error(&e))
    }

    pub fn call_record(&self, call_id: u64) -> Result<Option<CallRecord>, StoreError> {
        records::read_call(&self.reader(), call_id).map_err(|e| self.error(&e))
    }

    /// Wait until every write queued before this call is committed (or
    /// given up); false if that took longer than `timeout`.
    pub fn flush(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let Some(tx) = &self.tx else { return false };
        let (done_tx, done_rx) = bounded(1);
        tx.send_deadline(Msg::Flush(done_tx), deadline).is_ok() && done_rx.recv_deadline(deadline).is_ok()
    }

    pub fn status(&self) -> StoreStatus {
        self.shared.status(self.tx.as_ref().map_or(0, Sender::len))
    }

    /// Write what is queued (within the close timeout), stop and join the
    /// writer; the status says what was written and what was not.
    pub fn close(mut self) -> StoreStatus {
        self.shutdown();
        self.status()
    }

    fn shutdown(&mut self) {
        let Some(thread) = self.thread.take() else { return };
        self.shared.health().close_deadline = Some(Instant::now() + self.close_timeout);
        // The writer drains the channel, sees it disconnected and stops.
        self.tx = None;
        let _ = thread.join();
    }

    fn reader(&self) -> MutexGuard<'_, Connection> {
        self.reader.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn error(&self, e: &rusqlite::Error) -> StoreError {
        StoreError::sqlite(&self.shared.path, e)
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Open one connection with the store's settings: WAL (readers never block
/// the writer, a commit is one append), `synchronous=NORMAL` (durable across
/// a crash of the process; a power cut may lose the last commits, never
/// consistency), and a busy timeout for locks held by another process.
fn connect(path: &Path, opts: &StoreOptions) -> Result<Connection, StoreError> {
    let err = |e: rusqlite::Error| StoreError::sqlite(path, &e);
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(err)?;
    // SQLite quietly opens a file it may not write read-only.
    if conn.is_readonly(DatabaseName::Main).map_err(err)? {
        return Err(StoreError::new(path, StoreErrorKind::ReadOnly, "the file is read-only"));
    }
    conn.busy_timeout(opts.busy_timeout).map_err(err)?;
    // The first statement that reads the file: a wrong file fails here.
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0)).map_err(err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        log::warn!("hotline store {}: journal mode {mode}, not WAL (file system without shared memory?)", path.display());
    }
    conn.pragma_update(None, "synchronous", "NORMAL").map_err(err)?;
    Ok(conn)
}

/// Can files be made in `dir`? Asked of the OS directly: SQLite's own answer
/// for a directory it cannot write is a bare "unable to open database file".
fn probe_writable(dir: &Path) -> std::io::Result<()> {
    static PROBES: AtomicU64 = AtomicU64::new(0);
    let probe: PathBuf =
        dir.join(format!(".hotline-store-probe-{}-{}", std::process::id(), PROBES.fetch_add(1, Ordering::Relaxed)));
    std::fs::OpenOptions::new().write(true).create_new(true).open(&probe)?;
    std::fs::remove_file(&probe)
}
