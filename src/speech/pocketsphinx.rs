// SPDX-License-Identifier: GPL-2.0-or-later
//! PocketSphinx, opened at run time (`dlopen`), so the module neither needs
//! its headers to build nor fails to load where it is missing.
//!
//! Two library lines are in Debian and both are spoken here: 5.x
//! (`libpocketsphinx.so.5`, sid: `ps_config_*`, `ps_add_jsgf_string`,
//! `ps_activate_search`) and 5prealpha (`libpocketsphinx.so.3` with
//! sphinxbase, bookworm: `cmd_ln_*`, `ps_set_jsgf_string`, `ps_set_search`).
//! Decoding is the same in both. A [`Decoder`] belongs to one thread.

use std::collections::HashSet;
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use libloading::Library;

/// Where Debian's `pocketsphinx-en-us` puts the US-English model.
pub const DEBIAN_MODEL: &str = "/usr/share/pocketsphinx/model/en-us";

/// The acoustic model and dictionary to decode with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    pub hmm: PathBuf,
    pub dict: PathBuf,
}

impl Model {
    /// The model in `dir` (`<dir>/en-us`, `<dir>/cmudict-en-us.dict`), if both are there.
    pub fn in_dir(dir: &Path) -> Result<Model, String> {
        let m = Model { hmm: dir.join("en-us"), dict: dir.join("cmudict-en-us.dict") };
        for p in [&m.hmm, &m.dict] {
            if !p.exists() {
                return Err(format!("{} is missing (apt-get install pocketsphinx-en-us)", p.display()));
            }
        }
        Ok(m)
    }

    /// The words of the dictionary (lower case; alternative pronunciations
    /// such as `read(2)` count as their word).
    pub fn words(&self) -> Result<HashSet<String>, String> {
        let text = std::fs::read_to_string(&self.dict).map_err(|e| format!("{}: {e}", self.dict.display()))?;
        Ok(text
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .map(|w| w.split('(').next().unwrap_or(w).to_lowercase())
            .collect())
    }
}

type Ps = *mut c_void;

/// The calls both lines share, plus those that differ.
struct Api {
    _lib: Library,
    line: Line,
    ps_init: unsafe extern "C" fn(*mut c_void) -> Ps,
    ps_free: unsafe extern "C" fn(Ps) -> c_int,
    add_jsgf: unsafe extern "C" fn(Ps, *const c_char, *const c_char) -> c_int,
    activate: unsafe extern "C" fn(Ps, *const c_char) -> c_int,
    start_utt: unsafe extern "C" fn(Ps) -> c_int,
    process_raw: unsafe extern "C" fn(Ps, *const i16, usize, c_int, c_int) -> c_int,
    end_utt: unsafe extern "C" fn(Ps) -> c_int,
    get_hyp: unsafe extern "C" fn(Ps, *mut i32) -> *const c_char,
    get_prob: unsafe extern "C" fn(Ps) -> i32,
    get_logmath: unsafe extern "C" fn(Ps) -> *mut c_void,
    logmath_exp: unsafe extern "C" fn(*mut c_void, c_int) -> f64,
}

enum Line {
    Five {
        config_init: unsafe extern "C" fn(*const c_void) -> *mut c_void,
        config_parse_json: unsafe extern "C" fn(*mut c_void, *const c_char) -> *mut c_void,
        config_free: unsafe extern "C" fn(*mut c_void) -> c_int,
    },
    Prealpha {
        ps_args: unsafe extern "C" fn() -> *const c_void,
        cmd_ln_parse_r: unsafe extern "C" fn(*mut c_void, *const c_void, i32, *mut *mut c_char, i32) -> *mut c_void,
        cmd_ln_free_r: unsafe extern "C" fn(*mut c_void) -> i32,
    },
}

// SAFETY: the table holds function pointers into a library that stays
// loaded as long as the table; the decoders they make are per thread.
unsafe impl Send for Api {}
unsafe impl Sync for Api {}

/// The library, loaded once per process.
#[derive(Clone)]
pub struct PocketSphinx {
    api: Arc<Api>,
}

macro_rules! sym {
    ($lib:expr, $name:literal) => {
        // SAFETY: the type is the function's C prototype in both lines.
        *unsafe { $lib.get(concat!($name, "\0").as_bytes()) }.map_err(|e| format!("{}: {e}", $name))?
    };
}

impl PocketSphinx {
    /// Open PocketSphinx: 5.x first, then 5prealpha.
    pub fn open() -> Result<PocketSphinx, String> {
        let mut why = Vec::new();
        for name in ["libpocketsphinx.so.5", "libpocketsphinx.so.3"] {
            // SAFETY: loading runs the library's initialisers, which for
            // PocketSphinx only set up its own state.
            match unsafe { Library::new(name) } {
                Ok(lib) => return Self::bind(lib, name.ends_with(".5")).map(|api| PocketSphinx { api: Arc::new(api) }),
                Err(e) => why.push(e.to_string()),
            }
        }
        Err(format!("no PocketSphinx library ({}; apt-get install libpocketsphinx5 or libpocketsphinx3)", why.join("; ")))
    }

    fn bind(lib: Library, five: bool) -> Result<Api, String> {
        let line = if five {
            Line::Five {
                config_init: sym!(lib, "ps_config_init"),
                config_parse_json: sym!(lib, "ps_config_parse_json"),
                config_free: sym!(lib, "ps_config_free"),
            }
        } else {
            Line::Prealpha { ps_args: sym!(lib, "ps_args"), cmd_ln_parse_r: sym!(lib, "cmd_ln_parse_r"), cmd_ln_free_r: sym!(lib, "cmd_ln_free_r") }
        };
        Ok(Api {
            ps_init: sym!(lib, "ps_init"),
            ps_free: sym!(lib, "ps_free"),
            add_jsgf: if five { sym!(lib, "ps_add_jsgf_string") } else { sym!(lib, "ps_set_jsgf_string") },
            activate: if five { sym!(lib, "ps_activate_search") } else { sym!(lib, "ps_set_search") },
            start_utt: sym!(lib, "ps_start_utt"),
            process_raw: sym!(lib, "ps_process_raw"),
            end_utt: sym!(lib, "ps_end_utt"),
            get_hyp: sym!(lib, "ps_get_hyp"),
            get_prob: sym!(lib, "ps_get_prob"),
            get_logmath: sym!(lib, "ps_get_logmath"),
            logmath_exp: sym!(lib, "logmath_exp"),
            line,
            _lib: lib,
        })
    }

    /// Which line was loaded, for the load log.
    pub fn version(&self) -> &'static str {
        match self.api.line {
            Line::Five { .. } => "PocketSphinx 5",
            Line::Prealpha { .. } => "PocketSphinx 5prealpha",
        }
    }

    /// A decoder of 16 kHz audio with `model` (loads the model: slow, do it
    /// off the PBX threads). Telephone audio is 8 kHz upsampled: noise
    /// removal is off (it eats band-limited speech), the cepstral mean is
    /// taken over each whole utterance (a short word leaves the live
    /// estimate far off), and a little dither (fixed seed: the same audio
    /// decodes the same) keeps the empty upper band and digital silence
    /// from log-of-zero features. The answer is the grammar search's own
    /// best path: PocketSphinx 5's lattice pass (`bestpath`) loses a short
    /// word now and then (no hypothesis at all, one utterance in twenty,
    /// depending on where the word falls in its frames).
    pub fn decoder(&self, model: &Model) -> Result<Decoder, String> {
        let api = self.api.clone();
        let (hmm, dict) = (model.hmm.display().to_string(), model.dict.display().to_string());
        let ps = match api.line {
            Line::Five { config_init, config_parse_json, config_free } => {
                let json = serde_json::json!({"hmm": hmm, "dict": dict, "samprate": 16000, "cmn": "batch", "remove_noise": false, "dither": true, "seed": 1, "bestpath": false, "loglevel": "FATAL"}).to_string();
                let json = CString::new(json).map_err(|e| e.to_string())?;
                // SAFETY: NULL asks for the default argument table; the
                // config is freed once the decoder holds its own reference.
                unsafe {
                    let cfg = config_init(std::ptr::null());
                    if cfg.is_null() || config_parse_json(cfg, json.as_ptr()).is_null() {
                        return Err("PocketSphinx refused its configuration".into());
                    }
                    let ps = (api.ps_init)(cfg);
                    config_free(cfg);
                    ps
                }
            }
            Line::Prealpha { ps_args, cmd_ln_parse_r, cmd_ln_free_r } => {
                let args: Vec<CString> = ["-hmm", &hmm, "-dict", &dict, "-samprate", "16000", "-cmn", "current", "-remove_noise", "no", "-dither", "yes", "-seed", "1", "-bestpath", "no", "-logfn", "/dev/null"]
                    .iter()
                    .map(|a| CString::new(*a).map_err(|e| e.to_string()))
                    .collect::<Result<_, _>>()?;
                let mut argv: Vec<*mut c_char> = args.iter().map(|a| a.as_ptr() as *mut c_char).collect();
                // SAFETY: argv lives across the call (it is copied);
                // strict = 1 rejects unknown flags.
                unsafe {
                    let cfg = cmd_ln_parse_r(std::ptr::null_mut(), ps_args(), argv.len() as i32, argv.as_mut_ptr(), 1);
                    if cfg.is_null() {
                        return Err("PocketSphinx refused its configuration".into());
                    }
                    let ps = (api.ps_init)(cfg);
                    cmd_ln_free_r(cfg);
                    ps
                }
            }
        };
        if ps.is_null() {
            return Err(format!("PocketSphinx could not load the model {hmm} with {dict}"));
        }
        Ok(Decoder { api, ps, searches: HashSet::new() })
    }
}

/// One decoder; not shared between threads.
pub struct Decoder {
    api: Arc<Api>,
    ps: Ps,
    /// Grammars added so far, by name.
    searches: HashSet<String>,
}

// SAFETY: a decoder is used by one thread at a time (it moves into the
// thread that owns it).
unsafe impl Send for Decoder {}

/// What was heard: the words and the decoder's posterior (0-1).
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub text: String,
    pub confidence: f64,
}

impl Decoder {
    /// Decode one whole utterance of 16 kHz samples with the JSGF grammar
    /// `jsgf`, kept under `name` (added the first time).
    pub fn decode(&mut self, name: &str, jsgf: &str, samples: &[i16]) -> Result<Option<Decoded>, String> {
        let cname = CString::new(name).map_err(|e| e.to_string())?;
        let api = &self.api;
        // SAFETY: self.ps is a live decoder owned by this thread; the
        // strings live across each call; the hypothesis is copied before
        // the next call into the decoder.
        unsafe {
            if !self.searches.contains(name) {
                let g = CString::new(jsgf).map_err(|e| e.to_string())?;
                if (api.add_jsgf)(self.ps, cname.as_ptr(), g.as_ptr()) < 0 {
                    return Err(format!("PocketSphinx refused the grammar {name:?}"));
                }
                self.searches.insert(name.to_string());
            }
            if (api.activate)(self.ps, cname.as_ptr()) < 0 {
                return Err(format!("PocketSphinx cannot use the grammar {name:?}"));
            }
            if (api.start_utt)(self.ps) < 0 {
                return Err("PocketSphinx cannot start an utterance".into());
            }
            let fed = (api.process_raw)(self.ps, samples.as_ptr(), samples.len(), 0, 1);
            (api.end_utt)(self.ps);
            if fed < 0 {
                return Err("PocketSphinx could not decode the audio".into());
            }
            let mut score = 0i32;
            let hyp = (api.get_hyp)(self.ps, &mut score);
            if hyp.is_null() {
                return Ok(None);
            }
            let text = CStr::from_ptr(hyp).to_string_lossy().trim().to_string();
            if text.is_empty() {
                return Ok(None);
            }
            let prob = (api.get_prob)(self.ps);
            let confidence = (api.logmath_exp)((api.get_logmath)(self.ps), prob).clamp(0.0, 1.0);
            Ok(Some(Decoded { text, confidence }))
        }
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        // SAFETY: the decoder is ours and freed once.
        unsafe { (self.api.ps_free)(self.ps) };
    }
}

/// A JSGF grammar accepting exactly one of `phrases`.
pub fn jsgf(phrases: &[String]) -> String {
    let alts: Vec<String> = phrases.iter().map(|p| p.split_whitespace().collect::<Vec<_>>().join(" ")).collect();
    format!("#JSGF V1.0;\ngrammar hotline;\npublic <choice> = {};\n", alts.join(" | "))
}

