//! The contract every [`Store`] backend must pass. Backends call [`run`] from their own tests
//! with a fresh, empty store.

use crate::*;

fn sm(arn: &str, name: &str) -> StateMachineRecord {
    StateMachineRecord {
        arn: arn.into(),
        name: name.into(),
        machine_type: "STANDARD".into(),
        definition: "{}".into(),
        role_arn: "arn:aws:iam::123456789012:role/r".into(),
        logging_configuration: None,
        tracing_configuration: None,
        encryption_configuration: None,
        creation_date: 1,
        update_date: 1,
        revision_id: "r1".into(),
        status: "ACTIVE".into(),
        description: None,
        next_version: 1,
    }
}

fn exec(arn: &str, sm: &str, start: i64) -> ExecutionRecord {
    ExecutionRecord {
        arn: arn.into(),
        state_machine_arn: sm.into(),
        name: arn.rsplit(':').next().unwrap_or("x").into(),
        status: "RUNNING".into(),
        start_date: start,
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

fn ev(id: u64) -> StoredEvent {
    StoredEvent {
        id,
        json: format!("{{\"id\":{id}}}"),
    }
}

/// Run every contract check against `store` (which must be empty). Panics on a violation.
pub async fn run(store: &dyn Store) {
    state_machines(store).await;
    executions_and_steps(store).await;
    listing_and_retention(store).await;
    activities_versions_aliases_tags(store).await;
}

async fn state_machines(store: &dyn Store) {
    let a = "arn:aws:states:us-east-1:123456789012:stateMachine:a";
    let b = "arn:aws:states:us-east-1:123456789012:stateMachine:b";
    store.create_state_machine(sm(b, "b")).await.unwrap();
    store.create_state_machine(sm(a, "a")).await.unwrap();
    assert!(matches!(
        store.create_state_machine(sm(a, "a")).await,
        Err(StoreError::AlreadyExists(_))
    ));
    let list = store.list_state_machines(None, 10).await.unwrap();
    assert_eq!(
        list.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    let page = store.list_state_machines(Some(a), 10).await.unwrap();
    assert_eq!(page.len(), 1);
    let mut updated = sm(a, "a");
    updated.definition = "{\"x\":1}".into();
    updated.revision_id = "r2".into();
    store.update_state_machine(updated.clone()).await.unwrap();
    assert_eq!(store.get_state_machine(a).await.unwrap(), Some(updated));
    assert!(matches!(
        store.update_state_machine(sm("arn:nope", "n")).await,
        Err(StoreError::NotFound(_))
    ));
    store.delete_state_machine(b).await.unwrap();
    assert_eq!(store.get_state_machine(b).await.unwrap(), None);
}

async fn executions_and_steps(store: &dyn Store) {
    let sm_arn = "arn:aws:states:us-east-1:123456789012:stateMachine:s";
    let e = "arn:aws:states:us-east-1:123456789012:execution:s:e1";
    let first = Mutation {
        execution_arn: e.into(),
        status: "RUNNING".into(),
        snapshot: Some(vec![1, 2, 3]),
        events: vec![ev(1), ev(2)],
        timers_put: vec![TimerRecord {
            execution_arn: e.into(),
            timer_id: 1,
            due: 500,
        }],
        dispatch_put: vec![DispatchRecord {
            execution_arn: e.into(),
            task_id: 2,
            payload: b"task".to_vec(),
        }],
        ..Default::default()
    };
    store
        .create_execution(exec(e, sm_arn, 10), first.clone())
        .await
        .unwrap();
    assert!(matches!(
        store.create_execution(exec(e, sm_arn, 10), first).await,
        Err(StoreError::AlreadyExists(_))
    ));
    assert_eq!(store.get_snapshot(e).await.unwrap(), Some(vec![1, 2, 3]));
    assert_eq!(
        store.running_executions().await.unwrap(),
        vec![e.to_string()]
    );
    assert_eq!(store.all_timers().await.unwrap().len(), 1);
    assert_eq!(
        store.pending_dispatches().await.unwrap()[0].payload,
        b"task"
    );

    // A step: more events, the timer replaced, the task answered.
    store
        .commit(Mutation {
            execution_arn: e.into(),
            status: "RUNNING".into(),
            snapshot: Some(vec![4]),
            events: vec![ev(3), ev(4)],
            timers_delete: vec![1],
            timers_put: vec![TimerRecord {
                execution_arn: e.into(),
                timer_id: 2,
                due: 900,
            }],
            dispatch_delete: vec![2],
            ..Default::default()
        })
        .await
        .unwrap();
    let timers = store.all_timers().await.unwrap();
    assert_eq!(timers.len(), 1);
    assert_eq!(timers[0].timer_id, 2);
    assert!(store.pending_dispatches().await.unwrap().is_empty());
    let h = store.history(e, 1, false, 100).await.unwrap();
    assert_eq!(h.iter().map(|x| x.id).collect::<Vec<_>>(), [1, 2, 3, 4]);
    let h = store.history(e, 3, false, 1).await.unwrap();
    assert_eq!(h.iter().map(|x| x.id).collect::<Vec<_>>(), [3]);
    let h = store.history(e, 4, true, 2).await.unwrap();
    assert_eq!(h.iter().map(|x| x.id).collect::<Vec<_>>(), [4, 3]);

    // Closing drops the snapshot, timers and dispatches.
    store
        .commit(Mutation {
            execution_arn: e.into(),
            status: "SUCCEEDED".into(),
            stop_date: Some(20),
            output: Some("{}".into()),
            snapshot: None,
            events: vec![ev(5)],
            clear_all: true,
            ..Default::default()
        })
        .await
        .unwrap();
    let rec = store.get_execution(e).await.unwrap().unwrap();
    assert_eq!(rec.status, "SUCCEEDED");
    assert_eq!(rec.redrive_count, 0);
    assert_eq!(rec.stop_date, Some(20));
    assert_eq!(rec.output.as_deref(), Some("{}"));
    assert_eq!(rec.event_count, 5);
    assert_eq!(store.get_snapshot(e).await.unwrap(), None);
    assert!(store.all_timers().await.unwrap().is_empty());
    assert!(store.running_executions().await.unwrap().is_empty());
    assert!(matches!(
        store
            .commit(Mutation {
                execution_arn: "arn:missing".into(),
                status: "RUNNING".into(),
                ..Default::default()
            })
            .await,
        Err(StoreError::NotFound(_))
    ));
}

async fn listing_and_retention(store: &dyn Store) {
    let sm_arn = "arn:aws:states:us-east-1:123456789012:stateMachine:list";
    for i in 0..5 {
        let arn = format!("arn:aws:states:us-east-1:123456789012:execution:list:e{i}");
        let mut rec = exec(&arn, sm_arn, 100 + i);
        if i % 2 == 0 {
            rec.parent_arn = Some("arn:parent".into());
        }
        store
            .create_execution(
                rec,
                Mutation {
                    execution_arn: arn.clone(),
                    status: "RUNNING".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        if i < 2 {
            store
                .commit(Mutation {
                    execution_arn: arn,
                    status: "FAILED".into(),
                    stop_date: Some(1000 + i),
                    clear_all: true,
                    ..Default::default()
                })
                .await
                .unwrap();
        }
    }
    // Redrive re-opens a closed execution and counts it; closing again records the new end.
    let e1 = "arn:aws:states:us-east-1:123456789012:execution:list:e1";
    store
        .commit(Mutation {
            execution_arn: e1.into(),
            status: "RUNNING".into(),
            redrive: Some(555),
            events: vec![ev(1)],
            ..Default::default()
        })
        .await
        .unwrap();
    let r = store.get_execution(e1).await.unwrap().unwrap();
    assert_eq!(
        (r.status.as_str(), r.stop_date, r.redrive_count),
        ("RUNNING", None, 1)
    );
    store
        .commit(Mutation {
            execution_arn: e1.into(),
            status: "FAILED".into(),
            stop_date: Some(1001),
            error: Some("E".into()),
            clear_all: true,
            ..Default::default()
        })
        .await
        .unwrap();
    let r = store.get_execution(e1).await.unwrap().unwrap();
    assert_eq!(
        (
            r.status.as_str(),
            r.stop_date,
            r.error.as_deref(),
            r.redrive_count
        ),
        ("FAILED", Some(1001), Some("E"), 1)
    );
    let all = store
        .list_executions(&ExecutionFilter {
            state_machine_arn: Some(sm_arn.into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        ["e4", "e3", "e2", "e1", "e0"],
        "newest first"
    );
    let page = store
        .list_executions(&ExecutionFilter {
            state_machine_arn: Some(sm_arn.into()),
            limit: 2,
            after: Some((all[1].start_date, all[1].arn.clone())),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        ["e2", "e1"]
    );
    let failed = store
        .list_executions(&ExecutionFilter {
            state_machine_arn: Some(sm_arn.into()),
            status: Some("FAILED".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(failed.len(), 2);
    let children = store
        .list_executions(&ExecutionFilter {
            parent_arn: Some("arn:parent".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(children.len(), 3);
    // Retention removes closed executions older than the cut-off only.
    // (the execution closed at 20 by the previous check goes too)
    let purged = store.purge_closed(1001, 100).await.unwrap();
    assert_eq!(purged, 2);
    let purged = store.purge_closed(5000, 100).await.unwrap();
    assert_eq!(purged, 1);
    assert_eq!(store.running_executions().await.unwrap().len(), 3);
}

async fn activities_versions_aliases_tags(store: &dyn Store) {
    let a = ActivityRecord {
        arn: "arn:aws:states:us-east-1:123456789012:activity:w".into(),
        name: "w".into(),
        creation_date: 5,
        encryption_configuration: None,
    };
    let got = store.create_activity(a.clone()).await.unwrap();
    assert_eq!(got, a);
    let mut again = a.clone();
    again.creation_date = 99;
    assert_eq!(
        store.create_activity(again).await.unwrap().creation_date,
        5,
        "idempotent"
    );
    assert_eq!(store.list_activities(None, 10).await.unwrap().len(), 1);
    store
        .set_tags(&a.arn, vec![("k".into(), "v".into())])
        .await
        .unwrap();
    assert_eq!(
        store.get_tags(&a.arn).await.unwrap(),
        vec![("k".to_string(), "v".to_string())]
    );
    store.delete_activity(&a.arn).await.unwrap();
    assert_eq!(store.get_activity(&a.arn).await.unwrap(), None);

    let sm_arn = "arn:aws:states:us-east-1:123456789012:stateMachine:v";
    for n in 1..=3u64 {
        store
            .put_version(VersionRecord {
                arn: format!("{sm_arn}:{n}"),
                state_machine_arn: sm_arn.into(),
                version: n,
                definition: "{}".into(),
                role_arn: "r".into(),
                revision_id: format!("r{n}"),
                description: None,
                creation_date: n as i64,
            })
            .await
            .unwrap();
    }
    let versions = store.list_versions(sm_arn).await.unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [3, 2, 1]
    );
    store.delete_version(&format!("{sm_arn}:2")).await.unwrap();
    assert_eq!(store.list_versions(sm_arn).await.unwrap().len(), 2);
    let alias = AliasRecord {
        arn: format!("{sm_arn}:PROD"),
        state_machine_arn: sm_arn.into(),
        name: "PROD".into(),
        description: None,
        routing: vec![(format!("{sm_arn}:3"), 100)],
        creation_date: 1,
        update_date: 1,
    };
    store.put_alias(alias.clone()).await.unwrap();
    assert_eq!(
        store.get_alias(&alias.arn).await.unwrap(),
        Some(alias.clone())
    );
    assert_eq!(store.list_aliases(sm_arn).await.unwrap().len(), 1);
    store.delete_alias(&alias.arn).await.unwrap();
    assert!(store.list_aliases(sm_arn).await.unwrap().is_empty());
}

// ---- the cluster contract ----------------------------------------------------------------------

use crate::cluster::{Acquire, Cluster, Committed, Fenced, Lease, Notice, NoticeSink, Taken};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn both<'a>(a: &'a dyn Store, b: &'a dyn Store) -> (&'a dyn Cluster, &'a dyn Cluster) {
    (
        a.cluster().expect("the first store is not a cluster store"),
        b.cluster()
            .expect("the second store is not a cluster store"),
    )
}

fn step(arn: &str, first_event: u64, n: u64) -> Mutation {
    Mutation {
        execution_arn: arn.into(),
        status: "RUNNING".into(),
        snapshot: Some(vec![first_event as u8]),
        events: (first_event..first_event + n).map(ev).collect(),
        ..Default::default()
    }
}

async fn leased(c: &dyn Cluster, arn: &str, m: Mutation, release: bool) -> Lease {
    c.create_execution_leased(exec(arn, "arn:sm:cluster", 1), m, release)
        .await
        .unwrap()
}

async fn event_count(s: &dyn Store, arn: &str) -> u64 {
    s.get_execution(arn).await.unwrap().unwrap().event_count
}

/// Collects notifications for the checks.
#[derive(Default)]
struct Collect(Mutex<Vec<Notice>>);

impl NoticeSink for Collect {
    fn notice(&self, n: Notice) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(n);
    }
}

impl Collect {
    async fn wait_for(&self, want: &Notice) -> bool {
        for _ in 0..100 {
            if self
                .0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains(want)
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }
}

/// Run the checks of a store shared by several nodes. `a` and `b` are two nodes (store
/// instances with different node ids) on the same, otherwise empty, database; their lease
/// time should be short (the checks wait for leases to expire). Panics on a violation.
pub async fn cluster(a: &dyn Store, b: &dyn Store) {
    let (ca, cb) = both(a, b);
    assert_ne!(ca.node_id(), cb.node_id(), "two nodes need two ids");
    let expire = ca.timing().lease.max(cb.timing().lease) + Duration::from_millis(400);
    cluster_nodes_and_notices(ca, cb).await;
    leases_and_fencing(a, ca, cb, expire).await;
    inbox(a, ca, cb, expire).await;
    orphans_and_timers(a, ca, cb, expire).await;
    activity_tasks(ca, cb).await;
    leaving(ca, cb).await;
}

async fn cluster_nodes_and_notices(ca: &dyn Cluster, cb: &dyn Cluster) {
    ca.join("127.0.0.1:1").await.unwrap();
    cb.join("127.0.0.1:2").await.unwrap();
    let nodes = ca.nodes().await.unwrap();
    assert_eq!(nodes.len(), 2, "{nodes:?}");
    assert!(nodes.iter().all(|n| n.status == "live"), "{nodes:?}");
    assert!(
        nodes
            .iter()
            .any(|n| n.id == ca.node_id() && n.address == "127.0.0.1:1")
    );
    let sink = Arc::new(Collect::default());
    cb.listen(sink.clone());
    // The listener connects in the background: post until one is seen.
    let arn = "arn:aws:states:us-east-1:123456789012:execution:cluster:notice";
    leased(ca, arn, step(arn, 1, 1), true).await;
    let mut seen = false;
    for _ in 0..20 {
        ca.post_input(arn, b"x".to_vec()).await.unwrap();
        if sink.wait_for(&Notice::Inbox(arn.into())).await {
            seen = true;
            break;
        }
    }
    assert!(seen, "no inbox notification reached the other node");
    assert!(ca.heartbeat(&[], "{\"steps\":1}").await.unwrap() == 0);
    let me = ca.nodes().await.unwrap();
    assert!(
        me.iter()
            .any(|n| n.id == ca.node_id() && n.metrics == "{\"steps\":1}")
    );
}

async fn leases_and_fencing(a: &dyn Store, ca: &dyn Cluster, cb: &dyn Cluster, expire: Duration) {
    let e = "arn:aws:states:us-east-1:123456789012:execution:cluster:lease";
    let l1 = leased(ca, e, step(e, 1, 2), false).await;
    assert_eq!(l1, Lease { epoch: 1 });
    assert_eq!(
        cb.acquire(e, false).await.unwrap(),
        Acquire::Held {
            owner: ca.node_id().into()
        }
    );
    // The holder commits; a stale epoch writes nothing.
    let done = ca
        .commit_fenced(step(e, 3, 1), l1, Fenced::default())
        .await
        .unwrap();
    assert_eq!(
        done,
        Committed::Done {
            inbox_waiting: false
        }
    );
    assert_eq!(event_count(a, e).await, 3);
    let lost = ca
        .commit_fenced(step(e, 4, 1), Lease { epoch: 0 }, Fenced::default())
        .await
        .unwrap();
    assert_eq!(lost, Committed::LeaseLost);
    assert_eq!(event_count(a, e).await, 3, "a fenced-out step wrote events");
    // Heartbeats renew only what the node says it holds; an unrenewed lease expires and
    // another node takes over, after which the old holder's commits fail.
    assert_eq!(ca.heartbeat(&[e.to_string()], "{}").await.unwrap(), 1);
    tokio::time::sleep(expire).await;
    let Acquire::Acquired(l2) = cb.acquire(e, false).await.unwrap() else {
        panic!("an expired lease was not taken over");
    };
    assert!(l2.epoch > l1.epoch);
    assert_eq!(
        ca.commit_fenced(step(e, 4, 1), l1, Fenced::default())
            .await
            .unwrap(),
        Committed::LeaseLost
    );
    let released = cb
        .commit_fenced(
            step(e, 4, 1),
            l2,
            Fenced {
                release: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        released,
        Committed::Done {
            inbox_waiting: false
        }
    );
    assert_eq!(event_count(a, e).await, 4);
    let Acquire::Acquired(l3) = ca.acquire(e, false).await.unwrap() else {
        panic!("a released lease was not free");
    };
    assert!(l3.epoch > l2.epoch);
    ca.release(e, l3).await.unwrap();
    // Taking over with the execution in one go.
    match ca.acquire_loaded(e).await.unwrap() {
        Taken::Acquired {
            lease,
            record,
            snapshot,
            inbox,
        } => {
            assert!(lease.epoch > l3.epoch);
            assert_eq!((record.arn.as_str(), record.event_count), (e, 4));
            assert_eq!(snapshot, Some(vec![4]));
            assert!(!inbox);
            assert_eq!(
                cb.acquire_loaded(e).await.unwrap(),
                Taken::Held {
                    owner: ca.node_id().into()
                }
            );
            ca.release(e, lease).await.unwrap();
        }
        other => panic!("a free execution was not taken: {other:?}"),
    }
    // Closing releases the lease; a closed execution is leased only for a redrive.
    let Acquire::Acquired(l4) = cb.acquire(e, false).await.unwrap() else {
        panic!("not free after release");
    };
    let close = Mutation {
        execution_arn: e.into(),
        status: "FAILED".into(),
        stop_date: Some(9),
        events: vec![ev(5)],
        clear_all: true,
        ..Default::default()
    };
    assert!(matches!(
        cb.commit_fenced(close, l4, Fenced::default())
            .await
            .unwrap(),
        Committed::Done { .. }
    ));
    assert_eq!(ca.acquire(e, false).await.unwrap(), Acquire::Closed);
    assert!(matches!(
        ca.acquire(e, true).await.unwrap(),
        Acquire::Acquired(_)
    ));
    assert_eq!(
        ca.acquire(
            "arn:aws:states:us-east-1:123456789012:execution:cluster:none",
            false
        )
        .await
        .unwrap(),
        Acquire::Missing
    );
}

async fn inbox(a: &dyn Store, ca: &dyn Cluster, cb: &dyn Cluster, expire: Duration) {
    let e = "arn:aws:states:us-east-1:123456789012:execution:cluster:inbox";
    let lease = leased(ca, e, step(e, 1, 1), false).await;
    let p1 = cb.post_input(e, b"one".to_vec()).await.unwrap().unwrap();
    let p2 = cb.post_input(e, b"two".to_vec()).await.unwrap().unwrap();
    assert_eq!(p1.owner.as_deref(), Some(ca.node_id()));
    assert!(p2.id > p1.id);
    assert!(
        cb.post_input("arn:missing", vec![])
            .await
            .unwrap()
            .is_none()
    );
    let items = ca.inbox(e, 10).await.unwrap();
    assert_eq!(
        items.iter().map(|i| i.input.as_slice()).collect::<Vec<_>>(),
        [b"one".as_slice(), b"two".as_slice()]
    );
    // The step that consumes an input deletes it in its own transaction and reports what is
    // still waiting.
    let done = ca
        .commit_fenced(
            step(e, 2, 1),
            lease,
            Fenced {
                inbox_done: vec![p1.id],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        done,
        Committed::Done {
            inbox_waiting: true
        }
    );
    assert!(!ca.inbox_pending(p1.id).await.unwrap());
    assert!(ca.inbox_pending(p2.id).await.unwrap());
    // Discarding is fenced too.
    assert!(
        !ca.discard_inbox(e, Lease { epoch: 99 }, &[p2.id])
            .await
            .unwrap()
    );
    assert!(ca.inbox_pending(p2.id).await.unwrap());
    assert!(ca.discard_inbox(e, lease, &[p2.id]).await.unwrap());
    assert!(!ca.inbox_pending(p2.id).await.unwrap());
    // Entries of executions nobody live holds are orphans for every node; those of a live
    // holder belong to it alone.
    let p3 = cb.post_input(e, b"three".to_vec()).await.unwrap().unwrap();
    assert!(!cb.inbox_orphans(10).await.unwrap().contains(&e.to_string()));
    assert!(ca.inbox_orphans(10).await.unwrap().contains(&e.to_string()));
    tokio::time::sleep(expire).await;
    assert!(cb.inbox_orphans(10).await.unwrap().contains(&e.to_string()));
    // Inputs to a closed execution are dropped.
    let Acquire::Acquired(l) = cb.acquire(e, false).await.unwrap() else {
        panic!("expired lease not taken");
    };
    let close = Mutation {
        execution_arn: e.into(),
        status: "SUCCEEDED".into(),
        stop_date: Some(3),
        events: vec![ev(3)],
        clear_all: true,
        ..Default::default()
    };
    cb.commit_fenced(close, l, Fenced::default()).await.unwrap();
    assert!(cb.inbox_orphans(10).await.unwrap().contains(&e.to_string()));
    cb.discard_closed_inbox(e).await.unwrap();
    assert!(!cb.inbox_pending(p3.id).await.unwrap());
    assert_eq!(event_count(a, e).await, 3);
}

async fn orphans_and_timers(a: &dyn Store, ca: &dyn Cluster, cb: &dyn Cluster, expire: Duration) {
    let dispatch = |arn: &str, id: u64| DispatchRecord {
        execution_arn: arn.into(),
        task_id: id,
        payload: format!("task {id}").into_bytes(),
    };
    // Held by a node that stops renewing, and not held at all: both are adopted.
    let dead = "arn:aws:states:us-east-1:123456789012:execution:cluster:dead";
    let mut m = step(dead, 1, 1);
    m.dispatch_put = vec![dispatch(dead, 7)];
    leased(ca, dead, m, false).await;
    let left = "arn:aws:states:us-east-1:123456789012:execution:cluster:left";
    let mut m = step(left, 1, 1);
    m.dispatch_put = vec![dispatch(left, 3)];
    leased(ca, left, m, true).await;
    let quiet = "arn:aws:states:us-east-1:123456789012:execution:cluster:quiet";
    leased(ca, quiet, step(quiet, 1, 1), true).await;
    let adopted = cb.adopt_orphans(10).await.unwrap();
    let names: Vec<&str> = adopted.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        names,
        [left],
        "only the unheld execution with work is adopted at once"
    );
    tokio::time::sleep(expire).await;
    // (`left` is adopted again too: its new holder did not renew either.)
    let adopted = cb.adopt_orphans(10).await.unwrap();
    let found = adopted.iter().find(|(a, _)| a == dead);
    assert_eq!(
        found.map(|(_, l)| *l),
        Some(Lease { epoch: 2 }),
        "{adopted:?}"
    );
    assert!(!adopted.iter().any(|(a, _)| a == quiet), "{adopted:?}");
    assert_eq!(
        cb.dispatches_of(dead).await.unwrap(),
        vec![dispatch(dead, 7)]
    );
    assert!(
        ca.adopt_orphans(10).await.unwrap().is_empty(),
        "adopted twice"
    );

    // Timers: the node that set a timer owns it until a lease past its due time; then any
    // node may claim it, and each timer goes to one claimer.
    let t = "arn:aws:states:us-east-1:123456789012:execution:cluster:timers";
    let mut m = step(t, 1, 1);
    m.timers_put = (1..=20)
        .map(|i| TimerRecord {
            execution_arn: t.into(),
            timer_id: i,
            due: 1000 + i as i64,
        })
        .collect();
    leased(ca, t, m, true).await;
    let far = 4_000_000_000_000;
    assert!(cb.claim_due_timers(far, 100).await.unwrap().is_empty());
    tokio::time::sleep(expire).await;
    assert!(
        cb.claim_due_timers(500, 100).await.unwrap().is_empty(),
        "not due yet"
    );
    let (x, y) = tokio::join!(ca.claim_due_timers(far, 100), cb.claim_due_timers(far, 100));
    let (x, y) = (x.unwrap(), y.unwrap());
    let mut all: Vec<u64> = x.iter().chain(y.iter()).map(|t| t.timer_id).collect();
    all.sort_unstable();
    assert_eq!(
        all,
        (1..=20).collect::<Vec<_>>(),
        "each timer claimed exactly once"
    );
    assert!(ca.claim_due_timers(far, 100).await.unwrap().is_empty());
    for timer in &x {
        ca.finish_timer(t, timer.timer_id).await.unwrap();
    }
    // Finishing someone else's claim does nothing.
    for timer in &y {
        ca.finish_timer(t, timer.timer_id).await.unwrap();
    }
    let left_timers = a.all_timers().await.unwrap();
    let mut left_ids: Vec<u64> = left_timers
        .iter()
        .filter(|r| r.execution_arn == t)
        .map(|r| r.timer_id)
        .collect();
    left_ids.sort_unstable();
    let mut want: Vec<u64> = y.iter().map(|t| t.timer_id).collect();
    want.sort_unstable();
    assert_eq!(left_ids, want);
}

async fn activity_tasks(ca: &dyn Cluster, cb: &dyn Cluster) {
    let e = "arn:aws:states:us-east-1:123456789012:execution:cluster:activity";
    let act = "arn:aws:states:us-east-1:123456789012:activity:work";
    let mut m = step(e, 1, 1);
    m.dispatch_put = (1..=12)
        .map(|i| DispatchRecord {
            execution_arn: e.into(),
            task_id: i,
            payload: vec![i as u8],
        })
        .collect();
    leased(ca, e, m, false).await;
    for i in 1..=12 {
        ca.offer_activity_task(act, e, i).await.unwrap();
    }
    assert_eq!(cb.offered_activity_tasks(act).await.unwrap(), 12);
    let (mut got_a, mut got_b) = (Vec::new(), Vec::new());
    loop {
        let (x, y) = tokio::join!(ca.take_activity_task(act), cb.take_activity_task(act));
        let (x, y) = (x.unwrap(), y.unwrap());
        if x.is_none() && y.is_none() {
            break;
        }
        got_a.extend(x.map(|d| d.task_id));
        got_b.extend(y.map(|d| d.task_id));
    }
    let mut all: Vec<u64> = got_a.iter().chain(got_b.iter()).copied().collect();
    all.sort_unstable();
    assert_eq!(
        all,
        (1..=12).collect::<Vec<_>>(),
        "each task handed out exactly once"
    );
    // Offering again (a re-dispatch after failover) does not hand a task out twice.
    ca.offer_activity_task(act, e, 5).await.unwrap();
    assert!(cb.take_activity_task(act).await.unwrap().is_none());
    assert_eq!(ca.offered_activity_tasks(act).await.unwrap(), 0);
}

async fn leaving(ca: &dyn Cluster, cb: &dyn Cluster) {
    let e = "arn:aws:states:us-east-1:123456789012:execution:cluster:leave";
    leased(ca, e, step(e, 1, 1), false).await;
    assert!(matches!(
        cb.acquire(e, false).await.unwrap(),
        Acquire::Held { .. }
    ));
    ca.leave().await.unwrap();
    assert!(
        matches!(cb.acquire(e, false).await.unwrap(), Acquire::Acquired(_)),
        "leaving did not hand the lease back"
    );
    let nodes = cb.nodes().await.unwrap();
    let a = nodes.iter().find(|n| n.id == ca.node_id()).unwrap();
    assert_eq!(a.status, "stopped");
    assert_eq!(a.executions, 0);
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn memory_store_meets_the_contract() {
        let store = crate::MemoryStore::new();
        super::run(&store).await;
        assert!(
            crate::Store::cluster(&store).is_none(),
            "the memory store is single-node"
        );
    }
}
