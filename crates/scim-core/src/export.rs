//! Export of users as CSV (the columns `import` reads, so an export re-imports unchanged) or as
//! a JSON array of SCIM resources. Pages are read by keyset (creation time, then id) and written
//! as they come, so a million users stream in constant memory and constant time per page.

use std::io::Write;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::import::{COLUMNS, ExtensionColumn, extension_columns};
use crate::projection::Projection;
use crate::query::{self, After, StoreQuery};
use crate::render::{self, Derived};
use crate::resource::{GroupRef, Record};
use crate::resources::Service;
use crate::schema::{ENTERPRISE_USER, ResourceKind};
use crate::store::Store;

/// Rows read per page.
const PAGE: u64 = 500;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The import columns.
    Csv,
    /// A JSON array of SCIM User resources.
    Json,
}

/// Writes every user matching `filter`; returns how many.
pub fn export<S: Store>(
    service: &Service<'_, S>,
    filter: Option<&str>,
    format: Format,
    out: impl Write,
) -> Result<u64> {
    let filter = filter
        .map(|f| query::resolve_filter(service.registry, ResourceKind::User, f, &service.limits))
        .transpose()?;
    let io = |e: std::io::Error| Error::internal(e);
    let extensions = extension_columns(service.registry);
    let mut csv_out = None;
    let mut json_out = None;
    match format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            let headers = COLUMNS
                .iter()
                .copied()
                .chain(extensions.iter().map(|c| c.header.as_str()));
            w.write_record(headers).map_err(Error::internal)?;
            csv_out = Some(w);
        }
        Format::Json => {
            let mut w = out;
            w.write_all(b"[").map_err(io)?;
            json_out = Some(w);
        }
    }
    let full = Projection::default();
    let mut after: Option<After> = None;
    let mut written = 0u64;
    loop {
        let query = StoreQuery {
            filter: filter.clone(),
            sort: None,
            after: after.clone(),
            start_index: 1,
            count: PAGE,
            total: false,
        };
        let done = service.store.read(service.tenant, |tx| {
            let page = tx.list(ResourceKind::User, &query)?;
            // The groups of the whole page in one query.
            let ids: Vec<String> = page.records.iter().map(|r| r.id.clone()).collect();
            let mut groups = tx.groups_of(&ids)?;
            for record in &page.records {
                let of = groups.remove(&record.id).unwrap_or_default();
                if let Some(w) = csv_out.as_mut() {
                    w.write_record(row(record, &of, &extensions))
                        .map_err(Error::internal)?;
                }
                if let Some(w) = json_out.as_mut() {
                    let groups = Derived::Groups(of);
                    let mut body = render::resource(record, groups, service.base_url);
                    full.apply(service.registry, ResourceKind::User, &mut body);
                    if written > 0 {
                        w.write_all(b",\n").map_err(io)?;
                    }
                    serde_json::to_writer(&mut *w, &body).map_err(Error::internal)?;
                }
                written += 1;
            }
            Ok(page.records.last().map(|r| After::of(r, false)))
        })?;
        match done {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    if let Some(mut w) = csv_out {
        w.flush().map_err(io)?;
    }
    if let Some(mut w) = json_out {
        w.write_all(b"]\n").map_err(io)?;
        w.flush().map_err(io)?;
    }
    Ok(written)
}

/// One user as import columns.
fn row(record: &Record, groups: &[GroupRef], extensions: &[ExtensionColumn]) -> Vec<String> {
    let d = &record.data;
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
    let mut groups: Vec<String> = groups
        .iter()
        .filter(|g| g.direct)
        .filter_map(|g| g.display.clone())
        .collect();
    groups.sort();
    let mut cells = vec![
        text(d.get("name").and_then(|n| n.get("givenName"))),
        text(d.get("name").and_then(|n| n.get("familyName"))),
        text(d.get("userName")),
        text(d.get("externalId")),
        text(d.get("displayName")),
        text(d.get("title")),
        text(d.get(ENTERPRISE_USER).and_then(|e| e.get("department"))),
        text(
            d.get("phoneNumbers")
                .and_then(|p| p.get(0))
                .and_then(|p| p.get("value")),
        ),
        d.get("active")
            .and_then(Value::as_bool)
            .map(|b| b.to_string())
            .unwrap_or_default(),
        groups.join(";"),
    ];
    for column in extensions {
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let cell = match d.get(&column.urn).and_then(|e| e.get(&column.attr.name)) {
            None | Some(Value::Null) => String::new(),
            // Multi-valued: the values separated by `;`, as import reads them.
            Some(Value::Array(items)) => items.iter().map(text).collect::<Vec<_>>().join(";"),
            Some(other) => text(other),
        };
        cells.push(cell);
    }
    cells
}
