//! What a built module exports: its entry points and nothing else. A
//! bundled library's symbol (SQLite, ring, rustls, tokio...) in the dynamic
//! table could bind to the PBX's own copy of that library, or it to ours.

use std::path::Path;
use std::process::Command;

/// The module's exported (defined, dynamic) symbols.
pub fn exported(module: &Path) -> Vec<String> {
    let out = Command::new("nm").args(["-D", "--defined-only", "--format=posix"]).arg(module).output().expect("run nm (binutils)");
    assert!(out.status.success(), "nm -D {}: {}", module.display(), String::from_utf8_lossy(&out.stderr));
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| l.split_whitespace().next().map(str::to_string)).collect();
    names.sort();
    names
}

/// Fail on anything but `expected`, naming library symbols first.
pub fn assert_exports_only(module: &Path, expected: &[&str]) {
    let names = exported(module);
    let library: Vec<&String> = names
        .iter()
        .filter(|n| ["sqlite3", "SSL_", "ring_", "tokio", "rustls", "hyper", "axum", "regex"].iter().any(|p| n.to_lowercase().contains(&p.to_lowercase())))
        .collect();
    assert!(library.is_empty(), "{} exports library symbols: {library:?}", module.display());
    let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(names, want, "{} must export only its entry points", module.display());
}
