// SPDX-License-Identifier: GPL-2.0-or-later
//! E-mail notice of voicemail (`hotline::notify`) against a local SMTP
//! sink: what arrives, header injection, a dead server, and the mailer's
//! retries, give-ups and stop.

#[path = "support/smtp.rs"]
mod smtp;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use hotline::notify::{fill, send, Mail, MailConfig, MailCounters, MailTls, Mailer};
use smtp::{Options, Sink};

fn cfg(port: u16) -> MailConfig {
    MailConfig {
        server: "127.0.0.1".into(),
        port,
        tls: MailTls::None,
        from: "Hotline <vm@example.com>".into(),
        username: None,
        password: None,
        timeout: Duration::from_secs(2),
        retries: 3,
        retry_first: Duration::from_millis(50),
        subject: MailConfig::DEFAULT_SUBJECT.into(),
        attach: true,
    }
}

fn mail(to: &[&str]) -> Mail {
    Mail { to: to.iter().map(|s| s.to_string()).collect(), subject: "Voice message".into(), body: "A caller left a message.".into(), attachment: None }
}

/// A file in a temporary directory of this test process.
fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hotline-mail-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write temp file");
    path
}

/// Headers of a raw message, unfolded: (name, value) in order.
fn headers(raw: &str) -> Vec<(String, String)> {
    let head = raw.split("\r\n\r\n").next().unwrap_or("");
    let mut out: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push_str(line);
            }
        } else if let Some((k, v)) = line.split_once(':') {
            out.push((k.to_string(), v.trim().to_string()));
        }
    }
    out
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a' + 26) as u32,
            b'0'..=b'9' => (c - b'0' + 52) as u32,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c:?}"),
        }
    };
    let clean: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let mut out = Vec::new();
    for chunk in clean.chunks(4) {
        let pad = chunk.iter().filter(|&&b| b == b'=').count();
        let mut n = 0u32;
        for (i, &b) in chunk.iter().enumerate() {
            n |= if b == b'=' { 0 } else { value(b) } << (18 - 6 * i);
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    out
}

/// The MIME parts of a multipart message: (headers, body).
fn parts(raw: &str) -> Vec<(Vec<(String, String)>, String)> {
    let h = headers(raw);
    let ct = header(&h, "Content-Type").expect("content type");
    let boundary = ct.split("boundary=").nth(1).expect("a multipart message").trim_matches('"').to_string();
    let delimiter = format!("--{boundary}");
    raw.split(&delimiter)
        .skip(1)
        .filter(|p| !p.starts_with("--"))
        .map(|p| {
            let p = p.trim_start_matches("\r\n");
            let (head, body) = p.split_once("\r\n\r\n").expect("part headers");
            (headers(&format!("{head}\r\n\r\n")), body.trim_end().to_string())
        })
        .collect()
}

fn wait_counters(m: &Mailer, what: &str, within: Duration, done: impl Fn(&MailCounters) -> bool) -> MailCounters {
    let end = Instant::now() + within;
    loop {
        let c = m.counters();
        if done(&c) {
            return c;
        }
        assert!(Instant::now() < end, "{what}: counters {c:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_mail_with_its_recording_arrives() {
    let sink = Sink::start(Options::default());
    let wav: Vec<u8> = b"RIFF\x24\x00\x00\x00WAVEfmt ".iter().copied().chain((0..=255u8).cycle().take(3000)).collect();
    let path = temp_file("msg0001.wav", &wav);
    let m = Mail {
        to: vec!["support@example.com".into(), "Boss <boss@example.org>".into()],
        subject: fill(MailConfig::DEFAULT_SUBJECT, &[("caller", "0912345678"), ("mailbox", "100")]),
        body: "A caller left a 12 second message.".into(),
        attachment: Some(path),
    };
    send(&cfg(sink.port), &m).expect("sent");
    let got = sink.wait_for(1, Duration::from_secs(5));
    assert_eq!(got.len(), 1);
    let msg = &got[0];
    assert_eq!(msg.from, "vm@example.com");
    assert_eq!(msg.to, ["support@example.com", "boss@example.org"]);
    let h = headers(&msg.data);
    assert_eq!(header(&h, "From"), Some("Hotline <vm@example.com>"));
    let to = header(&h, "To").expect("To");
    assert!(to.contains("support@example.com") && to.contains("<boss@example.org>"), "{to}");
    assert_eq!(header(&h, "Subject"), Some("Voice message from 0912345678 (100)"));
    let ps = parts(&msg.data);
    assert_eq!(ps.len(), 2, "{}", msg.data);
    assert!(header(&ps[0].0, "Content-Type").expect("text type").starts_with("text/plain"));
    assert!(ps[0].1.contains("12 second message"), "{}", ps[0].1);
    let (wh, wb) = &ps[1];
    assert_eq!(header(wh, "Content-Type"), Some("audio/wav"));
    assert_eq!(header(wh, "Content-Transfer-Encoding"), Some("base64"));
    assert!(header(wh, "Content-Disposition").expect("disposition").contains("msg0001.wav"));
    assert_eq!(base64_decode(wb), wav);
}

#[test]
fn a_missing_recording_is_noted_in_the_body() {
    let sink = Sink::start(Options::default());
    let mut m = mail(&["support@example.com"]);
    m.attachment = Some(std::env::temp_dir().join("hotline-no-such-dir/gone.wav"));
    send(&cfg(sink.port), &m).expect("sent without the attachment");
    let got = sink.wait_for(1, Duration::from_secs(5));
    let data = &got[0].data;
    assert!(!data.contains("audio/wav"), "{data}");
    assert!(!data.contains("multipart"), "{data}");
    assert!(data.contains("A caller left a message.") && data.contains("gone.wav could not be attached"), "{data}");
}

#[test]
fn a_hostile_caller_name_adds_no_header() {
    let sink = Sink::start(Options::default());
    let mut m = mail(&["support@example.com"]);
    m.subject = fill(MailConfig::DEFAULT_SUBJECT, &[("caller", "Mallory\r\nBcc: evil@x"), ("mailbox", "100\nX-Evil: 1")]);
    assert!(!m.subject.contains(['\r', '\n']), "{:?}", m.subject);
    send(&cfg(sink.port), &m).expect("sent");
    // A subject that bypassed `fill` is cleaned by `send` too.
    let mut raw = mail(&["support@example.com"]);
    raw.subject = "Hi\r\nBcc: evil@x".into();
    send(&cfg(sink.port), &raw).expect("sent");
    let got = sink.wait_for(2, Duration::from_secs(5));
    assert_eq!(got.len(), 2);
    for msg in &got {
        assert_eq!(msg.to, ["support@example.com"], "envelope");
        let h = headers(&msg.data);
        assert!(header(&h, "Bcc").is_none() && header(&h, "X-Evil").is_none(), "{}", msg.data);
        assert!(!msg.data.contains("\r\nBcc:"), "{}", msg.data);
    }
    assert_eq!(header(&headers(&got[0].data), "Subject"), Some("Voice message from MalloryBcc: evil@x (100X-Evil: 1)"));
    assert_eq!(header(&headers(&got[1].data), "Subject"), Some("HiBcc: evil@x"));
}

#[test]
fn a_dead_server_fails_within_the_timeout_naming_it() {
    let port = smtp::closed_port();
    let started = Instant::now();
    let e = send(&cfg(port), &mail(&["support@example.com"])).expect_err("nothing listens");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert!(e.contains(&format!("127.0.0.1:{port}")) && e.contains("connect"), "{e}");

    // A server that accepts and never answers: the timeout bounds the wait.
    let port = smtp::silent();
    let mut c = cfg(port);
    c.timeout = Duration::from_secs(1);
    let started = Instant::now();
    let e = send(&c, &mail(&["support@example.com"])).expect_err("no greeting");
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(4), "{took:?}");
    assert!(e.contains(&format!("127.0.0.1:{port}")), "{e}");
}

#[test]
fn refused_and_unparsable_recipients_are_errors() {
    let sink = Sink::start(Options { refuse: vec!["nobody@example.com".into()], ..Default::default() });
    let e = send(&cfg(sink.port), &mail(&["support@example.com", "nobody@example.com"])).expect_err("550");
    assert!(e.contains("nobody@example.com") && e.contains("550"), "{e}");
    let e = send(&cfg(sink.port), &mail(&["not an address"])).expect_err("unparsable");
    assert!(e.contains("not an address"), "{e}");
    let e = send(&cfg(sink.port), &mail(&[])).expect_err("nobody");
    assert!(e.contains("no recipients"), "{e}");
    assert!(sink.messages().is_empty());
}

#[test]
fn the_mailer_retries_a_451_then_delivers_once() {
    let sink = Sink::start(Options { fail_mail: 1, fail_data: 1, ..Default::default() });
    let mailer = Mailer::start(cfg(sink.port)).expect("start");
    assert!(mailer.queue(mail(&["support@example.com"])));
    let c = wait_counters(&mailer, "one sent", Duration::from_secs(10), |c| c.sent == 1);
    assert_eq!((c.sent, c.failed, c.retried, c.dropped, c.queued), (1, 0, 2, 0, 1));
    assert_eq!(sink.wait_for(1, Duration::from_secs(1)).len(), 1);
    mailer.stop(Duration::from_secs(5));
    assert_eq!(sink.messages().len(), 1, "delivered once");
    assert_eq!(sink.mail_commands(), 3, "three attempts");
}

#[test]
fn the_mailer_gives_up() {
    // A server that always answers 451: `retries` more attempts, then failed.
    let sink = Sink::start(Options { fail_mail: usize::MAX, ..Default::default() });
    let mut c = cfg(sink.port);
    c.retries = 2;
    let mailer = Mailer::start(c).expect("start");
    assert!(mailer.queue(mail(&["support@example.com"])));
    let got = wait_counters(&mailer, "given up", Duration::from_secs(10), |c| c.failed == 1);
    assert_eq!((got.sent, got.retried), (0, 2));
    assert_eq!(sink.mail_commands(), 3);
    mailer.stop(Duration::from_secs(5));

    // A permanent refusal (550) and an unparsable address: no retries.
    let sink = Sink::start(Options { refuse: vec!["nobody@example.com".into()], ..Default::default() });
    let mailer = Mailer::start(cfg(sink.port)).expect("start");
    assert!(mailer.queue(mail(&["nobody@example.com"])));
    assert!(mailer.queue(mail(&["not an address"])));
    assert!(mailer.queue(mail(&["support@example.com"])));
    let got = wait_counters(&mailer, "two failed, one sent", Duration::from_secs(10), |c| c.failed == 2 && c.sent == 1);
    assert_eq!((got.retried, got.queued), (0, 3));
    assert_eq!(sink.mail_commands(), 2, "the bad address never reached the server");
    mailer.stop(Duration::from_secs(5));
}

#[test]
fn stop_cuts_a_long_back_off_short() {
    let sink = Sink::start(Options { fail_mail: usize::MAX, ..Default::default() });
    let mut c = cfg(sink.port);
    c.retry_first = Duration::from_secs(60);
    let mailer = Mailer::start(c).expect("start");
    assert!(mailer.queue(mail(&["support@example.com"])));
    wait_counters(&mailer, "in its first back-off", Duration::from_secs(10), |c| c.retried == 1);
    assert!(mailer.queue(mail(&["later@example.com"])));
    let started = Instant::now();
    mailer.stop(Duration::from_secs(10));
    let took = started.elapsed();
    assert!(took < Duration::from_secs(2), "stop took {took:?}");
    let got = mailer.counters();
    assert_eq!((got.sent, got.failed, got.retried, got.queued), (0, 2, 1, 2), "the waiting one and the queued one failed");
    assert!(!mailer.queue(mail(&["after@example.com"])), "stopped");
    assert_eq!(mailer.counters().dropped, 1);
    assert_eq!(sink.mail_commands(), 1);
}

#[test]
fn a_full_queue_drops() {
    // The thread hangs on a silent server, so the queue fills.
    let mut c = cfg(smtp::silent());
    c.timeout = Duration::from_secs(3);
    c.retries = 0;
    let mailer = Mailer::start(c).expect("start");
    let mut accepted = 0;
    while mailer.queue(mail(&["support@example.com"])) {
        accepted += 1;
        assert!(accepted <= 2000, "never full");
    }
    assert!((1024..=1025).contains(&accepted), "{accepted}");
    let got = mailer.counters();
    assert_eq!((got.dropped, got.queued), (1, accepted as u64));
    mailer.stop(Duration::from_millis(100));
}
