// SPDX-License-Identifier: GPL-2.0-or-later
//! Webhooks against a real local HTTP endpoint that is up, down, slow,
//! failing or gone; events from a real bus, rows in a real store file.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::*;
use crate::core::{CallId, EndedBy, Event, EventKind};
use crate::router::bus::Bus;
use crate::router::SinkKind;

/// The suites' endpoint's request reader.
#[allow(dead_code)]
#[path = "../../../tests/support/webhook.rs"]
mod receiver;
use receiver::read_rest;

const SECRET: &str = "whsec_test_0123456789";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Ok,
    Status(u16),
    Slow(Duration),
}

/// A local endpoint: records every request (headers, body), answers per
/// its mode. `down()` closes the port; `up()` listens on it again.
struct Endpoint {
    port: u16,
    mode: Arc<Mutex<Mode>>,
    got: Arc<Mutex<Vec<(HashMap<String, String>, String)>>>,
    running: Arc<AtomicBool>,
}

impl Endpoint {
    fn new() -> Endpoint {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let e = Endpoint { port, mode: Arc::new(Mutex::new(Mode::Ok)), got: Arc::default(), running: Arc::new(AtomicBool::new(false)) };
        e.serve(l);
        e
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    fn serve(&self, l: TcpListener) {
        self.running.store(true, Ordering::SeqCst);
        let (mode, got, running) = (self.mode.clone(), self.got.clone(), self.running.clone());
        l.set_nonblocking(true).unwrap();
        std::thread::spawn(move || {
            while running.load(Ordering::SeqCst) {
                match l.accept() {
                    Ok((s, _)) => {
                        let (mode, got, running) = (mode.clone(), got.clone(), running.clone());
                        std::thread::spawn(move || connection(s, &mode, &got, &running));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
    }

    fn down(&self) {
        self.running.store(false, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(50));
    }

    fn up(&self) {
        let l = TcpListener::bind(("127.0.0.1", self.port)).expect("the port again");
        self.serve(l);
    }

    fn set(&self, m: Mode) {
        *self.mode.lock().unwrap() = m;
    }

    fn bodies(&self) -> Vec<serde_json::Value> {
        self.got.lock().unwrap().iter().map(|(_, b)| serde_json::from_str(b).expect("JSON body")).collect()
    }

    /// Wait until `n` distinct event ids arrived.
    fn wait_ids(&self, n: usize, secs: u64) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let b = self.bodies();
            let ids: HashSet<String> = b.iter().map(|v| v["id"].as_str().unwrap().to_string()).collect();
            if ids.len() >= n {
                return b;
            }
            assert!(Instant::now() < deadline, "{} of {n} events arrived in {secs} s", ids.len());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.running.store(false, Ordering::SeqCst);
    }
}

fn connection(s: TcpStream, mode: &Mutex<Mode>, got: &Mutex<Vec<(HashMap<String, String>, String)>>, running: &AtomicBool) {
    s.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    loop {
        let mut line = String::new();
        match r.read_line(&mut line) {
            Ok(0) => return,
            Ok(_) => {}
            Err(_) if running.load(Ordering::SeqCst) => continue,
            Err(_) => return,
        }
        if !running.load(Ordering::SeqCst) {
            return;
        }
        let Some((headers, body)) = read_rest(&mut r) else { return };
        let m = *mode.lock().unwrap();
        let code = match m {
            Mode::Ok => 200,
            Mode::Status(c) => c,
            Mode::Slow(d) => {
                std::thread::sleep(d);
                200
            }
        };
        if code == 200 && !matches!(m, Mode::Slow(_)) {
            got.lock().unwrap().push((headers, String::from_utf8(body).unwrap()));
        }
        let _ = w.write_all(format!("HTTP/1.1 {code} X\r\nContent-Length: 0\r\n\r\n").as_bytes());
    }
}

fn store_file(name: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let p = std::env::temp_dir().join(format!("hotline-webhook-{name}-{}-{nanos}.db", std::process::id()));
    crate::store::Store::open(&p).expect("store").close();
    p
}

fn cfg(url: &str) -> WebhookConfig {
    WebhookConfig {
        name: "crm".into(),
        url: url.into(),
        events: Kind::ALL.to_vec(),
        queues: Vec::new(),
        agents: Vec::new(),
        secrets: vec![SECRET.into()],
        timeout_ms: 300,
        concurrency: 4,
        ordered: true,
        retry_min_ms: 20,
        retry_max_ms: 200,
        dead_after_ms: 3_600_000,
    }
}

/// One call's events, entered to ended.
fn call_events(bus: &mut Bus, call: u64, name: &str) {
    let (q, a): (Arc<str>, Arc<str>) = ("support".into(), "alice".into());
    let data: Arc<[(String, String)]> = vec![("uniqueid".to_string(), format!("1764633600.{call}")), ("data_account".to_string(), "105".to_string())].into();
    let kinds = [
        EventKind::CallEntered { call: CallId(call), queue: q.clone(), number: format!("09{call:08}"), name: name.into(), priority: 0, position: 1, data: data.to_vec() },
        EventKind::CallOffered { call: CallId(call), queue: q.clone(), agent: a.clone(), data: data.clone(), popup_url: None },
        EventKind::CallAnswered { call: CallId(call), queue: q.clone(), agent: a.clone(), wait: 1200, data: data.clone(), leg: Vec::new(), popup_url: Some("https://crm.example/c?n=1".into()) },
        EventKind::CallEnded { call: CallId(call), queue: q, agent: a, talk: 30_000, wrapup: 0, by: EndedBy::Agent },
    ];
    for k in kinds {
        bus.publish(Event { time: 0, kind: k });
    }
}

fn start(bus: &mut Bus, cfgs: &[WebhookConfig], store: &std::path::Path) -> Webhooks {
    let sub = bus.subscribe("webhooks", SinkKind::Durable, 100_000);
    Webhooks::start(cfgs, store, sub).expect("webhooks")
}

fn types_of(bodies: &[serde_json::Value], call: u64) -> Vec<String> {
    let mut seen = HashSet::new();
    bodies
        .iter()
        .filter(|b| b["call"]["id"].as_str() == Some(&call.to_string()))
        .filter(|b| seen.insert(b["id"].as_str().unwrap().to_string()))
        .map(|b| b["type"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_calls_events_arrive_signed_whole_and_in_order() {
    let ep = Endpoint::new();
    let store = store_file("live");
    let mut bus = Bus::new(1000);
    let w = start(&mut bus, &[cfg(&ep.url())], &store);
    for c in 1..=20 {
        call_events(&mut bus, c, "Nguyễn Văn A");
    }
    let bodies = ep.wait_ids(60, 10);
    for c in 1..=20 {
        assert_eq!(types_of(&bodies, c), ["call.offered", "call.answered", "call.ended"], "call {c}");
    }
    let got = ep.got.lock().unwrap().clone();
    let now = crate::store::unix_ms() / 1000;
    for (h, body) in &got {
        let sig = h.get("hotline-signature").expect("signed");
        assert_eq!(sign::verify(sig, SECRET, body.as_bytes(), now, 300), Ok(()), "{sig}");
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(h.get("hotline-event-id").map(String::as_str), v["id"].as_str());
    }
    let answered = bodies.iter().find(|b| b["type"] == "call.answered").unwrap();
    assert_eq!(answered["schema"], 1);
    assert_eq!(answered["call"]["caller"]["name"], "Nguyễn Văn A");
    assert_eq!(answered["call"]["data"]["account"], "105");
    assert!(answered["call"]["pbx"]["uniqueid"].as_str().is_some_and(|u| u.starts_with("1764633600.")), "{answered}");
    assert!(answered["call"]["data"].get("uniqueid").is_none(), "identity is not data");
    assert_eq!((answered["call"]["agent"].as_str(), answered["call"]["wait_ms"].as_u64()), (Some("alice"), Some(1200)));
    let ended = bodies.iter().find(|b| b["type"] == "call.ended").unwrap();
    assert_eq!((ended["call"]["talk_ms"].as_u64(), ended["call"]["ended_by"].as_str()), (Some(30_000), Some("agent")));
    // Delivered rows leave the outbox.
    let deadline = Instant::now() + Duration::from_secs(5);
    while w.show()[0].pending > 0 {
        assert!(Instant::now() < deadline, "{:?}", w.show());
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(w.show()[0].sent, 60);
    drop(bus);
    w.stop();
}

#[test]
fn a_down_slow_then_failing_endpoint_gets_every_event_once_it_is_back() {
    let ep = Endpoint::new();
    ep.down();
    let store = store_file("faults");
    let mut bus = Bus::new(1000);
    let w = start(&mut bus, &[cfg(&ep.url())], &store);
    for c in 1..=10 {
        call_events(&mut bus, c, "A");
    }
    std::thread::sleep(Duration::from_millis(400));
    let v = &w.show()[0];
    assert!(v.failed >= 1 && v.pending == 30, "down: {v:?}");
    ep.up();
    ep.set(Mode::Slow(Duration::from_millis(600)));
    for c in 11..=20 {
        call_events(&mut bus, c, "B");
    }
    std::thread::sleep(Duration::from_millis(800));
    ep.set(Mode::Status(500));
    std::thread::sleep(Duration::from_millis(400));
    assert!(ep.bodies().is_empty(), "nothing accepted yet");
    let t_back = Instant::now();
    ep.set(Mode::Ok);
    let bodies = ep.wait_ids(60, 10);
    // Back-off is capped at 200 ms: the backlog goes out at once after the probe.
    assert!(t_back.elapsed() < Duration::from_secs(3), "drained in {:?}", t_back.elapsed());
    for c in 1..=20 {
        assert_eq!(types_of(&bodies, c), ["call.offered", "call.answered", "call.ended"], "call {c}");
    }
    // At least once: with dedupe by id, exactly once.
    let ids: HashSet<&str> = bodies.iter().map(|b| b["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 60);
    drop(bus);
    w.stop();
}

#[test]
fn the_outbox_outlives_a_restart() {
    let ep = Endpoint::new();
    ep.down();
    let store = store_file("restart");
    {
        let mut bus = Bus::new(1000);
        let w = start(&mut bus, &[cfg(&ep.url())], &store);
        for c in 1..=5 {
            call_events(&mut bus, c, "A");
        }
        drop(bus);
        w.stop();
        assert_eq!(w.show()[0].pending, 15);
    }
    ep.up();
    let mut bus = Bus::new(5000);
    let w = start(&mut bus, &[cfg(&ep.url())], &store);
    let bodies = ep.wait_ids(15, 10);
    for c in 1..=5 {
        assert_eq!(types_of(&bodies, c), ["call.offered", "call.answered", "call.ended"]);
    }
    drop(bus);
    w.stop();
}

#[test]
fn gone_disables_the_endpoint_until_retried_and_old_failures_go_to_the_dead_letters() {
    let ep = Endpoint::new();
    ep.set(Mode::Status(410));
    let store = store_file("gone");
    let mut bus = Bus::new(1000);
    let mut c = cfg(&ep.url());
    c.dead_after_ms = 300;
    let w = start(&mut bus, &[c], &store);
    call_events(&mut bus, 1, "A");
    let deadline = Instant::now() + Duration::from_secs(5);
    while w.show()[0].state != "disabled (410 Gone)" {
        assert!(Instant::now() < deadline, "{:?}", w.show());
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(w.show()[0].pending, 3, "kept");
    // Failing (not gone) for longer than dead_after: dead letters.
    ep.set(Mode::Status(503));
    assert_eq!(w.retry(Some("crm")), Ok(0));
    let deadline = Instant::now() + Duration::from_secs(5);
    while w.show()[0].dead < 3 {
        assert!(Instant::now() < deadline, "{:?}", w.show());
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(w.show()[0].pending, 0);
    assert!(w.show()[0].last_error.as_deref().is_some_and(|e| e.contains("503")), "{:?}", w.show());
    // Retried when the endpoint is back: delivered.
    ep.set(Mode::Ok);
    assert_eq!(w.retry(None), Ok(3));
    let bodies = ep.wait_ids(3, 5);
    assert_eq!(types_of(&bodies, 1), ["call.offered", "call.answered", "call.ended"]);
    assert_eq!(w.purge(None), Ok(0));
    assert!(w.retry(Some("nope")).is_err());
    drop(bus);
    w.stop();
}

#[test]
fn hostile_caller_names_stay_inside_the_json() {
    let ep = Endpoint::new();
    let store = store_file("hostile");
    let mut bus = Bus::new(1000);
    let w = start(&mut bus, &[cfg(&ep.url())], &store);
    let names = ["\"quoted\", {\"x\":1}", "line\r\nHotline-Signature: forged", "nul\0byte", "中文 Tiếng Việt 🙂", &"x".repeat(10 * 1024)];
    for (i, n) in names.iter().enumerate() {
        call_events(&mut bus, 100 + i as u64, n);
    }
    let bodies = ep.wait_ids(3 * names.len(), 10);
    for (i, n) in names.iter().enumerate() {
        let b = bodies.iter().find(|b| b["call"]["id"] == (100 + i).to_string() && b["type"] == "call.answered").unwrap();
        assert_eq!(b["call"]["caller"]["name"].as_str(), Some(*n));
    }
    // One signature header each: the name's CR LF made no header.
    for (h, _) in ep.got.lock().unwrap().iter() {
        assert!(!h.get("hotline-signature").unwrap().contains("forged"));
    }
    drop(bus);
    w.stop();
}

#[test]
fn filters_pick_events_queues_and_agents_and_a_screen_pop_goes_where_named() {
    let (a, b) = (Endpoint::new(), Endpoint::new());
    let store = store_file("filters");
    let mut bus = Bus::new(1000);
    let mut only_ended = cfg(&a.url());
    only_ended.name = "ended".into();
    only_ended.events = vec![Kind::Ended, Kind::ScreenPop];
    let mut other_queue = cfg(&b.url());
    other_queue.name = "sales".into();
    other_queue.queues = vec!["sales".into()];
    other_queue.events = vec![Kind::Offered, Kind::Answered, Kind::Ended];
    let w = start(&mut bus, &[only_ended, other_queue], &store);
    call_events(&mut bus, 1, "A");
    let pop = |endpoint: &str| EventKind::ScreenPop {
        endpoint: endpoint.into(),
        call: None,
        number: "0900".into(),
        name: "Pop".into(),
        data: vec![("data_account".into(), "7".into())],
        fields: vec![("ticket".into(), "T-9".into())],
        identity: vec![("uniqueid".into(), "1.2".into())],
    };
    bus.publish(Event { time: 0, kind: pop("ended") });
    bus.publish(Event { time: 0, kind: pop("sales") });
    let got = a.wait_ids(2, 5);
    let types: Vec<&str> = got.iter().map(|b| b["type"].as_str().unwrap()).collect();
    assert!(types.contains(&"call.ended") && types.contains(&"call.screenpop"), "{types:?}");
    let pop = got.iter().find(|b| b["type"] == "call.screenpop").unwrap();
    assert_eq!(pop["fields"]["ticket"], "T-9");
    assert_eq!((pop["call"]["data"]["account"].as_str(), pop["call"]["pbx"]["uniqueid"].as_str(), pop["endpoint"].as_str()), (Some("7"), Some("1.2"), Some("ended")));
    std::thread::sleep(Duration::from_millis(200));
    assert!(b.bodies().is_empty(), "support's events do not go to the sales endpoint, nor a pop that sales does not take");
    drop(bus);
    w.stop();
}
