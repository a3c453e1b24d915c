// SPDX-License-Identifier: GPL-2.0-or-later
//! Offers that cannot go stale (sequence numbers, absolute deadlines, the
//! router's verdict on every answer), short-call requeue, ring escalation
//! and busy back-off.

mod support;

use hotline::core::event::EventKind;
use hotline::core::{Action, AgentState, CallId, EndedBy, Input, OfferOutcome, Stats};
use support::{agents, cfg, H};

fn q(extra: &str) -> String {
    format!("[[queue]]\nname = \"q\"\nstrategy = \"linear\"\nring_timeout_seconds = 15\n{extra}\n")
}

/// The pending offer of `call`: (seq, agent names, timeout, deadline).
fn offer_action(h: &mut H, call: CallId) -> (u32, Vec<String>, u64, u64) {
    let pos = h.actions.iter().position(|a| matches!(a, Action::Offer { call: c, .. } if *c == call)).expect("an offer");
    match h.actions.remove(pos) {
        Action::Offer { seq, targets, timeout, deadline, .. } => (seq, targets.iter().map(|t| t.name.to_string()).collect(), timeout, deadline),
        _ => unreachable!(),
    }
}

fn take(h: &mut H, f: impl Fn(&Action) -> bool) -> Option<Action> {
    let pos = h.actions.iter().position(f)?;
    Some(h.actions.remove(pos))
}

#[test]
fn an_offer_carries_its_number_and_an_absolute_deadline() {
    let mut h = H::new(&(q("ring_escalate_seconds = 0\nretry_exclude_seconds = 0") + &agents("q", 1, "")));
    h.wait(1_234);
    let c = h.call("q");
    let (seq, who, timeout, deadline) = offer_action(&mut h, c);
    assert_eq!((seq, who, timeout, deadline), (1, vec!["a0".to_string()], 15_000, 1_234 + 15_000));
    h.result(c, "a0", OfferOutcome::NoAnswer);
    let (seq, _, _, deadline) = offer_action(&mut h, c);
    assert_eq!((seq, deadline), (2, h.now + 15_000), "a new offer, a new number");
}

#[test]
fn a_fresh_answer_is_confirmed_for_the_bridge() {
    let mut h = H::new(&(q("ring_escalate_seconds = 0") + &agents("q", 1, "")));
    let c = h.call("q");
    assert_eq!(h.offered(c), "a0");
    h.answer(c, "a0");
    let a0 = h.id("a0");
    assert_eq!(take(&mut h, |a| matches!(a, Action::Connect { .. })), Some(Action::Connect { call: c, seq: 1, agent: a0 }));
    assert_eq!(h.state("a0"), AgentState::OnCall(c));
}

#[test]
fn an_answer_after_a_reset_is_dropped_and_the_caller_served_by_another_agent() {
    let text = "[[queue]]\nname = \"q\"\nstrategy = \"round-robin\"\nring_escalate_seconds = 0\n".to_string() + &agents("q", 2, "");
    let mut h = H::new(&text);
    let c = h.call("q");
    assert_eq!(h.offered(c), "a0");
    h.input(Input::AgentReset { agent: "a0".into() });
    let (seq, who, _, _) = offer_action(&mut h, c);
    assert_eq!((seq, who), (2, vec!["a1".to_string()]), "offered again at once");
    // a0's phone was still ringing on the PBX, and it answers now.
    h.result_of(c, 1, "a0", OfferOutcome::Answered);
    let a0 = h.id("a0");
    assert_eq!(take(&mut h, |a| matches!(a, Action::Drop { .. })), Some(Action::Drop { call: c, seq: 1, agent: a0 }));
    assert!(take(&mut h, |a| matches!(a, Action::Connect { .. })).is_none());
    assert_eq!(h.state("a0"), AgentState::Available, "shown free: its leg is hung up");
    assert_eq!(h.state("a1"), AgentState::Ringing(c));
    assert_eq!(h.count_events(|e| matches!(e, EventKind::OfferFailed { outcome: OfferOutcome::Stale, .. })), 1);
    assert_eq!(h.e.counters.stale_answers, 1);
    h.answer(c, "a1");
    let a1 = h.id("a1");
    assert_eq!(take(&mut h, |a| matches!(a, Action::Connect { .. })), Some(Action::Connect { call: c, seq: 2, agent: a1 }));
}

#[test]
fn an_old_answer_of_an_agent_offered_again_is_dropped_and_the_new_offer_stands() {
    let mut h = H::new(&(q("ring_escalate_seconds = 0\nretry_exclude_seconds = 0") + &agents("q", 1, "")));
    let c = h.call("q");
    assert_eq!(h.offered(c), "a0");
    h.input(Input::AgentReset { agent: "a0".into() });
    let (seq, who, _, _) = offer_action(&mut h, c);
    assert_eq!((seq, who), (2, vec!["a0".to_string()]));
    h.result_of(c, 1, "a0", OfferOutcome::Answered);
    assert!(matches!(take(&mut h, |a| matches!(a, Action::Drop { .. })), Some(Action::Drop { seq: 1, .. })));
    assert_eq!(h.state("a0"), AgentState::Ringing(c), "still ringing for offer 2");
    // A late failure of offer 1 does not end offer 2 either.
    h.result_of(c, 1, "a0", OfferOutcome::NoAnswer);
    assert_eq!(h.state("a0"), AgentState::Ringing(c));
    h.result_of(c, 2, "a0", OfferOutcome::Answered);
    assert!(matches!(take(&mut h, |a| matches!(a, Action::Connect { .. })), Some(Action::Connect { seq: 2, .. })));
    assert_eq!(h.state("a0"), AgentState::OnCall(c));
}

#[test]
fn an_answer_after_the_watchdog_is_dropped() {
    let mut h = H::new(&(q("ring_escalate_seconds = 0") + &agents("q", 1, "")));
    let c = h.call("q");
    assert_eq!(h.offered(c), "a0");
    h.wait(15_000 + hotline::core::engine::OFFER_GRACE);
    assert_eq!(h.count_events(|e| matches!(e, EventKind::OfferWatchdog { .. })), 1);
    h.result_of(c, 1, "a0", OfferOutcome::Answered);
    assert!(matches!(take(&mut h, |a| matches!(a, Action::Drop { .. })), Some(Action::Drop { seq: 1, .. })));
    assert_ne!(h.state("a0"), AgentState::OnCall(c));
}

fn requeue_config(extra: &str) -> String {
    q(&format!("ring_escalate_seconds = 0\nrequeue_short_seconds = 2\n{extra}")) + &agents("q", 3, "")
}

#[test]
fn an_agent_hanging_up_at_once_sends_the_caller_to_the_head_of_the_line_once() {
    let mut h = H::new(&requeue_config(""));
    let c = h.call("q");
    assert_eq!(h.offered(c), "a0");
    // Busy agents, and VIP callers waiting behind our caller.
    let b1 = h.talking("q", "a1");
    let _b2 = h.talking("q", "a2");
    let vip = || hotline::core::CallerInfo { priority: 5, ..Default::default() };
    let (w1, w2) = (h.call_with("q", vip()), h.call_with("q", vip()));
    h.no_offer(w1);
    h.no_offer(w2);
    h.answer(c, "a0");
    h.wait(1_999);
    h.input(Input::CallEnded { call: c, by: EndedBy::Agent });
    assert!(take(&mut h, |a| matches!(a, Action::Requeued { call } if *call == c)).is_some());
    assert!(take(&mut h, |a| matches!(a, Action::TalkDone { .. })).is_none());
    assert_eq!(h.count_events(|e| matches!(e, EventKind::CallRequeued { call, requeues: 1, .. } if *call == c)), 1);
    // a0 is skipped for our caller (it takes the next in line); the next
    // free agent takes our caller before the VIP who waited.
    assert_eq!(h.offered(w1), "a0");
    h.no_offer(c);
    h.input(Input::CallEnded { call: b1, by: EndedBy::Caller });
    assert_eq!(h.offered(c), "a1", "head of the line");
    h.no_offer(w2);
    h.answer(c, "a1");
    h.wait(500);
    // requeue_max = 1: the second short talk ends the call.
    h.input(Input::CallEnded { call: c, by: EndedBy::Agent });
    assert!(take(&mut h, |a| matches!(a, Action::TalkDone { call } if *call == c)).is_some());
    assert!(take(&mut h, |a| matches!(a, Action::Requeued { .. })).is_none());
    assert!(!h.e.has_call(c));
    assert_eq!(h.e.counters.requeues, 1);
    // Statistics count it, per queue and per agent.
    let mut stats = Stats::new(&cfg(&requeue_config("")).general);
    for e in &h.events {
        stats.apply(e);
    }
    let r = stats.report(h.now);
    assert_eq!(r.queues.iter().find(|x| x.name == "q").map(|x| x.requeued), Some(1));
    let per_agent = |n: &str| r.agents.iter().find(|x| x.name == n).map(|x| x.requeued);
    assert_eq!((per_agent("a0"), per_agent("a1")), (Some(1), Some(0)));
}

#[test]
fn a_talk_at_the_threshold_or_ended_by_the_caller_is_not_requeued() {
    let mut h = H::new(&requeue_config(""));
    let c = h.call("q");
    assert_eq!(h.offered(c), "a0");
    h.answer(c, "a0");
    h.wait(2_000);
    h.input(Input::CallEnded { call: c, by: EndedBy::Agent });
    assert!(take(&mut h, |a| matches!(a, Action::TalkDone { call } if *call == c)).is_some(), "the flow is told to leave");
    assert!(!h.e.has_call(c));
    let c = h.call("q");
    let who = h.offered(c);
    h.answer(c, &who);
    h.input(Input::CallEnded { call: c, by: EndedBy::Caller });
    assert!(h.actions.iter().all(|a| !matches!(a, Action::Requeued { .. } | Action::TalkDone { .. })), "the caller is gone: no verdict");
    assert_eq!(h.e.counters.requeues, 0);
}

#[test]
fn requeue_is_off_by_default() {
    let mut h = H::new(&(q("ring_escalate_seconds = 0") + &agents("q", 2, "")));
    let c = h.call("q");
    assert_eq!(h.offered(c), "a0");
    h.answer(c, "a0");
    h.wait(100);
    h.input(Input::CallEnded { call: c, by: EndedBy::Agent });
    assert!(h.actions.iter().all(|a| !matches!(a, Action::Requeued { .. } | Action::TalkDone { .. })));
    assert!(!h.e.has_call(c));
}

#[test]
fn requeue_max_allows_several_requeues() {
    let mut h = H::new(&requeue_config("requeue_max = 2"));
    let c = h.call("q");
    for (agent, requeued) in [("a0", true), ("a1", true), ("a2", false)] {
        assert_eq!(h.offered(c), agent);
        h.answer(c, agent);
        h.wait(100);
        h.input(Input::CallEnded { call: c, by: EndedBy::Agent });
        assert_eq!(take(&mut h, |a| matches!(a, Action::Requeued { .. })).is_some(), requeued, "{agent}");
    }
    assert_eq!(h.e.counters.requeues, 2);
}

#[test]
fn a_silent_phone_gets_company_after_the_escalation_time_and_the_first_answer_wins() {
    let mut h = H::new(&(q("ring_escalate_seconds = 6") + &agents("q", 3, "")));
    let c = h.call("q");
    let (seq, who, _, deadline) = offer_action(&mut h, c);
    assert_eq!(who, ["a0"]);
    h.wait(5_999);
    assert!(take(&mut h, |a| matches!(a, Action::Offer { .. })).is_none());
    h.wait(1);
    let (seq2, who2, timeout2, deadline2) = offer_action(&mut h, c);
    assert_eq!((seq2, who2, deadline2, timeout2), (seq, vec!["a1".to_string()], deadline, 9_000), "the same offer, its deadline");
    assert_eq!(h.state("a1"), AgentState::Ringing(c));
    // Once: no third agent later.
    h.wait(6_000);
    assert!(take(&mut h, |a| matches!(a, Action::Offer { .. })).is_none());
    h.result_of(c, seq, "a1", OfferOutcome::Answered);
    let a1 = h.id("a1");
    assert_eq!(take(&mut h, |a| matches!(a, Action::Connect { .. })), Some(Action::Connect { call: c, seq, agent: a1 }));
    // The other leg is cancelled: no miss for a0.
    assert_eq!(h.count_events(|e| matches!(e, EventKind::OfferFailed { agent, outcome: OfferOutcome::Cancelled, .. } if &**agent == "a0")), 1);
    assert_eq!(h.state("a0"), AgentState::Available);
    assert_eq!(h.e.agent_views().iter().find(|v| v.name == "a0").map(|v| v.misses), Some(0));
    // Its late report changes nothing.
    h.result_of(c, seq, "a0", OfferOutcome::Cancelled);
    assert_eq!(h.state("a1"), AgentState::OnCall(c));
}

#[test]
fn both_escalated_legs_ringing_out_are_both_misses_and_the_caller_waits_on() {
    let mut h = H::new(&(q("ring_escalate_seconds = 6\nretry_exclude_seconds = 0") + &agents("q", 2, "")));
    let c = h.call("q");
    let (seq, _, _, _) = offer_action(&mut h, c);
    h.wait(6_000);
    let _ = offer_action(&mut h, c);
    h.wait(9_000);
    h.result_of(c, seq, "a0", OfferOutcome::NoAnswer);
    assert_eq!(h.state("a1"), AgentState::Ringing(c), "the offer goes on while one leg rings");
    assert!(take(&mut h, |a| matches!(a, Action::Offer { .. })).is_none());
    h.result_of(c, seq, "a1", OfferOutcome::NoAnswer);
    let misses = |h: &H, n: &str| h.e.agent_views().iter().find(|v| v.name == n).map(|v| v.misses);
    assert_eq!((misses(&h, "a0"), misses(&h, "a1")), (Some(1), Some(1)));
    let (seq2, _, _, _) = offer_action(&mut h, c);
    assert_eq!(seq2, seq + 1);
}

#[test]
fn no_escalation_without_an_idle_agent_or_when_off() {
    let mut h = H::new(&(q("ring_escalate_seconds = 6") + &agents("q", 2, "")));
    let busy = h.talking("q", "a0");
    let c = h.call("q");
    assert_eq!(h.offered(c), "a1");
    h.wait(7_000);
    assert!(take(&mut h, |a| matches!(a, Action::Offer { .. })).is_none(), "nobody idle");
    let _ = busy;
    let mut h = H::new(&(q("ring_escalate_seconds = 0") + &agents("q", 2, "")));
    let c = h.call("q");
    assert_eq!(h.offered(c), "a0");
    h.wait(14_000);
    assert!(take(&mut h, |a| matches!(a, Action::Offer { .. })).is_none(), "off");
    assert_eq!(h.e.counters.escalations, 0);
}

#[test]
fn a_busy_agent_is_held_back_for_the_back_off() {
    let mut h = H::new(&(q("ring_escalate_seconds = 0\nbusy_backoff_seconds = 5\nretry_exclude_seconds = 0") + &agents("q", 1, "")));
    let c = h.call("q");
    assert_eq!(h.offered(c), "a0");
    h.result(c, "a0", OfferOutcome::Busy);
    assert_eq!(h.state("a0"), AgentState::Available);
    let d = h.call("q");
    h.no_offer(c);
    h.no_offer(d);
    h.wait(4_999);
    h.no_offer(c);
    h.wait(1);
    assert_eq!(h.offered(c), "a0", "back after the back-off, to the head of the line");
    // A ring-out is no reason to hold back.
    h.result(c, "a0", OfferOutcome::NoAnswer);
    assert_eq!(h.offered(c), "a0");
}

#[test]
fn without_a_back_off_a_busy_agent_is_offered_again_at_once() {
    let mut h = H::new(&(q("ring_escalate_seconds = 0\nretry_exclude_seconds = 0") + &agents("q", 1, "")));
    let c = h.call("q");
    assert_eq!(h.offered(c), "a0");
    h.result(c, "a0", OfferOutcome::Busy);
    assert_eq!(h.offered(c), "a0");
}

/// Unset, the escalation comes after 6 s, or half the ring timeout when
/// that is shorter: a 5 s ring timeout escalates at 2.5 s (a phone that
/// stays silent would otherwise cost the caller the whole 5 s).
#[test]
fn the_default_escalation_is_six_seconds_or_half_a_short_ring_timeout() {
    for (ring, at) in [(15u64, 6_000u64), (5, 2_500)] {
        let text = format!("[[queue]]\nname = \"q\"\nstrategy = \"linear\"\nring_timeout_seconds = {ring}\n") + &agents("q", 2, "");
        let mut h = H::new(&text);
        let c = h.call("q");
        let (seq, _, _, _) = offer_action(&mut h, c);
        h.wait(at - 1);
        assert!(take(&mut h, |a| matches!(a, Action::Offer { .. })).is_none(), "ring {ring}: not before {at} ms");
        h.wait(1);
        let (seq2, who, _, _) = offer_action(&mut h, c);
        assert_eq!((seq2, who), (seq, vec!["a1".to_string()]), "ring {ring}: escalated at {at} ms");
    }
    // 0 is off, whatever the ring timeout.
    let mut h = H::new(&(format!("[[queue]]\nname = \"q\"\nstrategy = \"linear\"\nring_timeout_seconds = 5\nring_escalate_seconds = 0\n") + &agents("q", 2, "")));
    let c = h.call("q");
    let _ = offer_action(&mut h, c);
    h.wait(4_900);
    assert!(take(&mut h, |a| matches!(a, Action::Offer { .. })).is_none());
}

/// `popup_url`: the queue's template, or the agent's own, rendered for
/// each agent offered the call (values percent-encoded), in the offer's
/// target, `CallOffered` and `CallAnswered`.
#[test]
fn a_popup_url_is_rendered_per_agent_into_offers_and_events() {
    let text = q("ring_escalate_seconds = 0\npopup_url = \"https://crm.example/c?n={caller}&id={call_id}&a={agent}&acct={data.acct}\"")
        + &agents("q", 1, "")
        + "[[agent]]\nname = \"own\"\ncontact = \"Local/own@agents\"\nqueues = [\"q\"]\npopup_url = \"https://own.example/{caller_name}\"\n";
    let mut h = H::new(&text);
    let caller = hotline::core::CallerInfo {
        number: "+84 90&x".into(),
        name: "Nguyễn".into(),
        data: vec![("data_acct".into(), "105".into())],
        ..Default::default()
    };
    let c = h.call_with("q", caller.clone());
    let Some(Action::Offer { targets, .. }) = take(&mut h, |a| matches!(a, Action::Offer { .. })) else { panic!("an offer") };
    assert_eq!(targets[0].name.as_ref(), "a0");
    let want = format!("https://crm.example/c?n=%2B84%2090%26x&id={c}&a=a0&acct=105");
    assert_eq!(targets[0].popup_url.as_deref(), Some(want.as_str()));
    let offered = h.events.iter().find_map(|e| match &e.kind {
        EventKind::CallOffered { call, popup_url, .. } if *call == c => Some(popup_url.clone()),
        _ => None,
    });
    assert_eq!(offered.flatten().as_deref(), Some(want.as_str()));
    h.answer(c, "a0");
    let answered = h.events.iter().find_map(|e| match &e.kind {
        EventKind::CallAnswered { call, popup_url, .. } if *call == c => Some(popup_url.clone()),
        _ => None,
    });
    assert_eq!(answered.flatten().as_deref(), Some(want.as_str()));
    // The agent's own template wins over the queue's.
    let c2 = h.call_with("q", caller);
    let Some(Action::Offer { targets, .. }) = take(&mut h, |a| matches!(a, Action::Offer { call, .. } if *call == c2)) else { panic!("a second offer") };
    assert_eq!((targets[0].name.as_ref(), targets[0].popup_url.as_deref()), ("own", Some("https://own.example/Nguy%E1%BB%85n")));
}
