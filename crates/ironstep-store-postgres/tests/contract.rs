//! The storage contract every backend passes, on PostgreSQL, plus what only a shared store
//! offers (leases, fencing, the inbox, claims), with two nodes on one database.

use std::time::Duration;

use ironstep_store::cluster::ClusterTiming;
use ironstep_store_postgres::testing::TestDatabase;
use ironstep_store_postgres::{PgOptions, PgStore};

fn options(node: &str) -> PgOptions {
    PgOptions {
        pool_size: 3,
        writers: 1,
        node_id: Some(node.into()),
        timing: ClusterTiming {
            lease: Duration::from_millis(800),
            renew: Duration::from_millis(200),
            poll: Duration::from_millis(100),
        },
        connect_timeout: Duration::from_secs(5),
        ..PgOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_meets_the_contract() {
    let db = TestDatabase::create().await;
    let store = PgStore::connect(&db.url, options("a"))
        .await
        .expect("connect");
    ironstep_store::contract::run(&store).await;
    ironstep_store::Store::close(&store).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_meets_the_cluster_contract() {
    let db = TestDatabase::create().await;
    let a = PgStore::connect(&db.url, options("node-a"))
        .await
        .expect("connect a");
    let b = PgStore::connect(&db.url, options("node-b"))
        .await
        .expect("connect b");
    ironstep_store::contract::cluster(&a, &b).await;
    ironstep_store::Store::close(&a).await.unwrap();
    ironstep_store::Store::close(&b).await.unwrap();
}
