//! Routing decisions per second and decision latency of the engine, at
//! 10 / 1,000 / 10,000 agents and 100 / 10,000 waiting callers, with and
//! without skills. `cargo bench --bench routing` prints a markdown table.
//!
//! Two shapes of decision:
//! - agent frees: every agent is busy and W callers wait; a random call ends
//!   (talk times spread), the agent becomes ready and the engine picks the
//!   caller it serves. One input, one decision. Then the agent answers and a
//!   new caller arrives, keeping W waiting.
//! - caller arrives: every agent is idle; a caller arrives and the engine
//!   picks the agent (index seek among N ready agents).
//!
//! "with skills": strategy `skills` (proficiency 1-10 ordering) and every
//! caller needs a language skill that half the agents have.

use std::sync::Arc;
use std::time::Instant;

use hotline::core::{Action, CallId, CallerInfo, Config, EndedBy, Engine, Input, OfferOutcome};
use hotline::sim::Rng;

fn config(agents: usize, skills: bool) -> Arc<Config> {
    let mut s = String::from("[[queue]]\nname = \"q\"\n");
    if skills {
        s.push_str("strategy = \"skills\"\nskill = \"billing\"\n");
    } else {
        s.push_str("strategy = \"longest-idle\"\n");
    }
    s.push_str("ring_timeout_seconds = 15\nmax_no_answer = 0\n");
    let mut rng = Rng::new(agents as u64);
    for i in 0..agents {
        s.push_str(&format!("[[agent]]\nname = \"a{i}\"\ncontact = \"PJSIP/{i}\"\nqueues = [\"q\"]\n"));
        if skills {
            let lang = if i % 2 == 0 { ", vietnamese = 7" } else { ", english = 8" };
            s.push_str(&format!("skills = {{ billing = {}{lang} }}\n", 1 + rng.below(10)));
        }
    }
    Arc::new(Config::parse(&s, "bench.toml").expect("bench config"))
}

struct Bench {
    e: Engine,
    actions: Vec<Action>,
    events: Vec<hotline::core::Event>,
    now: u64,
    next: u64,
    talking: Vec<CallId>,
    rng: Rng,
    skills: bool,
}

impl Bench {
    fn caller(&mut self) -> CallerInfo {
        let mut c = CallerInfo { number: format!("09{}", self.rng.below(1_000_000)), ..Default::default() };
        if self.skills {
            c.skills = vec![("vietnamese".into(), 5)];
        }
        c
    }

    fn enter(&mut self) -> CallId {
        let id = CallId(self.next);
        self.next += 1;
        let caller = self.caller();
        self.e.handle(self.now, Input::CallEnter { call: id, queue: "q".into(), caller });
        id
    }

    /// Answer every pending offer; returns how many.
    fn answer_offers(&mut self) -> usize {
        // Reused buffers, as the router thread does.
        let mut n = 0;
        self.e.drain_into(&mut self.actions, &mut self.events);
        let mut offers = Vec::new();
        for a in self.actions.drain(..) {
            if let Action::Offer { call, seq, targets, .. } = a {
                offers.push((call, targets[0].agent, seq));
            }
        }
        for (call, agent, seq) in offers {
            self.e.handle(self.now, Input::OfferResult { call, agent, outcome: OfferOutcome::Answered, seq });
            self.talking.push(call);
            n += 1;
        }
        self.e.drain_into(&mut self.actions, &mut self.events);
        self.actions.clear();
        self.events.clear();
        n
    }
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Returns (decisions per second, p50 ns, p99 ns).
fn agent_frees(agents: usize, waiting: usize, skills: bool, rounds: usize) -> (f64, u64, u64) {
    let mut b = Bench { e: Engine::new(config(agents, skills), 0, 1), actions: Vec::new(), events: Vec::new(), now: 0, next: 1, talking: Vec::new(), rng: Rng::new(9), skills };
    // Busy every agent that can take these callers, then fill the line.
    let capable = if skills { agents.div_ceil(2) } else { agents };
    while b.talking.len() < capable {
        b.enter();
        b.answer_offers();
    }
    for _ in 0..waiting {
        b.enter();
    }
    assert_eq!(b.answer_offers(), 0);
    let mut lat = Vec::with_capacity(rounds);
    let mut decisions = 0u64;
    let mut spent = 0u128;
    for _ in 0..rounds {
        b.now += 1 + b.rng.below(20);
        // A random call ends: talk times are spread, not in lock-step.
        let i = b.rng.below(b.talking.len() as u64) as usize;
        let call = b.talking.swap_remove(i);
        let t = Instant::now();
        b.e.handle(b.now, Input::CallEnded { call, by: EndedBy::Agent });
        let d = t.elapsed().as_nanos();
        spent += d;
        lat.push(d as u64);
        decisions += b.answer_offers() as u64;
        b.enter();
        decisions += b.answer_offers() as u64;
    }
    lat.sort_unstable();
    (decisions as f64 / (spent as f64 / 1e9), percentile(&lat, 0.5), percentile(&lat, 0.99))
}

fn caller_arrives(agents: usize, skills: bool, rounds: usize) -> (f64, u64, u64) {
    let mut b = Bench { e: Engine::new(config(agents, skills), 0, 1), actions: Vec::new(), events: Vec::new(), now: 0, next: 1, talking: Vec::new(), rng: Rng::new(9), skills };
    let mut lat = Vec::with_capacity(rounds);
    let mut spent = 0u128;
    let mut decisions = 0u64;
    for _ in 0..rounds {
        b.now += 1 + b.rng.below(20);
        let t = Instant::now();
        b.enter();
        let d = t.elapsed().as_nanos();
        spent += d;
        lat.push(d as u64);
        decisions += b.answer_offers() as u64;
        // End the call at once: all agents stay idle (ready index full).
        let call = b.talking.pop().expect("answered");
        b.e.handle(b.now, Input::CallEnded { call, by: EndedBy::Agent });
        b.answer_offers();
    }
    lat.sort_unstable();
    (decisions as f64 / (spent as f64 / 1e9), percentile(&lat, 0.5), percentile(&lat, 0.99))
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let rounds = if quick { 20_000 } else { 200_000 };
    // `--agents N` runs only that size (for profiling).
    let args: Vec<String> = std::env::args().collect();
    let only: Option<usize> = args.iter().position(|a| a == "--agents").and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok());
    println!("| shape | agents | waiting | skills | decisions/s | p50 | p99 |");
    println!("|---|---:|---:|---|---:|---:|---:|");
    for skills in [false, true] {
        for agents in [10usize, 1_000, 10_000] {
            if only.is_some_and(|n| n != agents) {
                continue;
            }
            for waiting in [100usize, 10_000] {
                let (rate, p50, p99) = agent_frees(agents, waiting, skills, rounds);
                println!(
                    "| agent frees | {agents} | {waiting} | {} | {:.2} M | {:.2} µs | {:.2} µs |",
                    if skills { "yes" } else { "no" },
                    rate / 1e6,
                    p50 as f64 / 1000.0,
                    p99 as f64 / 1000.0
                );
            }
            let (rate, p50, p99) = caller_arrives(agents, skills, rounds);
            println!(
                "| caller arrives | {agents} | 0 | {} | {:.2} M | {:.2} µs | {:.2} µs |",
                if skills { "yes" } else { "no" },
                rate / 1e6,
                p50 as f64 / 1000.0,
                p99 as f64 / 1000.0
            );
        }
    }
}
