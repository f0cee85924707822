//! One worker: a runtime process, its private Runtime API listener and its captured output.
//!
//! A [`Worker`] value owns the process: dropping it kills the process and stops the listener, so
//! every path that discards a worker (timeout, crash, stale code, idle reaping, shutdown) cleans up.

use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::serve::ListenerExt as _;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::runtime_api::{self, Pending, WorkerEvent};
use crate::runtimes::Launch;

/// Captured output kept between two invocations; a chattier function loses the oldest bytes.
const MAX_PENDING_LOG: usize = 1 << 20;

/// A running worker process.
pub struct Worker {
    /// Generation of the function's code and configuration it was started with.
    pub generation: u64,
    /// Process id, for tests and the log viewer.
    pub pid: Option<u32>,
    /// When the process was started.
    pub spawned_at: Instant,
    /// When its last invocation ended.
    pub last_used: Instant,
    /// Whether it has served an invocation (the first one reports `Init Duration`).
    pub warm: bool,
    next: mpsc::Sender<Pending>,
    events: mpsc::UnboundedReceiver<WorkerEvent>,
    log: Arc<LogCapture>,
    _kill: oneshot::Sender<()>,
    server: JoinHandle<()>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        // `_kill` is dropped with the worker, which makes the exit watcher kill the process.
        self.server.abort();
    }
}

impl Worker {
    /// Starts the Runtime API listener and the process.
    pub async fn spawn(
        generation: u64,
        launch: Launch,
        env: Vec<(String, String)>,
        cwd: &Path,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let (next_tx, next_rx) = mpsc::channel(1);
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let router = runtime_api::router(next_rx, events_tx.clone());
        // Small request/response exchanges on a loopback connection: Nagle would add latency.
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });

        let mut command = Command::new(&launch.program);
        command
            .args(&launch.args)
            .env_clear()
            .envs(env)
            .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        // Own process group: a Ctrl-C in ironstep's terminal must not reach functions directly.
        #[cfg(unix)]
        command.process_group(0);
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => {
                server.abort();
                return Err(e);
            }
        };
        let pid = child.id();
        let log = Arc::new(LogCapture::new(child.stdout.take(), child.stderr.take()));
        let (kill_tx, kill_rx) = oneshot::channel();
        tokio::spawn(watch_exit(child, kill_rx, events_tx));
        let now = Instant::now();
        Ok(Self {
            generation,
            pid,
            spawned_at: now,
            last_used: now,
            warm: false,
            next: next_tx,
            events: events_rx,
            log,
            _kill: kill_tx,
            server,
        })
    }

    /// Discards events left from earlier invocations; `false` if the process has ended.
    pub fn drain_stale_events(&mut self) -> bool {
        loop {
            match self.events.try_recv() {
                Ok(WorkerEvent::Exited(_)) | Err(mpsc::error::TryRecvError::Disconnected) => {
                    return false;
                }
                Ok(_) => {}
                Err(mpsc::error::TryRecvError::Empty) => return true,
            }
        }
    }

    /// Queues an invocation for the runtime's next `/next`; `false` if the worker is gone.
    pub fn submit(&self, pending: Pending) -> bool {
        self.next.try_send(pending).is_ok()
    }

    /// The next event of the worker (`None` once the process and listener are gone).
    pub async fn next_event(&mut self) -> Option<WorkerEvent> {
        self.events.recv().await
    }

    /// The output capture.
    pub fn log(&self) -> &LogCapture {
        &self.log
    }

    /// Peak resident memory in MB (`VmHWM`), where the platform tells.
    pub fn max_memory_mb(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid?)).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb.div_ceil(1024))
    }
}

async fn watch_exit(
    mut child: Child,
    kill: oneshot::Receiver<()>,
    events: mpsc::UnboundedSender<WorkerEvent>,
) {
    let pid = child.id();
    let status = tokio::select! {
        status = child.wait() => status,
        _ = kill => {
            kill_group(pid);
            let _ = child.start_kill();
            child.wait().await
        }
    };
    // Processes the function started itself go too (the worker leads its own process group).
    kill_group(pid);
    let text = match status {
        Ok(status) => describe_exit(status),
        Err(e) => e.to_string(),
    };
    let _ = events.send(WorkerEvent::Exited(text));
}

fn kill_group(pid: Option<u32>) {
    #[cfg(unix)]
    if let Some(pid) = pid
        .and_then(|p| i32::try_from(p).ok())
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
    #[cfg(not(unix))]
    let _ = pid;
}

/// Lambda's wording for how a runtime process ended (`exit status 1`, `signal: killed`).
fn describe_exit(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        if let Some(signal) = status.signal() {
            let name = match signal {
                6 => "aborted",
                9 => "killed",
                11 => "segmentation fault",
                15 => "terminated",
                _ => return format!("signal: {signal}"),
            };
            return format!("signal: {name}");
        }
    }
    match status.code() {
        Some(code) => format!("exit status {code}"),
        None => status.to_string(),
    }
}

/// Output of a worker, read continuously from its stdout and stderr pipes.
pub struct LogCapture {
    buffer: Arc<Mutex<Vec<u8>>>,
    sync: mpsc::UnboundedSender<oneshot::Sender<()>>,
}

impl LogCapture {
    fn new(
        stdout: Option<impl AsyncRead + Unpin + Send + 'static>,
        stderr: Option<impl AsyncRead + Unpin + Send + 'static>,
    ) -> Self {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let (sync_tx, sync_rx) = mpsc::unbounded_channel();
        tokio::spawn(read_pipes(stdout, stderr, buffer.clone(), sync_rx));
        Self {
            buffer,
            sync: sync_tx,
        }
    }

    /// Waits until the reader has taken in everything the process wrote before now.
    ///
    /// Runtimes write their output before posting the result, so once the result has arrived
    /// the bytes are in the pipe and its readiness is known to the reactor; the reader task
    /// prefers reading over answering this request, so the answer comes after those bytes.
    pub async fn sync(&self) {
        let (tx, rx) = oneshot::channel();
        if self.sync.send(tx).is_ok() {
            let _ = tokio::time::timeout(Duration::from_millis(200), rx).await;
        }
    }

    /// Adds a line of our own (`START`, `END`, `REPORT`, errors).
    pub fn append(&self, text: &str) {
        if let Ok(mut b) = self.buffer.lock() {
            b.extend_from_slice(text.as_bytes());
        }
    }

    /// Takes everything captured so far.
    pub fn take(&self) -> String {
        let bytes = self
            .buffer
            .lock()
            .map(|mut b| std::mem::take(&mut *b))
            .unwrap_or_default();
        String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }
}

async fn read_pipes(
    stdout: Option<impl AsyncRead + Unpin>,
    stderr: Option<impl AsyncRead + Unpin>,
    buffer: Arc<Mutex<Vec<u8>>>,
    mut sync: mpsc::UnboundedReceiver<oneshot::Sender<()>>,
) {
    let (mut out, mut err) = (stdout, stderr);
    let mut out_buf = vec![0u8; 16 * 1024];
    let mut err_buf = vec![0u8; 16 * 1024];
    let append = |bytes: &[u8]| {
        if let Ok(mut b) = buffer.lock() {
            b.extend_from_slice(bytes);
            if b.len() > 2 * MAX_PENDING_LOG {
                let excess = b.len() - MAX_PENDING_LOG;
                b.drain(..excess);
            }
        }
    };
    loop {
        tokio::select! {
            biased;
            r = read_some(out.as_mut(), &mut out_buf), if out.is_some() => match r {
                Some(n) => append(&out_buf[..n]),
                None => out = None,
            },
            r = read_some(err.as_mut(), &mut err_buf), if err.is_some() => match r {
                Some(n) => append(&err_buf[..n]),
                None => err = None,
            },
            request = sync.recv() => match request {
                Some(ack) => { let _ = ack.send(()); }
                None => break,
            },
        }
    }
}

async fn read_some<R: AsyncRead + Unpin>(pipe: Option<&mut R>, buf: &mut [u8]) -> Option<usize> {
    match pipe?.read(buf).await {
        Ok(0) | Err(_) => None,
        Ok(n) => Some(n),
    }
}
