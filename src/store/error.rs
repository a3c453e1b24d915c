// SPDX-License-Identifier: GPL-2.0-or-later
//! Store errors that an operator can act on: every message names the file
//! and says what is wrong with it (read-only, not a database, corrupt, disk
//! full, written by a newer Hotline), not just SQLite's code.

use std::fmt;
use std::path::{Path, PathBuf};

use rusqlite::ErrorCode;

/// What is wrong, in the operator's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreErrorKind {
    /// The directory, the file or the file system cannot be written.
    ReadOnly,
    /// The file is not a SQLite database (or its header is destroyed).
    NotADatabase,
    /// A SQLite database whose pages are damaged.
    Corrupt,
    DiskFull,
    /// The file was migrated by a newer Hotline than this one.
    NewerSchema { found: u32, known: u32 },
    /// Another process holds the database locked beyond the busy timeout.
    Busy,
    /// Any other I/O failure (the directory cannot be made, the file cannot
    /// be opened, a read failed).
    Io,
    /// The writer thread could not be started.
    Thread,
    /// Anything else SQLite reported.
    Sqlite,
}

/// A store problem: `path: what is wrong: detail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError {
    pub path: PathBuf,
    pub kind: StoreErrorKind,
    /// The underlying message (SQLite's or the OS's).
    pub detail: String,
}

impl StoreError {
    pub(crate) fn new(path: &Path, kind: StoreErrorKind, detail: impl Into<String>) -> StoreError {
        StoreError { path: path.to_path_buf(), kind, detail: detail.into() }
    }

    /// A SQLite failure on `path`, classified by its result code.
    pub(crate) fn sqlite(path: &Path, e: &rusqlite::Error) -> StoreError {
        StoreError::new(path, classify(e), e.to_string())
    }

    /// An OS failure on `path` (creating the directory, probing it).
    pub(crate) fn io(path: &Path, e: &std::io::Error) -> StoreError {
        // By errno: io::ErrorKind's ReadOnlyFilesystem and StorageFull are
        // newer than our rust-version.
        let kind = match e.raw_os_error() {
            Some(libc::EACCES | libc::EPERM | libc::EROFS) => StoreErrorKind::ReadOnly,
            Some(libc::ENOSPC | libc::EDQUOT) => StoreErrorKind::DiskFull,
            _ if e.kind() == std::io::ErrorKind::PermissionDenied => StoreErrorKind::ReadOnly,
            _ => StoreErrorKind::Io,
        };
        StoreError::new(path, kind, e.to_string())
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            StoreErrorKind::ReadOnly => "cannot be written (read-only directory, file or file system)".to_string(),
            StoreErrorKind::NotADatabase => "not a SQLite database (a wrong file, or its header is destroyed)".to_string(),
            StoreErrorKind::Corrupt => "the database is corrupt (restore a backup or move the file away)".to_string(),
            StoreErrorKind::DiskFull => "disk full".to_string(),
            StoreErrorKind::NewerSchema { found, known } => format!(
                "schema version {found} is newer than this Hotline knows ({known}): \
                 written by a newer version; upgrade Hotline or move the file away"
            ),
            StoreErrorKind::Busy => "locked by another process".to_string(),
            StoreErrorKind::Io => "I/O error".to_string(),
            StoreErrorKind::Thread => "cannot start the writer thread".to_string(),
            StoreErrorKind::Sqlite => "SQLite error".to_string(),
        };
        if self.detail.is_empty() {
            write!(f, "{}: {what}", self.path.display())
        } else {
            write!(f, "{}: {what}: {}", self.path.display(), self.detail)
        }
    }
}

impl std::error::Error for StoreError {}

/// The operator's reading of a SQLite result code.
pub(crate) fn classify(e: &rusqlite::Error) -> StoreErrorKind {
    match e.sqlite_error_code() {
        Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied) => StoreErrorKind::ReadOnly,
        Some(ErrorCode::NotADatabase) => StoreErrorKind::NotADatabase,
        Some(ErrorCode::DatabaseCorrupt) => StoreErrorKind::Corrupt,
        Some(ErrorCode::DiskFull) => StoreErrorKind::DiskFull,
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreErrorKind::Busy,
        Some(ErrorCode::SystemIoFailure | ErrorCode::CannotOpen | ErrorCode::FileLockingProtocolFailed) => StoreErrorKind::Io,
        _ => StoreErrorKind::Sqlite,
    }
}

/// A write failure that retrying the same rows cannot cure (the row itself
/// is refused), as opposed to the disk or the file being unwritable for a
/// while (full, read-only, I/O error, locked), which back-off waits out.
pub(crate) fn is_permanent(e: &rusqlite::Error) -> bool {
    match e.sqlite_error_code() {
        Some(ErrorCode::ConstraintViolation | ErrorCode::TooBig | ErrorCode::TypeMismatch) => true,
        Some(_) => false,
        // Not from SQLite: a value that cannot be bound (rusqlite's own check).
        None => true,
    }
}
