//! An update stores what the resource now holds: a value it no longer has is NULL in its
//! column (filters read the columns), while an update without a new password hash keeps the
//! stored one.

use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text};
use scim_core::resource::{IndexKeys, Record, WriteRecord, new_id};
use scim_core::schema::{ResourceKind, USER};
use scim_core::store::Store;
use scim_store::DieselStore;

use crate::{Db, connect, tenant};

#[derive(QueryableByName, Debug, PartialEq)]
struct Columns {
    #[diesel(sql_type = Nullable<Text>)]
    external_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    display_name: Option<String>,
    #[diesel(sql_type = Nullable<Bool>)]
    active: Option<bool>,
    #[diesel(sql_type = Nullable<Text>)]
    password_hash: Option<String>,
}

#[test]
fn updates_null_removed_values_and_keep_the_password() {
    for db in Db::all() {
        let store = DieselStore::open(&db.url, 2, std::time::Duration::from_secs(5)).unwrap();
        let t = tenant(&store, "updates");
        let now = scim_core::clock::Clock::now(&scim_core::clock::SystemClock);
        let first = WriteRecord {
            record: Record {
                id: new_id(),
                kind: ResourceKind::User,
                schemas: vec![USER.into()],
                data: serde_json::Map::new(),
                version: 1,
                created: now,
                last_modified: now,
            },
            index: IndexKeys {
                user_name: Some("mover".into()),
                user_name_folded: Some("mover".into()),
                display_name: Some("Mover".into()),
                display_name_folded: Some("mover".into()),
                external_id: Some("hr-1".into()),
                active: Some(false),
                ..IndexKeys::default()
            },
            password_hash: Some("hash-1".into()),
        };
        let mut second = first.clone();
        second.record.version = 2;
        second.index = IndexKeys {
            user_name: Some("mover".into()),
            user_name_folded: Some("mover".into()),
            ..IndexKeys::default()
        };
        second.password_hash = None;
        store.write(&t, |tx| tx.insert(&first)).unwrap();
        store.write(&t, |tx| tx.update(&second, 1)).unwrap();
        let row: Columns = diesel::sql_query(
            "SELECT external_id, display_name, active, password_hash FROM users WHERE id = $1",
        )
        .bind::<Text, _>(&first.record.id)
        .get_result(&mut connect(&db.url))
        .unwrap();
        assert_eq!(
            row,
            Columns {
                external_id: None,
                display_name: None,
                active: None,
                password_hash: Some("hash-1".into()),
            },
            "{}",
            db.url
        );
    }
}
