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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_becomes_an_internal_error() {
        let result: Result<(), ApiError> = catch_panics(async { panic!("handler bug") }).await;
        assert_eq!(result, Err(ApiError::Internal));
    }

    #[tokio::test]
    async fn a_normal_handler_result_passes_through() {
        assert_eq!(catch_panics(async { Ok::<_, ApiError>(7) }).await, Ok(7));
        assert_eq!(
            catch_panics(async { Err::<(), _>(ApiError::InvalidRequest) }).await,
            Err(ApiError::InvalidRequest)
        );
    }
}
