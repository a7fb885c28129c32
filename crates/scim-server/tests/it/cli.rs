//! The `tenant` and `token` commands, run as the real binary against a running server's
//! database, and what their tokens may do: tenant isolation, scopes, revocation.

use std::process::{Command, Output};

use serde_json::json;

use crate::harness::{Backend, Resp, Server, USER};

/// Runs `scim-server ARGS` on the server's database.
fn cli(s: &Server, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scim-server"))
        .args(args)
        .env("DATABASE_URL", &s.db.url)
        .env("RUST_LOG", "warn")
        .env_remove("SCIM_BOOTSTRAP_TOKEN")
        .output()
        .expect("run scim-server")
}

#[track_caller]
fn cli_ok(s: &Server, args: &[&str]) -> (String, String) {
    let out = cli(s, args);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{args:?} failed\nstdout: {stdout}\nstderr: {stderr}");
    (stdout, stderr)
}

#[track_caller]
fn cli_fails(s: &Server, args: &[&str]) {
    let out = cli(s, args);
    assert!(
        !out.status.success(),
        "{args:?} succeeded: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!out.stderr.is_empty(), "{args:?} failed without saying why");
}

/// Creates a token; returns (secret, token id).
#[track_caller]
fn token(s: &Server, tenant: &str, extra: &[&str]) -> (String, String) {
    let mut args = vec!["token", "create", "--tenant", tenant];
    args.extend_from_slice(extra);
    let (stdout, stderr) = cli_ok(s, &args);
    let secret = stdout.lines().last().expect("a secret line").trim().to_owned();
    assert!(secret.len() >= 20, "weak or missing secret in {stdout:?}");
    let id = stderr
        .lines()
        .find_map(|l| l.strip_prefix("token "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no token id in {stderr:?}"))
        .to_owned();
    assert!(stderr.contains(&format!("for tenant {tenant}")), "{stderr}");
    (secret, id)
}

fn with(s: &Server, secret: &str, method: &str, path: &str) -> crate::harness::Req<'static> {
    // Leak-free borrow juggling is not worth it here: tests are short-lived.
    let s: &'static Server = Box::leak(Box::new(Server::clone_handle(s)));
    s.raw(method, path).header("Authorization", &format!("Bearer {secret}"))
}
