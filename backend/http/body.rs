//! Reads a JSON request body the strict way: content type checked, declared and actual size
//! capped, the whole body bounded by a read timeout (so a client sending a byte at a time
//! cannot hold a worker), then parsed into a type that rejects unknown fields.
use super::ApiError;
use actix_web::http::header;
use actix_web::{web, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use std::time::Duration;

pub struct BodyLimits {
    pub max_bytes: usize,
    pub read_timeout: Duration,
}

pub async fn read_json<T: DeserializeOwned>(
    req: &HttpRequest,
    mut payload: web::Payload,
    limits: &BodyLimits,
) -> Result<T, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::UnsupportedMediaType);
    }
    if let Some(declared) = req.headers().get(header::CONTENT_LENGTH) {
        let declared = declared
            .to_str()
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .ok_or(ApiError::InvalidRequest)?;
        if declared > limits.max_bytes {
            return Err(ApiError::PayloadTooLarge);
        }
    }
    let read = async {
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|_| ApiError::InvalidRequest)?;
            if body.len() + chunk.len() > limits.max_bytes {
                return Err(ApiError::PayloadTooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    };
    let body = tokio::time::timeout(limits.read_timeout, read)
        .await
        .map_err(|_| ApiError::RequestTimeout)??;
    // serde's derived struct deserializer also accepts the array form (`["hi"]`): the
    // contract is a JSON object and nothing else.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::InvalidRequest);
    }
    serde_json::from_slice(&body).map_err(|_| ApiError::InvalidRequest)
}
