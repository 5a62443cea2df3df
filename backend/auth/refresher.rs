//! Keeps the key set fresh: a fetch at start, then one every ten minutes (Supabase caches
//! its JWKS for about that long, so fetching more often gains nothing), one more when an
//! unknown `kid` asks for it, and retries with backoff after a failure. A failed fetch
//! never removes the last good keys.
use super::authenticator::Authenticator;
use super::keys::KeySet;
use std::sync::Arc;
use std::time::Duration;

const REFRESH_INTERVAL: Duration = Duration::from_secs(600);
const FIRST_RETRY: Duration = Duration::from_secs(1);
const MAX_RETRY: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// A JWKS holds a handful of public keys; anything larger is not one.
const MAX_JWKS_BYTES: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
enum FetchError {
    #[error("the JWKS endpoint could not be reached")]
    Unreachable,
    #[error("the JWKS endpoint answered with status {0}")]
    Status(u16),
    #[error("the JWKS endpoint answered with something that is not a JWKS")]
    NotAJwks,
}

impl Authenticator {
    /// Fetch the keys now and keep them fresh until the task is aborted. `on_first_load`
    /// runs once, after the first successful fetch (readiness waits for it).
    pub fn spawn_refresher(
        self: &Arc<Self>,
        on_first_load: impl FnOnce() + Send + 'static,
    ) -> anyhow::Result<tokio::task::JoinHandle<()>> {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(FETCH_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let authenticator = Arc::clone(self);
        Ok(tokio::spawn(async move {
            let mut on_first_load = Some(on_first_load);
            let mut retry = FIRST_RETRY;
            loop {
                let wait = match authenticator.refresh(&client).await {
                    Ok(()) => {
                        if let Some(first) = on_first_load.take() {
                            first();
                        }
                        retry = FIRST_RETRY;
                        REFRESH_INTERVAL
                    }
                    Err(error) => {
                        tracing::warn!(
                            event = "jwks_refresh_failed",
                            reason = %error,
                            keys_loaded = authenticator.keys_loaded(),
                            "could not refresh the signing keys; keeping the last good ones"
                        );
                        let wait = retry;
                        retry = (retry * 2).min(MAX_RETRY);
                        wait
                    }
                };
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = authenticator.refetch.notified() => {}
                }
            }
        }))
    }

    async fn refresh(&self, client: &reqwest::Client) -> Result<(), FetchError> {
        let keys = fetch(client, &self.jwks_url).await?;
        tracing::info!(
            event = "jwks_refreshed",
            keys = keys.len(),
            "signing keys refreshed"
        );
        self.install(keys);
        Ok(())
    }
}

async fn fetch(client: &reqwest::Client, url: &str) -> Result<KeySet, FetchError> {
    let mut response = client
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|_| FetchError::Unreachable)?;
    if !response.status().is_success() {
        return Err(FetchError::Status(response.status().as_u16()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|_| FetchError::Unreachable)?
    {
        if body.len() + chunk.len() > MAX_JWKS_BYTES {
            return Err(FetchError::NotAJwks);
        }
        body.extend_from_slice(&chunk);
    }
    KeySet::parse(&body).ok_or(FetchError::NotAJwks)
}
