// SPDX-License-Identifier: GPL-2.0-or-later
//! The fault mode of both drain benchmarks (`--faults`, issue 10): what a
//! run is made of (agent legs and callers, taken from the PBX's own channel
//! events by each bench), the figures computed from them the same way for
//! every ACD, and the tables.
//!
//! A run has two phases. The fault phase: agents answer busy (~10 % of
//! offers), never answer (~5 %, ringing until the ACD's ring timeout) or
//! answer and hang up after 0.1-0.4 s (~5 %), decided at random per call in
//! the agents' dialplan; a fifth of the callers give up 5 s after they
//! called unless an agent has answered them. Then a fault-free final burst
//! of twice as many callers as agents, all at once: every agent must be
//! offered one of them.

use std::collections::{HashMap, HashSet};

use super::pct;

/// Probabilities (in %) of the agents' faults, per offer (the dialplans
/// draw 0..=99: below BUSY busy, below NO_ANSWER ring out, below SHORT a
/// short call).
pub const BUSY: u32 = 10;
pub const NO_ANSWER: u32 = BUSY + 5;
pub const SHORT: u32 = NO_ANSWER + 5;
/// One caller in GIVE_UP_EVERY gives up after GIVE_UP_AFTER seconds.
pub const GIVE_UP_EVERY: usize = 5;
pub const GIVE_UP_AFTER: f64 = 5.0;

/// One offer: an agent's leg from creation to hang-up (for an agent that
/// bridges to a second leg, until that one is gone too).
#[derive(Debug, Clone)]
pub struct Leg {
    pub agent: String,
    pub start: f64,
    pub end: f64,
    /// The caller offered (each bench's id), when the events name it.
    pub caller: Option<String>,
    /// When the leg (or the one behind it) was bridged to its caller.
    pub bridged: Option<f64>,
}

/// One caller: the leg that runs the ACD, created -> hung up.
#[derive(Debug, Clone)]
pub struct Caller {
    pub id: String,
    pub enter: f64,
    pub end: f64,
    /// The bench hung this caller up (it gave up) before any agent
    /// answered it.
    pub gave_up: bool,
    /// One of the final burst's callers.
    pub burst: bool,
}

/// A fault run's figures.
pub struct FaultRun {
    pub callers: usize,
    pub served: usize,
    pub gave_up: usize,
    /// Neither served nor gave up.
    pub lost: usize,
    /// Bridged to more than one agent leg.
    pub served_twice: usize,
    /// Agents with no leg created during the final burst.
    pub never_offered: usize,
    /// Sum over the fault phase of min(idle agents, waiting callers), in
    /// agent-seconds, per served call of that phase.
    pub idle_waiting_per_served: f64,
    /// Offers that failed (never bridged).
    pub failed: usize,
    /// Short calls: bridged legs that hung up within half a second.
    pub short: usize,
    /// Failed offers after which the same caller was offered again.
    pub reoffers: usize,
    /// Of those, offered again to the same agent while another was idle.
    pub same_agent_while_idle: usize,
    /// Failed offer's end -> that caller's next offer (seconds), sorted.
    pub failed_to_next: Vec<f64>,
}

impl FaultRun {
    pub fn same_agent_share(&self) -> f64 {
        if self.reoffers == 0 {
            0.0
        } else {
            self.same_agent_while_idle as f64 / self.reoffers as f64
        }
    }
}

/// The per-caller give-ups a bench still has to carry out: caller index ->
/// when (seconds since the run's start) it hangs up unless answered.
pub struct GiveUps {
    due: Vec<(f64, usize)>,
}

impl GiveUps {
    pub fn new() -> GiveUps {
        GiveUps { due: Vec::new() }
    }

    /// Caller `i`, called at `at`: every GIVE_UP_EVERY-th gives up.
    pub fn called(&mut self, i: usize, at: f64) {
        if i % GIVE_UP_EVERY == GIVE_UP_EVERY - 1 {
            self.due.push((at + GIVE_UP_AFTER, i));
        }
    }

    /// The callers whose time has come at `now` (removed).
    pub fn take_due(&mut self, now: f64) -> Vec<usize> {
        let (due, later): (Vec<_>, Vec<_>) = self.due.iter().partition(|(t, _)| *t <= now);
        self.due = later;
        due.into_iter().map(|(_, i)| i).collect()
    }
}

/// Whether `agent` has a leg open at `t` (legs of that agent, any order).
fn open_at(legs: &[&Leg], t: f64) -> bool {
    legs.iter().any(|l| l.start <= t && t < l.end)
}

/// The figures of one run from its legs and callers; `agents` names every
/// agent of the queue (as in `Leg::agent`).
pub fn analyse(agents: &[String], legs: &[Leg], callers: &[Caller]) -> FaultRun {
    let by_agent: HashMap<&str, Vec<&Leg>> = agents.iter().map(|a| (a.as_str(), legs.iter().filter(|l| &l.agent == a).collect())).collect();
    let mut bridged_per_caller: HashMap<&str, Vec<&Leg>> = HashMap::new();
    for l in legs.iter().filter(|l| l.bridged.is_some()) {
        if let Some(c) = &l.caller {
            bridged_per_caller.entry(c.as_str()).or_default().push(l);
        }
    }
    let served_ids: HashSet<&str> = bridged_per_caller.keys().copied().collect();
    let served = callers.iter().filter(|c| served_ids.contains(c.id.as_str())).count();
    let gave_up = callers.iter().filter(|c| c.gave_up && !served_ids.contains(c.id.as_str())).count();
    let served_twice = bridged_per_caller.values().filter(|v| v.len() > 1).count();

    // The final burst.
    let burst_start = callers.iter().filter(|c| c.burst).map(|c| c.enter).fold(f64::INFINITY, f64::min);
    let never_offered = agents.iter().filter(|a| !by_agent[a.as_str()].iter().any(|l| l.start >= burst_start)).count();

    // Idle while waiting, over the fault phase: a caller waits from its
    // creation until an agent answers it or it hangs up; an agent is idle
    // while it has no leg.
    let first_bridge: HashMap<&str, f64> =
        bridged_per_caller.iter().map(|(c, v)| (*c, v.iter().filter_map(|l| l.bridged).fold(f64::INFINITY, f64::min))).collect();
    let mut points: Vec<(f64, i64, i64)> = Vec::new(); // (t, d waiting, d busy agents)
    let mut fault_served = 0;
    for c in callers.iter().filter(|c| !c.burst) {
        let until = first_bridge.get(c.id.as_str()).map_or(c.end, |t| t.min(c.end).max(c.enter));
        if first_bridge.contains_key(c.id.as_str()) {
            fault_served += 1;
        }
        points.push((c.enter, 1, 0));
        points.push((until, -1, 0));
    }
    // Busy agents: the union of each agent's legs.
    for ls in by_agent.values() {
        let mut iv: Vec<(f64, f64)> = ls.iter().map(|l| (l.start, l.end)).collect();
        iv.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut merged: Vec<(f64, f64)> = Vec::new();
        for (s, e) in iv {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        for (s, e) in merged {
            points.push((s, 0, 1));
            points.push((e, 0, -1));
        }
    }
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut waiting, mut busy, mut area, mut last) = (0i64, 0i64, 0.0, f64::NAN);
    for (t, dw, db) in points {
        if t >= burst_start {
            break;
        }
        if !last.is_nan() {
            let idle = agents.len() as i64 - busy;
            area += (t - last) * idle.min(waiting).max(0) as f64;
        }
        waiting += dw;
        busy += db;
        last = t;
    }

    // Failed offers and what came next for their callers.
    let mut per_caller: HashMap<&str, Vec<&Leg>> = HashMap::new();
    for l in legs {
        if let Some(c) = &l.caller {
            per_caller.entry(c.as_str()).or_default().push(l);
        }
    }
    let (mut reoffers, mut same_agent_while_idle, mut failed_to_next) = (0, 0, Vec::new());
    for ls in per_caller.values_mut() {
        ls.sort_by(|a, b| a.start.total_cmp(&b.start));
        for (i, failed) in ls.iter().enumerate().filter(|(_, l)| l.bridged.is_none()) {
            let Some(next) = ls[i + 1..].first() else { continue };
            reoffers += 1;
            failed_to_next.push((next.start - failed.end).max(0.0));
            let others_idle = agents.iter().any(|a| *a != next.agent && !open_at(&by_agent[a.as_str()], next.start));
            if next.agent == failed.agent && others_idle {
                same_agent_while_idle += 1;
            }
        }
    }
    failed_to_next.sort_by(f64::total_cmp);
    let n = callers.len();
    FaultRun {
        callers: n,
        served,
        gave_up,
        lost: n - served - gave_up,
        served_twice,
        never_offered,
        idle_waiting_per_served: if fault_served == 0 { f64::NAN } else { area / fault_served as f64 },
        failed: legs.iter().filter(|l| l.bridged.is_none()).count(),
        short: legs.iter().filter(|l| l.bridged.is_some_and(|b| l.end - b < 0.5)).count(),
        reoffers,
        same_agent_while_idle,
        failed_to_next,
    }
}

pub const FAULT_HEADER: &str = "| ACD | run | callers | served | gave up | lost | served twice | never offered (burst) | idle while waiting (agent-s/served) | same-agent re-offers while others idle | failed -> next offer p50 | p99 | failed offers | short calls |\n\
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|";

pub fn fault_row(acd: &str, round: u64, r: &FaultRun) -> String {
    format!(
        "| {acd} | {round} | {} | {} | {} | {} | {} | {} | {:.3} | {:.1} % ({}/{}) | {:.0} ms | {:.0} ms | {} | {} |",
        r.callers,
        r.served,
        r.gave_up,
        r.lost,
        r.served_twice,
        r.never_offered,
        r.idle_waiting_per_served,
        r.same_agent_share() * 100.0,
        r.same_agent_while_idle,
        r.reoffers,
        pct(&r.failed_to_next, 0.5) * 1000.0,
        pct(&r.failed_to_next, 0.99) * 1000.0,
        r.failed,
        r.short,
    )
}

/// The spread (mean, min-max over the runs) of each ACD's figures, and
/// whether Hotline met issue 10's targets.
pub fn print_spread(results: &[(&str, Vec<FaultRun>)], ours: &str) {
    println!("\nSpread over the runs (mean, min-max):\n");
    println!("| ACD | runs | idle while waiting (agent-s/served) | same-agent re-offers while others idle | failed -> next p50 | p99 | lost + served twice + never offered |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (acd, runs) in results {
        let stat = |f: &dyn Fn(&FaultRun) -> f64| {
            let v: Vec<f64> = runs.iter().map(f).collect();
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            (mean, v.iter().copied().fold(f64::INFINITY, f64::min), v.iter().copied().fold(f64::NEG_INFINITY, f64::max))
        };
        let (im, ilo, ihi) = stat(&|r| r.idle_waiting_per_served);
        let (sm, slo, shi) = stat(&|r| r.same_agent_share() * 100.0);
        let (pm, plo, phi) = stat(&|r| pct(&r.failed_to_next, 0.5) * 1000.0);
        let (qm, qlo, qhi) = stat(&|r| pct(&r.failed_to_next, 0.99) * 1000.0);
        let bad: usize = runs.iter().map(|r| r.lost + r.served_twice + r.never_offered).sum();
        println!(
            "| {acd} | {} | {im:.3} ({ilo:.3}-{ihi:.3}) | {sm:.1} % ({slo:.1}-{shi:.1}) | {pm:.0} ms ({plo:.0}-{phi:.0}) | {qm:.0} ms ({qlo:.0}-{qhi:.0}) | {bad} |",
            runs.len()
        );
    }
    if let Some((_, runs)) = results.iter().find(|(a, _)| *a == ours) {
        let zero = runs.iter().all(|r| r.lost == 0 && r.served_twice == 0 && r.never_offered == 0);
        let idle = runs.iter().all(|r| r.idle_waiting_per_served <= 0.06);
        let same = runs.iter().all(|r| r.same_agent_while_idle == 0);
        let yes = |b: bool| if b { "met" } else { "NOT met" };
        println!(
            "\nTargets for {ours} (issue 10), every run: nobody lost or served twice and every agent offered in the burst: {}; \
             idle while waiting <= 0.06 agent-s per served call: {}; 0 same-agent re-offers while others idle: {}.",
            yes(zero),
            yes(idle),
            yes(same)
        );
    }
}
