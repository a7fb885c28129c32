//! Concurrent writers through two server processes on one database: uniqueness, versions and
//! membership are the database's to enforce, so nothing is lost and exactly one racer wins.

use serde_json::{Value, json};

use crate::backends;
use crate::harness::{Backend, GROUP, Process, Resp, Server, USER};

backends!(
    concurrent_member_adds_lose_nothing,
    concurrent_puts_with_one_if_match_have_one_winner,
    concurrent_creates_of_one_user_name_have_one_winner,
);

/// Sends request `i` to the in-process server or to the second process, alternately.
fn send(
    s: &Server,
    p: &Process,
    i: usize,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &Value,
) -> Resp {
    if i.is_multiple_of(2) {
        let mut req = s.req(method, path);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req.json(body)
    } else {
        p.request(method, path, headers, Some(body))
    }
}

fn concurrent_member_adds_lose_nothing(backend: Backend) {
    let s = Server::start(backend);
    let p = Process::spawn(&s);
    let users: Vec<String> = (0..50)
        .map(|i| {
            s.create_user(&format!("member{i}"))["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let group = s.create_group("crowd", &[]);
    let path = format!("/Groups/{}", group["id"].as_str().unwrap());
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> =
            users
                .iter()
                .enumerate()
                .map(|(i, uid)| {
                    let (s, p, path) = (&s, &p, &path);
                    scope.spawn(move || {
                    let body = json!({
                        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{"op": "add", "path": "members", "value": [{"value": uid}]}]
                    });
                    send(s, p, i, "PATCH", path, &[("Prefer", "return=minimal")], &body).status
                })
                })
                .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(statuses.iter().all(|&st| st == 204), "{statuses:?}");
    let g = s.get(&path);
    assert_eq!(
        g.body["members"].as_array().unwrap().len(),
        50,
        "{}",
        g.text
    );
    assert_eq!(g.header("etag"), Some("W/\"51\""));
    assert_eq!(g.body["schemas"], json!([GROUP]));
}

fn concurrent_puts_with_one_if_match_have_one_winner(backend: Backend) {
    let s = Server::start(backend);
    let p = Process::spawn(&s);
    let u = s.create_user("contested");
    let path = format!("/Users/{}", u["id"].as_str().unwrap());
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..10)
            .map(|i| {
                let (s, p, path) = (&s, &p, &path);
                scope.spawn(move || {
                    let body = json!({"schemas": [USER], "userName": "contested", "title": format!("t{i}")});
                    send(s, p, i, "PUT", path, &[("If-Match", "W/\"1\"")], &body).status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|&&st| st == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|&&st| st == 412).count(),
        9,
        "{statuses:?}"
    );
    assert_eq!(s.get(&path).header("etag"), Some("W/\"2\""));
}

fn concurrent_creates_of_one_user_name_have_one_winner(backend: Backend) {
    let s = Server::start(backend);
    let p = Process::spawn(&s);
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..10)
            .map(|i| {
                let (s, p) = (&s, &p);
                scope.spawn(move || {
                    // Different case, same folded userName: still one user.
                    let name = if i % 2 == 0 {
                        "Racer@Example.com"
                    } else {
                        "racer@example.COM"
                    };
                    let body = json!({"schemas": [USER], "userName": name});
                    send(s, p, i, "POST", "/Users", &[], &body).status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|&&st| st == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|&&st| st == 409).count(),
        9,
        "{statuses:?}"
    );
    assert_eq!(s.get("/Users").body["totalResults"], 1);
}
