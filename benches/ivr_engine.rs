// SPDX-License-Identifier: GPL-2.0-or-later
//! The IVR engine's own cost (no PBX): 10,000 simulated callers walk a
//! three-level menu with a collect step (a 12-16 digit account, Luhn) and a
//! route on the collected data into a queue, on a virtual clock. A tenth
//! press a wrong key first, a tenth say nothing at first, a twentieth give
//! up halfway. `cargo bench --bench ivr_engine` prints, over 3 runs, the
//! time per caller, per engine step (`IvrSession::next`: p50, p99, max),
//! and the session's size.

use std::sync::Arc;
use std::time::Instant;

use hotline::core::Config;
use hotline::flow::data::CallData;
use hotline::ivr::{CallerFacts, Command, Facts, Input, IvrSession};
use hotline::sim::Rng;

const CALLERS: usize = 10_000;
const RUNS: usize = 3;

const CONFIG: &str = r##"
[[queue]]
name = "support"
[[queue]]
name = "sales"
[[queue]]
name = "vip"

[ivr]
operator_queue = "support"

[[menu]]
name = "main"
greet_long = ["welcome", "main-options"]
greet_short = ["main-options"]
invalid_sound = ["invalid"]
timeout_sound = ["timeout"]
timeout_seconds = 5
max_failures = 3
max_timeouts = 3
  [[menu.entry]]
  digits = "1"
  action = "menu"
  target = "support"
  [[menu.entry]]
  digits = "2"
  action = "queue"
  target = "sales"
  [[menu.entry]]
  digits = "9"
  action = "language"
  target = "vi"

[[menu]]
name = "support"
greet_long = ["support-options"]
timeout_seconds = 5
  [[menu.entry]]
  digits = "1"
  action = "menu"
  target = "billing"
  [[menu.entry]]
  digits = "2"
  action = "queue"
  target = "support"
  [[menu.entry]]
  digits = "*"
  action = "back"

[[menu]]
name = "billing"
greet_long = ["billing-options"]
timeout_seconds = 5
  [[menu.entry]]
  digits = "1"
  action = "collect"
  target = "account"
  [[menu.entry]]
  digits = "2"
  action = "queue"
  target = "support"
  skills = "billing:5"

[[collect]]
name = "account"
prompts = ["enter-account"]
into = "account"
min_digits = 12
max_digits = 16
terminators = "#"
validate = "luhn"
max_attempts = 3
next = { action = "route", target = "by_account" }
on_failure = { action = "queue", target = "support" }

[[route]]
name = "by_account"
default = { action = "queue", target = "support", priority = 2 }
  [[route.rule]]
  data_prefix = { account = "4" }
  then = { action = "queue", target = "vip", priority = 10 }
"##;

struct NoFacts;

impl Facts for NoFacts {
    fn waiting(&self, _queue: &str) -> Option<usize> {
        Some(3)
    }
    fn idle_agents(&self, _queue: &str) -> Option<usize> {
        Some(1)
    }
}

/// A valid card number of `n` digits starting with `first` (Luhn).
fn card(rng: &mut Rng, first: u32, n: usize) -> String {
    let mut d: Vec<u32> = vec![first];
    while d.len() < n - 1 {
        d.push(rng.below(10) as u32);
    }
    let sum: u32 = d.iter().rev().enumerate().map(|(i, &x)| if i % 2 == 0 { let y = x * 2; if y > 9 { y - 9 } else { y } } else { x }).sum();
    d.push((10 - sum % 10) % 10);
    d.into_iter().map(|x| char::from_digit(x, 10).unwrap_or('0')).collect()
}

/// What one caller presses, in order (an empty string: nothing, a timeout).
fn script(rng: &mut Rng) -> Vec<String> {
    let mut keys = Vec::new();
    let r = rng.below(100);
    if r < 10 {
        keys.push("7".to_string());
    } else if r < 20 {
        keys.push(String::new());
    }
    match rng.below(4) {
        0 => keys.push("2".into()),
        1 => keys.extend(["1", "2"].map(String::from)),
        _ => {
            keys.extend(["1", "1", "1"].map(String::from));
            let first = if rng.below(2) == 0 { 4 } else { 5 };
            let len = 12 + rng.below(5) as usize;
            if rng.below(10) == 0 {
                keys.push("123456789012".into());
            }
            keys.push(card(rng, first, len));
        }
    }
    if rng.below(20) == 0 {
        keys.truncate(keys.len() / 2);
    }
    keys
}

struct Run {
    per_caller_us: f64,
    steps: usize,
    lat_ns: Vec<u64>,
    queued: usize,
}

fn run(cfg: &Config, seed: u64) -> Run {
    let mut rng = Rng::new(seed);
    let scripts: Vec<Vec<String>> = (0..CALLERS).map(|_| script(&mut rng)).collect();
    let mut lat_ns = Vec::with_capacity(CALLERS * 8);
    let mut queued = 0;
    let mut now = 1_767_582_000_000i64;
    let started = Instant::now();
    for keys in &scripts {
        let caller = CallerFacts { number: format!("09{}", rng.below(100_000_000)), language: "en".into() };
        let mut s = IvrSession::start(cfg.ivr.clone(), "main", caller, CallData::default()).expect("start");
        let mut keys = keys.iter();
        let mut input = None;
        loop {
            let t = Instant::now();
            let cmd = s.next(input.take(), now, &NoFacts);
            lat_ns.push(t.elapsed().as_nanos() as u64);
            now += 1_000;
            input = match cmd {
                Command::Play { collect: Some(_), .. } => match keys.next() {
                    Some(k) => Some(Input::Digits(k.clone())),
                    // Gave up halfway.
                    None => break,
                },
                Command::Play { collect: None, .. } => Some(Input::Played),
                Command::SetLanguage(_) | Command::Callback(_) => Some(Input::Done),
                Command::Lookup(_) => Some(Input::Looked(Err("none".into()))),
                Command::Record(_) => Some(Input::Recorded(None)),
                Command::Finish(exit) => {
                    if matches!(exit, hotline::ivr::Exit::Queue { .. }) {
                        queued += 1;
                    }
                    break;
                }
            };
        }
    }
    let took = started.elapsed();
    Run { per_caller_us: took.as_secs_f64() * 1e6 / CALLERS as f64, steps: lat_ns.len(), lat_ns, queued }
}

fn pct(v: &mut [u64], p: f64) -> u64 {
    v.sort_unstable();
    v[((v.len() as f64 - 1.0) * p) as usize]
}

fn main() {
    let cfg = Arc::new(Config::parse(CONFIG, "ivr-bench.toml").expect("bench config"));
    println!("IVR engine: {CALLERS} callers per run, 3-level menu + collect (Luhn) + route, virtual clock\n");
    println!("| run | per caller (us) | steps | step p50 (ns) | step p99 (ns) | step max (ns) | into a queue |");
    println!("|---|---|---|---|---|---|---|");
    let mut per = Vec::new();
    for i in 0..RUNS {
        let mut r = run(&cfg, 42 + i as u64);
        let (p50, p99) = (pct(&mut r.lat_ns, 0.5), pct(&mut r.lat_ns, 0.99));
        let max = *r.lat_ns.last().unwrap_or(&0);
        println!("| {} | {:.2} | {} | {p50} | {p99} | {max} | {} |", i + 1, r.per_caller_us, r.steps, r.queued);
        per.push(r.per_caller_us);
    }
    let (lo, hi) = per.iter().fold((f64::MAX, 0f64), |(l, h), &x| (l.min(x), h.max(x)));
    println!("\nper caller: {lo:.2}-{hi:.2} us over {RUNS} runs; IvrSession is {} bytes (plus its data and path)", std::mem::size_of::<IvrSession>());
}
