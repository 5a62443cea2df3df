//! Which failures are retried, and how long to wait before the next attempt: full-jitter
//! exponential backoff, or the upstream's `Retry-After` (delta-seconds or HTTP-date).
use super::ProviderError;
use rand::Rng;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use std::time::{Duration, SystemTime};

/// First backoff ceiling; doubles per retry.
const BACKOFF_BASE: Duration = Duration::from_millis(100);
/// Largest backoff ceiling.
const BACKOFF_CAP: Duration = Duration::from_secs(2);
/// The longest `Retry-After` we are willing to honour. Longer asks end the call at once:
/// retrying earlier than the upstream asked would only be refused again.
pub(super) const RETRY_AFTER_CAP: Duration = Duration::from_secs(30);

/// One failed attempt, as the retry loop sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Failure {
    /// What the call returns if this is the last attempt.
    pub error: ProviderError,
    pub retryable: bool,
    /// The upstream's `Retry-After`, when it sent a usable one.
    pub retry_after: Option<Duration>,
}

impl Failure {
    /// A failure that ends the call.
    pub(super) fn fatal(error: ProviderError) -> Self {
        Failure {
            error,
            retryable: false,
            retry_after: None,
        }
    }

    /// A failure worth another attempt (connection refused or reset).
    pub(super) fn transient(error: ProviderError) -> Self {
        Failure {
            error,
            retryable: true,
            retry_after: None,
        }
    }
}

/// A non-2xx status. Retried: 429, 502, 503, 504. Not retried: 401 and 403 are `Auth` (an
/// operator must fix the key), 400, 404, 413 and 422 are `Rejected` (the upstream refused
/// this request: model name, size, parameters), 500 and other 5xx are `Unavailable`, and
/// anything else (other 4xx, 1xx, 3xx) is `BadResponse`.
pub(super) fn classify_status(status: u16, headers: &HeaderMap) -> Failure {
    let (error, retryable) = match status {
        429 => (ProviderError::RateLimited, true),
        502..=504 => (ProviderError::Unavailable, true),
        500..=599 => (ProviderError::Unavailable, false),
        401 | 403 => (ProviderError::Auth, false),
        400 | 404 | 413 | 422 => (ProviderError::Rejected, false),
        _ => (ProviderError::BadResponse, false),
    };
    let retry_after = if retryable {
        retry_after(headers, SystemTime::now())
    } else {
        None
    };
    Failure {
        error,
        retryable,
        retry_after,
    }
}

/// A transport error. Timeouts (connect or read) are `Timeout`; every other transport error
/// is `Unavailable`, retried only when the connection was refused or reset.
pub(super) fn classify_transport(error: &reqwest::Error) -> Failure {
    if error.is_timeout() {
        Failure::fatal(ProviderError::Timeout)
    } else if error.is_connect() || was_reset(error) {
        Failure::transient(ProviderError::Unavailable)
    } else {
        Failure::fatal(ProviderError::Unavailable)
    }
}

fn was_reset(error: &(dyn std::error::Error + 'static)) -> bool {
    use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset};
    let mut source = Some(error);
    while let Some(current) = source {
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            if matches!(io.kind(), ConnectionReset | ConnectionAborted | BrokenPipe) {
                return true;
            }
        }
        source = current.source();
    }
    false
}

/// How long to wait before retry number `retry` (1 for the first retry), or `None` when the
/// upstream asked for a longer wait than [`RETRY_AFTER_CAP`].
pub(super) fn delay_before(retry: u32, failure: &Failure) -> Option<Duration> {
    match failure.retry_after {
        Some(wait) if wait > RETRY_AFTER_CAP => None,
        Some(wait) => Some(wait),
        None => Some(backoff(retry)),
    }
}

/// Full jitter: uniform in `[0, min(cap, base * 2^(retry-1))]`.
pub(super) fn backoff(retry: u32) -> Duration {
    let ceiling = backoff_ceiling(retry);
    let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::thread_rng().gen_range(0..=millis))
}

fn backoff_ceiling(retry: u32) -> Duration {
    let exponent = retry.saturating_sub(1).min(16);
    BACKOFF_BASE
        .saturating_mul(1u32 << exponent)
        .min(BACKOFF_CAP)
}

/// Parses `Retry-After` as delta-seconds or an HTTP-date (a date in the past means "now").
/// Anything unparseable is ignored, and the caller falls back to backoff.
pub(super) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // All digits: an overflowing number is simply "very long".
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
        map
    }

    #[test]
    fn retry_after_accepts_delta_seconds() {
        let now = SystemTime::now();
        assert_eq!(
            retry_after(&headers("3"), now),
            Some(Duration::from_secs(3))
        );
        assert_eq!(retry_after(&headers(" 0 "), now), Some(Duration::ZERO));
        assert_eq!(
            retry_after(&headers("99999999999999999999999"), now),
            Some(Duration::from_secs(u64::MAX))
        );
    }

    #[test]
    fn retry_after_accepts_an_http_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        let later = httpdate::fmt_http_date(now + Duration::from_secs(5));
        assert_eq!(
            retry_after(&headers(&later), now),
            Some(Duration::from_secs(5))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(5));
        assert_eq!(retry_after(&headers(&earlier), now), Some(Duration::ZERO));
    }

    #[test]
    fn retry_after_ignores_garbage() {
        let now = SystemTime::now();
        for value in ["", "-1", "1.5", "soon", "Tue, 99 Foo 2020"] {
            assert_eq!(retry_after(&headers(value), now), None, "{value:?}");
        }
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn backoff_stays_under_its_growing_ceiling() {
        assert_eq!(backoff_ceiling(1), Duration::from_millis(100));
        assert_eq!(backoff_ceiling(2), Duration::from_millis(200));
        assert_eq!(backoff_ceiling(5), Duration::from_millis(1600));
        assert_eq!(backoff_ceiling(6), BACKOFF_CAP);
        assert_eq!(backoff_ceiling(u32::MAX), BACKOFF_CAP);
        for retry in 1..10 {
            assert!(backoff(retry) <= backoff_ceiling(retry));
        }
    }

    #[test]
    fn only_429_and_gateway_errors_are_retried() {
        let none = HeaderMap::new();
        for status in [429, 502, 503, 504] {
            assert!(classify_status(status, &none).retryable, "{status}");
        }
        for status in [400, 401, 403, 404, 408, 413, 422, 500, 501, 505, 302] {
            assert!(!classify_status(status, &none).retryable, "{status}");
        }
        assert_eq!(
            classify_status(500, &none).error,
            ProviderError::Unavailable
        );
        assert_eq!(
            classify_status(408, &none).error,
            ProviderError::BadResponse
        );
    }

    #[test]
    fn credentials_refused_are_auth_and_requests_refused_are_rejected() {
        let none = HeaderMap::new();
        for status in [401, 403] {
            assert_eq!(
                classify_status(status, &none).error,
                ProviderError::Auth,
                "{status}"
            );
        }
        for status in [400, 404, 413, 422] {
            assert_eq!(
                classify_status(status, &none).error,
                ProviderError::Rejected,
                "{status}"
            );
        }
        assert_eq!(
            classify_status(429, &none).error,
            ProviderError::RateLimited
        );
    }

    #[test]
    fn a_retry_after_over_the_cap_gives_up() {
        let mut failure = Failure::transient(ProviderError::RateLimited);
        failure.retry_after = Some(RETRY_AFTER_CAP + Duration::from_secs(1));
        assert_eq!(delay_before(1, &failure), None);
        failure.retry_after = Some(Duration::from_secs(1));
        assert_eq!(delay_before(1, &failure), Some(Duration::from_secs(1)));
    }
}
