// SPDX-License-Identifier: GPL-2.0-or-later
//! `hotline_agent login|logout|break|ready,agent[,reason]`: an agent logs
//! in, logs out, goes on break or comes back. `break` (alias `pause`)
//! reason defaults to `break`; `ready` has the alias `unpause`. Sets the
//! channel variable `hotline_agent_result` to `OK` or `ERROR`; a bad argument
//! fails that call with a log line and nothing else.

use super::runtime::Runtime;
use super::session::Session;

pub fn exec(rt: &Runtime, session: &Session<'_>, args: &str) {
    match crate::flow::agent::run(&rt.router, &rt.config(), &rt.config_path, args) {
        Ok(()) => session.set_var("hotline_agent_result", Some("OK")),
        Err(e) => {
            log::error!("hotline_agent({args}): {e}");
            session.set_var("hotline_agent_result", Some("ERROR"));
        }
    }
}
