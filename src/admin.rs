//! The operator's command surface, shared by the Asterisk CLI (`hotline
//! ...`) and the FreeSWITCH API (`hotline ...`): parse the words, ask the
//! router, format the answer. PBX-neutral: the adapter supplies reload.

use std::fmt::Write as _;
use std::time::Duration;

use crate::core::call::CallPhase;
use crate::core::Input;
use crate::router::{Query, Reply, Router};

pub const USAGE: &str = "hotline show queues|agents|calls | hotline stats | \
hotline agent login|logout|ready <agent> | hotline agent break <agent> [reason...] | hotline reload";

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
        ["stats"] => query(router, Query::Stats, |r| match r {
            Reply::Stats(report, counters) => format!(
                "{report}\nrouting decisions: {}, stale reports: {}, watchdog releases: {}\n",
                counters.decisions, counters.stale_inputs, counters.watchdog_fired
            ),
            _ => String::new(),
        }),
        ["agent", action, name, rest @ ..] => {
            // Only a break takes more words (its reason); anything else is
            // refused rather than silently taken for a reason.
            let takes_reason = matches!(*action, "break" | "pause");
            if !rest.is_empty() && !takes_reason {
                return Outcome::Text(format!(
                    "Hotline: `hotline agent {action} <agent>` takes no more arguments (got {:?}); usage: {USAGE}\n",
                    rest.join(" ")
                ));
            }
            let reason = (!rest.is_empty()).then(|| rest.join(" "));
            let input = match agent_input(action, name, reason.as_deref()) {
                Ok(i) => i,
                Err(_) => return Outcome::Usage,
            };
            if !host.has_agent(name) {
                return Outcome::Text(format!("Hotline: no agent named {name:?}\n"));
            }
            match router.send(input) {
                Ok(()) => Outcome::Text(format!("Hotline: agent {name}: {action}\n")),
                Err(e) => Outcome::Text(format!("Hotline: agent {name}: {action} failed: {e}\n")),
            }
        }
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

/// The router input for an agent command (dialplan or operator), or why not.
pub fn agent_input(action: &str, agent: &str, reason: Option<&str>) -> Result<Input, String> {
    let agent = agent.trim().to_string();
    if agent.is_empty() {
        return Err("missing agent name".into());
    }
    Ok(match action.trim() {
        "login" => Input::AgentLogin { agent, contact: None },
        "logout" => Input::AgentLogout { agent },
        "break" | "pause" => {
            let reason = reason.map(str::trim).filter(|r| !r.is_empty()).unwrap_or("break").to_string();
            Input::AgentBreak { agent, reason }
        }
        "ready" | "unpause" => Input::AgentReady { agent },
        other => return Err(format!("unknown action {other:?} (login, logout, break, ready)")),
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
    }

    #[test]
    fn commands_answer_from_the_router() {
        let cfg = Arc::new(
            Config::parse("[[queue]]\nname = \"q\"\n[[agent]]\nname = \"a\"\ncontact = \"Local/a@x\"\nqueues = [\"q\"]\n", "t").expect("cfg"),
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
        assert!(text(&["agent", "login", "ghost"]).contains("no agent named"));
        assert!(text(&["reload"]).contains("old configuration kept: hotline.toml:3"));
        assert_eq!(run(&router, &FakeHost, &["agent", "dance", "a"]), Outcome::Usage);
        assert_eq!(run(&router, &FakeHost, &["show"]), Outcome::Usage);
        // `pause 1001 support` is a break with reason "support"; `ready a
        // support` is refused, not taken as anything.
        let refused = text(&["agent", "ready", "a", "support"]);
        assert!(refused.contains("takes no more arguments") && refused.contains("\"support\""), "{refused}");
        assert!(text(&["show", "agents"]).contains("break (lunch time)"), "the refused command changed nothing");
        // Every form the usage text names is accepted.
        for form in USAGE.split(" | ") {
            let words: Vec<&str> = form.split_whitespace().skip(1).collect();
            let first = words.iter().position(|w| w.contains('|')).map(|i| (i, words[i].split('|').collect::<Vec<_>>()));
            let variants: Vec<Vec<String>> = match first {
                Some((i, alts)) => alts.iter().map(|alt| { let mut w: Vec<String> = words.iter().map(|s| s.to_string()).collect(); w[i] = alt.to_string(); w }).collect(),
                None => vec![words.iter().map(|s| s.to_string()).collect()],
            };
            for v in variants {
                let v: Vec<&str> = v.iter().map(|w| match w.as_str() { "<agent>" => "a", "[reason...]" => "tea", w => w }).collect();
                assert_ne!(run(&router, &FakeHost, &v), Outcome::Usage, "usage advertises {v:?}");
            }
        }
    }
}
