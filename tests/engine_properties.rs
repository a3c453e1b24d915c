//! Property tests: random sequences of PBX inputs and operator commands
//! (run-time members, hot desking, resets, reloads) never break the
//! engine's invariants (no agent offered two calls, no caller waiting
//! beside an eligible idle agent, no caller lost or served twice).

mod support;

use std::collections::HashSet;

use hotline::core::event::EventKind;
use hotline::core::{Action, CallId, CallerInfo, EndedBy, Engine, Input, OfferOutcome};
use proptest::prelude::*;

const CONFIG: &str = r#"
[[queue]]
name = "a"
strategy = "longest-idle"
wrapup_seconds = 2
max_wait_seconds = 120
ring_escalate_seconds = 4
requeue_short_seconds = 3
busy_backoff_seconds = 2
callback_contact = "Local/{number}@out"
max_tier = 1
sticky_seconds = 600
prefer_wait_seconds = 5
  [[queue.widen]]
  after_seconds = 10
  max_tier = 2
  [[queue.widen]]
  after_seconds = 20
  max_tier = 2
  drop_skills = true
  [[queue.overflow]]
  to = "b"
  after_seconds = 40
[[queue]]
name = "b"
strategy = "ring-all"
ring_timeout_seconds = 5
callback_contact = "Local/{number}@out"
[[queue]]
name = "c"
strategy = "round-robin"
ring_escalate_seconds = 2
requeue_short_seconds = 5
requeue_max = 2
max_no_answer = 2
leave_when_empty = true
[[agent]]
name = "x0"
contact = "Local/x0@t"
queues = ["a", "b"]
skills = { vietnamese = 7 }
[[agent]]
name = "x1"
contact = "Local/x1@t"
queues = ["a", "c"]
[[agent]]
name = "x2"
contact = "Local/x2@t"
queues = ["b", "c"]
skills = { vietnamese = 4, english = 9 }
  [[agent.member]]
  queue = "a"
  tier = 2
[[agent]]
name = "x3"
contact = "Local/x3@t"
queues = ["c"]
"#;

#[derive(Debug, Clone)]
enum Step {
    Arrive { queue: u8, vip: bool, number: u8 },
    Report { pick: u8, outcome: u8 },
    Hangup { pick: u8 },
    End { pick: u8 },
    Callback { pick: u8 },
    Agent { agent: u8, op: u8 },
    Member { agent: u8, queue: u8, op: u8, penalty: u8 },
    Reset { agent: u8 },
    Gone { pick: u8 },
    Reload,
    Wait { ms: u32 },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0u8..3, any::<bool>(), 0u8..4).prop_map(|(queue, vip, number)| Step::Arrive { queue, vip, number }),
        4 => (any::<u8>(), 0u8..6).prop_map(|(pick, outcome)| Step::Report { pick, outcome }),
        1 => any::<u8>().prop_map(|pick| Step::Hangup { pick }),
        2 => any::<u8>().prop_map(|pick| Step::End { pick }),
        1 => any::<u8>().prop_map(|pick| Step::Callback { pick }),
        1 => (0u8..4, 0u8..9).prop_map(|(agent, op)| Step::Agent { agent, op }),
        2 => (0u8..4, 0u8..3, 0u8..3, 0u8..8).prop_map(|(agent, queue, op, penalty)| Step::Member { agent, queue, op, penalty }),
        1 => (0u8..4).prop_map(|agent| Step::Reset { agent }),
        1 => any::<u8>().prop_map(|pick| Step::Gone { pick }),
        1 => Just(Step::Reload),
        2 => (1u32..30_000).prop_map(|ms| Step::Wait { ms }),
    ]
}

fn talking_agent(e: &Engine, a: u32, names: [&str; 4]) -> bool {
    matches!(e.agent_state(names[a as usize]), Some(hotline::core::AgentState::OnCall(_)))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_under_random_inputs(steps in proptest::collection::vec(step(), 1..120)) {
        let config = support::cfg(CONFIG);
        let mut e = Engine::new(config.clone(), 0, 7);
        let mut now = 0u64;
        let mut next = 1u64;
        // (call, agent, offer) legs outstanding, as the PBX sees them.
        let mut ringing: Vec<(CallId, u32, u32)> = Vec::new();
        // The offer each call rings for, and its agents so far.
        let mut offers: std::collections::HashMap<CallId, u32> = Default::default();
        let mut talking: Vec<CallId> = Vec::new();
        let mut live: Vec<CallId> = Vec::new();
        let mut answered: HashSet<CallId> = HashSet::new();
        let mut finished: HashSet<CallId> = HashSet::new();
        let mut entered = 0u64;
        let agents = ["x0", "x1", "x2", "x3"];
        for s in steps {
            let input = match s {
                Step::Arrive { queue, vip, number } => {
                    let id = CallId(next);
                    next += 1;
                    entered += 1;
                    live.push(id);
                    let mut caller = CallerInfo { number: format!("09{number}"), priority: if vip { 5 } else { 0 }, ..Default::default() };
                    // Some callers need a language, at two levels.
                    match number {
                        1 => caller.skills = vec![("vietnamese".into(), 5)],
                        2 => caller.skills = vec![("vietnamese".into(), 3)],
                        _ => {}
                    }
                    Some(Input::CallEnter { call: id, queue: ["a", "b", "c"][queue as usize].into(), caller })
                }
                Step::Report { pick, outcome } if !ringing.is_empty() => {
                    let (call, agent, seq) = ringing.remove(pick as usize % ringing.len());
                    let outcome = [OfferOutcome::Answered, OfferOutcome::NoAnswer, OfferOutcome::Busy,
                        OfferOutcome::Unavailable, OfferOutcome::Rejected, OfferOutcome::Answered][outcome as usize];
                    if outcome == OfferOutcome::Answered {
                        // The PBX hangs up the other legs of this offer.
                        ringing.retain(|(c, _, _)| *c != call);
                        talking.push(call);
                    }
                    Some(Input::OfferResult { call, agent, outcome, seq })
                }
                Step::Hangup { pick } if !live.is_empty() => {
                    let call = live[pick as usize % live.len()];
                    ringing.retain(|(c, _, _)| *c != call);
                    live.retain(|c| *c != call);
                    talking.retain(|c| *c != call);
                    Some(Input::CallerHangup { call })
                }
                Step::End { pick } if !talking.is_empty() => {
                    let call = talking.remove(pick as usize % talking.len());
                    live.retain(|c| *c != call);
                    Some(Input::CallEnded { call, by: EndedBy::Agent })
                }
                Step::Callback { pick } if !live.is_empty() => {
                    let call = live[pick as usize % live.len()];
                    Some(Input::CallbackRequest { call, number: "0900".into() })
                }
                Step::Agent { agent, op } => {
                    let agent = agents[agent as usize].to_string();
                    Some(match op {
                        0 => Input::AgentLogin { agent, contact: None },
                        1 => Input::AgentLogout { agent },
                        2 => Input::AgentBreak { agent, reason: "x".into() },
                        3 => Input::AgentReady { agent },
                        4 => Input::DeviceState { device: format!("Local/{agent}@t"), busy: true },
                        5 => Input::DeviceState { device: format!("Local/{agent}@t"), busy: false },
                        // Hot desking, and the desk phone's state.
                        6 => Input::AgentLogin { contact: Some(format!("Local/{agent}-desk@t")), agent },
                        7 => Input::DeviceState { device: format!("Local/{agent}-desk@t"), busy: true },
                        _ => Input::DeviceState { device: format!("Local/{agent}-desk@t"), busy: false },
                    })
                }
                Step::Member { agent, queue, op, penalty } => {
                    let (agent, queue) = (agents[agent as usize].to_string(), ["a", "b", "c"][queue as usize].to_string());
                    let penalty = penalty as u32;
                    Some(match op {
                        0 => Input::AddMember { agent, queue, penalty, tier: 1 + penalty as u8 % 2 },
                        1 => Input::RemoveMember { agent, queue },
                        _ => Input::SetPenalty { agent, queue, penalty, tier: (penalty > 4).then_some(2) },
                    })
                }
                Step::Reset { agent } => {
                    // The operator frees the agent; the model PBX forgets
                    // the leg it had for it.
                    let name = agents[agent as usize];
                    if let Some(hotline::core::AgentState::OnCall(c)) = e.agent_state(name) {
                        let c = *c;
                        talking.retain(|x| *x != c);
                        live.retain(|x| *x != c);
                    }
                    ringing.retain(|(_, a, _)| *a != agent as u32);
                    Some(Input::AgentReset { agent: name.to_string() })
                }
                Step::Gone { pick } if !talking.is_empty() => {
                    let call = talking.remove(pick as usize % talking.len());
                    live.retain(|c| *c != call);
                    Some(Input::CallGone { call })
                }
                Step::Reload => Some(Input::Reload(config.clone())),
                Step::Wait { ms } => {
                    now += ms as u64;
                    e.advance(now);
                    None
                }
                _ => None,
            };
            if let Some(i) = input {
                e.handle(now, i);
            }
            // The watchdog frees offers the PBX never reported (this model
            // PBX never times out by itself).
            ringing.retain(|(c, a, _)| e.agent_state(agents[*a as usize]) == Some(&hotline::core::AgentState::Ringing(*c)));
            for a in e.take_actions() {
                match a {
                    Action::Offer { call, seq, targets, timeout, deadline } => {
                        // A new offer has a new number; one with the number
                        // of the offer ringing adds one leg (escalation)
                        // with what is left of the same deadline.
                        let escalation = offers.get(&call) == Some(&seq);
                        if escalation {
                            prop_assert_eq!(targets.len(), 1, "an escalation rings one more agent");
                            prop_assert_eq!(ringing.iter().filter(|(c, _, s)| *c == call && *s == seq).count(), 1, "escalated beside exactly one leg");
                            prop_assert!(deadline > now && deadline - now == timeout);
                        } else {
                            prop_assert!(offers.get(&call).is_none_or(|&old| seq > old), "offer numbers grow");
                            prop_assert_eq!(deadline, now + timeout);
                        }
                        offers.insert(call, seq);
                        for t in targets {
                            prop_assert!(!ringing.iter().any(|(_, ag, _)| *ag == t.agent), "agent {} offered twice", t.name);
                            prop_assert!(!talking_agent(&e, t.agent, agents), "agent {} offered while talking", t.name);
                            ringing.push((call, t.agent, seq));
                        }
                    }
                    Action::Callback { call, seq, target, .. } => {
                        prop_assert!(!ringing.iter().any(|(_, ag, _)| *ag == target.agent));
                        offers.insert(call, seq);
                        ringing.push((call, target.agent, seq));
                        if !live.contains(&call) { live.push(call); }
                    }
                    Action::Requeued { call } => {
                        // Back in line after a short talk: the caller is
                        // still there.
                        if !live.contains(&call) { live.push(call); }
                    }
                    Action::Exit { call, reason } => {
                        if reason != hotline::core::ExitReason::CallbackScheduled {
                            live.retain(|c| *c != call);
                        }
                    }
                    _ => {}
                }
            }
            // Every agent the engine holds as ringing was handed to the PBX in
            // an offer (a ring-all callback once left the others "ringing").
            for (i, name) in agents.iter().enumerate() {
                if let Some(hotline::core::AgentState::Ringing(c)) = e.agent_state(name) {
                    prop_assert!(ringing.iter().any(|(rc, a, _)| rc == c && *a == i as u32), "{name} ringing for call {c} with no offer emitted");
                }
            }
            for ev in e.take_events() {
                match ev.kind {
                    EventKind::CallAnswered { call, .. } => {
                        prop_assert!(answered.insert(call), "call {call} answered twice");
                    }
                    EventKind::CallAbandoned { call, .. } | EventKind::CallExited { call, .. } | EventKind::CallEnded { call, .. } => {
                        prop_assert!(finished.insert(call), "call {call} finished twice");
                    }
                    EventKind::CallRequeued { call, requeues, .. } => {
                        // Its talk ended; the call goes on, to be answered
                        // and finished again.
                        prop_assert!(requeues <= 2);
                        finished.remove(&call);
                        answered.remove(&call);
                    }
                    _ => {}
                }
            }
            if let Err(msg) = e.check_invariants(now) {
                prop_assert!(false, "t={now}: {msg}");
            }
        }
        // Conservation: every caller is finished or still known to the engine.
        prop_assert_eq!(finished.len() as u64 + e.active_calls() as u64, entered);
    }
}
