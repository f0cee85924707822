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

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn memory_store_meets_the_contract() {
        let store = crate::MemoryStore::new();
        super::run(&store).await;
    }
}
