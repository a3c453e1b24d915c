//! What the two drain benchmarks (Asterisk vs app_queue, FreeSWITCH vs
//! mod_callcenter) share: one run's figures, the PBX's CPU time, and the
//! tables they print; the IVR benchmarks' shared part is in `ivr`. Each
//! bench uses a part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

pub mod faults;
pub mod ivr;

/// One drain run of one ACD.
pub struct Run {
    /// First caller created -> last agent leg gone (seconds).
    pub drain: f64,
    /// Sum of agent busy time / agents (seconds).
    pub ideal: f64,
    /// Agent re-offer gaps (seconds), sorted.
    pub gaps: Vec<f64>,
    pub cpu_per_call: f64,
    pub served: usize,
    pub lost: usize,
    /// Agent legs that never got bridged (failed offers).
    pub unbridged_offers: usize,
}

/// `--name value` on the command line, else `default`.
pub fn arg<T: std::str::FromStr>(name: &str, default: T) -> T {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(|v| v.parse().unwrap_or_else(|_| panic!("bad {name}: {v}"))).unwrap_or(default)
}

/// `name` on the command line.
pub fn flag(name: &str) -> bool {
    std::env::args().any(|a| a == name)
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `docker/pbx args` for the bundled Asterisk container `name`; its output
/// (a failure panics with it).
pub fn docker_pbx(name: &str, args: &[&str]) -> String {
    let out = Command::new(repo().join("docker/pbx")).args(args).env("HOTLINE_PBX_NAME", name).output().expect("docker/pbx");
    let s = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "docker/pbx {args:?}: {s}");
    s
}

/// The Asterisk process (host pid) of container `name` (other containers
/// may run Asterisk too): the descendant of the container's init named
/// asterisk.
pub fn asterisk_pid(name: &str) -> u32 {
    let out = Command::new("docker").args(["inspect", "--format", "{{.State.Pid}}", name]).output().expect("docker inspect");
    let init: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().expect("container pid");
    let mut todo = vec![init];
    while let Some(pid) = todo.pop() {
        if std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "asterisk") {
            return pid;
        }
        let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
        todo.extend(children.split_whitespace().filter_map(|c| c.parse::<u32>().ok()));
    }
    panic!("no asterisk process in container {name}");
}

/// A fresh copy of the test PBX's configuration (tests/pbx/asterisk) in
/// `dir`, each `(file, from, to)` replaced (it must be there: the bench's
/// own ports, never the test PBX's).
pub fn asterisk_etc(dir: &Path, replace: &[(&str, &str, &str)]) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("mkdir");
    for e in std::fs::read_dir(repo().join("tests/pbx/asterisk")).expect("etc") {
        let e = e.expect("entry");
        std::fs::copy(e.path(), dir.join(e.file_name())).expect("copy");
    }
    for (file, from, to) in replace {
        let text = std::fs::read_to_string(dir.join(file)).expect("conf");
        assert!(text.contains(from), "{file}: no {from}");
        std::fs::write(dir.join(file), text.replace(from, to)).expect("write");
    }
}

/// CPU seconds (user + system) a process has used so far.
pub fn cpu_seconds(pid: u32) -> f64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let rest = &s[s.rfind(')').expect(")") + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f[11].parse::<f64>().expect("utime") + f[12].parse::<f64>().expect("stime");
    // SAFETY: sysconf has no preconditions.
    ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

/// Re-offer gaps (sorted, seconds) from each agent's legs `(start, end)`:
/// an agent's leg ends -> its next leg starts, counted while callers still
/// wait (before the last leg of the run started).
pub fn reoffer_gaps<K>(per_agent: &mut HashMap<K, Vec<(f64, f64)>>) -> Vec<f64> {
    let last_start = per_agent.values().flatten().map(|(s, _)| *s).fold(0.0, f64::max);
    let mut gaps = Vec::new();
    for legs in per_agent.values_mut() {
        legs.sort_by(|a, b| a.0.total_cmp(&b.0));
        for w in legs.windows(2) {
            if w[1].0 <= last_start {
                gaps.push((w[1].0 - w[0].1).max(0.0));
            }
        }
    }
    gaps.sort_by(f64::total_cmp);
    gaps
}

/// Percentile `p` of sorted values (NaN if none).
pub fn pct(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() - 1) as f64 * p).round() as usize]
}

pub const RUN_HEADER: &str = "| shape | ACD | run | served/lost | drain/ideal | gap p50 | gap p99 | CPU ms/call | failed offers |\n\
|---|---|---:|---:|---:|---:|---:|---:|---:|";

pub fn run_row(shape: &str, acd: &str, round: u64, r: &Run) -> String {
    format!(
        "| {shape} | {acd} | {round} | {}/{} | {:.2} | {:.0} ms | {:.0} ms | {:.2} | {} |",
        r.served,
        r.lost,
        r.drain / r.ideal,
        pct(&r.gaps, 0.5) * 1000.0,
        pct(&r.gaps, 0.99) * 1000.0,
        r.cpu_per_call * 1000.0,
        r.unbridged_offers,
    )
}

/// Ratios of the means of `ours` to the means of `anchor`'s runs.
pub fn ratio_row(shape: &str, results: &HashMap<&str, Vec<Run>>, ours: &str, anchor: &str) -> String {
    let mean = |acd: &str, f: &dyn Fn(&Run) -> f64| {
        let v = &results[acd];
        v.iter().map(f).sum::<f64>() / v.len() as f64
    };
    let ratio = |f: &dyn Fn(&Run) -> f64| mean(ours, f) / mean(anchor, f);
    format!(
        "| {shape} | {:.2} | {:.3} | {:.3} | {:.2} |",
        ratio(&|r| r.drain / r.ideal),
        ratio(&|r| pct(&r.gaps, 0.5)),
        ratio(&|r| pct(&r.gaps, 0.99)),
        ratio(&|r| r.cpu_per_call),
    )
}

pub fn print_ratios(ours: &str, anchor: &str, rows: &[String]) {
    println!("\nRatios {ours} / {anchor} (mean of the runs; lower is better):\n");
    println!("| shape | drain/ideal | gap p50 | gap p99 | CPU per call |");
    println!("|---|---:|---:|---:|---:|");
    for row in rows {
        println!("{row}");
    }
}
