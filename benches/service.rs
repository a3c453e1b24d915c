// SPDX-License-Identifier: GPL-2.0-or-later
//! The whole service under synthetic load at the router (issue 11): no PBX,
//! a feeder thread plays every call's side over the router's channels.
//!
//! `cargo bench --bench service` prints one markdown row per run:
//! - `bare`: the router thread alone (no sinks);
//! - `sinks`: the service with every sink attached: the PBX event sink
//!   (counting, as AMI/ESL would fire), the store (SQLite in a temp dir),
//!   the web port's event ring, plus one best-effort sink that never reads
//!   (stalled on purpose);
//! - `sinks+api`: as `sinks`, while a client asks the web port for the
//!   agents and calls snapshots back to back (1,000 agents, 5,000 calls).
//!
//! Shape: 1,000 agents, 5,000 callers waiting at all times; every agent talks;
//! the feeder ends 100 talks at a time (random ones), answers the 100 offers
//! that follow and puts a new caller in line for each one served. Decisions
//! per second count offers made. Runs are interleaved (`bare`, `sinks`,
//! `sinks+api`, three times) so drift hits them alike; the spread is shown.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use hotline::core::{Action, CallId, CallerInfo, Config, EndedBy, Input, OfferOutcome};
use hotline::router::{CallHandle, Router, RouterOptions, SinkKind};
use hotline::service::{PbxSide, Service, Sweep};
use hotline::sim::Rng;

const AGENTS: usize = 1_000;
const WAITING: usize = 5_000;
const BATCH: usize = 100;
const RUN: Duration = Duration::from_secs(4);
const LISTEN: &str = "127.0.0.1:18199";
const TOKEN: &str = "bench-admin-token-0123456789";

fn config_text(store: &std::path::Path, web: bool) -> String {
    let mut s = format!("[store]\npath = \"{}\"\n", store.display());
    if web {
        s.push_str(&format!("[http]\nlisten = \"{LISTEN}\"\n[[http.token]]\ntoken = \"{TOKEN}\"\nrole = \"admin\"\nname = \"bench\"\n"));
    }
    s.push_str("[[queue]]\nname = \"q\"\nstrategy = \"longest-idle\"\nring_timeout_seconds = 600\nmax_no_answer = 0\n");
    for i in 0..AGENTS {
        s.push_str(&format!("[[agent]]\nname = \"a{i}\"\ncontact = \"PJSIP/{i}\"\nqueues = [\"q\"]\n"));
    }
    s
}

fn options() -> RouterOptions {
    RouterOptions { offers_to_globals: true, global_capacity: 65_536, ..Default::default() }
}

/// Plays the PBX: callers in line, agents answering and hanging up.
struct Feeder<'r> {
    router: &'r Router,
    handles: HashMap<CallId, CallHandle>,
    talking: Vec<(CallId, u32)>,
    rng: Rng,
    offers: u64,
}

impl<'r> Feeder<'r> {
    fn new(router: &'r Router) -> Feeder<'r> {
        Feeder { router, handles: HashMap::new(), talking: Vec::new(), rng: Rng::new(7), offers: 0 }
    }

    fn enter(&mut self) {
        let caller = CallerInfo { number: format!("09{}", self.rng.below(1_000_000)), ..Default::default() };
        let h = self.router.enter("q", caller).expect("enter");
        self.handles.insert(h.id, h);
    }

    /// Answer `n` offers as they come.
    fn answer(&mut self, n: usize) {
        let rx = self.router.global_actions();
        let mut got = 0;
        while got < n {
            match rx.recv_timeout(Duration::from_secs(10)).expect("an offer within 10 s") {
                Action::Offer { call, targets, seq, .. } => {
                    let agent = targets[0].agent;
                    self.router.report(Input::OfferResult { call, agent, outcome: OfferOutcome::Answered, seq });
                    self.talking.push((call, agent));
                    self.offers += 1;
                    got += 1;
                }
                _ => continue,
            }
        }
    }

    fn fill(&mut self) {
        for _ in 0..AGENTS + WAITING {
            self.enter();
        }
        self.answer(AGENTS);
    }

    /// End `BATCH` random talks, answer the offers they free, refill the line.
    fn round(&mut self) {
        for _ in 0..BATCH {
            let i = self.rng.below(self.talking.len() as u64) as usize;
            let (call, _) = self.talking.swap_remove(i);
            self.handles.remove(&call);
            self.router.report(Input::CallEnded { call, by: EndedBy::Agent });
            self.enter();
        }
        self.answer(BATCH);
    }

    /// Decisions per wall second over `RUN`, and the router thread's CPU
    /// time per decision (µs): on two cores the sinks' threads share the
    /// CPU with the router, so the wall rate alone would charge the router
    /// for their work.
    fn measure(&mut self) -> (f64, f64) {
        // Warm up, then count.
        for _ in 0..10 {
            self.round();
        }
        let (start, before, cpu) = (Instant::now(), self.offers, router_cpu_us());
        while start.elapsed() < RUN {
            self.round();
        }
        let n = (self.offers - before) as f64;
        (n / start.elapsed().as_secs_f64(), (router_cpu_us() - cpu) / n)
    }
}

/// CPU time (user + system, µs) of the thread named `hotline-router`.
fn router_cpu_us() -> f64 {
    let tick = 1e6 / 100.0; // USER_HZ
    for t in std::fs::read_dir("/proc/self/task").expect("/proc/self/task").flatten() {
        if std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim() == "hotline-router") {
            let stat = std::fs::read_to_string(t.path().join("stat")).expect("stat");
            // Fields after the ")" of the name: state is 3rd, utime 14th, stime 15th.
            let rest = &stat[stat.rfind(')').expect("stat") + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            let (u, s): (f64, f64) = (f[11].parse().expect("utime"), f[12].parse().expect("stime"));
            return (u + s) * tick;
        }
    }
    panic!("no hotline-router thread")
}

fn get(path: &str) -> (u16, usize) {
    let mut s = TcpStream::connect(LISTEN).expect("connect to the web port");
    write!(s, "GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n").expect("write");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let status = String::from_utf8_lossy(&raw[..raw.len().min(12)]).split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, raw.len())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

struct Dir(PathBuf);
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir(tag: &str) -> Dir {
    let d = std::env::temp_dir().join(format!("hotline-bench-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    Dir(d)
}

fn bare() -> (f64, f64) {
    let dir = temp_dir("bare");
    let cfg = Config::parse(&config_text(&dir.0.join("unused.db"), false), "bench.toml").expect("config");
    let router = Router::start(std::sync::Arc::new(cfg), options()).expect("router");
    let mut f = Feeder::new(&router);
    f.fill();
    let r = f.measure();
    drop(f);
    router.stop();
    r
}

struct Loaded {
    rate: f64,
    cpu: f64,
    api: Option<(f64, f64, f64, usize)>,
    stalled_dropped: u64,
    others_dropped: u64,
}

fn with_sinks(api: bool) -> Loaded {
    let dir = temp_dir(if api { "api" } else { "sinks" });
    let path = dir.0.join("hotline.toml");
    std::fs::write(&path, config_text(&dir.0.join("hotline.db"), true)).expect("config");
    let fired = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = fired.clone();
    let pbx = PbxSide {
        fire: Box::new(move |_| {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }),
        default_store: dir.0.join("hotline.db"),
        channel_alive: None,
        record_pause: None,
        sweep: Sweep::default(),
        sounds: hotline::ivr::sounds::SoundLayout::Plain,
    };
    let service = Service::start_with(path, options(), pbx).expect("service");
    let stalled = service.router.subscribe("stalled", SinkKind::BestEffort, 1_024).expect("subscribe");
    let mut f = Feeder::new(&service.router);
    f.fill();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let client = api.then(|| {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut lat = Vec::new();
            let mut bytes = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for path in ["/api/v1/agents", "/api/v1/calls"] {
                    let t = Instant::now();
                    let (status, n) = get(path);
                    lat.push(t.elapsed().as_secs_f64() * 1e3);
                    assert_eq!(status, 200, "{path}");
                    bytes = bytes.max(n);
                }
            }
            (lat, bytes)
        })
    });
    let (rate, cpu) = f.measure();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let api = client.map(|c| {
        let (mut lat, bytes) = c.join().expect("client");
        lat.sort_by(f64::total_cmp);
        (percentile(&lat, 0.5), percentile(&lat, 0.99), lat.len() as f64, bytes)
    });
    let views = match service.router.query(hotline::router::Query::Sinks, Duration::from_secs(5)).expect("sinks") {
        hotline::router::Reply::Sinks(v) => v,
        _ => Vec::new(),
    };
    if std::env::var_os("BENCH_SINKS").is_some() {
        eprintln!("{views:?}");
    }
    let stalled_dropped = views.iter().filter(|v| v.name == "stalled").map(|v| v.dropped).sum();
    let others_dropped = views.iter().filter(|v| v.name != "stalled").map(|v| v.dropped).sum();
    drop(stalled);
    drop(f);
    service.stop();
    assert!(fired.load(std::sync::atomic::Ordering::Relaxed) > 0, "the PBX sink saw events");
    Loaded { rate, cpu, api: api.map(|(p50, p99, n, b)| (p50, p99, n, b)), stalled_dropped, others_dropped }
}

fn spread(v: &[f64]) -> String {
    let (min, max) = v.iter().fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(*x), b.max(*x)));
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    format!("{mean:.0} ({min:.0}-{max:.0})")
}

fn main() {
    let (mut b, mut s, mut a) = (Vec::new(), Vec::new(), Vec::new());
    let (mut bc, mut sc, mut ac) = (Vec::new(), Vec::new(), Vec::new());
    let mut api_rows = Vec::new();
    println!("| run | bare: decisions/s, router µs/decision | sinks, one stalled | sinks + API | stalled sink dropped | others dropped | API p50 / p99 ms (requests, largest body) |");
    println!("|---|---|---|---|---|---|---|");
    let runs: usize = std::env::var("BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
    for run in 1..=runs {
        let (rb, cb) = bare();
        let rs = with_sinks(false);
        let ra = with_sinks(true);
        let (p50, p99, n, bytes) = ra.api.expect("api figures");
        println!(
            "| {run} | {rb:.0}, {cb:.1} | {:.0}, {:.1} | {:.0}, {:.1} | {} | {} | {p50:.1} / {p99:.1} ({n:.0}, {} KB) |",
            rs.rate,
            rs.cpu,
            ra.rate,
            ra.cpu,
            rs.stalled_dropped,
            rs.others_dropped + ra.others_dropped,
            bytes / 1024
        );
        b.push(rb);
        s.push(rs.rate);
        a.push(ra.rate);
        bc.push(cb);
        sc.push(rs.cpu);
        ac.push(ra.cpu);
        api_rows.push(p99);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    println!();
    println!("decisions/s: bare {} · sinks {} · sinks+api {} (mean, min-max)", spread(&b), spread(&s), spread(&a));
    println!("router µs/decision: bare {:.1} · sinks {:.1} · sinks+api {:.1}", mean(&bc), mean(&sc), mean(&ac));
    println!(
        "ratios to bare: wall rate sinks {:.2}, sinks+api {:.2}; router CPU per decision sinks {:.2}, sinks+api {:.2}; API p99 worst {:.1} ms",
        mean(&s) / mean(&b),
        mean(&a) / mean(&b),
        mean(&sc) / mean(&bc),
        mean(&ac) / mean(&bc),
        api_rows.iter().cloned().fold(0.0, f64::max)
    );
}
