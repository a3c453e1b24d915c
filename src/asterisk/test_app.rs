// SPDX-License-Identifier: GPL-2.0-or-later
//! `HotlineTestPanic()`: panics inside a dialplan application, to prove
//! that the panic guard keeps Asterisk up. It does nothing unless the
//! configuration says `[general] test_hooks = true` (the test PBX does).

use super::apps::AppResult;
use super::channel::Channel;
use super::runtime::Runtime;

pub fn exec(rt: &Runtime, chan: &Channel<'_>, args: &str) -> AppResult {
    let enabled = rt.config().general.test_hooks;
    if !enabled {
        log::error!("HotlineTestPanic on {}: disabled (set [general] test_hooks = true)", chan.name());
        return AppResult::Continue;
    }
    panic!("HotlineTestPanic({args}): deliberate panic on {}", chan.name());
}
