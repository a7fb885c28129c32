//! Error answers (RFC 7644 §3.12): every non-2xx response is a SCIM error body with the right
//! status and scimType, never a 500, never database text, and a refused write leaves no trace.

#![expect(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    reason = "a test fails by panicking; clippy.toml's in-tests allowances miss helpers of an integration-test crate"
)]

use serde_json::{Value, json};

use crate::harness::{Backend, GROUP, Resp, Server, TOKEN, USER};

/// Text that would betray the database behind the API.
const LEAKS: [&str; 10] = [
    "sqlite",
    "postgres",
    "diesel",
    "constraint",
    "duplicate key",
    "syntax error at or near",
    "relation ",
    "sqlstate",
    "no such table",
    "violates",
];

#[track_caller]
fn assert_no_leak(r: &Resp) {
    let lower = r.text.to_lowercase();
    for leak in LEAKS {
        assert!(!lower.contains(leak), "response leaks {leak:?}: {}", r.text);
    }
}

#[track_caller]
fn total(s: &Server, path: &str) -> Value {
    let r = s.get(path);
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["totalResults"].clone()
}

fn unknown_routes_are_404(backend: Backend) {
    let s = Server::start(backend);
    for path in ["/Nope", "//nope", "/Users/x/y", "//scim/v1/Users"] {
        let r = s.get(path);
        r.assert_error(404, None);
    }
}

fn wrong_methods_are_405(backend: Backend) {
    let s = Server::start(backend);
    let r = s.post("/ServiceProviderConfig", &json!({}));
    r.assert_error(405, None);
    let r = s.delete("/Users");
    r.assert_error(405, None);
    let r = s.put("/Groups", &json!({"schemas": [GROUP], "displayName": "x"}));
    r.assert_error(405, None);
    assert_eq!(total(&s, "/Groups"), 0);
}

fn malformed_bodies_are_400_invalid_syntax(backend: Backend) {
    let s = Server::start(backend);
    let bodies = [
        r#"{"schemas": ["#.to_owned(),
        "not json".to_owned(),
        String::new(),
        "[]".to_owned(),
        r#""userName""#.to_owned(),
        json!({"userName": "nobody"}).to_string(),
        json!({"schemas": [USER], "userName": "nobody", "favouriteColour": "blue"}).to_string(),
    ];
    for body in &bodies {
        let r = s
            .req("POST", "/Users")
            .header("Content-Type", "application/scim+json")
            .body(Some(body));
        r.assert_error(400, Some("invalidSyntax"));
        assert_no_leak(&r);
    }
    assert_eq!(total(&s, "/Users"), 0);
}

fn invalid_values_are_400_invalid_value(backend: Backend) {
    let s = Server::start(backend);
    let bodies = [
        json!({"schemas": ["urn:example:nope"], "userName": "nobody"}),
        json!({"schemas": [USER, "urn:example:nope"], "userName": "nobody"}),
        json!({"schemas": [USER], "userName": 7}),
        json!({"schemas": [USER], "userName": "nobody", "active": "maybe"}),
    ];
    for body in &bodies {
        let r = s.post("/Users", body);
        r.assert_error(400, Some("invalidValue"));
    }
    let r = s.post(
        "/Groups",
        &json!({"schemas": [GROUP], "displayName": ["a", "b"]}),
    );
    r.assert_error(400, Some("invalidValue"));
    assert_eq!(total(&s, "/Users"), 0);
    assert_eq!(total(&s, "/Groups"), 0);
}

fn bad_content_type_is_415(backend: Backend) {
    let s = Server::start(backend);
    let body = json!({"schemas": [USER], "userName": "plain"}).to_string();
    let r = s
        .req("POST", "/Users")
        .header("Content-Type", "text/plain")
        .body(Some(&body));
    r.assert_error(415, None);
    assert_eq!(total(&s, "/Users"), 0);
    // Plain application/json is accepted (design §2).
    let r = s
        .req("POST", "/Users")
        .header("Content-Type", "application/json")
        .body(Some(&body));
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/scim+json"));
}

fn oversized_body_is_413(backend: Backend) {
    let s = Server::start(backend);
    let body = json!({"schemas": [USER], "userName": "big", "nickName": "x".repeat(100 * 1024)});
    let r = s.post("/Users", &body);
    r.assert_error(413, None);
    assert_eq!(total(&s, "/Users"), 0);
}

fn missing_or_wrong_token_is_401(backend: Backend) {
    let s = Server::start(backend);
    let r = s.raw("GET", "/Users").send();
    r.assert_error(401, None);
    assert!(
        r.header("www-authenticate")
            .is_some_and(|h| h.starts_with("Bearer")),
        "{:?}",
        r.headers
    );

    let wrong = s
        .raw("GET", "/Users")
        .header("Authorization", "Bearer not-the-token")
        .send();
    wrong.assert_error(401, None);
    let wrong_scheme = s
        .raw("GET", "/Users")
        .header("Authorization", &format!("Basic {TOKEN}"))
        .send();
    wrong_scheme.assert_error(401, None);

    // A write without credentials is refused before anything is stored.
    let r = s
        .raw("POST", "/Users")
        .json(&json!({"schemas": [USER], "userName": "anon"}));
    r.assert_error(401, None);
    assert_eq!(total(&s, "/Users"), 0);
}

fn bad_query_parameters_are_400(backend: Backend) {
    let s = Server::start(backend);
    s.get("/Users?startIndex=abc")
        .assert_error(400, Some("invalidValue"));
    s.get("/Groups?count=many")
        .assert_error(400, Some("invalidValue"));
    for f in [
        "userName%20eq",
        "userName%20eq%20%22a",
        "(userName%20eq%20%22a%22",
        "%22a%22%20eq%20userName",
    ] {
        let r = s.get(&format!("/Users?filter={f}"));
        r.assert_error(400, Some("invalidFilter"));
        assert_no_leak(&r);
    }
}

fn unknown_ids_are_404(backend: Backend) {
    let s = Server::start(backend);
    let uuid = "6f1c2d3e-4b5a-4978-8695-a4b3c2d1e0f9";
    for kind in ["Users", "Groups"] {
        for id in [uuid, "not-a-uuid", "x'%20OR%20'1'='1"] {
            let path = format!("/{kind}/{id}");
            let r = s.get(&path);
            r.assert_error(404, None);
            assert_no_leak(&r);
            s.delete(&path).assert_error(404, None);
        }
    }
    let r = s.put(
        &format!("/Users/{uuid}"),
        &json!({"schemas": [USER], "userName": "ghost"}),
    );
    r.assert_error(404, None);
    let r = s.put(
        &format!("/Groups/{uuid}"),
        &json!({"schemas": [GROUP], "displayName": "ghost"}),
    );
    r.assert_error(404, None);
    assert_eq!(total(&s, "/Users"), 0);
    assert_eq!(total(&s, "/Groups"), 0);
}

fn unsupported_operations_are_501(backend: Backend) {
    let s = Server::start(backend);
    // RFC 7644 §3.11: /Me is optional; a server without it answers 501.
    s.get("/Me").assert_error(501, None);
}

fn conflicts_and_hostile_input_never_leak_database_text(backend: Backend) {
    let s = Server::start(backend);
    s.create_user("taken");
    let r = s.post("/Users", &json!({"schemas": [USER], "userName": "TAKEN"}));
    r.assert_error(409, Some("uniqueness"));
    assert_no_leak(&r);
    s.create_group("Taken", &[]);
    let r = s.post(
        "/Groups",
        &json!({"schemas": [GROUP], "displayName": "taken"}),
    );
    r.assert_error(409, Some("uniqueness"));
    assert_no_leak(&r);

    // Quotes, backslashes and SQL in a filter value are data, not syntax.
    for value in [
        "x' OR '1'='1",
        "x\\\" OR 1=1 --",
        "%",
        "_",
        "taken'; DROP TABLE users; --",
    ] {
        let expr = format!("userName eq {}", serde_json::to_string(value).unwrap());
        let enc: String = expr
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let r = s.get(&format!("/Users?filter={enc}"));
        assert_eq!(r.status, 200, "{value}: {}", r.text);
        assert_eq!(r.body["totalResults"], 0, "{value}: {}", r.text);
        let r = s.get(&format!(
            "/Users?filter={}",
            enc.replace("%20eq%20", "%20sw%20")
        ));
        assert_eq!(r.status, 200, "{value}: {}", r.text);
        assert_eq!(r.body["totalResults"], 0, "{value}: {}", r.text);
    }
    // Values of the wrong kind for a filter are refused without a 500.
    for f in [
        "meta.created%20gt%20%22yesterday%22",
        "active%20eq%20%22maybe%22",
    ] {
        let r = s.get(&format!("/Users?filter={f}"));
        assert!(matches!(r.status, 200 | 400), "{f}: {}", r.text);
        if r.status == 400 {
            r.assert_error(400, Some("invalidFilter"));
        }
        assert_no_leak(&r);
    }
    assert_eq!(total(&s, "/Users"), 1);
}

crate::backends!(
    unknown_routes_are_404,
    wrong_methods_are_405,
    malformed_bodies_are_400_invalid_syntax,
    invalid_values_are_400_invalid_value,
    bad_content_type_is_415,
    oversized_body_is_413,
    missing_or_wrong_token_is_401,
    bad_query_parameters_are_400,
    unknown_ids_are_404,
    unsupported_operations_are_501,
    conflicts_and_hostile_input_never_leak_database_text,
);
