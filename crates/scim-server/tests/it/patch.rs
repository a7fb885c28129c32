//! PATCH (RFC 7644 §3.5.2) over HTTP, including the forms Okta and Microsoft Entra ID send.
//!
//! The `okta_*` and `entra_*` cases send the request bodies shown in Okta's "SCIM 2.0 protocol
//! reference", Microsoft's "Develop a SCIM endpoint" request examples and its "Known issues
//! with SCIM 2.0 protocol compliance" page, field for field.

use std::sync::Barrier;
use std::time::Duration;

use serde_json::{Value, json};

use crate::backends;
use crate::harness::{Backend, ENTERPRISE, GROUP, Resp, Server, USER};

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// An id no resource has.
const MISSING: &str = "6f1d3c2a-0000-4000-8000-00000000beef";

backends!(
    envelope_errors_are_invalid_syntax,
    replace_bumps_version_and_last_modified_only_on_change,
    prefer_return_minimal_gives_204_with_etag,
    response_honours_attributes_and_excluded_attributes,
    ops_are_case_insensitive,
    sub_attribute_and_complex_paths,
    value_filter_paths,
    urn_qualified_paths,
    add_appends_to_multi_valued_without_duplicates,
    add_without_path_merges_an_object_of_attributes,
    replace_of_multi_valued_replaces_the_list,
    at_most_one_primary,
    remove_semantics,
    read_only_paths_are_mutability_errors,
    type_and_path_errors,
    a_failing_operation_rolls_back_the_whole_request,
    group_membership,
    invalid_members_change_nothing,
    rename_onto_a_taken_display_name_is_409,
    if_match_preconditions,
    concurrent_member_adds_are_all_applied,
    concurrent_patches_with_one_if_match_have_one_winner,
    service_provider_config_advertises_patch,
    okta_deactivates_a_user_with_a_no_path_replace,
    okta_renames_a_group_echoing_its_id,
    okta_adds_and_removes_members,
    entra_updates_user_attributes,
    entra_boolean_strings,
    entra_add_on_an_unmatched_filter_creates_the_element,
    entra_manager_as_a_bare_id,
    entra_no_path_replace_with_dotted_and_urn_keys,
    entra_group_member_forms,
);

fn body(ops: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": ops})
}

fn patch(s: &Server, path: &str, ops: Value) -> Resp {
    s.req("PATCH", path).json(&body(ops))
}

fn version(n: u32) -> String {
    format!("W/\"{n}\"")
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

fn user_path(u: &Value) -> String {
    format!("/Users/{}", id(u))
}

fn group_path(g: &Value) -> String {
    format!("/Groups/{}", id(g))
}

/// Asserts a 200 PATCH answer whose ETag and `meta.version` are both `W/"n"`.
#[track_caller]
fn assert_ok(r: &Resp, n: u32) {
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/scim+json"));
    assert_eq!(r.header("etag"), Some(version(n).as_str()), "{}", r.text);
    assert_eq!(r.body["meta"]["version"], json!(version(n)), "{}", r.text);
}

/// Asserts the 204 a Group PATCH answers by default, with the new version as ETag, and returns
/// the group as `GET` then returns it (at that version).
#[track_caller]
fn assert_group_ok(s: &Server, path: &str, r: &Resp, n: u32) -> Value {
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(r.header("etag"), Some(version(n).as_str()));
    assert!(r.text.is_empty(), "{}", r.text);
    let got = snapshot(s, path);
    assert_eq!(got["meta"]["version"], json!(version(n)), "{got}");
    got
}

/// The resource as `GET` returns it (asserting 200).
#[track_caller]
fn snapshot(s: &Server, path: &str) -> Value {
    let r = s.get(path);
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

/// Creates a user from a full body (asserting 201).
#[track_caller]
fn create(s: &Server, user: &Value) -> Value {
    let r = s.post("/Users", user);
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

/// A group's member ids, sorted.
fn member_ids(group: &Value) -> Vec<String> {
    let mut ids: Vec<String> = group["members"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| m["value"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

fn sorted(ids: &[&Value]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(|u| id(u)).collect();
    v.sort();
    v
}

/// The elements of a multi-valued attribute whose `type` is `ty`.
fn of_type<'a>(resource: &'a Value, attr: &str, ty: &str) -> Vec<&'a Value> {
    resource[attr]
        .as_array()
        .map(|a| a.iter().filter(|e| e["type"] == ty).collect())
        .unwrap_or_default()
}

/// A user with a primary work email and a home email.
fn jensen() -> Value {
    json!({
        "schemas": [USER],
        "userName": "bjensen",
        "displayName": "Babs Jensen",
        "title": "Tour Guide",
        "name": {"givenName": "Barbara", "familyName": "Jensen", "middleName": "Jane"},
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
    })
}

fn envelope_errors_are_invalid_syntax(backend: Backend) {
    let s = Server::start(backend);
    let u = s.create_user("envelope");
    let path = user_path(&u);
    let before = snapshot(&s, &path);
    let op = json!({"op": "replace", "path": "displayName", "value": "x"});
    let bad = [
        json!({"Operations": [op]}),
        json!({"schemas": [USER], "Operations": [op]}),
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": [op]}),
        json!({"schemas": [PATCH_OP]}),
        json!({"schemas": [PATCH_OP], "Operations": []}),
        json!({"schemas": [PATCH_OP], "Operations": [{"op": "move", "path": "displayName", "value": "x"}]}),
        json!({"schemas": [PATCH_OP], "Operations": [{"op": "copy", "path": "displayName", "value": "x"}]}),
    ];
    for b in &bad {
        let r = s.req("PATCH", &path).json(b);
        assert_eq!(r.status, 400, "{b}: {}", r.text);
        r.assert_error(400, Some("invalidSyntax"));
    }
    assert_eq!(snapshot(&s, &path), before);
    // A resource that does not exist.
    patch(&s, &format!("/Users/{MISSING}"), json!([op])).assert_error(404, None);
}

fn replace_bumps_version_and_last_modified_only_on_change(backend: Backend) {
    let s = Server::start(backend);
    let u = create(&s, &jensen());
    let path = user_path(&u);
    std::thread::sleep(Duration::from_millis(5));

    let r = patch(
        &s,
        &path,
        json!([{"op": "replace", "path": "displayName", "value": "Barbara Jensen"}]),
    );
    assert_ok(&r, 2);
    assert_eq!(r.body["displayName"], "Barbara Jensen");
    assert_eq!(r.body["id"], u["id"]);
    assert_eq!(r.body["schemas"], json!([USER]));
    assert_eq!(r.body["meta"]["created"], u["meta"]["created"]);
    assert_ne!(
        r.body["meta"]["lastModified"], u["meta"]["lastModified"],
        "{}",
        r.text
    );
    // Everything not patched is kept.
    assert_eq!(r.body["name"], u["name"]);
    assert_eq!(r.body["emails"], u["emails"]);
    assert_eq!(r.body["title"], "Tour Guide");
    // The response is what is read back.
    let got = s.get(&path);
    assert_eq!(got.header("etag"), Some(version(2).as_str()));
    assert_eq!(got.body, r.body);

    // Setting the current value changes nothing: same version, same lastModified.
    std::thread::sleep(Duration::from_millis(5));
    let again = patch(
        &s,
        &path,
        json!([{"op": "replace", "path": "displayName", "value": "Barbara Jensen"}]),
    );
    assert_ok(&again, 2);
    assert_eq!(
        again.body["meta"]["lastModified"],
        r.body["meta"]["lastModified"]
    );
    assert_eq!(snapshot(&s, &path), got.body);
}

fn prefer_return_minimal_gives_204_with_etag(backend: Backend) {
    let s = Server::start(backend);
    let u = s.create_user("minimal");
    let path = user_path(&u);
    let r = s
        .req("PATCH", &path)
        .header("Prefer", "return=minimal")
        .json(&body(
            json!([{"op": "replace", "path": "title", "value": "Engineer"}]),
        ));
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(r.text.is_empty(), "{}", r.text);
    assert_eq!(r.header("etag"), Some(version(2).as_str()));
    let got = s.get(&path);
    assert_eq!(got.body["title"], "Engineer");
    assert_eq!(got.header("etag"), Some(version(2).as_str()));

    // Nothing to change: still 204, version kept.
    let r = s
        .req("PATCH", &path)
        .header("Prefer", "return=minimal")
        .json(&body(
            json!([{"op": "replace", "path": "title", "value": "Engineer"}]),
        ));
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(r.header("etag"), Some(version(2).as_str()));
}

fn response_honours_attributes_and_excluded_attributes(backend: Backend) {
    let s = Server::start(backend);
    let a = s.create_user("proj-a");
    let g = s.create_group("Projected", &[]);
    let path = group_path(&g);

    let r = s
        .req("PATCH", &format!("{path}?attributes=displayName"))
        .json(&body(
            json!([{"op": "replace", "path": "displayName", "value": "Projected 2"}]),
        ));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("etag"), Some(version(2).as_str()));
    assert_eq!(
        r.body,
        json!({"schemas": [GROUP], "id": g["id"], "displayName": "Projected 2"})
    );

    let r = s
        .req("PATCH", &format!("{path}?excludedAttributes=members"))
        .json(&body(
            json!([{"op": "add", "path": "members", "value": [{"value": a["id"]}]}]),
        ));
    assert_ok(&r, 3);
    assert!(r.body.get("members").is_none(), "{}", r.text);
    assert_eq!(r.body["displayName"], "Projected 2");
    assert_eq!(member_ids(&snapshot(&s, &path)), vec![id(&a)]);
}

fn ops_are_case_insensitive(backend: Backend) {
    let s = Server::start(backend);
    let u = create(&s, &jensen());
    let path = user_path(&u);
    let r = patch(
        &s,
        &path,
        json!([
            {"op": "Replace", "path": "title", "value": "Captain"},
            {"op": "Add", "path": "nickName", "value": "Babs"},
            {"op": "Remove", "path": "displayName"},
            {"op": "REPLACE", "path": "userType", "value": "Employee"},
        ]),
    );
    assert_ok(&r, 2);
    assert_eq!(r.body["title"], "Captain");
    assert_eq!(r.body["nickName"], "Babs");
    assert_eq!(r.body["userType"], "Employee");
    assert!(r.body.get("displayName").is_none(), "{}", r.text);
}

fn sub_attribute_and_complex_paths(backend: Backend) {
    let s = Server::start(backend);
    let u = create(&s, &jensen());
    let path = user_path(&u);

    let r = patch(
        &s,
        &path,
        json!([{"op": "replace", "path": "name.givenName", "value": "Babs"}]),
    );
    assert_ok(&r, 2);
    assert_eq!(
        r.body["name"],
        json!({"givenName": "Babs", "familyName": "Jensen", "middleName": "Jane"})
    );

    // replace on a complex attribute merges the given sub-attributes.
    let r = patch(
        &s,
        &path,
        json!([{"op": "replace", "path": "name", "value": {"familyName": "Jensen-Smith"}}]),
    );
    assert_ok(&r, 3);
    assert_eq!(
        r.body["name"],
        json!({"givenName": "Babs", "familyName": "Jensen-Smith", "middleName": "Jane"})
    );

    // add on a complex attribute merges too.
    let r = patch(
        &s,
        &path,
        json!([{"op": "add", "path": "name", "value": {"honorificPrefix": "Ms."}}]),
    );
    assert_ok(&r, 4);
    assert_eq!(
        r.body["name"],
        json!({"givenName": "Babs", "familyName": "Jensen-Smith", "middleName": "Jane", "honorificPrefix": "Ms."})
    );

    let r = patch(
        &s,
        &path,
        json!([{"op": "remove", "path": "name.middleName"}]),
    );
    assert_ok(&r, 5);
    assert_eq!(
        r.body["name"],
        json!({"givenName": "Babs", "familyName": "Jensen-Smith", "honorificPrefix": "Ms."})
    );
    assert_eq!(snapshot(&s, &path)["name"], r.body["name"]);
}

fn value_filter_paths(backend: Backend) {
    let s = Server::start(backend);
    let u = create(&s, &jensen());
    let path = user_path(&u);

    let r = patch(
        &s,
        &path,
        json!([{"op": "replace", "path": r#"emails[type eq "work"].value"#, "value": "barbara@example.com"}]),
    );
    assert_ok(&r, 2);
    let work = of_type(&r.body, "emails", "work");
    assert_eq!(
        work,
        vec![&json!({"value": "barbara@example.com", "type": "work", "primary": true})]
    );
    assert_eq!(
        of_type(&r.body, "emails", "home"),
        vec![&json!({"value": "babs@jensen.org", "type": "home"})]
    );

    // A filter that matches nothing is no target for replace, and nothing changes.
    let before = snapshot(&s, &path);
    let r = patch(
        &s,
        &path,
        json!([{"op": "replace", "path": r#"emails[type eq "other"].value"#, "value": "x@example.com"}]),
    );
    r.assert_error(400, Some("noTarget"));
    assert_eq!(snapshot(&s, &path), before);

    let r = patch(
        &s,
        &path,
        json!([{"op": "remove", "path": r#"emails[type eq "home"]"#}]),
    );
    assert_ok(&r, 3);
    assert_eq!(
        r.body["emails"],
        json!([{"value": "barbara@example.com", "type": "work", "primary": true}])
    );

    // Removing what a filter does not match is a no-op.
    let r = patch(
        &s,
        &path,
        json!([{"op": "remove", "path": r#"emails[type eq "home"]"#}]),
    );
    assert_ok(&r, 3);
    assert_eq!(snapshot(&s, &path), r.body);
}

fn urn_qualified_paths(backend: Backend) {
    let s = Server::start(backend);
    let u = create(&s, &jensen());
    let path = user_path(&u);

    let r = patch(
        &s,
        &path,
        json!([
            {"op": "replace", "path": format!("{ENTERPRISE}:department"), "value": "Tour Operations"},
            {"op": "replace", "path": format!("{USER}:userName"), "value": "barbara"},
        ]),
    );
    assert_ok(&r, 2);
    assert_eq!(r.body["userName"], "barbara");
    assert_eq!(r.body[ENTERPRISE], json!({"department": "Tour Operations"}));
    assert_eq!(r.body["schemas"], json!([USER, ENTERPRISE]));

    // The whole extension as the path: its sub-attributes merge.
    let r = patch(
        &s,
        &path,
        json!([{"op": "add", "path": ENTERPRISE, "value": {"costCenter": "4130", "division": "Theme Park"}}]),
    );
    assert_ok(&r, 3);
    assert_eq!(
        r.body[ENTERPRISE],
        json!({"department": "Tour Operations", "costCenter": "4130", "division": "Theme Park"})
    );

    let r = patch(
        &s,
        &path,
        json!([{"op": "remove", "path": format!("{ENTERPRISE}:department")}]),
    );
    assert_ok(&r, 4);
    assert_eq!(
        r.body[ENTERPRISE],
        json!({"costCenter": "4130", "division": "Theme Park"})
    );
    assert_eq!(snapshot(&s, &path), r.body);
}

fn add_appends_to_multi_valued_without_duplicates(backend: Backend) {
    let s = Server::start(backend);
    let u = create(
        &s,
        &json!({"schemas": [USER], "userName": "multi",
                "emails": [{"value": "multi@example.com", "type": "work"}]}),
    );
    let path = user_path(&u);

    let r = patch(
        &s,
        &path,
        json!([{"op": "add", "path": "emails", "value": [{"value": "multi@home.org", "type": "home"}]}]),
    );
    assert_ok(&r, 2);
    assert_eq!(
        r.body["emails"],
        json!([
            {"value": "multi@example.com", "type": "work"},
            {"value": "multi@home.org", "type": "home"}
        ])
    );

    // The same value again is not duplicated, and nothing changed.
    let r = patch(
        &s,
        &path,
        json!([{"op": "add", "path": "emails", "value": [{"value": "multi@home.org", "type": "home"}]}]),
    );
    assert_ok(&r, 2);
    assert_eq!(
        r.body["emails"].as_array().map(Vec::len),
        Some(2),
        "{}",
        r.text
    );

    // add on a singular attribute replaces it.
    let r = patch(
        &s,
        &path,
        json!([{"op": "add", "path": "displayName", "value": "One"},
               {"op": "add", "path": "displayName", "value": "Two"}]),
    );
    assert_ok(&r, 3);
    assert_eq!(r.body["displayName"], "Two");
}

fn add_without_path_merges_an_object_of_attributes(backend: Backend) {
    let s = Server::start(backend);
    let u = create(&s, &jensen());
    let path = user_path(&u);
    let r = patch(
        &s,
        &path,
        json!([{"op": "add", "value": {
            "title": "Manager",
            "name": {"familyName": "Smith"},
            "emails": [{"value": "babs@other.net", "type": "other"}],
        }}]),
    );
    assert_ok(&r, 2);
    assert_eq!(r.body["title"], "Manager");
    assert_eq!(
        r.body["name"],
        json!({"givenName": "Barbara", "familyName": "Smith", "middleName": "Jane"})
    );
    assert_eq!(
        r.body["emails"].as_array().map(Vec::len),
        Some(3),
        "{}",
        r.text
    );
    assert_eq!(
        of_type(&r.body, "emails", "other"),
        vec![&json!({"value": "babs@other.net", "type": "other"})]
    );
    assert_eq!(r.body["userName"], "bjensen");
}

fn replace_of_multi_valued_replaces_the_list(backend: Backend) {
    let s = Server::start(backend);
    let u = create(&s, &jensen());
    let path = user_path(&u);
    let r = patch(
        &s,
        &path,
        json!([{"op": "replace", "path": "emails", "value": [{"value": "only@example.com", "type": "work"}]}]),
    );
    assert_ok(&r, 2);
    assert_eq!(
        r.body["emails"],
        json!([{"value": "only@example.com", "type": "work"}])
    );
    assert_eq!(snapshot(&s, &path)["emails"], r.body["emails"]);
}

fn at_most_one_primary(backend: Backend) {
    let s = Server::start(backend);
    let u = create(&s, &jensen());
    let path = user_path(&u);

    let r = patch(
        &s,
        &path,
        json!([{"op": "add", "path": "emails", "value": [{"value": "babs@other.net", "type": "other", "primary": true}]}]),
    );
    assert_ok(&r, 2);
    let primaries = |b: &Value| -> Vec<String> {
        b["emails"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["primary"] == true)
            .map(|e| e["value"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(primaries(&r.body), ["babs@other.net"], "{}", r.text);
    assert_eq!(
        of_type(&r.body, "emails", "work")[0]["primary"],
        false,
        "{}",
        r.text
    );

    // Setting primary on the home address through a filter clears it on the others.
    let r = patch(
        &s,
        &path,
        json!([{"op": "replace", "path": r#"emails[type eq "home"].primary"#, "value": true}]),
    );
    assert_ok(&r, 3);
    assert_eq!(primaries(&r.body), ["babs@jensen.org"], "{}", r.text);
    assert_eq!(of_type(&r.body, "emails", "other")[0]["primary"], false);
    assert_eq!(of_type(&r.body, "emails", "work")[0]["primary"], false);
    assert_eq!(snapshot(&s, &path)["emails"], r.body["emails"]);
}

fn remove_semantics(backend: Backend) {
    let s = Server::start(backend);
    let u = create(&s, &jensen());
    let path = user_path(&u);
    let before = snapshot(&s, &path);

    patch(&s, &path, json!([{"op": "remove"}])).assert_error(400, Some("noTarget"));
    patch(&s, &path, json!([{"op": "remove", "path": "userName"}]))
        .assert_error(400, Some("invalidValue"));
    assert_eq!(snapshot(&s, &path), before);

    let r = patch(
        &s,
        &path,
        json!([{"op": "remove", "path": "title"}, {"op": "remove", "path": "emails"}]),
    );
    assert_ok(&r, 2);
    assert!(r.body.get("title").is_none(), "{}", r.text);
    assert!(r.body.get("emails").is_none(), "{}", r.text);
    let got = snapshot(&s, &path);
    assert!(got.get("title").is_none(), "{got}");
    assert!(got.get("emails").is_none(), "{got}");

    // Removing what is already absent changes nothing.
    let r = patch(&s, &path, json!([{"op": "remove", "path": "title"}]));
    assert_ok(&r, 2);
}

fn read_only_paths_are_mutability_errors(backend: Backend) {
    let s = Server::start(backend);
    let u = s.create_user("readonly");
    let g = s.create_group("Watchers", &[]);
    let path = user_path(&u);
    let before = snapshot(&s, &path);
    let ops = [
        json!({"op": "replace", "path": "id", "value": MISSING}),
        json!({"op": "remove", "path": "id"}),
        json!({"op": "replace", "path": "meta", "value": {"version": "W/\"9\""}}),
        json!({"op": "add", "path": "groups", "value": [{"value": g["id"]}]}),
        json!({"op": "remove", "path": "groups"}),
    ];
    for op in ops {
        let r = patch(&s, &path, json!([op]));
        assert_eq!(r.status, 400, "{op}: {}", r.text);
        r.assert_error(400, Some("mutability"));
    }
    assert_eq!(snapshot(&s, &path), before);
    let gpath = group_path(&g);
    patch(
        &s,
        &gpath,
        json!([{"op": "replace", "path": "id", "value": MISSING}]),
    )
    .assert_error(400, Some("mutability"));
    assert_eq!(snapshot(&s, &gpath)["meta"]["version"], version(1));

    // id and meta inside a no-path value are echoes, ignored.
    let r = patch(
        &s,
        &path,
        json!([{"op": "replace", "value": {
            "id": u["id"],
            "meta": {"resourceType": "User", "version": "W/\"99\""},
            "displayName": "Read Only",
        }}]),
    );
    assert_ok(&r, 2);
    assert_eq!(r.body["id"], u["id"]);
    assert_eq!(r.body["displayName"], "Read Only");
    assert_eq!(r.body["meta"]["created"], u["meta"]["created"]);
}

fn type_and_path_errors(backend: Backend) {
    let s = Server::start(backend);
    let u = create(&s, &jensen());
    let path = user_path(&u);
    let before = snapshot(&s, &path);
    let invalid_value = [
        json!({"op": "replace", "path": "active", "value": 7}),
        json!({"op": "replace", "path": "active", "value": "perhaps"}),
        json!({"op": "replace", "path": "name.givenName", "value": 5}),
        json!({"op": "replace", "path": "userName", "value": null}),
    ];
    for op in invalid_value {
        let r = patch(&s, &path, json!([op]));
        assert_eq!(r.status, 400, "{op}: {}", r.text);
        r.assert_error(400, Some("invalidValue"));
    }
    let invalid_path = [
        json!({"op": "replace", "path": "noSuchAttribute", "value": "x"}),
        json!({"op": "add", "path": "noSuchAttribute", "value": "x"}),
        json!({"op": "replace", "path": "name.noSuchPart", "value": "x"}),
        json!({"op": "replace", "path": format!("{ENTERPRISE}:noSuchAttribute"), "value": "x"}),
        json!({"op": "replace", "path": "emails[type eq", "value": "x"}),
        json!({"op": "remove", "path": "emails[type eq"}),
    ];
    for op in invalid_path {
        let r = patch(&s, &path, json!([op]));
        assert_eq!(r.status, 400, "{op}: {}", r.text);
        r.assert_error(400, Some("invalidPath"));
    }
    assert_eq!(snapshot(&s, &path), before);
}

fn a_failing_operation_rolls_back_the_whole_request(backend: Backend) {
    let s = Server::start(backend);
    let u = create(&s, &jensen());
    let path = user_path(&u);
    let before = snapshot(&s, &path);
    // Each request's last operation fails, after others that would have succeeded.
    let failing = [
        (
            json!({"op": "replace", "path": "active", "value": 7}),
            "invalidValue",
        ),
        (
            json!({"op": "replace", "path": r#"emails[type eq "pager"].value"#, "value": "x@y.z"}),
            "noTarget",
        ),
        (json!({"op": "remove", "path": "userName"}), "invalidValue"),
        (
            json!({"op": "replace", "path": "id", "value": "x"}),
            "mutability",
        ),
    ];
    for (last, scim_type) in failing {
        let r = patch(
            &s,
            &path,
            json!([
                {"op": "replace", "path": "displayName", "value": "Changed"},
                {"op": "add", "path": "emails", "value": [{"value": "new@example.com", "type": "other"}]},
                {"op": "remove", "path": "title"},
                {"op": "replace", "path": format!("{ENTERPRISE}:department"), "value": "Changed"},
                last,
            ]),
        );
        r.assert_error(400, Some(scim_type));
        assert_eq!(snapshot(&s, &path), before);
    }

    // Groups too: a valid member then an unknown one adds neither.
    let a = s.create_user("rollback-a");
    let g = s.create_group("Rollback", &[]);
    let gpath = group_path(&g);
    let r = patch(
        &s,
        &gpath,
        json!([
            {"op": "replace", "path": "displayName", "value": "Rolled"},
            {"op": "add", "path": "members", "value": [{"value": a["id"]}]},
            {"op": "add", "path": "members", "value": [{"value": MISSING}]},
        ]),
    );
    r.assert_error(400, Some("invalidValue"));
    let got = snapshot(&s, &gpath);
    assert_eq!(got["displayName"], "Rollback");
    assert_eq!(got["meta"]["version"], version(1));
    assert!(member_ids(&got).is_empty(), "{got}");
    let ua = snapshot(&s, &user_path(&a));
    assert!(ua["groups"].as_array().is_none_or(Vec::is_empty), "{ua}");
}

fn group_membership(backend: Backend) {
    let s = Server::start(backend);
    let a = s.create_user("member-a");
    let b = s.create_user("member-b");
    let c = s.create_user("member-c");
    let g = s.create_group("Members", &[]);
    let path = group_path(&g);

    let r = patch(
        &s,
        &path,
        json!([{"op": "add", "path": "members", "value": [{"value": a["id"]}, {"value": b["id"]}]}]),
    );
    let got = assert_group_ok(&s, &path, &r, 2);
    assert_eq!(member_ids(&got), sorted(&[&a, &b]));
    let member_a = got["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["value"] == a["id"])
        .unwrap();
    assert_eq!(
        member_a,
        &json!({"value": a["id"], "$ref": format!("{}/Users/{}", s.scim(), id(&a)), "type": "User"})
    );

    // The user shows the group as a direct membership.
    let ua = snapshot(&s, &user_path(&a));
    assert_eq!(
        ua["groups"],
        json!([{
            "value": g["id"],
            "$ref": format!("{}/Groups/{}", s.scim(), id(&g)),
            "display": "Members",
            "type": "direct",
        }])
    );

    // Adding an existing member again changes nothing.
    let r = patch(
        &s,
        &path,
        json!([{"op": "add", "path": "members", "value": [{"value": a["id"]}]}]),
    );
    let got = assert_group_ok(&s, &path, &r, 2);
    assert_eq!(member_ids(&got), sorted(&[&a, &b]));

    // Removing a non-member changes nothing.
    let r = patch(
        &s,
        &path,
        json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", id(&c))}]),
    );
    let got = assert_group_ok(&s, &path, &r, 2);
    assert_eq!(member_ids(&got), sorted(&[&a, &b]));

    let r = patch(
        &s,
        &path,
        json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", id(&a))}]),
    );
    let got = assert_group_ok(&s, &path, &r, 3);
    assert_eq!(member_ids(&got), vec![id(&b)]);
    let ua = snapshot(&s, &user_path(&a));
    assert!(ua["groups"].as_array().is_none_or(Vec::is_empty), "{ua}");

    let r = patch(
        &s,
        &path,
        json!([{"op": "replace", "path": "members", "value": [{"value": a["id"]}, {"value": c["id"]}]}]),
    );
    let got = assert_group_ok(&s, &path, &r, 4);
    assert_eq!(member_ids(&got), sorted(&[&a, &c]));
    let ub = snapshot(&s, &user_path(&b));
    assert!(ub["groups"].as_array().is_none_or(Vec::is_empty), "{ub}");

    let r = patch(&s, &path, json!([{"op": "remove", "path": "members"}]));
    let got = assert_group_ok(&s, &path, &r, 5);
    assert!(member_ids(&got).is_empty(), "{}", got);
    let got = snapshot(&s, &path);
    assert!(member_ids(&got).is_empty(), "{got}");
    let uc = snapshot(&s, &user_path(&c));
    assert!(uc["groups"].as_array().is_none_or(Vec::is_empty), "{uc}");
    // A client that wants the group back asks for it.
    let r = s
        .req("PATCH", &path)
        .header("Prefer", "return=representation")
        .json(&body(
            json!([{"op": "add", "path": "members", "value": [{"value": a["id"]}]}]),
        ));
    assert_ok(&r, 6);
    assert_eq!(member_ids(&r.body), vec![id(&a)]);
}

fn invalid_members_change_nothing(backend: Backend) {
    let s = Server::start(backend);
    let a = s.create_user("valid");
    let g = s.create_group("Guarded", &[&id(&a)]);
    let path = group_path(&g);
    let before = snapshot(&s, &path);
    for bad in [
        json!([{"value": MISSING}]),
        json!([{"value": uuid::Uuid::new_v4().to_string()}]),
        json!([{"value": "not-an-id"}]),
    ] {
        for op in ["add", "replace"] {
            let r = patch(
                &s,
                &path,
                json!([{"op": op, "path": "members", "value": bad}]),
            );
            assert_eq!(r.status, 400, "{op} {bad}: {}", r.text);
            r.assert_error(400, Some("invalidValue"));
            assert_eq!(snapshot(&s, &path), before);
        }
    }
}

fn rename_onto_a_taken_display_name_is_409(backend: Backend) {
    let s = Server::start(backend);
    s.create_group("Sales", &[]);
    let g = s.create_group("Marketing", &[]);
    let path = group_path(&g);
    let r = patch(
        &s,
        &path,
        json!([{"op": "replace", "path": "displayName", "value": "Sales"}]),
    );
    r.assert_error(409, Some("uniqueness"));
    let r = patch(
        &s,
        &path,
        json!([{"op": "replace", "value": {"id": g["id"], "displayName": "SALES"}}]),
    );
    r.assert_error(409, Some("uniqueness"));
    let got = snapshot(&s, &path);
    assert_eq!(got["displayName"], "Marketing");
    assert_eq!(got["meta"]["version"], version(1));
}

fn if_match_preconditions(backend: Backend) {
    let s = Server::start(backend);
    let u = s.create_user("preconditions");
    let path = user_path(&u);
    let ops = body(json!([{"op": "replace", "path": "title", "value": "First"}]));

    let r = s
        .req("PATCH", &path)
        .header("If-Match", &version(7))
        .json(&ops);
    r.assert_error(412, None);
    assert!(snapshot(&s, &path).get("title").is_none());

    let r = s
        .req("PATCH", &path)
        .header("If-Match", &version(1))
        .json(&ops);
    assert_ok(&r, 2);
    assert_eq!(r.body["title"], "First");

    // The version it replaced is now stale.
    let r = s
        .req("PATCH", &path)
        .header("If-Match", &version(1))
        .json(&body(
            json!([{"op": "replace", "path": "title", "value": "Second"}]),
        ));
    r.assert_error(412, None);
    let got = snapshot(&s, &path);
    assert_eq!(got["title"], "First");
    assert_eq!(got["meta"]["version"], version(2));
}

fn concurrent_member_adds_are_all_applied(backend: Backend) {
    let s = Server::start(backend);
    let users: Vec<String> = (0..20)
        .map(|i| id(&s.create_user(&format!("racer{i}"))))
        .collect();
    let g = s.create_group("Crowd", &[]);
    let path = group_path(&g);
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = users
            .iter()
            .map(|uid| {
                let (s, path) = (&s, &path);
                scope.spawn(move || {
                    patch(
                        s,
                        path,
                        json!([{"op": "add", "path": "members", "value": [{"value": uid}]}]),
                    )
                    .status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(statuses.iter().all(|&st| st == 204), "{statuses:?}");
    let got = s.get(&path);
    let mut expected = users.clone();
    expected.sort();
    assert_eq!(member_ids(&got.body), expected, "{}", got.text);
    assert_eq!(got.header("etag"), Some(version(21).as_str()));
}

fn concurrent_patches_with_one_if_match_have_one_winner(backend: Backend) {
    let s = Server::start(backend);
    let u = s.create_user("contested");
    let path = user_path(&u);
    for round in 1..=5_u32 {
        let barrier = Barrier::new(2);
        let mut statuses: Vec<u16> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..2)
                .map(|i| {
                    let (s, path, barrier) = (&s, &path, &barrier);
                    scope.spawn(move || {
                        let req = s.req("PATCH", path).header("If-Match", &version(round));
                        barrier.wait();
                        req.json(&body(json!([
                            {"op": "replace", "path": "title", "value": format!("r{round}-{i}")}
                        ])))
                        .status
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 412], "round {round}");
        assert_eq!(
            s.get(&path).header("etag"),
            Some(version(round + 1).as_str())
        );
    }
}

fn service_provider_config_advertises_patch(backend: Backend) {
    let s = Server::start(backend);
    let r = s.get("/ServiceProviderConfig");
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["patch"]["supported"], true, "{}", r.text);
}

/// Okta deactivates with a no-path `replace` ("Update a specific User (PATCH)").
fn okta_deactivates_a_user_with_a_no_path_replace(backend: Backend) {
    let s = Server::start(backend);
    let u = create(
        &s,
        &json!({"schemas": [USER], "userName": "test.user@okta.local", "active": true}),
    );
    let path = user_path(&u);
    let r = s.req("PATCH", &path).json(&json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": false}}]
    }));
    assert_ok(&r, 2);
    assert_eq!(r.body["active"], false);
    assert_eq!(snapshot(&s, &path)["active"], false);

    // Reactivation is the same shape.
    let r = patch(
        &s,
        &path,
        json!([{"op": "replace", "value": {"active": true}}]),
    );
    assert_ok(&r, 3);
    assert_eq!(r.body["active"], true);
}

/// Okta renames a group with a no-path `replace` that echoes the group's id.
fn okta_renames_a_group_echoing_its_id(backend: Backend) {
    let s = Server::start(backend);
    let a = s.create_user("okta-member");
    let g = s.create_group("Test SCIMv2 old", &[&id(&a)]);
    let path = group_path(&g);
    let r = s.req("PATCH", &path).json(&json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"id": g["id"], "displayName": "Test SCIMv2"}}]
    }));
    let got = assert_group_ok(&s, &path, &r, 2);
    assert_eq!(got["id"], g["id"]);
    assert_eq!(got["displayName"], "Test SCIMv2");
    // Renaming leaves the members alone.
    assert_eq!(member_ids(&got), vec![id(&a)]);
    let ua = snapshot(&s, &user_path(&a));
    assert_eq!(ua["groups"][0]["display"], "Test SCIMv2", "{ua}");
}

/// Okta adds members with `value` and `display`, and removes one with a value filter.
fn okta_adds_and_removes_members(backend: Backend) {
    let s = Server::start(backend);
    let a = s.create_user("test.user@okta.local");
    let b = s.create_user("other.user@okta.local");
    let g = s.create_group("Okta Group", &[]);
    let path = group_path(&g);

    let r = s.req("PATCH", &path).json(&json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{
            "op": "add",
            "path": "members",
            "value": [
                {"value": a["id"], "display": "test.user@okta.local"},
                {"value": b["id"], "display": "other.user@okta.local"}
            ]
        }]
    }));
    let got = assert_group_ok(&s, &path, &r, 2);
    assert_eq!(member_ids(&got), sorted(&[&a, &b]));

    let r = s.req("PATCH", &path).json(&json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "remove", "path": format!("members[value eq \"{}\"]", id(&a))}]
    }));
    let got = assert_group_ok(&s, &path, &r, 3);
    assert_eq!(member_ids(&got), vec![id(&b)]);
    assert_eq!(member_ids(&snapshot(&s, &path)), vec![id(&b)]);
}

/// Entra's "Update User [Multi-valued properties]", "[Single-valued properties]" and
/// "Disable User" requests.
fn entra_updates_user_attributes(backend: Backend) {
    let s = Server::start(backend);
    let u = create(
        &s,
        &json!({
            "schemas": [USER, ENTERPRISE],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
            "active": true,
            "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
            "roles": []
        }),
    );
    let path = user_path(&u);

    let r = s.req("PATCH", &path).json(&json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}
        ]
    }));
    assert_ok(&r, 2);
    assert_eq!(
        r.body["emails"],
        json!([{"primary": true, "type": "work", "value": "updatedEmail@microsoft.com"}])
    );
    assert_eq!(
        r.body["name"],
        json!({"formatted": "givenName familyName", "familyName": "updatedFamilyName", "givenName": "givenName"})
    );

    let r = s.req("PATCH", &path).json(&json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": "userName", "value": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"}]
    }));
    assert_ok(&r, 3);
    assert_eq!(
        r.body["userName"],
        "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"
    );

    let r = s.req("PATCH", &path).json(&json!({
        "Operations": [{"op": "Replace", "path": "active", "value": false}],
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]
    }));
    assert_ok(&r, 4);
    assert_eq!(r.body["active"], false);
    let got = snapshot(&s, &path);
    assert_eq!(got["active"], false);
    assert_eq!(
        got["userName"],
        "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"
    );
}

/// Entra without `aadOptscim062020` sends booleans as strings.
fn entra_boolean_strings(backend: Backend) {
    let s = Server::start(backend);
    let u = s.create_user("entra-bools");
    let path = user_path(&u);
    let r = patch(
        &s,
        &path,
        json!([{"op": "Replace", "path": "active", "value": "False"}]),
    );
    assert_ok(&r, 2);
    assert_eq!(r.body["active"], false);
    let r = patch(
        &s,
        &path,
        json!([{"op": "Replace", "path": "active", "value": "True"}]),
    );
    assert_ok(&r, 3);
    assert_eq!(r.body["active"], true);
    // The same inside a no-path value, and "True" when already true changes nothing.
    let r = patch(
        &s,
        &path,
        json!([{"op": "Replace", "value": {"active": "True"}}]),
    );
    assert_ok(&r, 3);
    assert_eq!(snapshot(&s, &path)["active"], true);
}

/// Entra sends `Add` with a value-filtered path for an element that may not exist yet.
fn entra_add_on_an_unmatched_filter_creates_the_element(backend: Backend) {
    let s = Server::start(backend);
    let u = s.create_user("entra-add");
    let path = user_path(&u);
    let r = s.req("PATCH", &path).json(&json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {"op": "Replace", "path": "title", "value": "tester"},
            {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "a@b.c"},
            {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555 0100"},
            {"op": "Add", "path": "addresses[type eq \"work\"].streetAddress", "value": "1 Main St"},
            {"op": "Add", "path": "addresses[type eq \"work\"].locality", "value": "Springfield"}
        ]
    }));
    assert_ok(&r, 2);
    assert_eq!(r.body["title"], "tester");
    assert_eq!(
        r.body["emails"],
        json!([{"type": "work", "value": "a@b.c"}])
    );
    assert_eq!(
        r.body["phoneNumbers"],
        json!([{"type": "mobile", "value": "+1 555 0100"}])
    );
    assert_eq!(
        r.body["addresses"],
        json!([{"type": "work", "streetAddress": "1 Main St", "locality": "Springfield"}])
    );

    // Once it exists, the same Add changes that element instead of appending another.
    let r = patch(
        &s,
        &path,
        json!([{"op": "Add", "path": "emails[type eq \"work\"].value", "value": "new@b.c"}]),
    );
    assert_ok(&r, 3);
    assert_eq!(
        r.body["emails"],
        json!([{"type": "work", "value": "new@b.c"}])
    );
    // And with the value it already has, nothing changes.
    let r = patch(
        &s,
        &path,
        json!([{"op": "Add", "path": "emails[type eq \"work\"].value", "value": "new@b.c"}]),
    );
    assert_ok(&r, 3);
    assert_eq!(snapshot(&s, &path)["emails"], r.body["emails"]);
}

/// Entra sends the enterprise manager as a bare id string.
fn entra_manager_as_a_bare_id(backend: Backend) {
    let s = Server::start(backend);
    let boss = s.create_user("boss");
    let u = s.create_user("report");
    let path = user_path(&u);
    let r = s.req("PATCH", &path).json(&json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{
            "op": "Add",
            "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            "value": boss["id"]
        }]
    }));
    assert_ok(&r, 2);
    assert_eq!(r.body[ENTERPRISE]["manager"], json!({"value": boss["id"]}));
    assert_eq!(r.body["schemas"], json!([USER, ENTERPRISE]));
    let got = snapshot(&s, &path);
    assert_eq!(got[ENTERPRISE]["manager"], json!({"value": boss["id"]}));

    // Replace with the same bare id changes nothing.
    let r = patch(
        &s,
        &path,
        json!([{"op": "Replace", "path": format!("{ENTERPRISE}:manager"), "value": boss["id"]}]),
    );
    assert_ok(&r, 2);
}

/// Entra's no-path `Replace` whose keys are dotted paths and URN-qualified attributes.
fn entra_no_path_replace_with_dotted_and_urn_keys(backend: Backend) {
    let s = Server::start(backend);
    let u = create(
        &s,
        &json!({"schemas": [USER], "userName": "entra-keys", "active": true,
                "name": {"givenName": "Old", "familyName": "Family"}}),
    );
    let path = user_path(&u);
    let r = s.req("PATCH", &path).json(&json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{
            "op": "Replace",
            "value": {
                "name.givenName": "X",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Y",
                "active": false
            }
        }]
    }));
    assert_ok(&r, 2);
    assert_eq!(
        r.body["name"],
        json!({"givenName": "X", "familyName": "Family"})
    );
    assert_eq!(r.body[ENTERPRISE]["department"], "Y");
    assert_eq!(r.body["active"], false);
    assert_eq!(r.body["schemas"], json!([USER, ENTERPRISE]));
    assert!(r.body.get("name.givenName").is_none(), "{}", r.text);
    assert_eq!(snapshot(&s, &path), r.body);
}

/// Entra's "Update Group [Add Members]", "[Remove Members]" and "[Non-member attributes]".
fn entra_group_member_forms(backend: Backend) {
    let s = Server::start(backend);
    let a = s.create_user("entra-a");
    let b = s.create_user("entra-b");
    let c = s.create_user("entra-c");
    let r = s.post(
        "/Groups",
        &json!({
            "schemas": [GROUP],
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "displayName",
            "meta": {"resourceType": "Group"}
        }),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let g = r.body;
    let path = group_path(&g);

    let r = s.req("PATCH", &path).json(&json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{
            "op": "Add",
            "path": "members",
            "value": [
                {"$ref": null, "value": a["id"]},
                {"$ref": null, "value": b["id"]},
                {"$ref": null, "value": c["id"]}
            ]
        }]
    }));
    let got = assert_group_ok(&s, &path, &r, 2);
    assert_eq!(member_ids(&got), sorted(&[&a, &b, &c]));

    // Entra reads groups without their members.
    let r = s.get(&format!("{path}?excludedAttributes=members"));
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body.get("members").is_none(), "{}", r.text);
    assert_eq!(r.body["displayName"], "displayName");

    // Remove with a value list removes only those members.
    let r = s.req("PATCH", &path).json(&json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{
            "op": "Remove",
            "path": "members",
            "value": [{"$ref": null, "value": a["id"]}, {"$ref": null, "value": c["id"]}]
        }]
    }));
    let got = assert_group_ok(&s, &path, &r, 3);
    assert_eq!(member_ids(&got), vec![id(&b)]);
    let ua = snapshot(&s, &user_path(&a));
    assert!(ua["groups"].as_array().is_none_or(Vec::is_empty), "{ua}");

    let r = s.req("PATCH", &path).json(&json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": "displayName", "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}]
    }));
    let got = assert_group_ok(&s, &path, &r, 4);
    assert_eq!(
        got["displayName"],
        "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"
    );
    assert_eq!(member_ids(&got), vec![id(&b)]);
    let ub = snapshot(&s, &user_path(&b));
    assert_eq!(ub["groups"][0]["type"], "direct", "{ub}");
    assert_eq!(
        ub["groups"][0]["display"], "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName",
        "{ub}"
    );
}
