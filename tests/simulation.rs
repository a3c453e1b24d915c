//! Long runs of the discrete-event simulation: invariants checked as it
//! goes, every caller accounted for, and a plain M/M/c queue agreeing with
//! Erlang C.

use std::sync::Arc;

use hotline::core::{erlang, Config};
use hotline::sim::{self, Arrival, Behaviour, HandleDist, Scenario};

fn agents(n: usize) -> String {
    (0..n).map(|i| format!("[[agent]]\nname = \"a{i}\"\ncontact = \"PJSIP/{i}\"\nqueues = [\"q\"]\n")).collect()
}

fn arrival(per_hour: f64, handle: f64) -> Arrival {
    Arrival {
        queue: "q".into(),
        per_hour,
        handle_seconds: handle,
        handle: HandleDist::Exponential,
        patience_seconds: 0.0,
        vip_share: 0.0,
        callback_share: 0.0,
        number_prefix: String::new(),
        numbers: 100_000,
        skills: Vec::new(),
    }
}

#[test]
fn mmc_queue_agrees_with_erlang_c() {
    // 10 agents, 8 Erlangs (lambda = 160/h, h = 180 s): P(wait) 0.41,
    // mean wait 0.41 * 180 / 2 = 36.8 s. Agents answer at once, no wrap-up.
    let text = format!("[[queue]]\nname = \"q\"\nstrategy = \"longest-idle\"\n{}", agents(10));
    let cfg = Arc::new(Config::parse(&text, "mmc.toml").expect("config"));
    let mut waits = Vec::new();
    for seed in 1..=4 {
        let scenario = Scenario {
            config: "mmc.toml".into(),
            hours: 400.0,
            seed,
            drain_seconds: 3600.0,
            arrivals: vec![arrival(160.0, 180.0)],
            behaviour: Behaviour { answer_seconds: 0.0, ..Default::default() },
        };
        let r = sim::run(cfg.clone(), &scenario, 0).expect("run");
        assert_eq!(r.outcome.answered, r.outcome.arrived, "nobody abandons in M/M/c");
        waits.push(r.outcome.mean_wait_all);
    }
    let simulated = waits.iter().sum::<f64>() / waits.len() as f64;
    let expected = erlang::mean_wait(10, 160.0 / 3600.0, 180.0);
    let err = (simulated - expected).abs() / expected;
    // Tolerance: 7 % (about 256,000 calls; the sample mean of waits in a
    // heavily loaded queue converges slowly).
    assert!(err < 0.07, "Erlang C mean wait {expected:.2} s, simulated {simulated:.2} s ({waits:?})");
}

#[test]
fn long_run_with_faults_keeps_invariants_and_loses_nobody() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("dialplan/callcenter.sim.toml");
    let scenario = Scenario::load(&path).expect("scenario");
    let cfg = Arc::new(Config::load(&scenario.config).expect("config"));
    let mut scenario = scenario;
    scenario.hours = 24.0;
    scenario.behaviour.no_answer_share = 0.05;
    scenario.behaviour.busy_share = 0.05;
    scenario.behaviour.reject_share = 0.02;
    // Check every invariant after every input.
    let r = sim::run(cfg, &scenario, 1).expect("invariants hold");
    let o = &r.outcome;
    assert!(o.arrived > 10_000, "{o:?}");
    assert!(o.failed_offers > 500, "faults were exercised: {o:?}");
    assert!(o.callbacks > 0 && o.abandoned > 0, "{o:?}");
    assert_eq!(o.still_in_system, 0, "the queue drains: {o:?}");
    assert_eq!(o.answered + o.abandoned + o.exited, o.arrived, "{o:?}");
}
