//! `/Bulk` (RFC 7644 §3.7): bulkId references in any order, per-operation results, failOnErrors,
//! limits, and atomic operations.

use serde_json::{Value, json};

use crate::backends;
use crate::harness::{Backend, GROUP, Server, USER};

const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

backends!(
    a_group_before_its_members_resolves_bulk_ids,
    put_patch_delete_reference_created_resources,
    failures_are_reported_per_operation,
    fail_on_errors_stops_processing,
    circular_and_unknown_references_are_409,
    limits_and_malformed_requests,
    each_operation_is_atomic,
    creates_written_together_are_checked_one_by_one,
);

fn bulk(s: &Server, body: Value) -> Value {
    let r = s.post("/Bulk", &body);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/scim+json"));
    assert_eq!(
        r.body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:BulkResponse"])
    );
    r.body
}

fn user(name: &str) -> Value {
    json!({"schemas": [USER], "userName": name})
}

fn a_group_before_its_members_resolves_bulk_ids(backend: Backend) {
    let s = Server::start(backend);
    let out = bulk(
        &s,
        json!({"schemas": [BULK], "Operations": [
            {"method": "POST", "path": "/Groups", "bulkId": "g",
             "data": {"schemas": [GROUP], "displayName": "Team",
                      "members": [{"value": "bulkId:u1", "type": "User"}, {"value": "bulkId:u2"}]}},
            {"method": "POST", "path": "/Users", "bulkId": "u1", "data": user("ann")},
            {"method": "POST", "path": "/Users", "bulkId": "u2", "data": user("ben")}
        ]}),
    );
    let ops = out["Operations"].as_array().unwrap();
    assert_eq!(ops.len(), 3, "{out}");
    let by_id = |b: &str| ops.iter().find(|o| o["bulkId"] == b).unwrap().clone();
    for b in ["g", "u1", "u2"] {
        let op = by_id(b);
        assert_eq!(op["method"], "POST");
        assert_eq!(op["status"], "201", "{op}");
        assert_eq!(op["version"], "W/\"1\"");
    }
    let location = |b: &str| by_id(b)["location"].as_str().unwrap().to_owned();
    assert!(location("u1").starts_with(&format!("{}/Users/", s.scim())));
    let group = s.get(location("g").strip_prefix(&s.scim()).unwrap());
    let mut members: Vec<String> = group.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap().to_owned())
        .collect();
    members.sort();
    let mut want: Vec<String> = ["u1", "u2"]
        .iter()
        .map(|b| location(b).rsplit('/').next().unwrap().to_owned())
        .collect();
    want.sort();
    assert_eq!(members, want);
}

fn put_patch_delete_reference_created_resources(backend: Backend) {
    let s = Server::start(backend);
    let existing = s.create_user("old");
    let old_path = format!("/Users/{}", existing["id"].as_str().unwrap());
    let out = bulk(
        &s,
        json!({"schemas": [BULK], "Operations": [
            {"method": "PATCH", "path": "/Users/bulkId:c",
             "data": {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "title", "value": "Lead"}]}},
            {"method": "POST", "path": "/Users", "bulkId": "c", "data": user("cat")},
            {"method": "PUT", "path": old_path, "version": "W/\"1\"",
             "data": {"schemas": [USER], "userName": "old", "nickName": "o"}},
            {"method": "DELETE", "path": old_path}
        ]}),
    );
    let ops = out["Operations"].as_array().unwrap();
    let statuses: Vec<&str> = ops.iter().map(|o| o["status"].as_str().unwrap()).collect();
    // Results come in request order; the PATCH waited for the POST it references.
    assert_eq!(statuses, ["200", "201", "200", "204"], "{out}");
    assert_eq!(ops[0]["method"], "PATCH");
    assert_eq!(ops[0]["version"], "W/\"2\"");
    assert_eq!(ops[0]["location"], ops[1]["location"]);
    let cat = s.get(
        ops[1]["location"]
            .as_str()
            .unwrap()
            .strip_prefix(&s.scim())
            .unwrap(),
    );
    assert_eq!(cat.body["title"], "Lead");
    s.get(&old_path).assert_error(404, None);
}

fn failures_are_reported_per_operation(backend: Backend) {
    let s = Server::start(backend);
    s.create_user("taken");
    let out = bulk(
        &s,
        json!({"schemas": [BULK], "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "a", "data": user("taken")},
            {"method": "POST", "path": "/Users", "bulkId": "b", "data": {"schemas": [USER], "userName": 5}},
            {"method": "DELETE", "path": "/Users/no-such-id"},
            {"method": "POST", "path": "/Users", "bulkId": "c", "data": user("fine")}
        ]}),
    );
    let ops = out["Operations"].as_array().unwrap();
    assert_eq!(ops.len(), 4);
    let expect = [
        ("409", Some("uniqueness")),
        ("400", Some("invalidValue")),
        ("404", None),
        ("201", None),
    ];
    for (op, (status, scim_type)) in ops.iter().zip(expect) {
        assert_eq!(op["status"], status, "{op}");
        if status != "201" {
            assert_eq!(
                op["response"]["schemas"],
                json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
            );
            assert_eq!(op["response"]["status"], status);
            assert_eq!(op["response"]["scimType"].as_str(), scim_type, "{op}");
        }
    }
    assert_eq!(s.get("/Users").body["totalResults"], 2);
}

fn fail_on_errors_stops_processing(backend: Backend) {
    let s = Server::start(backend);
    let out = bulk(
        &s,
        json!({"schemas": [BULK], "failOnErrors": 1, "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "a", "data": user("first")},
            {"method": "POST", "path": "/Users", "bulkId": "b", "data": {"schemas": [USER]}},
            {"method": "POST", "path": "/Users", "bulkId": "c", "data": user("never")}
        ]}),
    );
    let ops = out["Operations"].as_array().unwrap();
    assert_eq!(ops.len(), 2, "{out}");
    assert_eq!(ops[1]["status"], "400");
    let r = s.get("/Users?filter=userName%20eq%20%22never%22");
    assert_eq!(
        r.body["totalResults"], 0,
        "processing stopped at the first error"
    );
}

fn circular_and_unknown_references_are_409(backend: Backend) {
    let s = Server::start(backend);
    let out = bulk(
        &s,
        json!({"schemas": [BULK], "Operations": [
            {"method": "POST", "path": "/Groups", "bulkId": "x",
             "data": {"schemas": [GROUP], "displayName": "X", "members": [{"value": "bulkId:y"}]}},
            {"method": "POST", "path": "/Groups", "bulkId": "y",
             "data": {"schemas": [GROUP], "displayName": "Y", "members": [{"value": "bulkId:x"}]}},
            {"method": "POST", "path": "/Groups", "bulkId": "z",
             "data": {"schemas": [GROUP], "displayName": "Z", "members": [{"value": "bulkId:nobody"}]}},
            {"method": "POST", "path": "/Users", "bulkId": "ok", "data": user("ok")}
        ]}),
    );
    let ops = out["Operations"].as_array().unwrap();
    let status = |b: &str| ops.iter().find(|o| o["bulkId"] == b).unwrap()["status"].clone();
    assert_eq!(status("ok"), "201");
    for b in ["x", "y", "z"] {
        assert_eq!(status(b), "409", "{out}");
    }
    assert_eq!(s.get("/Groups").body["totalResults"], 0);
}

fn limits_and_malformed_requests(backend: Backend) {
    let s = Server::start(backend);
    let ops: Vec<Value> = (0..1001)
        .map(|i| json!({"method": "DELETE", "path": format!("/Users/{i}")}))
        .collect();
    s.post("/Bulk", &json!({"schemas": [BULK], "Operations": ops}))
        .assert_error(413, None);
    let big: Vec<Value> = (0..700)
        .map(|i| json!({"method": "POST", "path": "/Users", "bulkId": format!("b{i}"), "data": user(&format!("user-with-a-long-name-{i:05}"))}))
        .collect();
    s.post("/Bulk", &json!({"schemas": [BULK], "Operations": big}))
        .assert_error(413, None);
    s.post("/Bulk", &json!({"Operations": []}))
        .assert_error(400, Some("invalidSyntax"));
    s.post("/Bulk", &json!({"schemas": [BULK], "Operations": [{"method": "POST", "path": "/Users", "data": user("x")}]}))
        .assert_error(400, Some("invalidSyntax"));
    s.post(
        "/Bulk",
        &json!({"schemas": [BULK], "Operations": [{"method": "GET", "path": "/Users"}]}),
    )
    .assert_error(400, Some("invalidSyntax"));
    s.post(
        "/Bulk",
        &json!({"schemas": [BULK], "failOnErrors": 0, "Operations": []}),
    )
    .assert_error(400, Some("invalidValue"));
    let dup = json!({"schemas": [BULK], "Operations": [
        {"method": "POST", "path": "/Users", "bulkId": "d", "data": user("d1")},
        {"method": "POST", "path": "/Users", "bulkId": "d", "data": user("d2")}]});
    s.post("/Bulk", &dup)
        .assert_error(400, Some("invalidValue"));
    let r = s.post(
        "/Bulk",
        &json!({"schemas": [BULK], "Operations": [
        {"method": "POST", "path": "/Widgets", "bulkId": "w", "data": {}}]}),
    );
    assert_eq!(r.body["Operations"][0]["status"], "400", "{}", r.text);
    assert_eq!(
        r.body["Operations"][0]["response"]["scimType"],
        "invalidPath"
    );
    assert_eq!(s.get("/Users").body["totalResults"], 0);
}

fn each_operation_is_atomic(backend: Backend) {
    let s = Server::start(backend);
    let u = s.create_user("steady");
    let path = format!("/Users/{}", u["id"].as_str().unwrap());
    let out = bulk(
        &s,
        json!({"schemas": [BULK], "Operations": [
            {"method": "PATCH", "path": path, "data": {"schemas": [PATCH], "Operations": [
                {"op": "replace", "path": "title", "value": "changed"},
                {"op": "replace", "path": "active", "value": 7}]}}
        ]}),
    );
    assert_eq!(out["Operations"][0]["status"], "400", "{out}");
    let now = s.get(&path);
    assert!(now.body.get("title").is_none(), "{}", now.text);
    assert_eq!(now.header("etag"), Some("W/\"1\""));
}

/// A bulk's creates are written many rows a statement, and on PostgreSQL its checks for
/// returning leavers run together (both deferred within each batch of 50 operations); what
/// each operation answers must be what it would answer alone.
fn creates_written_together_are_checked_one_by_one(backend: Backend) {
    let s = Server::start(backend);
    let gone =
        json!({"schemas": [USER], "userName": "gone", "externalId": "hr-5", "active": false});
    assert_eq!(s.post("/Users", &gone).status, 201);
    let mut ops: Vec<Value> = (0..170)
        .map(|i| {
            json!({"method": "POST", "path": "/Users", "bulkId": format!("u{i}"),
            "data": {"schemas": [USER], "userName": format!("joiner{i:03}"),
                     "emails": [{"value": format!("joiner{i:03}@corp.example")}]}})
        })
        .collect();
    // First batch: a userName taken earlier in it (case differs), and a joiner matching a
    // leaver created inactive just before. Second: a userName taken by the first batch.
    // Third: only a joiner matching a leaver from before the request. Each answers what it
    // would alone.
    ops[10]["data"]["userName"] = json!("JOINER003");
    ops[20]["data"] = json!({"schemas": [USER], "userName": "left-already", "externalId": "hr-9", "active": false});
    ops[21]["data"] = json!({"schemas": [USER], "userName": "rehired", "externalId": "hr-9"});
    ops[75]["data"]["userName"] = json!("joiner030");
    ops[120]["data"]["externalId"] = json!("hr-5");
    // Last batch, without failures: a change to a user created in it, then a group of such
    // users.
    ops.push(
        json!({"method": "PATCH", "path": "/Users/bulkId:u152", "data": {"schemas": [PATCH],
        "Operations": [{"op": "replace", "path": "userName", "value": "renamed-joiner"}]}}),
    );
    ops.push(
        json!({"method": "POST", "path": "/Groups", "bulkId": "team",
        "data": {"schemas": [GROUP], "displayName": "Joiners",
                 "members": [{"value": "bulkId:u151"}, {"value": "bulkId:u152"}]}}),
    );
    let out = bulk(&s, json!({"schemas": [BULK], "Operations": ops}));
    let results = out["Operations"].as_array().unwrap();
    assert_eq!(results.len(), 172);
    for (i, r) in results.iter().enumerate() {
        let want = match i {
            10 | 21 | 75 | 120 => "409",
            170 => "200",
            _ => "201",
        };
        assert_eq!(r["status"], want, "operation {i}: {r}");
    }
    for i in [10, 21, 75, 120] {
        assert_eq!(
            results[i]["response"]["scimType"], "uniqueness",
            "{}",
            results[i]
        );
    }
    for i in [21, 120] {
        let detail = results[i]["response"]["detail"].as_str().unwrap();
        assert!(
            detail.contains("inactive") && detail.contains("reactivate"),
            "{detail}"
        );
    }
    assert!(
        results[10]["response"]["detail"]
            .as_str()
            .unwrap()
            .contains("userName")
    );
    assert_eq!(s.get("/Users?count=0").body["totalResults"], 167);
    // Every created row is found by its indexes: equality, substring, and membership.
    let team = s.get(
        results[171]["location"]
            .as_str()
            .unwrap()
            .rsplit_once("/v2")
            .unwrap()
            .1,
    );
    assert_eq!(
        team.body["members"].as_array().unwrap().len(),
        2,
        "{}",
        team.text
    );
    let found = s.get("/Users?filter=emails.value%20co%20%22@corp.exam%22&count=0");
    assert_eq!(found.body["totalResults"], 165);
    let renamed = s.get("/Users?filter=userName%20co%20%22renamed-jo%22");
    assert_eq!(renamed.body["totalResults"], 1, "{}", renamed.text);
    assert_eq!(
        renamed.body["Resources"][0]["groups"][0]["display"],
        "Joiners"
    );
    assert_eq!(
        s.get("/Users?filter=userName%20eq%20%22joiner169%22").body["totalResults"],
        1
    );
}
