//! Password hashing with argon2id (PHC strings) and the rules a new password must meet.
//!
//! Hashing costs tens of milliseconds of CPU by design; async callers run these functions inside
//! `tokio::task::spawn_blocking` so one login cannot stall other requests.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// The shortest password accepted when one is set or changed.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The longest password accepted (bounds hashing work on hostile input).
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Hashing failed; only happens on a broken random source.
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Hashes `password` with Argon2id v19 and a random salt, returning the PHC string to store.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// True when `password` matches the stored PHC string (constant-time comparison inside argon2).
/// An unparsable stored hash never matches.
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A fixed hash verified against when the login name is unknown, so an unknown name takes as long to
/// refuse as a wrong password and login names cannot be probed by timing.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("taishi-dummy-password").unwrap_or_default())
}

/// Checks a new password against the length rules; the message names what to fix.
pub fn check_new_password(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(format!("must be at least {MIN_PASSWORD_CHARS} characters"));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(format!("must be at most {MAX_PASSWORD_CHARS} characters"));
    }
    if password.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_argon2id_and_verifies() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
        assert!(!verify_password("x", "not a phc string"));
        assert_ne!(
            h,
            hash_password("correct horse battery").unwrap(),
            "salt must be random"
        );
    }

    #[test]
    fn new_password_rules() {
        assert!(check_new_password("short").is_err());
        assert!(check_new_password("long enough pw").is_ok());
        assert!(check_new_password(&"x".repeat(300)).is_err());
        assert!(check_new_password("with\nnewline!!").is_err());
    }
}
