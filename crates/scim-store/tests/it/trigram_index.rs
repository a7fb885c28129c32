//! SQLite's FTS5 trigram indexes get their entries for new rows from the store, many rows a
//! statement, not from insert triggers; the update and delete triggers must still find the
//! entries of the rows they touch. After creates in batches, an update and a delete of rows
//! created in the same transaction, and savepoints rolled back around pending rows, each index
//! must match its table (FTS5's own integrity check), and `co` must find exactly what is there,
//! inside the transaction and after it. The searches run on PostgreSQL too.

use diesel::connection::SimpleConnection;
use scim_core::Error;
use scim_core::query::{Column, Expr, Field, Operand, StoreQuery};
use scim_core::resource::{IndexKeys, Record, WriteRecord, new_id};
use scim_core::schema::{GROUP, ResourceKind, USER};
use scim_core::store::{Store, Tx};
use scim_filter_parser::CompareOp;
use scim_store::{AnyConnection, DieselStore};

use crate::{Db, connect, tenant};

fn record(kind: ResourceKind, schema: &str) -> Record {
    let now = scim_core::clock::Clock::now(&scim_core::clock::SystemClock);
    Record {
        id: new_id(),
        kind,
        schemas: vec![schema.into()],
        data: serde_json::Map::new(),
        version: 1,
        created: now,
        last_modified: now,
    }
}

fn user(name: &str, emails: &[&str]) -> WriteRecord {
    WriteRecord {
        record: record(ResourceKind::User, USER),
        index: IndexKeys {
            user_name: Some(name.into()),
            user_name_folded: Some(name.into()),
            display_name: Some(format!("{name} shown")),
            display_name_folded: Some(format!("{name} shown")),
            emails_folded: emails.iter().map(|e| (*e).to_owned()).collect(),
            active: Some(true),
            ..IndexKeys::default()
        },
        password_hash: None,
    }
}

fn group(name: &str) -> WriteRecord {
    WriteRecord {
        record: record(ResourceKind::Group, GROUP),
        index: IndexKeys {
            display_name: Some(name.into()),
            display_name_folded: Some(name.into()),
            ..IndexKeys::default()
        },
        password_hash: None,
    }
}

/// The ids of the resources whose `column` contains `value`, sorted.
fn containing(tx: &mut dyn Tx, kind: ResourceKind, column: Column, value: &str) -> Vec<String> {
    let q = StoreQuery {
        filter: Some(Expr::Compare(
            Field::Column(column),
            CompareOp::Co,
            Operand::Str(value.into()),
        )),
        sort: None,
        after: None,
        start_index: 1,
        count: 1_000,
        total: false,
    };
    let mut ids: Vec<String> = tx
        .list(kind, &q)
        .unwrap()
        .records
        .into_iter()
        .map(|r| r.id)
        .collect();
    ids.sort();
    ids
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

/// FTS5's check that each index holds exactly its table's rows (`rank` 1 compares the content).
fn assert_indexes_match(url: &str) {
    let mut conn = connect(url);
    if matches!(conn, AnyConnection::Sqlite(_)) {
        for index in ["users_trigram", "user_emails_trigram", "groups_trigram"] {
            conn.batch_execute(&format!(
                "INSERT INTO {index} ({index}, rank) VALUES ('integrity-check', 1)"
            ))
            .unwrap_or_else(|e| panic!("{index}: {e}"));
        }
    }
}

#[test]
fn trigram_entries_follow_rows_through_batches_updates_deletes_and_savepoints() {
    for db in Db::all() {
        let store = DieselStore::open(&db.url, 2, std::time::Duration::from_secs(5)).unwrap();
        let t = tenant(&store, "trigrams");

        // A batch of creates, searched inside its own transaction and after it.
        let batch: Vec<WriteRecord> = (0..120)
            .map(|i| {
                let mail = format!("person{i:03}@corp.example");
                user(&format!("batch{i:03}"), &[&mail, "shared@home.example"])
            })
            .collect();
        let teams: Vec<WriteRecord> = (0..3).map(|i| group(&format!("team-{i}"))).collect();
        let batch_ids = sorted(batch.iter().map(|w| w.record.id.clone()).collect());
        store
            .write_batch(&t, |tx| {
                for w in batch.iter().chain(&teams) {
                    tx.savepoint(&mut |tx| tx.insert(w))?;
                }
                assert_eq!(
                    containing(tx, ResourceKind::User, Column::Email, "@corp.exam"),
                    batch_ids
                );
                Ok(())
            })
            .unwrap();
        assert_indexes_match(&db.url);

        // Created, then changed and deleted in the same transaction: the update and delete
        // triggers find the new rows' entries.
        let renamed = user("before-rename", &["old-mail@corp.example"]);
        let doomed = user("doomed-user", &["doomed@corp.example"]);
        let doomed_group = group("doomed-team");
        store
            .write(&t, |tx| {
                tx.insert(&renamed)?;
                tx.insert(&doomed)?;
                tx.insert(&doomed_group)?;
                let mut after = renamed.clone();
                after.record.version = 2;
                after.index.user_name_folded = Some("after-rename".into());
                after.index.user_name = Some("after-rename".into());
                after.index.emails_folded = vec!["new-mail@corp.example".into()];
                tx.update(&after, 1)?;
                assert!(tx.delete(ResourceKind::User, &doomed.record.id)?);
                assert!(tx.delete(ResourceKind::Group, &doomed_group.record.id)?);
                assert_eq!(
                    containing(tx, ResourceKind::User, Column::UserName, "after-ren"),
                    vec![renamed.record.id.clone()]
                );
                Ok(())
            })
            .unwrap();
        assert_indexes_match(&db.url);

        // A row pending before a savepoint that rolls back (after changing that row and
        // creating another): the row keeps its entries, the savepoint's row has none. And a row
        // pending before a savepoint that changes it and succeeds.
        let kept = user("kept-user", &["kept@corp.example"]);
        let undone = user("undone-user", &["undone@corp.example"]);
        let moved = user("moved-user", &["moved-old@corp.example"]);
        store
            .write(&t, |tx| {
                tx.insert(&kept)?;
                tx.insert(&moved)?;
                let failed = tx.savepoint(&mut |tx| {
                    tx.insert(&undone)?;
                    let mut after = kept.clone();
                    after.record.version = 2;
                    after.index.emails_folded = vec!["changed@corp.example".into()];
                    tx.update(&after, 1)?;
                    Err(Error::InvalidValue("rolled back".into()))
                });
                assert!(failed.is_err());
                tx.savepoint(&mut |tx| {
                    let mut after = moved.clone();
                    after.record.version = 2;
                    after.index.emails_folded = vec!["moved-new@corp.example".into()];
                    tx.update(&after, 1)
                })
            })
            .unwrap();
        assert_indexes_match(&db.url);

        store
            .read(&t, |tx| {
                let users = ResourceKind::User;
                assert_eq!(
                    containing(tx, users, Column::Email, "@corp.exam").len(),
                    123
                );
                assert_eq!(
                    containing(tx, users, Column::Email, "moved-new"),
                    vec![moved.record.id.clone()]
                );
                assert!(containing(tx, users, Column::Email, "moved-old").is_empty());
                assert_eq!(
                    containing(tx, users, Column::UserName, "after-rename"),
                    vec![renamed.record.id.clone()]
                );
                assert!(containing(tx, users, Column::UserName, "before-rename").is_empty());
                assert!(containing(tx, users, Column::Email, "old-mail").is_empty());
                assert!(containing(tx, users, Column::UserName, "doomed").is_empty());
                assert!(
                    containing(tx, ResourceKind::Group, Column::DisplayName, "doomed").is_empty()
                );
                assert_eq!(
                    containing(tx, users, Column::Email, "kept@corp"),
                    vec![kept.record.id.clone()]
                );
                assert!(containing(tx, users, Column::Email, "changed@corp").is_empty());
                assert!(containing(tx, users, Column::UserName, "undone").is_empty());
                assert_eq!(
                    containing(tx, users, Column::DisplayName, "batch07"),
                    sorted(batch[70..80].iter().map(|w| w.record.id.clone()).collect())
                );
                assert_eq!(
                    containing(tx, ResourceKind::Group, Column::DisplayName, "team-"),
                    sorted(teams.iter().map(|w| w.record.id.clone()).collect())
                );
                Ok(())
            })
            .unwrap();
    }
}
