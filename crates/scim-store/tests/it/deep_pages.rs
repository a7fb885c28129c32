//! Pages deep in the default order (creation time, then id), which the store finds through
//! `created_counts` instead of an OFFSET over the tenant: the same rows as the order itself,
//! after creates out of order and deletes, and counts that match the rows.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use scim_core::query::StoreQuery;
use scim_core::resource::{IndexKeys, Record, TenantId, WriteRecord, new_id};
use scim_core::schema::{GROUP, ResourceKind};
use scim_core::store::Store;
use scim_store::DieselStore;

use crate::{Db, connect, tenant};

fn group(name: &str, created: DateTime<Utc>) -> WriteRecord {
    let mut data = serde_json::Map::new();
    data.insert("displayName".into(), name.into());
    WriteRecord {
        record: Record {
            id: new_id(),
            kind: ResourceKind::Group,
            schemas: vec![GROUP.into()],
            data,
            version: 1,
            created,
            last_modified: created,
        },
        index: IndexKeys {
            display_name: Some(name.into()),
            display_name_folded: Some(name.into()),
            ..IndexKeys::default()
        },
        password_hash: None,
    }
}

fn page(store: &DieselStore, tenant: &TenantId, start_index: u64) -> (u64, Vec<String>) {
    let q = StoreQuery {
        filter: None,
        sort: None,
        after: None,
        start_index,
        count: 10,
        total: true,
    };
    let page = store
        .read(tenant, |tx| tx.list(ResourceKind::Group, &q))
        .unwrap();
    (page.total, page.records.into_iter().map(|r| r.id).collect())
}

#[derive(QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Counted {
    #[diesel(sql_type = BigInt)]
    level: i64,
    #[diesel(sql_type = Text)]
    prefix: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[test]
fn deep_pages_follow_the_creation_order() {
    for db in Db::all() {
        let store = DieselStore::open(&db.url, 2, std::time::Duration::from_secs(5)).unwrap();
        let t = tenant(&store, "deep");
        let other = tenant(&store, "other");
        // Creation times from three to a second to days apart, so the descent crosses months,
        // days, hours, minutes and seconds; inserted in a scrambled order.
        let base = DateTime::parse_from_rfc3339("2025-12-31T23:59:58Z")
            .unwrap()
            .with_timezone(&Utc);
        let n: i64 = 2_600;
        let mut all: Vec<(String, String)> = Vec::new();
        store
            .write(&t, |tx| {
                for k in 0..n {
                    let i = (k * 7_919) % n;
                    let step = i / 3;
                    let created =
                        base + Duration::seconds(step * step * 7) + Duration::microseconds(i % 3);
                    let w = group(&format!("g{i}"), created);
                    all.push((scim_core::render::timestamp(&created), w.record.id.clone()));
                    tx.insert(&w)?;
                }
                Ok(())
            })
            .unwrap();
        store
            .write(&other, |tx| tx.insert(&group("elsewhere", base)))
            .unwrap();
        all.sort();
        // Deletes: every 26th in the order, and the three rows of one second (rows 1,500 to
        // 1,502 share theirs), so that its counts go down to nothing at every level below.
        let mut gone: Vec<String> = all.iter().step_by(26).map(|(_, id)| id.clone()).collect();
        gone.extend(all[1_500..1_503].iter().map(|(_, id)| id.clone()));
        gone.sort();
        gone.dedup();
        store
            .write(&t, |tx| {
                for id in &gone {
                    assert!(tx.delete(ResourceKind::Group, id)?, "{id}");
                }
                Ok(())
            })
            .unwrap();
        all.retain(|(_, id)| !gone.contains(id));
        // A create undone by its savepoint, plain and in a batch (whose savepoints are elided
        // until one fails), leaves no count behind.
        let undone = |tx: &mut dyn scim_core::store::Tx| {
            tx.savepoint(&mut |tx| {
                tx.insert(&group("undone", base + Duration::days(400)))?;
                Err(scim_core::Error::InvalidValue("undone".into()))
            })
        };
        store
            .write(&t, |tx| {
                assert!(undone(tx).is_err());
                Ok(())
            })
            .unwrap();
        store
            .write_batch(&t, |tx| {
                assert!(undone(tx).is_err());
                Ok(())
            })
            .unwrap();
        let len = all.len();
        let ids: Vec<&String> = all.iter().map(|(_, id)| id).collect();
        for start in [
            1,
            1_990,
            2_001,
            2_002,
            2_100,
            2_345,
            len - 5,
            len,
            len + 1,
            len + 100,
        ] {
            let (total, got) = page(&store, &t, u64::try_from(start).unwrap());
            let want: Vec<&String> = ids.iter().skip(start - 1).take(10).copied().collect();
            assert_eq!(
                got.iter().collect::<Vec<_>>(),
                want,
                "{} start {start}",
                db.url
            );
            assert_eq!(total, u64::try_from(len).unwrap());
        }
        // The maintained counts are the rows' counts at every level.
        let mut want: Vec<Counted> = Vec::new();
        for level in [7, 10, 13, 16, 19] {
            let mut by: std::collections::BTreeMap<String, i64> = Default::default();
            for (created, _) in &all {
                *by.entry(created[..level].to_owned()).or_default() += 1;
            }
            want.extend(by.into_iter().map(|(prefix, n)| Counted {
                level: i64::try_from(level).unwrap(),
                prefix,
                n,
            }));
        }
        let mut got: Vec<Counted> = diesel::sql_query(
            "SELECT level, prefix, CAST(SUM(n) AS BIGINT) AS n FROM created_counts \
             WHERE tenant_id = $1 AND resource_type = 'Group' GROUP BY level, prefix \
             HAVING SUM(n) <> 0",
        )
        .bind::<Text, _>(&t.0)
        .load(&mut connect(&db.url))
        .unwrap();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{}", db.url);
    }
}
