// SPDX-License-Identifier: GPL-2.0-or-later
//! The schema as a list of migration steps. `PRAGMA user_version` holds how
//! many steps a file has had; opening applies the missing ones in order,
//! each in its own transaction (the step and its version number commit
//! together, so a crash leaves a file at one version or the next, never in
//! between). A file with a higher version than this list knows was written
//! by a newer Hotline: that is an error, never a guess.
//!
//! Steps are only ever appended. Changing a released step would leave files
//! that already have it different from new ones.

use std::path::Path;

use rusqlite::Connection;

use super::error::{StoreError, StoreErrorKind};

/// Step `i` takes a file from version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: what a starting service needs back.
    "
    -- Presence an agent chose (ready / break / logged-out); it wins over the
    -- configuration's initial state for an agent seen before.
    CREATE TABLE agent_states (
        agent       TEXT PRIMARY KEY NOT NULL,
        state       TEXT NOT NULL,
        reason      TEXT,
        updated_at  INTEGER NOT NULL
    );
    -- Memberships changed at run time. removed = 1 is a tombstone: a
    -- membership of the configuration taken away at run time stays away.
    CREATE TABLE members (
        agent       TEXT NOT NULL,
        queue       TEXT NOT NULL,
        tier        INTEGER NOT NULL,
        penalty     INTEGER NOT NULL,
        removed     INTEGER NOT NULL DEFAULT 0,
        updated_at  INTEGER NOT NULL,
        PRIMARY KEY (agent, queue)
    );
    -- Hot desking: the agent logged in from another phone.
    CREATE TABLE contacts (
        agent       TEXT PRIMARY KEY NOT NULL,
        contact     TEXT NOT NULL,
        updated_at  INTEGER NOT NULL
    );
    -- Callers waiting to be called back. seq is the arrival order that an
    -- update by id keeps.
    CREATE TABLE callbacks (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        id           INTEGER NOT NULL UNIQUE,
        queue        TEXT NOT NULL,
        number       TEXT NOT NULL,
        priority     INTEGER NOT NULL,
        entered_at   INTEGER NOT NULL,
        requested_at INTEGER NOT NULL,
        data         TEXT NOT NULL DEFAULT '{}'
    );
    ",
    // 2: the durable sink (webhook outbox, call records and queue_log
    // build on it).
    "
    -- AUTOINCREMENT: an id is never reused, even after the newest rows are
    -- pruned, so ids stay unique across restarts.
    CREATE TABLE events (
        id       INTEGER PRIMARY KEY AUTOINCREMENT,
        time     INTEGER NOT NULL,
        kind     TEXT NOT NULL,
        call_id  INTEGER,
        payload  TEXT NOT NULL
    );
    CREATE INDEX events_call ON events (call_id);
    CREATE TABLE calls (
        call_id   INTEGER PRIMARY KEY,
        queue     TEXT,
        number    TEXT,
        entered   INTEGER,
        answered  INTEGER,
        ended     INTEGER,
        agent     TEXT,
        outcome   TEXT,
        wait_ms   INTEGER,
        talk_ms   INTEGER,
        data      TEXT
    );
    ",
    // 3: voice messages left in the IVR (the files stay beside the store).
    "
    CREATE TABLE messages (
        id        INTEGER PRIMARY KEY,
        mailbox   TEXT NOT NULL,
        step      TEXT NOT NULL,
        number    TEXT NOT NULL,
        name      TEXT NOT NULL,
        callback  TEXT,
        file      TEXT NOT NULL,
        ms        INTEGER NOT NULL,
        data      TEXT NOT NULL DEFAULT '{}',
        left_at   INTEGER NOT NULL,
        heard_at  INTEGER,
        heard_by  TEXT
    );
    CREATE INDEX messages_mailbox ON messages (mailbox, left_at);
    ",
    // 4: the caller's answer to the satisfaction survey, with the call.
    "
    ALTER TABLE calls ADD COLUMN survey TEXT;
    ",
    // 5: the webhook outbox (src/notify/webhook): a row per event and
    // endpoint, written before any delivery attempt, deleted once
    // delivered; rows that kept failing go to the dead letters.
    "
    CREATE TABLE webhook_outbox (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        endpoint    TEXT NOT NULL,
        event_id    INTEGER NOT NULL,
        kind        TEXT NOT NULL,
        call_id     INTEGER,
        body        TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        attempts    INTEGER NOT NULL DEFAULT 0,
        last_error  TEXT,
        UNIQUE (endpoint, event_id)
    );
    CREATE INDEX webhook_outbox_endpoint ON webhook_outbox (endpoint, seq);
    CREATE TABLE webhook_dead (
        seq         INTEGER PRIMARY KEY,
        endpoint    TEXT NOT NULL,
        event_id    INTEGER NOT NULL,
        kind        TEXT NOT NULL,
        call_id     INTEGER,
        body        TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        attempts    INTEGER NOT NULL,
        last_error  TEXT,
        died_at     INTEGER NOT NULL
    );
    ",
    // 6: recordings (src/recording): one row per recorded agent leg.
    "
    CREATE TABLE recordings (
        id           INTEGER PRIMARY KEY,
        call_id      INTEGER NOT NULL,
        queue        TEXT,
        agent        TEXT,
        number       TEXT,
        name         TEXT,
        path         TEXT,
        format       TEXT,
        stereo       INTEGER,
        started_at   INTEGER,
        ended_at     INTEGER,
        duration_ms  INTEGER,
        size         INTEGER,
        sha256       TEXT,
        status       TEXT,
        error        TEXT,
        data         TEXT,
        pbx          TEXT,
        paused       TEXT,
        tags         TEXT
    );
    CREATE INDEX recordings_started ON recordings (started_at);
    CREATE INDEX recordings_call ON recordings (call_id);
    ",
];

/// The version a file has once opened by this Hotline.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// The file's schema version.
pub(crate) fn version(conn: &Connection, path: &Path) -> Result<u32, StoreError> {
    conn.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))
        .map(|v| v.max(0) as u32)
        .map_err(|e| StoreError::sqlite(path, &e))
}

/// Bring the file to [`SCHEMA_VERSION`]; returns the version it had.
pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<u32, StoreError> {
    migrate_to(conn, path, SCHEMA_VERSION)
}

/// Apply the steps up to `target` (tests make old files with it).
pub(crate) fn migrate_to(conn: &mut Connection, path: &Path, target: u32) -> Result<u32, StoreError> {
    let found = version(conn, path)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::new(path, StoreErrorKind::NewerSchema { found, known: SCHEMA_VERSION }, ""));
    }
    for v in found..target.min(SCHEMA_VERSION) {
        let step = |e: rusqlite::Error| {
            let mut err = StoreError::sqlite(path, &e);
            err.detail = format!("migration to schema version {}: {}", v + 1, err.detail);
            err
        };
        let tx = conn.transaction().map_err(step)?;
        tx.execute_batch(MIGRATIONS[v as usize]).map_err(step)?;
        tx.pragma_update(None, "user_version", v + 1).map_err(step)?;
        tx.commit().map_err(step)?;
        log::info!("hotline store {}: schema version {} -> {}", path.display(), v, v + 1);
    }
    Ok(found)
}
