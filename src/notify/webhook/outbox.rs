// SPDX-License-Identifier: GPL-2.0-or-later
//! The outbox: webhook events in the store's file (tables
//! `webhook_outbox`, `webhook_dead`), on a connection of its own. Only the
//! webhook threads use it (never a PBX thread): the sink adds a batch in one
//! transaction and only then wakes the senders, so nothing is sent that is
//! not on disk; a sender deletes what was delivered.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};

/// One row waiting for delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub seq: i64,
    pub event_id: u64,
    pub kind: String,
    pub call_id: Option<u64>,
    pub body: String,
    pub created_at: i64,
    pub attempts: u32,
}

/// What `hotline webhooks show` prints for one endpoint.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    pub pending: u64,
    pub dead: u64,
    /// Unix ms of the oldest pending row.
    pub oldest: Option<i64>,
}

pub struct Outbox {
    conn: Mutex<Connection>,
}

fn err(e: rusqlite::Error) -> String {
    format!("webhook outbox: {e}")
}

impl Outbox {
    /// Open the store's file (already migrated by the store).
    pub fn open(path: &Path) -> Result<Outbox, String> {
        let conn = Connection::open(path).map_err(|e| format!("webhook outbox {}: {e}", path.display()))?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(err)?;
        // The store's writer may hold the write lock for a batch; waiting
        // here is a webhook thread's, never a PBX thread's.
        conn.execute_batch("PRAGMA synchronous = NORMAL;").map_err(err)?;
        conn.query_row("SELECT count(*) FROM webhook_outbox", [], |r| r.get::<_, i64>(0))
            .map_err(|e| format!("webhook outbox {}: {e} (a store older than this Hotline?)", path.display()))?;
        Ok(Outbox { conn: Mutex::new(conn) })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Add rows (endpoint, event id, kind, call, body) in one transaction;
    /// an event already there for that endpoint is kept as it is.
    pub fn add(&self, rows: &[(&str, u64, &str, Option<u64>, &str)], now_ms: i64) -> Result<(), String> {
        let mut c = self.conn();
        let tx = c.transaction().map_err(err)?;
        {
            let mut st = tx
                .prepare_cached("INSERT OR IGNORE INTO webhook_outbox (endpoint, event_id, kind, call_id, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                .map_err(err)?;
            for (endpoint, id, kind, call, body) in rows {
                st.execute(params![endpoint, *id as i64, kind, call.map(|c| c as i64), body, now_ms]).map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    /// The oldest pending rows of an endpoint.
    pub fn pending(&self, endpoint: &str, limit: usize) -> Result<Vec<Row>, String> {
        let c = self.conn();
        let mut st = c
            .prepare_cached("SELECT seq, event_id, kind, call_id, body, created_at, attempts FROM webhook_outbox WHERE endpoint = ?1 ORDER BY seq LIMIT ?2")
            .map_err(err)?;
        let rows = st
            .query_map(params![endpoint, limit as i64], |r| {
                Ok(Row {
                    seq: r.get(0)?,
                    event_id: r.get::<_, i64>(1)? as u64,
                    kind: r.get(2)?,
                    call_id: r.get::<_, Option<i64>>(3)?.map(|c| c as u64),
                    body: r.get(4)?,
                    created_at: r.get(5)?,
                    attempts: r.get::<_, i64>(6)? as u32,
                })
            })
            .map_err(err)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(err)?;
        Ok(rows)
    }

    /// Delivered: gone from the outbox.
    pub fn done(&self, seqs: &[i64]) -> Result<(), String> {
        if seqs.is_empty() {
            return Ok(());
        }
        let mut c = self.conn();
        let tx = c.transaction().map_err(err)?;
        {
            let mut st = tx.prepare_cached("DELETE FROM webhook_outbox WHERE seq = ?1").map_err(err)?;
            for s in seqs {
                st.execute(params![s]).map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    /// A failed attempt.
    pub fn failed(&self, seq: i64, why: &str) -> Result<(), String> {
        self.conn()
            .execute("UPDATE webhook_outbox SET attempts = attempts + 1, last_error = ?2 WHERE seq = ?1", params![seq, why])
            .map(|_| ())
            .map_err(err)
    }

    /// Move an endpoint's rows created before `before_ms` to the dead
    /// letters; how many.
    pub fn expire(&self, endpoint: &str, before_ms: i64, now_ms: i64) -> Result<usize, String> {
        let mut c = self.conn();
        let tx = c.transaction().map_err(err)?;
        tx.execute(
            "INSERT OR REPLACE INTO webhook_dead (seq, endpoint, event_id, kind, call_id, body, created_at, attempts, last_error, died_at)
             SELECT seq, endpoint, event_id, kind, call_id, body, created_at, attempts, last_error, ?3 FROM webhook_outbox WHERE endpoint = ?1 AND created_at < ?2",
            params![endpoint, before_ms, now_ms],
        )
        .map_err(err)?;
        let n = tx.execute("DELETE FROM webhook_outbox WHERE endpoint = ?1 AND created_at < ?2", params![endpoint, before_ms]).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(n)
    }

    /// Dead letters back into the outbox (in their first order), for one
    /// endpoint or all; how many. Their age counts from now.
    pub fn retry(&self, endpoint: Option<&str>, now_ms: i64) -> Result<usize, String> {
        let mut c = self.conn();
        let tx = c.transaction().map_err(err)?;
        let filter = "(?1 IS NULL OR endpoint = ?1)";
        tx.execute(
            &format!(
                "INSERT OR IGNORE INTO webhook_outbox (seq, endpoint, event_id, kind, call_id, body, created_at, attempts, last_error)
                 SELECT seq, endpoint, event_id, kind, call_id, body, ?2, attempts, last_error FROM webhook_dead WHERE {filter}"
            ),
            params![endpoint, now_ms],
        )
        .map_err(err)?;
        let n = tx.execute(&format!("DELETE FROM webhook_dead WHERE {filter}"), params![endpoint]).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(n)
    }

    /// Drop dead letters (one endpoint or all); how many.
    pub fn purge(&self, endpoint: Option<&str>) -> Result<usize, String> {
        self.conn().execute("DELETE FROM webhook_dead WHERE (?1 IS NULL OR endpoint = ?1)", params![endpoint]).map_err(err)
    }

    pub fn counts(&self, endpoint: &str) -> Result<Counts, String> {
        let c = self.conn();
        let (pending, oldest) = c
            .query_row("SELECT count(*), min(created_at) FROM webhook_outbox WHERE endpoint = ?1", params![endpoint], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get::<_, Option<i64>>(1)?))
            })
            .map_err(err)?;
        let dead = c.query_row("SELECT count(*) FROM webhook_dead WHERE endpoint = ?1", params![endpoint], |r| r.get::<_, i64>(0)).map_err(err)? as u64;
        Ok(Counts { pending, dead, oldest })
    }

    /// The last error of an endpoint's oldest pending row.
    pub fn last_error(&self, endpoint: &str) -> Option<String> {
        self.conn()
            .query_row("SELECT last_error FROM webhook_outbox WHERE endpoint = ?1 ORDER BY seq LIMIT 1", params![endpoint], |r| r.get::<_, Option<String>>(0))
            .optional()
            .ok()
            .flatten()
            .flatten()
    }
}
