//! CPU cost of governance per turn, for docs/BENCHMARKS.md, not a test: run with
//! `cargo run --release --example governor_cost`. Two turns: a 1 KB message with a 1.2 KB
//! one-paragraph reply, and `bench/run.sh`'s turn (its stub's notes and reply, a code block
//! among paragraphs, from `bench/stub_json.py`) with a configured secret as the app has.
use governed_chat::governor::{Governor, GovernorConfig};
use secrecy::SecretString;
use std::time::{Duration, Instant};

/// `bench/stub_json.py`'s reasoning answer (the notes) and expression answer.
const BENCH_NOTES: &str = "The user asks how to read a file in Rust. Key facts: std::fs::read_to_string reads a whole UTF-8 file into a String and returns io::Result<String>. For large inputs, open the file with std::fs::File::open, wrap it in std::io::BufReader and iterate over lines(). Errors propagate with the question mark operator from a function that returns io::Result. std::fs::read gives raw bytes. Keep the answer short, with one example.";
const BENCH_REPLY: &str = "The simplest way is `std::fs::read_to_string`, which loads the whole file into a `String`:\n\n```rust\nuse std::fs;\n\nfn main() -> std::io::Result<()> {\n    let text = fs::read_to_string(\"notes.txt\")?;\n    println!(\"{}\", text);\n    Ok(())\n}\n```\n\nFor big files, open it with `File::open` and go through it line by line with a `BufReader`, so the whole file never has to sit in memory. If you need raw bytes rather than text, use `fs::read` instead.";

fn per_round(rounds: u32, mut round: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..rounds {
        round();
    }
    start.elapsed() / rounds
}

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
    let per_turn = per_round(rounds, || {
        let input = governor.govern_input(&message);
        let output = governor.govern_output(&draft, "- explain serde");
        assert!(
            input.is_ok() && output.is_ok(),
            "the sample turn must be accepted"
        );
    });
    let input_only = per_round(rounds, || {
        let _ = governor.govern_input(&message);
    });
    println!(
        "message {} bytes, reply {} bytes: govern_input + govern_output {per_turn:?} per turn (govern_input alone {input_only:?})",
        message.len(),
        draft.len()
    );
    let bench = Governor::new(GovernorConfig {
        max_message_chars: 4_000,
        max_message_bytes: 16_000,
        max_reply_chars: 8_000,
        link_allowlist: Vec::new(),
        secrets: vec![SecretString::from("bench-key")],
    });
    let output = per_round(rounds * 4, || {
        let output = bench.govern_output(BENCH_REPLY, BENCH_NOTES);
        assert!(output.is_ok(), "the bench reply must be accepted");
    });
    println!(
        "bench/run.sh's reply ({} bytes, a code block): govern_output {output:?} per turn",
        BENCH_REPLY.len()
    );
}
