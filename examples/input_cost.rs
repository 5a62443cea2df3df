//! Input governance per message, p50 and p99 over single calls, for 1 KB messages in
//! English, German and Chinese (the policy model reads words, word prefixes and, in
//! Chinese, Japanese and Korean, character pairs). A measurement for docs/BENCHMARKS.md,
//! not a test: run with `cargo run --release --example input_cost`.
use governed_chat::governor::{Governor, GovernorConfig};
use secrecy::SecretString;
use std::time::{Duration, Instant};

const ROUNDS: usize = 20_000;

fn main() {
    let governor = Governor::new(GovernorConfig {
        max_message_chars: 4_000,
        max_message_bytes: 16_000,
        max_reply_chars: 8_000,
        link_allowlist: Vec::new(),
        secrets: vec![SecretString::from("Sup3r-S3cret-Token-Value")],
    });
    let messages = [
        (
            "English",
            "How do I parse JSON in Rust with serde? I tried a few things. ".repeat(16),
        ),
        (
            "German",
            "Wie lese ich JSON mit serde ein? Für größere Dateien müsste es schneller gehen. "
                .repeat(12),
        ),
        (
            "Chinese",
            "我怎样在Rust里用serde解析JSON？我试了几种方法。".repeat(16),
        ),
    ];
    for (language, message) in &messages {
        assert!(
            governor.govern_input(message).is_ok(),
            "the {language} sample must be accepted"
        );
        let mut samples: Vec<Duration> = (0..ROUNDS)
            .map(|_| {
                let start = Instant::now();
                let governed = governor.govern_input(message);
                let elapsed = start.elapsed();
                std::hint::black_box(governed).ok();
                elapsed
            })
            .collect();
        samples.sort_unstable();
        println!(
            "{language}: message {} bytes, govern_input p50 {:?}, p99 {:?}",
            message.len(),
            samples[ROUNDS / 2],
            samples[ROUNDS * 99 / 100]
        );
    }
}
