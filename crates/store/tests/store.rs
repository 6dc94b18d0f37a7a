//! Behaviour of the embedded store through the `Store` trait.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use twinscape_store::{
    CommitInfo, Limits, LogEntry, MemoryStore, RedbOptions, RedbStore, Snapshot, Store, StoreError,
    Table, WriteBatch,
};

type Model = BTreeMap<Table, BTreeMap<String, Vec<u8>>>;

fn open(dir: &std::path::Path) -> Arc<dyn Store> {
    Arc::new(RedbStore::open(dir).expect("open store"))
}

/// Every backend, fresh, with `limits`: the contract is the same for all.
fn backends_with(limits: Limits) -> Vec<(&'static str, Arc<dyn Store>, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = RedbOptions {
        limits: limits.clone(),
        ..RedbOptions::default()
    };
    let redb: Arc<dyn Store> = Arc::new(RedbStore::open_with(dir.path(), options).expect("open"));
    let memory: Arc<dyn Store> = Arc::new(MemoryStore::with_limits(limits));
    vec![("redb", redb, Some(dir)), ("memory", memory, None)]
}

fn backends() -> Vec<(&'static str, Arc<dyn Store>, Option<tempfile::TempDir>)> {
    backends_with(Limits::default())
}

fn dump(snapshot: &dyn Snapshot) -> Model {
    let mut model = Model::new();
    for table in Table::ALL {
        let rows: BTreeMap<String, Vec<u8>> = snapshot
            .entries(table)
            .expect("entries")
            .map(|row| row.expect("row"))
            .collect();
        assert_eq!(snapshot.len(table).expect("len"), rows.len() as u64);
        if !rows.is_empty() {
            model.insert(table, rows);
        }
    }
    model
}

fn log_of(snapshot: &dyn Snapshot) -> Vec<LogEntry> {
    snapshot
        .log(0)
        .expect("log")
        .map(|e| e.expect("entry"))
        .collect()
}

#[tokio::test]
async fn reopen_restores_exactly_what_was_committed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut model = Model::new();
    {
        let store = open(dir.path());
        for i in 0..200u32 {
            let mut batch = WriteBatch::new();
            for table in Table::ALL {
                let key = format!("{}-{}", table.name(), i % 37);
                if i % 5 == 4 {
                    batch.delete(table, key.clone());
                    model.entry(table).or_default().remove(&key);
                } else {
                    let value = format!("{table}:{i}").into_bytes();
                    batch.put(table, key.clone(), value.clone());
                    model.entry(table).or_default().insert(key, value);
                }
            }
            batch.append_log(format!("event {i}"));
            let info = store.commit(batch).await.expect("commit");
            assert_eq!(info.batch_seq, u64::from(i) + 1);
            assert_eq!(info.log_seqs, u64::from(i) + 1..u64::from(i) + 2);
        }
        model.retain(|_, rows| !rows.is_empty());
        assert_eq!(dump(&*store.load().expect("load")), model);
    }
    let store = open(dir.path());
    let snapshot = store.load().expect("load");
    assert_eq!(dump(&*snapshot), model);
    assert_eq!(snapshot.last_batch_seq(), 200);
    assert_eq!(snapshot.next_log_seq(), 201);
    let log = log_of(&*snapshot);
    assert_eq!(log.len(), 200);
    assert_eq!(log[7].seq, 8);
    assert_eq!(log[7].payload, b"event 7");
    assert_eq!(
        store.get(Table::Twins, "twins-3").expect("get"),
        model[&Table::Twins].get("twins-3").cloned()
    );
    assert_eq!(store.get(Table::Jobs, "absent").expect("get"), None);
    // The sequence goes on after a restart.
    let info = store.commit(WriteBatch::new()).await.expect("commit");
    assert_eq!(info.batch_seq, 201);
}

#[tokio::test]
async fn an_invalid_batch_is_rejected_whole() {
    let limits = Limits {
        max_key_len: 16,
        max_value_len: 64,
        ..Limits::default()
    };
    for (backend, store, _dir) in backends_with(limits.clone()) {
        eprintln!("backend: {backend}"); // shown if the test fails
        assert_eq!(store.limits(), limits);
        let mut batch = WriteBatch::new();
        batch.put(Table::Twins, "a", "1").append_log("x").put(
            Table::Twins,
            "a-key-that-is-far-too-long",
            "2",
        );
        let err = store.commit(batch).await.expect_err("must fail");
        assert!(
            matches!(
                err,
                StoreError::KeyTooLong {
                    table: Table::Twins,
                    len: 26,
                    max: 16
                }
            ),
            "{err}"
        );
        assert!(err.is_invalid_batch());

        let mut batch = WriteBatch::new();
        batch.put(Table::Twins, "b", vec![0u8; 65]);
        assert!(matches!(
            store.commit(batch).await,
            Err(StoreError::ValueTooLarge { len: 65, max: 64 })
        ));
        let mut batch = WriteBatch::new();
        batch.put(Table::Twins, "c", "1").delete(Table::Models, "");
        assert!(matches!(
            store.commit(batch).await,
            Err(StoreError::EmptyKey {
                table: Table::Models
            })
        ));

        let snapshot = store.load().expect("load");
        assert!(dump(&*snapshot).is_empty());
        assert!(log_of(&*snapshot).is_empty());
        assert_eq!(snapshot.last_batch_seq(), 0);
        // Rejected batches use up no sequence numbers.
        let mut batch = WriteBatch::new();
        batch.put(Table::Twins, "a", "1").append_log("x");
        let info = store.commit(batch).await.expect("commit");
        assert_eq!(
            info,
            CommitInfo {
                batch_seq: 1,
                log_seqs: 1..2
            }
        );
    }
}

#[tokio::test]
async fn batches_apply_in_call_order() {
    for (backend, store, _dir) in backends() {
        eprintln!("backend: {backend}"); // shown if the test fails
        // Queue everything first, then wait: order is the order of the calls.
        let futures: Vec<_> = (0..2000u32)
            .map(|i| {
                let mut batch = WriteBatch::new();
                batch
                    .put(Table::Twins, "counter", i.to_string())
                    .put(Table::Twins, format!("k{}", i % 10), i.to_string())
                    .append_log(i.to_string());
                if i % 3 == 0 {
                    batch.delete(Table::Twins, format!("k{}", (i + 1) % 10));
                }
                store.commit(batch)
            })
            .collect();
        let mut last = 0;
        for (next_log, fut) in (1u64..).zip(futures) {
            let info = fut.await.expect("commit");
            assert!(
                info.batch_seq > last,
                "batch_seq must increase in call order"
            );
            last = info.batch_seq;
            assert_eq!(info.log_seqs, next_log..next_log + 1);
        }
        assert_eq!(
            store.get(Table::Twins, "counter").expect("get"),
            Some(b"1999".to_vec())
        );
        // Replay the same operations naively and compare.
        let mut expected = BTreeMap::new();
        for i in 0..2000u32 {
            expected.insert("counter".to_string(), i.to_string().into_bytes());
            expected.insert(format!("k{}", i % 10), i.to_string().into_bytes());
            if i % 3 == 0 {
                expected.remove(&format!("k{}", (i + 1) % 10));
            }
        }
        let snapshot = store.load().expect("load");
        assert_eq!(dump(&*snapshot).remove(&Table::Twins), Some(expected));
        let log: Vec<String> = log_of(&*snapshot)
            .into_iter()
            .map(|e| String::from_utf8(e.payload).expect("utf8"))
            .collect();
        let want: Vec<String> = (0..2000).map(|i: u32| i.to_string()).collect();
        assert_eq!(log, want);
    }
}

#[tokio::test]
async fn log_append_read_truncate() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = open(dir.path());
        let mut batch = WriteBatch::new();
        for i in 0..10 {
            batch.append_log(format!("e{i}"));
        }
        let info = store.commit(batch).await.expect("commit");
        assert_eq!(info.log_seqs, 1..11);

        let page = store.read_log(4, 3).expect("read");
        let seqs: Vec<u64> = page.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, vec![4, 5, 6]);
        assert_eq!(page[0].payload, b"e3");
        assert!(store.read_log(11, 10).expect("read").is_empty());
        assert_eq!(store.read_log(0, 100).expect("read").len(), 10);

        store.truncate_log(6).await.expect("truncate");
        let rest = store.read_log(0, 100).expect("read");
        assert_eq!(rest.first().map(|e| e.seq), Some(7));
        assert_eq!(rest.len(), 4);

        // Truncate everything: numbers are not reused.
        store.truncate_log(u64::MAX).await.expect("truncate");
        assert!(store.read_log(0, 100).expect("read").is_empty());
    }
    let store = open(dir.path());
    assert!(store.read_log(0, 100).expect("read").is_empty());
    let mut batch = WriteBatch::new();
    batch.append_log("after restart").append_log("and another");
    let info = store.commit(batch).await.expect("commit");
    assert_eq!(info.log_seqs, 11..13);
    // Appends and a truncation in one batch apply in order.
    let mut batch = WriteBatch::new();
    batch.append_log("x").truncate_log(12).append_log("y");
    let info = store.commit(batch).await.expect("commit");
    assert_eq!(info.log_seqs, 13..15);
    let seqs: Vec<u64> = store
        .read_log(0, 100)
        .expect("read")
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, vec![13, 14]);
    assert_eq!(store.load().expect("load").next_log_seq(), 15);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_committers_are_all_durable_and_grouped() {
    const TASKS: usize = 64;
    const PER_TASK: usize = 100;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(RedbStore::open(dir.path()).expect("open"));
    let mut handles = Vec::new();
    for t in 0..TASKS {
        let store: Arc<dyn Store> = store.clone();
        handles.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for n in 0..PER_TASK {
                let mut batch = WriteBatch::new();
                batch
                    .put(Table::Twins, format!("t{t}-{n}"), vec![t as u8; 500])
                    .put(
                        Table::Relationships,
                        format!("t{t}-{n}/r"),
                        vec![n as u8; 200],
                    );
                seqs.push(store.commit(batch).await.expect("commit").batch_seq);
            }
            seqs
        }));
    }
    let mut all = Vec::new();
    for handle in handles {
        let seqs = handle.await.expect("task");
        assert!(seqs.windows(2).all(|w| w[0] < w[1]));
        all.extend(seqs);
    }
    all.sort_unstable();
    let want: Vec<u64> = (1..=(TASKS * PER_TASK) as u64).collect();
    assert_eq!(all, want, "every batch gets a distinct sequence number");
    let stats = store.stats();
    assert_eq!(stats.batches, (TASKS * PER_TASK) as u64);
    assert!(
        stats.groups < stats.batches,
        "concurrent commits must share group commits: {stats:?}"
    );
    drop(store);

    let store = open(dir.path());
    let snapshot = store.load().expect("load");
    assert_eq!(
        snapshot.len(Table::Twins).expect("len"),
        (TASKS * PER_TASK) as u64
    );
    assert_eq!(
        snapshot.len(Table::Relationships).expect("len"),
        (TASKS * PER_TASK) as u64
    );
    assert_eq!(
        store.get(Table::Twins, "t63-99").expect("get"),
        Some(vec![63u8; 500])
    );
}

#[tokio::test]
async fn dropping_the_store_finishes_queued_commits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = RedbStore::open(dir.path()).expect("open");
    let futures: Vec<_> = (0..500)
        .map(|i| {
            let mut batch = WriteBatch::new();
            batch.put(Table::Twins, format!("k{i}"), "v");
            store.commit(batch)
        })
        .collect();
    drop(store);
    for fut in futures {
        fut.await
            .expect("queued commits complete before the store closes");
    }
    let store = open(dir.path());
    assert_eq!(
        store.load().expect("load").len(Table::Twins).expect("len"),
        500
    );
}

#[tokio::test]
async fn for_each_lends_the_same_rows_as_entries() {
    for (backend, store, _dir) in backends() {
        eprintln!("backend: {backend}"); // shown if the test fails
        let mut batch = WriteBatch::new();
        for i in 0..1000 {
            batch.put(Table::Relationships, format!("r{i:04}"), format!("v{i}"));
        }
        store.commit(batch).await.expect("commit");
        let snapshot = store.load().expect("load");
        let entries: Vec<(String, Vec<u8>)> = snapshot
            .entries(Table::Relationships)
            .expect("entries")
            .map(|r| r.expect("row"))
            .collect();
        let mut visited = Vec::new();
        snapshot
            .for_each(Table::Relationships, &mut |k, v| {
                visited.push((k.to_string(), v.to_vec()));
                ControlFlow::Continue(())
            })
            .expect("for_each");
        assert_eq!(visited, entries);
        assert_eq!(visited.len(), 1000);
        let mut seen = 0;
        snapshot
            .for_each(Table::Relationships, &mut |_, _| {
                seen += 1;
                if seen == 10 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .expect("for_each");
        assert_eq!(seen, 10);
    }
}

#[test]
fn handles_are_send_and_sync() {
    fn send<T: Send>() {}
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Arc<dyn Store>>();
    send_sync::<StoreError>();
    send::<twinscape_store::CommitFuture>();
    send::<Box<dyn Snapshot>>();
    send::<twinscape_store::Entries>();
    send::<twinscape_store::LogEntries>();
}

#[tokio::test]
async fn a_snapshot_does_not_see_later_commits() {
    for (backend, store, _dir) in backends() {
        eprintln!("backend: {backend}"); // shown if the test fails
        let mut batch = WriteBatch::new();
        batch.put(Table::Models, "m1", "v1");
        store.commit(batch).await.expect("commit");
        let snapshot = store.load().expect("load");
        let mut batch = WriteBatch::new();
        batch
            .put(Table::Models, "m1", "v2")
            .put(Table::Models, "m2", "v");
        store.commit(batch).await.expect("commit");
        let rows: Vec<_> = snapshot
            .entries(Table::Models)
            .expect("entries")
            .map(|r| r.expect("row"))
            .collect();
        assert_eq!(rows, vec![("m1".to_string(), b"v1".to_vec())]);
        assert_eq!(snapshot.last_batch_seq(), 1);
        assert_eq!(
            store.get(Table::Models, "m1").expect("get"),
            Some(b"v2".to_vec())
        );
    }
}

#[test]
fn a_second_open_of_one_data_dir_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("nested").join("data");
    let first = RedbStore::open(&data_dir).expect("open creates the directories");
    let err = RedbStore::open(&data_dir).expect_err("the second open must fail");
    match &err {
        StoreError::Locked { dir, .. } => assert_eq!(dir, &data_dir),
        other => panic!("expected Locked, got {other:?}"),
    }
    let message = err.to_string();
    assert!(message.contains("already in use"), "{message}");
    assert!(
        message.contains(&data_dir.display().to_string()),
        "{message}"
    );
    drop(first);
    RedbStore::open(&data_dir).expect("reopens once the first handle is gone");
}

#[test]
fn a_data_dir_that_is_a_file_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").expect("write");
    let err = RedbStore::open(&file).expect_err("must fail");
    assert!(matches!(err, StoreError::CreateDir { .. }), "{err:?}");
    std::fs::write(dir.path().join("twinscape.redb"), "not a database at all").expect("write");
    let err = RedbStore::open(dir.path()).expect_err("must fail");
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
}

#[tokio::test]
async fn an_interrupted_creation_leaves_no_store_behind() {
    let dir = tempfile::tempdir().expect("tempdir");
    // What a power cut while creating could leave: a half-written new file
    // beside the final name, or (from elsewhere) an empty final file.
    std::fs::write(dir.path().join("twinscape.redb.creating"), vec![0u8; 8192]).expect("write");
    std::fs::write(dir.path().join("twinscape.redb"), b"").expect("write");
    {
        let store = RedbStore::open(dir.path()).expect("open creates a new store");
        assert!(!dir.path().join("twinscape.redb.creating").exists());
        let mut batch = WriteBatch::new();
        batch.put(Table::Meta, "k", "v");
        store.commit(batch).await.expect("commit");
    }
    let store = RedbStore::open(dir.path()).expect("reopen");
    assert_eq!(
        store.get(Table::Meta, "k").expect("get"),
        Some(b"v".to_vec())
    );
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("twinscape.redb")]);
}
