//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use ironstep_store::{ExecutionRecord, Mutation, StoredEvent, TimerRecord};

pub fn exec(arn: &str) -> ExecutionRecord {
    ExecutionRecord {
        arn: arn.into(),
        state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:t".into(),
        name: arn.rsplit(':').next().unwrap_or("x").into(),
        status: "RUNNING".into(),
        start_date: 1,
        stop_date: None,
        input: "{}".into(),
        output: None,
        error: None,
        cause: None,
        version_arn: None,
        alias_arn: None,
        definition: "{}".into(),
        role_arn: "role".into(),
        trace_header: None,
        parent_arn: None,
        map_run_arn: None,
        redrive_count: 0,
        event_count: 0,
        redrive_date: None,
    }
}

pub fn arn(i: usize) -> String {
    format!("arn:aws:states:us-east-1:123456789012:execution:t:e{i}")
}

/// A step appending events `first..first+n` whose snapshot records the last event id, so a
/// reader can tell whether events and snapshot come from the same commit.
pub fn step(arn: &str, first: u64, n: u64, payload: usize) -> Mutation {
    let last = first + n - 1;
    Mutation {
        execution_arn: arn.into(),
        status: "RUNNING".into(),
        snapshot: Some(last.to_le_bytes().to_vec()),
        events: (first..=last)
            .map(|id| StoredEvent {
                id,
                json: format!("{{\"id\":{id},\"pad\":\"{}\"}}", "x".repeat(payload)),
            })
            .collect(),
        timers_put: vec![TimerRecord {
            execution_arn: arn.into(),
            timer_id: last,
            due: last as i64,
        }],
        timers_delete: if first > 1 { vec![first - 1] } else { vec![] },
        ..Default::default()
    }
}

/// A read-only bind mount of `path` onto itself, undone on drop. `None` when this process may
/// not mount (tests then fall back or say they skipped).
pub struct RoMount(PathBuf);

impl RoMount {
    pub fn new(path: &Path) -> Option<RoMount> {
        let ok = Command::new("mount")
            .args(["--bind", "-o", "ro"])
            .arg(path)
            .arg(path)
            .output()
            .is_ok_and(|o| o.status.success());
        ok.then(|| RoMount(path.to_path_buf()))
    }
}

impl Drop for RoMount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// A size-limited tmpfs on `path`, unmounted on drop. `None` when this process may not mount.
pub struct Tmpfs(PathBuf);

impl Tmpfs {
    pub fn new(path: &Path, size: &str) -> Option<Tmpfs> {
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .output()
            .is_ok_and(|o| o.status.success());
        ok.then(|| Tmpfs(path.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}
