//! Reading an upstream body with a byte cap, chunk by chunk, so a huge body cannot exhaust
//! memory. (A body that never ends is cut off by the caller's timeout.)
use super::retry::{classify_transport, Failure};
use super::ProviderError;

/// The whole body, or `BadResponse` as soon as it is known to exceed `cap` bytes (from
/// `Content-Length` before reading, or while reading).
pub(super) async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
) -> Result<Vec<u8>, Failure> {
    let too_large = Failure::fatal(ProviderError::BadResponse);
    let declared = response.content_length();
    if declared.is_some_and(|len| len > cap as u64) {
        return Err(too_large);
    }
    let hint = declared.map_or(8 * 1024, |len| usize::try_from(len).unwrap_or(cap));
    let mut body = Vec::with_capacity(hint.min(cap));
    while let Some(chunk) = response.chunk().await.map_err(|e| classify_transport(&e))? {
        if chunk.len() > cap - body.len() {
            return Err(too_large);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
