//! Discovery (RFC 7644 §4, RFC 7643 §5–7) and health checks: open to callers without a token.

#![expect(
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used,
    reason = "a test fails by panicking; clippy.toml's in-tests allowances miss helpers of an integration-test crate"
)]

use serde_json::{Value, json};

use crate::harness::{Backend, ENTERPRISE, GROUP, Resp, Server, USER};

const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const SPC: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RESOURCE_TYPE: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// A GET without credentials that must answer 200 with SCIM JSON.
#[track_caller]
fn open_get(s: &Server, path: &str) -> Resp {
    let r = s.raw("GET", path).send();
    assert_eq!(r.status, 200, "{path}: {}", r.text);
    assert_eq!(
        r.header("content-type"),
        Some("application/scim+json"),
        "{path}"
    );
    r
}

fn attribute<'a>(schema: &'a Value, name: &str) -> &'a Value {
    schema["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("no attribute {name} in {schema}"))
}

fn service_provider_config(backend: Backend) {
    let s = Server::start(backend);
    let b = open_get(&s, "/ServiceProviderConfig").body;
    assert_eq!(b["schemas"], json!([SPC]));
    assert_eq!(b["patch"]["supported"], true);
    assert_eq!(b["bulk"]["supported"], true);
    assert_eq!(b["bulk"]["maxOperations"], 1000);
    assert_eq!(b["bulk"]["maxPayloadSize"], 64 * 1024);
    assert_eq!(b["filter"]["supported"], true);
    assert_eq!(b["filter"]["maxResults"], 1000);
    assert_eq!(b["changePassword"]["supported"], true);
    assert_eq!(b["sort"]["supported"], true);
    assert_eq!(b["etag"]["supported"], true);
    let schemes = b["authenticationSchemes"].as_array().unwrap();
    assert!(
        schemes.iter().any(|a| a["type"] == "oauthbearertoken"),
        "{b}"
    );
    assert!(
        schemes
            .iter()
            .all(|a| a["name"].is_string() && a["description"].is_string()),
        "{b}"
    );
    assert_eq!(b["meta"]["resourceType"], "ServiceProviderConfig");
    assert!(
        b["meta"]["location"]
            .as_str()
            .unwrap()
            .ends_with("/ServiceProviderConfig"),
        "{b}"
    );
}

fn resource_types(backend: Backend) {
    let s = Server::start(backend);
    let b = open_get(&s, "/ResourceTypes").body;
    assert_eq!(b["schemas"], json!([LIST]));
    assert_eq!(b["totalResults"], 2);
    assert_eq!(b["itemsPerPage"], 2);
    assert_eq!(b["startIndex"], 1);
    let resources = b["Resources"].as_array().unwrap();
    let mut ids: Vec<&str> = resources
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, ["Group", "User"]);

    let user = open_get(&s, "/ResourceTypes/User").body;
    assert_eq!(user["schemas"], json!([RESOURCE_TYPE]));
    assert_eq!(user["id"], "User");
    assert_eq!(user["name"], "User");
    assert_eq!(user["endpoint"], "/Users");
    assert_eq!(user["schema"], USER);
    assert_eq!(
        user["schemaExtensions"],
        json!([{"schema": ENTERPRISE, "required": false}])
    );
    assert_eq!(user["meta"]["resourceType"], "ResourceType");
    assert!(
        user["meta"]["location"]
            .as_str()
            .unwrap()
            .ends_with("/ResourceTypes/User"),
        "{user}"
    );
    // The list holds the same document.
    assert!(resources.contains(&user), "{b}");

    let group = open_get(&s, "/ResourceTypes/Group").body;
    assert_eq!(group["endpoint"], "/Groups");
    assert_eq!(group["schema"], GROUP);
    assert!(
        group["schemaExtensions"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "{group}"
    );

    s.raw("GET", "/ResourceTypes/Nope")
        .send()
        .assert_error(404, None);
}

fn schemas(backend: Backend) {
    let s = Server::start(backend);
    let b = open_get(&s, "/Schemas").body;
    assert_eq!(b["schemas"], json!([LIST]));
    assert_eq!(b["totalResults"], 3);
    let resources = b["Resources"].as_array().unwrap();
    let mut ids: Vec<&str> = resources
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    let mut want = [USER, GROUP, ENTERPRISE];
    want.sort_unstable();
    assert_eq!(ids, want);
    for r in resources {
        assert_eq!(r["meta"]["resourceType"], "Schema", "{r}");
        let loc = r["meta"]["location"].as_str().unwrap();
        assert!(
            loc.ends_with(&format!("/Schemas/{}", r["id"].as_str().unwrap())),
            "{r}"
        );
    }

    let user = open_get(&s, &format!("/Schemas/{USER}")).body;
    assert_eq!(user["id"], USER);
    assert_eq!(user["schemas"], json!([SCHEMA]));
    assert_eq!(user["name"], "User");
    assert_eq!(user["meta"]["resourceType"], "Schema");
    assert_eq!(
        user["meta"]["location"],
        json!(format!("{}/Schemas/{USER}", s.scim()))
    );
    let user_name = attribute(&user, "userName");
    assert_eq!(user_name["type"], "string");
    assert_eq!(user_name["required"], true);
    assert_eq!(user_name["uniqueness"], "server");
    assert_eq!(user_name["caseExact"], false);
    let password = attribute(&user, "password");
    assert_eq!(password["mutability"], "writeOnly");
    assert_eq!(password["returned"], "never");
    let emails = attribute(&user, "emails");
    assert_eq!(emails["multiValued"], true);
    assert_eq!(emails["type"], "complex");
    assert!(
        emails["subAttributes"]
            .as_array()
            .is_some_and(|a| !a.is_empty()),
        "{emails}"
    );
    assert_eq!(attribute(&user, "groups")["mutability"], "readOnly");

    let group = open_get(&s, &format!("/Schemas/{GROUP}")).body;
    assert_eq!(attribute(&group, "displayName")["required"], true);
    let ent = open_get(&s, &format!("/Schemas/{ENTERPRISE}")).body;
    assert_eq!(attribute(&ent, "manager")["type"], "complex");

    s.raw("GET", "/Schemas/urn:nope")
        .send()
        .assert_error(404, None);
}

fn health_checks_need_no_token(backend: Backend) {
    let s = Server::start(backend);
    for path in ["//healthz", "//readyz"] {
        let r = s.raw("GET", path).send();
        assert_eq!(r.status, 200, "{path}: {}", r.text);
    }
    // A token is accepted too, and discovery answers the same with or without it.
    let with = s.get("/ServiceProviderConfig");
    assert_eq!(with.status, 200, "{}", with.text);
    assert_eq!(with.body, open_get(&s, "/ServiceProviderConfig").body);
    // Resources themselves are not open.
    s.raw("GET", "/Groups").send().assert_error(401, None);
}

crate::backends!(
    service_provider_config,
    resource_types,
    schemas,
    health_checks_need_no_token
);
