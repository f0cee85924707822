//! Change detection for hot-reload directories: a changed file makes the next invocation a cold
//! start, so edits show up without touching the function's configuration (LocalStack's
//! hot-reload behaviour).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::time::{Duration, Instant};

/// A directory is looked at most this often: invocations in between reuse the last answer, so a
/// busy function pays for one walk per second, not one per call.
const CHECK_INTERVAL: Duration = Duration::from_secs(1);
/// Entries visited per walk. Beyond that the tail of a huge tree goes unwatched; the fingerprint
/// still covers the handler files, which sit near the top.
const MAX_ENTRIES: usize = 5000;
/// Folders that hold dependencies or caches, not the code being edited.
const SKIPPED: &[&str] = &["node_modules", ".git", "__pycache__", "target", ".venv"];

/// Last fingerprint of a hot-reload directory.
#[derive(Debug, Default)]
pub struct Watch {
    last: Option<(Instant, u64)>,
}

impl Watch {
    /// Whether the directory changed since the previous call that looked (the first call records
    /// the state and says no).
    pub fn changed(&mut self, dir: &Path) -> bool {
        let now = Instant::now();
        if let Some((at, _)) = self.last
            && now.duration_since(at) < CHECK_INTERVAL
        {
            return false;
        }
        let fingerprint = fingerprint(dir);
        let changed = self.last.is_some_and(|(_, old)| old != fingerprint);
        self.last = Some((now, fingerprint));
        changed
    }
}

fn fingerprint(dir: &Path) -> u64 {
    let mut hasher = DefaultHasher::new();
    let mut stack = vec![dir.to_path_buf()];
    let mut seen = 0usize;
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            seen += 1;
            if seen > MAX_ENTRIES {
                return hasher.finish();
            }
            let Ok(meta) = entry.metadata() else { continue };
            let name = entry.file_name();
            if meta.is_dir() {
                if !SKIPPED.iter().any(|s| name == *s) {
                    stack.push(entry.path());
                }
                continue;
            }
            entry.path().hash(&mut hasher);
            meta.len().hash(&mut hasher);
            if let Ok(modified) = meta.modified() {
                modified.hash(&mut hasher);
            }
        }
    }
    hasher.finish()
}
