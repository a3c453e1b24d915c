// SPDX-License-Identifier: GPL-2.0-or-later
//! Webhooks at the bus (issue 13): a synthetic generator publishes events
//! through the router at a steady rate (exponential gaps, ~`--rate` per
//! second), the webhook sink writes them to the outbox in the store's
//! SQLite file (a temp dir) and the endpoint's dispatcher POSTs them, signed,
//! to a local HTTP endpoint that records when each arrived.
//!
//! ```text
//! cargo bench --bench webhooks [-- --rate 1000 --seconds 10 --down 60 --runs 3]
//! ```
//!
//! Per run, two phases:
//! - **live**: `--seconds` of events to an endpoint that answers at once:
//!   event to delivery p50 / p99 / max (publish on the generator to the
//!   endpoint reading the request), and the events delivered per second;
//! - **backlog**: the endpoint is down (its port closed) for `--down`
//!   seconds while events keep coming (they pile up in the outbox), then it
//!   is back and the generator stops: the time the backlog takes to arrive,
//!   as events per second, and whether every event arrived (each id once,
//!   counting repeats).
//!
//! Endpoint settings: concurrency 4, ordered, timeout 2 s, back-off 100 ms
//! doubling to 1 s. Runs one after another; each a fresh store and router.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hotline::core::event::EventKind;
use hotline::core::{Config, Input};
use hotline::notify::webhook::Webhooks;
use hotline::router::{Router, RouterOptions, SinkKind};
use hotline::sim::Rng;

// The suites' endpoint's request reader.
#[allow(dead_code)]
#[path = "../tests/support/webhook.rs"]
mod webhook;

struct Opts {
    rate: f64,
    seconds: u64,
    down: u64,
    runs: usize,
}

fn opts() -> Opts {
    let mut o = Opts { rate: 1000.0, seconds: 10, down: 60, runs: 3 };
    let args: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < args.len() {
        let v = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--rate" => o.rate = v.parse().expect("--rate"),
            "--seconds" => o.seconds = v.parse().expect("--seconds"),
            "--down" => o.down = v.parse().expect("--down"),
            "--runs" => o.runs = v.parse().expect("--runs"),
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    o
}

/// The endpoint: seq -> arrival times (a repeat arrives twice).
struct Endpoint {
    port: u16,
    up: Arc<AtomicBool>,
    got: Arc<Mutex<HashMap<u64, Vec<Instant>>>>,
}

impl Endpoint {
    fn start() -> Endpoint {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().unwrap().port();
        let e = Endpoint { port, up: Arc::new(AtomicBool::new(true)), got: Arc::default() };
        let (up, got) = (e.up.clone(), e.got.clone());
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                let (up, got) = (up.clone(), got.clone());
                std::thread::spawn(move || serve(s, &up, &got));
            }
        });
        e
    }

    fn count(&self) -> (usize, usize) {
        let g = self.got.lock().unwrap();
        (g.len(), g.values().map(Vec::len).sum())
    }
}

fn serve(s: TcpStream, up: &AtomicBool, got: &Mutex<HashMap<u64, Vec<Instant>>>) {
    let _ = s.set_nodelay(true);
    let mut w = s.try_clone().expect("clone");
    let mut r = BufReader::new(s);
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 || !up.load(Ordering::SeqCst) {
            // Down: the connection closes without an answer.
            return;
        }
        let Some((_, body)) = webhook::read_rest(&mut r) else { return };
        let at = Instant::now();
        if !up.load(Ordering::SeqCst) {
            return;
        }
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        if let Some(seq) = v["fields"]["seq"].as_str().and_then(|s| s.parse::<u64>().ok()) {
            got.lock().unwrap().entry(seq).or_default().push(at);
        }
        if w.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").is_err() {
            return;
        }
    }
}

fn config(store: &std::path::Path, port: u16) -> Config {
    let text = format!(
        "[store]\npath = \"{}\"\n[[queue]]\nname = \"q\"\n[[webhook]]\nname = \"bench\"\nurl = \"http://127.0.0.1:{port}/hook\"\nevents = [\"screenpop\"]\n\
secret = \"whsec_bench_0123456789\"\ntimeout_ms = 2000\nconcurrency = 4\nretry_min_ms = 100\nretry_max_ms = 1000\n",
        store.display()
    );
    Config::parse(&text, "bench.toml").expect("bench config")
}

/// Publish events `from..` at `rate` until `stop` or `until`; their
/// publish times by seq.
fn generate(router: &Router, rng: &mut Rng, rate: f64, from: u64, until: Instant, sent: &mut HashMap<u64, Instant>) -> u64 {
    let mut seq = from;
    let mut next = Instant::now();
    while next < until {
        let now = Instant::now();
        if now < next {
            std::thread::sleep(next - now);
        }
        let ev = EventKind::ScreenPop {
            endpoint: "bench".into(),
            call: None,
            number: format!("09{seq:08}"),
            name: "Bench Caller".into(),
            data: vec![("data_account".into(), "105".into())],
            fields: vec![("seq".into(), seq.to_string())],
            identity: vec![("uniqueid".into(), format!("1.{seq}"))],
        };
        sent.insert(seq, Instant::now());
        router.report(Input::Publish(ev));
        seq += 1;
        let gap = rng.exp(1.0 / rate);
        next += Duration::from_secs_f64(gap);
    }
    seq
}

fn pct(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let o = opts();
    println!("Webhooks at the bus: {} events/s, live {} s, endpoint down {} s, {} runs\n", o.rate, o.seconds, o.down, o.runs);
    println!("| run | live events | delivered/s | p50 ms | p99 ms | max ms | backlog | drain s | drained/s | all arrived | repeats |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut rows = Vec::new();
    for run in 1..=o.runs {
        let dir = std::env::temp_dir().join(format!("hotline-bench-webhooks-{}-{run}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let store = dir.join("hotline.db");
        hotline::store::Store::open(&store).expect("store").close();
        let ep = Endpoint::start();
        let cfg = std::sync::Arc::new(config(&store, ep.port));
        let router = Router::start(cfg.clone(), RouterOptions::default()).expect("router");
        let sub = router.subscribe("webhooks", SinkKind::Durable, 1 << 20).expect("subscribe");
        let hooks = Webhooks::start(&cfg.webhooks, &store, sub).expect("webhooks");
        let mut rng = Rng::new(run as u64);
        let mut sent = HashMap::new();

        // Live.
        let live_end = Instant::now() + Duration::from_secs(o.seconds);
        let t0 = Instant::now();
        let n_live = generate(&router, &mut rng, o.rate, 0, live_end, &mut sent);
        let deadline = Instant::now() + Duration::from_secs(30);
        while ep.count().0 < n_live as usize && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        let took = t0.elapsed().as_secs_f64();
        let mut lat: Vec<f64> = {
            let g = ep.got.lock().unwrap();
            (0..n_live).filter_map(|s| Some((g.get(&s)?[0] - sent[&s]).as_secs_f64() * 1e3)).collect()
        };
        lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let live_ok = lat.len();

        // Backlog.
        ep.up.store(false, Ordering::SeqCst);
        let down_end = Instant::now() + Duration::from_secs(o.down);
        let n_all = generate(&router, &mut rng, o.rate, n_live, down_end, &mut sent);
        let backlog = (n_all - n_live) as usize;
        std::thread::sleep(Duration::from_millis(200));
        let before = ep.count().0;
        ep.up.store(true, Ordering::SeqCst);
        let t1 = Instant::now();
        let deadline = t1 + Duration::from_secs(120);
        while ep.count().0 < n_all as usize && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        let drain = t1.elapsed().as_secs_f64();
        let (distinct, total) = ep.count();
        let drained = distinct - before;
        let all = distinct == n_all as usize;
        println!(
            "| {run} | {n_live} | {:.0} | {:.2} | {:.2} | {:.2} | {backlog} | {drain:.2} | {:.0} | {} | {} |",
            live_ok as f64 / took,
            pct(&lat, 0.5),
            pct(&lat, 0.99),
            lat.last().copied().unwrap_or(f64::NAN),
            drained as f64 / drain,
            if all { "yes" } else { "NO" },
            total - distinct
        );
        rows.push((pct(&lat, 0.99), drained as f64 / drain, all));
        drop(router);
        hooks.stop();
        let _ = std::fs::remove_dir_all(&dir);
    }
    let p99: Vec<f64> = rows.iter().map(|r| r.0).collect();
    let drain: Vec<f64> = rows.iter().map(|r| r.1).collect();
    let min = |v: &[f64]| v.iter().cloned().fold(f64::INFINITY, f64::min);
    let max = |v: &[f64]| v.iter().cloned().fold(0.0, f64::max);
    println!(
        "\np99 event to delivery {:.2}-{:.2} ms (target <= 50 ms); backlog drained at {:.0}-{:.0} events/s (target >= 1000); every event arrived in every run: {}",
        min(&p99),
        max(&p99),
        min(&drain),
        max(&drain),
        rows.iter().all(|r| r.2)
    );
}
