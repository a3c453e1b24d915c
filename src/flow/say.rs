// SPDX-License-Identifier: GPL-2.0-or-later
//! Saying digits, numbers, dates and money in the call's language: Vietnamese and
//! Chinese as the word files Hotline rendered at load
//! ([`crate::ivr::say`], [`crate::ivr::tts`]), any other language by the
//! PBX's own say functions. Used by the IVR's say prompts and read-backs
//! ([`super::ivr`]) and the queue's position announcements
//! ([`super::announce`]).

use crate::ivr::say::{self, Lang};

use super::ivr::TextPrompts;

/// What is said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Say<'a> {
    Digits(&'a str),
    Number(i64),
    Date(jiff::civil::Date),
    /// In hundredths.
    Money(i64),
}

/// How it is said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Said {
    /// By the PBX (not a language Hotline renders).
    Pbx,
    /// These rendered files, in order.
    Files(Vec<String>),
    /// A language Hotline renders, but this word's file is not ready (the
    /// render thread is still at it, or it failed): the PBX says it.
    NotRendered(&'static str),
}

/// How `what` is said in `language` (the menu's or the channel's).
pub fn said(texts: &dyn TextPrompts, language: &str, what: Say<'_>) -> Said {
    let Some(lang) = Lang::of(language) else { return Said::Pbx };
    let words = match what {
        Say::Digits(d) => say::digits(lang, d),
        Say::Number(n) => say::number(lang, n),
        Say::Date(d) => say::date(lang, d),
        Say::Money(c) => say::money(lang, c),
    };
    let mut files = Vec::with_capacity(words.len());
    for w in words {
        match texts.word(lang, w) {
            Some(f) => files.push(f),
            None => return Said::NotRendered(w),
        }
    }
    Said::Files(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every word rendered as `/r/<lang>-<word>.wav`, but not `mốt`.
    struct Words;

    impl TextPrompts for Words {
        fn file(&self, _text: &str, _language: &str) -> Option<String> {
            None
        }
        fn word(&self, lang: Lang, word: &'static str) -> Option<String> {
            (word != "mốt").then(|| format!("/r/{}-{word}.wav", lang.code()))
        }
    }

    #[test]
    fn vietnamese_and_chinese_are_said_with_rendered_words_others_by_the_pbx() {
        assert_eq!(said(&Words, "vi", Say::Digits("105")), Said::Files(vec!["/r/vi-một.wav".into(), "/r/vi-không.wav".into(), "/r/vi-năm.wav".into()]));
        assert_eq!(said(&Words, "zh_CN", Say::Number(12)), Said::Files(vec!["/r/zh-十.wav".into(), "/r/zh-二.wav".into()]));
        assert_eq!(said(&Words, "vi", Say::Number(21)), Said::NotRendered("mốt"));
        for lang in ["en", "", "fr_FR"] {
            assert_eq!(said(&Words, lang, Say::Number(21)), Said::Pbx, "{lang}");
        }
        assert_eq!(said(&super::super::ivr::NoTexts, "vi", Say::Digits("1")), Said::NotRendered("một"));
    }
}
