//! Joiners, movers, leavers: deactivation keeps the user readable and filterable; a joiner who
//! matches a deactivated user is told to reactivate instead; reactivation restores it.

use serde_json::json;

use crate::backends;
use crate::harness::{Backend, Server, USER};

backends!(leavers_stay_readable_and_returning_joiners_are_sent_to_reactivate);

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
