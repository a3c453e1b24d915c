// SPDX-License-Identifier: GPL-2.0-or-later
//! Where an utterance starts and ends, from the audio's energy: cheap
//! enough for the PBX's media thread (one sum of squares per 10 ms).

/// Samples per 10 ms frame at 16 kHz.
pub const FRAME: usize = 160;
/// RMS (of 32768) above which a frame is voice.
const VOICE_RMS: f64 = 400.0;
/// Voice frames in a row that start an utterance (50 ms).
const START_FRAMES: u32 = 5;
/// Quiet frames in a row that end it (600 ms).
const END_FRAMES: u32 = 60;
/// Audio kept from before the start (the word's onset is quiet), frames.
const LEAD_FRAMES: usize = 20;
/// The longest utterance kept (10 s): longer ends it.
pub const MAX_FRAMES: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vad {
    /// Nothing said yet.
    Quiet,
    /// The caller is speaking.
    Speaking,
    /// The utterance is over: decode it.
    Ended,
}

/// Feeds 16 kHz samples, keeps the utterance (with a short lead).
#[derive(Debug, Default)]
pub struct Endpointer {
    pending: Vec<i16>,
    audio: Vec<i16>,
    voiced: u32,
    quiet: u32,
    started: bool,
    ended: bool,
}

impl Endpointer {
    pub fn state(&self) -> Vad {
        match (self.started, self.ended) {
            (_, true) => Vad::Ended,
            (true, false) => Vad::Speaking,
            _ => Vad::Quiet,
        }
    }

    /// Add audio; the state after it.
    pub fn feed(&mut self, samples: &[i16]) -> Vad {
        if self.ended {
            return Vad::Ended;
        }
        self.pending.extend_from_slice(samples);
        let mut at = 0;
        while self.pending.len() - at >= FRAME && !self.ended {
            let frame = &self.pending[at..at + FRAME];
            at += FRAME;
            let energy: f64 = frame.iter().map(|&s| (s as f64) * (s as f64)).sum::<f64>() / FRAME as f64;
            let voice = energy.sqrt() >= VOICE_RMS;
            self.audio.extend_from_slice(frame);
            if !self.started {
                self.voiced = if voice { self.voiced + 1 } else { 0 };
                if self.voiced >= START_FRAMES {
                    self.started = true;
                } else {
                    let keep = (LEAD_FRAMES + START_FRAMES as usize) * FRAME;
                    if self.audio.len() > keep {
                        self.audio.drain(..self.audio.len() - keep);
                    }
                }
            } else {
                self.quiet = if voice { 0 } else { self.quiet + 1 };
                if self.quiet >= END_FRAMES || self.audio.len() >= MAX_FRAMES * FRAME {
                    self.ended = true;
                }
            }
        }
        self.pending.drain(..at);
        self.state()
    }

    /// End now (the caller stopped, the wait is over): true when there was
    /// speech to decode.
    pub fn finish(&mut self) -> bool {
        self.ended = true;
        self.started
    }

    /// The utterance, once ended.
    pub fn take(&mut self) -> Vec<i16> {
        std::mem::take(&mut self.audio)
    }
}

/// 8 kHz to 16 kHz by linear interpolation (the PBX hands narrowband audio).
pub fn upsample(samples: &[i16], out: &mut Vec<i16>) {
    for (i, &s) in samples.iter().enumerate() {
        let next = samples.get(i + 1).copied().unwrap_or(s);
        out.push(s);
        out.push(((s as i32 + next as i32) / 2) as i16);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(ms: usize, amp: f64) -> Vec<i16> {
        (0..ms * 16).map(|i| (amp * (i as f64 * 0.2).sin()) as i16).collect()
    }

    #[test]
    fn speech_between_silences_is_one_utterance_with_its_lead() {
        let mut e = Endpointer::default();
        assert_eq!(e.feed(&tone(1000, 0.0)), Vad::Quiet);
        assert_eq!(e.feed(&tone(400, 8000.0)), Vad::Speaking);
        assert_eq!(e.feed(&tone(300, 0.0)), Vad::Speaking, "a short pause inside a word does not end it");
        assert_eq!(e.feed(&tone(200, 8000.0)), Vad::Speaking);
        assert_eq!(e.feed(&tone(700, 0.0)), Vad::Ended);
        let audio = e.take();
        // lead (200 ms + the start frames) + 400 + 300 + 200 + 600 ms of tail
        let ms = audio.len() / 16;
        assert!((1700..=1800).contains(&ms), "{ms} ms kept");
    }

    #[test]
    fn clicks_and_hum_do_not_start_an_utterance() {
        let mut e = Endpointer::default();
        assert_eq!(e.feed(&tone(30, 8000.0)), Vad::Quiet, "30 ms is a click");
        assert_eq!(e.feed(&tone(2000, 200.0)), Vad::Quiet, "low hum");
        assert!(!e.finish());
    }

    #[test]
    fn endless_speech_ends_at_the_cap() {
        let mut e = Endpointer::default();
        let mut state = Vad::Quiet;
        for _ in 0..12 {
            state = e.feed(&tone(1000, 8000.0));
        }
        assert_eq!(state, Vad::Ended);
        assert!(e.take().len() <= MAX_FRAMES * FRAME);
    }

    #[test]
    fn odd_chunks_are_framed_alike() {
        let audio = [tone(500, 0.0), tone(400, 8000.0), tone(800, 0.0)].concat();
        let mut whole = Endpointer::default();
        whole.feed(&audio);
        let mut parts = Endpointer::default();
        for c in audio.chunks(77) {
            parts.feed(c);
        }
        assert_eq!(whole.state(), Vad::Ended);
        assert_eq!(whole.take(), parts.take());
    }

    #[test]
    fn upsampling_doubles_and_interpolates() {
        let mut out = Vec::new();
        upsample(&[0, 100, -100], &mut out);
        assert_eq!(out, vec![0, 50, 100, 0, -100, -100]);
    }
}
