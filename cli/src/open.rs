//! Opening the store file: only some commands may create it, and a store
//! they created is removed again when the command fails.

use std::path::{Path, PathBuf};

use rosterdb::{Options, Store};

use crate::exit::CliError;

/// Whether a command may create the store file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The file must exist and not be empty (`NotFound` otherwise).
    Existing,
    /// A missing file becomes a new, empty store.
    Create,
}

/// An open store, and the files its opening created.
pub struct Opened {
    /// The store.
    pub store: Store,
    /// The store file and its log when this open created them.
    created: Option<[PathBuf; 2]>,
}

/// Opens the store at `path`.
pub fn open(path: &Path, mode: Mode) -> Result<Opened, CliError> {
    let exists = path.try_exists().map_err(|error| CliError::File {
        path: path.to_path_buf(),
        error,
    })?;
    // An empty file (`touch s.redb`) holds no store yet: reads must not
    // turn it into one (the store would initialise it, and add a log).
    let empty = exists && std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == 0);
    if (!exists || empty) && mode == Mode::Existing {
        return Err(CliError::NoStore(path.to_path_buf()));
    }
    let store = Store::open(path, Options::default())?;
    let created = (!exists).then(|| {
        let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let mut log = real.clone().into_os_string();
        log.push("-wal");
        [real, PathBuf::from(log)]
    });
    Ok(Opened { store, created })
}

impl Opened {
    /// Runs `f` on the store; when it fails and this open created the
    /// store, closes it and removes its files, so a failed command leaves
    /// nothing behind.
    pub fn run<T>(self, f: impl FnOnce(&Store) -> Result<T, CliError>) -> Result<T, CliError> {
        let result = f(&self.store);
        if let (Err(_), Some(files)) = (&result, &self.created) {
            drop(self.store);
            for file in files {
                // A file that cannot be removed stays; the error told is the command's.
                let _ = std::fs::remove_file(file);
            }
        }
        result
    }
}
