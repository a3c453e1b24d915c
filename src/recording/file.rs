// SPDX-License-Identifier: GPL-2.0-or-later
//! What a finished recording file holds: its size, SHA-256 and, for WAV,
//! its length from the header (the PBX's recorder writes the sizes when
//! it closes the file). Read off the PBX threads (the recordings sink).

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub size: u64,
    pub sha256: String,
    /// From the WAV header; None for other formats.
    pub duration_ms: Option<u64>,
    pub channels: Option<u16>,
    /// The WAV header's sizes agree with the file's: the recorder closed it.
    pub complete: bool,
}

pub fn inspect(path: &Path) -> std::io::Result<Facts> {
    let mut f = std::fs::File::open(path)?;
    let mut hash = Sha256::new();
    let mut head = Vec::with_capacity(4096);
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if head.len() < 4096 {
            let take = (4096 - head.len()).min(n);
            head.extend_from_slice(&buf[..take]);
        }
        hash.update(&buf[..n]);
        size += n as u64;
    }
    let sha256 = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let wav = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("wav"));
    let (duration_ms, channels, complete) = match wav.then(|| wav_header(&head)).flatten() {
        Some(h) => {
            let complete = h.riff_size as u64 + 8 == size && h.data_offset as u64 + h.data_size as u64 <= size;
            let bytes_per_sec = h.byte_rate.max(1) as u64;
            (Some(h.data_size as u64 * 1000 / bytes_per_sec), Some(h.channels), complete)
        }
        None => (None, None, !wav && size > 0),
    };
    Ok(Facts { size, sha256, duration_ms, channels, complete })
}

struct WavHeader {
    riff_size: u32,
    channels: u16,
    byte_rate: u32,
    data_offset: usize,
    data_size: u32,
}

fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?))
}

fn u16_at(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(i..i + 2)?.try_into().ok()?))
}

/// RIFF/WAVE: the `fmt ` chunk's channels and byte rate, the `data`
/// chunk's size and where it starts.
fn wav_header(b: &[u8]) -> Option<WavHeader> {
    if b.get(0..4)? != b"RIFF" || b.get(8..12)? != b"WAVE" {
        return None;
    }
    let riff_size = u32_at(b, 4)?;
    let (mut i, mut fmt) = (12usize, None);
    while i + 8 <= b.len() {
        let id = &b[i..i + 4];
        let len = u32_at(b, i + 4)? as usize;
        if id == b"fmt " {
            fmt = Some((u16_at(b, i + 10)?, u32_at(b, i + 16)?));
        } else if id == b"data" {
            let (channels, byte_rate) = fmt?;
            return Some(WavHeader { riff_size, channels, byte_rate, data_offset: i + 8, data_size: len as u32 });
        }
        i += 8 + len + (len & 1);
    }
    None
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A PCM WAV file of `ms` of silence at 8 kHz, 16 bits.
    pub(crate) fn wav(channels: u16, ms: u32) -> Vec<u8> {
        let byte_rate = 8000 * 2 * channels as u32;
        let data = byte_rate * ms / 1000;
        let mut v = Vec::new();
        v.extend_from_slice(b"RIFF");
        v.extend_from_slice(&(36 + data).to_le_bytes());
        v.extend_from_slice(b"WAVEfmt ");
        v.extend_from_slice(&16u32.to_le_bytes());
        v.extend_from_slice(&1u16.to_le_bytes());
        v.extend_from_slice(&channels.to_le_bytes());
        v.extend_from_slice(&8000u32.to_le_bytes());
        v.extend_from_slice(&byte_rate.to_le_bytes());
        v.extend_from_slice(&(2 * channels).to_le_bytes());
        v.extend_from_slice(&16u16.to_le_bytes());
        v.extend_from_slice(b"data");
        v.extend_from_slice(&data.to_le_bytes());
        v.resize(v.len() + data as usize, 0);
        v
    }

    #[test]
    fn a_wav_files_length_size_and_checksum_come_from_the_file() {
        let dir = std::env::temp_dir().join(format!("hotline-rec-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("a.wav");
        std::fs::write(&p, wav(2, 1500)).unwrap();
        let f = inspect(&p).unwrap();
        assert_eq!((f.duration_ms, f.channels, f.complete, f.size), (Some(1500), Some(2), true, 44 + 48_000));
        assert_eq!(f.sha256.len(), 64);
        // Still being written: the header's sizes are not there yet.
        let mut open = wav(1, 1000);
        open[4..8].copy_from_slice(&0u32.to_le_bytes());
        std::fs::write(&p, &open).unwrap();
        assert!(!inspect(&p).unwrap().complete);
        std::fs::write(dir.join("b.gsm"), [1u8; 330]).unwrap();
        let g = inspect(&dir.join("b.gsm")).unwrap();
        assert_eq!((g.duration_ms, g.complete, g.size), (None, true, 330));
        assert!(inspect(&dir.join("missing.wav")).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
