// SPDX-License-Identifier: GPL-2.0-or-later
//! `HotlineAgent(action,agent[,reason])` / `hotline_agent`: an agent logs
//! in, logs out, goes on break or comes back from the phone. Both PBXes set
//! their result variable from [`run`]: `OK`, or `ERROR` with the reason
//! logged (bad argument, unknown agent, or the router refused the command).

use crate::admin::agent_input;
use crate::app_args::split_agent_args;
use crate::core::Config;

use super::RouterPort;

pub fn run(router: &dyn RouterPort, cfg: &Config, config_path: &std::path::Path, args: &str) -> Result<(), String> {
    let (action, agent, reason) = split_agent_args(args);
    let input = agent_input(action, agent, reason)?;
    if cfg.agent(agent).is_none() {
        return Err(format!("no agent named {agent:?} in {}", config_path.display()));
    }
    router.send(input).map_err(|e| e.to_string())
}
