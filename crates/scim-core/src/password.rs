//! Password hashing: `password` is writeOnly (RFC 7643 §4.1.1), so only an Argon2id hash is
//! stored and nothing can return it.

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};

use crate::error::{Error, Result};

/// Hashes a clear-text password as a PHC string (Argon2id, default parameters).
pub fn hash(clear: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(clear.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::internal_msg(format!("password hashing failed: {e}")))
}

/// Checks a clear-text password against a stored PHC hash.
pub fn verify(clear: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| {
        Argon2::default()
            .verify_password(clear.as_bytes(), &h)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn hash_verifies_and_hides_the_clear_text() {
        let h = super::hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(!h.contains("correct horse"));
        assert!(super::verify("correct horse", &h));
        assert!(!super::verify("wrong", &h));
    }
}
