//! Faults (issue #8). The server killed with SIGKILL during a write load loses no write it
//! answered 201 to and leaves no half-written resource. PostgreSQL going away and coming back:
//! requests meanwhile get 503 with a SCIM body and `Retry-After`, never a 500, and the server
//! recovers by itself, without a restart.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::backends;
use crate::harness::{Backend, Database, Process, Server, TOKEN, USER, postgres_url, test_config};

backends!(
    a_killed_server_keeps_every_acknowledged_write,
    sigterm_turns_unready_then_drains_and_exits,
);

fn a_killed_server_keeps_every_acknowledged_write(backend: Backend) {
    let db = Database::new(backend);
    let mut p = Process::start(&db.url, &[]);
    let base = format!("{}/scim/v2", p.base);
    let acknowledged: Arc<Mutex<Vec<String>>> = Arc::default();
    let writers: Vec<_> = (0..4)
        .map(|t| {
            let (base, acknowledged) = (base.clone(), acknowledged.clone());
            std::thread::spawn(move || {
                for i in 0.. {
                    let name = format!("crash-{t}-{i}");
                    let body = json!({"schemas": [USER], "userName": name,
                                      "emails": [{"value": format!("{name}@example.com")}]});
                    match ureq::post(&format!("{base}/Users"))
                        .set("Authorization", &format!("Bearer {TOKEN}"))
                        .send_json(body)
                    {
                        Ok(r) if r.status() == 201 => acknowledged.lock().unwrap().push(name),
                        _ => return,
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    p.child.kill().unwrap(); // SIGKILL
    p.child.wait().unwrap();
    for w in writers {
        w.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 20,
        "too little load: {}",
        acknowledged.len()
    );

    let p = Process::start(&db.url, &[]);
    let base = format!("{}/scim/v2", p.base);
    let get = |path: &str| {
        ureq::get(&format!("{base}{path}"))
            .set("Authorization", &format!("Bearer {TOKEN}"))
            .call()
            .unwrap()
            .into_json::<serde_json::Value>()
            .unwrap()
    };
    let mut stored = Vec::new();
    let mut start = 1;
    loop {
        let page = get(&format!("/Users?startIndex={start}&count=1000"));
        let users = page["Resources"].as_array().unwrap().clone();
        if users.is_empty() {
            // The kept count agrees with the rows: no create counted without its row.
            assert_eq!(page["totalResults"], stored.len(), "{page}");
            break;
        }
        start += users.len();
        stored.extend(users);
    }
    let names: std::collections::HashSet<&str> = stored
        .iter()
        .map(|u| u["userName"].as_str().unwrap())
        .collect();
    for name in &acknowledged {
        assert!(
            names.contains(name.as_str()),
            "{name} was answered 201 and is gone"
        );
    }
    // Every stored user is whole: its emails (a table of their own) were written with it.
    for user in &stored {
        let name = user["userName"].as_str().unwrap();
        assert_eq!(
            user["emails"][0]["value"],
            format!("{name}@example.com"),
            "{user}"
        );
        let found = get(&format!(
            "/Users?filter=emails.value%20eq%20%22{name}%40example.com%22&attributes=id"
        ));
        assert_eq!(found["totalResults"], 1, "{name}: {found}");
    }
}

/// A TCP relay in front of PostgreSQL that can be cut (every relayed connection closed, new
/// ones refused) and restored.
struct Relay {
    port: u16,
    up: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Relay {
    fn start(upstream: String) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (up2, open2) = (up.clone(), open.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if !up2.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is refused
                }
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                open2.lock().unwrap().push(client.try_clone().unwrap());
                open2.lock().unwrap().push(server.try_clone().unwrap());
                pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
                pipe(server, client);
            }
        });
        Relay { port, up, open }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for s in self.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// A PostgreSQL test database, and a server configuration that reaches it through a `Relay`;
/// `None` without PostgreSQL.
fn behind_relay() -> Option<(Relay, Database, scim_server::Config)> {
    postgres_url()?;
    let db = Database::new(Backend::Postgres);
    // postgres://user@HOST:PORT/db?... -> the same through the relay.
    let (head, rest) = db.url.split_once('@').unwrap();
    let (hostport, tail) = rest.split_once('/').unwrap();
    let relay = Relay::start(hostport.to_owned());
    let mut config = test_config(&db);
    config.database_url = format!("{head}@127.0.0.1:{}/{tail}", relay.port);
    Some((relay, db, config))
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 || to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Both);
    });
}

/// SIGTERM: `/readyz` answers 503 at once while requests are still served for the grace
/// period; a request in flight when the listener closes completes; then the process exits 0.
fn sigterm_turns_unready_then_drains_and_exits(backend: Backend) {
    let db = Database::new(backend);
    let mut p = Process::start(&db.url, &[("SCIM_SHUTDOWN_GRACE_SECS", "1")]);
    let root = p.base.clone();
    let base = format!("{root}/scim/v2");
    assert_eq!(
        ureq::get(&format!("{root}/readyz"))
            .call()
            .unwrap()
            .status(),
        200
    );
    // A bulk of 1,000 creates takes seconds in a debug build: it is in flight throughout.
    let ops: Vec<_> = (0..1000)
        .map(|i| {
            json!({"method": "POST", "path": "/Users", "bulkId": format!("b{i}"),
                         "data": {"schemas": [USER], "userName": format!("drain-{i}")}})
        })
        .collect();
    let bulk_base = base.clone();
    let bulk = std::thread::spawn(move || {
        ureq::post(&format!("{bulk_base}/Bulk"))
            .set("Authorization", &format!("Bearer {TOKEN}"))
            .send_json(
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                              "Operations": ops}),
            )
            .map(|r| (r.status(), r.into_json::<serde_json::Value>().unwrap()))
            .map_err(|e| e.to_string())
    });
    std::thread::sleep(Duration::from_millis(200));
    // The drain is only shown if the bulk is still running when the signal comes.
    assert!(
        !bulk.is_finished(),
        "the bulk ended before SIGTERM: make it larger"
    );
    let term = std::process::Command::new("kill")
        .args(["-TERM", &p.child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    // Unready at once, yet still serving during the grace period.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match ureq::get(&format!("{root}/readyz")).call() {
            Err(ureq::Error::Status(503, r)) => {
                assert_eq!(r.header("retry-after"), Some("1"));
                break;
            }
            Ok(r) => assert_eq!(r.status(), 200),
            Err(e) => panic!("readyz: {e}"),
        }
        assert!(Instant::now() < deadline, "readyz never turned unready");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        ureq::get(&format!("{root}/healthz"))
            .call()
            .unwrap()
            .status(),
        200
    );
    let (status, body) = bulk.join().unwrap().unwrap();
    assert_eq!(status, 200);
    let ops = body["Operations"].as_array().unwrap();
    assert_eq!(ops.len(), 1000);
    assert!(ops.iter().all(|o| o["status"] == "201"), "{body}");
    // Then it exits by itself, successfully, and no longer listens.
    let deadline = Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(exit) = p.child.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");
    assert!(ureq::get(&format!("{root}/healthz")).call().is_err());
}

/// A pooled PostgreSQL connection idle for more than a second is checked before use: when the
/// database dropped the connections while the server was idle, the next request is served on
/// a new connection, not refused.
#[test]
fn connections_dropped_while_idle_cost_no_request() {
    let Some((relay, db, config)) = behind_relay() else {
        return;
    };
    let s = Server::with_config(db, config);
    let user = s.create_user("idle");
    let path = format!("/Users/{}", user["id"].as_str().unwrap());
    assert_eq!(s.get(&path).status, 200);

    relay.cut();
    relay.restore();
    std::thread::sleep(Duration::from_millis(1_200));
    for _ in 0..3 {
        let r = s.get(&path);
        assert_eq!(r.status, 200, "{}", r.text);
    }
}

#[test]
fn postgres_going_away_gives_503_and_the_server_recovers() {
    let Some((relay, db, mut config)) = behind_relay() else {
        return;
    };
    config.pool_timeout_secs = 1;
    let s = Server::with_config(db, config);
    let user = s.create_user("survivor");
    let path = format!("/Users/{}", user["id"].as_str().unwrap());

    relay.cut();
    for attempt in 0..3 {
        let r = s.get(&path);
        r.assert_error(503, None);
        assert_eq!(r.header("retry-after"), Some("1"), "attempt {attempt}");
        let w = s.post(
            "/Users",
            &json!({"schemas": [USER], "userName": "while-down"}),
        );
        w.assert_error(503, None);
    }

    relay.restore();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = s.get(&path);
        if r.status == 200 {
            assert_eq!(r.body["userName"], "survivor");
            break;
        }
        assert_eq!(r.status, 503, "{}", r.text);
        assert!(Instant::now() < deadline, "no recovery: {}", r.text);
        std::thread::sleep(Duration::from_millis(200));
    }
    // Nothing was half-written while the database was away.
    let r = s.get("/Users?filter=userName%20eq%20%22while-down%22");
    assert_eq!(r.body["totalResults"], 0, "{}", r.text);
    assert_eq!(s.create_user("after")["userName"], "after");
}
