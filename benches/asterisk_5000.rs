// SPDX-License-Identifier: GPL-2.0-or-later
//! Many SIP callers in one Asterisk under an open-file limit: are they all
//! served? Hotline's `HotlineQueue` against Asterisk's `app_queue`, each in
//! a fresh container of the bundled Asterisk (`ulimit -n` = `--nofile`),
//! the same agents (Local channels answering and talking `--talk` s) and the
//! same SIPp callers (benches/sipp/caller_uac.xml: call, wait in music,
//! talk, get hung up by Asterisk).
//!
//! `cargo bench --features asterisk --bench asterisk_5000 [-- --callers 5000
//! --agents 100 --talk 4 --rate 250 --nofile 20000]` (needs the module built
//! with `cargo build --release --features asterisk`, Docker and `sipp`
//! from the sip-tester package). Not part of CI.
//!
//! Reported per ACD: callers served (their agent leg entered a bridge, from
//! AMI BridgeEnter) and lost, SIPp's failed calls, the peak number of open
//! descriptors of the Asterisk process (sampled every 200 ms from
//! /proc/PID/fd), "Too many open files" lines in Asterisk's output, and the
//! wall time.

#[allow(dead_code)]
#[path = "../tests/asterisk/ami.rs"]
mod ami;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ami::{field, is, Ami};

/// The container: `$HOTLINE_PBX_NAME`, else hotline-bench-5000. It uses the
/// test PBX's ports (AMI 25038, SIP 25060, web 18090): nothing else may.
fn name() -> String {
    std::env::var("HOTLINE_PBX_NAME").unwrap_or_else(|_| "hotline-bench-5000".into())
}
const AMI_PORT: u16 = 25038;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn pbx(args: &[&str], nofile: u64) -> String {
    let out = Command::new(repo().join("docker/pbx"))
        .args(args)
        .env("HOTLINE_PBX_NAME", name())
        .env("HOTLINE_PBX_NOFILE", nofile.to_string())
        .output()
        .expect("docker/pbx");
    let s = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "docker/pbx {args:?}: {s}");
    s
}

struct Opts {
    callers: usize,
    agents: usize,
    talk: f64,
    rate: u32,
    nofile: u64,
}

fn opts() -> Opts {
    let args: Vec<String> = std::env::args().collect();
    let get = |k: &str| args.iter().position(|a| a == k).and_then(|i| args.get(i + 1)).cloned();
    Opts {
        callers: get("--callers").and_then(|v| v.parse().ok()).unwrap_or(5000),
        agents: get("--agents").and_then(|v| v.parse().ok()).unwrap_or(100),
        talk: get("--talk").and_then(|v| v.parse().ok()).unwrap_or(4.0),
        rate: get("--rate").and_then(|v| v.parse().ok()).unwrap_or(250),
        nofile: get("--nofile").and_then(|v| v.parse().ok()).unwrap_or(20_000),
    }
}

/// The test PBX's configuration plus a `bench` queue with the agents in
/// both ACDs, and the callers' extensions `benchhl` / `benchaq` in the SIP
/// endpoint's context.
fn etc_dir(agents: usize) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hotline-bench5000-etc-{agents}"));
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
    // Two RTP ports per SIP call: the test PBX's 4,000 (61000-65000) would
    // turn callers away past 2,000; below the ephemeral range instead.
    let rtp = std::fs::read_to_string(dir.join("rtp.conf")).expect("rtp.conf");
    let rtp = rtp.replace("rtpstart = 61000", "rtpstart = 10000").replace("rtpend = 65000", "rtpend = 32000");
    assert!(rtp.contains("rtpstart = 10000") && rtp.contains("rtpend = 32000"), "rtp.conf changed: {rtp}");
    std::fs::write(dir.join("rtp.conf"), rtp).expect("write");
    let mut x = std::fs::read_to_string(dir.join("extensions.conf")).expect("extensions.conf");
    // Exact extensions win over the context's pattern.
    x.push_str(
        "\n[hotline-callers]\n\
         exten => benchhl,1,Answer()\n same => n,HotlineQueue(bench)\n same => n,Hangup()\n\
         exten => benchaq,1,Answer()\n same => n,Queue(bench)\n same => n,Hangup()\n",
    );
    std::fs::write(dir.join("extensions.conf"), x).expect("write");
    dir
}

fn asterisk_pid() -> u32 {
    let out = Command::new("docker").args(["exec", &name(), "cat", "/var/run/asterisk/asterisk.pid"]).output().expect("docker exec");
    let in_container: String = String::from_utf8_lossy(&out.stdout).trim().to_string();
    // The container shares no pid namespace with us: find the host pid of
    // `asterisk -f` whose namespace pid is that one.
    let out = Command::new("pgrep").args(["-f", "^asterisk -f"]).output().expect("pgrep");
    for l in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(pid) = l.trim().parse::<u32>() else { continue };
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let ns = status.lines().find(|l| l.starts_with("NSpid:")).unwrap_or("");
        if ns.split_whitespace().last() == Some(in_container.as_str()) {
            return pid;
        }
    }
    panic!("no host pid for Asterisk (pid {in_container} in {})", name());
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count()).unwrap_or(0)
}

struct Outcome {
    served: usize,
    sipp_failed: String,
    peak_fds: usize,
    emfile: usize,
    secs: f64,
}

fn run(acd: &str, o: &Opts) -> Outcome {
    let etc = etc_dir(o.agents);
    let module = repo().join("target/release/libhotline.so");
    pbx(&["start", "--etc", etc.to_str().expect("utf8"), "--module", module.to_str().expect("utf8"), "--name", &name()], o.nofile);
    let ami = Ami::connect(AMI_PORT, "hotline", "hotline").expect("AMI");
    for i in 0..o.agents {
        let id = 4000 + i;
        ami.action("Setvar", &[("Variable", &format!("AGENT_MODE_{id}")), ("Value", "answer")]);
        ami.action("Setvar", &[("Variable", &format!("AGENT_TALK_{id}")), ("Value", &format!("{}", o.talk))]);
    }
    let pid = asterisk_pid();
    let stop = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicUsize::new(0));
    let sampler = {
        let (stop, peak) = (stop.clone(), peak.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                peak.fetch_max(open_fds(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(200));
            }
        })
    };
    let from = ami.mark();
    let t = Instant::now();
    let scenario = repo().join("benches/sipp/caller_uac.xml");
    let service = if acd == "hotline" { "benchhl" } else { "benchaq" };
    let limit = (60.0 + o.callers as f64 * o.talk * 3.0 / o.agents as f64) as u64;
    let out = Command::new("sipp")
        .args(["127.0.0.1:25060", "-sf"])
        .arg(&scenario)
        .args(["-s", service, "-i", "127.0.0.1", "-p", "25070", "-t", "u1", "-nostdin"])
        .args(["-m", &o.callers.to_string(), "-l", &o.callers.to_string(), "-r", &o.rate.to_string()])
        .args(["-timeout", &format!("{limit}s")])
        .stdin(Stdio::null())
        .output()
        .expect("sipp (Debian package sip-tester) must be installed");
    let secs = t.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let sipp_failed = text
        .lines()
        .filter(|l| l.contains("Failed call"))
        .last()
        .map(|l| l.split('|').filter(|c| !c.trim().is_empty()).map(str::trim).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| format!("exit {:?}", out.status.code()));
    let agent_leg = |m: &ami::Message| field(m, "Channel").starts_with("Local/4") && field(m, "Channel").ends_with(";1");
    let bridged: HashSet<String> =
        ami.events_since(from, |m| is(m, "BridgeEnter") && agent_leg(m)).iter().map(|m| field(m, "Channel").to_string()).collect();
    let logs = Command::new("docker").args(["logs", &name()]).output().expect("docker logs");
    let emfile = String::from_utf8_lossy(&logs.stdout).lines().chain(String::from_utf8_lossy(&logs.stderr).lines()).filter(|l| l.contains("Too many open files")).count();
    drop(ami);
    pbx(&["stop"], o.nofile);
    let _ = std::fs::remove_dir_all(Path::new(&etc));
    Outcome { served: bridged.len().min(o.callers), sipp_failed, peak_fds: peak.load(Ordering::Relaxed), emfile, secs }
}

fn main() {
    let o = opts();
    assert!(repo().join("target/release/libhotline.so").exists(), "build the module first: cargo build --release --features asterisk");
    println!(
        "{} SIP callers, {} agents (talk {} s), {} calls/s, ulimit -n {}",
        o.callers, o.agents, o.talk, o.rate, o.nofile
    );
    println!("| ACD | served/lost | SIPp failed calls | peak Asterisk fds | \"Too many open files\" | wall s |");
    println!("|---|---:|---|---:|---:|---:|");
    for acd in ["hotline", "app_queue"] {
        let r = run(acd, &o);
        println!(
            "| {acd} | {}/{} | {} | {} | {} | {:.0} |",
            r.served,
            o.callers - r.served,
            r.sipp_failed,
            r.peak_fds,
            r.emfile,
            r.secs
        );
    }
}
