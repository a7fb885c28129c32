//! `/Users`: create, read, replace, delete, list, the starter filters, validation driven by the
//! schema documents, `returned` rules, meta and ETags.

use serde_json::{Value, json};

use crate::backends;
use crate::harness::{Backend, ENTERPRISE, Server, USER};

backends!(
    removed_attributes_leave_no_index_behind,
    create_returns_201_with_location_etag_and_meta,
    every_rfc_7643_attribute_round_trips,
    password_is_write_only,
    read_only_input_is_ignored,
    user_name_is_unique_regardless_of_case,
    get_put_delete_lifecycle,
    put_that_changes_nothing_keeps_the_version,
    if_match_and_if_none_match,
    list_pages_with_start_index_and_count,
    starter_filters,
    validation_errors,
    attributes_and_excluded_attributes,
    enterprise_manager_is_an_object,
    okta_entra_boolean_strings_are_accepted,
);

fn full_user() -> Value {
    json!({
        "schemas": [USER, ENTERPRISE],
        "externalId": "hr-1001",
        "userName": "bjensen@example.com",
        "name": {
            "formatted": "Ms. Barbara J Jensen, III",
            "familyName": "Jensen",
            "givenName": "Barbara",
            "middleName": "Jane",
            "honorificPrefix": "Ms.",
            "honorificSuffix": "III"
        },
        "displayName": "Babs Jensen",
        "nickName": "Babs",
        "profileUrl": "https://login.example.com/bjensen",
        "title": "Tour Guide",
        "userType": "Employee",
        "preferredLanguage": "en-US",
        "locale": "en-US",
        "timezone": "America/Los_Angeles",
        "active": true,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "phoneNumbers": [{"value": "555-555-8377", "type": "work"}],
        "ims": [{"value": "someaimhandle", "type": "aim"}],
        "photos": [{"value": "https://photos.example.com/profilephoto/72930000000Ccne/F", "type": "photo"}],
        "addresses": [{
            "type": "work",
            "streetAddress": "100 Universal City Plaza",
            "locality": "Hollywood",
            "region": "CA",
            "postalCode": "91608",
            "country": "USA",
            "formatted": "100 Universal City Plaza\nHollywood, CA 91608 USA",
            "primary": true
        }],
        "entitlements": [{"value": "vpn"}],
        "roles": [{"value": "tour-guide", "primary": true}],
        "x509Certificates": [{"value": "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx"}],
        ENTERPRISE: {
            "employeeNumber": "701984",
            "costCenter": "4130",
            "organization": "Universal Studios",
            "division": "Theme Park",
            "department": "Tour Operations",
            "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}
        }
    })
}

fn create_returns_201_with_location_etag_and_meta(backend: Backend) {
    let s = Server::start(backend);
    let r = s.post("/Users", &json!({"schemas": [USER], "userName": "bjensen"}));
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/scim+json"));
    let id = r.body["id"].as_str().unwrap();
    assert_eq!(id.len(), 36);
    let location = format!("{}/Users/{id}", s.scim());
    assert_eq!(r.header("location"), Some(location.as_str()));
    assert_eq!(r.header("etag"), Some("W/\"1\""));
    let meta = &r.body["meta"];
    assert_eq!(meta["resourceType"], "User");
    assert_eq!(meta["location"], location.as_str());
    assert_eq!(meta["version"], "W/\"1\"");
    assert_eq!(meta["created"], meta["lastModified"]);
    assert!(meta["created"].as_str().unwrap().ends_with('Z'));
    assert_eq!(r.body["schemas"], json!([USER]));
    assert_eq!(r.body["userName"], "bjensen");
}

fn every_rfc_7643_attribute_round_trips(backend: Backend) {
    let s = Server::start(backend);
    let input = full_user();
    let r = s.post("/Users", &input);
    assert_eq!(r.status, 201, "{}", r.text);
    let got = s.get(&format!("/Users/{}", r.body["id"].as_str().unwrap()));
    assert_eq!(got.status, 200);
    for (k, v) in input.as_object().unwrap() {
        assert_eq!(&got.body[k], v, "attribute {k}");
    }
    assert_eq!(got.header("etag"), got.body["meta"]["version"].as_str());
}

fn password_is_write_only(backend: Backend) {
    let s = Server::start(backend);
    let r = s.post(
        "/Users",
        &json!({"schemas": [USER], "userName": "p", "password": "t1meMachine"}),
    );
    assert_eq!(r.status, 201);
    assert!(
        !r.text.contains("password") && !r.text.contains("t1meMachine"),
        "{}",
        r.text
    );
    let id = r.body["id"].as_str().unwrap();
    let got = s.get(&format!("/Users/{id}?attributes=password"));
    assert!(!got.text.contains("password"), "{}", got.text);
    let list = s.get("/Users?filter=userName%20eq%20%22p%22");
    assert!(!list.text.contains("password"));
}

fn read_only_input_is_ignored(backend: Backend) {
    let s = Server::start(backend);
    let r = s.post(
        "/Users",
        &json!({"schemas": [USER], "userName": "ro", "id": "chosen-by-client",
                "meta": {"version": "W/\"99\""}, "groups": [{"value": "g1"}]}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_ne!(r.body["id"], "chosen-by-client");
    assert_eq!(r.body["meta"]["version"], "W/\"1\"");
    assert!(r.body.get("groups").is_none());
}

fn user_name_is_unique_regardless_of_case(backend: Backend) {
    let s = Server::start(backend);
    s.create_user("Alice@Example.com");
    let r = s.post(
        "/Users",
        &json!({"schemas": [USER], "userName": "alice@example.COM"}),
    );
    r.assert_error(409, Some("uniqueness"));
    let bob = s.create_user("bob");
    let r = s.put(
        &format!("/Users/{}", bob["id"].as_str().unwrap()),
        &json!({"schemas": [USER], "userName": "ALICE@example.com"}),
    );
    r.assert_error(409, Some("uniqueness"));
    assert_eq!(s.get("/Users").body["totalResults"], 2);
}

fn get_put_delete_lifecycle(backend: Backend) {
    let s = Server::start(backend);
    let u = s.create_user("carol");
    let path = format!("/Users/{}", u["id"].as_str().unwrap());
    let r = s.put(
        &path,
        &json!({"schemas": [USER], "userName": "carol", "displayName": "Carol", "active": false}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("etag"), Some("W/\"2\""));
    assert_eq!(r.body["displayName"], "Carol");
    assert_eq!(r.body["active"], false);
    assert_eq!(r.body["meta"]["created"], u["meta"]["created"]);
    assert_ne!(r.body["meta"]["lastModified"], u["meta"]["lastModified"]);
    // PUT replaces: attributes left out are cleared.
    let r = s.put(&path, &json!({"schemas": [USER], "userName": "carol"}));
    assert!(r.body.get("displayName").is_none(), "{}", r.text);
    assert_eq!(s.delete(&path).status, 204);
    s.get(&path).assert_error(404, None);
    s.delete(&path).assert_error(404, None);
    s.put(&path, &json!({"schemas": [USER], "userName": "carol"}))
        .assert_error(404, None);
}

fn put_that_changes_nothing_keeps_the_version(backend: Backend) {
    let s = Server::start(backend);
    let u = s.create_user("dave");
    let path = format!("/Users/{}", u["id"].as_str().unwrap());
    let r = s.put(&path, &u);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("etag"), Some("W/\"1\""));
    assert_eq!(r.body["meta"]["lastModified"], u["meta"]["lastModified"]);
}

fn if_match_and_if_none_match(backend: Backend) {
    let s = Server::start(backend);
    let u = s.create_user("erin");
    let path = format!("/Users/{}", u["id"].as_str().unwrap());
    let body = json!({"schemas": [USER], "userName": "erin", "title": "x"});
    let r = s
        .req("PUT", &path)
        .header("If-Match", "W/\"7\"")
        .json(&body);
    r.assert_error(412, None);
    let r = s
        .req("PUT", &path)
        .header("If-Match", "W/\"1\"")
        .json(&body);
    assert_eq!(r.status, 200);
    let r = s
        .req("GET", &path)
        .header("If-None-Match", "W/\"2\"")
        .send();
    assert_eq!(r.status, 304);
    assert_eq!(r.header("etag"), Some("W/\"2\""));
    let r = s
        .req("GET", &path)
        .header("If-None-Match", "W/\"1\"")
        .send();
    assert_eq!(r.status, 200);
    s.req("DELETE", &path)
        .header("If-Match", "W/\"1\"")
        .send()
        .assert_error(412, None);
    assert_eq!(
        s.req("DELETE", &path)
            .header("If-Match", "W/\"2\"")
            .send()
            .status,
        204
    );
}

fn list_pages_with_start_index_and_count(backend: Backend) {
    let s = Server::start(backend);
    let names: Vec<String> = (0..5).map(|i| format!("user{i}")).collect();
    for n in &names {
        s.create_user(n);
    }
    let page = |q: &str| s.get(&format!("/Users?{q}")).body;
    let all = page("");
    assert_eq!(
        all["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
    );
    assert_eq!(all["totalResults"], 5);
    assert_eq!(all["itemsPerPage"], 5);
    assert_eq!(all["startIndex"], 1);
    let ids: Vec<Value> = all["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].clone())
        .collect();
    let p = page("startIndex=2&count=2");
    assert_eq!(p["totalResults"], 5);
    assert_eq!(p["itemsPerPage"], 2);
    assert_eq!(p["startIndex"], 2);
    let got: Vec<Value> = p["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].clone())
        .collect();
    assert_eq!(got, ids[1..3].to_vec());
    // RFC 7644 §3.4.2.4: startIndex below 1 is 1; count 0 gives only the total; negative is 0.
    assert_eq!(page("startIndex=0&count=1")["Resources"][0]["id"], ids[0]);
    let zero = page("count=0");
    assert_eq!(zero["totalResults"], 5);
    assert_eq!(zero["itemsPerPage"], 0);
    assert_eq!(zero["Resources"], json!([]));
    assert_eq!(page("count=-3")["itemsPerPage"], 0);
    let past = page("startIndex=10");
    assert_eq!(past["totalResults"], 5);
    assert_eq!(past["itemsPerPage"], 0);
}

fn starter_filters(backend: Backend) {
    let s = Server::start(backend);
    let mut input = full_user();
    input["userName"] = json!("Barbara.Jensen");
    let r = s.post("/Users", &input);
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_owned();
    s.create_user("someone-else");
    let count = |filter: &str| {
        let q: String = filter
            .chars()
            .map(|c| match c {
                ' ' => "%20".to_owned(),
                '"' => "%22".to_owned(),
                c => c.to_string(),
            })
            .collect();
        let r = s.get(&format!("/Users?filter={q}"));
        assert_eq!(r.status, 200, "{filter}: {}", r.text);
        r.body["totalResults"].as_u64().unwrap()
    };
    assert_eq!(count("userName eq \"barbara.jensen\""), 1);
    assert_eq!(count("USERNAME EQ \"BARBARA.JENSEN\""), 1);
    assert_eq!(count("externalId eq \"hr-1001\""), 1);
    assert_eq!(
        count("externalId eq \"HR-1001\""),
        0,
        "externalId is caseExact"
    );
    assert_eq!(count(&format!("id eq \"{id}\"")), 1);
    assert_eq!(count("emails.value eq \"BABS@jensen.org\""), 1);
    assert_eq!(count("emails[value eq \"bjensen@example.com\"]"), 1);
    assert_eq!(count("userName sw \"barb\""), 1);
    assert_eq!(
        count("userName co \"%\""),
        0,
        "LIKE metacharacters match literally"
    );
    assert_eq!(
        count("userName eq \"nobody\" or externalId eq \"hr-1001\""),
        1
    );
    assert_eq!(count("not (userName eq \"barbara.jensen\")"), 1);
    assert_eq!(count("active eq true"), 1);
    assert_eq!(count("meta.created gt \"2000-01-01T00:00:00Z\""), 2);
}

fn validation_errors(backend: Backend) {
    let s = Server::start(backend);
    let post = |body: Value| s.post("/Users", &body);
    post(json!({"schemas": [USER]})).assert_error(400, Some("invalidValue"));
    post(json!({"userName": "x"})).assert_error(400, Some("invalidSyntax"));
    post(json!({"schemas": [USER, "urn:example:nope"], "userName": "x"}))
        .assert_error(400, Some("invalidValue"));
    post(json!({"schemas": [USER], "userName": "x", "shoeSize": 44}))
        .assert_error(400, Some("invalidSyntax"));
    post(json!({"schemas": [USER], "userName": 7})).assert_error(400, Some("invalidValue"));
    post(json!({"schemas": [USER], "userName": "x", "active": "yes"}))
        .assert_error(400, Some("invalidValue"));
    post(json!({"schemas": [USER], "userName": "x", "emails": [
        {"value": "a@x", "primary": true}, {"value": "b@x", "primary": true}]}))
    .assert_error(400, Some("invalidValue"));
    post(json!({"schemas": [USER], "userName": "x", ENTERPRISE: {"manager": 5}}))
        .assert_error(400, Some("invalidValue"));
    s.get("/Users?filter=userName%20eq")
        .assert_error(400, Some("invalidFilter"));
    s.get("/Users?filter=shoeSize%20eq%201")
        .assert_error(400, Some("invalidFilter"));
    s.get("/Users?attributes=a%20b")
        .assert_error(400, Some("invalidSyntax"));
    assert_eq!(
        s.get("/Users").body["totalResults"],
        0,
        "nothing was written"
    );
}

fn attributes_and_excluded_attributes(backend: Backend) {
    let s = Server::start(backend);
    let r = s.post("/Users?attributes=userName", &full_user());
    assert_eq!(r.status, 201);
    assert_eq!(
        r.body.as_object().unwrap().keys().collect::<Vec<_>>(),
        vec!["schemas", "id", "userName"]
    );
    let id = r.body["id"].as_str().unwrap();
    let r = s.get(&format!(
        "/Users/{id}?attributes=name.givenName,emails.value"
    ));
    assert_eq!(r.body["name"], json!({"givenName": "Barbara"}));
    assert_eq!(
        r.body["emails"],
        json!([{"value": "bjensen@example.com"}, {"value": "babs@jensen.org"}])
    );
    assert!(r.body.get("userName").is_none() && r.body.get("meta").is_none());
    let r = s.get(&format!(
        "/Users/{id}?excludedAttributes=emails,{ENTERPRISE}"
    ));
    assert!(r.body.get("emails").is_none() && r.body.get(ENTERPRISE).is_none());
    assert_eq!(r.body["schemas"], json!([USER]));
    assert_eq!(r.body["userName"], "bjensen@example.com");
    let r = s.get(&format!("/Users?attributes={ENTERPRISE}:department"));
    assert_eq!(
        r.body["Resources"][0][ENTERPRISE],
        json!({"department": "Tour Operations"})
    );
    assert_eq!(r.body["Resources"][0]["id"], id);
}

fn enterprise_manager_is_an_object(backend: Backend) {
    let s = Server::start(backend);
    let boss = s.create_user("boss");
    let r = s.post(
        "/Users",
        &json!({"schemas": [USER, ENTERPRISE], "userName": "worker",
                ENTERPRISE: {"department": "Ops", "manager": {"value": boss["id"]}}}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body[ENTERPRISE]["manager"]["value"], boss["id"]);
    assert_eq!(r.body["schemas"], json!([USER, ENTERPRISE]));
}

fn okta_entra_boolean_strings_are_accepted(backend: Backend) {
    let s = Server::start(backend);
    let r = s.post(
        "/Users",
        &json!({"schemas": [USER], "userName": "okta", "active": "False"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["active"], false);
}

/// A PUT without `externalId`, `displayName` or `active` removes them: filters, including the
/// check for returning leavers, no longer find the old values; the password is kept.
fn removed_attributes_leave_no_index_behind(backend: Backend) {
    let s = Server::start(backend);
    let r = s.post(
        "/Users",
        &json!({"schemas": [USER], "userName": "mover", "externalId": "hr-77",
                "displayName": "Old Name", "active": false, "password": "s3cret-Pass"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let path = format!("/Users/{}", r.body["id"].as_str().unwrap());
    let put = s.put(&path, &json!({"schemas": [USER], "userName": "mover"}));
    assert_eq!(put.status, 200, "{}", put.text);
    for attr in ["externalId", "displayName", "active"] {
        assert!(put.body.get(attr).is_none(), "{attr}: {}", put.text);
    }
    for filter in [
        "externalId%20eq%20%22hr-77%22",
        "displayName%20co%20%22old%20na%22",
        "displayName%20eq%20%22Old%20Name%22",
        "active%20eq%20false",
        "externalId%20pr",
        "displayName%20pr",
    ] {
        let found = s.get(&format!("/Users?filter={filter}"));
        assert_eq!(found.status, 200, "{}", found.text);
        assert_eq!(found.body["totalResults"], 0, "{filter}: {}", found.text);
    }
    // A joiner with the old externalId is no returning leaver.
    let joiner = json!({"schemas": [USER], "userName": "joiner", "externalId": "hr-77"});
    assert_eq!(s.post("/Users", &joiner).status, 201);
}
