//! `runs.jsonl`: one line per finished run, appended and flushed as runs finish, in the
//! order they finish. It is what makes an interrupted sweep lose nothing: Ctrl-C or a kill
//! leaves every finished run on disk (`jq` reads it), `--resume` skips the runs in it, and
//! `merge` builds the combined tables from the shards' files. `results.csv` and
//! `sweep.json` are written from these records at the end, sorted, so they are the same
//! however the runs were scheduled, interrupted or split.
//!
//! A line: `{"point":3,"seed":7,"params":{...},"cells":{"duration_s":"60.0",...},
//! "failed":["services.api.sojourn_ms.p99 > 500 (was 612.3)"]}`. Cells are kept as the
//! exact text of the table, so a record read back writes the same bytes.

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// The file name of the record log in a sweep folder.
pub const RUNS_FILE: &str = "runs.jsonl";

/// One finished run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub point: usize,
    pub seed: u64,
    /// The point's swept values, for people reading the file (not read back).
    #[serde(default)]
    pub params: Ordered<String>,
    /// `(column, cell)` in summary order; empty when the run could not finish.
    pub cells: Ordered<String>,
    /// Why the run failed: the `--fail-if` predicates it broke, or why it could not finish.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<String>,
}

/// A map that keeps its order, written as a JSON object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ordered<V>(pub Vec<(String, V)>);

impl<V: Serialize> Serialize for Ordered<V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Ordered<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V2<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for V2<V> {
            type Value = Ordered<V>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Ordered<V>, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = m.next_entry()? {
                    entries.push(entry);
                }
                Ok(Ordered(entries))
            }
        }
        d.deserialize_map(V2(std::marker::PhantomData))
    }
}

/// Appends records to `runs.jsonl`, one `write` and flush per line, so a kill can only
/// tear the line being written (which `read` then drops).
pub struct Appender {
    file: File,
    path: PathBuf,
}

impl Appender {
    pub fn open(path: &Path) -> std::io::Result<Appender> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Appender {
            file,
            path: path.to_path_buf(),
        })
    }

    pub fn append(&mut self, record: &Record) -> Result<(), crate::Error> {
        let mut line = serde_json::to_string(record).expect("a record serializes");
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.flush())
            .map_err(|e| crate::Error::Output {
                path: self.path.display().to_string(),
                reason: e.to_string(),
            })
    }
}

/// What `read` found in a record log.
#[derive(Debug, Default)]
pub struct Log {
    pub records: Vec<Record>,
    /// Bytes of whole, readable lines; anything after (a line torn by a kill) is garbage.
    pub good_len: u64,
    /// The file had a torn last line.
    pub torn: bool,
}

/// Reads a whole record log into memory (small logs and tests; sweeps use [`scan`]).
pub fn read(path: &Path) -> Result<Log, String> {
    let mut records = Vec::new();
    let (good_len, torn) = scan(path, |_, r| {
        records.push(r);
        Ok(())
    })?;
    Ok(Log {
        records,
        good_len,
        torn,
    })
}

/// Reads a record log one line at a time (memory: one line, whatever the log's size),
/// calling `each(offset, record)` for every whole line, and returns the bytes of whole
/// lines and whether a torn last line followed. A missing file is an empty log. Only the
/// last line may be broken (torn by a kill while it was written); a broken line before
/// it is an error.
pub fn scan(
    path: &Path,
    mut each: impl FnMut(u64, Record) -> Result<(), String>,
) -> Result<(u64, bool), String> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, false)),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    let (mut good_len, mut line_no) = (0u64, 0usize);
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if n == 0 {
            return Ok((good_len, false));
        }
        line_no += 1;
        if line.last() != Some(&b'\n') {
            return Ok((good_len, true));
        }
        let record = parse(&line[..n - 1]).ok_or_else(|| {
            format!(
                "{} line {line_no} is damaged; remove that line (or the file, to start over)",
                path.display()
            )
        })?;
        each(good_len, record)?;
        good_len += n as u64;
    }
}

/// One line of a record log (without its newline) as a record.
pub fn parse(line: &[u8]) -> Option<Record> {
    serde_json::from_slice(line).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(point: usize, seed: u64) -> Record {
        Record {
            point,
            seed,
            params: Ordered(vec![("a".into(), "1".into())]),
            cells: Ordered(vec![("z".into(), "1.5".into()), ("b".into(), "".into())]),
            failed: vec![],
        }
    }

    #[test]
    fn records_round_trip_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(RUNS_FILE);
        let mut a = Appender::open(&path).unwrap();
        a.append(&rec(0, 1)).unwrap();
        a.append(&rec(1, 2)).unwrap();
        let log = read(&path).unwrap();
        assert_eq!(log.records, [rec(0, 1), rec(1, 2)]);
        assert!(!log.torn);
        let line = std::fs::read_to_string(&path).unwrap();
        assert!(
            line.starts_with(
                r#"{"point":0,"seed":1,"params":{"a":"1"},"cells":{"z":"1.5","b":""}}"#
            ),
            "{line}"
        );
    }

    #[test]
    fn a_torn_last_line_is_dropped_and_a_damaged_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(RUNS_FILE);
        let mut a = Appender::open(&path).unwrap();
        a.append(&rec(0, 1)).unwrap();
        let good = std::fs::metadata(&path).unwrap().len();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(br#"{"point":1,"se"#)
            .unwrap();
        let log = read(&path).unwrap();
        assert_eq!(log.records.len(), 1);
        assert!(log.torn);
        assert_eq!(log.good_len, good);
        std::fs::write(&path, "garbage\n{}\n").unwrap();
        assert!(read(&path).unwrap_err().contains("line 1 is damaged"));
        assert!(read(&dir.path().join("none")).unwrap().records.is_empty());
    }
}
