//! The operator's command surface, shared by the Asterisk CLI (`hotline
//! ...`) and the FreeSWITCH API (`hotline ...`): parse the words, ask the
//! router, format the answer. PBX-neutral: the adapter supplies reload.

use std::fmt::Write as _;
use std::time::Duration;

use crate::core::agent::check_contact;
use crate::core::call::CallPhase;
use crate::core::{AgentState, CallId, Input};
use crate::router::{Query, Reply, Router};

pub mod ami;

pub const USAGE: &str = "hotline show queues|agents|calls|sinks|store|ivr | hotline stats | \
hotline agent login <agent> [contact] | hotline agent logout|ready|reset <agent> | \
hotline agent break <agent> [reason...] | hotline queue add <queue> <agent> [penalty] [tier] | \
hotline queue remove <queue> <agent> | hotline queue penalty <queue> <agent> <penalty> [tier] | \
hotline call note <call-id> <text...> | hotline record pause|resume <call-id> | hotline recordings [key=value...] | hotline recordings sweep [dry-run] | hotline recordings erase <caller> [dry-run] | hotline recordings hold|release <recording-id> | hotline webhooks show | hotline webhooks retry|purge [webhook] | hotline reload";

/// Agent actions (dialplan and operator); `pause` and `unpause` are
/// app_queue's names for break and ready.
const AGENT_ACTIONS: &[&str] = &["login", "logout", "break", "pause", "ready", "unpause", "reset"];

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Text(String),
    /// Wrong arguments: show the usage.
    Usage,
}

/// What the adapter provides to commands.
pub trait Host {
    /// Re-read the configuration and apply it; the message says what
    /// happened (or the located configuration error).
    fn reload(&self) -> Result<String, String>;
    fn has_agent(&self, name: &str) -> bool;
    /// The durable store's health (or why there is none).
    fn store_status(&self) -> String;
    fn has_queue(&self, name: &str) -> bool;
    /// The IVR's counters (`hotline show ivr`).
    fn ivr_status(&self) -> String {
        "no IVR\n".into()
    }
    /// `hotline webhooks show|retry|purge [name]`.
    /// The store, for recording retention commands.
    fn recording_store(&self) -> Result<std::sync::Arc<crate::store::Store>, String> {
        Err("no durable store".into())
    }
    /// Each queue's `record_retention_days`.
    fn retention_policy(&self) -> Vec<(String, u32)> {
        Vec::new()
    }
    /// Pause (true) or resume the recording of a live call.
    fn record_pause(&self, _call: CallId, _pause: bool) -> Result<String, String> {
        Err("no durable store".into())
    }
    /// Recordings matching a search (the store's; newest first).
    fn recordings(&self, _filter: &crate::store::RecordingFilter) -> Result<Vec<crate::store::RecordingRecord>, String> {
        Err("no durable store".into())
    }
    fn webhooks(&self, _action: &str, _name: Option<&str>) -> String {
        "Hotline: no webhooks\n".into()
    }
}

/// How long an operator command (or a web request) waits for the router.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(3);

/// Run a command; `words` excludes the leading "hotline".
pub fn run(router: &Router, host: &dyn Host, words: &[&str]) -> Outcome {
    match words {
        ["show", "queues"] => query(router, Query::Queues, |r| match r {
            Reply::Queues(qs) => {
                let mut s = format!("{:<16} {:<16} {:>8} {:>8} {:>9} {:>6}\n", "queue", "strategy", "waiting", "members", "logged-in", "ready");
                for q in qs {
                    let _ = writeln!(
                        s,
                        "{:<16} {:<16} {:>8} {:>8} {:>9} {:>6}{}",
                        q.name,
                        q.strategy,
                        q.waiting,
                        q.members,
                        q.logged_in,
                        q.ready,
                        if q.retired { "  (removed, draining)" } else { "" }
                    );
                }
                s
            }
            _ => String::new(),
        }),
        ["show", "agents"] => query(router, Query::Agents, |r| match r {
            Reply::Agents(agents) => {
                let mut s = format!("{:<16} {:<28} {:<24} {:>6} {:>8} {:>6}  queues\n", "agent", "state", "contact", "calls", "talk", "misses");
                for a in agents {
                    let state = if a.device_busy { format!("{} (device busy)", a.state) } else { a.state.to_string() };
                    let _ = writeln!(
                        s,
                        "{:<16} {:<28} {:<24} {:>6} {:>7}s {:>6}  {}",
                        a.name,
                        state,
                        a.contact,
                        a.calls,
                        a.talk_ms / 1000,
                        a.misses,
                        a.queues.join(",")
                    );
                }
                s
            }
            _ => String::new(),
        }),
        ["show", "calls"] => query(router, Query::Calls, |r| match r {
            Reply::Calls(calls) => {
                let mut s = format!("{:<8} {:<16} {:<16} {:>4} {:<10} {:>8} agent\n", "call", "queue", "caller", "prio", "phase", "waited");
                for c in &calls {
                    let phase = match c.phase {
                        CallPhase::Waiting if c.callback => "callback",
                        CallPhase::Waiting => "waiting",
                        CallPhase::Offering => "ringing",
                        CallPhase::Talking => "talking",
                    };
                    let _ = writeln!(
                        s,
                        "{:<8} {:<16} {:<16} {:>4} {:<10} {:>7}s {}",
                        c.id,
                        c.queue,
                        c.number,
                        c.priority,
                        phase,
                        c.waited / 1000,
                        c.agent.as_deref().unwrap_or("-")
                    );
                }
                let _ = writeln!(s, "{} calls", calls.len());
                s
            }
            _ => String::new(),
        }),
        ["show", "sinks"] => query(router, Query::Sinks, |r| match r {
            Reply::Sinks(sinks) => {
                let mut s = format!("{:<12} {:<12} {:>8} {:>12} {:>10}\n", "sink", "kind", "depth", "delivered", "dropped");
                for k in sinks {
                    let _ = writeln!(s, "{:<12} {:<12} {:>8} {:>12} {:>10}", k.name, k.kind.name(), k.depth, k.delivered, k.dropped);
                }
                s
            }
            _ => String::new(),
        }),
        ["show", "store"] => Outcome::Text(host.store_status()),
        ["show", "ivr"] => Outcome::Text(host.ivr_status()),
        ["webhooks", "show"] => Outcome::Text(host.webhooks("show", None)),
        ["webhooks", action @ ("retry" | "purge")] => Outcome::Text(host.webhooks(action, None)),
        ["webhooks", action @ ("retry" | "purge"), name] => Outcome::Text(host.webhooks(action, Some(name))),
        ["stats"] => query(router, Query::Stats, |r| match r {
            Reply::Stats(report, counters) => {
                let rc = &router.counters;
                let n = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
                format!(
                    "{report}\nrouting decisions: {}, stale reports: {}, watchdog releases: {}\n\
                     stale answers hung up: {}, ring escalations: {}, short-call requeues: {}\n\
                     actions deferred (channel full): {}, actions dropped (caller gone): {}, callbacks failed (not handed over): {}\n",
                    counters.decisions,
                    counters.stale_inputs,
                    counters.watchdog_fired,
                    counters.stale_answers,
                    counters.escalations,
                    counters.requeues,
                    n(&rc.actions_deferred),
                    n(&rc.actions_dropped),
                    n(&rc.callbacks_failed)
                )
            }
            _ => String::new(),
        }),
        ["agent", action, name, rest @ ..] if AGENT_ACTIONS.contains(action) => {
            // A break takes words (its reason), a login one (a contact);
            // anything else is refused rather than silently taken for one.
            let arg = match (*action, rest) {
                (_, []) => None,
                ("break" | "pause", words) => Some(words.join(" ")),
                ("login", [contact]) => Some(contact.to_string()),
                ("login", [_, more @ ..]) => return extra_words(&format!("agent {action} <agent> [contact]"), more),
                _ => return extra_words(&format!("agent {action} <agent>"), rest),
            };
            let input = match agent_input(action, name, arg.as_deref()) {
                Ok(i) => i,
                Err(e) => return Outcome::Text(format!("Hotline: agent {name}: {e}\n")),
            };
            Outcome::Text(match send_agent(router, host, input) {
                Ok(m) | Err(m) => format!("Hotline: {m}\n"),
            })
        }
        ["queue", action @ ("add" | "remove" | "penalty"), queue, agent, rest @ ..] => {
            let (form, most) = match *action {
                "add" => ("queue add <queue> <agent> [penalty] [tier]", 2),
                "remove" => ("queue remove <queue> <agent>", 0),
                _ => ("queue penalty <queue> <agent> <penalty> [tier]", 2),
            };
            if rest.len() > most {
                return extra_words(form, &rest[most..]);
            }
            let input = match member_input(action, queue, agent, rest) {
                Ok(i) => i,
                Err(e) => return Outcome::Text(format!("Hotline: {e}; usage: hotline {form}\n")),
            };
            Outcome::Text(match send_member(router, host, input) {
                Ok(m) | Err(m) => format!("Hotline: {m}\n"),
            })
        }
        ["call", "note", id, words @ ..] if !words.is_empty() => Outcome::Text(match id.parse::<u64>() {
            Ok(id) => match send_note(router, CallId(id), &words.join(" "), "cli") {
                Ok(m) | Err(m) => format!("Hotline: {m}\n"),
            },
            Err(_) => format!("Hotline: {id:?} is not a call id; usage: hotline call note <call-id> <text...>\n"),
        }),
        ["record", action @ ("pause" | "resume"), id] => Outcome::Text(match id.parse::<u64>() {
            Ok(id) => match host.record_pause(CallId(id), *action == "pause") {
                Ok(m) | Err(m) => format!("Hotline: {m}\n"),
            },
            Err(_) => format!("Hotline: {id:?} is not a call id; usage: hotline record pause|resume <call-id>\n"),
        }),
        ["recordings", action @ ("sweep" | "erase" | "hold" | "release"), rest @ ..] => Outcome::Text(recordings_admin(host, action, rest)),
        ["recordings", words @ ..] => Outcome::Text(match crate::recording::search::filter_words(words) {
            Ok(f) => match host.recordings(&f) {
                Ok(rows) => crate::recording::search::lines(&rows),
                Err(e) => format!("Hotline: recordings: {e}\n"),
            },
            Err(e) => format!("Hotline: recordings: {e}\n"),
        }),
        ["reload"] => Outcome::Text(match host.reload() {
            Ok(msg) => format!("Hotline: reloaded: {msg}\n"),
            Err(e) => format!("Hotline: reload failed, old configuration kept: {e}\n"),
        }),
        _ => Outcome::Usage,
    }
}

fn query(router: &Router, q: Query, f: impl FnOnce(Reply) -> String) -> Outcome {
    Outcome::Text(match router.query(q, QUERY_TIMEOUT) {
        Ok(r) => f(r),
        Err(e) => format!("Hotline: {e}\n"),
    })
}

/// Words past what `hotline <form>` takes: refused, not ignored.
fn extra_words(form: &str, extra: &[&str]) -> Outcome {
    Outcome::Text(format!("Hotline: `hotline {form}` takes no more arguments (got {:?}); usage: {USAGE}\n", extra.join(" ")))
}

/// Check an agent command's agent and send it: `Ok` says what was done,
/// `Err` why not (one line each). Shared by the CLI, the FreeSWITCH API
/// and the Asterisk AMI actions.
pub fn send_agent(router: &Router, host: &dyn Host, input: Input) -> Result<String, String> {
    let (name, action) = match &input {
        Input::AgentLogin { agent, .. } => (agent.clone(), "login"),
        Input::AgentLogout { agent } => (agent.clone(), "logout"),
        Input::AgentBreak { agent, .. } => (agent.clone(), "break"),
        Input::AgentReady { agent } => (agent.clone(), "ready"),
        Input::AgentReset { agent } => (agent.clone(), "reset"),
        other => return Err(format!("not an agent command: {other:?}")),
    };
    if !host.has_agent(&name) {
        return Err(format!("no agent named {name:?}"));
    }
    if matches!(input, Input::AgentReset { .. }) {
        if let Some(state) = agent_state(router, &name).filter(|s| !matches!(s, AgentState::Ringing(_) | AgentState::OnCall(_))) {
            return Err(format!("agent {name} is {state}: not ringing or on a call, nothing to reset"));
        }
    }
    match router.send(input) {
        Ok(()) => Ok(format!("agent {name}: {action}")),
        Err(e) => Err(format!("agent {name}: {action} failed: {e}")),
    }
}

/// `hotline recordings sweep [dry-run]`, `erase <caller> [dry-run]`,
/// `hold <id>`, `release <id>`.
fn recordings_admin(host: &dyn Host, action: &str, rest: &[&str]) -> String {
    use crate::recording::retention;
    let store = match host.recording_store() {
        Ok(s) => s,
        Err(e) => return format!("Hotline: recordings: {e}\n"),
    };
    let (dry, args): (bool, Vec<&str>) = (rest.contains(&"dry-run"), rest.iter().copied().filter(|w| *w != "dry-run").collect());
    let out = match (action, &args[..]) {
        ("sweep", []) => retention::sweep(&store, &host.retention_policy(), crate::store::unix_ms(), dry).map(|r| r.text("retention sweep", dry)),
        ("erase", [number]) => retention::erase_caller(&store, number, dry).map(|r| r.text(&format!("erase caller {number}"), dry)),
        ("hold" | "release", [id]) if !dry => match id.parse::<u64>() {
            Ok(id) => retention::set_hold(&store, id, action == "hold").map(|m| format!("Hotline: {m}\n")),
            Err(_) => Err(format!("{id:?} is not a recording id")),
        },
        _ => Err(format!("usage: hotline recordings sweep [dry-run] | erase <caller> [dry-run] | hold|release <id> (got {action} {})", rest.join(" "))),
    };
    out.unwrap_or_else(|e| format!("Hotline: recordings: {e}\n"))
}

/// A note on a live call (it goes with the call's transfer history): `Ok`
/// says what was done, `Err` why not. Shared by the CLI and the web API.
pub fn send_note(router: &Router, call: CallId, text: &str, by: &str) -> Result<String, String> {
    let Some(text) = crate::flow::transfers::clean_note(text) else { return Err("a note needs some text".into()) };
    match router.query(Query::Calls, QUERY_TIMEOUT) {
        Ok(Reply::Calls(calls)) if calls.iter().any(|c| c.id == call) => {}
        Ok(_) => return Err(format!("no live call {call}")),
        Err(e) => return Err(format!("call {call}: note failed: {e}")),
    }
    match router.send(Input::Note { call, text, by: by.to_string() }) {
        Ok(()) => Ok(format!("call {call}: note taken")),
        Err(e) => Err(format!("call {call}: note failed: {e}")),
    }
}

/// Check a membership command's queue and agent and send it (see
/// [`send_agent`]).
pub fn send_member(router: &Router, host: &dyn Host, input: Input) -> Result<String, String> {
    let (queue, agent, action) = match &input {
        Input::AddMember { queue, agent, .. } => (queue.clone(), agent.clone(), "add"),
        Input::RemoveMember { queue, agent } => (queue.clone(), agent.clone(), "remove"),
        Input::SetPenalty { queue, agent, .. } => (queue.clone(), agent.clone(), "penalty"),
        other => return Err(format!("not a membership command: {other:?}")),
    };
    if !host.has_queue(&queue) {
        return Err(format!("no queue named {queue:?}"));
    }
    if !host.has_agent(&agent) {
        return Err(format!("no agent named {agent:?}"));
    }
    match router.send(input) {
        Ok(()) => Ok(format!("queue {queue}: {action} {agent}")),
        Err(e) => Err(format!("queue {queue}: {action} {agent} failed: {e}")),
    }
}

/// The agent's state as the router has it now (`None`: no answer).
fn agent_state(router: &Router, name: &str) -> Option<AgentState> {
    match router.query(Query::Agents, QUERY_TIMEOUT) {
        Ok(Reply::Agents(agents)) => agents.into_iter().find(|a| a.name == name).map(|a| a.state),
        _ => None,
    }
}

/// The router input for an agent command (dialplan or operator), or why
/// not. `arg`: the reason of a break, the hot-desk contact of a login
/// (checked here, so a bad one is refused before it reaches the router);
/// other actions ignore it.
pub fn agent_input(action: &str, agent: &str, arg: Option<&str>) -> Result<Input, String> {
    let agent = agent.trim().to_string();
    if agent.is_empty() {
        return Err("missing agent name".into());
    }
    let arg = arg.map(str::trim);
    Ok(match action.trim() {
        "login" => {
            let contact = arg.map(|c| check_contact(c).map(|()| c.to_string())).transpose()?;
            Input::AgentLogin { agent, contact }
        }
        "logout" => Input::AgentLogout { agent },
        "break" | "pause" => {
            let reason = arg.filter(|r| !r.is_empty()).unwrap_or("break").to_string();
            Input::AgentBreak { agent, reason }
        }
        "ready" | "unpause" => Input::AgentReady { agent },
        "reset" => Input::AgentReset { agent },
        other => return Err(format!("unknown action {other:?} (login, logout, break, ready, reset)")),
    })
}

/// The router input for a membership command (`add`: `[penalty] [tier]`,
/// default 0 and 1; `remove`; `penalty`: `<penalty> [tier]`), or why not.
pub fn member_input(action: &str, queue: &str, agent: &str, args: &[&str]) -> Result<Input, String> {
    let (queue, agent) = (queue.to_string(), agent.to_string());
    let penalty = |v: &str| v.parse::<u32>().map_err(|_| format!("penalty {v:?} is not a whole number"));
    let tier = |v: &str| match v.parse::<u8>() {
        Ok(t) if t >= 1 => Ok(t),
        _ => Err(format!("tier {v:?} is not 1-255 (tiers start at 1)")),
    };
    Ok(match (action, args) {
        ("add", [..]) if args.len() <= 2 => Input::AddMember {
            agent,
            queue,
            penalty: args.first().map(|p| penalty(p)).transpose()?.unwrap_or(0),
            tier: args.get(1).map(|t| tier(t)).transpose()?.unwrap_or(1),
        },
        ("remove", []) => Input::RemoveMember { agent, queue },
        ("penalty", [p, rest @ ..]) if rest.len() <= 1 => {
            Input::SetPenalty { agent, queue, penalty: penalty(p)?, tier: rest.first().map(|t| tier(t)).transpose()? }
        }
        ("penalty", []) => return Err("missing penalty".into()),
        _ => return Err(format!("bad arguments for queue {action}: {args:?}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Config;
    use crate::router::RouterOptions;
    use std::sync::Arc;

    struct FakeHost;
    impl Host for FakeHost {
        fn reload(&self) -> Result<String, String> {
            Err("hotline.toml:3: strategy: unknown variant".into())
        }
        fn has_agent(&self, name: &str) -> bool {
            name == "a"
        }
        fn store_status(&self) -> String {
            "store: fine\n".into()
        }
        fn has_queue(&self, name: &str) -> bool {
            name == "q" || name == "r"
        }
    }

    #[test]
    fn commands_answer_from_the_router() {
        let cfg = Arc::new(
            Config::parse("[[queue]]\nname = \"q\"\n[[queue]]\nname = \"r\"\n[[agent]]\nname = \"a\"\ncontact = \"Local/a@x\"\nqueues = [\"q\"]\n", "t").expect("cfg"),
        );
        let router = Router::start(cfg, RouterOptions::default()).expect("router");
        let text = |w: &[&str]| match run(&router, &FakeHost, w) {
            Outcome::Text(t) => t,
            Outcome::Usage => panic!("usage for {w:?}"),
        };
        assert!(text(&["show", "queues"]).lines().any(|l| l.starts_with("q ") && l.contains("longest-idle")));
        assert!(text(&["agent", "break", "a", "lunch", "time"]).contains("break"));
        assert!(text(&["show", "agents"]).contains("break (lunch time)"));
        assert!(text(&["show", "calls"]).contains("0 calls"));
        assert!(text(&["stats"]).contains("routing decisions"));
        assert!(text(&["show", "sinks"]).starts_with("sink "));
        assert_eq!(text(&["show", "store"]), "store: fine\n");
        assert!(text(&["agent", "login", "ghost"]).contains("no agent named"));
        assert!(text(&["reload"]).contains("old configuration kept: hotline.toml:3"));
        assert_eq!(run(&router, &FakeHost, &["agent", "dance", "a"]), Outcome::Usage);
        assert_eq!(run(&router, &FakeHost, &["show"]), Outcome::Usage);
        // `pause 1001 support` is a break with reason "support"; `ready a
        // support` is refused, not taken as anything.
        let refused = text(&["agent", "ready", "a", "support"]);
        assert!(refused.contains("takes no more arguments") && refused.contains("\"support\""), "{refused}");
        assert!(text(&["show", "agents"]).contains("break (lunch time)"), "the refused command changed nothing");
        // Every form the usage text names is accepted, with and without
        // its optional arguments.
        for form in USAGE.split(" | ") {
            let words: Vec<&str> = form.split_whitespace().skip(1).collect();
            let first = words.iter().position(|w| w.contains('|')).map(|i| (i, words[i].split('|').collect::<Vec<_>>()));
            let mut variants: Vec<Vec<String>> = match first {
                Some((i, alts)) => alts.iter().map(|alt| { let mut w: Vec<String> = words.iter().map(|s| s.to_string()).collect(); w[i] = alt.to_string(); w }).collect(),
                None => vec![words.iter().map(|s| s.to_string()).collect()],
            };
            for v in variants.clone() {
                let mut v = v;
                while v.last().is_some_and(|w| w.starts_with('[')) {
                    v.pop();
                    variants.push(v.clone());
                }
            }
            for v in variants {
                let v: Vec<&str> = v
                    .iter()
                    .map(|w| match w.as_str() {
                        "<agent>" => "a",
                        "<queue>" => "r",
                        "[reason...]" => "tea",
                        "[contact]" => "PJSIP/desk-7",
                        "<penalty>" | "[penalty]" => "3",
                        "[tier]" => "2",
                        "[key=value...]" => "agent=a",
                        "[dry-run]" => "dry-run",
                        "<caller>" => "0901",
                        "<recording-id>" => "5",
                        "<call-id>" => "12",
                        "<text...>" => "hello",
                        w => w,
                    })
                    .collect();
                assert_ne!(run(&router, &FakeHost, &v), Outcome::Usage, "usage advertises {v:?}");
                assert!(!text(&v).contains("usage"), "usage advertises {v:?}: {}", text(&v));
            }
        }
    }

    #[test]
    fn queue_members_hot_desks_and_resets_from_the_command_line() {
        let text = "[[queue]]\nname = \"q\"\n[[queue]]\nname = \"r\"\n[[agent]]\nname = \"a\"\ncontact = \"Local/a@x\"\nqueues = [\"q\"]\n";
        let router = Router::start(Arc::new(Config::parse(text, "t").expect("cfg")), RouterOptions::default()).expect("router");
        let text = |w: &[&str]| match run(&router, &FakeHost, w) {
            Outcome::Text(t) => t,
            Outcome::Usage => panic!("usage for {w:?}"),
        };
        let agents = |router: &Router| match router.query(Query::Agents, QUERY_TIMEOUT) {
            Ok(Reply::Agents(a)) => a.into_iter().next().expect("agent a"),
            r => panic!("{r:?}"),
        };
        assert!(text(&["queue", "add", "r", "a", "5", "2"]).contains("queue r: add a"));
        assert_eq!(agents(&router).queues, ["q", "r"]);
        assert!(text(&["queue", "penalty", "r", "a", "1"]).contains("queue r: penalty a"));
        assert!(text(&["queue", "remove", "r", "a"]).contains("queue r: remove a"));
        assert_eq!(agents(&router).queues, ["q"]);
        assert!(text(&["queue", "add", "nowhere", "a"]).contains("no queue named \"nowhere\""));
        assert!(text(&["queue", "add", "r", "ghost"]).contains("no agent named \"ghost\""));
        assert!(text(&["queue", "add", "r", "a", "high"]).contains("penalty \"high\""));
        assert!(text(&["queue", "add", "r", "a", "1", "0"]).contains("tier"));
        assert!(text(&["queue", "add", "r", "a", "1", "2", "3"]).contains("takes no more arguments"));
        assert!(text(&["queue", "remove", "r", "a", "now"]).contains("takes no more arguments"));
        assert_eq!(run(&router, &FakeHost, &["queue", "dance", "r", "a"]), Outcome::Usage);
        assert_eq!(run(&router, &FakeHost, &["queue", "add", "r"]), Outcome::Usage);
        assert_eq!(agents(&router).queues, ["q"], "refused commands changed nothing");
        // Hot desking: the contact is checked before it reaches the router.
        let bad = text(&["agent", "login", "a", "PJSIP/1&PJSIP/2"]);
        assert!(bad.contains("contact") && bad.contains("'&'"), "{bad}");
        assert!(text(&["agent", "login", "a", "PJSIP/desk-7", "x"]).contains("takes no more arguments"));
        assert_eq!(agents(&router).contact, "Local/a@x");
        assert!(text(&["agent", "login", "a", "PJSIP/desk-7"]).contains("agent a: login"));
        assert_eq!(agents(&router).contact, "PJSIP/desk-7");
        // Nothing to reset on an idle agent: said, not sent.
        assert!(text(&["agent", "reset", "a"]).contains("not ringing or on a call"));
        assert!(text(&["agent", "reset", "a", "now"]).contains("takes no more arguments"));
    }
}
