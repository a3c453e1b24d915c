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
    let wav = dir.join(format!("{}.wav", text.replace(' ', "_")));
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
