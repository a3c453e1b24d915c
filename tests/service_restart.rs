//! The durable store across a restart of the service (what a PBX restart
//! does to the module): agents come back in the state they were in, and a
//! pending callback is still in line and is served.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use hotline::core::{Action, AgentState, CallerInfo, ExitReason, Input};
use hotline::router::{Query, Reply};
use hotline::service::Service;

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn setup() -> (Dir, PathBuf) {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!("hotline-restart-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let cfg = dir.join("hotline.toml");
    std::fs::write(
        &cfg,
        format!(
            "[store]\npath = \"{}\"\n[[queue]]\nname = \"q\"\ncallback_contact = \"Local/{{number}}@out\"\n\
             [[agent]]\nname = \"a\"\ncontact = \"Local/a@x\"\nqueues = [\"q\", \"r\"]\n\
             [[agent]]\nname = \"b\"\ncontact = \"Local/b@x\"\nqueues = [\"q\"]\n\
             [[queue]]\nname = \"r\"\n\
             [[agent]]\nname = \"c\"\ncontact = \"Local/c@x\"\nqueues = [\"r\"]\n",
            dir.join("state/hotline.db").display()
        ),
    )
    .expect("config");
    (Dir(dir), cfg)
}

fn state(s: &Service, agent: &str) -> AgentState {
    let Reply::Agents(v) = s.router.query(Query::Agents, Duration::from_secs(2)).expect("agents") else { panic!() };
    v.into_iter().find(|a| &*a.name == agent).expect("agent").state
}

fn eventually(what: &str, mut ok: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(5);
    while !ok() {
        assert!(Instant::now() < end, "{what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn agents_and_pending_callbacks_survive_a_restart() {
    let (_dir, cfg) = setup();
    let first_call;
    {
        let s = Service::start(cfg.clone()).expect("start");
        s.router.send(Input::AgentBreak { agent: "a".into(), reason: "lunch".into() }).expect("send");
        s.router.send(Input::AgentLogout { agent: "b".into() }).expect("send");
        // Run-time members: c joins q, a leaves r; c logs in from another phone.
        s.router.send(Input::AddMember { agent: "c".into(), queue: "q".into(), penalty: 3, tier: 2 }).expect("send");
        s.router.send(Input::RemoveMember { agent: "a".into(), queue: "r".into() }).expect("send");
        s.router.send(Input::AgentLogin { agent: "c".into(), contact: Some("Local/2002@desk".into()) }).expect("send");
        s.router.send(Input::AgentBreak { agent: "c".into(), reason: "coffee".into() }).expect("send");
        let h = s.router.enter("q", CallerInfo { number: "0901234567".into(), priority: 3, ..Default::default() }).expect("enter");
        first_call = h.id;
        s.router.send(Input::CallbackRequest { call: h.id, number: "0901234567".into() }).expect("send");
        let exit = h.recv_timeout(Duration::from_secs(2));
        assert!(matches!(exit, Some(Action::Exit { reason: ExitReason::CallbackScheduled, .. })), "{exit:?}");
        eventually("the store has the callback", || {
            let store = s.store.as_ref().expect("store");
            store.flush(Duration::from_secs(1)) && store.snapshot().expect("snapshot").callbacks.len() == 1
        });
        s.stop();
    }
    let s = Service::start(cfg).expect("restart");
    assert_eq!(state(&s, "a"), AgentState::Break("lunch".into()));
    assert_eq!(state(&s, "b"), AgentState::LoggedOut);
    assert_eq!(state(&s, "c"), AgentState::Break("coffee".into()));
    let Reply::Agents(v) = s.router.query(Query::Agents, Duration::from_secs(2)).expect("agents") else { panic!() };
    let view = |n: &str| v.iter().find(|a| &*a.name == n).cloned().expect("agent");
    assert_eq!(&*view("c").contact, "Local/2002@desk", "the hot-desk phone is kept");
    let mut cq: Vec<String> = view("c").queues.iter().map(|q| q.to_string()).collect();
    cq.sort();
    assert_eq!(cq, ["q", "r"], "a run-time membership is kept");
    assert!(!view("a").queues.iter().any(|q| &**q == "r"), "a run-time removal is kept");
    // The callback is back in line, under its old id; new calls get new ids.
    let Reply::Calls(calls) = s.router.query(Query::Calls, Duration::from_secs(2)).expect("calls") else { panic!() };
    assert_eq!(calls.iter().map(|c| (c.id, c.callback)).collect::<Vec<_>>(), [(first_call, true)]);
    assert!(s.router.new_call_id() > first_call);
    // An agent comes back: the callback is rung.
    let globals = s.router.global_actions();
    s.router.send(Input::AgentReady { agent: "a".into() }).expect("send");
    let a = globals.recv_timeout(Duration::from_secs(2)).expect("callback action");
    assert!(matches!(&a, Action::Callback { call, number, .. } if *call == first_call && number == "0901234567"), "{a:?}");
    s.stop();
}

#[test]
fn a_store_that_cannot_open_leaves_calls_going_and_says_why() {
    let (dir, cfg) = setup();
    // The store's directory is a file: it cannot be created.
    std::fs::write(dir.0.join("state"), "not a directory").expect("file");
    let s = Service::start(cfg).expect("the service starts without its store");
    let why = s.store_status().expect_err("no store");
    assert!(why.contains("state"), "{why}");
    let h = s.router.enter("q", CallerInfo::default()).expect("calls go on");
    assert!(matches!(h.recv_timeout(Duration::from_secs(2)), Some(Action::Offer { .. })));
    s.stop();
}
