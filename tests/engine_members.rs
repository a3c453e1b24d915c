//! Run-time members, hot desking, operator resets of stuck agents and the
//! long-call sweep, on the engine with a virtual clock.

mod support;

use hotline::core::event::EventKind;
use hotline::core::{Action, AgentState, CallId, CallerInfo, EndedBy, ExitReason, Input, OfferOutcome};
use support::{agents, cfg, H};

/// Queue q (linear, `extra`) with a0, a1 as members; b is an agent of
/// queue "other" only.
fn setup(extra: &str) -> String {
    format!("[[queue]]\nname = \"q\"\nstrategy = \"linear\"\n{extra}\n[[queue]]\nname = \"other\"\n")
        + &agents("q", 2, "")
        + "[[agent]]\nname = \"b\"\ncontact = \"Local/b@agents\"\nqueues = [\"other\"]\n"
}

fn add(h: &mut H, agent: &str, queue: &str, penalty: u32, tier: u8) {
    h.input(Input::AddMember { agent: agent.into(), queue: queue.into(), penalty, tier });
}

fn remove(h: &mut H, agent: &str, queue: &str) {
    h.input(Input::RemoveMember { agent: agent.into(), queue: queue.into() });
}

fn queues_of(h: &H, agent: &str) -> Vec<String> {
    h.e.agent_views().into_iter().find(|a| a.name == agent).map(|a| a.queues).unwrap_or_default()
}

fn contact_of(h: &H, agent: &str) -> String {
    h.e.agent_views().into_iter().find(|a| a.name == agent).map(|a| a.contact).expect("agent")
}

/// The dial strings rung for `call` (the offer is taken).
fn rung(h: &mut H, call: CallId) -> Vec<String> {
    let pos = h.actions.iter().position(|a| matches!(a, Action::Offer { call: c, .. } if *c == call)).expect("an offer");
    match h.actions.remove(pos) {
        Action::Offer { targets, .. } => targets.iter().map(|t| t.contact.to_string()).collect(),
        _ => unreachable!(),
    }
}

fn refusals(h: &H) -> Vec<(String, String)> {
    h.events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::CommandRefused { command, reason, .. } => Some((command.to_string(), reason.clone())),
            _ => None,
        })
        .collect()
}

/// a0 and a1 talking, so new callers of q wait.
fn both_busy(h: &mut H) -> (CallId, CallId) {
    (h.talking("q", "a0"), h.talking("q", "a1"))
}

#[test]
fn an_added_member_takes_a_waiting_caller_and_a_removed_one_leaves_after_its_call() {
    let mut h = H::new(&setup(""));
    both_busy(&mut h);
    let c = h.call("q");
    h.no_offer(c);
    add(&mut h, "b", "q", 0, 1);
    assert_eq!(h.count_events(|e| matches!(e, EventKind::MemberAdded { agent, queue, penalty: 0, tier: 1 } if &**agent == "b" && &**queue == "q")), 1);
    assert_eq!(queues_of(&h, "b"), ["other", "q"]);
    assert_eq!(h.offered(c), "b");
    // Removed while ringing: stays a member until the call is over.
    remove(&mut h, "b", "q");
    assert_eq!(h.count_events(|e| matches!(e, EventKind::MemberRemoved { .. })), 0);
    assert_eq!(queues_of(&h, "b"), ["other", "q"]);
    h.answer(c, "b");
    h.wait(1_000);
    h.hangup(c);
    assert_eq!(h.count_events(|e| matches!(e, EventKind::MemberRemoved { agent, queue, .. } if &**agent == "b" && &**queue == "q")), 1);
    assert_eq!(queues_of(&h, "b"), ["other"]);
    assert_eq!(h.state("b"), AgentState::Available);
    let next = h.call("q");
    h.no_offer(next);
    // An idle member leaves at once.
    remove(&mut h, "b", "other");
    assert!(queues_of(&h, "b").is_empty());
    assert_eq!(h.count_events(|e| matches!(e, EventKind::MemberRemoved { .. })), 2);
}

#[test]
fn a_member_re_added_while_leaving_stays() {
    let mut h = H::new(&setup(""));
    let c = h.talking("q", "a0");
    remove(&mut h, "a0", "q");
    add(&mut h, "a0", "q", 4, 2);
    assert_eq!(h.count_events(|e| matches!(e, EventKind::MemberChanged { penalty: 4, tier: 2, .. })), 1);
    h.hangup(c);
    assert_eq!(h.count_events(|e| matches!(e, EventKind::MemberRemoved { .. })), 0);
    assert_eq!(queues_of(&h, "a0"), ["q"]);
}

#[test]
fn a_member_added_at_run_time_comes_after_the_others() {
    // Linear order: a0 removed and added back ranks after a1.
    let mut h = H::new(&setup(""));
    remove(&mut h, "a0", "q");
    add(&mut h, "a0", "q", 0, 1);
    add(&mut h, "b", "q", 0, 1);
    let c = h.call("q");
    assert_eq!(h.offered(c), "a1");
    let c = h.call("q");
    assert_eq!(h.offered(c), "a0");
    let c = h.call("q");
    assert_eq!(h.offered(c), "b");
}

#[test]
fn a_new_penalty_or_tier_applies_to_waiting_callers_at_once() {
    let mut h = H::new(&setup("max_penalty = 5\nmax_tier = 1"));
    both_busy(&mut h);
    add(&mut h, "b", "q", 10, 1);
    let c = h.call("q");
    h.no_offer(c);
    h.input(Input::SetPenalty { agent: "b".into(), queue: "q".into(), penalty: 3, tier: Some(2) });
    assert_eq!(h.count_events(|e| matches!(e, EventKind::MemberChanged { penalty: 3, tier: 2, .. })), 1);
    h.no_offer(c);
    h.input(Input::SetPenalty { agent: "b".into(), queue: "q".into(), penalty: 3, tier: Some(1) });
    assert_eq!(h.offered(c), "b");
}

#[test]
fn unknown_agents_queues_and_memberships_are_counted_and_refused() {
    let mut h = H::new(&setup(""));
    add(&mut h, "ghost", "q", 0, 1);
    assert_eq!(h.e.counters.unknown_agent, 1);
    add(&mut h, "b", "nowhere", 0, 1);
    assert_eq!(h.e.counters.unknown_queue, 1);
    add(&mut h, "a0", "q", 0, 1);
    add(&mut h, "b", "q", 0, 0);
    remove(&mut h, "b", "q");
    h.input(Input::SetPenalty { agent: "b".into(), queue: "q".into(), penalty: 1, tier: None });
    h.input(Input::AgentReset { agent: "a0".into() });
    h.input(Input::AgentLogout { agent: "ghost".into() });
    let r = refusals(&h);
    let commands: Vec<&str> = r.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(commands, ["add-member", "add-member", "add-member", "add-member", "remove-member", "set-penalty", "reset", "logout"], "{r:?}");
    assert!(r[0].1.contains("unknown agent") && r[1].1.contains("unknown queue"), "{r:?}");
    assert!(r[2].1.contains("already a member") && r[3].1.contains("tier"), "{r:?}");
    assert!(r[4].1.contains("not a member") && r[6].1.contains("not ringing or on a call"), "{r:?}");
    assert_eq!(h.e.counters.unknown_agent, 2);
    assert_eq!(queues_of(&h, "b"), ["other"]);
}

#[test]
fn removing_the_last_logged_in_member_empties_a_leave_when_empty_queue() {
    let mut h = H::new(&setup("leave_when_empty = true"));
    h.input(Input::AgentBreak { agent: "a0".into(), reason: "x".into() });
    h.input(Input::AgentBreak { agent: "a1".into(), reason: "x".into() });
    let c = h.call("q");
    remove(&mut h, "a0", "q");
    assert_eq!(h.exit_of(c), None);
    remove(&mut h, "a1", "q");
    assert_eq!(h.exit_of(c), Some(ExitReason::LeaveEmpty));
}

#[test]
fn reload_keeps_run_time_members_and_restores_configured_ones() {
    let text = setup("max_tier = 1");
    let mut h = H::new(&text);
    add(&mut h, "b", "q", 7, 2);
    remove(&mut h, "a0", "q");
    h.input(Input::Reload(cfg(&text)));
    assert_eq!(queues_of(&h, "b"), ["other", "q"]);
    assert_eq!(queues_of(&h, "a0"), ["q"], "the file's membership is back");
    // Still tier 2 and after the configured members.
    let c = h.call("q");
    assert_eq!(h.offered(c), "a0");
    let c = h.call("q");
    assert_eq!(h.offered(c), "a1");
    let c = h.call("q");
    h.no_offer(c);
    // The file now lists b in q: the file's membership replaces the run-time one.
    let listed = text.replace("queues = [\"other\"]", "queues = [\"other\", \"q\"]");
    h.input(Input::Reload(cfg(&listed)));
    assert_eq!(h.offered(c), "b", "tier 1 from the file");
    assert_eq!(queues_of(&h, "b"), ["other", "q"]);
    // A queue gone takes its run-time members with it.
    let mut h = H::new(&text);
    add(&mut h, "b", "q", 0, 1);
    let without_q = "[[queue]]\nname = \"other\"\n[[agent]]\nname = \"b\"\ncontact = \"Local/b@agents\"\nqueues = [\"other\"]\n";
    h.input(Input::Reload(cfg(without_q)));
    assert_eq!(queues_of(&h, "b"), ["other"]);
}

#[test]
fn hot_desk_login_rings_the_new_contact_until_logout() {
    let text = "[[queue]]\nname = \"q\"\n[[agent]]\nname = \"a\"\ncontact = \"PJSIP/1001\"\nqueues = [\"q\"]\nstate = \"logged-out\"\n";
    let mut h = H::new(text);
    h.input(Input::AgentLogin { agent: "a".into(), contact: Some("PJSIP/desk-7".into()) });
    assert_eq!(
        h.count_events(|e| matches!(e, EventKind::AgentStateChanged { to: AgentState::Available, contact: Some(c), .. } if &**c == "PJSIP/desk-7")),
        1
    );
    assert_eq!(contact_of(&h, "a"), "PJSIP/desk-7");
    // The phone at the desk is the one whose state counts.
    h.input(Input::DeviceState { device: "PJSIP/1001".into(), busy: true });
    let c = h.call("q");
    assert_eq!(rung(&mut h, c), ["PJSIP/desk-7"]);
    h.result(c, "a", OfferOutcome::Busy);
    h.input(Input::CallerHangup { call: c });
    h.input(Input::DeviceState { device: "PJSIP/desk-7".into(), busy: true });
    let c = h.call("q");
    h.no_offer(c);
    h.input(Input::DeviceState { device: "PJSIP/desk-7".into(), busy: false });
    assert_eq!(rung(&mut h, c), ["PJSIP/desk-7"]);
    h.answer(c, "a");
    // A reload keeps the desk.
    h.input(Input::Reload(cfg(text)));
    assert_eq!(contact_of(&h, "a"), "PJSIP/desk-7");
    // Logging in from yet another phone while logged in changes phones.
    h.input(Input::AgentLogin { agent: "a".into(), contact: Some("PJSIP/desk-9".into()) });
    assert_eq!(
        h.count_events(|e| matches!(e, EventKind::AgentStateChanged { from, to, contact: Some(c), .. } if from == to && &**c == "PJSIP/desk-9")),
        1
    );
    h.hangup(c);
    assert_eq!(contact_of(&h, "a"), "PJSIP/desk-9");
    // Logout restores the configured contact.
    h.input(Input::AgentLogout { agent: "a".into() });
    assert_eq!(contact_of(&h, "a"), "PJSIP/1001");
    h.input(Input::DeviceState { device: "PJSIP/1001".into(), busy: false });
    h.input(Input::AgentLogin { agent: "a".into(), contact: None });
    assert!(h.events.iter().any(|e| matches!(&e.kind, EventKind::AgentStateChanged { contact: Some(c), .. } if &**c == "PJSIP/1001")));
    let c = h.call("q");
    assert_eq!(rung(&mut h, c), ["PJSIP/1001"]);
}

#[test]
fn a_hot_desk_contact_that_is_not_one_dial_string_is_refused() {
    let text = "[[queue]]\nname = \"q\"\n[[agent]]\nname = \"a\"\ncontact = \"PJSIP/1001\"\nqueues = [\"q\"]\nstate = \"logged-out\"\n";
    for bad in ["", "PJSIP", "/1001", "PJSIP/", "PJSIP/1&PJSIP/2", "PJSIP/1,30", "PJSIP/1 2", "SIP/a|b", "sofia/x^y", "PJ SIP/1"] {
        let mut h = H::new(text);
        h.input(Input::AgentLogin { agent: "a".into(), contact: Some(bad.into()) });
        assert_eq!(h.state("a"), AgentState::LoggedOut, "{bad:?}");
        assert_eq!(refusals(&h).len(), 1, "{bad:?}");
    }
    for good in ["PJSIP/1001", "Local/100@agents/n", "sofia/internal/1000@10.0.0.1:5060", "user/1000"] {
        let mut h = H::new(text);
        h.input(Input::AgentLogin { agent: "a".into(), contact: Some(good.into()) });
        assert_eq!(contact_of(&h, "a"), good);
    }
}

#[test]
fn reset_ends_a_stuck_talk_and_frees_the_agent_at_once() {
    let mut h = H::new(&setup("wrapup_seconds = 30"));
    let (stuck, _) = both_busy(&mut h);
    let waiting = h.call("q");
    h.wait(3_600_000);
    h.input(Input::AgentReset { agent: "a0".into() });
    assert_eq!(h.count_events(|e| matches!(e, EventKind::AgentReset { agent, call } if &**agent == "a0" && *call == stuck)), 1);
    assert_eq!(
        h.count_events(|e| matches!(e, EventKind::CallEnded { call, by: EndedBy::Failed, wrapup: 0, .. } if *call == stuck)),
        1
    );
    // No wrap-up after a call nobody reported: the waiting caller at once.
    assert_eq!(h.offered(waiting), "a0");
    // The PBX's late report changes nothing.
    let stale = h.e.counters.stale_inputs;
    h.input(Input::CallEnded { call: stuck, by: EndedBy::Agent });
    assert_eq!(h.e.counters.stale_inputs, stale + 1);
}

#[test]
fn reset_cancels_a_stuck_offer_and_the_caller_waits_again() {
    let mut h = H::new(&setup(""));
    let c = h.call("q");
    assert_eq!(h.offered(c), "a0");
    h.input(Input::AgentBreak { agent: "a1".into(), reason: "x".into() });
    // Logout asked for while ringing still applies after the reset.
    h.input(Input::AgentLogout { agent: "a0".into() });
    h.input(Input::AgentReset { agent: "a0".into() });
    assert_eq!(h.count_events(|e| matches!(e, EventKind::AgentReset { call, .. } if *call == c)), 1);
    assert_eq!(h.count_events(|e| matches!(e, EventKind::OfferFailed { outcome: OfferOutcome::Cancelled, .. })), 1);
    assert_eq!(h.state("a0"), AgentState::LoggedOut);
    assert_eq!(h.e.call_views(h.now)[0].phase, hotline::core::call::CallPhase::Waiting);
    h.input(Input::AgentReady { agent: "a1".into() });
    assert_eq!(h.offered(c), "a1");
}

#[test]
fn long_calls_are_listed_and_a_gone_call_frees_its_agent() {
    let mut h = H::new(&setup(""));
    let data = vec![("uniqueid".to_string(), "1700000000.1".to_string())];
    let old = h.talking_with("q", "a0", CallerInfo { data: data.clone(), ..Default::default() });
    h.wait(100_000);
    let young = h.talking("q", "a1");
    let waiting = h.call("q");
    h.wait(100_000);
    assert_eq!(h.e.long_calls(h.now, 150_000), [(old, 0, data)]);
    assert_eq!(h.e.long_calls(h.now, 50_000).len(), 2);
    h.input(Input::CallGone { call: old });
    assert_eq!(h.count_events(|e| matches!(e, EventKind::CallGone { call, agent, .. } if *call == old && &**agent == "a0")), 1);
    assert_eq!(h.count_events(|e| matches!(e, EventKind::CallEnded { call, by: EndedBy::Failed, .. } if *call == old)), 1);
    assert_eq!(h.offered(waiting), "a0");
    assert!(h.e.long_calls(h.now, 50_000).iter().all(|(c, ..)| *c == young));
    // Only talking calls can be gone.
    let stale = h.e.counters.stale_inputs;
    h.input(Input::CallGone { call: waiting });
    h.input(Input::CallGone { call: CallId(999) });
    assert_eq!(h.e.counters.stale_inputs, stale + 2);
}

/// Offers carry auto-answer: the agent's own setting, else the queue's.
#[test]
fn offers_carry_the_agents_auto_answer_over_the_queues() {
    let text = "[[queue]]\nname = \"q\"\nstrategy = \"ring-all\"\nauto_answer = true\n\
                [[agent]]\nname = \"inherits\"\ncontact = \"PJSIP/1\"\nqueues = [\"q\"]\n\
                [[agent]]\nname = \"refuses\"\ncontact = \"PJSIP/2\"\nqueues = [\"q\"]\nauto_answer = false\n\
                [[queue]]\nname = \"plain\"\nstrategy = \"linear\"\n\
                [[agent]]\nname = \"headset\"\ncontact = \"PJSIP/3\"\nqueues = [\"plain\"]\nauto_answer = true\n";
    let mut h = H::new(text);
    let offered = |h: &mut H, call: CallId| -> Vec<(String, bool)> {
        let pos = h.actions.iter().position(|a| matches!(a, Action::Offer { call: c, .. } if *c == call)).expect("an offer");
        match h.actions.remove(pos) {
            Action::Offer { targets, .. } => {
                let mut v: Vec<(String, bool)> = targets.iter().map(|t| (t.name.to_string(), t.auto_answer)).collect();
                v.sort();
                v
            }
            _ => unreachable!(),
        }
    };
    let c = h.call("q");
    assert_eq!(offered(&mut h, c), [("inherits".to_string(), true), ("refuses".to_string(), false)]);
    let c = h.call("plain");
    assert_eq!(offered(&mut h, c), [("headset".to_string(), true)]);
}
