//! The Chat Completions request and response bodies. Field order of the request is fixed by
//! the struct, so the bytes sent are deterministic.
use super::{ChatMessage, ProviderError};
use serde::{Deserialize, Serialize};

/// Always greedy decoding: the governed pipeline wants reproducible stages.
const TEMPERATURE: u8 = 0;

#[derive(Debug, Serialize)]
pub(super) struct ChatRequest<'a> {
    model: &'a str,
    messages: &'a [ChatMessage],
    max_tokens: u32,
    temperature: u8,
    stream: bool,
}

impl<'a> ChatRequest<'a> {
    pub(super) fn new(model: &'a str, messages: &'a [ChatMessage], max_tokens: u32) -> Self {
        ChatRequest {
            model,
            messages,
            max_tokens,
            temperature: TEMPERATURE,
            stream: false,
        }
    }

    /// The same request, asking for the answer as server-sent events.
    pub(super) fn streamed(mut self) -> Self {
        self.stream = true;
        self
    }
}

#[derive(Deserialize)]
struct ChatResponse {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: AssistantMessage,
}

#[derive(Deserialize)]
struct AssistantMessage {
    /// `null` (e.g. a tool call or a refusal field instead) is a bad response for us.
    content: Option<String>,
}

/// The text of the first choice. Invalid JSON, missing or empty `choices`, and a null,
/// non-string or blank `content` are all [`ProviderError::BadResponse`]. The body itself is
/// never put into an error or a log.
pub(super) fn parse_content(body: &[u8]) -> Result<String, ProviderError> {
    let response: ChatResponse =
        serde_json::from_slice(body).map_err(|_| ProviderError::BadResponse)?;
    let content = response
        .choices
        .into_iter()
        .next()
        .and_then(|choice| choice.message.content)
        .ok_or(ProviderError::BadResponse)?;
    if content.trim().is_empty() {
        return Err(ProviderError::BadResponse);
    }
    Ok(content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_serialises_in_a_fixed_field_order() {
        let messages = [ChatMessage::user("hi")];
        let json = serde_json::to_string(&ChatRequest::new("m", &messages, 7)).unwrap();
        assert_eq!(
            json,
            r#"{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":7,"temperature":0,"stream":false}"#
        );
    }

    #[test]
    fn content_is_taken_from_the_first_choice() {
        let body = br#"{"choices":[{"message":{"role":"assistant","content":"a"}},{"message":{"content":"b"}}]}"#;
        assert_eq!(parse_content(body), Ok("a".to_string()));
    }

    #[test]
    fn malformed_bodies_are_bad_responses() {
        for body in [
            &b"not json"[..],
            br#"{}"#,
            br#"{"choices":[]}"#,
            br#"{"choices":[{"message":{"content":null}}]}"#,
            br#"{"choices":[{"message":{"content":42}}]}"#,
            br#"{"choices":[{"message":{"content":"  "}}]}"#,
            br#"{"choices":[{}]}"#,
        ] {
            assert_eq!(parse_content(body), Err(ProviderError::BadResponse));
        }
    }
}
