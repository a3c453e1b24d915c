// SPDX-License-Identifier: GPL-2.0-or-later
//! The store from outside, in its own process image so that it can own the
//! `log` facade: a write failure is logged once per change of error, not
//! once per retry, and the recovery once.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hotline::store::{Store, StoreOptions, READY};
use log::{Level, Log, Metadata, Record};

struct Capture(Mutex<Vec<(Level, String)>>);

impl Log for Capture {
    fn enabled(&self, _: &Metadata) -> bool {
        true
    }
    fn log(&self, r: &Record) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push((r.level(), r.args().to_string()));
    }
    fn flush(&self) {}
}

static LOG: Capture = Capture(Mutex::new(Vec::new()));

fn logged(level: Level, path: &str, text: &str) -> usize {
    LOG.0.lock().unwrap().iter().filter(|(l, m)| *l == level && m.contains(path) && m.contains(text)).count()
}

fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(10);
    while !ok() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_locked_database_is_logged_once_and_recovers() {
    log::set_logger(&LOG).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    let dir: PathBuf = std::env::temp_dir().join(format!("hotline-store-it-{}", std::process::id()));
    let path = dir.join("hotline.db");
    let opts = StoreOptions {
        busy_timeout: Duration::from_millis(20),
        retry_min: Duration::from_millis(5),
        retry_max: Duration::from_millis(20),
        ..StoreOptions::default()
    };
    let s = Store::open_with(&path, opts).unwrap();
    let p = path.display().to_string();
    s.set_agent_state("1001", READY, None).unwrap();
    assert!(s.flush(Duration::from_secs(10)));

    // Another process takes the write lock and keeps it: every retry fails
    // the same way (a real SQLITE_BUSY, no test hook).
    let blocker = rusqlite::Connection::open(&path).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    s.set_agent_state("1001", "break", Some("lunch")).unwrap();
    wait_for("several failed retries", || s.status().write_failures >= 5);
    let st = s.status();
    assert!(!st.healthy, "{st}");
    assert!(st.last_error.as_deref().unwrap_or("").contains("locked"), "{st}");
    assert_eq!(logged(Level::Error, &p, "write failed"), 1, "{:?}", LOG.0.lock().unwrap());

    blocker.execute_batch("COMMIT").unwrap();
    assert!(s.flush(Duration::from_secs(10)));
    assert!(s.status().healthy);
    assert_eq!(logged(Level::Info, &p, "writing again"), 1, "{:?}", LOG.0.lock().unwrap());
    let snap = s.snapshot().unwrap();
    assert_eq!(snap.agents[0].reason.as_deref(), Some("lunch"));
    let st = s.close();
    assert_eq!(st.rows_written, 2, "{st}");
    let _ = std::fs::remove_dir_all(&dir);
}
