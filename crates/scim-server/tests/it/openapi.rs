//! `/openapi.json`: a well-formed OpenAPI 3.1 document, open to callers without a token, whose
//! operations are exactly the ones the server serves.

use serde_json::{Value, json};

use crate::harness::{Backend, ENTERPRISE, Server};

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

fn fetch(s: &Server) -> Value {
    let r = s.raw("GET", "//openapi.json").send();
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/json"));
    r.body
}

/// Resolves a local JSON pointer (`#/components/schemas/User`).
fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    doc.pointer(pointer)
}

/// Every `$ref` anywhere in `value`.
fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r);
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

/// A documented path with its parameters filled in.
fn concrete(path: &str) -> String {
    path.replace("{id}", "2819c223-7f76-453a-919d-413861904646")
        .replace("{kind}", "User")
        .replace(
            "{urn}",
            "urn:example:params:scim:schemas:extension:acme:2.0:User",
        )
        .replace("{attribute}", "badge")
}

/// The document is OpenAPI 3.1 and every reference in it resolves within it.
fn document_is_well_formed(backend: Backend) {
    let s = Server::start(backend);
    let doc = fetch(&s);
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.len() > 50, "suspiciously few references: {}", all.len());
    for r in all {
        assert!(resolve(&doc, r).is_some(), "unresolved $ref {r}");
    }
    let paths = doc["paths"].as_object().unwrap();
    let mut ids = std::collections::HashSet::new();
    for (path, item) in paths {
        assert!(path.starts_with('/'), "{path}");
        for (method, op) in item.as_object().unwrap() {
            assert!(
                METHODS.contains(&method.to_ascii_uppercase().as_str()),
                "{method} {path}"
            );
            assert!(
                ids.insert(op["operationId"].as_str().unwrap().to_owned()),
                "duplicate operationId at {method} {path}"
            );
            let responses = op["responses"].as_object().unwrap();
            assert!(!responses.is_empty(), "{method} {path} has no responses");
            // Every path parameter the path names is declared, and nothing else in the path.
            let named: Vec<&str> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                .collect();
            let declared: Vec<String> = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .map(|p| match p.get("$ref") {
                            Some(r) => resolve(&doc, r.as_str().unwrap()).unwrap().clone(),
                            None => p.clone(),
                        })
                        .filter(|p| p["in"] == "path")
                        .map(|p| p["name"].as_str().unwrap().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(named, declared, "{method} {path}");
        }
    }
    for path in [
        "/healthz",
        "/readyz",
        "/openapi.json",
        "/scim/v2/Users",
        "/scim/v2/Groups/{id}",
        "/scim/v2/.search",
        "/scim/v2/Bulk",
        "/scim/v2/Me",
        "/scim/v2/Schemas/{id}",
        "/admin/v1/extensions/{kind}/{urn}/{attribute}",
    ] {
        assert!(paths.contains_key(path), "{path} is not documented");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"],
        json!({
            "type": "http",
            "scheme": "bearer",
            "description": doc["components"]["securitySchemes"]["bearer"]["description"]
        })
    );
    // A SCIM operation needs the token; the health checks and this document do not.
    assert_eq!(
        paths["/scim/v2/Users"]["get"]["security"],
        json!([{"bearer": []}])
    );
    assert_eq!(paths["/healthz"]["get"]["security"], json!([]));
    let error = &paths["/scim/v2/Users/{id}"]["put"]["responses"]["412"]["$ref"];
    let error = resolve(&doc, error.as_str().unwrap()).unwrap();
    assert_eq!(
        error["content"]["application/scim+json"]["schema"]["$ref"],
        "#/components/schemas/Error"
    );
    assert_eq!(
        doc["components"]["schemas"]["Error"]["properties"]["schemas"]["items"]["enum"],
        json!([crate::harness::ERROR])
    );
}

/// The User, Group and EnterpriseUser schemas are the ones `/Schemas` serves: every attribute,
/// its type and whether it is required.
fn schemas_match_discovery(backend: Backend) {
    let s = Server::start(backend);
    let doc = fetch(&s);
    let user = &doc["components"]["schemas"]["User"];
    assert_eq!(user["required"], json!(["schemas", "userName"]));
    assert_eq!(
        user["properties"][ENTERPRISE]["$ref"],
        "#/components/schemas/EnterpriseUser"
    );
    assert_eq!(user["properties"]["id"]["readOnly"], true);
    assert_eq!(
        doc["components"]["schemas"]["Group"]["required"],
        json!(["schemas", "displayName"])
    );
    let served = s.raw("GET", "/Schemas").send().body;
    for (name, urn) in [
        ("User", crate::harness::USER),
        ("Group", crate::harness::GROUP),
        ("EnterpriseUser", ENTERPRISE),
    ] {
        let schema = served["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == urn)
            .unwrap();
        let documented = &doc["components"]["schemas"][name]["properties"];
        for attr in schema["attributes"].as_array().unwrap() {
            let attr_name = attr["name"].as_str().unwrap();
            let prop = &documented[attr_name];
            let single = if attr["multiValued"] == true {
                assert_eq!(prop["type"], "array", "{name}.{attr_name}");
                &prop["items"]
            } else {
                prop
            };
            let want = match attr["type"].as_str().unwrap() {
                "string" | "dateTime" | "reference" | "binary" => "string",
                "boolean" => "boolean",
                "integer" => "integer",
                "decimal" => "number",
                "complex" => "object",
                other => panic!("unknown type {other}"),
            };
            assert_eq!(single["type"], want, "{name}.{attr_name}");
            assert_eq!(
                prop["readOnly"] == true,
                attr["mutability"] == "readOnly",
                "{name}.{attr_name}"
            );
        }
    }
}

/// Every documented operation reaches a handler (not the 404 of unknown routes, not 405), and
/// every other method on a documented path is 405: what is served and what is documented are
/// the same set.
fn documented_operations_are_served(backend: Backend) {
    let s = Server::start(backend);
    let doc = fetch(&s);
    for (path, item) in doc["paths"].as_object().unwrap() {
        if path == "/metrics" {
            // Served on the metrics listener only; the API listener answers 404 to any method.
            continue;
        }
        let url = format!("/{}", concrete(path));
        for method in METHODS {
            let documented = item.get(method.to_ascii_lowercase()).is_some();
            let req = s.req(method, &url);
            let r = if matches!(method, "POST" | "PUT" | "PATCH") {
                req.json(&json!({}))
            } else {
                req.send()
            };
            if documented {
                assert_ne!(r.status, 405, "{method} {path}: {}", r.text);
                let unrouted = r.status == 404
                    && matches!(
                        r.body["detail"].as_str(),
                        Some("no such endpoint" | "no such endpoint or resource")
                    );
                assert!(!unrouted, "{method} {path} is documented but not served");
                assert!(
                    r.status < 500 || r.status == 501,
                    "{method} {path}: {}",
                    r.text
                );
            } else {
                assert_eq!(
                    r.status, 405,
                    "{method} {path} is served but not documented: {}",
                    r.text
                );
            }
        }
    }
    // And what is not documented is not served.
    s.req("GET", "//scim/v2/Widgets")
        .send()
        .assert_error(404, None);
    s.req("GET", "//admin/v1/nothing")
        .send()
        .assert_error(404, None);
}

crate::backends!(
    document_is_well_formed,
    schemas_match_discovery,
    documented_operations_are_served
);
