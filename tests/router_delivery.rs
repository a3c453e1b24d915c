// SPDX-License-Identifier: GPL-2.0-or-later
//! Nothing the router decides is lost silently: an action that finds its
//! call's channel full waits, in order, until there is room (a caller is
//! never left on hold music for ever); a callback the PBX cannot be handed
//! fails its offer at once instead of waiting for the watchdog.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use hotline::core::event::EventKind;
use hotline::core::{Action, AgentState, CallerInfo, Config, ExitReason, Input, OfferOutcome};
use hotline::router::{Query, Reply, Router, RouterOptions, SinkKind};

fn config(text: &str) -> Arc<Config> {
    Arc::new(Config::parse(text, "t.toml").expect("config"))
}

/// Wait for the first event that `f` accepts (the proof that a moment
/// has passed); panics if none comes within a generous time.
fn wait_event(events: &crossbeam_channel::Receiver<Arc<hotline::router::BusEvent>>, f: impl Fn(&EventKind) -> bool) {
    loop {
        let e = events.recv_timeout(Duration::from_secs(10)).expect("the event");
        if f(&e.event.kind) {
            return;
        }
    }
}

#[test]
fn an_exit_that_finds_the_callers_channel_full_is_delivered_later_in_order() {
    // Announcements every 50 ms fill a one-slot channel nobody reads; the
    // exit at 300 ms finds it full.
    let cfg = config("[[queue]]\nname = \"w\"\nannounce_every_seconds = 0.05\nmax_wait_seconds = 0.3\n");
    let opts = RouterOptions { call_capacity: 1, ..RouterOptions::default() };
    let router = Router::start(cfg, opts).expect("start");
    let events = router.subscribe("test", SinkKind::BestEffort, 1024).expect("sink").events;
    let h = router.enter("w", CallerInfo::default()).expect("enter");
    wait_event(&events, |k| matches!(k, EventKind::CallExited { .. }));
    assert!(router.counters.actions_deferred.load(Ordering::Relaxed) >= 1, "the exit found the channel full");
    // The caller's thread reads now: announcements first, then the exit.
    let mut got = Vec::new();
    loop {
        let a = h.recv_timeout(Duration::from_secs(10)).expect("every action, the exit last");
        let exit = matches!(a, Action::Exit { .. });
        got.push(a);
        if exit {
            break;
        }
    }
    assert!(matches!(got.last(), Some(Action::Exit { reason: ExitReason::Timeout, .. })), "{got:?}");
    assert!(got[..got.len() - 1].iter().all(|a| matches!(a, Action::Announce { .. })), "{got:?}");
    assert_eq!(router.counters.actions_dropped.load(Ordering::Relaxed), 0);
    // Delivered, the caller's port goes.
    let live = router.query(Query::LiveCalls, Duration::from_secs(5)).expect("query");
    assert!(matches!(live, Reply::Count(0)), "{live:?}");
}

#[test]
fn a_callback_the_pbx_cannot_be_handed_fails_its_offer_at_once() {
    let cfg = config(
        "[[queue]]\nname = \"q\"\nstrategy = \"linear\"\ncallback_contact = \"Local/{number}@out\"\n\
         [[agent]]\nname = \"a\"\ncontact = \"Local/a@x\"\nqueues = [\"q\"]\n\
         [[agent]]\nname = \"b\"\ncontact = \"Local/b@x\"\nqueues = [\"q\"]\n",
    );
    // Room for one callback; nobody takes it.
    let opts = RouterOptions { global_capacity: 1, ..RouterOptions::default() };
    let router = Router::start(cfg, opts).expect("start");
    let events = router.subscribe("test", SinkKind::BestEffort, 1024).expect("sink").events;
    for agent in ["a", "b"] {
        router.send(Input::AgentBreak { agent: agent.into(), reason: "lunch".into() }).expect("send");
    }
    let mut handles = Vec::new();
    for number in ["0901", "0902"] {
        let h = router.enter("q", CallerInfo { number: number.into(), ..Default::default() }).expect("enter");
        router.send(Input::CallbackRequest { call: h.id, number: number.into() }).expect("send");
        let a = h.recv_timeout(Duration::from_secs(10)).expect("the exit");
        assert!(matches!(a, Action::Exit { reason: ExitReason::CallbackScheduled, .. }), "{a:?}");
        handles.push(h);
    }
    router.send(Input::AgentReady { agent: "a".into() }).expect("send");
    router.send(Input::AgentReady { agent: "b".into() }).expect("send");
    // b's callback finds the channel full: its offer fails now.
    wait_event(&events, |k| matches!(k, EventKind::OfferFailed { agent, outcome: OfferOutcome::Unavailable, .. } if &**agent == "b"));
    assert_eq!(router.counters.callbacks_failed.load(Ordering::Relaxed), 1);
    let Reply::Agents(agents) = router.query(Query::Agents, Duration::from_secs(5)).expect("agents") else { panic!("agents") };
    let state = |n: &str| agents.iter().find(|a| a.name == n).map(|a| a.state.clone());
    assert!(matches!(state("a"), Some(AgentState::Ringing(_))), "a's callback was handed over");
    assert_eq!(state("b"), Some(AgentState::Available), "b is free, not ringing until the watchdog");
    let Reply::Calls(calls) = router.query(Query::Calls, Duration::from_secs(5)).expect("calls") else { panic!("calls") };
    assert_eq!(calls.len(), 2, "the failed callback waits again: {calls:?}");
    let globals = router.global_actions();
    assert!(matches!(globals.try_recv(), Ok(Action::Callback { .. })));
    assert!(globals.try_recv().is_err(), "one callback handed over");
}
