//! Per-function invocation logs: a bounded ring of [`InvocationRecord`]s.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

/// How an invocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum InvocationStatus {
    /// The function returned a result.
    Success,
    /// The function (or its runtime) reported an error; the invoke response has `FunctionError`.
    Error,
    /// The function ran past its timeout and was stopped.
    Timeout,
}

/// One invocation as the log viewer shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InvocationRecord {
    /// Lambda request id.
    pub request_id: String,
    /// When the invocation was accepted.
    pub start: SystemTime,
    /// From delivery to the runtime until the result (Lambda's `Duration`).
    pub duration: Duration,
    /// Outcome.
    pub status: InvocationStatus,
    /// The error type for [`InvocationStatus::Error`] (e.g. `Runtime.ExitError`, `Error`).
    pub error_type: Option<String>,
    /// Captured stdout/stderr with Lambda's `START`/`END`/`REPORT` lines.
    pub log: String,
}

/// Bounded by record count and by total bytes of log text; the oldest records go first.
#[derive(Debug)]
pub struct LogStore {
    records: VecDeque<InvocationRecord>,
    bytes: usize,
    max_records: usize,
    max_bytes: usize,
}

impl LogStore {
    /// An empty store with the given bounds.
    pub fn new(max_records: usize, max_bytes: usize) -> Self {
        Self {
            records: VecDeque::new(),
            bytes: 0,
            max_records: max_records.max(1),
            max_bytes,
        }
    }

    /// Appends a record, trimming an oversized log to its tail and evicting old records.
    pub fn push(&mut self, mut record: InvocationRecord) {
        if record.log.len() > self.max_bytes {
            let cut = record.log.len() - self.max_bytes;
            let cut = (cut..record.log.len())
                .find(|i| record.log.is_char_boundary(*i))
                .unwrap_or(record.log.len());
            record.log.drain(..cut);
        }
        self.bytes += record.log.len();
        self.records.push_back(record);
        while self.records.len() > self.max_records
            || (self.bytes > self.max_bytes && self.records.len() > 1)
        {
            if let Some(old) = self.records.pop_front() {
                self.bytes -= old.log.len();
            }
        }
    }

    /// Oldest first.
    pub fn records(&self) -> Vec<InvocationRecord> {
        self.records.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(log: &str) -> InvocationRecord {
        InvocationRecord {
            request_id: "r".into(),
            start: SystemTime::now(),
            duration: Duration::ZERO,
            status: InvocationStatus::Success,
            error_type: None,
            log: log.into(),
        }
    }

    #[test]
    fn evicts_by_count_and_bytes() {
        let mut s = LogStore::new(3, 10);
        for l in ["aaaa", "bbbb", "cccc"] {
            s.push(record(l));
        }
        // 12 bytes > 10: the oldest goes.
        assert_eq!(
            s.records()
                .iter()
                .map(|r| r.log.as_str())
                .collect::<Vec<_>>(),
            ["bbbb", "cccc"]
        );
        s.push(record("0123456789abc"));
        let logs = s.records();
        assert_eq!(logs.len(), 1);
        assert_eq!(logs[0].log, "3456789abc");
    }
}
