//! Tenant-defined schema extensions: declared over `/admin/v1/extensions` (and the CLI), held
//! in typed columns, and then used like EnterpriseUser by that tenant only: discovery,
//! validation, filtering, sorting, PATCH, projection, uniqueness, removal.

use serde_json::{Value, json};

use crate::backends;
use crate::cli::{cli_ok, token, with};
use crate::harness::{Backend, GROUP, Process, Resp, Server, USER, admin};

backends!(
    a_declared_extension_is_visible_to_its_tenant_only,
    invalid_declarations_are_refused_with_reasons,
    values_are_typed_and_filter_with_every_operator,
    extension_attributes_sort_patch_and_project,
    uniqueness_is_enforced_case_folded_by_the_database,
    removing_an_attribute_or_extension_removes_its_values,
    a_second_process_sees_a_new_attribute_at_once,
    groups_take_extensions_too,
    the_cli_applies_and_lists_extensions,
    bulk_operations_carry_extension_values,
    characteristics_of_extension_attributes_are_enforced,
    edge_values_urn_case_and_paging,
    removing_an_attribute_while_writers_set_it_leaves_no_orphan,
    multi_valued_attributes_match_on_any_value,
    extension_filters_page_in_creation_order,
    tables_made_before_created_was_kept_are_upgraded_at_start,
);

const ACME: &str = "urn:example:acme:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn declare(s: &Server, kind: &str, urn: &str, attributes: Value) -> Resp {
    s.put(
        &format!("//admin/v1/extensions/{kind}/{urn}"),
        &json!({ "attributes": attributes }),
    )
}

/// The extension most tests use: one attribute of every type.
fn declare_acme(s: &Server) {
    let r = declare(
        s,
        "User",
        ACME,
        json!([
            {"name": "costCenter", "type": "string"},
            {"name": "badge", "type": "integer", "uniqueness": "server"},
            {"name": "rate", "type": "decimal"},
            {"name": "contractor", "type": "boolean"},
            {"name": "hired", "type": "dateTime"},
            {"name": "code", "type": "string", "caseExact": true},
            {"name": "profile", "type": "reference", "referenceTypes": ["external"]}
        ]),
    );
    assert_eq!(r.status, 201, "{}", r.text);
}

fn user(name: &str, acme: Value) -> Value {
    json!({"schemas": [USER, ACME], "userName": name, ACME: acme})
}

fn create(s: &Server, name: &str, acme: Value) -> String {
    let r = s.post("/Users", &user(name, acme));
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["id"].as_str().unwrap().to_owned()
}

/// The userNames a filter (and optional extra query) returns, in order.
fn names(s: &Server, filter: &str, extra: &str) -> Vec<String> {
    let q = format!(
        "/Users?filter={}&attributes=userName{extra}",
        urlencode(filter)
    );
    let r = s.get(&q);
    assert_eq!(r.status, 200, "{filter}: {}", r.text);
    r.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userName"].as_str().unwrap().to_owned())
        .collect()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn a_declared_extension_is_visible_to_its_tenant_only(backend: Backend) {
    let s = Server::start(backend);
    declare_acme(&s);
    // Declaring again extends: existing attributes stay, new ones join; 200, not 201.
    let r = declare(
        &s,
        "User",
        ACME,
        json!([{"name": "floor", "type": "integer", "description": "Office floor"}]),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["id"], ACME);
    assert_eq!(r.body["resourceType"], "User");
    let names: Vec<&str> = r.body["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 8);
    assert!(names.contains(&"costCenter") && names.contains(&"floor"));

    // The tenant's discovery lists it, with meta.
    let schemas = s.get("/Schemas");
    assert_eq!(schemas.body["totalResults"], 4);
    let doc = s.get(&format!("/Schemas/{ACME}"));
    assert_eq!(doc.status, 200);
    assert_eq!(doc.body["meta"]["resourceType"], "Schema");
    assert_eq!(doc.body["attributes"][0]["name"], "costCenter");
    assert_eq!(doc.body["attributes"][0]["caseExact"], false);
    assert_eq!(doc.body["attributes"][1]["uniqueness"], "server");
    let rt = s.get("/ResourceTypes/User");
    assert!(
        rt.body["schemaExtensions"]
            .as_array()
            .unwrap()
            .contains(&json!({"schema": ACME, "required": false}))
    );
    let listed = s.get("//admin/v1/extensions");
    assert_eq!(listed.body["totalResults"], 1);
    assert_eq!(listed.body["Resources"][0]["id"], ACME);
    assert_eq!(
        s.get(&format!("//admin/v1/extensions/User/{ACME}")).status,
        200
    );

    // Anonymous discovery and another tenant see only the built-in schemas.
    assert_eq!(s.raw("GET", "/Schemas").send().body["totalResults"], 3);
    cli_ok(&s, &["tenant", "create", "other"]);
    let (other, _) = token(
        &s,
        "other",
        &["--scope", "scim:read", "--scope", "scim:write"],
    );
    assert_eq!(
        with(&s, &other, "GET", "/Schemas").send().body["totalResults"],
        3
    );
    with(&s, &other, "GET", &format!("/Schemas/{ACME}"))
        .send()
        .assert_error(404, None);
    let rt = with(&s, &other, "GET", "/ResourceTypes/User").send();
    assert_eq!(rt.body["schemaExtensions"].as_array().unwrap().len(), 1);
    // ... and cannot use it: not in its schemas, not filterable.
    with(&s, &other, "POST", "/Users")
        .json(&user("x", json!({"costCenter": "A"})))
        .assert_error(400, Some("invalidValue"));
    with(
        &s,
        &other,
        "GET",
        &format!("/Users?filter={}", urlencode(&format!("{ACME}:badge eq 1"))),
    )
    .send()
    .assert_error(400, Some("invalidFilter"));
    // A token without the admin scope cannot declare (403), nor list.
    let r = with(
        &s,
        &other,
        "PUT",
        &format!("//admin/v1/extensions/User/{ACME}"),
    )
    .json(&json!({"attributes": [{"name": "a", "type": "string"}]}));
    r.assert_error(403, None);
    with(&s, &other, "GET", "//admin/v1/extensions")
        .send()
        .assert_error(403, None);
    // The other tenant may declare the same URN with other types, independently.
    let (admin, _) = token(&s, "other", &["--scope", "admin", "--scope", "scim:write"]);
    let r = with(
        &s,
        &admin,
        "PUT",
        &format!("//admin/v1/extensions/User/{ACME}"),
    )
    .json(&json!({"attributes": [{"name": "badge", "type": "string"}]}));
    assert_eq!(r.status, 201, "{}", r.text);
    let r = with(&s, &admin, "POST", "/Users").json(&user("x", json!({"badge": "B-1"})));
    assert_eq!(r.status, 201, "{}", r.text);
    // The first tenant's badge is still an integer.
    s.post("/Users", &user("y", json!({"badge": "B-1"})))
        .assert_error(400, Some("invalidValue"));
}

fn invalid_declarations_are_refused_with_reasons(backend: Backend) {
    let s = Server::start(backend);
    declare_acme(&s);
    let cases = [
        (
            "urn:nope",
            json!([{"name": "a", "type": "string"}]),
            "not a schema URN",
        ),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            json!([{"name": "a", "type": "string"}]),
            "reserved",
        ),
        (
            "urn:x:y",
            json!([{"name": "id", "type": "string"}]),
            "reserved",
        ),
        (
            "urn:x:y",
            json!([{"name": "9a", "type": "string"}]),
            "not an attribute name",
        ),
        (
            "urn:x:y",
            json!([{"name": "a", "type": "money"}]),
            "unknown type",
        ),
        (
            "urn:x:y",
            json!([{"name": "a", "type": "string"}, {"name": "A", "type": "string"}]),
            "twice",
        ),
        ("urn:x:y", json!([]), "at least one attribute"),
        (
            ACME,
            json!([{"name": "badge", "type": "string"}]),
            "cannot change in place",
        ),
        (
            ACME,
            json!([{"name": "badge", "type": "integer", "multiValued": true}]),
            "single- and multi-valued",
        ),
        (
            "urn:x:y",
            json!([{"name": "a", "type": "string", "multiValued": true, "uniqueness": "server"}]),
            "cannot be unique",
        ),
        (
            ACME,
            json!([{"name": "costCenter", "type": "string", "caseExact": true}]),
            "cannot change in place",
        ),
    ];
    for (urn, attributes, why) in cases {
        let r = declare(&s, "User", urn, attributes.clone());
        r.assert_error(400, Some("invalidValue"));
        let detail = r.body["detail"].as_str().unwrap();
        assert!(detail.contains(why), "{urn} {attributes}: {detail}");
    }
    // Not JSON, no attributes, an unknown resource type.
    s.req("PUT", "//admin/v1/extensions/User/urn:x:y")
        .header("Content-Type", "application/json")
        .body(Some("{"))
        .assert_error(400, Some("invalidSyntax"));
    s.put("//admin/v1/extensions/User/urn:x:y", &json!({}))
        .assert_error(400, Some("invalidValue"));
    declare(
        &s,
        "Device",
        "urn:x:y",
        json!([{"name": "a", "type": "string"}]),
    )
    .assert_error(404, None);
    // The same URN cannot extend both Users and Groups.
    declare(&s, "Group", ACME, json!([{"name": "a", "type": "string"}])).assert_error(409, None);
    // Nothing of the refused declarations was kept.
    let doc = s.get(&format!("/Schemas/{ACME}"));
    assert_eq!(doc.body["attributes"].as_array().unwrap().len(), 7);
    assert_eq!(doc.body["attributes"][1]["type"], "integer");
    assert_eq!(s.get("/Schemas").body["totalResults"], 4);
}

fn values_are_typed_and_filter_with_every_operator(backend: Backend) {
    let s = Server::start(backend);
    declare_acme(&s);
    create(
        &s,
        "ann",
        json!({"costCenter": "Sales-EU", "badge": 10, "rate": 1.5, "contractor": true,
               "hired": "2020-01-01T09:00:00+01:00", "code": "AbC",
               "profile": "https://x.example/ann"}),
    );
    create(
        &s,
        "bob",
        json!({"costCenter": "sales-us", "badge": 20, "rate": 2.25, "contractor": "False",
               "hired": "2021-06-30T00:00:00Z", "code": "abc"}),
    );
    create(&s, "cid", json!({"badge": 30}));
    s.create_user("dan");

    // Wrong types are invalidValue; nothing is stored.
    for bad in [
        json!({"badge": "ten"}),
        json!({"badge": 1.5}),
        json!({"rate": "x"}),
        json!({"contractor": "maybe"}),
        json!({"hired": "yesterday"}),
        json!({"costCenter": 5}),
        json!({"costCenter": ["a"]}),
        json!({"unknown": 1}),
    ] {
        let r = s.post("/Users", &user("bad", bad.clone()));
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
    }
    assert!(names(&s, "userName eq \"bad\"", "").is_empty());

    let cases: &[(&str, &[&str])] = &[
        // caseExact false: compared folded.
        ("@costCenter eq \"SALES-EU\"", &["ann"]),
        ("@costCenter co \"LES\"", &["ann", "bob"]),
        ("@costCenter sw \"sales-u\"", &["bob"]),
        ("@costCenter ew \"-EU\"", &["ann"]),
        ("@costCenter ne \"sales-eu\"", &["bob"]),
        ("@costCenter pr", &["ann", "bob"]),
        ("@costCenter gt \"sales-f\"", &["bob"]),
        // caseExact true: exact.
        ("@code eq \"abc\"", &["bob"]),
        ("@code eq \"ABC\"", &[]),
        ("@badge eq 20", &["bob"]),
        ("@badge ge 20", &["bob", "cid"]),
        ("@badge lt 20", &["ann"]),
        ("@badge le 10.0", &["ann"]),
        ("@badge gt 19.5", &["bob", "cid"]),
        ("@badge ne 10", &["bob", "cid"]),
        ("@rate gt 2", &["bob"]),
        ("@rate le 1.5", &["ann"]),
        ("@contractor eq true", &["ann"]),
        ("@contractor eq false", &["bob"]),
        ("@contractor ne true", &["bob"]),
        ("@hired lt \"2020-01-01T08:30:00Z\"", &["ann"]),
        ("@hired ge \"2020-06-01T00:00:00+02:00\"", &["bob"]),
        ("@hired eq \"2021-06-30T02:00:00+02:00\"", &["bob"]),
        ("@profile eq \"https://x.example/ann\"", &["ann"]),
        ("@profile pr", &["ann"]),
        ("@badge eq null", &["dan"]),
        ("not (@badge pr)", &["dan"]),
        ("@badge pr and not (@rate pr)", &["cid"]),
        (
            "@badge eq 30 or @costCenter eq \"sales-eu\"",
            &["ann", "cid"],
        ),
    ];
    // `@` stands for the extension's URN prefix.
    for (filter, expected) in cases {
        let full = filter.replace('@', &format!("{ACME}:"));
        let got = names(&s, &full, "&sortBy=userName");
        assert_eq!(got, *expected, "{full}");
    }
    // The URN-less form works when unambiguous? No: extension attributes need their URN.
    let r = s.get(&format!("/Users?filter={}", urlencode("badge eq 10")));
    r.assert_error(400, Some("invalidFilter"));
    // Operators the type does not have are invalidFilter.
    for filter in ["contractor gt true", "badge co 1", "hired sw \"2020\""] {
        let r = s.get(&format!(
            "/Users?filter={}",
            urlencode(&format!("{ACME}:{filter}"))
        ));
        r.assert_error(400, Some("invalidFilter"));
    }
    // .search takes the same filters.
    let r = s.post(
        "/Users/.search",
        &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                "filter": format!("{ACME}:badge gt 15"), "attributes": ["userName"]}),
    );
    assert_eq!(r.body["totalResults"], 2);
}

fn extension_attributes_sort_patch_and_project(backend: Backend) {
    let s = Server::start(backend);
    declare_acme(&s);
    let ann = create(&s, "ann", json!({"costCenter": "b", "badge": 3}));
    create(&s, "bob", json!({"costCenter": "A", "badge": 1}));
    create(&s, "cid", json!({"costCenter": "c"}));
    s.create_user("dan");

    // Sorting: values in order (case-insensitively for caseExact false), absent ones last.
    let all = "userName pr";
    assert_eq!(
        names(&s, all, &format!("&sortBy={ACME}:costCenter")),
        ["bob", "ann", "cid", "dan"]
    );
    // Users without a value come last in either direction.
    let by_badge = names(
        &s,
        all,
        &format!("&sortBy={ACME}:badge&sortOrder=descending"),
    );
    assert_eq!(by_badge[..2], ["ann", "bob"]);
    assert_eq!(by_badge.len(), 4);

    // PATCH with URN paths: replace, add, remove; the columns follow.
    let path = format!("/Users/{ann}");
    let r = s
        .req("PATCH", &path)
        .json(&json!({"schemas": [PATCH], "Operations": [
            {"op": "replace", "path": format!("{ACME}:badge"), "value": 7},
            {"op": "add", "path": format!("{ACME}:contractor"), "value": "True"},
            {"op": "remove", "path": format!("{ACME}:costCenter")}
        ]}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body[ACME], json!({"badge": 7, "contractor": true}));
    assert_eq!(names(&s, &format!("{ACME}:badge eq 7"), ""), ["ann"]);
    assert!(names(&s, &format!("{ACME}:badge eq 3"), "").is_empty());
    assert!(names(&s, &format!("{ACME}:costCenter eq \"b\""), "").is_empty());
    // A wrong type in PATCH is invalidValue, and nothing changes.
    s.req("PATCH", &path)
        .json(&json!({"schemas": [PATCH], "Operations": [
            {"op": "replace", "path": format!("{ACME}:badge"), "value": "seven"}]}))
        .assert_error(400, Some("invalidValue"));
    // A no-path replace with the URN as key (the Entra form).
    let r = s
        .req("PATCH", &path)
        .json(&json!({"schemas": [PATCH], "Operations": [
        {"op": "replace", "value": {ACME: {"rate": 0.5}}}]}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body[ACME]["rate"], 0.5);
    assert_eq!(names(&s, &format!("{ACME}:rate lt 1"), ""), ["ann"]);

    // PUT replaces the extension: values left out are cleared, null clears too.
    let r = s.put(
        &path,
        &json!({"schemas": [USER, ACME], "userName": "ann", ACME: {"badge": 8, "rate": null}}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body[ACME], json!({"badge": 8}));
    assert!(names(&s, &format!("{ACME}:contractor pr"), "").is_empty());
    assert!(names(&s, &format!("{ACME}:rate pr"), "").is_empty());
    // PUT without the extension drops it, and its row.
    let r = s.put(&path, &json!({"schemas": [USER], "userName": "ann"}));
    assert_eq!(r.body["schemas"], json!([USER]));
    assert!(r.body.get(ACME).is_none());
    assert!(names(&s, &format!("{ACME}:badge eq 8"), "").is_empty());

    // Projection: by attribute and by whole extension.
    let bob = names(&s, "userName eq \"bob\"", "");
    assert_eq!(bob, ["bob"]);
    let r = s.get(&format!(
        "/Users?filter=userName%20eq%20%22bob%22&attributes={ACME}:badge"
    ));
    assert_eq!(r.body["Resources"][0][ACME], json!({"badge": 1}));
    assert!(r.body["Resources"][0].get("userName").is_none());
    let r = s.get(&format!(
        "/Users?filter=userName%20eq%20%22bob%22&excludedAttributes={ACME}"
    ));
    assert!(r.body["Resources"][0].get(ACME).is_none());
    assert_eq!(r.body["Resources"][0]["userName"], "bob");
}

fn uniqueness_is_enforced_case_folded_by_the_database(backend: Backend) {
    let s = Server::start(backend);
    declare_acme(&s);
    declare(
        &s,
        "User",
        ACME,
        json!([{"name": "email2", "type": "string", "uniqueness": "server"}]),
    );
    let ann = create(&s, "ann", json!({"badge": 1, "email2": "Ann@X.org"}));
    // Same badge, or the same case-insensitive string: 409 uniqueness.
    s.post("/Users", &user("bob", json!({"badge": 1})))
        .assert_error(409, Some("uniqueness"));
    s.post("/Users", &user("bob", json!({"email2": "ann@x.ORG"})))
        .assert_error(409, Some("uniqueness"));
    // Nothing of the refused user was written.
    assert!(names(&s, "userName eq \"bob\"", "").is_empty());
    let bob = create(&s, "bob", json!({"badge": 2}));
    s.req("PATCH", &format!("/Users/{bob}"))
        .json(&json!({"schemas": [PATCH], "Operations": [
            {"op": "replace", "path": format!("{ACME}:badge"), "value": 1}]}))
        .assert_error(409, Some("uniqueness"));
    // The user keeps its own value on a rewrite.
    let r = s.put(
        &format!("/Users/{ann}"),
        &user("ann", json!({"badge": 1, "email2": "ANN@x.org"})),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    // Making a column unique over duplicate values is refused; over distinct ones it works.
    create(&s, "cid", json!({"costCenter": "same"}));
    create(&s, "dan", json!({"costCenter": "SAME"}));
    declare(
        &s,
        "User",
        ACME,
        json!([{"name": "costCenter", "type": "string", "uniqueness": "server"}]),
    )
    .assert_error(409, Some("uniqueness"));
    let r = declare(
        &s,
        "User",
        ACME,
        json!([{"name": "rate", "type": "decimal", "uniqueness": "server"}]),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    create(&s, "eve", json!({"rate": 1.25}));
    s.post("/Users", &user("fay", json!({"rate": 1.25})))
        .assert_error(409, Some("uniqueness"));
    // And back to not unique.
    declare(
        &s,
        "User",
        ACME,
        json!([{"name": "rate", "type": "decimal"}]),
    );
    create(&s, "fay", json!({"rate": 1.25}));
}

fn removing_an_attribute_or_extension_removes_its_values(backend: Backend) {
    let s = Server::start(backend);
    declare_acme(&s);
    let ann = create(&s, "ann", json!({"badge": 1, "costCenter": "x"}));
    let bob = create(&s, "bob", json!({"badge": 2}));
    let before = s.get(&format!("/Users/{bob}"));

    let r = s.delete(&format!("//admin/v1/extensions/User/{ACME}/badge"));
    assert_eq!(r.status, 204, "{}", r.text);
    // ann keeps costCenter; bob's only value went, and the extension with it.
    let a = s.get(&format!("/Users/{ann}"));
    assert_eq!(a.body[ACME], json!({"costCenter": "x"}));
    let b = s.get(&format!("/Users/{bob}"));
    assert_eq!(b.body["schemas"], json!([USER]));
    assert!(b.body.get(ACME).is_none());
    assert_ne!(b.header("etag"), before.header("etag"));
    assert_ne!(
        b.body["meta"]["lastModified"], before.body["meta"]["lastModified"],
        "delta syncs by lastModified must see the change"
    );
    s.get(&format!(
        "/Users?filter={}",
        urlencode(&format!("{ACME}:badge eq 1"))
    ))
    .assert_error(400, Some("invalidFilter"));
    s.post("/Users", &user("cid", json!({"badge": 3})))
        .assert_error(400, Some("invalidSyntax"));
    // Declared again with another type, it starts empty.
    let r = declare(
        &s,
        "User",
        ACME,
        json!([{"name": "badge", "type": "string"}]),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(names(&s, &format!("{ACME}:badge pr"), "").is_empty());
    create(&s, "cid", json!({"badge": "B-3"}));
    assert_eq!(names(&s, &format!("{ACME}:badge eq \"b-3\""), ""), ["cid"]);

    // Unknown attribute or extension: 404.
    s.delete(&format!("//admin/v1/extensions/User/{ACME}/nope"))
        .assert_error(404, None);
    s.delete("//admin/v1/extensions/User/urn:x:none")
        .assert_error(404, None);

    // Removing the whole extension removes it from every resource and from discovery.
    assert_eq!(
        s.delete(&format!("//admin/v1/extensions/User/{ACME}"))
            .status,
        204
    );
    for id in [&ann, &bob] {
        let u = s.get(&format!("/Users/{id}"));
        assert_eq!(u.body["schemas"], json!([USER]), "{}", u.text);
        assert!(u.body.get(ACME).is_none());
    }
    assert_eq!(s.get("/Schemas").body["totalResults"], 3);
    assert!(
        s.get("//admin/v1/extensions").body["Resources"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // The users themselves are intact, and deleting one still works.
    assert_eq!(s.delete(&format!("/Users/{ann}")).status, 204);
    // The audit trail names the schema changes and who made them.
    let audit = s.get(&format!("//admin/v1/audit?resource={ACME}"));
    let actions: Vec<&str> = audit.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["declare", "remove", "declare", "remove"]);
}

fn a_second_process_sees_a_new_attribute_at_once(backend: Backend) {
    let s = Server::start(backend);
    let other = Process::spawn(&s);
    // The second process has served this tenant before the declaration.
    assert_eq!(other.request("GET", "/Users", &[], None).status, 200);
    declare_acme(&s);
    let r = other.request(
        "POST",
        "/Users",
        &[],
        Some(&user("ann", json!({"badge": 5}))),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let r = other.request(
        "GET",
        &format!("/Users?filter={}", urlencode(&format!("{ACME}:badge eq 5"))),
        &[],
        None,
    );
    assert_eq!(r.body["totalResults"], 1, "{}", r.text);
    let r = other.request("GET", &format!("/Schemas/{ACME}"), &[], None);
    assert_eq!(r.status, 200);
    // And a removal at once too.
    s.delete(&format!("//admin/v1/extensions/User/{ACME}/badge"));
    let r = other.request(
        "POST",
        "/Users",
        &[],
        Some(&user("bob", json!({"badge": 6}))),
    );
    assert_eq!(r.status, 400, "{}", r.text);
}

fn groups_take_extensions_too(backend: Backend) {
    let s = Server::start(backend);
    const TEAM: &str = "urn:example:acme:2.0:Group";
    let r = declare(
        &s,
        "Group",
        TEAM,
        json!([
            {"name": "budget", "type": "integer"},
            {"name": "site", "type": "string"},
            {"name": "code", "type": "string", "uniqueness": "server"}
        ]),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let rt = s.get("/ResourceTypes/Group");
    assert_eq!(rt.body["schemaExtensions"][0]["schema"], TEAM);
    let r = s.post(
        "/Groups",
        &json!({"schemas": [GROUP, TEAM], "displayName": "Ops",
                TEAM: {"budget": 100, "site": "Lyon", "code": "OPS"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_owned();
    s.create_group("Dev", &[]);
    let r = s.get(&format!(
        "/Groups?filter={}",
        urlencode(&format!("{TEAM}:budget gt 50 and {TEAM}:site eq \"LYON\""))
    ));
    assert_eq!(r.body["totalResults"], 1, "{}", r.text);
    assert_eq!(r.body["Resources"][0]["id"], id);
    // A User extension is not a Group's.
    s.post(
        "/Groups",
        &json!({"schemas": [GROUP, ACME], "displayName": "X"}),
    )
    .assert_error(400, Some("invalidValue"));
    // The unique code is taken while the group lives...
    s.post(
        "/Groups",
        &json!({"schemas": [GROUP, TEAM], "displayName": "Ops2", TEAM: {"code": "ops"}}),
    )
    .assert_error(409, Some("uniqueness"));
    // ... and deleting the group deletes its extension row with it, freeing the code.
    assert_eq!(s.delete(&format!("/Groups/{id}")).status, 204);
    let r = s.post(
        "/Groups",
        &json!({"schemas": [GROUP, TEAM], "displayName": "Ops", TEAM: {"code": "OPS"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
}

fn the_cli_applies_and_lists_extensions(backend: Backend) {
    let s = Server::start(backend);
    let dir = crate::harness::TempDir::new();
    let file = dir.0.join("acme.json");
    std::fs::write(
        &file,
        json!({"id": ACME, "name": "Acme", "description": "Acme staff data",
               "attributes": [{"name": "badge", "type": "integer"}]})
        .to_string(),
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let (stdout, stderr) = cli_ok(&s, &["extension", "apply", "--tenant", "default", file]);
    assert!(stderr.contains("declared"), "{stderr}");
    let printed: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(printed["id"], ACME);
    assert_eq!(printed["description"], "Acme staff data");
    // In force for the running server at once.
    create(&s, "ann", json!({"badge": 1}));
    let (stdout, _) = cli_ok(&s, &["extension", "list", "--tenant", "default"]);
    let listed: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(listed[0]["id"], ACME);
    assert_eq!(listed[0]["resourceType"], "User");
    assert_eq!(listed[0]["attributes"][0]["name"], "badge");
    // An invalid document fails with the reason.
    std::fs::write(
        dir.0.join("bad.json"),
        json!({"id": ACME, "attributes": [{"name": "badge", "type": "string"}]}).to_string(),
    )
    .unwrap();
    let bad = dir.0.join("bad.json");
    let out = crate::cli::cli(
        &s,
        &[
            "extension",
            "apply",
            "--tenant",
            "default",
            bad.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot change in place"));
    cli_ok(
        &s,
        &[
            "extension",
            "remove",
            ACME,
            "--attribute",
            "badge",
            "--tenant",
            "default",
        ],
    );
    assert_eq!(
        s.get(&format!("/Schemas/{ACME}")).body["attributes"],
        json!([])
    );
}

fn bulk_operations_carry_extension_values(backend: Backend) {
    let s = Server::start(backend);
    declare_acme(&s);
    let r = s.post(
        "/Bulk",
        &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
            "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "a", "data": user("ann", json!({"badge": 1}))},
                {"method": "POST", "path": "/Users", "bulkId": "b", "data": user("bob", json!({"badge": 1}))},
                {"method": "POST", "path": "/Users", "bulkId": "c", "data": user("cid", json!({"badge": 3}))}
            ]}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let statuses: Vec<&str> = r.body["Operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["201", "409", "201"]);
    assert_eq!(
        names(&s, &format!("{ACME}:badge pr"), "&sortBy=userName"),
        ["ann", "cid"]
    );
}

fn characteristics_of_extension_attributes_are_enforced(backend: Backend) {
    let s = Server::start(backend);
    const HR: &str = "urn:example:hr:2.0:User";
    // readOnly has no writer in a tenant extension: refused.
    declare(
        &s,
        "User",
        HR,
        json!([{"name": "a", "type": "string", "mutability": "readOnly"}]),
    )
    .assert_error(400, Some("invalidValue"));
    let r = declare(
        &s,
        "User",
        HR,
        json!([
            {"name": "employeeId", "type": "string", "required": true, "mutability": "immutable"},
            {"name": "pin", "type": "string", "mutability": "writeOnly"},
            {"name": "notes", "type": "string", "returned": "request"}
        ]),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    // writeOnly is never returned (RFC 7643 §7).
    assert_eq!(r.body["attributes"][1]["returned"], "never");
    let body = |v: Value| json!({"schemas": [USER, HR], "userName": "ann", HR: v});
    // required: the extension, once present, must carry it.
    s.post("/Users", &body(json!({"notes": "x"})))
        .assert_error(400, Some("invalidValue"));
    let r = s.post(
        "/Users",
        &body(json!({"employeeId": "E1", "pin": "1234", "notes": "n"})),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        r.body[HR],
        json!({"employeeId": "E1"}),
        "writeOnly and request-only hidden"
    );
    let r = s.get(&format!("/Users/{id}?attributes={HR}:notes"));
    assert_eq!(r.body[HR], json!({"notes": "n"}));
    // writeOnly cannot be filtered (it would reveal the value).
    s.get(&format!(
        "/Users?filter={}",
        urlencode(&format!("{HR}:pin eq \"1234\""))
    ))
    .assert_error(400, Some("invalidFilter"));
    // immutable: set once, then never changed.
    s.req("PATCH", &format!("/Users/{id}"))
        .json(&json!({"schemas": [PATCH], "Operations": [
            {"op": "replace", "path": format!("{HR}:employeeId"), "value": "E2"}]}))
        .assert_error(400, Some("mutability"));
    let r = s.put(&format!("/Users/{id}"), &body(json!({"employeeId": "E1"})));
    assert_eq!(r.status, 200, "{}", r.text);
}

fn edge_values_urn_case_and_paging(backend: Backend) {
    let s = Server::start(backend);
    declare_acme(&s);
    // An empty string is no value: not present.
    create(&s, "ann", json!({"costCenter": "", "badge": 1}));
    create(&s, "bob", json!({"costCenter": ""}));
    assert!(names(&s, &format!("{ACME}:costCenter pr"), "").is_empty());
    // dateTime without an offset (UTC) and with fractions compare as instants.
    create(
        &s,
        "cid",
        json!({"badge": 2, "hired": "2020-05-05T10:00:00.250"}),
    );
    create(
        &s,
        "dan",
        json!({"badge": 3, "hired": "2020-05-05T12:00:00.5+02:00"}),
    );
    assert_eq!(
        names(
            &s,
            &format!("{ACME}:hired gt \"2020-05-05T10:00:00.2Z\""),
            "&sortBy=userName"
        ),
        ["cid", "dan"]
    );
    assert_eq!(
        names(
            &s,
            &format!("{ACME}:hired lt \"2020-05-05T10:00:00.3Z\""),
            ""
        ),
        ["cid"]
    );
    // The URN is matched regardless of case, in filters, PATCH paths and declarations.
    let upper = ACME.to_uppercase();
    assert_eq!(names(&s, &format!("{upper}:BADGE eq 1"), ""), ["ann"]);
    let r = declare(
        &s,
        "User",
        &upper,
        json!([{"name": "extra", "type": "string"}]),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(s.get("//admin/v1/extensions").body["totalResults"], 1);
    // Sorting pages by an extension attribute neither repeats nor skips.
    for i in 10..25 {
        create(&s, &format!("u{i}"), json!({"rate": f64::from(i % 4)}));
    }
    let mut seen = Vec::new();
    for start in [1, 6, 11, 16] {
        seen.extend(names(
            &s,
            &format!("{ACME}:rate pr"),
            &format!("&sortBy={ACME}:rate&startIndex={start}&count=5"),
        ));
    }
    assert_eq!(seen.len(), 15, "{seen:?}");
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 15, "{seen:?}");
}

/// Writers setting an attribute while it is removed: each write lands before the removal (and
/// is stripped with the rest) or fails cleanly after it (400, or 503 to retry); none leaves a
/// value behind that the schema no longer has, and no request fails with 500.
fn removing_an_attribute_while_writers_set_it_leaves_no_orphan(backend: Backend) {
    let s = Server::start(backend);
    declare_acme(&s);
    let ids: Vec<String> = (0..8)
        .map(|i| create(&s, &format!("w{i}"), json!({"costCenter": "keep"})))
        .collect();
    let statuses = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for (t, id) in ids.iter().enumerate() {
            let (s, statuses) = (&s, &statuses);
            scope.spawn(move || {
                for n in 0..15 {
                    let badge = i64::try_from(t * 100 + n).unwrap();
                    let r = s.req("PATCH", &format!("/Users/{id}")).json(&json!({
                        "schemas": [PATCH],
                        "Operations": [{"op": "replace", "path": format!("{ACME}:badge"),
                                        "value": badge}]}));
                    statuses.lock().unwrap().push(r.status);
                }
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        let r = s.delete(&format!("//admin/v1/extensions/User/{ACME}/badge"));
        assert_eq!(r.status, 204, "{}", r.text);
    });
    let statuses = statuses.into_inner().unwrap();
    assert!(
        statuses.iter().all(|s| matches!(s, 200 | 400 | 503)),
        "{statuses:?}"
    );
    for id in &ids {
        let u = s.get(&format!("/Users/{id}"));
        assert_eq!(u.body[ACME], json!({"costCenter": "keep"}), "{}", u.text);
        // Every user can still be changed: nothing stored is outside the schema.
        let r = s.req("PATCH", &format!("/Users/{id}")).json(&json!({
            "schemas": [PATCH],
            "Operations": [{"op": "replace", "path": "displayName", "value": "ok"}]}));
        assert_eq!(r.status, 200, "{}", r.text);
    }
}

fn multi_valued_attributes_match_on_any_value(backend: Backend) {
    let s = Server::start(backend);
    const SKILLS: &str = "urn:example:skills:2.0:User";
    let r = declare(
        &s,
        "User",
        SKILLS,
        json!([
            {"name": "tags", "type": "string", "multiValued": true},
            {"name": "levels", "type": "integer", "multiValued": true},
            {"name": "lead", "type": "boolean"}
        ]),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["attributes"][0]["multiValued"], true);
    let post = |name: &str, skills: Value| {
        let r = s.post(
            "/Users",
            &json!({"schemas": [USER, SKILLS], "userName": name, SKILLS: skills}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
        r.body
    };
    let ann = post(
        "ann",
        json!({"tags": ["Rust", "SQL", "rust"], "levels": [1, 3]}),
    );
    assert_eq!(ann[SKILLS]["tags"], json!(["Rust", "SQL", "rust"]));
    post("bob", json!({"tags": ["Go"], "levels": [2], "lead": true}));
    post("cid", json!({"lead": false}));
    // A lone value where an array belongs is taken as a one-value array; wrong types are not.
    post("dan", json!({"tags": "Python"}));
    s.post(
        "/Users",
        &json!({"schemas": [USER, SKILLS], "userName": "eve", SKILLS: {"levels": ["x"]}}),
    )
    .assert_error(400, Some("invalidValue"));
    let f = |filter: &str| filter.replace('@', &format!("{SKILLS}:"));
    let cases: &[(&str, &[&str])] = &[
        ("@tags eq \"RUST\"", &["ann"]),
        ("@tags sw \"g\"", &["bob"]),
        ("@tags co \"y\"", &["dan"]),
        ("@tags pr", &["ann", "bob", "dan"]),
        ("not (@tags pr)", &["cid"]),
        ("@levels gt 2", &["ann"]),
        ("@levels eq 2 or @lead eq false", &["bob", "cid"]),
        ("@tags eq \"sql\" and @levels eq 1", &["ann"]),
    ];
    for (filter, expected) in cases {
        assert_eq!(
            names(&s, &f(filter), "&sortBy=userName"),
            *expected,
            "{filter}"
        );
    }
    s.get(&format!("/Users?sortBy={SKILLS}:tags"))
        .assert_error(400, Some("invalidValue"));
    // PATCH: add appends, replace and remove rewrite the rows.
    let id = ann["id"].as_str().unwrap();
    let r = s
        .req("PATCH", &format!("/Users/{id}"))
        .json(&json!({"schemas": [PATCH],
        "Operations": [{"op": "add", "path": format!("{SKILLS}:tags"), "value": ["Kotlin"]},
                       {"op": "replace", "path": format!("{SKILLS}:levels"), "value": [9]}]}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(names(&s, &f("@tags eq \"kotlin\""), ""), ["ann"]);
    assert_eq!(names(&s, &f("@levels eq 9"), ""), ["ann"]);
    assert!(names(&s, &f("@levels eq 3"), "").is_empty());
    let r = s
        .req("PATCH", &format!("/Users/{id}"))
        .json(&json!({"schemas": [PATCH],
        "Operations": [{"op": "remove", "path": format!("{SKILLS}:tags")}]}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(names(&s, &f("@tags eq \"rust\""), "").is_empty());
    // Removing the attribute takes its values out of every user; an extension left empty goes.
    let r = s.delete(&format!("//admin/v1/extensions/User/{SKILLS}/tags"));
    assert_eq!(r.status, 204, "{}", r.text);
    let dan = s.get("/Users?filter=userName%20eq%20%22dan%22").body["Resources"][0].clone();
    assert_eq!(dan["schemas"], json!([USER]), "{dan}");
    assert_eq!(names(&s, &f("@lead eq true"), ""), ["bob"]);
    let r = s.get("/Users?filter=userName%20eq%20%22bob%22");
    assert_eq!(
        r.body["Resources"][0][SKILLS],
        json!({"levels": [2], "lead": true})
    );
    // Removing the whole extension drops its value tables too; it can be declared again.
    assert_eq!(
        s.delete(&format!("//admin/v1/extensions/User/{SKILLS}"))
            .status,
        204
    );
    let r = declare(
        &s,
        "User",
        SKILLS,
        json!([{"name": "levels", "type": "string", "multiValued": true}]),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(names(&s, &f("@levels pr"), "").is_empty());
}

/// The total and the userNames of one page of a filter in the default order.
fn page(s: &Server, filter: &str, start: u32, count: u32) -> (u64, Vec<String>) {
    let r = s.get(&format!(
        "/Users?filter={}&attributes=userName&startIndex={start}&count={count}",
        urlencode(filter)
    ));
    assert_eq!(r.status, 200, "{filter}: {}", r.text);
    let names = r.body["Resources"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|u| u["userName"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default();
    (r.body["totalResults"].as_u64().unwrap(), names)
}

/// Every page of `filter` (read through the attribute's index when it is a bare test) equals
/// the page of the same filter and-ed with a condition on the users' own table, which the
/// store reads the plain way: every matching user, sorted.
fn assert_pages_match_the_plain_filter(s: &Server, filters: &[&str]) {
    for filter in filters {
        let full = filter.replace('@', &format!("{ACME}:"));
        let plain = format!("({full}) and userName pr");
        for (start, count) in [(1, 3), (4, 3), (7, 3), (2, 5), (1, 100), (30, 5), (1, 0)] {
            assert_eq!(
                page(s, &full, start, count),
                page(s, &plain, start, count),
                "{full} from {start}, {count}"
            );
        }
    }
}

/// A bare test of an extension attribute, in the default order, is read through the
/// attribute's index (which holds each user's `meta.created`): pages in creation order and
/// totals, after creates, values set later by PATCH (a new extension row, or a changed one),
/// and a delete, the same as the plain filter gives.
fn extension_filters_page_in_creation_order(backend: Backend) {
    let s = Server::start(backend);
    declare_acme(&s);
    let mut ids = Vec::new();
    for i in 0..24 {
        let name = format!("u{i:02}");
        let id = match i % 4 {
            0 => create(&s, &name, json!({"costCenter": "A", "badge": i})),
            1 => create(&s, &name, json!({"costCenter": "b"})),
            2 => create(&s, &name, json!({"badge": i})),
            _ => s.create_user(&name)["id"].as_str().unwrap().to_owned(),
        };
        ids.push(id);
    }
    let set = |i: usize, value: &str| {
        let r = s
            .req("PATCH", &format!("/Users/{}", ids[i]))
            .json(&json!({"schemas": [PATCH], "Operations": [
                {"op": "add", "path": format!("{ACME}:costCenter"), "value": value}]}));
        assert_eq!(r.status, 200, "{}", r.text);
    };
    set(3, "a");
    set(1, "A");
    set(6, "a");
    assert_eq!(s.delete(&format!("/Users/{}", ids[4])).status, 204);
    let eq_a = format!("{ACME}:costCenter eq \"a\"");
    assert_eq!(
        page(&s, &eq_a, 1, 3),
        (8, vec!["u00".into(), "u01".into(), "u03".into()])
    );
    assert_eq!(
        page(&s, &eq_a, 4, 3),
        (8, vec!["u06".into(), "u08".into(), "u12".into()])
    );
    assert_eq!(page(&s, &eq_a, 7, 3), (8, vec!["u16".into(), "u20".into()]));
    assert_eq!(page(&s, &eq_a, 9, 3), (8, vec![]));
    assert_eq!(page(&s, &eq_a, 1, 0), (8, vec![]));
    assert_pages_match_the_plain_filter(
        &s,
        &[
            "@costCenter eq \"a\"",
            "@costCenter pr",
            "@costCenter gt \"a\"",
            "@costCenter ne \"a\"",
            "@costCenter sw \"B\"",
            "@badge ge 0",
            "@badge pr",
            "@rate pr",
        ],
    );
    // The page comes from the extension's own `created`: moved to the future there, u00 leaves
    // the first page (the plain filter would still put it first).
    assert_created_is_read_from_the_extension(&s, &ids[0], &eq_a);
    // A unique attribute keeps the plain filter, ordered by the users' own `created`.
    assert_eq!(
        page(&s, &format!("{ACME}:badge ge 0"), 1, 2),
        (11, vec!["u00".into(), "u02".into()])
    );
}

/// Sets the extension row's `created` of user `id` past every other and checks that the first
/// page of `filter` (which that user matches, first in creation order) no longer holds it.
fn assert_created_is_read_from_the_extension(s: &Server, id: &str, filter: &str) {
    let url = &s.db.url;
    let table = scalar(url, "SELECT table_name AS value FROM extensions");
    admin(
        url,
        &format!("UPDATE {table} SET created = '9999-12-31T00:00:00.000000Z' WHERE id = '{id}'"),
    );
    let (total, names) = page(s, filter, 1, 3);
    let user = s.get(&format!("/Users/{id}")).body["userName"].clone();
    assert!(total > 3, "{total}");
    assert!(!names.iter().any(|n| *n == user), "{user} in {names:?}");
}

#[derive(diesel::QueryableByName)]
struct Scalar {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

fn scalar(url: &str, sql: &str) -> String {
    use diesel::RunQueryDsl;
    let mut conn = scim_store::DbUrl::parse(url).unwrap().connect().unwrap();
    diesel::sql_query(sql)
        .get_result::<Scalar>(&mut conn)
        .unwrap()
        .value
}

/// An extension table made before its rows held `meta.created` (as a server process of an
/// earlier release made them, and may still while a release rolls out) is read and written
/// the plain way, and the next server process to start brings it to the new layout: `created`
/// copied from the users, the trigger that fills it for rows written without it, the index
/// ordered by it. Pages come out the same throughout.
fn tables_made_before_created_was_kept_are_upgraded_at_start(backend: Backend) {
    let s = Server::start(backend);
    let r = declare(
        &s,
        "User",
        ACME,
        json!([
            {"name": "costCenter", "type": "string"},
            {"name": "badge", "type": "integer", "uniqueness": "server"}
        ]),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    for i in 0..6 {
        create(&s, &format!("u{i}"), json!({"costCenter": "a", "badge": i}));
    }
    let url = s.db.url.clone();
    let table = scalar(&url, "SELECT table_name AS value FROM extensions");
    let columns: Value = serde_json::from_str(&scalar(
        &url,
        "SELECT column_names AS value FROM extensions",
    ))
    .unwrap();
    let cc = columns["costCenter"].as_str().unwrap().to_owned();
    let drop_trigger = match backend {
        Backend::Sqlite => format!("DROP TRIGGER {table}_created"),
        Backend::Postgres => format!("DROP TRIGGER {table}_created ON {table}"),
    };
    admin(
        &url,
        &format!(
            "{drop_trigger}; DROP INDEX {table}_{cc}; ALTER TABLE {table} DROP COLUMN created; \
             CREATE INDEX {table}_{cc} ON {table} (tenant_id, {cc}); \
             UPDATE extensions SET layout = 1; \
             UPDATE tenants SET catalog_version = catalog_version + 1"
        ),
    );
    // The running server reads the catalog anew, and uses the old table as it is.
    create(&s, "u6", json!({"costCenter": "A", "badge": 6}));
    create(&s, "u7", json!({"costCenter": "b"}));
    let eq_a = format!("{ACME}:costCenter eq \"a\"");
    let first = |s: &Server| page(s, &eq_a, 1, 3);
    assert_eq!(first(&s), (7, vec!["u0".into(), "u1".into(), "u2".into()]));
    assert_pages_match_the_plain_filter(&s, &["@costCenter eq \"a\"", "@costCenter pr"]);

    // A new process upgrades the table as it starts.
    let other = Process::spawn(&s);
    assert_eq!(
        scalar(&url, "SELECT CAST(layout AS TEXT) AS value FROM extensions"),
        "2"
    );
    let copied = format!(
        "SELECT CAST(COUNT(*) AS TEXT) AS value FROM {table} e JOIN users u \
         ON u.tenant_id = e.tenant_id AND u.id = e.id WHERE u.created = e.created"
    );
    assert_eq!(scalar(&url, &copied), "8");
    let index = match backend {
        Backend::Sqlite => {
            format!("SELECT sql AS value FROM sqlite_master WHERE name = '{table}_{cc}'")
        }
        Backend::Postgres => format!(
            "SELECT indexdef AS value FROM pg_indexes WHERE schemaname = current_schema() \
             AND indexname = '{table}_{cc}'"
        ),
    };
    assert!(
        scalar(&url, &index).ends_with(&format!("(tenant_id, {cc}, created, id)")),
        "{}",
        scalar(&url, &index)
    );
    if backend == Backend::Postgres {
        // Vacuumed, so that counts through the new index need not visit the table.
        let vacuumed = format!(
            "SELECT CAST(last_vacuum IS NOT NULL AS TEXT) AS value FROM pg_stat_user_tables \
             WHERE schemaname = current_schema() AND relname = '{table}'"
        );
        assert_eq!(scalar(&url, &vacuumed), "true");
    }
    // A row written without `created`, as a process of the earlier release writes it.
    let plain = s.create_user("u8")["id"].as_str().unwrap().to_owned();
    admin(
        &url,
        &format!(
            "INSERT INTO {table} (tenant_id, id, {cc}) \
             SELECT tenant_id, id, 'a' FROM users WHERE id = '{plain}'"
        ),
    );
    assert_eq!(scalar(&url, &copied), "9");
    // Both processes page through the index now, in creation order.
    let last = |page: (u64, Vec<String>)| page.1.last().cloned();
    assert_eq!(last(page(&s, &eq_a, 7, 3)), Some("u8".into()));
    let r = other.request(
        "GET",
        &format!(
            "/Users?filter={}&attributes=userName&startIndex=7&count=3",
            urlencode(&eq_a)
        ),
        &[],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["totalResults"], 8, "{}", r.text);
    assert_eq!(r.body["Resources"][1]["userName"], "u8", "{}", r.text);
    assert_eq!(first(&s), (8, vec!["u0".into(), "u1".into(), "u2".into()]));
    assert_pages_match_the_plain_filter(&s, &["@costCenter eq \"a\"", "@costCenter pr"]);
    let u0 = s
        .get(&format!(
            "/Users?filter={}",
            urlencode("userName eq \"u0\"")
        ))
        .body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_created_is_read_from_the_extension(&s, &u0, &eq_a);
}
