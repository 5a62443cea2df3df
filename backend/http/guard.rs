//! A panic inside a handler must not tear down the connection with no answer: it becomes a
//! 500 with the fixed body (the request id is added by the middleware).
use super::ApiError;
use futures_util::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;

pub async fn catch_panics<T>(
    handler: impl Future<Output = Result<T, ApiError>>,
) -> Result<T, ApiError> {
    match AssertUnwindSafe(handler).catch_unwind().await {
        Ok(result) => result,
        Err(_) => {
            tracing::error!(category = "internal", "handler panicked");
            Err(ApiError::Internal)
        }
    }
}
