//! A real FreeSWITCH as a test fixture, started once per test binary with
//! the freshly built module and the test configuration in tests/fs, driven
//! over the event socket.
//!
//! Where FreeSWITCH is: `$HOTLINE_FREESWITCH` (an installation prefix with
//! bin/freeswitch and mod/), else `pkg-config freeswitch` (its prefix and
//! modulesdir variables). Neither: every test prints
//! "skipped: FreeSWITCH not installed (...)" and passes.
//!
//! The module under test: `$HOTLINE_FS_MODULE`, else `libhotline.so` of this
//! test binary's profile directory (`target/<profile>/libhotline.so`). Cargo
//! does not build the cdylib for an integration test: run `cargo build
//! --release --features freeswitch` first (a module older than its sources
//! fails the tests instead of testing stale code).
//!
//! Everything lives under `target/<profile>/fs-test/`: a copy of tests/fs as
//! the conf dir (tests may break its hotline.toml), log/db/run/temp dirs, a
//! mod dir of symlinks to the installation's modules plus mod_hotline.so,
//! and a generated tone as local_stream://moh. FreeSWITCH runs with
//! `-nonat -nc -nf -np` (no NAT probing, no console, foreground, no
//! real-time priority), the event socket on 127.0.0.1:28021, no SIP, and
//! is stopped at exit (atexit hook; PR_SET_PDEATHSIG as a safety net). A
//! benchmark runs its own switch on another directory and port
//! ([`instance`]).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use super::esl::{field, Esl, Event};
use crate::poll;

pub const ESL_PORT: u16 = 28021;
const EVENTS: &str = "CHANNEL_CREATE CHANNEL_BRIDGE CHANNEL_HANGUP CHANNEL_HANGUP_COMPLETE PLAYBACK_START CUSTOM hotline::info hotline::test";

pub struct Switch {
    pub esl: Esl,
    pub root: PathBuf,
    bin: PathBuf,
}

struct Install {
    bin: PathBuf,
    mods: PathBuf,
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn pkg_var(var: &str) -> Option<String> {
    let out = Command::new("pkg-config").args([&format!("--variable={var}"), "freeswitch"]).output().ok()?;
    let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !v.is_empty()).then_some(v)
}

/// The FreeSWITCH installation, or why there is none.
fn find_install() -> Result<Install, String> {
    if let Some(prefix) = std::env::var_os("HOTLINE_FREESWITCH").filter(|p| !p.is_empty()) {
        let prefix = PathBuf::from(prefix);
        let inst = Install { bin: prefix.join("bin/freeswitch"), mods: prefix.join("mod") };
        if inst.bin.is_file() {
            return Ok(inst);
        }
        return Err(format!("$HOTLINE_FREESWITCH={} has no bin/freeswitch", prefix.display()));
    }
    let prefix = pkg_var("prefix").ok_or("`pkg-config freeswitch` failed and $HOTLINE_FREESWITCH is not set")?;
    let bin = pkg_var("bindir").map(PathBuf::from).unwrap_or_else(|| Path::new(&prefix).join("bin")).join("freeswitch");
    let mods = pkg_var("modulesdir").map(PathBuf::from).unwrap_or_else(|| Path::new(&prefix).join("mod"));
    if !bin.is_file() {
        return Err(format!("pkg-config says prefix {prefix} but {} does not exist", bin.display()));
    }
    Ok(Install { bin, mods })
}

/// target/<profile> of this test binary (…/target/<profile>/deps/freeswitch-…).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent().and_then(Path::parent).expect("target/<profile>").to_path_buf()
}

/// Newest modification time of the files the module is built from.
fn newest_source(dir: &Path, newest: &mut std::time::SystemTime) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let path = e.path();
        if path.is_dir() {
            newest_source(&path, newest);
        } else if let Ok(m) = e.metadata().and_then(|m| m.modified()) {
            *newest = (*newest).max(m);
        }
    }
}

pub fn module() -> PathBuf {
    let explicit = std::env::var_os("HOTLINE_FS_MODULE").map(PathBuf::from);
    let p = explicit.clone().unwrap_or_else(|| profile_dir().join("libhotline.so"));
    let build = "cargo build --release --features freeswitch";
    let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}: build it with `{build}` (or set HOTLINE_FS_MODULE)", p.display()));
    assert!(
        bytes.windows(28).any(|w| w == b"mod_hotline_module_interface"),
        "{} is not built with --features freeswitch (no mod_hotline_module_interface): run `{build}`",
        p.display()
    );
    // `cargo test --test freeswitch` builds the rlib only, never the cdylib:
    // refuse to test a module older than its sources.
    if explicit.is_none() {
        let mut newest = std::time::SystemTime::UNIX_EPOCH;
        newest_source(&repo().join("src"), &mut newest);
        newest_source(&repo().join("include"), &mut newest);
        for f in ["build.rs", "Cargo.toml"] {
            if let Ok(m) = std::fs::metadata(repo().join(f)).and_then(|m| m.modified()) {
                newest = newest.max(m);
            }
        }
        let built = std::fs::metadata(&p).and_then(|m| m.modified()).expect("module mtime");
        assert!(built >= newest, "{} is older than the sources: run `{build}` first", p.display());
    }
    p
}

static SWITCH: OnceLock<Result<Switch, String>> = OnceLock::new();
static SERIAL: Mutex<()> = Mutex::new(());
static CHILD: Mutex<Option<i32>> = Mutex::new(None);
static PREPARE_CONF: OnceLock<fn(&Path)> = OnceLock::new();
static INSTANCE: OnceLock<(&'static str, u16)> = OnceLock::new();

/// For benchmarks: run the switch in `target/<profile>/<dir>` with its
/// event socket on 127.0.0.1:`port` instead of the test switch's `fs-test`
/// and 28021, so that a benchmark never meets (or restarts) the switch of
/// a test suite. Call it before the first `switch()`; false if already set.
#[allow(dead_code)]
pub fn instance(dir: &'static str, port: u16) -> bool {
    INSTANCE.set((dir, port)).is_ok()
}

fn esl_port() -> u16 {
    INSTANCE.get().map_or(ESL_PORT, |i| i.1)
}

/// For benchmarks: `f` gets the run's conf dir (a fresh copy of tests/fs)
/// before FreeSWITCH starts, to add or change configuration files. Call it
/// before the first `switch()`; false if a hook was already set.
#[allow(dead_code)]
pub fn prepare_conf(f: fn(&Path)) -> bool {
    PREPARE_CONF.set(f).is_ok()
}

/// The running test switch and a guard serializing scenarios (they share
/// one FreeSWITCH); `None` (after printing why) when FreeSWITCH is not
/// installed.
pub fn switch() -> Option<(&'static Switch, MutexGuard<'static, ()>)> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let s = SWITCH.get_or_init(|| {
        let inst = find_install()?;
        Ok(start(&inst))
    });
    match s {
        Ok(s) => Some((s, guard)),
        Err(why) => {
            // Where FreeSWITCH must be there, its absence fails the suite.
            if std::env::var("HOTLINE_REQUIRE_FREESWITCH").is_ok_and(|v| v == "1") {
                panic!("HOTLINE_REQUIRE_FREESWITCH=1 but FreeSWITCH is not installed ({why})");
            }
            println!("skipped: FreeSWITCH not installed ({why})");
            None
        }
    }
}

fn write_tone(path: &Path) {
    // 1 s of a 440 Hz tone, 8 kHz 16-bit mono PCM WAV.
    let rate = 8000u32;
    let samples: Vec<i16> = (0..rate).map(|i| (3000.0 * (2.0 * std::f64::consts::PI * 440.0 * i as f64 / rate as f64).sin()) as i16).collect();
    let data_len = (samples.len() * 2) as u32;
    let mut w = Vec::new();
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(36 + data_len).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&16u32.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&rate.to_le_bytes());
    w.extend_from_slice(&(rate * 2).to_le_bytes());
    w.extend_from_slice(&2u16.to_le_bytes());
    w.extend_from_slice(&16u16.to_le_bytes());
    w.extend_from_slice(b"data");
    w.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        w.extend_from_slice(&s.to_le_bytes());
    }
    std::fs::write(path, w).expect("write tone");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).expect("copy");
        }
    }
}

fn kill_stale(pidfile: &Path) {
    let Ok(text) = std::fs::read_to_string(pidfile) else { return };
    let Ok(pid) = text.trim().parse::<i32>() else { return };
    // Only a FreeSWITCH we started from this very run directory.
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let needle = pidfile.parent().and_then(Path::parent).map(|p| p.display().to_string()).unwrap_or_default();
    if String::from_utf8_lossy(&cmdline).contains(&needle) && !needle.is_empty() {
        // SAFETY: plain syscall on a pid we verified.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        std::thread::sleep(Duration::from_millis(500));
    }
}

extern "C" fn stop_at_exit() {
    let pid = CHILD.lock().ok().and_then(|mut c| c.take());
    if let Some(pid) = pid {
        stop(pid);
    }
}

/// SIGTERM (FreeSWITCH shuts down cleanly), SIGKILL after 10 s.
fn stop(pid: i32) {
    // SAFETY: signals to our own child; waitpid reaps it.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut status = 0;
            if libc::waitpid(pid, &mut status, libc::WNOHANG) != 0 {
                return;
            }
            if Instant::now() > deadline {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn start(inst: &Install) -> Switch {
    let module = module();
    let root = profile_dir().join(INSTANCE.get().map_or("fs-test", |i| i.0));
    kill_stale(&root.join("run/freeswitch.pid"));
    let _ = std::fs::remove_dir_all(&root);
    for d in ["log", "db", "run", "mod", "temp", "storage", "cache", "recordings", "sounds/music/8000"] {
        std::fs::create_dir_all(root.join(d)).expect("mkdir run dir");
    }
    copy_dir(&repo().join("tests/fs"), &root.join("conf"));
    if esl_port() != ESL_PORT {
        let f = root.join("conf/autoload_configs/event_socket.conf.xml");
        let text = std::fs::read_to_string(&f).expect("event_socket.conf.xml");
        let from = format!("value=\"{ESL_PORT}\"");
        assert!(text.contains(&from), "{}: no {from}", f.display());
        std::fs::write(&f, text.replace(&from, &format!("value=\"{}\"", esl_port()))).expect("write event_socket.conf.xml");
    }
    if let Some(f) = PREPARE_CONF.get() {
        f(&root.join("conf"));
    }
    write_tone(&root.join("sounds/music/8000/tone.wav"));
    for e in std::fs::read_dir(&inst.mods).expect("FreeSWITCH mod dir") {
        let e = e.expect("entry");
        let name = e.file_name();
        if name.to_string_lossy().ends_with(".so") && name != "mod_hotline.so" {
            std::os::unix::fs::symlink(e.path(), root.join("mod").join(&name)).expect("symlink module");
        }
    }
    std::os::unix::fs::symlink(&module, root.join("mod/mod_hotline.so")).expect("symlink mod_hotline.so");

    let pid = spawn(&inst.bin, &root);
    // SAFETY: registering a plain extern "C" function.
    unsafe { libc::atexit(stop_at_exit) };
    let esl = wait_for_socket(pid, &root, || Esl::connect(esl_port(), "ClueCon", EVENTS));
    let sw = Switch { esl, root, bin: inst.bin.clone() };
    sw.check_loaded();
    sw
}

/// Start FreeSWITCH on the run directory `root`; its pid.
fn spawn(bin: &Path, root: &Path) -> i32 {
    let dir = |d: &str| root.join(d).display().to_string();
    let mut cmd = Command::new(bin);
    cmd.args(["-nonat", "-nc", "-nf", "-np"])
        .args(["-base", &dir("")])
        .args(["-conf", &dir("conf")])
        .args(["-log", &dir("log")])
        .args(["-db", &dir("db")])
        .args(["-run", &dir("run")])
        .args(["-mod", &dir("mod")])
        .args(["-temp", &dir("temp")])
        .args(["-storage", &dir("storage")])
        .args(["-cache", &dir("cache")])
        .args(["-recordings", &dir("recordings")])
        .args(["-sounds", &dir("sounds")])
        .env_remove("HOTLINE_CONFIG")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(root.join("stdout.txt")).expect("stdout file"))
        .stderr(std::fs::File::create(root.join("stderr.txt")).expect("stderr file"));
    // Safety net: if this test process dies without running its exit
    // hook, the kernel kills FreeSWITCH. PDEATHSIG fires when the spawning
    // *thread* exits, so spawn from a thread that lives until the process
    // ends.
    // SAFETY: pre_exec runs in the child between fork and exec; prctl is
    // async-signal-safe.
    unsafe {
        use std::os::unix::process::CommandExt;
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("freeswitch-keeper".into())
        .spawn(move || {
            let r = cmd.spawn().map(|c| c.id() as i32);
            let _ = tx.send(r);
            // Live as long as the process (see PR_SET_PDEATHSIG above).
            loop {
                std::thread::park();
            }
        })
        .expect("keeper thread");
    let pid = rx.recv().expect("keeper").unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    *CHILD.lock().unwrap_or_else(|e| e.into_inner()) = Some(pid);
    pid
}

/// Retry `connect` until the event socket answers (60 s at most).
fn wait_for_socket<T>(pid: i32, root: &Path, mut connect: impl FnMut() -> std::io::Result<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match connect() {
            Ok(e) => return e,
            Err(e) => {
                let mut status = 0;
                // SAFETY: our child.
                if unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) } != 0 {
                    panic!("FreeSWITCH exited at startup; see {}/stdout.txt and log/freeswitch.log", root.display());
                }
                assert!(Instant::now() < deadline, "no event socket on 127.0.0.1:{} after 60 s: {e}", esl_port());
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
}

impl Switch {
    /// Modules load before the event socket answers; make sure ours did.
    fn check_loaded(&self) {
        let loaded = self.api("module_exists mod_hotline");
        assert_eq!(loaded.trim(), "true", "mod_hotline did not load; see {}", self.root.join("log/freeswitch.log").display());
    }

    /// Restart the FreeSWITCH process on the same run directory (its db
    /// directory, and Hotline's store in it, stay): a clean shutdown
    /// (SIGTERM), a new process, the event socket connected again.
    pub fn restart(&self) {
        let pid = CHILD.lock().unwrap_or_else(|e| e.into_inner()).take().expect("FreeSWITCH is running");
        stop(pid);
        let pid = spawn(&self.bin, &self.root);
        wait_for_socket(pid, &self.root, || self.esl.reconnect(esl_port(), "ClueCon", EVENTS));
        self.check_loaded();
    }
}

impl Switch {
    pub fn api(&self, cmd: &str) -> String {
        self.esl.api(cmd)
    }

    /// The FreeSWITCH log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.root.join("log/freeswitch.log")).unwrap_or_default()
    }

    /// Wait until a line of the log written after byte `from` contains
    /// every one of `parts`; returns that line.
    pub fn wait_log(&self, from: usize, parts: &[&str], secs: u64) -> String {
        poll::until(&format!("no log line with {parts:?}"), Duration::from_secs(secs), Duration::from_millis(100), || {
            let log = self.log();
            let new = log.get(from..).unwrap_or("");
            new.lines().find(|l| parts.iter().all(|p| l.contains(p))).map(str::to_string).ok_or_else(|| format!("new log:\n{new}"))
        })
    }

    /// Script an agent (see tests/fs/dialplan.xml).
    pub fn agent_mode(&self, id: u32, mode: &str, talk_ms: u64) {
        assert!(self.api(&format!("global_setvar agent_mode_{id}={mode}")).starts_with("+OK"));
        assert!(self.api(&format!("global_setvar agent_talk_{id}={talk_ms}")).starts_with("+OK"));
    }

    /// A caller into `queue` with caller number `number` who stays on the
    /// line `hold_ms` at most.
    pub fn call(&self, queue: &str, number: &str, hold_ms: u64) {
        self.esl.bgapi(&format!("originate {{origination_caller_id_number={number}}}loopback/{queue}/hotline-callers &sleep({hold_ms})"));
    }

    /// Run `hotline_agent <action>,<agent>` in the dialplan.
    pub fn agent_command(&self, action: &str, agent: &str) {
        self.esl.bgapi(&format!("originate loopback/agent-{action}-{agent}/hotline-null &park()"));
    }

    pub fn mark(&self) -> usize {
        self.esl.mark()
    }

    /// Hotline events `name` ("CallAnswered"...) since `from`.
    pub fn hotline(&self, from: usize, name: &str) -> Vec<Event> {
        self.esl.events_since(from, |e| is_hotline(e, name))
    }

    pub fn wait_hotline(&self, from: usize, name: &str, n: usize, secs: u64, f: impl Fn(&Event) -> bool) -> Vec<Event> {
        self.esl.wait_n(from, n, Duration::from_secs(secs), |e| is_hotline(e, name) && f(e))
    }

    /// The CallId the router gave the caller with this number.
    pub fn call_id(&self, from: usize, number: &str) -> String {
        let e = self.wait_hotline(from, "CallEntered", 1, 15, |e| field(e, "Hotline-CallerNumber") == number);
        field(&e[0], "Hotline-CallId").to_string()
    }

    /// The caller legs (running hotline_queue) of `queue` that ended:
    /// their CHANNEL_HANGUP_COMPLETE events (variable_hotline_result...).
    pub fn caller_done(&self, from: usize, queue: &str, n: usize, secs: u64) -> Vec<Event> {
        self.esl.wait_n(from, n, Duration::from_secs(secs), |e| {
            field(e, "Event-Name") == "CHANNEL_HANGUP_COMPLETE" && field(e, "variable_test_queue") == queue
        })
    }

    /// FreeSWITCH's open descriptors that are not files on disk (sockets,
    /// pipes, eventfds, timerfds...), from /proc/<pid>/fd.
    pub fn open_non_file_descriptors(&self) -> usize {
        let pid = std::fs::read_to_string(self.root.join("run/freeswitch.pid")).expect("pid file");
        let dir = format!("/proc/{}/fd", pid.trim());
        let n = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
            .filter(|target| !target.starts_with("/"))
            .count();
        assert!(n > 0, "no descriptors in {dir}");
        n
    }

    /// Wait until FreeSWITCH has no channel at all.
    pub fn wait_no_channels(&self) {
        poll::until("channels still up", Duration::from_secs(30), Duration::from_millis(100), || {
            let out = self.api("show channels count");
            if out.lines().any(|l| l.trim() == "0 total.") {
                Ok(())
            } else {
                Err(self.api("show channels"))
            }
        })
    }

    /// Wait until no Hotline call is in progress.
    pub fn settle(&self) {
        // Best effort: a test that left a call behind fails on its own.
        let _ = poll::within(Duration::from_secs(30), Duration::from_millis(100), || {
            let out = self.api("hotline show calls");
            if out.lines().any(|l| l.trim() == "0 calls") { Ok(()) } else { Err(out) }
        });
    }
}

pub fn is_hotline(e: &Event, name: &str) -> bool {
    field(e, "Event-Subclass") == "hotline::info" && field(e, "Hotline-Event") == name
}

/// Event-Date-Timestamp (µs since the epoch).
pub fn stamp(e: &Event) -> i64 {
    field(e, "Event-Date-Timestamp").parse().unwrap_or(0)
}
