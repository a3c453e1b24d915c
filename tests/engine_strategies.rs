//! Each distribution strategy's order, proven on the engine with a virtual
//! clock.

mod support;

use hotline::core::{AgentState, OfferOutcome};
use support::{agents, H};

fn queue(strategy: &str, extra: &str) -> String {
    format!("[[queue]]\nname = \"q\"\nstrategy = \"{strategy}\"\n{extra}\n")
}

#[test]
fn longest_idle_offers_the_agent_free_longest() {
    let mut h = H::new(&(queue("longest-idle", "") + &agents("q", 3, "")));
    // a0 then a1 take calls; a2 has been idle since login.
    let c = h.call("q");
    assert_eq!(h.offered(c), "a0");
    h.serve(c, "a0", 10_000);
    let c = h.call("q");
    assert_eq!(h.offered(c), "a1");
    h.serve(c, "a1", 10_000);
    let mut order = Vec::new();
    for _ in 0..3 {
        let c = h.call("q");
        order.push(h.offered(c));
        h.answer(c, order.last().unwrap());
    }
    assert_eq!(order, ["a2", "a0", "a1"]);
}

#[test]
fn round_robin_remembers_where_it_stopped_and_wraps() {
    let mut h = H::new(&(queue("round-robin", "") + &agents("q", 4, "")));
    let mut order = Vec::new();
    for _ in 0..6 {
        let c = h.call("q");
        let a = h.offered(c);
        h.serve(c, &a, 1000);
        order.push(a);
    }
    assert_eq!(order, ["a0", "a1", "a2", "a3", "a0", "a1"]);
    // An agent on break is skipped, and the cursor moves past it.
    h.input(hotline::core::Input::AgentBreak { agent: "a2".into(), reason: "lunch".into() });
    let mut order = Vec::new();
    for _ in 0..3 {
        let c = h.call("q");
        let a = h.offered(c);
        h.serve(c, &a, 1000);
        order.push(a);
    }
    assert_eq!(order, ["a3", "a0", "a1"]);
}

#[test]
fn linear_always_starts_from_the_top() {
    let mut h = H::new(&(queue("linear", "") + &agents("q", 3, "")));
    for _ in 0..3 {
        let c = h.call("q");
        assert_eq!(h.offered(c), "a0");
        h.serve(c, "a0", 1000);
    }
    // Top agent busy: the next one down.
    let c1 = h.call("q");
    assert_eq!(h.offered(c1), "a0");
    h.answer(c1, "a0");
    let c2 = h.call("q");
    assert_eq!(h.offered(c2), "a1");
}

#[test]
fn fewest_calls_balances_answered_calls() {
    let mut h = H::new(&(queue("fewest-calls", "") + &agents("q", 3, "")));
    // Give a0 two calls and a1 one by hand: put others on break meanwhile.
    let brk = |h: &mut H, a: &str| h.input(hotline::core::Input::AgentBreak { agent: a.into(), reason: "x".into() });
    let ready = |h: &mut H, a: &str| h.input(hotline::core::Input::AgentReady { agent: a.into() });
    brk(&mut h, "a1");
    brk(&mut h, "a2");
    for _ in 0..2 {
        let c = h.call("q");
        assert_eq!(h.offered(c), "a0");
        h.serve(c, "a0", 1000);
    }
    ready(&mut h, "a1");
    brk(&mut h, "a0");
    let c = h.call("q");
    assert_eq!(h.offered(c), "a1");
    h.serve(c, "a1", 1000);
    ready(&mut h, "a0");
    ready(&mut h, "a2");
    let mut order = Vec::new();
    for _ in 0..3 {
        let c = h.call("q");
        let a = h.offered(c);
        h.answer(c, &a);
        order.push(a);
    }
    assert_eq!(order, ["a2", "a1", "a0"]);
}

#[test]
fn least_talk_time_prefers_the_least_talked() {
    let mut h = H::new(&(queue("least-talk-time", "") + &agents("q", 3, "")));
    // Serve a0 100 s, a1 10 s, a2 50 s (linear-like start order a0, a1, a2).
    for (a, ms) in [("a0", 100_000), ("a1", 10_000), ("a2", 50_000)] {
        let c = h.call("q");
        assert_eq!(h.offered(c), a);
        h.answer(c, a);
        // Keep it on the call while the next one is offered.
        h.wait(ms);
        h.hangup(c);
        // Hold the agent busy with a dummy call so the next offer goes on.
        let _ = a;
        if a != "a2" {
            // Put the served agent on break so the next agent is offered.
            h.input(hotline::core::Input::AgentBreak { agent: a.into(), reason: "x".into() });
        }
    }
    for a in ["a0", "a1"] {
        h.input(hotline::core::Input::AgentReady { agent: a.into() });
    }
    let mut order = Vec::new();
    for _ in 0..3 {
        let c = h.call("q");
        let a = h.offered(c);
        h.answer(c, &a);
        order.push(a);
    }
    assert_eq!(order, ["a1", "a2", "a0"]);
}

#[test]
fn random_spreads_calls_over_every_agent() {
    let mut h = H::new(&(queue("random", "") + &agents("q", 4, "")));
    let mut counts = std::collections::HashMap::new();
    let mut order = Vec::new();
    for _ in 0..400 {
        let c = h.call("q");
        let a = h.offered(c);
        h.serve(c, &a, 10);
        *counts.entry(a.clone()).or_insert(0) += 1;
        order.push(a);
    }
    for a in ["a0", "a1", "a2", "a3"] {
        let n = counts.get(a).copied().unwrap_or(0);
        assert!((60..=140).contains(&n), "{a} got {n} of 400: {counts:?}");
    }
    // Not a fixed rotation.
    assert!(order.windows(4).any(|w| w[0] == w[1]), "random looks like a rotation");
}

#[test]
fn skills_offers_best_proficiency_first() {
    let text = "[[queue]]\nname = \"q\"\nstrategy = \"skills\"\nskill = \"billing\"\nmin_proficiency = 3\n\
        [[agent]]\nname = \"low\"\ncontact = \"Local/l@a\"\nqueues = [\"q\"]\nskills = { billing = 4 }\n\
        [[agent]]\nname = \"best\"\ncontact = \"Local/b@a\"\nqueues = [\"q\"]\nskills = { billing = 9 }\n\
        [[agent]]\nname = \"mid\"\ncontact = \"Local/m@a\"\nqueues = [\"q\"]\nskills = { billing = 7 }\n";
    let mut h = H::new(text);
    let mut order = Vec::new();
    for _ in 0..3 {
        let c = h.call("q");
        let a = h.offered(c);
        h.answer(c, &a);
        order.push(a);
    }
    assert_eq!(order, ["best", "mid", "low"]);
}

#[test]
fn caller_skill_requirements_filter_agents() {
    let text = "[[queue]]\nname = \"q\"\nstrategy = \"linear\"\n\
        [[agent]]\nname = \"en\"\ncontact = \"Local/e@a\"\nqueues = [\"q\"]\nskills = { english = 9 }\n\
        [[agent]]\nname = \"vi\"\ncontact = \"Local/v@a\"\nqueues = [\"q\"]\nskills = { vietnamese = 6 }\n";
    let mut h = H::new(text);
    let c = h.call_with("q", hotline::core::CallerInfo { skills: vec![("vietnamese".into(), 5)], ..Default::default() });
    assert_eq!(h.offered(c), "vi");
    // A second Vietnamese caller waits although "en" is free.
    let c2 = h.call_with("q", hotline::core::CallerInfo { skills: vec![("vietnamese".into(), 5)], ..Default::default() });
    h.no_offer(c2);
    h.serve(c, "vi", 1000);
    assert_eq!(h.offered(c2), "vi");
}

#[test]
fn ring_all_rings_every_ready_agent_and_frees_the_losers() {
    let mut h = H::new(&(queue("ring-all", "") + &agents("q", 3, "")));
    let c = h.call("q");
    let mut rung = h.offer_of(c).expect("offer");
    rung.sort();
    assert_eq!(rung, ["a0", "a1", "a2"]);
    h.answer(c, "a1");
    assert_eq!(h.state("a1"), AgentState::OnCall(c));
    assert_eq!(h.state("a0"), AgentState::Available);
    assert_eq!(h.state("a2"), AgentState::Available);
    // Losers' offers are cancelled, not counted as misses.
    let c2 = h.call("q");
    let mut rung = h.offer_of(c2).expect("offer");
    rung.sort();
    assert_eq!(rung, ["a0", "a2"]);
    h.result(c2, "a0", OfferOutcome::NoAnswer);
    h.answer(c2, "a2");
    assert_eq!(h.state("a2"), AgentState::OnCall(c2));
}

#[test]
fn lower_tier_first_and_higher_tier_only_after_widening() {
    let text = "[[queue]]\nname = \"q\"\nstrategy = \"linear\"\nmax_tier = 1\n\
        [[queue.widen]]\nafter_seconds = 30\nmax_tier = 2\n\
        [[agent]]\nname = \"t1\"\ncontact = \"Local/1@a\"\n[[agent.member]]\nqueue = \"q\"\ntier = 1\n\
        [[agent]]\nname = \"t2\"\ncontact = \"Local/2@a\"\n[[agent.member]]\nqueue = \"q\"\ntier = 2\n";
    let mut h = H::new(text);
    let c1 = h.call("q");
    assert_eq!(h.offered(c1), "t1");
    h.answer(c1, "t1");
    let c2 = h.call("q");
    h.no_offer(c2);
    h.wait(29_000);
    h.no_offer(c2);
    h.wait(1_000);
    assert_eq!(h.offered(c2), "t2");
}
