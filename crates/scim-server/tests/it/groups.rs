//! Groups: create, read, replace, delete, list and filter; members and their references, nested
//! groups and the derived `User.groups`; uniqueness of `displayName`; preconditions.

#![expect(
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    reason = "a test fails by panicking; clippy.toml's in-tests allowances miss helpers of an integration-test crate"
)]

use serde_json::{Value, json};

use crate::harness::{Backend, GROUP, Resp, Server, USER};

const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

fn user_with_display(s: &Server, user_name: &str, display_name: &str) -> Value {
    let r = s.post(
        "/Users",
        &json!({"schemas": [USER], "userName": user_name, "displayName": display_name}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

/// Asserts a 200 ListResponse and returns its `Resources` (empty when absent).
#[track_caller]
fn list(s: &Server, query: &str) -> (Resp, Vec<Value>) {
    let r = s.get(&format!("/Groups{query}"));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/scim+json"));
    assert_eq!(r.body["schemas"], json!([LIST]), "{}", r.text);
    let resources = r.body["Resources"].as_array().cloned().unwrap_or_default();
    assert_eq!(r.body["itemsPerPage"], json!(resources.len()), "{}", r.text);
    (r, resources)
}

/// The `displayName`s of a ListResponse's resources, sorted.
fn names(resources: &[Value]) -> Vec<String> {
    let mut n: Vec<String> = resources
        .iter()
        .map(|g| g["displayName"].as_str().unwrap().to_owned())
        .collect();
    n.sort();
    n
}

/// `filter=` with the expression percent-encoded enough for a query string.
fn filter(expr: &str) -> String {
    let enc: String = expr
        .chars()
        .map(|c| match c {
            ' ' => "%20".to_owned(),
            '"' => "%22".to_owned(),
            '&' => "%26".to_owned(),
            '+' => "%2B".to_owned(),
            c => c.to_string(),
        })
        .collect();
    format!("?filter={enc}")
}

/// A group's members as (value, type) pairs, sorted.
fn member_pairs(group: &Value) -> Vec<(String, String)> {
    let mut m: Vec<(String, String)> = group["members"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| {
                    (
                        m["value"].as_str().unwrap().to_owned(),
                        m["type"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    m.sort();
    m
}

fn create_returns_201_with_location_etag_and_resolved_members(backend: Backend) {
    let s = Server::start(backend);
    let alice = user_with_display(&s, "alice", "Alice Smith");
    let bob = s.create_user("bob");
    let r = s.post(
        "/Groups",
        &json!({
            "schemas": [GROUP],
            "displayName": "Engineering",
            "externalId": "ext-eng",
            "members": [{"value": id(&alice), "type": "User"}, {"value": id(&bob)}],
        }),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/scim+json"));
    let g = &r.body;
    let gid = id(g);
    assert!(!gid.is_empty());
    assert_eq!(g["schemas"], json!([GROUP]));
    assert_eq!(g["displayName"], "Engineering");
    assert_eq!(g["externalId"], "ext-eng");
    assert_eq!(g["meta"]["resourceType"], "Group");
    assert_eq!(
        g["meta"]["location"],
        json!(format!("{}/Groups/{gid}", s.scim()))
    );
    assert_eq!(g["meta"]["version"], r#"W/"1""#);
    assert!(g["meta"]["created"].is_string(), "{}", r.text);
    assert!(g["meta"]["lastModified"].is_string(), "{}", r.text);
    assert_eq!(r.header("location"), g["meta"]["location"].as_str());
    assert_eq!(r.header("etag"), Some(r#"W/"1""#));

    let mut members = g["members"].as_array().unwrap().clone();
    members.sort_by_key(|m| m["value"].as_str().unwrap().to_owned());
    let mut expected = vec![
        json!({
            "value": id(&alice),
            "$ref": format!("{}/Users/{}", s.scim(), id(&alice)),
            "type": "User",
        }),
        json!({
            "value": id(&bob),
            "$ref": format!("{}/Users/{}", s.scim(), id(&bob)),
            "type": "User",
        }),
    ];
    expected.sort_by_key(|m| m["value"].as_str().unwrap().to_owned());
    // RFC 7643 §8.7.1 defines value, $ref and type for members (no display).
    assert_eq!(members, expected);

    // What was created is what is read back.
    let got = s.get(&format!("/Groups/{gid}"));
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.header("etag"), Some(r#"W/"1""#));
    assert_eq!(got.body["displayName"], "Engineering");
    assert_eq!(member_pairs(&got.body), member_pairs(g));
}

fn get_honours_if_none_match_and_projections(backend: Backend) {
    let s = Server::start(backend);
    let u = s.create_user("carol");
    let g = s.create_group("Ops", &[&id(&u)]);
    let path = format!("/Groups/{}", id(&g));

    let r = s
        .req("GET", &path)
        .header("If-None-Match", r#"W/"1""#)
        .send();
    assert_eq!(r.status, 304, "{}", r.text);
    assert!(r.text.is_empty(), "{}", r.text);
    let r = s
        .req("GET", &path)
        .header("If-None-Match", r#"W/"7""#)
        .send();
    assert_eq!(r.status, 200, "{}", r.text);

    let r = s.get(&format!("{path}?excludedAttributes=members"));
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body.get("members").is_none(), "{}", r.text);
    assert_eq!(r.body["displayName"], "Ops");
    assert_eq!(r.body["id"], g["id"]);

    let r = s.get(&format!("{path}?attributes=displayName"));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"schemas": [GROUP], "id": g["id"], "displayName": "Ops"})
    );
}

fn display_name_is_required(backend: Backend) {
    let s = Server::start(backend);
    let r = s.post("/Groups", &json!({"schemas": [GROUP], "members": []}));
    r.assert_error(400, Some("invalidValue"));
    let (r, _) = list(&s, "");
    assert_eq!(r.body["totalResults"], 0, "{}", r.text);
}

fn display_name_is_unique_regardless_of_case(backend: Backend) {
    let s = Server::start(backend);
    let sales = s.create_group("Sales", &[]);
    let r = s.post(
        "/Groups",
        &json!({"schemas": [GROUP], "displayName": "SALES"}),
    );
    r.assert_error(409, Some("uniqueness"));

    // Renaming another group onto the name is refused too, and changes nothing.
    let other = s.create_group("Marketing", &[]);
    let path = format!("/Groups/{}", id(&other));
    let r = s.put(&path, &json!({"schemas": [GROUP], "displayName": "sales"}));
    r.assert_error(409, Some("uniqueness"));
    let got = s.get(&path);
    assert_eq!(got.body["displayName"], "Marketing");
    assert_eq!(got.header("etag"), Some(r#"W/"1""#));

    // A group may change the case of its own name.
    let r = s.put(
        &format!("/Groups/{}", id(&sales)),
        &json!({"schemas": [GROUP], "displayName": "sales"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["displayName"], "sales");
    let (r, _) = list(&s, "");
    assert_eq!(r.body["totalResults"], 2, "{}", r.text);
}

fn invalid_members_on_create_write_nothing(backend: Backend) {
    let s = Server::start(backend);
    let u = s.create_user("dave");
    let missing = "2b9f0c4e-0000-4000-8000-000000000000";
    let cases = [
        json!({"schemas": [GROUP], "displayName": "G1", "members": [{"value": id(&u)}, {"value": missing}]}),
        json!({"schemas": [GROUP], "displayName": "G2", "members": [{"value": "not-an-id"}]}),
        json!({"schemas": [GROUP], "displayName": "G3", "members": [{"value": id(&u), "type": "Robot"}]}),
    ];
    for body in &cases {
        let r = s.post("/Groups", body);
        r.assert_error(400, Some("invalidValue"));
    }
    let (r, _) = list(&s, "");
    assert_eq!(r.body["totalResults"], 0, "{}", r.text);
    // The user is in no group.
    let got = s.get(&format!("/Users/{}", id(&u)));
    assert_eq!(got.status, 200, "{}", got.text);
    assert!(
        got.body["groups"].as_array().is_none_or(Vec::is_empty),
        "{}",
        got.text
    );
}

fn invalid_members_on_replace_change_nothing(backend: Backend) {
    let s = Server::start(backend);
    let u = s.create_user("erin");
    let g = s.create_group("Finance", &[&id(&u)]);
    let gid = id(&g);
    let path = format!("/Groups/{gid}");
    let bad = [
        json!([{"value": gid}]),
        json!([{"value": id(&u)}, {"value": "2b9f0c4e-0000-4000-8000-000000000001"}]),
        json!([{"value": id(&u), "type": "Device"}]),
    ];
    for members in bad {
        let r = s.put(
            &path,
            &json!({"schemas": [GROUP], "displayName": "Renamed", "members": members}),
        );
        r.assert_error(400, Some("invalidValue"));
    }
    let got = s.get(&path);
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.header("etag"), Some(r#"W/"1""#));
    assert_eq!(got.body["displayName"], "Finance");
    assert_eq!(member_pairs(&got.body), vec![(id(&u), "User".to_owned())]);
}

fn replace_bumps_version_only_on_change(backend: Backend) {
    let s = Server::start(backend);
    let a = s.create_user("frank");
    let b = s.create_user("grace");
    let g = s.create_group("Legal", &[&id(&a)]);
    let path = format!("/Groups/{}", id(&g));

    let r = s.put(
        &path,
        &json!({"schemas": [GROUP], "displayName": "Legal Team", "members": [{"value": id(&b)}]}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/scim+json"));
    assert_eq!(r.header("etag"), Some(r#"W/"2""#));
    assert_eq!(r.body["meta"]["version"], r#"W/"2""#);
    assert_eq!(r.body["id"], g["id"]);
    assert_eq!(r.body["displayName"], "Legal Team");
    assert_eq!(r.body["meta"]["created"], g["meta"]["created"]);
    assert_eq!(member_pairs(&r.body), vec![(id(&b), "User".to_owned())]);

    // The same content again (with read-only id and meta echoed back) keeps the version.
    let mut same = r.body.clone();
    same["members"] = json!([{"value": id(&b)}]);
    let r = s.put(&path, &same);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("etag"), Some(r#"W/"2""#));

    // Omitting members in a full replace empties them.
    let r = s.put(
        &path,
        &json!({"schemas": [GROUP], "displayName": "Legal Team"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("etag"), Some(r#"W/"3""#));
    assert!(member_pairs(&r.body).is_empty(), "{}", r.text);
    let u = s.get(&format!("/Users/{}", id(&a)));
    assert!(
        u.body["groups"].as_array().is_none_or(Vec::is_empty),
        "{}",
        u.text
    );
}

/// A user's `groups` as sorted (display, type) pairs.
fn group_pairs(user: &Value) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = user["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|g| {
            (
                g["display"].as_str().unwrap().to_owned(),
                g["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    pairs.sort();
    pairs
}

fn nested_groups_and_user_groups(backend: Backend) {
    let s = Server::start(backend);
    let u = s.create_user("heidi");
    let child = s.create_group("Child", &[&id(&u)]);
    let r = s.post(
        "/Groups",
        &json!({"schemas": [GROUP], "displayName": "Parent", "members": [{"value": id(&child), "type": "Group"}]}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let parent = r.body;
    assert_eq!(
        parent["members"],
        json!([{
            "value": id(&child),
            "$ref": format!("{}/Groups/{}", s.scim(), id(&child)),
            "type": "Group",
        }])
    );

    let got = s.get(&format!("/Users/{}", id(&u)));
    assert_eq!(got.status, 200, "{}", got.text);
    let mut groups = got.body["groups"].as_array().cloned().unwrap_or_default();
    groups.sort_by_key(|g| g["display"].as_str().unwrap().to_owned());
    assert_eq!(
        groups,
        vec![
            json!({
                "value": id(&child),
                "$ref": format!("{}/Groups/{}", s.scim(), id(&child)),
                "display": "Child",
                "type": "direct",
            }),
            json!({
                "value": id(&parent),
                "$ref": format!("{}/Groups/{}", s.scim(), id(&parent)),
                "display": "Parent",
                "type": "indirect",
            }),
        ]
    );

    // A list page reads the groups of all its users in one query: the same answers, per user,
    // also with a membership cycle (Parent in Child in Parent) and a user in both directly.
    let both = s.create_user("ivy");
    let r = s
        .req("PATCH", &format!("/Groups/{}", id(&child)))
        .json(&json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members",
                        "value": [{"value": id(&parent), "type": "Group"},
                                  {"value": id(&both), "type": "User"}]}]}));
    assert_eq!(r.status, 204, "{}", r.text);
    let r = s
        .req("PATCH", &format!("/Groups/{}", id(&parent)))
        .json(&json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": id(&both)}]}]}));
    assert_eq!(r.status, 204, "{}", r.text);
    s.create_user("loner");
    let page = s.get("/Users?sortBy=userName&attributes=groups,userName");
    let summary: Vec<(String, Vec<(String, String)>)> = page.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["userName"].as_str().unwrap().to_owned(), group_pairs(u)))
        .collect();
    let pair = |d: &str, t: &str| (d.to_owned(), t.to_owned());
    assert_eq!(
        summary,
        vec![
            (
                "heidi".to_owned(),
                vec![pair("Child", "direct"), pair("Parent", "indirect")]
            ),
            (
                "ivy".to_owned(),
                vec![pair("Child", "direct"), pair("Parent", "direct")]
            ),
            ("loner".to_owned(), vec![]),
        ]
    );
}

/// A user's groups reach every level up a chain of nested groups (A in B in C in D), a group it
/// is also in directly stays direct, and a page of users reads the same.
fn groups_several_levels_up(backend: Backend) {
    let s = Server::start(backend);
    let u = s.create_user("judy");
    let a = s.create_group("A", &[&id(&u)]);
    let b = s.create_group("B", &[&id(&a)]);
    let c = s.create_group("C", &[&id(&b)]);
    s.create_group("D", &[&id(&c), &id(&u)]);
    s.create_group("Unrelated", &[]);
    let pair = |d: &str, t: &str| (d.to_owned(), t.to_owned());
    let expected = vec![
        pair("A", "direct"),
        pair("B", "indirect"),
        pair("C", "indirect"),
        pair("D", "direct"),
    ];
    let got = s.get(&format!("/Users/{}", id(&u)));
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(group_pairs(&got.body), expected, "{}", got.text);
    let page = s.get("/Users?filter=userName%20eq%20%22judy%22&attributes=groups");
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(
        group_pairs(&page.body["Resources"][0]),
        expected,
        "{}",
        page.text
    );
}

/// A user's groups come back exactly as named, whatever characters the names hold (a store may
/// carry them through its own JSON), and a group placed in another after the user joined it
/// brings the outer group along on the next read.
fn user_groups_keep_names_and_follow_later_nesting(backend: Backend) {
    let s = Server::start(backend);
    let u = s.create_user("kim");
    let odd = r#"Ops "Nord" \ Zürich – ☃"#;
    let inner = s.create_group(odd, &[&id(&u)]);
    let user_path = format!("/Users/{}", id(&u));
    let got = s.get(&user_path);
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(
        group_pairs(&got.body),
        vec![(odd.to_owned(), "direct".to_owned())]
    );
    assert_eq!(
        got.body["groups"][0]["value"],
        json!(id(&inner)),
        "{}",
        got.text
    );

    s.create_group("Outer", &[&id(&inner)]);
    let got = s.get(&user_path);
    assert_eq!(
        group_pairs(&got.body),
        vec![
            (odd.to_owned(), "direct".to_owned()),
            ("Outer".to_owned(), "indirect".to_owned())
        ],
        "{}",
        got.text
    );
    // A projection without `groups` sends none.
    let got = s.get(&format!("{user_path}?attributes=userName"));
    assert_eq!(got.status, 200, "{}", got.text);
    assert!(got.body.get("groups").is_none(), "{}", got.text);
}

/// Every way of listing users sends each one's groups, direct and above, the same as a GET:
/// index pages (plain, filtered and sorted, and deep ones past the store's 2,000-row offset,
/// which it reads another way), cursor pages both ways, and `POST /.search` across types.
fn every_list_of_users_sends_their_groups(backend: Backend) {
    let s = Server::start(backend);
    // 2,003 users through /Bulk (in requests the test config's body limit takes); the last three are the ones the test looks at.
    for first in (0..2003).step_by(200) {
        let ops: Vec<Value> = (first..(first + 200).min(2003))
            .map(|i| {
                json!({"method": "POST", "path": "/Users", "bulkId": format!("u{i}"),
                       "data": {"schemas": [USER], "userName": format!("u{i:04}")}})
            })
            .collect();
        let r = s.post(
            "/Bulk",
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                    "Operations": ops}),
        );
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(
            r.body["Operations"]
                .as_array()
                .unwrap()
                .iter()
                .all(|o| o["status"] == "201"),
            "{}",
            r.text
        );
    }
    let found = s.get("/Users?filter=userName%20ge%20%22u2000%22&sortBy=userName&attributes=id");
    let last: Vec<String> = found.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(id)
        .collect();
    assert_eq!(last.len(), 3, "{}", found.text);
    let inner = s.create_group("Inner", &[&last[0], &last[1]]);
    s.create_group("Outer", &[&id(&inner), &last[1]]);
    let pair = |d: &str, t: &str| (d.to_owned(), t.to_owned());
    let expected = vec![
        vec![pair("Inner", "direct"), pair("Outer", "indirect")],
        vec![pair("Inner", "direct"), pair("Outer", "direct")],
        vec![],
    ];
    let groups_of = |r: &Resp| -> Vec<Vec<(String, String)>> {
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(group_pairs)
            .collect()
    };
    let cases = [
        ("deep page", s.get("/Users?startIndex=2001&count=10")),
        (
            "filtered, sorted",
            s.get("/Users?filter=userName%20ge%20%22u2000%22&sortBy=userName&attributes=groups"),
        ),
        (
            "search",
            s.post(
                "/.search",
                &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                        "filter": "userName ge \"u2000\"", "sortBy": "userName"}),
            ),
        ),
    ];
    for (what, r) in &cases {
        assert_eq!(groups_of(r), expected, "{what}: {}", r.text);
    }
    // Cursor pages: forward to the first of the three, then a page of the other two, then
    // back from there.
    let cursor = |r: &Resp, which: &str| r.body[which].as_str().unwrap().to_owned();
    let mut r = s.get("/Users?cursor=&count=1000");
    r = s.get(&format!(
        "/Users?cursor={}&count=1000",
        cursor(&r, "nextCursor")
    ));
    r = s.get(&format!(
        "/Users?cursor={}&count=1",
        cursor(&r, "nextCursor")
    ));
    assert_eq!(groups_of(&r), expected[..1], "cursor: {}", r.text);
    r = s.get(&format!(
        "/Users?cursor={}&count=2",
        cursor(&r, "nextCursor")
    ));
    assert_eq!(groups_of(&r), expected[1..], "cursor: {}", r.text);
    r = s.get(&format!(
        "/Users?cursor={}&count=2",
        cursor(&r, "previousCursor")
    ));
    assert_eq!(
        groups_of(&r),
        vec![vec![], expected[0].clone()],
        "previous cursor: {}",
        r.text
    );
}

fn deleting_a_group_removes_it_everywhere(backend: Backend) {
    let s = Server::start(backend);
    let u = s.create_user("ivan");
    let child = s.create_group("Child", &[&id(&u)]);
    let parent = s.create_group("Parent", &[&id(&child), &id(&u)]);
    let child_path = format!("/Groups/{}", id(&child));

    let r = s.delete(&child_path);
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(r.text.is_empty(), "{}", r.text);
    s.get(&child_path).assert_error(404, None);
    s.delete(&child_path).assert_error(404, None);

    let p = s.get(&format!("/Groups/{}", id(&parent)));
    assert_eq!(p.status, 200, "{}", p.text);
    assert_eq!(member_pairs(&p.body), vec![(id(&u), "User".to_owned())]);
    let got = s.get(&format!("/Users/{}", id(&u)));
    let groups: Vec<(&str, &str)> = got.body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["value"].as_str().unwrap(), g["type"].as_str().unwrap()))
        .collect();
    assert_eq!(groups, vec![(id(&parent).as_str(), "direct")]);
    let (r, _) = list(&s, "");
    assert_eq!(r.body["totalResults"], 1, "{}", r.text);
}

fn deleting_a_user_removes_it_from_groups(backend: Backend) {
    let s = Server::start(backend);
    let a = s.create_user("judy");
    let b = s.create_user("mallory");
    let g1 = s.create_group("One", &[&id(&a), &id(&b)]);
    let g2 = s.create_group("Two", &[&id(&a)]);

    let r = s.delete(&format!("/Users/{}", id(&a)));
    assert_eq!(r.status, 204, "{}", r.text);

    let got = s.get(&format!("/Groups/{}", id(&g1)));
    assert_eq!(member_pairs(&got.body), vec![(id(&b), "User".to_owned())]);
    let got = s.get(&format!("/Groups/{}", id(&g2)));
    assert_eq!(got.status, 200, "{}", got.text);
    assert!(member_pairs(&got.body).is_empty(), "{}", got.text);
}

fn list_pages(backend: Backend) {
    let s = Server::start(backend);
    for n in ["A", "B", "C"] {
        s.create_group(n, &[]);
    }
    let (r, all) = list(&s, "");
    assert_eq!(r.body["totalResults"], 3);
    assert_eq!(r.body["startIndex"], 1);
    assert_eq!(names(&all), ["A", "B", "C"]);
    assert!(
        all.iter().all(|g| g["schemas"] == json!([GROUP])),
        "{}",
        r.text
    );

    let mut seen = Vec::new();
    for start in 1..=3 {
        let (r, page) = list(&s, &format!("?startIndex={start}&count=1"));
        assert_eq!(r.body["totalResults"], 3, "{}", r.text);
        assert_eq!(r.body["startIndex"], start, "{}", r.text);
        assert_eq!(page.len(), 1, "{}", r.text);
        seen.extend(page);
    }
    // The pages cover every group exactly once.
    assert_eq!(names(&seen), ["A", "B", "C"]);

    let (r, page) = list(&s, "?startIndex=3&count=10");
    assert_eq!(
        (r.body["totalResults"].clone(), page.len()),
        (json!(3), 1),
        "{}",
        r.text
    );
    let (r, page) = list(&s, "?startIndex=4");
    assert_eq!(
        (r.body["totalResults"].clone(), page.len()),
        (json!(3), 0),
        "{}",
        r.text
    );
}

fn list_filters(backend: Backend) {
    let s = Server::start(backend);
    let eng = s.post(
        "/Groups",
        &json!({"schemas": [GROUP], "displayName": "Engineering", "externalId": "Ext-1"}),
    );
    assert_eq!(eng.status, 201, "{}", eng.text);
    s.create_group("Engine Room", &[]);
    s.create_group("Sales", &[]);

    let cases: [(&str, &[&str]); 7] = [
        (r#"displayName eq "engineering""#, &["Engineering"]),
        (r#"DISPLAYNAME EQ "ENGINEERING""#, &["Engineering"]),
        (
            r#"displayName sw "ENGINE""#,
            &["Engine Room", "Engineering"],
        ),
        (r#"displayName co "al""#, &["Sales"]),
        (r#"displayName eq "nobody""#, &[]),
        (r#"externalId eq "Ext-1""#, &["Engineering"]),
        (r#"externalId eq "ext-1""#, &[]),
    ];
    for (expr, want) in cases {
        let (r, found) = list(&s, &filter(expr));
        assert_eq!(names(&found), want, "{expr}: {}", r.text);
        assert_eq!(r.body["totalResults"], want.len(), "{expr}: {}", r.text);
    }
    let (r, found) = list(&s, &filter(&format!(r#"id eq "{}""#, id(&eng.body))));
    assert_eq!(names(&found), ["Engineering"], "{}", r.text);

    for expr in [r#"nickName eq "x""#, r#"userName eq "x""#] {
        s.get(&format!("/Groups{}", filter(expr)))
            .assert_error(400, Some("invalidFilter"));
    }
}

fn if_match_preconditions(backend: Backend) {
    let s = Server::start(backend);
    let g = s.create_group("Support", &[]);
    let path = format!("/Groups/{}", id(&g));
    let body = json!({"schemas": [GROUP], "displayName": "Support 2"});

    let r = s
        .req("PUT", &path)
        .header("If-Match", r#"W/"9""#)
        .json(&body);
    r.assert_error(412, None);
    let r = s.req("DELETE", &path).header("If-Match", r#"W/"9""#).send();
    r.assert_error(412, None);
    assert_eq!(s.get(&path).body["displayName"], "Support");

    let r = s
        .req("PUT", &path)
        .header("If-Match", r#"W/"1""#)
        .json(&body);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("etag"), Some(r#"W/"2""#));
    // The version the PUT replaced is now stale.
    let r = s.req("DELETE", &path).header("If-Match", r#"W/"1""#).send();
    r.assert_error(412, None);
    let r = s.req("DELETE", &path).header("If-Match", r#"W/"2""#).send();
    assert_eq!(r.status, 204, "{}", r.text);
    s.get(&path).assert_error(404, None);
}

crate::backends!(
    create_returns_201_with_location_etag_and_resolved_members,
    get_honours_if_none_match_and_projections,
    display_name_is_required,
    display_name_is_unique_regardless_of_case,
    invalid_members_on_create_write_nothing,
    invalid_members_on_replace_change_nothing,
    replace_bumps_version_only_on_change,
    nested_groups_and_user_groups,
    groups_several_levels_up,
    user_groups_keep_names_and_follow_later_nesting,
    every_list_of_users_sends_their_groups,
    deleting_a_group_removes_it_everywhere,
    deleting_a_user_removes_it_from_groups,
    list_pages,
    list_filters,
    if_match_preconditions,
);
