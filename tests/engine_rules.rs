//! Rules over time, failures, fairness and configuration reload on the
//! engine, with a virtual clock.

mod support;

use hotline::core::event::EventKind;
use hotline::core::{AgentState, CallerInfo, EndedBy, ExitReason, Input, OfferOutcome};
use support::{agents, cfg, H};

fn q(extra: &str) -> String {
    format!("[[queue]]\nname = \"q\"\nstrategy = \"linear\"\n{extra}\n")
}

#[test]
fn failed_offer_goes_to_another_idle_agent_at_once_not_back() {
    for outcome in [OfferOutcome::NoAnswer, OfferOutcome::Busy, OfferOutcome::Unavailable, OfferOutcome::Rejected] {
        let mut h = H::new(&(q("") + &agents("q", 3, "")));
        let c = h.call("q");
        assert_eq!(h.offered(c), "a0");
        h.result(c, "a0", outcome);
        // Same instant, next agent; a0 is free again but skipped for c.
        assert_eq!(h.offered(c), "a1", "{outcome:?}");
        assert_eq!(h.state("a0"), AgentState::Available);
        h.result(c, "a1", outcome);
        assert_eq!(h.offered(c), "a2", "{outcome:?}");
        // a0 is free for other callers meanwhile.
        let other = h.call("q");
        assert_eq!(h.offered(other), "a0");
    }
}

#[test]
fn only_agent_failing_is_retried_after_the_exclusion_window() {
    let mut h = H::new(&(q("retry_exclude_seconds = 5") + &agents("q", 1, "")));
    let c = h.call("q");
    assert_eq!(h.offered(c), "a0");
    h.result(c, "a0", OfferOutcome::NoAnswer);
    h.no_offer(c);
    h.wait(4_999);
    h.no_offer(c);
    h.wait(1);
    assert_eq!(h.offered(c), "a0");
}

#[test]
fn agent_missing_max_no_answer_offers_goes_on_break() {
    let mut h = H::new(&(q("max_no_answer = 2") + &agents("q", 2, "")));
    let c = h.call("q");
    assert_eq!(h.offered(c), "a0");
    h.result(c, "a0", OfferOutcome::NoAnswer);
    assert_eq!(h.offered(c), "a1");
    h.answer(c, "a1");
    let c2 = h.call("q");
    assert_eq!(h.offered(c2), "a0");
    h.result(c2, "a0", OfferOutcome::NoAnswer);
    assert_eq!(h.state("a0"), AgentState::Break("no-answer".into()));
    assert_eq!(h.count_events(|e| matches!(e, EventKind::AgentStateChanged { to: AgentState::Break(r), .. } if r == "no-answer")), 1);
    // Caller keeps waiting for a1, not a0.
    h.no_offer(c2);
    h.hangup(c);
    assert_eq!(h.offered(c2), "a1");
    // An answered call resets the count.
    h.input(Input::AgentReady { agent: "a0".into() });
    assert_eq!(h.state("a0"), AgentState::Available);
}

#[test]
fn caller_hanging_up_while_ringing_frees_the_agent() {
    let mut h = H::new(&(q("") + &agents("q", 1, "")));
    let c = h.call("q");
    assert_eq!(h.offered(c), "a0");
    h.input(Input::CallerHangup { call: c });
    assert_eq!(h.state("a0"), AgentState::Available);
    assert_eq!(h.count_events(|e| matches!(e, EventKind::CallAbandoned { .. })), 1);
    // Late report from the PBX is ignored.
    h.result(c, "a0", OfferOutcome::NoAnswer);
    assert_eq!(h.e.counters.stale_inputs, 1);
    let c2 = h.call("q");
    assert_eq!(h.offered(c2), "a0");
}

#[test]
fn unreported_offer_is_freed_by_the_watchdog() {
    let mut h = H::new(&(q("ring_timeout_seconds = 10\nring_escalate_seconds = 0") + &agents("q", 2, "")));
    let c = h.call("q");
    assert_eq!(h.offered(c), "a0");
    h.wait(10_000 + hotline::core::engine::OFFER_GRACE);
    assert_eq!(h.offered(c), "a1");
    assert_eq!(h.count_events(|e| matches!(e, EventKind::OfferWatchdog { .. })), 1);
}

#[test]
fn wrap_up_is_respected_agent_override_first() {
    let text = q("wrapup_seconds = 10") + &agents("q", 1, "") + "[[agent]]\nname = \"fast\"\ncontact = \"Local/f@a\"\nqueues = [\"q\"]\nwrapup_seconds = 2\n";
    let mut h = H::new(&text);
    let c = h.call("q");
    assert_eq!(h.offered(c), "a0");
    h.serve(c, "a0", 5_000);
    assert!(matches!(h.state("a0"), AgentState::WrapUp { .. }));
    let c = h.call("q");
    assert_eq!(h.offered(c), "fast");
    h.serve(c, "fast", 1_000);
    let c = h.call("q");
    h.no_offer(c);
    h.wait(1_999);
    h.no_offer(c);
    h.wait(1);
    // fast's 2 s wrap-up ended first although a0 ranks higher.
    assert_eq!(h.offered(c), "fast");
    h.answer(c, "fast");
    let c = h.call("q");
    h.wait(10_000 - 3_000 - 1);
    h.no_offer(c);
    h.wait(1);
    assert_eq!(h.offered(c), "a0");
}

#[test]
fn priority_callers_first_fifo_within_priority() {
    let mut h = H::new(&(q("") + &agents("q", 1, "")));
    let busy = h.call("q");
    assert_eq!(h.offered(busy), "a0");
    h.answer(busy, "a0");
    let n1 = h.call("q");
    h.wait(10);
    let n2 = h.call("q");
    h.wait(10);
    let vip1 = h.call_with("q", CallerInfo { priority: 10, ..Default::default() });
    h.wait(10);
    let vip2 = h.call_with("q", CallerInfo { priority: 10, ..Default::default() });
    assert_eq!(h.e.position(vip1), Some(1));
    assert_eq!(h.e.position(n2), Some(4));
    let mut order = Vec::new();
    h.hangup(busy);
    for _ in 0..4 {
        let next = [n1, n2, vip1, vip2].into_iter().find(|c| h.offer_of(*c).is_some()).expect("someone offered");
        order.push(next);
        h.serve(next, "a0", 100);
    }
    assert_eq!(order, [vip1, vip2, n1, n2]);
}

#[test]
fn max_wait_exits_with_timeout() {
    let mut h = H::new(&(q("max_wait_seconds = 60") + &agents("q", 1, "")));
    let busy = h.call("q");
    h.offered(busy);
    h.answer(busy, "a0");
    let c = h.call("q");
    h.wait(59_999);
    assert_eq!(h.exit_of(c), None);
    h.wait(1);
    assert_eq!(h.exit_of(c), Some(ExitReason::Timeout));
    assert_eq!(h.e.active_calls(), 1);
}

#[test]
fn max_wait_during_an_offer_exits_when_the_offer_fails() {
    let mut h = H::new(&(q("max_wait_seconds = 10\nring_timeout_seconds = 15") + &agents("q", 1, "")));
    let c = h.call("q");
    assert_eq!(h.offered(c), "a0");
    h.wait(10_000);
    assert_eq!(h.exit_of(c), None, "an offer in progress is not cut");
    h.wait(5_000);
    h.result(c, "a0", OfferOutcome::NoAnswer);
    assert_eq!(h.exit_of(c), Some(ExitReason::Timeout));
}

#[test]
fn leave_when_empty_and_join_when_empty() {
    let text = "[[queue]]\nname = \"leave\"\nleave_when_empty = true\n[[queue]]\nname = \"nojoin\"\njoin_when_empty = false\n\
        [[agent]]\nname = \"a\"\ncontact = \"Local/a@x\"\nqueues = [\"leave\", \"nojoin\"]\n";
    let mut h = H::new(text);
    let busy = h.call("leave");
    assert_eq!(h.offered(busy), "a");
    h.answer(busy, "a");
    let w = h.call("leave");
    let w2 = h.call("nojoin");
    // Logout while on a call takes effect after it; then the line empties.
    h.input(Input::AgentLogout { agent: "a".into() });
    assert_eq!(h.state("a"), AgentState::OnCall(busy));
    h.hangup(busy);
    assert_eq!(h.state("a"), AgentState::LoggedOut);
    h.input(Input::AgentLogin { agent: "a".into(), contact: None });
    h.input(Input::AgentLogout { agent: "a".into() });
    // w was offered when a logged in again: report that first.
    if let Some(v) = h.offer_of(w) {
        assert_eq!(v, ["a"]);
    }
    let _ = w2;
    let text2 = "[[queue]]\nname = \"leave\"\nleave_when_empty = true\n[[queue]]\nname = \"nojoin\"\njoin_when_empty = false\n\
        [[agent]]\nname = \"a\"\ncontact = \"Local/a@x\"\nqueues = [\"leave\", \"nojoin\"]\nstate = \"logged-out\"\n";
    let mut h = H::new(text2);
    let c = h.call("nojoin");
    assert_eq!(h.exit_of(c), Some(ExitReason::JoinEmpty));
    let c = h.call("leave");
    assert_eq!(h.exit_of(c), Some(ExitReason::LeaveEmpty));
    // With someone logged in (on break) callers wait; when the last one
    // logs out, they leave.
    h.input(Input::AgentBreak { agent: "a".into(), reason: "meeting".into() });
    let c = h.call("leave");
    assert_eq!(h.exit_of(c), None);
    h.input(Input::AgentLogout { agent: "a".into() });
    assert_eq!(h.exit_of(c), Some(ExitReason::LeaveEmpty));
}

#[test]
fn conditional_overflow_sends_new_callers_when_both_sides_hold() {
    // "if support has > 2 waiting and sales has >= 2 idle agents, send new callers to sales"
    let text = "[[queue]]\nname = \"support\"\n[[queue.overflow]]\nto = \"sales\"\nwaiting_over = 2\ntarget_idle_at_least = 2\n\
        [[queue]]\nname = \"sales\"\n"
        .to_string()
        + "[[agent]]\nname = \"s0\"\ncontact = \"Local/s0@x\"\nqueues = [\"support\"]\n"
        + &agents("sales", 2, "");
    let mut h = H::new(&text);
    let first = h.call("support");
    assert_eq!(h.offered(first), "s0");
    h.answer(first, "s0");
    let w: Vec<_> = (0..3).map(|_| h.call("support")).collect();
    for c in &w {
        h.no_offer(*c);
    }
    // Fourth caller: 3 waiting > 2 and sales has 2 idle -> sales.
    let c = h.call("support");
    let a = h.offered(c);
    assert!(a.starts_with('a'), "went to {a}");
    assert!(h.actions.iter().any(|x| matches!(x, hotline::core::Action::Moved { call, queue, .. } if *call == c && &**queue == "sales")));
    // Now sales has only 1 idle: the next caller stays in support.
    let c = h.call("support");
    h.no_offer(c);
}

#[test]
fn timed_overflow_moves_a_waiting_caller_keeping_its_place() {
    let text = "[[queue]]\nname = \"a\"\n[[queue.overflow]]\nto = \"b\"\nafter_seconds = 30\n[[queue]]\nname = \"b\"\n\
        [[agent]]\nname = \"x\"\ncontact = \"Local/x@x\"\nqueues = [\"a\"]\n\
        [[agent]]\nname = \"y\"\ncontact = \"Local/y@x\"\nqueues = [\"b\"]\n";
    let mut h = H::new(text);
    let hold_y = h.call("b");
    assert_eq!(h.offered(hold_y), "y");
    h.answer(hold_y, "y");
    let hold_x = h.call("a");
    assert_eq!(h.offered(hold_x), "x");
    h.answer(hold_x, "x");
    let early = h.call("a");
    h.wait(10_000);
    let late_b = h.call("b");
    h.wait(20_000);
    // `early` moved to b at 30 s, and is ahead of late_b (arrived earlier).
    assert_eq!(h.e.position(early), Some(1));
    assert_eq!(h.e.position(late_b), Some(2));
    h.hangup(hold_y);
    assert_eq!(h.offered(early), "y");
}

#[test]
fn callback_keeps_the_place_in_line() {
    let mut h = H::new(&(q("callback_contact = \"Local/{number}@out\"") + &agents("q", 1, "")));
    let busy = h.call("q");
    h.offered(busy);
    h.answer(busy, "a0");
    let first = h.call("q");
    let second = h.call("q");
    h.input(Input::CallbackRequest { call: first, number: "0901111111".into() });
    assert_eq!(h.exit_of(first), Some(ExitReason::CallbackScheduled));
    h.hangup(busy);
    // The callback is served before the second caller.
    let cb = h.actions.iter().find_map(|a| match a {
        hotline::core::Action::Callback { call, number, target, .. } => Some((*call, number.clone(), target.name.to_string())),
        _ => None,
    });
    assert_eq!(cb, Some((first, "0901111111".to_string(), "a0".to_string())));
    h.no_offer(second);
    h.answer(first, "a0");
    h.input(Input::CallEnded { call: first, by: EndedBy::Agent });
    assert_eq!(h.offered(second), "a0");
}

#[test]
fn sticky_agent_serves_the_returning_caller_within_the_window() {
    let text = "[[queue]]\nname = \"q\"\nstrategy = \"longest-idle\"\nsticky_seconds = 3600\nprefer_wait_seconds = 20\n".to_string() + &agents("q", 3, "");
    let mut h = H::new(&text);
    let c = h.call_from("q", "0905550001");
    assert_eq!(h.offered(c), "a0");
    h.serve(c, "a0", 1000);
    // Longest idle would be a1; the sticky agent wins.
    let c = h.call_from("q", "0905550001");
    assert_eq!(h.offered(c), "a0");
    h.answer(c, "a0");
    // Sticky agent busy: caller waits up to prefer_wait, then anyone.
    let c2 = h.call_from("q", "0905550001");
    h.no_offer(c2);
    h.wait(20_000);
    assert_eq!(h.offered(c2), "a1");
    // Window over: plain strategy.
    h.serve(c2, "a1", 10);
    h.hangup(c);
    h.wait(3_600_001);
    let c3 = h.call_from("q", "0905550001");
    assert_eq!(h.offered(c3), "a2");
}

#[test]
fn sticky_agent_freeing_up_takes_its_caller_before_older_callers() {
    let mut h = H::new(&(q("sticky_seconds = 3600\nprefer_wait_seconds = 60") + &agents("q", 1, "")));
    let c = h.call_from("q", "111");
    h.offered(c);
    h.serve(c, "a0", 10);
    let busy = h.call_from("q", "222");
    h.offered(busy);
    h.answer(busy, "a0");
    let older = h.call_from("q", "333");
    let sticky = h.call_from("q", "111");
    h.hangup(busy);
    assert_eq!(h.offered(sticky), "a0");
    h.no_offer(older);
}

#[test]
fn owner_agent_gets_the_vip_account() {
    let text = "[[queue]]\nname = \"vip\"\nuse_owners = true\nprefer_wait_seconds = 30\n".to_string()
        + &agents("vip", 3, "")
        + "[owners]\n\"0901234567\" = \"a2\"\n";
    let mut h = H::new(&text);
    let c = h.call_from("vip", "0901234567");
    assert_eq!(h.offered(c), "a2");
    let other = h.call_from("vip", "0907654321");
    assert_eq!(h.offered(other), "a0");
}

#[test]
fn caller_area_routes_to_queue_or_agent_group() {
    let text = "[[queue]]\nname = \"main\"\nprefer_wait_seconds = 15\n\
        [[queue.area]]\nprefix = \"028\"\nto = \"south\"\n\
        [[queue.area]]\nprefix = \"024\"\nagents = [\"a1\"]\n\
        [[queue]]\nname = \"south\"\n"
        .to_string()
        + &agents("main", 2, "")
        + "[[agent]]\nname = \"s\"\ncontact = \"Local/s@x\"\nqueues = [\"south\"]\n";
    let mut h = H::new(&text);
    let saigon = h.call_from("main", "02838123456");
    assert_eq!(h.offered(saigon), "s");
    let hanoi = h.call_from("main", "02439123456");
    assert_eq!(h.offered(hanoi), "a1");
    let other = h.call_from("main", "0905123456");
    assert_eq!(h.offered(other), "a0");
}

#[test]
fn device_busy_agent_is_not_offered_until_free() {
    let mut h = H::new(&(q("") + &agents("q", 2, "")));
    h.input(Input::DeviceState { device: "Local/a0@agents".into(), busy: true });
    let c = h.call("q");
    assert_eq!(h.offered(c), "a1");
    h.answer(c, "a1");
    let c2 = h.call("q");
    h.no_offer(c2);
    h.input(Input::DeviceState { device: "Local/a0@agents".into(), busy: false });
    assert_eq!(h.offered(c2), "a0");
}

#[test]
fn full_queue_rejects_and_duplicate_ids_are_refused() {
    let mut h = H::new(&(q("max_callers = 1") + &agents("q", 0, "")));
    let c1 = h.call("q");
    assert_eq!(h.exit_of(c1), None);
    let c2 = h.call("q");
    assert_eq!(h.exit_of(c2), Some(ExitReason::Full));
    h.input(Input::CallEnter { call: c1, queue: "q".into(), caller: CallerInfo::default() });
    assert_eq!(h.exit_of(c1), Some(ExitReason::Duplicate));
    let c3 = h.call("nope");
    assert_eq!(h.exit_of(c3), Some(ExitReason::UnknownQueue));
}

#[test]
fn reload_keeps_live_calls_and_applies_new_members() {
    let mut h = H::new(&(q("") + &agents("q", 1, "")));
    let talking = h.call("q");
    h.offered(talking);
    h.answer(talking, "a0");
    let waiting = h.call("q");
    h.no_offer(waiting);
    // New config: a0 removed, a1 and a2 added.
    let new = q("") + "[[agent]]\nname = \"a1\"\ncontact = \"Local/a1@x\"\nqueues = [\"q\"]\n";
    h.input(Input::Reload(cfg(&new)));
    assert_eq!(h.offered(waiting), "a1");
    // a0 stays on its call and leaves after it.
    assert_eq!(h.state("a0"), AgentState::OnCall(talking));
    h.hangup(talking);
    assert_eq!(h.state("a0"), AgentState::LoggedOut);
    assert!(h.e.agent_views().iter().all(|a| a.name != "a0"));
}

#[test]
fn reload_removing_a_queue_releases_its_callers() {
    let text = "[[queue]]\nname = \"q\"\n[[queue]]\nname = \"old\"\n";
    let mut h = H::new(text);
    let c = h.call("old");
    h.input(Input::Reload(cfg("[[queue]]\nname = \"q\"\n")));
    assert_eq!(h.exit_of(c), Some(ExitReason::LeaveEmpty));
    let c = h.call("old");
    assert_eq!(h.exit_of(c), Some(ExitReason::UnknownQueue));
}

#[test]
fn position_announcements_repeat_with_expected_wait() {
    let mut h = H::new(&(q("announce_every_seconds = 20") + &agents("q", 1, "")));
    let busy = h.call("q");
    h.offered(busy);
    h.answer(busy, "a0");
    let c = h.call("q");
    let c2 = h.call("q");
    h.wait(20_000);
    let ann: Vec<_> = h
        .actions
        .iter()
        .filter_map(|a| match a {
            hotline::core::Action::Announce { call, position, .. } => Some((*call, *position)),
            _ => None,
        })
        .collect();
    assert_eq!(ann, [(c, 1), (c2, 2)]);
    h.wait(20_000);
    assert_eq!(h.actions.iter().filter(|a| matches!(a, hotline::core::Action::Announce { .. })).count(), 4);
}

/// Queue "a" (ring timeout 60 s) with `rule`; agent x in a (and `x_extra`),
/// y only in b. x is busy until 25 s, then rings for the caller while the
/// rule's 30 s pass, and does not answer at 35 s.
fn ringing_across_a_rule(rule: &str, x_extra: &str) -> (H, hotline::core::CallId) {
    let text = format!(
        "[[queue]]\nname = \"a\"\nring_timeout_seconds = 60\nmax_tier = 1\n{rule}\n[[queue]]\nname = \"b\"\n\
         [[agent]]\nname = \"x\"\ncontact = \"Local/x@x\"\nqueues = [\"a\"]\n{x_extra}\n\
         [[agent]]\nname = \"y\"\ncontact = \"Local/y@x\"\nqueues = [\"b\"]\n"
    );
    let mut h = H::new(&text);
    let busy = h.talking("a", "x");
    let c = h.call("a");
    h.wait(25_000);
    h.hangup(busy);
    assert_eq!(h.offered(c), "x");
    h.wait(10_000);
    h.result(c, "x", OfferOutcome::NoAnswer);
    (h, c)
}

#[test]
fn timed_overflow_due_while_the_offer_rings_moves_the_caller_when_it_fails() {
    let (mut h, c) = ringing_across_a_rule("[[queue.overflow]]\nto = \"b\"\nafter_seconds = 30\n", "");
    assert!(h.actions.iter().any(|x| matches!(x, hotline::core::Action::Moved { call, queue, .. } if *call == c && &**queue == "b")));
    assert_eq!(h.offered(c), "y");
}

#[test]
fn widening_due_while_the_offer_rings_applies_when_it_fails() {
    let tier2 = "[[agent]]\nname = \"z\"\ncontact = \"Local/z@x\"\n  [[agent.member]]\n  queue = \"a\"\n  tier = 2\n";
    let (mut h, c) = ringing_across_a_rule("[[queue.widen]]\nafter_seconds = 30\nmax_tier = 2\n", tier2);
    assert_eq!(h.offered(c), "z");
}

#[test]
fn overflow_loop_stops_and_the_caller_is_served_where_it_stands() {
    let text = "[[queue]]\nname = \"a\"\n[[queue.overflow]]\nto = \"b\"\n[[queue]]\nname = \"b\"\n[[queue.overflow]]\nto = \"a\"\n\
        [[agent]]\nname = \"x\"\ncontact = \"Local/x@x\"\nqueues = [\"a\", \"b\"]\n";
    let mut h = H::new(text);
    let c = h.call("a");
    assert_eq!(h.count_events(|e| matches!(e, EventKind::CallMoved { .. })), 8);
    assert_eq!(h.offered(c), "x");
}

/// Queues a and b (no agents) with the given extra lines; a overflows to b
/// after 30 s when `overflow`.
fn two_queues(a: &str, b: &str, overflow: bool) -> H {
    let rule = if overflow { "[[queue.overflow]]\nto = \"b\"\nafter_seconds = 30\n" } else { "" };
    H::new(&format!("[[queue]]\nname = \"a\"\n{a}\n{rule}[[queue]]\nname = \"b\"\n{b}\n"))
}

/// `c` still waits `ms` - 1 ms from now, and leaves with TIMEOUT at `ms`.
fn times_out_after(h: &mut H, c: hotline::core::CallId, ms: hotline::core::Time) {
    h.wait(ms - 1);
    assert_eq!(h.exit_of(c), None);
    h.wait(1);
    assert_eq!(h.exit_of(c), Some(ExitReason::Timeout));
}

#[test]
fn max_wait_of_the_queue_moved_into_counts_from_entering_it() {
    // No limit where the caller came from: b's 60 s count from the move.
    let mut h = two_queues("", "max_wait_seconds = 60", true);
    let c = h.call("a");
    times_out_after(&mut h, c, 30_000 + 60_000);
    // A longer limit: 120 s from the move at 30 s, not from first entry.
    let mut h = two_queues("max_wait_seconds = 60", "max_wait_seconds = 120", true);
    let c = h.call("a");
    times_out_after(&mut h, c, 30_000 + 120_000);
    // A transfer restarts the count the same way.
    let mut h = two_queues("max_wait_seconds = 60", "max_wait_seconds = 60", false);
    let c = h.call("a");
    h.wait(50_000);
    h.input(Input::Transfer { call: c, queue: "b".into() });
    times_out_after(&mut h, c, 60_000);
    let waited = h.events.iter().find_map(|e| match e.kind {
        EventKind::CallExited { call, wait, .. } if call == c => Some(wait),
        _ => None,
    });
    assert_eq!(waited, Some(110_000), "the wait reported is the whole wait");
}

#[test]
fn max_wait_of_the_first_queue_counts_only_while_the_caller_is_there() {
    // a's 60 s would have run out at 60 s; the caller left a at 30 s.
    let mut h = two_queues("max_wait_seconds = 60", "", true);
    let c = h.call("a");
    h.wait(600_000);
    assert_eq!(h.exit_of(c), None);
    assert_eq!(h.e.call_views(h.now)[0].queue, "b");
    // Staying in a, it counts from first entry.
    let mut h = two_queues("max_wait_seconds = 20", "", true);
    let c = h.call("a");
    times_out_after(&mut h, c, 20_000);
}

/// A note on a live call goes to its thread (for the transfer history) and
/// onto the bus; a note on a call that is gone changes nothing.
#[test]
fn a_note_on_a_live_call_reaches_its_thread_and_the_bus() {
    use hotline::core::Action;
    let mut h = H::new(&format!("[[queue]]\nname = \"q\"\n{}", agents("q", 1, "")));
    let c = h.talking("q", "a0");
    h.actions.clear();
    h.input(Input::Note { call: c, text: "wants a refund".into(), by: "sup".into() });
    assert!(matches!(&h.actions[..], [Action::Note { call, text }] if *call == c && &**text == "wants a refund"), "{:?}", h.actions);
    assert!(h.events.iter().any(|e| matches!(&e.kind, EventKind::CallNote { call, queue, text, by } if *call == c && &**queue == "q" && text == "wants a refund" && by == "sup")));
    h.input(Input::CallEnded { call: c, by: EndedBy::Agent });
    h.actions.clear();
    let before = h.events.len();
    h.input(Input::Note { call: c, text: "late".into(), by: "sup".into() });
    assert!(h.actions.is_empty() && h.events.len() == before, "{:?}", h.actions);
}
