//! A small AMI client for the tests: one connection, a reader thread that
//! collects every event, and helpers to send actions and wait for events.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

pub type Message = HashMap<String, String>;

#[derive(Default)]
struct Shared {
    events: Vec<Message>,
    responses: HashMap<String, Message>,
    closed: bool,
}

pub struct Ami {
    writer: Mutex<TcpStream>,
    shared: Arc<(Mutex<Shared>, Condvar)>,
    next: AtomicU64,
}

impl Ami {
    pub fn connect(port: u16, user: &str, secret: &str) -> std::io::Result<Ami> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        let reader = stream.try_clone()?;
        let shared = Arc::new((Mutex::new(Shared::default()), Condvar::new()));
        let s2 = shared.clone();
        std::thread::spawn(move || read_loop(reader, s2));
        let ami = Ami { writer: Mutex::new(stream), shared, next: AtomicU64::new(1) };
        ami.login(user, secret)?;
        Ok(ami)
    }

    fn login(&self, user: &str, secret: &str) -> std::io::Result<()> {
        let r = self.action("Login", &[("Username", user), ("Secret", secret), ("Events", "on")]);
        if r.get("Response").map(String::as_str) != Some("Success") {
            return Err(std::io::Error::other(format!("AMI login failed: {r:?}")));
        }
        Ok(())
    }

    /// Connect again after the PBX restarted: events go on into the same
    /// list (marks stay valid).
    pub fn reconnect(&self, port: u16, user: &str, secret: &str) -> std::io::Result<()> {
        // The old connection's reader has seen the end (else it could mark
        // the new one closed).
        {
            let (lock, cv) = &*self.shared;
            let mut g = lock.lock().unwrap_or_else(|e| e.into_inner());
            let deadline = Instant::now() + Duration::from_secs(30);
            while !g.closed {
                let left = deadline.saturating_duration_since(Instant::now());
                assert!(!left.is_zero(), "the old AMI connection did not close");
                g = cv.wait_timeout(g, left).unwrap_or_else(|e| e.into_inner()).0;
            }
        }
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        let reader = stream.try_clone()?;
        *self.writer.lock().unwrap_or_else(|e| e.into_inner()) = stream;
        self.shared.0.lock().unwrap_or_else(|e| e.into_inner()).closed = false;
        let s2 = self.shared.clone();
        std::thread::spawn(move || read_loop(reader, s2));
        self.login(user, secret)
    }

    /// Send an action and wait for its response.
    pub fn action(&self, action: &str, headers: &[(&str, &str)]) -> Message {
        let id = format!("t{}", self.next.fetch_add(1, Ordering::Relaxed));
        let mut msg = format!("Action: {action}\r\nActionID: {id}\r\n");
        for (k, v) in headers {
            msg.push_str(&format!("{k}: {v}\r\n"));
        }
        msg.push_str("\r\n");
        self.writer.lock().expect("writer").write_all(msg.as_bytes()).expect("AMI write");
        let (lock, cv) = &*self.shared;
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut g = lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(r) = g.responses.remove(&id) {
                return r;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero() && !g.closed, "no AMI response to {action}");
            g = cv.wait_timeout(g, left).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// Number of events received so far (a cursor for `wait_from`).
    pub fn mark(&self) -> usize {
        self.shared.0.lock().unwrap_or_else(|e| e.into_inner()).events.len()
    }

    /// Events received since `from` that match `f`.
    pub fn events_since(&self, from: usize, f: impl Fn(&Message) -> bool) -> Vec<Message> {
        let g = self.shared.0.lock().unwrap_or_else(|e| e.into_inner());
        g.events[from.min(g.events.len())..].iter().filter(|m| f(m)).cloned().collect()
    }

    /// Wait until `n` events after `from` match `f`; returns them.
    pub fn wait_n(&self, from: usize, n: usize, timeout: Duration, f: impl Fn(&Message) -> bool) -> Vec<Message> {
        let (lock, cv) = &*self.shared;
        let deadline = Instant::now() + timeout;
        let mut g = lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let found: Vec<Message> = g.events[from.min(g.events.len())..].iter().filter(|m| f(m)).cloned().collect();
            if found.len() >= n {
                return found;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || g.closed {
                let closed = g.closed;
                drop(g);
                panic!("waited {timeout:?} for {n} events, got {} (AMI closed: {closed}): {:#?}", found.len(), found);
            }
            g = cv.wait_timeout(g, left).unwrap_or_else(|e| e.into_inner()).0;
        }
    }
}

fn read_loop(stream: TcpStream, shared: Arc<(Mutex<Shared>, Condvar)>) {
    let mut r = BufReader::new(stream);
    let mut msg = Message::new();
    let mut line = String::new();
    loop {
        line.clear();
        match r.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let l = line.trim_end_matches(['\r', '\n']);
        if l.is_empty() {
            if msg.is_empty() {
                continue;
            }
            let m = std::mem::take(&mut msg);
            let (lock, cv) = &*shared;
            let mut g = lock.lock().unwrap_or_else(|e| e.into_inner());
            if m.contains_key("Response") {
                if let Some(id) = m.get("ActionID") {
                    g.responses.insert(id.clone(), m);
                }
            } else if m.contains_key("Event") {
                g.events.push(m);
            }
            cv.notify_all();
        } else if let Some((k, v)) = l.split_once(':') {
            msg.insert(k.trim().to_string(), v.trim().to_string());
        }
    }
    let (lock, cv) = &*shared;
    lock.lock().unwrap_or_else(|e| e.into_inner()).closed = true;
    cv.notify_all();
}

/// `event(m, "HotlineCallAnswered")`
pub fn is(m: &Message, event: &str) -> bool {
    m.get("Event").map(String::as_str) == Some(event)
}

pub fn field<'a>(m: &'a Message, k: &str) -> &'a str {
    m.get(k).map(String::as_str).unwrap_or("")
}
