// SPDX-License-Identifier: GPL-2.0-or-later
//! The rows the store keeps, as Rust values, and the reads that bring them
//! back. Times are wall-clock milliseconds since the Unix epoch (the
//! engine's clock restarts with the module, so it means nothing across a
//! restart); ids are `u64` kept in SQLite's signed integers bit for bit.

use rusqlite::{Connection, OptionalExtension, Row};
use serde_json::Value;

use crate::core::config::{AgentConfig, InitialState, Membership};
use crate::core::AgentState;

/// Stored presence texts.
pub const READY: &str = "ready";
pub const BREAK: &str = "break";
pub const LOGGED_OUT: &str = "logged-out";

/// The presence an agent chose. For an agent seen before, it wins over the
/// configuration's `state` at the next start ([`Snapshot::initial_state`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentStateRecord {
    pub agent: String,
    /// [`READY`], [`BREAK`] or [`LOGGED_OUT`].
    pub state: String,
    /// The break reason.
    pub reason: Option<String>,
    pub updated_at: i64,
}

impl AgentStateRecord {
    /// The engine state to start the agent in; `None` for a text this
    /// version does not know (the configuration's state applies then).
    pub fn to_core(&self) -> Option<AgentState> {
        match self.state.as_str() {
            READY => Some(AgentState::Available),
            BREAK => Some(AgentState::Break(self.reason.clone().unwrap_or_default())),
            LOGGED_OUT => Some(AgentState::LoggedOut),
            _ => None,
        }
    }
}

/// What to store for an engine state: the presence text and break reason,
/// or `None` for the states a call passes through (ringing, on a call, in
/// wrap-up), which are no choice of the agent's and end with the call.
pub fn presence(state: &AgentState) -> Option<(&'static str, Option<&str>)> {
    match state {
        AgentState::Available => Some((READY, None)),
        AgentState::Break(reason) => Some((BREAK, Some(reason.as_str()))),
        AgentState::LoggedOut => Some((LOGGED_OUT, None)),
        AgentState::Ringing(_) | AgentState::OnCall(_) | AgentState::WrapUp { .. } => None,
    }
}

/// A membership added (or, `removed`, taken away) at run time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRecord {
    pub agent: String,
    pub queue: String,
    pub tier: u8,
    pub penalty: u32,
    /// A tombstone: the agent left this queue at run time, even if the
    /// configuration puts it there.
    pub removed: bool,
    pub updated_at: i64,
}

/// Hot desking: the agent is reached at `contact` instead of the
/// configured one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactOverride {
    pub agent: String,
    pub contact: String,
    pub updated_at: i64,
}

/// A caller waiting to be called back.
#[derive(Debug, Clone, PartialEq)]
pub struct CallbackRecord {
    /// Chosen by the caller of [`super::Store::add_callback`]; must stay
    /// unique across restarts (e.g. a call id numbered from
    /// [`Snapshot::next_call_id`]). Adding an id again updates that row and
    /// keeps its place in line.
    pub id: u64,
    pub queue: String,
    pub number: String,
    pub priority: i32,
    /// When the caller first entered the queue: its place in line.
    pub entered_at: i64,
    pub requested_at: i64,
    /// What the caller brought (IVR digits, CRM fields), as a JSON object.
    pub data: Value,
}

/// A voice message left in the IVR.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageRecord {
    /// The message's id (numbered like calls: unique across restarts).
    pub id: u64,
    pub mailbox: String,
    /// The `[[message]]` step it was left in.
    pub step: String,
    pub number: String,
    pub name: String,
    /// The queue a callback task went to, if any.
    pub callback: Option<String>,
    /// The recording (`.wav`).
    pub file: String,
    pub ms: u64,
    /// The call's data then (sensitive values masked), as a JSON object.
    pub data: Value,
    pub left_at: i64,
    pub heard_at: Option<i64>,
    pub heard_by: Option<String>,
}

/// One row of the durable event log.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    /// Given by the writer in commit order; unique across restarts.
    pub id: u64,
    pub time: i64,
    /// `CallEntered`, `AgentState`... ([`crate::core::EventKind::name`]).
    pub kind: String,
    pub call_id: Option<u64>,
    pub payload: Value,
}

/// What is known of one call. Filled in steps: [`super::Store::put_call`]
/// writes the fields that are `Some` and keeps the stored value of the rest.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CallRecord {
    pub call_id: u64,
    pub queue: Option<String>,
    pub number: Option<String>,
    pub entered: Option<i64>,
    pub answered: Option<i64>,
    pub ended: Option<i64>,
    pub agent: Option<String>,
    pub outcome: Option<String>,
    pub wait_ms: Option<u64>,
    pub talk_ms: Option<u64>,
    pub data: Option<Value>,
    /// The caller's answer to the queue's satisfaction survey.
    pub survey: Option<String>,
}

impl CallRecord {
    /// A record with only its id: set the fields known so far.
    pub fn new(call_id: u64) -> CallRecord {
        CallRecord { call_id, ..CallRecord::default() }
    }
}

/// A recording's row (`src/recording`). Like [`CallRecord`], a write
/// keeps the stored value of every `None` field.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct RecordingRecord {
    pub id: u64,
    pub call_id: u64,
    pub queue: Option<String>,
    pub agent: Option<String>,
    pub number: Option<String>,
    pub name: Option<String>,
    pub path: Option<String>,
    pub format: Option<String>,
    pub stereo: Option<bool>,
    /// Wall-clock ms since the Unix epoch.
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub duration_ms: Option<u64>,
    pub size: Option<u64>,
    pub sha256: Option<String>,
    /// recording, done, failed, deleted.
    pub status: Option<String>,
    pub error: Option<String>,
    /// The call's data (sensitive values masked) and the PBX's ids.
    pub data: Option<Value>,
    pub pbx: Option<Value>,
    /// Paused spans, `[[from_ms, to_ms], ...]` from the start.
    pub paused: Option<Value>,
    pub tags: Option<Value>,
}

/// What a recording search asks for; every `Some` must hold.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RecordingFilter {
    /// Started at or after / before (wall-clock ms).
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub agent: Option<String>,
    pub queue: Option<String>,
    pub number: Option<String>,
    pub call_id: Option<u64>,
    /// A data key that is present, and (if given) its value.
    pub data_key: Option<(String, Option<String>)>,
    pub min_ms: Option<u64>,
    pub max_ms: Option<u64>,
    pub status: Option<String>,
    pub limit: usize,
}

/// What a starting service reads back, once, at load.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Snapshot {
    /// Sorted by agent name.
    pub agents: Vec<AgentStateRecord>,
    /// Sorted by agent, then queue.
    pub members: Vec<MemberRecord>,
    /// Sorted by agent name.
    pub contacts: Vec<ContactOverride>,
    /// In line order (entered, then arrival): re-queue them in this order.
    pub callbacks: Vec<CallbackRecord>,
    /// Voice messages kept, oldest first.
    pub messages: Vec<MessageRecord>,
    /// One past the largest call id the store holds (calls, callbacks,
    /// events), 1 when empty: number new calls from here and call ids stay
    /// unique across restarts.
    pub next_call_id: u64,
    /// One past the largest event id logged: the event bus numbers on from
    /// here (or from the clock, if that is later).
    pub next_event_id: u64,
}

impl Snapshot {
    pub fn agent(&self, name: &str) -> Option<&AgentStateRecord> {
        self.agents.binary_search_by(|a| a.agent.as_str().cmp(name)).ok().map(|i| &self.agents[i])
    }

    /// The state to start a configured agent in: the stored one for an
    /// agent seen before, else the configuration's.
    pub fn initial_state(&self, agent: &AgentConfig) -> AgentState {
        match self.agent(&agent.name).and_then(AgentStateRecord::to_core) {
            Some(s) => s,
            None => match agent.initial {
                InitialState::Available => AgentState::Available,
                InitialState::LoggedOut => AgentState::LoggedOut,
            },
        }
    }

    /// The contact an agent is reached at now, if it logged in elsewhere.
    pub fn contact(&self, agent: &str) -> Option<&str> {
        self.contacts
            .binary_search_by(|c| c.agent.as_str().cmp(agent))
            .ok()
            .map(|i| self.contacts[i].contact.as_str())
    }

    /// The agent's memberships with the run-time changes applied:
    /// configured ones in configuration order (minus those removed at run
    /// time, with a stored tier and penalty where one was set), then those
    /// added at run time, by queue. Queues that the configuration no longer
    /// has are left for the caller to skip.
    pub fn members_of(&self, agent: &AgentConfig) -> Vec<Membership> {
        let stored: Vec<&MemberRecord> = self.members.iter().filter(|m| m.agent == agent.name).collect();
        let find = |queue: &str| stored.iter().find(|m| m.queue == queue);
        let mut out = Vec::new();
        for m in &agent.members {
            match find(&m.queue) {
                Some(r) if r.removed => {}
                Some(r) => out.push(Membership { queue: m.queue.clone(), tier: r.tier, penalty: r.penalty }),
                None => out.push(m.clone()),
            }
        }
        for r in &stored {
            if !r.removed && !agent.members.iter().any(|m| m.queue == r.queue) {
                out.push(Membership { queue: r.queue.clone(), tier: r.tier, penalty: r.penalty });
            }
        }
        out
    }
}

/// JSON text as stored; text that is not JSON (edited by hand) comes back
/// as a JSON string rather than failing the whole read.
pub(crate) fn json(text: String) -> Value {
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

fn unsigned(v: Option<i64>) -> Option<u64> {
    v.map(|v| v as u64)
}

pub(crate) fn read_snapshot(conn: &mut Connection) -> rusqlite::Result<Snapshot> {
    // One read transaction: the tables agree with each other.
    let tx = conn.transaction()?;
    let agents = all(&tx, "SELECT agent, state, reason, updated_at FROM agent_states ORDER BY agent", |r| {
        Ok(AgentStateRecord { agent: r.get(0)?, state: r.get(1)?, reason: r.get(2)?, updated_at: r.get(3)? })
    })?;
    let members = all(&tx, "SELECT agent, queue, tier, penalty, removed, updated_at FROM members ORDER BY agent, queue", |r| {
        Ok(MemberRecord {
            agent: r.get(0)?,
            queue: r.get(1)?,
            tier: u8::try_from(r.get::<_, i64>(2)?).unwrap_or(u8::MAX),
            penalty: u32::try_from(r.get::<_, i64>(3)?).unwrap_or(u32::MAX),
            removed: r.get::<_, i64>(4)? != 0,
            updated_at: r.get(5)?,
        })
    })?;
    let contacts = all(&tx, "SELECT agent, contact, updated_at FROM contacts ORDER BY agent", |r| {
        Ok(ContactOverride { agent: r.get(0)?, contact: r.get(1)?, updated_at: r.get(2)? })
    })?;
    let callbacks = all(
        &tx,
        "SELECT id, queue, number, priority, entered_at, requested_at, data FROM callbacks ORDER BY entered_at, seq",
        |r| {
            Ok(CallbackRecord {
                id: r.get::<_, i64>(0)? as u64,
                queue: r.get(1)?,
                number: r.get(2)?,
                priority: r.get(3)?,
                entered_at: r.get(4)?,
                requested_at: r.get(5)?,
                data: json(r.get(6)?),
            })
        },
    )?;
    let messages = all(
        &tx,
        "SELECT id, mailbox, step, number, name, callback, file, ms, data, left_at, heard_at, heard_by FROM messages ORDER BY left_at, id",
        |r| {
            Ok(MessageRecord {
                id: r.get::<_, i64>(0)? as u64,
                mailbox: r.get(1)?,
                step: r.get(2)?,
                number: r.get(3)?,
                name: r.get(4)?,
                callback: r.get(5)?,
                file: r.get(6)?,
                ms: r.get::<_, i64>(7)?.max(0) as u64,
                data: json(r.get(8)?),
                left_at: r.get(9)?,
                heard_at: r.get(10)?,
                heard_by: r.get(11)?,
            })
        },
    )?;
    let max_event: Option<i64> = tx.query_row("SELECT max(id) FROM events", [], |r| r.get(0))?;
    let max_call: Option<i64> = tx.query_row(
        "SELECT max(m) FROM (SELECT max(call_id) AS m FROM calls \
         UNION ALL SELECT max(id) FROM callbacks UNION ALL SELECT max(call_id) FROM events \
         UNION ALL SELECT max(id) FROM messages UNION ALL SELECT max(id) FROM recordings \
         UNION ALL SELECT max(call_id) FROM recordings)",
        [],
        |r| r.get(0),
    )?;
    tx.commit()?;
    Ok(Snapshot {
        agents,
        members,
        contacts,
        callbacks,
        messages,
        next_call_id: unsigned(max_call).map_or(1, |m| m.saturating_add(1)),
        next_event_id: unsigned(max_event).map_or(1, |m| m.saturating_add(1)),
    })
}

/// Every row of a query without parameters.
fn all<T>(conn: &Connection, sql: &str, row: impl FnMut(&Row<'_>) -> rusqlite::Result<T>) -> rusqlite::Result<Vec<T>> {
    let mut st = conn.prepare(sql)?;
    let rows = st.query_map([], row)?;
    rows.collect()
}

fn event_row(r: &Row<'_>) -> rusqlite::Result<EventRecord> {
    Ok(EventRecord {
        id: r.get::<_, i64>(0)? as u64,
        time: r.get(1)?,
        kind: r.get(2)?,
        call_id: unsigned(r.get(3)?),
        payload: json(r.get(4)?),
    })
}

pub(crate) fn read_events_after(conn: &Connection, after: u64, limit: usize) -> rusqlite::Result<Vec<EventRecord>> {
    let mut st = conn.prepare_cached("SELECT id, time, kind, call_id, payload FROM events WHERE id > ?1 ORDER BY id LIMIT ?2")?;
    let rows = st.query_map((after as i64, i64::try_from(limit).unwrap_or(i64::MAX)), event_row)?;
    rows.collect()
}

pub(crate) fn read_call(conn: &Connection, call_id: u64) -> rusqlite::Result<Option<CallRecord>> {
    conn.query_row(
        "SELECT call_id, queue, number, entered, answered, ended, agent, outcome, wait_ms, talk_ms, data, survey \
         FROM calls WHERE call_id = ?1",
        [call_id as i64],
        |r| {
            Ok(CallRecord {
                call_id: r.get::<_, i64>(0)? as u64,
                queue: r.get(1)?,
                number: r.get(2)?,
                entered: r.get(3)?,
                answered: r.get(4)?,
                ended: r.get(5)?,
                agent: r.get(6)?,
                outcome: r.get(7)?,
                wait_ms: unsigned(r.get(8)?),
                talk_ms: unsigned(r.get(9)?),
                data: r.get::<_, Option<String>>(10)?.map(json),
                survey: r.get(11)?,
            })
        },
    )
    .optional()
}

const RECORDING_COLUMNS: &str = "id, call_id, queue, agent, number, name, path, format, stereo, started_at, ended_at, \
    duration_ms, size, sha256, status, error, data, pbx, paused, tags";

fn recording_row(r: &rusqlite::Row) -> rusqlite::Result<RecordingRecord> {
    Ok(RecordingRecord {
        id: r.get::<_, i64>(0)? as u64,
        call_id: r.get::<_, i64>(1)? as u64,
        queue: r.get(2)?,
        agent: r.get(3)?,
        number: r.get(4)?,
        name: r.get(5)?,
        path: r.get(6)?,
        format: r.get(7)?,
        stereo: r.get(8)?,
        started_at: r.get(9)?,
        ended_at: r.get(10)?,
        duration_ms: unsigned(r.get(11)?),
        size: unsigned(r.get(12)?),
        sha256: r.get(13)?,
        status: r.get(14)?,
        error: r.get(15)?,
        data: r.get::<_, Option<String>>(16)?.map(json),
        pbx: r.get::<_, Option<String>>(17)?.map(json),
        paused: r.get::<_, Option<String>>(18)?.map(json),
        tags: r.get::<_, Option<String>>(19)?.map(json),
    })
}

pub(crate) fn read_recording(conn: &Connection, id: u64) -> rusqlite::Result<Option<RecordingRecord>> {
    conn.query_row(&format!("SELECT {RECORDING_COLUMNS} FROM recordings WHERE id = ?1"), [id as i64], recording_row).optional()
}

/// Recordings matching `f`, newest first.
pub(crate) fn read_recordings(conn: &Connection, f: &RecordingFilter) -> rusqlite::Result<Vec<RecordingRecord>> {
    use rusqlite::types::Value as Sql;
    let mut clauses: Vec<&str> = Vec::new();
    let mut args: Vec<Sql> = Vec::new();
    let mut arg = |clause: &'static str, v: Sql, clauses: &mut Vec<&str>| {
        clauses.push(clause);
        args.push(v);
    };
    if let Some(v) = f.from {
        arg("started_at >= ?", Sql::Integer(v), &mut clauses);
    }
    if let Some(v) = f.to {
        arg("started_at < ?", Sql::Integer(v), &mut clauses);
    }
    if let Some(v) = &f.agent {
        arg("agent = ?", Sql::Text(v.clone()), &mut clauses);
    }
    if let Some(v) = &f.queue {
        arg("queue = ?", Sql::Text(v.clone()), &mut clauses);
    }
    if let Some(v) = &f.number {
        arg("number = ?", Sql::Text(v.clone()), &mut clauses);
    }
    if let Some(v) = f.call_id {
        arg("call_id = ?", Sql::Integer(v as i64), &mut clauses);
    }
    if let Some(v) = f.min_ms {
        arg("duration_ms >= ?", Sql::Integer(v as i64), &mut clauses);
    }
    if let Some(v) = f.max_ms {
        arg("duration_ms <= ?", Sql::Integer(v as i64), &mut clauses);
    }
    if let Some(v) = &f.status {
        arg("status = ?", Sql::Text(v.clone()), &mut clauses);
    }
    if let Some((k, v)) = &f.data_key {
        // The key as a JSON path: data keys are letters, digits and `_`.
        let path = format!("$.\"{}\"", k.replace('"', ""));
        match v {
            Some(v) => {
                clauses.push("json_extract(data, ?) = ?");
                args.push(Sql::Text(path));
                args.push(Sql::Text(v.clone()));
            }
            None => arg("json_extract(data, ?) IS NOT NULL", Sql::Text(path), &mut clauses),
        }
    }
    let filter = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
    let limit = if f.limit == 0 { 100 } else { f.limit.min(10_000) };
    let sql = format!("SELECT {RECORDING_COLUMNS} FROM recordings {filter} ORDER BY started_at DESC, id DESC LIMIT {limit}");
    let mut st = conn.prepare(&sql)?;
    let rows = st.query_map(rusqlite::params_from_iter(args), recording_row)?;
    rows.collect()
}
