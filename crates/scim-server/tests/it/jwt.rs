//! JWT bearer tokens: HS256 and RS256 (PEM and JWKS), with `exp`, `nbf`, `iss` and `aud`
//! checked, tenant and scopes from claims, and every forged or stale token refused with 401.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use scim_server::jwt::{JwtConfig, JwtKeys};
use serde_json::{Value, json};

use crate::backends;
use crate::harness::{Backend, Database, Server, USER, test_config};

backends!(
    hs256_tokens_act_for_their_tenant,
    stale_or_foreign_hs256_tokens_are_refused,
    rs256_tokens_verify_with_a_pem_key,
    rs256_tokens_verify_with_a_jwks,
);

const SECRET: &str = "a shared secret of at least thirty-two bytes";
const PRIVATE: &str = include_str!("keys/rs256-private.pem");
const OTHER: &str = include_str!("keys/other-private.pem");
const PUBLIC: &str = include_str!("keys/rs256-public.pem");
const JWKS: &str = include_str!("keys/rs256.jwks.json");

fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

fn claims() -> Value {
    json!({
        "iss": "https://idp.example", "aud": "scim", "sub": "provisioning-bot",
        "exp": now() + 3600, "tenant": "default", "scope": "scim:read scim:write"
    })
}

fn server(backend: Backend, keys: JwtKeys) -> Server {
    let db = Database::new(backend);
    let mut config = test_config(&db);
    config.jwt = Some(JwtConfig {
        keys,
        issuer: "https://idp.example".into(),
        audience: "scim".into(),
        tenant_claim: "tenant".into(),
        scope_claim: "scope".into(),
    });
    Server::with_config(db, config)
}

fn hs256(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn rs256(claims: &Value, pem: &str, kid: Option<&str>) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

fn status(s: &Server, token: &str, method: &str, body: Option<&Value>) -> u16 {
    let req = s
        .raw(method, "/Users")
        .header("Authorization", &format!("Bearer {token}"));
    let r = match body {
        Some(b) => req.json(b),
        None => req.send(),
    };
    if r.status >= 400 {
        assert_eq!(
            r.header("content-type"),
            Some("application/scim+json"),
            "{}",
            r.text
        );
    }
    if r.status == 401 {
        assert!(
            r.header("www-authenticate")
                .is_some_and(|h| h.starts_with("Bearer"))
        );
    }
    r.status
}

fn hs256_tokens_act_for_their_tenant(backend: Backend) {
    let s = server(backend, JwtKeys::Hs256(SECRET.as_bytes().to_vec()));
    let token = hs256(&claims(), SECRET);
    let user = json!({"schemas": [USER], "userName": "via-jwt"});
    assert_eq!(status(&s, &token, "POST", Some(&user)), 201);
    // The JWT acts for tenant `default`: the bootstrap token of that tenant sees the user.
    assert_eq!(s.get("/Users").body["totalResults"], 1);
    assert_eq!(status(&s, &token, "GET", None), 200);
    // Scopes as an array; without scim:write a POST is 403.
    let mut read_only = claims();
    read_only["scope"] = json!(["scim:read"]);
    let token = hs256(&read_only, SECRET);
    assert_eq!(status(&s, &token, "GET", None), 200);
    assert_eq!(status(&s, &token, "POST", Some(&user)), 403);
    // Opaque tokens keep working beside JWTs.
    assert_eq!(s.get("/Users").status, 200);
}

fn stale_or_foreign_hs256_tokens_are_refused(backend: Backend) {
    let s = server(backend, JwtKeys::Hs256(SECRET.as_bytes().to_vec()));
    let with = |change: &dyn Fn(&mut Value)| {
        let mut c = claims();
        change(&mut c);
        hs256(&c, SECRET)
    };
    let refused = [
        ("expired", with(&|c| c["exp"] = json!(now() - 600))),
        ("not yet valid", with(&|c| c["nbf"] = json!(now() + 600))),
        (
            "no exp",
            with(&|c| {
                c.as_object_mut().unwrap().remove("exp");
            }),
        ),
        (
            "wrong audience",
            with(&|c| c["aud"] = json!("someone-else")),
        ),
        (
            "wrong issuer",
            with(&|c| c["iss"] = json!("https://evil.example")),
        ),
        ("unknown tenant", with(&|c| c["tenant"] = json!("nobody"))),
        (
            "no tenant claim",
            with(&|c| {
                c.as_object_mut().unwrap().remove("tenant");
            }),
        ),
        (
            "wrong secret",
            hs256(&claims(), "another secret, also long enough to pass"),
        ),
        (
            "RS256 where HS256 is configured",
            rs256(&claims(), PRIVATE, None),
        ),
        ("alg none", unsigned(&claims())),
        ("tampered payload", tamper(&hs256(&claims(), SECRET))),
    ];
    for (why, token) in refused {
        assert_eq!(status(&s, &token, "GET", None), 401, "{why}");
    }
}

/// A token with `"alg": "none"` and no signature.
fn unsigned(claims: &Value) -> String {
    use base64_url::encode;
    format!(
        "{}.{}.",
        encode(br#"{"alg":"none","typ":"JWT"}"#),
        encode(claims.to_string().as_bytes())
    )
}

/// The same signature over a payload naming more scopes.
fn tamper(token: &str) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut c = claims();
    c["scope"] = json!("scim:read scim:write admin");
    format!(
        "{}.{}.{}",
        parts[0],
        base64_url::encode(c.to_string().as_bytes()),
        parts[2]
    )
}

/// Minimal base64url (no padding) for hand-made tokens.
mod base64_url {
    pub fn encode(bytes: &[u8]) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..=chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            }
        }
        out
    }
}

fn rs256_tokens_verify_with_a_pem_key(backend: Backend) {
    let s = server(backend, JwtKeys::rs256_pem(PUBLIC.as_bytes()).unwrap());
    assert_eq!(
        status(&s, &rs256(&claims(), PRIVATE, None), "GET", None),
        200
    );
    assert_eq!(status(&s, &rs256(&claims(), OTHER, None), "GET", None), 401);
    // Algorithm confusion: an HS256 token "signed" with the public key as a shared secret.
    assert_eq!(status(&s, &hs256(&claims(), PUBLIC), "GET", None), 401);
    assert_eq!(status(&s, &unsigned(&claims()), "GET", None), 401);
}

fn rs256_tokens_verify_with_a_jwks(backend: Backend) {
    let s = server(backend, JwtKeys::rs256_jwks(JWKS.as_bytes()).unwrap());
    assert_eq!(
        status(
            &s,
            &rs256(&claims(), PRIVATE, Some("test-key-1")),
            "GET",
            None
        ),
        200
    );
    assert_eq!(
        status(&s, &rs256(&claims(), PRIVATE, None), "GET", None),
        200
    );
    assert_eq!(
        status(
            &s,
            &rs256(&claims(), PRIVATE, Some("other-kid")),
            "GET",
            None
        ),
        401
    );
    assert_eq!(
        status(
            &s,
            &rs256(&claims(), OTHER, Some("test-key-1")),
            "GET",
            None
        ),
        401
    );
}
