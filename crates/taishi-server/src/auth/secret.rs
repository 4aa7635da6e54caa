//! Session ids and API tokens: random secrets handed to the client once, stored only as SHA-256.
//!
//! A database dump therefore holds nothing that logs anyone in. API tokens carry the `tsk_` prefix so
//! secret scanners and people recognise them; the first characters are kept as a visible `prefix`.

use rand::RngExt;
use sha2::{Digest, Sha256};

/// The prefix every API token starts with.
pub const TOKEN_PREFIX: &str = "tsk_";
/// How many characters of a token are kept in clear to tell tokens apart (`tsk_` + 8).
pub const SHOWN_PREFIX_CHARS: usize = 12;

/// 32 random bytes as 64 lower-case hex characters.
fn random_hex32() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

/// SHA-256 of `secret`, hex-encoded: what the store keeps and looks up.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new session id for a cookie, with the hash to store.
pub fn new_session_secret() -> (String, String) {
    let s = random_hex32();
    let h = hash_secret(&s);
    (s, h)
}

/// A new API token (`tsk_` + 64 hex), with its visible prefix and the hash to store.
pub struct NewToken {
    /// The whole token; shown to the operator once and never stored.
    pub secret: String,
    /// The visible beginning, stored to tell tokens apart.
    pub prefix: String,
    /// SHA-256 of the whole token.
    pub hash: String,
}

/// Generates a new API token.
pub fn new_api_token() -> NewToken {
    let secret = format!("{TOKEN_PREFIX}{}", random_hex32());
    let prefix = secret[..SHOWN_PREFIX_CHARS].to_owned();
    let hash = hash_secret(&secret);
    NewToken {
        secret,
        prefix,
        hash,
    }
}

/// A random password for the first administrator: 20 characters from an alphabet without look-alikes.
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_prefixed_and_hashed() {
        let a = new_api_token();
        let b = new_api_token();
        assert_ne!(a.secret, b.secret);
        assert!(a.secret.starts_with("tsk_") && a.secret.len() == 68);
        assert_eq!(a.prefix, &a.secret[..12]);
        assert_eq!(a.hash, hash_secret(&a.secret));
        assert_eq!(a.hash.len(), 64);
        assert!(!a.hash.contains(&a.secret[4..]));
    }

    #[test]
    fn sessions_and_passwords() {
        let (s, h) = new_session_secret();
        assert_eq!(s.len(), 64);
        assert_eq!(h, hash_secret(&s));
        let p = random_password();
        assert_eq!(p.chars().count(), 20);
        assert_ne!(p, random_password());
        // Known vector: SHA-256("abc").
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
