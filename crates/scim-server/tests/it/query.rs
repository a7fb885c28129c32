//! The query language (RFC 7644 §3.4.2) on both backends: every operator, case rules from the
//! schema, precedence, value filters, URN paths, multi-valued attributes, sorting, and
//! `POST .search`.

use serde_json::{Value, json};

use crate::backends;
use crate::harness::{Backend, ENTERPRISE, GROUP, Server, USER};

backends!(
    every_operator_on_strings,
    substring_indexes_follow_writes,
    substrings_in_a_larger_tenant,
    case_rules_come_from_the_schema,
    precedence_and_not,
    multi_valued_and_value_filters,
    extension_and_complex_attributes,
    presence_and_null,
    booleans_numbers_and_dates,
    metacharacters_match_literally,
    group_filters_on_members,
    sorting_is_stable_and_follows_the_schema,
    search_endpoints_answer_like_get,
    malformed_filters_are_invalid_filter,
);

/// Five users with varied attributes; returns the server.
fn people(backend: Backend) -> Server {
    let s = Server::start(backend);
    let alice = s.post(
        "/Users",
        &json!({"schemas": [USER, ENTERPRISE], "userName": "alice", "title": "Engineer",
            "displayName": "Alice Ames", "name": {"givenName": "Alice", "familyName": "Ames"},
            "active": true,
            "emails": [{"value": "alice@corp.example", "type": "work", "primary": true},
                       {"value": "alice@home.example", "type": "home"}],
            "addresses": [{"type": "work", "locality": "Paris"}],
            ENTERPRISE: {"department": "R&D", "employeeNumber": "100"}}),
    );
    assert_eq!(alice.status, 201, "{}", alice.text);
    let bodies = [
        json!({"schemas": [USER, ENTERPRISE], "userName": "Bob", "title": "Senior Engineer",
            "active": false, "name": {"givenName": "Bob"},
            "emails": [{"value": "bob@corp.example", "type": "work"}],
            ENTERPRISE: {"department": "Sales", "employeeNumber": "200"}}),
        json!({"schemas": [USER, ENTERPRISE], "userName": "carol",
            "emails": [{"value": "carol@gmail.example", "type": "home", "primary": true}],
            ENTERPRISE: {"department": "r&d", "manager": {"value": alice.body["id"]}}}),
        json!({"schemas": [USER], "userName": "dave_100%", "title": "ENGINEER", "externalId": "EXT-4"}),
        json!({"schemas": [USER], "userName": "Eve", "externalId": "ext-5",
            "phoneNumbers": [{"type": "mobile", "value": "+1 555 0100"}]}),
    ];
    for b in bodies {
        let r = s.post("/Users", &b);
        assert_eq!(r.status, 201, "{}", r.text);
    }
    s
}

fn enc(filter: &str) -> String {
    let mut out = String::new();
    for b in filter.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The userNames matching `filter`, sorted.
fn names(s: &Server, filter: &str) -> Vec<String> {
    let r = s.get(&format!(
        "/Users?filter={}&attributes=userName",
        enc(filter)
    ));
    assert_eq!(r.status, 200, "{filter}: {}", r.text);
    assert_eq!(r.body["totalResults"], r.body["itemsPerPage"], "{filter}");
    let mut v: Vec<String> = r.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userName"].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

fn every_operator_on_strings(backend: Backend) {
    let s = people(backend);
    assert_eq!(names(&s, "title eq \"engineer\""), ["alice", "dave_100%"]);
    assert_eq!(names(&s, "title ne \"engineer\""), ["Bob"]);
    assert_eq!(
        names(&s, "title co \"engine\""),
        ["Bob", "alice", "dave_100%"]
    );
    assert_eq!(names(&s, "title sw \"senior\""), ["Bob"]);
    assert_eq!(
        names(&s, "title ew \"NEER\""),
        ["Bob", "alice", "dave_100%"]
    );
    assert_eq!(names(&s, "userName gt \"carol\""), ["Eve", "dave_100%"]);
    assert_eq!(
        names(&s, "userName ge \"carol\""),
        ["Eve", "carol", "dave_100%"]
    );
    assert_eq!(names(&s, "userName lt \"bob\""), ["alice"]);
    assert_eq!(names(&s, "userName le \"bob\""), ["Bob", "alice"]);
    assert_eq!(names(&s, "name.givenName sw \"AL\""), ["alice"]);
    // Substrings of three characters or more on userName and emails use the trigram indexes.
    assert_eq!(names(&s, "userName co \"AROL\""), ["carol"]);
    assert_eq!(names(&s, "userName ew \"bob\""), ["Bob"]);
    assert_eq!(names(&s, "userName ew \"ob\""), ["Bob"]);
    assert_eq!(
        names(&s, "emails.value ew \"@corp.example\""),
        ["Bob", "alice"]
    );
    assert_eq!(names(&s, "emails.value co \"gmail\""), ["carol"]);
    assert_eq!(names(&s, "displayName co \"CE AM\""), ["alice"]);
    assert_eq!(names(&s, "displayName ew \"ames\""), ["alice"]);
}

fn substring_indexes_follow_writes(backend: Backend) {
    let s = people(backend);
    let carol = s.get("/Users?filter=userName%20eq%20%22carol%22").body["Resources"][0].clone();
    let path = format!("/Users/{}", carol["id"].as_str().unwrap());
    let r = s.put(
        &path,
        &json!({"schemas": [USER], "userName": "caroline",
                "emails": [{"value": "caroline@new.example"}]}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(names(&s, "userName co \"oline\""), ["caroline"]);
    assert_eq!(names(&s, "emails.value co \"gmail\""), Vec::<String>::new());
    assert_eq!(names(&s, "emails.value co \"new.ex\""), ["caroline"]);
    assert_eq!(s.delete(&path).status, 204);
    assert_eq!(names(&s, "userName co \"oline\""), Vec::<String>::new());
    assert_eq!(
        names(&s, "emails.value co \"new.ex\""),
        Vec::<String>::new()
    );
}

fn case_rules_come_from_the_schema(backend: Backend) {
    let s = people(backend);
    // userName, title, emails are caseExact false; externalId and id are caseExact true.
    assert_eq!(names(&s, "USERNAME EQ \"ALICE\""), ["alice"]);
    assert_eq!(names(&s, "emails.value eq \"BOB@CORP.EXAMPLE\""), ["Bob"]);
    assert_eq!(names(&s, "externalId eq \"ext-4\""), Vec::<String>::new());
    assert_eq!(names(&s, "externalId eq \"EXT-4\""), ["dave_100%"]);
    assert_eq!(names(&s, "externalId sw \"ext\""), ["Eve"]);
}

fn precedence_and_not(backend: Backend) {
    let s = people(backend);
    // `and` binds tighter than `or`.
    assert_eq!(
        names(
            &s,
            "userName eq \"eve\" or title co \"engineer\" and active eq false"
        ),
        ["Bob", "Eve"]
    );
    assert_eq!(
        names(
            &s,
            "(userName eq \"eve\" or title co \"engineer\") and active eq false"
        ),
        ["Bob"]
    );
    // not() of a comparison on an absent attribute holds (SCIM has no SQL NULL logic).
    assert_eq!(names(&s, "not (title co \"engineer\")"), ["Eve", "carol"]);
    assert_eq!(names(&s, "not (title pr) and not (emails pr)"), ["Eve"]);
}

fn multi_valued_and_value_filters(backend: Backend) {
    let s = people(backend);
    assert_eq!(names(&s, "emails co \"corp\""), ["Bob", "alice"]);
    assert_eq!(names(&s, "emails.type eq \"home\""), ["alice", "carol"]);
    assert_eq!(
        names(&s, "emails[type eq \"work\" and value co \"alice\"]"),
        ["alice"]
    );
    // Both conditions must hold on the same element.
    assert_eq!(
        names(&s, "emails[type eq \"home\" and value co \"corp\"]"),
        Vec::<String>::new()
    );
    // A value condition is looked up in the email index first (folded), and the elements
    // still decide: the value must be on an element of that type.
    for (filter, expected) in [
        (
            "emails[type eq \"work\" and value eq \"ALICE@corp.example\"]",
            &["alice"][..],
        ),
        (
            "emails[value eq \"alice@home.example\" and type eq \"work\"]",
            &[],
        ),
        (
            "emails[value eq \"alice@home.example\" and type eq \"home\"]",
            &["alice"],
        ),
        ("emails[type eq \"work\" and value sw \"BOB@\"]", &["Bob"]),
        (
            "emails[type eq \"home\" and value ew \"example\"]",
            &["alice", "carol"],
        ),
        (
            "emails[type eq \"home\" and value ne \"alice@home.example\"]",
            &["carol"],
        ),
        (
            "emails[value eq \"bob@corp.example\" or type eq \"home\"]",
            &["Bob", "alice", "carol"],
        ),
        ("emails[value eq \"nobody@corp.example\"]", &[]),
        (
            "not (emails[type eq \"work\" and value eq \"bob@corp.example\"])",
            &["Eve", "alice", "carol", "dave_100%"],
        ),
    ] {
        assert_eq!(names(&s, filter), expected, "{filter}");
    }
    assert_eq!(
        names(
            &s,
            "emails[type eq \"work\"] or phoneNumbers[type eq \"mobile\"]"
        ),
        ["Bob", "Eve", "alice"]
    );
    assert_eq!(names(&s, "emails[primary eq true]"), ["alice", "carol"]);
    assert_eq!(names(&s, "addresses[locality eq \"paris\"]"), ["alice"]);
    assert_eq!(names(&s, "phoneNumbers.value co \"555\""), ["Eve"]);
}

fn extension_and_complex_attributes(backend: Backend) {
    let s = people(backend);
    let dept = format!("{ENTERPRISE}:department");
    assert_eq!(names(&s, &format!("{dept} eq \"r&d\"")), ["alice", "carol"]);
    // Indexed in the document (migration 000010): folded, and `not` still holds for users
    // without a department.
    assert_eq!(names(&s, &format!("{dept} eq \"R&D\"")), ["alice", "carol"]);
    assert_eq!(
        names(&s, &format!("not ({dept} eq \"sales\")")),
        ["Eve", "alice", "carol", "dave_100%"]
    );
    assert_eq!(
        names(&s, &format!("not ({ENTERPRISE}:employeeNumber eq \"100\")")),
        ["Bob", "Eve", "carol", "dave_100%"]
    );
    for (filter, expected) in [
        (format!("{dept} ne \"sales\""), &["alice", "carol"][..]),
        (
            format!("not ({dept} ne \"sales\")"),
            &["Bob", "Eve", "dave_100%"],
        ),
        (
            format!("not ({dept} co \"&\")"),
            &["Bob", "Eve", "dave_100%"],
        ),
        (
            format!("not ({dept} gt \"s\")"),
            &["Eve", "alice", "carol", "dave_100%"],
        ),
        (
            format!("{dept} eq \"sales\" or userName eq \"eve\""),
            &["Bob", "Eve"],
        ),
    ] {
        assert_eq!(names(&s, &filter), expected, "{filter}");
    }
    assert_eq!(
        names(&s, &format!("{ENTERPRISE}:employeeNumber eq \"200\"")),
        ["Bob"]
    );
    let alice =
        s.get("/Users?filter=userName%20eq%20%22alice%22").body["Resources"][0]["id"].clone();
    let manager = format!(
        "{ENTERPRISE}:manager.value eq \"{}\"",
        alice.as_str().unwrap()
    );
    assert_eq!(names(&s, &manager), ["carol"]);
    let full = "urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq \"ames\"";
    assert_eq!(names(&s, full), ["alice"]);
}

fn presence_and_null(backend: Backend) {
    let s = people(backend);
    assert_eq!(names(&s, "title pr"), ["Bob", "alice", "dave_100%"]);
    assert_eq!(names(&s, "externalId pr"), ["Eve", "dave_100%"]);
    assert_eq!(names(&s, "phoneNumbers pr"), ["Eve"]);
    assert_eq!(names(&s, &format!("{ENTERPRISE}:manager pr")), ["carol"]);
    assert_eq!(names(&s, "title eq null"), ["Eve", "carol"]);
    assert_eq!(names(&s, "displayName pr"), ["alice"]);
}

fn booleans_numbers_and_dates(backend: Backend) {
    let s = people(backend);
    assert_eq!(names(&s, "active eq true"), ["alice"]);
    assert_eq!(names(&s, "active ne true"), ["Bob"]);
    assert_eq!(
        names(&s, "meta.created ge \"2000-01-01T00:00:00Z\"").len(),
        5
    );
    assert_eq!(
        names(&s, "meta.lastModified lt \"2000-01-01T00:00:00Z\"").len(),
        0
    );
    s.get(&format!("/Users?filter={}", enc("active gt true")))
        .assert_error(400, Some("invalidFilter"));
    s.get(&format!("/Users?filter={}", enc("title gt 3")))
        .assert_error(400, Some("invalidFilter"));
}

/// `co` and `ew` where the store looks up only a value's rarest trigrams (SQLite) or its rarest
/// word (PostgreSQL, from a sample of at least 100 rows) and checks the whole pattern on the
/// rows found: the same answers as matching the whole pattern, `not` included for users
/// without the attribute.
fn substrings_in_a_larger_tenant(backend: Backend) {
    let s = Server::start(backend);
    let ops: Vec<Value> = (0..300)
        .map(|i| {
            let mut user = json!({"schemas": [USER], "userName": format!("p{i:04}@corp.example"),
                "emails": [{"value": format!("P{i:04}@Corp.example"), "type": "work"}]});
            if i % 2 == 0 {
                user["displayName"] = json!(format!("Person {i:04} Corp"));
            }
            json!({"method": "POST", "path": "/Users", "bulkId": format!("u{i}"), "data": user})
        })
        .collect();
    for part in ops.chunks(50) {
        let r = s.post(
            "/Bulk",
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                    "Operations": part}),
        );
        assert_eq!(r.status, 200, "{}", r.text);
    }
    assert_eq!(s.get("/Users?count=0").body["totalResults"], 300);
    let one = ["p0123@corp.example"];
    assert_eq!(names(&s, "emails.value co \"0123@corp\""), one);
    assert_eq!(names(&s, "emails.value co \"0123@CORP.ex\""), one);
    assert_eq!(names(&s, "userName co \"0123@corp\""), one);
    assert_eq!(names(&s, "userName ew \"0123@corp.example\""), one);
    assert_eq!(
        names(&s, "emails.value ew \"0123@corp\""),
        Vec::<String>::new()
    );
    assert_eq!(
        names(&s, "displayName co \"0124 corp\""),
        ["p0124@corp.example"]
    );
    assert_eq!(
        names(&s, "displayName co \"0125 corp\""),
        Vec::<String>::new()
    );
    let total = |filter: &str| {
        let r = s.get(&format!("/Users?filter={}&count=0", enc(filter)));
        assert_eq!(r.status, 200, "{filter}: {}", r.text);
        r.body["totalResults"].clone()
    };
    assert_eq!(total("not (displayName co \"0124 corp\")"), 299);
    assert_eq!(total("not (emails.value co \"0123@corp\")"), 299);
    assert_eq!(total("emails.value co \"@corp.example\""), 300);
    assert_eq!(total("userName co \"01\" and userName co \"2@corp\""), 11);
}

fn metacharacters_match_literally(backend: Backend) {
    let s = people(backend);
    assert_eq!(names(&s, "userName co \"_100%\""), ["dave_100%"]);
    assert_eq!(names(&s, "userName co \"%\""), ["dave_100%"]);
    assert_eq!(names(&s, "userName co \"_\""), ["dave_100%"]);
    assert_eq!(names(&s, "title co \"'\""), Vec::<String>::new());
    assert_eq!(names(&s, "title eq \"x' OR '1'='1\""), Vec::<String>::new());
    assert_eq!(names(&s, "title co \"\\\\\""), Vec::<String>::new());
    // A backslash is data too, never a LIKE escape: `\_` matches a backslash before an
    // underscore, not any underscore.
    s.create_user("x\\_y%z");
    assert_eq!(names(&s, "userName co \"\\\\_\""), ["x\\_y%z"]);
    assert_eq!(names(&s, "userName co \"\\\\%\""), Vec::<String>::new());
    assert_eq!(names(&s, "userName sw \"x\\\\\""), ["x\\_y%z"]);
    assert_eq!(names(&s, "userName ew \"_y%z\""), ["x\\_y%z"]);
    // NUL is refused in what is written and in filters alike (PostgreSQL text cannot hold it),
    // with a SCIM error, and nothing is written.
    let users = s.get("/Users?count=0").body["totalResults"].clone();
    s.post(
        "/Users",
        &json!({"schemas": [USER], "userName": "nul\u{0}byte"}),
    )
    .assert_error(400, Some("invalidValue"));
    s.post(
        "/Users",
        &json!({"schemas": [USER], "userName": "nul-nested", "name": {"givenName": "a\u{0}"}}),
    )
    .assert_error(400, Some("invalidValue"));
    assert_eq!(s.get("/Users?count=0").body["totalResults"], users);
    let alice = s.get(&format!("/Users?filter={}", enc("userName eq \"alice\"")));
    let path = format!(
        "/Users/{}",
        alice.body["Resources"][0]["id"].as_str().unwrap()
    );
    s.req("PATCH", &path)
        .json(
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                      "Operations": [{"op": "replace", "path": "title", "value": "x\u{0}"}]}),
        )
        .assert_error(400, Some("invalidValue"));
    assert_eq!(
        s.get(&path).body["meta"]["version"],
        alice.body["Resources"][0]["meta"]["version"]
    );
    s.get(&format!(
        "/Users?filter={}",
        enc("userName eq \"a\\u0000b\"")
    ))
    .assert_error(400, Some("invalidFilter"));
    // Values that are ids, not attributes: a member and an id in the path.
    let g = s.create_group("nul-members", &[]);
    s.req("PATCH", &format!("/Groups/{}", g["id"].as_str().unwrap()))
        .json(
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                      "Operations": [{"op": "add", "path": "members",
                                      "value": [{"value": "a\u{0}"}]}]}),
        )
        .assert_error(400, Some("invalidValue"));
    let r = s.get("/Users/a%00b");
    assert!(matches!(r.status, 400 | 404), "{}", r.text);
}

fn group_filters_on_members(backend: Backend) {
    let s = Server::start(backend);
    let u = s.create_user("member");
    let uid = u["id"].as_str().unwrap();
    let g = s.create_group("With Member", &[uid]);
    s.create_group("Empty", &[]);
    let r = s.get(&format!(
        "/Groups?filter={}",
        enc(&format!("members.value eq \"{uid}\""))
    ));
    assert_eq!(r.body["totalResults"], 1, "{}", r.text);
    assert_eq!(r.body["Resources"][0]["id"], g["id"]);
    let r = s.get(&format!("/Groups?filter={}", enc("members pr")));
    assert_eq!(r.status, 400, "{}", r.text);
    let r = s.get(&format!(
        "/Groups?filter={}",
        enc("displayName sw \"with\"")
    ));
    assert_eq!(r.body["totalResults"], 1);
    let r = s.get(&format!(
        "/Users?filter={}",
        enc(&format!(
            "groups.value eq \"{}\"",
            g["id"].as_str().unwrap()
        ))
    ));
    assert_eq!(r.body["totalResults"], 1, "{}", r.text);
    assert_eq!(r.body["Resources"][0]["id"], u["id"]);
    assert_eq!(
        r.body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
    );
    assert!(
        s.get("/Groups").body["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["schemas"] == json!([GROUP]))
    );
}

fn user_names(body: &Value) -> Vec<String> {
    body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userName"].as_str().unwrap().to_owned())
        .collect()
}

fn sorting_is_stable_and_follows_the_schema(backend: Backend) {
    let s = people(backend);
    // userName is caseExact false: "Bob" sorts between "alice" and "carol".
    let r = s.get("/Users?sortBy=userName");
    assert_eq!(
        user_names(&r.body),
        ["alice", "Bob", "carol", "dave_100%", "Eve"]
    );
    let r = s.get("/Users?sortBy=userName&sortOrder=descending");
    assert_eq!(
        user_names(&r.body),
        ["Eve", "dave_100%", "carol", "Bob", "alice"]
    );
    // Absent values sort last; ties broken by id, so pages neither repeat nor skip.
    let r = s.get("/Users?sortBy=title&attributes=userName,title");
    let got = user_names(&r.body);
    let mut ties = got[..2].to_vec();
    ties.sort();
    assert_eq!(ties, ["alice", "dave_100%"], "{got:?}");
    assert_eq!(got[2], "Bob", "{got:?}");
    let mut absent = got[3..].to_vec();
    absent.sort();
    assert_eq!(absent, ["Eve", "carol"], "{got:?}");
    let mut paged = Vec::new();
    for start in 1..=5 {
        let r = s.get(&format!("/Users?sortBy=title&count=1&startIndex={start}"));
        paged.extend(user_names(&r.body));
    }
    assert_eq!(paged, got);
    // A multi-valued attribute sorts by its primary value.
    let r = s.get(&format!("/Users?sortBy=emails&filter={}", enc("emails pr")));
    assert_eq!(user_names(&r.body), ["alice", "Bob", "carol"]);
    let r = s.get(&format!(
        "/Users?sortBy={ENTERPRISE}:department&filter={}",
        enc(&format!("{ENTERPRISE}:department pr"))
    ));
    assert_eq!(user_names(&r.body)[2], "Bob");
    s.get("/Users?sortBy=shoeSize")
        .assert_error(400, Some("invalidFilter"));
    s.get("/Users?sortBy=userName&sortOrder=sideways")
        .assert_error(400, Some("invalidValue"));
}

fn search_endpoints_answer_like_get(backend: Backend) {
    let s = people(backend);
    s.create_group("Admins", &[]);
    let get = s.get(&format!(
        "/Users?filter={}&sortBy=userName&startIndex=2&count=2&attributes=userName",
        enc("title pr")
    ));
    let search = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": "title pr", "sortBy": "userName", "startIndex": 2, "count": 2,
        "attributes": ["userName"]
    });
    let post = s.post("/Users/.search", &search);
    assert_eq!(post.status, 200, "{}", post.text);
    assert_eq!(post.header("content-type"), Some("application/scim+json"));
    assert_eq!(post.body, get.body);
    let groups = s.post(
        "/Groups/.search",
        &json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": "displayName eq \"admins\""}),
    );
    assert_eq!(groups.body["totalResults"], 1, "{}", groups.text);
    // At the root: Users then Groups; a filter on userName matches no group.
    let all = s.post(
        "/.search",
        &json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}),
    );
    assert_eq!(all.body["totalResults"], 6, "{}", all.text);
    let page = s.post(
        "/.search",
        &json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "startIndex": 5, "count": 2}),
    );
    assert_eq!(page.body["itemsPerPage"], 2, "{}", page.text);
    assert_eq!(page.body["Resources"][1]["meta"]["resourceType"], "Group");
    let some = s.post(
        "/.search",
        &json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": "userName eq \"bob\""}),
    );
    assert_eq!(some.body["totalResults"], 1, "{}", some.text);
    s.post("/Users/.search", &json!({"filter": "title pr"}))
        .assert_error(400, Some("invalidSyntax"));
    s.post(
        "/.search",
        &json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": "shoeSize eq 1"}),
    )
    .assert_error(400, Some("invalidFilter"));
}

fn malformed_filters_are_invalid_filter(backend: Backend) {
    let s = Server::start(backend);
    for f in [
        "userName eq",
        "userName xx \"a\"",
        "(userName eq \"a\"",
        "userName eq \"a\" and",
        "emails[type eq \"work\"",
        "userName eq \"unterminated",
        "shoeSize eq \"x\"",
        "emails[type eq \"work\"].value eq \"x\"",
        "name eq \"x\"",
    ] {
        let r = s.get(&format!("/Users?filter={}", enc(f)));
        r.assert_error(400, Some("invalidFilter"));
    }
    let deep = format!("{}userName eq \"a\"{}", "(".repeat(5000), ")".repeat(5000));
    s.post(
        "/Users/.search",
        &json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": deep}),
    )
    .assert_error(400, Some("invalidFilter"));
}
