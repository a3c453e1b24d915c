//! mod_hotline inside a real FreeSWITCH 1.10, with real calls: callers and
//! agents are loopback channels scripted by tests/fs/dialplan.xml, driven
//! over the event socket.
//!
//! Needs the module built with `--features freeswitch` and a FreeSWITCH
//! installation: `$HOTLINE_FREESWITCH` (prefix) or `pkg-config freeswitch`.
//! Without one every test prints "skipped: FreeSWITCH not installed (...)"
//! and passes, unless `HOTLINE_REQUIRE_FREESWITCH=1`, which makes a missing
//! FreeSWITCH a failure. Run:
//!
//! ```text
//! cargo test --release --features freeswitch --test freeswitch -- --test-threads=1
//! ```
//!
//! The switch is started once for the whole binary (see
//! tests/freeswitch/switch.rs) with its own configuration, on 127.0.0.1
//! ports of its own (event socket 28021), and stopped at exit.
#![cfg(feature = "freeswitch")]

mod freeswitch {
    pub mod esl;
    pub mod switch;
}

#[path = "support/exports.rs"]
mod exports;
#[path = "support/http.rs"]
mod http;
#[path = "support/webhook.rs"]
mod webhook;
#[path = "support/audio.rs"]
mod audio;
use audio::{rms_of, tone_of};
#[path = "support/poll.rs"]
mod poll;
#[path = "support/crm.rs"]
mod crm;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use freeswitch::esl::field;
use freeswitch::switch::{stamp, switch, Switch};

fn agents_offered(s: &Switch, from: usize, queue: &str) -> Vec<String> {
    s.hotline(from, "CallOffered").iter().filter(|e| field(e, "Hotline-Queue") == queue).map(|e| field(e, "Hotline-Agent").to_string()).collect()
}

/// Place `n` callers one after another (each waits for the previous call to
/// end) and return who answered each call.
fn sequential(s: &Switch, queue: &str, n: usize, number_base: u64) -> Vec<String> {
    let mut order = Vec::new();
    for i in 0..n {
        let from = s.mark();
        let number = format!("{}", number_base + i as u64);
        s.call(queue, &number, 60_000);
        let id = s.call_id(from, &number);
        let ended = s.wait_hotline(from, "CallEnded", 1, 30, |e| field(e, "Hotline-CallId") == id);
        order.push(field(&ended[0], "Hotline-Agent").to_string());
        s.caller_done(from, queue, 1, 15);
    }
    order
}

#[test]
fn module_loads_and_answers_the_api() {
    let Some((s, _g)) = switch() else { return };
    let out = s.api("hotline show queues");
    assert!(out.lines().any(|l| l.starts_with("linear ") && l.contains("linear")), "{out}");
    assert!(out.lines().any(|l| l.starts_with("rr ") && l.contains("round-robin")), "{out}");
    let agents = s.api("hotline show agents");
    assert!(agents.lines().any(|l| l.starts_with("a261 ") && l.contains("logged-out")), "{agents}");
    assert!(s.api("hotline show calls").contains("0 calls"));
    assert!(s.api("hotline stats").contains("routing decisions"));
    assert!(s.api("hotline dance").starts_with("-USAGE"), "bad words give the usage");
    assert!(s.api("hotline agent login nosuchagent").contains("no agent named"));
    // Log lines come out of the log bridge with their source location.
    assert!(s.log().contains("Hotline 0.1.0 loaded"));
}

#[test]
fn a_call_is_answered_by_an_agent_and_bridged() {
    let Some((s, _g)) = switch() else { return };
    s.agent_mode(100, "answer", 1000);
    let from = s.mark();
    s.call("basic", "9100000", 30_000);
    let id = s.call_id(from, "9100000");
    let offered = s.wait_hotline(from, "CallOffered", 1, 10, |e| field(e, "Hotline-CallId") == id);
    assert_eq!(field(&offered[0], "Hotline-Agent"), "a100");
    let ans = s.wait_hotline(from, "CallAnswered", 1, 10, |e| field(e, "Hotline-CallId") == id);
    assert_eq!(field(&ans[0], "Hotline-Agent"), "a100");
    // A real bridge between the caller's leg and the agent's leg.
    let bridged = s.esl.wait_n(from, 1, Duration::from_secs(10), |e| {
        field(e, "Event-Name") == "CHANNEL_BRIDGE" && field(e, "variable_hotline_callid") == id
    });
    assert_eq!(field(&bridged[0], "variable_hotline_queue"), "basic");
    let ended = s.wait_hotline(from, "CallEnded", 1, 15, |e| field(e, "Hotline-CallId") == id);
    assert_eq!(field(&ended[0], "Hotline-EndedBy"), "agent");
    let talk: u64 = field(&ended[0], "Hotline-TalkMs").parse().unwrap_or(0);
    assert!((800..5000).contains(&talk), "talk {talk} ms for a 1 s agent: {ended:?}");
    let done = s.caller_done(from, "basic", 1, 15);
    assert_eq!(field(&done[0], "variable_hotline_result"), "ANSWERED");
    assert_eq!(field(&done[0], "variable_hotline_agent"), "a100");
    assert_eq!(field(&done[0], "variable_hotline_callid"), id);
    // Ended once, though both the agent's hang-up and the bridge see it.
    assert_eq!(s.hotline(from, "CallEnded").iter().filter(|e| field(e, "Hotline-CallId") == id).count(), 1);
    // The agent leg carried the screen-pop variables and its agent id.
    let leg = s.esl.wait_n(from, 1, Duration::from_secs(10), |e| {
        field(e, "Event-Name") == "CHANNEL_HANGUP_COMPLETE" && field(e, "Channel-Name").starts_with("loopback/100-a")
    });
    assert_eq!(field(&leg[0], "variable_hotline_callid"), id);
    assert_eq!(field(&leg[0], "variable_hotline_agent_id"), "0");
    s.settle();
}

#[test]
fn linear_strategy_starts_from_the_top() {
    let Some((s, _g)) = switch() else { return };
    for id in [101, 102, 103] {
        s.agent_mode(id, "answer", 500);
    }
    assert_eq!(sequential(s, "linear", 3, 9_101_000), ["a101", "a101", "a101"]);
    // Top agent busy with a call: the next one down.
    s.agent_mode(101, "answer", 4000);
    let from = s.mark();
    s.call("linear", "9101100", 60_000);
    s.wait_hotline(from, "CallAnswered", 1, 15, |e| field(e, "Hotline-Agent") == "a101");
    s.call("linear", "9101101", 60_000);
    s.wait_hotline(from, "CallAnswered", 2, 15, |_| true);
    assert_eq!(agents_offered(s, from, "linear"), ["a101", "a102"]);
    s.caller_done(from, "linear", 2, 20);
    s.settle();
}

#[test]
fn round_robin_strategy_rotates() {
    let Some((s, _g)) = switch() else { return };
    for id in [111, 112, 113] {
        s.agent_mode(id, "answer", 300);
    }
    let order = sequential(s, "rr", 5, 9_111_000);
    let pos = |a: &str| ["a111", "a112", "a113"].iter().position(|x| *x == a).expect("member");
    for w in order.windows(2) {
        assert_eq!((pos(&w[0]) + 1) % 3, pos(&w[1]), "{order:?}");
    }
    s.settle();
}

#[test]
fn ring_all_reports_each_leg_at_once_and_first_answer_wins() {
    let Some((s, _g)) = switch() else { return };
    // One busy leg among legs that ring: its failure is reported at once,
    // not when the others give up (ring timeout 5 s).
    s.agent_mode(141, "busy", 1000);
    s.agent_mode(142, "noanswer", 1000);
    s.agent_mode(143, "noanswer", 1000);
    let from = s.mark();
    s.call("ringall", "9141000", 7_000);
    let id = s.call_id(from, "9141000");
    let offered = s.wait_hotline(from, "CallOffered", 3, 10, |e| field(e, "Hotline-CallId") == id);
    let busy = s.wait_hotline(from, "OfferFailed", 1, 10, |e| field(e, "Hotline-Agent") == "a141");
    assert_eq!(field(&busy[0], "Hotline-Outcome"), "busy");
    let dt = stamp(&busy[0]) - stamp(&offered[0]);
    assert!(dt < 2_000_000, "busy leg reported {dt} µs after the offer (ring timeout 5 s)");
    let timeouts = s.wait_hotline(from, "OfferFailed", 2, 15, |e| field(e, "Hotline-Outcome") == "no-answer");
    let mut who: Vec<&str> = timeouts.iter().map(|e| field(e, "Hotline-Agent")).collect();
    who.sort();
    assert_eq!(who, ["a142", "a143"]);
    let done = s.caller_done(from, "ringall", 1, 15);
    assert_eq!(field(&done[0], "variable_hotline_result"), "ABANDONED");
    // The rung-out legs gone first: a leg still ending makes the next ring
    // of that agent fail at once (cause 27), not ring.
    s.wait_no_channels();
    // A new caller; now one answers: it wins, the others are cancelled.
    s.agent_mode(141, "noanswer", 1000);
    s.agent_mode(142, "answer", 1000);
    s.agent_mode(143, "noanswer", 1000);
    let from = s.mark();
    s.call("ringall", "9141001", 30_000);
    let id = s.call_id(from, "9141001");
    let ans = s.wait_hotline(from, "CallAnswered", 1, 15, |e| field(e, "Hotline-CallId") == id);
    assert_eq!(field(&ans[0], "Hotline-Agent"), "a142");
    let mut rung = agents_offered(s, from, "ringall");
    rung.sort();
    assert_eq!(rung, ["a141", "a142", "a143"]);
    let cancelled = s.wait_hotline(from, "OfferFailed", 2, 10, |e| field(e, "Hotline-Outcome") == "cancelled");
    assert_eq!(cancelled.len(), 2);
    let done = s.caller_done(from, "ringall", 1, 15);
    assert_eq!(field(&done[0], "variable_hotline_result"), "ANSWERED");
    for id in [141, 142, 143] {
        s.agent_mode(id, "answer", 500);
    }
    s.settle();
}

#[test]
fn no_answer_goes_to_the_next_agent_at_once_and_parks_the_missing_agent() {
    let Some((s, _g)) = switch() else { return };
    s.agent_mode(201, "noanswer", 1000);
    s.agent_mode(202, "answer", 1000);
    s.agent_mode(203, "answer", 1000);
    s.api("hotline agent ready a201");
    let from = s.mark();
    s.call("noanswer", "9201000", 60_000);
    let failed = s.wait_hotline(from, "OfferFailed", 1, 15, |e| field(e, "Hotline-Agent") == "a201");
    assert_eq!(field(&failed[0], "Hotline-Outcome"), "no-answer");
    let t = Instant::now();
    let ans = s.wait_hotline(from, "CallAnswered", 1, 15, |e| field(e, "Hotline-Queue") == "noanswer");
    assert_ne!(field(&ans[0], "Hotline-Agent"), "a201", "not back to the agent that just failed");
    assert!(t.elapsed() < Duration::from_secs(2), "re-offer took {:?}", t.elapsed());
    s.caller_done(from, "noanswer", 1, 15);
    // A second miss in a row parks a201 on break with reason no-answer.
    let from = s.mark();
    s.call("noanswer", "9201001", 60_000);
    let st = s.wait_hotline(from, "AgentState", 1, 20, |e| field(e, "Hotline-Agent") == "a201" && field(e, "Hotline-State") == "break");
    assert_eq!(field(&st[0], "Hotline-Reason"), "no-answer");
    s.caller_done(from, "noanswer", 1, 20);
    s.agent_mode(201, "answer", 1000);
    s.api("hotline agent ready a201");
    s.settle();
}

#[test]
fn busy_agent_is_reported_and_not_left_stuck() {
    let Some((s, _g)) = switch() else { return };
    s.agent_mode(291, "busy", 1000);
    let from = s.mark();
    s.call("busy", "9291000", 3000);
    let failed = s.wait_hotline(from, "OfferFailed", 1, 15, |e| field(e, "Hotline-Agent") == "a291");
    assert_eq!(field(&failed[0], "Hotline-Outcome"), "busy");
    // The failed leg names its caller, so event-socket tools can tie the two.
    let caller = s.hotline(from, "CallEntered").into_iter().find(|e| field(e, "Hotline-CallerNumber") == "9291000").expect("entered");
    let leg = s.esl.wait_n(from, 1, Duration::from_secs(10), |e| {
        field(e, "Event-Name") == "CHANNEL_HANGUP_COMPLETE" && field(e, "variable_hotline_agent") == "a291"
    });
    assert_eq!(field(&leg[0], "variable_hotline_caller_uuid"), field(&caller, "Hotline-Uuid"));
    // The caller gives up; the agent is available again.
    s.wait_hotline(from, "CallAbandoned", 1, 15, |_| true);
    let done = s.caller_done(from, "busy", 1, 10);
    assert_eq!(field(&done[0], "variable_hotline_result"), "ABANDONED");
    let agents = s.api("hotline show agents");
    assert!(agents.lines().any(|l| l.starts_with("a291 ") && l.contains("available")), "{agents}");
    s.agent_mode(291, "answer", 1000);
    s.settle();
}

#[test]
fn caller_abandon_while_ringing_frees_the_agent() {
    let Some((s, _g)) = switch() else { return };
    s.agent_mode(281, "noanswer", 1000);
    let from = s.mark();
    s.call("abandon", "9281000", 2000);
    s.wait_hotline(from, "CallOffered", 1, 10, |e| field(e, "Hotline-Agent") == "a281");
    let ab = s.wait_hotline(from, "CallAbandoned", 1, 15, |_| true);
    assert_eq!(field(&ab[0], "Hotline-Queue"), "abandon");
    s.wait_hotline(from, "AgentState", 1, 10, |e| field(e, "Hotline-Agent") == "a281" && field(e, "Hotline-State") == "available");
    let done = s.caller_done(from, "abandon", 1, 10);
    assert_eq!(field(&done[0], "variable_hotline_result"), "ABANDONED");
    // The agent's ringing leg was torn down with the caller.
    s.esl.wait_n(from, 1, Duration::from_secs(10), |e| {
        field(e, "Event-Name") == "CHANNEL_HANGUP_COMPLETE" && field(e, "variable_hotline_agent") == "a281"
    });
    s.agent_mode(281, "answer", 1000);
    s.settle();
}

#[test]
fn agent_logs_in_and_out_from_the_dialplan_and_the_waiting_caller_is_woken_at_once() {
    let Some((s, _g)) = switch() else { return };
    s.agent_mode(261, "answer", 1000);
    let from = s.mark();
    s.call("login", "9261000", 30_000);
    s.call_id(from, "9261000");
    std::thread::sleep(Duration::from_millis(500));
    assert!(s.hotline(from, "CallOffered").is_empty(), "nobody is logged in yet");
    s.agent_command("login", "a261");
    let login = s.wait_hotline(from, "AgentState", 1, 10, |e| field(e, "Hotline-Agent") == "a261" && field(e, "Hotline-State") == "available");
    let cmd = s.esl.wait_n(from, 1, Duration::from_secs(10), |e| field(e, "Hotline-Test") == "AgentCommand");
    assert_eq!(field(&cmd[0], "Hotline-Result"), "OK");
    // The caller sleeping in music hears of the decision within frames:
    // the agent's leg is created right after the login.
    let leg = s.esl.wait_n(from, 1, Duration::from_secs(10), |e| {
        field(e, "Event-Name") == "CHANNEL_CREATE" && field(e, "Channel-Name").starts_with("loopback/261-a")
    });
    let dt = stamp(&leg[0]) - stamp(&login[0]);
    println!("login -> agent leg created: {dt} µs");
    assert!(dt < 250_000, "the waiting caller took {dt} µs to act on the router's decision");
    let ans = s.wait_hotline(from, "CallAnswered", 1, 10, |_| true);
    assert_eq!(field(&ans[0], "Hotline-Agent"), "a261");
    s.caller_done(from, "login", 1, 15);
    let from = s.mark();
    s.agent_command("logout", "a261");
    s.wait_hotline(from, "AgentState", 1, 10, |e| field(e, "Hotline-Agent") == "a261" && field(e, "Hotline-State") == "logged-out");
    // A bad argument fails that call with ERROR, nothing else.
    s.agent_command("dance", "a261");
    s.agent_command("login", "nosuchagent");
    let bad = s.esl.wait_n(from, 3, Duration::from_secs(10), |e| field(e, "Hotline-Test") == "AgentCommand");
    let results: Vec<&str> = bad.iter().map(|e| field(e, "Hotline-Result")).collect();
    assert_eq!(results, ["OK", "ERROR", "ERROR"]);
    assert!(s.api("status").contains("UP"));
    s.settle();
}

#[test]
fn unload_is_refused_while_a_call_waits_and_clean_when_idle() {
    let Some((s, _g)) = switch() else { return };
    let from = s.mark();
    // A caller waiting in a queue with nobody logged in.
    s.call("hold", "9271000", 3000);
    s.call_id(from, "9271000");
    let out = s.api("unload mod_hotline");
    assert!(out.contains("in use"), "unload while busy: {out}");
    assert_eq!(s.api("module_exists mod_hotline").trim(), "true");
    assert!(s.api("hotline show calls").contains("1 calls"));
    s.wait_hotline(from, "CallAbandoned", 1, 15, |_| true);
    s.caller_done(from, "hold", 1, 10);
    let out = s.api("unload mod_hotline");
    let gone = s.api("module_exists mod_hotline");
    // Whatever happened, load it again for the other tests.
    let again = s.api("load mod_hotline");
    assert!(out.starts_with("+OK") && !out.contains("-ERR"), "unload when idle: {out}");
    assert_eq!(gone.trim(), "false");
    assert!(!again.contains("-ERR"), "load again: {again}");
    assert!(s.api("hotline show queues").contains("linear"));
    let log = s.log();
    assert!(log.contains("Hotline unloaded"), "shutdown ran");
    s.settle();
}

#[test]
fn a_configuration_error_declines_the_load_with_its_location() {
    let Some((s, _g)) = switch() else { return };
    let path = s.root.join("conf/hotline.toml");
    let good = std::fs::read_to_string(&path).expect("hotline.toml");
    let bad = good.replacen("strategy = \"round-robin\"", "strategy = \"round-robbin\"", 1);
    assert_ne!(bad, good);
    let line = bad.lines().position(|l| l.contains("round-robbin")).expect("line") + 1;
    let out = s.api("unload mod_hotline");
    assert!(!out.contains("-ERR"), "{out}");
    std::fs::write(&path, &bad).expect("write");
    let out = s.api("load mod_hotline");
    std::fs::write(&path, &good).expect("restore");
    let again = s.api("load mod_hotline");
    assert!(out.contains("-ERR"), "loaded a broken configuration: {out}");
    assert!(!again.contains("-ERR"), "{again}");
    assert_eq!(s.api("module_exists mod_hotline").trim(), "true");
    let log = s.log();
    let want = format!("hotline.toml:{line}: strategy");
    assert!(log.lines().any(|l| l.contains("Hotline not loaded") && l.contains(&want)), "no {want:?} in the log");
    s.settle();
}

#[test]
fn a_panic_inside_an_app_does_not_take_freeswitch_down() {
    let Some((s, _g)) = switch() else { return };
    let log_from = s.log().len();
    let token = format!("t{}", std::process::id());
    s.esl.bgapi(&format!("originate loopback/panic-{token}/hotline-null &park()"));
    // The panic guard's own line: the entry's name, the panic's message
    // (with this run's token) and where it happened.
    let line = s.wait_log(log_from, &["hotline_test_panic: panic caught at the C boundary", &format!("hotline_test_panic({token})"), "module.rs"], 15);
    assert!(line.contains("deliberate panic"), "{line}");
    assert!(s.api("status").contains("UP"));
    // The module still serves a queue call.
    s.agent_mode(100, "answer", 300);
    let from = s.mark();
    s.call("basic", "9100900", 30_000);
    s.wait_hotline(from, "CallAnswered", 1, 15, |_| true);
    let done = s.caller_done(from, "basic", 1, 15);
    assert_eq!(field(&done[0], "variable_hotline_result"), "ANSWERED");
    s.settle();
}

/// FreeSWITCH refuses `unload mod_hotline` only while one of its
/// applications or API calls runs (its module lock). A callback ringing an
/// agent runs in a thread of ours, in no application: FreeSWITCH
/// unregisters the applications and calls `shutdown`, where Hotline's gate
/// sees the ringing thread inside and refuses (logged; the module stays
/// mapped, still running). `load mod_hotline` resumes that instance, which
/// still holds the callback and serves new callers.
#[test]
fn unload_is_refused_by_hotline_while_a_callback_rings_and_load_resumes_it() {
    let Some((s, _g)) = switch() else { return };
    s.agent_mode(285, "answer", 60_000);
    let from = s.mark();
    s.call("cb", "9285004", 60_000);
    s.wait_hotline(from, "CallAnswered", 1, 10, |_| true);
    s.call("cbk-cb", "9285005", 60_000);
    let entered = s.wait_hotline(from, "CallEntered", 1, 10, |e| field(e, "Hotline-CallerNumber") == "9285005");
    let id = field(&entered[0], "Hotline-CallId").to_string();
    assert!(s.api(&format!("uuid_recv_dtmf {} *", field(&entered[0], "Hotline-Uuid"))).starts_with("+OK"));
    s.wait_hotline(from, "CallbackRequested", 1, 10, |_| true);
    s.caller_done(from, "cb", 1, 15);
    // The callback will ring an agent that does not answer.
    s.agent_mode(285, "noanswer", 0);
    let first = s.hotline(from, "CallEntered").into_iter().find(|e| field(e, "Hotline-CallerNumber") == "9285004").expect("first");
    s.api(&format!("uuid_kill {}", field(&first, "Hotline-Uuid")));
    s.caller_done(from, "cb", 2, 15);
    let ringing = s.esl.wait_n(from, 2, Duration::from_secs(15), |e| {
        field(e, "Event-Name") == "CHANNEL_CREATE" && field(e, "Channel-Name").starts_with("loopback/285-a")
    });
    let leg = field(&ringing[1], "Unique-ID").to_string();
    assert!(s.api("hotline show calls").contains("1 calls"), "only the callback is left");
    let log_from = s.log().len();
    let out = s.api("unload mod_hotline");
    let line = s.wait_log(log_from, &["Hotline: unload refused", "1 entry is inside Hotline"], 15);
    assert!(line.contains("keeps serving"), "{line}: {out}");
    assert!(!s.log()[log_from..].contains("Hotline unloaded"), "the runtime was stopped under the ringing callback");
    let again = s.api("load mod_hotline");
    assert!(!again.contains("-ERR"), "load again: {again}");
    s.wait_log(log_from, &["resuming the instance a refused unload kept running"], 10);
    // The same router: it still holds the callback, and it serves.
    assert!(s.api("hotline show calls").contains("1 calls"), "the callback is still there");
    s.agent_mode(100, "answer", 300);
    let from2 = s.mark();
    s.call("basic", "9100901", 30_000);
    s.wait_hotline(from2, "CallAnswered", 1, 15, |_| true);
    let done = s.caller_done(from2, "basic", 1, 15);
    assert_eq!(field(&done[0], "variable_hotline_result"), "ANSWERED");
    // Clean up: the agent answers now and the customer too; the ringing
    // leg goes (reported by the hang-up handler, through the gate) and the
    // callback rings the agent again.
    s.agent_mode(285, "answer", 500);
    s.agent_mode(9285005, "answer", 500);
    s.api(&format!("uuid_kill {leg}"));
    let ended = s.wait_hotline(from, "CallEnded", 1, 40, |e| field(e, "Hotline-CallId") == id);
    assert_ne!(field(&ended[0], "Hotline-EndedBy"), "failed", "{ended:?}");
    s.settle();
}

#[test]
fn many_callers_each_answered_once() {
    let Some((s, _g)) = switch() else { return };
    for id in [111, 112, 113] {
        s.agent_mode(id, "answer", 200);
    }
    let n = 15;
    let from = s.mark();
    for i in 0..n {
        s.call("rr", &format!("9119{i:03}"), 120_000);
    }
    let done = s.caller_done(from, "rr", n, 120);
    assert!(done.iter().all(|e| field(e, "variable_hotline_result") == "ANSWERED"), "{done:?}");
    let answered = s.hotline(from, "CallAnswered");
    let distinct: HashSet<&str> = answered.iter().map(|e| field(e, "Hotline-CallId")).collect();
    assert_eq!(distinct.len(), n);
    assert_eq!(answered.len(), n, "no call answered twice");
    s.settle();
}

/// The shipped FreeSWITCH example configuration parses and dials
/// FreeSWITCH endpoints (runs without FreeSWITCH).
#[test]
fn example_configuration_is_valid() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("dialplan/freeswitch/hotline.toml");
    let cfg = hotline::core::Config::load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(!cfg.agents.is_empty());
    for a in &cfg.agents {
        assert!(a.contact.starts_with("user/") || a.contact.starts_with("loopback/"), "{}: {}", a.name, a.contact);
    }
    let xml = std::fs::read_to_string(path.with_file_name("dialplan/hotline.xml")).expect("hotline.xml");
    assert!(xml.lines().any(|l| l.trim() == "<include>") && xml.lines().any(|l| l.trim() == "</include>"));
}

#[test]
fn longest_idle_and_skills_strategies_order_agents() {
    let Some((s, _g)) = switch() else { return };
    for id in [121, 122, 123] {
        s.agent_mode(id, "answer", 300);
    }
    let order = sequential(s, "idle", 4, 9_121_000);
    assert_eq!(order[3], order[0], "{order:?}");
    assert_eq!(order[..3].iter().collect::<HashSet<_>>().len(), 3, "{order:?}");
    for id in [151, 152, 153] {
        s.agent_mode(id, "answer", 4000);
    }
    let from = s.mark();
    for i in 0..3 {
        s.call("skills", &format!("915100{i}"), 60_000);
        s.wait_hotline(from, "CallAnswered", i + 1, 15, |e| field(e, "Hotline-Queue") == "skills");
    }
    assert_eq!(agents_offered(s, from, "skills"), ["a152", "a153", "a151"]);
    s.caller_done(from, "skills", 3, 20);
    s.settle();
}

#[test]
fn wrap_up_is_respected() {
    let Some((s, _g)) = switch() else { return };
    s.agent_mode(211, "answer", 300);
    let from = s.mark();
    s.call("wrapup", "9211000", 60_000);
    let ended = s.wait_hotline(from, "CallEnded", 1, 15, |_| true);
    let from2 = s.mark();
    s.call("wrapup", "9211001", 60_000);
    let offered = s.wait_hotline(from2, "CallOffered", 1, 15, |_| true);
    let gap_ms = (stamp(&offered[0]) - stamp(&ended[0])) / 1000;
    assert!(gap_ms >= 2900, "offered {gap_ms} ms after the last call; wrap-up is 3 s");
    s.caller_done(from2, "wrapup", 1, 15);
    s.settle();
}

#[test]
fn priority_callers_are_served_first() {
    let Some((s, _g)) = switch() else { return };
    s.agent_mode(221, "answer", 2000);
    let from = s.mark();
    s.call("prio", "9221000", 60_000);
    s.wait_hotline(from, "CallAnswered", 1, 15, |_| true);
    s.call("prio", "9221001", 60_000);
    s.call_id(from, "9221001");
    s.call("prio", "9221002", 60_000);
    s.call_id(from, "9221002");
    let out = s.api("originate {origination_caller_id_number=9221009,hotline_priority=10}loopback/prio/hotline-callers &sleep(60000)");
    assert!(out.starts_with("+OK"), "{out}");
    let vip = s.call_id(from, "9221009");
    let answered = s.wait_hotline(from, "CallAnswered", 2, 20, |_| true);
    assert_eq!(field(&answered[1], "Hotline-CallId"), vip, "the VIP goes first");
    s.caller_done(from, "prio", 4, 40);
    s.settle();
}

#[test]
fn overflow_max_wait_and_leave_when_empty() {
    let Some((s, _g)) = switch() else { return };
    s.agent_mode(232, "answer", 500);
    let from = s.mark();
    s.call("over", "9231000", 60_000);
    let moved = s.wait_hotline(from, "CallMoved", 1, 10, |_| true);
    assert_eq!((field(&moved[0], "Hotline-From"), field(&moved[0], "Hotline-Queue")), ("over", "overtarget"));
    let ans = s.wait_hotline(from, "CallAnswered", 1, 10, |_| true);
    assert_eq!(field(&ans[0], "Hotline-Agent"), "a232");
    s.caller_done(from, "over", 1, 15);
    let from = s.mark();
    s.call("maxwait", "9241000", 60_000);
    let done = s.caller_done(from, "maxwait", 1, 15);
    assert_eq!(field(&done[0], "variable_hotline_result"), "TIMEOUT");
    let from = s.mark();
    s.call("empty", "9251000", 60_000);
    let done = s.caller_done(from, "empty", 1, 10);
    assert_eq!(field(&done[0], "variable_hotline_result"), "LEAVEEMPTY");
    s.settle();
}

#[test]
fn reload_during_a_live_call_keeps_the_call() {
    let Some((s, _g)) = switch() else { return };
    s.agent_mode(272, "answer", 3000);
    let from = s.mark();
    s.call("reload2", "9272000", 60_000);
    s.wait_hotline(from, "CallAnswered", 1, 10, |_| true);
    let out = s.api("hotline reload");
    assert!(out.contains("reloaded"), "{out}");
    s.wait_hotline(from, "ConfigReloaded", 1, 10, |_| true);
    let ended = s.wait_hotline(from, "CallEnded", 1, 15, |_| true);
    assert_eq!(field(&ended[0], "Hotline-Agent"), "a272");
    let done = s.caller_done(from, "reload2", 1, 10);
    assert_eq!(field(&done[0], "variable_hotline_result"), "ANSWERED");
    s.settle();
}

/// A reload naming a sound file that is not there (FreeSWITCH checks
/// absolute paths) is refused with its line and key; the configuration in
/// force stays, and the good one reloads again.
#[test]
fn a_reload_naming_a_missing_sound_file_is_refused_with_its_location() {
    let Some((s, _g)) = switch() else { return };
    let path = s.root.join("conf/hotline.toml");
    let good = std::fs::read_to_string(&path).expect("hotline.toml");
    let missing = s.root.join("sounds/no-such-prompt.wav");
    let bad = good.replacen("greet_long = [\"tone_stream://%(300,0,350)\"]", &format!("greet_long = [\"{}\"]", missing.display()), 1);
    assert_ne!(bad, good);
    let line = bad.lines().position(|l| l.contains("no-such-prompt")).expect("line") + 1;
    std::fs::write(&path, &bad).expect("write");
    let out = s.api("hotline reload");
    std::fs::write(&path, &good).expect("restore");
    let want = format!("hotline.toml:{line}: menu[");
    assert!(out.contains("old configuration kept") && out.contains(&want) && out.contains("no-such-prompt.wav"), "{out}");
    assert!(s.api("hotline show queues").contains("linear"), "still serving");
    assert!(s.api("hotline reload").contains("reloaded"));
    s.settle();
}

#[test]
fn a_callback_keeps_the_place_and_calls_the_customer_back() {
    let Some((s, _g)) = switch() else { return };
    s.agent_mode(285, "answer", 3000);
    // The customer answers the callback and talks 2 s.
    s.agent_mode(9285001, "answer", 2000);
    let from = s.mark();
    s.call("cb", "9285000", 60_000);
    s.wait_hotline(from, "CallAnswered", 1, 10, |_| true);
    // A second caller waits, presses *, and is let go.
    s.call("cbk-cb", "9285001", 60_000);
    let entered = s.wait_hotline(from, "CallEntered", 1, 10, |e| field(e, "Hotline-CallerNumber") == "9285001");
    let id = field(&entered[0], "Hotline-CallId").to_string();
    let uuid = field(&entered[0], "Hotline-Uuid").to_string();
    assert!(s.api(&format!("uuid_recv_dtmf {uuid} *")).starts_with("+OK"), "DTMF to {uuid}");
    let req = s.wait_hotline(from, "CallbackRequested", 1, 10, |_| true);
    assert_eq!(field(&req[0], "Hotline-Number"), "9285001");
    let done = s.caller_done(from, "cb", 2, 15);
    let results: Vec<&str> = done.iter().map(|e| field(e, "variable_hotline_result")).collect();
    assert!(results.contains(&"CALLBACK"), "{results:?}");
    // When the agent is free it is rung first, then the customer.
    let ans = s.wait_hotline(from, "CallAnswered", 1, 20, |e| field(e, "Hotline-CallId") == id);
    assert_eq!(field(&ans[0], "Hotline-Agent"), "a285");
    let ended = s.wait_hotline(from, "CallEnded", 1, 20, |e| field(e, "Hotline-CallId") == id);
    assert_eq!(field(&ended[0], "Hotline-EndedBy"), "caller", "the customer hung up first");
    let talk: u64 = field(&ended[0], "Hotline-TalkMs").parse().expect("TalkMs");
    assert!(talk >= 1500, "the customer talked 2 s, not {talk} ms");
    // The customer's leg was really called, answered and bridged to the agent.
    let customer = s.esl.wait_n(from, 1, Duration::from_secs(15), |e| {
        field(e, "Event-Name") == "CHANNEL_HANGUP_COMPLETE" && field(e, "Channel-Name").starts_with("loopback/9285001-a")
    });
    assert_eq!(field(&customer[0], "variable_hotline_callid"), id, "the customer leg carries the call id");
    assert_ne!(field(&customer[0], "variable_bridge_epoch"), "", "{customer:?}");
    // Free after the first call, then after the callback.
    s.wait_hotline(from, "AgentState", 2, 10, |e| field(e, "Hotline-Agent") == "a285" && field(e, "Hotline-State") == "available");
    assert!(s.api("hotline show calls").contains("0 calls"));
    s.settle();
}

/// Issue 11: the store survives a restart of the FreeSWITCH process. An
/// agent on break comes back on break (the stored state wins over the
/// configuration's), and a callback that was waiting for it is still served,
/// under its old call id, once the agent is ready.
#[test]
fn an_agents_break_and_a_pending_callback_survive_a_restart_of_freeswitch() {
    let Some((s, _g)) = switch() else { return };
    let out = s.api("hotline agent break a311 lunch");
    assert!(out.contains("break"), "{out}");
    let from = s.mark();
    s.call("cbk-restart", "9311001", 60_000);
    let entered = s.wait_hotline(from, "CallEntered", 1, 10, |e| field(e, "Hotline-CallerNumber") == "9311001");
    let id = field(&entered[0], "Hotline-CallId").to_string();
    let uuid = field(&entered[0], "Hotline-Uuid").to_string();
    assert!(s.api(&format!("uuid_recv_dtmf {uuid} *")).starts_with("+OK"), "DTMF to {uuid}");
    s.wait_hotline(from, "CallbackRequested", 1, 10, |_| true);
    assert_eq!(field(&s.caller_done(from, "restart", 1, 15)[0], "variable_hotline_result"), "CALLBACK");

    s.restart();
    let store = s.api("hotline show store");
    assert!(store.contains("hotline.db (healthy)"), "{store}");
    let agents = s.api("hotline show agents");
    let line = agents.lines().find(|l| l.starts_with("a311 ")).unwrap_or_default().to_string();
    assert!(line.contains("break (lunch)"), "a311 after the restart: {line:?}\n{agents}");
    let calls = s.api("hotline show calls");
    assert!(calls.lines().any(|l| l.split_whitespace().next() == Some(id.as_str())), "callback {id} not back in line:\n{calls}");

    // Global variables went with the old process: script the agent and the
    // customer now.
    s.agent_mode(311, "answer", 3000);
    s.agent_mode(9311001, "answer", 2000);
    let from = s.mark();
    let out = s.api("hotline agent ready a311");
    assert!(out.contains("ready"), "{out}");
    let ans = s.wait_hotline(from, "CallAnswered", 1, 20, |e| field(e, "Hotline-Agent") == "a311");
    assert_eq!(field(&ans[0], "Hotline-CallId"), id, "the callback kept its id");
    let ended = s.wait_hotline(from, "CallEnded", 1, 20, |e| field(e, "Hotline-CallId") == id);
    let talk: u64 = field(&ended[0], "Hotline-TalkMs").parse().expect("TalkMs");
    assert!(talk >= 1500, "the customer was called back and talked, not {talk} ms");
    s.settle();
}

#[test]
fn a_callback_whose_customer_does_not_answer_frees_the_agent() {
    let Some((s, _g)) = switch() else { return };
    s.agent_mode(285, "answer", 60_000);
    s.agent_mode(9285003, "busy", 0);
    let from = s.mark();
    s.call("cb", "9285002", 60_000);
    s.wait_hotline(from, "CallAnswered", 1, 10, |_| true);
    s.call("cbk-cb", "9285003", 60_000);
    let entered = s.wait_hotline(from, "CallEntered", 1, 10, |e| field(e, "Hotline-CallerNumber") == "9285003");
    let id = field(&entered[0], "Hotline-CallId").to_string();
    assert!(s.api(&format!("uuid_recv_dtmf {} *", field(&entered[0], "Hotline-Uuid"))).starts_with("+OK"));
    s.wait_hotline(from, "CallbackRequested", 1, 10, |_| true);
    // Free the agent: hang up the first call's caller.
    let first = s.hotline(from, "CallEntered").into_iter().find(|e| field(e, "Hotline-CallerNumber") == "9285002").expect("first");
    s.api(&format!("uuid_kill {}", field(&first, "Hotline-Uuid")));
    let ended = s.wait_hotline(from, "CallEnded", 1, 20, |e| field(e, "Hotline-CallId") == id);
    assert_eq!(field(&ended[0], "Hotline-EndedBy"), "failed");
    // The agent's leg is hung up and the agent is free again.
    // Free after the first call, then after the callback.
    s.wait_hotline(from, "AgentState", 2, 10, |e| field(e, "Hotline-Agent") == "a285" && field(e, "Hotline-State") == "available");
    s.settle();
    assert!(s.api("hotline show calls").contains("0 calls"));
}

#[test]
fn a_transferred_caller_ends_the_call_as_a_transfer() {
    let Some((s, _g)) = switch() else { return };
    s.agent_mode(276, "answer", 20_000);
    let from = s.mark();
    s.call("xfer", "9276000", 60_000);
    let entered = s.wait_hotline(from, "CallEntered", 1, 10, |e| field(e, "Hotline-CallerNumber") == "9276000");
    let uuid = field(&entered[0], "Hotline-Uuid").to_string();
    s.wait_hotline(from, "CallAnswered", 1, 10, |_| true);
    // Transfer during the talk: once bridged (CallAnswered comes as the
    // router accepts the answer, a moment before the bridge).
    s.esl.wait_n(from, 1, Duration::from_secs(10), |e| {
        field(e, "Event-Name") == "CHANNEL_BRIDGE" && (field(e, "Unique-ID") == uuid || field(e, "Bridge-A-Unique-ID") == uuid)
    });
    let out = s.api(&format!("uuid_transfer {uuid} moved XML hotline-null"));
    assert!(out.starts_with("+OK"), "{out}");
    let ended = s.wait_hotline(from, "CallEnded", 1, 10, |_| true);
    assert_eq!(field(&ended[0], "Hotline-EndedBy"), "transfer");
    // The caller really went on to the new extension...
    let done = s.caller_done(from, "xfer", 1, 15);
    assert_eq!(field(&done[0], "variable_test_transferred"), "yes");
    // ...and the agent is free, not stuck with a half call.
    s.wait_hotline(from, "AgentState", 1, 10, |e| field(e, "Hotline-Agent") == "a276" && field(e, "Hotline-State") == "available");
    s.settle();
}

/// Data follows a transfer: while agent a276 talks, a supervisor notes the
/// call through the API; `uuid_transfer` sends the caller into queue
/// xfer2. The transfer is published with its hop and the note; the next
/// agent's offer, its leg's variables and the webhooks carry the history.
#[test]
fn transfers_carry_the_history_and_notes_to_the_next_agent() {
    let Some((s, _g)) = switch() else { return };
    s.agent_mode(276, "answer", 20_000);
    s.agent_mode(279, "answer", 2_000);
    let from = s.mark();
    s.call("xfer", "9279000", 60_000);
    let entered = s.wait_hotline(from, "CallEntered", 1, 10, |e| field(e, "Hotline-CallerNumber") == "9279000");
    let (id, uuid) = (field(&entered[0], "Hotline-CallId").to_string(), field(&entered[0], "Hotline-Uuid").to_string());
    s.wait_hotline(from, "CallAnswered", 1, 10, |e| field(e, "Hotline-CallId") == id);
    s.esl.wait_n(from, 1, Duration::from_secs(10), |e| {
        field(e, "Event-Name") == "CHANNEL_BRIDGE" && (field(e, "Unique-ID") == uuid || field(e, "Bridge-A-Unique-ID") == uuid)
    });
    let (addr, token) = ("127.0.0.1:18091", "test-admin-token-0123456789");
    let (status, body) = http::post(addr, &format!("/api/v1/calls/{id}/notes"), token, r#"{"text":"wants a \"refund\"\nsoon"}"#);
    assert_eq!(status, 202, "{body}");
    assert_eq!(http::post(addr, "/api/v1/calls/999999/notes", token, r#"{"text":"x"}"#).0, 404);
    let note = s.wait_hotline(from, "CallNote", 1, 10, |e| field(e, "Hotline-CallId") == id);
    assert_eq!((field(&note[0], "Hotline-Note"), field(&note[0], "Hotline-By")), ("wants a \"refund\"soon", "suite"), "{:?}", note[0]);
    let out = s.api(&format!("uuid_transfer {uuid} xfer2 XML hotline-callers"));
    assert!(out.starts_with("+OK"), "{out}");
    let moved = s.wait_hotline(from, "CallTransferred", 1, 10, |e| field(e, "Hotline-CallId") == id);
    assert_eq!((field(&moved[0], "Hotline-Agent"), field(&moved[0], "Hotline-To")), ("a276", "xfer2@hotline-callers"), "{:?}", moved[0]);
    let hops: serde_json::Value = serde_json::from_str(field(&moved[0], "Hotline-Transfers")).expect("Transfers is JSON");
    assert_eq!((hops[0]["from_queue"].as_str(), hops[0]["from_call"].as_str()), (Some("xfer"), Some(id.as_str())), "{hops}");
    assert_eq!(hops[0]["notes"], serde_json::json!(["wants a \"refund\"soon"]), "{hops}");
    let ended = s.wait_hotline(from, "CallEnded", 1, 10, |e| field(e, "Hotline-CallId") == id);
    assert_eq!(field(&ended[0], "Hotline-EndedBy"), "transfer");
    let again = s.wait_hotline(from, "CallEntered", 1, 10, |e| field(e, "Hotline-CallerNumber") == "9279000" && field(e, "Hotline-Queue") == "xfer2");
    let id2 = field(&again[0], "Hotline-CallId").to_string();
    let offered = s.wait_hotline(from, "CallOffered", 1, 10, |e| field(e, "Hotline-CallId") == id2);
    let hops: serde_json::Value = serde_json::from_str(field(&offered[0], "Hotline-Transfers")).expect("Transfers is JSON");
    assert_eq!((hops[0]["to_queue"].as_str(), hops[0]["from_agent"].as_str()), (Some("xfer2"), Some("a276")), "{:?}", offered[0]);
    let answered = s.wait_hotline(from, "CallAnswered", 1, 10, |e| field(e, "Hotline-CallId") == id2);
    assert_eq!(field(&answered[0], "Hotline-Agent"), "a279");
    let on_leg = s.api(&format!("uuid_getvar {} hotline_transfers", field(&answered[0], "Hotline-AgentUuid")));
    let on_leg: serde_json::Value = serde_json::from_str(on_leg.trim()).unwrap_or_else(|e| panic!("{e}: {on_leg}"));
    assert_eq!(on_leg, hops, "the agent leg's hotline_transfers");
    s.wait_hotline(from, "CallEnded", 1, 20, |e| field(e, "Hotline-CallId") == id2);
    let rx = webhook::Receiver::start(18097);
    let (t, o) = rx.wait(20, "the transfer and the next offer", |got| {
        let t = got.iter().map(|(_, b)| b).find(|b| b["type"] == "call.transferred" && b["call"]["id"] == id.as_str())?;
        let o = got.iter().map(|(_, b)| b).find(|b| b["type"] == "call.offered" && b["call"]["id"] == id2.as_str())?;
        Some((t.clone(), o.clone()))
    });
    assert_eq!(t["call"]["transfers"][0]["notes"][0], "wants a \"refund\"soon", "{t}");
    assert_eq!(t["call"]["transfers"][0]["to"], "xfer2@hotline-callers", "{t}");
    assert_eq!(o["call"]["transfers"][0]["to_queue"].as_str(), Some("xfer2"), "{o}");
    s.settle();
}

/// Pausing a recording mid-talk (`hotline record pause|resume`): the
/// masked span is silence (the timeline kept), the agent's tone before and
/// after; the span is in the recording's row.
#[test]
fn recording_a_pause_leaves_silence_where_it_should() {
    let Some((s, _g)) = switch() else { return };
    s.agent_mode(280, "tone", 5_000);
    let from = s.mark();
    s.call("rec", "9283000", 20_000);
    let started = s.wait_hotline(from, "RecordingStarted", 1, 10, |e| field(e, "Hotline-CallerNumber") == "9283000");
    let (rec, call, file) = (field(&started[0], "Hotline-RecordingId").to_string(), field(&started[0], "Hotline-CallId").to_string(), field(&started[0], "Hotline-File").to_string());
    std::thread::sleep(Duration::from_millis(1500));
    let out = s.api(&format!("hotline record pause {call}"));
    assert!(out.contains("paused"), "{out}");
    std::thread::sleep(Duration::from_millis(1500));
    let out = s.api(&format!("hotline record resume {call}"));
    assert!(out.contains("resumed"), "{out}");
    let (addr, token) = ("127.0.0.1:18091", "test-admin-token-0123456789");
    let row = poll::until("the recording's row done", Duration::from_secs(20), Duration::from_millis(200), || {
        let (status, body) = http::get(addr, &format!("/api/v1/recordings/{rec}"), Some(token));
        let v: serde_json::Value = serde_json::from_str(&body).map_err(|e| format!("{status} {e}: {body}"))?;
        (v["status"] == "done").then_some(v).ok_or(body)
    });
    let span = &row["paused"][0];
    let (a, b) = (span[0].as_f64().expect("span") / 1000.0, span[1].as_f64().expect("span") / 1000.0);
    assert!(b - a > 1.2 && b - a < 2.0, "{row}");
    let (before, during, after) = (rms_of(std::path::Path::new(&file), 0.3, a - 0.6), rms_of(std::path::Path::new(&file), a + 0.3, b - a - 0.6), rms_of(std::path::Path::new(&file), b + 0.3, 0.5));
    assert!(before > 0.05 && after > 0.05 && during < 0.01, "RMS before {before}, paused {during}, after {after} (span {a}-{b} s)");
    s.settle();
}

/// Recorded queues: record_session records the talk into a file under the
/// root; the store's row matches the call and the file (length, size,
/// SHA-256; sox agrees on the length); the CLI and API find it; in stereo
/// the caller's 400 Hz is on the left and the agent's 1000 Hz on the right.
#[test]
fn recording_a_recorded_queues_talk_is_a_file_and_a_row_that_match_the_call() {
    let Some((s, _g)) = switch() else { return };
    s.agent_mode(280, "tone", 3_000);
    let from = s.mark();
    s.call("rec", "9280000", 20_000);
    let entered = s.wait_hotline(from, "CallEntered", 1, 10, |e| field(e, "Hotline-CallerNumber") == "9280000");
    let id = field(&entered[0], "Hotline-CallId").to_string();
    let started = s.wait_hotline(from, "RecordingStarted", 1, 10, |e| field(e, "Hotline-CallId") == id);
    let (rec, file) = (field(&started[0], "Hotline-RecordingId").to_string(), field(&started[0], "Hotline-File").to_string());
    assert!(file.contains("/hotline-recordings/") && file.ends_with(&format!("/rec/{id}-a280.wav")), "{file}");
    let ended = s.wait_hotline(from, "CallEnded", 1, 20, |e| field(e, "Hotline-CallId") == id);
    let talk: f64 = field(&ended[0], "Hotline-TalkMs").parse::<f64>().expect("TalkMs") / 1000.0;
    let (addr, token) = ("127.0.0.1:18091", "test-admin-token-0123456789");
    let row = poll::until("the recording's row done", Duration::from_secs(15), Duration::from_millis(200), || {
        let (status, body) = http::get(addr, &format!("/api/v1/recordings?call={id}"), Some(token));
        let v: serde_json::Value = serde_json::from_str(&body).map_err(|e| format!("{status} {e}: {body}"))?;
        (v[0]["status"] == "done").then(|| v[0].clone()).ok_or(body)
    });
    assert_eq!((row["id"].to_string(), row["queue"].as_str(), row["agent"].as_str(), row["number"].as_str()), (rec.clone(), Some("rec"), Some("a280"), Some("9280000")), "{row}");
    let secs = row["duration_ms"].as_f64().expect("duration") / 1000.0;
    assert!((secs - talk).abs() < 0.6, "recorded {secs} s of a {talk} s talk: {row}");
    let soxi = std::process::Command::new("soxi").args(["-D", &file]).output().expect("soxi (sox)");
    let sox_secs: f64 = String::from_utf8_lossy(&soxi.stdout).trim().parse().unwrap_or_else(|_| panic!("soxi: {soxi:?}"));
    assert!((sox_secs - talk).abs() < 0.6, "sox says {sox_secs} s of a {talk} s talk");
    let bytes = std::fs::read(&file).expect("the file");
    assert_eq!(row["size"].as_u64(), Some(bytes.len() as u64));
    let sha: String = {
        use sha2::Digest;
        sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect()
    };
    assert_eq!(row["sha256"].as_str(), Some(sha.as_str()));
    for q in ["agent=a280", "queue=rec", "caller=9280000", &format!("call={id}")] {
        let out = s.api(&format!("hotline recordings {q}"));
        assert!(out.lines().any(|l| l.trim_start().starts_with(&format!("{rec} "))), "{q}: {out}");
    }
    // Stereo: each side its own tone.
    s.agent_mode(282, "tone", 3_000);
    let from = s.mark();
    s.esl.bgapi("originate {origination_caller_id_number=9282000}loopback/recstereo/hotline-callers &playback(tone_stream://%(20000,0,400))");
    let started = s.wait_hotline(from, "RecordingStarted", 1, 10, |e| field(e, "Hotline-CallerNumber") == "9282000");
    let (rec, file) = (field(&started[0], "Hotline-RecordingId").to_string(), field(&started[0], "Hotline-File").to_string());
    assert_eq!(field(&started[0], "Hotline-Stereo"), "true");
    poll::until("the stereo recording done", Duration::from_secs(20), Duration::from_millis(200), || {
        let out = s.api("hotline recordings status=done agent=a282");
        out.lines().any(|l| l.trim_start().starts_with(&format!("{rec} "))).then_some(()).ok_or(out)
    });
    let (left, right) = (tone_of(std::path::Path::new(&file), 1), tone_of(std::path::Path::new(&file), 2));
    assert!((left - 400.0).abs() < 60.0 && (right - 1000.0).abs() < 150.0, "left {left} Hz (caller 400), right {right} Hz (agent 1000)");
    let gone = s.api("hotline recordings erase 9282000");
    assert!(gone.contains(&format!("deleted {rec}")) && !std::path::Path::new(&file).exists(), "{gone}");
    s.settle();
}

#[test]
fn a_caller_who_hangs_up_during_the_talk_ends_it_as_the_caller() {
    let Some((s, _g)) = switch() else { return };
    s.agent_mode(100, "answer", 20_000);
    let from = s.mark();
    // The caller leaves 2 s after entering; the agent would talk 20 s.
    s.call("basic", "9100001", 2_000);
    let id = s.call_id(from, "9100001");
    s.wait_hotline(from, "CallAnswered", 1, 10, |e| field(e, "Hotline-CallId") == id);
    let ended = s.wait_hotline(from, "CallEnded", 1, 10, |e| field(e, "Hotline-CallId") == id);
    assert_eq!(field(&ended[0], "Hotline-EndedBy"), "caller", "{ended:?}");
    // Reported once: one CallEnded, and the agent is free again.
    s.wait_hotline(from, "AgentState", 1, 10, |e| field(e, "Hotline-Agent") == "a100" && field(e, "Hotline-State") == "available");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(s.hotline(from, "CallEnded").iter().filter(|e| field(e, "Hotline-CallId") == id).count(), 1);
    s.settle();
}

/// The module exports only its module table (`nm -D`): the bundled SQLite,
/// ring, rustls and tokio stay inside.
#[test]
fn the_module_exports_only_its_module_table() {
    exports::assert_exports_only(&freeswitch::switch::module(), &["mod_hotline_module_interface"]);
}

/// The call's data: the `data=` option wins over `hotline_data_*`
/// variables key by key, rides in the events and is set on the agent leg.
#[test]
fn the_calls_data_reaches_the_events_and_the_agent_leg() {
    let Some((s, _g)) = switch() else { return };
    s.agent_mode(277, "answer", 1_000);
    let from = s.mark();
    s.esl.bgapi("originate {origination_caller_id_number=9277000}loopback/data-data/hotline-callers &sleep(10000)");
    let entered = s.wait_hotline(from, "CallEntered", 1, 10, |e| field(e, "Hotline-CallerNumber") == "9277000");
    let e = &entered[0];
    let got = (field(e, "Hotline-DataAccount"), field(e, "Hotline-DataTier"), field(e, "Hotline-DataRegion"));
    assert_eq!(got, ("123", "gold", "north"), "{e:?}");
    let id = field(e, "Hotline-CallId").to_string();
    s.wait_hotline(from, "CallEnded", 1, 15, |e| field(e, "Hotline-CallId") == id);
    // The agent's leg (the loopback A side the module answered and bridged)
    // carried the data: its hang-up event shows its variables.
    let leg = s.esl.wait_n(from, 1, Duration::from_secs(10), |e| {
        field(e, "Event-Name") == "CHANNEL_HANGUP_COMPLETE" && field(e, "variable_hotline_agent") == "a277" && field(e, "variable_loopback_leg") == "A"
    });
    let l = &leg[0];
    assert_eq!((field(l, "variable_hotline_data_account"), field(l, "variable_hotline_data_tier")), ("123", "gold"), "{l:?}");
    // Every agent leg names its caller's session.
    assert_eq!(field(l, "variable_hotline_caller_uuid"), field(e, "Hotline-Uuid"), "{l:?}");
    // Queue "data" does not auto-answer.
    assert_eq!(field(l, "variable_sip_auto_answer"), "", "{l:?}");
    // CallAnswered names the agent's leg (for recording and screen pop) and
    // carries the data.
    let ans = s.hotline(from, "CallAnswered").into_iter().find(|a| field(a, "Hotline-CallId") == id).expect("answered");
    assert_eq!(field(&ans, "Hotline-AgentUuid"), field(l, "Unique-ID"), "{ans:?}");
    assert_eq!(field(&ans, "Hotline-DataAccount"), "123", "{ans:?}");
    s.settle();
}

/// The web port runs inside FreeSWITCH: the API answers from the router and
/// agent changes arrive as server-sent events.
#[test]
fn the_web_port_answers_and_streams_events() {
    let Some((s, _g)) = switch() else { return };
    let (addr, token) = ("127.0.0.1:18091", "test-admin-token-0123456789");
    assert_eq!(http::get(addr, "/api/v1/queues", None).0, 401);
    let (status, body) = http::get(addr, "/api/v1/agents", Some(token));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"a100\""), "{body}");
    let mut events = http::Events::open(addr, token);
    s.api("hotline agent break a100 webtest");
    let e = events.wait_data(10, |d| d.contains("\"a100\"") && d.contains("break"));
    assert!(e.contains("webtest"), "{e}");
    s.api("hotline agent ready a100");
    let sinks = s.api("hotline show sinks");
    for name in ["pbx", "store", "web"] {
        assert!(sinks.lines().any(|l| l.starts_with(name)), "{sinks}");
    }
    assert!(s.api("hotline show store").contains("healthy"), "{}", s.api("hotline show store"));
    s.settle();
}

/// FreeSWITCH has no device state of its own: the module follows the
/// agent's device channels, so an agent whose phone is on a direct call is
/// offered a queue call only once that call is over (issue 10).
#[test]
fn an_agent_on_a_direct_call_is_offered_only_after_it_ends() {
    let Some((s, _g)) = switch() else { return };
    s.agent_mode(301, "answer", 2_500);
    let from = s.mark();
    // A direct call to the agent's phone, not through any queue.
    s.esl.bgapi("originate {origination_caller_id_number=5550301}loopback/301/hotline-agents &park()");
    let created = s.esl.wait_n(from, 1, Duration::from_secs(10), |e| {
        field(e, "Event-Name") == "CHANNEL_CREATE" && field(e, "Channel-Name") == "loopback/301-b"
    });
    let direct = field(&created[0], "Unique-ID").to_string();
    // The phone's channel is counted against the agent's device.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let v = s.api(&format!("uuid_getvar {direct} hotline_devices"));
        if v.trim() == "loopback/301/hotline-agents" {
            break;
        }
        assert!(Instant::now() < deadline, "the direct call was not counted: {v}");
        std::thread::sleep(Duration::from_millis(20));
    }
    s.call("devstate", "9301000", 20_000);
    let entered = s.wait_hotline(from, "CallEntered", 1, 10, |e| field(e, "Hotline-CallerNumber") == "9301000");
    let offered = s.wait_hotline(from, "CallOffered", 1, 20, |e| field(e, "Hotline-Agent") == "a301");
    // CHANNEL_HANGUP fires as the hang-up starts, before the module's state
    // handler frees the device.
    let ended = s.esl.events_since(from, |e| field(e, "Event-Name") == "CHANNEL_HANGUP" && field(e, "Unique-ID") == direct);
    assert_eq!(ended.len(), 1, "the offer came while the direct call was still up");
    assert!(stamp(&entered[0]) < stamp(&ended[0]), "the caller entered after the direct call ended");
    assert!(stamp(&ended[0]) <= stamp(&offered[0]), "offered at {} while on the direct call (ended {})", stamp(&offered[0]), stamp(&ended[0]));
    let done = s.caller_done(from, "devstate", 1, 20);
    assert_eq!(field(&done[0], "variable_hotline_result"), "ANSWERED");
    s.api("hupall NORMAL_CLEARING origination_caller_id_number 5550301");
    s.settle();
}

/// A waiting caller costs FreeSWITCH its own sessions' descriptors and none
/// of Hotline's: N callers waiting in a queue with no members hold no more
/// descriptors than N callers on the same loopback channels hearing the
/// same music without Hotline (Hotline once held an eventfd per waiting
/// call, all polled by one thread: N more). Files on disk are left out.
#[test]
fn waiting_callers_cost_no_descriptor_of_ours() {
    const N: usize = 30;
    let Some((s, _g)) = switch() else { return };
    s.settle();
    s.wait_no_channels();
    // Hotline first: anything left over would only make the baseline smaller.
    let before = s.open_non_file_descriptors();
    let from = s.mark();
    for i in 0..N {
        s.call("fdwait", &format!("{}", 9_300_000 + i), 60_000);
    }
    s.wait_hotline(from, "CallEntered", N, 30, |e| field(e, "Hotline-Queue") == "fdwait");
    let waiting = s.open_non_file_descriptors().saturating_sub(before);
    assert!(s.api("hupall NORMAL_CLEARING test_queue fdwait").starts_with("+OK"));
    s.caller_done(from, "fdwait", N, 30);
    s.wait_no_channels();

    let before = s.open_non_file_descriptors();
    let from = s.mark();
    for i in 0..N {
        s.esl.bgapi(&format!("originate loopback/{}/hotline-plainwait &sleep(60000)", 9_301_000 + i));
    }
    s.esl.wait_n(from, N, Duration::from_secs(30), |e| field(e, "Event-Subclass") == "hotline::test" && field(e, "Hotline-Test") == "PlainWaiting");
    let plain = s.open_non_file_descriptors().saturating_sub(before);
    assert!(s.api("hupall NORMAL_CLEARING test_plain yes").starts_with("+OK"));
    s.esl.wait_n(from, N, Duration::from_secs(30), |e| {
        field(e, "Event-Name") == "CHANNEL_HANGUP_COMPLETE" && field(e, "variable_test_plain") == "yes"
    });
    s.wait_no_channels();

    println!("descriptors: {N} callers waiting in Hotline {waiting}, without it {plain}");
    // Both counts hold the sessions' own descriptors; Hotline's waiting
    // must add none per call (slack for the odd socket at the moment of
    // counting).
    assert!(waiting <= plain + N / 3, "{N} callers waiting in Hotline hold {waiting} descriptors, hearing music without it {plain}");
    s.settle();
}

/// Who a call into `queue` from `number` is answered by.
fn answered_by(s: &Switch, queue: &str, number: &str) -> String {
    let from = s.mark();
    s.call(queue, number, 60_000);
    let id = s.call_id(from, number);
    let ans = s.wait_hotline(from, "CallAnswered", 1, 15, |e| field(e, "Hotline-CallId") == id);
    s.wait_hotline(from, "CallEnded", 1, 15, |e| field(e, "Hotline-CallId") == id);
    s.caller_done(from, queue, 1, 10);
    field(&ans[0], "Hotline-Agent").to_string()
}

/// Members at run time over the FreeSWITCH API (`api hotline queue
/// add|penalty|remove`, `hotline agent pause|unpause|login|logout`): each
/// change decides who the next call reaches; bad input is refused with
/// its reason.
#[test]
fn api_member_commands_change_members_and_calls_follow() {
    let Some((s, _g)) = switch() else { return };
    s.agent_mode(601, "answer", 500);
    s.agent_mode(602, "answer", 500);
    let ok = |cmd: &str, want: &str| {
        let out = s.api(cmd);
        assert!(out.contains(want), "{cmd}: {out}");
    };
    ok("hotline queue add members a601 0", "queue members: add a601");
    assert!(s.api("hotline show agents").lines().any(|l| l.starts_with("a601 ") && l.ends_with("members")), "{}", s.api("hotline show agents"));
    assert_eq!(answered_by(s, "members", "9601000"), "a601");
    ok("hotline queue add members a602 3 1", "queue members: add a602");
    assert_eq!(answered_by(s, "members", "9601001"), "a601");
    ok("hotline queue penalty members a601 5", "queue members: penalty a601");
    assert_eq!(answered_by(s, "members", "9601002"), "a602");
    ok("hotline agent pause a602 coffee", "agent a602: break");
    assert!(s.api("hotline show agents").lines().any(|l| l.starts_with("a602 ") && l.contains("break (coffee)")));
    assert_eq!(answered_by(s, "members", "9601003"), "a601");
    ok("hotline agent unpause a602", "agent a602: ready");
    assert_eq!(answered_by(s, "members", "9601004"), "a602");
    ok("hotline queue remove members a602", "queue members: remove a602");
    assert_eq!(answered_by(s, "members", "9601005"), "a601");
    // Hot desking: log in at another phone, then log out.
    ok("hotline agent login a602 loopback/612/hotline-agents", "agent a602: login");
    assert!(s.api("hotline show agents").lines().any(|l| l.starts_with("a602 ") && l.contains("loopback/612/hotline-agents")));
    ok("hotline agent logout a602", "agent a602: logout");
    assert!(s.api("hotline show agents").lines().any(|l| l.starts_with("a602 ") && l.contains("logged-out")));
    ok("hotline agent login a602", "agent a602: login");
    // Bad input: refused with the reason.
    ok("hotline queue add nowhere a601", "no queue named \"nowhere\"");
    ok("hotline queue add members ghost", "no agent named \"ghost\"");
    ok("hotline queue penalty members a601 high", "penalty \"high\"");
    ok("hotline queue add members a601 1 0", "tier");
    ok("hotline agent login a601 loopback/1|loopback/2", "contact");
    assert!(s.api("hotline queue add members").starts_with("-USAGE"), "missing words give the usage");
    ok("hotline queue remove members a601", "queue members: remove a601");
    assert!(s.api("hotline show queues").lines().any(|l| l.starts_with("members ") && l.split_whitespace().nth(3) == Some("0")), "{}", s.api("hotline show queues"));
    s.settle();
}

/// `agent_announce`: the answered agent's leg plays the prompt (its own
/// PLAYBACK_START) before the bridge (before CallAnswered); an agent who
/// hangs up during it is a failed offer and the caller goes to the next.
#[test]
fn the_agent_hears_the_announcement_before_the_bridge() {
    let Some((s, _g)) = switch() else { return };
    s.agent_mode(611, "answershort", 0);
    s.agent_mode(612, "answer", 2_000);
    let from = s.mark();
    s.call("announce", "9611000", 30_000);
    let id = s.call_id(from, "9611000");
    let ans = s.wait_hotline(from, "CallAnswered", 1, 20, |e| field(e, "Hotline-CallId") == id);
    assert_eq!(field(&ans[0], "Hotline-Agent"), "a612");
    let leg = field(&ans[0], "Hotline-AgentUuid").to_string();
    let order = s.esl.events_since(from, |e| {
        (field(e, "Event-Name") == "PLAYBACK_START" && field(e, "Unique-ID") == leg)
            || (freeswitch::switch::is_hotline(e, "CallAnswered") && field(e, "Hotline-CallId") == id)
    });
    assert_eq!(field(&order[0], "Event-Name"), "PLAYBACK_START", "{order:#?}");
    assert!(field(&order[0], "Playback-File-Path").contains("tone_stream://"), "{order:#?}");
    assert_eq!(agents_offered(s, from, "announce"), ["a611", "a612"]);
    s.wait_hotline(from, "CallEnded", 1, 15, |e| field(e, "Hotline-CallId") == id);
    assert!(s.hotline(from, "CallAnswered").iter().all(|e| field(e, "Hotline-Agent") != "a611"));
    s.caller_done(from, "announce", 1, 10);
    s.settle();
}

/// Queue "autoans" has `auto_answer = true`: the agent's leg carries
/// `sip_auto_answer=true` (sofia then adds the auto-answer headers).
#[test]
fn an_auto_answer_queue_sets_sip_auto_answer_on_the_agent_leg() {
    let Some((s, _g)) = switch() else { return };
    s.agent_mode(621, "answer", 500);
    let from = s.mark();
    assert_eq!(answered_by(s, "autoans", "9621000"), "a621");
    let leg = s.esl.wait_n(from, 1, Duration::from_secs(10), |e| {
        field(e, "Event-Name") == "CHANNEL_HANGUP_COMPLETE" && field(e, "variable_hotline_agent") == "a621" && field(e, "variable_loopback_leg") == "A"
    });
    assert_eq!(field(&leg[0], "variable_sip_auto_answer"), "true", "{:?}", leg[0]);
    s.settle();
}

#[test]
fn offers_a_late_answer_after_a_reset_is_hung_up_and_the_caller_served() {
    let Some((s, _g)) = switch() else { return };
    // a401 rings 4 s before it answers; meanwhile an operator resets it.
    s.agent_mode(401, "late", 1000);
    let from = s.mark();
    s.call("stale", "9401000", 60_000);
    s.wait_hotline(from, "CallOffered", 1, 10, |e| field(e, "Hotline-Agent") == "a401");
    s.api("hotline agent reset a401");
    s.wait_hotline(from, "AgentReset", 1, 10, |e| field(e, "Hotline-Agent") == "a401");
    // The first leg's answer is stale: it is hung up, never bridged...
    let stale = s.wait_hotline(from, "OfferFailed", 1, 20, |e| field(e, "Hotline-Outcome") == "stale");
    assert_eq!(field(&stale[0], "Hotline-Agent"), "a401");
    // ...and the caller, offered again, is served by the agent re-offered.
    let ans = s.wait_hotline(from, "CallAnswered", 1, 20, |_| true);
    assert_eq!(field(&ans[0], "Hotline-Agent"), "a401");
    assert_eq!(s.hotline(from, "CallAnswered").len(), 1, "one answer stood");
    s.wait_hotline(from, "CallEnded", 1, 20, |_| true);
    let done = s.caller_done(from, "stale", 1, 15);
    assert_eq!(field(&done[0], "variable_hotline_result"), "ANSWERED");
    s.agent_mode(401, "answer", 1000);
    s.settle();
}

#[test]
fn offers_an_agent_who_hangs_up_at_once_sends_the_caller_to_another_agent() {
    let Some((s, _g)) = switch() else { return };
    // Both agents hang up 0.5 s after answering (requeue_short_seconds = 2,
    // requeue_max = 1); the agent's hang-up handler reports the end first.
    s.agent_mode(411, "answer", 500);
    s.agent_mode(412, "answer", 500);
    let from = s.mark();
    s.call("requeue", "9411000", 60_000);
    let rq = s.wait_hotline(from, "CallRequeued", 1, 15, |_| true);
    assert_eq!((field(&rq[0], "Hotline-Agent"), field(&rq[0], "Hotline-Requeues")), ("a411", "1"));
    let answers = s.wait_hotline(from, "CallAnswered", 2, 15, |_| true);
    assert_eq!(answers.iter().map(|e| field(e, "Hotline-Agent")).collect::<Vec<_>>(), ["a411", "a412"], "offered to another agent");
    s.wait_hotline(from, "CallEnded", 2, 15, |_| true);
    let done = s.caller_done(from, "requeue", 1, 15);
    assert_eq!(field(&done[0], "variable_hotline_result"), "ANSWERED");
    assert_eq!(s.hotline(from, "CallRequeued").len(), 1, "at most requeue_max times");
    assert!(s.api("hotline stats").contains("short-call requeues: "), "counted");
    s.agent_mode(411, "answer", 1000);
    s.agent_mode(412, "answer", 1000);
    s.settle();
}

#[test]
fn offers_a_silent_phone_gets_a_second_agent_ringing_alongside() {
    let Some((s, _g)) = switch() else { return };
    s.agent_mode(421, "noanswer", 1000);
    s.agent_mode(422, "answer", 1000);
    let from = s.mark();
    s.call("escalate", "9421000", 60_000);
    // Ring timeout 10 s, escalation after 2 s: a422 rings alongside a421.
    let offered = s.wait_hotline(from, "CallOffered", 2, 15, |_| true);
    assert_eq!(offered.iter().map(|e| field(e, "Hotline-Agent")).collect::<Vec<_>>(), ["a421", "a422"]);
    let ans = s.wait_hotline(from, "CallAnswered", 1, 15, |_| true);
    assert_eq!(field(&ans[0], "Hotline-Agent"), "a422");
    // The silent phone's leg is cancelled, not a miss.
    let failed = s.wait_hotline(from, "OfferFailed", 1, 15, |e| field(e, "Hotline-Agent") == "a421");
    assert_eq!(field(&failed[0], "Hotline-Outcome"), "cancelled");
    let done = s.caller_done(from, "escalate", 1, 15);
    assert_eq!(field(&done[0], "variable_hotline_result"), "ANSWERED");
    let agents = s.api("hotline show agents");
    assert!(agents.lines().any(|l| l.starts_with("a421 ") && l.contains("available")), "{agents}");
    s.agent_mode(421, "answer", 1000);
    s.settle();
}

// ---- IVR ---------------------------------------------------------------------

/// A caller into IVR menu `menu` whose side sends `keys` (send_dtmf: `w`
/// = 0.5 s) once the IVR answered, then stays on the line.
fn ivr_call(s: &Switch, menu: &str, number: &str, keys: &str) {
    let apps = if keys.is_empty() { "sleep:30000".to_string() } else { format!("sleep:300,send_dtmf:{keys},sleep:30000") };
    s.esl.bgapi(&format!("originate {{origination_caller_id_number={number}}}loopback/ivr-{menu}/hotline-ivr '{apps}' inline"));
}

fn ivr_test_event(s: &Switch, from: usize, what: &str, secs: u64) -> freeswitch::esl::Event {
    let got = s.esl.wait_n(from, 1, Duration::from_secs(secs), |e| field(e, "Event-Subclass") == "hotline::test" && field(e, "Hotline-Test") == what);
    got[0].clone()
}

/// A sub-menu (a text prompt rendered by espeak-ng), then a queue exit:
/// the data the IVR set reaches the agent's leg, the IVR's priority the
/// queue, and the path the channel.
#[test]
fn ivr_menus_lead_into_the_queue_with_the_data_on_the_agent_leg() {
    let Some((s, _g)) = switch() else { return };
    s.agent_mode(801, "answer", 1_000);
    let from = s.mark();
    ivr_call(s, "ivrmain", "9801001", "1ww2");
    let entered = s.wait_hotline(from, "CallEntered", 1, 20, |e| field(e, "Hotline-CallerNumber") == "9801001");
    assert_eq!((field(&entered[0], "Hotline-Queue"), field(&entered[0], "Hotline-Priority")), ("ivrq", "5"), "{:?}", entered[0]);
    let done = ivr_test_event(s, from, "IvrDone", 20);
    assert_eq!((field(&done, "Hotline-Result"), field(&done, "Hotline-Path"), field(&done, "Hotline-QueueResult")), ("QUEUE", "ivrmain/ivrsub", "ANSWERED"), "{done:?}");
    let left = s.wait_hotline(from, "IvrLeft", 1, 5, |e| field(e, "Hotline-CallerNumber") == "9801001");
    let l = &left[0];
    assert_eq!((field(l, "Hotline-Result"), field(l, "Hotline-Path"), field(l, "Hotline-DataTier")), ("QUEUE", "ivrmain/ivrsub", "gold"), "{l:?}");
    assert!(!field(l, "Hotline-Uuid").is_empty(), "{l:?}");
    let ivr = s.api("hotline show ivr");
    assert!(ivr.contains("key -> next prompt (in the module)"), "{ivr}");
    let leg = s.esl.wait_n(from, 1, Duration::from_secs(10), |e| {
        field(e, "Event-Name") == "CHANNEL_HANGUP_COMPLETE" && field(e, "variable_hotline_agent") == "a801" && field(e, "variable_loopback_leg") == "A"
    });
    let l = &leg[0];
    assert_eq!((field(l, "variable_hotline_data_tier"), field(l, "variable_hotline_data_account")), ("gold", "123"), "{l:?}");
    // The text greeting was played from the prompt cache.
    let played = s.esl.events_since(from, |e| field(e, "Event-Name") == "PLAYBACK_START" && field(e, "Playback-File-Path").contains("/hotline-prompts/"));
    assert!(!played.is_empty(), "the rendered text prompt was played");
    s.settle();
}

/// Wrong keys and silence are counted apart, each with its own exit.
#[test]
fn ivr_invalid_keys_and_silence_have_their_own_counters_and_exits() {
    let Some((s, _g)) = switch() else { return };
    let from = s.mark();
    ivr_call(s, "ivrmain", "9801002", "8ww8");
    let t = ivr_test_event(s, from, "IvrTransfer", 20);
    assert_eq!((field(&t, "Hotline-Exten"), field(&t, "Hotline-Result")), ("failures", "TRANSFER"), "{t:?}");
    let from = s.mark();
    ivr_call(s, "ivrmain", "9801003", "");
    let t = ivr_test_event(s, from, "IvrTransfer", 30);
    assert_eq!(field(&t, "Hotline-Exten"), "timeouts", "{t:?}");
    s.settle();
}

/// Dial by extension, and a language key that sets the channel's language.
#[test]
fn ivr_dial_by_extension_transfers_and_a_language_key_sets_the_language() {
    let Some((s, _g)) = switch() else { return };
    let from = s.mark();
    ivr_call(s, "ivrmain", "9801004", "712");
    let t = ivr_test_event(s, from, "IvrTransfer", 20);
    assert_eq!((field(&t, "Hotline-Exten"), field(&t, "Hotline-Path")), ("712", "ivrmain"), "{t:?}");
    let from = s.mark();
    ivr_call(s, "ivrmain", "9801005", "5ww6");
    let done = ivr_test_event(s, from, "IvrDone", 20);
    assert_eq!((field(&done, "Hotline-Result"), field(&done, "Hotline-Language")), ("RETURN", "vi"), "{done:?}");
    s.settle();
}

/// Collect with Luhn validation, read-back and confirmation, then routing
/// on the data; the card reaches the channel and the agent leg masked only.
#[test]
fn ivr_collect_validates_reads_back_and_routes_on_the_data() {
    let Some((s, _g)) = switch() else { return };
    s.agent_mode(802, "answer", 1_000);
    let from = s.mark();
    // (FreeSWITCH has no digit sounds here: the read-back is silent, so the
    // confirmation comes a second after the card.)
    ivr_call(s, "ivrmain", "9801006", "3ww4111111111111112#ww4111111111111111#W1");
    let done = ivr_test_event(s, from, "IvrDone", 40);
    assert_eq!((field(&done, "Hotline-Result"), field(&done, "Hotline-Queue"), field(&done, "Hotline-Path")), ("QUEUE", "ivrvip", "ivrmain/ivrcard/ivrbycard"), "{done:?}");
    assert_eq!(field(&done, "Hotline-Card"), "************1111", "{done:?}");
    let left = s.wait_hotline(from, "IvrLeft", 1, 5, |e| field(e, "Hotline-CallerNumber") == "9801006");
    assert_eq!((field(&left[0], "Hotline-Result"), field(&left[0], "Hotline-DataCard")), ("QUEUE", "************1111"), "{:?}", left[0]);
    let leg = s.esl.wait_n(from, 1, Duration::from_secs(10), |e| {
        field(e, "Event-Name") == "CHANNEL_HANGUP_COMPLETE" && field(e, "variable_hotline_agent") == "a802" && field(e, "variable_loopback_leg") == "A"
    });
    assert_eq!(field(&leg[0], "variable_hotline_data_card"), "************1111");
    // (The calling side's own line sending the keys has it, of course.)
    let log = s.log();
    let leaked: Vec<&str> = log.lines().filter(|l| l.contains("4111111111111111") && !l.to_ascii_lowercase().contains("send_dtmf") && !l.contains("SendDTMF")).collect();
    assert!(leaked.is_empty(), "the card number is in no log line of Hotline's: {leaked:?}");
    s.settle();
}

/// A closed calendar: the closed sound, then the closed action.
#[test]
fn ivr_a_closed_menu_plays_its_message_and_takes_the_closed_exit() {
    let Some((s, _g)) = switch() else { return };
    let from = s.mark();
    ivr_call(s, "ivrclosed", "9801007", "1");
    let t = ivr_test_event(s, from, "IvrTransfer", 20);
    assert_eq!((field(&t, "Hotline-Exten"), field(&t, "Hotline-Path")), ("closed", "ivrclosed"), "{t:?}");
    s.settle();
}

/// The CRM lookup: the caller's number goes to the CRM, its answer into the
/// data and the route; with the CRM down the fallback runs.
#[test]
fn ivr_a_crm_lookup_routes_on_the_answer_and_falls_back_when_the_crm_is_down() {
    let Some((s, _g)) = switch() else { return };
    let crm = crm::Crm::serve("gold", 1);
    let from = s.mark();
    ivr_call(s, "ivrlook", "9801010", "1");
    let t = ivr_test_event(s, from, "IvrTransfer", 20);
    assert_eq!((field(&t, "Hotline-Exten"), field(&t, "Hotline-Path")), ("crmgold", "ivrlook/ivrcrm/ivrbytier"), "{t:?}");
    let reqs = crm.requests.lock().unwrap().clone();
    assert!(reqs.len() == 1 && reqs[0].starts_with("GET /crm?number=9801010 "), "{reqs:?}");
    let from = s.mark();
    ivr_call(s, "ivrlook", "9801011", "1");
    let t = ivr_test_event(s, from, "IvrTransfer", 20);
    assert_eq!(field(&t, "Hotline-Exten"), "crmdown", "{t:?}");
    assert!(s.api("hotline show ivr").contains("lookups: ok 1, failed 1"), "{}", s.api("hotline show ivr"));
    s.settle();
}

// ---- voice messages ------------------------------------------------------------

/// A closed menu goes to voicemail: the caller's tone is recorded after the
/// beep and the silence ends it; the file is there and as long as reported
/// (sox), and hotline_messages plays it and marks it heard.
#[test]
fn messages_a_closed_menu_records_a_message_that_the_player_plays() {
    let Some((s, _g)) = switch() else { return };
    let from = s.mark();
    s.esl.bgapi("originate {origination_caller_id_number=9801020}loopback/ivr-ivrvmclosed/hotline-ivr talk XML hotline-ivr-talk");
    let left = s.wait_hotline(from, "MessageLeft", 1, 40, |e| field(e, "Hotline-CallerNumber") == "9801020");
    let l = &left[0];
    assert_eq!((field(l, "Hotline-Mailbox"), field(l, "Hotline-Step")), ("support", "ivrvm"), "{l:?}");
    let file = field(l, "Hotline-File").to_string();
    assert!(file.contains("/hotline-messages/support/") && file.ends_with(".wav"), "{l:?}");
    let ms: u64 = field(l, "Hotline-DurationMs").parse().expect("DurationMs");
    assert!((2_000..20_000).contains(&ms), "the 2.5 s tone and some silence: {l:?}");
    let out = std::process::Command::new("soxi").args(["-D", &file]).output().expect("soxi");
    let secs: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or_else(|_| panic!("soxi -D {file}: {out:?}"));
    assert!(((secs * 1000.0) as i64 - ms as i64).abs() <= 100, "sox says {secs} s, the event {ms} ms");
    let done = ivr_test_event(s, from, "IvrDone", 20);
    assert_eq!((field(&done, "Hotline-Result"), field(&done, "Hotline-Path")), ("RETURN", "ivrvmclosed/ivrvm"), "{done:?}");
    let id = field(l, "Hotline-MessageId").to_string();

    let from = s.mark();
    s.esl.bgapi("originate {origination_caller_id_number=1001}loopback/msgs-support/hotline-msgs 'sleep:90000' inline");
    let heard = s.wait_hotline(from, "MessageHeard", 1, 90, |e| field(e, "Hotline-MessageId") == id);
    assert_eq!((field(&heard[0], "Hotline-Mailbox"), field(&heard[0], "Hotline-By")), ("support", "1001"), "{:?}", heard[0]);
    let done = ivr_test_event(s, from, "MessagesDone", 90);
    let count: usize = field(&done, "Hotline-Count").parse().expect("Count");
    assert!(count >= 1 && field(&done, "Hotline-Heard").parse::<usize>().expect("Heard") >= 1, "{done:?}");
    s.settle();
}

// ---- satisfaction survey ----------------------------------------------------

/// The agent hangs up first: the caller is taken to the queue's survey,
/// presses 4, and the answer is published and counted.
#[test]
fn survey_after_the_agent_hangs_up_is_answered_stored_and_counted() {
    let Some((s, _g)) = switch() else { return };
    s.agent_mode(803, "answer", 1000);
    let from = s.mark();
    ivr_call(s, "ivrtosv", "9801030", "wwwwwwwwwwwwwwww4");
    let id = s.call_id(from, "9801030");
    let got = s.wait_hotline(from, "SurveyAnswered", 1, 40, |e| field(e, "Hotline-CallId") == id);
    let a = &got[0];
    let got = (field(a, "Hotline-Queue"), field(a, "Hotline-Agent"), field(a, "Hotline-Answer"), field(a, "Hotline-Score"));
    assert_eq!(got, ("svq", "a803", "4", "4"), "{a:?}");
    let stats = s.api("hotline stats");
    let line = stats.lines().find(|l| l.starts_with("svq ")).unwrap_or_else(|| panic!("{stats}"));
    assert!(line.trim_end().ends_with("1  4.00"), "{line}");
    s.settle();
}

/// A callback asked for with a key in the IVR: the task is in line in the
/// queue and the agent calls the customer back.
#[test]
fn ivr_a_callback_key_queues_a_callback_that_is_served() {
    let Some((s, _g)) = switch() else { return };
    // The agent answers and stays; the customer's leg lands in the agents'
    // context: it answers and hangs up after a second.
    s.agent_mode(285, "answer", 3000);
    s.agent_mode(9801040, "answer", 1000);
    let from = s.mark();
    ivr_call(s, "ivrcb", "9801040", "1");
    let cb = s.wait_hotline(from, "CallbackRequested", 1, 20, |e| field(e, "Hotline-Number") == "9801040");
    assert_eq!(field(&cb[0], "Hotline-Queue"), "cb", "{:?}", cb[0]);
    let id = field(&cb[0], "Hotline-CallId").to_string();
    let ans = s.wait_hotline(from, "CallAnswered", 1, 30, |e| field(e, "Hotline-CallId") == id);
    assert_eq!(field(&ans[0], "Hotline-Agent"), "a285", "{:?}", ans[0]);
    s.wait_hotline(from, "CallEnded", 1, 30, |e| field(e, "Hotline-CallId") == id);
    s.settle();
}

/// A waiting caller presses the queue's message key: it leaves the line
/// with a callback that keeps its place, leaves a message filed under its
/// call id, and the callback is served once an agent logs in.
#[test]
fn messages_the_queues_message_key_records_and_keeps_the_place() {
    let Some((s, _g)) = switch() else { return };
    s.agent_command("logout", "a804");
    let from = s.mark();
    s.esl.bgapi("originate {origination_caller_id_number=9801050}loopback/ivr-ivrtovm/hotline-ivr keytalk XML hotline-ivr-keytalk");
    let id = s.call_id(from, "9801050");
    let cb = s.wait_hotline(from, "CallbackRequested", 1, 20, |e| field(e, "Hotline-CallId") == id);
    assert_eq!(field(&cb[0], "Hotline-Queue"), "vmq", "{:?}", cb[0]);
    let left = s.wait_hotline(from, "MessageLeft", 1, 40, |e| field(e, "Hotline-CallerNumber") == "9801050");
    let l = &left[0];
    let got = (field(l, "Hotline-MessageId"), field(l, "Hotline-Mailbox"), field(l, "Hotline-CallbackQueue"));
    assert_eq!(got, (id.as_str(), "queue", "vmq"), "{l:?}");
    let ms: u64 = field(l, "Hotline-DurationMs").parse().expect("DurationMs");
    assert!((2_000..20_000).contains(&ms), "{l:?}");
    s.agent_mode(804, "answer", 2000);
    s.agent_mode(9801050, "answer", 1000);
    s.agent_command("login", "a804");
    let ans = s.wait_hotline(from, "CallAnswered", 1, 30, |e| field(e, "Hotline-CallId") == id);
    assert_eq!(field(&ans[0], "Hotline-Agent"), "a804", "{:?}", ans[0]);
    s.wait_hotline(from, "CallEnded", 1, 30, |e| field(e, "Hotline-CallId") == id);
    s.agent_command("logout", "a804");
    s.settle();
}

/// The rendered files (names in the switch's prompt cache) of these
/// Vietnamese say words, once the render thread has made them all (it
/// renders at load).
fn rendered_vi(s: &Switch, words: &[&str]) -> Vec<String> {
    let dir = s.root.join("db/hotline-prompts");
    let files: Vec<String> = words.iter().map(|w| hotline::ivr::tts::file_name(w, "vi")).collect();
    poll::until("the say words rendered", Duration::from_secs(60), Duration::from_millis(250), || {
        files.iter().all(|w| dir.join(w).is_file()).then_some(()).ok_or_else(|| format!("{files:?} in {}", dir.display()))
    });
    files
}

/// A Vietnamese menu's read-back: FreeSWITCH has no sounds here, so the
/// digits 1 0 5 are said as Hotline's own words (`một không năm`), rendered
/// by espeak-ng at load into the prompt cache; the session plays those
/// files, in order.
#[test]
fn ivr_a_vietnamese_read_back_plays_the_rendered_words() {
    let Some((s, _g)) = switch() else { return };
    let words = rendered_vi(s, &["một", "không", "năm"]);
    let from = s.mark();
    // 1: the collect; 105; the read-back plays out; 1 confirms.
    ivr_call(s, "ivrvi", "9801060", "1ww105WWW1");
    let done = ivr_test_event(s, from, "IvrDone", 40);
    assert_eq!((field(&done, "Hotline-Result"), field(&done, "Hotline-Path"), field(&done, "Hotline-Language")), ("RETURN", "ivrvi/ivrviacct", "vi"), "{done:?}");
    let left = s.wait_hotline(from, "IvrLeft", 1, 5, |e| field(e, "Hotline-CallerNumber") == "9801060");
    assert_eq!(field(&left[0], "Hotline-DataAcct"), "105", "{:?}", left[0]);
    let played: Vec<String> = s
        .esl
        .events_since(from, |e| field(e, "Event-Name") == "PLAYBACK_START" && field(e, "Playback-File-Path").contains("/hotline-prompts/"))
        .iter()
        .map(|e| field(e, "Playback-File-Path").rsplit('/').next().unwrap_or("").to_string())
        .collect();
    assert_eq!(played, words, "the read-back's words, in order");
    s.settle();
}

/// The sound files FreeSWITCH's English say (mod_say_en) plays for dates
/// and money, as 0.1 s tones in the English language's sound prefix
/// (sounds/say-en): none ship here, and a say file that is missing plays
/// nothing. Removed again when the guard drops (the other tests' say is
/// silent, and their timings count on it).
struct SayEnSounds(std::path::PathBuf);

impl Drop for SayEnSounds {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn say_en_sounds(s: &Switch) -> SayEnSounds {
    let dir = s.root.join("sounds/say-en");
    let mut names: Vec<String> = Vec::new();
    names.extend((0..7).map(|d| format!("time/day-{d}")));
    names.extend((0..12).map(|m| format!("time/mon-{m}")));
    names.extend((0..=20).chain([30, 40, 50, 60, 70, 80, 90]).map(|n| format!("digits/{n}")));
    names.extend((1..=20).chain([30, 40, 50, 60, 70, 80, 90]).map(|n| format!("digits/h-{n}")));
    names.extend(["digits/hundred", "digits/thousand", "digits/million", "currency/dollar", "currency/dollars", "currency/cent", "currency/cents", "currency/and", "currency/negative"].map(String::from));
    for n in names {
        let f = dir.join(format!("{n}.wav"));
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        let ok = std::process::Command::new("sox").args(["-n", "-r", "8000", "-c", "1", "-b", "16"]).arg(&f).args(["synth", "0.1", "sine", "440"]).status().is_ok_and(|st| st.success());
        assert!(ok, "sox (apt-get install sox)");
    }
    SayEnSounds(dir)
}

/// Every file FreeSWITCH started playing since `from` (file_string lists
/// split into their files), by path.
fn played(s: &Switch, from: usize) -> Vec<String> {
    s.esl
        .events_since(from, |e| field(e, "Event-Name") == "PLAYBACK_START")
        .iter()
        .flat_map(|e| field(e, "Playback-File-Path").trim_start_matches("file_string://").split('!').map(str::to_string).collect::<Vec<_>>())
        .collect()
}

/// Each of `wanted` found in `lines` in order (a subsequence).
fn in_order(lines: &[String], wanted: &[String]) {
    let mut at = 0;
    for w in wanted {
        match lines[at..].iter().position(|l| l.contains(w.as_str())) {
            Some(i) => at += i + 1,
            None => panic!("{w:?} not played after {at}: {lines:#?}"),
        }
    }
}

/// Dates and money by FreeSWITCH's own say (mod_say_en): a date the caller
/// keys in (DDMMYYYY, validated) and a balance in the call's data are
/// said from the data, then a date written in the menu.
#[test]
fn ivr_dates_and_money_are_said_by_the_pbx_from_the_data() {
    let Some((s, _g)) = switch() else { return };
    let _sounds = say_en_sounds(s);
    let from = s.mark();
    ivr_call(s, "ivrsay", "9801070", "24122026");
    let done = ivr_test_event(s, from, "IvrDone", 40);
    assert_eq!((field(&done, "Hotline-Result"), field(&done, "Hotline-Path")), ("RETURN", "ivrsay/ivrsaid"), "{done:?}");
    // Thursday, December 24th, 2026; one thousand two hundred thirty-four
    // dollars and fifty cents; Tuesday, April 1st, 2025.
    let wanted = [
        "time/day-4", "time/mon-11", "digits/h-", "digits/thousand", "digits/1.", "digits/thousand", "digits/hundred", "currency/dollars", "currency/and", "digits/50", "currency/cents", "time/day-2",
        "time/mon-3", "digits/h-1.",
    ];
    in_order(&played(s, from), &wanted.map(String::from));
    s.settle();
}

/// The same in Vietnamese: the date and the amount are Hotline's rendered
/// words, in order.
#[test]
fn ivr_dates_and_money_in_vietnamese_play_the_rendered_words() {
    let Some((s, _g)) = switch() else { return };
    let files = rendered_vi(s, &["ngày", "một", "tháng", "tư", "năm", "hai", "nghìn", "không", "trăm", "hai", "mươi", "lăm", "mười", "hai", "phẩy", "năm", "đồng"]);
    let from = s.mark();
    ivr_call(s, "ivrsayvi", "9801071", "");
    let done = ivr_test_event(s, from, "IvrDone", 40);
    assert_eq!((field(&done, "Hotline-Result"), field(&done, "Hotline-Language")), ("RETURN", "vi"), "{done:?}");
    let played = played(s, from);
    in_order(&played, &files.iter().map(|f| format!("/hotline-prompts/{f}")).collect::<Vec<_>>());
    assert!(!played.iter().any(|p| p.contains("digits/") || p.contains("currency/")), "FreeSWITCH said it itself: {played:#?}");
    s.settle();
}

// ---- speech input ------------------------------------------------------------

/// `text` spoken by espeak-ng, as an 8 kHz mono WAV under the switch's
/// root: the path.
fn say_file(s: &Switch, name: &str, text: &str) -> String {
    let dir = s.root.join("say");
    std::fs::create_dir_all(&dir).unwrap();
    let (wide, wav) = (dir.join(format!("{name}.22k.wav")), dir.join(format!("{name}.wav")));
    let ok = std::process::Command::new("espeak-ng").args(["-v", "en-us", "-w"]).arg(&wide).arg(text).status().is_ok_and(|st| st.success());
    assert!(ok, "espeak-ng (apt-get install espeak-ng)");
    let ok = std::process::Command::new("sox").arg(&wide).args(["-r", "8000", "-c", "1", "-b", "16"]).arg(&wav).status().is_ok_and(|st| st.success());
    assert!(ok, "sox (apt-get install sox)");
    wav.display().to_string()
}

/// A menu with words: the caller says "technical support" after the tone
/// and the menu takes that key's branch; a key is still taken while it
/// listens, and silence is a timeout. Hotline's engine (PocketSphinx)
/// listens through FreeSWITCH's ASR API (`switch_ivr_detect_speech`).
#[test]
fn speech_a_spoken_keyword_takes_its_branch_and_keys_still_work() {
    let Some((s, _g)) = switch() else { return };
    assert!(s.log().contains("speech engine \"hotline\""), "the engine started: {}", s.log());
    for (name, text, exten) in [("support", "technical support", "spokensupport"), ("sales", "sales", "spokensales")] {
        let file = say_file(s, name, text);
        let from = s.mark();
        s.esl.bgapi(&format!("originate {{origination_caller_id_number=9801040,say_file={file}}}loopback/ivr-ivrspeech/hotline-ivr say XML hotline-ivr-say"));
        let t = ivr_test_event(s, from, "IvrTransfer", 30);
        assert_eq!((field(&t, "Hotline-Exten"), field(&t, "Hotline-Path")), (exten, "ivrspeech"), "{text:?}: {t:?}");
    }
    let from = s.mark();
    ivr_call(s, "ivrspeech", "9801041", "1");
    let t = ivr_test_event(s, from, "IvrTransfer", 30);
    assert_eq!(field(&t, "Hotline-Exten"), "spokensales", "key 1 while listening: {t:?}");
    let from = s.mark();
    ivr_call(s, "ivrspeech", "9801042", "");
    let t = ivr_test_event(s, from, "IvrTransfer", 30);
    assert_eq!(field(&t, "Hotline-Exten"), "timeouts", "silence: {t:?}");
    s.settle();
}

/// Barge-in by voice: the greeting (a 60 s tone) plays while the engine
/// listens, and the caller saying "technical support" over it stops it and
/// takes that branch (before, the menu waited out the greeting).
#[test]
fn speech_the_callers_voice_stops_the_greeting_and_is_heard() {
    let Some((s, _g)) = switch() else { return };
    let file = say_file(s, "barge", "technical support");
    let from = s.mark();
    s.esl.bgapi(&format!("originate {{origination_caller_id_number=9801043,say_file={file}}}loopback/ivr-ivrbarge/hotline-ivr say XML hotline-ivr-say"));
    // Well within the greeting's 60 s: only a stopped greeting gets here.
    let t = ivr_test_event(s, from, "IvrTransfer", 25);
    assert_eq!((field(&t, "Hotline-Exten"), field(&t, "Hotline-Path")), ("spokensupport", "ivrbarge"), "{t:?}");
    s.settle();
}

/// The engine serves plain dialplan too: `play_and_detect_speech ...
/// detect:hotline <grammar>` sets `detect_speech_result` to NLSML with the
/// words and their grammar.
#[test]
fn speech_the_hotline_engine_serves_play_and_detect_speech_in_plain_dialplan() {
    let Some((s, _g)) = switch() else { return };
    // A phrase, and a single short word.
    for (name, text) in [("support2", "technical support"), ("sales1", "sales")] {
        let file = say_file(s, name, text);
        let from = s.mark();
        s.esl.bgapi(&format!("originate {{say_file={file}}}loopback/detect/hotline-speech say XML hotline-ivr-say"));
        let got = ivr_test_event(s, from, "Detected", 30);
        let result = field(&got, "Hotline-Result");
        assert_eq!(hotline::speech::recognizer::from_nlsml(result).map(|h| h.text).as_deref(), Some(text), "{got:?}");
        assert!(result.contains("<input mode=\"speech\""), "{result}");
    }
    s.settle();
}

// ---- webhooks ----------------------------------------------------------------


/// The endpoint is down while a call is offered, answered and ended, and
/// while the dialplan fires a screen pop: the call is served as always;
/// once the endpoint listens, every event arrives, signed, with the
/// caller, the call's data and the channel's UUID; the API shows the
/// outbox empty.
#[test]
fn webhooks_a_dead_endpoint_costs_the_call_nothing_and_gets_every_event_when_back() {
    let Some((s, _g)) = switch() else { return };
    s.agent_mode(278, "answer", 1000);
    let from = s.mark();
    s.esl.bgapi("originate {origination_caller_id_number=9278000,origination_caller_id_name=Nguyễn}loopback/data-hook/hotline-callers &sleep(10000)");
    let id = s.call_id(from, "9278000");
    s.wait_hotline(from, "CallEnded", 1, 20, |e| field(e, "Hotline-CallId") == id);
    // The screen-pop URL in the answer event and on the agent's leg.
    let popup = format!("https://crm.example/pop?n=9278000&call={id}&tier=gold&a=a278");
    let ans = s.wait_hotline(from, "CallAnswered", 1, 10, |e| field(e, "Hotline-CallId") == id);
    assert_eq!(field(&ans[0], "Hotline-PopupUrl"), popup, "{:?}", ans[0]);
    let leg = s.esl.wait_n(from, 1, Duration::from_secs(10), |e| {
        field(e, "Event-Name") == "CHANNEL_HANGUP_COMPLETE" && field(e, "Channel-Name").starts_with("loopback/278-a")
    });
    assert_eq!(field(&leg[0], "variable_hotline_popup_url"), popup, "{:?}", leg[0]);
    let done = s.caller_done(from, "hook", 1, 20);
    assert_eq!(field(&done[0], "variable_hotline_result"), "ANSWERED", "served while the endpoint is down");
    s.esl.bgapi("originate {origination_caller_id_number=9278001}loopback/pop/hotline-screenpop &sleep(5000)");
    let pop = ivr_test_event(s, from, "ScreenPop", 10);
    assert_eq!((field(&pop, "Hotline-First"), field(&pop, "Hotline-Second")), ("OK", "ERROR"), "{pop:?}");
    assert!(s.api("hotline webhooks show").contains("pending"), "{}", s.api("hotline webhooks show"));
    let rx = webhook::Receiver::start(18097);
    let got = rx.wait(20, "the call's events and the screen pop", |got| {
        let pops = got.iter().filter(|(_, b)| b["type"] == "call.screenpop" && b["call"]["caller"]["number"] == "9278001").count();
        (webhook::types(got, &id) == ["call.offered", "call.answered", "call.ended"] && pops >= 1).then(|| got.to_vec())
    });
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    for (h, body) in rx.raw() {
        let sig = h.get("hotline-signature").expect("signed");
        assert_eq!(hotline::notify::webhook::sign::verify(sig, webhook::SECRET, body.as_bytes(), now, 300), Ok(()), "{sig}");
    }
    let answered = got.iter().map(|(_, b)| b).find(|b| b["type"] == "call.answered" && b["call"]["id"] == id.as_str()).unwrap();
    assert_eq!((answered["call"]["caller"]["number"].as_str(), answered["call"]["agent"].as_str()), (Some("9278000"), Some("a278")), "{answered}");
    assert_eq!((answered["call"]["data"]["tier"].as_str(), answered["call"]["data"]["account"].as_str()), (Some("gold"), Some("123")), "{answered}");
    assert!(answered["call"]["pbx"]["uuid"].as_str().is_some_and(|u| u.len() == 36), "{answered}");
    assert_eq!(answered["call"]["popup_url"].as_str(), Some(popup.as_str()), "{answered}");
    let pop = got.iter().map(|(_, b)| b).find(|b| b["type"] == "call.screenpop").unwrap();
    assert_eq!((pop["fields"]["ticket"].as_str(), pop["fields"]["source"].as_str(), pop["call"]["data"]["account"].as_str()), (Some("T77"), Some("dialplan"), Some("105")), "{pop}");
    poll::until("the outbox empty", Duration::from_secs(10), Duration::from_millis(200), || {
        let show = s.api("hotline webhooks show");
        show.contains("pending 0").then_some(()).ok_or(show)
    });
    s.settle();
}
