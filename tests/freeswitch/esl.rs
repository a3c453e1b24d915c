//! A small FreeSWITCH event-socket (ESL, inbound mode) client for the
//! tests: one connection, a reader thread that collects every event, and
//! helpers to run API commands and wait for events.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Headers of one event (values URL-decoded).
pub type Event = HashMap<String, String>;

#[derive(Default)]
struct Shared {
    events: Vec<Event>,
    /// Replies (command/reply, api/response) in arrival order.
    replies: VecDeque<(Event, String)>,
    closed: bool,
}

pub struct Esl {
    writer: Mutex<TcpStream>,
    shared: Arc<(Mutex<Shared>, Condvar)>,
}

impl Esl {
    /// Connect to 127.0.0.1:`port`, authenticate and subscribe to `events`
    /// (the `event plain ...` argument).
    pub fn connect(port: u16, password: &str, events: &str) -> std::io::Result<Esl> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        let reader = stream.try_clone()?;
        let shared = Arc::new((Mutex::new(Shared::default()), Condvar::new()));
        let s2 = shared.clone();
        std::thread::spawn(move || read_loop(reader, s2));
        let esl = Esl { writer: Mutex::new(stream), shared };
        esl.greet(password, events)?;
        Ok(esl)
    }

    /// Connect again after FreeSWITCH restarted: events go on into the same
    /// list (marks stay valid).
    pub fn reconnect(&self, port: u16, password: &str, events: &str) -> std::io::Result<()> {
        // The old connection's reader has seen the end (else it could mark
        // the new one closed).
        {
            let (lock, cv) = &*self.shared;
            let mut g = lock.lock().unwrap_or_else(|e| e.into_inner());
            let deadline = Instant::now() + Duration::from_secs(30);
            while !g.closed {
                let left = deadline.saturating_duration_since(Instant::now());
                assert!(!left.is_zero(), "the old event socket connection did not close");
                g = cv.wait_timeout(g, left).unwrap_or_else(|e| e.into_inner()).0;
            }
        }
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        let reader = stream.try_clone()?;
        *self.writer.lock().unwrap_or_else(|e| e.into_inner()) = stream;
        {
            let mut g = self.shared.0.lock().unwrap_or_else(|e| e.into_inner());
            g.closed = false;
            g.replies.clear();
        }
        let s2 = self.shared.clone();
        std::thread::spawn(move || read_loop(reader, s2));
        self.greet(password, events)
    }

    /// Authenticate and subscribe.
    fn greet(&self, password: &str, events: &str) -> std::io::Result<()> {
        // The server speaks first: "Content-Type: auth/request".
        let (hello, _) = self.next_reply(Duration::from_secs(10)).ok_or_else(|| std::io::Error::other("no auth/request"))?;
        if hello.get("Content-Type").map(String::as_str) != Some("auth/request") {
            return Err(std::io::Error::other(format!("unexpected greeting {hello:?}")));
        }
        let (r, _) = self.command(&format!("auth {password}"));
        if !r.get("Reply-Text").is_some_and(|t| t.starts_with("+OK")) {
            return Err(std::io::Error::other(format!("ESL auth failed: {r:?}")));
        }
        let (r, _) = self.command(&format!("event plain {events}"));
        if !r.get("Reply-Text").is_some_and(|t| t.starts_with("+OK")) {
            return Err(std::io::Error::other(format!("ESL event subscription failed: {r:?}")));
        }
        Ok(())
    }

    fn next_reply(&self, timeout: Duration) -> Option<(Event, String)> {
        let (lock, cv) = &*self.shared;
        let deadline = Instant::now() + timeout;
        let mut g = lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(r) = g.replies.pop_front() {
                return Some(r);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || g.closed {
                return None;
            }
            g = cv.wait_timeout(g, left).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// Send one command and wait for its reply (headers, body).
    pub fn command(&self, cmd: &str) -> (Event, String) {
        // Holding the writer while waiting keeps replies in command order.
        let mut w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        w.write_all(format!("{cmd}\n\n").as_bytes()).expect("ESL write");
        let r = self.next_reply(Duration::from_secs(30));
        drop(w);
        r.unwrap_or_else(|| panic!("no ESL reply to {cmd:?}"))
    }

    /// `api <cmd>`: the command's output.
    pub fn api(&self, cmd: &str) -> String {
        self.command(&format!("api {cmd}")).1
    }

    /// `bgapi <cmd>`: returns at once.
    pub fn bgapi(&self, cmd: &str) {
        let (r, _) = self.command(&format!("bgapi {cmd}"));
        assert!(r.get("Reply-Text").is_some_and(|t| t.starts_with("+OK")), "bgapi {cmd}: {r:?}");
    }

    /// Number of events received so far (a cursor).
    pub fn mark(&self) -> usize {
        self.shared.0.lock().unwrap_or_else(|e| e.into_inner()).events.len()
    }

    pub fn events_since(&self, from: usize, f: impl Fn(&Event) -> bool) -> Vec<Event> {
        let g = self.shared.0.lock().unwrap_or_else(|e| e.into_inner());
        g.events[from.min(g.events.len())..].iter().filter(|m| f(m)).cloned().collect()
    }

    /// Wait until `n` events after `from` match `f`; returns them.
    pub fn wait_n(&self, from: usize, n: usize, timeout: Duration, f: impl Fn(&Event) -> bool) -> Vec<Event> {
        let (lock, cv) = &*self.shared;
        let deadline = Instant::now() + timeout;
        let mut g = lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let found: Vec<Event> = g.events[from.min(g.events.len())..].iter().filter(|m| f(m)).cloned().collect();
            if found.len() >= n {
                return found;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || g.closed {
                let closed = g.closed;
                drop(g);
                panic!("waited {timeout:?} for {n} events, got {} (ESL closed: {closed}): {:#?}", found.len(), found);
            }
            g = cv.wait_timeout(g, left).unwrap_or_else(|e| e.into_inner()).0;
        }
    }
}

/// Read "Key: value" lines up to a blank line.
fn read_headers(r: &mut impl BufRead, decode: bool) -> Option<Event> {
    let mut h = Event::new();
    let mut line = String::new();
    loop {
        line.clear();
        match r.read_line(&mut line) {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
        let l = line.trim_end_matches(['\r', '\n']);
        if l.is_empty() {
            if h.is_empty() {
                continue;
            }
            return Some(h);
        }
        if let Some((k, v)) = l.split_once(':') {
            let v = v.trim_start();
            h.insert(k.to_string(), if decode { url_decode(v) } else { v.to_string() });
        }
    }
}

fn read_body(r: &mut impl BufRead, h: &Event) -> Option<String> {
    let n: usize = h.get("Content-Length").and_then(|v| v.trim().parse().ok()).unwrap_or(0);
    let mut buf = vec![0u8; n];
    r.read_exact(&mut buf).ok()?;
    Some(String::from_utf8_lossy(&buf).into_owned())
}

fn read_loop(stream: TcpStream, shared: Arc<(Mutex<Shared>, Condvar)>) {
    let mut r = BufReader::new(stream);
    while let Some(h) = read_headers(&mut r, false) {
        let Some(body) = read_body(&mut r, &h) else { break };
        let (lock, cv) = &*shared;
        let ct = h.get("Content-Type").cloned().unwrap_or_default();
        match ct.as_str() {
            "text/event-plain" => {
                let mut b = BufReader::new(body.as_bytes());
                if let Some(mut ev) = read_headers(&mut b, true) {
                    if let Some(extra) = read_body(&mut b, &ev) {
                        ev.insert("_body".into(), extra);
                    }
                    lock.lock().unwrap_or_else(|e| e.into_inner()).events.push(ev);
                }
            }
            "text/disconnect-notice" => break,
            _ => lock.lock().unwrap_or_else(|e| e.into_inner()).replies.push_back((h, body)),
        }
        cv.notify_all();
    }
    let (lock, cv) = &*shared;
    lock.lock().unwrap_or_else(|e| e.into_inner()).closed = true;
    cv.notify_all();
}

fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn field<'a>(e: &'a Event, k: &str) -> &'a str {
    e.get(k).map(String::as_str).unwrap_or("")
}
