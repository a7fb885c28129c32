//! Black-box tests: the real server (the same `run` as `main`) on a free port, spoken to over
//! HTTP, on SQLite and, when `SCIM_TEST_POSTGRES_URL` is set, on PostgreSQL.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests: helpers and macro-generated cases abort loudly on a failed step"
)]

mod harness;

mod bulk;
mod cli;
mod concurrency;
mod csv;
mod cursor;
mod discovery;
mod errors;
mod extensions;
mod faults;
mod groups;
mod jwt;
mod lifecycle;
mod openapi;
mod operations;
mod paging;
mod patch;
mod query;
mod users;
