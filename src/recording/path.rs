// SPDX-License-Identifier: GPL-2.0-or-later
//! A recording's file name from the template ([`super::config`]).

use std::path::{Path, PathBuf};

/// What the template's placeholders stand for.
pub struct Names<'a> {
    pub id: u64,
    pub call: u64,
    pub queue: &'a str,
    pub agent: &'a str,
    pub number: &'a str,
    /// When the recording starts (UTC).
    pub at: jiff::Timestamp,
}

/// A value made safe for one path component: letters, digits and `+-_.@`
/// kept (a leading `.` is not), anything else becomes `_`; at most 64
/// characters; never empty.
pub fn clean(v: &str) -> String {
    let mut s: String = v
        .chars()
        .take(64)
        .map(|c| if c.is_alphanumeric() || matches!(c, '+' | '-' | '_' | '.' | '@') { c } else { '_' })
        .collect();
    if s.starts_with('.') {
        s.replace_range(..1, "_");
    }
    if s.is_empty() {
        s.push('_');
    }
    s
}

/// `root/<template>.<format>`.
pub fn render(root: &Path, template: &str, format: &str, n: &Names) -> PathBuf {
    let t = n.at.to_zoned(jiff::tz::TimeZone::UTC);
    let values = [
        ("{date}", format!("{:04}/{:02}/{:02}", t.year(), t.month(), t.day())),
        ("{year}", format!("{:04}", t.year())),
        ("{month}", format!("{:02}", t.month())),
        ("{day}", format!("{:02}", t.day())),
        ("{time}", format!("{:02}{:02}{:02}", t.hour(), t.minute(), t.second())),
        ("{queue}", clean(n.queue)),
        ("{call}", n.call.to_string()),
        ("{agent}", clean(n.agent)),
        ("{number}", clean(n.number)),
        ("{id}", n.id.to_string()),
    ];
    let mut out = template.to_string();
    for (k, v) in &values {
        out = out.replace(k, v);
    }
    root.join(format!("{out}.{format}"))
}

/// Where a stereo recording's interleaved raw audio goes while the call
/// lasts (Asterisk's MixMonitor `D`): beside the WAV file, `.raw` (signed
/// linear, 8 kHz, two channels), converted once the call is over.
pub fn stereo_raw(file: &str) -> String {
    match file.strip_suffix(".wav") {
        Some(stem) => format!("{stem}.sln-stereo.raw"),
        None => format!("{file}.sln-stereo.raw"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_stay_inside_one_path_component() {
        let at: jiff::Timestamp = "2026-12-02T09:05:07Z".parse().unwrap();
        let n = Names { id: 9, call: 42, queue: "../../etc", agent: "bob/../x", number: "\"; rm -rf /\n", at };
        let p = render(Path::new("/rec"), "{date}/{queue}/{call}-{agent}-{number}-{time}-{id}", "wav", &n);
        assert_eq!(p, PathBuf::from("/rec/2026/12/02/_._.._etc/42-bob_.._x-___rm_-rf___-090507-9.wav"));
        assert!(p.components().all(|c| !matches!(c, std::path::Component::ParentDir)));
        assert_eq!(clean(""), "_");
        assert_eq!(clean(".hidden"), "_hidden");
        assert_eq!(clean(&"9".repeat(100)).len(), 64);
    }
}
