// SPDX-License-Identifier: GPL-2.0-or-later
//! Dialplan application arguments, the same on both PBXes:
//! `HotlineQueue` / `hotline_queue`: `queue[,option=value...]`
//! - `priority=N`: higher first.
//! - `skills=name:level+name:level`: caller needs.
//! - `callback=D`: DTMF digit D asks for a callback to the caller number;
//!   the caller keeps its place and hangs up.
//! - `data=key:value+key:value`: the call's data.
//! - `agent_announce=<file>|queue|data:<key>|none`: what the answered agent
//!   hears before the bridge, over the queue's `agent_announce`.
//!
//! `HotlineAgent` / `hotline_agent`: `action,agent[,reason|contact]`: the
//! third argument is a break's reason, or the contact a login rings from
//! then on (hot desking: `login,1001,PJSIP/2002`).

use crate::core::agent_announce::AgentAnnounce;

/// Parsed application arguments.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueueArgs {
    pub queue: String,
    pub priority: Option<i32>,
    pub skills: Option<Vec<(String, u8)>>,
    pub callback_digit: Option<char>,
    /// `data=key:value+key:value`: the call's data (see [`crate::flow::data`]).
    pub data: Option<Vec<(String, String)>>,
    /// `agent_announce=`: `Some(None)` is `none` (no announcement).
    pub agent_announce: Option<Option<AgentAnnounce>>,
}

pub fn parse_args(args: &str) -> Result<QueueArgs, String> {
    let mut parts = args.split(',').map(str::trim);
    let queue = parts.next().unwrap_or("").to_string();
    if queue.is_empty() {
        return Err("missing queue name: queue[,option=value...]".into());
    }
    let mut a = QueueArgs { queue, ..Default::default() };
    for opt in parts.filter(|p| !p.is_empty()) {
        let (k, v) = opt.split_once('=').ok_or_else(|| format!("option {opt:?} is not key=value"))?;
        match k.trim() {
            "priority" => a.priority = Some(parse_priority(v)?),
            "skills" => a.skills = Some(parse_skills(v)?),
            "callback" => a.callback_digit = Some(parse_callback_digit(v).map_err(|e| format!("callback={e}"))?),
            "data" => a.data = Some(crate::flow::data::parse_list(v)?),
            "agent_announce" => a.agent_announce = Some(parse_agent_announce(v).map_err(|e| format!("agent_announce={e}"))?),
            other => return Err(format!("unknown option {other:?} (priority, skills, callback, data, agent_announce)")),
        }
    }
    Ok(a)
}

/// An announcement to the agent, or `none`.
pub fn parse_agent_announce(v: &str) -> Result<Option<AgentAnnounce>, String> {
    if v.trim() == "none" {
        return Ok(None);
    }
    AgentAnnounce::parse(v).map(Some)
}

pub fn parse_priority(v: &str) -> Result<i32, String> {
    v.trim().parse().map_err(|_| format!("priority={v:?} is not an integer"))
}

/// One DTMF digit (`0-9`, `*`, `#`).
pub fn parse_callback_digit(v: &str) -> Result<char, String> {
    let d = v.trim();
    let mut c = d.chars();
    match (c.next(), c.next()) {
        (Some(ch), None) if "0123456789*#".contains(ch) => Ok(ch),
        _ => Err(format!("{d:?} is not one DTMF digit")),
    }
}

/// `billing:5+vietnamese:3` (level defaults to 1).
pub fn parse_skills(s: &str) -> Result<Vec<(String, u8)>, String> {
    let mut v = Vec::new();
    for item in s.split('+').map(str::trim).filter(|i| !i.is_empty()) {
        let (name, level) = match item.split_once(':') {
            Some((n, l)) => (n.trim(), l.trim().parse::<u8>().map_err(|_| format!("skill level {l:?} is not 1-10"))?),
            None => (item, 1),
        };
        if !(1..=10).contains(&level) || name.is_empty() {
            return Err(format!("bad skill {item:?}: name:level with level 1-10"));
        }
        v.push((name.to_string(), level));
    }
    Ok(v)
}

/// `hotline_agent` arguments: `action,agent[,reason|contact]`.
pub fn split_agent_args(args: &str) -> (&str, &str, Option<&str>) {
    let mut parts = args.splitn(3, ',');
    let action = parts.next().unwrap_or("").trim();
    let agent = parts.next().unwrap_or("").trim();
    (action, agent, parts.next())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_parse_and_bad_ones_are_named() {
        let a = parse_args("support,priority=5,skills=billing:7+vietnamese,callback=*").expect("ok");
        assert_eq!(a.queue, "support");
        assert_eq!(a.priority, Some(5));
        assert_eq!(a.skills, Some(vec![("billing".into(), 7), ("vietnamese".into(), 1)]));
        assert_eq!(a.callback_digit, Some('*'));
        assert!(parse_args("").unwrap_err().contains("missing queue"));
        assert!(parse_args("q,priority=high").unwrap_err().contains("priority"));
        assert!(parse_args("q,colour=red").unwrap_err().contains("unknown option"));
        assert!(parse_args("q,skills=x:11").unwrap_err().contains("1-10"));
        assert!(parse_args("q,callback=12").unwrap_err().contains("DTMF"));
        assert_eq!(parse_args("q,agent_announce=data:account").expect("ok").agent_announce, Some(Some(AgentAnnounce::Data("account".into()))));
        assert_eq!(parse_args("q,agent_announce=none").expect("ok").agent_announce, Some(None));
        assert!(parse_args("q,agent_announce=data:").unwrap_err().starts_with("agent_announce="));
        assert_eq!(split_agent_args("break, a1 ,lunch, long"), ("break", "a1", Some("lunch, long")));
        assert_eq!(split_agent_args("login"), ("login", "", None));
        assert_eq!(split_agent_args("login,1001,PJSIP/2002"), ("login", "1001", Some("PJSIP/2002")));
    }
}
