//! `hotline-sim SCENARIO.toml`: run a call center on a virtual clock with
//! the real routing engine and print its statistics.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use hotline::core::Config;
use hotline::sim::{self, HandleDist, Scenario};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: hotline-sim SCENARIO.toml [--check-every N]");
        return ExitCode::from(2);
    };
    let check_every = args
        .iter()
        .position(|a| a == "--check-every")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let scenario = match Scenario::load(&PathBuf::from(path)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("hotline-sim: {e}");
            return ExitCode::from(2);
        }
    };
    let cfg = match Config::load(&scenario.config) {
        Ok(c) => Arc::new(c),
        Err(e) => {
            eprintln!("hotline-sim: {e}");
            return ExitCode::from(2);
        }
    };
    let started = std::time::Instant::now();
    match sim::run(cfg.clone(), &scenario, check_every) {
        Ok(report) => {
            // An Erlang C line when the run is a plain M/M/c queue.
            let erlang = match (&scenario.arrivals[..], &cfg.queues[..]) {
                ([a], [q]) if a.handle == HandleDist::Exponential && a.patience_seconds == 0.0 => {
                    let c = cfg.agents.iter().filter(|ag| ag.members.iter().any(|m| m.queue == q.name)).count() as u32;
                    Some((c, a.per_hour / 3600.0, a.handle_seconds))
                }
                _ => None,
            };
            print!("{}", report.render(erlang));
            println!("\n(ran in {:.2} s of wall time)", started.elapsed().as_secs_f64());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("hotline-sim: invariant broken: {e}");
            ExitCode::FAILURE
        }
    }
}
