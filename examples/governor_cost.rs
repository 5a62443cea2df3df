//! CPU cost of governance for a 1 KB message and a 1.3 KB reply, per turn. A measurement
//! for docs/BENCHMARKS.md, not a test: run with `cargo run --release --example governor_cost`.
use governed_chat::governor::{Governor, GovernorConfig};
use secrecy::SecretString;
use std::time::Instant;

fn main() {
    let governor = Governor::new(GovernorConfig {
        max_message_chars: 4_000,
        max_message_bytes: 16_000,
        max_reply_chars: 8_000,
        link_allowlist: vec!["docs.rs".to_owned()],
        secrets: vec![SecretString::from("Sup3r-S3cret-Token-Value")],
    });
    let message = "How do I parse JSON in Rust with serde? I tried a few things. ".repeat(16);
    let draft = "Use `serde_json::from_str`. Define a struct with `#[derive(Deserialize)]`. \
                 See [docs](https://docs.rs/serde_json). It handles <b>nested</b> data & errors. "
        .repeat(8);
    let rounds: u32 = 5_000;
    let start = Instant::now();
    for _ in 0..rounds {
        let input = governor.govern_input(&message);
        let output = governor.govern_output(&draft, "- explain serde");
        assert!(
            input.is_ok() && output.is_ok(),
            "the sample turn must be accepted"
        );
    }
    let per_turn = start.elapsed() / rounds;
    let start = Instant::now();
    for _ in 0..rounds {
        let _ = governor.govern_input(&message);
    }
    let input_only = start.elapsed() / rounds;
    println!(
        "message {} bytes, reply {} bytes: govern_input + govern_output {per_turn:?} per turn (govern_input alone {input_only:?})",
        message.len(),
        draft.len()
    );
}
