// SPDX-License-Identifier: GPL-2.0-or-later
//! Text prompts (`text:...`) rendered once to sound files with espeak-ng.
//!
//! Each text is rendered, in the language of the menu it is written in, by `espeak-ng` (22.05 kHz) and
//! resampled by `sox` to 8 kHz mono 16-bit WAV, a rate both PBXes play
//! without transcoding surprises, into the cache directory as
//! `<sha256 of voice, language and text>.wav`: the same text is never
//! rendered twice, across reloads and restarts. Rendering runs on a thread
//! of its own at load and reload ([`TextCache::render`]), never on a PBX
//! thread; until a prompt is ready, callers skip it (with a log line).
//! Languages map to espeak-ng voices: `en` -> `en-us`, `vi` -> `vi`, `zh`
//! (and `cmn`) -> `cmn-latn-pinyin` (espeak-ng turns Chinese characters
//! into pinyin; its plain `cmn` voice of 1.51 reads that pinyin as English
//! letters); any other is passed to espeak-ng as it is.
//!
//! The say words of Vietnamese and Chinese ([`super::say`]) are rendered
//! the same way, each word to a file of its own, kept apart from the text
//! prompts by language ([`TextCache::render`] takes both).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use arc_swap::ArcSwap;
use sha2::{Digest, Sha256};

use super::say::Lang;

/// The rate the cache's files are written at.
pub const RATE: u32 = 8000;

/// The espeak-ng voice for a language code.
pub fn voice(language: &str) -> &str {
    match language.trim() {
        "" | "en" => "en-us",
        "zh" | "zh-cn" | "zh_cn" | "cmn" => "cmn-latn-pinyin",
        "vi" => "vi",
        other => other,
    }
}

/// The cache file (without directory) of a text in a language.
pub fn file_name(text: &str, language: &str) -> String {
    let mut h = Sha256::new();
    h.update(voice(language).as_bytes());
    h.update([0]);
    h.update(language.as_bytes());
    h.update([0]);
    h.update(text.as_bytes());
    let d = h.finalize();
    let hex: String = d.iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("{hex}.wav")
}

/// How a tool run ended: `Ok(true)` success, `Ok(false)` unknown (the
/// PBX reaped the child itself: Asterisk handles SIGCHLD, so waiting for it
/// fails with ECHILD), `Err` a failure with its message.
fn run(cmd: &mut Command, what: &str) -> Result<bool, String> {
    use std::io::Read;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{what} cannot be run ({e})"))?;
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    match child.wait() {
        Ok(st) if st.success() => Ok(true),
        Ok(st) => Err(format!("{what}: {st}: {}", err.trim())),
        Err(e) if e.raw_os_error() == Some(libc::ECHILD) => Ok(false),
        Err(e) => Err(format!("{what}: {e}")),
    }
}

/// Whether espeak-ng and sox can be run.
pub fn tools_available() -> Result<(), String> {
    for (tool, arg) in [("espeak-ng", "--version"), ("sox", "--version")] {
        run(Command::new(tool).arg(arg), tool)?;
    }
    Ok(())
}

/// Render one text into `dir` (if not there yet); the file's path.
pub fn render_one(dir: &Path, text: &str, language: &str) -> Result<PathBuf, String> {
    let out = dir.join(file_name(text, language));
    if out.exists() {
        return Ok(out);
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let raw = dir.join(format!(".{}.espeak.wav", std::process::id()));
    let tmp = dir.join(format!(".{}.sox.wav", std::process::id()));
    // The text goes as one argument (no shell): nothing in it is interpreted.
    run(Command::new("espeak-ng").arg("-v").arg(voice(language)).arg("-w").arg(&raw).arg("--").arg(text), "espeak-ng")?;
    let r = run(
        Command::new("sox").arg(&raw).arg("-r").arg(RATE.to_string()).arg("-c").arg("1").arg("-b").arg("16").arg(&tmp),
        "sox",
    );
    let _ = std::fs::remove_file(&raw);
    r?;
    // With the exit status unknown, a file of more than a header is the
    // proof of success.
    let written = std::fs::metadata(&tmp).map(|m| m.len() > 44).unwrap_or(false);
    if !written {
        let _ = std::fs::remove_file(&tmp);
        return Err("sox wrote no audio".into());
    }
    // Appears complete or not at all.
    std::fs::rename(&tmp, &out).map_err(|e| format!("{}: {e}", out.display()))?;
    Ok(out)
}

/// The rendered prompts, shared with PBX threads (lock-free reads).
pub struct TextCache {
    dir: PathBuf,
    /// text -> rendered file (a text is spoken in the language of the
    /// menu it is written in).
    ready: ArcSwap<HashMap<String, String>>,
    /// (language, say word) -> rendered file.
    words: ArcSwap<HashMap<(Lang, &'static str), String>>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl TextCache {
    pub fn new(dir: PathBuf) -> Arc<TextCache> {
        Arc::new(TextCache {
            dir,
            ready: ArcSwap::from_pointee(HashMap::new()),
            words: ArcSwap::from_pointee(HashMap::new()),
            worker: Mutex::new(None),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Render `texts` (text, language), then the say `words` (each in its
    /// language), on a thread of its own; each becomes playable as soon as
    /// its file is written. A render already running is waited for first
    /// (reloads come one at a time).
    pub fn render(self: &Arc<Self>, texts: Vec<(String, String)>, words: Vec<(Lang, &'static str)>) {
        if texts.is_empty() && words.is_empty() {
            return;
        }
        let mut worker = self.worker.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = worker.take() {
            let _ = w.join();
        }
        let me = self.clone();
        let spawned = std::thread::Builder::new().name("hotline-tts".into()).spawn(move || {
            for (text, lang) in texts {
                match render_one(&me.dir, &text, &lang) {
                    Ok(path) => {
                        let mut map = (**me.ready.load()).clone();
                        map.insert(text, path.display().to_string());
                        me.ready.store(Arc::new(map));
                    }
                    Err(e) => log::error!("Hotline: text prompt {text:?} ({lang}): {e}"),
                }
            }
            for (lang, word) in words {
                match render_one(&me.dir, word, lang.code()) {
                    Ok(path) => {
                        let mut map = (**me.words.load()).clone();
                        map.insert((lang, word), path.display().to_string());
                        me.words.store(Arc::new(map));
                    }
                    Err(e) => log::error!("Hotline: say word {word:?} ({}): {e}", lang.code()),
                }
            }
        });
        match spawned {
            Ok(h) => *worker = Some(h),
            Err(e) => log::error!("Hotline: cannot start the text prompt thread: {e}"),
        }
    }

    /// Wait for the render thread (unload, tests).
    pub fn join(&self) {
        let w = self.worker.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(w) = w {
            let _ = w.join();
        }
    }
}

impl crate::flow::ivr::TextPrompts for TextCache {
    fn file(&self, text: &str, _language: &str) -> Option<String> {
        self.ready.load().get(text).cloned()
    }

    fn word(&self, lang: Lang, word: &'static str) -> Option<String> {
        self.words.load().get(&(lang, word)).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::ivr::TextPrompts;

    #[test]
    fn names_depend_on_text_and_language_only() {
        assert_eq!(file_name("Hello", "en"), file_name("Hello", "en"));
        assert_ne!(file_name("Hello", "en"), file_name("Hello", "vi"));
        assert_ne!(file_name("Hello", "en"), file_name("Hello!", "en"));
        assert!(file_name("x", "").ends_with(".wav"));
        assert_eq!(voice("zh"), "cmn-latn-pinyin");
        assert_ne!(file_name("một", "vi"), file_name("một", "zh"));
    }

    /// Renders for real: espeak-ng and sox are on the build machines (CI
    /// installs them) and in the PBX image.
    #[test]
    fn renders_8khz_files_once() {
        tools_available().expect("espeak-ng and sox (apt-get install espeak-ng sox)");
        let dir = std::env::temp_dir().join(format!("hotline-tts-{}", std::process::id()));
        let cache = TextCache::new(dir.clone());
        cache.render(vec![("Xin chào; rm -rf /".into(), "vi".into()), ("Press one".into(), "en".into())], vec![(Lang::Zh, "两"), (Lang::Vi, "lăm")]);
        cache.join();
        let f = cache.file("Xin chào; rm -rf /", "vi").expect("rendered");
        let bytes = std::fs::read(&f).expect("file");
        // RIFF/WAVE, 1 channel, 8000 Hz, 16 bits.
        assert_eq!(&bytes[0..4], b"RIFF");
        assert_eq!(u16::from_le_bytes([bytes[22], bytes[23]]), 1);
        assert_eq!(u32::from_le_bytes([bytes[24], bytes[25], bytes[26], bytes[27]]), RATE);
        assert!(bytes.len() > 4000, "some speech: {} bytes", bytes.len());
        let modified = std::fs::metadata(&f).and_then(|m| m.modified()).expect("mtime");
        assert_eq!(render_one(&dir, "Xin chào; rm -rf /", "vi").expect("cached"), PathBuf::from(&f));
        assert_eq!(std::fs::metadata(&f).and_then(|m| m.modified()).expect("mtime"), modified, "not rendered twice");
        assert!(cache.file("never configured", "en").is_none());
        // Say words, by language: speech in 8 kHz files of their own.
        let liang = cache.word(Lang::Zh, "两").expect("rendered word");
        assert!(std::fs::metadata(&liang).expect("file").len() > 1000);
        assert_ne!(Some(liang), cache.word(Lang::Vi, "lăm"));
        assert!(cache.word(Lang::Vi, "两").is_none());
        let _ = std::fs::remove_dir_all(dir);
    }
}
