//! The one place that puts output on disk, so that a process killed at any instant
//! (`kill -9`, a power cut of the terminal, Ctrl-C) leaves either the previous complete
//! output or a folder every reader knows is incomplete, and two writers never share one.
//!
//! How a writer goes:
//! 1. [`Lock::take`] creates the folder and takes an exclusive `flock` on its
//!    `.platsim.lock`. The kernel drops the lock when the process ends, however it ends,
//!    so a killed writer never leaves a stale lock behind; a second writer is refused.
//! 2. [`Lock::begin`] writes the marker `INCOMPLETE` before anything else changes.
//! 3. Each file is written to a temporary name and renamed over its place
//!    ([`write_atomic`]): a file is always the old bytes or the new, never a cut.
//! 4. [`Lock::finish`] removes `INCOMPLETE`, last. Readers ([`check_complete`]) refuse a
//!    folder that still has it, and say what to do.

use crate::Error;
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

/// Present while a writer changes a folder; removed when the folder is whole again.
pub const INCOMPLETE_FILE: &str = "INCOMPLETE";
/// The lock file of an output folder.
pub const LOCK_FILE: &str = ".platsim.lock";

/// Exclusive right to write one output folder, for as long as it lives.
#[derive(Debug)]
pub struct Lock {
    dir: PathBuf,
    _file: File,
}

impl Lock {
    /// Creates `dir` if needed and locks it; `what` (`run`, `sweep`, ...) names the writer
    /// in the message another writer gets.
    pub fn take(dir: &Path, what: &str) -> Result<Lock, Error> {
        create_dir(dir)?;
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::BadInput(format!(
                    "cannot write into {}: another platsim is writing there now (it holds {}); \
                     wait for it to end or choose another --out",
                    dir.display(),
                    path.display()
                )))
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
        // Who holds it, for people looking at the folder (not read back).
        let _ = file.set_len(0);
        let _ = writeln!(file, "{what} (process {})", std::process::id());
        Ok(Lock {
            dir: dir.to_path_buf(),
            _file: file,
        })
    }

    /// The locked folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Marks the folder incomplete before the first change; `redo` says how to make it
    /// whole (the command to run again).
    pub fn begin(&self, redo: &str) -> Result<(), Error> {
        write_atomic(
            &self.dir.join(INCOMPLETE_FILE),
            format!(
                "platsim was writing this folder and did not finish (it was stopped or \
                 failed); its files may mix two runs. To make it whole: {redo}\n"
            )
            .as_bytes(),
        )
    }

    /// Marks the folder complete: the last step of a writer.
    pub fn finish(&self) -> Result<(), Error> {
        let path = self.dir.join(INCOMPLETE_FILE);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(&path, e)),
        }
    }
}

/// Creates `dir` and its parents, with a message that says what is in the way.
pub fn create_dir(dir: &Path) -> Result<(), Error> {
    if dir.is_file() {
        return Err(Error::BadInput(format!(
            "cannot write into {}: it is a file, not a folder; choose a folder with --out",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename,
/// so `path` holds the old bytes or the new ones, never a part.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_atomic_with(path, &mut |w| {
        w.write_all(bytes).map_err(|e| Error::io(path, e))
    })
}

/// [`write_atomic`] for output too large to hold: `fill` writes it to a buffered
/// temporary file, which then replaces `path` whole.
pub fn write_atomic_with(
    path: &Path,
    fill: &mut dyn FnMut(&mut dyn Write) -> Result<(), Error>,
) -> Result<(), Error> {
    let name = path
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let result = File::create(&tmp)
        .map_err(|e| Error::io(path, e))
        .and_then(|file| {
            let mut w = std::io::BufWriter::new(file);
            fill(&mut w)?;
            w.into_inner()
                .map(drop)
                .map_err(|e| Error::io(path, e.into_error()))
        })
        .and_then(|()| std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e)));
    result.inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Refuses a folder a writer did not finish, saying which and what to do.
pub fn check_complete(dir: &Path) -> Result<(), Error> {
    let marker = dir.join(INCOMPLETE_FILE);
    if marker.exists() {
        let why = std::fs::read_to_string(&marker).unwrap_or_default();
        let redo = why
            .split_once("To make it whole: ")
            .map(|(_, r)| format!(" To make it whole: {}", r.trim()))
            .unwrap_or_default();
        return Err(Error::BadInput(format!(
            "{} is incomplete: platsim was stopped while writing it ({} is there), so its \
             files may be cut or mix two runs.{redo}",
            dir.display(),
            INCOMPLETE_FILE
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_and_the_lock_dies_with_its_holder() {
        let dir = tempfile::tempdir().unwrap();
        let first = Lock::take(dir.path(), "run").unwrap();
        let err = Lock::take(dir.path(), "sweep").unwrap_err().to_string();
        assert!(
            err.contains("another platsim is writing there now"),
            "{err}"
        );
        drop(first);
        Lock::take(dir.path(), "run").unwrap();
    }

    #[test]
    fn readers_refuse_a_folder_between_begin_and_finish() {
        let dir = tempfile::tempdir().unwrap();
        let lock = Lock::take(dir.path(), "run").unwrap();
        check_complete(dir.path()).unwrap();
        lock.begin("platsim run x.ron --seed 1").unwrap();
        let err = check_complete(dir.path()).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let err = err.to_string();
        assert!(err.contains("is incomplete"), "{err}");
        assert!(err.contains("platsim run x.ron --seed 1"), "{err}");
        lock.finish().unwrap();
        check_complete(dir.path()).unwrap();
    }

    #[test]
    fn atomic_writes_replace_whole_files_and_leave_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.json");
        write_atomic(&path, b"old").unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn a_file_in_place_of_the_folder_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, "").unwrap();
        let err = Lock::take(&file, "run").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.to_string().contains("it is a file, not a folder"),
            "{err}"
        );
    }
}
