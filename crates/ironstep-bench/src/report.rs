//! One line per measurement: throughput and latency percentiles, as a table or JSON.

use std::time::Duration;

use serde_json::json;

/// A measurement.
#[derive(Debug, Clone)]
pub struct Row {
    pub workload: String,
    pub mode: String,
    pub executions: u64,
    pub transitions: u64,
    pub events: u64,
    pub elapsed: Duration,
    /// Per-execution latency (start to close), when measured.
    pub latencies: Vec<Duration>,
    pub note: String,
}

impl Row {
    pub fn transitions_per_sec(&self) -> f64 {
        self.transitions as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn executions_per_sec(&self) -> f64 {
        self.executions as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn percentile(&self, p: f64) -> Option<Duration> {
        if self.latencies.is_empty() {
            return None;
        }
        let mut l = self.latencies.clone();
        l.sort();
        let i = ((l.len() as f64 - 1.0) * p).round() as usize;
        Some(l[i])
    }

    pub fn header() -> String {
        format!(
            "{:<20} {:<28} {:>9} {:>14} {:>11} {:>9} {:>9}  note",
            "workload", "mode", "execs", "transitions/s", "execs/s", "p50 ms", "p99 ms"
        )
    }

    pub fn line(&self) -> String {
        let ms = |d: Option<Duration>| {
            d.map(|d| format!("{:.3}", d.as_secs_f64() * 1000.0))
                .unwrap_or_else(|| "-".into())
        };
        format!(
            "{:<20} {:<28} {:>9} {:>14.0} {:>11.1} {:>9} {:>9}  {}",
            self.workload,
            self.mode,
            self.executions,
            self.transitions_per_sec(),
            self.executions_per_sec(),
            ms(self.percentile(0.5)),
            ms(self.percentile(0.99)),
            self.note
        )
    }

    pub fn json(&self) -> serde_json::Value {
        json!({
            "workload": self.workload,
            "mode": self.mode,
            "executions": self.executions,
            "transitions": self.transitions,
            "history_events": self.events,
            "seconds": self.elapsed.as_secs_f64(),
            "transitions_per_sec": self.transitions_per_sec(),
            "executions_per_sec": self.executions_per_sec(),
            "p50_ms": self.percentile(0.5).map(|d| d.as_secs_f64() * 1000.0),
            "p99_ms": self.percentile(0.99).map(|d| d.as_secs_f64() * 1000.0),
            "note": self.note,
        })
    }
}
