// SPDX-License-Identifier: GPL-2.0-or-later
//! `HotlineScreenPop(webhook[,key=value...])`: the shared screen pop
//! ([`crate::flow::screenpop`]) on the channel running it. Sets
//! `HOTLINE_SCREENPOP_RESULT` to `OK` or `ERROR` (logged).

use super::apps::AppResult;
use super::channel::Channel;
use super::queue_app::AstCaller;
use super::runtime::Runtime;

pub fn exec(rt: &Runtime, chan: &Channel<'_>, args: &str) -> AppResult {
    let caller = AstCaller::new(rt, chan, "HotlineScreenPop");
    match crate::flow::screenpop::run(&caller, &rt.router, &rt.config(), args) {
        Ok(()) => chan.set_var("HOTLINE_SCREENPOP_RESULT", Some("OK")),
        Err(e) => {
            log::error!("HotlineScreenPop({args}) on {}: {e}", chan.name());
            chan.set_var("HOTLINE_SCREENPOP_RESULT", Some("ERROR"));
        }
    }
    AppResult::Continue
}
