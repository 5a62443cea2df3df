//! Verified Supabase users. A turn's bearer token is checked locally against the project's
//! signing keys (ES256 / RS256 from its JWKS, HS256 only with the legacy shared secret), so
//! no network call sits on a turn's path: the JWKS is fetched at start and refreshed in the
//! background. Nothing of a token is kept; only the verified `sub` leaves this module, and
//! the store keeps nothing but a keyed hash of it.
mod authenticator;
mod keys;
mod refresher;
mod user;
mod verify;

pub use authenticator::{Authenticator, Rejection};
pub use keys::KeySet;
pub use user::VerifiedUser;

#[cfg(test)]
mod tests;
