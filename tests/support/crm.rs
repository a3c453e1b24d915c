// SPDX-License-Identifier: GPL-2.0-or-later
//! A CRM for the IVR's lookup step in the real-call suites: answers
//! `{"customer": {"tier": ...}}` on 127.0.0.1:18095 and records the request
//! lines it got.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

pub const ADDR: &str = "127.0.0.1:18095";

pub struct Crm {
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl Crm {
    /// Answer `n` requests with `tier`, then stop listening.
    pub fn serve(tier: &str, n: usize) -> Crm {
        let listener = TcpListener::bind(ADDR).expect("bind the CRM port");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let body = format!("{{\"customer\": {{\"tier\": \"{tier}\"}}}}");
        std::thread::spawn(move || {
            for stream in listener.incoming().take(n) {
                let Ok(mut s) = stream else { continue };
                let mut buf = [0u8; 4096];
                let got = s.read(&mut buf).unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..got]).lines().next().unwrap_or("").to_string();
                seen.lock().unwrap().push(req);
                let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
            }
        });
        Crm { requests }
    }
}
