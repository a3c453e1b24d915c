//! Audio checks on recorded files for the real-PBX suites (sox).

use std::path::Path;

/// One `sox ... stat` figure (the line starting with `label`).
fn stat(file: &Path, effects: &[String], label: &str) -> f64 {
    let out = std::process::Command::new("sox").arg(file).arg("-n").args(effects).arg("stat").output().expect("sox");
    let text = String::from_utf8_lossy(&out.stderr);
    text.lines()
        .find(|l| l.starts_with(label))
        .and_then(|l| l.split(':').nth(1))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("sox stat: {text}"))
}

/// The dominant frequency of one channel of a WAV file (sox's estimate).
pub fn tone_of(file: &Path, channel: u32) -> f64 {
    stat(file, &["remix".into(), channel.to_string()], "Rough")
}

/// The RMS amplitude (0-1) of a stretch of a WAV file.
pub fn rms_of(file: &Path, from_s: f64, len_s: f64) -> f64 {
    stat(file, &["trim".into(), format!("{from_s:.3}"), format!("{len_s:.3}")], "RMS     amplitude")
}
