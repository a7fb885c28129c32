//! Embedded migrations, one set per backend (see `migrations/README.md`).

use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::connection::AnyConnection;
use crate::error::Error;

const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Runs every pending migration; returns how many ran.
pub fn run(conn: &mut AnyConnection) -> Result<usize, Error> {
    let ran = match conn {
        AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE).map(|v| v.len()),
        AnyConnection::Postgres(c) => c.run_pending_migrations(POSTGRES).map(|v| v.len()),
    };
    ran.map_err(|e| Error::Migration(e.to_string()))
}

/// Reverts the latest migration (used by the tests of what it leaves behind).
pub fn revert_last(conn: &mut AnyConnection) -> Result<(), Error> {
    let done = match conn {
        AnyConnection::Sqlite(c) => c.revert_last_migration(SQLITE).map(|_| ()),
        AnyConnection::Postgres(c) => c.revert_last_migration(POSTGRES).map(|_| ()),
    };
    done.map_err(|e| Error::Migration(e.to_string()))
}

/// Reverts every migration (used by the up/down/up test).
pub fn revert_all(conn: &mut AnyConnection) -> Result<(), Error> {
    let done = match conn {
        AnyConnection::Sqlite(c) => c.revert_all_migrations(SQLITE).map(|_| ()),
        AnyConnection::Postgres(c) => c.revert_all_migrations(POSTGRES).map(|_| ()),
    };
    done.map_err(|e| Error::Migration(e.to_string()))
}
