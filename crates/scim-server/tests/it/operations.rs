//! Running it in production (issue #8): request limits, per-token rate limits, pool
//! exhaustion, `/metrics` on its own listener, HTTPS, and the settings file.

use std::io::{Read, Write};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use scim_core::clock::{Clock, SystemClock};
use scim_core::limits::Limits;
use scim_core::store::Store;
use scim_server::config::RateLimit;
use serde_json::json;

use crate::backends;
use crate::harness::{
    Backend, Database, Process, Server, TOKEN, USER, free_port, test_config, test_tls,
};

backends!(
    request_limits_are_configurable_and_answered_with_scim_errors,
    default_limits_refuse_deep_filters_without_harm,
    a_token_over_its_rate_gets_429_and_others_are_served,
    an_exhausted_pool_answers_503_with_retry_after,
    metrics_are_served_on_their_own_listener,
);

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn request_limits_are_configurable_and_answered_with_scim_errors(backend: Backend) {
    let db = Database::new(backend);
    let config = scim_server::Config {
        limits: Limits {
            filter_length: 30,
            filter_depth: 2,
            patch_operations: 2,
            attributes: 2,
        },
        ..test_config(&db)
    };
    let s = Server::with_config(db, config);
    let user = s.create_user("alice");
    let id = user["id"].as_str().unwrap();
    let q = |f: &str| {
        s.get(&format!(
            "/Users?filter={}",
            f.replace(' ', "%20").replace('"', "%22")
        ))
    };

    // Filter length: 30 bytes pass, 31 do not, in the query string and in .search.
    let thirty = "userName eq \"alice\" or id pr";
    let thirty = format!("{thirty}{}", " ".repeat(30 - thirty.len()));
    assert_eq!(q(&thirty).status, 200);
    let long = format!("{thirty} ");
    q(&long).assert_error(400, Some("invalidFilter"));
    s.post("/.search", &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": long}))
        .assert_error(400, Some("invalidFilter"));
    s.post("/Users/.search", &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": long}))
        .assert_error(400, Some("invalidFilter"));

    // Depth: two levels pass, three do not.
    assert_eq!(q("((userName eq \"alice\"))").body["totalResults"], 1);
    let r = q("(((userName eq \"a\")))");
    r.assert_error(400, Some("invalidFilter"));
    assert!(r.text.contains("deep"), "{}", r.text);

    // attributes and excludedAttributes: two names pass, three do not.
    assert_eq!(
        s.get(&format!("/Users/{id}?attributes=userName,active"))
            .status,
        200
    );
    for path in [
        format!("/Users/{id}?attributes=userName,active,title"),
        format!("/Users/{id}?excludedAttributes=userName,active,title"),
        "/Users?attributes=userName,active,title".to_owned(),
    ] {
        s.get(&path).assert_error(400, Some("invalidValue"));
    }

    // PATCH operations: two pass, three are 413 and change nothing.
    let op = |title: &str| json!({"op": "replace", "path": "title", "value": title});
    let r = s
        .req("PATCH", &format!("/Users/{id}"))
        .json(&json!({"schemas": [PATCH_OP], "Operations": [op("a"), op("b")]}));
    assert_eq!(r.status, 200, "{}", r.text);
    let version = r.header("etag").unwrap().to_owned();
    let r = s
        .req("PATCH", &format!("/Users/{id}"))
        .json(&json!({"schemas": [PATCH_OP], "Operations": [op("c"), op("d"), op("e")]}));
    r.assert_error(413, None);
    let now = s.get(&format!("/Users/{id}"));
    assert_eq!(
        (now.body["title"].as_str(), now.header("etag")),
        (Some("b"), Some(version.as_str()))
    );

    // A PATCH path's value filter obeys the filter limits too: depth (the brackets are a
    // level), then length.
    let emails = json!({"op": "add", "path": "emails",
                        "value": [{"value": "a@example.com", "type": "w"}]});
    let r = s
        .req("PATCH", &format!("/Users/{id}"))
        .json(&json!({"schemas": [PATCH_OP], "Operations": [emails]}));
    assert_eq!(r.status, 200, "{}", r.text);
    let patch_path = |path: &str| {
        s.req("PATCH", &format!("/Users/{id}"))
            .json(&json!({"schemas": [PATCH_OP],
            "Operations": [{"op": "replace", "path": path, "value": "h"}]}))
    };
    let r = patch_path("emails[(type eq \"w\")].type");
    assert_eq!(r.status, 200, "{}", r.text);
    let r = patch_path("emails[((type eq \"h\"))].type");
    r.assert_error(400, Some("invalidPath"));
    assert!(r.text.contains("deep"), "{}", r.text);
    patch_path("emails[type eq \"h\" or type eq \"x\"].type")
        .assert_error(400, Some("invalidPath"));

    // The same PATCH inside /Bulk fails alone, with the same status.
    let bulk = s.post(
        "/Bulk",
        &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                "Operations": [{"method": "PATCH", "path": format!("/Users/{id}"),
                                "data": {"schemas": [PATCH_OP], "Operations": [op("c"), op("d"), op("e")]}}]}),
    );
    assert_eq!(bulk.status, 200, "{}", bulk.text);
    assert_eq!(bulk.body["Operations"][0]["status"], "413", "{}", bulk.text);
}

fn default_limits_refuse_deep_filters_without_harm(backend: Backend) {
    let s = Server::start(backend);
    s.create_user("alice");
    let search = |filter: String| {
        s.post(
            "/.search",
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": filter}),
        )
    };
    // 2,000 levels would overflow a recursive parser's stack without the depth bound.
    let deep = format!(
        "{}userName eq \"alice\"{}",
        "(".repeat(2000),
        ")".repeat(2000)
    );
    search(deep).assert_error(400, Some("invalidFilter"));
    let not_deep = format!(
        "{}userName eq \"alice\"{}",
        "not (".repeat(2000),
        ")".repeat(2000)
    );
    search(not_deep).assert_error(400, Some("invalidFilter"));
    let paths = format!(
        "emails[{}value eq \"x\"{}]",
        "(".repeat(2000),
        ")".repeat(2000)
    );
    search(paths).assert_error(400, Some("invalidFilter"));
    // Past the length limit the filter is not even parsed.
    let long = vec!["userName eq \"alice\""; 1000].join(" or ");
    search(long).assert_error(400, Some("invalidFilter"));
    // The server is unharmed.
    let ok = search("userName eq \"alice\"".to_owned());
    assert_eq!(ok.body["totalResults"], 1, "{}", ok.text);
}

fn a_token_over_its_rate_gets_429_and_others_are_served(backend: Backend) {
    let db = Database::new(backend);
    let config = scim_server::Config {
        rate_limit: RateLimit {
            per_second: 1,
            burst: 3,
        },
        ..test_config(&db)
    };
    // A second token of the same tenant: another connector.
    let store = scim_server::open_store(&config).unwrap();
    scim_server::bootstrap(&store, &config, &SystemClock).unwrap();
    let tenant = store.tenant_by_name("default").unwrap().unwrap();
    let other = "scim_test_second_connector";
    let scopes = vec!["scim:read".to_owned()];
    store
        .create_token(&scim_server::token::record(
            &tenant.id,
            other,
            &scopes,
            SystemClock.now(),
            None,
        ))
        .unwrap();
    drop(store);
    let s = Server::with_config(db, config);

    for _ in 0..3 {
        assert_eq!(s.get("/Users").status, 200);
    }
    let r = s.get("/Users");
    r.assert_error(429, None);
    assert_eq!(r.header("retry-after"), Some("1"), "{:?}", r.headers);
    // Writes count against the same bucket, and are refused before anything is written.
    let r = s.post("/Users", &json!({"schemas": [USER], "userName": "over"}));
    r.assert_error(429, None);
    // The other connector is not starved.
    let r = s
        .raw("GET", "/Users?filter=userName%20eq%20%22over%22")
        .header("Authorization", &format!("Bearer {other}"))
        .send();
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["totalResults"], 0, "the refused POST wrote nothing");
    // Writes the read-only connector may not make count too: 403 until its burst is spent.
    let write = || {
        s.raw("POST", "/Users")
            .header("Authorization", &format!("Bearer {other}"))
            .json(&json!({"schemas": [USER], "userName": "forbidden"}))
    };
    write().assert_error(403, None);
    write().assert_error(403, None);
    write().assert_error(429, None);
    // Unauthenticated endpoints are not limited; after a second the token has one request.
    assert_eq!(s.raw("GET", "//healthz").send().status, 200);
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(s.get("/Users").status, 200);
    s.get("/Users").assert_error(429, None);
}

fn an_exhausted_pool_answers_503_with_retry_after(backend: Backend) {
    let db = Database::new(backend);
    let metrics_port = free_port();
    let config = scim_server::Config {
        pool_size: 1,
        pool_timeout_secs: 1,
        metrics_listen: Some(format!("127.0.0.1:{metrics_port}")),
        ..test_config(&db)
    };
    let url = db.url.clone();
    let s = Server::with_config(db, config);
    s.create_user("before");
    // Another client holds the users table's write lock, so a create waits on the database
    // while holding the server's only connection.
    let mut blocker = scim_store::DbUrl::parse(&url).unwrap().connect().unwrap();
    blocker
        .batch_execute(match backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN; LOCK TABLE users IN EXCLUSIVE MODE",
        })
        .unwrap();
    let base = s.scim();
    let slow = std::thread::spawn(move || {
        ureq::post(&format!("{base}/Users"))
            .set("Authorization", &format!("Bearer {TOKEN}"))
            .set("Content-Type", "application/scim+json")
            .send_string(&json!({"schemas": [USER], "userName": "waits"}).to_string())
            .map(|r| r.status())
            .map_err(|e| e.to_string())
    });
    std::thread::sleep(Duration::from_millis(300));
    let started = std::time::Instant::now();
    let r = s.get("/Users");
    r.assert_error(503, None);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the request waited for a connection only the pool timeout"
    );
    // A scrape still answers, with the pool's state and the 503 just counted, when the
    // database cannot serve it.
    let scrape = ureq::get(&format!("http://127.0.0.1:{metrics_port}/metrics"))
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    assert!(
        scrape.lines().any(|l| l
            == r#"scim_http_requests_total{method="GET",route="/scim/v2/Users",status="503"} 1"#),
        "{scrape}"
    );
    assert!(
        scrape
            .lines()
            .any(|l| l == r#"scim_db_pool_connections{state="in_use"} 1"#),
        "{scrape}"
    );
    blocker.batch_execute("COMMIT").unwrap();
    assert_eq!(
        slow.join().unwrap().unwrap(),
        201,
        "the waiting write completes"
    );
    assert_eq!(s.get("/Users").body["totalResults"], 2);
}

fn metrics_are_served_on_their_own_listener(backend: Backend) {
    let db = Database::new(backend);
    let port = free_port();
    let config = scim_server::Config {
        metrics_listen: Some(format!("127.0.0.1:{port}")),
        ..test_config(&db)
    };
    let s = Server::with_config(db, config);
    let user = s.create_user("alice");
    let id = user["id"].as_str().unwrap();
    assert_eq!(s.get(&format!("/Users/{id}")).status, 200);
    assert_eq!(s.get("/Users/nope").status, 404);
    assert_eq!(s.get("/Nowhere/at/all").status, 404);
    s.create_group("staff", &[id]);

    let metrics = ureq::get(&format!("http://127.0.0.1:{port}/metrics"))
        .call()
        .unwrap();
    assert_eq!(
        metrics.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = metrics.into_string().unwrap();
    let has = |line: &str| assert!(text.lines().any(|l| l == line), "no {line} in\n{text}");
    has(r#"scim_http_requests_total{method="POST",route="/scim/v2/Users",status="201"} 1"#);
    has(r#"scim_http_requests_total{method="GET",route="/scim/v2/Users/{id}",status="200"} 1"#);
    has(r#"scim_http_requests_total{method="GET",route="/scim/v2/Users/{id}",status="404"} 1"#);
    has(r#"scim_http_requests_total{method="GET",route="unmatched",status="404"} 1"#);
    has(
        r#"scim_http_request_duration_seconds_count{method="POST",route="/scim/v2/Groups",status="201"} 1"#,
    );
    has(r#"scim_resources{tenant="default",resource_type="User"} 1"#);
    has(r#"scim_resources{tenant="default",resource_type="Group"} 1"#);
    has("scim_db_pool_max_connections 4");
    assert!(
        text.lines()
            .any(|l| l.starts_with("scim_db_pool_connections{state=\"idle\"}")),
        "{text}"
    );
    assert!(!text.contains(id), "no resource id in a label");
    assert!(!text.contains("Nowhere"), "no unmatched path in a label");

    // The API listener has no /metrics, however the path is spelt, and the metrics listener
    // nothing else.
    for path in ["//metrics", "//%6Detrics", "//%6d%65trics"] {
        s.raw("GET", path).send().assert_error(404, None);
    }
    let other = ureq::get(&format!("http://127.0.0.1:{port}/scim/v2/Users"))
        .set("Authorization", &format!("Bearer {TOKEN}"))
        .call();
    assert!(
        matches!(other, Err(ureq::Error::Status(404, _))),
        "{other:?}"
    );
}

#[test]
fn https_is_served_with_the_configured_certificate() {
    let db = Database::new(Backend::Sqlite);
    let config = scim_server::Config {
        tls: Some(test_tls()),
        ..test_config(&db)
    };
    let s = Server::with_config(db, config);
    assert!(s.base.starts_with("https://"));
    let user = s.create_user("alice");
    assert_eq!(user["userName"], "alice");
    let r = s.get("/ServiceProviderConfig");
    assert_eq!(r.status, 200);
    assert!(
        r.body["meta"]["location"]
            .as_str()
            .unwrap()
            .starts_with("https://"),
        "{}",
        r.text
    );

    // Plain HTTP on the HTTPS port gets no answer.
    let addr = s.base.trim_start_matches("https://").to_owned();
    let mut plain = std::net::TcpStream::connect(&addr).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    plain
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut answer = Vec::new();
    let _ = plain.read_to_end(&mut answer);
    assert!(!answer.starts_with(b"HTTP/"), "{answer:?}");

    // A client that does not trust the test CA refuses the certificate.
    let untrusting = ureq::AgentBuilder::new().build();
    let e = untrusting
        .get(&format!("{}/healthz", s.base))
        .call()
        .unwrap_err();
    assert!(
        e.to_string().to_ascii_lowercase().contains("certificate"),
        "{e}"
    );
}

#[test]
fn a_bad_tls_key_stops_the_start_with_a_clear_error() {
    let db = Database::new(Backend::Sqlite);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_scim-server"))
        .args(["serve", "--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(test_tls().cert)
        .arg("--tls-key")
        .arg(test_tls().cert)
        .env("DATABASE_URL", &db.url)
        .env("SCIM_BOOTSTRAP_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("tls-cert.pem"), "{err}");
    // --tls-cert needs --tls-key.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_scim-server"))
        .args(["serve", "--tls-cert", "x.pem"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--tls-key"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Flags over environment over the file over defaults, observed in `/ServiceProviderConfig`;
/// the file's secrets never reach the log.
#[test]
fn settings_come_from_flags_then_environment_then_the_file() {
    let db = Database::new(Backend::Sqlite);
    let dir = crate::harness::TempDir::new();
    let file = dir.0.join("scim.toml");
    std::fs::write(
        &file,
        "# every key is a flag's name\n\
         listen = \"127.0.0.1:1\"\n\
         max_results = 7\n\
         bulk-max-operations = 11\n\
         max_body_bytes = 12345\n",
    )
    .unwrap();
    let p = Process::start_with(
        &db.url,
        &[
            ("SCIM_CONFIG", file.to_str().unwrap()),
            ("SCIM_BULK_MAX_OPERATIONS", "22"),
            ("RUST_LOG", "info"),
        ],
        &["--max-body-bytes=33333"],
    );
    let spc = p.request("GET", "/ServiceProviderConfig", &[], None);
    assert_eq!(spc.status, 200, "{}", spc.text);
    assert_eq!(spc.body["filter"]["maxResults"], 7, "from the file");
    assert_eq!(
        spc.body["bulk"]["maxOperations"], 22,
        "the environment over the file"
    );
    assert_eq!(
        spc.body["bulk"]["maxPayloadSize"], 33333,
        "the flag over the file"
    );
    drop(p);

    // An unknown key stops the start, naming it.
    std::fs::write(&file, "pool_sise = 3\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_scim-server"))
        .args(["migrate", "--config"])
        .arg(&file)
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown setting 'pool_sise'"), "{err}");

    // A pair of settings may come from two sources: the certificate from the environment, its
    // key from the file.
    let tls = test_tls();
    let migrate = |file_text: String| {
        std::fs::write(&file, file_text).unwrap();
        std::process::Command::new(env!("CARGO_BIN_EXE_scim-server"))
            .args(["migrate", "--config"])
            .arg(&file)
            .env("DATABASE_URL", &db.url)
            .env("SCIM_TLS_CERT", &tls.cert)
            .output()
            .unwrap()
    };
    let out = migrate(format!("tls_key = {:?}\n", tls.key.to_str().unwrap()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = migrate(String::new());
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--tls-key"), "{err}");
}

/// The configuration the server logs at start redacts the secrets it was given in the file.
#[test]
fn the_logged_configuration_redacts_secrets_from_the_file() {
    let db = Database::new(Backend::Sqlite);
    let dir = crate::harness::TempDir::new();
    let file = dir.0.join("scim.toml");
    std::fs::write(
        &file,
        "bootstrap_token = \"scim_file_bootstrap_secret\"\n\
         jwt_hs256_secret = \"file-secret-jwt\"\n\
         jwt_issuer = \"https://idp.example\"\n\
         jwt_audience = \"scim\"\n",
    )
    .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_scim-server"))
        .args(["serve", "--listen"])
        .arg(format!("127.0.0.1:{}", free_port()))
        .arg("--config")
        .arg(&file)
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "info")
        .env_remove("SCIM_BOOTSTRAP_TOKEN")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let mut log = String::new();
    let mut buf = [0u8; 4096];
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !log.contains("created the first tenant") && std::time::Instant::now() < deadline {
        let n = stderr.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        log.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(log.contains("starting"), "{log}");
    assert!(log.contains("bootstrap_token: Some(\"***\")"), "{log}");
    assert!(!log.contains("scim_file_bootstrap_secret"), "{log}");
    assert!(!log.contains("file-secret-jwt"), "{log}");
    // The file's bootstrap token is the one that works.
    let store = scim_server::open_store(&scim_server::Config {
        database_url: db.url.clone(),
        ..scim_server::Config::default()
    })
    .unwrap();
    let hash = scim_server::token::hash("scim_file_bootstrap_secret");
    assert!(store.token_by_hash(&hash).unwrap().is_some());
}
