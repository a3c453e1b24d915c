// SPDX-License-Identifier: GPL-2.0-or-later
//! The store against real files in fresh temporary directories.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use serde_json::json;

use super::*;
use crate::core::config::Membership;
use crate::core::{AgentState, CallId, Config, EventKind};

const PATIENCE: Duration = Duration::from_secs(10);

/// A directory under the system's temp dir, removed afterwards.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let p = std::env::temp_dir().join(format!("hotline-store-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    fn join(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&self.0, std::fs::Permissions::from_mode(0o755));
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn quick() -> StoreOptions {
    StoreOptions {
        retry_min: Duration::from_millis(10),
        retry_max: Duration::from_millis(40),
        busy_timeout: Duration::from_millis(200),
        ..StoreOptions::default()
    }
}

fn open(path: &Path) -> Store {
    Store::open_with(path, quick()).unwrap_or_else(|e| panic!("{e}"))
}

fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let end = Instant::now() + PATIENCE;
    while !ok() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn user_version(path: &Path) -> i64 {
    Connection::open(path).unwrap().pragma_query_value(None, "user_version", |r| r.get(0)).unwrap()
}

fn callback(id: u64, entered_at: i64) -> CallbackRecord {
    CallbackRecord {
        id,
        queue: "support".into(),
        number: format!("0900{id}"),
        priority: (id % 3) as i32,
        entered_at,
        requested_at: entered_at + 5_000,
        data: json!({ "crm_account": format!("A-{id}"), "digits": [1, 2] }),
    }
}

#[test]
fn restart_keeps_service_state() {
    let dir = TempDir::new("restart");
    // The directory does not exist yet: open makes it.
    let path = dir.join("var/lib/hotline/hotline.db");
    let s = open(&path);
    assert_eq!(s.snapshot().unwrap(), Snapshot { next_call_id: 1, next_event_id: 1, ..Snapshot::default() });

    s.set_agent_state("1001", READY, None).unwrap();
    s.set_agent_state("1002", BREAK, Some("lunch")).unwrap();
    s.set_agent_state("1003", LOGGED_OUT, None).unwrap();
    s.set_agent_state("1001", BREAK, Some("meeting")).unwrap(); // the last one wins
    s.add_member("1001", "sales", 2, 5).unwrap();
    s.add_member("1002", "support", 1, 0).unwrap();
    s.remove_member("1002", "support").unwrap();
    s.remove_member("1003", "support").unwrap();
    s.set_contact("1001", "PJSIP/desk-7").unwrap();
    s.set_contact("1002", "PJSIP/desk-9").unwrap();
    s.clear_contact("1002").unwrap();
    s.add_callback(callback(12, 1_000)).unwrap();
    // Closed without a flush: close writes what is queued.
    let st = s.close();
    assert_eq!(st.rows_written, 12, "{st}");
    assert_eq!((st.dropped, st.write_failures, st.queued, st.retained), (0, 0, 0, 0), "{st}");
    assert!(st.stopped);

    let s = open(&path);
    let snap = s.snapshot().unwrap();
    let states: Vec<_> = snap.agents.iter().map(|a| (a.agent.as_str(), a.state.as_str(), a.reason.as_deref())).collect();
    assert_eq!(states, [("1001", BREAK, Some("meeting")), ("1002", BREAK, Some("lunch")), ("1003", LOGGED_OUT, None)]);
    let members: Vec<_> = snap.members.iter().map(|m| (m.agent.as_str(), m.queue.as_str(), m.tier, m.penalty, m.removed)).collect();
    assert_eq!(members, [("1001", "sales", 2, 5, false), ("1002", "support", 1, 0, true), ("1003", "support", 0, 0, true)]);
    assert_eq!(snap.contacts.len(), 1);
    assert_eq!(snap.contact("1001"), Some("PJSIP/desk-7"));
    assert_eq!(snap.contact("1002"), None);
    assert_eq!(snap.callbacks, [callback(12, 1_000)]);
    assert_eq!(snap.next_call_id, 13);
    s.close();

    // And again: nothing is lost or changed by a restart that writes nothing.
    let s = open(&path);
    assert_eq!(s.snapshot().unwrap(), snap);
    assert_eq!(user_version(&path), SCHEMA_VERSION as i64);
}

#[test]
fn stored_state_wins_over_configuration() {
    let cfg = Config::parse(
        "[[queue]]\nname = \"support\"\n[[queue]]\nname = \"sales\"\n[[queue]]\nname = \"vip\"\n\
         [[agent]]\nname = \"1001\"\ncontact = \"PJSIP/1001\"\nqueues = [\"support\", \"sales\"]\n\
         [[agent]]\nname = \"1002\"\ncontact = \"PJSIP/1002\"\nstate = \"logged-out\"\n\
         [[agent]]\nname = \"1003\"\ncontact = \"PJSIP/1003\"\n",
        "hotline.toml",
    )
    .unwrap();
    let dir = TempDir::new("config");
    let s = open(&dir.join("h.db"));
    s.set_agent_state("1001", BREAK, Some("training")).unwrap();
    s.set_agent_state("1002", READY, None).unwrap();
    s.remove_member("1001", "support").unwrap();
    s.add_member("1001", "sales", 3, 7).unwrap();
    s.add_member("1001", "vip", 1, 0).unwrap();
    assert!(s.flush(PATIENCE));
    let snap = s.snapshot().unwrap();
    let a = |n: &str| cfg.agent(n).unwrap();
    assert_eq!(snap.initial_state(a("1001")), AgentState::Break("training".into()));
    assert_eq!(snap.initial_state(a("1002")), AgentState::Available, "stored ready beats configured logged-out");
    assert_eq!(snap.initial_state(a("1003")), AgentState::Available, "never seen: the configuration's");
    let m = |q: &str, tier, penalty| Membership { queue: q.into(), tier, penalty };
    assert_eq!(snap.members_of(a("1001")), [m("sales", 3, 7), m("vip", 1, 0)]);
    assert_eq!(snap.members_of(a("1003")), []);

    assert_eq!(presence(&AgentState::Break("x".into())), Some((BREAK, Some("x"))));
    assert_eq!(presence(&AgentState::OnCall(CallId(3))), None);
}

#[test]
fn callbacks_come_back_in_line_order() {
    let dir = TempDir::new("callbacks");
    let path = dir.join("h.db");
    let s = open(&path);
    // Written out of line order; 20 and 40 entered at the same time.
    for (id, entered) in [(30, 300), (20, 200), (10, 100), (40, 200), (50, 50)] {
        s.add_callback(callback(id, entered)).unwrap();
    }
    let mut changed = callback(20, 200);
    changed.number = "0911".into();
    s.add_callback(changed.clone()).unwrap(); // an update keeps its place
    s.remove_callback(50).unwrap();
    s.close();

    let s = open(&path);
    let snap = s.snapshot().unwrap();
    let ids: Vec<u64> = snap.callbacks.iter().map(|c| c.id).collect();
    assert_eq!(ids, [10, 20, 40, 30]);
    assert_eq!(snap.callbacks[1], changed);
    assert_eq!(snap.callbacks[0].data, json!({ "crm_account": "A-10", "digits": [1, 2] }));
    assert_eq!(snap.next_call_id, 41);
}

#[test]
fn event_log_is_batched_with_ids_unique_and_ordered() {
    let dir = TempDir::new("events");
    let path = dir.join("h.db");
    let opts = quick();
    let fail = opts.fail_writes.clone();
    let s = Store::open_with(&path, StoreOptions { batch_max: 1_000, ..opts }).unwrap();
    // Hold the writer back so the whole burst is queued, then let it go.
    fail.store(true, Ordering::Relaxed);
    for i in 0..2_500u64 {
        s.append_event(1_700_000_000_000 + i as i64, "Test", Some(i % 7), json!({ "seq": i })).unwrap();
    }
    wait_for("the burst to be taken", || s.status().retained == 2_500);
    fail.store(false, Ordering::Relaxed);
    assert!(s.flush(PATIENCE));
    let st = s.status();
    assert_eq!(st.rows_written, 2_500);
    assert_eq!(st.batches_written, 3, "one transaction per 1000 rows: {st}");

    let events = s.events_after(0, 10_000).unwrap();
    assert_eq!(events.len(), 2_500);
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.payload["seq"], i as u64, "commit order is append order");
        assert_eq!(e.call_id, Some(i as u64 % 7));
    }
    assert!(events.windows(2).all(|w| w[0].id < w[1].id), "ids strictly increasing");
    assert_eq!(s.events_after(events[2_400].id, 1_000).unwrap().len(), 99);
    let last = events.last().unwrap().id;
    s.close();

    // Prune the newest rows behind the store's back: ids are still never reused.
    Connection::open(&path).unwrap().execute("DELETE FROM events WHERE id > ?1", [last as i64 - 10]).unwrap();
    let s = open(&path);
    let ev = crate::core::Event {
        time: 5,
        kind: EventKind::CallAnswered { call: CallId(77), queue: "support".into(), agent: "1001".into(), wait: 1234, data: Vec::new().into(), leg: Vec::new(), popup_url: None },
    };
    s.log_event(&ev, 1_800_000_000_000).unwrap();
    assert!(s.flush(PATIENCE));
    let after = s.events_after(last - 11, 100).unwrap();
    assert_eq!(after.iter().map(|e| e.id).collect::<Vec<_>>()[..1], [last - 10]);
    assert_eq!(after.len(), 2);
    let new = &after[1];
    assert!(new.id > last, "id {} reused (last was {last})", new.id);
    assert_eq!((new.kind.as_str(), new.call_id, new.time), ("CallAnswered", Some(77), 1_800_000_000_000));
    assert_eq!(new.payload, json!({ "CallId": "77", "Queue": "support", "Agent": "1001", "WaitMs": "1234" }));
}

#[test]
fn call_records_fill_in_steps() {
    let dir = TempDir::new("calls");
    let s = open(&dir.join("h.db"));
    s.put_call(CallRecord {
        queue: Some("support".into()),
        number: Some("0901".into()),
        entered: Some(1_000),
        data: Some(json!({ "lang": "vi" })),
        ..CallRecord::new(7)
    })
    .unwrap();
    s.put_call(CallRecord { answered: Some(3_000), agent: Some("1001".into()), wait_ms: Some(2_000), ..CallRecord::new(7) }).unwrap();
    s.put_call(CallRecord { ended: Some(9_000), outcome: Some("answered".into()), talk_ms: Some(6_000), ..CallRecord::new(7) }).unwrap();
    assert!(s.flush(PATIENCE));
    let c = s.call_record(7).unwrap().unwrap();
    assert_eq!(
        c,
        CallRecord {
            call_id: 7,
            queue: Some("support".into()),
            number: Some("0901".into()),
            entered: Some(1_000),
            answered: Some(3_000),
            ended: Some(9_000),
            agent: Some("1001".into()),
            outcome: Some("answered".into()),
            wait_ms: Some(2_000),
            talk_ms: Some(6_000),
            data: Some(json!({ "lang": "vi" })),
            survey: None,
        }
    );
    assert_eq!(s.call_record(8).unwrap(), None);
    assert_eq!(s.snapshot().unwrap().next_call_id, 8);
}

#[test]
fn migrates_version_0_and_version_1_files() {
    let dir = TempDir::new("migrate");
    // Version 0: an empty file (a database with nothing in it).
    let empty = dir.join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    open(&empty).close();
    assert_eq!(user_version(&empty), SCHEMA_VERSION as i64);

    // Version 1: state tables only, with rows in them.
    let old = dir.join("v1.db");
    {
        let mut c = Connection::open(&old).unwrap();
        schema::migrate_to(&mut c, &old, 1).unwrap();
        c.execute_batch(
            "INSERT INTO agent_states VALUES ('1001', 'break', 'lunch', 5); \
             INSERT INTO callbacks (id, queue, number, priority, entered_at, requested_at, data) \
             VALUES (4, 'support', '0901', 0, 10, 20, '{\"a\":1}');",
        )
        .unwrap();
        let events: i64 = c.query_row("SELECT count(*) FROM sqlite_master WHERE name = 'events'", [], |r| r.get(0)).unwrap();
        assert_eq!(events, 0);
    }
    assert_eq!(user_version(&old), 1);
    let s = open(&old);
    let snap = s.snapshot().unwrap();
    assert_eq!(snap.agents, [AgentStateRecord { agent: "1001".into(), state: BREAK.into(), reason: Some("lunch".into()), updated_at: 5 }]);
    assert_eq!(snap.callbacks[0].data, json!({ "a": 1 }));
    s.append_event(1, "Test", None, json!({})).unwrap();
    assert!(s.flush(PATIENCE));
    assert_eq!(s.events_after(0, 10).unwrap().len(), 1, "the step-2 table is there");
    s.close();
    assert_eq!(user_version(&old), SCHEMA_VERSION as i64);
}

#[test]
fn newer_schema_is_a_clear_error() {
    let dir = TempDir::new("newer");
    let path = dir.join("h.db");
    Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
    let e = Store::open(&path).err().expect("a newer schema must not open");
    assert_eq!(e.kind, StoreErrorKind::NewerSchema { found: 99, known: SCHEMA_VERSION });
    let msg = e.to_string();
    assert!(msg.starts_with(&format!("{}: schema version 99 is newer", path.display())), "{msg}");
    assert_eq!(user_version(&path), 99, "left as it was");
}

/// Run `f` on a thread that cannot override file permissions. Tests run as
/// root, where chmod stops nothing; the file-system uid is per thread on
/// Linux, and a non-zero one drops root's override (CAP_DAC_OVERRIDE).
#[allow(unsafe_code)]
fn without_root_override<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                // SAFETY: plain syscalls on this thread's credentials.
                let root = unsafe { libc::geteuid() } == 0;
                if root {
                    unsafe { libc::setfsuid(65534) };
                    // setfsuid returns the previous id; asking for an invalid one reads it.
                    assert_eq!(unsafe { libc::setfsuid(u32::MAX) }, 65534, "setfsuid refused");
                }
                let out = f();
                if root {
                    unsafe { libc::setfsuid(0) };
                }
                out
            })
            .join()
            .unwrap()
    })
}

#[test]
fn read_only_directory_is_a_clear_error() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("readonly");
    std::fs::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o555)).unwrap();
    let path = dir.join("h.db");
    let e = without_root_override(|| Store::open(&path).err()).expect("a read-only directory must not open");
    assert_eq!(e.kind, StoreErrorKind::ReadOnly, "{e}");
    let msg = e.to_string();
    assert!(msg.starts_with(&format!("{}: cannot be written", path.display())), "{msg}");
    assert!(msg.contains("is not writable") && msg.contains("ermission denied"), "{msg}");

    let deeper = dir.join("sub/h.db");
    let e = without_root_override(|| Store::open(&deeper).err()).expect("cannot make the directory");
    assert_eq!(e.kind, StoreErrorKind::ReadOnly, "{e}");
    assert!(e.to_string().contains("cannot create directory"), "{e}");
    // This thread still writes as root: the override was dropped on the other thread only.
    std::fs::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o755)).unwrap();
    open(&path).close();
}

#[test]
fn garbage_file_is_not_a_database() {
    let dir = TempDir::new("garbage");
    let path = dir.join("h.db");
    let mut x: u32 = 0x1234_5678;
    let garbage: Vec<u8> = (0..8192)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    std::fs::write(&path, &garbage).unwrap();
    let e = Store::open(&path).err().expect("garbage must not open");
    assert_eq!(e.kind, StoreErrorKind::NotADatabase, "{e}");
    assert!(e.to_string().starts_with(&format!("{}: not a SQLite database", path.display())), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), garbage, "the file is left alone");
}

#[test]
fn damaged_pages_fail_the_integrity_check() {
    let dir = TempDir::new("damaged");
    let path = dir.join("h.db");
    let s = open(&path);
    for i in 0..3_000u64 {
        s.append_event(i as i64, "Test", Some(i), json!({ "padding": "x".repeat(40) })).unwrap();
    }
    s.close();
    // Keep the first pages (the header, the schema, the tables' roots:
    // made by the migrations, before any row), scribble over the rest.
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 48 * 4096, "{} bytes", bytes.len());
    for (i, b) in bytes.iter_mut().enumerate().skip(32 * 4096) {
        *b = (i * 7 + 13) as u8;
    }
    std::fs::write(&path, &bytes).unwrap();

    let s = open(&path);
    wait_for("the integrity check", || s.status().quick_check != QuickCheck::Pending);
    let st = s.status();
    assert!(matches!(&st.quick_check, QuickCheck::Failed(_)), "{st}");
    assert!(!st.healthy, "{st}");
    assert!(st.to_string().contains("integrity (quick_check): FAILED"), "{st}");
}

#[test]
fn full_channel_refuses_without_blocking() {
    let dir = TempDir::new("full");
    let path = dir.join("h.db");
    let s = Store::open_with(&path, StoreOptions { capacity: 4, busy_timeout: Duration::from_secs(3), ..quick() }).unwrap();
    // Another process holds the write lock: the writer waits in SQLite.
    let blocker = Connection::open(&path).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    s.set_agent_state("warm-up", READY, None).unwrap();
    wait_for("the writer to take the first write", || s.status().retained == 1);
    std::thread::sleep(Duration::from_millis(50)); // and to be waiting for the lock

    let started = Instant::now();
    let (mut ok, mut full) = (0u64, 0u64);
    for i in 0..1_000 {
        match s.append_event(i, "Test", None, json!(i)) {
            Ok(()) => ok += 1,
            Err(StoreRejected::Full) => full += 1,
            Err(StoreRejected::Closed) => panic!("closed"),
        }
    }
    let took = started.elapsed();
    assert!(took < Duration::from_millis(500), "1000 writes took {took:?}: they waited");
    assert!(full >= 990, "ok {ok}, full {full}");
    let st = s.status();
    assert_eq!(st.rejected_full, full, "{st}");
    assert!(st.queued <= 4, "{st}");

    blocker.execute_batch("COMMIT").unwrap();
    assert!(s.flush(PATIENCE));
    let st = s.status();
    assert_eq!(st.rows_written, ok + 1, "{st}");
    assert_eq!(s.events_after(0, 2_000).unwrap().len() as u64, ok);
}

#[test]
fn write_failure_then_recovery() {
    let dir = TempDir::new("recover");
    let opts = quick();
    let fail = opts.fail_writes.clone();
    let s = Store::open_with(&dir.join("h.db"), opts).unwrap();
    s.set_agent_state("1001", READY, None).unwrap();
    assert!(s.flush(PATIENCE));
    wait_for("the integrity check", || s.status().quick_check == QuickCheck::Ok);
    assert!(s.status().healthy);

    fail.store(true, Ordering::Relaxed);
    s.set_agent_state("1001", BREAK, Some("lunch")).unwrap();
    s.add_member("1001", "sales", 1, 0).unwrap();
    wait_for("the failure to show", || s.status().write_failures >= 3);
    let st = s.status();
    assert!(!st.healthy, "{st}");
    assert!(st.last_error.as_deref().unwrap_or("").contains("readonly"), "{st}");
    assert_eq!(st.retained, 2, "the failed batch is kept: {st}");
    assert!(!s.flush(Duration::from_millis(50)), "nothing is written while the disk fails");
    // Callers go on: writes are still taken.
    s.set_contact("1001", "PJSIP/desk-2").unwrap();
    assert_eq!(s.snapshot().unwrap().agents[0].state, READY, "the last committed state");

    fail.store(false, Ordering::Relaxed);
    assert!(s.flush(PATIENCE));
    let st = s.status();
    assert!(st.healthy, "{st}");
    assert!(st.last_error.is_some(), "the last error stays for diagnosis");
    assert_eq!((st.retained, st.dropped, st.rows_written), (0, 0, 4), "{st}");
    let snap = s.snapshot().unwrap();
    assert_eq!((snap.agents[0].state.as_str(), snap.agents[0].reason.as_deref()), (BREAK, Some("lunch")));
    assert_eq!(snap.members.len(), 1);
    assert_eq!(snap.contact("1001"), Some("PJSIP/desk-2"));
}

#[test]
fn retained_writes_are_capped_oldest_dropped() {
    let dir = TempDir::new("cap");
    let opts = StoreOptions { retain_max: 10, batch_max: 5, ..quick() };
    let fail = opts.fail_writes.clone();
    fail.store(true, Ordering::Relaxed);
    let s = Store::open_with(&dir.join("h.db"), opts).unwrap();
    for i in 0..30 {
        s.set_agent_state(&format!("a{i:02}"), READY, None).unwrap();
    }
    wait_for("all writes taken", || {
        let st = s.status();
        st.queued == 0 && st.retained == 10
    });
    assert_eq!(s.status().dropped, 20);
    fail.store(false, Ordering::Relaxed);
    assert!(s.flush(PATIENCE));
    let names: Vec<String> = s.snapshot().unwrap().agents.into_iter().map(|a| a.agent).collect();
    assert_eq!(names, (20..30).map(|i| format!("a{i:02}")).collect::<Vec<_>>(), "the newest are kept");
    let st = s.status();
    assert_eq!((st.rows_written, st.batches_written), (10, 2), "{st}");
}

#[test]
fn close_gives_up_at_its_deadline() {
    let dir = TempDir::new("deadline");
    let path = dir.join("h.db");
    let opts = StoreOptions { close_timeout: Duration::from_millis(200), ..quick() };
    let fail = opts.fail_writes.clone();
    let s = Store::open_with(&path, opts).unwrap();
    fail.store(true, Ordering::Relaxed);
    for i in 0..5 {
        s.append_event(i, "Test", None, json!(null)).unwrap();
    }
    let started = Instant::now();
    let st = s.close();
    assert!(started.elapsed() < Duration::from_secs(3), "close took {:?}", started.elapsed());
    assert!(st.stopped && !st.healthy, "{st}");
    assert_eq!((st.rows_written, st.dropped), (0, 5), "{st}");
    assert!(st.to_string().contains("STOPPED"), "{st}");
}

#[test]
fn status_prints_for_the_operator() {
    let dir = TempDir::new("status");
    let path = dir.join("h.db");
    let s = open(&path);
    s.set_agent_state("1001", READY, None).unwrap();
    assert!(s.flush(PATIENCE));
    wait_for("the integrity check", || s.status().quick_check == QuickCheck::Ok);
    let text = s.status().to_string();
    for want in [
        format!("store: {} (healthy)", path.display()),
        "integrity (quick_check): ok".into(),
        "last error: none".into(),
        "queued: 0, retained for writing: 0".into(),
        "written: 1 rows in 1 batches".into(),
        "write failures: 0, rejected (queue full): 0, dropped: 0".into(),
    ] {
        assert!(text.contains(&want), "{want:?} not in:\n{text}");
    }
}

#[test]
fn store_is_shared_by_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Store>();
    let dir = TempDir::new("threads");
    let s = std::sync::Arc::new(open(&dir.join("h.db")));
    let workers: Vec<_> = (0..4)
        .map(|t| {
            let s = s.clone();
            std::thread::spawn(move || {
                for i in 0..250 {
                    s.append_event(i, "Test", Some(t), json!({ "t": t, "i": i })).unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert!(s.flush(PATIENCE));
    let events = s.events_after(0, 2_000).unwrap();
    assert_eq!(events.len(), 1_000);
    for t in 0..4u64 {
        let mine: Vec<u64> = events.iter().filter(|e| e.call_id == Some(t)).map(|e| e.payload["i"].as_u64().unwrap()).collect();
        assert_eq!(mine, (0..250).collect::<Vec<_>>(), "each thread's events in its order");
    }
}

#[test]
fn bus_events_keep_their_ids_and_a_repeat_is_ignored() {
    let dir = TempDir::new("bus-ids");
    let s = open(&dir.join("h.db"));
    let ev = |n: u64| crate::core::Event { time: 1, kind: EventKind::CallbackRequested { call: CallId(n), queue: "q".into(), number: "0901".into() } };
    s.log_bus_event(5_000_000, &ev(1), 10).unwrap();
    s.log_bus_event(5_000_001, &ev(2), 11).unwrap();
    // At-least-once delivery may hand the same event over again.
    s.log_bus_event(5_000_001, &ev(3), 12).unwrap();
    assert!(s.flush(PATIENCE));
    let got = s.events_after(0, 10).unwrap();
    assert_eq!(got.iter().map(|e| (e.id, e.call_id)).collect::<Vec<_>>(), [(5_000_000, Some(1)), (5_000_001, Some(2))]);
    assert_eq!(s.snapshot().unwrap().next_event_id, 5_000_002);
}

#[test]
fn recordings_are_kept_completed_and_found_by_each_key() {
    let dir = TempDir::new("recordings");
    let s = open(&dir.join("h.db"));
    let rec = |id: u64, queue: &str, agent: &str, number: &str, started: i64, ms: u64, account: &str| RecordingRecord {
        id,
        call_id: id + 100,
        queue: Some(queue.into()),
        agent: Some(agent.into()),
        number: Some(number.into()),
        path: Some(format!("/rec/{id}.wav")),
        started_at: Some(started),
        duration_ms: Some(ms),
        status: Some("recording".into()),
        data: Some(json!({ "account": account })),
        ..RecordingRecord::default()
    };
    s.put_recording(rec(1, "support", "a1", "0901", 1_000, 30_000, "105")).unwrap();
    s.put_recording(rec(2, "sales", "a2", "0902", 2_000, 90_000, "106")).unwrap();
    s.put_recording(rec(3, "support", "a2", "0903", 3_000, 5_000, "105")).unwrap();
    // Completing one keeps what it does not say.
    s.put_recording(RecordingRecord { id: 1, call_id: 101, size: Some(480_044), sha256: Some("ab".into()), status: Some("done".into()), ..RecordingRecord::default() }).unwrap();
    assert!(s.flush(PATIENCE));
    let one = s.recording(1).unwrap().expect("row 1");
    assert_eq!((one.queue.as_deref(), one.size, one.status.as_deref(), one.duration_ms), (Some("support"), Some(480_044), Some("done"), Some(30_000)));
    let ids = |f: RecordingFilter| s.recordings(&f).unwrap().iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(ids(RecordingFilter::default()), [3, 2, 1], "newest first");
    assert_eq!(ids(RecordingFilter { agent: Some("a2".into()), ..Default::default() }), [3, 2]);
    assert_eq!(ids(RecordingFilter { queue: Some("support".into()), ..Default::default() }), [3, 1]);
    assert_eq!(ids(RecordingFilter { number: Some("0902".into()), ..Default::default() }), [2]);
    assert_eq!(ids(RecordingFilter { call_id: Some(103), ..Default::default() }), [3]);
    assert_eq!(ids(RecordingFilter { from: Some(2_000), to: Some(3_000), ..Default::default() }), [2]);
    assert_eq!(ids(RecordingFilter { min_ms: Some(10_000), max_ms: Some(60_000), ..Default::default() }), [1]);
    assert_eq!(ids(RecordingFilter { data_key: Some(("account".into(), Some("105".into()))), ..Default::default() }), [3, 1]);
    assert_eq!(ids(RecordingFilter { data_key: Some(("tier".into(), None)), ..Default::default() }), Vec::<u64>::new());
    assert_eq!(ids(RecordingFilter { status: Some("done".into()), ..Default::default() }), [1]);
    assert_eq!(ids(RecordingFilter { limit: 1, ..Default::default() }), [3]);
    // A recording's id counts as a call id: ids stay unique after a restart.
    s.remove_recording(2).unwrap();
    assert!(s.flush(PATIENCE));
    assert_eq!(s.recording(2).unwrap(), None);
    assert_eq!(s.snapshot().unwrap().next_call_id, 104, "recording 3's call 103 is the largest");
}
