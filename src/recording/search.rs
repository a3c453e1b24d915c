// SPDX-License-Identifier: GPL-2.0-or-later
//! Recording search, one grammar for the CLI (`hotline recordings
//! agent=a101 min=30`) and the API (`GET /api/v1/recordings?agent=a101&min=30`):
//!
//! | key | means |
//! |---|---|
//! | `from`, `to` | started at or after / before: RFC 3339 (`2026-12-02T10:00:00Z`) or a date (`2026-12-02`, UTC) |
//! | `agent`, `queue`, `caller`, `call`, `status` | equal to |
//! | `min`, `max` | length in seconds, at least / at most |
//! | `data.<key>` | the call's data has `key` (with `=value`: equal to) |
//! | `limit` | at most this many (default 100, newest first) |

use crate::store::{RecordingFilter, RecordingRecord};

fn time(v: &str) -> Result<i64, String> {
    if let Ok(t) = v.parse::<jiff::Timestamp>() {
        return Ok(t.as_millisecond());
    }
    let d: jiff::civil::Date = v.parse().map_err(|_| format!("{v:?}: want RFC 3339 (2026-12-02T10:00:00Z) or a date (2026-12-02)"))?;
    d.to_zoned(jiff::tz::TimeZone::UTC).map(|z| z.timestamp().as_millisecond()).map_err(|e| e.to_string())
}

/// A filter from `key=value` pairs; an unknown key or a bad value is an
/// error naming it.
pub fn filter<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<RecordingFilter, String> {
    let mut f = RecordingFilter::default();
    let num = |k: &str, v: &str| v.parse::<u64>().map_err(|_| format!("{k}={v:?}: want a whole number"));
    for (k, v) in pairs {
        match k {
            "from" => f.from = Some(time(v)?),
            "to" => f.to = Some(time(v)?),
            "agent" => f.agent = Some(v.into()),
            "queue" => f.queue = Some(v.into()),
            "caller" | "number" => f.number = Some(v.into()),
            "call" => f.call_id = Some(num(k, v)?),
            "status" => f.status = Some(v.into()),
            "min" => f.min_ms = Some(num(k, v)? * 1000),
            "max" => f.max_ms = Some(num(k, v)? * 1000),
            "limit" => f.limit = num(k, v)? as usize,
            k if k.starts_with("data.") => {
                let key = &k[5..];
                crate::flow::data::check_key(key).map_err(|e| format!("{k}: {e}"))?;
                f.data_key = Some((key.to_ascii_lowercase(), (!v.is_empty()).then(|| v.to_string())));
            }
            other => return Err(format!("{other:?}: not a search key (from, to, agent, queue, caller, call, status, min, max, data.<key>, limit)")),
        }
    }
    Ok(f)
}

/// CLI words `key=value` (a bare `data.<key>` asks only that it exists).
pub fn filter_words(words: &[&str]) -> Result<RecordingFilter, String> {
    filter(words.iter().map(|w| w.split_once('=').unwrap_or((w, ""))))
}

/// One line per recording, for the CLI.
pub fn lines(rows: &[RecordingRecord]) -> String {
    let mut out = format!("{} recordings\n", rows.len());
    for r in rows {
        let at = r.started_at.map(crate::notify::webhook::payload::rfc3339).unwrap_or_default();
        let secs = r.duration_ms.map(|d| format!("{:.1}s", d as f64 / 1000.0)).unwrap_or_else(|| "-".into());
        out.push_str(&format!(
            "{:>8} {at} call {} {} {} {:?} {secs} {} {}\n",
            r.id,
            r.call_id,
            r.queue.as_deref().unwrap_or("-"),
            r.agent.as_deref().unwrap_or("-"),
            r.number.as_deref().unwrap_or(""),
            r.status.as_deref().unwrap_or("-"),
            r.path.as_deref().unwrap_or("-"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_parses_and_a_bad_one_is_named() {
        let f = filter_words(&["from=2026-12-02", "to=2026-12-02T12:00:00Z", "agent=a1", "queue=q", "caller=0912", "min=30", "max=60", "data.account=105", "limit=5"]).unwrap();
        assert_eq!(f.from, Some(1_796_169_600_000));
        assert_eq!(f.to, Some(1_796_212_800_000));
        assert_eq!((f.agent.as_deref(), f.queue.as_deref(), f.number.as_deref()), (Some("a1"), Some("q"), Some("0912")));
        assert_eq!((f.min_ms, f.max_ms, f.limit), (Some(30_000), Some(60_000), 5));
        assert_eq!(f.data_key, Some(("account".into(), Some("105".into()))));
        assert_eq!(filter_words(&["data.tier"]).unwrap().data_key, Some(("tier".into(), None)));
        assert!(filter_words(&["colour=red"]).unwrap_err().contains("colour"));
        assert!(filter_words(&["min=soon"]).unwrap_err().contains("min"));
        assert!(filter_words(&["from=yesterday"]).unwrap_err().contains("yesterday"));
        assert!(filter_words(&["data.bad key=1"]).is_err());
    }
}
