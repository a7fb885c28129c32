//! `scim-server import` and `export` (the HR feed): rows validated one by one with line
//! numbers, groups created when missing, dry runs, updates that keep what the file does not
//! name, and an export that re-imports unchanged.

use serde_json::Value;

use crate::backends;
use crate::cli::cli;
use crate::harness::{Backend, Server, TempDir, postgres_url};

backends!(
    import_creates_users_and_groups_and_reports_bad_rows,
    dry_run_writes_nothing,
    reimport_updates_only_the_columns_given,
    a_name_repeated_in_the_file_updates_the_user_it_created,
    export_reimports_unchanged,
    import_over_http_needs_the_admin_scope,
    extension_attributes_are_columns_of_import_and_export,
);

const PEOPLE: &str = "\
first_name,last_name,email,external_id,display_name,title,department,phone,active,groups
Ada,Lovelace,ada@example.com,e-1,Ada L,Engineer,R&D,555-0101,true,Engineering;Everyone
Bob,NoMail,,e-2,,,,,,
Cy,Young,cy@example.com,e-3,,Pitcher,Sales,,maybe,
Dee,Doe,dee@example.com,,,,,,false,Everyone
";

fn write(dir: &TempDir, name: &str, text: &str) -> String {
    let path = dir.0.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn user(s: &Server, user_name: &str) -> Value {
    let r = s.get(&format!("/Users?filter=userName%20eq%20%22{user_name}%22"));
    assert_eq!(r.body["totalResults"], 1, "{user_name}: {}", r.text);
    r.body["Resources"][0].clone()
}

/// The display names of a user's groups, sorted.
fn group_names(user: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = user["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["display"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    names
}

fn import_creates_users_and_groups_and_reports_bad_rows(backend: Backend) {
    let s = Server::start(backend);
    let dir = TempDir::new();
    let file = write(&dir, "people.csv", PEOPLE);
    let report = dir.0.join("report.json").display().to_string();
    let out = cli(
        &s,
        &["import", &file, "--tenant", "default", "--report", &report],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "failed rows make the exit status 1: {stderr}"
    );
    assert!(
        stdout.contains("created 2, updated 0, failed 2"),
        "{stdout}"
    );
    assert!(stderr.contains("line 3: email is empty"), "{stderr}");
    assert!(
        stderr.contains("line 4: active must be true or false"),
        "{stderr}"
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(report["created"], 2);
    assert_eq!(report["failed"], 2);
    assert_eq!(report["errors"][0]["line"], 3);
    assert_eq!(report["errors"][1]["line"], 4);

    let ada = user(&s, "ada@example.com");
    assert_eq!(ada["name"]["givenName"], "Ada");
    assert_eq!(ada["externalId"], "e-1");
    assert_eq!(ada["title"], "Engineer");
    assert_eq!(ada["active"], true);
    assert_eq!(ada["emails"][0]["value"], "ada@example.com");
    assert_eq!(ada["emails"][0]["primary"], true);
    assert_eq!(ada["phoneNumbers"][0]["value"], "555-0101");
    assert_eq!(
        ada["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"],
        "R&D"
    );
    assert_eq!(group_names(&ada), ["Engineering", "Everyone"]);
    let everyone = s.get("/Groups?filter=displayName%20eq%20%22everyone%22");
    assert_eq!(
        everyone.body["Resources"][0]["members"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Nothing of a bad row is written.
    assert_eq!(s.get("/Users").body["totalResults"], 2);
    assert_eq!(s.get("/Groups").body["totalResults"], 2);
}

fn dry_run_writes_nothing(backend: Backend) {
    let s = Server::start(backend);
    let dir = TempDir::new();
    let file = write(&dir, "people.csv", PEOPLE);
    let out = cli(&s, &["import", &file, "--tenant", "default", "--dry-run"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("dry run (nothing written): created 2, updated 0, failed 2"),
        "{stdout}"
    );
    assert_eq!(s.get("/Users").body["totalResults"], 0);
    assert_eq!(s.get("/Groups").body["totalResults"], 0);
    let bad = write(&dir, "bad.csv", "first,last\nx,y\n");
    let out = cli(&s, &["import", &bad, "--tenant", "default"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no 'first_name' column"));
    let out = cli(&s, &["import", &file, "--tenant", "nobody"]);
    assert!(!out.status.success());
}

fn reimport_updates_only_the_columns_given(backend: Backend) {
    let s = Server::start(backend);
    let dir = TempDir::new();
    let first = write(
        &dir,
        "a.csv",
        "first_name,last_name,email,title\nAda,Lovelace,ada@example.com,Engineer\n",
    );
    assert!(
        cli(&s, &["import", &first, "--tenant", "default"])
            .status
            .success()
    );
    let ada = user(&s, "ada@example.com");
    let path = format!("/Users/{}", ada["id"].as_str().unwrap());
    let patch = serde_json::json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "nickName", "value": "Countess"}]});
    assert_eq!(s.req("PATCH", &path).json(&patch).status, 200);
    let second = write(
        &dir,
        "b.csv",
        "first_name,last_name,email,title\nAda,Lovelace,ADA@example.com,Chief Engineer\n",
    );
    let out = cli(&s, &["import", &second, "--tenant", "default"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("created 0, updated 1, failed 0"));
    let ada = s.get(&path).body;
    assert_eq!(ada["title"], "Chief Engineer");
    assert_eq!(
        ada["nickName"], "Countess",
        "attributes the file does not name are kept"
    );
    assert_eq!(s.get("/Users").body["totalResults"], 1);
}

/// Rows of one chunk that name the same user (case aside) create it once and then update it,
/// beside rows for users that existed before.
fn a_name_repeated_in_the_file_updates_the_user_it_created(backend: Backend) {
    let s = Server::start(backend);
    let bob = s.create_user("bob@example.com");
    let dir = TempDir::new();
    let file = write(
        &dir,
        "repeat.csv",
        "first_name,last_name,email,title,groups\n\
         Ada,Lovelace,ada@example.com,Engineer,Everyone\n\
         Bob,Builder,BOB@example.com,Foreman,\n\
         Ada,Lovelace,ADA@example.com,Chief Engineer,Board\n\
         Cy,Young,cy@example.com,Pitcher,Everyone\n",
    );
    let out = cli(&s, &["import", &file, "--tenant", "default"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("created 2, updated 2, failed 0"),
        "{stdout}"
    );
    assert_eq!(s.get("/Users").body["totalResults"], 3);
    let ada = user(&s, "ada@example.com");
    assert_eq!(ada["title"], "Chief Engineer");
    assert_eq!(group_names(&ada), ["Board", "Everyone"]);
    let bob = s
        .get(&format!("/Users/{}", bob["id"].as_str().unwrap()))
        .body;
    assert_eq!(bob["title"], "Foreman");
    assert_eq!(user(&s, "cy@example.com")["title"], "Pitcher");
}

/// Once an import has created 1,000 users, PostgreSQL's planner statistics of the resource
/// tables are refreshed (`ANALYZE`), so that the new tenant's rows are looked up by key rather
/// than walked as if they were a row or two.
#[test]
fn a_large_import_refreshes_planner_statistics() {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Analyzed {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        analyses: i64,
    }
    if postgres_url().is_none() {
        return;
    }
    let s = Server::start(Backend::Postgres);
    let analyzed = || {
        let mut conn = diesel::PgConnection::establish(&s.db.url).unwrap();
        diesel::sql_query(
            "SELECT COALESCE(SUM(analyze_count), 0)::BIGINT AS analyses FROM pg_stat_user_tables \
             WHERE schemaname = current_schema() \
             AND relname IN ('users', 'user_emails', 'groups', 'group_members')",
        )
        .get_result::<Analyzed>(&mut conn)
        .unwrap()
        .analyses
    };
    let dir = TempDir::new();
    // Imports `n` new users into the group Everyone and returns the summary line.
    let import = |name: &str, n: usize| {
        let rows: String = (0..n)
            .map(|i| format!("{name}{i},Q{i},{name}{i}@example.com,Everyone\n"))
            .collect();
        let file = write(
            &dir,
            name,
            &format!("first_name,last_name,email,groups\n{rows}"),
        );
        let out = cli(&s, &["import", &file, "--tenant", "default"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // Migration 000011 analyses `users` once.
    let before = analyzed();
    assert!(import("many", 999).contains("created 999, updated 0, failed 0"));
    assert_eq!(analyzed(), before, "999 users are not enough");
    assert!(import("one", 1).contains("created 1, updated 0, failed 0"));
    assert_eq!(analyzed(), before, "the count is per import");
    assert!(import("more", 1_000).contains("created 1000, updated 0, failed 0"));
    assert_eq!(analyzed(), before + 4);
}

fn export_reimports_unchanged(backend: Backend) {
    let s = Server::start(backend);
    let dir = TempDir::new();
    let file = write(&dir, "people.csv", PEOPLE);
    cli(&s, &["import", &file, "--tenant", "default"]);
    let out = cli(&s, &["export", "--tenant", "default"]);
    assert!(out.status.success());
    let exported = String::from_utf8(out.stdout).unwrap();
    assert_eq!(exported.lines().count(), 3, "{exported}");
    assert!(exported.starts_with(
        "first_name,last_name,email,external_id,display_name,title,department,phone,active,groups\n"
    ));
    assert!(
        exported.contains(
            "Ada,Lovelace,ada@example.com,e-1,Ada L,Engineer,R&D,555-0101,true,Engineering;Everyone"
        ),
        "{exported}"
    );
    // Into another tenant, then out again: the same file.
    assert!(cli(&s, &["tenant", "create", "copy"]).status.success());
    let again = write(&dir, "export.csv", &exported);
    assert!(
        cli(&s, &["import", &again, "--tenant", "copy"])
            .status
            .success()
    );
    let round = String::from_utf8(cli(&s, &["export", "--tenant", "copy"]).stdout).unwrap();
    assert_eq!(round, exported);
    let json = cli(
        &s,
        &[
            "export",
            "--tenant",
            "default",
            "--format",
            "json",
            "--filter",
            "active eq false",
        ],
    );
    let users: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(users.as_array().unwrap().len(), 1);
    assert_eq!(users[0]["userName"], "dee@example.com");
    assert_eq!(users[0]["groups"][0]["display"], "Everyone");
    // The command line honours the configured limits too.
    let out = cli(
        &s,
        &[
            "export",
            "--tenant",
            "default",
            "--filter",
            "active eq false",
            "--max-filter-length",
            "10",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("at most 10"), "{err}");
}

fn import_over_http_needs_the_admin_scope(backend: Backend) {
    let s = Server::start(backend);
    let post = |query: &str, token: Option<&str>| {
        let mut req = s
            .raw("POST", &format!("//admin/v1/import{query}"))
            .header("Content-Type", "text/csv");
        if let Some(t) = token {
            req = req.header("Authorization", &format!("Bearer {t}"));
        }
        req.body(Some(PEOPLE))
    };
    let dry = post("?dryRun=true", Some(crate::harness::TOKEN));
    assert_eq!(dry.status, 200, "{}", dry.text);
    assert_eq!(dry.body["dryRun"], true);
    assert_eq!(dry.body["created"], 2);
    assert_eq!(s.get("/Users").body["totalResults"], 0);
    let r = post("", Some(crate::harness::TOKEN));
    assert_eq!(r.body["created"], 2, "{}", r.text);
    assert_eq!(r.body["failed"], 2);
    assert_eq!(r.body["errors"][0]["line"], 3);
    assert_eq!(s.get("/Users").body["totalResults"], 2);
    post("", None).assert_error(401, None);
    let out = cli(
        &s,
        &[
            "token",
            "create",
            "--tenant",
            "default",
            "--scope",
            "scim:write",
        ],
    );
    let writer = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned();
    post("", Some(&writer)).assert_error(403, None);
    let r = s
        .raw("POST", "//admin/v1/import")
        .header(
            "Authorization",
            &format!("Bearer {}", crate::harness::TOKEN),
        )
        .header("Content-Type", "application/json")
        .body(Some("{}"));
    r.assert_error(415, None);
}

/// Tenant extension attributes are CSV columns by name (`URN:name` where the name alone is
/// taken), typed from the declaration, and exported in the same form so the file round-trips.
fn extension_attributes_are_columns_of_import_and_export(backend: Backend) {
    const ACME: &str = "urn:example:acme:2.0:User";
    const OTHER: &str = "urn:example:other:2.0:User";
    let s = Server::start(backend);
    for (urn, attributes) in [
        (
            ACME,
            serde_json::json!([
                {"name": "badge", "type": "integer", "uniqueness": "server"},
                {"name": "contractor", "type": "boolean"},
                {"name": "hired", "type": "dateTime"},
                {"name": "title", "type": "string"},
                {"name": "sites", "type": "string", "multiValued": true}
            ]),
        ),
        (
            OTHER,
            serde_json::json!([{"name": "badge", "type": "string"}]),
        ),
    ] {
        let r = s.put(
            &format!("//admin/v1/extensions/User/{urn}"),
            &serde_json::json!({ "attributes": attributes }),
        );
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let dir = TempDir::new();
    let file = write(
        &dir,
        "people.csv",
        &format!(
            "first_name,last_name,email,{ACME}:badge,contractor,hired,{ACME}:title,{OTHER}:badge,sites\n\
             Ada,Lovelace,ada@example.com,7,yes,2020-01-01T09:00:00Z,Countess,B-7,Paris; Lyon\n\
             Bob,Byron,bob@example.com,seven,no,,,,\n\
             Cy,Young,cy@example.com,7,,,,,\n\
             Dee,Doe,dee@example.com,,false,,,,\n"
        ),
    );
    let out = cli(&s, &["import", &file, "--tenant", "default"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 3:") && stderr.contains("must be an integer"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 4:") && stderr.contains("unique"),
        "{stderr}"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("created 2, updated 0, failed 2"),
        "{stderr}"
    );
    let ada = user(&s, "ada@example.com");
    assert_eq!(
        ada[ACME],
        serde_json::json!({"badge": 7, "contractor": true, "hired": "2020-01-01T09:00:00Z",
                           "title": "Countess", "sites": ["Paris", "Lyon"]})
    );
    assert_eq!(ada[OTHER], serde_json::json!({"badge": "B-7"}));
    assert_eq!(ada["schemas"].as_array().unwrap().len(), 3);
    // Typed columns: the imported values filter like any.
    let r = s.get(&format!("/Users?filter={ACME}:badge%20ge%207"));
    assert_eq!(r.body["totalResults"], 1, "{}", r.text);

    // An unknown column is refused before any row; a plain name used by two extensions is too.
    for header in [
        "first_name,last_name,email,shoe_size",
        "first_name,last_name,email,badge",
    ] {
        let bad = write(&dir, "bad.csv", &format!("{header}\nA,B,a@b.c,1\n"));
        let out = cli(&s, &["import", &bad, "--tenant", "default"]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("unknown column"));
    }

    // Export writes the extension columns after the standard ones and re-imports unchanged.
    let exported = String::from_utf8(cli(&s, &["export", "--tenant", "default"]).stdout).unwrap();
    let header = exported.lines().next().unwrap();
    assert_eq!(
        header,
        format!(
            "first_name,last_name,email,external_id,display_name,title,department,phone,active,\
             groups,{ACME}:badge,contractor,hired,{ACME}:title,sites,{OTHER}:badge"
        )
    );
    assert!(
        exported.contains(",7,true,2020-01-01T09:00:00Z,Countess,Paris;Lyon,B-7"),
        "{exported}"
    );
    assert!(
        exported.contains("Dee,Doe,dee@example.com,,,,,,,,,false,,,,\n"),
        "{exported}"
    );
    assert!(cli(&s, &["tenant", "create", "copy"]).status.success());
    let admin = crate::cli::token(&s, "copy", &["--scope", "admin"]).0;
    for (urn, body) in [
        (
            ACME,
            s.get(&format!("//admin/v1/extensions/User/{ACME}")).body,
        ),
        (
            OTHER,
            s.get(&format!("//admin/v1/extensions/User/{OTHER}")).body,
        ),
    ] {
        let r = crate::cli::with(
            &s,
            &admin,
            "PUT",
            &format!("//admin/v1/extensions/User/{urn}"),
        )
        .json(&body);
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let again = write(&dir, "export.csv", &exported);
    let out = cli(&s, &["import", &again, "--tenant", "copy"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let round = String::from_utf8(cli(&s, &["export", "--tenant", "copy"]).stdout).unwrap();
    assert_eq!(round, exported);
}
