// SPDX-License-Identifier: GPL-2.0-or-later
//! `hotline_screenpop webhook[,key=value...]`: the shared screen pop
//! ([`crate::flow::screenpop`]) on the session running it. Sets
//! `hotline_screenpop_result` to `OK` or `ERROR` (logged).

use super::queue_app::run_flow;
use super::runtime::Runtime;
use super::session::Session;

pub fn exec(rt: &Runtime, s: &Session<'_>, args: &str) {
    run_flow(rt, s, "hotline_screenpop", |caller| {
        match crate::flow::screenpop::run(caller, &rt.router, &rt.config(), args) {
            Ok(()) => caller.s.set_var("hotline_screenpop_result", Some("OK")),
            Err(e) => {
                log::error!("hotline_screenpop({args}): {e}");
                caller.s.set_var("hotline_screenpop_result", Some("ERROR"));
            }
        }
        crate::flow::AppEnd { result: "OK", caller_gone: false, ended_by: None }
    });
}
