//! Reading a streamed answer as the AI SDK does: `data:` lines of JSON parts, `[DONE]`,
//! comments ignored.
use serde_json::Value;

/// The parts of a complete stream, in order; `[DONE]` as the JSON string "[DONE]".
pub fn parts(body: &str) -> Vec<Value> {
    body.split("\n\n")
        .filter_map(|event| event.strip_prefix("data: "))
        .map(|data| {
            if data == "[DONE]" {
                Value::String("[DONE]".to_owned())
            } else {
                serde_json::from_str(data).unwrap_or_else(|e| panic!("part {data:?}: {e}"))
            }
        })
        .collect()
}

pub fn types(parts: &[Value]) -> Vec<String> {
    parts
        .iter()
        .map(|p| {
            p["type"]
                .as_str()
                .unwrap_or(p.as_str().unwrap_or("?"))
                .to_owned()
        })
        .collect()
}

/// The text of every `text-delta`, joined.
pub fn text(parts: &[Value]) -> String {
    parts
        .iter()
        .filter(|p| p["type"] == "text-delta")
        .map(|p| p["delta"].as_str().unwrap_or_default())
        .collect()
}
