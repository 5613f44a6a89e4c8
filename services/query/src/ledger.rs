//! The release ledger (SPEC §6, "everything the service ever releases from a project's data is
//! one release"): per linkage project, every distinct cell ever released — published or hidden,
//! with its rule — as a set of pseudonymised units, so that a new answer is protected against
//! the union of all earlier answers.
//!
//! On disk: `STORE/ledger/<project>.jsonl`, one line per released answer, holding the units it
//! introduced (pseudonyms, or `pseudonym#decision_ref` for decisions) and its new cells
//! (delta-encoded unit numbers and a status code). Each line names the SHA-256 of the previous
//! line, so the file is a hash chain; the hash of every appended line is also written to the
//! query audit log (`answer_released`), which is itself hash-chained. Lines are appended and
//! fsync'ed before the answer is served. While a process holds a ledger it holds an exclusive
//! lock on `<project>.lock`, so the service and an offline `query produce` never both append.
//!
//! A ledger is bound to the pseudonymisation key of the project (its fingerprint): deliveries of
//! the same project under another key version hold other pseudonyms, which the ledger could not
//! relate, so they are refused.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::disclosure::{Prior, Status};
use crate::error::{Error, Result};
use crate::stats::Units;

#[derive(Debug, Serialize, Deserialize)]
struct Line {
    prev: String,
    key_fingerprint: String,
    delivery_id: String,
    years: [i32; 2],
    /// Units this answer introduced, numbered on from the ledger's previous units.
    units: Vec<String>,
    /// New cells: (status code, delta-encoded sorted unit numbers).
    cells: Vec<(u8, Vec<u32>)>,
}

/// An answer recorded in the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub delivery_id: String,
    pub years: (i32, i32),
}

pub struct Ledger {
    pub project: String,
    path: PathBuf,
    _lock: File,
    key_fingerprint: Option<String>,
    units: Vec<String>,
    unit_ids: HashMap<String, u32>,
    sets: Vec<Units>,
    status: Vec<Status>,
    pub answers: Vec<Answer>,
    /// SHA-256 of the last line (empty for an empty ledger).
    head: String,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").field("project", &self.project).field("answers", &self.answers.len()).field("cells", &self.sets.len()).finish()
    }
}

fn bad(path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::Output { path: path.display().to_string(), reason: reason.to_string() }
}

fn delta(units: &[u32]) -> Vec<u32> {
    let mut prev = 0;
    units
        .iter()
        .enumerate()
        .map(|(i, &u)| {
            let d = if i == 0 { u } else { u - prev };
            prev = u;
            d
        })
        .collect()
}

fn undelta(d: &[u32]) -> Vec<u32> {
    let mut acc = 0u32;
    d.iter()
        .enumerate()
        .map(|(i, &x)| {
            acc = if i == 0 { x } else { acc + x };
            acc
        })
        .collect()
}

impl Ledger {
    /// Open (or create) the ledger of `project` under `dir`, verifying its hash chain, and take
    /// its lock.
    pub fn open(dir: &Path, project: &str) -> Result<Self> {
        if project.is_empty() || !project.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)) || project.starts_with('.') {
            return Err(Error::BadRequest("a delivery's project must be 1-128 characters of [A-Za-z0-9._-]".into()));
        }
        std::fs::create_dir_all(dir).map_err(|e| bad(dir, e))?;
        let lock_path = dir.join(format!("{project}.lock"));
        let lock = File::options().create(true).truncate(false).write(true).open(&lock_path).map_err(|e| bad(&lock_path, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::Busy(format!(
                    "the release ledger of project {project} is held by another process (a running query service?): \
                     run the production through it (`query run`)"
                )))
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(bad(&lock_path, e)),
        }
        let path = dir.join(format!("{project}.jsonl"));
        let mut ledger = Ledger {
            project: project.to_string(),
            path: path.clone(),
            _lock: lock,
            key_fingerprint: None,
            units: Vec::new(),
            unit_ids: HashMap::new(),
            sets: Vec::new(),
            status: Vec::new(),
            answers: Vec::new(),
            head: String::new(),
        };
        let Ok(file) = File::open(&path) else { return Ok(ledger) };
        let mut good_len = 0u64;
        let mut lines = std::io::BufReader::new(file).split(b'\n').peekable();
        let mut n = 0;
        while let Some(line) = lines.next() {
            n += 1;
            let raw = line.map_err(|e| bad(&path, e))?;
            let parsed: Line = match serde_json::from_slice(&raw) {
                Ok(l) => l,
                Err(e) if lines.peek().is_none() => {
                    // A torn last line: the process died mid-append, before the answer was
                    // served or logged. Drop it.
                    tracing::warn!(project, line = n, error = %e, "dropping a torn last line of the release ledger");
                    let f = File::options().write(true).open(&path).map_err(|e| bad(&path, e))?;
                    f.set_len(good_len).map_err(|e| bad(&path, e))?;
                    break;
                }
                Err(e) => return Err(bad(&path, format!("line {n}: {e}"))),
            };
            if parsed.prev != ledger.head {
                return Err(bad(&path, format!("line {n}: the hash chain is broken (the ledger was altered)")));
            }
            ledger.apply(parsed).map_err(|e| bad(&path, format!("line {n}: {e}")))?;
            ledger.head = hex::encode(Sha256::digest(&raw));
            good_len += raw.len() as u64 + 1;
        }
        Ok(ledger)
    }

    fn apply(&mut self, line: Line) -> std::result::Result<(), String> {
        match &self.key_fingerprint {
            Some(k) if *k != line.key_fingerprint => return Err("a line under another key".into()),
            _ => self.key_fingerprint = Some(line.key_fingerprint.clone()),
        }
        for u in line.units {
            self.intern(&u);
        }
        for (code, d) in line.cells {
            let status = Status::from_code(code).ok_or("unknown status code")?;
            let units = undelta(&d);
            if units.iter().any(|&u| u as usize >= self.units.len()) {
                return Err("a cell names an unknown unit".into());
            }
            self.sets.push(Arc::new(units));
            self.status.push(status);
        }
        self.answers.push(Answer { delivery_id: line.delivery_id, years: (line.years[0], line.years[1]) });
        Ok(())
    }

    /// The ledger's number for a unit (new units are numbered on; they are written to disk
    /// with the answer that introduced them).
    /// Whether the unit has a number in this ledger.
    pub fn knows(&self, unit: &str) -> bool {
        self.unit_ids.contains_key(unit)
    }

    pub fn intern(&mut self, unit: &str) -> u32 {
        if let Some(&i) = self.unit_ids.get(unit) {
            return i;
        }
        let i = self.units.len() as u32;
        self.units.push(unit.to_string());
        self.unit_ids.insert(unit.to_string(), i);
        i
    }

    /// Forget units interned after `len` (an answer that was not released).
    pub fn truncate_units(&mut self, len: usize) {
        for u in self.units.drain(len..) {
            self.unit_ids.remove(&u);
        }
    }

    pub fn units_len(&self) -> usize {
        self.units.len()
    }

    pub fn prior(&self) -> Prior<'_> {
        Prior { sets: &self.sets, status: &self.status }
    }

    pub fn cells(&self) -> usize {
        self.sets.len()
    }

    /// Refuse a delivery under another pseudonymisation key than the ledger's.
    pub fn check_key(&self, fingerprint: &str) -> Result<()> {
        match &self.key_fingerprint {
            Some(k) if k != fingerprint => Err(Error::Precondition(format!(
                "project {} already has releases under another pseudonymisation key; a delivery under a new key \
                 must be linked as a new project",
                self.project
            ))),
            _ => Ok(()),
        }
    }

    /// Append an answer: the units interned since `units_before` and its new cells. Returns the
    /// SHA-256 of the line (for the audit log). Written and fsync'ed before it returns.
    pub fn append(&mut self, key_fingerprint: &str, answer: Answer, units_before: usize, cells: Vec<(Units, Status)>) -> Result<String> {
        self.check_key(key_fingerprint)?;
        let line = Line {
            prev: self.head.clone(),
            key_fingerprint: key_fingerprint.to_string(),
            delivery_id: answer.delivery_id.clone(),
            years: [answer.years.0, answer.years.1],
            units: self.units[units_before..].to_vec(),
            cells: cells.iter().map(|(u, s)| (s.code(), delta(u))).collect(),
        };
        let mut raw = serde_json::to_vec(&line).map_err(|e| bad(&self.path, e))?;
        let hash = hex::encode(Sha256::digest(&raw));
        raw.push(b'\n');
        let mut f = File::options().create(true).append(true).open(&self.path).map_err(|e| bad(&self.path, e))?;
        f.write_all(&raw).and_then(|()| f.sync_data()).map_err(|e| bad(&self.path, e))?;
        self.key_fingerprint = Some(key_fingerprint.to_string());
        for (u, s) in cells {
            self.sets.push(u);
            self.status.push(s);
        }
        self.answers.push(answer);
        self.head = hash.clone();
        Ok(hash)
    }

    pub fn head(&self) -> &str {
        &self.head
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_survive_a_reopen_and_tampering_is_found() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut l = Ledger::open(dir.path(), "p1").expect("opens");
        let before = l.units_len();
        let (a, b) = (l.intern("aa"), l.intern("bb"));
        let cells = vec![(Arc::new(vec![a, b]), Status::Published), (Arc::new(vec![b]), Status::Hidden(crate::disclosure::Rule::Primary))];
        let h = l.append("k1", Answer { delivery_id: "d1".into(), years: (2018, 2020) }, before, cells).expect("appends");
        assert_eq!(h.len(), 64);
        // A second process cannot take the ledger while it is open.
        assert!(matches!(Ledger::open(dir.path(), "p1"), Err(Error::Busy(_))));
        drop(l);
        let l = Ledger::open(dir.path(), "p1").expect("reopens");
        assert_eq!((l.cells(), l.units_len(), l.answers.len(), l.head()), (2, 2, 1, h.as_str()));
        assert_eq!(l.prior().status[1], Status::Hidden(crate::disclosure::Rule::Primary));
        assert!(matches!(l.check_key("k2"), Err(Error::Precondition(_))));
        drop(l);
        // Two answers; then alter the first: the second line no longer names its hash.
        let mut l = Ledger::open(dir.path(), "p1").expect("reopens");
        l.append("k1", Answer { delivery_id: "d2".into(), years: (2019, 2020) }, 2, vec![]).expect("appends");
        drop(l);
        let path = dir.path().join("p1.jsonl");
        let text = std::fs::read_to_string(&path).expect("read");
        std::fs::write(&path, text.replacen("\"d1\"", "\"d9\"", 1)).expect("write");
        let e = Ledger::open(dir.path(), "p1").expect_err("broken chain");
        assert!(e.to_string().contains("hash chain"), "{e}");
    }

    #[test]
    fn a_torn_last_line_is_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut l = Ledger::open(dir.path(), "p").expect("opens");
        let u = l.intern("x");
        l.append("k", Answer { delivery_id: "d".into(), years: (2019, 2019) }, 0, vec![(Arc::new(vec![u]), Status::Published)]).expect("appends");
        drop(l);
        let path = dir.path().join("p.jsonl");
        let mut text = std::fs::read_to_string(&path).expect("read");
        text.push_str("{\"prev\":\"ab");
        std::fs::write(&path, text).expect("write");
        let l = Ledger::open(dir.path(), "p").expect("reopens");
        assert_eq!(l.answers.len(), 1);
    }
}
