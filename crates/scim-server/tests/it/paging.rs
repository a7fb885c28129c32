//! Index paging (RFC 7644 §3.4.2.4) as deep pages are served: a page past the start reads the
//! ids it skips and then only its own rows, in order; an unfiltered `totalResults` comes from
//! the per-tenant counts kept with every create and delete, so it must stay exact through
//! everything that creates or deletes, rolled-back work included.

use serde_json::json;

use crate::backends;
use crate::cli::{cli_ok, token, with};
use crate::harness::{Backend, GROUP, Server, USER, ids, user_ids};

backends!(
    pages_past_the_start_keep_order,
    totals_stay_exact_through_every_kind_of_write,
);

fn pages_past_the_start_keep_order(backend: Backend) {
    let s = Server::start(backend);
    // Names in the reverse of creation order, so the sorted pages differ from the default.
    let created: Vec<String> = user_ids(&s, (0..11).map(|i| format!("u{:02}", 20 - i)));
    let mut walked = Vec::new();
    for start in [1, 5, 9] {
        let r = s.get(&format!("/Users?startIndex={start}&count=4"));
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["startIndex"], start);
        assert_eq!(r.body["totalResults"], 11);
        walked.extend(ids(&r.body));
    }
    assert_eq!(walked, created);
    let sorted = s.get("/Users?startIndex=3&count=3&sortBy=userName&attributes=userName");
    let names: Vec<&str> = sorted.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["userName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["u12", "u13", "u14"]);
    let filtered = s.get("/Users?filter=userName%20sw%20%22u1%22&startIndex=2&count=2");
    // u19 (the second created) to u10 (the eleventh) match; the second page of two.
    assert_eq!(ids(&filtered.body), created[2..4]);
    assert_eq!(filtered.body["totalResults"], 10);
    // Past the end: no resources, the total still exact.
    let past = s.get("/Users?startIndex=50&count=2");
    assert_eq!(past.body["Resources"], json!([]));
    assert_eq!(past.body["totalResults"], 11);
}

/// The unfiltered total with a full first page of one, which is the count the server keeps
/// (a page that is not full would tell the total by itself).
fn total(s: &Server, kind: &str) -> u64 {
    let r = s.get(&format!("/{kind}?count=1&attributes=id"));
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["totalResults"].as_u64().unwrap()
}

fn totals_stay_exact_through_every_kind_of_write(backend: Backend) {
    let s = Server::start(backend);
    let users: Vec<String> = user_ids(&s, (0..5).map(|i| format!("t{i}")));
    s.create_group("g0", &[]);
    s.create_group("g1", &[&users[0]]);
    assert_eq!((total(&s, "Users"), total(&s, "Groups")), (5, 2));
    // Refused creates and a delete of what is not there count nothing.
    s.post("/Users", &json!({"schemas": [USER], "userName": "T0"}))
        .assert_error(409, Some("uniqueness"));
    assert_eq!(
        s.delete("/Users/2819c223-7f76-453a-919d-413861904646")
            .status,
        404
    );
    assert_eq!(s.delete(&format!("/Users/{}", users[1])).status, 204);
    assert_eq!(total(&s, "Users"), 4);
    // A bulk whose operations partly fail: each failed one is undone, the rest counted.
    let bulk = s.post(
        "/Bulk",
        &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "a",
             "data": {"schemas": [USER], "userName": "b0"}},
            {"method": "POST", "path": "/Users", "bulkId": "dup",
             "data": {"schemas": [USER], "userName": "t2"}},
            {"method": "POST", "path": "/Groups", "bulkId": "g",
             "data": {"schemas": [GROUP], "displayName": "bg",
                      "members": [{"value": "bulkId:a"}]}},
            {"method": "POST", "path": "/Groups", "bulkId": "bad",
             "data": {"schemas": [GROUP], "displayName": "bad",
                      "members": [{"value": "2819c223-7f76-453a-919d-413861904646"}]}},
            {"method": "DELETE", "path": format!("/Users/{}", users[2])},
            {"method": "DELETE", "path": format!("/Users/{}", users[2])},
        ]}),
    );
    assert_eq!(bulk.status, 200, "{}", bulk.text);
    let statuses: Vec<&str> = bulk.body["Operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["201", "409", "201", "400", "204", "404"]);
    assert_eq!((total(&s, "Users"), total(&s, "Groups")), (4, 3));
    // Deleting a group counts; its members stay.
    let groups = s.get("/Groups?filter=displayName%20eq%20%22g0%22");
    let g0 = groups.body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(s.delete(&format!("/Groups/{g0}")).status, 204);
    assert_eq!((total(&s, "Users"), total(&s, "Groups")), (4, 2));
    // Another tenant's writes are its own.
    cli_ok(&s, &["tenant", "create", "other"]);
    let (other, _) = token(
        &s,
        "other",
        &["--scope", "scim:read", "--scope", "scim:write"],
    );
    for i in 0..3 {
        let r = with(&s, &other, "POST", "/Users")
            .json(&json!({"schemas": [USER], "userName": format!("o{i}")}));
        assert_eq!(r.status, 201, "{}", r.text);
    }
    assert_eq!(total(&s, "Users"), 4);
    let theirs = with(&s, &other, "GET", "/Users?count=1").send();
    assert_eq!(theirs.body["totalResults"], 3);
    // The kept count is the true count.
    let all = s.get("/Users?count=1000&attributes=id");
    assert_eq!(all.body["Resources"].as_array().unwrap().len(), 4);
}
