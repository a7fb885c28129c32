//! Starts servers for tests and talks to them.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use scim_server::Config;
use serde_json::Value;

/// The token every test server is bootstrapped with (all scopes, tenant `default`).
pub const TOKEN: &str = "scim_test_bootstrap_token";
pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates one `#[test]` per backend for each listed `fn name(backend: Backend)`.
#[macro_export]
macro_rules! backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { super::$name($crate::harness::Backend::Sqlite) } )*
        }
        mod postgres {
            $( #[test] fn $name() {
                if $crate::harness::postgres_url().is_some() {
                    super::$name($crate::harness::Backend::Postgres)
                }
            } )*
        }
    };
}

/// The PostgreSQL URL for tests. In CI (`CI` set) its absence is a failure, so PostgreSQL
/// tests cannot be skipped silently.
pub fn postgres_url() -> Option<String> {
    match std::env::var("SCIM_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok() => {
            panic!("CI is set but SCIM_TEST_POSTGRES_URL is not: PostgreSQL tests must run")
        }
        _ => None,
    }
}

/// A fresh database: a temp SQLite file, or a PostgreSQL schema dropped afterwards.
pub struct Database {
    pub url: String,
    pg: Option<(String, String)>,
    _dir: Option<TempDir>,
}

impl Database {
    pub fn new(backend: Backend) -> Database {
        match backend {
            Backend::Sqlite => {
                let dir = TempDir::new();
                let url = format!("sqlite://{}/scim.db", dir.0.display());
                Database {
                    url,
                    pg: None,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let base = postgres_url().expect("SCIM_TEST_POSTGRES_URL");
                // The trigram extension is database-wide; create it once, before any schema
                // migrates, so parallel tests do not race to create it.
                static EXTENSION: std::sync::Once = std::sync::Once::new();
                EXTENSION.call_once(|| {
                    admin(
                        &base,
                        "CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public",
                    );
                });
                let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
                admin(&base, &format!("CREATE SCHEMA {schema}"));
                let sep = if base.contains('?') { '&' } else { '?' };
                let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
                Database {
                    url,
                    pg: Some((base, schema)),
                    _dir: None,
                }
            }
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some((base, schema)) = &self.pg {
            admin(base, &format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}

/// Runs `sql` (statements separated by `;`) on the database at `url`.
pub fn admin(url: &str, sql: &str) {
    let mut conn = scim_store::DbUrl::parse(url).unwrap().connect().unwrap();
    conn.batch_execute(sql).unwrap();
}

/// A temporary directory removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        let dir = std::env::temp_dir().join(format!("scim-it-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running server with its database.
pub struct Server {
    pub base: String,
    pub db: Database,
    handle: Option<actix_web::dev::ServerHandle>,
    thread: Option<JoinHandle<()>>,
    agent: ureq::Agent,
}

pub fn test_config(db: &Database) -> Config {
    Config {
        database_url: db.url.clone(),
        bootstrap_token: Some(TOKEN.to_owned()),
        pool_size: 4,
        workers: 2,
        max_body_bytes: 64 * 1024,
        ..Config::default()
    }
}

impl Server {
    pub fn start(backend: Backend) -> Server {
        let db = Database::new(backend);
        let config = test_config(&db);
        Server::with_config(db, config)
    }

    pub fn with_config(db: Database, config: Config) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let config_tls = config.tls.is_some();
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = scim_server::run(listener, config).expect("server starts");
                tx.send(server.handle()).unwrap();
                server.await.unwrap();
            })
        });
        let handle = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("server started");
        let mut agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(30));
        let mut scheme = "http";
        if config_tls {
            agent = agent.tls_config(trusting_test_ca());
            scheme = "https";
        }
        let agent = agent.build();
        Server {
            base: format!("{scheme}://127.0.0.1:{port}"),
            db,
            handle: Some(handle),
            thread: Some(thread),
            agent,
        }
    }

    /// `http://127.0.0.1:PORT/scim/v2`
    pub fn scim(&self) -> String {
        format!("{}/scim/v2", self.base)
    }

    /// A request with the bootstrap token.
    pub fn req(&self, method: &str, path: &str) -> Req<'_> {
        self.raw(method, path)
            .header("Authorization", &format!("Bearer {TOKEN}"))
    }

    /// A request without credentials; `path` is below `/scim/v2` unless it starts with `//`.
    pub fn raw(&self, method: &str, path: &str) -> Req<'_> {
        let url = match path.strip_prefix("//") {
            Some(p) => format!("{}/{p}", self.base),
            None => format!("{}{path}", self.scim()),
        };
        Req {
            server: self,
            method: method.to_owned(),
            url,
            headers: Vec::new(),
        }
    }

    pub fn get(&self, path: &str) -> Resp {
        self.req("GET", path).send()
    }

    pub fn post(&self, path: &str, body: &Value) -> Resp {
        self.req("POST", path).json(body)
    }

    pub fn put(&self, path: &str, body: &Value) -> Resp {
        self.req("PUT", path).json(body)
    }

    pub fn delete(&self, path: &str) -> Resp {
        self.req("DELETE", path).send()
    }

    /// Creates a user and returns its representation (asserting 201).
    pub fn create_user(&self, user_name: &str) -> Value {
        let r = self.post(
            "/Users",
            &serde_json::json!({"schemas": [USER], "userName": user_name}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
        r.body
    }

    /// Creates a group with these member ids (asserting 201).
    pub fn create_group(&self, name: &str, members: &[&str]) -> Value {
        let members: Vec<Value> = members
            .iter()
            .map(|m| serde_json::json!({"value": m}))
            .collect();
        let r = self.post(
            "/Groups",
            &serde_json::json!({"schemas": [GROUP], "displayName": name, "members": members}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
        r.body
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            actix_web::rt::System::new().block_on(handle.stop(false));
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

pub struct Req<'a> {
    server: &'a Server,
    method: String,
    url: String,
    headers: Vec<(String, String)>,
}

impl Req<'_> {
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn send(self) -> Resp {
        self.body(None)
    }

    pub fn json(self, body: &Value) -> Resp {
        self.header("Content-Type", "application/scim+json")
            .body(Some(&body.to_string()))
    }

    pub fn body(self, body: Option<&str>) -> Resp {
        let mut req = self.server.agent.request(&self.method, &self.url);
        for (k, v) in &self.headers {
            req = req.set(k, v);
        }
        let result = match body {
            Some(b) => req.send_string(b),
            None => req.call(),
        };
        into_resp(&self.method, &self.url, result)
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub text: String,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// Asserts an RFC 7644 §3.12 error with this status and scimType.
    #[track_caller]
    pub fn assert_error(&self, status: u16, scim_type: Option<&str>) {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/scim+json"),
            "{}",
            self.text
        );
        assert_eq!(
            self.body["schemas"],
            serde_json::json!([ERROR]),
            "{}",
            self.text
        );
        assert_eq!(
            self.body["status"],
            Value::String(status.to_string()),
            "{}",
            self.text
        );
        assert_eq!(self.body["scimType"].as_str(), scim_type, "{}", self.text);
        assert!(
            self.body["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{}",
            self.text
        );
    }
}

/// A second server *process* (the real binary) on the same database as `server`, for tests
/// that two processes behind one load balancer agree.
pub struct Process {
    pub base: String,
    pub child: std::process::Child,
    agent: ureq::Agent,
}

impl Process {
    /// A second server process on `server`'s database.
    pub fn spawn(server: &Server) -> Process {
        Process::start(&server.db.url, &[("SCIM_POOL_SIZE", "4")])
    }

    /// The server binary on `url` (bootstrapped with the test token if the database is new),
    /// with extra environment; returns once it answers.
    pub fn start(url: &str, env: &[(&str, &str)]) -> Process {
        Process::start_with(url, env, &[])
    }

    /// `start` with extra command line arguments after `serve --listen ADDR`.
    pub fn start_with(url: &str, env: &[(&str, &str)], args: &[&str]) -> Process {
        let port = free_port();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_scim-server"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(args)
            .env("DATABASE_URL", url)
            .env("SCIM_BOOTSTRAP_TOKEN", TOKEN)
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(30))
            .build();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while agent.get(&format!("{base}/healthz")).call().is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "the server process did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Process { base, child, agent }
    }

    /// A request to this process with the bootstrap token.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Resp {
        let mut req = self
            .agent
            .request(method, &format!("{}/scim/v2{path}", self.base))
            .set("Authorization", &format!("Bearer {TOKEN}"));
        for (k, v) in headers {
            req = req.set(k, v);
        }
        if body.is_some() {
            req = req.set("Content-Type", "application/scim+json");
        }
        into_resp(
            method,
            path,
            match body {
                Some(b) => req.send_string(&b.to_string()),
                None => req.call(),
            },
        )
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn into_resp(method: &str, url: &str, result: Result<ureq::Response, ureq::Error>) -> Resp {
    let resp = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let status = resp.status();
    let headers = resp
        .headers_names()
        .into_iter()
        .filter_map(|n| {
            resp.header(&n)
                .map(|v| (n.to_ascii_lowercase(), v.to_owned()))
        })
        .collect();
    let text = resp.into_string().unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        text,
        body,
    }
}

/// The ids of a list response's resources, in order.
pub fn ids(page: &Value) -> Vec<String> {
    page["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Creates a user for each name, in order; returns their ids.
pub fn user_ids(s: &Server, names: impl IntoIterator<Item = String>) -> Vec<String> {
    names
        .into_iter()
        .map(|n| s.create_user(&n)["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The test TLS certificate and key (`keys/README.md`).
pub fn test_tls() -> scim_server::config::Tls {
    let keys = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/keys");
    scim_server::config::Tls {
        cert: keys.join("tls-cert.pem"),
        key: keys.join("tls-key.pem"),
    }
}

/// A client configuration that trusts the test CA, and nothing else.
pub fn trusting_test_ca() -> std::sync::Arc<rustls::ClientConfig> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let ca = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/keys/tls-ca.pem");
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    std::sync::Arc::new(
        rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// A free port on loopback, released for the caller to bind (the race with another bind in
/// between is harmless in a test run).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
