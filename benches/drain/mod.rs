//! What the two drain benchmarks (Asterisk vs app_queue, FreeSWITCH vs
//! mod_callcenter) share: one run's figures, the PBX's CPU time, and the
//! tables they print.

use std::collections::HashMap;

pub mod faults;

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
