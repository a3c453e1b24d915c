// SPDX-License-Identifier: GPL-2.0-or-later
//! Validation of collected digits: pattern, Luhn, numeric range, date.
//!
//! `validate` in a `[[collect]]` step:
//! - `"luhn"`: digits only, at least 2, with a valid Luhn check digit
//!   (card and many account numbers);
//! - `"pattern:<regex>"`: the whole value matches (`regex-lite` syntax);
//! - `"range:<lo>-<hi>"`: digits only, a number from lo to hi inclusive;
//! - `"date:<format>"`: the format is made of `DD`, `MM`, `YY` and `YYYY`
//!   (`MMYY`, `YYYYMMDD`, `DDMMYYYY`...); the value has exactly as many
//!   digits, the month is 01-12 and the day exists in that month (29
//!   February only in a leap year; `YY` is 20YY). No check against today:
//!   whether a date may lie in the past (expiry) or the future (birth) is
//!   the business's rule, not the IVR's.

use crate::core::config::NumberPattern;

/// How a collected value is checked.
#[derive(Debug, Clone, PartialEq)]
pub enum Validation {
    Luhn,
    Pattern(NumberPattern),
    Range(u64, u64),
    Date(String),
}

impl Validation {
    /// Parse the `validate` setting.
    pub fn parse(spec: &str) -> Result<Validation, String> {
        let spec = spec.trim();
        if spec == "luhn" {
            return Ok(Validation::Luhn);
        }
        if let Some(p) = spec.strip_prefix("pattern:") {
            if p.is_empty() {
                return Err("empty pattern".into());
            }
            return NumberPattern::new(p).map(Validation::Pattern);
        }
        if let Some(r) = spec.strip_prefix("range:") {
            let (lo, hi) = r.split_once('-').ok_or_else(|| format!("range {r:?} is not lo-hi"))?;
            let lo: u64 = lo.trim().parse().map_err(|_| format!("range start {lo:?} is not a number"))?;
            let hi: u64 = hi.trim().parse().map_err(|_| format!("range end {hi:?} is not a number"))?;
            if lo > hi {
                return Err(format!("range {lo}-{hi} is empty"));
            }
            return Ok(Validation::Range(lo, hi));
        }
        if let Some(f) = spec.strip_prefix("date:") {
            let fields = date_fields(f)?;
            if !fields.iter().any(|(k, _)| *k == 'M') {
                return Err(format!("date format {f:?} has no MM"));
            }
            return Ok(Validation::Date(f.to_string()));
        }
        Err(format!("unknown validation {spec:?}: luhn, pattern:<regex>, range:<lo>-<hi> or date:<format>"))
    }

    /// The value passes.
    pub fn check(&self, value: &str) -> bool {
        match self {
            Validation::Luhn => luhn(value),
            Validation::Pattern(p) => p.matches(value),
            Validation::Range(lo, hi) => {
                all_digits(value) && value.len() <= 19 && value.parse::<u64>().map(|v| (*lo..=*hi).contains(&v)).unwrap_or(false)
            }
            Validation::Date(f) => date_ok(f, value),
        }
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The Luhn (mod 10) check over all digits, the last being the check digit.
pub fn luhn(s: &str) -> bool {
    if s.len() < 2 || !all_digits(s) {
        return false;
    }
    let sum: u32 = s
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// The fields of a date format, in order: ('D', 2), ('M', 2), ('Y', 2|4).
fn date_fields(f: &str) -> Result<Vec<(char, usize)>, String> {
    let mut out: Vec<(char, usize)> = Vec::new();
    let mut rest = f;
    while !rest.is_empty() {
        let (field, len) = if rest.starts_with("YYYY") {
            ('Y', 4)
        } else if rest.starts_with("YY") {
            ('Y', 2)
        } else if rest.starts_with("MM") {
            ('M', 2)
        } else if rest.starts_with("DD") {
            ('D', 2)
        } else {
            return Err(format!("date format {f:?}: use DD, MM, YY and YYYY"));
        };
        if out.iter().any(|(k, _)| *k == field) {
            return Err(format!("date format {f:?} has a field twice"));
        }
        out.push((field, len));
        rest = &rest[len..];
    }
    if out.is_empty() {
        return Err("empty date format".into());
    }
    Ok(out)
}

/// `value` is a real date written in format `f` (see the module docs).
pub fn date_ok(f: &str, value: &str) -> bool {
    date_parts(f, value).is_some()
}

/// The date `value` written in format `f`, for saying it: the format must
/// have a day, a month and a year.
pub fn parse_date(f: &str, value: &str) -> Option<jiff::civil::Date> {
    match date_parts(f, value)? {
        (Some(d), m, Some(y)) => jiff::civil::Date::new(y as i16, m as i8, d as i8).ok(),
        _ => None,
    }
}

/// A date format that [`parse_date`] can read (day, month and year).
pub fn sayable_date_format(f: &str) -> Result<(), String> {
    let fields = date_fields(f)?;
    if ['D', 'M', 'Y'].iter().all(|k| fields.iter().any(|(f, _)| f == k)) {
        Ok(())
    } else {
        Err(format!("date format {f:?}: a date said needs DD, MM and YY or YYYY"))
    }
}

/// (day, month, year) of `value` in format `f`, when it is a real date.
fn date_parts(f: &str, value: &str) -> Option<(Option<u32>, u32, Option<u32>)> {
    let fields = date_fields(f).ok()?;
    let total: usize = fields.iter().map(|(_, l)| l).sum();
    if value.len() != total || !all_digits(value) {
        return None;
    }
    let (mut day, mut month, mut year) = (None, None, None);
    let mut at = 0;
    for (k, len) in fields {
        let n: u32 = value[at..at + len].parse().unwrap_or(0);
        at += len;
        match (k, len) {
            ('D', _) => day = Some(n),
            ('M', _) => month = Some(n),
            (_, 2) => year = Some(2000 + n),
            _ => year = Some(n),
        }
    }
    let month = month?;
    if !(1..=12).contains(&month) {
        return None;
    }
    match day {
        Some(d) if d < 1 || d > days_in_month(year, month) => None,
        _ => Some((day, month, year)),
    }
}

fn days_in_month(year: Option<u32>, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 => match year {
            Some(y) if !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) => 28,
            _ => 29,
        },
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_accepts_valid_numbers_only() {
        assert!(luhn("79927398713"));
        assert!(luhn("4111111111111111"));
        assert!(!luhn("79927398710"));
        assert!(!luhn("4111111111111112"));
        assert!(!luhn("0"));
        assert!(!luhn("1234*"));
    }

    #[test]
    fn dates_have_real_months_and_days() {
        assert!(date_ok("MMYY", "1229"));
        assert!(!date_ok("MMYY", "1329"));
        assert!(!date_ok("MMYY", "0029"));
        assert!(!date_ok("MMYY", "122"));
        assert!(date_ok("YYYYMMDD", "20240229"));
        assert!(!date_ok("YYYYMMDD", "20230229"));
        assert!(!date_ok("YYYYMMDD", "19000229"));
        assert!(date_ok("YYYYMMDD", "20000229"));
        assert!(!date_ok("YYYYMMDD", "20240431"));
        assert!(date_ok("DDMMYYYY", "31122024"));
        assert!(!date_ok("DDMMYYYY", "00122024"));
    }

    #[test]
    fn specs_parse_and_bad_ones_are_errors() {
        assert_eq!(Validation::parse("range:1-31").unwrap(), Validation::Range(1, 31));
        assert!(Validation::parse("range:1-31").unwrap().check("31"));
        assert!(!Validation::parse("range:1-31").unwrap().check("32"));
        assert!(!Validation::parse("range:1-31").unwrap().check("0"));
        assert!(Validation::parse("pattern:^9[0-9]+$").unwrap().check("912"));
        assert!(!Validation::parse("pattern:9[0-9]+").unwrap().check("812"));
        assert!(Validation::parse("range:9-1").is_err());
        assert!(Validation::parse("range:a-1").is_err());
        assert!(Validation::parse("pattern:[0-").is_err());
        assert!(Validation::parse("date:MMQQ").is_err());
        assert!(Validation::parse("date:YYYY").is_err());
        assert!(Validation::parse("date:MMMM").is_err());
        assert!(Validation::parse("lunh").is_err());
    }
}
