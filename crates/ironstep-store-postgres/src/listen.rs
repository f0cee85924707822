//! The notification listener: one dedicated connection that `LISTEN`s on the `ironstep`
//! channel, driven with `poll_message` so that notifications arrive as they come.
//!
//! Notifications are hints only. A notification sent while the listener was disconnected is
//! lost, so after every reconnection the sink is told [`Notice::Reconnected`] and the runtime
//! polls for anything it missed.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use ironstep_store::cluster::{Notice, NoticeSink};
use tokio_postgres::{AsyncMessage, NoTls};

/// The one channel every node listens on.
pub(crate) const CHANNEL: &str = "ironstep";

/// Parse a payload (`inbox <arn>`, `done <id> <0|1>`, `activity <arn>`, `closed <arn>`,
/// `poll`).
pub(crate) fn parse(payload: &str) -> Option<Notice> {
    let (kind, rest) = payload.split_once(' ').unwrap_or((payload, ""));
    match kind {
        "inbox" => Some(Notice::Inbox(rest.to_string())),
        "activity" => Some(Notice::Activity(rest.to_string())),
        "closed" => Some(Notice::Closed(rest.to_string())),
        "poll" => Some(Notice::Reconnected),
        "done" => {
            let (id, applied) = rest.split_once(' ')?;
            Some(Notice::InboxDone {
                id: id.parse().ok()?,
                applied: applied == "1",
            })
        }
        _ => None,
    }
}

/// Listen until the sink is dropped, reconnecting with back-off.
pub(crate) async fn run(config: tokio_postgres::Config, sink: std::sync::Weak<dyn NoticeSink>) {
    let mut backoff = Duration::from_millis(100);
    let mut first = true;
    loop {
        if sink.strong_count() == 0 {
            return;
        }
        match config.connect(NoTls).await {
            Ok((client, mut connection)) => {
                let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
                // Drive the connection: every message goes to `rx`; the stream ends on error.
                let driver = tokio::spawn(async move {
                    let mut stream =
                        futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
                    while let Some(msg) = stream.next().await {
                        match msg {
                            Ok(AsyncMessage::Notification(n)) => {
                                if tx.send(n.payload().to_string()).is_err() {
                                    return;
                                }
                            }
                            Ok(_) => {}
                            Err(e) => {
                                tracing::warn!("PostgreSQL notification connection: {e}");
                                return;
                            }
                        }
                    }
                });
                if let Err(e) = client.batch_execute(&format!("LISTEN {CHANNEL}")).await {
                    tracing::warn!("PostgreSQL LISTEN failed: {e}");
                    driver.abort();
                } else {
                    backoff = Duration::from_millis(100);
                    if !first && let Some(s) = sink.upgrade() {
                        s.notice(Notice::Reconnected);
                    }
                    first = false;
                    loop {
                        // Wake now and then to notice a dropped sink.
                        match tokio::time::timeout(Duration::from_secs(1), rx.recv()).await {
                            Ok(Some(payload)) => {
                                let Some(s) = sink.upgrade() else {
                                    driver.abort();
                                    return;
                                };
                                if let Some(n) = parse(&payload) {
                                    s.notice(n);
                                }
                            }
                            Ok(None) => break,
                            Err(_) => {
                                if sink.strong_count() == 0 {
                                    driver.abort();
                                    return;
                                }
                            }
                        }
                    }
                }
                drop(client);
            }
            Err(e) => tracing::warn!("PostgreSQL notification connection: {e}"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// Hold the sink weakly so a dropped engine ends the listener.
pub(crate) fn spawn(
    config: tokio_postgres::Config,
    sink: &Arc<dyn NoticeSink>,
) -> tokio::task::JoinHandle<()> {
    let weak = Arc::downgrade(sink);
    tokio::spawn(run(config, weak))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_parse() {
        assert_eq!(
            parse("inbox arn:x:y"),
            Some(Notice::Inbox("arn:x:y".into()))
        );
        assert_eq!(
            parse("done 42 0"),
            Some(Notice::InboxDone {
                id: 42,
                applied: false
            })
        );
        assert_eq!(parse("activity a"), Some(Notice::Activity("a".into())));
        assert_eq!(parse("closed c"), Some(Notice::Closed("c".into())));
        assert_eq!(parse("poll"), Some(Notice::Reconnected));
        assert_eq!(parse("done x 1"), None);
        assert_eq!(parse("what"), None);
    }
}
