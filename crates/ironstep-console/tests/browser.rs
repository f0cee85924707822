//! Runs the browser tests (`tests/browser/console.test.mjs`) against a real `ironstep serve`:
//! builds the binary, starts it on a free port, drives the console in headless Chromium
//! (Debian's `chromium`, installed here with apt-get when missing) and fails if they fail.
//! Screenshots go to `docs/screenshots/` at the repository root.
//!
//! Skips, loudly, only when Chromium cannot be installed.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run(cmd: &mut Command) -> bool {
    match cmd.status() {
        Ok(s) => s.success(),
        Err(e) => {
            eprintln!("could not run {cmd:?}: {e}");
            false
        }
    }
}

fn chromium() -> Option<PathBuf> {
    let path =
        PathBuf::from(std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()));
    if path.exists() {
        return Some(path);
    }
    eprintln!("chromium is missing: installing Debian's package");
    let apt = |args: &[&str]| {
        run(Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive"))
    };
    if !apt(&["install", "-y", "-qq", "chromium"]) {
        apt(&["update", "-qq"]);
        apt(&["install", "-y", "-qq", "chromium"]);
    }
    path.exists().then_some(path)
}

fn healthy(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /ironstep/health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.starts_with("HTTP/1.1 200")
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

#[test]
fn console_in_headless_chromium() {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = crate_dir.join("../..");
    let tests_dir = crate_dir.join("tests/browser");
    let Some(chromium) = chromium() else {
        let bar = "!".repeat(78);
        eprintln!(
            "\n{bar}\n!! SKIPPED: the console's browser tests did not run: Chromium could not be\n!! installed (apt-get install chromium failed). Nothing about the console in a\n!! browser was checked.\n{bar}\n"
        );
        return;
    };
    let seed = std::env::var("SEED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("samples/start-workflow-within-workflow/statemachines"));
    assert!(
        seed.join("parent.asl.json").exists(),
        "the seed sample is not at {} (set SEED_DIR)",
        seed.display()
    );

    // JavaScript dependencies, from the committed lockfiles.
    if !tests_dir.join("node_modules/playwright-core").exists() {
        assert!(
            run(Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&tests_dir)),
            "npm ci (playwright-core) failed"
        );
    }
    let sdk = root.join("crates/ironstep-functions/runtimes/node");
    if !sdk.join("node_modules/@aws-sdk/client-sfn").exists() {
        assert!(
            run(Command::new("npm")
                .args(["ci", "--prefix"])
                .arg(&sdk)
                .args(["--ignore-scripts", "--no-audit", "--no-fund"])),
            "npm ci (the Node.js functions' AWS SDK) failed"
        );
    }

    // The binary, in this test's own target directory and profile.
    let exe = std::env::current_exe().expect("test executable");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps");
    let target_dir = profile_dir.parent().expect("target dir");
    let release = profile_dir.file_name().is_some_and(|n| n == "release");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .args(["build", "-p", "ironstep", "--target-dir"])
        .arg(target_dir)
        .current_dir(&root);
    if release {
        build.arg("--release");
    }
    assert!(run(&mut build), "building ironstep failed");
    let bin = profile_dir.join("ironstep");

    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let log_path = target_dir.join(format!("console-browser-serve-{port}.log"));
    let log = std::fs::File::create(&log_path).expect("server log");
    // A fresh data directory per run: never the crate folder, never an earlier run's state.
    let data_dir = target_dir.join(format!("console-browser-data-{port}"));
    let _ = std::fs::remove_dir_all(&data_dir);
    let server = Kill(
        Command::new(&bin)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(&data_dir)
            .env("IRONSTEP_LOG", "info")
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("starting ironstep serve"),
    );
    let start = Instant::now();
    while !healthy(port) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "ironstep serve did not come up:\n{}",
            tail(&log_path)
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let shots = root.join("docs/screenshots");
    let perf = target_dir.join("console-perf.json");
    let status = Command::new("node")
        .args(["--test", "--test-reporter=spec", "console.test.mjs"])
        .current_dir(&tests_dir)
        .env("IRONSTEP_URL", format!("http://127.0.0.1:{port}"))
        .env("CHROMIUM", &chromium)
        .env("SCREENSHOTS", &shots)
        .env("PERF_OUT", &perf)
        .env("SEED_DIR", &seed)
        .stdin(Stdio::null())
        .status()
        .expect("running node");
    drop(server);
    let _ = std::fs::remove_dir_all(&data_dir);
    assert!(
        status.success(),
        "the browser tests failed; server log:\n{}",
        tail(&log_path)
    );
    if let Ok(p) = std::fs::read_to_string(&perf) {
        eprintln!("console load measurements ({}):\n{p}", perf.display());
    }
}
