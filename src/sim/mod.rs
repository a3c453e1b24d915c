//! A deterministic discrete-event simulation of a call center on a virtual
//! clock. It plays the PBX's part around a real [`Engine`]: Poisson
//! arrivals, random handle times, callers who give up, agents who answer
//! late, ring out or are busy. It checks the engine's invariants as it goes
//! and the conservation of callers at the end, and reports the statistics.

mod scenario;

pub use scenario::{Arrival, Behaviour, HandleDist, Scenario, ScenarioError};

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::Arc;

use crate::core::event::EventKind;
use crate::core::input::AgentId;
use crate::core::{Action, CallId, CallerInfo, Config, EndedBy, Engine, Input, OfferOutcome, Stats, StatsReport, Time};

/// Small fast deterministic PRNG (splitmix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0x1234_5678)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum SimEvent {
    Arrival { stream: usize },
    GiveUp { call: CallId },
    OfferReport { call: CallId, agent: AgentId, offer: u32, answered: bool, outcome: u8 },
    HangUp { call: CallId },
}

/// What happened to the callers, for conservation checks.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Outcome {
    pub arrived: u64,
    pub answered: u64,
    pub abandoned: u64,
    pub exited: u64,
    pub callbacks: u64,
    pub still_in_system: u64,
    pub offers: u64,
    pub failed_offers: u64,
    pub decisions: u64,
    pub invariant_checks: u64,
    /// Mean wait (seconds) of all served or abandoned callers.
    pub mean_wait_all: f64,
}

pub struct SimReport {
    pub outcome: Outcome,
    pub stats: StatsReport,
    pub simulated: Time,
}

#[derive(Default)]
struct SimCall {
    offer: u32,
    answered: bool,
    /// The caller hung up (or the call is over).
    done: bool,
    agent: Option<AgentId>,
}

/// Run a scenario to completion. `check_every`: check engine invariants
/// every N inputs (0: never; 1: after every input).
pub fn run(cfg: Arc<Config>, scenario: &Scenario, check_every: u64) -> Result<SimReport, String> {
    let mut rng = Rng::new(scenario.seed);
    let mut engine = Engine::new(cfg.clone(), 0, scenario.seed);
    let mut stats = Stats::new(&cfg.general);
    let mut heap: BinaryHeap<Reverse<(Time, u64, SimEvent)>> = BinaryHeap::new();
    let mut tie = 0u64;
    let mut push = |heap: &mut BinaryHeap<Reverse<(Time, u64, SimEvent)>>, t: Time, e: SimEvent| {
        tie += 1;
        heap.push(Reverse((t, tie, e)));
    };
    let end = crate::core::secs(scenario.hours * 3600.0);
    for (i, a) in scenario.arrivals.iter().enumerate() {
        if a.per_hour > 0.0 {
            let t = crate::core::secs(rng.exp(3600.0 / a.per_hour));
            push(&mut heap, t, SimEvent::Arrival { stream: i });
        }
    }
    let mut calls: HashMap<CallId, SimCall> = HashMap::new();
    let mut stream_of: HashMap<CallId, usize> = HashMap::new();
    let mut talking_agents: HashSet<AgentId> = HashSet::new();
    let mut served: HashSet<CallId> = HashSet::new();
    let mut out = Outcome::default();
    let mut next_id = 1u64;
    let mut inputs = 0u64;
    let mut wait_sum = 0.0;
    let mut wait_n = 0u64;
    let b = &scenario.behaviour;

    loop {
        let next_sim = heap.peek().map(|Reverse((t, _, _))| *t);
        let next_engine = engine.next_deadline();
        let now = match (next_sim, next_engine) {
            (None, None) => break,
            (Some(s), Some(e)) => s.min(e),
            (Some(s), None) => s,
            (None, Some(e)) => e,
        };
        if now > end + crate::core::secs(scenario.drain_seconds) {
            break;
        }
        if next_engine == Some(now) && next_sim.is_none_or(|s| s > now) {
            engine.advance(now);
        } else {
            let Reverse((_, _, ev)) = heap.pop().expect("peeked");
            let input = match ev {
                SimEvent::Arrival { stream } => {
                    let a = &scenario.arrivals[stream];
                    let t = now + crate::core::secs(rng.exp(3600.0 / a.per_hour)).max(1);
                    if t < end {
                        push(&mut heap, t, SimEvent::Arrival { stream });
                    }
                    let id = CallId(next_id);
                    next_id += 1;
                    out.arrived += 1;
                    calls.insert(id, SimCall::default());
                    stream_of.insert(id, stream);
                    if a.patience_seconds > 0.0 {
                        let p = crate::core::secs(rng.exp(a.patience_seconds));
                        push(&mut heap, now + p, SimEvent::GiveUp { call: id });
                    }
                    let vip = rng.unit() < a.vip_share;
                    let number = format!("{}{}", a.number_prefix, rng.below(a.numbers.max(1)));
                    let mut caller = CallerInfo { number, priority: if vip { 10 } else { 0 }, ..Default::default() };
                    caller.skills = a.skills.clone();
                    Some(Input::CallEnter { call: id, queue: a.queue.clone(), caller })
                }
                SimEvent::GiveUp { call } => match calls.get_mut(&call) {
                    Some(c) if !c.answered && !c.done => {
                        if rng.unit() < scenario.arrivals[stream_of[&call]].callback_share {
                            out.callbacks += 1;
                            Some(Input::CallbackRequest { call, number: format!("09{}", call.0) })
                        } else {
                            c.done = true;
                            Some(Input::CallerHangup { call })
                        }
                    }
                    _ => None,
                },
                SimEvent::OfferReport { call, agent, offer, answered, outcome } => match calls.get_mut(&call) {
                    Some(c) if c.offer == offer && !c.answered && !c.done => {
                        if answered {
                            c.answered = true;
                            c.agent = Some(agent);
                            if !served.insert(call) {
                                return Err(format!("call {call} served twice"));
                            }
                            if !talking_agents.insert(agent) {
                                return Err(format!("agent {agent} answered a second call while talking"));
                            }
                            let s = &scenario.arrivals[stream_of[&call]];
                            let h = s.handle.sample(&mut rng, s.handle_seconds);
                            push(&mut heap, now + crate::core::secs(h).max(1), SimEvent::HangUp { call });
                            Some(Input::OfferResult { call, agent, outcome: OfferOutcome::Answered, seq: offer })
                        } else {
                            let o = [OfferOutcome::NoAnswer, OfferOutcome::Busy, OfferOutcome::Rejected][outcome as usize % 3];
                            Some(Input::OfferResult { call, agent, outcome: o, seq: offer })
                        }
                    }
                    _ => None,
                },
                SimEvent::HangUp { call } => {
                    if let Some(c) = calls.remove(&call) {
                        if let Some(a) = c.agent {
                            talking_agents.remove(&a);
                        }
                    }
                    Some(Input::CallEnded { call, by: EndedBy::Agent })
                }
            };
            let Some(input) = input else { continue };
            engine.handle(now, input);
            inputs += 1;
            if check_every > 0 && inputs % check_every == 0 {
                engine.check_invariants(now).map_err(|e| format!("t={now}ms: {e}"))?;
                out.invariant_checks += 1;
            }
        }
        // Play the PBX: decide how each offer ends.
        for action in engine.take_actions() {
            match action {
                Action::Offer { call, seq, targets, timeout, .. } => {
                    let c = calls.entry(call).or_default();
                    c.offer = seq;
                    let offer = c.offer;
                    out.offers += targets.len() as u64;
                    for t in targets {
                        let (at, answered, outcome) = agent_reaction(&mut rng, b, timeout);
                        push(&mut heap, now + at, SimEvent::OfferReport { call, agent: t.agent, offer, answered, outcome });
                    }
                }
                Action::Callback { call, seq, target, timeout, .. } => {
                    let c = calls.entry(call).or_default();
                    c.offer = seq;
                    let offer = c.offer;
                    out.offers += 1;
                    let (at, answered, outcome) = agent_reaction(&mut rng, b, timeout);
                    push(&mut heap, now + at, SimEvent::OfferReport { call, agent: target.agent, offer, answered, outcome });
                }
                Action::Exit { call, reason } => {
                    if reason != crate::core::ExitReason::CallbackScheduled {
                        if let Some(c) = calls.get_mut(&call) {
                            c.done = true;
                        }
                    }
                }
                Action::Announce { .. }
                | Action::Moved { .. }
                | Action::Connect { .. }
                | Action::Drop { .. }
                | Action::Requeued { .. }
                | Action::Note { .. }
                | Action::TalkDone { .. } => {}
            }
        }
        for e in engine.take_events() {
            match &e.kind {
                EventKind::CallAnswered { wait, .. } => {
                    out.answered += 1;
                    wait_sum += *wait as f64 / 1000.0;
                    wait_n += 1;
                }
                EventKind::CallAbandoned { wait, .. } => {
                    out.abandoned += 1;
                    wait_sum += *wait as f64 / 1000.0;
                    wait_n += 1;
                }
                EventKind::CallExited { reason, .. } if *reason != crate::core::ExitReason::CallbackScheduled => out.exited += 1,
                EventKind::OfferFailed { outcome, .. } if outcome.is_miss() => out.failed_offers += 1,
                _ => {}
            }
            stats.apply(&e);
        }
    }
    let now = end + crate::core::secs(scenario.drain_seconds);
    engine.check_invariants(now)?;
    out.still_in_system = engine.active_calls() as u64;
    out.decisions = engine.counters.decisions;
    out.mean_wait_all = if wait_n > 0 { wait_sum / wait_n as f64 } else { 0.0 };
    // Conservation: every caller is answered, abandoned, exited, or still here.
    let accounted = out.answered + out.abandoned + out.exited + pending_unanswered(&engine);
    if accounted != out.arrived {
        return Err(format!(
            "callers lost: {} arrived, {} answered + {} abandoned + {} exited + {} still waiting",
            out.arrived,
            out.answered,
            out.abandoned,
            out.exited,
            pending_unanswered(&engine)
        ));
    }
    Ok(SimReport { outcome: out, stats: stats.report(now), simulated: now })
}

fn agent_reaction(rng: &mut Rng, b: &Behaviour, timeout: Time) -> (Time, bool, u8) {
    let r = rng.unit();
    if r < b.no_answer_share {
        (timeout, false, 0)
    } else if r < b.no_answer_share + b.busy_share {
        (crate::core::secs(0.2), false, 1)
    } else if r < b.no_answer_share + b.busy_share + b.reject_share {
        (crate::core::secs(rng.unit() * 2.0), false, 2)
    } else {
        let d = crate::core::secs(rng.exp(b.answer_seconds)).min(timeout.saturating_sub(1));
        (d, true, 0)
    }
}

/// Calls still in the engine that were never answered.
fn pending_unanswered(engine: &Engine) -> u64 {
    engine.call_views(0).iter().filter(|c| c.agent.is_none()).count() as u64
}

impl SimReport {
    /// Human-readable summary (the `hotline-sim` output).
    pub fn render(&self, erlang: Option<(u32, f64, f64)>) -> String {
        let o = &self.outcome;
        let mut s = format!(
            "simulated {:.2} h: {} callers, {} answered, {} abandoned, {} exited, {} callbacks, {} still in system\n\
             {} offers ({} failed), {} routing decisions, {} invariant checks passed\n\n",
            self.simulated as f64 / 3_600_000.0,
            o.arrived,
            o.answered,
            o.abandoned,
            o.exited,
            o.callbacks,
            o.still_in_system,
            o.offers,
            o.failed_offers,
            o.decisions,
            o.invariant_checks
        );
        s.push_str(&self.stats.to_string());
        if let Some((c, lambda, h)) = erlang {
            let expect = crate::core::erlang::mean_wait(c, lambda, h);
            s.push_str(&format!(
                "\nErlang C (M/M/{c}, {:.3} calls/s, {:.0} s handle): mean wait {:.2} s expected, {:.2} s simulated\n",
                lambda, h, expect, o.mean_wait_all
            ));
        }
        s
    }
}
