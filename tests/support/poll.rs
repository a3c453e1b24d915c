// SPDX-License-Identifier: GPL-2.0-or-later
//! Waiting on a real PBX for something to become true, for both fixtures
//! (tests/asterisk/pbx.rs, tests/freeswitch/switch.rs).
#![allow(dead_code)]

use std::time::{Duration, Instant};

/// Ask `probe` every `every` until it answers `Ok`, for at most `within`:
/// that answer, or `Err` with the last state it described.
pub fn within<T>(within: Duration, every: Duration, mut probe: impl FnMut() -> Result<T, String>) -> Result<T, String> {
    let deadline = Instant::now() + within;
    loop {
        match probe() {
            Ok(v) => return Ok(v),
            Err(state) if Instant::now() >= deadline => return Err(state),
            Err(_) => std::thread::sleep(every),
        }
    }
}

/// As [`within`], failing the test with `what` and the last state.
pub fn until<T>(what: &str, within_: Duration, every: Duration, probe: impl FnMut() -> Result<T, String>) -> T {
    within(within_, every, probe).unwrap_or_else(|state| panic!("{what} (waited {within_:?}):\n{state}"))
}
