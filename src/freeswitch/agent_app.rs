// SPDX-License-Identifier: GPL-2.0-or-later
//! `hotline_agent login|logout|break|ready,agent[,reason]`: an agent logs
//! in, logs out, goes on break or comes back. `break` (alias `pause`)
//! reason defaults to `break`; `ready` has the alias `unpause`. Sets the
//! channel variable `hotline_agent_result` to `OK` or `ERROR`; a bad argument
//! fails that call with a log line and nothing else.

use crate::admin::agent_input;

use crate::app_args::split_agent_args;
use super::runtime;
use super::session::Session;

pub fn exec(session: &Session<'_>, args: &str) {
    match run(args) {
        Ok(()) => session.set_var("hotline_agent_result", Some("OK")),
        Err(e) => {
            log::error!("hotline_agent({args}): {e}");
            session.set_var("hotline_agent_result", Some("ERROR"));
        }
    }
}

fn run(args: &str) -> Result<(), String> {
    let rt = runtime::current().ok_or("Hotline is not running")?;
    let (action, agent, reason) = split_agent_args(args);
    let input = agent_input(action, agent, reason)?;
    if rt.config().agent(agent).is_none() {
        return Err(format!("no agent named {agent:?} in {}", rt.config_path.display()));
    }
    rt.router.send(input).map_err(|e| e.to_string())
}
