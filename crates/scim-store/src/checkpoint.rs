//! SQLite WAL checkpoints off the request path. A commit that finds the WAL past
//! `wal_autocheckpoint` copies it into the database file itself, so one request in many paid
//! for everyone's writes: at a million users that was the p99 of every write (150 ms and
//! more). A thread of the store's own checkpoints passively once a second instead, beside
//! readers and the writer; the automatic checkpoint stays as a bound on the WAL's growth.

use std::sync::Weak;

use parking_lot::Mutex;
use std::thread;
use std::time::Duration;

use diesel::connection::SimpleConnection;

use crate::connection::{AnyConnection, DbUrl};

/// How often the WAL is copied into the database.
const EVERY: Duration = Duration::from_secs(1);

/// Starts checkpointing `url`'s database while `alive` (the store's writer lock) exists. A
/// failure to connect or to checkpoint is logged and retried on the next turn; commits still
/// checkpoint by themselves past `wal_autocheckpoint`.
pub fn start(url: DbUrl, alive: Weak<Mutex<()>>) {
    let spawned = thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            let mut conn: Option<AnyConnection> = None;
            while alive.strong_count() > 0 {
                thread::sleep(EVERY);
                let ready = match conn.as_mut() {
                    Some(c) => Ok(c),
                    None => url.connect().map(|c| conn.insert(c)),
                };
                let done = ready.and_then(|c| {
                    c.batch_execute("PRAGMA wal_checkpoint(PASSIVE)")
                        .map_err(crate::Error::from)
                });
                if let Err(e) = done {
                    tracing::warn!(error = %e, "WAL checkpoint failed; retrying");
                    conn = None;
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "no checkpoint thread; commits checkpoint by themselves");
    }
}
