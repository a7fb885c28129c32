//! The `tenant` and `token` commands, run as the real binary against a running server's
//! database, and what their tokens may do: tenant isolation, scopes, revocation.

#![expect(
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used,
    reason = "a test fails by panicking; clippy.toml's in-tests allowances miss helpers of an integration-test crate"
)]

use std::process::{Command, Output};

use serde_json::json;

use crate::harness::{Backend, Req, Resp, Server, USER};

/// Runs `scim-server ARGS` on the server's database.
pub(crate) fn cli(s: &Server, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scim-server"))
        .args(args)
        .env("DATABASE_URL", &s.db.url)
        .env("RUST_LOG", "warn")
        .env_remove("SCIM_BOOTSTRAP_TOKEN")
        .output()
        .expect("run scim-server")
}

#[track_caller]
pub(crate) fn cli_ok(s: &Server, args: &[&str]) -> (String, String) {
    let out = cli(s, args);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        out.status.success(),
        "{args:?} failed ({})\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );
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
pub(crate) fn token(s: &Server, tenant: &str, extra: &[&str]) -> (String, String) {
    let mut args = vec!["token", "create", "--tenant", tenant];
    args.extend_from_slice(extra);
    let (stdout, stderr) = cli_ok(s, &args);
    let secret = stdout
        .lines()
        .last()
        .expect("a secret line")
        .trim()
        .to_owned();
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

/// A request carrying `secret` as its bearer token.
pub(crate) fn with<'a>(s: &'a Server, secret: &str, method: &str, path: &str) -> Req<'a> {
    s.raw(method, path)
        .header("Authorization", &format!("Bearer {secret}"))
}

/// The tenant names `tenant list` prints.
fn tenant_names(s: &Server) -> Vec<String> {
    let (stdout, _) = cli_ok(s, &["tenant", "list"]);
    stdout
        .lines()
        .map(|l| l.split('\t').nth(1).expect("id<TAB>name").to_owned())
        .collect()
}

fn tenants_are_created_listed_and_unique(backend: Backend) {
    let s = Server::start(backend);
    assert_eq!(tenant_names(&s), ["default"]);

    let (stdout, _) = cli_ok(&s, &["tenant", "create", "acme"]);
    let fields: Vec<&str> = stdout.trim_end().split('\t').collect();
    assert_eq!(fields.len(), 2, "{stdout:?}");
    assert!(!fields[0].is_empty(), "{stdout:?}");
    assert_eq!(fields[1], "acme");

    cli_fails(&s, &["tenant", "create", "acme"]);
    let mut names = tenant_names(&s);
    names.sort();
    assert_eq!(names, ["acme", "default"]);
}

fn token_create_checks_tenant_and_scopes(backend: Backend) {
    let s = Server::start(backend);
    cli_fails(&s, &["token", "create", "--tenant", "nope"]);
    cli_fails(
        &s,
        &[
            "token",
            "create",
            "--tenant",
            "default",
            "--scope",
            "scim:everything",
        ],
    );
    cli_fails(
        &s,
        &[
            "token",
            "create",
            "--tenant",
            "default",
            "--scope",
            "scim:read",
            "--scope",
            "root",
        ],
    );
    cli_fails(&s, &["token", "revoke", "no-such-token-id"]);

    // The default scopes read and write; an expiry in the future still works.
    let (secret, _) = token(&s, "default", &["--expires-in", "30"]);
    let r =
        with(&s, &secret, "POST", "/Users").json(&json!({"schemas": [USER], "userName": "cli"}));
    assert_eq!(r.status, 201, "{}", r.text);
    let r = with(&s, &secret, "GET", "/Users").send();
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["totalResults"], 1, "{}", r.text);
}

fn tenants_are_isolated(backend: Backend) {
    let s = Server::start(backend);
    let mine = s.create_user("shared-name");
    let my_id = mine["id"].as_str().unwrap();
    let my_group = s.create_group("Shared Group", &[my_id]);
    let group_id = my_group["id"].as_str().unwrap();
    cli_ok(&s, &["tenant", "create", "other"]);
    let (theirs, _) = token(&s, "other", &[]);

    for path in [format!("/Users/{my_id}"), format!("/Groups/{group_id}")] {
        with(&s, &theirs, "GET", &path)
            .send()
            .assert_error(404, None);
    }
    let put = json!({"schemas": [USER], "userName": "hijacked"});
    with(&s, &theirs, "PUT", &format!("/Users/{my_id}"))
        .json(&put)
        .assert_error(404, None);
    with(&s, &theirs, "DELETE", &format!("/Users/{my_id}"))
        .send()
        .assert_error(404, None);
    with(&s, &theirs, "DELETE", &format!("/Groups/{group_id}"))
        .send()
        .assert_error(404, None);
    for path in [
        "/Users".to_owned(),
        "/Users?filter=userName%20eq%20%22shared-name%22".to_owned(),
        "/Groups".to_owned(),
        format!("/Users?filter=id%20eq%20%22{my_id}%22"),
    ] {
        let r = with(&s, &theirs, "GET", &path).send();
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        assert_eq!(r.body["totalResults"], 0, "{path}: {}", r.text);
    }
    // Another tenant's user cannot be made a member.
    let r = with(&s, &theirs, "POST", "/Groups").json(&json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Shared Group",
        "members": [{"value": my_id}],
    }));
    r.assert_error(400, Some("invalidValue"));

    // Names are unique per tenant only.
    let r = with(&s, &theirs, "POST", "/Users")
        .json(&json!({"schemas": [USER], "userName": "shared-name"}));
    assert_eq!(r.status, 201, "{}", r.text);
    assert_ne!(r.body["id"], mine["id"]);
    let r = with(&s, &theirs, "POST", "/Groups").json(&json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Shared Group",
    }));
    assert_eq!(r.status, 201, "{}", r.text);

    // The first tenant's data is untouched and it sees only its own.
    let r = s.get(&format!("/Users/{my_id}"));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["userName"], "shared-name");
    assert_eq!(r.header("etag"), Some(r#"W/"1""#));
    let r = s.get(&format!("/Groups/{group_id}"));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["members"].as_array().map(Vec::len),
        Some(1),
        "{}",
        r.text
    );
    assert_eq!(s.get("/Users").body["totalResults"], 1);
    assert_eq!(s.get("/Groups").body["totalResults"], 1);
}

#[track_caller]
fn assert_forbidden(r: &Resp) {
    r.assert_error(403, None);
}

fn scopes_limit_what_a_token_may_do(backend: Backend) {
    let s = Server::start(backend);
    let u = s.create_user("existing");
    let path = format!("/Users/{}", u["id"].as_str().unwrap());
    let (reader, _) = token(&s, "default", &["--scope", "scim:read"]);
    let (writer, _) = token(&s, "default", &["--scope", "scim:write"]);
    let new_user = json!({"schemas": [USER], "userName": "someone"});

    assert_eq!(with(&s, &reader, "GET", &path).send().status, 200);
    assert_eq!(with(&s, &reader, "GET", "/Users").send().status, 200);
    assert_forbidden(&with(&s, &reader, "POST", "/Users").json(&new_user));
    assert_forbidden(&with(&s, &reader, "PUT", &path).json(&new_user));
    assert_forbidden(&with(&s, &reader, "DELETE", &path).send());
    let r = s.get(&path);
    assert_eq!(r.body["userName"], "existing", "{}", r.text);
    assert_eq!(s.get("/Users").body["totalResults"], 1);

    assert_forbidden(&with(&s, &writer, "GET", &path).send());
    assert_forbidden(&with(&s, &writer, "GET", "/Users").send());
    let r = with(&s, &writer, "POST", "/Users").json(&new_user);
    assert_eq!(r.status, 201, "{}", r.text);
    // Discovery needs no scope at all.
    let r = with(&s, &writer, "GET", "/ServiceProviderConfig").send();
    assert_eq!(r.status, 200, "{}", r.text);
}

fn revoked_token_is_refused_at_once(backend: Backend) {
    let s = Server::start(backend);
    let (secret, id) = token(&s, "default", &[]);
    let (other, _) = token(&s, "default", &[]);
    let r = with(&s, &secret, "GET", "/Users").send();
    assert_eq!(r.status, 200, "{}", r.text);

    cli_ok(&s, &["token", "revoke", &id]);
    let r = with(&s, &secret, "GET", "/Users").send();
    r.assert_error(401, None);
    assert!(
        r.header("www-authenticate")
            .is_some_and(|h| h.starts_with("Bearer")),
        "{:?}",
        r.headers
    );
    let r =
        with(&s, &secret, "POST", "/Users").json(&json!({"schemas": [USER], "userName": "late"}));
    r.assert_error(401, None);
    // Only that token is revoked.
    let r = with(&s, &other, "GET", "/Users").send();
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["totalResults"], 0, "{}", r.text);
}

/// Each request's log line carries its span: its request id (also returned as `X-Request-Id`),
/// which method authenticated it, as whom, for which tenant (and never the token itself).
fn the_request_span_names_the_auth_method_and_actor(backend: Backend) {
    let s = Server::start(backend);
    let (secret, id) = token(&s, "default", &[]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_scim-server"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", &s.db.url)
        .env("RUST_LOG", "info")
        .env("SCIM_LOG_FORMAT", "json")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while ureq::get(&format!("{base}/healthz")).call().is_err() {
        assert!(std::time::Instant::now() < deadline, "server did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let r = ureq::get(&format!("{base}/scim/v2/Users"))
        .set("Authorization", &format!("Bearer {secret}"))
        .call()
        .unwrap();
    assert_eq!(r.status(), 200);
    // Every response names its request: a new id, or the client's own when it is plausible.
    let request_id = r.header("X-Request-Id").unwrap().to_owned();
    assert!(
        request_id.len() == 32 && request_id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{request_id}"
    );
    let echoed = ureq::get(&format!("{base}/healthz"))
        .set("X-Request-Id", "okta-7f3a:retry.2")
        .call()
        .unwrap();
    assert_eq!(echoed.header("X-Request-Id"), Some("okta-7f3a:retry.2"));
    for forged in ["a b", "x\",\"level\":\"ERROR", &"x".repeat(129)] {
        let replaced = ureq::get(&format!("{base}/healthz"))
            .set("X-Request-Id", forged)
            .call()
            .unwrap();
        let id = replaced.header("X-Request-Id").unwrap();
        assert!(id != forged && id.len() == 32, "{forged:?} -> {id}");
    }
    // Errors carry it too.
    let refused = ureq::get(&format!("{base}/scim/v2/Users"))
        .call()
        .unwrap_err();
    match refused {
        ureq::Error::Status(401, resp) => assert!(resp.header("X-Request-Id").is_some()),
        other => panic!("{other:?}"),
    }
    // Bodies are never logged, so neither is a password in one.
    let created = ureq::post(&format!("{base}/scim/v2/Users"))
        .set("Authorization", &format!("Bearer {secret}"))
        .set("Content-Type", "application/scim+json")
        .send_string(
            &serde_json::json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "logged-joiner",
                "password": "Pw-never-in-a-log-7",
            })
            .to_string(),
        )
        .unwrap();
    assert_eq!(created.status(), 201);
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8(out.stderr).unwrap();
    let line = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|l| l["span"]["path"] == "/scim/v2/Users")
        .unwrap_or_else(|| panic!("no request line in {log}"));
    assert_eq!(line["span"]["auth"], "token", "{line}");
    assert_eq!(line["span"]["actor"], format!("token:{id}"), "{line}");
    assert!(
        line["span"]["tenant"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert_eq!(line["span"]["method"], "GET", "{line}");
    assert_eq!(line["fields"]["status"], 200, "{line}");
    assert!(line["fields"]["micros"].is_u64(), "{line}");
    assert_eq!(line["span"]["request_id"], request_id.as_str(), "{line}");
    assert!(!log.contains(&secret), "the token leaked into the log");
    assert!(log.contains("\"status\":201"), "{log}");
    assert!(
        !log.contains("Pw-never-in-a-log-7"),
        "a password leaked into the log"
    );
    assert!(
        !log.contains("logged-joiner"),
        "a request body leaked into the log"
    );
}

crate::backends!(
    the_request_span_names_the_auth_method_and_actor,
    tenants_are_created_listed_and_unique,
    token_create_checks_tenant_and_scopes,
    tenants_are_isolated,
    scopes_limit_what_a_token_may_do,
    revoked_token_is_refused_at_once,
);
