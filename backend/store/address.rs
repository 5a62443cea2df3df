//! Client addresses and user ids are never stored: only a keyed HMAC-SHA256 of them, so the
//! per-address and per-user limits work across replicas (same key) without keeping either.
use super::AdmissionRequest;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use std::fmt;

#[derive(Clone)]
pub(crate) struct AddressHasher {
    keyed: Hmac<Sha256>,
}

impl AddressHasher {
    pub(crate) fn new(key: &SecretString) -> AddressHasher {
        // HMAC takes keys of any length (long keys are hashed), so this cannot fail.
        let keyed = <Hmac<Sha256> as Mac>::new_from_slice(key.expose_secret().as_bytes())
            .expect("HMAC-SHA256 accepts keys of any length");
        AddressHasher { keyed }
    }

    /// Lower-case hex of HMAC-SHA256(key, address), 64 characters.
    pub(crate) fn hash(&self, address: &str) -> String {
        let mut mac = self.keyed.clone();
        mac.update(address.trim().to_ascii_lowercase().as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Lower-case hex of HMAC-SHA256(key, "user\0" + id): the id exactly as given (no case
    /// folding), in a domain of its own so no user hash can equal an address hash.
    pub(crate) fn hash_user(&self, user: &str) -> String {
        let mut mac = self.keyed.clone();
        mac.update(b"user\0");
        mac.update(user.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// What an admission counts against, hashed: the client address and the user, when known.
pub(crate) struct Identities {
    pub(crate) address: Option<String>,
    pub(crate) user: Option<String>,
}

impl AddressHasher {
    /// The request's address and user, hashed as both stores key their limits.
    pub(crate) fn identities(&self, request: &AdmissionRequest) -> Identities {
        Identities {
            address: request.client_address.as_deref().map(|a| self.hash(a)),
            user: request.user.as_deref().map(|u| self.hash_user(u)),
        }
    }
}

impl fmt::Debug for AddressHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AddressHasher(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher(key: &str) -> AddressHasher {
        AddressHasher::new(&SecretString::from(key.to_owned()))
    }

    #[test]
    fn an_address_hash_is_64_hex_characters_and_not_the_address() {
        let hash = hasher("key").hash("203.0.113.7");
        assert_eq!(hash.len(), 64);
        assert!(hash
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert!(!hash.contains("203"));
    }

    #[test]
    fn the_same_address_hashes_alike_under_one_key_and_differently_under_another() {
        assert_eq!(
            hasher("a").hash("2001:DB8::1"),
            hasher("a").hash("2001:db8::1 ")
        );
        assert_ne!(
            hasher("a").hash("2001:db8::1"),
            hasher("b").hash("2001:db8::1")
        );
    }

    #[test]
    fn a_user_hash_is_keyed_exact_and_never_an_address_hash() {
        let user = "4f1c7c52-0a3e-4b8e-9d7b-1f0c2a9e6d11";
        let hash = hasher("a").hash_user(user);
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains("4f1c7c52"));
        assert_eq!(hash, hasher("a").hash_user(user));
        assert_ne!(hash, hasher("b").hash_user(user));
        assert_ne!(hash, hasher("a").hash_user(&user.to_ascii_uppercase()));
        assert_ne!(hash, hasher("a").hash(user));
    }
}
