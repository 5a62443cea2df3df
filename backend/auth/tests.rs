use super::*;
use crate::config::{LoadedConfig, RawEnv};
use futures::FutureExt;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use p256::pkcs8::EncodePrivateKey;
use serde_json::json;

const PROJECT: &str = "http://127.0.0.1:54321";
const SECRET: &str = "a-legacy-secret-that-is-long-enough-0123";

struct EcKey {
    kid: String,
    encoding: EncodingKey,
    jwk: Jwk,
}

fn ec_key(kid: &str) -> EcKey {
    let signing = p256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng);
    let der = signing.to_pkcs8_der().expect("pkcs8");
    let encoding = EncodingKey::from_ec_der(der.as_bytes());
    let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::ES256).expect("jwk");
    jwk.common.key_id = Some(kid.to_owned());
    EcKey {
        kid: kid.to_owned(),
        encoding,
        jwk,
    }
}

fn authenticator(pairs: &[(&str, &str)]) -> Authenticator {
    let mut env = RawEnv::from_pairs([("AUTH_MODE", "required"), ("SUPABASE_URL", PROJECT)]);
    for (name, value) in pairs {
        env.set(name, value);
    }
    let config = LoadedConfig::from_env(&env);
    assert!(config.problems.is_empty(), "{:?}", config.problems);
    Authenticator::from_settings(&config.settings)
}

fn user_claims() -> serde_json::Value {
    json!({
        "sub": "7d0a1f4e-0000-4000-8000-000000000001",
        "aud": "authenticated",
        "role": "authenticated",
        "iss": format!("{PROJECT}/auth/v1"),
        "exp": jsonwebtoken::get_current_timestamp() + 600,
    })
}

fn es256_token(key: &EcKey, claims: &serde_json::Value) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(key.kid.clone());
    encode(&header, claims, &key.encoding).expect("token")
}

fn jwks(keys: Vec<serde_json::Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({ "keys": keys })).unwrap()
}

#[test]
fn only_asymmetric_signing_keys_with_a_kid_are_taken_from_the_jwks() {
    let good = ec_key("good");
    let mut no_kid = serde_json::to_value(&ec_key("x").jwk).unwrap();
    no_kid.as_object_mut().unwrap().remove("kid");
    let mut for_encryption = serde_json::to_value(&ec_key("enc").jwk).unwrap();
    for_encryption["use"] = json!("enc");
    let mut mislabelled = serde_json::to_value(&ec_key("mislabelled").jwk).unwrap();
    mislabelled["alg"] = json!("HS256");
    let body = jwks(vec![
        serde_json::to_value(&good.jwk).unwrap(),
        no_kid,
        for_encryption,
        mislabelled,
        json!({ "kty": "oct", "kid": "shared", "k": "c2VjcmV0", "alg": "HS256" }),
        json!({ "kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" }),
        json!({ "kty": "weird", "kid": "future" }),
    ]);
    let keys = KeySet::parse(&body).expect("a JWKS");
    assert_eq!(keys.len(), 1);
    assert!(keys.get("good").is_some());
    assert!(KeySet::parse(b"{\"keys\": []}").is_some_and(|k| k.is_empty()));
    assert!(KeySet::parse(b"<html>").is_none());
}

#[test]
fn a_token_is_not_judged_before_the_keys_are_first_fetched() {
    let key = ec_key("k1");
    let auth = authenticator(&[]);
    let token = es256_token(&key, &user_claims());
    assert_eq!(auth.verify(&token), Err(Rejection::KeysUnavailable));
    auth.install(KeySet::parse(&jwks(vec![serde_json::to_value(&key.jwk).unwrap()])).unwrap());
    assert!(auth.verify(&token).is_ok());
}

#[test]
fn unknown_key_ids_ask_for_one_refetch_per_cooldown() {
    let auth = authenticator(&[]);
    auth.install(KeySet::default());
    let first = es256_token(&ec_key("unknown-1"), &user_claims());
    assert_eq!(auth.verify(&first), Err(Rejection::InvalidToken));
    assert!(auth.refetch.notified().now_or_never().is_some());
    for n in 2..50 {
        let token = es256_token(&ec_key(&format!("unknown-{n}")), &user_claims());
        assert_eq!(auth.verify(&token), Err(Rejection::InvalidToken));
    }
    assert!(auth.refetch.notified().now_or_never().is_none());
}

#[test]
fn hs256_is_trusted_only_with_the_legacy_secret_and_never_for_api_keys() {
    let hs256 = |claims: &serde_json::Value| {
        encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap()
    };
    let without_secret = authenticator(&[]);
    without_secret.install(KeySet::default());
    assert_eq!(
        without_secret.verify(&hs256(&user_claims())),
        Err(Rejection::InvalidToken)
    );

    let with_secret = authenticator(&[("SUPABASE_JWT_SECRET", SECRET)]);
    with_secret.install(KeySet::default());
    assert!(with_secret.verify(&hs256(&user_claims())).is_ok());
    let service_role = json!({
        "iss": "supabase", "role": "service_role",
        "exp": jsonwebtoken::get_current_timestamp() + 600,
    });
    assert_eq!(
        with_secret.verify(&hs256(&service_role)),
        Err(Rejection::InvalidToken)
    );
    let mut user_shaped_service_role = user_claims();
    user_shaped_service_role["role"] = json!("service_role");
    assert_eq!(
        with_secret.verify(&hs256(&user_shaped_service_role)),
        Err(Rejection::InvalidToken)
    );
}

#[test]
fn expiry_is_checked_with_at_most_thirty_seconds_of_leeway() {
    let key = ec_key("k1");
    let auth = authenticator(&[]);
    auth.install(KeySet::parse(&jwks(vec![serde_json::to_value(&key.jwk).unwrap()])).unwrap());
    let now = jsonwebtoken::get_current_timestamp();
    let mut claims = user_claims();
    claims["exp"] = json!(now - 10);
    assert!(auth.verify(&es256_token(&key, &claims)).is_ok());
    claims["exp"] = json!(now - 45);
    assert_eq!(
        auth.verify(&es256_token(&key, &claims)),
        Err(Rejection::InvalidToken)
    );
}

#[test]
fn a_verified_user_never_prints_its_id() {
    let user = VerifiedUser::new("7d0a1f4e-secret-sub".to_owned());
    assert!(!format!("{user:?}").contains("secret"));
}
