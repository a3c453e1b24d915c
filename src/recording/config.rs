// SPDX-License-Identifier: GPL-2.0-or-later
//! Recording settings: `[recording]` (where files go) and the queues'
//! `record`, `record_format`, `record_stereo`, `record_retention_days`.
//!
//! ```toml
//! [recording]
//! root = "/var/spool/hotline/recordings"   # default: beside the store
//! file = "{date}/{queue}/{call}-{agent}"    # default; the extension is the format
//!
//! [[queue]]
//! name = "support"
//! record = "always"          # never (default) | on-demand | always
//! record_format = "wav"      # wav (default) | gsm | ulaw | alaw | sln
//! record_stereo = true       # caller left, agent right (default: mixed)
//! record_retention_days = 90 # the daily sweep deletes older files and rows
//! ```
//!
//! The file template's placeholders: `{date}` (`YYYY/MM/DD`), `{year}`,
//! `{month}`, `{day}`, `{time}` (`HHMMSS`, UTC), `{queue}`, `{call}`,
//! `{agent}`, `{number}` (the caller's, only digits, `+`, `-`, `_`, `.`
//! and letters kept), `{id}` (the recording's id). Every value is cleaned
//! of `/` and anything a shell or a path could misread, and the template
//! may not climb out of the root (`..`, a leading `/`).

use std::path::PathBuf;

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecordMode {
    #[default]
    Never,
    /// Only when asked (`HotlineRecord(start)`, the CLI, the API).
    OnDemand,
    /// From the moment caller and agent are bridged.
    Always,
}

impl RecordMode {
    pub fn parse(s: &str) -> Result<RecordMode, String> {
        match s {
            "never" => Ok(RecordMode::Never),
            "on-demand" => Ok(RecordMode::OnDemand),
            "always" => Ok(RecordMode::Always),
            other => Err(format!("{other:?}: want never, on-demand or always")),
        }
    }
}

/// The formats both PBXes' recorders write.
pub const FORMATS: &[&str] = &["wav", "gsm", "ulaw", "alaw", "sln"];

/// A queue's recording policy.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueueRecording {
    pub mode: RecordMode,
    pub format: String,
    pub stereo: bool,
    pub retention_days: Option<u32>,
}

impl QueueRecording {
    pub fn from_raw(mode: Option<&str>, format: Option<&str>, stereo: bool, retention_days: Option<u32>) -> Result<QueueRecording, (&'static str, String)> {
        let mode = mode.map(RecordMode::parse).transpose().map_err(|e| ("record", e))?.unwrap_or_default();
        let format = format.unwrap_or("wav").to_ascii_lowercase();
        if !FORMATS.contains(&format.as_str()) {
            return Err(("record_format", format!("{format:?}: want one of {}", FORMATS.join(", "))));
        }
        if stereo && format != "wav" {
            return Err(("record_stereo", "stereo recordings are written as wav".into()));
        }
        if retention_days == Some(0) {
            return Err(("record_retention_days", "0 would delete every recording at once; leave it out to keep them".into()));
        }
        Ok(QueueRecording { mode, format, stereo, retention_days })
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawRecording {
    pub root: Option<String>,
    pub file: Option<String>,
}

pub const DEFAULT_FILE: &str = "{date}/{queue}/{call}-{agent}";

/// `[recording]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecordingConfig {
    /// None: beside the store (`hotline-recordings`).
    pub root: Option<PathBuf>,
    pub file: String,
}

const PLACEHOLDERS: &[&str] = &["date", "year", "month", "day", "time", "queue", "call", "agent", "number", "id"];

impl RecordingConfig {
    pub fn from_raw(raw: &RawRecording) -> Result<RecordingConfig, (&'static str, String)> {
        let root = match &raw.root {
            Some(r) if !r.starts_with('/') => return Err(("root", format!("{r:?}: an absolute path, please (the PBX's working directory is not ours)"))),
            Some(r) => Some(PathBuf::from(r)),
            None => None,
        };
        let file = raw.file.clone().unwrap_or_else(|| DEFAULT_FILE.into());
        check_template(&file).map_err(|e| ("file", e))?;
        Ok(RecordingConfig { root, file })
    }
}

fn check_template(t: &str) -> Result<(), String> {
    if t.is_empty() || t.starts_with('/') || t.split('/').any(|part| part == ".." || part == "." || part.is_empty()) {
        return Err(format!("{t:?}: a relative path under the root, without empty, `.` or `..` parts"));
    }
    let mut rest = t;
    while let Some(i) = rest.find('{') {
        let end = rest[i..].find('}').ok_or_else(|| format!("{t:?}: an unclosed {{"))?;
        let name = &rest[i + 1..i + end];
        if !PLACEHOLDERS.contains(&name) {
            return Err(format!("{t:?}: unknown placeholder {{{name}}} (known: {})", PLACEHOLDERS.join(", ")));
        }
        rest = &rest[i + end + 1..];
    }
    if !t.contains("{call}") && !t.contains("{id}") {
        return Err(format!("{t:?}: needs {{call}} or {{id}}, or two calls would share a file"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_and_templates_are_checked_with_the_reason() {
        assert_eq!(QueueRecording::from_raw(None, None, false, None).unwrap().mode, RecordMode::Never);
        let q = QueueRecording::from_raw(Some("always"), Some("WAV"), true, Some(30)).unwrap();
        assert_eq!((q.mode, q.format.as_str(), q.stereo, q.retention_days), (RecordMode::Always, "wav", true, Some(30)));
        assert_eq!(QueueRecording::from_raw(Some("sometimes"), None, false, None).unwrap_err().0, "record");
        assert_eq!(QueueRecording::from_raw(None, Some("mp3"), false, None).unwrap_err().0, "record_format");
        assert_eq!(QueueRecording::from_raw(None, Some("gsm"), true, None).unwrap_err().0, "record_stereo");
        assert_eq!(QueueRecording::from_raw(None, None, false, Some(0)).unwrap_err().0, "record_retention_days");
        let raw = |root: Option<&str>, file: Option<&str>| RawRecording { root: root.map(String::from), file: file.map(String::from) };
        assert_eq!(RecordingConfig::from_raw(&raw(None, None)).unwrap().file, DEFAULT_FILE);
        assert_eq!(RecordingConfig::from_raw(&raw(Some("rel/dir"), None)).unwrap_err().0, "root");
        for bad in ["/abs/{call}", "../{call}", "a//{call}", "{date}/{agent}", "{call}-{bogus}", "{call}-{open"] {
            assert_eq!(RecordingConfig::from_raw(&raw(None, Some(bad))).unwrap_err().0, "file", "{bad}");
        }
        assert!(RecordingConfig::from_raw(&raw(Some("/r"), Some("{year}/{month}/{id}"))).is_ok());
    }
}
