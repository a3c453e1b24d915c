// SPDX-License-Identifier: GPL-2.0-or-later
//! Sound files named in the configuration must exist: a missing one is a
//! load (and reload) error naming the file, the line and the key, checked
//! where the PBX would look ([`SoundLayout`]).
//!
//! Checked: the IVR's prompts that name sound files (bare names and
//! `file:`) and the queues' `agent_announce` files. Not checked: text
//! prompts and say words (Hotline renders them), say prompts, and anything
//! that is no file (`tone_stream://...` and other `scheme://` strings).
//!
//! - Asterisk: a name is given without extension (`.wav`, `.gsm`, ... are
//!   taken off, as the adapter does) and found as `<dir>/<lang>/<name>.<ext>`
//!   or `<dir>/<name>.<ext>` for any extension, `<dir>` being
//!   `ast_config_AST_DATA_DIR/sounds`. For a prompt of a menu with a
//!   `language`, `<lang>` is the languages Asterisk tries for it (`vi_VN`,
//!   `vi`, then `en`); for any other prompt the channel's language is known
//!   only during the call, so any language's directory will do. An
//!   absolute path is `<path>.<ext>`.
//! - FreeSWITCH: relative names go by the channel's `sound_prefix`, which
//!   the dialplan may set per call (and per language), so they cannot be
//!   checked at load; absolute paths are, as mod_sndfile opens them: the
//!   path itself or a rate directory beside it (`<dir>/8000/<file>`), with
//!   any extension when it has none.
//! - No PBX ([`crate::service::Service::start`], tests): absolute paths
//!   only, as written or with any extension.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::core::{Config, ConfigError};

/// Where the PBX finds sound files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SoundLayout {
    /// No PBX: absolute paths only.
    Plain,
    /// Asterisk, with its sounds directory (`<astdatadir>/sounds`).
    Asterisk { dir: PathBuf },
    /// FreeSWITCH: absolute paths only (see the module documentation).
    FreeSwitch,
}

/// A sound file named in the configuration, where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoundRef {
    /// As written (`hello-world`, `ivr/ivr-welcome`, `/srv/sounds/x.wav`).
    pub name: String,
    pub line: usize,
    pub key: String,
    /// The language it is played in, when the configuration decides it (a
    /// menu's `language`); None: the channel's, known during the call.
    pub language: Option<String>,
}

/// The files Asterisk's money say plays besides digits (`1.42`:
/// `digits/1 letters/dollar_ and digits/40 digits/2 cents`). Debian's core
/// sounds 1.6.1 lack all but `letters/dollar`; without them a caller hears
/// the number and nothing after it, so a money prompt in a language the
/// PBX says needs them at load. (FreeSWITCH's relative names are not
/// checked: its sounds are found per channel.)
pub const ASTERISK_MONEY_SOUNDS: [&str; 6] = ["dollars", "letters/dollar", "letters/dollar_", "cents", "cent", "and"];

/// Asterisk names sound files without their format's extension (it picks
/// the best format it has): the name as Asterisk is given it.
pub fn asterisk_stem(file: &str) -> &str {
    for ext in [".wav", ".gsm", ".ulaw", ".alaw", ".sln", ".g722"] {
        if let Some(stem) = file.strip_suffix(ext) {
            return stem;
        }
    }
    file
}

/// The first sound file of `cfg` this PBX would not find, as an error
/// naming its file, line and key.
pub fn check(cfg: &Config, layout: &SoundLayout) -> Result<(), ConfigError> {
    let mut dirs = Dirs::default();
    for s in cfg.ivr.sounds.iter().chain(&cfg.announce_sounds) {
        if let Some(looked) = missing(layout, &s.name, s.language.as_deref(), &mut dirs) {
            return Err(ConfigError {
                file: cfg.source.clone(),
                line: s.line,
                key: s.key.clone(),
                message: format!("sound file {:?} not found ({looked})", s.name),
            });
        }
    }
    Ok(())
}

/// Whether `name` would be missing; Some(where it was looked for).
fn missing(layout: &SoundLayout, name: &str, language: Option<&str>, dirs: &mut Dirs) -> Option<String> {
    let name = name.trim();
    if name.contains("://") {
        return None;
    }
    let absolute = Path::new(name).is_absolute();
    match layout {
        SoundLayout::Plain | SoundLayout::FreeSwitch if !absolute => None,
        SoundLayout::Plain => {
            let p = Path::new(name);
            (!(p.is_file() || dirs.has_any_extension(p))).then(|| format!("no {name} or {name}.<ext>"))
        }
        SoundLayout::FreeSwitch => {
            let p = Path::new(name);
            (!freeswitch_finds(p, dirs)).then(|| format!("no {name}, with a rate directory beside it or an extension"))
        }
        SoundLayout::Asterisk { .. } if absolute => {
            let stem = asterisk_stem(name);
            (!dirs.has_any_extension(Path::new(stem))).then(|| format!("no {stem}.<ext>"))
        }
        SoundLayout::Asterisk { dir } => {
            let stem = asterisk_stem(name);
            let mut places: Vec<PathBuf> = Vec::new();
            match language {
                Some(lang) => {
                    // Asterisk's own order: the language, shorter by each
                    // `_part`, no language, then English.
                    let mut l = lang.trim();
                    while !l.is_empty() {
                        places.push(dir.join(l));
                        l = l.rfind('_').map_or("", |i| &l[..i]);
                    }
                    places.push(dir.clone());
                    places.push(dir.join("en"));
                }
                None => {
                    places.push(dir.clone());
                    places.extend(dirs.subdirectories(dir));
                }
            }
            if places.iter().any(|p| dirs.has_any_extension(&p.join(stem))) {
                return None;
            }
            let langs = match language {
                Some(l) => format!("{l}, no language, en"),
                None => "any language".into(),
            };
            Some(format!("looked for {stem}.<ext> in {} ({langs})", dir.display()))
        }
    }
}

/// mod_sndfile's way with an absolute path: as it is, or in a rate
/// directory beside it (`<dir>/<rate>/<file>`); without an extension,
/// FreeSWITCH adds one (the codec's, then `.wav`).
fn freeswitch_finds(p: &Path, dirs: &mut Dirs) -> bool {
    let (Some(parent), Some(base)) = (p.parent(), p.file_name()) else { return false };
    let has_ext = base.to_string_lossy().contains('.');
    let mut places = vec![parent.to_path_buf()];
    places.extend(dirs.subdirectories(parent).into_iter().filter(|d| d.file_name().is_some_and(|n| n.to_string_lossy().chars().all(|c| c.is_ascii_digit()))));
    places.iter().any(|d| {
        let f = d.join(base);
        if has_ext {
            f.is_file()
        } else {
            dirs.has_any_extension(&f)
        }
    })
}

/// Directory listings, read once per check.
#[derive(Default)]
struct Dirs {
    listed: HashMap<PathBuf, Vec<(OsString, bool)>>,
}

impl Dirs {
    /// (name, is a directory) of each entry (symbolic links followed).
    fn list(&mut self, dir: &Path) -> &[(OsString, bool)] {
        self.listed.entry(dir.to_path_buf()).or_insert_with(|| match std::fs::read_dir(dir) {
            Ok(rd) => rd.flatten().map(|e| (e.file_name(), e.path().is_dir())).collect(),
            Err(_) => Vec::new(),
        })
    }

    fn subdirectories(&mut self, dir: &Path) -> Vec<PathBuf> {
        self.list(dir).iter().filter(|(_, is_dir)| *is_dir).map(|(n, _)| dir.join(n)).collect()
    }

    /// A file `<stem>.<ext>` exists (any one extension).
    fn has_any_extension(&mut self, stem: &Path) -> bool {
        let (Some(parent), Some(base)) = (stem.parent(), stem.file_name()) else { return false };
        let base = base.to_string_lossy().into_owned();
        self.list(parent).iter().any(|(n, is_dir)| {
            !is_dir
                && n.to_string_lossy().strip_prefix(base.as_str()).and_then(|r| r.strip_prefix('.')).is_some_and(|ext| !ext.is_empty() && !ext.contains('.'))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Tmp(PathBuf);

    impl Drop for Tmp {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn tmp(name: &str) -> Tmp {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let d = std::env::temp_dir().join(format!("hotline-sounds-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&d).expect("dir");
        Tmp(d)
    }

    fn touch(p: &Path) {
        std::fs::create_dir_all(p.parent().expect("parent")).expect("dir");
        std::fs::write(p, b"RIFF").expect("file");
    }

    fn load(text: &str) -> Config {
        Config::parse(text, "hotline.toml").expect("config")
    }

    const QUEUE: &str = "[[queue]]\nname = \"q\"\n";

    /// A sounds directory as Debian lays it out: `en/`, `vi/` with one
    /// file of its own, `custom/`, and a file with no language.
    fn asterisk_dir() -> (Tmp, SoundLayout) {
        let t = tmp("ast");
        for f in ["en/hello-world.gsm", "en/digits/1.ulaw", "vi/xin-chao.wav", "custom/ours.sln16", "top-level.g722"] {
            touch(&t.0.join(f));
        }
        std::fs::create_dir_all(t.0.join("en/empty.d")).expect("dir");
        let layout = SoundLayout::Asterisk { dir: t.0.clone() };
        (t, layout)
    }

    fn menu(greet: &str, language: Option<&str>) -> String {
        let lang = language.map(|l| format!("language = \"{l}\"\n")).unwrap_or_default();
        format!("{QUEUE}[[menu]]\nname = \"m\"\n{lang}greet_long = [{greet}]\n  [[menu.entry]]\n  digits = \"1\"\n  action = \"hangup\"\n")
    }

    #[test]
    fn asterisk_finds_names_in_language_directories_with_any_extension() {
        let (_t, layout) = asterisk_dir();
        for greet in ["\"hello-world\"", "\"hello-world.wav\"", "\"file:digits/1\"", "\"custom/ours\"", "\"top-level\"", "\"xin-chao\"", "\"text:not a file\"", "\"say:digits:12\""] {
            check(&load(&menu(greet, None)), &layout).unwrap_or_else(|e| panic!("{greet}: {e}"));
        }
        // A menu's language: that language, no language, then English.
        for greet in ["\"xin-chao\"", "\"hello-world\"", "\"top-level\""] {
            check(&load(&menu(greet, Some("vi_VN"))), &layout).unwrap_or_else(|e| panic!("{greet}: {e}"));
        }
        // Not a file at all.
        check(&load(&menu("\"tone_stream://%(100,0,350)\"", None)), &layout).expect("no file");
    }

    #[test]
    fn asterisk_missing_sounds_name_the_line_and_key() {
        let (t, layout) = asterisk_dir();
        let text = format!("{QUEUE}[[menu]]\nname = \"m\"\ngreet_long = [\"hello-world\"]\ninvalid_sound = [\"beep\", \"hello-wrld\"]\n  [[menu.entry]]\n  digits = \"1\"\n  action = \"hangup\"\n");
        let e = check(&load(&text), &layout).expect_err("missing");
        assert_eq!((e.line, e.key.as_str()), (6, "menu[m].invalid_sound"), "{e}");
        assert!(e.message.contains("\"beep\" not found"), "{e}");
        assert!(e.to_string().starts_with("hotline.toml:6: menu[m].invalid_sound: sound file \"beep\""), "{e}");
        // The vi-only file is not there for an English menu's language...
        let e = check(&load(&menu("\"xin-chao\"", Some("en"))), &layout).expect_err("not in en");
        assert!(e.message.contains("xin-chao") && e.message.contains("(en, no language, en)"), "{e}");
        // ...a directory is no sound, nor a name without its extension's dot.
        for greet in ["\"empty\"", "\"hello\"", "\"digits/2\"", "\"nosuch/hello-world\""] {
            assert!(check(&load(&menu(greet, None)), &layout).is_err(), "{greet}");
        }
        // Absolute paths: `<path>.<ext>`.
        touch(&t.0.join("abs/prompt.wav"));
        let ok = format!("\"{}\"", t.0.join("abs/prompt").display());
        check(&load(&menu(&ok, None)), &layout).expect("absolute");
        let ok = format!("\"{}\"", t.0.join("abs/prompt.wav").display());
        check(&load(&menu(&ok, None)), &layout).expect("absolute with extension");
        let bad = format!("\"{}\"", t.0.join("abs/other").display());
        assert!(check(&load(&menu(&bad, None)), &layout).is_err());
    }

    #[test]
    fn a_money_prompt_needs_the_words_asterisks_money_say_plays() {
        let (t, layout) = asterisk_dir();
        let e = check(&load(&menu("\"say:money:1.42\"", Some("en"))), &layout).expect_err("no dollars");
        assert!(e.message.contains("\"dollars\" not found") && e.key == "menu[m].greet_long", "{e}");
        for f in ASTERISK_MONEY_SOUNDS {
            touch(&t.0.join(format!("en/{f}.gsm")));
        }
        check(&load(&menu("\"say:money:@balance\"", Some("en"))), &layout).expect("all there");
        // Vietnamese money is Hotline's own words; dates use digits/ only.
        let (_t, layout) = asterisk_dir();
        check(&load(&menu("\"say:money:12.50\"", Some("vi"))), &layout).expect("rendered words");
        check(&load(&menu("\"say:date:2026-12-24\"", Some("en"))), &layout).expect("dates");
    }

    #[test]
    fn every_prompt_list_and_the_queues_announcement_are_checked() {
        let (_t, layout) = asterisk_dir();
        let text = "[[queue]]\nname = \"q\"\nagent_announce = \"hello-world\"\n[[queue]]\nname = \"r\"\nagent_announce = \"queue\"\n\
             [[collect]]\nname = \"c\"\ninto = \"x\"\nprompts = [\"hello-world\"]\nread_back_sound = [\"gone-sound\"]\nnext = { action = \"hangup\" }\n";
        let e = check(&load(text), &layout).expect_err("missing");
        assert_eq!((e.line, e.key.as_str()), (11, "collect[c].read_back_sound"), "{e}");
        let text = "[[queue]]\nname = \"q\"\nagent_announce = \"no-such-announcement\"\n";
        let e = check(&load(text), &layout).expect_err("missing");
        assert_eq!((e.line, e.key.as_str()), (3, "queue[q].agent_announce"), "{e}");
        let text = format!(
            "{QUEUE}[[menu]]\nname = \"m\"\n  [[menu.entry]]\n  digits = \"1\"\n  action = \"play\"\n  prompts = [\"hello-world\", \"missing-info\"]\n  [[menu.entry]]\n  digits = \"2\"\n  action = \"hangup\"\n"
        );
        let e = check(&load(&text), &layout).expect_err("missing");
        assert_eq!((e.line, e.key.as_str()), (8, "menu[m].entry.prompts"), "{e}");
    }

    #[test]
    fn freeswitch_checks_absolute_paths_as_mod_sndfile_opens_them() {
        let t = tmp("fs");
        touch(&t.0.join("en/us/callie/ivr/8000/ivr-welcome.wav"));
        touch(&t.0.join("mine/hello.wav"));
        let layout = SoundLayout::FreeSwitch;
        let path = |p: &str| format!("\"{}\"", t.0.join(p).display());
        for ok in [path("en/us/callie/ivr/ivr-welcome.wav"), path("mine/hello.wav"), path("mine/hello"), "\"ivr/ivr-not-checked.wav\"".into(), "\"tone_stream://%(1,0,2)\"".into()] {
            check(&load(&menu(&ok, None)), &layout).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [path("en/us/callie/ivr/ivr-welcome.gsm"), path("mine/other.wav"), path("mine/hell")] {
            let e = check(&load(&menu(&bad, None)), &layout).expect_err(&bad);
            assert_eq!((e.line, e.key.as_str()), (5, "menu[m].greet_long"), "{e}");
        }
    }

    #[test]
    fn without_a_pbx_only_absolute_paths_are_checked() {
        let t = tmp("plain");
        touch(&t.0.join("x.wav"));
        for ok in ["\"anything-relative\"".to_string(), format!("\"{}\"", t.0.join("x.wav").display()), format!("\"{}\"", t.0.join("x").display())] {
            check(&load(&menu(&ok, None)), &SoundLayout::Plain).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        let bad = format!("\"{}\"", t.0.join("y.wav").display());
        assert!(check(&load(&menu(&bad, None)), &SoundLayout::Plain).is_err());
    }

    #[test]
    fn asterisk_stems() {
        assert_eq!(asterisk_stem("hello-world.wav"), "hello-world");
        assert_eq!(asterisk_stem("/p/x.gsm"), "/p/x");
        assert_eq!(asterisk_stem("digits/1"), "digits/1");
        assert_eq!(asterisk_stem("x.mp3"), "x.mp3");
    }
}
