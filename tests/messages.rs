// SPDX-License-Identifier: GPL-2.0-or-later
//! Voice messages through the running service (no PBX): a message left is
//! filed in the list and the store (its length measured from the WAV file),
//! notified by e-mail with the recording attached, kept across a restart
//! with its heard mark; deleting or discarding removes the file; a message's
//! callback task is in line and survives the restart.

#[path = "support/smtp.rs"]
mod smtp;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hotline::core::{CallId, CallerInfo, EventKind, Input};
use hotline::service::Service;

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn setup(smtp_port: u16) -> (Dir, PathBuf) {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!("hotline-messages-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let cfg = dir.join("hotline.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"
[store]
path = "{db}"

[mail]
server = "127.0.0.1"
port = {smtp_port}
from = "Hotline <vm@example.com>"
retry_seconds = 0.05

[[queue]]
name = "sales"
callback_contact = "Local/{{number}}@out"
join_when_empty = true

[[message]]
name = "vm"
mailbox = "sales"
callback = "sales"
email = ["lead@example.com", "Boss <boss@example.com>"]
"#,
            db = dir.join("hotline.db").display()
        ),
    )
    .expect("config");
    (Dir(dir), cfg)
}

fn eventually(what: &str, mut ok: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(5);
    while !ok() {
        assert!(Instant::now() < end, "{what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A 16-bit mono WAV file of `ms` milliseconds at 8 kHz.
fn wav(path: &Path, ms: u32) {
    let data = ms * 16;
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&8000u32.to_le_bytes());
    b.extend_from_slice(&16000u32.to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data.to_le_bytes());
    b.resize(44 + data as usize, 0);
    std::fs::write(path, b).expect("write wav");
}

fn left(id: u64, file: &Path, name: &str) -> EventKind {
    EventKind::MessageLeft {
        id,
        mailbox: "sales".into(),
        step: "vm".into(),
        number: "0901234567".into(),
        name: name.into(),
        callback: Some("sales".into()),
        file: file.display().to_string(),
        // The PBX's own figure; the sink measures the file.
        ms: 9_000,
        data: vec![("account".into(), "A-17".into())],
        identity: Vec::new(),
    }
}

#[test]
fn a_message_is_filed_mailed_kept_across_a_restart_and_deleted_with_its_file() {
    let sink = smtp::Sink::start(smtp::Options::default());
    let (dir, cfg) = setup(sink.port);
    let boxdir = dir.0.join("hotline-messages/sales");
    let file = boxdir.join("1-500.wav");
    let short = boxdir.join("2-501.wav");
    {
        let s = Service::start(cfg.clone()).expect("start");
        assert!(boxdir.is_dir(), "the mailbox directory is made at load");
        wav(&file, 2_500);
        // A hostile caller name: CR/LF must not make a header.
        s.router.send(Input::Publish(left(500, &file, "Eve\r\nBcc: evil@example.org"))).expect("send");
        let caller = CallerInfo { number: "0901234567".into(), ..Default::default() };
        s.router.send(Input::CallbackNew { call: CallId(500), queue: "sales".into(), caller, number: "0901234567".into() }).expect("send");
        wav(&short, 300);
        s.router.send(Input::Publish(EventKind::MessageDiscarded { mailbox: "sales".into(), file: short.display().to_string(), ms: 300 })).expect("send");

        let mails = sink.wait_for(1, Duration::from_secs(10));
        let m = &mails[0];
        let mut to = m.to.clone();
        to.sort();
        assert_eq!(to, ["boss@example.com", "lead@example.com"]);
        let headers = m.data.split("\r\n\r\n").next().unwrap_or("");
        assert!(!headers.lines().any(|l| l.to_ascii_lowercase().starts_with("bcc:")), "no injected header: {headers}");
        assert!(!m.to.iter().any(|t| t.contains("evil")), "no injected recipient: {:?}", m.to);
        assert!(m.data.contains("sales") && m.data.contains("0901234567"), "{}", m.data);
        assert!(m.data.contains("account: A-17"), "the call's data is in the body: {}", m.data);
        assert!(m.data.contains("audio/wav") && m.data.contains("1-500.wav"), "the recording is attached");

        eventually("the message is listed with its measured length", || s.messages.list("sales").first().is_some_and(|r| r.ms == 2_500));
        eventually("the discarded recording is removed", || !short.exists());
        eventually("the store has the message and the callback", || {
            let store = s.store.as_ref().expect("store");
            let snap = store.flush(Duration::from_secs(1)).then(|| store.snapshot().expect("snapshot"));
            snap.is_some_and(|sn| sn.messages.len() == 1 && sn.callbacks.iter().any(|c| c.id == 500 && c.queue == "sales"))
        });
        s.router.send(Input::Publish(EventKind::MessageHeard { id: 500, mailbox: "sales".into(), by: "1001".into() })).expect("send");
        eventually("heard", || s.messages.get(500).is_some_and(|r| r.heard_by.as_deref() == Some("1001")));
        s.stop();
    }
    let s = Service::start(cfg).expect("restart");
    let kept = s.messages.list("sales");
    assert_eq!(kept.len(), 1, "the message is back after the restart");
    assert_eq!((kept[0].id, kept[0].ms, kept[0].heard_by.as_deref()), (500, 2_500, Some("1001")));
    assert_eq!(kept[0].data, serde_json::json!({"account": "A-17"}));
    // New ids never reuse the message's.
    assert!(s.router.new_call_id().0 > 500);
    s.router.send(Input::Publish(EventKind::MessageDeleted { id: 500, mailbox: "sales".into(), by: "1001".into() })).expect("send");
    eventually("deleted: the file goes", || !file.exists() && s.messages.list("sales").is_empty());
    let store = s.store.as_ref().expect("store");
    assert!(store.flush(Duration::from_secs(2)));
    assert!(store.snapshot().expect("snapshot").messages.is_empty(), "and so does the row");
    s.stop();
}

#[test]
fn a_message_step_with_email_needs_a_mail_server() {
    let text = "[[queue]]\nname = \"q\"\n\n[[message]]\nname = \"vm\"\nemail = [\"a@example.com\"]\n";
    let e = hotline::core::Config::parse(text, "vm.toml").expect_err("no [mail]");
    assert_eq!((e.line, e.key.as_str()), (4, "message[vm].email"), "{e}");
    let bad = "[[queue]]\nname = \"q\"\n[mail]\nserver = \"127.0.0.1\"\nfrom = \"a@example.com\"\n[[message]]\nname = \"vm\"\nemail = [\"not an address\"]\n";
    let e = hotline::core::Config::parse(bad, "vm.toml").expect_err("bad address");
    assert_eq!((e.line, e.key.as_str()), (8, "message[vm].email"), "{e}");
    let bad = "[[queue]]\nname = \"q\"\n[[message]]\nname = \"vm\"\ncallback = \"nosuch\"\n";
    let e = hotline::core::Config::parse(bad, "vm.toml").expect_err("unknown queue");
    assert_eq!((e.line, e.key.as_str()), (5, "message[vm].callback"), "{e}");
    let bad = "[[queue]]\nname = \"q\"\n[[message]]\nname = \"vm\"\nmax_seconds = 5\nmin_seconds = 5\n";
    let e = hotline::core::Config::parse(bad, "vm.toml").expect_err("min >= max");
    assert_eq!((e.line, e.key.as_str()), (6, "message[vm].min_seconds"), "{e}");
}
