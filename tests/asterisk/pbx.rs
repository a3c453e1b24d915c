//! The bundled Asterisk (docker/pbx) as a test fixture: started once per
//! test binary with the freshly built module and the test configuration in
//! tests/pbx/asterisk, driven over AMI and the CLI.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use super::ami::{field, is, Ami, Message};
use crate::poll;

pub const AMI_PORT: u16 = 25038;
pub const CONTAINER: &str = "hotline-test-asterisk";

pub struct Pbx {
    pub ami: Ami,
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The module under test: $HOTLINE_MODULE or the release build.
pub fn module() -> PathBuf {
    let p = std::env::var_os("HOTLINE_MODULE")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/release/libhotline.so"));
    assert!(
        p.exists(),
        "{} not found: build it first with `cargo build --release --features asterisk` (see README)",
        p.display()
    );
    p
}

pub fn pbx_script(args: &[&str]) -> (bool, String) {
    let out = Command::new(repo().join("docker/pbx"))
        .args(args)
        .env("HOTLINE_PBX_NAME", CONTAINER)
        .output()
        .expect("run docker/pbx");
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

static PBX: OnceLock<Pbx> = OnceLock::new();
static SERIAL: Mutex<()> = Mutex::new(());

/// The running test PBX, and a guard that serializes scenarios (they share
/// one Asterisk and two CPU cores).
pub fn pbx() -> (&'static Pbx, MutexGuard<'static, ()>) {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let p = PBX.get_or_init(|| {
        let etc = repo().join("tests/pbx/asterisk");
        let module = module();
        let (ok, out) = pbx_script(&["start", "--etc", path(&etc), "--module", path(&module), "--name", CONTAINER]);
        assert!(ok, "docker/pbx start failed:\n{out}");
        let ami = connect();
        Pbx { ami }
    });
    (p, guard)
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

impl Pbx {
    /// Restart the Asterisk process (same container and volumes: the
    /// store survives) and connect AMI again.
    pub fn restart(&self) {
        let (ok, out) = pbx_script(&["restart"]);
        assert!(ok, "docker/pbx restart failed:\n{out}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match self.ami.reconnect(AMI_PORT, "hotline", "hotline") {
                Ok(()) => return,
                Err(e) => {
                    assert!(Instant::now() < deadline, "AMI after the restart: {e}");
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
        }
    }
}

fn connect() -> Ami {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match Ami::connect(AMI_PORT, "hotline", "hotline") {
            Ok(a) => return a,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => panic!("AMI on 127.0.0.1:{AMI_PORT}: {e}"),
        }
    }
}

impl Pbx {
    /// `asterisk -rx` in the container.
    pub fn cli(&self, cmd: &str) -> String {
        let (_, out) = pbx_script(&["cli", cmd]);
        out
    }

    /// Asterisk's log file (`messages.log`: notice and up, debug) so far.
    pub fn log(&self) -> String {
        let out = Command::new("docker").args(["exec", CONTAINER, "cat", "/var/log/asterisk/messages.log"]).output().expect("docker exec");
        String::from_utf8_lossy(&out.stdout).into_owned()
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

    /// Set an agent's scripted behaviour (see tests/pbx/asterisk/extensions.conf).
    pub fn agent_mode(&self, id: u32, mode: &str, talk_secs: f64) {
        self.setvar(&format!("AGENT_MODE_{id}"), mode);
        self.setvar(&format!("AGENT_TALK_{id}"), &format!("{talk_secs}"));
    }

    pub fn setvar(&self, name: &str, value: &str) {
        let r = self.ami.action("Setvar", &[("Variable", name), ("Value", value)]);
        assert_eq!(field(&r, "Response"), "Success", "{r:?}");
    }

    /// A caller into `queue` that stays on the line `hold_secs` at most
    /// (then hangs up), with caller number `number` and extra variables.
    pub fn call(&self, queue: &str, number: &str, hold_secs: f64, vars: &[(&str, &str)]) {
        self.call_to(&format!("Local/{queue}@hotline-callers"), number, hold_secs, vars)
    }

    /// A caller on `channel` (a Local channel into some context) that stays
    /// on the line `hold_secs` at most.
    pub fn call_to(&self, channel: &str, number: &str, hold_secs: f64, vars: &[(&str, &str)]) {
        let mut headers: Vec<(String, String)> = vec![
            ("Channel".into(), channel.to_string()),
            ("Application".into(), "Wait".into()),
            ("Data".into(), format!("{hold_secs}")),
            ("CallerID".into(), format!("\"test\" <{number}>")),
            ("Async".into(), "true".into()),
            ("Timeout".into(), "60000".into()),
        ];
        for (k, v) in vars {
            headers.push(("Variable".into(), format!("__{k}={v}")));
        }
        let h: Vec<(&str, &str)> = headers.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let r = self.ami.action("Originate", &h);
        assert_eq!(field(&r, "Response"), "Success", "originate: {r:?}");
    }

    /// A caller into IVR menu `menu` (Local/<menu>@hotline-ivr) whose side
    /// sends `keys` (SendDTMF syntax, `w` = 0.5 s) once the IVR answered.
    pub fn ivr_call(&self, menu: &str, number: &str, keys: &str) {
        self.ivr_call_from("hotline-ivr-keys", menu, number, keys)
    }

    /// [`Pbx::ivr_call`] with the calling side in `context` (e.g.
    /// `hotline-ivr-talk`, which speaks).
    pub fn ivr_call_from(&self, context: &str, menu: &str, number: &str, keys: &str) {
        let r = self.ami.action(
            "Originate",
            &[
                ("Channel", &format!("Local/{menu}@hotline-ivr")),
                ("Context", context),
                ("Exten", "s"),
                ("Priority", "1"),
                ("CallerID", &format!("\"test\" <{number}>")),
                ("Variable", &format!("KEYS={keys}")),
                ("Async", "true"),
                ("Timeout", "30000"),
            ],
        );
        assert_eq!(field(&r, "Response"), "Success", "originate: {r:?}");
    }

    /// A command's output in the container (`docker exec`).
    pub fn exec(&self, args: &[&str]) -> String {
        let out = Command::new("docker").arg("exec").arg(CONTAINER).args(args).output().expect("docker exec");
        assert!(out.status.success(), "docker exec {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Hang up every channel whose name matches the regular expression.
    pub fn hangup_matching(&self, regex: &str) {
        let r = self.ami.action("Hangup", &[("Channel", &format!("/{regex}/"))]);
        assert_eq!(field(&r, "Response"), "Success", "hangup: {r:?}");
    }

    /// The Asterisk process's open descriptors that are not files on disk
    /// (sockets, pipes, eventfds, timerfds...), read in the container from
    /// /proc/<pid>/fd (the pid from Asterisk's own pid file).
    pub fn open_non_file_descriptors(&self) -> usize {
        let out = Command::new("docker")
            .args(["exec", CONTAINER, "sh", "-c", "for f in /proc/$(cat /var/run/asterisk/asterisk.pid)/fd/*; do readlink \"$f\"; done"])
            .output()
            .expect("docker exec");
        assert!(out.status.success(), "docker exec: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout);
        let n = text.lines().filter(|l| !l.is_empty() && !l.starts_with('/')).count();
        assert!(n > 0, "no descriptors read: {text}");
        n
    }

    /// Wait until Asterisk has no channel at all (the scenarios' last legs
    /// are gone).
    pub fn wait_no_channels(&self) {
        poll::until("channels still up", Duration::from_secs(30), Duration::from_millis(200), || {
            let out = self.cli("core show channels count");
            if out.lines().any(|l| l.trim() == "0 active channels") {
                Ok(())
            } else {
                Err(format!("{out}\n{}", self.cli("core show channels")))
            }
        })
    }

    /// Run a dialplan application on a throw-away channel.
    pub fn run_app(&self, app: &str, data: &str) {
        let r = self.ami.action(
            "Originate",
            &[
                ("Channel", "Local/idle@hotline-null"),
                ("Application", app),
                ("Data", data),
                ("Async", "true"),
            ],
        );
        assert_eq!(field(&r, "Response"), "Success", "originate: {r:?}");
    }

    /// Hotline events of kind `name` ("CallAnswered"...) since `from`.
    pub fn hotline(&self, from: usize, name: &str) -> Vec<Message> {
        let ev = format!("Hotline{name}");
        self.ami.events_since(from, |m| is(m, &ev))
    }

    pub fn wait_hotline(&self, from: usize, name: &str, n: usize, secs: u64, f: impl Fn(&Message) -> bool) -> Vec<Message> {
        let ev = format!("Hotline{name}");
        self.ami.wait_n(from, n, Duration::from_secs(secs), |m| is(m, &ev) && f(m))
    }

    /// The CallId the router gave the caller with this number.
    pub fn call_id(&self, from: usize, number: &str) -> String {
        let m = self.wait_hotline(from, "CallEntered", 1, 15, |m| field(m, "CallerNumber") == number);
        field(&m[0], "CallId").to_string()
    }

    /// Wait for the caller-side outcome (UserEvent from the test dialplan).
    pub fn caller_done(&self, from: usize, queue: &str, n: usize, secs: u64) -> Vec<Message> {
        self.ami.wait_n(from, n, Duration::from_secs(secs), |m| {
            is(m, "UserEvent") && field(m, "UserEvent") == "HotlineTestCallerDone" && field(m, "Queue") == queue
        })
    }

    /// Wait until no Hotline call is in progress (quiet PBX between tests).
    pub fn settle(&self) {
        // Best effort: a test that left a call behind fails on its own.
        let _ = poll::within(Duration::from_secs(30), Duration::from_millis(200), || {
            let out = self.cli("hotline show calls");
            if out.lines().any(|l| l.trim() == "0 calls") { Ok(()) } else { Err(out) }
        });
    }
}
