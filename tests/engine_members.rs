//! Hot desking, on the engine with a virtual clock.

mod support;

use hotline::core::event::EventKind;
use hotline::core::{Action, AgentState, CallId, Input, OfferOutcome};
use support::{cfg, H};

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
