//! The process-wide verifier: the current key set (swapped whole by the refresher), the
//! legacy secret if configured, and the unknown-`kid` nudge with its cooldown.
use super::keys::KeySet;
use super::user::VerifiedUser;
use super::verify::{verify, Failure, Trust};
use crate::config::{AuthMode, Settings};
use jsonwebtoken::DecodingKey;
use parking_lot::{Mutex, RwLock};
use secrecy::ExposeSecret;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// An unknown `kid` asks for a refetch at most this often, so a flood of made-up key ids
/// costs at most a fetch or two.
pub(crate) const UNKNOWN_KID_COOLDOWN: Duration = Duration::from_secs(60);

/// Why a presented token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Bad, expired, unknown key, wrong audience or issuer, not a user: all answered alike.
    InvalidToken,
    /// The signing keys have never been fetched: we cannot tell (not ready).
    KeysUnavailable,
}

pub struct Authenticator {
    mode: AuthMode,
    issuer: String,
    pub(crate) jwks_url: String,
    legacy_secret: Option<DecodingKey>,
    keys: RwLock<Arc<KeySet>>,
    loaded: AtomicBool,
    pub(crate) refetch: Notify,
    last_nudge: Mutex<Option<Instant>>,
}

impl Authenticator {
    /// Built from validated settings. With auth on, config validation guarantees a project
    /// URL; without one the authenticator trusts nothing (every token is refused).
    pub fn from_settings(settings: &Settings) -> Authenticator {
        let base = settings
            .supabase
            .url
            .as_ref()
            .map(|url| url.expose_secret().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        Authenticator {
            mode: settings.auth.mode,
            issuer: format!("{base}/auth/v1"),
            jwks_url: format!("{base}/auth/v1/.well-known/jwks.json"),
            legacy_secret: settings
                .auth
                .jwt_secret
                .as_ref()
                .map(|secret| DecodingKey::from_secret(secret.expose_secret().as_bytes())),
            keys: RwLock::new(Arc::new(KeySet::default())),
            loaded: AtomicBool::new(false),
            refetch: Notify::new(),
            last_nudge: Mutex::new(None),
        }
    }

    pub fn mode(&self) -> AuthMode {
        self.mode
    }

    /// Whether the signing keys have been fetched at least once.
    pub fn keys_loaded(&self) -> bool {
        self.loaded.load(Ordering::Acquire)
    }

    /// Replace the key set after a successful fetch.
    pub fn install(&self, keys: KeySet) {
        *self.keys.write() = Arc::new(keys);
        self.loaded.store(true, Ordering::Release);
    }

    /// Verify a bearer token. CPU only: no network, no await.
    pub fn verify(&self, token: &str) -> Result<VerifiedUser, Rejection> {
        let keys = Arc::clone(&self.keys.read());
        let trust = Trust {
            keys: &keys,
            legacy_secret: self.legacy_secret.as_ref(),
            issuer: &self.issuer,
        };
        match verify(token, &trust) {
            Ok(user) => Ok(user),
            Err(Failure::UnknownKey) if !self.keys_loaded() => Err(Rejection::KeysUnavailable),
            Err(Failure::UnknownKey) => {
                self.nudge();
                Err(Rejection::InvalidToken)
            }
            Err(Failure::Invalid) => Err(Rejection::InvalidToken),
        }
    }

    /// Ask the refresher for a refetch unless one was asked for within the cooldown. The
    /// turn that asked is refused; the key, once fetched, serves the next one.
    fn nudge(&self) {
        let mut last = self.last_nudge.lock();
        if last.is_some_and(|at| at.elapsed() < UNKNOWN_KID_COOLDOWN) {
            return;
        }
        *last = Some(Instant::now());
        drop(last);
        tracing::info!(
            event = "jwks_refetch_requested",
            "token signed by an unknown key: refetching the JWKS"
        );
        self.refetch.notify_one();
    }
}
