//! Password hashing: `password` is writeOnly (RFC 7643 §4.1.1), so only an Argon2id hash is
//! stored and nothing can return it.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};

use crate::error::{Error, Result};

/// Hashes a clear-text password as a PHC string (Argon2id, default parameters).
pub fn hash(clear: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(clear.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::internal_msg(format!("password hashing failed: {e}")))
}

#[cfg(test)]
mod tests {
    use argon2::Argon2;
    use argon2::password_hash::{PasswordHash, PasswordVerifier};

    #[test]
    fn hash_verifies_and_hides_the_clear_text() {
        let h = super::hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(!h.contains("correct horse"));
        let parsed = PasswordHash::new(&h).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"wrong", &parsed)
                .is_err()
        );
    }
}
