//! A webhook endpoint for the real-PBX suites: an HTTP/1.1 server on
//! 127.0.0.1 that records every POST (headers, body) and answers 200.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub type Request = (HashMap<String, String>, String);

/// The secret of the test configurations' `crm` webhook.
pub const SECRET: &str = "whsec_hotline_test_0123456789";

/// The distinct event types the receiver got for call `id`, in order.
pub fn types(got: &[(HashMap<String, String>, serde_json::Value)], id: &str) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    got.iter()
        .filter(|(_, b)| b["call"]["id"].as_str() == Some(id))
        .filter(|(_, b)| seen.insert(b["id"].as_str().unwrap_or("").to_string()))
        .map(|(_, b)| b["type"].as_str().unwrap_or("").to_string())
        .collect()
}

pub struct Receiver {
    got: Arc<Mutex<Vec<Request>>>,
    running: Arc<AtomicBool>,
    /// Open connections, shut down with the receiver (else a kept-alive
    /// connection would go on answering for a receiver that is gone).
    conns: Arc<Mutex<Vec<TcpStream>>>,
}

impl Receiver {
    /// Listen on `port` (the test configuration's webhook URL).
    pub fn start(port: u16) -> Receiver {
        let l = TcpListener::bind(("127.0.0.1", port)).unwrap_or_else(|e| panic!("webhook receiver on {port}: {e}"));
        l.set_nonblocking(true).expect("nonblocking");
        let r = Receiver { got: Arc::default(), running: Arc::new(AtomicBool::new(true)), conns: Arc::default() };
        let (got, running, conns) = (r.got.clone(), r.running.clone(), r.conns.clone());
        std::thread::spawn(move || {
            while running.load(Ordering::SeqCst) {
                match l.accept() {
                    Ok((s, _)) => {
                        if let Ok(c) = s.try_clone() {
                            conns.lock().unwrap().push(c);
                        }
                        let (got, running) = (got.clone(), running.clone());
                        std::thread::spawn(move || serve(s, &got, &running));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        r
    }

    /// Wait until `f` holds for what arrived (JSON bodies with headers).
    pub fn wait<T>(&self, secs: u64, what: &str, f: impl Fn(&[(HashMap<String, String>, serde_json::Value)]) -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let got: Vec<(HashMap<String, String>, serde_json::Value)> =
                self.got.lock().unwrap().iter().map(|(h, b)| (h.clone(), serde_json::from_str(b).unwrap_or(serde_json::Value::Null))).collect();
            if let Some(t) = f(&got) {
                return t;
            }
            assert!(Instant::now() < deadline, "webhooks: {what} not in {secs} s; got {:?}", got.iter().map(|(_, b)| b["type"].to_string()).collect::<Vec<_>>());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Every request so far, raw.
    pub fn raw(&self) -> Vec<Request> {
        self.got.lock().unwrap().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.running.store(false, Ordering::SeqCst);
        for c in self.conns.lock().unwrap().drain(..) {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
    }
}

fn serve(s: TcpStream, got: &Mutex<Vec<Request>>, running: &AtomicBool) {
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let mut w = match s.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut r = BufReader::new(s);
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let Some((headers, body)) = read_rest(&mut r) else { return };
        if !running.load(Ordering::SeqCst) {
            return;
        }
        got.lock().unwrap().push((headers, String::from_utf8_lossy(&body).into_owned()));
        if w.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").is_err() {
            return;
        }
    }
}

/// After a request line: the headers (names in lower case) and the body
/// (`Content-Length` bytes); None when the connection ends first.
pub fn read_rest(r: &mut impl BufRead) -> Option<(HashMap<String, String>, Vec<u8>)> {
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).unwrap_or(0) == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len: usize = headers.get("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).ok()?;
    Some((headers, body))
}
