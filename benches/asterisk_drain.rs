//! Drain benchmark in the bundled Asterisk: the same callers and the same
//! agents through Hotline's `HotlineQueue` and through Asterisk's own
//! `app_queue`, in the same Asterisk, one after the other (order
//! alternated, each shape twice).
//!
//! `cargo bench --features asterisk --bench asterisk_drain [-- --faults |
//! --webhooks]` (needs the
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

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod drain;

use ami::{field, is, Ami, Message};
use drain::faults::{self, fault_row, print_spread, Caller, FaultRun, GiveUps, Leg, BUSY, FAULT_HEADER, NO_ANSWER, SHORT};
use drain::{arg, cpu_seconds, print_ratios, ratio_row, reoffer_gaps, run_row, Run, RUN_HEADER};

const NAME: &str = "hotline-bench-asterisk";
/// The bench PBX's own ports (the test PBX's plus 100), so that it never
/// meets a test PBX left running by the suites.
const AMI_PORT: u16 = 25138;
const PORTS: [(&str, &str, &str); 3] =
    [("manager.conf", "port = 25038", "port = 25138"), ("pjsip.conf", "127.0.0.1:25060", "127.0.0.1:25160"), ("hotline.toml", "127.0.0.1:18090", "127.0.0.1:18190")];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn pbx(args: &[&str]) -> String {
    drain::docker_pbx(NAME, args)
}

/// A configuration directory: the test PBX plus a `bench` queue with
/// `agents` agents in both ACDs, each ACD ringing an agent `ring` seconds
/// at most. Agents run `[bench-agents]`: they answer and talk a random
/// time uniform over BENCH_TALK +- 50 %, and with BENCH_FAULTS=1 (a global
/// variable) fail some offers at random, per call (see drain/faults.rs).
fn etc_dir(agents: usize, ring: u32) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hotline-bench-etc-{agents}"));
    drain::asterisk_etc(&dir, &PORTS);
    let ids: Vec<u32> = (0..agents as u32).map(|i| 4000 + i).collect();
    let mut toml = std::fs::read_to_string(dir.join("hotline.toml")).expect("hotline.toml");
    toml.push_str(&format!("\n[[queue]]\nname = \"bench\"\nstrategy = \"longest-idle\"\nring_timeout_seconds = {ring}\n"));
    for id in &ids {
        toml.push_str(&format!("[[agent]]\nname = \"b{id}\"\ncontact = \"Local/{id}@bench-agents\"\nqueues = [\"bench\"]\n"));
    }
    std::fs::write(dir.join("hotline.toml"), toml).expect("write");
    let mut q = std::fs::read_to_string(dir.join("queues.conf")).expect("queues.conf");
    q.push_str(&format!("\n[bench]\nstrategy = leastrecent\ntimeout = {ring}\nretry = 1\nwrapuptime = 0\nringinuse = no\nautofill = yes\njoinempty = yes\n"));
    for id in &ids {
        q.push_str(&format!("member => Local/{id}@bench-agents,0,b{id}\n"));
    }
    std::fs::write(dir.join("queues.conf"), q).expect("write");
    let mut x = std::fs::read_to_string(dir.join("extensions.conf")).expect("extensions.conf");
    x.push_str(&format!(
        "\n[bench-agents]\n\
         exten => _X.,1,Set(R=${{IF($[\"${{BENCH_FAULTS}}\" = \"1\"]?${{RAND(0,99)}}:99)}})\n\
          same => n,GotoIf($[${{R}} < {BUSY}]?busy)\n\
          same => n,GotoIf($[${{R}} < {NO_ANSWER}]?noanswer)\n\
          same => n,GotoIf($[${{R}} < {SHORT}]?short)\n\
          same => n,Answer()\n\
          same => n,Wait(${{MATH(${{BENCH_TALK}}*(500+${{RAND(0,1000)}})/1000,f)}})\n\
          same => n,Hangup()\n\
          same => n(busy),Busy(30)\n\
          same => n,Hangup()\n\
          same => n(noanswer),Ringing()\n\
          same => n,Wait(120)\n\
          same => n,Hangup()\n\
          same => n(short),Answer()\n\
          same => n,Wait(${{MATH((100+${{RAND(0,300)}})/1000,f)}})\n\
          same => n,Hangup()\n\
         \n[bench-callers]\n\
         exten => hotline,1,Answer()\n same => n,HotlineQueue(bench)\n same => n,Hangup()\n\
         exten => app_queue,1,Answer()\n same => n,Queue(bench)\n same => n,Hangup()\n",
    ));
    std::fs::write(dir.join("extensions.conf"), x).expect("write");
    dir
}

/// Start the bench PBX; its agents' random draws need `RAND`.
fn start(etc: &Path, module: &Path) {
    pbx(&["start", "--etc", etc.to_str().expect("utf8"), "--module", module.to_str().expect("utf8"), "--name", NAME]);
    let rand = pbx(&["cli", "core show function RAND"]);
    assert!(rand.contains("RAND") && !rand.contains("No function by that name"), "RAND() missing (func_rand.so): {rand}");
}

fn setvar(ami: &Ami, var: &str, value: &str) {
    let r = ami.action("Setvar", &[("Variable", var), ("Value", value)]);
    assert_eq!(field(&r, "Response"), "Success", "Setvar {var}: {r:?}");
}

/// The bench container's Asterisk process.
fn asterisk_pid() -> u32 {
    drain::asterisk_pid(NAME)
}

fn ts(m: &Message) -> f64 {
    field(m, "Timestamp").parse().unwrap_or(0.0)
}

fn run_once(ami: &Ami, exten: &str, agents: usize, callers: usize, talk: f64, seed: u64) -> Run {
    setvar(ami, "BENCH_FAULTS", "0");
    setvar(ami, "BENCH_TALK", &format!("{talk}"));
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

/// Originate caller `i` of a fault run into `exten`; its two Local legs get
/// the unique ids `<tag>-<i>a` (the phone) and `<tag>-<i>b` (the leg in
/// the ACD).
fn fault_caller(ami: &Ami, exten: &str, tag: &str, i: usize) {
    let r = ami.action(
        "Originate",
        &[
            ("Channel", &format!("Local/{exten}@bench-callers")),
            ("Application", "Wait"),
            ("Data", "600"),
            ("CallerID", &format!("\"bench\" <8{i:06}>")),
            ("ChannelId", &format!("{tag}-{i}a")),
            ("OtherChannelId", &format!("{tag}-{i}b")),
            ("Async", "true"),
        ],
    );
    assert_eq!(field(&r, "Response"), "Success", "originate: {r:?}");
}

/// Hang up the callers in `due` not yet answered (bridged); they gave up.
fn give_up(ami: &Ami, from: usize, tag: &str, due: Vec<usize>, gave_up: &mut HashSet<String>) {
    if due.is_empty() {
        return;
    }
    let ids: HashSet<String> = due.iter().map(|i| format!("{tag}-{i}b")).collect();
    let evs = ami.events_since(from, |m| (is(m, "Newchannel") || is(m, "BridgeEnter")) && ids.contains(field(m, "Uniqueid")));
    for id in &ids {
        let bridged = evs.iter().any(|m| is(m, "BridgeEnter") && field(m, "Uniqueid") == id);
        let chan = evs.iter().find(|m| is(m, "Newchannel") && field(m, "Uniqueid") == id).map(|m| field(m, "Channel").to_string());
        if let (false, Some(chan)) = (bridged, chan) {
            ami.action("Hangup", &[("Channel", &chan)]);
            gave_up.insert(id.clone());
        }
    }
}

/// Wait until the callers `ids` have hung up and no agent leg is left
/// (at most `secs`), carrying out give-ups meanwhile.
#[allow(clippy::too_many_arguments)]
fn wait_done(ami: &Ami, from: usize, tag: &str, ids: &HashSet<String>, secs: u64, t0: Instant, give_ups: &mut GiveUps, gave_up: &mut HashSet<String>) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        give_up(ami, from, tag, give_ups.take_due(t0.elapsed().as_secs_f64()), gave_up);
        let ended = ami.events_since(from, |m| is(m, "Hangup") && ids.contains(field(m, "Uniqueid"))).len();
        let created = ami.events_since(from, |m| is(m, "Newchannel") && agent_leg(m)).len();
        let gone = ami.events_since(from, |m| is(m, "Hangup") && agent_leg(m)).len();
        if ended >= ids.len() && gone >= created {
            return;
        }
        if Instant::now() > deadline {
            eprintln!("warning: {} of {} callers and {} agent legs still up after {secs} s", ids.len() - ended, ids.len(), created - gone);
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// An agent's leg: Local/<id>@bench-agents-...;1.
fn agent_leg(m: &Message) -> bool {
    let c = field(m, "Channel");
    c.starts_with("Local/4") && c.ends_with(";1")
}

/// `hotline show agents`: every bench agent available (a `no-answer`
/// break ends by itself after `no_answer_break_seconds`).
fn hotline_agents_free(agents: usize) -> bool {
    let table = pbx(&["cli", "hotline show agents"]);
    (0..agents).all(|i| table.lines().any(|l| l.split_whitespace().take(2).eq([format!("b{}", 4000 + i).as_str(), "available"])))
}

/// One fault run (see drain/faults.rs): `callers` callers with faults on,
/// then a fault-free burst of twice as many callers as agents.
fn fault_run(ami: &Ami, exten: &str, agents: usize, callers: usize, talk: f64, seed: u64, tag: &str) -> FaultRun {
    setvar(ami, "BENCH_TALK", &format!("{talk}"));
    setvar(ami, "BENCH_FAULTS", "1");
    std::thread::sleep(Duration::from_millis(500));
    let from = ami.mark();
    let t0 = Instant::now();
    let mut give_ups = GiveUps::new();
    let mut gave_up = HashSet::new();
    let mut rng = seed;
    for i in 0..callers {
        fault_caller(ami, exten, tag, i);
        give_ups.called(i, t0.elapsed().as_secs_f64());
        give_up(ami, from, tag, give_ups.take_due(t0.elapsed().as_secs_f64()), &mut gave_up);
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        // Exponential gaps, mean 5 ms (~200 calls/s).
        let u = (rng >> 11) as f64 / (1u64 << 53) as f64;
        std::thread::sleep(Duration::from_secs_f64(-0.005 * (1.0 - u).ln()));
    }
    let ids: HashSet<String> = (0..callers).map(|i| format!("{tag}-{i}b")).collect();
    wait_done(ami, from, tag, &ids, 120 + (callers as f64 * talk * 3.0 / agents as f64) as u64, t0, &mut give_ups, &mut gave_up);

    // The fault-free burst, once every agent is free again.
    setvar(ami, "BENCH_FAULTS", "0");
    if exten == "hotline" {
        let deadline = Instant::now() + Duration::from_secs(75);
        while !hotline_agents_free(agents) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    let burst: Vec<usize> = (callers..callers + 2 * agents).collect();
    for &i in &burst {
        fault_caller(ami, exten, tag, i);
    }
    let burst_ids: HashSet<String> = burst.iter().map(|i| format!("{tag}-{i}b")).collect();
    wait_done(ami, from, tag, &burst_ids, 60, t0, &mut GiveUps::new(), &mut gave_up);
    pbx(&["cli", "channel request hangup all"]);
    std::thread::sleep(Duration::from_secs(2));

    // The run as legs and callers, from core AMI events.
    let events = ami.events_since(from, |m| is(m, "Newchannel") || is(m, "Hangup") || is(m, "BridgeEnter"));
    let caller_of = |uid: &str| uid.strip_prefix(tag).and_then(|r| r.strip_prefix('-')).and_then(|r| r.strip_suffix('b')).map(str::to_string);
    // A caller's pair of legs and the agent legs rung for it share a
    // linked id: the phone's (`<tag>-<i>a`).
    let caller_of_linked = |linked: &str| linked.strip_prefix(tag).and_then(|r| r.strip_prefix('-')).and_then(|r| r.strip_suffix('a')).map(str::to_string);
    let mut callers_v: HashMap<String, Caller> = HashMap::new();
    let mut open: HashMap<String, Leg> = HashMap::new();
    let mut legs = Vec::new();
    for m in &events {
        let uid = field(m, "Uniqueid");
        if let Some(i) = caller_of(uid) {
            let n: usize = i.parse().expect("caller index");
            match field(m, "Event") {
                "Newchannel" => {
                    callers_v.insert(
                        i.clone(),
                        Caller { id: i, enter: ts(m), end: f64::INFINITY, gave_up: gave_up.contains(uid), burst: n >= callers },
                    );
                }
                "Hangup" => {
                    if let Some(c) = callers_v.get_mut(&i) {
                        c.end = ts(m);
                    }
                }
                _ => {}
            }
            continue;
        }
        if !agent_leg(m) {
            continue;
        }
        let chan = field(m, "Channel");
        match field(m, "Event") {
            "Newchannel" => {
                let agent = chan.split('@').next().unwrap_or("").to_string();
                let leg = Leg { agent, start: ts(m), end: f64::INFINITY, caller: caller_of_linked(field(m, "Linkedid")), bridged: None };
                open.insert(chan.to_string(), leg);
            }
            "BridgeEnter" => {
                if let Some(l) = open.get_mut(chan) {
                    l.bridged.get_or_insert(ts(m));
                }
            }
            _ => {
                if let Some(mut l) = open.remove(chan) {
                    l.end = ts(m);
                    legs.push(l);
                }
            }
        }
    }
    legs.extend(open.into_values());
    let names: Vec<String> = (0..agents).map(|i| format!("Local/{}", 4000 + i)).collect();
    let callers_v: Vec<Caller> = callers_v.into_values().collect();
    assert_eq!(callers_v.len(), callers + 2 * agents, "every caller created");
    faults::analyse(&names, &legs, &callers_v)
}

/// `--faults`: the fault mode, `--runs` runs per ACD, interleaved.
fn fault_main(module: &Path) {
    let agents: usize = arg("--agents", 20);
    let callers: usize = arg("--callers", 300);
    let ring: u32 = arg("--ring-timeout", 5);
    let runs: u64 = arg("--runs", 2);
    let etc = etc_dir(agents, ring);
    start(&etc, module);
    let ami = Ami::connect(AMI_PORT, "hotline", "hotline").expect("AMI");
    println!("Fault mode: {agents} agents, {callers} callers, ring timeout {ring} s, then a burst of {} callers.\n", 2 * agents);
    println!("{FAULT_HEADER}");
    let mut results: Vec<(&str, Vec<FaultRun>)> = vec![("hotline", Vec::new()), ("app_queue", Vec::new())];
    for round in 0..runs {
        for (k, (acd, rs)) in results.iter_mut().enumerate() {
            let r = fault_run(&ami, acd, agents, callers, 1.0, 0x9E37 + round * 31 + agents as u64, &format!("bf{round}{k}"));
            println!("{}", fault_row(acd, round + 1, &r));
            rs.push(r);
        }
    }
    print_spread(&results, "hotline");
    drop(ami);
    pbx(&["stop"]);
    let _ = std::fs::remove_dir_all(Path::new(&etc));
}

/// `--webhooks`: Hotline alone, with a webhook whose endpoint is down (every
/// call event of the bench queue to a port nothing listens on, so each
/// delivery fails and backs off while the outbox fills) and without any
/// webhook, switched by `hotline reload` between runs; `--runs` runs each,
/// interleaved, order alternated.
fn webhook_main(module: &Path) {
    let agents: usize = arg("--agents", 20);
    let callers: usize = arg("--callers", 200);
    let runs: u64 = arg("--runs", 3);
    let etc = etc_dir(agents, 15);
    let plain = std::fs::read_to_string(etc.join("hotline.toml")).expect("hotline.toml");
    let dead = format!(
        "{plain}\n[[webhook]]\nname = \"dead\"\nurl = \"http://127.0.0.1:9/hook\"\nevents = [\"offered\", \"answered\", \"ended\", \"abandoned\"]\n\
         queues = [\"bench\"]\nsecrets = [\"whsec_bench_0123456789abcdef\"]\ntimeout_ms = 500\n"
    );
    start(&etc, module);
    let ami = Ami::connect(AMI_PORT, "hotline", "hotline").expect("AMI");
    let shape = format!("{agents} agents, {callers} callers");
    println!("Webhook mode: the dead endpoint is http://127.0.0.1:9 (nothing listens).\n\n{RUN_HEADER}");
    let mut results: HashMap<&str, Vec<Run>> = HashMap::new();
    for round in 0..runs {
        let order: [&str; 2] = if round % 2 == 0 { ["dead webhook", "no webhook"] } else { ["no webhook", "dead webhook"] };
        for mode in order {
            std::fs::write(etc.join("hotline.toml"), if mode == "dead webhook" { &dead } else { &plain }).expect("write hotline.toml");
            let out = pbx(&["cli", "hotline reload"]);
            assert!(!out.contains("old configuration kept"), "reload: {out}");
            let r = run_once(&ami, "hotline", agents, callers, 1.0, 0x9E37 + round * 31 + agents as u64);
            println!("{}", run_row(&shape, mode, round + 1, &r));
            results.entry(mode).or_default().push(r);
        }
    }
    std::fs::write(etc.join("hotline.toml"), &dead).expect("write hotline.toml");
    pbx(&["cli", "hotline reload"]);
    println!("\n{}", pbx(&["cli", "hotline webhooks show"]));
    print_ratios("dead webhook", "no webhook", &[ratio_row(&shape, &results, "dead webhook", "no webhook")]);
    drop(ami);
    pbx(&["stop"]);
    let _ = std::fs::remove_dir_all(Path::new(&etc));
}

fn main() {
    let module = repo().join("target/release/libhotline.so");
    assert!(module.exists(), "build the module first: cargo build --release --features asterisk");
    if std::env::args().any(|a| a == "--faults") {
        return fault_main(&module);
    }
    if std::env::args().any(|a| a == "--webhooks") {
        return webhook_main(&module);
    }
    let shapes: Vec<(usize, usize)> = if std::env::args().any(|a| a == "--quick") { vec![(20, 200)] } else { vec![(20, 200), (100, 1000)] };
    println!("{RUN_HEADER}");
    let mut summary = Vec::new();
    for (agents, callers) in shapes {
        let etc = etc_dir(agents, 15);
        start(&etc, &module);
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
