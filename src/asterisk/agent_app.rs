// SPDX-License-Identifier: GPL-2.0-or-later
//! `HotlineAgent(action,agent[,reason])`: an agent logs in, logs out, goes
//! on break or comes back from the phone. Actions: `login`, `logout`,
//! `break` (alias `pause`, reason defaults to `break`), `ready` (alias
//! `unpause`). Sets `HOTLINE_AGENT_RESULT` to `OK` or `ERROR` (see
//! [`crate::flow::agent`]).

use super::apps::AppResult;
use super::channel::Channel;
use super::runtime::Runtime;

pub fn exec(rt: &Runtime, chan: &Channel<'_>, args: &str) -> AppResult {
    let result = crate::flow::agent::run(&rt.router, &rt.config(), &rt.config_path, args);
    match &result {
        Ok(()) => chan.set_var("HOTLINE_AGENT_RESULT", Some("OK")),
        Err(e) => {
            log::error!("HotlineAgent({args}) on {}: {e}", chan.name());
            chan.set_var("HOTLINE_AGENT_RESULT", Some("ERROR"));
        }
    }
    AppResult::Continue
}
