// SPDX-License-Identifier: GPL-2.0-or-later
//! The call's data: a bounded key/value bag the dialplan sets
//! (`HotlineQueue(support,data=account:123+tier:gold)`, or channel
//! variables `HOTLINE_DATA_<KEY>` on Asterisk / `hotline_data_<key>` on
//! FreeSWITCH), later the IVR and CRM lookups. It rides in the call's
//! events (as `Data<Key>` fields), is set on the agent's leg as the same
//! channel variables, and stays on the caller's channel, so a caller
//! transferred into another queue brings it along.
//!
//! Keys are 1-32 letters, digits or `_`, kept in lower case; values are
//! text without control characters. At most [`MAX_KEYS`] keys and
//! [`MAX_BYTES`] bytes: a bag over the limit is an error for that call,
//! never silently cut.

/// Most keys in one call's data.
pub const MAX_KEYS: usize = 64;
/// Most bytes of keys and values together.
pub const MAX_BYTES: usize = 4096;
/// Where the bag's keys live among the caller's data (events, records):
/// apart from the PBX's own identity fields, which a key cannot overwrite.
pub const PREFIX: &str = "data_";

/// A validated bag, in the order the keys were first set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallData(Vec<(String, String)>);

impl CallData {
    pub fn entries(&self) -> &[(String, String)] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of `key` (any case).
    pub fn get(&self, key: &str) -> Option<&str> {
        let key = key.trim().to_ascii_lowercase();
        self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str())
    }

    /// Set `key` (replacing an earlier value), checking key, value and the
    /// bag's limits.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let key = check_key(key)?;
        check_value(&key, value)?;
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value.to_string(),
            None => self.0.push((key, value.to_string())),
        }
        if self.0.len() > MAX_KEYS {
            return Err(format!("more than {MAX_KEYS} data keys"));
        }
        let bytes: usize = self.0.iter().map(|(k, v)| k.len() + v.len()).sum();
        if bytes > MAX_BYTES {
            return Err(format!("data over {MAX_BYTES} bytes ({bytes})"));
        }
        Ok(())
    }

    /// The bag as caller data fields (`data_<key>`).
    pub fn fields(&self) -> impl Iterator<Item = (String, String)> + '_ {
        self.0.iter().map(|(k, v)| (format!("{PREFIX}{k}"), v.clone()))
    }
}

/// `account:123+tier:gold` (the `data=` option): `+` between entries, the
/// first `:` between key and value.
pub fn parse_list(s: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for item in s.split('+').filter(|i| !i.trim().is_empty()) {
        let (k, v) = item.split_once(':').ok_or_else(|| format!("data entry {item:?} is not key:value"))?;
        out.push((k.trim().to_string(), v.to_string()));
    }
    Ok(out)
}

/// A key as kept (lower case), or why it is no key.
pub fn check_key(key: &str) -> Result<String, String> {
    let k = key.trim();
    if k.is_empty() || k.len() > 32 || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("data key {key:?}: 1-32 letters, digits or _"));
    }
    Ok(k.to_ascii_lowercase())
}

fn check_value(key: &str, v: &str) -> Result<(), String> {
    if v.chars().any(char::is_control) {
        return Err(format!("data {key}: control characters in the value"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_parse_and_later_values_win() {
        let mut d = CallData::default();
        for (k, v) in parse_list("account:123+Tier:gold+note:a:b").expect("parse") {
            d.set(&k, &v).expect("set");
        }
        d.set("tier", "platinum").expect("set");
        assert_eq!(d.entries(), [("account".into(), "123".into()), ("tier".into(), "platinum".into()), ("note".into(), "a:b".into())]);
        assert_eq!(d.fields().next(), Some(("data_account".into(), "123".into())));
    }

    #[test]
    fn bad_keys_values_and_oversized_bags_are_errors() {
        let mut d = CallData::default();
        assert!(d.set("", "x").is_err());
        assert!(d.set("a-b", "x").is_err());
        assert!(d.set(&"k".repeat(33), "x").is_err());
        assert!(d.set("k", "line\r\nAction: Originate").unwrap_err().contains("control"));
        assert!(parse_list("novalue").unwrap_err().contains("key:value"));
        let mut d = CallData::default();
        for i in 0..MAX_KEYS {
            d.set(&format!("k{i}"), "v").expect("within the limit");
        }
        assert!(d.set("one_more", "v").unwrap_err().contains("64"));
        let mut d = CallData::default();
        assert!(d.set("big", &"x".repeat(MAX_BYTES)).unwrap_err().contains("4096"));
    }
}
