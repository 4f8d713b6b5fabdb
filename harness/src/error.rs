//! Errors of the harness: every one names the file it is about.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in a file an error was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// The file as a whole.
    File,
    /// A test, by its index in the file.
    Test(usize),
    /// A byte offset (in the decompressed data).
    Offset(u64),
    /// A test, and the byte offset inside the decompressed data.
    TestAt(usize, u64),
}

/// A problem with an input file: unreadable, corrupt, malformed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    /// The file.
    pub path: PathBuf,
    /// Where in it.
    pub location: Location,
    /// What is wrong.
    pub message: String,
}

impl InputError {
    /// An error about a whole file.
    pub fn file(path: &Path, message: impl Into<String>) -> Self {
        InputError {
            path: path.to_path_buf(),
            location: Location::File,
            message: message.into(),
        }
    }

    /// An error about one test of a file.
    pub fn test(path: &Path, index: usize, message: impl Into<String>) -> Self {
        InputError {
            path: path.to_path_buf(),
            location: Location::Test(index),
            message: message.into(),
        }
    }

    /// An error at a byte offset of a file.
    pub fn offset(path: &Path, offset: u64, message: impl Into<String>) -> Self {
        InputError {
            path: path.to_path_buf(),
            location: Location::Offset(offset),
            message: message.into(),
        }
    }

    /// An error in a test at a byte offset.
    pub fn test_at(path: &Path, index: usize, offset: u64, message: impl Into<String>) -> Self {
        InputError {
            path: path.to_path_buf(),
            location: Location::TestAt(index, offset),
            message: message.into(),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        match self.location {
            Location::File => {}
            Location::Test(i) => write!(f, ": test {i}")?,
            Location::Offset(o) => write!(f, ": byte {o}")?,
            Location::TestAt(i, o) => write!(f, ": test {i} (byte {o})")?,
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for InputError {}
