//! Checks one access token against pinned keys. The algorithm comes from the key, never
//! from the token: the header only picks the key (by `kid`) or, for HS256, the legacy
//! secret; a header whose `alg` differs from its key's is refused. `alg: none` does not
//! even parse. Claims: `iss` is the project's auth URL, `aud` is `authenticated`, `exp`
//! holds within a small leeway, `sub` is present, and the role is not an API key's.
use super::keys::KeySet;
use super::user::VerifiedUser;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde::Deserialize;

/// Clock skew tolerated on `exp` (and `nbf`), in seconds.
pub(crate) const LEEWAY_SECONDS: u64 = 30;
/// The audience Supabase gives user access tokens (signed-in and anonymous users alike).
const AUDIENCE: &str = "authenticated";
/// Roles carried by the project's API keys (anon, service role): never a user.
const API_KEY_ROLES: [&str; 2] = ["anon", "service_role"];
/// Supabase user ids are UUIDs; anything far longer is not one.
const MAX_SUBJECT_CHARS: usize = 255;

/// Why a token failed. Callers answer every kind alike; `UnknownKey` also tells the
/// authenticator that the published keys may have changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    Invalid,
    UnknownKey,
}

#[derive(Deserialize)]
struct Claims {
    sub: Option<String>,
    #[serde(default)]
    role: Option<String>,
}

pub(crate) struct Trust<'a> {
    pub(crate) keys: &'a KeySet,
    pub(crate) legacy_secret: Option<&'a DecodingKey>,
    pub(crate) issuer: &'a str,
}

pub(crate) fn verify(token: &str, trust: &Trust<'_>) -> Result<VerifiedUser, Failure> {
    let header = decode_header(token).map_err(|_| Failure::Invalid)?;
    let (algorithm, key) = match header.alg {
        Algorithm::HS256 => (
            Algorithm::HS256,
            trust.legacy_secret.ok_or(Failure::Invalid)?,
        ),
        Algorithm::ES256 | Algorithm::RS256 => {
            let kid = header.kid.as_deref().ok_or(Failure::Invalid)?;
            let pinned = trust.keys.get(kid).ok_or(Failure::UnknownKey)?;
            if pinned.algorithm != header.alg {
                return Err(Failure::Invalid);
            }
            (pinned.algorithm, &pinned.key)
        }
        _ => return Err(Failure::Invalid),
    };
    let claims = decode::<Claims>(token, key, &validation(algorithm, trust.issuer))
        .map_err(|_| Failure::Invalid)?
        .claims;
    if claims
        .role
        .as_deref()
        .is_some_and(|role| API_KEY_ROLES.contains(&role))
    {
        return Err(Failure::Invalid);
    }
    match claims.sub {
        Some(sub) if !sub.is_empty() && sub.chars().count() <= MAX_SUBJECT_CHARS => {
            Ok(VerifiedUser::new(sub))
        }
        _ => Err(Failure::Invalid),
    }
}

fn validation(algorithm: Algorithm, issuer: &str) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.leeway = LEEWAY_SECONDS;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.validate_aud = true;
    validation.set_audience(&[AUDIENCE]);
    validation.set_issuer(&[issuer]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation
}
