//! Joiners, movers, leavers: deactivation keeps the user readable and filterable; a joiner who
//! matches a deactivated user is told to reactivate instead; reactivation restores it.

use serde_json::json;

use crate::backends;
use crate::harness::{Backend, Server, USER};

backends!(
    leavers_stay_readable_and_returning_joiners_are_sent_to_reactivate,
    every_change_is_in_the_audit_trail,
);

const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn leavers_stay_readable_and_returning_joiners_are_sent_to_reactivate(backend: Backend) {
    let s = Server::start(backend);
    let r = s.post(
        "/Users",
        &json!({"schemas": [USER], "userName": "leaver", "externalId": "hr-7"}),
    );
    assert_eq!(r.status, 201);
    let path = format!("/Users/{}", r.body["id"].as_str().unwrap());
    let g = s.create_group("Staff", &[r.body["id"].as_str().unwrap()]);
    let deactivate = json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": false}]});
    assert_eq!(s.req("PATCH", &path).json(&deactivate).status, 200);
    // Still readable and filterable.
    assert_eq!(s.get(&path).body["active"], false);
    let found = s.get("/Users?filter=active%20eq%20false");
    assert_eq!(found.body["totalResults"], 1);
    // A joiner with the same userName or externalId: 409, telling the admin to reactivate.
    for body in [
        json!({"schemas": [USER], "userName": "LEAVER"}),
        json!({"schemas": [USER], "userName": "someone-new", "externalId": "hr-7"}),
    ] {
        let r = s.post("/Users", &body);
        r.assert_error(409, Some("uniqueness"));
        let detail = r.body["detail"].as_str().unwrap();
        assert!(
            detail.contains("inactive") && detail.contains("reactivate"),
            "{detail}"
        );
    }
    // An active user with the same userName is a plain conflict.
    s.create_user("active-one");
    let r = s.post(
        "/Users",
        &json!({"schemas": [USER], "userName": "active-one"}),
    );
    r.assert_error(409, Some("uniqueness"));
    assert!(!r.body["detail"].as_str().unwrap().contains("inactive"));
    // Reactivation restores the user, its memberships intact.
    let reactivate = json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": true}]});
    let r = s.req("PATCH", &path).json(&reactivate);
    assert_eq!(r.body["active"], true);
    assert_eq!(r.body["groups"][0]["value"], g["id"]);
    assert_eq!(
        s.get("/Users?filter=active%20eq%20true").body["totalResults"],
        1
    );
}

fn every_change_is_in_the_audit_trail(backend: Backend) {
    let s = Server::start(backend);
    let r = s.post(
        "/Users",
        &json!({"schemas": [USER], "userName": "audited", "password": "pw-1"}),
    );
    let id = r.body["id"].as_str().unwrap().to_owned();
    let path = format!("/Users/{id}");
    let group = s.create_group("Audited Group", &[]);
    let gpath = format!("/Groups/{}", group["id"].as_str().unwrap());
    let op = |op: &str, p: &str, v: serde_json::Value| json!({"schemas": [PATCH], "Operations": [{"op": op, "path": p, "value": v}]});
    assert_eq!(
        s.req("PATCH", &gpath)
            .json(&op("add", "members", json!([{"value": id}])))
            .status,
        204
    );
    assert_eq!(
        s.req("PATCH", &path)
            .json(&op("replace", "title", json!("Lead")))
            .status,
        200
    );
    assert_eq!(
        s.req("PATCH", &path)
            .json(&op("replace", "active", json!(false)))
            .status,
        200
    );
    assert_eq!(
        s.req("PATCH", &path)
            .json(&op("replace", "active", json!(true)))
            .status,
        200
    );
    // A PATCH that changes nothing leaves no event.
    assert_eq!(
        s.req("PATCH", &path)
            .json(&op("replace", "title", json!("Lead")))
            .status,
        200
    );
    assert_eq!(s.delete(&path).status, 204);

    let trail = s.get(&format!("//admin/v1/audit?resource={id}"));
    assert_eq!(trail.status, 200, "{}", trail.text);
    let events = trail.body["events"].as_array().unwrap();
    let summary: Vec<(String, serde_json::Value)> = events
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["attributes"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("create".to_owned(), json!(["userName", "password"])),
            ("update".to_owned(), json!(["title"])),
            ("deactivate".to_owned(), json!(["active"])),
            ("reactivate".to_owned(), json!(["active"])),
            ("delete".to_owned(), json!([])),
        ]
    );
    for e in events {
        assert_eq!(e["resourceType"], "User");
        assert_eq!(e["resourceId"], id.as_str());
        assert!(
            e["actor"].as_str().unwrap().starts_with("token:tok_"),
            "{e}"
        );
        assert!(e["at"].as_str().unwrap().ends_with('Z'));
    }
    assert!(
        !trail.text.contains("pw-1"),
        "passwords never reach the trail"
    );
    let group_trail = s.get(&format!(
        "//admin/v1/audit?resource={}",
        group["id"].as_str().unwrap()
    ));
    let actions: Vec<&str> = group_trail.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["create", "update"]);
    assert_eq!(
        group_trail.body["events"][1]["attributes"],
        json!(["members"])
    );
    let all = s.get("//admin/v1/audit");
    assert_eq!(all.body["events"].as_array().unwrap().len(), 7);
    let later = s.get("//admin/v1/audit?since=2999-01-01T00:00:00Z");
    assert_eq!(later.body["events"], json!([]));
    s.get("//admin/v1/audit?since=yesterday")
        .assert_error(400, Some("invalidValue"));
    s.raw("GET", "//admin/v1/audit")
        .send()
        .assert_error(401, None);
}
