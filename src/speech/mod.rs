// SPDX-License-Identifier: GPL-2.0-or-later
//! Speech input: Hotline's own offline speech engine, registered with each
//! PBX's speech API under the name `hotline` (Asterisk `res_speech`,
//! FreeSWITCH ASR), and what IVR menus make of what it heard.
//!
//! - [`vad`]: the end of an utterance, from its energy, on the PBX's thread;
//! - [`pocketsphinx`]: the decoder (PocketSphinx, opened at run time);
//! - [`Engine`]: decoder threads (`hotline-speech`) fed whole utterances
//!   through a bounded queue; the PBX's thread never decodes and never
//!   waits: it polls its [`Utterance`] for the result.
//!
//! Grammars are closed lists of phrases ("sales", "technical support"):
//! the decoder picks the nearest one, so the confidence PocketSphinx gives
//! a closed list is close to 1; a menu's `speech_confidence` matters for
//! engines that score (other engines behind the PBX's speech API).

pub mod pocketsphinx;
pub mod recognizer;
pub mod vad;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

use arc_swap::ArcSwapOption;
use crossbeam_channel::{Receiver, Sender, TrySendError};

use pocketsphinx::{Model, PocketSphinx};
use vad::{Endpointer, Vad};

/// The engine's name in both PBXes' speech APIs.
pub const ENGINE_NAME: &str = "hotline";
/// Utterances waiting for a decoder; more are refused (the caller is asked again).
const QUEUE: usize = 64;

/// What the engine heard.
#[derive(Debug, Clone, PartialEq)]
pub struct Heard {
    pub text: String,
    /// 0-100.
    pub confidence: u8,
}

/// The phrases a grammar accepts, from what a PBX loads: `a|b|c` (or one
/// per line), `_` for a space inside a phrase (FreeSWITCH's `detect_speech`
/// splits its arguments at spaces: `technical_support|sales`); JSGF text is
/// not taken (Hotline writes the JSGF itself).
pub fn phrases(grammar: &str) -> Result<Vec<String>, String> {
    let list: Vec<String> = grammar
        .split(['|', '\n', ','])
        .map(|p| p.replace('_', " ").split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase())
        .filter(|p| !p.is_empty())
        .collect();
    if list.is_empty() {
        return Err("an empty grammar (phrases separated by |)".into());
    }
    if let Some(bad) = list.iter().find(|p| !p.chars().all(|c| c.is_alphanumeric() || c == ' ' || c == '\'' || c == '-')) {
        return Err(format!("{bad:?}: phrases are words (letters, digits, ' and -)"));
    }
    Ok(list)
}

/// Grammars by name, each with its phrases and whether it is active.
pub type Grammars = std::collections::BTreeMap<String, (Vec<String>, bool)>;

/// The phrases of the active grammars, each once, in grammar order.
pub fn active_phrases(grammars: &Grammars) -> Vec<String> {
    let mut all: Vec<String> = Vec::new();
    for (phrases, _) in grammars.values().filter(|(_, on)| *on) {
        for p in phrases {
            if !all.contains(p) {
                all.push(p.clone());
            }
        }
    }
    all
}

/// The dictionary's words, read once (None: no PocketSphinx model here).
pub fn dictionary() -> Option<&'static HashSet<String>> {
    static WORDS: OnceLock<Option<HashSet<String>>> = OnceLock::new();
    WORDS.get_or_init(|| Model::in_dir(std::path::Path::new(pocketsphinx::DEBIAN_MODEL)).and_then(|m| m.words()).ok()).as_ref()
}

/// Words of `phrase` the dictionary lacks (none when there is no model:
/// the menu then takes DTMF only).
pub fn unknown_words(phrase: &str) -> Vec<String> {
    match dictionary() {
        Some(dict) => phrase.split_whitespace().filter(|w| !dict.contains(*w)).map(String::from).collect(),
        None => Vec::new(),
    }
}

struct Job {
    name: String,
    jsgf: String,
    audio: Vec<i16>,
    reply: Sender<Result<Option<Heard>, String>>,
    /// Run once the reply is sent (Asterisk moves the speech's state).
    done: Option<Notify>,
}

/// Called on the decoder's thread once a result is ready.
pub type Notify = Arc<dyn Fn() + Send + Sync>;

/// Decoder threads sharing one bounded queue of utterances.
pub struct Engine {
    jobs: Mutex<Option<Sender<Job>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    pub description: String,
}

impl Engine {
    /// Open PocketSphinx and its model and start `threads` decoders (each
    /// loads the model on its own thread).
    pub fn start(threads: usize) -> Result<Arc<Engine>, String> {
        let lib = PocketSphinx::open()?;
        let model = Model::in_dir(std::path::Path::new(pocketsphinx::DEBIAN_MODEL))?;
        let (tx, rx) = crossbeam_channel::bounded::<Job>(QUEUE);
        let mut handles = Vec::new();
        for i in 0..threads.max(1) {
            let (lib, model, rx) = (lib.clone(), model.clone(), rx.clone());
            let t = std::thread::Builder::new()
                .name("hotline-speech".into())
                .spawn(move || decode_loop(&lib, &model, &rx, i))
                .map_err(|e| format!("cannot start a speech thread: {e}"))?;
            handles.push(t);
        }
        Ok(Arc::new(Engine {
            jobs: Mutex::new(Some(tx)),
            threads: Mutex::new(handles),
            description: format!("{} with {} ({} threads)", lib.version(), model.hmm.display(), threads.max(1)),
        }))
    }

    /// A new utterance to listen for, with these phrases.
    pub fn utterance(self: &Arc<Self>, phrases: Vec<String>) -> Utterance {
        Utterance { engine: self.clone(), jsgf_name: grammar_name(&phrases), phrases, vad: Endpointer::default(), state: State::Listening, buf: Vec::new(), notify: None }
    }

    fn submit(&self, job: Job) -> Result<(), String> {
        let jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        match jobs.as_ref().map(|tx| tx.try_send(job)) {
            Some(Ok(())) => Ok(()),
            Some(Err(TrySendError::Full(_))) => Err("every speech decoder is busy".into()),
            _ => Err("the speech engine is stopped".into()),
        }
    }

    /// Stop taking utterances and join the decoders (they finish the
    /// utterance at hand).
    pub fn stop(&self) {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner()).take();
        for t in std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner())) {
            let _ = t.join();
        }
    }
}

fn grammar_name(phrases: &[String]) -> String {
    use sha2::Digest;
    let h = sha2::Sha256::digest(phrases.join("|").as_bytes());
    format!("g{:x}", u64::from_be_bytes(h[..8].try_into().unwrap_or([0; 8])))
}

fn decode_loop(lib: &PocketSphinx, model: &Model, jobs: &Receiver<Job>, index: usize) {
    let mut decoder = match lib.decoder(model) {
        Ok(d) => d,
        Err(e) => {
            log::error!("Hotline: speech decoder {index}: {e}");
            // Answer every utterance with the reason, so no call waits.
            while let Ok(job) = jobs.recv() {
                let _ = job.reply.send(Err(e.clone()));
                if let Some(done) = &job.done {
                    done();
                }
            }
            return;
        }
    };
    while let Ok(job) = jobs.recv() {
        let started = std::time::Instant::now();
        let result = decoder.decode(&job.name, &job.jsgf, &job.audio).map(|d| {
            d.map(|d| Heard { text: d.text.to_lowercase(), confidence: (d.confidence * 100.0).round().clamp(0.0, 100.0) as u8 })
        });
        log::debug!("Hotline speech: {} ms of audio decoded in {:?}: {result:?}", job.audio.len() / 16, started.elapsed());
        let _ = job.reply.send(result);
        if let Some(done) = &job.done {
            done();
        }
    }
}

enum State {
    Listening,
    Decoding(Receiver<Result<Option<Heard>, String>>),
    Done(Result<Option<Heard>, String>),
}

/// What the caller's audio has come to so far.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// Nothing said yet.
    Quiet,
    /// The caller is speaking (stop the prompt).
    Speaking,
    /// Said; the decoder is at it.
    Decoding,
    /// The result: what was heard (None: nothing), or why there is none.
    Done(Result<Option<Heard>, String>),
}

/// One utterance: fed on the PBX's thread, decoded on the engine's.
pub struct Utterance {
    engine: Arc<Engine>,
    jsgf_name: String,
    phrases: Vec<String>,
    vad: Endpointer,
    state: State,
    buf: Vec<i16>,
    notify: Option<Notify>,
}

impl Utterance {
    /// Have `notify` called (on the decoder's thread) when the result is ready.
    pub fn notify(&mut self, notify: Notify) {
        self.notify = Some(notify);
    }

    /// Feed audio at `rate` (8000 or 16000) and say where it stands.
    pub fn feed(&mut self, samples: &[i16], rate: u32) -> Progress {
        if matches!(self.state, State::Listening) {
            let vad = if rate == 8000 {
                self.buf.clear();
                vad::upsample(samples, &mut self.buf);
                self.vad.feed(&self.buf)
            } else {
                self.vad.feed(samples)
            };
            if vad == Vad::Ended {
                self.decode();
            }
        }
        self.progress()
    }

    /// The caller stopped talking to us (the wait is over): decode what
    /// was said, if anything.
    pub fn finish(&mut self) -> Progress {
        if matches!(self.state, State::Listening) {
            if self.vad.finish() {
                self.decode();
            } else {
                self.state = State::Done(Ok(None));
            }
        }
        self.progress()
    }

    fn decode(&mut self) {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let job = Job { name: self.jsgf_name.clone(), jsgf: pocketsphinx::jsgf(&self.phrases), audio: self.vad.take(), reply: tx, done: self.notify.clone() };
        self.state = match self.engine.submit(job) {
            Ok(()) => State::Decoding(rx),
            Err(e) => State::Done(Err(e)),
        };
    }

    /// Where it stands, without feeding anything.
    pub fn progress(&mut self) -> Progress {
        if let State::Decoding(rx) = &self.state {
            match rx.try_recv() {
                Ok(r) => self.state = State::Done(r),
                Err(crossbeam_channel::TryRecvError::Empty) => return Progress::Decoding,
                Err(crossbeam_channel::TryRecvError::Disconnected) => self.state = State::Done(Err("the speech decoder stopped".into())),
            }
        }
        match &self.state {
            State::Listening if self.vad.state() == Vad::Speaking => Progress::Speaking,
            State::Listening => Progress::Quiet,
            State::Decoding(_) => Progress::Decoding,
            State::Done(r) => Progress::Done(r.clone()),
        }
    }
}

/// The engine the PBX adapters registered (None: no speech here).
static ENGINE: ArcSwapOption<Engine> = ArcSwapOption::const_empty();

pub fn engine() -> Option<Arc<Engine>> {
    ENGINE.load_full()
}

/// Start the engine for the adapter's registration (once per load): None,
/// with one log line, when PocketSphinx or its model is missing.
pub fn start_for_pbx(threads: usize) -> Option<Arc<Engine>> {
    match Engine::start(threads) {
        Ok(e) => {
            log::info!("Hotline: speech engine {ENGINE_NAME:?}: {}", e.description);
            ENGINE.store(Some(e.clone()));
            Some(e)
        }
        Err(e) => {
            log::info!("Hotline: no speech engine ({e}); menus with words take DTMF only");
            None
        }
    }
}

/// Unload: forget and join the engine.
pub fn stop_for_pbx() {
    if let Some(e) = ENGINE.swap(None) {
        e.stop();
    }
}

/// Model files for tests and the README.
pub fn model_dir() -> PathBuf {
    PathBuf::from(pocketsphinx::DEBIAN_MODEL)
}

#[cfg(test)]
mod tests;
