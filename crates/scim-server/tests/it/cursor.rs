//! RFC 9865 cursor paging on /Users and /Groups: a walk in creation order that neither repeats
//! nor skips, however resources come and go between pages; `nextCursor` until the last page,
//! `previousCursor` after the first; the errors the RFC names; the `pagination` block of
//! /ServiceProviderConfig.

use serde_json::{Value, json};

use crate::backends;
use crate::harness::{Backend, Server, ids, user_ids};

backends!(
    a_cursor_walk_visits_every_user_once_in_creation_order,
    changes_between_pages_neither_repeat_nor_skip,
    previous_cursors_walk_back_to_the_first_page,
    bad_cursors_counts_and_mixtures_are_refused,
    search_requests_and_groups_page_by_cursor_too,
);

/// Follows `nextCursor` from the first page; returns the pages.
fn walk(s: &Server, query: &str) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = s.get(&format!("/Users?{query}&cursor={cursor}"));
        assert_eq!(r.status, 200, "{}", r.text);
        let next = r.body["nextCursor"].as_str().map(str::to_owned);
        pages.push(r.body);
        match next {
            Some(n) => cursor = n,
            None => return pages,
        }
        assert!(pages.len() < 100, "the walk does not end");
    }
}

fn a_cursor_walk_visits_every_user_once_in_creation_order(backend: Backend) {
    let s = Server::start(backend);
    let created: Vec<String> = user_ids(&s, (0..25).map(|i| format!("user{i:02}")));
    let pages = walk(&s, "count=10&attributes=userName");
    assert_eq!(pages.len(), 3);
    assert_eq!(
        pages
            .iter()
            .map(|p| p["itemsPerPage"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [10, 10, 5]
    );
    // totalResults on the first page; no startIndex; nextCursor on all but the last.
    assert_eq!(pages[0]["totalResults"], 25);
    assert!(pages[1].get("totalResults").is_none());
    assert!(pages.iter().all(|p| p.get("startIndex").is_none()));
    assert!(pages[2].get("nextCursor").is_none());
    let cursor = pages[0]["nextCursor"].as_str().unwrap();
    assert!(
        cursor.chars().all(|c| c.is_ascii_alphanumeric()),
        "unreserved characters only: {cursor}"
    );
    let walked: Vec<String> = pages.iter().flat_map(ids).collect();
    assert_eq!(walked, created, "creation order, each user once");
    // With a filter: only the matches, still in order.
    let pages = walk(&s, "count=3&filter=userName%20sw%20%22user1%22");
    let walked: Vec<String> = pages.iter().flat_map(ids).collect();
    assert_eq!(walked, created[10..20]);
    assert_eq!(pages[0]["totalResults"], 10);
    // A page size that divides the total exactly ends without an empty page.
    let pages = walk(&s, "count=5");
    assert_eq!(pages.len(), 5);
    // count=0: the total only.
    let r = s.get("/Users?cursor=&count=0");
    assert_eq!(r.body["totalResults"], 25);
    assert_eq!(r.body["Resources"], json!([]));
    assert!(r.body.get("nextCursor").is_none());
    // Without count, the default page size.
    let r = s.get("/Users?cursor");
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["itemsPerPage"], 25);
}

fn changes_between_pages_neither_repeat_nor_skip(backend: Backend) {
    let s = Server::start(backend);
    let created: Vec<String> = user_ids(&s, (0..12).map(|i| format!("u{i:02}")));
    let first = s.get("/Users?cursor=&count=4");
    assert_eq!(ids(&first.body), created[..4]);
    // Between pages: one already read and one not yet read are deleted, one is created.
    assert_eq!(s.delete(&format!("/Users/{}", created[1])).status, 204);
    assert_eq!(s.delete(&format!("/Users/{}", created[6])).status, 204);
    let late = s.create_user("late")["id"].as_str().unwrap().to_owned();
    let mut rest = Vec::new();
    let mut cursor = first.body["nextCursor"].as_str().unwrap().to_owned();
    loop {
        let r = s.get(&format!("/Users?cursor={cursor}&count=4"));
        rest.extend(ids(&r.body));
        match r.body["nextCursor"].as_str() {
            Some(n) => cursor = n.to_owned(),
            None => break,
        }
    }
    let mut expected: Vec<String> = created[4..]
        .iter()
        .filter(|id| **id != created[6])
        .cloned()
        .collect();
    expected.push(late);
    assert_eq!(rest, expected);
}

fn previous_cursors_walk_back_to_the_first_page(backend: Backend) {
    let s = Server::start(backend);
    let created: Vec<String> = user_ids(&s, (0..7).map(|i| format!("u{i}")));
    let pages = walk(&s, "count=3");
    assert_eq!(pages.len(), 3);
    // Every page but the first says how to go back; a page's previous page is the one before.
    assert!(pages[0].get("previousCursor").is_none());
    for (i, page) in pages.iter().enumerate().skip(1) {
        let back = page["previousCursor"].as_str().unwrap();
        let r = s.get(&format!("/Users?cursor={back}&count=3"));
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(ids(&r.body), ids(&pages[i - 1]), "back from page {i}");
        assert!(r.body.get("totalResults").is_none());
        // Going back and then forward again returns to the same page.
        let forward = r.body["nextCursor"].as_str().unwrap();
        let again = s.get(&format!("/Users?cursor={forward}&count=3"));
        assert_eq!(ids(&again.body), ids(page));
    }
    // Back from the second page lands on the first, which has nothing before it.
    let back = pages[1]["previousCursor"].as_str().unwrap();
    let first = s.get(&format!("/Users?cursor={back}&count=3"));
    assert_eq!(ids(&first.body), created[..3]);
    assert!(first.body.get("previousCursor").is_none());
    // A smaller count going back still ends just before the page it came from.
    let back = pages[2]["previousCursor"].as_str().unwrap();
    let r = s.get(&format!("/Users?cursor={back}&count=2"));
    assert_eq!(ids(&r.body), created[4..6]);
    assert_eq!(
        s.get(&format!(
            "/Users?cursor={}&count=2",
            r.body["previousCursor"].as_str().unwrap()
        ))
        .body["Resources"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Resources deleted behind the reader are simply not there going back.
    assert_eq!(s.delete(&format!("/Users/{}", created[4])).status, 204);
    let back = pages[2]["previousCursor"].as_str().unwrap();
    let r = s.get(&format!("/Users?cursor={back}&count=3"));
    assert_eq!(
        ids(&r.body),
        [created[2].clone(), created[3].clone(), created[5].clone()]
    );
}

fn bad_cursors_counts_and_mixtures_are_refused(backend: Backend) {
    let s = Server::start(backend);
    for i in 0..3 {
        s.create_user(&format!("u{i}"));
    }
    let good = s.get("/Users?cursor=&count=1").body["nextCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    // Not hex, odd length, hex of something else, a position with a changed timestamp form.
    let forged: String = "2026-01-01T00:00:00Z~x"
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect();
    for cursor in ["zz", "abc", "41424344", forged.as_str()] {
        s.get(&format!("/Users?cursor={cursor}"))
            .assert_error(400, Some("invalidCursor"));
    }
    // count beyond maxPageSize (the server's maxResults, 1000 by default).
    s.get("/Users?cursor=&count=1001")
        .assert_error(400, Some("invalidCount"));
    // One paging method at a time; cursor pages follow creation order.
    s.get(&format!("/Users?cursor={good}&startIndex=2"))
        .assert_error(400, Some("invalidValue"));
    s.get("/Users?cursor=&sortBy=userName")
        .assert_error(400, Some("invalidValue"));
    // The server says what it offers.
    let spc = s.get("/ServiceProviderConfig");
    assert_eq!(
        spc.body["pagination"],
        json!({"cursor": true, "index": true, "defaultPaginationMethod": "index",
               "defaultPageSize": 100, "maxPageSize": 1000})
    );
    // Index paging is unchanged: startIndex, totalResults, no cursors.
    let r = s.get("/Users?startIndex=2&count=1");
    assert_eq!(r.body["startIndex"], 2);
    assert_eq!(r.body["totalResults"], 3);
    assert!(r.body.get("nextCursor").is_none());
}

fn search_requests_and_groups_page_by_cursor_too(backend: Backend) {
    let s = Server::start(backend);
    for i in 0..3 {
        s.create_user(&format!("u{i}"));
        s.create_group(&format!("g{i}"), &[]);
    }
    let search = |cursor: &str| {
        s.post(
            "/Users/.search",
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                    "cursor": cursor, "count": 2}),
        )
    };
    let first = search("");
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.body["itemsPerPage"], 2);
    let second = search(first.body["nextCursor"].as_str().unwrap());
    assert_eq!(second.body["itemsPerPage"], 1);
    assert!(second.body.get("nextCursor").is_none());
    let r = s.get("/Groups?cursor=&count=2&attributes=displayName");
    assert_eq!(r.body["Resources"][0]["displayName"], "g0");
    assert!(r.body["nextCursor"].is_string());
    // Across resource types there is no single creation order to follow.
    s.post(
        "/.search",
        &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "cursor": ""}),
    )
    .assert_error(400, Some("invalidValue"));
}
