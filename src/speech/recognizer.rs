// SPDX-License-Identifier: GPL-2.0-or-later
//! One detect-speech session, as FreeSWITCH's ASR API drives an engine
//! (`detect_speech`, `play_and_detect_speech`): grammars loaded by name and
//! switched on and off, listening from the first grammar until a final
//! report, then paused until resumed; the no-input timer starts when the
//! prompt is over (`start_input_timers`) or at once with the
//! `start-input-timers=true` parameter.
//!
//! Reports, in the order a caller makes them: [`Report::BeginSpeaking`]
//! once (the prompt stops: barge-in by voice), then one final report:
//! words heard, no match (below `confidence-threshold`), or no input
//! before `no-input-timeout`. Noise the decoder makes nothing of is no
//! report: listening goes on until the timer runs out.
//!
//! Audio is fed on the PBX's media thread and results are asked for on
//! another: the adapter keeps the recognizer behind a lock of its own (one
//! per call). Time is passed in, so tests drive it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Engine, Heard, Progress, Utterance};

/// What a recognizer has to say.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    /// The caller started talking (stop the prompt).
    BeginSpeaking,
    /// Words of a grammar, and that grammar's name.
    Heard { heard: Heard, grammar: String },
    /// Words, but below the confidence threshold (or the decoder failed).
    NoMatch,
    /// Nothing said before the no-input timeout.
    NoInput,
}

impl Report {
    /// A final report ends the listening (until resumed).
    pub fn is_final(&self) -> bool {
        !matches!(self, Report::BeginSpeaking)
    }
}

/// Default no-input timeout once the timers start.
pub const NO_INPUT_DEFAULT: Duration = Duration::from_secs(5);

pub struct Recognizer {
    engine: Arc<Engine>,
    grammars: super::Grammars,
    utterance: Option<Utterance>,
    listening: bool,
    began: bool,
    timers_from: Option<Instant>,
    no_input: Duration,
    start_timers_at_once: bool,
    min_confidence: u8,
    pending: Vec<Report>,
}

impl Recognizer {
    pub fn new(engine: Arc<Engine>) -> Self {
        Recognizer {
            engine,
            grammars: super::Grammars::new(),
            utterance: None,
            listening: false,
            began: false,
            timers_from: None,
            no_input: NO_INPUT_DEFAULT,
            start_timers_at_once: false,
            min_confidence: 0,
            pending: Vec::new(),
        }
    }

    /// Load (or replace) grammar `name` from its text (see
    /// [`super::phrases`]) and start listening if not yet.
    pub fn load(&mut self, name: &str, grammar: &str, now: Instant) -> Result<(), String> {
        let phrases = super::phrases(grammar)?;
        self.grammars.insert(name.to_string(), (phrases, true));
        // The first grammar starts the listening; later ones count from the
        // next utterance (one under way keeps the words it started with).
        if !self.listening && self.pending.is_empty() && self.utterance.is_none() {
            self.listen(now);
        }
        Ok(())
    }

    pub fn unload(&mut self, name: &str) -> bool {
        self.grammars.remove(name).is_some()
    }

    /// Switch one grammar on or off (false: no such grammar).
    pub fn enable(&mut self, name: &str, on: bool) -> bool {
        match self.grammars.get_mut(name) {
            Some(g) => {
                g.1 = on;
                true
            }
            None => false,
        }
    }

    pub fn disable_all(&mut self) {
        for g in self.grammars.values_mut() {
            g.1 = false;
        }
    }

    /// An engine parameter: `no-input-timeout` (ms), `start-input-timers`
    /// (true/false), `confidence-threshold` (0-100). Unknown ones: false.
    pub fn param(&mut self, name: &str, value: &str, now: Instant) -> bool {
        match name.to_ascii_lowercase().as_str() {
            "no-input-timeout" => match value.trim().parse::<u64>() {
                Ok(ms) => {
                    self.no_input = Duration::from_millis(ms);
                    true
                }
                Err(_) => false,
            },
            "start-input-timers" => {
                self.start_timers_at_once = matches!(value.trim().to_ascii_lowercase().as_str(), "true" | "yes" | "on" | "1");
                if self.start_timers_at_once && self.listening && self.timers_from.is_none() {
                    self.timers_from = Some(now);
                }
                true
            }
            "confidence-threshold" => match value.trim().parse::<f64>() {
                // MRCP gives 0.0-1.0; Hotline's menus 0-100.
                Ok(v) if (0.0..=1.0).contains(&v) && value.contains('.') => {
                    self.min_confidence = (v * 100.0).round() as u8;
                    true
                }
                Ok(v) if (0.0..=100.0).contains(&v) => {
                    self.min_confidence = v as u8;
                    true
                }
                _ => false,
            },
            _ => false,
        }
    }

    /// The prompt is over: the no-input timer runs from now.
    pub fn start_timers(&mut self, now: Instant) {
        if self.timers_from.is_none() {
            self.timers_from = Some(now);
        }
    }

    pub fn pause(&mut self) {
        self.listening = false;
        self.utterance = None;
    }

    /// Listen again (after a final report or a pause); reports not yet
    /// taken are dropped.
    pub fn resume(&mut self, now: Instant) {
        self.pending.clear();
        self.utterance = None;
        self.listen(now);
    }

    fn phrases(&self) -> Vec<String> {
        super::active_phrases(&self.grammars)
    }

    fn listen(&mut self, now: Instant) {
        self.listening = true;
        self.began = false;
        self.timers_from = self.start_timers_at_once.then_some(now);
        self.utterance = None;
    }

    /// Audio from the caller: 16-bit samples at `rate` (8000 or 16000).
    pub fn feed(&mut self, samples: &[i16], rate: u32, now: Instant) {
        if !self.listening {
            return;
        }
        if self.utterance.is_none() {
            let phrases = self.phrases();
            if phrases.is_empty() {
                return;
            }
            self.utterance = Some(self.engine.utterance(phrases));
        }
        if let Some(u) = self.utterance.as_mut() {
            let p = u.feed(samples, rate);
            self.settle(p, now);
        }
    }

    fn settle(&mut self, p: Progress, now: Instant) {
        match p {
            Progress::Quiet => {
                if !self.began && self.timers_from.is_some_and(|t| now.duration_since(t) >= self.no_input) {
                    self.finish(Report::NoInput);
                }
            }
            Progress::Speaking | Progress::Decoding => {
                if !self.began {
                    self.began = true;
                    self.pending.push(Report::BeginSpeaking);
                }
            }
            Progress::Done(Ok(Some(heard))) => {
                if heard.confidence < self.min_confidence {
                    self.finish(Report::NoMatch);
                } else {
                    let grammar = self.grammars.iter().find(|(_, (p, on))| *on && p.contains(&heard.text)).map_or_else(|| "hotline".to_string(), |(n, _)| n.clone());
                    self.finish(Report::Heard { heard, grammar });
                }
            }
            Progress::Done(Ok(None)) => {
                // Noise: listen on, the timer still running.
                self.utterance = None;
                self.began = false;
                if self.timers_from.is_some_and(|t| now.duration_since(t) >= self.no_input) {
                    self.finish(Report::NoInput);
                }
            }
            Progress::Done(Err(e)) => {
                log::warn!("Hotline speech: {e}");
                self.finish(Report::NoMatch);
            }
        }
    }

    fn finish(&mut self, r: Report) {
        self.pending.push(r);
        self.listening = false;
        self.utterance = None;
    }

    /// Is there a report to take? (Also moves a decoding utterance on and
    /// runs the no-input timer when no audio comes.)
    pub fn ready(&mut self, now: Instant) -> bool {
        if self.pending.is_empty() && self.listening {
            match self.utterance.as_mut() {
                Some(u) => {
                    let p = u.progress();
                    self.settle(p, now);
                }
                None => self.settle(Progress::Quiet, now),
            }
        }
        !self.pending.is_empty()
    }

    /// The oldest report.
    pub fn take(&mut self) -> Option<Report> {
        (!self.pending.is_empty()).then(|| self.pending.remove(0))
    }
}

/// A report as NLSML (the result format MRCP engines give FreeSWITCH):
/// `<input>` holds the words, `confidence` 0-100. Text is XML-escaped.
pub fn nlsml(report: &Report) -> String {
    let (grammar, inner) = match report {
        Report::Heard { heard, grammar } => (
            grammar.as_str(),
            format!(
                "<interpretation grammar=\"{g}\" confidence=\"{c}\"><instance>{t}</instance><input mode=\"speech\" confidence=\"{c}\">{t}</input></interpretation>",
                g = escape(grammar),
                c = heard.confidence,
                t = escape(&heard.text)
            ),
        ),
        Report::NoMatch => ("hotline", "<interpretation><instance/><input mode=\"speech\"><nomatch/></input></interpretation>".to_string()),
        Report::NoInput | Report::BeginSpeaking => ("hotline", "<interpretation><instance/><input><noinput/></input></interpretation>".to_string()),
    };
    format!("<?xml version=\"1.0\"?>\n<result grammar=\"{}\">{inner}</result>\n", escape(grammar))
}

/// What an NLSML result says: words and confidence, or none (no input,
/// no match, or not NLSML).
pub fn from_nlsml(xml: &str) -> Option<Heard> {
    let input = xml.find("<input")?;
    let rest = &xml[input..];
    let open_end = rest.find('>')?;
    let head = &rest[..open_end];
    if head.ends_with('/') {
        return None;
    }
    let body = &rest[open_end + 1..];
    let text = unescape(body[..body.find("</input>")?].trim());
    if text.is_empty() || text.starts_with('<') {
        return None;
    }
    let confidence = attr(head, "confidence").or_else(|| xml.find("<interpretation").and_then(|i| attr(&xml[i..i + xml[i..].find('>')?], "confidence")));
    let confidence = confidence.and_then(|c| c.parse::<f64>().ok()).map_or(100, |c| if c <= 1.0 && !c.fract().eq(&0.0) { (c * 100.0).round() as u8 } else { c.clamp(0.0, 100.0) as u8 });
    Some(Heard { text, confidence })
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!("{name}=\"");
    let at = tag.find(&key)? + key.len();
    let end = tag[at..].find('"')?;
    Some(tag[at..at + end].to_string())
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}
