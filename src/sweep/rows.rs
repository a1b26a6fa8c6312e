//! A sweep's rows on disk: where in the record logs each run's record is, so the tables
//! are written by reading the records back in table order, one at a time, instead of
//! keeping them in memory. A record is several KB (a tiny scenario's summary has hundreds
//! of cells); the index is 8 bytes a run, so a sweep of a million runs holds 8 MB where
//! the records would hold tens of GB.
//!
//! Runs finish about in table order (each free thread takes the next run), so reading
//! them back is mostly sequential: the reader seeks only where the order differs.

use super::record::{self, Record};
use crate::Error;
use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// No record of this run.
const ABSENT: u64 = u64::MAX;

/// Which runs have a record, and where it is: a byte offset into the concatenation of
/// the indexed logs (a sweep has one, a merge one per shard).
#[derive(Debug)]
pub struct Rows {
    logs: Vec<PathBuf>,
    /// Where each log begins in the concatenation.
    starts: Vec<u64>,
    /// By run number.
    at: Vec<u64>,
    /// Where the next log would begin.
    end: u64,
    count: usize,
    failed: usize,
}

impl Rows {
    /// No record yet of any of `runs` runs.
    pub fn new(runs: usize) -> Rows {
        Rows {
            logs: Vec::new(),
            starts: Vec::new(),
            at: vec![ABSENT; runs],
            end: 0,
            count: 0,
            failed: 0,
        }
    }

    /// Indexes the records of the log at `path`: `run_of` says which run a record is (or
    /// why it does not belong). A run recorded twice keeps its first record. Returns the
    /// records newly indexed, the bytes of whole lines and whether a torn line followed.
    pub fn add_log(
        &mut self,
        path: &Path,
        mut run_of: impl FnMut(&Record) -> Result<usize, String>,
    ) -> Result<(usize, u64, bool), Error> {
        let base = self.end;
        let mut added = 0;
        let (good_len, torn) = record::scan(path, |offset, r| {
            let k = run_of(&r)?;
            if self.at[k] == ABSENT {
                self.at[k] = base + offset;
                self.count += 1;
                self.failed += usize::from(!r.failed.is_empty());
                added += 1;
            }
            Ok(())
        })
        .map_err(Error::BadInput)?;
        self.logs.push(path.to_path_buf());
        self.starts.push(base);
        // Every record of this log lies before its whole lines end.
        self.end = base + good_len;
        Ok((added, good_len, torn))
    }

    /// Does run `k` have a record?
    pub fn has(&self, k: usize) -> bool {
        self.at[k] != ABSENT
    }

    /// Runs with a record.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Of those, runs that failed (a predicate, or could not finish).
    pub fn failed(&self) -> usize {
        self.failed
    }

    /// Calls `f` with the record of each run in `runs` that has one, in run order, read
    /// back from disk one at a time.
    pub fn each(
        &self,
        runs: Range<usize>,
        mut f: impl FnMut(&Record) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut open: Option<(usize, BufReader<File>, u64)> = None;
        let mut line = Vec::new();
        for k in runs {
            let at = self.at[k];
            if at == ABSENT {
                continue;
            }
            let log = self.starts.partition_point(|&s| s <= at) - 1;
            let offset = at - self.starts[log];
            let path = &self.logs[log];
            let io = |e: std::io::Error| Error::io(path, e);
            if open.as_ref().is_none_or(|(l, _, _)| *l != log) {
                open = Some((log, BufReader::new(File::open(path).map_err(io)?), 0));
            }
            let (_, reader, pos) = open.as_mut().expect("opened above");
            if *pos != offset {
                reader.seek(SeekFrom::Start(offset)).map_err(io)?;
            }
            line.clear();
            let n = reader.read_until(b'\n', &mut line).map_err(io)?;
            *pos = offset + n as u64;
            let record =
                record::parse(line.strip_suffix(b"\n").unwrap_or(&line)).ok_or_else(|| {
                    Error::BadInput(format!(
                        "{} changed while it was read (byte {offset}); run the command again",
                        path.display()
                    ))
                })?;
            f(&record)?;
        }
        Ok(())
    }
}

#[cfg(test)]
impl Rows {
    /// `records`, in the order given, as a sweep of `def` would leave them on disk.
    pub fn in_temp(def: &super::Definition, records: &[Record]) -> (tempfile::TempDir, Rows) {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join(record::RUNS_FILE);
        let mut log = record::Appender::open(&path).expect("a log");
        for r in records {
            log.append(r).expect("appended");
        }
        let mut rows = Rows::new(def.runs());
        rows.add_log(&path, |r| {
            def.run_index(r.point, r.seed)
                .ok_or_else(|| "not of the sweep".to_string())
        })
        .expect("indexed");
        (dir, rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::record::{Appender, Ordered};

    fn rec(point: usize, seed: u64) -> Record {
        Record {
            point,
            seed,
            params: Ordered::default(),
            cells: Ordered(vec![("m".into(), seed.to_string())]),
            failed: if seed == 2 { vec!["x".into()] } else { vec![] },
        }
    }

    #[test]
    fn records_come_back_in_run_order_across_logs_first_copy_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
        let mut log = Appender::open(&a).unwrap();
        for seed in [3, 1, 3] {
            log.append(&rec(0, seed)).unwrap();
        }
        let mut log = Appender::open(&b).unwrap();
        for seed in [2, 0] {
            log.append(&rec(0, seed)).unwrap();
        }
        let mut rows = Rows::new(5);
        let run_of = |r: &Record| Ok(r.seed as usize);
        assert_eq!(rows.add_log(&a, run_of).unwrap().0, 2);
        assert_eq!(rows.add_log(&b, run_of).unwrap().0, 2);
        assert_eq!((rows.len(), rows.failed()), (4, 1));
        assert!(!rows.has(4));
        let mut seen = Vec::new();
        rows.each(0..5, |r| {
            seen.push(r.seed);
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, [0, 1, 2, 3]);
        let bad = rows.add_log(&a, |_| Err("not ours".into())).unwrap_err();
        assert!(bad.to_string().contains("not ours"), "{bad}");
    }
}
