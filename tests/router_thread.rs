//! The router thread: bounded channels in, per-call channels plus the
//! adapter's wake-up out, queries, events, shutdown joins.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline::core::{Action, CallerInfo, Config, EndedBy, Input, OfferOutcome};
use hotline::router::{CallHandle, Query, Reply, Router, RouterError, RouterOptions, Signal, SinkKind};

/// Enter a call whose wake-up is a [`Signal`] to sleep on.
fn enter_signalled(router: &Router, caller: CallerInfo) -> (CallHandle, Arc<Signal>) {
    let signal = Arc::new(Signal::default());
    let h = router.enter_as(router.new_call_id(), "q", caller, signal.clone()).expect("enter");
    (h, signal)
}

fn config() -> Arc<Config> {
    Arc::new(
        Config::parse(
            "[[queue]]\nname = \"q\"\nstrategy = \"linear\"\n\
             [[agent]]\nname = \"a\"\ncontact = \"Local/a@x\"\nqueues = [\"q\"]\n\
             [[agent]]\nname = \"b\"\ncontact = \"Local/b@x\"\nqueues = [\"q\"]\n",
            "t.toml",
        )
        .expect("config"),
    )
}

#[test]
fn a_call_is_offered_answered_and_ended_through_the_thread() {
    let router = Router::start(config(), RouterOptions::default()).expect("start");
    let events = router.subscribe("test", SinkKind::BestEffort, 1024).expect("sink").events;
    let (h, signal) = enter_signalled(&router, CallerInfo { number: "0901".into(), ..Default::default() });
    // The call's wake-up is called once the decision is queued.
    let t = Instant::now();
    assert!(signal.wait(Duration::from_secs(2)), "woken");
    let woke_after = t.elapsed();
    let Some(Action::Offer { targets, seq, .. }) = h.actions.try_recv().ok() else { panic!("offer expected") };
    assert_eq!(&*targets[0].name, "a");
    assert!(woke_after < Duration::from_millis(500), "decision took {woke_after:?}");
    router.send(Input::OfferResult { call: h.id, agent: targets[0].agent, outcome: OfferOutcome::Answered, seq }).expect("send");
    router.send(Input::CallEnded { call: h.id, by: EndedBy::Caller }).expect("send");
    let Reply::Stats(report, _) = router.query(Query::Stats, Duration::from_secs(2)).expect("stats") else { panic!() };
    let q = report.queues.iter().find(|q| q.name == "q").expect("queue row");
    assert_eq!((q.entered, q.answered), (1, 1));
    let names: Vec<_> = events.try_iter().map(|e| e.event.kind.name()).collect();
    for n in ["CallEntered", "CallOffered", "CallAnswered", "CallEnded"] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    let Reply::Count(live) = router.query(Query::LiveCalls, Duration::from_secs(2)).expect("live") else { panic!() };
    assert_eq!(live, 0);
    router.shutdown();
}

#[test]
fn a_full_command_channel_is_an_error_not_a_wait() {
    let opts = RouterOptions { command_capacity: 4, ..Default::default() };
    let router = Router::start(config(), opts).expect("start");
    // Flood faster than the thread drains; some sends must be refused.
    let mut full = 0;
    let t = Instant::now();
    for _ in 0..100_000 {
        match router.send(Input::AgentReady { agent: "a".into() }) {
            Err(RouterError::Full) => full += 1,
            Err(e) => panic!("{e}"),
            Ok(()) => {}
        }
    }
    assert!(t.elapsed() < Duration::from_secs(5), "senders never block");
    assert!(full > 0, "capacity 4 never filled");
    assert_eq!(router.counters.commands_rejected_full.load(std::sync::atomic::Ordering::Relaxed), full);
    router.shutdown();
}

#[test]
fn shutdown_joins_and_later_sends_fail() {
    let router = Router::start(config(), RouterOptions::default()).expect("start");
    let (h, signal) = enter_signalled(&router, CallerInfo::default());
    assert!(signal.wait(Duration::from_secs(2)));
    drop(router);
    // Shutting down wakes every caller still waiting, so its thread leaves.
    assert!(signal.wait(Duration::from_secs(2)), "woken at shutdown");
    // The router is gone: the call's channel is closed (disconnected, not
    // merely empty after a wait).
    let _ = h.actions.try_recv();
    assert_eq!(h.actions.try_recv(), Err(crossbeam_channel::TryRecvError::Disconnected));
}

#[test]
fn timers_fire_on_the_real_clock() {
    let cfg = Arc::new(
        Config::parse("[[queue]]\nname = \"q\"\nmax_wait_seconds = 0.2\n", "t.toml").expect("config"),
    );
    let router = Router::start(cfg, RouterOptions::default()).expect("start");
    let h = router.enter("q", CallerInfo::default()).expect("enter");
    let t = Instant::now();
    let a = h.recv_timeout(Duration::from_secs(3)).expect("exit action");
    assert!(matches!(a, Action::Exit { reason: hotline::core::ExitReason::Timeout, .. }), "{a:?}");
    let e = t.elapsed();
    assert!(e >= Duration::from_millis(190), "{e:?}");
}

/// Two statistics queries in one batch with other commands count every
/// event once (they used to apply pending events twice).
#[test]
fn stats_queries_count_each_call_once() {
    let router = Router::start(config(), RouterOptions::default()).expect("start");
    let mut answered = 0;
    for _ in 0..3 {
        let h = router.enter("q", CallerInfo { number: "0901".into(), ..Default::default() }).expect("enter");
        let Some(Action::Offer { targets, seq, .. }) = h.recv_timeout(Duration::from_secs(2)) else { panic!("offer expected") };
        router.send(Input::OfferResult { call: h.id, agent: targets[0].agent, outcome: OfferOutcome::Answered, seq }).expect("send");
        router.send(Input::CallEnded { call: h.id, by: EndedBy::Agent }).expect("send");
        answered += 1;
        // The queries share the command batch with the reports above.
        let rows: Vec<_> = (0..2)
            .map(|_| {
                let Reply::Stats(r, _) = router.query(Query::Stats, Duration::from_secs(2)).expect("stats") else { panic!() };
                let q = r.queues.into_iter().find(|q| q.name == "q").expect("queue row");
                (q.entered, q.answered)
            })
            .collect();
        assert_eq!(rows, vec![(answered, answered); 2]);
    }
    router.shutdown();
}

/// Every sink gets every event, numbered in order; a stalled sink loses
/// only its own events and the router goes on deciding.
#[test]
fn the_bus_feeds_every_sink_and_a_stalled_one_drops_only_its_own() {
    let router = Router::start(config(), RouterOptions { first_event_id: 1_000, ..Default::default() }).expect("start");
    let a = router.subscribe("a", SinkKind::BestEffort, 10_000).expect("a");
    let b = router.subscribe("b", SinkKind::Durable, 10_000).expect("b");
    let stalled = router.subscribe("stalled", SinkKind::BestEffort, 2).expect("stalled");
    for _ in 0..20 {
        router.send(Input::AgentBreak { agent: "a".into(), reason: "x".into() }).expect("send");
        router.send(Input::AgentReady { agent: "a".into() }).expect("send");
    }
    let Reply::Sinks(views) = router.query(Query::Sinks, Duration::from_secs(2)).expect("sinks") else { panic!() };
    let ids = |s: &hotline::router::Subscription| s.events.try_iter().map(|e| e.id).collect::<Vec<_>>();
    let (ia, ib, is) = (ids(&a), ids(&b), ids(&stalled));
    assert_eq!(ia.len(), 40, "one AgentState event per change");
    assert_eq!(ia, ib);
    assert!(ia.windows(2).all(|w| w[1] == w[0] + 1) && ia[0] >= 1_000, "{ia:?}");
    assert_eq!(is, ia[..2].to_vec());
    let stalled_view = views.iter().find(|v| v.name == "stalled").expect("view");
    assert_eq!((stalled_view.depth, stalled_view.dropped), (2, 38));
    assert_eq!(views.iter().find(|v| v.name == "a").map(|v| v.dropped), Some(0));
    router.shutdown();
}

/// The published copy follows the router within PUBLISH_EVERY of a change,
/// and an idle router publishes nothing new.
#[test]
fn the_published_copy_follows_changes_and_rests_when_idle() {
    use hotline::router::PUBLISH_EVERY;
    let router = Router::start(config(), RouterOptions::default()).expect("start");
    let until = |what: &str, f: &dyn Fn() -> bool| {
        let t = Instant::now();
        while !f() {
            assert!(t.elapsed() < Duration::from_secs(5), "{what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    until("a first copy", &|| router.published().version > 0);
    // Nobody asked for agents and calls: the copies hold the queues only.
    let lean = router.published();
    assert!(!lean.full && lean.agents.is_empty() && lean.queues.len() == 1);
    // One read asks for them; the next change (here a query) brings a full copy.
    let _ = router.published_full();
    let _ = router.query(Query::Queues, Duration::from_secs(2)).expect("query");
    until("a full copy", &|| router.published().full);
    let first = router.published();
    assert_eq!(first.agents.len(), 2);
    assert_eq!(first.queues[0].waiting, 0);
    let (_h, _signal) = enter_signalled(&router, CallerInfo { number: "0902".into(), ..Default::default() });
    until("the call in a copy", &|| router.published_full().calls.len() == 1);
    let p = router.published();
    assert!(p.version > first.version);
    assert_eq!(p.calls[0].queue, "q");
    // Nothing changes from now on (the offer rings; no timer is due for
    // the ring timeout's default 15 s): the version stays.
    let rest = router.published().version;
    // A query goes through the router's channel: after its answer the
    // router has been idle for a whole publish period.
    std::thread::sleep(Duration::from_millis(PUBLISH_EVERY * 3));
    let _ = router.query(Query::Queues, Duration::from_secs(2)).expect("query");
    std::thread::sleep(Duration::from_millis(PUBLISH_EVERY * 3));
    assert_eq!(router.published().version, rest, "no new copy while nothing changed");
}
