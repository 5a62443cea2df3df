//! Who is asking: the `Authorization: Bearer <token>` of a chat turn, checked by the
//! authenticator under `AUTH_MODE`. The answer is anonymous (`None`), a verified user, or a
//! refusal; a refusal never says why (a bad, expired and missing token look alike).
use crate::auth::{Authenticator, Rejection, VerifiedUser};
use crate::config::AuthMode;
use actix_web::http::header;
use actix_web::HttpRequest;

pub fn authenticate(
    req: &HttpRequest,
    auth: &Authenticator,
) -> Result<Option<VerifiedUser>, Rejection> {
    if auth.mode() == AuthMode::Off {
        return Ok(None);
    }
    let mut presented = req.headers().get_all(header::AUTHORIZATION);
    let Some(first) = presented.next() else {
        return match auth.mode() {
            AuthMode::Required => Err(Rejection::InvalidToken),
            AuthMode::Optional | AuthMode::Off => Ok(None),
        };
    };
    // Two Authorization headers are ambiguous: which one did the client mean?
    if presented.next().is_some() {
        return Err(Rejection::InvalidToken);
    }
    let token = first
        .to_str()
        .ok()
        .and_then(bearer_token)
        .ok_or(Rejection::InvalidToken)?;
    auth.verify(token).map(Some)
}

/// The token of a `Bearer` credential (the scheme is case-insensitive, RFC 9110 11.1); a
/// JWT is three base64url parts, so anything outside that alphabet is not one.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    let is_jwt_alphabet = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
    (scheme.eq_ignore_ascii_case("bearer")
        && !token.is_empty()
        && token.bytes().all(is_jwt_alphabet))
    .then_some(token)
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn a_bearer_credential_yields_its_token_and_anything_else_none() {
        assert_eq!(bearer_token("Bearer a.b.c"), Some("a.b.c"));
        assert_eq!(bearer_token("bearer  a-b_c.d.e "), Some("a-b_c.d.e"));
        for bad in [
            "Basic a.b.c",
            "Bearer",
            "Bearer ",
            "a.b.c",
            "Bearer a b",
            "Bearer a+b/c=",
        ] {
            assert_eq!(bearer_token(bad), None, "{bad}");
        }
    }
}
