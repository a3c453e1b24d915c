// SPDX-License-Identifier: GPL-2.0-or-later
//! Business hours and holiday calendars in an IANA time zone.
//!
//! A `[[calendar]]` is open when the wall-clock time in its zone falls in
//! one of the day's ranges. The day's ranges are, in order of precedence:
//! 1. an `open` entry for that date (`"2026-02-21 08:00-12:00"`: a working
//!    Saturday, or shorter hours on an eve), which replaces the week's hours
//!    and wins over a `closed` range covering the date;
//! 2. nothing, when a `closed` entry covers the date (`"2026-01-01"` or
//!    `"2026-02-16..2026-02-20"`, both ends included);
//! 3. the week's `hours` (`"mon-fri 08:00-17:30"`, `"sat 08:00-12:00"`,
//!    `"mon,wed 09:00-12:00 13:00-17:00"`, `"daily 00:00-24:00"`).
//!
//! Ranges are `HH:MM-HH:MM` with the end after the start (`24:00` is
//! midnight at the end of the day); a range over midnight is written as
//! two, one on each day. The zone's database is compiled in (jiff's
//! bundled tzdb), so DST switches are right without `/usr/share/zoneinfo`:
//! the time is always converted from the instant, never by a fixed offset.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// Minutes from midnight: `[start, end)`.
type Range = (u16, u16);

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    pub name: String,
    /// The IANA zone name as written.
    pub timezone: String,
    tz: TimeZone,
    /// Monday first.
    week: [Vec<Range>; 7],
    closed: Vec<(Date, Date)>,
    open: Vec<(Date, Vec<Range>)>,
}

impl Calendar {
    /// A calendar that is never open until hours are added.
    pub fn new(name: &str, timezone: &str) -> Result<Calendar, String> {
        let tz = TimeZone::get(timezone.trim()).map_err(|_| format!("unknown time zone {timezone:?} (an IANA name such as \"Asia/Ho_Chi_Minh\")"))?;
        Ok(Calendar {
            name: name.to_string(),
            timezone: timezone.trim().to_string(),
            tz,
            week: Default::default(),
            closed: Vec::new(),
            open: Vec::new(),
        })
    }

    /// One `hours` entry: days, then one or more ranges.
    pub fn add_hours(&mut self, spec: &str) -> Result<(), String> {
        let mut words = spec.split_whitespace();
        let days = words.next().ok_or("empty hours entry")?;
        let days = parse_days(days)?;
        let ranges = parse_ranges(words, spec)?;
        for d in days {
            self.week[d].extend(ranges.iter().copied());
        }
        Ok(())
    }

    /// One `closed` entry: a date or `from..to`.
    pub fn add_closed(&mut self, spec: &str) -> Result<(), String> {
        let spec = spec.trim();
        let (from, to) = match spec.split_once("..") {
            Some((a, b)) => (parse_date(a)?, parse_date(b)?),
            None => {
                let d = parse_date(spec)?;
                (d, d)
            }
        };
        if to < from {
            return Err(format!("{spec:?}: the range ends before it starts"));
        }
        self.closed.push((from, to));
        Ok(())
    }

    /// One `open` entry: a date and its own ranges.
    pub fn add_open(&mut self, spec: &str) -> Result<(), String> {
        let mut words = spec.split_whitespace();
        let date = parse_date(words.next().ok_or("empty open entry")?)?;
        let ranges = parse_ranges(words, spec)?;
        match self.open.iter_mut().find(|(d, _)| *d == date) {
            Some((_, r)) => r.extend(ranges),
            None => self.open.push((date, ranges)),
        }
        Ok(())
    }

    /// Open at this instant (milliseconds since the Unix epoch)?
    pub fn is_open(&self, now_unix_ms: i64) -> bool {
        let Ok(ts) = Timestamp::from_millisecond(now_unix_ms) else { return false };
        let local = ts.to_zoned(self.tz.clone());
        let date = local.date();
        let minute = local.hour() as u16 * 60 + local.minute() as u16;
        let inside = |ranges: &[Range]| ranges.iter().any(|&(s, e)| s <= minute && minute < e);
        if let Some((_, ranges)) = self.open.iter().find(|(d, _)| *d == date) {
            return inside(ranges);
        }
        if self.closed.iter().any(|&(a, b)| a <= date && date <= b) {
            return false;
        }
        inside(&self.week[local.weekday().to_monday_zero_offset() as usize])
    }
}

fn parse_date(s: &str) -> Result<Date, String> {
    let s = s.trim();
    let ok_shape = s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-';
    match s.parse::<Date>() {
        Ok(d) if ok_shape => Ok(d),
        _ => Err(format!("{s:?} is not a date YYYY-MM-DD")),
    }
}

fn parse_days(s: &str) -> Result<Vec<usize>, String> {
    let day = |d: &str| {
        let d = d.to_ascii_lowercase();
        DAYS.iter().position(|x| *x == d).ok_or_else(|| format!("{d:?} is not a day (mon tue wed thu fri sat sun, or daily)"))
    };
    if s.eq_ignore_ascii_case("daily") {
        return Ok((0..7).collect());
    }
    let mut out = Vec::new();
    for part in s.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (day(a)?, day(b)?);
                // mon-fri, or a week-end wrap such as fri-mon.
                let mut d = a;
                loop {
                    out.push(d);
                    if d == b {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => out.push(day(part)?),
        }
    }
    Ok(out)
}

fn parse_ranges<'a>(words: impl Iterator<Item = &'a str>, spec: &str) -> Result<Vec<Range>, String> {
    let mut out = Vec::new();
    for w in words.flat_map(|w| w.split(',')).filter(|w| !w.is_empty()) {
        let (a, b) = w.split_once('-').ok_or_else(|| format!("{w:?} is not a range HH:MM-HH:MM"))?;
        let (a, b) = (parse_hm(a)?, parse_hm(b)?);
        if b <= a {
            return Err(format!("{w:?}: the range must end after it starts (write a night as two ranges)"));
        }
        out.push((a, b));
    }
    if out.is_empty() {
        return Err(format!("{spec:?} has no time range HH:MM-HH:MM"));
    }
    Ok(out)
}

fn parse_hm(s: &str) -> Result<u16, String> {
    let bad = || format!("{s:?} is not a time HH:MM");
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: u16 = h.parse().map_err(|_| bad())?;
    let m: u16 = m.parse().map_err(|_| bad())?;
    if m > 59 || h > 24 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn week_hours_in_the_zone() {
        let mut c = Calendar::new("office", "Asia/Ho_Chi_Minh").unwrap();
        c.add_hours("mon-fri 08:00-17:30").unwrap();
        c.add_hours("sat 08:00-12:00").unwrap();
        // 2026-01-05 is a Monday; Vietnam is UTC+7.
        assert!(c.is_open(ms("2026-01-05T01:00:00Z")));
        assert!(!c.is_open(ms("2026-01-05T00:59:00Z")));
        assert!(c.is_open(ms("2026-01-05T10:29:00Z")));
        assert!(!c.is_open(ms("2026-01-05T10:30:00Z")));
        assert!(c.is_open(ms("2026-01-10T04:59:00Z")));
        assert!(!c.is_open(ms("2026-01-10T05:00:00Z")));
        assert!(!c.is_open(ms("2026-01-11T03:00:00Z")));
    }

    #[test]
    fn syntax_errors() {
        let mut c = Calendar::new("x", "UTC").unwrap();
        assert!(Calendar::new("x", "Mars/Olympus").is_err());
        assert!(c.add_hours("mon-fry 08:00-17:00").is_err());
        assert!(c.add_hours("mon 8-17").is_err());
        assert!(c.add_hours("mon 17:00-08:00").is_err());
        assert!(c.add_hours("mon 08:00-24:30").is_err());
        assert!(c.add_hours("mon").is_err());
        assert!(c.add_closed("2026-13-01").is_err());
        assert!(c.add_closed("2026-02-20..2026-02-16").is_err());
        assert!(c.add_open("2026-02-21").is_err());
        c.add_hours("fri-mon 00:00-24:00").unwrap();
        c.add_hours("wed,thu 09:00-10:00,11:00-12:00").unwrap();
        assert_eq!(c.week[0], vec![(0, 1440)]);
        assert!(c.week[1].is_empty());
        assert_eq!(c.week[2], vec![(540, 600), (660, 720)]);
    }
}
