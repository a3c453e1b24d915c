// SPDX-License-Identifier: GPL-2.0-or-later
//! The engine for real: words spoken by espeak-ng, narrowed to telephone
//! audio (8 kHz) by sox, fed in 20 ms frames as a PBX would.

use super::*;
use std::process::Command;
use std::time::{Duration, Instant};

/// `text` spoken, as 8 kHz 16-bit samples with a second of silence around.
fn spoken(text: &str) -> Vec<i16> {
    let dir = std::env::temp_dir().join(format!("hotline-speech-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // One file per call: tests run in parallel and speak the same words.
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let wav = dir.join(format!("{}-{n}.wav", text.replace(' ', "_")));
    let raw = wav.with_extension("raw");
    let ok = Command::new("espeak-ng").args(["-v", "en-us", "-w"]).arg(&wav).arg(text).status().map(|s| s.success());
    assert!(matches!(ok, Ok(true)), "espeak-ng (apt-get install espeak-ng)");
    let ok = Command::new("sox").arg(&wav).args(["-r", "8000", "-c", "1", "-b", "16", "-e", "signed", "-t", "raw"]).arg(&raw).status().map(|s| s.success());
    assert!(matches!(ok, Ok(true)), "sox (apt-get install sox)");
    let bytes = std::fs::read(&raw).unwrap();
    let mut samples = vec![0i16; 8000];
    samples.extend(bytes.chunks(2).map(|c| i16::from_le_bytes([c[0], c[1]])));
    samples.extend(vec![0i16; 8000]);
    samples
}

fn engine_here() -> Arc<Engine> {
    Engine::start(1).expect("PocketSphinx and its US-English model (apt-get install libpocketsphinx3 pocketsphinx-en-us, or libpocketsphinx5 on sid)")
}

/// Feed like a PBX (20 ms frames at 8 kHz) until a result.
fn hear(engine: &Arc<Engine>, phrases: &[&str], audio: &[i16]) -> Option<Heard> {
    let mut u = engine.utterance(phrases.iter().map(|p| p.to_string()).collect());
    let notified = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let n = notified.clone();
    u.notify(Arc::new(move || n.store(true, std::sync::atomic::Ordering::SeqCst)));
    let mut spoke = false;
    for frame in audio.chunks(160) {
        match u.feed(frame, 8000) {
            Progress::Speaking => spoke = true,
            Progress::Decoding | Progress::Done(_) => break,
            Progress::Quiet => {}
        }
    }
    assert!(spoke, "the endpointer heard the word start");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match u.progress() {
            Progress::Done(r) => {
                assert!(notified.load(std::sync::atomic::Ordering::SeqCst), "notified when done");
                return r.expect("decoded");
            }
            _ if Instant::now() > deadline => panic!("no result in 10 s"),
            _ => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

#[test]
fn spoken_keywords_are_recognised_from_telephone_audio() {
    let engine = engine_here();
    let menu = ["sales", "technical support", "operator", "yes", "no"];
    for word in ["sales", "technical support", "operator", "yes", "no"] {
        let heard = hear(&engine, &menu, &spoken(word)).unwrap_or_else(|| panic!("{word}: nothing heard"));
        assert_eq!(heard.text, word);
        assert!(heard.confidence <= 100);
    }
    // The test PBXes' menu.
    let menu = ["sales", "technical support"];
    for word in menu {
        assert_eq!(hear(&engine, &menu, &spoken(word)).map(|h| h.text).as_deref(), Some(word));
    }
    // A phrase that is also a word of a longer one.
    let menu = ["sales", "technical support", "support"];
    for word in ["technical support", "support", "sales"] {
        assert_eq!(hear(&engine, &menu, &spoken(word)).map(|h| h.text).as_deref(), Some(word));
    }
    engine.stop();
}

#[test]
fn silence_is_nothing_and_decodes_nothing() {
    let engine = engine_here();
    let mut u = engine.utterance(vec!["sales".into()]);
    for frame in vec![0i16; 16000].chunks(160) {
        assert_eq!(u.feed(frame, 8000), Progress::Quiet);
    }
    assert_eq!(u.finish(), Progress::Done(Ok(None)));
    engine.stop();
}

#[test]
fn a_stopped_engine_refuses_at_once() {
    let engine = engine_here();
    engine.stop();
    let audio = spoken("sales");
    let mut u = engine.utterance(vec!["sales".into()]);
    let mut last = Progress::Quiet;
    for frame in audio.chunks(160) {
        last = u.feed(frame, 8000);
    }
    assert!(matches!(last, Progress::Done(Err(_))), "{last:?}");
}

#[test]
fn grammars_are_lists_of_words() {
    assert_eq!(phrases("Sales | technical  support\nyes").unwrap(), vec!["sales", "technical support", "yes"]);
    assert_eq!(phrases("technical_support|sales").unwrap(), vec!["technical support", "sales"]);
    assert!(phrases(" | ").is_err());
    assert!(phrases("sales; drop table").is_err());
    assert_eq!(grammar_name(&["a".into()]), grammar_name(&["a".into()]));
    assert_ne!(grammar_name(&["a".into()]), grammar_name(&["b".into()]));
}

#[test]
fn the_dictionary_knows_common_words_only() {
    assert!(dictionary().is_some(), "pocketsphinx-en-us is installed on the build machines");
    assert!(unknown_words("technical support").is_empty());
    assert_eq!(unknown_words("sales xyzzyq"), vec!["xyzzyq"]);
}

// ---- the detect-speech session (FreeSWITCH's ASR API) ----------------------

use super::recognizer::{from_nlsml, nlsml, Recognizer, Report};

/// Feed `audio` in 20 ms frames on a virtual clock from `t0`, then wait (in
/// real time: the decoder runs on its thread) for a final report; every
/// report in order, and the virtual time at the end.
fn detect(r: &mut Recognizer, audio: &[i16], t0: Instant) -> (Vec<Report>, Instant) {
    let mut now = t0;
    let mut got = Vec::new();
    for frame in audio.chunks(160) {
        r.feed(frame, 8000, now);
        now += Duration::from_millis(20);
        while r.ready(now) {
            got.extend(r.take());
        }
        if got.last().is_some_and(Report::is_final) {
            return (got, now);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while !got.last().is_some_and(Report::is_final) {
        assert!(Instant::now() < deadline, "no final report in 10 s: {got:?}");
        // Silence goes on (the PBX keeps sending frames).
        r.feed(&[0i16; 160], 8000, now);
        now += Duration::from_millis(20);
        while r.ready(now) {
            got.extend(r.take());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    (got, now)
}

#[test]
fn a_detect_session_reports_the_start_of_speech_then_the_words_of_its_grammar() {
    let engine = engine_here();
    let mut r = Recognizer::new(engine.clone());
    let t0 = Instant::now();
    assert!(r.param("start-input-timers", "true", t0));
    r.load("menu", "sales|technical_support", t0).unwrap();
    let (got, _) = detect(&mut r, &spoken("technical support"), t0);
    assert_eq!(got[0], Report::BeginSpeaking, "{got:?}");
    match &got[1..] {
        [Report::Heard { heard, grammar }] => assert_eq!((heard.text.as_str(), grammar.as_str()), ("technical support", "menu")),
        other => panic!("{other:?}"),
    }
    // Paused after the final report until resumed: audio is ignored.
    r.feed(&spoken("sales"), 8000, t0);
    assert!(!r.ready(t0 + Duration::from_secs(60)));
    r.resume(t0);
    let (got, _) = detect(&mut r, &spoken("sales"), t0);
    assert!(matches!(got.last(), Some(Report::Heard { heard, .. }) if heard.text == "sales"), "{got:?}");
    engine.stop();
}

#[test]
fn a_detect_session_times_out_on_silence_only_once_its_timers_run() {
    let engine = engine_here();
    let mut r = Recognizer::new(engine.clone());
    let t0 = Instant::now();
    assert!(r.param("no-input-timeout", "1500", t0));
    r.load("menu", "sales", t0).unwrap();
    // The prompt plays: no timer yet, whatever the time.
    let silence = vec![0i16; 8000 * 3];
    for frame in silence.chunks(160) {
        r.feed(frame, 8000, t0 + Duration::from_secs(30));
    }
    assert!(!r.ready(t0 + Duration::from_secs(30)));
    // The prompt is over: 1.5 s later it is no input.
    let t1 = t0 + Duration::from_secs(30);
    r.start_timers(t1);
    assert!(!r.ready(t1 + Duration::from_millis(1400)));
    assert!(r.ready(t1 + Duration::from_millis(1500)));
    assert_eq!(r.take(), Some(Report::NoInput));
    assert_eq!(r.take(), None);
    engine.stop();
}

#[test]
fn a_detect_session_below_its_confidence_threshold_is_no_match() {
    let engine = engine_here();
    let mut r = Recognizer::new(engine.clone());
    let t0 = Instant::now();
    // PocketSphinx's confidence for a closed list is near 1 but never
    // above 100: a threshold past it is always a no match.
    assert!(r.param("confidence-threshold", "101", t0) == false);
    assert!(r.param("confidence-threshold", "100", t0));
    r.load("menu", "sales|technical support", t0).unwrap();
    let (got, _) = detect(&mut r, &spoken("technical support"), t0);
    let last = got.last().cloned().unwrap();
    match last {
        Report::NoMatch => {}
        Report::Heard { heard, .. } => assert_eq!(heard.confidence, 100, "only a full score passes 100"),
        other => panic!("{other:?}"),
    }
    assert!(!r.param("no-such-param", "1", t0));
    assert!(r.load("bad", "sales; drop", t0).is_err());
    engine.stop();
}

#[test]
fn nlsml_carries_words_and_confidence_escaped_and_back() {
    let heard = Heard { text: "technical support".into(), confidence: 87 };
    let xml = nlsml(&Report::Heard { heard: heard.clone(), grammar: "menu<1>".into() });
    assert!(xml.contains("grammar=\"menu&lt;1&gt;\""), "{xml}");
    assert_eq!(from_nlsml(&xml), Some(heard));
    assert_eq!(from_nlsml(&nlsml(&Report::NoInput)), None);
    assert_eq!(from_nlsml(&nlsml(&Report::NoMatch)), None);
    // Another engine's NLSML (0.0-1.0 confidences).
    let other = r#"<result><interpretation grammar="g" confidence="0.62"><input mode="speech">yes &amp; no</input></interpretation></result>"#;
    assert_eq!(from_nlsml(other), Some(Heard { text: "yes & no".into(), confidence: 62 }));
    assert_eq!(from_nlsml("not xml"), None);
}


/// A short word is heard wherever it falls in the decoder's 10 ms frames
/// and at a quiet level too (PocketSphinx 5's lattice pass lost "sales"
/// in one case in twenty). The test PBXes' menu.
#[test]
fn a_keyword_is_heard_wherever_it_starts_and_at_any_level() {
    let engine = engine_here();
    let menu = ["sales", "technical support"];
    let mut missed = Vec::new();
    for word in menu {
        let said = spoken(word);
        for lead in 0..25usize {
            for level in [1.0f64, 0.6, 0.35] {
                let mut audio = vec![0i16; lead * 37];
                audio.extend(said.iter().map(|&s| (s as f64 * level) as i16));
                let heard = hear(&engine, &menu, &audio).map(|h| h.text);
                if heard.as_deref() != Some(word) {
                    missed.push(format!("{word:?} after {lead}x37 samples at {level}: {heard:?}"));
                }
            }
        }
    }
    assert!(missed.is_empty(), "{} of 150 missed:\n{}", missed.len(), missed.join("\n"));
    engine.stop();
}
