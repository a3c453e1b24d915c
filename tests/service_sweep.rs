//! The sweep: a talk whose end was never reported (the caller's channel is
//! gone) is ended and its agent freed; a talk whose channel lives, or whose
//! data names no channel, is left alone.

use std::path::PathBuf;
use std::time::Duration;

use hotline::core::{Action, AgentState, CallerInfo, EventKind, Input, OfferOutcome};
use hotline::router::{Query, Reply, RouterOptions, SinkKind};
use hotline::service::{PbxSide, Service, Sweep};

#[test]
fn a_talk_whose_caller_channel_is_gone_is_ended_and_its_agent_freed() {
    let dir = std::env::temp_dir().join(format!("hotline-sweep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let cfg = dir.join("hotline.toml");
    std::fs::write(
        &cfg,
        "[store]\nenabled = false\n[[queue]]\nname = \"q\"\n\
         [[agent]]\nname = \"a\"\ncontact = \"Local/a@x\"\nqueues = [\"q\"]\n\
         [[agent]]\nname = \"b\"\ncontact = \"Local/b@x\"\nqueues = [\"q\"]\n",
    )
    .expect("config");
    // Channel "gone-1" no longer exists; "live-1" does.
    let alive = |data: &[(String, String)]| data.iter().find(|(k, _)| k == "uniqueid").map(|(_, v)| v != "gone-1");
    let pbx = PbxSide {
        fire: Box::new(|_| {}),
        default_store: PathBuf::new(),
        channel_alive: Some(Box::new(alive)),
        record_pause: None,
        sweep: Sweep { every: Duration::from_millis(50), older_than: Duration::from_millis(0) },
        sounds: hotline::ivr::sounds::SoundLayout::Plain,
    };
    let s = Service::start_with(cfg, RouterOptions::default(), pbx).expect("start");
    let events = s.router.subscribe("test", SinkKind::BestEffort, 1024).expect("sink").events;
    let talk = |uniqueid: &str| {
        let caller = CallerInfo { data: vec![("uniqueid".into(), uniqueid.into())], ..Default::default() };
        let h = s.router.enter("q", caller).expect("enter");
        let Some(Action::Offer { targets, seq, .. }) = h.recv_timeout(Duration::from_secs(2)) else { panic!("offer") };
        s.router.send(Input::OfferResult { call: h.id, agent: targets[0].agent, outcome: OfferOutcome::Answered, seq }).expect("send");
        (h, targets[0].name.to_string())
    };
    let (gone, gone_agent) = talk("gone-1");
    let (live, live_agent) = talk("live-1");
    let e = loop {
        let e = events.recv_timeout(Duration::from_secs(5)).expect("the sweep ends the lost talk");
        if matches!(&e.event.kind, EventKind::CallGone { .. }) {
            break e;
        }
    };
    assert!(matches!(&e.event.kind, EventKind::CallGone { call, .. } if *call == gone.id), "{e:?}");
    // Some more sweeps: the live talk stays.
    std::thread::sleep(Duration::from_millis(300));
    assert!(!events.try_iter().any(|e| matches!(&e.event.kind, EventKind::CallGone { .. })), "a live talk was ended");
    let Reply::Agents(agents) = s.router.query(Query::Agents, Duration::from_secs(2)).expect("agents") else { panic!() };
    let state = |n: &str| agents.iter().find(|a| &*a.name == n).map(|a| a.state.clone()).expect("agent");
    assert!(!matches!(state(&gone_agent), AgentState::OnCall(_)), "{:?}", state(&gone_agent));
    assert_eq!(state(&live_agent), AgentState::OnCall(live.id));
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
