// SPDX-License-Identifier: GPL-2.0-or-later
//! Digit strings and numbers as words, for the languages whose sounds
//! Hotline renders itself: Vietnamese and Mandarin Chinese (Debian ships no
//! Asterisk sounds for them and FreeSWITCH none at all here).
//!
//! [`digits`], [`number`], [`date`] and [`money`] give the word sequence; every word is one of
//! the fixed set [`Lang::words`], rendered once by espeak-ng at load
//! ([`super::tts`]), and the call flow plays one file per word.
//!
//! Vietnamese: `không một hai ... chín`; tens `mười` (10-19) and
//! `<digit> mươi`; after `mươi` a 1 is `mốt`, a 4 `tư`, after any ten a 5
//! `lăm`; a zero ten before a unit is `linh` (105 `một trăm linh năm`);
//! groups of three digits with `nghìn`, `triệu`, `tỷ` (and `nghìn tỷ`...),
//! a group after the first read in full (`không trăm`, `linh`), groups of
//! zeros left out; negative numbers with `âm`. Digits `*` and `#` are
//! `sao` and `thăng`.
//!
//! Mandarin: `零 一 二 三 ... 九`, `十 百 千`, groups of four with `万` and
//! `亿` (`万亿` for 10^12); `十` alone at the head of a number (10 `十`, 12
//! `十二`) but `一十` inside one (110 `一百一十`); one `零` for any run of
//! zeros inside a number (105 `一百零五`, 10005 `一万零五`), none at its
//! end; 2 is `两` before `百`, `千`, and as a whole `万`/`亿` multiplier
//! (200 `两百`, 20000 `两万`), else `二` (12 `十二`, 20 `二十`);
//! negative numbers with `负`. Digit strings read 1 as `幺` (yāo), as
//! telephone numbers are read, `*` `星号` and `#` `井号`.
#![forbid(unsafe_code)]

/// A language whose say words Hotline renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lang {
    Vi,
    Zh,
}

/// Every language [`Lang::of`] knows.
pub const ALL: [Lang; 2] = [Lang::Vi, Lang::Zh];

const VI_DIGITS: [&str; 10] = ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"];
const ZH_DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];

const VI_WORDS: &[&str] = &[
    "không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín", "mười", "mươi", "mốt", "tư", "lăm", "linh", "trăm", "nghìn",
    "triệu", "tỷ", "âm", "sao", "thăng", "ngày", "tháng", "đồng", "phẩy",
];
const ZH_WORDS: &[&str] =
    &["零", "幺", "一", "二", "两", "三", "四", "五", "六", "七", "八", "九", "十", "百", "千", "万", "亿", "负", "星号", "井号", "年", "月", "日", "元", "角", "分"];

impl Lang {
    /// The language of a channel's or menu's language code: `vi`, `vi_VN`,
    /// `vi-VN`; `zh`, `zh_CN`, `zh-TW`, `cmn`. Any other: None (the PBX's
    /// own say functions).
    pub fn of(code: &str) -> Option<Lang> {
        let code = code.trim().to_ascii_lowercase();
        let base = code.split(['_', '-']).next().unwrap_or("");
        match base {
            "vi" => Some(Lang::Vi),
            "zh" | "cmn" => Some(Lang::Zh),
            _ => None,
        }
    }

    /// The language code the words are rendered in ([`super::tts::voice`]).
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::Zh => "zh",
        }
    }

    /// Every word [`digits`], [`number`], [`date`] and [`money`] can give
    /// in this language.
    pub fn words(self) -> &'static [&'static str] {
        match self {
            Lang::Vi => VI_WORDS,
            Lang::Zh => ZH_WORDS,
        }
    }
}

/// A digit string (`0-9 * #`) word by word; anything else is left out.
pub fn digits(lang: Lang, s: &str) -> Vec<&'static str> {
    s.chars()
        .filter_map(|c| match (lang, c) {
            (Lang::Vi, '*') => Some("sao"),
            (Lang::Vi, '#') => Some("thăng"),
            (Lang::Zh, '*') => Some("星号"),
            (Lang::Zh, '#') => Some("井号"),
            (Lang::Zh, '1') => Some("幺"),
            (Lang::Vi, d) => d.to_digit(10).map(|d| VI_DIGITS[d as usize]),
            (Lang::Zh, d) => d.to_digit(10).map(|d| ZH_DIGITS[d as usize]),
        })
        .collect()
}

/// The word before a negative number or amount.
fn minus(lang: Lang) -> &'static str {
    match lang {
        Lang::Vi => "âm",
        Lang::Zh => "负",
    }
}

/// A number as it is said.
pub fn number(lang: Lang, n: i64) -> Vec<&'static str> {
    let mut out = Vec::new();
    if n < 0 {
        out.push(minus(lang));
    }
    let n = n.unsigned_abs();
    match lang {
        Lang::Vi if n == 0 => out.push("không"),
        Lang::Vi => vi(n, false, &mut out),
        Lang::Zh if n == 0 => out.push("零"),
        Lang::Zh => zh(n, true, false, &mut out),
    }
    out
}

/// A date as it is said: Vietnamese `ngày 24 tháng 12 năm 2026` (April
/// is `tháng tư`), Mandarin `二零二六年十二月二十四日` (the year digit by
/// digit, 1 as `一`).
pub fn date(lang: Lang, d: jiff::civil::Date) -> Vec<&'static str> {
    let (year, month, day) = (d.year() as i64, d.month() as i64, d.day() as i64);
    let mut out = Vec::new();
    match lang {
        Lang::Vi => {
            out.push("ngày");
            out.extend(number(lang, day));
            out.push("tháng");
            if month == 4 {
                out.push("tư");
            } else {
                out.extend(number(lang, month));
            }
            out.push("năm");
            out.extend(number(lang, year));
        }
        Lang::Zh => {
            out.extend(year.to_string().chars().filter_map(|c| c.to_digit(10)).map(|c| ZH_DIGITS[c as usize]));
            out.push("年");
            out.extend(number(lang, month));
            out.push("月");
            out.extend(number(lang, day));
            out.push("日");
        }
    }
    out
}

/// An amount of money in hundredths as it is said: Vietnamese in `đồng`
/// (12.50 `mười hai phẩy năm đồng`: đồng have no subunit, a fraction is
/// said as a decimal), Mandarin in `元 角 分` (12.05 `十二元零五分`, 2 as
/// `两`).
pub fn money(lang: Lang, cents: i64) -> Vec<&'static str> {
    let mut out = Vec::new();
    if cents < 0 {
        out.push(minus(lang));
    }
    let (whole, frac) = ((cents.unsigned_abs() / 100) as i64, cents.unsigned_abs() % 100);
    match lang {
        Lang::Vi => {
            out.extend(number(lang, whole));
            if frac > 0 {
                out.push("phẩy");
                if frac < 10 {
                    out.push("không");
                }
                // Trailing zero left out: .50 is "phẩy năm".
                let frac = if frac % 10 == 0 { frac / 10 } else { frac };
                out.extend(number(lang, frac as i64));
            }
            out.push("đồng");
        }
        Lang::Zh => {
            let zh_amount = |n: i64, out: &mut Vec<&'static str>| if n == 2 { out.push("两") } else { out.extend(number(lang, n)) };
            let (jiao, fen) = ((frac / 10) as i64, (frac % 10) as i64);
            if whole > 0 || frac == 0 {
                zh_amount(whole, &mut out);
                out.push("元");
            }
            if jiao > 0 {
                zh_amount(jiao, &mut out);
                out.push("角");
            } else if fen > 0 && whole > 0 {
                out.push("零");
            }
            if fen > 0 {
                zh_amount(fen, &mut out);
                out.push("分");
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Vietnamese.

const BILLION: u64 = 1_000_000_000;

/// `n` > 0; `full`: it follows a larger part (`một tỷ không trăm linh năm`).
fn vi(n: u64, full: bool, out: &mut Vec<&'static str>) {
    if n >= BILLION {
        vi(n / BILLION, full, out);
        out.push("tỷ");
        let rest = n % BILLION;
        if rest > 0 {
            vi(rest, true, out);
        }
        return;
    }
    let groups = [(n / 1_000_000, Some("triệu")), (n / 1000 % 1000, Some("nghìn")), (n % 1000, None)];
    let mut started = full;
    for (g, unit) in groups {
        if g == 0 {
            continue;
        }
        vi_group(g, started, out);
        out.extend(unit);
        started = true;
    }
}

/// A group of three digits (1-999); `full`: not the first group of the
/// number, so its hundreds and a zero ten are said (`không trăm linh năm`).
fn vi_group(g: u64, full: bool, out: &mut Vec<&'static str>) {
    let (h, t, u) = ((g / 100) as usize, (g / 10 % 10) as usize, (g % 10) as usize);
    let long = h > 0 || full;
    if long {
        out.extend([VI_DIGITS[h], "trăm"]);
    }
    match t {
        0 => {
            if u > 0 {
                if long {
                    out.push("linh");
                }
                out.push(VI_DIGITS[u]);
            }
        }
        1 => {
            out.push("mười");
            match u {
                0 => {}
                5 => out.push("lăm"),
                u => out.push(VI_DIGITS[u]),
            }
        }
        t => {
            out.extend([VI_DIGITS[t], "mươi"]);
            match u {
                0 => {}
                1 => out.push("mốt"),
                4 => out.push("tư"),
                5 => out.push("lăm"),
                u => out.push(VI_DIGITS[u]),
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Mandarin.

const YI: u64 = 100_000_000;
const WAN: u64 = 10_000;

/// `n` > 0; `head`: its first word is the number's first word (`十`, not
/// `一十`); `multiplier`: a `万` or `亿` follows (2 is `两`).
fn zh(n: u64, head: bool, multiplier: bool, out: &mut Vec<&'static str>) {
    for (unit, word, zero_below) in [(YI, "亿", YI / 10), (WAN, "万", WAN / 10)] {
        if n >= unit {
            zh(n / unit, head, true, out);
            out.push(word);
            let rest = n % unit;
            if rest > 0 {
                if rest < zero_below {
                    out.push("零");
                }
                zh(rest, false, multiplier, out);
            }
            return;
        }
    }
    zh_group(n, head, multiplier, out);
}

/// 1-9999.
fn zh_group(n: u64, head: bool, multiplier: bool, out: &mut Vec<&'static str>) {
    if n == 2 && multiplier {
        out.push("两");
        return;
    }
    let places = [(n / 1000, Some("千")), (n / 100 % 10, Some("百")), (n / 10 % 10, Some("十")), (n % 10, None)];
    let (mut started, mut zero) = (false, false);
    for (d, unit) in places {
        let d = d as usize;
        if d == 0 {
            zero |= started;
            continue;
        }
        if zero {
            out.push("零");
            zero = false;
        }
        match unit {
            Some("千" | "百") if d == 2 => out.push("两"),
            Some("十") if d == 1 && head && !started => {}
            _ => out.push(ZH_DIGITS[d]),
        }
        out.extend(unit);
        started = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_said_day_month_year_in_vietnamese_and_year_month_day_in_mandarin() {
        let d = |y, m, d| jiff::civil::date(y, m, d);
        assert_eq!(date(Lang::Vi, d(2026, 12, 24)).join(" "), "ngày hai mươi tư tháng mười hai năm hai nghìn không trăm hai mươi sáu");
        assert_eq!(date(Lang::Vi, d(2025, 4, 1)).join(" "), "ngày một tháng tư năm hai nghìn không trăm hai mươi lăm");
        assert_eq!(date(Lang::Zh, d(2026, 12, 24)).concat(), "二零二六年十二月二十四日");
        assert_eq!(date(Lang::Zh, d(2011, 2, 10)).concat(), "二零一一年二月十日");
    }

    #[test]
    fn money_is_said_in_dong_and_in_yuan_jiao_fen() {
        assert_eq!(money(Lang::Vi, 1_250_000_00).join(" "), "một triệu hai trăm năm mươi nghìn đồng");
        assert_eq!(money(Lang::Vi, 1250).join(" "), "mười hai phẩy năm đồng");
        assert_eq!(money(Lang::Vi, 1205).join(" "), "mười hai phẩy không năm đồng");
        assert_eq!(money(Lang::Vi, 1234).join(" "), "mười hai phẩy ba mươi tư đồng");
        assert_eq!(money(Lang::Vi, -500).join(" "), "âm năm đồng");
        assert_eq!(money(Lang::Zh, 1250).concat(), "十二元五角");
        assert_eq!(money(Lang::Zh, 1205).concat(), "十二元零五分");
        assert_eq!(money(Lang::Zh, 1255).concat(), "十二元五角五分");
        assert_eq!(money(Lang::Zh, 50).concat(), "五角");
        assert_eq!(money(Lang::Zh, 200).concat(), "两元");
        assert_eq!(money(Lang::Zh, 0).concat(), "零元");
        assert_eq!(money(Lang::Zh, -10_000_00).concat(), "负一万元");
    }


    fn vi_n(n: i64) -> String {
        number(Lang::Vi, n).join(" ")
    }

    fn zh_n(n: i64) -> String {
        number(Lang::Zh, n).concat()
    }

    #[test]
    fn languages_are_known_by_their_codes() {
        for c in ["vi", "VI", "vi_VN", "vi-VN", " vi "] {
            assert_eq!(Lang::of(c), Some(Lang::Vi), "{c}");
        }
        for c in ["zh", "zh_CN", "zh-TW", "cmn", "ZH"] {
            assert_eq!(Lang::of(c), Some(Lang::Zh), "{c}");
        }
        for c in ["", "en", "en_US", "fr", "vie", "yue", "zhx"] {
            assert_eq!(Lang::of(c), None, "{c}");
        }
        assert_eq!(Lang::Zh.code(), "zh");
    }

    #[test]
    fn vietnamese_digits() {
        assert_eq!(digits(Lang::Vi, "0123456789*#"), ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín", "sao", "thăng"]);
        assert_eq!(digits(Lang::Vi, "1a5"), ["một", "năm"], "other characters are left out");
        assert!(digits(Lang::Vi, "").is_empty());
    }

    #[test]
    fn vietnamese_units_and_tens() {
        let cases = [
            (0, "không"),
            (1, "một"),
            (4, "bốn"),
            (5, "năm"),
            (9, "chín"),
            (10, "mười"),
            (11, "mười một"),
            (14, "mười bốn"),
            (15, "mười lăm"),
            (19, "mười chín"),
            (20, "hai mươi"),
            (21, "hai mươi mốt"),
            (24, "hai mươi tư"),
            (25, "hai mươi lăm"),
            (31, "ba mươi mốt"),
            (55, "năm mươi lăm"),
            (99, "chín mươi chín"),
        ];
        for (n, want) in cases {
            assert_eq!(vi_n(n), want, "{n}");
        }
    }

    #[test]
    fn vietnamese_hundreds_and_linh() {
        let cases = [
            (100, "một trăm"),
            (101, "một trăm linh một"),
            (104, "một trăm linh bốn"),
            (105, "một trăm linh năm"),
            (110, "một trăm mười"),
            (115, "một trăm mười lăm"),
            (121, "một trăm hai mươi mốt"),
            (205, "hai trăm linh năm"),
            (999, "chín trăm chín mươi chín"),
        ];
        for (n, want) in cases {
            assert_eq!(vi_n(n), want, "{n}");
        }
    }

    #[test]
    fn vietnamese_thousands_millions_billions() {
        let cases = [
            (1000, "một nghìn"),
            (1001, "một nghìn không trăm linh một"),
            (1005, "một nghìn không trăm linh năm"),
            (1010, "một nghìn không trăm mười"),
            (1050, "một nghìn không trăm năm mươi"),
            (1500, "một nghìn năm trăm"),
            (2021, "hai nghìn không trăm hai mươi mốt"),
            (10_000, "mười nghìn"),
            (15_000, "mười lăm nghìn"),
            (21_000, "hai mươi mốt nghìn"),
            (100_000, "một trăm nghìn"),
            (105_000, "một trăm linh năm nghìn"),
            (1_000_000, "một triệu"),
            (1_000_005, "một triệu không trăm linh năm"),
            (2_005_000, "hai triệu không trăm linh năm nghìn"),
            (1_234_567, "một triệu hai trăm ba mươi tư nghìn năm trăm sáu mươi bảy"),
            (1_000_000_000, "một tỷ"),
            (1_000_000_005, "một tỷ không trăm linh năm"),
            (1_005_000_000, "một tỷ không trăm linh năm triệu"),
            (1_000_000_000_000, "một nghìn tỷ"),
            (1_000_000_000_000_000_000, "một tỷ tỷ"),
        ];
        for (n, want) in cases {
            assert_eq!(vi_n(n), want, "{n}");
        }
    }

    #[test]
    fn vietnamese_negative_numbers() {
        assert_eq!(vi_n(-1), "âm một");
        assert_eq!(vi_n(-25), "âm hai mươi lăm");
        assert_eq!(vi_n(i64::MIN).split(' ').next(), Some("âm"));
        assert!(vi_n(i64::MIN).ends_with("tám trăm linh tám"), "{}", vi_n(i64::MIN));
    }

    #[test]
    fn mandarin_digits_read_one_as_yao() {
        assert_eq!(digits(Lang::Zh, "0123456789*#"), ["零", "幺", "二", "三", "四", "五", "六", "七", "八", "九", "星号", "井号"]);
        assert_eq!(digits(Lang::Zh, "110"), ["幺", "幺", "零"]);
    }

    #[test]
    fn mandarin_units_tens_and_hundreds() {
        let cases = [
            (0, "零"),
            (1, "一"),
            (2, "二"),
            (10, "十"),
            (11, "十一"),
            (12, "十二"),
            (20, "二十"),
            (22, "二十二"),
            (99, "九十九"),
            (100, "一百"),
            (101, "一百零一"),
            (105, "一百零五"),
            (110, "一百一十"),
            (111, "一百一十一"),
            (200, "两百"),
            (222, "两百二十二"),
            (999, "九百九十九"),
        ];
        for (n, want) in cases {
            assert_eq!(zh_n(n), want, "{n}");
        }
    }

    #[test]
    fn mandarin_thousands_wan_and_yi() {
        let cases = [
            (1000, "一千"),
            (1001, "一千零一"),
            (1005, "一千零五"),
            (1010, "一千零一十"),
            (1050, "一千零五十"),
            (1500, "一千五百"),
            (2000, "两千"),
            (2222, "两千两百二十二"),
            (10_000, "一万"),
            (10_005, "一万零五"),
            (10_010, "一万零一十"),
            (12_000, "一万两千"),
            (20_000, "两万"),
            (100_000, "十万"),
            (100_500, "十万零五百"),
            (101_000, "十万一千"),
            (110_000, "十一万"),
            (120_000, "十二万"),
            (220_000, "二十二万"),
            (1_000_000, "一百万"),
            (2_000_000, "两百万"),
            (10_001_000, "一千万一千"),
            (10_000_100, "一千万零一百"),
            (100_000_000, "一亿"),
            (100_000_005, "一亿零五"),
            (100_005_000, "一亿零五千"),
            (100_500_000, "一亿零五十万"),
            (100_100_000, "一亿零一十万"),
            (105_000_000, "一亿零五百万"),
            (150_000_000, "一亿五千万"),
            (200_000_000, "两亿"),
            (220_000_000, "两亿两千万"),
            (1_000_000_000, "十亿"),
            (1_000_000_000_000, "一万亿"),
            (2_000_000_000_000, "两万亿"),
        ];
        for (n, want) in cases {
            assert_eq!(zh_n(n), want, "{n}");
        }
    }

    #[test]
    fn mandarin_negative_numbers() {
        assert_eq!(zh_n(-5), "负五");
        assert_eq!(zh_n(-10), "负十");
        assert_eq!(zh_n(-20_000), "负两万");
        assert!(zh_n(i64::MIN).starts_with("负九百二十二亿"), "{}", zh_n(i64::MIN));
    }

    /// Every word said is in the language's rendered set, and the set holds
    /// nothing twice.
    #[test]
    fn every_word_said_is_rendered() {
        for lang in ALL {
            let set = lang.words();
            let mut sorted = set.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), set.len(), "{lang:?}: a word twice");
            let mut n: i64 = 1;
            let mut seen = std::collections::HashSet::new();
            for k in -1000..=100_000i64 {
                seen.extend(number(lang, k));
            }
            while n < i64::MAX / 7 {
                seen.extend(number(lang, n));
                seen.extend(number(lang, n * 2 + 5));
                n = n * 7 + 3;
            }
            seen.extend(number(lang, i64::MIN));
            seen.extend(number(lang, i64::MAX));
            seen.extend(digits(lang, "0123456789*#"));
            for (m, d) in [(4, 1), (12, 24)] {
                seen.extend(date(lang, jiff::civil::date(2026, m, d)));
            }
            for c in [0, 5, 50, 1250, -123_456_789] {
                seen.extend(money(lang, c));
            }
            for w in &seen {
                assert!(set.contains(w), "{lang:?}: {w} is said but not rendered");
            }
            for w in set {
                assert!(seen.contains(w), "{lang:?}: {w} is rendered but never said");
            }
        }
    }
}
