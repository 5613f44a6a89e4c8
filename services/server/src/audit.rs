//! The append-only, tamper-evident audit log (SPEC §2): JSON lines, each carrying the hash of
//! the previous entry, so that editing, removing or reordering any entry breaks the chain.
//!
//! `hash = SHA-256(prev_hash ‖ "\n" ‖ the entry's canonical JSON without its hash)`; the first
//! entry's `prev` is 64 zeros. Keys are serialised in a fixed order (struct order; `details` is
//! a sorted map), so the JSON is canonical. The hash of the newest entry is also kept in
//! `<log>.head`, so that removing entries from the end is detected too (an attacker who can
//! rewrite both files can forge a shorter log: keep the head hash somewhere else as well — it
//! is printed with every job result).

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    pub seq: u64,
    /// RFC 3339, UTC.
    pub time: String,
    /// Who asked: the caller's certificate identity, or the service itself.
    pub actor: String,
    /// e.g. `job_submitted`, `job_succeeded`, `job_failed`, `delivery_published`.
    pub action: String,
    pub details: serde_json::Value,
    pub prev: String,
    pub hash: String,
}

#[derive(Serialize)]
struct Unhashed<'a> {
    seq: u64,
    time: &'a str,
    actor: &'a str,
    action: &'a str,
    details: &'a serde_json::Value,
    prev: &'a str,
}

fn entry_hash(e: &Entry) -> String {
    let body = Unhashed { seq: e.seq, time: &e.time, actor: &e.actor, action: &e.action, details: &e.details, prev: &e.prev };
    let json = serde_json::to_string(&body).unwrap_or_default();
    let mut h = Sha256::new();
    h.update(e.prev.as_bytes());
    h.update(b"\n");
    h.update(json.as_bytes());
    hex::encode(h.finalize())
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit log {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("audit log {path}: {problem}")]
    Tampered { path: PathBuf, problem: Tampering },
}

/// The first problem found in a log, with its 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Tampering {
    #[error("line {line}: not a valid audit entry")]
    Unparsable { line: usize },
    #[error("line {line}: entry was edited (its hash does not match its content)")]
    Edited { line: usize },
    #[error("line {line}: sequence number {found}, expected {expected} (an entry was removed or reordered before it)")]
    Sequence { line: usize, found: u64, expected: u64 },
    #[error("line {line}: does not follow the previous entry's hash (an entry was removed or reordered)")]
    Chain { line: usize },
    #[error("the log ends at entry {found} but its head records entry {expected} (entries were removed from the end)")]
    Truncated { found: u64, expected: u64 },
}

/// Summary of a verified log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub entries: u64,
    pub head: String,
}

fn head_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".head");
    PathBuf::from(p)
}

/// Check a log line by line; the first edited, removed or reordered entry is reported.
pub fn verify(path: &Path) -> Result<Verified, AuditError> {
    let io = |source| AuditError::Io { path: path.to_path_buf(), source };
    let tampered = |problem| AuditError::Tampered { path: path.to_path_buf(), problem };
    let file = match File::open(path) {
        Ok(f) => Some(f),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io(e)),
    };
    let mut prev = GENESIS.to_string();
    let mut expected = 1u64;
    if let Some(file) = file {
        for (i, line) in BufReader::new(file).lines().enumerate() {
            let line = line.map_err(io)?;
            let n = i + 1;
            let e: Entry = serde_json::from_str(&line).map_err(|_| tampered(Tampering::Unparsable { line: n }))?;
            if entry_hash(&e) != e.hash {
                return Err(tampered(Tampering::Edited { line: n }));
            }
            if e.seq != expected {
                return Err(tampered(Tampering::Sequence { line: n, found: e.seq, expected }));
            }
            if e.prev != prev {
                return Err(tampered(Tampering::Chain { line: n }));
            }
            prev = e.hash;
            expected += 1;
        }
    }
    let entries = expected - 1;
    if let Ok(head) = std::fs::read_to_string(head_path(path)) {
        let mut parts = head.split_whitespace();
        let seq: u64 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        let hash = parts.next().unwrap_or("");
        if seq != entries || (entries > 0 && hash != prev) {
            return Err(tampered(Tampering::Truncated { found: entries, expected: seq }));
        }
    }
    Ok(Verified { entries, head: prev })
}

/// An open log, appended to under a lock.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    state: std::sync::Mutex<(u64, String)>,
}

impl AuditLog {
    /// Open (and verify) a log; refuses to append to a tampered one.
    pub fn open(path: &Path) -> Result<Self, AuditError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| AuditError::Io { path: dir.to_path_buf(), source })?;
        }
        let v = verify(path)?;
        Ok(AuditLog { path: path.to_path_buf(), state: std::sync::Mutex::new((v.entries, v.head)) })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one entry (fsynced) and return its hash.
    pub fn append(&self, actor: &str, action: &str, details: serde_json::Value) -> Result<String, AuditError> {
        let io = |source| AuditError::Io { path: self.path.clone(), source };
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut e = Entry {
            seq: state.0 + 1,
            time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            actor: actor.to_string(),
            action: action.to_string(),
            details,
            prev: state.1.clone(),
            hash: String::new(),
        };
        e.hash = entry_hash(&e);
        let line = serde_json::to_string(&e).map_err(|err| io(std::io::Error::other(err)))?;
        let mut f = OpenOptions::new().create(true).append(true).open(&self.path).map_err(io)?;
        writeln!(f, "{line}").map_err(io)?;
        f.sync_data().map_err(io)?;
        let head = head_path(&self.path);
        let tmp = head.with_extension("head.tmp");
        std::fs::write(&tmp, format!("{} {}\n", e.seq, e.hash)).map_err(io)?;
        std::fs::rename(&tmp, &head).map_err(io)?;
        *state = (e.seq, e.hash.clone());
        Ok(e.hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_with(n: usize) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit.jsonl");
        let log = AuditLog::open(&path).expect("open");
        for i in 0..n {
            log.append("operator", "job_submitted", serde_json::json!({"job": i, "years": [2018, 2020]})).expect("append");
        }
        (dir, path)
    }

    fn lines(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path).expect("read").lines().map(str::to_string).collect()
    }

    fn write_lines(path: &Path, lines: &[String]) {
        std::fs::write(path, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).expect("write");
    }

    fn problem(path: &Path) -> Tampering {
        match verify(path) {
            Err(AuditError::Tampered { problem, .. }) => problem,
            other => panic!("expected tampering, got {other:?}"),
        }
    }

    #[test]
    fn an_untouched_log_verifies_and_reopens() {
        let (_d, path) = log_with(5);
        assert_eq!(verify(&path).expect("verifies").entries, 5);
        let log = AuditLog::open(&path).expect("reopen");
        log.append("linkage", "job_succeeded", serde_json::json!({})).expect("append");
        assert_eq!(verify(&path).expect("verifies").entries, 6);
    }

    #[test]
    fn an_edited_entry_is_found() {
        let (_d, path) = log_with(5);
        let mut l = lines(&path);
        l[2] = l[2].replace("2020", "2021");
        write_lines(&path, &l);
        assert_eq!(problem(&path), Tampering::Edited { line: 3 });
        assert!(AuditLog::open(&path).is_err(), "never append to a tampered log");
    }

    #[test]
    fn a_removed_entry_is_found() {
        let (_d, path) = log_with(5);
        let mut l = lines(&path);
        l.remove(1);
        write_lines(&path, &l);
        assert_eq!(problem(&path), Tampering::Sequence { line: 2, found: 3, expected: 2 });
    }

    #[test]
    fn reordered_entries_are_found() {
        let (_d, path) = log_with(5);
        let mut l = lines(&path);
        l.swap(1, 3);
        write_lines(&path, &l);
        assert_eq!(problem(&path), Tampering::Sequence { line: 2, found: 4, expected: 2 });
    }

    #[test]
    fn a_removed_last_entry_is_found() {
        let (_d, path) = log_with(5);
        let mut l = lines(&path);
        l.pop();
        write_lines(&path, &l);
        assert_eq!(problem(&path), Tampering::Truncated { found: 4, expected: 5 });
    }

    #[test]
    fn a_rechained_forgery_without_the_secret_still_breaks_the_head() {
        // Edit an entry and recompute its hash: the next entry's `prev` no longer matches.
        let (_d, path) = log_with(3);
        let mut l = lines(&path);
        let mut e: Entry = serde_json::from_str(&l[0]).expect("entry");
        e.actor = "someone-else".into();
        e.hash = entry_hash(&e);
        l[0] = serde_json::to_string(&e).expect("json");
        write_lines(&path, &l);
        assert_eq!(problem(&path), Tampering::Chain { line: 2 });
    }
}
