// SPDX-License-Identifier: GPL-2.0-or-later
//! Device state for FreeSWITCH, which has no aggregate device state of its
//! own (Asterisk has, see `src/asterisk/devstate.rs`): an agent whose phone
//! is on a direct (non-queue) call must not be offered a queue call.
//!
//! Every channel is counted against the devices it belongs to while it
//! lives, from its CS_INIT to its CS_HANGUP (the module's global state
//! handler, in the channel's own thread). A device is busy while it has a
//! channel; the router hears of each change from idle to busy and back
//! ([`Input::DeviceState`]), and ignores devices that are no agent's.
//!
//! The devices of a channel ([`keys_of`]), to be named in an agent's
//! `device` (by default the contact, see `core::config::device_of`):
//! - `user/<user>` and `user/<user>@<domain>`: calls to a registered phone
//!   through the `user/` endpoint (`dialed_user`, `dialed_domain`) and
//!   calls the phone made, once authenticated (`sip_auth_username`,
//!   `sip_auth_realm`);
//! - the channel's name, whole and cut at the `@` (`sofia/internal/1000`);
//! - `loopback/<destination>/<context>` for the far side (`-b`) of a
//!   loopback channel, as `loopback/100/agents` is dialled.
//!
//! The keys a channel was counted under are kept on it (the private
//! variable `hotline_devices`), so its hang-up releases exactly those.
//! Channels that existed before the module loaded are not counted.

use std::collections::HashMap;
use std::os::raw::{c_char, c_int};
use std::sync::Mutex;

use super::session::Session;
use super::{runtime, sys};
use crate::core::Input;
use crate::ffi::cstr::to_cow_lossy;

/// The channel variable holding the keys a channel was counted under.
const COUNTED_VAR: &str = "hotline_devices";

/// What [`keys_of`] needs to know of a channel.
#[derive(Debug, Default, Clone)]
pub struct ChannelFacts<'a> {
    pub name: &'a str,
    pub destination: &'a str,
    pub context: &'a str,
    pub dialed_user: Option<&'a str>,
    pub dialed_domain: Option<&'a str>,
    pub auth_user: Option<&'a str>,
    pub auth_realm: Option<&'a str>,
}

/// The device keys a channel counts against (see the module's text).
pub fn keys_of(ch: &ChannelFacts) -> Vec<String> {
    let mut keys = Vec::new();
    let mut user = |user: Option<&str>, domain: Option<&str>| {
        if let Some(u) = user.filter(|u| !u.is_empty()) {
            keys.push(format!("user/{u}"));
            if let Some(d) = domain.filter(|d| !d.is_empty()) {
                keys.push(format!("user/{u}@{d}"));
            }
        }
    };
    user(ch.dialed_user, ch.dialed_domain);
    user(ch.auth_user, ch.auth_realm);
    if let Some(rest) = ch.name.strip_prefix("loopback/") {
        if rest.ends_with("-b") && !ch.destination.is_empty() && !ch.context.is_empty() {
            keys.push(format!("loopback/{}/{}", ch.destination, ch.context));
        }
    } else if !ch.name.is_empty() {
        keys.push(ch.name.to_string());
        if let Some((head, _)) = ch.name.split_once('@') {
            keys.push(head.to_string());
        }
    }
    // `|` separates keys in COUNTED_VAR; no key of ours may hold one.
    keys.retain(|k| !k.contains('|'));
    keys.sort();
    keys.dedup();
    keys
}

/// Channels per device.
#[derive(Default)]
pub struct Devices {
    counts: Mutex<HashMap<String, u32>>,
}

impl Devices {
    /// Count a channel in; the devices that became busy.
    pub fn up(&self, keys: &[String]) -> Vec<String> {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let mut busy = Vec::new();
        for k in keys {
            let n = counts.entry(k.clone()).or_insert(0);
            *n += 1;
            if *n == 1 {
                busy.push(k.clone());
            }
        }
        busy
    }

    /// Count a channel out; the devices that became idle. Keys never
    /// counted in (a channel from before a reload of the module) are skipped.
    pub fn down(&self, keys: &[String]) -> Vec<String> {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let mut idle = Vec::new();
        for k in keys {
            if let Some(n) = counts.get_mut(k) {
                *n -= 1;
                if *n == 0 {
                    counts.remove(k);
                    idle.push(k.clone());
                }
            }
        }
        idle
    }
}

/// The state handler's callback (see `hotline_fs_bind_devices`).
///
/// # Safety
/// `session` is the live session whose thread runs this; the strings are
/// NULL or NUL-terminated and valid for the call.
pub unsafe extern "C" fn device_change(
    session: *mut sys::switch_core_session_t,
    name: *const c_char,
    destination: *const c_char,
    context: *const c_char,
    up: c_int,
) {
    // The gate first: nothing is touched once unload has closed it.
    crate::entry!("hotline device state", &runtime::GATE, (), |rt| {
        // SAFETY: per the contract above; the session is not kept.
        let Some(session) = (unsafe { Session::from_raw(session) }) else { return };
        let changed = if up != 0 {
            if session.get_var(COUNTED_VAR).is_some() {
                return;
            }
            // SAFETY: per the contract above.
            let (name, destination, context) = unsafe { (to_cow_lossy(name), to_cow_lossy(destination), to_cow_lossy(context)) };
            let (dialed_user, dialed_domain) = (session.get_var("dialed_user"), session.get_var("dialed_domain"));
            let (auth_user, auth_realm) = (session.get_var("sip_auth_username"), session.get_var("sip_auth_realm"));
            let facts = ChannelFacts {
                name: &name,
                destination: &destination,
                context: &context,
                dialed_user: dialed_user.as_deref(),
                dialed_domain: dialed_domain.as_deref(),
                auth_user: auth_user.as_deref(),
                auth_realm: auth_realm.as_deref(),
            };
            let keys = keys_of(&facts);
            if keys.is_empty() {
                return;
            }
            session.set_var(COUNTED_VAR, Some(&keys.join("|")));
            rt.devices.up(&keys).into_iter().map(|d| (d, true)).collect::<Vec<_>>()
        } else {
            let Some(counted) = session.get_var(COUNTED_VAR) else { return };
            session.set_var(COUNTED_VAR, None);
            let keys: Vec<String> = counted.split('|').map(str::to_string).collect();
            rt.devices.down(&keys).into_iter().map(|d| (d, false)).collect()
        };
        for (device, busy) in changed {
            log::debug!("Hotline: device {device} is {}", if busy { "in use" } else { "free" });
            // Never blocks; a refusal is logged and the next change corrects it.
            rt.router.report(Input::DeviceState { device, busy });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_to_a_registered_user_counts_for_the_user() {
        let ch = ChannelFacts { name: "sofia/internal/1000@127.0.0.1:5070", dialed_user: Some("1000"), dialed_domain: Some("example.com"), ..Default::default() };
        assert_eq!(keys_of(&ch), ["sofia/internal/1000", "sofia/internal/1000@127.0.0.1:5070", "user/1000", "user/1000@example.com"]);
    }

    #[test]
    fn an_authenticated_call_from_the_phone_counts_for_its_user() {
        let ch = ChannelFacts { name: "sofia/internal/1001@127.0.0.1", auth_user: Some("1001"), auth_realm: Some("127.0.0.1"), ..Default::default() };
        assert!(keys_of(&ch).contains(&"user/1001".to_string()));
        assert!(keys_of(&ch).contains(&"user/1001@127.0.0.1".to_string()));
    }

    #[test]
    fn only_the_far_side_of_a_loopback_counts() {
        let b = ChannelFacts { name: "loopback/100-b", destination: "100", context: "agents", ..Default::default() };
        assert_eq!(keys_of(&b), ["loopback/100/agents"]);
        let a = ChannelFacts { name: "loopback/100-a", destination: "100", context: "agents", ..Default::default() };
        assert!(keys_of(&a).is_empty());
    }

    #[test]
    fn a_key_with_the_separator_is_dropped() {
        let ch = ChannelFacts { name: "sofia/x/a|b", ..Default::default() };
        assert!(keys_of(&ch).is_empty());
    }

    #[test]
    fn a_device_is_busy_while_any_channel_has_it() {
        let d = Devices::default();
        let k = vec!["user/1000".to_string()];
        assert_eq!(d.up(&k), k);
        assert!(d.up(&k).is_empty());
        assert!(d.down(&k).is_empty());
        assert_eq!(d.down(&k), k);
        // A channel counted before a reload is ignored, not underflowed.
        assert!(d.down(&k).is_empty());
        assert_eq!(d.up(&k), k);
    }
}
