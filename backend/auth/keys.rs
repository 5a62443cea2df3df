//! The project's published signing keys, each pinned to the one algorithm it verifies.
//! Only asymmetric keys are taken from the JWKS (ES256 on P-256, RS256); a symmetric key
//! there, a key of another type or one marked for encryption is ignored, so a token can
//! never choose how it is checked.
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use std::collections::HashMap;

/// One verifying key and the only algorithm it may be used with.
pub(crate) struct PinnedKey {
    pub(crate) algorithm: Algorithm,
    pub(crate) key: DecodingKey,
}

#[derive(Default)]
pub struct KeySet {
    by_kid: HashMap<String, PinnedKey>,
}

/// The JWKS document, each key kept raw so one key of an unknown shape cannot make the
/// whole set unreadable.
#[derive(Deserialize)]
struct RawSet {
    keys: Vec<serde_json::Value>,
}

impl KeySet {
    /// Parse a JWKS document. `None` when it is not a JWKS at all; a set whose keys are all
    /// unusable is empty (a project still on the legacy secret publishes none).
    pub fn parse(body: &[u8]) -> Option<KeySet> {
        let raw: RawSet = serde_json::from_slice(body).ok()?;
        let by_kid = raw
            .keys
            .into_iter()
            .filter_map(|value| serde_json::from_value::<Jwk>(value).ok())
            .filter_map(|jwk| pin(&jwk))
            .collect();
        Some(KeySet { by_kid })
    }

    pub(crate) fn get(&self, kid: &str) -> Option<&PinnedKey> {
        self.by_kid.get(kid)
    }

    pub fn len(&self) -> usize {
        self.by_kid.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_kid.is_empty()
    }
}

fn pin(jwk: &Jwk) -> Option<(String, PinnedKey)> {
    let kid = jwk.common.key_id.clone().filter(|kid| !kid.is_empty())?;
    if matches!(&jwk.common.public_key_use, Some(usage) if *usage != PublicKeyUse::Signature) {
        return None;
    }
    let declared = jwk.common.key_algorithm;
    let algorithm = match (&jwk.algorithm, declared) {
        (AlgorithmParameters::EllipticCurve(ec), None | Some(KeyAlgorithm::ES256))
            if ec.curve == EllipticCurve::P256 =>
        {
            Algorithm::ES256
        }
        (AlgorithmParameters::RSA(_), None | Some(KeyAlgorithm::RS256)) => Algorithm::RS256,
        _ => return None,
    };
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some((kid, PinnedKey { algorithm, key }))
}
