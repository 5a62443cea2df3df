//! A stand-in Supabase project for black-box tests: signing keys generated here (ES256 on
//! P-256, RS256 with 2048-bit RSA), their JWKS served by a real HTTP server on loopback at
//! the path Supabase uses, and access tokens minted the way Supabase Auth mints them.
#![allow(dead_code)]

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use p256::pkcs8::EncodePrivateKey;
use rsa::pkcs1::EncodeRsaPrivateKey;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex, OnceLock};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const JWKS_PATH: &str = "/auth/v1/.well-known/jwks.json";
/// A user id as Supabase writes them (a UUID).
pub const USER_A: &str = "5f0c8a52-3c1e-4b7a-9d21-6f7e3a2b1c0d";
pub const USER_B: &str = "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d";
/// A legacy shared secret, as SUPABASE_JWT_SECRET.
pub const LEGACY_SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters";

#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    pub algorithm: Algorithm,
    encoding: EncodingKey,
    pub jwk: Jwk,
}

impl SigningKey {
    /// A fresh P-256 key, as Supabase's default (ECC) signing keys.
    pub fn es256(kid: &str) -> SigningKey {
        let signing = p256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng);
        let der = signing.to_pkcs8_der().expect("pkcs8 der");
        Self::from_encoding(
            kid,
            Algorithm::ES256,
            EncodingKey::from_ec_der(der.as_bytes()),
        )
    }

    /// An RSA key (generated once per test binary: RSA generation is slow), under `kid`.
    pub fn rs256(kid: &str) -> SigningKey {
        static DER: OnceLock<Vec<u8>> = OnceLock::new();
        let der = DER.get_or_init(|| {
            let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("rsa key");
            key.to_pkcs1_der().expect("pkcs1 der").as_bytes().to_vec()
        });
        Self::from_encoding(kid, Algorithm::RS256, EncodingKey::from_rsa_der(der))
    }

    fn from_encoding(kid: &str, algorithm: Algorithm, encoding: EncodingKey) -> SigningKey {
        let mut jwk = Jwk::from_encoding_key(&encoding, algorithm).expect("public jwk");
        jwk.common.key_id = Some(kid.to_owned());
        jwk.common.public_key_use = Some(jsonwebtoken::jwk::PublicKeyUse::Signature);
        SigningKey {
            kid: kid.to_owned(),
            algorithm,
            encoding,
            jwk,
        }
    }

    /// Sign `claims` with this key, the header naming its kid and algorithm.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.kid.clone());
        encode(&header, claims, &self.encoding).expect("token")
    }

    /// The public key as Supabase publishes it in the JWKS.
    pub fn public_jwk(&self) -> Value {
        serde_json::to_value(&self.jwk).expect("jwk json")
    }
}

/// A JWKS document publishing `keys`.
pub fn jwks(keys: &[&SigningKey]) -> Value {
    json!({ "keys": keys.iter().map(|k| k.public_jwk()).collect::<Vec<_>>() })
}

/// A Supabase project on loopback: its JWKS endpoint serves what was last published, or
/// 503 while the project is "down"; every fetch is recorded.
pub struct Project {
    pub server: MockServer,
    published: Arc<Mutex<Option<Value>>>,
}

struct Published(Arc<Mutex<Option<Value>>>);

impl Respond for Published {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        match &*self.0.lock().unwrap() {
            Some(body) => ResponseTemplate::new(200).set_body_json(body),
            None => ResponseTemplate::new(503),
        }
    }
}

impl Project {
    /// A project publishing `keys`.
    pub async fn publishing(keys: &[&SigningKey]) -> Project {
        let project = Project::down().await;
        project.publish(keys);
        project
    }

    /// A project whose JWKS endpoint fails until something is published.
    pub async fn down() -> Project {
        let server = MockServer::start().await;
        let published = Arc::new(Mutex::new(None));
        Mock::given(method("GET"))
            .and(path(JWKS_PATH))
            .respond_with(Published(Arc::clone(&published)))
            .mount(&server)
            .await;
        Project { server, published }
    }

    /// The project URL, as SUPABASE_URL.
    pub fn url(&self) -> String {
        self.server.uri()
    }

    /// Publish `keys` from now on (a rotation, or the project coming back).
    pub fn publish(&self, keys: &[&SigningKey]) {
        *self.published.lock().unwrap() = Some(jwks(keys));
    }

    /// Make the JWKS endpoint fail from now on.
    pub fn go_down(&self) {
        *self.published.lock().unwrap() = None;
    }

    /// How many times the JWKS was fetched.
    pub async fn jwks_fetches(&self) -> usize {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.path() == JWKS_PATH)
            .count()
    }

    /// A signed-in user's token from this project, signed by `key`.
    pub fn token(&self, key: &SigningKey, sub: &str) -> String {
        key.sign(&user_claims(&self.url(), sub))
    }
}

/// The claims of a signed-in user's access token from the project at `project_url`, valid
/// for an hour, as Supabase Auth issues them.
pub fn user_claims(project_url: &str, sub: &str) -> Value {
    let now = jsonwebtoken::get_current_timestamp();
    json!({
        "iss": format!("{project_url}/auth/v1"),
        "sub": sub,
        "aud": "authenticated",
        "exp": now + 3600,
        "iat": now,
        "email": "someone@example.com",
        "phone": "",
        "app_metadata": { "provider": "email", "providers": ["email"] },
        "user_metadata": {},
        "role": "authenticated",
        "aal": "aal1",
        "amr": [{ "method": "password", "timestamp": now }],
        "session_id": "0b5c8f7e-1d2a-4c3b-9e8f-7a6b5c4d3e2f",
        "is_anonymous": false
    })
}
