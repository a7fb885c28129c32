//! Faults (issue #8): PostgreSQL going away and coming back. Requests meanwhile get 503 with a
//! SCIM body and `Retry-After`, never a 500, and the server recovers by itself: no restart.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::{Backend, Database, Server, USER, postgres_url, test_config};

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

#[test]
fn postgres_going_away_gives_503_and_the_server_recovers() {
    if postgres_url().is_none() {
        return;
    }
    let db = Database::new(Backend::Postgres);
    // postgres://user@HOST:PORT/db?... -> the same through the relay.
    let (head, rest) = db.url.split_once('@').unwrap();
    let (hostport, tail) = rest.split_once('/').unwrap();
    let relay = Relay::start(hostport.to_owned());
    let mut config = test_config(&db);
    config.database_url = format!("{head}@127.0.0.1:{}/{tail}", relay.port);
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
