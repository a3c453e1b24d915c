// SPDX-License-Identifier: GPL-2.0-or-later
//! `HotlineAgent(action,agent[,reason])`: an agent logs in, logs out, goes
//! on break or comes back from the phone. Actions: `login`, `logout`,
//! `break` (alias `pause`, reason defaults to `break`), `ready` (alias
//! `unpause`). Sets `HOTLINE_AGENT_RESULT` to `OK` or `ERROR`; a bad
//! argument fails that call with a log line and nothing else.

use crate::admin::agent_input;
use crate::app_args::split_agent_args;

use super::apps::AppResult;
use super::channel::Channel;
use super::runtime;

pub fn exec(chan: &Channel<'_>, args: &str) -> AppResult {
    let result = run(args);
    match &result {
        Ok(()) => chan.set_var("HOTLINE_AGENT_RESULT", Some("OK")),
        Err(e) => {
            log::error!("HotlineAgent({args}) on {}: {e}", chan.name());
            chan.set_var("HOTLINE_AGENT_RESULT", Some("ERROR"));
        }
    }
    AppResult::Continue
}

fn run(args: &str) -> Result<(), String> {
    let rt = runtime::current().ok_or("Hotline is not running")?;
    let (action, agent, reason) = split_agent_args(args);
    let input = agent_input(action, agent, reason)?;
    if rt.config().agent(agent).is_none() {
        return Err(format!("no agent named {agent:?} in {}", rt.config_path.display()));
    }
    rt.router.report(input);
    Ok(())
}
