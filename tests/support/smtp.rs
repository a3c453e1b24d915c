// SPDX-License-Identifier: GPL-2.0-or-later
//! A minimal SMTP sink for the mail tests: listens on 127.0.0.1 (a free
//! port), one thread per connection, speaks enough SMTP for a client
//! (greeting, EHLO/HELO, MAIL FROM, RCPT TO, DATA, RSET, NOOP, QUIT) and
//! records each message's envelope and raw data. It can refuse recipients
//! (550) and answer 451 to the first MAIL FROM or DATA commands.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One message as received.
#[derive(Debug, Clone)]
pub struct Received {
    /// The envelope sender (MAIL FROM, without the brackets).
    pub from: String,
    /// The envelope recipients accepted (RCPT TO).
    pub to: Vec<String>,
    /// Headers and body, CRLF line ends, dot-stuffing undone.
    pub data: String,
}

/// How the sink misbehaves.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Recipients answered `550 no such user`.
    pub refuse: Vec<String>,
    /// Answer `451` to this many MAIL FROM commands first (`usize::MAX`: always).
    pub fail_mail: usize,
    /// Answer `451` to this many DATA commands first.
    pub fail_data: usize,
}

struct State {
    opts: Options,
    messages: Mutex<Vec<Received>>,
    /// MAIL FROM commands seen (attempts to send).
    mail_commands: AtomicUsize,
    data_commands: AtomicUsize,
    connections: AtomicUsize,
}

pub struct Sink {
    pub port: u16,
    state: Arc<State>,
}

impl Sink {
    pub fn start(opts: Options) -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the SMTP sink");
        let port = listener.local_addr().expect("local address").port();
        let state = Arc::new(State {
            opts,
            messages: Mutex::new(Vec::new()),
            mail_commands: AtomicUsize::new(0),
            data_commands: AtomicUsize::new(0),
            connections: AtomicUsize::new(0),
        });
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                shared.connections.fetch_add(1, Ordering::SeqCst);
                let st = shared.clone();
                std::thread::spawn(move || {
                    let _ = session(stream, &st);
                });
            }
        });
        Sink { port, state }
    }

    pub fn messages(&self) -> Vec<Received> {
        self.state.messages.lock().unwrap().clone()
    }

    pub fn mail_commands(&self) -> usize {
        self.state.mail_commands.load(Ordering::SeqCst)
    }

    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// Wait until `n` messages arrived (or `within` passed): the messages.
    pub fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let end = Instant::now() + within;
        loop {
            let m = self.messages();
            if m.len() >= n || Instant::now() >= end {
                return m;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// A port on 127.0.0.1 where nothing listens.
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("address").port()
}

/// A listener that accepts connections and never says a word: the port.
pub fn silent() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    port
}

fn bracketed(arg: &str) -> String {
    match (arg.find('<'), arg.find('>')) {
        (Some(a), Some(b)) if a < b => arg[a + 1..b].to_string(),
        _ => arg.trim().to_string(),
    }
}

fn session(stream: TcpStream, st: &State) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut out = stream.try_clone()?;
    let mut input = BufReader::new(stream);
    out.write_all(b"220 sink.test ESMTP ready\r\n")?;
    let mut from: Option<String> = None;
    let mut to: Vec<String> = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end_matches(['\r', '\n']);
        let upper = cmd.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            from = None;
            to.clear();
            "250-sink.test\r\n250-8BITMIME\r\n250 SIZE 10000000\r\n".into()
        } else if upper.starts_with("HELO") {
            "250 sink.test\r\n".into()
        } else if upper.starts_with("MAIL FROM:") {
            let n = st.mail_commands.fetch_add(1, Ordering::SeqCst);
            if n < st.opts.fail_mail {
                "451 try again later\r\n".into()
            } else {
                from = Some(bracketed(&cmd[10..]));
                to.clear();
                "250 ok\r\n".into()
            }
        } else if upper.starts_with("RCPT TO:") {
            let rcpt = bracketed(&cmd[8..]);
            if from.is_none() {
                "503 need MAIL first\r\n".into()
            } else if st.opts.refuse.iter().any(|r| r.eq_ignore_ascii_case(&rcpt)) {
                format!("550 no such user <{rcpt}>\r\n")
            } else {
                to.push(rcpt);
                "250 ok\r\n".into()
            }
        } else if upper == "DATA" {
            let n = st.data_commands.fetch_add(1, Ordering::SeqCst);
            if from.is_none() || to.is_empty() {
                "503 need MAIL and RCPT first\r\n".into()
            } else if n < st.opts.fail_data {
                "451 try again later\r\n".into()
            } else {
                out.write_all(b"354 end with <CRLF>.<CRLF>\r\n")?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if input.read_line(&mut line)? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    let l = line.strip_prefix('.').unwrap_or(&line);
                    data.push_str(l);
                }
                let msg = Received { from: from.take().unwrap_or_default(), to: std::mem::take(&mut to), data };
                st.messages.lock().unwrap().push(msg);
                "250 queued\r\n".into()
            }
        } else if upper == "RSET" {
            from = None;
            to.clear();
            "250 ok\r\n".into()
        } else if upper == "NOOP" {
            "250 ok\r\n".into()
        } else if upper == "QUIT" {
            out.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else {
            "502 command not implemented\r\n".into()
        };
        out.write_all(reply.as_bytes())?;
    }
}
