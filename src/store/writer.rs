// SPDX-License-Identifier: GPL-2.0-or-later
//! The writer thread (`hotline-store`): the only code that writes the file.
//!
//! It takes everything queued (up to the batch size) and writes it in one
//! transaction, so a burst of events costs one commit, not one each. When a
//! write fails (disk full, file made read-only, I/O error, locked) the rows
//! stay in memory, in order, and are retried with a growing back-off; the
//! error is logged when it changes, not on every retry, and the status says
//! unhealthy until a write goes through again. Memory stays bounded: past
//! `retain_max` rows the oldest are dropped and counted (the newest state
//! is worth more than the oldest). A row that SQLite itself refuses (not
//! the disk) is isolated by writing one row per transaction and dropped
//! alone, so it cannot hold up the others forever.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};
use rusqlite::{Connection, Transaction, TransactionBehavior};
use serde_json::Value;

use super::error::is_permanent;
use super::records::{CallbackRecord, MessageRecord, RecordingRecord};
use super::status::{QuickCheck, Shared};
use super::{CallRecord, StoreOptions};

/// One write, as queued by the API.
#[derive(Debug)]
pub(crate) enum Op {
    AgentState { agent: String, state: String, reason: Option<String>, at: i64 },
    MemberAdd { agent: String, queue: String, tier: u8, penalty: u32, at: i64 },
    MemberRemove { agent: String, queue: String, at: i64 },
    ContactSet { agent: String, contact: String, at: i64 },
    ContactClear { agent: String },
    CallbackPut(CallbackRecord),
    CallbackRemove { id: u64 },
    MessagePut(MessageRecord),
    MessageHeard { id: u64, by: String, at: i64 },
    MessageRemove { id: u64 },
    /// `id`: the bus's event id (kept; a repeat is ignored), or None for a
    /// fresh row id.
    Event { id: Option<u64>, time: i64, kind: String, call_id: Option<u64>, payload: Value },
    Call(CallRecord),
    Recording(RecordingRecord),
    RecordingRemove { id: u64 },
}

pub(crate) enum Msg {
    Op(Op),
    /// Answered once everything queued before it is committed (or given up).
    Flush(Sender<()>),
}

pub(crate) struct Writer {
    conn: Connection,
    shared: Arc<Shared>,
    rx: Receiver<Msg>,
    pending: VecDeque<Op>,
    /// Ops taken off the channel, and ops committed or given up: a flush
    /// queued after op n is answered when `settled >= n`.
    received: u64,
    settled: u64,
    flushes: Vec<(u64, Sender<()>)>,
    batch_max: usize,
    retain_max: usize,
    retry_min: Duration,
    retry_max: Duration,
    retry: Duration,
    next_try: Instant,
    /// Writes still to do one per transaction, after SQLite refused a batch.
    isolate: usize,
    /// The error of the current failure, to log only its changes.
    failing: Option<String>,
    dropping: bool,
    rejected_seen: u64,
    closing: Option<Instant>,
    disconnected: bool,
    #[cfg(test)]
    fail_writes: Arc<std::sync::atomic::AtomicBool>,
    #[cfg(test)]
    query_only: bool,
}

impl Writer {
    pub fn new(conn: Connection, shared: Arc<Shared>, rx: Receiver<Msg>, opts: &StoreOptions) -> Writer {
        Writer {
            conn,
            shared,
            rx,
            pending: VecDeque::new(),
            received: 0,
            settled: 0,
            flushes: Vec::new(),
            batch_max: opts.batch_max.max(1),
            retain_max: opts.retain_max.max(opts.batch_max).max(1),
            retry_min: opts.retry_min,
            retry_max: opts.retry_max.max(opts.retry_min),
            retry: opts.retry_min,
            next_try: Instant::now(),
            isolate: 0,
            failing: None,
            dropping: false,
            rejected_seen: 0,
            closing: None,
            disconnected: false,
            #[cfg(test)]
            fail_writes: opts.fail_writes.clone(),
            #[cfg(test)]
            query_only: false,
        }
    }

    pub fn run(mut self) {
        self.quick_check();
        loop {
            if self.closing.is_none() {
                self.closing = self.shared.health().close_deadline;
            }
            let now = Instant::now();
            if let Some(deadline) = self.closing {
                if self.pending.is_empty() && self.rx.is_empty() {
                    break;
                }
                if now >= deadline {
                    self.give_up_at_close();
                    break;
                }
            }
            // Wait for work, or for the back-off to end.
            let until = match (self.pending.is_empty(), &self.failing) {
                (true, _) => self.closing,
                (false, Some(_)) => Some(self.closing.map_or(self.next_try, |d| d.min(self.next_try))),
                (false, None) => Some(now),
            };
            if self.disconnected {
                // Nothing more can come: only the back-off to wait out.
                if let Some(t) = until {
                    std::thread::sleep(t.saturating_duration_since(now));
                }
            } else {
                let first = match until {
                    None => self.rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                    Some(t) => self.rx.recv_timeout(t.saturating_duration_since(now)),
                };
                match first {
                    Ok(m) => self.take(m),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => self.disconnected(),
                }
                // Everything else queued, up to a batch.
                for _ in 0..self.batch_max {
                    match self.rx.try_recv() {
                        Ok(m) => self.take(m),
                        Err(TryRecvError::Empty) => break,
                        Err(TryRecvError::Disconnected) => {
                            self.disconnected();
                            break;
                        }
                    }
                }
            }
            self.report_rejections();
            if !self.pending.is_empty() && (self.failing.is_none() || Instant::now() >= self.next_try) {
                self.write_once();
            }
            self.answer_flushes();
        }
        self.report_rejections();
        self.shared.retained.store(self.pending.len(), Ordering::Relaxed);
        self.shared.health().stopped = true;
        // Flushes still waiting see their channel close: not written.
    }

    /// The store handle is gone (closed or dropped): write what is left
    /// within the close deadline.
    fn disconnected(&mut self) {
        self.disconnected = true;
        if self.closing.is_none() {
            let deadline = self.shared.health().close_deadline;
            self.closing = Some(deadline.unwrap_or_else(Instant::now));
        }
    }

    fn take(&mut self, m: Msg) {
        match m {
            Msg::Flush(reply) => self.flushes.push((self.received, reply)),
            Msg::Op(op) => {
                self.received += 1;
                self.pending.push_back(op);
                if self.pending.len() > self.retain_max {
                    self.pending.pop_front();
                    self.isolate = self.isolate.saturating_sub(1);
                    self.settled += 1;
                    self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                    if !self.dropping {
                        self.dropping = true;
                        log::error!(
                            "hotline store {}: more than {} writes waiting for the disk; dropping the oldest",
                            self.shared.path.display(),
                            self.retain_max
                        );
                    }
                }
                self.shared.retained.store(self.pending.len(), Ordering::Relaxed);
            }
        }
    }

    /// Log refusals of a full channel, once per batch at most (PBX threads
    /// only count them: logging there could wait on the PBX's logger).
    fn report_rejections(&mut self) {
        let now = self.shared.rejected_full.load(Ordering::Relaxed);
        if now > self.rejected_seen {
            log::error!(
                "hotline store {}: {} writes refused, queue full (total {now})",
                self.shared.path.display(),
                now - self.rejected_seen
            );
            self.rejected_seen = now;
        }
    }

    fn answer_flushes(&mut self) {
        let settled = self.settled;
        self.flushes.retain(|(after, reply)| {
            if *after <= settled {
                let _ = reply.send(());
                false
            } else {
                true
            }
        });
    }

    fn give_up_at_close(&mut self) {
        let mut left = self.pending.len();
        while let Ok(m) = self.rx.try_recv() {
            left += matches!(m, Msg::Op(_)) as usize;
        }
        if left > 0 {
            log::error!(
                "hotline store {}: closing with {left} writes not written ({})",
                self.shared.path.display(),
                self.failing.as_deref().unwrap_or("deadline reached")
            );
            self.shared.dropped.fetch_add(left as u64, Ordering::Relaxed);
        }
        self.pending.clear();
    }

    fn write_once(&mut self) {
        let n = if self.isolate > 0 { 1 } else { self.pending.len().min(self.batch_max) };
        match self.write(n) {
            Ok(()) => {
                self.pending.drain(..n);
                self.settled += n as u64;
                self.isolate = self.isolate.saturating_sub(n);
                self.shared.retained.store(self.pending.len(), Ordering::Relaxed);
                self.shared.batches.fetch_add(1, Ordering::Relaxed);
                self.shared.rows.fetch_add(n as u64, Ordering::Relaxed);
                if let Some(was) = self.failing.take() {
                    log::info!("hotline store {}: writing again (after: {was})", self.shared.path.display());
                    self.shared.health().failing = None;
                    self.retry = self.retry_min;
                    self.dropping = false;
                }
            }
            Err(e) => {
                self.shared.write_failures.fetch_add(1, Ordering::Relaxed);
                let text = e.to_string();
                if is_permanent(&e) {
                    if n > 1 {
                        // Find the row SQLite refuses: one per transaction.
                        self.isolate = n;
                    } else {
                        let op = self.pending.pop_front();
                        self.isolate = self.isolate.saturating_sub(1);
                        self.settled += 1;
                        self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                        self.shared.retained.store(self.pending.len(), Ordering::Relaxed);
                        log::error!("hotline store {}: write refused, dropped ({text}): {op:?}", self.shared.path.display());
                        self.shared.health().last_error = Some(text);
                    }
                    return;
                }
                if self.failing.as_deref() != Some(text.as_str()) {
                    log::error!(
                        "hotline store {}: write failed, {} writes kept for retry: {text}",
                        self.shared.path.display(),
                        self.pending.len()
                    );
                }
                {
                    let mut h = self.shared.health();
                    h.failing = Some(text.clone());
                    h.last_error = Some(text.clone());
                }
                self.failing = Some(text);
                self.next_try = Instant::now() + self.retry;
                self.retry = (self.retry * 2).min(self.retry_max);
            }
        }
    }

    /// The first `n` pending ops in one transaction.
    fn write(&mut self, n: usize) -> rusqlite::Result<()> {
        #[cfg(test)]
        {
            // Test hook: a real SQLite refusal (SQLITE_READONLY), not a fake.
            let fail = self.fail_writes.load(Ordering::Relaxed);
            if fail != self.query_only {
                self.conn.pragma_update(None, "query_only", fail)?;
                self.query_only = fail;
            }
        }
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for op in self.pending.iter().take(n) {
            apply(&tx, op)?;
        }
        tx.commit()
    }

    fn quick_check(&mut self) {
        let started = Instant::now();
        let result = self.conn.prepare("PRAGMA quick_check").and_then(|mut st| {
            let rows = st.query_map([], |r| r.get::<_, String>(0))?;
            rows.take(10).collect::<rusqlite::Result<Vec<String>>>()
        });
        let check = match result {
            Ok(lines) if lines.len() == 1 && lines[0] == "ok" => QuickCheck::Ok,
            Ok(lines) => QuickCheck::Failed(lines.join("; ")),
            Err(e) => QuickCheck::Failed(e.to_string()),
        };
        if let QuickCheck::Failed(why) = &check {
            log::error!("hotline store {}: integrity check failed: {why}", self.shared.path.display());
        } else {
            log::debug!("hotline store {}: quick_check ok in {:?}", self.shared.path.display(), started.elapsed());
        }
        self.shared.health().quick_check = check;
    }
}

fn apply(tx: &Transaction<'_>, op: &Op) -> rusqlite::Result<()> {
    match op {
        Op::AgentState { agent, state, reason, at } => tx
            .prepare_cached("INSERT OR REPLACE INTO agent_states (agent, state, reason, updated_at) VALUES (?1, ?2, ?3, ?4)")?
            .execute((agent, state, reason, at)),
        Op::MemberAdd { agent, queue, tier, penalty, at } => tx
            .prepare_cached(
                "INSERT OR REPLACE INTO members (agent, queue, tier, penalty, removed, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, 0, ?5)",
            )?
            .execute((agent, queue, tier, penalty, at)),
        Op::MemberRemove { agent, queue, at } => tx
            .prepare_cached(
                "INSERT INTO members (agent, queue, tier, penalty, removed, updated_at) VALUES (?1, ?2, 0, 0, 1, ?3) \
                 ON CONFLICT (agent, queue) DO UPDATE SET removed = 1, updated_at = excluded.updated_at",
            )?
            .execute((agent, queue, at)),
        Op::ContactSet { agent, contact, at } => tx
            .prepare_cached("INSERT OR REPLACE INTO contacts (agent, contact, updated_at) VALUES (?1, ?2, ?3)")?
            .execute((agent, contact, at)),
        Op::ContactClear { agent } => tx.prepare_cached("DELETE FROM contacts WHERE agent = ?1")?.execute([agent]),
        Op::CallbackPut(c) => tx
            .prepare_cached(
                "INSERT INTO callbacks (id, queue, number, priority, entered_at, requested_at, data) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                 ON CONFLICT (id) DO UPDATE SET queue = excluded.queue, number = excluded.number, \
                 priority = excluded.priority, entered_at = excluded.entered_at, \
                 requested_at = excluded.requested_at, data = excluded.data",
            )?
            .execute((c.id as i64, &c.queue, &c.number, c.priority, c.entered_at, c.requested_at, c.data.to_string())),
        Op::CallbackRemove { id } => tx.prepare_cached("DELETE FROM callbacks WHERE id = ?1")?.execute([*id as i64]),
        Op::MessagePut(m) => tx
            .prepare_cached(
                "INSERT OR REPLACE INTO messages (id, mailbox, step, number, name, callback, file, ms, data, left_at, heard_at, heard_by) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(rusqlite::params![
                m.id as i64,
                &m.mailbox,
                &m.step,
                &m.number,
                &m.name,
                &m.callback,
                &m.file,
                m.ms as i64,
                m.data.to_string(),
                m.left_at,
                m.heard_at,
                &m.heard_by
            ]),
        Op::MessageHeard { id, by, at } => tx
            .prepare_cached("UPDATE messages SET heard_at = ?2, heard_by = ?3 WHERE id = ?1")?
            .execute((*id as i64, at, by)),
        Op::MessageRemove { id } => tx.prepare_cached("DELETE FROM messages WHERE id = ?1")?.execute([*id as i64]),
        Op::Event { id: None, time, kind, call_id, payload } => tx
            .prepare_cached("INSERT INTO events (time, kind, call_id, payload) VALUES (?1, ?2, ?3, ?4)")?
            .execute((time, kind, call_id.map(|c| c as i64), payload.to_string())),
        Op::Event { id: Some(id), time, kind, call_id, payload } => tx
            .prepare_cached("INSERT OR IGNORE INTO events (id, time, kind, call_id, payload) VALUES (?1, ?2, ?3, ?4, ?5)")?
            .execute((*id as i64, time, kind, call_id.map(|c| c as i64), payload.to_string())),
        Op::Call(c) => tx
            .prepare_cached(
                "INSERT INTO calls (call_id, queue, number, entered, answered, ended, agent, outcome, wait_ms, talk_ms, data, survey) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) \
                 ON CONFLICT (call_id) DO UPDATE SET \
                 queue = coalesce(excluded.queue, queue), number = coalesce(excluded.number, number), \
                 entered = coalesce(excluded.entered, entered), answered = coalesce(excluded.answered, answered), \
                 ended = coalesce(excluded.ended, ended), agent = coalesce(excluded.agent, agent), \
                 outcome = coalesce(excluded.outcome, outcome), wait_ms = coalesce(excluded.wait_ms, wait_ms), \
                 talk_ms = coalesce(excluded.talk_ms, talk_ms), data = coalesce(excluded.data, data), \
                 survey = coalesce(excluded.survey, survey)",
            )?
            .execute((
                c.call_id as i64,
                &c.queue,
                &c.number,
                c.entered,
                c.answered,
                c.ended,
                &c.agent,
                &c.outcome,
                c.wait_ms.map(|v| v as i64),
                c.talk_ms.map(|v| v as i64),
                c.data.as_ref().map(Value::to_string),
                &c.survey,
            )),
        Op::Recording(r) => tx
            .prepare_cached(
                "INSERT INTO recordings (id, call_id, queue, agent, number, name, path, format, stereo, started_at, ended_at, \
                 duration_ms, size, sha256, status, error, data, pbx, paused, tags) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20) \
                 ON CONFLICT (id) DO UPDATE SET \
                 queue = coalesce(excluded.queue, queue), agent = coalesce(excluded.agent, agent), \
                 number = coalesce(excluded.number, number), name = coalesce(excluded.name, name), \
                 path = coalesce(excluded.path, path), format = coalesce(excluded.format, format), \
                 stereo = coalesce(excluded.stereo, stereo), started_at = coalesce(excluded.started_at, started_at), \
                 ended_at = coalesce(excluded.ended_at, ended_at), duration_ms = coalesce(excluded.duration_ms, duration_ms), \
                 size = coalesce(excluded.size, size), sha256 = coalesce(excluded.sha256, sha256), \
                 status = coalesce(excluded.status, status), error = coalesce(excluded.error, error), \
                 data = coalesce(excluded.data, data), pbx = coalesce(excluded.pbx, pbx), \
                 paused = coalesce(excluded.paused, paused), tags = coalesce(excluded.tags, tags)",
            )?
            .execute(rusqlite::params![
                r.id as i64,
                r.call_id as i64,
                &r.queue,
                &r.agent,
                &r.number,
                &r.name,
                &r.path,
                &r.format,
                r.stereo,
                r.started_at,
                r.ended_at,
                r.duration_ms.map(|v| v as i64),
                r.size.map(|v| v as i64),
                &r.sha256,
                &r.status,
                &r.error,
                r.data.as_ref().map(Value::to_string),
                r.pbx.as_ref().map(Value::to_string),
                r.paused.as_ref().map(Value::to_string),
                r.tags.as_ref().map(Value::to_string),
            ]),
        Op::RecordingRemove { id } => tx.prepare_cached("DELETE FROM recordings WHERE id = ?1")?.execute([*id as i64]),
    }
    .map(|_| ())
}
