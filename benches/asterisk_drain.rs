//! Drain benchmark in the bundled Asterisk: the same callers and the same
//! agents through Hotline's `HotlineQueue` and through Asterisk's own
//! `app_queue`, in the same Asterisk, one after the other (order
//! alternated, each shape twice).
//!
//! `cargo bench --features asterisk --bench asterisk_drain` (needs the
//! module built: `cargo build --release --features asterisk`, and Docker).
//!
//! Measured from Asterisk's core AMI events only (Newchannel, Hangup), so
//! both ACDs are judged alike:
//! - drain: first caller created -> last agent leg hung up, against the
//!   ideal = sum of agent busy time (agent leg created -> hung up) / agents;
//! - re-offer gap: an agent's leg hangs up -> that agent's next leg is
//!   created, p50/p99, over agents with callers still waiting;
//! - Asterisk CPU seconds per call (/proc/PID/stat, utime+stime);
//! - served / lost callers.
//!
//! Talk times are spread (uniform over H +- 50 %) and arrivals are random
//! (exponential gaps, ~200 calls/s), per benchmarking.md.

#[allow(dead_code)]
#[path = "../tests/asterisk/ami.rs"]
mod ami;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod drain;

use ami::{field, is, Ami, Message};
use drain::{cpu_seconds, print_ratios, ratio_row, reoffer_gaps, run_row, Run, RUN_HEADER};

const NAME: &str = "hotline-bench-asterisk";
const AMI_PORT: u16 = 25038;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn pbx(args: &[&str]) -> String {
    let out = Command::new(repo().join("docker/pbx")).args(args).env("HOTLINE_PBX_NAME", NAME).output().expect("docker/pbx");
    let s = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "docker/pbx {args:?}: {s}");
    s
}

/// A configuration directory: the test PBX plus a `bench` queue with
/// `agents` agents in both ACDs.
fn etc_dir(agents: usize) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hotline-bench-etc-{agents}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    for e in std::fs::read_dir(repo().join("tests/pbx/asterisk")).expect("etc") {
        let e = e.expect("entry");
        std::fs::copy(e.path(), dir.join(e.file_name())).expect("copy");
    }
    let ids: Vec<u32> = (0..agents as u32).map(|i| 4000 + i).collect();
    let mut toml = std::fs::read_to_string(dir.join("hotline.toml")).expect("hotline.toml");
    toml.push_str("\n[[queue]]\nname = \"bench\"\nstrategy = \"longest-idle\"\nring_timeout_seconds = 15\n");
    for id in &ids {
        toml.push_str(&format!("[[agent]]\nname = \"b{id}\"\ncontact = \"Local/{id}@hotline-agents\"\nqueues = [\"bench\"]\n"));
    }
    std::fs::write(dir.join("hotline.toml"), toml).expect("write");
    let mut q = std::fs::read_to_string(dir.join("queues.conf")).expect("queues.conf");
    q.push_str("\n[bench]\nstrategy = leastrecent\ntimeout = 15\nretry = 1\nwrapuptime = 0\nringinuse = no\nautofill = yes\njoinempty = yes\n");
    for id in &ids {
        q.push_str(&format!("member => Local/{id}@hotline-agents,0,b{id}\n"));
    }
    std::fs::write(dir.join("queues.conf"), q).expect("write");
    let mut x = std::fs::read_to_string(dir.join("extensions.conf")).expect("extensions.conf");
    x.push_str(
        "\n[bench-callers]\n\
         exten => hotline,1,Answer()\n same => n,HotlineQueue(bench)\n same => n,Hangup()\n\
         exten => app_queue,1,Answer()\n same => n,Queue(bench)\n same => n,Hangup()\n",
    );
    std::fs::write(dir.join("extensions.conf"), x).expect("write");
    dir
}

fn asterisk_pid() -> u32 {
    let out = Command::new("pgrep").args(["-f", "^asterisk -f"]).output().expect("pgrep");
    String::from_utf8_lossy(&out.stdout).lines().next().and_then(|l| l.trim().parse().ok()).expect("asterisk pid")
}

fn ts(m: &Message) -> f64 {
    field(m, "Timestamp").parse().unwrap_or(0.0)
}

fn run_once(ami: &Ami, exten: &str, agents: usize, callers: usize, talk: f64, seed: u64) -> Run {
    for i in 0..agents {
        let id = 4000 + i;
        ami.action("Setvar", &[("Variable", &format!("AGENT_MODE_{id}")), ("Value", "spread")]);
        ami.action("Setvar", &[("Variable", &format!("AGENT_TALK_{id}")), ("Value", &format!("{talk}"))]);
    }
    std::thread::sleep(Duration::from_millis(500));
    let pid = asterisk_pid();
    let cpu0 = cpu_seconds(pid);
    let from = ami.mark();
    let mut rng = seed;
    for i in 0..callers {
        let r = ami.action(
            "Originate",
            &[
                ("Channel", &format!("Local/{exten}@bench-callers")),
                ("Application", "Wait"),
                ("Data", "600"),
                ("CallerID", &format!("\"bench\" <8{i:06}>")),
                ("Async", "true"),
            ],
        );
        assert_eq!(field(&r, "Response"), "Success");
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        // Exponential gaps, mean 5 ms (~200 calls/s).
        let u = (rng >> 11) as f64 / (1u64 << 53) as f64;
        std::thread::sleep(Duration::from_secs_f64(-0.005 * (1.0 - u).ln()));
    }
    // Wait until every caller's agent leg has come and gone (or time out).
    let deadline = Instant::now() + Duration::from_secs(60 + (callers as f64 * talk * 3.0 / agents as f64) as u64);
    let agent_leg = |m: &Message| field(m, "Channel").starts_with("Local/4") && field(m, "Channel").ends_with(";1");
    loop {
        let created = ami.events_since(from, |m| is(m, "Newchannel") && agent_leg(m)).len();
        let ended = ami.events_since(from, |m| is(m, "Hangup") && agent_leg(m)).len();
        let bridged = ami.events_since(from, |m| is(m, "BridgeEnter") && agent_leg(m)).len();
        if bridged >= callers && ended >= created || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_millis(500));
    let cpu1 = cpu_seconds(pid);
    // Tear down callers still waiting (lost) before the next run.
    pbx(&["cli", "channel request hangup all"]);
    std::thread::sleep(Duration::from_secs(2));
    let events = ami.events_since(from, |m| is(m, "Newchannel") || is(m, "Hangup") || is(m, "BridgeEnter"));
    let first = events.iter().filter(|m| is(m, "Newchannel") && field(m, "Channel").starts_with("Local/")).map(ts).fold(f64::MAX, f64::min);
    let mut busy = 0.0;
    let mut last_end: f64 = 0.0;
    let mut per_agent: HashMap<String, Vec<(f64, f64)>> = HashMap::new();
    let mut open: HashMap<String, f64> = HashMap::new();
    let mut served = 0;
    for m in &events {
        if !agent_leg(m) {
            continue;
        }
        let chan = field(m, "Channel").to_string();
        let agent = chan.split('-').next().unwrap_or("").to_string();
        if is(m, "Newchannel") {
            open.insert(chan, ts(m));
        } else if is(m, "BridgeEnter") {
            served += 1;
        } else if let Some(start) = open.remove(&chan) {
            let end = ts(m);
            busy += end - start;
            last_end = last_end.max(end);
            per_agent.entry(agent).or_default().push((start, end));
        }
    }
    let gaps = reoffer_gaps(&mut per_agent);
    Run {
        drain: last_end - first,
        ideal: busy / agents as f64,
        gaps,
        cpu_per_call: (cpu1 - cpu0) / callers as f64,
        served: served.min(callers),
        lost: callers.saturating_sub(served),
        unbridged_offers: 0,
    }
}

fn main() {
    let module = repo().join("target/release/libhotline.so");
    assert!(module.exists(), "build the module first: cargo build --release --features asterisk");
    let shapes: Vec<(usize, usize)> = if std::env::args().any(|a| a == "--quick") { vec![(20, 200)] } else { vec![(20, 200), (100, 1000)] };
    println!("{RUN_HEADER}");
    let mut summary = Vec::new();
    for (agents, callers) in shapes {
        let etc = etc_dir(agents);
        pbx(&["start", "--etc", etc.to_str().expect("utf8"), "--module", module.to_str().expect("utf8"), "--name", NAME]);
        let ami = Ami::connect(AMI_PORT, "hotline", "hotline").expect("AMI");
        let mut results: HashMap<&str, Vec<Run>> = HashMap::new();
        for round in 0..2u64 {
            let order: [&str; 2] = if round % 2 == 0 { ["hotline", "app_queue"] } else { ["app_queue", "hotline"] };
            for acd in order {
                let r = run_once(&ami, acd, agents, callers, 1.0, 0x9E37 + round * 31 + agents as u64);
                println!("{}", run_row(&format!("{agents} agents, {callers} callers"), acd, round + 1, &r));
                results.entry(acd).or_default().push(r);
            }
        }
        summary.push(ratio_row(&format!("{agents} agents, {callers} callers"), &results, "hotline", "app_queue"));
        drop(ami);
        pbx(&["stop"]);
        let _ = std::fs::remove_dir_all(Path::new(&etc));
    }
    print_ratios("Hotline", "app_queue", &summary);
}
