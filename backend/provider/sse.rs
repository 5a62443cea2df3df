//! A streamed Chat Completions answer, read as it arrives: server-sent events parsed by
//! `eventsource-stream`, each `data:` a chunk whose `choices[0].delta.content` is the next
//! piece of text, `[DONE]` the end. An upstream that ignores `stream` and answers whole
//! JSON is read whole and yields its text as one piece. Every wait for the next piece is
//! held to the per-attempt timeout (an upstream that goes silent is a timeout), the whole
//! read to the byte cap; the body is never logged or returned.
use super::body::read_capped;
use super::wire;
use super::ProviderError;
use eventsource_stream::Eventsource;
use futures::stream::{BoxStream, StreamExt};
use serde::Deserialize;
use std::time::Duration;

/// Pieces of the reply as the upstream writes them.
pub type Pieces = BoxStream<'static, Result<String, ProviderError>>;

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<ChunkChoice>,
}

#[derive(Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    delta: Option<Delta>,
}

#[derive(Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
}

/// The text of one `data:` payload (possibly empty), or the end of the stream.
fn piece(data: &str) -> Option<Result<String, ProviderError>> {
    if data.trim() == "[DONE]" {
        return None;
    }
    Some(
        serde_json::from_str::<Chunk>(data)
            .map_err(|_| ProviderError::BadResponse)
            .map(|chunk| {
                chunk
                    .choices
                    .into_iter()
                    .next()
                    .and_then(|choice| choice.delta)
                    .and_then(|delta| delta.content)
                    .unwrap_or_default()
            }),
    )
}

/// The pieces of a successful (2xx) response.
pub(super) fn pieces(response: reqwest::Response, idle: Duration, cap: usize) -> Pieces {
    let is_sse = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("text/event-stream"));
    if !is_sse {
        return futures::stream::once(async move {
            let body = tokio::time::timeout(idle, read_capped(response, cap))
                .await
                .map_err(|_| ProviderError::Timeout)?
                .map_err(|failure| failure.error)?;
            wire::parse_content(&body)
        })
        .boxed();
    }
    let events = response.bytes_stream().eventsource();
    futures::stream::unfold(
        (events, 0usize, false),
        move |(mut events, mut read, done)| async move {
            if done {
                return None;
            }
            loop {
                let next = match tokio::time::timeout(idle, events.next()).await {
                    Err(_) => return Some((Err(ProviderError::Timeout), (events, read, true))),
                    Ok(next) => next,
                };
                let event = match next {
                    // The upstream closed without `[DONE]`: what it sent is the reply.
                    None => return None,
                    Some(Err(_)) => {
                        return Some((Err(ProviderError::Unavailable), (events, read, true)))
                    }
                    Some(Ok(event)) => event,
                };
                read += event.data.len();
                if read > cap {
                    return Some((Err(ProviderError::BadResponse), (events, read, true)));
                }
                match piece(&event.data) {
                    None => return None,
                    Some(Ok(text)) if text.is_empty() => continue,
                    Some(result) => {
                        let failed = result.is_err();
                        return Some((result, (events, read, failed)));
                    }
                }
            }
        },
    )
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_yields_its_delta_and_done_ends_the_stream() {
        let data = r#"{"choices":[{"index":0,"delta":{"content":"Hel"}}]}"#;
        assert_eq!(piece(data), Some(Ok("Hel".to_owned())));
        assert_eq!(
            piece(r#"{"choices":[{"delta":{"role":"assistant"}}]}"#),
            Some(Ok(String::new()))
        );
        assert_eq!(piece("[DONE]"), None);
        assert_eq!(piece("not json"), Some(Err(ProviderError::BadResponse)));
    }
}
