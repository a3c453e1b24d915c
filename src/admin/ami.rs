// SPDX-License-Identifier: GPL-2.0-or-later
//! The Asterisk manager (AMI) actions for queue members and agents,
//! modelled on app_queue's `QueueAdd` / `QueueRemove` / `QueuePause` /
//! `QueuePenalty` and registered under Hotline names so they never clash
//! with it. PBX-neutral: the adapter hands over the message's headers and
//! answers `Response: Success` or `Response: Error` with the message.
//!
//! | Action | Headers |
//! |---|---|
//! | `HotlineQueueAdd` | `Queue`, `Interface` (or `Member`/`Agent`: the agent's name), `Penalty`, `Tier`, `Paused`, `Reason` |
//! | `HotlineQueueRemove` | `Queue`, `Interface` |
//! | `HotlineQueuePause` | `Interface`, `Paused`, `Reason`, `Queue` (checked; a pause is the agent's, in every queue) |
//! | `HotlineQueuePenalty` | `Queue`, `Interface`, `Penalty`, `Tier` |
//! | `HotlineAgentLogin` | `Agent`, `Contact` (hot desking) |
//! | `HotlineAgentLogout` | `Agent` |

use std::ffi::CStr;

use crate::router::Router;

use super::{agent_input, member_input, send_agent, send_member, Host};

/// The actions, with their one-line synopsis (the adapter registers these
/// names).
pub const ACTIONS: &[(&CStr, &CStr)] = &[
    (c"HotlineQueueAdd", c"Add an agent to a Hotline queue"),
    (c"HotlineQueueRemove", c"Remove an agent from a Hotline queue"),
    (c"HotlineQueuePause", c"Pause (break) or unpause a Hotline agent"),
    (c"HotlineQueuePenalty", c"Set a Hotline queue member's penalty and tier"),
    (c"HotlineAgentLogin", c"Log a Hotline agent in, optionally at another phone"),
    (c"HotlineAgentLogout", c"Log a Hotline agent out"),
];

/// The message's headers, as the manager parsed them.
struct Headers<'a>(&'a [(String, String)]);

impl Headers<'_> {
    /// A header's trimmed value (names are case-insensitive, as in AMI); an
    /// empty value counts as absent.
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }

    fn need(&self, name: &str, what: &str) -> Result<&str, String> {
        self.get(name).ok_or_else(|| format!("missing header {name} ({what})"))
    }

    /// The agent: `Interface` (app_queue's name), `Member` or `Agent`.
    fn member(&self) -> Result<&str, String> {
        let v = ["Interface", "Member", "Agent"]
            .iter()
            .find_map(|h| self.get(h))
            .ok_or_else(|| "missing header Interface (the Hotline agent's name; Member or Agent also work)".to_string())?;
        Ok(v)
    }

    fn flag(&self, name: &str) -> Result<Option<bool>, String> {
        self.get(name)
            .map(|v| match v.to_ascii_lowercase().as_str() {
                "yes" | "true" | "y" | "t" | "1" | "on" => Ok(true),
                "no" | "false" | "n" | "f" | "0" | "off" => Ok(false),
                _ => Err(format!("{name}: {v:?} is neither true nor false")),
            })
            .transpose()
    }
}

/// Run one action; `Ok` / `Err`: the `Message:` of a success / an error.
pub fn run(router: &Router, host: &dyn Host, action: &str, headers: &[(String, String)]) -> Result<String, String> {
    let h = Headers(headers);
    let unknown_agent = |agent: &str| -> Result<(), String> {
        if host.has_agent(agent) {
            Ok(())
        } else if agent.contains('/') {
            Err(format!("no agent named {agent:?} (Interface names a Hotline agent, not a device)"))
        } else {
            Err(format!("no agent named {agent:?}"))
        }
    };
    match action.to_ascii_lowercase().as_str() {
        "hotlinequeueadd" => {
            let (queue, agent) = (h.need("Queue", "the queue's name")?, h.member()?);
            unknown_agent(agent)?;
            let paused = h.flag("Paused")?;
            let args: Vec<&str> = match (h.get("Penalty"), h.get("Tier")) {
                (p, Some(t)) => vec![p.unwrap_or("0"), t],
                (Some(p), None) => vec![p],
                (None, None) => vec![],
            };
            let done = send_member(router, host, member_input("add", queue, agent, &args)?)?;
            if paused == Some(true) {
                send_agent(router, host, agent_input("break", agent, h.get("Reason"))?)?;
                return Ok(format!("{done}, paused"));
            }
            Ok(done)
        }
        "hotlinequeueremove" => {
            let (queue, agent) = (h.need("Queue", "the queue's name")?, h.member()?);
            unknown_agent(agent)?;
            send_member(router, host, member_input("remove", queue, agent, &[])?)
        }
        "hotlinequeuepause" => {
            let agent = h.member()?;
            unknown_agent(agent)?;
            let paused = h.flag("Paused")?.ok_or("missing header Paused (true to pause, false to unpause)")?;
            if let Some(q) = h.get("Queue") {
                if !host.has_queue(q) {
                    return Err(format!("no queue named {q:?}"));
                }
            }
            let input = if paused { agent_input("break", agent, h.get("Reason"))? } else { agent_input("ready", agent, None)? };
            send_agent(router, host, input)
        }
        "hotlinequeuepenalty" => {
            let agent = h.member()?;
            unknown_agent(agent)?;
            let queue = h.need("Queue", "the queue whose penalty changes")?;
            let penalty = h.need("Penalty", "a whole number")?;
            let args: Vec<&str> = std::iter::once(penalty).chain(h.get("Tier")).collect();
            send_member(router, host, member_input("penalty", queue, agent, &args)?)
        }
        "hotlineagentlogin" => {
            let agent = h.need("Agent", "the agent's name")?;
            send_agent(router, host, agent_input("login", agent, h.get("Contact"))?)
        }
        "hotlineagentlogout" => {
            let agent = h.need("Agent", "the agent's name")?;
            send_agent(router, host, agent_input("logout", agent, None)?)
        }
        _ => Err(format!("unknown Hotline action {action:?} (known: {})", known())),
    }
}

fn known() -> String {
    ACTIONS.iter().map(|(n, _)| n.to_string_lossy()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::core::{AgentState, Config};
    use crate::router::{Query, Reply, RouterOptions};

    struct FakeHost;
    impl Host for FakeHost {
        fn reload(&self) -> Result<String, String> {
            Ok(String::new())
        }
        fn has_agent(&self, name: &str) -> bool {
            name == "a"
        }
        fn store_status(&self) -> String {
            String::new()
        }
        fn has_queue(&self, name: &str) -> bool {
            name == "q" || name == "r"
        }
    }

    fn agent(router: &Router) -> crate::core::AgentView {
        match router.query(Query::Agents, super::super::QUERY_TIMEOUT) {
            Ok(Reply::Agents(a)) => a.into_iter().next().expect("agent a"),
            r => panic!("{r:?}"),
        }
    }

    #[test]
    fn actions_change_members_and_agents_and_bad_input_is_named() {
        let text = "[[queue]]\nname = \"q\"\n[[queue]]\nname = \"r\"\n[[agent]]\nname = \"a\"\ncontact = \"Local/a@x\"\nqueues = [\"q\"]\n";
        let router = Router::start(Arc::new(Config::parse(text, "t").expect("cfg")), RouterOptions::default()).expect("router");
        let run = |action: &str, hs: &[(&str, &str)]| {
            let hs: Vec<(String, String)> = hs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            run(&router, &FakeHost, action, &hs)
        };
        assert_eq!(run("HotlineQueueAdd", &[("Queue", "r"), ("Interface", "a"), ("Penalty", "2"), ("Tier", "3")]), Ok("queue r: add a".into()));
        assert_eq!(agent(&router).queues, ["q", "r"]);
        assert!(run("HotlineQueuePenalty", &[("queue", "r"), ("member", "a"), ("penalty", "5")]).is_ok(), "names are case-insensitive");
        assert_eq!(run("HotlineQueuePause", &[("Interface", "a"), ("Paused", "true"), ("Reason", "lunch")]), Ok("agent a: break".into()));
        assert_eq!(agent(&router).state, AgentState::Break("lunch".into()));
        assert!(run("HotlineQueuePause", &[("Interface", "a"), ("Paused", "no")]).is_ok());
        assert_eq!(agent(&router).state, AgentState::Available);
        assert!(run("HotlineQueueRemove", &[("Queue", "r"), ("Interface", "a")]).is_ok());
        assert_eq!(agent(&router).queues, ["q"]);
        assert!(run("HotlineAgentLogin", &[("Agent", "a"), ("Contact", "PJSIP/desk-7")]).is_ok());
        assert_eq!(agent(&router).contact, "PJSIP/desk-7");
        assert!(run("HotlineAgentLogout", &[("Agent", "a")]).is_ok());
        assert_eq!(agent(&router).state, AgentState::LoggedOut);
        // Bad input: each refused with its reason, nothing changed.
        let err = |action: &str, hs: &[(&str, &str)]| run(action, hs).expect_err("refused");
        assert!(err("HotlineQueueAdd", &[("Interface", "a")]).contains("missing header Queue"));
        assert!(err("HotlineQueueAdd", &[("Queue", "r")]).contains("missing header Interface"));
        assert!(err("HotlineQueueAdd", &[("Queue", "nowhere"), ("Interface", "a")]).contains("no queue named \"nowhere\""));
        assert!(err("HotlineQueueAdd", &[("Queue", "r"), ("Interface", "ghost")]).contains("no agent named \"ghost\""));
        assert!(err("HotlineQueueAdd", &[("Queue", "r"), ("Interface", "PJSIP/1001")]).contains("not a device"));
        assert!(err("HotlineQueueAdd", &[("Queue", "r"), ("Interface", "a"), ("Penalty", "high")]).contains("penalty \"high\""));
        assert!(err("HotlineQueueAdd", &[("Queue", "r"), ("Interface", "a"), ("Tier", "0")]).contains("tier"));
        assert!(err("HotlineQueuePause", &[("Interface", "a")]).contains("missing header Paused"));
        assert!(err("HotlineQueuePause", &[("Interface", "a"), ("Paused", "maybe")]).contains("neither true nor false"));
        assert!(err("HotlineQueuePenalty", &[("Interface", "a"), ("Queue", "r")]).contains("missing header Penalty"));
        assert!(err("HotlineAgentLogin", &[("Agent", "a"), ("Contact", "PJSIP/1&PJSIP/2")]).contains("'&'"));
        assert!(err("HotlineAgentLogin", &[]).contains("missing header Agent"));
        assert!(err("HotlineDance", &[]).contains("unknown Hotline action"));
        assert_eq!(agent(&router).queues, ["q"]);
        assert_eq!(agent(&router).contact, "Local/a@x", "the logout ended the hot desk; the bad login changed nothing");
    }
}
