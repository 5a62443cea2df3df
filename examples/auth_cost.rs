//! CPU cost of verifying one Supabase access token (ES256 and RS256), the work `AUTH_MODE`
//! adds to a turn; no network is involved. A measurement for docs/BENCHMARKS.md, not a test:
//! run with `cargo run --release --example auth_cost`.
use governed_chat::auth::{Authenticator, KeySet};
use governed_chat::config::{LoadedConfig, RawEnv};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use p256::pkcs8::EncodePrivateKey;
use rsa::pkcs1::EncodeRsaPrivateKey;
use std::time::Instant;

const PROJECT: &str = "https://abcdefghijklmnop.supabase.co";

fn main() {
    let ec = p256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng);
    let ec = EncodingKey::from_ec_der(ec.to_pkcs8_der().expect("pkcs8").as_bytes());
    let rsa = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("rsa key");
    let rsa = EncodingKey::from_rsa_der(rsa.to_pkcs1_der().expect("pkcs1").as_bytes());
    let keys = [
        ("ec", Algorithm::ES256, &ec),
        ("rsa", Algorithm::RS256, &rsa),
    ];

    let jwks: Vec<Jwk> = keys
        .iter()
        .map(|(kid, alg, key)| {
            let mut jwk = Jwk::from_encoding_key(key, *alg).expect("jwk");
            jwk.common.key_id = Some((*kid).to_owned());
            jwk
        })
        .collect();
    let body = serde_json::to_vec(&serde_json::json!({ "keys": jwks })).expect("jwks");
    let env = RawEnv::from_pairs([("AUTH_MODE", "required"), ("SUPABASE_URL", PROJECT)]);
    let auth = Authenticator::from_settings(&LoadedConfig::from_env(&env).settings);
    auth.install(KeySet::parse(&body).expect("a JWKS"));

    let now = jsonwebtoken::get_current_timestamp();
    let claims = serde_json::json!({
        "iss": format!("{PROJECT}/auth/v1"), "aud": "authenticated", "role": "authenticated",
        "sub": "5f0c8a52-3c1e-4b7a-9d21-6f7e3a2b1c0d", "exp": now + 3600, "iat": now,
        "email": "someone@example.com", "is_anonymous": false,
    });
    let rounds: u32 = 2_000;
    for (kid, alg, key) in keys {
        let mut header = Header::new(alg);
        header.kid = Some(kid.to_owned());
        let token = encode(&header, &claims, key).expect("token");
        let start = Instant::now();
        for _ in 0..rounds {
            assert!(auth.verify(&token).is_ok(), "the sample token must verify");
        }
        println!(
            "{alg:?}: {:?} per verified token ({} byte token)",
            start.elapsed() / rounds,
            token.len()
        );
    }
}
