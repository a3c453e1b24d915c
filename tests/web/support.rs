// SPDX-License-Identifier: GPL-2.0-or-later
//! For the web port's tests: a fake [`WebHost`] with three agents in two
//! queues, a configuration with one token per role, and a small HTTP/1.1
//! client over a plain `TcpStream` (so tests can also misbehave: half a
//! request, a stream left open).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hotline::core::agent::AgentState;
use hotline::core::call::{CallId, CallPhase, CallView};
use hotline::core::queue::QueueView;
use hotline::core::stats::{AgentReport, QueueReport, StatsReport};
use hotline::core::{AgentView, Config};
use hotline::web::{AgentCommand, HostError, WebHost, WebServer};

pub const ADMIN: &str = "admin-token-0123456789";
pub const SUPERVISOR: &str = "sales-supervisor-token";
pub const AGENT_1001: &str = "agent-1001-token-xyz";
pub const VIEWER: &str = "wall-screen-token-abc";

/// Agents 1001 (support), 1002 (sales), 1003 (support and sales); the
/// supervisor token covers sales.
pub fn config(extra_http: &str) -> Config {
    let tokens: String = [
        (ADMIN, "admin", "name = \"ops\""),
        (SUPERVISOR, "supervisor", "queues = [\"sales\"]"),
        (AGENT_1001, "agent", "agent = \"1001\""),
        (VIEWER, "viewer", ""),
    ]
    .iter()
    .map(|(token, role, extra)| format!("[[http.token]]\ntoken = \"{token}\"\nrole = \"{role}\"\n{extra}\n"))
    .collect();
    let text = format!(
        r#"
[[queue]]
name = "support"
[[queue]]
name = "sales"
[[agent]]
name = "1001"
contact = "PJSIP/1001"
queues = ["support"]
[[agent]]
name = "1002"
contact = "PJSIP/1002"
queues = ["sales"]
[[agent]]
name = "1003"
contact = "PJSIP/1003"
queues = ["support", "sales"]

[http]
listen = "127.0.0.1:0"
max_body_bytes = 1024
request_timeout_seconds = 1
{extra_http}
{tokens}"#
    );
    Config::parse(&text, "web-test.toml").unwrap_or_else(|e| panic!("{e}"))
}

/// Records agent commands; "9999" exists but its commands time out, and
/// stats panic when `panic_stats` is set.
#[derive(Default)]
pub struct FakeHost {
    pub commands: Mutex<Vec<(String, AgentCommand)>>,
    pub panic_stats: std::sync::atomic::AtomicBool,
    /// What snapshot_version answers (None: no snapshot).
    pub version: Mutex<Option<u64>>,
    /// How many times agents() was asked.
    pub agent_reads: std::sync::atomic::AtomicUsize,
    /// Notes taken: (call, text, by).
    pub notes: Mutex<Vec<(u64, String, String)>>,
    /// Recording pauses (true) and resumes asked: (call, pause).
    pub pauses: Mutex<Vec<(u64, bool)>>,
}

fn agent(name: &str, queues: &[&str], state: AgentState) -> AgentView {
    AgentView {
        name: name.into(),
        contact: format!("PJSIP/{name}"),
        state,
        since: 0,
        device_busy: false,
        calls: 0,
        talk_ms: 0,
        misses: 0,
        queues: queues.iter().map(|q| q.to_string()).collect(),
    }
}

impl WebHost for FakeHost {
    fn queues(&self) -> Result<Vec<QueueView>, HostError> {
        Ok(["support", "sales"]
            .iter()
            .map(|q| QueueView { name: q.to_string(), strategy: "longest-idle", waiting: 1, members: 2, logged_in: 2, ready: 1, retired: false })
            .collect())
    }

    fn agents(&self) -> Result<Vec<AgentView>, HostError> {
        self.agent_reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(vec![
            agent("1001", &["support"], AgentState::Available),
            agent("1002", &["sales"], AgentState::OnCall(CallId(7))),
            agent("1003", &["support", "sales"], AgentState::Break("lunch".into())),
        ])
    }

    fn calls(&self) -> Result<Vec<CallView>, HostError> {
        let call = |id, queue: &str, agent: Option<&str>| CallView {
            id: CallId(id),
            queue: queue.into(),
            number: format!("090{id}"),
            priority: 0,
            phase: if agent.is_some() { CallPhase::Talking } else { CallPhase::Waiting },
            waited: 1500,
            agent: agent.map(String::from),
            callback: false,
        };
        Ok(vec![call(6, "support", None), call(7, "sales", Some("1002"))])
    }

    fn snapshot_version(&self) -> Option<u64> {
        *self.version.lock().unwrap()
    }

    fn stats(&self) -> Result<StatsReport, HostError> {
        if self.panic_stats.load(std::sync::atomic::Ordering::Relaxed) {
            panic!("stats exploded");
        }
        let q = |name: &str| QueueReport {
            name: name.into(),
            entered: 3,
            answered: 2,
            abandoned: 1,
            short_abandoned: 0,
            exited: 0,
            overflowed: 0,
            callbacks: 0,
            waiting: 1,
            service_level: Some(0.5),
            asa: Some(1000),
            aht: None,
            abandon_rate: Some(0.33),
            longest_wait: 2000,
            current_longest_wait: 1500,
            failed_offers: 0,
            requeued: 0,
            surveys: 2,
            satisfaction: Some(4.5),
        };
        let a = |name: &str| AgentReport { name: name.into(), state: "available".into(), offered: 1, answered: 1, missed: 0, requeued: 0, talk: 100, aht: Some(100), occupancy: Some(0.1), surveys: 1, satisfaction: Some(5.0) };
        Ok(StatsReport { service_level_threshold: 20_000, queues: vec![q("support"), q("sales")], agents: vec![a("1001"), a("1002"), a("1003")] })
    }

    fn agent_command(&self, agent: &str, cmd: AgentCommand) -> Result<(), HostError> {
        if agent == "9999" {
            return Err(HostError::Unavailable("router did not answer in time".into()));
        }
        self.commands.lock().unwrap().push((agent.to_string(), cmd));
        Ok(())
    }

    fn has_agent(&self, name: &str) -> bool {
        matches!(name, "1001" | "1002" | "1003" | "9999")
    }

    fn recordings(&self, filter: &hotline::store::RecordingFilter) -> Result<Vec<hotline::store::RecordingRecord>, HostError> {
        Ok(fake_recordings().into_iter().filter(|r| filter.agent.as_ref().map_or(true, |a| r.agent.as_ref() == Some(a))).collect())
    }

    fn recording(&self, id: u64) -> Result<Option<hotline::store::RecordingRecord>, HostError> {
        Ok(fake_recordings().into_iter().find(|r| r.id == id))
    }

    fn record_pause(&self, call: CallId, pause: bool) -> Result<String, HostError> {
        self.pauses.lock().unwrap().push((call.0, pause));
        Ok(format!("recording 1 of call {call}: {}", if pause { "paused" } else { "resumed" }))
    }

    fn live_call(&self, call: CallId) -> Result<Option<CallView>, HostError> {
        Ok(self.calls()?.into_iter().find(|c| c.id == call))
    }

    fn call_note(&self, call: CallId, text: &str, by: &str) -> Result<(), HostError> {
        self.notes.lock().unwrap().push((call.0, text.to_string(), by.to_string()));
        Ok(())
    }

    fn webhooks(&self) -> Result<Vec<hotline::notify::webhook::EndpointView>, HostError> {
        Ok(vec![hotline::notify::webhook::EndpointView {
            name: "crm".into(),
            url: "https://crm.example/h".into(),
            state: "up",
            sent: 3,
            failed: 0,
            pending: 0,
            dead: 1,
            oldest_pending_ms: None,
            last_error: None,
            latency_ms: Some((2, 9)),
        }])
    }

    fn webhooks_retry(&self, name: Option<&str>) -> Result<usize, HostError> {
        match name {
            None | Some("crm") => Ok(1),
            Some(n) => Err(HostError::NotFound(format!("no webhook named {n:?}"))),
        }
    }

    fn webhooks_purge(&self, name: Option<&str>) -> Result<usize, HostError> {
        self.webhooks_retry(name)
    }
}

/// A server on a free port with the test configuration.
pub fn server(extra_http: &str) -> (WebServer, Arc<FakeHost>) {
    let host = Arc::new(FakeHost::default());
    let server = WebServer::start(&config(extra_http).http, host.clone()).expect("web server starts");
    (server, host)
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"))
    }

    /// The `{"error": ...}` message.
    pub fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_else(|| panic!("no error message: {self:?}")).to_string()
    }
}

pub fn raw_request(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> String {
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", b.len()));
    }
    req.push_str("\r\n");
    req.push_str(body.unwrap_or(""));
    req
}

/// One request on a fresh connection; the whole response.
pub fn request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Resp {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(raw_request(method, path, headers, body).as_bytes()).expect("send");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read response");
    parse(&raw)
}

pub fn parse(raw: &[u8]) -> Resp {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no response head in {text:?}"));
    let mut lines = head.split("\r\n");
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|c| c.parse().ok()).unwrap_or_else(|| panic!("bad status line: {head}"));
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
    let chunked = headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked { dechunk(body) } else { body.to_string() };
    Resp { status, headers, body }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

pub fn get(addr: SocketAddr, path: &str, token: &str) -> Resp {
    let auth = format!("Bearer {token}");
    request(addr, "GET", path, &[("Authorization", &auth)], None)
}

pub fn post(addr: SocketAddr, path: &str, token: &str, body: Option<&str>) -> Resp {
    let auth = format!("Bearer {token}");
    request(addr, "POST", path, &[("Authorization", &auth)], body)
}

/// Names in a JSON array of objects.
pub fn names(v: &serde_json::Value) -> Vec<String> {
    v.as_array().expect("array").iter().map(|x| x["name"].as_str().expect("name").to_string()).collect()
}

/// An open event stream.
pub struct Stream {
    pub sock: TcpStream,
    pub text: String,
}

impl Stream {
    pub fn open(addr: SocketAddr, token: &str, last_event_id: Option<u64>) -> Stream {
        let auth = format!("Bearer {token}");
        let id = last_event_id.map(|i| i.to_string());
        let mut headers = vec![("Authorization", auth.as_str()), ("Accept", "text/event-stream")];
        if let Some(id) = &id {
            headers.push(("Last-Event-ID", id));
        }
        let mut sock = TcpStream::connect(addr).expect("connect");
        sock.write_all(raw_request("GET", "/api/v1/events", &headers, None).as_bytes()).expect("send");
        let mut s = Stream { sock, text: String::new() };
        assert!(s.read_until(Duration::from_secs(5), |t| t.contains("\r\n\r\n")), "no response head: {:?}", s.text);
        assert!(s.text.starts_with("HTTP/1.1 200"), "{}", s.text);
        s
    }

    /// Read until `done(text so far)` or the time is up; whether it held.
    pub fn read_until(&mut self, within: Duration, done: impl Fn(&str) -> bool) -> bool {
        let end = Instant::now() + within;
        let mut buf = [0u8; 4096];
        while !done(&self.text) {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            self.sock.set_read_timeout(Some(left.max(Duration::from_millis(1)))).unwrap();
            match self.sock.read(&mut buf) {
                Ok(0) => return done(&self.text),
                Ok(n) => self.text.push_str(&String::from_utf8_lossy(&buf[..n])),
                Err(_) => return done(&self.text),
            }
        }
        true
    }

    /// Read until the server closes the connection; whether it did in time.
    pub fn closed_within(&mut self, within: Duration) -> bool {
        let end = Instant::now() + within;
        let mut buf = [0u8; 4096];
        loop {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            self.sock.set_read_timeout(Some(left)).unwrap();
            match self.sock.read(&mut buf) {
                Ok(0) => return true,
                Ok(n) => self.text.push_str(&String::from_utf8_lossy(&buf[..n])),
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => return false,
                Err(_) => return true,
            }
        }
    }
}

/// Threads of this process named `name` (from /proc).
pub fn threads_named(name: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| {
            d.filter_map(|t| t.ok())
                .filter(|t| std::fs::read_to_string(t.path().join("comm")).map(|c| c.trim() == name).unwrap_or(false))
                .count()
        })
        .unwrap_or(0)
}

/// The file of the fake host's recording 1: 16 known bytes.
pub fn fake_recording_file() -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("hotline-web-fake-recording-{}.wav", std::process::id()));
    if !p.exists() {
        std::fs::write(&p, b"RIFF0123456789ab").unwrap();
    }
    p
}

/// Recording 1: support, agent 1001, done; recording 2: sales, agent
/// 1002, still recording.
pub fn fake_recordings() -> Vec<hotline::store::RecordingRecord> {
    use hotline::store::RecordingRecord;
    vec![
        RecordingRecord {
            id: 1,
            call_id: 6,
            queue: Some("support".into()),
            agent: Some("1001".into()),
            path: Some(fake_recording_file().display().to_string()),
            format: Some("wav".into()),
            status: Some("done".into()),
            duration_ms: Some(1500),
            ..RecordingRecord::default()
        },
        RecordingRecord { id: 2, call_id: 7, queue: Some("sales".into()), agent: Some("1002".into()), status: Some("recording".into()), ..RecordingRecord::default() },
    ]
}
