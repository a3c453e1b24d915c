// SPDX-License-Identifier: GPL-2.0-or-later
//! A queue call's options: from the application's arguments, else from
//! the channel's `hotline_priority` / `hotline_skills` /
//! `hotline_callback_key` variables (upper case on Asterisk).

use crate::app_args::{parse_agent_announce, parse_args, parse_callback_digit, parse_priority, parse_skills};
use crate::core::agent_announce::AgentAnnounce;

use super::data::CallData;

/// What a caller asks of the queue application.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueueRequest {
    pub queue: String,
    pub priority: i32,
    pub skills: Vec<(String, u8)>,
    pub callback_digit: Option<char>,
    pub data: CallData,
    /// The call's own announcement to the agent (`agent_announce=` option or
    /// `hotline_agent_announce` variable), over the queue's; `Some(None)`:
    /// none at all.
    pub agent_announce: Option<Option<AgentAnnounce>>,
}

/// Resolve arguments and variables. `var(suffix)` reads the PBX's Hotline
/// variable (`priority` -> `hotline_priority`); `name(suffix)` is how an
/// error names it; `data_vars`: the channel's data variables as (key,
/// value), which the `data=` option overrides key by key.
pub fn resolve(
    args: &str,
    var: impl Fn(&str) -> Option<String>,
    name: impl Fn(&str) -> String,
    data_vars: Vec<(String, String)>,
) -> Result<QueueRequest, String> {
    let a = parse_args(args)?;
    let from_var = |suffix: &str| var(suffix).filter(|v| !v.trim().is_empty());
    let named = |suffix: &str, e: String| format!("{}: {e}", name(suffix));
    let priority = match a.priority {
        Some(p) => p,
        None => from_var("priority").map(|v| parse_priority(&v).map_err(|e| named("priority", e))).transpose()?.unwrap_or(0),
    };
    let skills = match a.skills {
        Some(s) => s,
        None => from_var("skills").map(|v| parse_skills(&v).map_err(|e| named("skills", e))).transpose()?.unwrap_or_default(),
    };
    let callback_digit = match a.callback_digit {
        Some(d) => Some(d),
        None => from_var("callback_key").map(|v| parse_callback_digit(&v).map_err(|e| named("callback_key", e))).transpose()?,
    };
    let agent_announce = match a.agent_announce {
        Some(x) => Some(x),
        None => from_var("agent_announce").map(|v| parse_agent_announce(&v).map_err(|e| named("agent_announce", e))).transpose()?,
    };
    let mut data = CallData::default();
    for (k, v) in data_vars.iter().chain(a.data.iter().flatten()) {
        data.set(k, v)?;
    }
    Ok(QueueRequest { queue: a.queue, priority, skills, callback_digit, data, agent_announce })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(list: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| list.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn arguments_win_over_variables() {
        let v = [("priority", "3"), ("skills", "fr:2"), ("callback_key", "#")];
        let r = resolve("q,priority=9", vars(&v), |s| format!("HOTLINE_{}", s.to_uppercase()), vec![]).expect("ok");
        assert_eq!((r.priority, r.skills, r.callback_digit), (9, vec![("fr".into(), 2)], Some('#')));
        let r = resolve("q", vars(&[]), |s| s.to_string(), vec![]).expect("ok");
        assert_eq!((r.priority, r.skills.len(), r.callback_digit), (0, 0, None));
    }

    #[test]
    fn the_data_option_wins_over_data_variables_key_by_key() {
        let from_vars = vec![("ACCOUNT".to_string(), "1".to_string()), ("tier".to_string(), "silver".to_string())];
        let r = resolve("q,data=tier:gold+vip:yes", vars(&[]), |s| s.to_string(), from_vars).expect("ok");
        let got: Vec<_> = r.data.entries().iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(got, ["account=1", "tier=gold", "vip=yes"]);
        assert!(resolve("q,data=bad key:1", vars(&[]), |s| s.to_string(), vec![]).is_err());
    }

    #[test]
    fn a_bad_variable_is_named() {
        let e = resolve("q", vars(&[("priority", "high")]), |s| format!("HOTLINE_{}", s.to_uppercase()), vec![]).unwrap_err();
        assert!(e.starts_with("HOTLINE_PRIORITY: "), "{e}");
        let e = resolve("q", vars(&[("callback_key", "12")]), |s| format!("hotline_{s}"), vec![]).unwrap_err();
        assert!(e.starts_with("hotline_callback_key: "), "{e}");
    }
}
