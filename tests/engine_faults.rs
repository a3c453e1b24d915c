//! Faults that must not break the ACD (busy phones, parked agents,
//! callbacks with hostile numbers, ring-all callbacks) and every figure of
//! the statistics against a call history computed by hand.

mod support;

use hotline::core::event::EventKind;
use hotline::core::{AgentState, CallerInfo, EndedBy, ExitReason, Input, OfferOutcome, Stats};
use support::{agents, cfg, H};

fn q(extra: &str) -> String {
    format!("[[queue]]\nname = \"q\"\nstrategy = \"linear\"\n{extra}\n")
}

#[test]
fn a_busy_phone_is_not_a_missing_agent_by_default() {
    let mut h = H::new(&(q("max_no_answer = 2\nretry_exclude_seconds = 0") + &agents("q", 1, "")));
    for _ in 0..5 {
        let c = h.call("q");
        assert_eq!(h.offered(c), "a0");
        h.result(c, "a0", OfferOutcome::Busy);
        h.input(Input::CallerHangup { call: c });
        assert_eq!(h.state("a0"), AgentState::Available, "busy answers do not park the agent");
    }
    // Unreachable neither; two ring-outs do.
    let c = h.call("q");
    assert_eq!(h.offered(c), "a0");
    h.result(c, "a0", OfferOutcome::Unavailable);
    assert_eq!(h.offered(c), "a0");
    h.result(c, "a0", OfferOutcome::NoAnswer);
    assert_eq!(h.offered(c), "a0");
    h.result(c, "a0", OfferOutcome::NoAnswer);
    assert_eq!(h.state("a0"), AgentState::Break("no-answer".into()));
}

#[test]
fn autopause_busy_and_unavailable_count_when_asked() {
    let mut h = H::new(&(q("max_no_answer = 2\nretry_exclude_seconds = 0\nautopause_busy = true\nautopause_unavailable = true") + &agents("q", 1, "")));
    let c = h.call("q");
    assert_eq!(h.offered(c), "a0");
    h.result(c, "a0", OfferOutcome::Busy);
    assert_eq!(h.offered(c), "a0");
    h.result(c, "a0", OfferOutcome::Unavailable);
    assert_eq!(h.state("a0"), AgentState::Break("no-answer".into()));
}

#[test]
fn a_no_answer_break_ends_by_itself() {
    let mut h = H::new(&(q("max_no_answer = 1\nno_answer_break_seconds = 30") + &agents("q", 1, "")));
    let c = h.call("q");
    assert_eq!(h.offered(c), "a0");
    h.result(c, "a0", OfferOutcome::NoAnswer);
    assert_eq!(h.state("a0"), AgentState::Break("no-answer".into()));
    h.wait(29_999);
    assert_eq!(h.state("a0"), AgentState::Break("no-answer".into()));
    h.wait(1);
    // Back, and the waiting caller gets the agent at once.
    assert_eq!(h.offered(c), "a0");
    assert_eq!(h.state("a0"), AgentState::Ringing(c));
}

#[test]
fn a_no_answer_break_taken_again_by_hand_is_not_ended_early() {
    let mut h = H::new(&(q("max_no_answer = 1\nno_answer_break_seconds = 30") + &agents("q", 1, "")));
    let c = h.call("q");
    assert_eq!(h.offered(c), "a0");
    h.result(c, "a0", OfferOutcome::NoAnswer);
    h.input(Input::CallerHangup { call: c });
    h.wait(10_000);
    // The agent comes back, then an operator puts it on a break by hand.
    h.input(Input::AgentReady { agent: "a0".into() });
    h.input(Input::AgentBreak { agent: "a0".into(), reason: "no-answer".into() });
    h.wait(25_000);
    assert_eq!(h.state("a0"), AgentState::Break("no-answer".into()), "the old timer must not end a newer break");
}

#[test]
fn zero_keeps_a_no_answer_break_until_ended_by_hand() {
    let mut h = H::new(&(q("max_no_answer = 1\nno_answer_break_seconds = 0") + &agents("q", 1, "")));
    let c = h.call("q");
    assert_eq!(h.offered(c), "a0");
    h.result(c, "a0", OfferOutcome::NoAnswer);
    h.wait(3_600_000);
    assert_eq!(h.state("a0"), AgentState::Break("no-answer".into()));
}

fn callback_queue(strategy: &str, pattern: &str) -> String {
    format!(
        "[[queue]]\nname = \"q\"\nstrategy = \"{strategy}\"\ncallback_contact = \"PJSIP/{{number}}@trunk\"\n{pattern}\n{}",
        agents("q", 3, "")
    )
}

#[test]
fn a_ring_all_callback_rings_one_agent() {
    let mut h = H::new(&callback_queue("ring-all", ""));
    for a in ["a0", "a1", "a2"] {
        h.input(Input::AgentBreak { agent: a.into(), reason: "lunch".into() });
    }
    let c = h.call_from("q", "0901");
    h.input(Input::CallbackRequest { call: c, number: "0901".into() });
    assert_eq!(h.exit_of(c), Some(ExitReason::CallbackScheduled));
    for a in ["a0", "a1", "a2"] {
        h.input(Input::AgentReady { agent: a.into() });
    }
    let rung = h.offer_of(c).expect("callback offered");
    assert_eq!(rung.len(), 1, "{rung:?}");
    let ringing: Vec<_> = ["a0", "a1", "a2"].into_iter().filter(|a| matches!(h.state(a), AgentState::Ringing(_))).collect();
    assert_eq!(ringing, rung, "only the agent the callback goes to rings");
}

#[test]
fn hostile_callback_numbers_are_refused_and_the_caller_keeps_waiting() {
    for number in ["1001,PJSIP/evil", "1001&Local/x@y", "sip:1001@evil", "1|2", "^1", "1001/2", "", "123456789012345678901"] {
        let mut h = H::new(&callback_queue("linear", ""));
        for a in ["a0", "a1", "a2"] {
            h.input(Input::AgentBreak { agent: a.into(), reason: "lunch".into() });
        }
        let c = h.call_from("q", number);
        h.input(Input::CallbackRequest { call: c, number: number.into() });
        assert_eq!(h.exit_of(c), None, "{number:?} accepted");
        assert_eq!(h.count_events(|e| matches!(e, EventKind::CallbackRefused { .. })), 1, "{number:?}");
        assert_eq!(h.count_events(|e| matches!(e, EventKind::CallbackRequested { .. })), 0, "{number:?}");
        // Still in line: an agent coming back is offered the live caller.
        h.input(Input::AgentReady { agent: "a0".into() });
        assert_eq!(h.offered(c), "a0");
    }
}

#[test]
fn plain_and_patterned_numbers_are_called_back() {
    for (pattern, number) in [("", "+84901234567"), ("", "0901"), ("callback_number_pattern = \"0[0-9]{9}\"", "0901234567")] {
        let mut h = H::new(&callback_queue("linear", pattern));
        for a in ["a0", "a1", "a2"] {
            h.input(Input::AgentBreak { agent: a.into(), reason: "lunch".into() });
        }
        let c = h.call_from("q", number);
        h.input(Input::CallbackRequest { call: c, number: number.into() });
        assert_eq!(h.exit_of(c), Some(ExitReason::CallbackScheduled), "{pattern} {number}");
    }
    // The pattern is the whole number: a prefix match is not enough.
    let mut h = H::new(&callback_queue("linear", "callback_number_pattern = \"0[0-9]{9}\""));
    for a in ["a0", "a1", "a2"] {
        h.input(Input::AgentBreak { agent: a.into(), reason: "lunch".into() });
    }
    let c = h.call_from("q", "09012345678");
    h.input(Input::CallbackRequest { call: c, number: "09012345678".into() });
    assert_eq!(h.count_events(|e| matches!(e, EventKind::CallbackRefused { .. })), 1);
}

#[test]
fn a_bad_callback_pattern_is_a_located_config_error() {
    let text = "[[queue]]\nname = \"q\"\ncallback_contact = \"PJSIP/{number}@t\"\ncallback_number_pattern = \"[0-9\"\n";
    let e = hotline::core::Config::parse(text, "h.toml").unwrap_err();
    assert_eq!((e.line, e.key.as_str()), (4, "queue[q].callback_number_pattern"), "{e}");
}

// ---------------------------------------------------------------------------
// Statistics against a history computed by hand.

/// Queue q (SL 20 s, short abandon 5 s, wrap-up 10 s, max wait 100 s),
/// agents a0 and a1 on break at first. Times in ms:
/// - 0: c1 enters; 20 000: a0 ready, answers c1 (wait 20 000 = T: in SL);
/// - 20 000: c2 enters; 40 001: a1 ready, answers c2 (wait 20 001: not);
/// - 70 001: c2 ends (talk 30 000), a1 wraps up until 80 001;
/// - 80 000: c1 ends (talk 60 000), a0 wraps up until 90 000;
/// - 90 000: both on break (a1 was available 80 001-90 000);
/// - 90 000: c3 enters, hangs up at 95 000 (wait 5 000 = short abandon);
/// - 95 000: c4 enters, hangs up at 135 000 (abandon after 40 000);
/// - 135 000: c5 enters, leaves at max wait, 235 000.
fn history(extra: &str) -> (H, Stats) {
    let text = format!(
        "[general]\nservice_level_seconds = 20\nshort_abandon_seconds = 5\n{extra}\n\
         [[queue]]\nname = \"q\"\nstrategy = \"linear\"\nwrapup_seconds = 10\nmax_wait_seconds = 100\n{}",
        agents("q", 2, "")
    );
    let mut h = H::new(&text);
    let at = |h: &mut H, t: u64| h.wait(t - h.now);
    for a in ["a0", "a1"] {
        h.input(Input::AgentBreak { agent: a.into(), reason: "lunch".into() });
    }
    let c1 = h.call("q");
    at(&mut h, 20_000);
    h.input(Input::AgentReady { agent: "a0".into() });
    assert_eq!(h.offered(c1), "a0");
    h.answer(c1, "a0");
    let c2 = h.call("q");
    at(&mut h, 40_001);
    h.input(Input::AgentReady { agent: "a1".into() });
    assert_eq!(h.offered(c2), "a1");
    h.answer(c2, "a1");
    at(&mut h, 70_001);
    h.hangup(c2);
    at(&mut h, 80_000);
    h.hangup(c1);
    at(&mut h, 90_000);
    assert_eq!((h.state("a0"), h.state("a1")), (AgentState::Available, AgentState::Available));
    for a in ["a0", "a1"] {
        h.input(Input::AgentBreak { agent: a.into(), reason: "lunch".into() });
    }
    let c3 = h.call("q");
    at(&mut h, 95_000);
    h.input(Input::CallerHangup { call: c3 });
    let c4 = h.call("q");
    at(&mut h, 135_000);
    h.input(Input::CallerHangup { call: c4 });
    let c5 = h.call("q");
    at(&mut h, 235_000);
    assert_eq!(h.exit_of(c5), Some(ExitReason::Timeout));
    let mut stats = Stats::new(&cfg(&text).general);
    for e in &h.events {
        stats.apply(e);
    }
    (h, stats)
}

#[test]
fn queue_figures_match_a_history_computed_by_hand() {
    let (h, stats) = history("");
    let r = stats.report(h.now);
    let q = r.queues.iter().find(|q| q.name == "q").expect("row");
    assert_eq!((q.entered, q.answered, q.abandoned, q.short_abandoned, q.exited), (5, 2, 2, 1, 1));
    // Base: 2 answered + 1 abandon after 5 s + 1 max-wait exit; in SL: c1
    // only (a wait exactly at the threshold counts, one ms more does not).
    assert_eq!(q.service_level, Some(1.0 / 4.0));
    assert_eq!(q.asa, Some((20_000 + 20_001) / 2));
    assert_eq!(q.aht, Some((60_000 + 10_000 + 30_000 + 10_000) / 2));
    // Long abandons / (entered - short abandons).
    assert_eq!(q.abandon_rate, Some(1.0 / 4.0));
    assert_eq!(q.longest_wait, 100_000);
    assert_eq!(q.current_longest_wait, 0);
}

#[test]
fn agent_figures_match_a_history_computed_by_hand() {
    let (h, stats) = history("");
    let r = stats.report(h.now);
    let a = |n: &str| r.agents.iter().find(|a| a.name == n).cloned().expect("agent row");
    let (a0, a1) = (a("a0"), a("a1"));
    assert_eq!((a0.offered, a0.answered, a0.missed, a0.talk), (1, 1, 0, 60_000));
    assert_eq!((a1.offered, a1.answered, a1.missed, a1.talk), (1, 1, 0, 30_000));
    assert_eq!((a0.aht, a1.aht), (Some(70_000), Some(40_000)));
    // Busy (ringing + talking + wrap-up) / (busy + available); breaks
    // count for neither.
    assert_eq!(a0.occupancy, Some(1.0));
    assert_eq!(a1.occupancy, Some(40_000.0 / 49_999.0));
}

#[test]
fn service_level_can_leave_abandons_out() {
    let (h, stats) = history("service_level_excludes_abandons = true");
    let r = stats.report(h.now);
    let q = r.queues.iter().find(|q| q.name == "q").expect("row");
    // Base: 2 answered + 1 max-wait exit.
    assert_eq!(q.service_level, Some(1.0 / 3.0));
}

#[test]
fn a_short_abandon_threshold_is_inclusive_and_a_longer_wait_is_not_short() {
    let text = format!("[general]\nshort_abandon_seconds = 5\n[[queue]]\nname = \"q\"\n{}", agents("q", 1, ""));
    let mut h = H::new(&text);
    h.input(Input::AgentBreak { agent: "a0".into(), reason: "x".into() });
    let c = h.call("q");
    h.wait(5_001);
    h.input(Input::CallerHangup { call: c });
    let mut stats = Stats::new(&cfg(&text).general);
    h.events.iter().for_each(|e| stats.apply(e));
    let r = stats.report(h.now);
    let q = &r.queues[0];
    assert_eq!((q.abandoned, q.short_abandoned), (1, 0));
    assert_eq!(q.abandon_rate, Some(1.0));
    assert_eq!(q.service_level, Some(0.0));
    let _ = (CallerInfo::default(), EndedBy::Agent);
}

#[test]
fn offered_and_answered_events_carry_the_callers_data_and_the_agent_leg() {
    let mut h = H::new(&(q("") + &agents("q", 1, "")));
    let caller = CallerInfo { data: vec![("uniqueid".into(), "1.1".into()), ("data_account".into(), "123".into())], ..Default::default() };
    let c = h.call_with("q", caller);
    assert_eq!(h.offered(c), "a0");
    let a0 = h.id("a0");
    h.input(Input::AgentLeg { call: c, agent: a0, leg: vec![("channel".into(), "PJSIP/1001-0001".into())] });
    h.answer(c, "a0");
    let field = |kind: &str, key: &str| -> Option<String> {
        h.events.iter().filter(|e| e.kind.name() == kind).flat_map(|e| e.kind.fields()).find(|(k, _)| k == key).map(|(_, v)| v)
    };
    assert_eq!(field("CallOffered", "DataAccount").as_deref(), Some("123"));
    assert_eq!(field("CallAnswered", "DataAccount").as_deref(), Some("123"));
    assert_eq!(field("CallAnswered", "Uniqueid").as_deref(), Some("1.1"));
    assert_eq!(field("CallAnswered", "AgentChannel").as_deref(), Some("PJSIP/1001-0001"));
    let _ = EndedBy::Agent;
}
